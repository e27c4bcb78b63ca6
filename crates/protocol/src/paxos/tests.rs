//! Unit tests of the Multi-Paxos engine, driven through a tiny cluster with a FIFO network that the
//! tests control message by message.

use super::*;
use std::collections::VecDeque;

type Effects = Vec<PaxosEffect<u32>>;

struct Cluster {
    now_ms: Millis,
    replicas: VecMap<NodeId, Paxos<u32>>,
    queue: VecDeque<(NodeId, NodeId, PaxosMessage<u32>)>,
    /// Replicas that neither send nor receive (a partition around each of them).
    isolated: VecSet<NodeId>,
    bugs: PaxosBugs,
}

fn config(id: u16, size: u16, bugs: PaxosBugs) -> Arc<PaxosConfig> {
    Arc::new(PaxosConfig {
        id: NodeId(id),
        members: (1..=size).map(NodeId).collect(),
        heartbeat_ms: 50,
        election_timeout_ms_min: 150,
        max_slots_per_message: 2,
        bugs,
    })
}

impl Cluster {
    fn new(size: u16) -> Cluster {
        Cluster::with_bugs(size, PaxosBugs::default())
    }

    fn with_bugs(size: u16, bugs: PaxosBugs) -> Cluster {
        let replicas = (1..=size)
            .map(|id| (NodeId(id), Paxos::restart(config(id, size, bugs), Durable::default(), &mut Vec::new())))
            .collect();
        Cluster { now_ms: 0, replicas, queue: VecDeque::new(), isolated: VecSet::new(), bugs }
    }

    fn paxos(&self, id: u16) -> &Paxos<u32> {
        &self.replicas[&NodeId(id)]
    }

    fn act(&mut self, id: u16, action: impl FnOnce(&mut Paxos<u32>, Millis, &mut Effects)) -> Effects {
        let mut out = Vec::new();
        let now_ms = self.now_ms;
        action(self.replicas.get_mut(&NodeId(id)).unwrap(), now_ms, &mut out);
        for effect in &out {
            if let PaxosEffect::Send { to, message } = effect {
                self.queue.push_back((NodeId(id), *to, message.clone()));
            }
        }
        out
    }

    fn elapse(&mut self, ms: Millis) {
        self.now_ms += ms;
    }

    fn election_timeout(&mut self, id: u16) {
        self.act(id, |paxos, now, out| paxos.on_timer(now, PaxosTimer::Election, out));
    }

    fn heartbeat(&mut self, id: u16) {
        self.act(id, |paxos, now, out| paxos.on_timer(now, PaxosTimer::Heartbeat, out));
    }

    fn propose(&mut self, id: u16, command: u32) -> Result<Slot, NotLeader> {
        let mut result = Err(NotLeader { hint: None });
        self.act(id, |paxos, now, out| result = paxos.propose(now, command, out));
        result
    }

    /// Delivers messages until none are left; isolated replicas lose theirs.
    fn deliver_all(&mut self) {
        self.deliver_if(|_, _| true);
    }

    /// Delivers messages until none are left, losing those `keep` refuses (given the receiver).
    fn deliver_if(&mut self, keep: impl Fn(NodeId, &PaxosMessage<u32>) -> bool) {
        let mut delivered = 0;
        while let Some((from, to, message)) = self.queue.pop_front() {
            delivered += 1;
            assert!(delivered < 10_000, "the cluster never went quiet");
            if self.isolated.contains(&from) || self.isolated.contains(&to) || !keep(to, &message) {
                continue;
            }
            self.act(to.0, |paxos, now, out| paxos.on_message(now, from, message, out));
        }
    }

    fn elect(&mut self, id: u16) {
        self.election_timeout(id);
        self.deliver_all();
        assert!(self.paxos(id).is_ready(), "n{id} should lead with its log recovered");
    }

    /// What a replica knows chosen, slot by slot: `1:7 2:no-op`.
    fn chosen_text(&self, id: u16) -> String {
        let chosen = &self.paxos(id).durable().chosen;
        let text = |value: &Payload<u32>| match value {
            Payload::Noop => "no-op".to_string(),
            Payload::Command(command) => command.to_string(),
        };
        chosen.iter().map(|(slot, value)| format!("{slot}:{}", text(value))).collect::<Vec<_>>().join(" ")
    }

