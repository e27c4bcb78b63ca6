//! Two-phase commit over two groups on a FIFO network the test drives: seed 002's picture,
//! C1 = n1..n3 coordinates and holds 1001, C2 = n4..n6 holds 3001. Most tests run under both
//! engines, Raft and Multi-Paxos: the 2PC traffic must not depend on which one replicates.

use super::*;
use crate::paxos::PaxosBugs;
use crate::raft::RaftBugs;
use crate::route::Group;
use crate::vec_map::VecMap;
use crate::{AccountId, Bugs, Client, Directory, Recovery, RequestId, ShardEntry, ShardId, Timeouts};
use crate::{Transfer, TxnNumbering, TxnSpec};
use std::collections::VecDeque;

struct Cluster {
    now_ms: Millis,
    replicas: VecMap<NodeId, Replica>,
    client: Client,
    queue: VecDeque<(Endpoint, Endpoint, Message)>,
    down: VecSet<NodeId>,
    sent: Vec<String>,
    /// The consensus messages, apart.
    consensus: Vec<String>,
}

fn groups() -> Arc<Groups> {
    Arc::new(Groups {
        groups: vec![
            Group { label: "C1".to_string(), members: vec![NodeId(1), NodeId(2), NodeId(3)] },
            Group { label: "C2".to_string(), members: vec![NodeId(4), NodeId(5), NodeId(6)] },
        ],
    })
}

#[derive(Copy, Clone, Debug, PartialEq)]
enum Kind {
    Raft,
    Paxos,
}

const KINDS: [Kind; 2] = [Kind::Raft, Kind::Paxos];

fn replica_config(id: u16, kind: Kind, bugs: Bugs, writes: crate::WriteMode) -> Arc<ReplicaConfig> {
    let shard = if id <= 3 { 0 } else { 1 };
    let entry = |shard: u16, node: u16, account: u64| ShardEntry {
        shard: ShardId(shard),
        node: NodeId(node),
        first_account: AccountId(account),
        last_account: AccountId(account),
    };
    let balances = if shard == 0 { [(AccountId(1001), 100)] } else { [(AccountId(3001), 50)] };
    let node = Arc::new(NodeConfig {
        id: NodeId(id),
        shard: Some(ShardId(shard)),
        coordinator: (shard == 0).then_some(TxnNumbering { first: 1, stride: 1 }),
        directory: Directory { shards: vec![entry(0, 1, 1001), entry(1, 4, 3001)] },
        initial_balances: VecMap::from(balances),
        timeouts: Timeouts::default(),
        bugs,
        recovery: Recovery::Resume,
        revision: crate::Revision::CURRENT,
        writes,
    });
    let first = if shard == 0 { 1 } else { 4 };
    let members: Vec<NodeId> = (first..first + 3).map(NodeId).collect();
    let engine = match kind {
        Kind::Raft => EngineConfig::Raft(Arc::new(RaftConfig {
            id: NodeId(id),
            members,
            heartbeat_ms: 50,
            election_timeout_ms_min: 150,
            max_entries_per_message: 16,
            bugs: RaftBugs::default(),
        })),
        Kind::Paxos => EngineConfig::Paxos {
            config: Arc::new(PaxosConfig {
                id: NodeId(id),
                members,
                heartbeat_ms: 50,
                election_timeout_ms_min: 150,
                max_slots_per_message: 16,
                bugs: PaxosBugs { commit_before_quorum: false, update_in_place: bugs.update_in_place },
            }),
            first_seq: if shard == 0 { 100 } else { 200 },
        },
    };
    let route = RouteConfig { patience_ms: 150, static_leader: false };
    Arc::new(ReplicaConfig { node, engine, groups: groups(), route })
}

impl Cluster {
    fn new(kind: Kind) -> Cluster {
        Cluster::with_bugs(kind, Bugs::default())
    }

    fn with_bugs(kind: Kind, bugs: Bugs) -> Cluster {
        Cluster::with(kind, bugs, crate::WriteMode::InPlace)
    }

