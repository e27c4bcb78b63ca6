//! Unit tests of the roles, driven directly through their handlers.

use crate::vec_map::VecMap;
use crate::*;
use std::sync::Arc;

/// C1 = n1 (1001: 100) coordinates, C2 = n4 (3001: 50).
fn config(id: u16, shard: u16, coordinator: bool) -> Arc<NodeConfig> {
    config_of(id, shard, coordinator, Revision::CURRENT)
}

fn config_of(id: u16, shard: u16, coordinator: bool, revision: Revision) -> Arc<NodeConfig> {
    let directory = Directory {
        shards: vec![
            ShardEntry {
                shard: ShardId(0),
                node: NodeId(1),
                first_account: AccountId(1001),
                last_account: AccountId(1001),
            },
            ShardEntry {
                shard: ShardId(1),
                node: NodeId(4),
                first_account: AccountId(3001),
                last_account: AccountId(3001),
            },
        ],
    };
    let balances = if shard == 0 { [(AccountId(1001), 100)] } else { [(AccountId(3001), 50)] };
    Arc::new(NodeConfig {
        id: NodeId(id),
        shard: Some(ShardId(shard)),
        coordinator: coordinator.then_some(TxnNumbering { first: 1, stride: 1 }),
        directory,
        initial_balances: VecMap::from(balances),
        timeouts: Timeouts::default(),
        bugs: Bugs::default(),
        recovery: Recovery::default(),
        revision,
        writes: WriteMode::InPlace,
    })
}

fn fresh(config: Arc<NodeConfig>) -> Node {
    Node::recover(config, std::iter::empty(), 0, &mut Vec::new())
}

fn sends(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Send { to, message } => Some(format!("{to} {message}")),
            _ => None,
        })
        .collect()
}

fn persists(effects: &[Effect]) -> Vec<Record> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Persist(record) => Some(record.clone()),
            _ => None,
        })
        .collect()
}

fn prepare(txn: u32, account: u64, delta: i64) -> Message {
    Message::Prepare { txn: TxnId(txn), work: Work { deltas: vec![(AccountId(account), delta)], journal: None } }
}

#[test]
fn a_participant_votes_yes_only_after_its_prepare_record_is_durable() {
    let mut node = fresh(config(4, 1, false));
    let mut out = Vec::new();
    node.on_message(10, Endpoint::Node(NodeId(1)), &prepare(1, 3001, 10), &mut out);
    assert!(sends(&out).is_empty(), "no vote before the WAL write: {out:?}");
    let records = persists(&out);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].to_string(), "PrepareVote(t1, 3001: 50->60)");
    assert_eq!(node.participant().unwrap().bank().lock_holder(AccountId(3001)), Some(TxnId(1)));
    out.clear();
    node.on_persisted(12, &records[0], &mut out);
    assert_eq!(sends(&out), ["n1 Vote t1 YES"]);
    assert_eq!(node.view().txns[0].in_doubt_since_ms, Some(12));
}

#[test]
fn insufficient_funds_and_held_locks_mean_no_without_logging() {
    let mut node = fresh(config(4, 1, false));
    let mut out = Vec::new();
    node.on_message(10, Endpoint::Node(NodeId(1)), &prepare(1, 3001, -80), &mut out);
    assert_eq!(sends(&out), ["n1 Vote t1 NO (insufficient funds in 3001: 50 < 80)"]);
    assert!(persists(&out).is_empty());
    out.clear();
    node.on_message(11, Endpoint::Node(NodeId(1)), &prepare(2, 3001, 5), &mut out);
    out.clear();
    node.on_message(12, Endpoint::Node(NodeId(1)), &prepare(3, 3001, 5), &mut out);
    assert_eq!(sends(&out), ["n1 Vote t3 NO (3001 locked by t2)"]);
}

