//! Property tests over random scenarios: random seeds, topologies, workloads, lossy networks and
//! random fault schedules. A failure prints the whole scenario as JSON: save it to a file and
//! replay it with `commitlab run failing.json`.

use commitlab_protocol::VecMap;
use commitlab_protocol::{AccountId, Endpoint, NodeId, Note, Timeouts, Transfer, WriteMode, MESSAGE_KINDS};
use commitlab_sim::scenario::{Disk, Network, RequestSpec, ShardSpec, Topology, Workload};
use commitlab_sim::trace::TraceEvent;
use commitlab_sim::{
    CoordinatorPlacement, Engine, Fault, Invariant, MessageFilter, MessageTarget, Ratio, Replication, Scenario,
    ScheduledFault, Simulation, Stop, SCENARIO_VERSION,
};
use proptest::prelude::*;

/// Cases per property: the default, or `PROPTEST_CASES` for a longer hunt
/// (`PROPTEST_CASES=20000 cargo test --release -p commitlab-sim --test properties`).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|value| value.parse().ok()).unwrap_or(default)
}

/// Single nodes, or every group replicated over 3 replicas by Raft or by Multi-Paxos.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Mode {
    Single,
    Raft,
    Paxos,
}

impl Mode {
    fn kinds(self) -> Vec<&'static str> {
        match self {
            // Every kind of 2PC and of sagas: none of consensus or routing.
            Mode::Single => MESSAGE_KINDS
                .into_iter()
                .take_while(|kind| *kind != "NotLeader")
                .filter(|kind| *kind != "Refused")
                .collect(),
            // Every kind, the consensus messages and NotLeader bounces included.
            Mode::Raft | Mode::Paxos => MESSAGE_KINDS.to_vec(),
        }
    }

    /// Every node of `groups` groups, numbered as the scenario numbers them.
    fn nodes(self, groups: usize) -> Vec<NodeId> {
        match self {
            Mode::Single => (0..groups).map(shard_node).collect(),
            Mode::Raft | Mode::Paxos => (1..=3 * groups as u16).map(NodeId).collect(),
        }
    }
}

fn shard_node(index: usize) -> NodeId {
    Scenario::shard_node(index)
}

fn fault_strategy(nodes: Vec<NodeId>, mode: Mode) -> impl Strategy<Value = Fault> {
    let node = proptest::sample::select(nodes.clone());
    let endpoint = proptest::sample::select(
        nodes.iter().map(|node| Endpoint::Node(*node)).chain([Endpoint::Client]).collect::<Vec<_>>(),
    );
    let filter = (
        proptest::option::of(endpoint.clone()),
        proptest::option::of(endpoint),
        proptest::sample::select(mode.kinds()),
    )
        .prop_map(|(from, to, kind)| {
            MessageTarget::Next(MessageFilter { from, to, kind: Some(kind.to_string()), txn: None })
        });
    let partition = proptest::sample::subsequence(nodes.clone(), 1..nodes.len()).prop_map(move |left| {
        let right: Vec<Endpoint> =
            nodes.iter().filter(|node| !left.contains(node)).map(|node| Endpoint::Node(*node)).collect();
        let mut left: Vec<Endpoint> = left.into_iter().map(Endpoint::Node).collect();
        left.push(Endpoint::Client);
        Fault::Partition(vec![left, right])
    });
    prop_oneof![
        3 => node.clone().prop_map(Fault::Crash),
        3 => node.prop_map(Fault::Restart),
        1 => partition,
        1 => Just(Fault::Heal),
        2 => filter.clone().prop_map(Fault::Drop),
        1 => (filter.clone(), 1u64..200).prop_map(|(message, by_ms)| Fault::Delay { message, by_ms }),
        1 => filter.prop_map(Fault::Duplicate),
    ]
}

/// A random scenario; with `settle`, every node is restarted and the network healed at 1.5 s and
/// the run lasts long enough for everything to resolve.
fn scenario_strategy(settle: bool) -> impl Strategy<Value = Scenario> {
    scenario_strategy_in(settle, Mode::Single)
}