    fn with(kind: Kind, bugs: Bugs, writes: crate::WriteMode) -> Cluster {
        let replicas = (1..=6)
            .map(|id| {
                let config = replica_config(id, kind, bugs, writes);
                let durable = ReplicaDurable::empty(&config.engine);
                (NodeId(id), Replica::restart(config, durable, 0, &mut Vec::new()))
            })
            .collect();
        let router = Router::new(groups(), RouteConfig { patience_ms: 150, static_leader: false });
        let client = Client::routed(400, router);
        Cluster {
            now_ms: 0,
            replicas,
            client,
            queue: VecDeque::new(),
            down: VecSet::new(),
            sent: Vec::new(),
            consensus: Vec::new(),
        }
    }

    fn replica(&self, id: u16) -> &Replica {
        &self.replicas[&NodeId(id)]
    }

    fn enqueue(&mut self, from: Endpoint, out: Vec<Effect>) {
        for effect in out {
            if let Effect::Send { to, message } = effect {
                if message.is_two_phase() || matches!(message, Message::NotLeader { .. }) {
                    self.sent.push(format!("{from} -> {to}: {message}"));
                } else {
                    self.consensus.push(format!("{from} -> {to}: {message}"));
                }
                self.queue.push_back((from, to, message));
            }
        }
    }

    fn timer(&mut self, id: u16, timer: Timer) {
        let mut out = Vec::new();
        let now_ms = self.now_ms;
        self.replicas.get_mut(&NodeId(id)).unwrap().on_timer(now_ms, timer, &mut out);
        self.enqueue(Endpoint::Node(NodeId(id)), out);
    }

    fn deliver_all(&mut self) {
        while !self.queue.is_empty() {
            self.deliver_next();
        }
    }

    /// Delivers the oldest message on the wire, and only it.
    fn deliver_next(&mut self) {
        let (from, to, message) = self.queue.pop_front().expect("a message on the wire");
        let mut out = Vec::new();
        match to {
            Endpoint::Client => {
                let Endpoint::Node(from) = from else { unreachable!("the client talks to nodes") };
                self.client.on_message(from, &message, &mut out);
            }
            Endpoint::Node(node) if self.down.contains(&node) => return,
            Endpoint::Node(node) => {
                let now_ms = self.now_ms;
                self.replicas.get_mut(&node).unwrap().on_message(now_ms, from, &message, &mut out);
            }
        }
        self.enqueue(to, out);
    }

    /// n1 and n4 campaign first, as the world arranges at time zero, and win.
    fn with_leaders(kind: Kind) -> Cluster {
        Cluster::elect(Cluster::new(kind))
    }

    fn elect(mut cluster: Cluster) -> Cluster {
        cluster.timer(1, Timer::Election);
        cluster.timer(4, Timer::Election);
        cluster.deliver_all();
        assert!(cluster.replica(1).acting() && cluster.replica(4).acting());
        cluster.sent.clear();
        cluster
    }

    /// The rows of a Paxos replica's chosen log that carry a record.
    fn chosen(&self, id: u16) -> Vec<String> {
        let paxos = self.replica(id).engine().as_paxos().expect("a Paxos replica");
        paxos.durable().chosen.values().filter_map(|value| value.command()).map(|stamped| stamped.to_string()).collect()
    }

    fn submit(&mut self, to: u16) {
        self.submit_amount(to, 10);
    }

    fn submit_amount(&mut self, to: u16, amount: u64) {
        let spec = TxnSpec {
            transfers: vec![Transfer { from: AccountId(1001), to: AccountId(3001), amount }],
            journal: vec![],
            saga: false,
        };
        let mut out = Vec::new();
        self.client.submit(self.now_ms, RequestId(1), spec, NodeId(to), &mut out);
        self.enqueue(Endpoint::Client, out);
    }

    fn heartbeats(&mut self) {
        for id in [1, 4] {
            self.timer(id, Timer::Heartbeat);
        }
        self.deliver_all();
    }
}

#[test]
fn a_transfer_commits_across_two_groups_and_every_replica_applies_it() {
    for kind in KINDS {
        transfer_commits(kind);
    }
}