#[test]
fn a_restarted_participant_rebuilds_locks_and_doubt_from_its_wal_and_asks() {
    let log = [Record::PrepareVote {
        txn: TxnId(1),
        coordinator: NodeId(1),
        writes: vec![Write { account: AccountId(3001), before: 50, after: 60 }],
        journal: None,
        at_ms: 31,
        mode: WriteMode::InPlace,
    }];
    let mut out = Vec::new();
    let node = Node::recover(config(4, 1, false), log.iter(), 500, &mut out);
    let participant = node.participant().unwrap();
    assert_eq!(participant.bank().balance(AccountId(3001)), Some(60));
    assert_eq!(participant.bank().lock_holder(AccountId(3001)), Some(TxnId(1)));
    assert_eq!(sends(&out), ["n1 Query t1"]);
    assert_eq!(node.view().txns[0].in_doubt_since_ms, Some(31), "in doubt since the prepare, not the restart");
    let mut out = Vec::new();
    let log = [log[0].clone(), Record::Outcome { txn: TxnId(1), decision: Decision::Abort }];
    let node = Node::recover(config(4, 1, false), log.iter(), 500, &mut out);
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(50), "undo image restored");
    assert!(node.participant().unwrap().bank().locks().is_empty());
    assert!(sends(&out).is_empty());
}

fn transfer_request(request: u32, amount: u64) -> Message {
    Message::Request {
        request: RequestId(request),
        spec: TxnSpec {
            transfers: vec![Transfer { from: AccountId(1001), to: AccountId(3001), amount }],
            journal: vec![],
            saga: false,
        },
    }
}

#[test]
fn the_coordinator_logs_before_it_sends_and_commits_only_on_all_yes() {
    // Revision 1: the co-located shard hears PREPARE like the others.
    let mut node = fresh(config_of(1, 0, true, Revision::FIRST));
    let request = transfer_request(1, 10);
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &request, &mut out);
    assert!(sends(&out).is_empty());
    let prepared = persists(&out);
    assert_eq!(prepared[0].to_string(), "Prepared(t1, n1, n4)");
    out.clear();
    node.on_persisted(7, &prepared[0], &mut out);
    assert_eq!(sends(&out), ["n1 Prepare t1", "n4 Prepare t1"]);
    out.clear();
    node.on_message(9, Endpoint::Node(NodeId(4)), &Message::Vote { txn: TxnId(1), yes: true, reason: None }, &mut out);
    assert!(persists(&out).is_empty(), "one vote of two");
    node.on_message(9, Endpoint::Node(NodeId(1)), &Message::Vote { txn: TxnId(1), yes: true, reason: None }, &mut out);
    let decided = persists(&out);
    assert_eq!(decided[0].to_string(), "Commit(t1)");
    assert!(sends(&out).is_empty(), "COMMIT goes out only once logged");
    out.clear();
    node.on_persisted(11, &decided[0], &mut out);
    assert_eq!(sends(&out), ["client Reply r1 t1 committed", "n1 Commit t1", "n4 Commit t1"]);
    out.clear();
    node.on_message(20, Endpoint::Client, &request, &mut out);
    assert_eq!(sends(&out), ["client Reply r1 t1 committed"], "a duplicate request is answered from the cache");
    assert!(persists(&out).is_empty());
}

#[test]
fn a_recovered_coordinator_presumes_abort_and_answers_unknown_queries_with_abort() {
    let log = [Record::Prepared {
        txn: TxnId(1),
        request: RequestId(1),
        participants: [NodeId(1), NodeId(4)].into(),
        work: Plan::default(),
    }];
    let mut out = Vec::new();
    let mut node = Node::recover(config(1, 0, true), log.iter(), 100, &mut out);
    assert_eq!(persists(&out).iter().map(Record::to_string).collect::<Vec<_>>(), ["Aborted(t1)"]);
    out.clear();
    node.on_message(101, Endpoint::Node(NodeId(4)), &Message::Query { txn: TxnId(9) }, &mut out);
    assert_eq!(sends(&out), ["n4 Abort t9"]);
}

#[test]
fn a_late_prepare_never_prepares_a_finished_transaction_again() {
    let mut node = fresh(config(4, 1, false));
    let mut out = Vec::new();
    let coordinator = Endpoint::Node(NodeId(1));
    node.on_message(10, coordinator, &prepare(1, 3001, 10), &mut out);
    let prepared = persists(&out).remove(0);
    node.on_persisted(12, &prepared, &mut out);
    node.on_message(20, coordinator, &Message::Decide { txn: TxnId(1), decision: Decision::Commit }, &mut out);
    let outcome = persists(&out).pop().expect("an outcome record");
    node.on_persisted(22, &outcome, &mut out);
    out.clear();
    // A duplicate of the PREPARE that the network held back arrives after the commit.
    node.on_message(300, coordinator, &prepare(1, 3001, 10), &mut out);
    assert!(out.is_empty(), "ignored: {out:?}");
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(60), "applied once");
}

