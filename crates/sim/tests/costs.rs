//! What a committed transaction costs under each engine, checked against the formulas in the
//! README. A dedicated transaction manager coordinates P participants; every group has n replicas.
//! The network has one fixed latency here, so no message overtakes another: with jitter a
//! heartbeat can overtake the entry it follows and Raft resends the entry, which adds messages.
//!
//! - single nodes: 4 messages per participant (PREPARE, YES, COMMIT, ACK) plus the client's
//!   request and reply; 3 + 2P durable records (the TM's Prepared, Commit, Completed and each
//!   participant's prepare and outcome); 3 message delays to the decision.
//! - Raft: each of those 3 + 2P records costs one AppendEntries and one AppendReply per follower,
//!   2(n-1) messages, and is stored by n replicas; commit indexes ride on later messages.
//! - Multi-Paxos: each record costs an ACCEPT, an AcceptedReply and a COMMIT per follower,
//!   3(n-1) messages; each replica writes the accepted value and then the chosen mark, 2n writes.
//! - Replicated, the decision takes 7 message delays: request, then PREPARE (sent while the TM's
//!   own record replicates), the participant's append and its answer, the YES vote, and the TM's
//!   append and answer for Commit.

use commitlab_protocol::{Decision, TxnId};
use commitlab_sim::summary::RunSummary;
use commitlab_sim::{preset, Engine, Scenario, Simulation};

fn dedicated(participants: u64, engine: Engine, replicas: u16) -> Scenario {
    let name = if participants == 2 { "raft-coordinator-leader-crash" } else { "three-participants" };
    let mut scenario = (preset(name).expect("a preset").build)();
    scenario.faults.clear();
    scenario.replication.engine = engine;
    scenario.replication.replicas = replicas;
    scenario.timeouts.vote_ms = 1_000;
    scenario.network.latency_ms_min = 10;
    scenario.network.latency_ms_max = 10;
    for request in &mut scenario.workload.requests {
        request.at_ms = 100;
    }
    scenario
}

fn cost(scenario: Scenario) -> commitlab_sim::summary::TxnSummary {
    let mut simulation = Simulation::new(scenario).expect("valid");
    simulation.run_to_end();
    simulation.seek_step(simulation.total_steps());
    let summary = RunSummary::of(&simulation);
    summary.txn(TxnId(1)).expect("t1 ran").clone()
}

#[test]
fn committed_transactions_cost_what_the_formulas_say() {
    for participants in [2, 3] {
        let records = 3 + 2 * participants;
        let single = cost(dedicated(participants, Engine::None, 3));
        assert_eq!(single.decision, Some(Decision::Commit));
        assert_eq!(single.message_total(), 4 * participants + 2, "single nodes, P = {participants}: {single:?}");
        assert_eq!(single.durable_writes, records);
        assert_eq!(single.delays_to_decision, Some(3));
        for replicas in [3, 5] {
            let followers = u64::from(replicas) - 1;
            let raft = cost(dedicated(participants, Engine::Raft, replicas));
            let paxos = cost(dedicated(participants, Engine::MultiPaxos, replicas));
            let case = format!("P = {participants}, n = {replicas}");
            for run in [&raft, &paxos] {
                assert_eq!(run.decision, Some(Decision::Commit), "{case}");
                assert_eq!(run.two_phase_messages(), 4 * participants + 2, "{case}: the 2PC messages stay: {run:?}");
                assert_eq!(run.delays_to_decision, Some(7), "{case}: {run:?}");
            }
            assert_eq!(raft.messages.get("AppendEntries"), Some(&(followers * records)), "{case}: {raft:?}");
            assert_eq!(raft.messages.get("AppendReply"), Some(&(followers * records)), "{case}: {raft:?}");
            assert_eq!(raft.message_total(), 4 * participants + 2 + 2 * followers * records, "Raft, {case}");
            assert_eq!(raft.durable_writes, u64::from(replicas) * records, "Raft, {case}");
            for kind in ["Accept", "AcceptedReply", "PaxosCommit"] {
                assert_eq!(paxos.messages.get(kind), Some(&(followers * records)), "{case}, {kind}: {paxos:?}");
            }
            assert_eq!(paxos.message_total(), 4 * participants + 2 + 3 * followers * records, "Multi-Paxos, {case}");
            assert_eq!(paxos.durable_writes, 2 * u64::from(replicas) * records, "Multi-Paxos, {case}");
        }
    }
}

#[test]
fn the_summary_grows_with_the_cursor() {
    let mut simulation = Simulation::new((preset("paxos-seed-002").expect("a preset").build)()).expect("valid");
    simulation.run_to_end();
    simulation.seek_time(130);
    let early = RunSummary::of(&simulation);
    let t1 = early.txn(TxnId(1)).expect("t1 started");
    assert_eq!((t1.decision, t1.delays_to_decision), (None, None), "not decided at 130 ms: {t1:?}");
    simulation.seek_step(simulation.total_steps());
    let done = RunSummary::of(&simulation);
    let t1_done = done.txn(TxnId(1)).expect("t1");
    assert_eq!(t1_done.decision, Some(Decision::Commit));
    assert!(t1_done.message_total() > t1.message_total());
    assert!(done.background.get("PaxosHeartbeat").is_some_and(|count| *count > 0), "{done:?}");
}