fn transfer_commits(kind: Kind) {
    let mut cluster = Cluster::with_leaders(kind);
    cluster.submit(1);
    cluster.deliver_all();
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Commit));
    assert_eq!(
        cluster.sent,
        [
            "client -> n1: Request r1 1001->3001:10",
            "n1 -> n4: Prepare t1",
            "n1 -> n1: Vote t1 YES",
            "n4 -> n1: Vote t1 YES",
            "n1 -> client: Reply r1 t1 committed",
            "n1 -> n1: Commit t1",
            "n1 -> n4: Commit t1",
            "n1 -> n1: Ack t1",
            "n4 -> n1: Ack t1",
        ],
        "the single-node run's 2PC messages, but for the local PREPARE: seed 002's coordinator checks and \
         prepares its own shard before anything goes out; the replication happens inside each group"
    );
    cluster.heartbeats();
    for (id, account, balance) in [(2, 1001, 90), (3, 1001, 90), (5, 3001, 60), (6, 3001, 60)] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view.balances, [(AccountId(account), balance)], "{kind:?} n{id}");
        assert!(view.locks.is_empty(), "{kind:?} n{id} released its lock with the outcome");
    }
}

#[test]
fn followers_hold_the_state_after_prepare_too() {
    for kind in KINDS {
        state_after_prepare(kind);
    }
}

fn state_after_prepare(kind: Kind) {
    let mut cluster = prepared_at_c2(Cluster::with_leaders(kind));
    for id in [4, 5, 6] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view.balances, [(AccountId(3001), 60)], "{kind:?} n{id}: applied at prepare");
        assert_eq!(view.locks, [(AccountId(3001), crate::TxnId(1))], "{kind:?} n{id}: locked");
        assert_eq!(view.txns[0].phase, crate::Phase::InDoubt, "{kind:?} n{id}");
    }
    cluster.heartbeats();
}

/// C2's leader n4 gets t1's PREPARE (+10 on 3001) straight from n1, prepares and replicates it.
fn prepared_at_c2(mut cluster: Cluster) -> Cluster {
    cluster.down.insert(NodeId(1));
    cluster.down.insert(NodeId(2));
    cluster.down.insert(NodeId(3));
    // n1 is down for delivery: the request goes straight to C2's leader as a PREPARE would.
    let work = crate::Work { deltas: vec![(AccountId(3001), 10)], journal: None };
    let mut out = Vec::new();
    let now_ms = cluster.now_ms;
    cluster.replicas.get_mut(&NodeId(4)).unwrap().on_message(
        now_ms,
        Endpoint::Node(NodeId(1)),
        &Message::Prepare { txn: crate::TxnId(1), work },
        &mut out,
    );
    cluster.enqueue(Endpoint::Node(NodeId(4)), out);
    cluster.deliver_all();
    cluster.heartbeats();
    cluster
}

#[test]
fn deferred_writes_every_replica_holds_the_redo_record_and_applies_it_at_commit() {
    for kind in KINDS {
        deferred_writes(kind);
    }
}

fn deferred_writes(kind: Kind) {
    let cluster = Cluster::elect(Cluster::with(kind, Bugs::default(), crate::WriteMode::Deferred));
    let mut cluster = prepared_at_c2(cluster);
    let leader = cluster.replica(4).node().view();
    assert_eq!(leader.balances, [(AccountId(3001), 50)], "{kind:?}: locked but not changed");
    assert_eq!(leader.locks, [(AccountId(3001), crate::TxnId(1))], "{kind:?}");
    assert_eq!(leader.txns[0].redo, [(AccountId(3001), 60)], "{kind:?}");
    for id in [5, 6] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view, leader, "{kind:?} n{id}: a follower's copy, applied from the log, matches the leader's");
    }
    // A leader rebuilt from the log (after a crash or an election) finds the same state.
    let rebuilt = Node::recover(
        cluster.replica(5).config().node.clone(),
        cluster.replica(5).engine().applied_records(),
        cluster.now_ms,
        &mut Vec::new(),
    );
    assert_eq!(rebuilt.view().balances, leader.balances, "{kind:?}");
    assert_eq!(rebuilt.view().txns[0].redo, leader.txns[0].redo, "{kind:?}");
    let mut out = Vec::new();
    let now_ms = cluster.now_ms;
    let commit = Message::Decide { txn: crate::TxnId(1), decision: crate::Decision::Commit };
    cluster.replicas.get_mut(&NodeId(4)).unwrap().on_message(now_ms, Endpoint::Node(NodeId(1)), &commit, &mut out);
    cluster.enqueue(Endpoint::Node(NodeId(4)), out);
    cluster.deliver_all();
    cluster.heartbeats();
    for id in [4, 5, 6] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view.balances, [(AccountId(3001), 60)], "{kind:?} n{id}: the redo record applied at COMMIT");
        assert!(view.locks.is_empty() && view.txns.is_empty(), "{kind:?} n{id}");
    }
}

