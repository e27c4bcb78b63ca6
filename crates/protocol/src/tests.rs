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
        participants: vec![NodeId(1), NodeId(4)],
        work: VecMap::new(),
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
        participants: vec![NodeId(1), NodeId(4)],
        work: node.coordinator().unwrap().txns()[&TxnId(1)].work.clone(),
    }];
    let mut out = Vec::new();
    let mut restarted = Node::recover(config(1, 0, true), log.iter(), 50, &mut out);
    out.clear();
    restarted.on_message(60, Endpoint::Client, &transfer_request(1, 20), &mut out);
    assert_eq!(sends(&out).len(), 1);
    assert!(sends(&out)[0].starts_with("client Refused r1"), "{out:?}");
}
