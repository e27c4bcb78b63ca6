//! Statistics over many runs of one scenario with different seeds: how long participants stay in
//! doubt, how long a group has no acting leader after its leader crashes, how long the client waits
//! for an outcome, and how many messages of each kind a transaction costs.
//!
//! Everything is read from typed state as the world steps (the in-doubt set of each group's
//! 2PC state, crash events, take-over notes, client outcomes), never from phase text, and each run
//! is deterministic, so a table is reproducible from its command line.

use crate::scenario::Scenario;
use crate::trace::{TraceEntry, TraceEvent};
use crate::world::World;
use commitlab_protocol::VecMap;
use commitlab_protocol::{Decision, Endpoint, Millis, NodeId, Note, RequestId, TxnId};
use std::fmt;
use std::sync::Arc;

/// Samples of one quantity, in milliseconds (or any unit), summarised by percentiles.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Distribution {
    samples: Vec<u64>,
}

impl Distribution {
    pub fn add(&mut self, sample: u64) {
        self.samples.push(sample);
    }

    pub fn merge(&mut self, other: Distribution) {
        self.samples.extend(other.samples);
    }

    pub fn count(&self) -> usize {
        self.samples.len()
    }

    /// The value below which `percent` of the samples fall (nearest rank); `None` without samples.
    pub fn percentile(&self, percent: u32) -> Option<u64> {
        let mut sorted = self.samples.clone();
        sorted.sort_unstable();
        let rank = (sorted.len() * percent as usize).div_ceil(100).max(1);
        sorted.get(rank - 1).copied()
    }

    pub fn mean(&self) -> Option<f64> {
        (!self.samples.is_empty()).then(|| self.samples.iter().sum::<u64>() as f64 / self.samples.len() as f64)
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(min), Some(mean)) = (self.percentile(0), self.mean()) else { return f.write_str("no samples") };
        let at = |percent| self.percentile(percent).expect("has samples");
        write!(
            f,
            "n={:<6} min {min:>6}  p50 {:>6}  p90 {:>6}  p99 {:>6}  max {:>6}  mean {mean:>8.1}",
            self.count(),
            at(50),
            at(90),
            at(99),
            at(100)
        )
    }
}

/// What many runs of a scenario measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RunStats {
    pub runs: usize,
    /// Per participant (group) and transaction: from its YES vote to its outcome.
    pub in_doubt_ms: Distribution,
    /// Participants still in doubt when a run ended, and for how long by then.
    pub unresolved_in_doubt_ms: Distribution,
    /// Per crash of an acting leader: until a new leader of its group has taken over.
    pub leaderless_ms: Distribution,
    /// Groups still without an acting leader when a run ended, and for how long by then.
    pub unresolved_leaderless_ms: Distribution,
    /// Per request: from its submission to the client's outcome.
    pub commit_latency_ms: Distribution,
    pub abort_latency_ms: Distribution,
    pub requests: usize,
    pub messages_by_kind: VecMap<&'static str, u64>,
}

