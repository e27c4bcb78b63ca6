//! The real implementation explored: teaching bugs found with their shortest counterexamples, each
//! replaying in the simulator to the same violation; the correct protocol clean within its bounds;
//! the refinement onto TwoPhase along playground runs; bad input refused with a clear message.

use commitlab_explore::implementation::{Bounds, Implementation};
use commitlab_explore::refinement::Refinement;
use commitlab_explore::{explore, Options, Report, Search, Verdict};
use commitlab_protocol::{Decision, Record};
use commitlab_sim::{link, preset, Choice, Scenario, Shared, Simulation, TraceEvent, View, PRESETS};

fn scenario(name: &str) -> Scenario {
    (preset(name).unwrap_or_else(|| panic!("no preset {name}")).build)()
}

const NO_FAULTS: Bounds = Bounds { losses: 0, duplicates: 0, crashes: 0, restarts: 0, timers: 0 };

fn run(model: &Implementation, options: Options) -> Report<Choice> {
    explore(model, options, |_| {}).expect("valid options")
}

/// Plays `path` as a scheduled scenario (through its share link, as a user would open it) and
/// returns the invariants it violates at its last step.
fn replayed_violations(model: &Implementation, path: &[Choice]) -> Vec<&'static str> {
    let shared = Shared { scenario: model.scheduled(path), view: View::default() };
    let fragment = link::encode(&shared).expect("encodes");
    let decoded = link::decode(&fragment).expect("the link decodes");
    assert_eq!(decoded.scenario, shared.scenario, "the link carries the schedule");
    let mut simulation = Simulation::new(decoded.scenario).expect("the schedule is valid");
    simulation.run_to_end();
    assert_eq!(simulation.total_steps(), path.len() as u64, "one step per choice");
    simulation
        .trace()
        .iter()
        .filter(|entry| entry.step == path.len() as u64)
        .filter_map(|entry| match &entry.event {
            TraceEvent::Violation(violation) => Some(violation.invariant.name()),
            _ => None,
        })
        .collect()
}

#[test]
fn every_teaching_bug_is_found_with_its_shortest_counterexample_and_it_replays() {
    let reply_crash = Bounds { crashes: 1, restarts: 1, ..NO_FAULTS };
    let vote_timeout = Bounds { timers: 1, ..NO_FAULTS };
    // (preset, bounds, the invariant, its shortest counterexample's length, stop at the first)
    let cases = [
        ("bug-vote-before-wal", NO_FAULTS, "wal-before-yes", 4, false),
        ("bug-commit-before-log", NO_FAULTS, "commit-needs-decision", 11, false),
        ("bug-commit-on-vote-timeout", vote_timeout, "commit-needs-all-yes", 5, false),
        ("bug-reply-before-log", NO_FAULTS, "reply-matches-decision", 9, false),
        ("bug-reply-before-log", reply_crash, "decision-stability", 11, false),
        // Two requests: the whole space is large, the first violation is found early.
        ("bug-ignore-locks", NO_FAULTS, "exclusive-locks", 8, true),
    ];
    for (name, bounds, invariant, length, stop_at_first) in cases {
        let model = Implementation::new(&scenario(name), bounds).expect("explorable");
        let report = run(&model, Options { stop_at_first, ..Options::default() });
        let property = report.property(invariant).expect("a named property");
        assert_eq!(property.verdict, Verdict::Violated, "{name}: {invariant}");
        let counterexample = property.counterexample.as_ref().expect("a counterexample");
        assert_eq!(counterexample.depth, length, "{name}: {invariant}: {:?}", counterexample.steps);
        assert_eq!(counterexample.actions.len(), length as usize);
        let replayed = replayed_violations(&model, &counterexample.actions);
        assert!(replayed.contains(&invariant), "{name}: the replay ends in {replayed:?}, not {invariant}");
    }
}

#[test]
fn depth_first_search_finds_a_bug_too() {
    let model = Implementation::new(&scenario("bug-vote-before-wal"), NO_FAULTS).expect("explorable");
    let report = run(&model, Options { search: Search::DepthFirst, ..Options::default() });
    let counterexample = report.property("wal-before-yes").and_then(|property| property.counterexample.as_ref());
    let counterexample = counterexample.expect("found depth first");
    assert!(counterexample.depth >= 4, "never shorter than the shortest");
    assert!(replayed_violations(&model, &counterexample.actions).contains(&"wal-before-yes"));
}

#[test]
fn the_correct_protocol_explores_clean_within_the_bounds() {
    // (preset, bounds, unique states): the counts pin the exploration (and the protocol) down.
    let cases = [
        ("happy-path", Bounds { losses: 1, timers: 1, ..NO_FAULTS }, 12_326),
        ("lost-ack", Bounds { crashes: 1, restarts: 1, ..NO_FAULTS }, 7_109),
    ];
    for (name, bounds, states) in cases {
        let model = Implementation::new(&scenario(name), bounds).expect("explorable");
        let report = run(&model, Options::default());
        assert!(report.complete, "{name}");
        let broken: Vec<_> =
            report.properties.iter().filter(|property| property.verdict != Verdict::Holds).map(|p| p.name).collect();
        assert!(broken.is_empty(), "{name}: {broken:?}");
        assert_eq!(report.states, states, "{name}");
        // Two threads find the same states.
        let parallel = run(&model, Options { threads: 2, ..Options::default() });
        assert_eq!((parallel.states, parallel.edges), (report.states, report.edges), "{name}");
    }
}