fn scenario_strategy_in(settle: bool, mode: Mode) -> impl Strategy<Value = Scenario> {
    (2usize..=3, any::<bool>(), proptest::collection::vec(proptest::collection::vec(0i64..120, 1..=3), 3))
        .prop_flat_map(move |(shard_count, dedicated, balances)| {
            let shards: Vec<ShardSpec> = (0..shard_count)
                .map(|index| ShardSpec {
                    accounts: balances[index]
                        .iter()
                        .enumerate()
                        .map(|(offset, balance)| (AccountId(1000 * (index as u64 + 1) + offset as u64), *balance))
                        .collect::<VecMap<_, _>>(),
                    generate: None,
                })
                .collect();
            let accounts: Vec<AccountId> = shards.iter().flat_map(|shard| shard.accounts.keys().copied()).collect();
            let nodes = mode.nodes(shard_count + usize::from(dedicated));
            let account = proptest::sample::select(accounts);
            let transfer =
                (account.clone(), account, 1u64..80).prop_map(|(from, to, amount)| Transfer { from, to, amount });
            // Single nodes run some requests as sagas (replicated groups do not run sagas).
            let saga = proptest::bool::weighted(if mode == Mode::Single { 0.3 } else { 0.0 });
            let request =
                (0u64..150, proptest::collection::vec(transfer, 1..=2), saga).prop_map(|(at_ms, transfers, saga)| {
                    RequestSpec { at_ms, request: None, transfers, journal: Vec::new(), saga }
                });
            // A fault is either one fault or a late duplicate: the next matching message is
            // copied and the original held back, so a stale copy arrives long after the first.
            let fault = (0u64..600, fault_strategy(nodes.clone(), mode))
                .prop_map(|(at_ms, fault)| vec![ScheduledFault { at_ms, fault }]);
            let late_duplicate =
                (0u64..600, 100u64..700, proptest::sample::select(mode.kinds())).prop_map(|(at_ms, by_ms, kind)| {
                    let target = || {
                        MessageTarget::Next(MessageFilter { kind: Some(kind.to_string()), ..MessageFilter::default() })
                    };
                    vec![
                        ScheduledFault { at_ms, fault: Fault::Duplicate(target()) },
                        ScheduledFault { at_ms, fault: Fault::Delay { message: target(), by_ms } },
                    ]
                });
            let fault = prop_oneof![4 => fault, 1 => late_duplicate];
            (
                Just(shards),
                Just(dedicated),
                Just(nodes),
                proptest::collection::vec(request, 1..=5),
                proptest::collection::vec(fault, 0..=6),
                any::<u64>(),
                (1u64..10, 0u64..25, 0u32..=2, 0u32..=2, 1u64..6),
            )
        })
        .prop_map(
            move |(
                shards,
                dedicated,
                nodes,
                requests,
                faults,
                seed,
                (latency, spread, loss, duplication, write_ms),
            )| {
                let mut faults: Vec<ScheduledFault> = faults.into_iter().flatten().collect();
                if settle {
                    faults.push(ScheduledFault { at_ms: 1_500, fault: Fault::Heal });
                    for node in nodes {
                        faults.push(ScheduledFault { at_ms: 1_500, fault: Fault::Restart(node) });
                    }
                }
                Scenario {
                    version: SCENARIO_VERSION,
                    name: "property".to_string(),
                    // Both protocol revisions keep every invariant.
                    protocol: 1 + (seed % 2) as u32,
                    seed,
                    topology: Topology {
                        coordinator: if dedicated {
                            CoordinatorPlacement::Dedicated
                        } else {
                            CoordinatorPlacement::Colocated
                        },
                        shards,
                    },
                    workload: Workload { requests, random: None },
                    network: Network {
                        latency_ms_min: latency,
                        latency_ms_max: latency + spread,
                        loss: Ratio { numerator: loss, denominator: 10 },
                        duplication: Ratio { numerator: duplication, denominator: 10 },
                    },
                    disk: Disk { write_ms },
                    timeouts: match mode {
                        Mode::Single => Timeouts::default(),
                        // Votes outlast an election, so a leader change need not abort.
                        Mode::Raft | Mode::Paxos => Timeouts { vote_ms: 800, ..Timeouts::default() },
                    },
                    writes: WriteMode::InPlace,
                    bugs: Default::default(),
                    replication: match mode {
                        Mode::Single => Replication::default(),
                        Mode::Raft => Replication { engine: Engine::Raft, ..Replication::default() },
                        Mode::Paxos => Replication { engine: Engine::MultiPaxos, ..Replication::default() },
                    },
                    faults,
                    schedule: Vec::new(),
                    end_ms: if settle { 12_000 } else { 3_000 },
                    max_steps: 1_000_000,
                }
            },
        )
}

