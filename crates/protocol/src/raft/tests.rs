//! Unit tests of the Raft engine, driven through a tiny cluster with a FIFO network that the tests
//! control message by message.

use super::*;
use std::collections::VecDeque;

type Effects = Vec<RaftEffect<u32>>;

struct Cluster {
    now_ms: Millis,
    replicas: VecMap<NodeId, Raft<u32>>,
    queue: VecDeque<(NodeId, NodeId, RaftMessage<u32>)>,
    /// Replicas that neither send nor receive (a partition around each of them).
    isolated: VecSet<NodeId>,
    bugs: RaftBugs,
    max_entries: usize,
}

fn config(id: u16, size: u16, bugs: RaftBugs, max_entries: usize) -> Arc<RaftConfig> {
    Arc::new(RaftConfig {
        id: NodeId(id),
        members: (1..=size).map(NodeId).collect(),
        heartbeat_ms: 50,
        election_timeout_ms_min: 150,
        max_entries_per_message: max_entries,
        bugs,
    })
}

impl Cluster {
    fn new(size: u16) -> Cluster {
        Cluster::with_bugs(size, RaftBugs::default())
    }

    fn with_bugs(size: u16, bugs: RaftBugs) -> Cluster {
        Cluster::build(size, bugs, 4)
    }

    fn build(size: u16, bugs: RaftBugs, max_entries: usize) -> Cluster {
        let replicas = (1..=size)
            .map(|id| {
                let config = config(id, size, bugs, max_entries);
                (NodeId(id), Raft::restart(config, Durable::default(), &mut Vec::new()))
            })
            .collect();
        Cluster { now_ms: 0, replicas, queue: VecDeque::new(), isolated: VecSet::new(), bugs, max_entries }
    }

    fn raft(&self, id: u16) -> &Raft<u32> {
        &self.replicas[&NodeId(id)]
    }

    fn act(&mut self, id: u16, action: impl FnOnce(&mut Raft<u32>, Millis, &mut Effects)) -> Effects {
        let mut out = Vec::new();
        let now_ms = self.now_ms;
        action(self.replicas.get_mut(&NodeId(id)).unwrap(), now_ms, &mut out);
        for effect in &out {
            if let RaftEffect::Send { to, message } = effect {
                self.queue.push_back((NodeId(id), *to, message.clone()));
            }
        }
        out
    }

    fn elapse(&mut self, ms: Millis) {
        self.now_ms += ms;
    }

    fn election_timeout(&mut self, id: u16) {
        self.act(id, |raft, now, out| raft.on_timer(now, RaftTimer::Election, out));
    }

    fn heartbeat(&mut self, id: u16) {
        self.act(id, |raft, now, out| raft.on_timer(now, RaftTimer::Heartbeat, out));
    }

    fn propose(&mut self, id: u16, command: u32) -> Result<LogIndex, NotLeader> {
        let mut result = Err(NotLeader { hint: None });
        self.act(id, |raft, now, out| result = raft.propose(now, command, out));
        result
    }

    /// Delivers messages until none are left; isolated replicas lose theirs.
    fn deliver_all(&mut self) {
        self.deliver_if(|_| true);
    }

    /// Delivers messages until none are left, losing those `keep` refuses.
    fn deliver_if(&mut self, keep: impl Fn(&RaftMessage<u32>) -> bool) {
        let mut delivered = 0;
        while let Some((from, to, message)) = self.queue.pop_front() {
            delivered += 1;
            assert!(delivered < 10_000, "the cluster never went quiet");
            if self.isolated.contains(&from) || self.isolated.contains(&to) || !keep(&message) {
                continue;
            }
            self.act(to.0, |raft, now, out| raft.on_message(now, from, message, out));
        }
    }

    fn elect(&mut self, id: u16) {
        self.election_timeout(id);
        self.deliver_all();
        assert_eq!(self.raft(id).role(), RaftRole::Leader, "n{id} should have won");
    }

    fn log_text(&self, id: u16) -> String {
        let log = &self.raft(id).durable().log;
        log.iter().map(|entry| entry.to_string()).collect::<Vec<_>>().join(" ")
    }

