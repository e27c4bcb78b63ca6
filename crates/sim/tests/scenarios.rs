//! Data-driven scenario files: every preset, and every scenario file in `tests/scenarios/custom`,
//! pinned by its canonical trace, final state tables and verdict in a `.trace` file.
//!
//! After reviewing a deliberate change of behaviour, regenerate the files with
//! `COMMITLAB_BLESS=1 cargo test -p commitlab-sim --test scenarios` and review the diff.

use commitlab_protocol::RequestId;
use commitlab_sim::export::{tables_text, trace_text, verdict_text};
use commitlab_sim::{Engine, Scenario, Simulation, PRESETS};
use std::path::{Path, PathBuf};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/scenarios")
}

/// The canonical text of a whole run: trace, final tables, verdict and trace hash.
fn canonical_run(scenario: Scenario) -> String {
    let mut simulation = Simulation::new(scenario).expect("valid scenario");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    format!(
        "## trace\n{}## state at {} ms\n{}## verdict\n{}## trace hash {:016x}, {} steps, stop {:?}\n",
        trace_text(simulation.trace()),
        simulation.now_ms(),
        tables_text(&simulation),
        verdict_text(&simulation),
        simulation.trace_hash(),
        simulation.total_steps(),
        simulation.stop().expect("run to the end"),
    )
}