#[test]
fn an_abort_that_overtakes_its_prepare_leaves_a_tombstone() {
    let mut node = fresh(config(4, 1, false));
    let mut out = Vec::new();
    let coordinator = Endpoint::Node(NodeId(1));
    node.on_message(10, coordinator, &Message::Decide { txn: TxnId(2), decision: Decision::Abort }, &mut out);
    assert_eq!(sends(&out), ["n1 Ack t2"]);
    out.clear();
    node.on_message(11, coordinator, &prepare(2, 3001, 10), &mut out);
    assert_eq!(sends(&out), ["n1 Vote t2 NO (t2 was already aborted by its coordinator)"]);
    assert!(persists(&out).is_empty() && node.participant().unwrap().bank().locks().is_empty());
}

#[test]
fn revision_2_checks_locks_and_logs_the_coordinators_own_shard_before_prepare_goes_out() {
    let mut node = fresh(config(1, 0, true));
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &transfer_request(1, 10), &mut out);
    assert!(sends(&out).is_empty(), "nothing goes out before the records are durable");
    let records = persists(&out);
    let texts: Vec<String> = records.iter().map(|record| record.to_string()).collect();
    assert_eq!(texts, ["Prepared(t1, n1, n4)", "PrepareVote(t1, 1001: 100->90)"]);
    assert_eq!(node.participant().unwrap().bank().lock_holder(AccountId(1001)), Some(TxnId(1)));
    out.clear();
    node.on_persisted(7, &records[0], &mut out);
    assert_eq!(sends(&out), ["n4 Prepare t1"], "PREPARE goes to the others only");
    out.clear();
    node.on_persisted(7, &records[1], &mut out);
    assert_eq!(sends(&out), ["n1 Vote t1 YES"]);
    node.on_message(7, Endpoint::Node(NodeId(1)), &Message::Vote { txn: TxnId(1), yes: true, reason: None }, &mut out);
    node.on_message(9, Endpoint::Node(NodeId(4)), &Message::Vote { txn: TxnId(1), yes: true, reason: None }, &mut out);
    assert_eq!(persists(&out)[0].to_string(), "Commit(t1)");
}

#[test]
fn revision_2_a_failed_local_pre_check_sends_no_prepare_at_all() {
    let mut node = fresh(config(1, 0, true));
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &transfer_request(1, 500), &mut out);
    assert!(sends(&out).is_empty(), "no PREPARE, and the client hears the refusal once it is durable");
    // The refusal is logged before the client hears it: a coordinator that crashed after answering
    // would otherwise run a retry of the same request afresh and might commit it.
    let records = persists(&out);
    let texts: Vec<String> = records.iter().map(|record| record.to_string()).collect();
    assert_eq!(texts, ["Prepared(t1, n1, n4)", "Aborted(t1)"]);
    out.clear();
    node.on_persisted(7, &records[0], &mut out);
    assert!(sends(&out).is_empty(), "no PREPARE once Prepared(t1) is durable either");
    node.on_persisted(7, &records[1], &mut out);
    assert_eq!(
        sends(&out),
        ["client Reply r1 t1 aborted (pre-check at n1: insufficient funds in 1001: 100 < 500)"],
        "nobody heard of t1, so nobody is told"
    );
    let completed = persists(&out);
    assert_eq!(completed.last().map(|record| record.to_string()).as_deref(), Some("Completed(t1)"));
    // Revision 1 asks everyone, its own shard votes NO.
    let mut node = fresh(config_of(1, 0, true, Revision::FIRST));
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &transfer_request(1, 500), &mut out);
    let prepared = persists(&out);
    out.clear();
    node.on_persisted(7, &prepared[0], &mut out);
    assert_eq!(sends(&out), ["n1 Prepare t1", "n4 Prepare t1"]);
}