    fn crash_and_restart(&mut self, id: u16) {
        let durable = self.raft(id).durable().clone();
        let size = self.replicas.len() as u16;
        let raft = Raft::restart(config(id, size, self.bugs, self.max_entries), durable, &mut Vec::new());
        self.replicas.insert(NodeId(id), raft);
    }
}

#[test]
fn a_replica_that_times_out_wins_the_election_and_commits_its_no_op() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    assert_eq!(cluster.raft(1).term(), 1, "the pre-vote did not raise the term, the election did");
    for id in [2, 3] {
        assert_eq!(cluster.raft(id).leader(), Some(NodeId(1)));
        assert_eq!(cluster.log_text(id), "no-op@1");
    }
    assert_eq!(cluster.raft(1).commit_index(), 1, "the no-op of the leader's term commits by counting");
    assert_eq!(cluster.raft(2).commit_index(), 0, "followers learn the commit with the next message");
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!(cluster.raft(2).commit_index(), 1);
}

#[test]
fn commands_commit_once_a_majority_stores_them_and_apply_in_order() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolated.insert(NodeId(3));
    assert_eq!(cluster.propose(1, 7), Ok(2));
    assert_eq!(cluster.propose(1, 8), Ok(3));
    cluster.deliver_all();
    assert_eq!(cluster.raft(1).commit_index(), 3, "n1 and n2 are a majority of three");
    let mut leader = cluster.replicas.remove(&NodeId(1)).unwrap();
    let mut applied = Vec::new();
    while let Some((index, entry)) = leader.next_to_apply() {
        applied.push(format!("{index}: {entry}"));
    }
    assert_eq!(applied, ["1: no-op@1", "2: 7@1", "3: 8@1"]);
}

#[test]
fn a_follower_refuses_a_proposal_and_names_the_leader() {
    let mut cluster = Cluster::new(3);
    assert_eq!(cluster.propose(2, 1), Err(NotLeader { hint: None }));
    cluster.elect(1);
    assert_eq!(cluster.propose(2, 1), Err(NotLeader { hint: Some(NodeId(1)) }));
}

#[test]
fn a_candidate_with_a_shorter_log_is_refused_and_the_bug_switch_grants_it() {
    for bug in [false, true] {
        let bugs = RaftBugs { vote_without_log_check: bug, ..RaftBugs::default() };
        let mut cluster = Cluster::with_bugs(3, bugs);
        cluster.elect(1);
        cluster.isolated.insert(NodeId(3));
        cluster.propose(1, 7).unwrap();
        cluster.deliver_all();
        assert_eq!(cluster.raft(1).commit_index(), 2);
        // n1 dies; n3 (which missed entry 2) campaigns first after its lease runs out.
        cluster.isolated = VecSet::from([NodeId(1)]);
        cluster.elapse(200);
        cluster.election_timeout(3);
        cluster.deliver_all();
        let role = cluster.raft(3).role();
        if bug {
            assert_eq!(role, RaftRole::Leader, "without the up-to-date check n2 votes for n3");
        } else {
            assert_ne!(role, RaftRole::Leader, "n2's log is more up to date than n3's");
            assert_eq!(cluster.raft(3).term(), 1, "a refused pre-vote raises no term");
            cluster.elect(2);
            assert_eq!(cluster.log_text(3), "no-op@1 7@1 no-op@2", "the new leader brought n3 up to date");
        }
    }
}

#[test]
fn conflicting_uncommitted_entries_are_replaced_by_the_new_leaders() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    // n1 appends entries only it stores, then is cut off.
    cluster.isolated.insert(NodeId(1));
    cluster.propose(1, 7).unwrap();
    cluster.propose(1, 8).unwrap();
    cluster.deliver_all();
    cluster.elapse(200);
    cluster.elect(2);
    cluster.propose(2, 9).unwrap();
    cluster.deliver_all();
    assert_eq!(cluster.log_text(1), "no-op@1 7@1 8@1");
    cluster.isolated.clear();
    cluster.heartbeat(2);
    cluster.deliver_all();
    cluster.heartbeat(2);
    cluster.deliver_all();
    assert_eq!(cluster.raft(1).term(), 2);
    assert_eq!(cluster.log_text(1), "no-op@1 no-op@2 9@2", "7 and 8 were never committed: replaced");
    assert_eq!(cluster.raft(1).commit_index(), 3);
}