impl RunStats {
    /// Runs `scenario` once per seed in `seeds`, on every core, and gathers the measurements.
    pub fn over_seeds(scenario: &Scenario, seeds: std::ops::Range<u64>) -> RunStats {
        let threads = std::thread::available_parallelism().map_or(1, usize::from).max(1) as u64;
        let span = seeds.end.saturating_sub(seeds.start);
        let chunk = span.div_ceil(threads).max(1);
        let parts: Vec<RunStats> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|part| {
                    let start = seeds.start + part * chunk;
                    let end = (start + chunk).min(seeds.end);
                    scope.spawn(move || {
                        let mut stats = RunStats::default();
                        for seed in start..end {
                            stats.merge(RunStats::of_run(&Scenario { seed, ..scenario.clone() }));
                        }
                        stats
                    })
                })
                .collect();
            handles.into_iter().map(|handle| handle.join().expect("a stats thread panicked")).collect()
        });
        let mut stats = RunStats::default();
        for part in parts {
            stats.merge(part);
        }
        stats
    }

    fn merge(&mut self, other: RunStats) {
        self.runs += other.runs;
        self.in_doubt_ms.merge(other.in_doubt_ms);
        self.unresolved_in_doubt_ms.merge(other.unresolved_in_doubt_ms);
        self.leaderless_ms.merge(other.leaderless_ms);
        self.unresolved_leaderless_ms.merge(other.unresolved_leaderless_ms);
        self.commit_latency_ms.merge(other.commit_latency_ms);
        self.abort_latency_ms.merge(other.abort_latency_ms);
        self.requests += other.requests;
        for (kind, count) in other.messages_by_kind {
            *self.messages_by_kind.entry(kind).or_insert(0) += count;
        }
    }

    /// One run, stepped to its end.
    pub fn of_run(scenario: &Scenario) -> RunStats {
        let mut world = World::new(Arc::new(scenario.clone()));
        let mut recorder = Recorder::default();
        let mut trace = Vec::new();
        loop {
            let acting = acting_leaders(&world);
            if !world.step(&mut trace) {
                break;
            }
            recorder.after_step(&world, &acting, &trace);
            trace.clear();
        }
        recorder.finish(&world)
    }
}

/// The replicas leading their group and acting as such, with their group.
fn acting_leaders(world: &World) -> Vec<(NodeId, NodeId)> {
    world
        .slots()
        .iter()
        .filter(|(_, slot)| slot.up && slot.machine.replica().is_some_and(|replica| replica.acting()))
        .map(|(id, _)| (*id, world.group_of(*id)))
        .collect()
}

#[derive(Default)]
struct Recorder {
    stats: RunStats,
    /// (group, transaction) in doubt, since when.
    in_doubt: VecMap<(NodeId, TxnId), Millis>,
    /// Group whose acting leader crashed, since when.
    leaderless: VecMap<NodeId, Millis>,
    outcomes: VecMap<RequestId, Millis>,
}

impl Recorder {
    fn after_step(&mut self, world: &World, acting_before: &[(NodeId, NodeId)], trace: &[TraceEntry]) {
        let now_ms = world.now_ms();
        for entry in trace {
            self.on_event(world, acting_before, &entry.event, now_ms);
        }
        let mut still: VecMap<(NodeId, TxnId), Millis> = VecMap::new();
        for (group, node, _) in world.group_states() {
            let Some(participant) = node.participant() else { continue };
            for (txn, entry) in participant.txns() {
                if let Some(since_ms) = entry.in_doubt_since_ms {
                    still.insert((group, *txn), since_ms);
                }
            }
        }
        for (key, since_ms) in &self.in_doubt {
            if !still.contains_key(key) {
                self.stats.in_doubt_ms.add(now_ms.saturating_sub(*since_ms));
            }
        }
        self.in_doubt = still;
    }

    fn on_event(&mut self, world: &World, acting_before: &[(NodeId, NodeId)], event: &TraceEvent, now_ms: Millis) {
        match event {
            TraceEvent::Send { message, .. } => {
                *self.stats.messages_by_kind.entry(message.kind()).or_insert(0) += 1;
            }
            TraceEvent::Crash { node, .. } => {
                if let Some((_, group)) = acting_before.iter().find(|(leader, _)| leader == node) {
                    self.leaderless.entry(*group).or_insert(now_ms);
                }
            }
            TraceEvent::Note {
                at: Endpoint::Node(node),
                note: Note::TookOver { .. } | Note::TookOverBallot { .. },
            } => {
                if let Some(since_ms) = self.leaderless.remove(&world.group_of(*node)) {
                    self.stats.leaderless_ms.add(now_ms - since_ms);
                }
            }
            TraceEvent::Note { note: Note::ClientOutcome { request, decision }, .. } => {
                self.on_outcome(world, *request, *decision, now_ms);
            }
            _ => {}
        }
    }