#[test]
fn revision_2_a_participant_refuses_to_acknowledge_a_commit_it_never_prepared() {
    let commit = Message::Decide { txn: TxnId(7), decision: Decision::Commit };
    let mut node = fresh(config(4, 1, false));
    let mut out = Vec::new();
    node.on_message(10, Endpoint::Node(NodeId(1)), &commit, &mut out);
    assert!(sends(&out).is_empty(), "no ACK for a COMMIT of an unknown transaction");
    let refused = out.iter().any(|effect| matches!(effect, Effect::Note(Note::UnknownCommit { txn: TxnId(7) })));
    assert!(refused, "the refusal is visible: {out:?}");
    // An ABORT of an unknown transaction is still acknowledged (presumed abort), and revision 1
    // acknowledged the COMMIT too.
    let mut out = Vec::new();
    node.on_message(
        10,
        Endpoint::Node(NodeId(1)),
        &Message::Decide { txn: TxnId(8), decision: Decision::Abort },
        &mut out,
    );
    assert_eq!(sends(&out), ["n1 Ack t8"]);
    let mut old = fresh(config_of(4, 1, false, Revision::FIRST));
    let mut out = Vec::new();
    old.on_message(10, Endpoint::Node(NodeId(1)), &commit, &mut out);
    assert_eq!(sends(&out), ["n1 Ack t7"]);
}

#[test]
fn revision_2_a_request_id_reused_for_another_transfer_is_refused() {
    let mut node = fresh(config(1, 0, true));
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &transfer_request(1, 10), &mut out);
    out.clear();
    node.on_message(6, Endpoint::Client, &transfer_request(1, 20), &mut out);
    assert_eq!(sends(&out), ["client Refused r1 (r1 already names another transfer; a request id names one transfer)"]);
    assert!(persists(&out).is_empty());
    out.clear();
    node.on_message(6, Endpoint::Client, &transfer_request(1, 10), &mut out);
    assert!(sends(&out).is_empty(), "a retry of the running request is not refused");
    // After a restart the logged work still tells them apart.
    let log = [Record::Prepared {
        txn: TxnId(1),
        request: RequestId(1),
        participants: [NodeId(1), NodeId(4)].into(),
        work: node.coordinator().unwrap().txns()[&TxnId(1)].work.clone(),
    }];
    let mut out = Vec::new();
    let mut restarted = Node::recover(config(1, 0, true), log.iter(), 50, &mut out);
    out.clear();
    restarted.on_message(60, Endpoint::Client, &transfer_request(1, 20), &mut out);
    assert_eq!(sends(&out).len(), 1);
    assert!(sends(&out)[0].starts_with("client Refused r1"), "{out:?}");
}

fn step(txn: u32, step: u32, account: u64, delta: i64) -> Message {
    let work = Work { deltas: vec![(AccountId(account), delta)], journal: None };
    Message::Step { txn: TxnId(txn), step, work }
}

#[test]
fn a_saga_step_commits_locally_and_a_repeated_one_gets_the_recorded_answer() {
    let mut node = fresh(config(4, 1, false));
    let from = Endpoint::Node(NodeId(1));
    let mut out = Vec::new();
    node.on_message(10, from, &step(1, 2, 3001, 30), &mut out);
    assert!(sends(&out).is_empty(), "no answer before the step's record is durable");
    let records = persists(&out);
    assert_eq!(records[0].to_string(), "Step(t1/2, 3001: 50->80)");
    assert_eq!(node.participant().unwrap().bank().lock_holder(AccountId(3001)), Some(TxnId(1)), "a short lock");
    out.clear();
    node.on_persisted(12, &records[0], &mut out);
    assert_eq!(sends(&out), ["n1 Step t1/2 OK"]);
    assert!(node.participant().unwrap().bank().locks().is_empty(), "committed: nothing is held");
    assert!(node.view().txns.is_empty(), "nobody is in doubt");
    // The same step again (a resend, or a restarted orchestrator): the same answer, applied once.
    out.clear();
    node.on_message(20, from, &step(1, 2, 3001, 30), &mut out);
    assert_eq!(sends(&out), ["n1 Step t1/2 OK"]);
    assert!(persists(&out).is_empty());
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(80));
    // A refused step is recorded too, so its answer never changes.
    out.clear();
    node.on_message(30, from, &step(2, 1, 3001, -500), &mut out);
    let refused = persists(&out);
    assert_eq!(refused[0].to_string(), "StepRefused(t2/1)");
    out.clear();
    node.on_persisted(32, &refused[0], &mut out);
    assert_eq!(sends(&out), ["n1 Step t2/1 FAILED (insufficient funds in 3001: 80 < 500)"]);
    // After a restart the records rebuild the balance and the answers.
    let log = [records[0].clone(), refused[0].clone()];
    let mut node = Node::recover(config(4, 1, false), log.iter(), 40, &mut Vec::new());
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(80));
    let mut out = Vec::new();
    node.on_message(41, from, &step(2, 1, 3001, -5), &mut out);
    assert_eq!(sends(&out), ["n1 Step t2/1 FAILED (insufficient funds in 3001: 80 < 500)"]);
}