#[test]
fn a_late_duplicate_append_never_removes_newer_entries() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.propose(1, 7).unwrap();
    let stale = cluster.queue.iter().find(|(_, to, _)| *to == NodeId(2)).unwrap().2.clone();
    cluster.deliver_all();
    cluster.propose(1, 8).unwrap();
    cluster.deliver_all();
    assert_eq!(cluster.log_text(2), "no-op@1 7@1 8@1");
    cluster.act(2, |raft, now, out| raft.on_message(now, NodeId(1), stale, out));
    assert_eq!(cluster.log_text(2), "no-op@1 7@1 8@1");
}

/// The Raft paper's figure 8 with five replicas, one entry per message. Returns n1's commit index
/// at (c) and the cluster after (d).
fn figure_8(bugs: RaftBugs) -> (LogIndex, Cluster) {
    let mut cluster = Cluster::build(5, bugs, 1);
    cluster.elect(1);
    cluster.heartbeat(1);
    cluster.deliver_all();
    // (a) n1, leader of term 1, appends 20@1 and reaches only n2.
    cluster.isolated = VecSet::from([NodeId(3), NodeId(4), NodeId(5)]);
    cluster.propose(1, 20).unwrap();
    cluster.deliver_all();
    // (b) n1 is cut off; n5 wins term 2 with n3 and n4, and its no-op reaches nobody.
    cluster.isolated = VecSet::from([NodeId(1), NodeId(2)]);
    cluster.elapse(200);
    cluster.election_timeout(5);
    cluster.deliver_if(|message| !matches!(message, RaftMessage::AppendEntries { .. }));
    assert_eq!(cluster.raft(5).role(), RaftRole::Leader);
    assert_eq!(cluster.log_text(5), "no-op@1 no-op@2");
    // (c) n5 is cut off, n1 restarts and wins term 3 (after learning term 2 from a refusal); it
    // carries 20@1 to n3 and n4, so a majority stores it, but its own no-op@3 reaches nobody.
    cluster.isolated = VecSet::from([NodeId(5)]);
    cluster.crash_and_restart(1);
    cluster.elapse(200);
    cluster.election_timeout(1);
    cluster.deliver_all();
    cluster.elapse(200);
    cluster.election_timeout(1);
    let no_op_3 = |message: &RaftMessage<u32>| match message {
        RaftMessage::AppendEntries { entries, .. } => entries.iter().all(|entry| entry.term != 3),
        _ => true,
    };
    cluster.deliver_if(no_op_3);
    assert_eq!(cluster.raft(1).role(), RaftRole::Leader);
    assert_eq!(cluster.raft(1).term(), 3);
    cluster.heartbeat(1);
    cluster.deliver_if(no_op_3);
    for id in [2, 3, 4] {
        assert_eq!(cluster.log_text(id), "no-op@1 20@1", "n{id}");
    }
    let commit_at_c = cluster.raft(1).commit_index();
    // (d) n1 is cut off; n5's last entry (term 2) is newer than n2-n4's (term 1): it wins term 4
    // and replaces entry 2 everywhere it reaches.
    cluster.isolated = VecSet::from([NodeId(1)]);
    cluster.elapse(200);
    cluster.heartbeat(5);
    assert_eq!(cluster.raft(5).role(), RaftRole::Follower, "n5 heard from nobody in term 2: it stepped down");
    for _ in 0..2 {
        cluster.election_timeout(5);
        cluster.deliver_all();
    }
    assert_eq!((cluster.raft(5).role(), cluster.raft(5).term()), (RaftRole::Leader, 4));
    for _ in 0..4 {
        cluster.heartbeat(5);
        cluster.deliver_all();
    }
    (commit_at_c, cluster)
}

#[test]
fn an_entry_of_an_older_term_is_not_committed_by_counting_replicas() {
    let (commit_at_c, cluster) = figure_8(RaftBugs::default());
    assert_eq!(commit_at_c, 0, "20@1 is stored by n1-n4, but it is of an older term: n1 commits nothing");
    assert_eq!(cluster.log_text(3), "no-op@1 no-op@2 no-op@4", "replacing it loses nothing committed");
    let bugs = RaftBugs { commit_old_term_by_count: true, ..RaftBugs::default() };
    let (commit_at_c, cluster) = figure_8(bugs);
    assert_eq!(commit_at_c, 2, "with the bug n1 counts replicas for 20@1 and commits it");
    assert_eq!(cluster.log_text(3), "no-op@1 no-op@2 no-op@4", "and the committed 20@1 is overwritten");
}