    fn crash_and_restart(&mut self, id: u16) {
        let durable = self.paxos(id).durable().clone();
        let size = self.replicas.len() as u16;
        let paxos = Paxos::restart(config(id, size, self.bugs), durable, &mut Vec::new());
        self.replicas.insert(NodeId(id), paxos);
    }
}

#[test]
fn a_replica_that_times_out_gathers_promises_and_leads_with_a_ballot_above_all() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    let ballot = Ballot { round: 1, leader: NodeId(1) };
    assert_eq!(cluster.paxos(1).ballot(), ballot);
    for id in [2, 3] {
        assert_eq!(cluster.paxos(id).leader(), Some(NodeId(1)), "the leader's heartbeat makes n{id} follow");
        assert_eq!(cluster.paxos(id).durable().promised, ballot);
    }
    assert_eq!(cluster.propose(2, 5), Err(NotLeader { hint: Some(NodeId(1)) }));
}

#[test]
fn a_value_is_chosen_once_a_majority_accepts_it_and_every_replica_learns_it_in_slot_order() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolated.insert(NodeId(3));
    assert_eq!(cluster.propose(1, 7), Ok(1));
    assert_eq!(cluster.propose(1, 8), Ok(2));
    assert_eq!(cluster.chosen_text(1), "", "nothing is chosen before an acceptor answers");
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(1), "1:7 2:8", "n1 and n2 are a majority of three");
    assert_eq!(cluster.chosen_text(2), "1:7 2:8", "COMMIT tells the learners");
    assert_eq!(cluster.chosen_text(3), "", "n3 heard nothing");
    // n3 comes back: the heartbeat reply shows its empty prefix, the leader fills it in.
    cluster.isolated.clear();
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(3), "1:7 2:8");
    let mut follower = cluster.replicas.remove(&NodeId(3)).unwrap();
    let mut applied = Vec::new();
    while let Some((slot, value)) = follower.next_to_apply() {
        applied.push((slot, value.clone()));
    }
    assert_eq!(applied, [(1, Payload::Command(7)), (2, Payload::Command(8))]);
}

#[test]
fn a_lost_accept_is_sent_again_with_the_next_heartbeat() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.propose(1, 7).unwrap();
    cluster.deliver_if(|_, message| !matches!(message, PaxosMessage::Accept { .. }));
    assert_eq!(cluster.chosen_text(1), "", "every ACCEPT was lost");
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(1), "1:7");
    assert_eq!(cluster.chosen_text(2), "1:7");
}

#[test]
fn a_value_accepted_by_a_majority_survives_its_leaders_crash() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    // n2 accepts 7; the AcceptedReply and the COMMIT are lost, and n1 crashes.
    cluster.propose(1, 7).unwrap();
    cluster.deliver_if(|to, message| to == NodeId(2) && matches!(message, PaxosMessage::Accept { .. }));
    assert_eq!(cluster.chosen_text(2), "");
    cluster.isolated.insert(NodeId(1));
    cluster.elapse(200);
    // n3, which never saw 7, campaigns: n2's promise reports it, and n3 chooses it again.
    cluster.elect(3);
    assert_eq!(cluster.paxos(3).ballot(), Ballot { round: 2, leader: NodeId(3) });
    assert_eq!(cluster.chosen_text(3), "1:7", "the one value that may have been chosen is chosen again");
    assert_eq!(cluster.chosen_text(2), "1:7");
    assert_eq!(cluster.propose(3, 9), Ok(2), "new values go after the recovered ones");
}

#[test]
fn recovery_fills_a_hole_with_a_no_op_and_the_leader_is_ready_only_when_all_is_chosen() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    // Slot 1's ACCEPT reaches nobody; slot 2's reaches n2 only. Then n1 crashes.
    cluster.propose(1, 7).unwrap();
    cluster.propose(1, 8).unwrap();
    cluster.deliver_if(|to, message| matches!(message, PaxosMessage::Accept { slot: 2, .. }) && to == NodeId(2));
    cluster.isolated.insert(NodeId(1));
    cluster.elapse(200);
    cluster.election_timeout(2);
    // Promises arrive, but the re-proposals are not answered yet: n2 leads, not ready.
    cluster.deliver_if(|_, message| !matches!(message, PaxosMessage::Accepted { .. }));
    assert_eq!(cluster.paxos(2).role(), PaxosRole::Leader);
    assert!(!cluster.paxos(2).is_ready(), "slots 1 and 2 are open");
    assert_eq!(cluster.propose(2, 9), Ok(3), "it may propose past them meanwhile");
    // A heartbeat interval later the unanswered ACCEPTs go again.
    cluster.elapse(50);
    cluster.heartbeat(2);
    cluster.deliver_all();
    assert!(cluster.paxos(2).is_ready());
    assert_eq!(cluster.chosen_text(2), "1:no-op 2:8 3:9", "7 reached nobody and is gone; 8 survives");
    assert_eq!(cluster.chosen_text(3), "1:no-op 2:8 3:9");
}