#[test]
fn a_compensation_takes_a_step_back_by_its_delta_and_waits_rather_than_overdraw() {
    let mut node = fresh(config(4, 1, false));
    let from = Endpoint::Node(NodeId(1));
    let mut out = Vec::new();
    node.on_message(10, from, &step(1, 1, 3001, 30), &mut out);
    let applied = persists(&out);
    node.on_persisted(12, &applied[0], &mut out);
    // Another transaction spends 60 of the 80 (the saga's credit is not final, but visible).
    out.clear();
    node.on_message(13, from, &prepare(2, 3001, -60), &mut out);
    let prepared = persists(&out);
    node.on_persisted(15, &prepared[0], &mut out);
    node.on_message(16, from, &Message::Decide { txn: TxnId(2), decision: Decision::Commit }, &mut out);
    let outcome = persists(&out).pop().expect("the outcome record");
    node.on_persisted(18, &outcome, &mut out);
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(20));
    out.clear();
    let compensate = Message::Compensate { txn: TxnId(1), step: 1 };
    node.on_message(20, from, &compensate, &mut out);
    assert!(sends(&out).is_empty() && persists(&out).is_empty(), "it cannot take 30 back from 20: {out:?}");
    assert!(out.iter().any(|effect| matches!(effect, Effect::Note(Note::CompensationWaits { .. }))));
    // Money comes in; the orchestrator asks again and the compensation goes through by its delta.
    out.clear();
    node.on_message(30, from, &step(3, 1, 3001, 15), &mut out);
    let refill = persists(&out);
    node.on_persisted(32, &refill[0], &mut out);
    out.clear();
    node.on_message(40, from, &compensate, &mut out);
    let compensation = persists(&out);
    assert_eq!(compensation[0].to_string(), "Compensation(t1/1, 3001: 35->5)");
    out.clear();
    node.on_persisted(42, &compensation[0], &mut out);
    assert_eq!(sends(&out), ["n1 Compensated t1/1"]);
    // A compensation of a step that never ran here changes nothing and is acknowledged.
    out.clear();
    node.on_message(50, from, &Message::Compensate { txn: TxnId(9), step: 1 }, &mut out);
    assert_eq!(sends(&out), ["n1 Compensated t9/1"]);
}

#[test]
fn a_restarted_orchestrator_resumes_its_saga_from_the_saga_log() {
    let steps = vec![
        SagaStep { node: NodeId(1), work: Work { deltas: vec![(AccountId(1001), -10)], journal: None } },
        SagaStep { node: NodeId(4), work: Work { deltas: vec![(AccountId(3001), 10)], journal: None } },
    ];
    let log = [
        Record::SagaBegun { txn: TxnId(1), request: RequestId(1), steps },
        Record::SagaStepDone { txn: TxnId(1), step: 1, ok: true, reason: None },
    ];
    let mut out = Vec::new();
    let node = Node::recover(config(1, 0, true), log.iter(), 500, &mut out);
    assert_eq!(sends(&out), ["n4 Step t1/2"], "step 1 is logged done: step 2 runs next");
    let row = node.view().txns.into_iter().find(|row| row.role == Role::Coordinator).expect("the saga's row");
    let marks: Vec<String> = row.steps.iter().map(ToString::to_string).collect();
    assert_eq!(marks, ["1 at n1 done", "2 at n4 running"]);
    // Failed at step 2 and nothing compensated yet: step 1 is compensated next.
    let mut failed = log.to_vec();
    failed.push(Record::SagaStepDone { txn: TxnId(1), step: 2, ok: false, reason: Some("no".to_string()) });
    let mut out = Vec::new();
    Node::recover(config(1, 0, true), failed.iter(), 500, &mut out);
    assert_eq!(sends(&out), ["n1 Compensate t1/1"]);
    // Ended: nothing to resume, and the request is answered from the log.
    failed.push(Record::SagaCompensated { txn: TxnId(1), step: 1 });
    failed.push(Record::SagaEnded { txn: TxnId(1), decision: Decision::Abort, reason: None });
    let mut out = Vec::new();
    let node = Node::recover(config(1, 0, true), failed.iter(), 500, &mut out);
    assert!(sends(&out).is_empty());
    assert_eq!(node.view().cached_replies, [(RequestId(1), Some(TxnId(1)), Decision::Abort)]);
}