fn run(scenario: &Scenario) -> Simulation {
    let mut simulation =
        Simulation::new(scenario.clone()).unwrap_or_else(|error| panic!("{error}\n{}", scenario.to_json_pretty()));
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    simulation
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(300), ..ProptestConfig::default() })]

    /// With the correct protocol, no fault schedule breaks an invariant, with writes in place or
    /// deferred.
    #[test]
    fn invariants_hold_under_random_faults(scenario in scenario_strategy(false)) {
        holds_every_invariant(&scenario)?;
    }

    /// Once every node is back and the network healed, every request is answered, nobody stays in
    /// doubt, and the run comes to rest (but for sagas whose compensation waits for money others
    /// spent: sagas give up isolation, and with it the guarantee to finish).
    #[test]
    fn everything_resolves_once_faults_stop(scenario in scenario_strategy(true)) {
        for scenario in in_both_write_modes(&scenario) {
            let simulation = run(&scenario);
            // A saga whose compensation waits for spent money is asked again forever: no rest.
            let at_rest = simulation.stop() == Some(Stop::Quiescent);
            prop_assert!(at_rest || compensation_waits(&simulation), "{:?}\n{}", simulation.stop(), scenario.to_json_pretty());
            assert_resolved(&simulation, &scenario)?;
        }
    }

    /// A fault injected at the cursor gives the same run as the scenario that has it in its schedule.
    #[test]
    fn injecting_at_the_cursor_equals_replaying_the_recorded_scenario(
        scenario in scenario_strategy(false),
        position in 0.0f64..1.0,
        fault_seed in any::<u64>(),
    ) {
        for scenario in in_both_write_modes(&scenario) {
            injecting_at_the_cursor_replays(&scenario, position, fault_seed)?;
        }
    }

    /// Seeking anywhere shows exactly the state a fresh run has after that many steps.
    #[test]
    fn seeking_equals_stepping_from_the_start(scenario in scenario_strategy(false), position in 0.0f64..1.0) {
        for scenario in in_both_write_modes(&scenario) {
            let mut simulation = run(&scenario);
            seek_matches_a_fresh_run(&mut simulation, &scenario, position)?;
        }
    }
}

/// The scenario with writes in place and deferred (the strategies draw in place): every property
/// holds in both modes.
fn in_both_write_modes(scenario: &Scenario) -> [Scenario; 2] {
    [WriteMode::InPlace, WriteMode::Deferred].map(|writes| Scenario { writes, ..scenario.clone() })
}

fn injecting_at_the_cursor_replays(scenario: &Scenario, position: f64, fault_seed: u64) -> Result<(), TestCaseError> {
    let mut simulation = run(scenario);
    let step = (simulation.total_steps() as f64 * position) as u64;
    simulation.seek_step(step);
    let nodes: Vec<NodeId> = scenario.node_ids().into_iter().collect();
    let node = nodes[(fault_seed % nodes.len() as u64) as usize];
    let fault = match fault_seed % 3 {
        0 => Fault::Crash(node),
        1 => Fault::Restart(node),
        _ => Fault::Drop(MessageTarget::Next(MessageFilter {
            to: Some(Endpoint::Node(node)),
            ..MessageFilter::default()
        })),
    };
    simulation.inject(fault).expect("valid fault");
    simulation.run_to_end();
    let replayed = run(simulation.scenario());
    prop_assert_eq!(simulation.trace_hash(), replayed.trace_hash(), "\n{}", simulation.scenario().to_json_pretty());
    prop_assert_eq!(simulation.trace(), replayed.trace());
    Ok(())
}

/// Seeks to `position` (a fraction of the run) and checks the state equals a fresh run stepped there.
fn seek_matches_a_fresh_run(
    simulation: &mut Simulation,
    scenario: &Scenario,
    position: f64,
) -> Result<(), TestCaseError> {
    let step = (simulation.total_steps() as f64 * position) as u64;
    simulation.seek_step(step);
    let mut fresh = Simulation::new(scenario.clone()).expect("valid");
    for _ in 0..step {
        fresh.step_forward();
    }
    prop_assert_eq!(simulation.snapshots(), fresh.snapshots());
    prop_assert_eq!(simulation.trace_to_cursor(), fresh.trace_to_cursor());
    Ok(())
}

/// Nothing is left open: no request unanswered, no participant in doubt, no lock held anywhere.
fn assert_resolved(simulation: &Simulation, scenario: &Scenario) -> Result<(), TestCaseError> {
    let violations = safety_violations(simulation);
    prop_assert!(violations.is_empty(), "{:?}\n{}", violations, scenario.to_json_pretty());
    prop_assert!(simulation.in_doubt().is_empty(), "{:?}\n{}", simulation.in_doubt(), scenario.to_json_pretty());
    // A saga whose compensation waits for money another transfer spent meanwhile stays open: the
    // price of its missing isolation, not a lost message. Anything else must be answered.
    let pending = simulation.world().client().pending();
    let only_waiting_sagas = compensation_waits(simulation) && pending.values().all(|request| request.spec.saga);
    prop_assert!(pending.is_empty() || only_waiting_sagas, "{:?}\n{}", pending, scenario.to_json_pretty());
    let locks: usize =
        simulation.snapshots().iter().filter_map(|node| node.memory.as_ref()).map(|memory| memory.locks.len()).sum();
    prop_assert_eq!(locks, 0, "\n{}", scenario.to_json_pretty());
    Ok(())
}