    /// The client heard the outcome of `request`; only the first counts.
    fn on_outcome(&mut self, world: &World, request: RequestId, decision: Decision, now_ms: Millis) {
        if self.outcomes.insert(request, now_ms).is_some() {
            return;
        }
        let submitted = world.work().iter().find(|item| item.request == request).map_or(now_ms, |item| item.at_ms);
        let latency = now_ms.saturating_sub(submitted);
        match decision {
            Decision::Commit => self.stats.commit_latency_ms.add(latency),
            Decision::Abort => self.stats.abort_latency_ms.add(latency),
        }
    }

    fn finish(mut self, world: &World) -> RunStats {
        let end_ms = world.now_ms();
        for since_ms in self.in_doubt.values() {
            self.stats.unresolved_in_doubt_ms.add(end_ms.saturating_sub(*since_ms));
        }
        for since_ms in self.leaderless.values() {
            self.stats.unresolved_leaderless_ms.add(end_ms.saturating_sub(*since_ms));
        }
        self.stats.runs = 1;
        self.stats.requests = world.work().len();
        self.stats
    }
}

impl fmt::Display for RunStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "time in doubt per participant, YES vote to outcome (ms)")?;
        writeln!(f, "  resolved     {}", self.in_doubt_ms)?;
        writeln!(f, "  unresolved   {}", self.unresolved_in_doubt_ms)?;
        writeln!(f, "time without an acting leader after a leader crash (ms)")?;
        writeln!(f, "  per crash    {}", self.leaderless_ms)?;
        writeln!(f, "  unresolved   {}", self.unresolved_leaderless_ms)?;
        writeln!(f, "latency from request to the client's outcome (ms)")?;
        writeln!(f, "  committed    {}", self.commit_latency_ms)?;
        writeln!(f, "  aborted      {}", self.abort_latency_ms)?;
        let requests = self.requests.max(1) as f64;
        writeln!(f, "messages per request by kind ({} requests in {} runs)", self.requests, self.runs)?;
        for (kind, count) in &self.messages_by_kind {
            writeln!(f, "  {kind:<14} {:>9.2}", *count as f64 / requests)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut distribution = Distribution::default();
        assert_eq!(distribution.percentile(50), None);
        for sample in [40, 10, 30, 20] {
            distribution.add(sample);
        }
        assert_eq!(distribution.percentile(0), Some(10));
        assert_eq!(distribution.percentile(50), Some(20));
        assert_eq!(distribution.percentile(90), Some(40));
        assert_eq!(distribution.percentile(100), Some(40));
        assert_eq!(distribution.mean(), Some(25.0));
    }

    #[test]
    fn a_blocked_single_node_run_and_its_replicated_twin_measure_apart() {
        let blocked = (crate::preset("coordinator-crash-after-prepare").expect("preset").build)();
        let stats = RunStats::of_run(&blocked);
        assert_eq!(stats.in_doubt_ms.count(), 2, "both participants, resolved after the TM restarts");
        assert!(stats.in_doubt_ms.percentile(0).expect("samples") > 1_400, "{stats}");
        assert_eq!(stats.leaderless_ms.count(), 0, "single nodes have no leaders");
        let replicated = (crate::preset("raft-coordinator-leader-crash").expect("preset").build)();
        let stats = RunStats::of_run(&replicated);
        assert_eq!(stats.leaderless_ms.count(), 1, "{stats}");
        assert_eq!(stats.in_doubt_ms.count(), 2, "{stats}");
        assert!(stats.in_doubt_ms.percentile(100).expect("samples") < 600, "an election plus a round trip: {stats}");
        assert_eq!(stats.commit_latency_ms.count(), 1);
        assert_eq!(stats.messages_by_kind.get("Prepare"), Some(&4), "sent, then resent by the new leader: {stats}");
    }
}