#[test]
fn a_follower_in_its_leaders_lease_refuses_another_candidate() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.elapse(100);
    cluster.election_timeout(3);
    cluster.deliver_all();
    let first = Ballot { round: 1, leader: NodeId(1) };
    assert_eq!(cluster.paxos(3).ballot(), Ballot { round: 2, leader: NodeId(3) }, "n3 asked for a higher ballot");
    assert_eq!(cluster.paxos(2).durable().promised, first, "n2 kept its promise");
    assert_eq!(cluster.paxos(3).durable().promised, first, "n3 promised nothing to itself without a majority");
    assert_eq!(cluster.paxos(1).role(), PaxosRole::Leader);
    // The leader's next heartbeat brings n3 back, and its values still reach everyone.
    cluster.heartbeat(1);
    cluster.deliver_all();
    assert_eq!((cluster.paxos(3).role(), cluster.paxos(3).leader()), (PaxosRole::Follower, Some(NodeId(1))));
    cluster.propose(1, 7).unwrap();
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(3), "1:7");
}

#[test]
fn a_leader_cut_off_in_a_minority_chooses_nothing_and_steps_down() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.isolated.insert(NodeId(1));
    cluster.propose(1, 7).unwrap();
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(1), "", "no majority accepted");
    cluster.elapse(200);
    cluster.heartbeat(1);
    assert_eq!(cluster.paxos(1).role(), PaxosRole::Follower, "no answer for an election timeout");
    cluster.elect(2);
    cluster.propose(2, 9).unwrap();
    cluster.deliver_all();
    // Healed: at the next heartbeat the old leader learns the new leader's values (their COMMIT
    // was lost, not on its way); its own 7 was never chosen.
    cluster.isolated.clear();
    cluster.elapse(50);
    cluster.heartbeat(2);
    cluster.deliver_all();
    assert_eq!(cluster.chosen_text(1), "1:9");
    assert_eq!(cluster.paxos(1).leader(), Some(NodeId(2)));
}

#[test]
fn a_restarted_acceptor_keeps_its_promise_and_what_it_accepted() {
    let mut cluster = Cluster::new(3);
    cluster.elect(1);
    cluster.propose(1, 7).unwrap();
    cluster.deliver_if(|to, message| to == NodeId(2) && matches!(message, PaxosMessage::Accept { .. }));
    cluster.crash_and_restart(2);
    let durable = cluster.paxos(2).durable();
    assert_eq!(durable.promised, Ballot { round: 1, leader: NodeId(1) });
    assert_eq!(durable.accepted[&1].value, Payload::Command(7));
    // A stale ballot is refused after the restart as before it.
    cluster.act(3, |paxos, now, out| paxos.on_timer(now, PaxosTimer::Election, out));
    cluster.queue.clear();
    let mut out = Vec::new();
    let stale = PaxosMessage::Accept { ballot: Ballot::default(), slot: 1, value: Payload::Command(1) };
    cluster.replicas.get_mut(&NodeId(2)).unwrap().on_message(0, NodeId(3), stale, &mut out);
    assert!(out
        .iter()
        .any(|effect| matches!(effect, PaxosEffect::Send { message: PaxosMessage::Accepted { ok: false, .. }, .. })));
    assert_eq!(cluster.paxos(2).durable().accepted[&1].value, Payload::Command(7));
}