// Deferred writes (seed 004: "resources are locked but not changed"): PREPARE locks and logs a redo
// record, COMMIT applies it, ABORT only unlocks.

fn with_writes(config: Arc<NodeConfig>, writes: WriteMode) -> Arc<NodeConfig> {
    Arc::new(NodeConfig { writes, ..(*config).clone() })
}

fn balance_notes(effects: &[Effect]) -> Vec<String> {
    effects
        .iter()
        .filter_map(|effect| match effect {
            Effect::Note(note @ Note::Balance { .. }) => Some(note.to_string()),
            _ => None,
        })
        .collect()
}

/// A participant n4 (3001: 50) that prepared t1 (+10) and whose prepare record is durable.
fn prepared_participant(writes: WriteMode) -> (Node, Record) {
    let mut node = fresh(with_writes(config(4, 1, false), writes));
    let mut out = Vec::new();
    node.on_message(10, Endpoint::Node(NodeId(1)), &prepare(1, 3001, 10), &mut out);
    let record = persists(&out).remove(0);
    node.on_persisted(12, &record, &mut out);
    assert_eq!(sends(&out), ["n1 Vote t1 YES"], "{writes:?}: YES once the record is durable, in either mode");
    (node, record)
}

/// Delivers the decision and makes its outcome record durable; the effects of both steps.
fn decide(node: &mut Node, decision: Decision) -> Vec<Effect> {
    let mut out = Vec::new();
    node.on_message(20, Endpoint::Node(NodeId(1)), &Message::Decide { txn: TxnId(1), decision }, &mut out);
    let outcome = persists(&out).pop().expect("an outcome record");
    node.on_persisted(22, &outcome, &mut out);
    out
}

#[test]
fn deferred_prepare_locks_and_logs_a_redo_record_without_changing_the_balance() {
    let (node, record) = prepared_participant(WriteMode::Deferred);
    assert_eq!(record.to_string(), "PrepareVote(t1, redo 3001: 50->60)");
    let bank = node.participant().unwrap().bank();
    assert_eq!(bank.balance(AccountId(3001)), Some(50), "locked but not changed");
    assert_eq!(bank.lock_holder(AccountId(3001)), Some(TxnId(1)));
    let row = &node.view().txns[0];
    assert_eq!((row.undo.as_slice(), row.redo.as_slice()), (&[][..], &[(AccountId(3001), 60)][..]));
    // In place the same PREPARE changes the balance and keeps the undo image.
    let (node, record) = prepared_participant(WriteMode::InPlace);
    assert_eq!(record.to_string(), "PrepareVote(t1, 3001: 50->60)");
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(60));
    let row = &node.view().txns[0];
    assert_eq!((row.undo.as_slice(), row.redo.as_slice()), (&[(AccountId(3001), 50)][..], &[][..]));
}

#[test]
fn deferred_commit_applies_the_redo_images_and_abort_only_unlocks() {
    let (mut node, _) = prepared_participant(WriteMode::Deferred);
    let out = decide(&mut node, Decision::Commit);
    assert_eq!(balance_notes(&out), ["balance[3001] 50 -> 60"], "the change happens at COMMIT");
    assert_eq!(sends(&out), ["n1 Ack t1"]);
    assert!(node.participant().unwrap().bank().locks().is_empty());
    let (mut node, _) = prepared_participant(WriteMode::Deferred);
    let out = decide(&mut node, Decision::Abort);
    assert!(balance_notes(&out).is_empty(), "nothing to undo: {out:?}");
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(50));
    assert!(node.participant().unwrap().bank().locks().is_empty());
    assert_eq!(sends(&out), ["n1 Ack t1"]);
    // In place it is the other way round: COMMIT changes nothing more, ABORT restores.
    let (mut node, _) = prepared_participant(WriteMode::InPlace);
    assert!(balance_notes(&decide(&mut node, Decision::Commit)).is_empty());
    let (mut node, _) = prepared_participant(WriteMode::InPlace);
    assert_eq!(balance_notes(&decide(&mut node, Decision::Abort)), ["balance[3001] 60 -> 50"]);
}