#[test]
fn a_leader_that_hears_from_no_majority_steps_down() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolated = VecSet::from([NodeId(1)]);
    for _ in 0..2 {
        cluster.elapse(50);
        cluster.heartbeat(1);
        cluster.deliver_all();
        assert_eq!(cluster.raft(1).role(), RaftRole::Leader, "within one election timeout it still leads");
    }
    cluster.elapse(50);
    cluster.heartbeat(1);
    assert_eq!(cluster.raft(1).role(), RaftRole::Follower);
    assert_eq!(cluster.propose(1, 5), Err(NotLeader { hint: None }));
}

#[test]
fn a_partitioned_replica_does_not_raise_its_term_or_depose_the_leader_when_it_returns() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolated = VecSet::from([NodeId(3)]);
    for round in 0..20 {
        cluster.elapse(50);
        if round % 4 == 3 {
            cluster.election_timeout(3);
        }
        cluster.heartbeat(1);
        cluster.deliver_all();
    }
    assert_eq!(cluster.raft(3).term(), 1, "pre-votes that nobody answers change no term");
    cluster.isolated.clear();
    cluster.election_timeout(3);
    cluster.deliver_all();
    assert_eq!(cluster.raft(1).role(), RaftRole::Leader, "n2 heard from n1 recently: it refuses");
    assert_eq!(cluster.raft(1).term(), 1);
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!(cluster.raft(3).leader(), Some(NodeId(1)));
}

#[test]
fn a_replica_votes_once_per_term_and_remembers_it_across_a_restart() {
    let mut cluster = Cluster::new(3);
    let request = RaftMessage::RequestVote { term: 1, last_log_index: 0, last_log_term: 0, pre_vote: false };
    let out = cluster.act(3, |raft, now, out| raft.on_message(now, NodeId(1), request.clone(), out));
    assert!(out.contains(&RaftEffect::Send {
        to: NodeId(1),
        message: RaftMessage::Vote { term: 1, granted: true, pre_vote: false }
    }));
    cluster.crash_and_restart(3);
    assert_eq!(cluster.raft(3).durable().voted_for, Some(NodeId(1)));
    assert_eq!(cluster.raft(3).commit_index(), 0, "the commit index is volatile");
    let rival = RaftMessage::RequestVote { term: 1, last_log_index: 0, last_log_term: 0, pre_vote: false };
    let out = cluster.act(3, |raft, now, out| raft.on_message(now, NodeId(2), rival, out));
    assert!(out.contains(&RaftEffect::Send {
        to: NodeId(2),
        message: RaftMessage::Vote { term: 1, granted: false, pre_vote: false }
    }));
}

#[test]
fn a_lost_append_is_repaired_by_the_next_heartbeat() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.propose(1, 7).unwrap();
    cluster.queue.retain(|(_, to, _)| *to != NodeId(3));
    cluster.deliver_all();
    assert_eq!(cluster.log_text(3), "no-op@1", "the append to n3 was lost");
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!(cluster.log_text(3), "no-op@1 7@1", "its mismatch on the heartbeat made the leader resend");
    cluster.propose(1, 8).unwrap();
    cluster.deliver_all();
    assert_eq!(cluster.log_text(3), "no-op@1 7@1 8@1");
}

#[test]
fn canonical_descriptions() {
    let append: RaftMessage<u32> = RaftMessage::AppendEntries {
        term: 2,
        prev_log_index: 1,
        prev_log_term: 1,
        entries: vec![Entry { term: 2, payload: Payload::Noop }, Entry { term: 2, payload: Payload::Command(7) }],
        leader_commit: 1,
    };
    assert_eq!(append.to_string(), "AppendEntries term 2 prev 1@1 [2: no-op@2, 3: 7@2] commit 1");
    let vote: RaftMessage<u32> = RaftMessage::Vote { term: 3, granted: true, pre_vote: true };
    assert_eq!(vote.to_string(), "PreVoteReply term 3 granted");
    assert_eq!(vote.kind(), "PreVoteReply");
}