#[test]
fn committing_before_a_quorum_lets_two_replicas_execute_different_values_in_one_slot() {
    for bug in [false, true] {
        let mut cluster = Cluster::with_bugs(5, PaxosBugs { commit_before_quorum: bug, ..PaxosBugs::default() });
        cluster.elect(1);
        // n1 proposes 7 and only n2 hears of it (its ACCEPT, and with the bug its COMMIT too);
        // then n1 and n2 are cut off, and n3, n4 and n5 elect n3, which never heard of 7.
        cluster.propose(1, 7).unwrap();
        cluster.deliver_if(|to, _| to == NodeId(2));
        cluster.isolated = VecSet::from([NodeId(1), NodeId(2)]);
        cluster.elapse(200);
        cluster.elect(3);
        cluster.propose(3, 9).unwrap();
        cluster.deliver_all();
        let executed = |id: u16| cluster.paxos(id).durable().chosen.get(&1).cloned();
        assert_eq!(executed(3), Some(Payload::Command(9)), "n3 found slot 1 empty and used it");
        if bug {
            assert_eq!(executed(2), Some(Payload::Command(7)), "n2 executed 7 at once: two values in slot 1");
        } else {
            assert_eq!(executed(2), None, "without the bug n2 only accepted 7, which no majority held");
        }
    }
}

/// A small deterministic generator for the random schedules below (no dependency needed).
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % sides
    }
}

/// Random schedules of timeouts, proposals, crashes, losses, duplicates and reordering, on groups
/// of three and five: no two replicas ever learn different values in one slot, and once the
/// faults stop a leader is elected and chooses a new value everywhere.
#[test]
fn random_schedules_never_choose_two_values_in_one_slot() {
    // A longer hunt: PAXOS_SCHEDULES=20000 cargo test -p commitlab-protocol random_schedules
    let schedules = std::env::var("PAXOS_SCHEDULES").ok().and_then(|value| value.parse().ok()).unwrap_or(300u64);
    for seed in 1..=schedules {
        let size = if seed % 2 == 0 { 3 } else { 5 };
        let mut cluster = Cluster::new(size);
        let mut dice = Dice(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut next_command = 1;
        for _ in 0..400 {
            let id = 1 + dice.roll(u64::from(size)) as u16;
            match dice.roll(10) {
                0 => cluster.election_timeout(id),
                1 => cluster.heartbeat(id),
                2 | 3 => {
                    let _ = cluster.propose(id, next_command);
                    next_command += 1;
                }
                4 => cluster.crash_and_restart(id),
                5 => cluster.elapse(10 + dice.roll(200)),
                _ => {
                    // Deliver, lose, duplicate or hold back one message.
                    if cluster.queue.is_empty() {
                        continue;
                    }
                    let position = dice.roll(cluster.queue.len() as u64) as usize;
                    let (from, to, message) = cluster.queue.remove(position).unwrap();
                    match dice.roll(8) {
                        0 => {}
                        1 => cluster.queue.push_back((from, to, message.clone())),
                        _ => {}
                    }
                    if dice.roll(8) != 0 {
                        cluster.act(to.0, |paxos, now, out| paxos.on_message(now, from, message, out));
                    }
                }
            }
            assert_agreement(&cluster, seed);
        }
        // The faults stop: n1's timers fire (a stale leader steps down, a refused candidate tries
        // again with a higher ballot), everything is delivered, and a value proposed then is
        // chosen by every replica.
        cluster.queue.clear();
        for _ in 0..3 {
            cluster.elapse(1_000);
            cluster.heartbeat(1);
            cluster.election_timeout(1);
            cluster.deliver_all();
        }
        assert!(cluster.paxos(1).is_ready(), "seed {seed}: n1 leads once the network is quiet");
        let slot = cluster.propose(1, 0).unwrap();
        cluster.deliver_all();
        cluster.heartbeat(1);
        cluster.deliver_all();
        for id in 1..=size {
            assert_eq!(cluster.paxos(id).durable().chosen.get(&slot), Some(&Payload::Command(0)), "seed {seed}: n{id}");
        }
        assert_agreement(&cluster, seed);
    }
}

fn assert_agreement(cluster: &Cluster, seed: u64) {
    let mut seen: VecMap<Slot, (NodeId, &Payload<u32>)> = VecMap::new();
    for (id, paxos) in &cluster.replicas {
        for (slot, value) in &paxos.durable().chosen {
            if let Some((other, earlier)) = seen.insert(*slot, (*id, value)) {
                assert_eq!(earlier, value, "seed {seed}: {other} and {id} chose differently in slot {slot}");
            }
        }
    }
}