/// Compares with the pinned file, or rewrites it when COMMITLAB_BLESS is set.
fn check_pinned(path: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("COMMITLAB_BLESS").is_some() {
        std::fs::write(path, actual).map_err(|error| format!("{}: {error}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path)
        .map_err(|error| format!("{}: {error} (run with COMMITLAB_BLESS=1 to create it)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let first_difference = expected
        .lines()
        .zip(actual.lines())
        .enumerate()
        .find(|(_, (want, got))| want != got)
        .map(|(number, (want, got))| format!("line {}:\n  pinned: {want}\n  now:    {got}", number + 1))
        .unwrap_or_else(|| "the files differ in length".to_string());
    Err(format!("{} no longer matches the run; {first_difference}", path.display()))
}

#[test]
fn every_preset_matches_its_pinned_trace() {
    let mut failures = Vec::new();
    for preset in PRESETS {
        let path = scenarios_dir().join("presets").join(format!("{}.trace", preset.name));
        if let Err(failure) = check_pinned(&path, &canonical_run((preset.build)())) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_scenario_file_matches_its_pinned_trace() {
    let dir = scenarios_dir().join("custom");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/scenarios/custom exists")
        .map(|entry| entry.expect("readable entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "expected scenario files in {}", dir.display());
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable scenario");
        let scenario = Scenario::from_json(&text).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        if let Err(failure) = check_pinned(&file.with_extension("trace"), &canonical_run(scenario)) {
            failures.push(failure);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn run_preset(name: &str) -> Simulation {
    let preset = commitlab_sim::preset(name).expect("preset exists");
    let mut simulation = Simulation::new((preset.build)()).expect("valid");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    simulation
}

fn balance(simulation: &Simulation, account: u64) -> i64 {
    simulation
        .snapshots()
        .iter()
        .filter_map(|snapshot| snapshot.memory.as_ref())
        .flat_map(|memory| memory.balances.iter())
        .find(|(id, _)| id.0 == account)
        .map(|(_, value)| *value)
        .expect("account exists")
}

fn violated(simulation: &Simulation) -> Vec<&'static str> {
    simulation.violations().map(|violation| violation.invariant.name()).collect()
}

#[test]
fn the_default_transfer_ends_at_90_and_60() {
    let happy = run_preset("happy-path");
    assert_eq!((balance(&happy, 1001), balance(&happy, 3001)), (90, 60));
    assert!(violated(&happy).is_empty());
}

#[test]
fn a_coordinator_crash_after_prepare_blocks_both_participants_with_locks() {
    let preset = commitlab_sim::preset("coordinator-crash-after-prepare").expect("exists");
    let mut simulation = Simulation::new((preset.build)()).expect("valid");
    simulation.seek_time(1_000);
    let in_doubt = simulation.in_doubt();
    assert_eq!(in_doubt.len(), 2, "both participants are in doubt at 1 s: {in_doubt:?}");
    assert!(in_doubt.iter().all(|row| row.for_ms > 900 && row.locks.len() == 1), "{in_doubt:?}");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    assert!(simulation.in_doubt().is_empty(), "the recovered coordinator resolves them");
    assert_eq!((balance(&simulation, 1001), balance(&simulation, 3001)), (100, 50), "presumed abort rolls back");
}

#[test]
fn correct_presets_keep_every_invariant_and_bug_presets_break_theirs() {
    // Sagas give up isolation by design: where another transfer touches a saga's half-done
    // state, only isolation breaks.
    let without_isolation = ["saga-half-done-visible", "saga-no-blocking"];
    for preset in PRESETS.iter().filter(|preset| !preset.name.contains("bug-")) {
        let violated = violated(&run_preset(preset.name));
        if without_isolation.contains(&preset.name) {
            assert!(!violated.is_empty(), "{} shows a transfer seeing a saga half done", preset.name);
            assert!(violated.iter().all(|name| *name == "isolation"), "{}: {violated:?}", preset.name);
        } else {
            assert!(violated.is_empty(), "{} must keep every invariant: {violated:?}", preset.name);
        }
    }
    let vote_before_wal = violated(&run_preset("bug-vote-before-wal"));
    assert!(
        vote_before_wal.contains(&"wal-before-yes") && vote_before_wal.contains(&"conservation"),
        "{vote_before_wal:?}"
    );
    let commit_before_log = violated(&run_preset("bug-commit-before-log"));
    assert!(
        commit_before_log.contains(&"atomicity") && commit_before_log.contains(&"commit-needs-decision"),
        "{commit_before_log:?}"
    );
    assert_eq!(violated(&run_preset("bug-ignore-locks")), ["exclusive-locks"]);
    let commit_on_timeout = violated(&run_preset("bug-commit-on-vote-timeout"));
    assert!(commit_on_timeout.contains(&"commit-needs-all-yes"), "{commit_on_timeout:?}");
    let reply_before_log = violated(&run_preset("bug-reply-before-log"));
    assert!(
        reply_before_log.contains(&"reply-matches-decision") && reply_before_log.contains(&"decision-stability"),
        "{reply_before_log:?}"
    );
    let figure_8 = violated(&run_preset("raft-bug-commit-old-term-by-count"));
    assert!(figure_8.contains(&"leader-completeness") && figure_8.contains(&"state-machine-safety"), "{figure_8:?}");
    let vote_without_log_check = violated(&run_preset("raft-bug-vote-without-log-check"));
    assert!(
        vote_without_log_check.contains(&"leader-completeness")
            && vote_without_log_check.contains(&"state-machine-safety"),
        "{vote_without_log_check:?}"
    );
    let distinct = |name: &str| violated(&run_preset(name)).into_iter().collect::<std::collections::BTreeSet<_>>();
    let commit_before_quorum = distinct("paxos-bug-commit-before-quorum");
    assert_eq!(commit_before_quorum, ["chosen-survives", "one-value-per-slot"].into(), "{commit_before_quorum:?}");
    let update_in_place = distinct("paxos-bug-update-in-place");
    assert_eq!(update_in_place, ["atomicity", "one-value-per-slot", "seq-agreement"].into(), "{update_in_place:?}");
}

#[test]
fn the_paxos_bug_schedules_lose_nothing_without_their_bugs() {
    for name in ["paxos-bug-commit-before-quorum", "paxos-bug-update-in-place"] {
        let mut scenario = (commitlab_sim::preset(name).expect("exists").build)();
        scenario.bugs = commitlab_protocol::Bugs::default();
        let mut simulation = Simulation::new(scenario).expect("valid");
        simulation.run_to_end();
        assert!(violated(&simulation).is_empty(), "{name} without its bug: {:?}", violated(&simulation));
    }
}

#[test]
fn over_multi_paxos_the_c1_leader_shows_seed_002s_state_after_prepare() {
    let preset = commitlab_sim::preset("paxos-seed-002").expect("exists");
    let mut simulation = Simulation::new((preset.build)()).expect("valid");
    let paxos = |simulation: &Simulation, node: u16| {
        simulation
            .snapshot(commitlab_protocol::NodeId(node))
            .and_then(|snapshot| snapshot.paxos)
            .expect("a Paxos replica")
    };
    let txn = commitlab_protocol::TxnId(1);
    let check = |simulation: &Simulation, node: u16, seq: u64, phase: char, executed: bool| {
        let view = paxos(simulation, node);
        assert_eq!(view.prepare_seq, [(txn, seq)], "n{node}: PrepareSeq = {seq}");
        let row = &view.log[0];
        assert_eq!((row.seq, row.txn, row.phase, row.executed), (seq, txn, phase, executed), "n{node}: Log[{seq}]");
    };
    // C1's leader has its prepare values chosen and executed; C2 has voted YES.
    simulation.seek_time(145);
    for (node, seq) in [(1, 100), (4, 200), (5, 200), (6, 200)] {
        check(&simulation, node, seq, 'P', true);
    }
    // C1's followers have learned them too. The leader has proposed the decision at the same seq:
    // its row says C, not executed until a majority accepts.
    simulation.seek_time(158);
    for node in [2, 3] {
        check(&simulation, node, 100, 'P', true);
    }
    check(&simulation, 1, 100, 'C', false);
    let memory = simulation.snapshot(commitlab_protocol::NodeId(2)).and_then(|snapshot| snapshot.memory).unwrap();
    assert!(memory.balances.contains(&(commitlab_protocol::AccountId(1001), 90)), "balance[1001] = 90 on n2 too");
    assert_eq!(memory.locks, [(commitlab_protocol::AccountId(1001), txn)], "item 1001 LOCKED on n2 too");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    for (node, seq) in [(1, 100), (3, 100), (5, 200)] {
        let row = paxos(&simulation, node).log[0].clone();
        assert_eq!((row.seq, row.phase, row.executed), (seq, 'C', true), "n{node}: the decision reused seq {seq}");
    }
    assert_eq!(paxos(&simulation, 1).log.len(), 1, "one row per transaction, not one per record");
}

/// The balances of `account` on every replica that holds it, in node order.
fn replica_balances(simulation: &Simulation, account: u64) -> Vec<(String, i64)> {
    simulation
        .snapshots()
        .iter()
        .filter_map(|snapshot| {
            let memory = snapshot.memory.as_ref()?;
            let (_, value) = memory.balances.iter().find(|(id, _)| id.0 == account)?;
            Some((snapshot.id.to_string(), *value))
        })
        .collect()
}

fn client_outcome(simulation: &Simulation) -> Option<commitlab_protocol::Decision> {
    simulation.world().client().outcomes().values().next().copied()
}

#[test]
fn over_raft_every_replica_applies_the_transfer_and_followers_hold_the_state_after_prepare() {
    let preset = commitlab_sim::preset("raft-seed-002").expect("exists");
    let mut simulation = Simulation::new((preset.build)()).expect("valid");
    // Once C2's prepare record is committed and the next heartbeat has carried the commit index,
    // C2's followers hold the lock and the credit too (seed 002's STATE AFTER PREPARE).
    simulation.seek_time(200);
    for node in ["n5", "n6"] {
        let snapshot = simulation.snapshots().into_iter().find(|snapshot| snapshot.id.to_string() == node).unwrap();
        let memory = snapshot.memory.expect("up");
        assert_eq!(memory.locks.len(), 1, "{node} holds the lock on 3001: {memory:?}");
        assert!(memory.balances.contains(&(commitlab_protocol::AccountId(3001), 60)), "{node}: {memory:?}");
    }
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    let expected = |first: u16, value: i64| (first..first + 3).map(|id| (format!("n{id}"), value)).collect::<Vec<_>>();
    assert_eq!(replica_balances(&simulation, 1001), expected(1, 90));
    assert_eq!(replica_balances(&simulation, 3001), expected(4, 60));
}

#[test]
fn replicated_a_coordinator_leader_crash_no_longer_blocks() {
    let blocked = {
        let preset = commitlab_sim::preset("coordinator-crash-after-prepare").expect("exists");
        let mut simulation = Simulation::new((preset.build)()).expect("valid");
        simulation.seek_time(1_000);
        simulation.in_doubt().len()
    };
    assert_eq!(blocked, 2, "single nodes: both participants still in doubt at 1 s");
    for name in ["raft-coordinator-leader-crash", "paxos-coordinator-leader-crash"] {
        let preset = commitlab_sim::preset(name).expect("exists");
        let mut simulation = Simulation::new((preset.build)()).expect("valid");
        simulation.seek_time(1_000);
        assert!(simulation.in_doubt().is_empty(), "{name}: a new TM leader resolved t1: {:?}", simulation.in_doubt());
        let simulation = run_preset(name);
        assert_eq!(client_outcome(&simulation), Some(commitlab_protocol::Decision::Commit), "{name}");
    }
}

#[test]
fn the_figure_8_schedule_loses_nothing_without_its_bug() {
    let preset = commitlab_sim::preset("raft-bug-commit-old-term-by-count").expect("exists");
    let mut scenario = (preset.build)();
    scenario.bugs.commit_old_term_by_count = false;
    let mut simulation = Simulation::new(scenario).expect("valid");
    simulation.run_to_end();
    assert!(violated(&simulation).is_empty(), "{:?}", violated(&simulation));
}

#[test]
fn leader_discovery_commits_where_the_static_leader_bug_aborts() {
    use commitlab_protocol::Decision;
    for engine in ["raft", "paxos"] {
        assert_eq!(client_outcome(&run_preset(&format!("{engine}-leader-discovery"))), Some(Decision::Commit));
        assert_eq!(client_outcome(&run_preset(&format!("{engine}-bug-static-leader"))), Some(Decision::Abort));
    }
}

#[test]
fn a_group_without_a_majority_blocks_until_it_has_one_again() {
    for name in ["raft-majority-lost", "paxos-majority-lost"] {
        let preset = commitlab_sim::preset(name).expect("exists");
        let mut simulation = Simulation::new((preset.build)()).expect("valid");
        simulation.seek_time(1_400);
        let in_doubt = simulation.in_doubt();
        assert_eq!(in_doubt.len(), 1, "{name}: C2 is in doubt with one replica of three: {in_doubt:?}");
        assert_eq!(in_doubt[0].node.to_string(), "n4", "{name}: counted once, for the group C2 (addressed as n4)");
        assert!(in_doubt[0].for_ms > 1_000, "{name}: {in_doubt:?}");
        simulation.run_to_end();
        simulation.seek_step(simulation.total_steps());
        assert!(simulation.in_doubt().is_empty(), "{name}: with n5 back, C2 elects a leader and commits");
    }
}

#[test]
fn every_comparison_pairs_two_valid_runs_and_bug_pairs_differ_in_their_verdicts() {
    for comparison in commitlab_sim::COMPARISONS {
        let runs = [(comparison.a)(), (comparison.b)()].map(|scenario| {
            let mut simulation =
                Simulation::new(scenario).unwrap_or_else(|error| panic!("{}: {error}", comparison.name));
            simulation.run_to_end();
            simulation
        });
        if comparison.name.starts_with("bug-") {
            assert!(
                violated(&runs[1]).is_empty(),
                "{}: the run without the bug keeps every invariant",
                comparison.name
            );
        }
        if comparison.name == "bug-update-in-place-on-vs-off" {
            assert!(!violated(&runs[0]).is_empty(), "{}", comparison.name);
        }
    }
    assert!(commitlab_sim::comparison(commitlab_sim::presets::DEFAULT_COMPARISON).is_some());
}

fn whole_run(name: &str) -> Simulation {
    let mut simulation = run_preset(name);
    simulation.seek_step(simulation.total_steps());
    simulation
}

fn whole_trace(simulation: &Simulation) -> String {
    trace_text(simulation.trace())
}

#[test]
fn progress_is_judged_apart_from_safety_once_faults_stop() {
    use commitlab_sim::Progress;
    for name in ["happy-path", "busy", "coordinator-crash-after-prepare", "lost-ack", "partition-during-commit"] {
        assert!(matches!(Progress::of(&whole_run(name)), Progress::Ok { waiting: 0, .. }), "{name}");
    }
    // A refused COMMIT is resent forever: the run is safe by its own checks but stuck.
    let progress = Progress::of(&whole_run("bug-commit-on-vote-timeout"));
    let Progress::Stuck { stuck, .. } = &progress else { panic!("{progress}") };
    assert_eq!(stuck[0].txn, Some(commitlab_protocol::TxnId(1)));
    assert!(stuck[0].waited_ms > 1_000, "{progress}");
    // While the coordinator is down, nothing is asked of liveness.
    let mut blocked = run_preset("coordinator-crash-after-prepare");
    blocked.seek_time(800);
    assert!(matches!(Progress::of(&blocked), Progress::NotJudged { .. }));
}

#[test]
fn the_failure_modes_of_seeds_003_and_004_happen_as_described() {
    let crash_before_record = whole_trace(&whole_run("participant-crash-before-prepare-durable"));
    assert!(
        crash_before_record.contains("CRASH n4 (unwritten WAL records lost: PrepareVote(t1"),
        "{crash_before_record}"
    );
    assert!(!crash_before_record.contains("n4 -> n10 Vote t1 YES"), "no YES without a durable record");
    let crash_before_outcome = whole_trace(&whole_run("participant-crash-before-outcome-durable"));
    assert!(crash_before_outcome.contains("CRASH n4 (unwritten WAL records lost: Committed(t1))"));
    assert!(crash_before_outcome.contains("n4 t1 participant in doubt after recovery"));
    assert_eq!(balance(&whole_run("participant-crash-before-outcome-durable"), 3001), 60);
    // Seed 003: only n1 learned the outcome before the TM crashed; the others block until it returns.
    let mut broadcast = run_preset("coordinator-crash-during-commit-broadcast");
    broadcast.seek_time(800);
    let blocked: Vec<u16> = broadcast.in_doubt().iter().map(|row| row.node.0).collect();
    assert_eq!(blocked, [4, 7]);
    // A unanimous YES still aborts when COMMIT never became durable.
    let unanimous = whole_run("coordinator-crash-before-commit-durable");
    assert_eq!(client_outcome(&unanimous), Some(commitlab_protocol::Decision::Abort));
    assert!(whole_trace(&unanimous).contains("CRASH n10 (unwritten WAL records lost: Commit(t1))"));
    // The lost ACK is answered by a resend, then completion.
    let lost_ack = whole_trace(&whole_run("lost-ack"));
    let resend = lost_ack.find("n10 timer resend-decision t1").expect("a resend");
    assert!(lost_ack[resend..].contains("n10 WAL Completed(t1)"));
    // Seed 004's vulnerability window: a blocked transaction's lock makes another vote NO.
    let window = whole_trace(&whole_run("vulnerability-window"));
    assert!(window.contains("Vote t3 NO (3001 locked by t1)"), "{window}");
    let third = whole_trace(&whole_run("third-participant-votes-no"));
    let yes = third.rfind("Vote t1 YES").expect("two YES");
    assert!(third.find("Vote t1 NO").expect("a NO") > yes, "the NO comes after both YES votes");
    let overtaken = whole_trace(&whole_run("abort-overtakes-prepare"));
    assert!(overtaken.contains("Vote t1 NO (t1 was already aborted by its coordinator)"));
    let late = whole_run("late-duplicate-prepare");
    assert_eq!(balance(&late, 3001), 60, "the late copy does not apply the transfer again");
}

#[test]
fn a_journal_line_without_a_durable_commit_is_caught() {
    // Seed 004's log database under the decide-before-log bug: the TM crashes before its COMMIT is
    // durable, the log database has already written its line, and the TM presumes abort.
    let mut scenario = (commitlab_sim::preset("three-participants").expect("exists").build)();
    scenario.bugs.decide_before_log = true;
    scenario.faults = vec![commitlab_sim::ScheduledFault {
        at_ms: 37,
        fault: commitlab_sim::Fault::Crash(commitlab_protocol::NodeId(10)),
    }];
    let mut simulation = Simulation::new(scenario).expect("valid");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    assert!(violated(&simulation).contains(&"journal-matches-commit"), "{}", whole_trace(&simulation));
}

fn outcomes(simulation: &Simulation) -> Vec<(u32, commitlab_protocol::Decision)> {
    simulation.world().client().outcomes().iter().map(|(request, decision)| (request.0, *decision)).collect()
}

#[test]
fn a_saga_runs_its_steps_in_turn_and_nobody_is_ever_in_doubt() {
    use commitlab_protocol::Decision;
    let preset = commitlab_sim::preset("saga-completes").expect("exists");
    let mut simulation = Simulation::new((preset.build)()).expect("valid");
    simulation.run_to_end();
    // Between the steps the money is half moved, and nothing is held or in doubt.
    simulation.seek_time(45);
    assert_eq!((balance(&simulation, 1001), balance(&simulation, 3001)), (400, 200), "debited, not yet credited");
    assert!(simulation.in_doubt().is_empty());
    let locks: usize =
        simulation.snapshots().iter().filter_map(|node| node.memory.as_ref()).map(|memory| memory.locks.len()).sum();
    assert_eq!(locks, 0, "no lock is held between steps");
    simulation.seek_step(simulation.total_steps());
    assert_eq!((balance(&simulation, 1001), balance(&simulation, 3001)), (400, 300));
    assert_eq!(outcomes(&simulation), [(1, Decision::Commit)]);
    let trace = whole_trace(&simulation);
    // Each step starts only once the previous answer is logged, in the order the request names
    // the shards: the sender, the receiver, the journal.
    let order: Vec<usize> = [
        "n10 -> n1 Step t1/1",
        "n10 WAL StepDone(t1/1)",
        "n10 -> n4 Step t1/2",
        "n10 WAL StepDone(t1/2)",
        "n10 -> n7 Step t1/3",
        "n10 WAL SagaCommitted(t1)",
    ]
    .iter()
    .map(|line| trace.find(line).unwrap_or_else(|| panic!("{line} missing:\n{trace}")))
    .collect();
    assert!(order.windows(2).all(|pair| pair[0] < pair[1]), "{trace}");
    assert!(trace.contains("n7 WAL Step(t1/3, journal)"));
    assert!(!trace.contains("Prepare"), "a saga sends no PREPARE");
}

#[test]
fn a_failed_step_is_compensated_in_reverse_and_the_money_is_whole_again() {
    use commitlab_protocol::Decision;
    let simulation = whole_run("saga-compensates");
    let trace = whole_trace(&simulation);
    let failed = trace.find("Step t1/3 FAILED (insufficient funds in 5002: 0 < 50)").expect("step 3 fails");
    let second = trace.find("Compensate t1/2").expect("step 2 compensated");
    let first = trace.find("Compensate t1/1").expect("step 1 compensated");
    assert!(failed < second && second < first, "compensations run last step first:\n{trace}");
    assert!(trace.contains("n4 WAL Compensation(t1/2, 3001: 300->200)"));
    assert!(trace.contains("n10 WAL SagaAborted(t1)"));
    assert_eq!((balance(&simulation, 1001), balance(&simulation, 3001), balance(&simulation, 5002)), (500, 200, 0));
    assert_eq!(outcomes(&simulation), [(1, Decision::Abort)]);
    assert!(violated(&simulation).is_empty());
}

#[test]
fn another_transfer_sees_a_saga_half_done_and_its_compensation_waits_for_the_money() {
    use commitlab_protocol::Decision;
    let simulation = whole_run("saga-half-done-visible");
    let trace = whole_trace(&simulation);
    assert!(trace.contains("VIOLATION isolation t2 [n4]"), "{trace}");
    assert!(
        trace.contains("n4 cannot compensate t1/2 yet: 3001 holds 50, taking back 100 would overdraw it"),
        "{trace}"
    );
    let waits = trace.find("cannot compensate").expect("waits");
    let refill = trace.find("Reply r3 t3 committed").expect("t3 refills 3001");
    let compensated = trace.find("n4 WAL Compensation(t1/2, 3001: 130->30)").expect("then compensates");
    assert!(waits < refill && refill < compensated, "{trace}");
    assert_eq!(outcomes(&simulation), [(1, Decision::Abort), (2, Decision::Commit), (3, Decision::Commit)]);
    // Money is conserved once the compensations finish: 100 + 500 + 200 + 0 + 0 in, the same out.
    let total: i64 = [1001, 1002, 3001, 5001, 5002].iter().map(|account| balance(&simulation, *account)).sum();
    assert_eq!(total, 800);
    assert_eq!(balance(&simulation, 3001), 30);
}

#[test]
fn the_same_workload_blocks_under_2pc_and_not_as_sagas() {
    use commitlab_protocol::{Decision, TxnId};
    use commitlab_sim::summary::RunSummary;
    let blocked = |simulation: &Simulation, txn: u32| {
        RunSummary::of(simulation).txns.iter().find(|row| row.txn == TxnId(txn)).expect("a row").blocked_ms
    };
    let two_phase = whole_run("vulnerability-window");
    let sagas = whole_run("saga-no-blocking");
    assert_eq!(outcomes(&two_phase), [(1, Decision::Abort), (2, Decision::Abort)]);
    assert_eq!(outcomes(&sagas), [(1, Decision::Commit), (2, Decision::Commit)]);
    assert!(blocked(&two_phase, 1) > 1_000, "t1's locks are held while its coordinator is down");
    assert!(blocked(&sagas, 1) < 20, "a saga's steps hold locks only while each is written");
    let trace = whole_trace(&sagas);
    assert!(trace.contains("n1 t1 coordinator resuming saga after recovery"), "{trace}");
    assert!(trace.find("Reply r2 t3 committed").expect("t3 commits") < trace.find("RESTART n1").expect("restart"));
    assert_eq!(violated(&sagas), ["isolation"], "t3 used 3001 after t1's half-done credit");
}

#[test]
fn sagas_are_refused_in_replicated_groups_with_a_clear_message() {
    let mut scenario = (commitlab_sim::preset("raft-seed-002").expect("exists").build)();
    scenario.workload.requests[0].saga = true;
    let error = Simulation::new(scenario).expect_err("sagas need single nodes").to_string();
    assert!(error.contains("workload.requests[0].saga") && error.contains("single-node"), "{error}");
}

#[test]
fn deferred_writes_lock_at_prepare_and_change_balances_only_at_commit() {
    let mut simulation = run_preset("deferred-writes");
    assert!(violated(&simulation).is_empty(), "{}", whole_trace(&simulation));
    let trace = whole_trace(&simulation);
    assert!(trace.contains("n4 WAL PrepareVote(t1, redo 3001: 200->300)"), "a redo record: {trace}");
    let committed = trace.find("n4 WAL Committed(t1)").expect("C2 commits t1");
    let applied = trace.find("n4 balance[3001] 200 -> 300").expect("the redo record applied");
    assert!(applied > committed, "the balance changes at COMMIT, after the outcome record");
    assert!(trace.contains("Vote t2 NO (3001 locked by t1)"), "the lock still keeps t2 out");
    let rolled_back = trace.find("n1 WAL RolledBack(t2)").expect("C1 rolls back t2");
    assert!(!trace[rolled_back..].contains("n1 balance[1001]"), "a deferred abort has nothing to undo");
    // While t1's COMMIT to C2 is lost, C2 is in doubt with the old balance and the redo image.
    simulation.seek_time(80);
    let in_doubt: Vec<(u16, u32)> = simulation.in_doubt().iter().map(|row| (row.node.0, row.txn.0)).collect();
    assert!(in_doubt.contains(&(4, 1)), "{in_doubt:?}");
    let c2 = simulation.snapshot(commitlab_protocol::NodeId(4)).expect("n4").memory.expect("up");
    assert_eq!(c2.balances[0], (commitlab_protocol::AccountId(3001), 200), "locked but not changed");
    assert_eq!(c2.txns[0].redo, [(commitlab_protocol::AccountId(3001), 300)]);
    assert!(c2.txns[0].undo.is_empty());
    assert_eq!(balance(&simulation, 1001), 400, "C1 applied its redo record at its COMMIT");
    // The same run with writes in place shows the change at PREPARE and the undo image instead.
    let mut scenario = simulation.scenario().clone();
    scenario.writes = commitlab_protocol::WriteMode::InPlace;
    let mut in_place = Simulation::new(scenario).expect("valid");
    in_place.run_to_end();
    in_place.seek_time(80);
    let c2 = in_place.snapshot(commitlab_protocol::NodeId(4)).expect("n4").memory.expect("up");
    assert_eq!(c2.balances[0], (commitlab_protocol::AccountId(3001), 300));
    assert_eq!(
        (c2.txns[0].undo.as_slice(), c2.txns[0].redo.as_slice()),
        (&[(commitlab_protocol::AccountId(3001), 200)][..], &[][..])
    );
    in_place.seek_step(in_place.total_steps());
    simulation.seek_step(simulation.total_steps());
    for account in [1001, 3001] {
        assert_eq!(balance(&in_place, account), balance(&simulation, account), "both modes end alike");
    }
}

/// A replicated scenario run to its end under Raft and Multi-Paxos and every protocol revision,
/// each with its label and whole trace; none may break an invariant.
fn under_both_engines_and_every_revision(json: &str) -> Vec<(String, Simulation, String)> {
    let mut runs = Vec::new();
    for engine in [Engine::Raft, Engine::MultiPaxos] {
        for protocol in 1..=commitlab_protocol::Revision::CURRENT.0 {
            let mut scenario = Scenario::from_json(json).expect("valid scenario");
            scenario.replication.engine = engine;
            scenario.protocol = protocol;
            let mut simulation = Simulation::new(scenario).expect("valid");
            simulation.run_to_end();
            simulation.seek_step(simulation.total_steps());
            let trace = whole_trace(&simulation);
            let label = format!("{engine:?}, revision {protocol}");
            assert!(violated(&simulation).is_empty(), "{label}: {:?}\n{trace}", violated(&simulation));
            runs.push((label, simulation, trace));
        }
    }
    runs
}

/// The property tests' atomicity failure over Raft, shrunk by hand. C1 = n1-n3 holds both
/// accounts, the TM = n4-n6 is a group of its own. The partition leaves the TM's leader n4 with C1
/// (and the client) but without its followers: n4 sends PREPARE while `Prepared(t1)` replicates,
/// C1 prepares t1 with n3's help and votes YES, and `Prepared(t1)` never commits. n5 leads the TM
/// without it. n3 crashes, so C1 loses its leader too. After the heal C1's query for t1 reaches n5,
/// which knows no t1, and right behind it comes the client's retry of r1, which runs as t1 again.
/// Before the fix n5 answered ABORT at once and ran the retry; C1's new leader took over, resent
/// its YES for the first run (then obeyed the ABORT), and n5 committed the second run with that
/// YES: rolled back at C1, committed at the TM, and the client told COMMIT.
const PRESUMED_ABORT_THEN_RETRY: &str = r#"{
  "version": 1, "name": "raft-presumed-abort-then-retry", "seed": 2503261648610459174,
  "topology": { "coordinator": "dedicated", "shards": [ { "accounts": { "1000": 100, "1001": 50 } } ] },
  "workload": { "requests": [ { "at_ms": 50, "transfers": [ { "from": 1000, "to": 1001, "amount": 10 } ] } ] },
  "network": { "latency_ms_min": 2, "latency_ms_max": 2, "loss": "0/10", "duplication": "0/10" },
  "disk": { "write_ms": 1 },
  "timeouts": { "vote_ms": 800, "resend_ms": 60, "query_ms": 150, "client_retry_ms": 400 },
  "replication": { "engine": "raft", "replicas": 3, "election_timeout_ms_min": 150,
                   "election_timeout_ms_max": 300, "heartbeat_ms": 50 },
  "faults": [
    { "at_ms": 20, "fault": { "partition": [ [ "n1", "n3", "n4", "client" ], [ "n2", "n5", "n6" ] ] } },
    { "at_ms": 100, "fault": { "crash": "n3" } },
    { "at_ms": 400, "fault": "heal" }
  ],
  "end_ms": 1000, "max_steps": 1000000
}"#;

#[test]
fn a_presumed_abort_binds_the_retry_of_its_request_under_both_engines_and_every_revision() {
    use commitlab_protocol::Decision;
    for (label, simulation, trace) in under_both_engines_and_every_revision(PRESUMED_ABORT_THEN_RETRY) {
        // The facts of the failing run, still there: C1 in doubt about a t1 the new TM leader
        // never saw, its query and the client's retry arriving together.
        assert!(trace.contains("n1 t1 participant prepared (in doubt)"), "{label}\n{trace}");
        assert!(trace.contains("n1 t1 participant in doubt after recovery"), "{label}\n{trace}");
        // The presumed abort is logged before anyone hears it, answers the request, and the retry
        // does not run t1 a second time.
        let logged = trace.find("t1 coordinator logging decision").expect("the presumed abort is logged");
        let told = trace.find("Abort t1").expect("C1 hears the abort");
        assert!(logged < told, "{label}: logged first\n{trace}");
        assert!(trace.contains("Reply r1 t1 aborted (presumed abort"), "{label}\n{trace}");
        assert_eq!(trace.matches("t1 coordinator logging prepared").count(), 1, "{label}: one run of t1\n{trace}");
        assert_eq!(simulation.world().client().outcomes().get(&RequestId(1)), Some(&Decision::Abort), "{label}");
        assert!(simulation.in_doubt().is_empty(), "{label}: {:?}", simulation.in_doubt());
        for (replica, balance) in replica_balances(&simulation, 1000) {
            assert_eq!(balance, 100, "{label}: {replica} rolled t1 back");
        }
    }
}

/// The property tests' `completed-needs-outcomes` failure over Raft, rebuilt by hand. C1 = n1-n3,
/// the TM = n4-n6. n1 hears the TM's PREPARE but not its own group, so it holds the PREPARE until
/// it knows a leader. The TM times out, logs ABORT, and tells C1's leader once the partition
/// heals. Then n1 learns its leader and bounces the held PREPARE back with `NotLeader`. Before the
/// fix the TM followed the bounce and sent the PREPARE again, after its decision: C1 locked and
/// logged a prepare record for a transaction already over (and, in the failing run, already
/// acknowledged as aborted, so the TM completed while C1 sat in doubt).
const LATE_PREPARE_BOUNCE: &str = r#"{
  "version": 1, "name": "raft-late-prepare-bounce", "seed": 7,
  "topology": { "coordinator": "dedicated", "shards": [ { "accounts": { "1000": 100, "1001": 50 } } ] },
  "workload": { "requests": [ { "at_ms": 400, "transfers": [ { "from": 1000, "to": 1001, "amount": 10 } ] } ] },
  "network": { "latency_ms_min": 2, "latency_ms_max": 2, "loss": "0/10", "duplication": "0/10" },
  "disk": { "write_ms": 1 },
  "timeouts": { "vote_ms": 300, "resend_ms": 60, "query_ms": 150, "client_retry_ms": 5000 },
  "replication": { "engine": "raft", "replicas": 3, "election_timeout_ms_min": 150,
                   "election_timeout_ms_max": 300, "heartbeat_ms": 50 },
  "faults": [
    { "at_ms": 0, "fault": { "partition": [ [ "n1", "n4", "n5", "n6", "client" ], [ "n2", "n3" ] ] } },
    { "at_ms": 500, "fault": { "partition": [ [ "n1" ], [ "n2", "n3" ], [ "n4", "n5", "n6", "client" ] ] } },
    { "at_ms": 1200, "fault": "heal" }
  ],
  "end_ms": 3000, "max_steps": 1000000
}"#;

#[test]
fn a_bounced_prepare_is_not_sent_again_once_the_decision_is_made() {
    for (label, simulation, trace) in under_both_engines_and_every_revision(LATE_PREPARE_BOUNCE) {
        // The facts of the failing run: the PREPARE held at n1 comes back after the decision.
        let decided = trace.find("n4 t1 coordinator logging decision").expect("the TM decides");
        let bounced = trace.find("n1 -> n4 NotLeader (leader n3) for Prepare t1");
        assert!(bounced.is_some_and(|at| at > decided), "{label}: the bounce comes after the decision\n{trace}");
        // The TM does not follow it: no PREPARE leaves after the decision, and C1 never prepares.
        let prepare_sent =
            |line: &str| line.contains(" send ") && line.contains("Prepare t1") && !line.contains("NotLeader");
        assert!(!trace[decided..].lines().any(prepare_sent), "{label}: a PREPARE after the decision\n{trace}");
        assert!(!trace.contains("participant preparing"), "{label}\n{trace}");
        assert!(trace.contains("n4 t1 coordinator completed"), "{label}\n{trace}");
        assert!(simulation.in_doubt().is_empty(), "{label}: {:?}", simulation.in_doubt());
        for (replica, balance) in replica_balances(&simulation, 1000) {
            assert_eq!(balance, 100, "{label}: {replica} never changed");
        }
    }
}

/// Presumed abort lets the coordinator forget an aborted transaction while a participant that
/// got its PREPARE late is still in doubt. n4's PREPARE is delayed past the vote timeout; n4 gets
/// the ABORT first, acknowledges it and keeps a tombstone, crashes (losing it), and then the late
/// PREPARE arrives: n4 prepares and votes YES for a transaction already aborted. The TM completes
/// on n1's (delayed) ACK; n4 asks, hears ABORT by presumption, and rolls back.
const LATE_PREPARE_AFTER_LOST_TOMBSTONE: &str = r#"{
  "version": 1, "name": "late-prepare-after-lost-tombstone", "protocol": 2, "seed": 1,
  "topology": { "coordinator": "dedicated", "shards": [ { "accounts": { "1001": 100 } }, { "accounts": { "3001": 50 } } ] },
  "workload": { "requests": [ { "at_ms": 0, "transfers": [ { "from": 1001, "to": 3001, "amount": 10 } ] } ] },
  "network": { "latency_ms_min": 5, "latency_ms_max": 5, "loss": "0/1", "duplication": "0/1" },
  "disk": { "write_ms": 2 },
  "timeouts": { "vote_ms": 100, "resend_ms": 1000, "query_ms": 150, "client_retry_ms": 5000 },
  "faults": [
    { "at_ms": 0, "fault": { "delay": { "message": { "next": { "kind": "Prepare", "to": "n4" } }, "by_ms": 300 } } },
    { "at_ms": 0, "fault": { "delay": { "message": { "next": { "kind": "Ack", "from": "n1" } }, "by_ms": 220 } } },
    { "at_ms": 200, "fault": { "crash": "n4" } },
    { "at_ms": 210, "fault": { "restart": "n4" } }
  ],
  "end_ms": 3000
}"#;

#[test]
fn a_prepare_that_arrives_after_the_abort_is_resolved_by_presumed_abort() {
    let scenario = Scenario::from_json(LATE_PREPARE_AFTER_LOST_TOMBSTONE).expect("valid scenario");
    let mut simulation = Simulation::new(scenario).expect("valid");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    let trace = whole_trace(&simulation);
    assert!(violated(&simulation).is_empty(), "{:?}\n{trace}", violated(&simulation));
    let position = |text: &str| trace.find(text).unwrap_or_else(|| panic!("{text}\n{trace}"));
    let decided = position("n7 WAL Aborted(t1)");
    let late_prepare = position("n4 WAL PrepareVote(t1");
    let completed = position("n7 WAL Completed(t1)");
    let rolled_back = position("n4 WAL RolledBack(t1)");
    assert!(decided < late_prepare && late_prepare < completed && completed < rolled_back, "{trace}");
    assert!(trace[completed..].contains("n7 -> n4 Abort t1"), "the query is answered ABORT\n{trace}");
    assert!(simulation.in_doubt().is_empty(), "{:?}", simulation.in_doubt());
}