#[test]
fn a_request_to_a_follower_is_bounced_to_the_leader_it_names() {
    for kind in KINDS {
        bounced(kind);
    }
}

fn bounced(kind: Kind) {
    let mut cluster = Cluster::with_leaders(kind);
    cluster.heartbeats();
    cluster.sent.clear();
    cluster.submit(2);
    cluster.deliver_all();
    assert_eq!(
        cluster.sent[..2],
        ["client -> n2: Request r1 1001->3001:10", "n2 -> client: NotLeader (leader n1) for Request r1 1001->3001:10"]
    );
    assert_eq!(cluster.sent[2], "client -> n1: Request r1 1001->3001:10");
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Commit));
}

#[test]
fn a_message_that_arrives_before_the_leader_takes_over_is_held_then_handled() {
    for kind in KINDS {
        held(kind);
    }
}

fn held(kind: Kind) {
    let mut cluster = Cluster::new(kind);
    cluster.submit(1);
    cluster.deliver_all();
    assert_eq!(cluster.replica(1).held().len(), 1, "no leader yet: the request waits at n1");
    cluster.submit(1);
    cluster.deliver_all();
    assert_eq!(cluster.replica(1).held().len(), 1, "the client's resend is not kept twice");
    cluster.timer(1, Timer::Election);
    cluster.timer(4, Timer::Election);
    cluster.deliver_all();
    assert!(cluster.replica(1).held().is_empty());
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Commit));
}

#[test]
fn a_failed_pre_check_at_the_coordinators_shard_sends_no_prepare() {
    let mut cluster = Cluster::with_leaders(Kind::Raft);
    cluster.submit_amount(1, 500);
    cluster.deliver_all();
    assert_eq!(
        cluster.sent,
        [
            "client -> n1: Request r1 1001->3001:500",
            "n1 -> client: Reply r1 t1 aborted (pre-check at n1: insufficient funds in 1001: 100 < 500)",
            "n1 -> n1: Abort t1",
            "n1 -> n4: Abort t1",
            "n1 -> n1: Ack t1",
            "n4 -> n1: Ack t1",
        ],
        "seed 002's phase 0: C1 checks its own balance first and sends no PREPARE; the logged ABORT then \
         reaches every participant, as in seed 002's abort picture"
    );
    let log: Vec<String> =
        cluster.replica(1).raft().unwrap().durable().log.iter().map(|entry| entry.to_string()).collect();
    assert_eq!(
        log[1..3],
        ["Prepared(t1, n1, n4)@1", "Aborted(t1)@1"],
        "the refusal is logged before the client hears it, so a new leader gives a retry the same answer"
    );
}

#[test]
fn under_multi_paxos_a_transaction_keeps_its_sequence_number_from_prepare_to_commit() {
    let mut cluster = Cluster::with_leaders(Kind::Paxos);
    cluster.submit(1);
    cluster.deliver_all();
    cluster.heartbeats();
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Commit));
    let c1 = [
        "seq 100 P Prepared(t1, n1, n4)",
        "seq 100 P PrepareVote(t1, 1001: 100->90)",
        "seq 100 C Commit(t1)",
        "seq 100 C Committed(t1)",
        "seq 100 Completed(t1)",
    ];
    let c2 = ["seq 200 P PrepareVote(t1, 3001: 50->60)", "seq 200 C Committed(t1)"];
    for id in 1..=3 {
        assert_eq!(cluster.chosen(id), c1, "n{id}: seed 002's seq 100 in C1, reused by the decision");
    }
    for id in 4..=6 {
        assert_eq!(cluster.chosen(id), c2, "n{id}: seq 200 in C2");
    }
}

#[test]
fn updating_the_entry_in_place_changes_the_leaders_row_without_a_majority() {
    let bugs = Bugs { update_in_place: true, ..Bugs::default() };
    let mut cluster = Cluster::elect(Cluster::with_bugs(Kind::Paxos, bugs));
    cluster.submit(1);
    cluster.deliver_all();
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Commit));
    let accepts = |cluster: &Cluster, phase: &str| {
        cluster.consensus.iter().filter(|line| line.contains("ACCEPT") && line.contains(phase)).count()
    };
    assert_eq!(accepts(&cluster, " P "), 6, "the prepare records go through ACCEPT: {:?}", cluster.consensus);
    assert_eq!(accepts(&cluster, " C "), 0, "no ACCEPT round for the decision: {:?}", cluster.consensus);
    let rewrites = cluster.consensus.iter().filter(|line| *line == "n1 -> n2: COMMIT #1 seq 100 C Commit(t1)").count();
    assert_eq!(rewrites, 1, "the followers are told to overwrite slot 1: {:?}", cluster.consensus);
    let rows = cluster.chosen(1);
    assert_eq!(rows[0], "seq 100 C Commit(t1)", "the prepare's slot now holds the decision: {rows:?}");
}

