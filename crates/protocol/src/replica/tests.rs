//! Two-phase commit over two Raft groups on a FIFO network the test drives: seed 002's picture,
//! C1 = n1..n3 coordinates and holds 1001, C2 = n4..n6 holds 3001.

use super::*;
use crate::raft::RaftBugs;
use crate::route::Group;
use crate::{AccountId, Bugs, Client, Directory, Recovery, RequestId, ShardEntry, ShardId, Timeouts};
use crate::{Transfer, TxnNumbering, TxnSpec};
use std::collections::{BTreeMap, VecDeque};

struct Cluster {
    now_ms: Millis,
    replicas: BTreeMap<NodeId, Replica>,
    client: Client,
    queue: VecDeque<(Endpoint, Endpoint, Message)>,
    down: BTreeSet<NodeId>,
    sent: Vec<String>,
}

fn groups() -> Arc<Groups> {
    Arc::new(Groups {
        groups: vec![
            Group { label: "C1".to_string(), members: vec![NodeId(1), NodeId(2), NodeId(3)] },
            Group { label: "C2".to_string(), members: vec![NodeId(4), NodeId(5), NodeId(6)] },
        ],
    })
}

fn replica_config(id: u16) -> Arc<ReplicaConfig> {
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
        initial_balances: BTreeMap::from(balances),
        timeouts: Timeouts::default(),
        bugs: Bugs::default(),
        recovery: Recovery::Resume,
    });
    let first = if shard == 0 { 1 } else { 4 };
    let raft = Arc::new(RaftConfig {
        id: NodeId(id),
        members: (first..first + 3).map(NodeId).collect(),
        heartbeat_ms: 50,
        election_timeout_ms_min: 150,
        max_entries_per_message: 16,
        bugs: RaftBugs::default(),
    });
    let route = RouteConfig { patience_ms: 150, static_leader: false };
    Arc::new(ReplicaConfig { node, raft, groups: groups(), route })
}

impl Cluster {
    fn new() -> Cluster {
        let replicas = (1..=6)
            .map(|id| (NodeId(id), Replica::restart(replica_config(id), Durable::default(), 0, &mut Vec::new())))
            .collect();
        let router = Router::new(groups(), RouteConfig { patience_ms: 150, static_leader: false });
        let client = Client::routed(400, router);
        Cluster { now_ms: 0, replicas, client, queue: VecDeque::new(), down: BTreeSet::new(), sent: Vec::new() }
    }

    fn replica(&self, id: u16) -> &Replica {
        &self.replicas[&NodeId(id)]
    }

    fn enqueue(&mut self, from: Endpoint, out: Vec<Effect>) {
        for effect in out {
            if let Effect::Send { to, message } = effect {
                if message.is_two_phase() || matches!(message, Message::NotLeader { .. }) {
                    self.sent.push(format!("{from} -> {to}: {message}"));
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
        while let Some((from, to, message)) = self.queue.pop_front() {
            let mut out = Vec::new();
            match to {
                Endpoint::Client => {
                    let Endpoint::Node(from) = from else { unreachable!("the client talks to nodes") };
                    self.client.on_message(from, &message, &mut out);
                }
                Endpoint::Node(node) if self.down.contains(&node) => continue,
                Endpoint::Node(node) => {
                    let now_ms = self.now_ms;
                    self.replicas.get_mut(&node).unwrap().on_message(now_ms, from, &message, &mut out);
                }
            }
            self.enqueue(to, out);
        }
    }

    /// n1 and n4 campaign first, as the world arranges at time zero, and win.
    fn with_leaders() -> Cluster {
        let mut cluster = Cluster::new();
        cluster.timer(1, Timer::Election);
        cluster.timer(4, Timer::Election);
        cluster.deliver_all();
        assert!(cluster.replica(1).acting() && cluster.replica(4).acting());
        cluster.sent.clear();
        cluster
    }

    fn submit(&mut self, to: u16) {
        self.submit_amount(to, 10);
    }

    fn submit_amount(&mut self, to: u16, amount: u64) {
        let spec = TxnSpec {
            transfers: vec![Transfer { from: AccountId(1001), to: AccountId(3001), amount }],
            journal: vec![],
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
    let mut cluster = Cluster::with_leaders();
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
        assert_eq!(view.balances, [(AccountId(account), balance)], "n{id}");
        assert!(view.locks.is_empty(), "n{id} released its lock with the outcome");
    }
}

#[test]
fn followers_hold_the_state_after_prepare_too() {
    let mut cluster = Cluster::with_leaders();
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
    for id in [4, 5, 6] {
        let view = cluster.replica(id).node().view();
        assert_eq!(view.balances, [(AccountId(3001), 60)], "n{id}: applied at prepare");
        assert_eq!(view.locks, [(AccountId(3001), crate::TxnId(1))], "n{id}: locked");
        assert_eq!(view.txns[0].phase, "prepared (in doubt)", "n{id}");
    }
}

#[test]
fn a_request_to_a_follower_is_bounced_to_the_leader_it_names() {
    let mut cluster = Cluster::with_leaders();
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
    let mut cluster = Cluster::new();
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
    let mut cluster = Cluster::with_leaders();
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
    let log: Vec<String> = cluster.replica(1).raft().durable().log.iter().map(|entry| entry.to_string()).collect();
    assert_eq!(
        log[1..3],
        ["Prepared(t1, n1, n4)@1", "Aborted(t1)@1"],
        "the refusal is logged before the client hears it, so a new leader gives a retry the same answer"
    );
}