/// Every violation but isolation's: sagas give it up by design (the saga scenario tests check
/// that it is reported), and every other invariant must hold for them too.
fn safety_violations(simulation: &Simulation) -> Vec<String> {
    simulation
        .violations()
        .filter(|violation| violation.invariant != Invariant::Isolation)
        .map(|violation| violation.to_string())
        .collect()
}

/// Some saga's compensation found its money spent and waits for it.
fn compensation_waits(simulation: &Simulation) -> bool {
    simulation
        .trace()
        .iter()
        .any(|entry| matches!(&entry.event, TraceEvent::Note { note: Note::CompensationWaits { .. }, .. }))
}

/// No invariant is violated in the run, with writes in place or deferred; on failure, the
/// scenario to replay.
fn holds_every_invariant(scenario: &Scenario) -> Result<(), TestCaseError> {
    for scenario in in_both_write_modes(scenario) {
        let simulation = run(&scenario);
        let violations = safety_violations(&simulation);
        prop_assert!(
            violations.is_empty(),
            "seed {}: {:?}\nreplay this scenario with `commitlab run <file>`:\n{}",
            scenario.seed,
            violations,
            scenario.to_json_pretty()
        );
    }
    Ok(())
}

/// Once every replica is back and the network healed, every transaction resolves on every
/// replica. (Leaders keep sending heartbeats, so the run ends at `end_ms`, never at rest.)
fn resolves_on_every_replica(scenario: &Scenario) -> Result<(), TestCaseError> {
    for scenario in in_both_write_modes(scenario) {
        let simulation = run(&scenario);
        prop_assert_eq!(simulation.stop(), Some(Stop::EndTime), "\n{}", scenario.to_json_pretty());
        assert_resolved(&simulation, &scenario)?;
    }
    Ok(())
}

/// Seeking is exact, and a crash or restart injected at the cursor replays exactly, with writes in
/// place or deferred.
fn injecting_and_seeking_are_exact(scenario: &Scenario, position: f64, fault_seed: u64) -> Result<(), TestCaseError> {
    for scenario in in_both_write_modes(scenario) {
        injecting_and_seeking_are_exact_in(&scenario, position, fault_seed)?;
    }
    Ok(())
}

fn injecting_and_seeking_are_exact_in(
    scenario: &Scenario,
    position: f64,
    fault_seed: u64,
) -> Result<(), TestCaseError> {
    let mut simulation = run(scenario);
    seek_matches_a_fresh_run(&mut simulation, scenario, position)?;
    let nodes: Vec<NodeId> = scenario.node_ids().into_iter().collect();
    let node = nodes[(fault_seed % nodes.len() as u64) as usize];
    let fault = if fault_seed.is_multiple_of(2) { Fault::Crash(node) } else { Fault::Restart(node) };
    simulation.inject(fault).expect("valid fault");
    simulation.run_to_end();
    let replayed = run(simulation.scenario());
    prop_assert_eq!(simulation.trace_hash(), replayed.trace_hash(), "\n{}", simulation.scenario().to_json_pretty());
    Ok(())
}

// Over Raft groups and over Multi-Paxos groups, with crashes, partitions, loss and duplication of
// 2PC and consensus messages alike: the 2PC invariants and the engine's safety properties always
// hold, everything resolves once faults stop, and injecting and seeking are as exact as without
// replicas.
proptest! {
    #![proptest_config(ProptestConfig { cases: cases(120), ..ProptestConfig::default() })]

    #[test]
    fn replicated_invariants_hold_under_random_faults(scenario in scenario_strategy_in(false, Mode::Raft)) {
        holds_every_invariant(&scenario)?;
    }

    #[test]
    fn replicated_everything_resolves_once_faults_stop(scenario in scenario_strategy_in(true, Mode::Raft)) {
        resolves_on_every_replica(&scenario)?;
    }

    #[test]
    fn replicated_injecting_and_seeking_are_exact(
        scenario in scenario_strategy_in(false, Mode::Raft),
        position in 0.0f64..1.0,
        fault_seed in any::<u64>(),
    ) {
        injecting_and_seeking_are_exact(&scenario, position, fault_seed)?;
    }

    #[test]
    fn paxos_invariants_hold_under_random_faults(scenario in scenario_strategy_in(false, Mode::Paxos)) {
        holds_every_invariant(&scenario)?;
    }

    #[test]
    fn paxos_everything_resolves_once_faults_stop(scenario in scenario_strategy_in(true, Mode::Paxos)) {
        resolves_on_every_replica(&scenario)?;
    }

    #[test]
    fn paxos_injecting_and_seeking_are_exact(
        scenario in scenario_strategy_in(false, Mode::Paxos),
        position in 0.0f64..1.0,
        fault_seed in any::<u64>(),
    ) {
        injecting_and_seeking_are_exact(&scenario, position, fault_seed)?;
    }
}