#[test]
fn a_restarted_deferred_participant_rebuilds_from_its_redo_record() {
    let (_, prepare_record) = prepared_participant(WriteMode::Deferred);
    let deferred = with_writes(config(4, 1, false), WriteMode::Deferred);
    let mut out = Vec::new();
    let node = Node::recover(deferred.clone(), [prepare_record.clone()].iter(), 500, &mut out);
    let bank = node.participant().unwrap().bank();
    assert_eq!((bank.balance(AccountId(3001)), bank.lock_holder(AccountId(3001))), (Some(50), Some(TxnId(1))));
    assert_eq!(sends(&out), ["n1 Query t1"], "in doubt again, and asks");
    assert_eq!(node.view().txns[0].redo, [(AccountId(3001), 60)]);
    for (decision, balance) in [(Decision::Commit, 60), (Decision::Abort, 50)] {
        let log = [prepare_record.clone(), Record::Outcome { txn: TxnId(1), decision }];
        let mut out = Vec::new();
        let node = Node::recover(deferred.clone(), log.iter(), 500, &mut out);
        let bank = node.participant().unwrap().bank();
        assert_eq!(bank.balance(AccountId(3001)), Some(balance), "{decision}");
        assert!(bank.locks().is_empty() && sends(&out).is_empty(), "{decision}");
    }
    // The record says how it was written: a node replays an undo record as one whatever its own
    // setting, so a log never means two things.
    let (_, undo_record) = prepared_participant(WriteMode::InPlace);
    let node = Node::recover(deferred, [undo_record].iter(), 500, &mut Vec::new());
    assert_eq!(node.participant().unwrap().bank().balance(AccountId(3001)), Some(60));
}

#[test]
fn a_deferred_check_counts_the_pending_writes_of_other_transactions() {
    // With locks a second transaction on 3001 is refused for the lock, in both modes.
    let (mut node, _) = prepared_participant(WriteMode::Deferred);
    let mut out = Vec::new();
    node.on_message(30, Endpoint::Node(NodeId(1)), &prepare(2, 3001, -55), &mut out);
    assert_eq!(sends(&out), ["n1 Vote t2 NO (3001 locked by t1)"]);
    // Without them (the ignore_locks bug) the check still builds on the pending 60, not the
    // stored 50, as an in-place participant builds on its changed balance.
    let bugs = Bugs { ignore_locks: true, ..Bugs::default() };
    let config = with_writes(Arc::new(NodeConfig { bugs, ..(*config(4, 1, false)).clone() }), WriteMode::Deferred);
    let mut node = fresh(config);
    let mut out = Vec::new();
    node.on_message(10, Endpoint::Node(NodeId(1)), &prepare(1, 3001, 10), &mut out);
    node.on_message(11, Endpoint::Node(NodeId(1)), &prepare(2, 3001, -65), &mut out);
    assert_eq!(sends(&out), ["n1 Vote t2 NO (insufficient funds in 3001: 60 < 65)"]);
    out.clear();
    node.on_message(12, Endpoint::Node(NodeId(1)), &prepare(3, 3001, -55), &mut out);
    assert_eq!(persists(&out)[0].to_string(), "PrepareVote(t3, redo 3001: 60->5)");
}

#[test]
fn a_deferred_colocated_coordinator_locks_its_own_shard_without_changing_it() {
    let mut node = fresh(with_writes(config(1, 0, true), WriteMode::Deferred));
    let mut out = Vec::new();
    node.on_message(5, Endpoint::Client, &transfer_request(1, 10), &mut out);
    let texts: Vec<String> = persists(&out).iter().map(|record| record.to_string()).collect();
    assert_eq!(texts, ["Prepared(t1, n1, n4)", "PrepareVote(t1, redo 1001: 100->90)"]);
    let bank = node.participant().unwrap().bank();
    assert_eq!((bank.balance(AccountId(1001)), bank.lock_holder(AccountId(1001))), (Some(100), Some(TxnId(1))));
}