#[test]
fn progress_is_judged_only_where_nothing_is_left_to_happen() {
    let mut trace = Vec::new();
    let mut world = commitlab_sim::World::new(std::sync::Arc::new(scenario("lost-ack")));
    // The client's request is in flight and its retry timer armed: not quiescent.
    world.take("submit r1".parse().expect("a step"), 0, &mut trace).expect("possible");
    assert!(!world.is_quiescent());
    // With the request lost, only the retry timer is left: still not quiescent, so a run that
    // stops here (its timer bound spent) is not judged stuck.
    world.take("lose m1".parse().expect("a step"), 0, &mut trace).expect("possible");
    assert!(!world.is_quiescent());
    assert_eq!(Implementation::progress_failure(&world), None);
    // A node down: not judged either.
    let mut down = world.clone();
    down.take("crash n1".parse().expect("a step"), 0, &mut trace).expect("possible");
    assert!(!down.is_quiescent());
    // A calm run to its end is quiescent with nothing unresolved.
    let mut calm = commitlab_sim::World::new(std::sync::Arc::new(scenario("lost-ack")));
    loop {
        let mut choices = Vec::new();
        calm.choices(&mut choices);
        let Some(next) =
            choices.into_iter().find(|c| matches!(c, Choice::Submit(_) | Choice::Deliver(_) | Choice::Disk(_)))
        else {
            break;
        };
        calm.take(next, 0, &mut trace).expect("possible");
    }
    assert!(calm.is_quiescent(), "nothing left to happen");
    assert_eq!(Implementation::progress_failure(&calm), None);
    // Stopped half way with every timer spent, a transaction is unresolved: a progress failure is
    // what the check reports where that state is also quiescent.
    let mut half = commitlab_sim::World::new(std::sync::Arc::new(scenario("lost-ack")));
    for step in ["submit r1", "deliver m1"] {
        half.take(step.parse().expect("a step"), 0, &mut trace).expect("possible");
    }
    let unresolved = commitlab_sim::progress::unresolved(&half, 0);
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
}

#[test]
fn bad_bounds_and_unexplorable_scenarios_are_refused_by_name() {
    let too_many = Bounds { crashes: 17, ..NO_FAULTS };
    let error = Implementation::new(&scenario("happy-path"), too_many).err().expect("refused");
    assert_eq!(error, "--crash 17: at most 16 (the state space grows exponentially)");
    let error = Implementation::new(&scenario("raft-seed-002"), NO_FAULTS).err().expect("refused");
    assert!(error.contains("single-node 2PC"), "{error}");
    // A random workload is drawn from the seed as in any run: explorable, here within a cap.
    let busy = Implementation::new(&scenario("busy"), NO_FAULTS).expect("explorable");
    let report = run(&busy, Options { max_states: Some(2_000), ..Options::default() });
    assert!(!report.complete && report.states == 2_000, "{} states", report.states);
    let model = Implementation::new(&scenario("happy-path"), NO_FAULTS).expect("explorable");
    let error = explore(&model, Options { threads: 0, ..Options::default() }, |_| {}).expect_err("refused");
    assert!(error.to_string().contains("threads"), "{error}");
}

#[test]
fn every_correct_single_node_preset_refines_two_phase_along_its_run() {
    let mut checked = 0;
    for preset in PRESETS {
        let scenario = (preset.build)();
        if scenario.replication.is_replicated() || scenario.bugs != Default::default() || scenario.runs_sagas() {
            continue;
        }
        let mut simulation = Simulation::new(scenario).expect("a valid preset");
        simulation.run_to_end();
        let refinement = Refinement::check_trace(simulation.trace());
        assert_eq!(refinement.broken(), None, "{}", preset.name);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} presets checked");
}

#[test]
fn a_teaching_bug_breaks_refinement_at_the_step_that_is_no_spec_step() {
    let mut simulation = Simulation::new(scenario("bug-commit-on-vote-timeout")).expect("valid");
    simulation.run_to_end();
    let refinement = Refinement::check_trace(simulation.trace());
    let broken = refinement.broken().expect("the bug breaks refinement");
    // The step where COMMIT, logged without every YES, becomes durable: TMCommit needs every RM
    // in tmPrepared.
    let step: Vec<_> = simulation.trace().iter().filter(|entry| entry.step == broken.step).collect();
    assert!(
        step.iter().any(|entry| matches!(
            &entry.event,
            TraceEvent::WalAppend { record, .. }
                if matches!(**record, Record::Decided { decision: Decision::Commit, .. })
        )),
        "{broken}: {step:?}"
    );
    assert!(broken.after.contains("tmState = committed"), "{broken}");
    assert!(broken.before.contains("tmState = init"), "{broken}");
}