#[test]
fn the_same_scenario_twice_gives_the_same_trace_hash() {
    for preset in commitlab_sim::PRESETS {
        let first = run(&(preset.build)());
        let second = run(&(preset.build)());
        assert_eq!(first.trace_hash(), second.trace_hash(), "{}", preset.name);
        assert!(!first.trace().is_empty());
    }
    let mut scenario = (commitlab_sim::preset("busy").expect("exists").build)();
    let original = run(&scenario).trace_hash();
    scenario.seed += 1;
    assert_ne!(run(&scenario).trace_hash(), original, "the seed changes the run");
}

#[test]
fn seeking_across_many_checkpoints_is_exact() {
    let mut scenario = (commitlab_sim::preset("busy").expect("exists").build)();
    scenario.workload.random = scenario.workload.random.map(|mut random| {
        random.count = 2_000;
        random
    });
    scenario.end_ms = 20_000;
    let mut simulation = run(&scenario);
    assert!(simulation.total_steps() > 20_000, "{} steps", simulation.total_steps());
    let end = simulation.snapshots();
    simulation.seek_time(500);
    let at_500 = simulation.snapshots();
    assert!(simulation.now_ms() <= 500);
    simulation.seek_step(simulation.total_steps());
    assert_eq!(simulation.snapshots(), end);
    simulation.seek_time(500);
    assert_eq!(simulation.snapshots(), at_500);
    simulation.step_back();
    simulation.step_forward();
    assert_eq!(simulation.snapshots(), at_500);
}

mod links {
    use super::*;
    use commitlab_sim::link::{decode, encode, LINK_VERSION};
    use commitlab_sim::{Shared, View};

    proptest! {
        #![proptest_config(ProptestConfig { cases: cases(200), ..ProptestConfig::default() })]

        /// scenario -> link -> scenario is the identity, view included.
        #[test]
        fn a_link_gives_back_its_scenario_and_view(
            scenario in scenario_strategy(false),
            step in proptest::option::of(0u64..100_000),
            span_ms in proptest::option::of(1u32..20_000),
            speed_tenths in proptest::option::of(-10i8..=20),
        ) {
            let shared = Shared { scenario, view: View { step, message: None, span_ms, speed_tenths } };
            let link = encode(&shared).expect("random scenarios are small");
            prop_assert_eq!(decode(&link), Ok(shared));
        }

        /// Random text never panics the decoder.
        #[test]
        fn random_text_is_refused_without_panic(text in ".{0,400}") {
            let _ = decode(&text);
            let _ = decode(&format!("{LINK_VERSION}.{text}"));
        }

        /// Random bytes, base64-encoded and deflated or not, never panic the decoder.
        #[test]
        fn random_bytes_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let as_link = |bytes: &[u8]| {
                let text: String = bytes.chunks(3).flat_map(|chunk| {
                    let word = chunk.iter().enumerate().fold(0u32, |word, (index, byte)| word | u32::from(*byte) << (16 - 8 * index));
                    (0..=chunk.len()).map(move |position| {
                        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[(word >> (18 - 6 * position) & 63) as usize] as char
                    })
                }).collect();
                format!("1.{text}")
            };
            let _ = decode(&as_link(&bytes));
            let _ = decode(&as_link(&miniz_oxide::deflate::compress_to_vec(&bytes, 6)));
        }

        /// A valid link with one character changed is either refused or still a valid scenario.
        #[test]
        fn tampered_links_never_panic(position in any::<prop::sample::Index>(), replacement in proptest::char::range('-', 'z')) {
            let scenario = (commitlab_sim::preset("lost-commit").expect("preset").build)();
            let link = encode(&Shared { scenario, view: View::default() }).expect("short");
            let index = position.index(link.len());
            let mut tampered: Vec<char> = link.chars().collect();
            tampered[index] = replacement;
            let tampered: String = tampered.into_iter().collect();
            if let Ok(shared) = decode(&tampered) {
                prop_assert!(shared.scenario.validate().is_ok());
            }
        }
    }
}