impl Cluster {
    /// The network swaps two messages to `to` on the wire: the first matching `first` and the
    /// first matching `second` (when both are there).
    fn swap(&mut self, to: u16, first: &str, second: &str) {
        let find = |queue: &VecDeque<(Endpoint, Endpoint, Message)>, text: &str| {
            queue.iter().position(|(_, at, message)| *at == Endpoint::Node(NodeId(to)) && message.to_string() == text)
        };
        if let (Some(a), Some(b)) = (find(&self.queue, first), find(&self.queue, second)) {
            self.queue.swap(a, b);
        }
    }
}

#[test]
fn a_presumed_abort_is_logged_before_it_is_told_and_a_retry_does_not_run_the_transaction_again() {
    for kind in KINDS {
        presumed_abort_binds_the_retry(kind);
    }
}

/// The property test's atomicity failure, step by step. An old C1 leader sent PREPARE while
/// `Prepared(t1)` replicated and lost it with its leadership: C2 prepared t1 and voted YES, and
/// C1's log has never heard of t1. C2 asks; right behind its query comes the client's retry of r1,
/// which runs as t1 again. Were the presumed abort told at once and the retry run, C2's YES to
/// the first run (resent, or answering the new PREPARE while still in doubt) would commit the
/// second while the ABORT rolls C2 back.
fn presumed_abort_binds_the_retry(kind: Kind) {
    let mut cluster = Cluster::with_leaders(kind);
    let work = crate::Work { deltas: vec![(AccountId(3001), 10)], journal: None };
    let prepare = Message::Prepare { txn: crate::TxnId(1), work };
    let mut out = Vec::new();
    let now_ms = cluster.now_ms;
    cluster.replicas.get_mut(&NodeId(4)).unwrap().on_message(now_ms, Endpoint::Node(NodeId(1)), &prepare, &mut out);
    cluster.enqueue(Endpoint::Node(NodeId(4)), out);
    cluster.deliver_all();
    assert_eq!(cluster.sent, ["n4 -> n1: Vote t1 YES"], "{kind:?}: C1 ignores a vote for what it never logged");
    cluster.sent.clear();

    cluster.timer(4, Timer::QueryDecision(crate::TxnId(1)));
    cluster.submit(1);
    cluster.deliver_next();
    assert_eq!(cluster.sent, ["n4 -> n1: Query t1", "client -> n1: Request r1 1001->3001:10"], "{kind:?}");
    assert!(
        !cluster.sent.iter().any(|line| line.starts_with("n1 -> n4")),
        "{kind:?}: the presumed abort is a decision: nobody hears it before C1 has logged it"
    );
    cluster.deliver_next();
    // The network would hand C2 the new PREPARE before the ABORT, if both were on the wire.
    cluster.swap(4, "Abort t1", "Prepare t1");
    cluster.deliver_all();
    cluster.heartbeats();

    assert!(
        !cluster.sent.iter().any(|line| line.contains("Prepare t1")),
        "{kind:?}: the retry does not run t1 again: {:?}",
        cluster.sent
    );
    assert_eq!(cluster.client.outcomes().get(&RequestId(1)), Some(&crate::Decision::Abort), "{kind:?}");
    for (id, account, balance) in [(1, 1001, 100), (2, 1001, 100), (4, 3001, 50), (5, 3001, 50)] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view.balances, [(AccountId(account), balance)], "{kind:?} n{id}: t1 is rolled back everywhere");
        assert!(view.locks.is_empty(), "{kind:?} n{id}");
    }
    let records: Vec<String> = cluster.replica(2).engine.applied_records().iter().map(|r| r.to_string()).collect();
    assert_eq!(records, ["Aborted(t1)"], "{kind:?}: C1 logged the presumed abort, and no Prepared(t1)");
}
