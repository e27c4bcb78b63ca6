//! Progress, the liveness side of atomic commit, judged apart from the safety invariants: once
//! the faults have stopped, every node is up (in the replicated mode: a majority of every group)
//! and the network is whole, every transaction must
//! resolve within a bound the timeouts give. One that has not is reported stuck, with how long
//! it has waited since the later of its request and the last fault.

use crate::simulation::Simulation;
use crate::world::World;
use commitlab_protocol::{Millis, NodeId, RequestId, TxnId};
use commitlab_protocol::{VecMap, VecSet};
use serde::Serialize;
use std::fmt;

/// The verdict at one moment of a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "verdict")]
pub enum Progress {
    /// Faults are still in force (a node down, a partition): nothing can be asked of liveness.
    NotJudged { reason: String },
    /// Nothing is unresolved, or nothing has waited longer than the bound yet.
    Ok { waiting: usize, bound_ms: Millis },
    /// Transactions unresolved for longer than the bound with every node up and connected.
    Stuck { stuck: Vec<Stuck>, bound_ms: Millis },
}

/// A transaction (or a request that never became one) that did not resolve.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Stuck {
    pub request: Option<RequestId>,
    pub txn: Option<TxnId>,
    /// Where it is unresolved: the coordinator, participants in doubt.
    pub nodes: Vec<NodeId>,
    pub waited_ms: Millis,
    pub since_ms: Millis,
}

impl fmt::Display for Stuck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.txn, self.request) {
            (Some(txn), _) => write!(f, "{txn}")?,
            (None, Some(request)) => write!(f, "{request}")?,
            (None, None) => f.write_str("?")?,
        }
        write!(f, " unresolved for {} ms (since {} ms)", self.waited_ms, self.since_ms)?;
        if self.nodes.is_empty() {
            f.write_str(": the client has no reply")
        } else {
            let nodes: Vec<String> = self.nodes.iter().map(|node| node.to_string()).collect();
            write!(f, " at {}", nodes.join(", "))
        }
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Progress::NotJudged { reason } => write!(f, "not judged: {reason}"),
            Progress::Ok { waiting: 0, .. } => f.write_str("every transaction resolved"),
            Progress::Ok { waiting, bound_ms } => {
                write!(f, "{waiting} still running, none for longer than {bound_ms} ms since the last fault")
            }
            Progress::Stuck { stuck, bound_ms } => {
                let list: Vec<String> = stuck.iter().map(|stuck| stuck.to_string()).collect();
                write!(f, "stuck past {bound_ms} ms with every node up and connected: {}", list.join("; "))
            }
        }
    }
}

impl Progress {
    pub fn is_stuck(&self) -> bool {
        matches!(self, Progress::Stuck { .. })
    }

    /// The verdict at the simulation's cursor.
    pub fn of(simulation: &Simulation) -> Progress {
        Progress::at(simulation.world())
    }

    pub fn at(world: &World) -> Progress {
        let scenario = world.scenario();
        let now = world.now_ms();
        // A replicated group makes progress with a majority up, as consensus promises; a single
        // node must be up itself.
        let up = |node: &NodeId| world.slots().get(node).is_some_and(|slot| slot.up);
        let down: Vec<String> = match world.groups() {
            Some(groups) => groups
                .groups
                .iter()
                .filter(|group| 2 * group.members.iter().filter(|member| up(member)).count() <= group.members.len())
                .map(|group| format!("{} (no majority up)", group.label))
                .collect(),
            None => world.slots().keys().filter(|node| !up(node)).map(|node| format!("{node}")).collect(),
        };
        if !down.is_empty() {
            return Progress::NotJudged { reason: format!("{} down", down.join(", ")) };
        }
        if !world.partition().is_empty() {
            return Progress::NotJudged { reason: "the network is partitioned".to_string() };
        }
        let calm_since = scenario.faults.iter().map(|fault| fault.at_ms).filter(|at| *at <= now).max().unwrap_or(0);
        let bound_ms = bound_ms(scenario);
        let rows = unresolved(world, calm_since);
        let waiting = rows.len();
        let stuck: Vec<Stuck> = rows
            .into_iter()
            .filter_map(|mut row| {
                row.since_ms = row.since_ms.max(calm_since);
                row.waited_ms = now.saturating_sub(row.since_ms);
                (row.waited_ms > bound_ms).then_some(row)
            })
            .collect();
        if stuck.is_empty() {
            Progress::Ok { waiting, bound_ms }
        } else {
            Progress::Stuck { stuck, bound_ms }
        }
    }
}

/// Every transaction not yet resolved (at its coordinator, or at a participant), and every request
/// the client still waits on that no coordinator holds, in transaction order; `since_ms` is when
/// each started to wait (participants without an in-doubt time count from `calm_since`), and
/// `waited_ms` is left at 0.
pub fn unresolved(world: &World, calm_since: Millis) -> Vec<Stuck> {
    let started: VecMap<RequestId, Millis> = world.work().iter().rev().map(|item| (item.request, item.at_ms)).collect();
    // Each unresolved transaction: its request when a coordinator still holds it, where it is
    // unresolved, and since when (the caller fills in how long it waited).
    let row = |txn, request, since_ms| Stuck { request, txn, nodes: Vec::new(), waited_ms: 0, since_ms };
    let mut open: VecMap<TxnId, Stuck> = VecMap::new();
    let groups = world.group_states();
    for (group, node, _) in &groups {
        let Some(coordinator) = node.coordinator() else { continue };
        for (txn, entry) in coordinator.txns() {
            let since = started.get(&entry.request).copied().unwrap_or(0);
            open.entry(*txn).or_insert_with(|| row(Some(*txn), Some(entry.request), since)).nodes.push(*group);
        }
        // A saga is unresolved at its orchestrator until it ends (a compensation that waits
        // for money keeps it open).
        for (txn, saga) in coordinator.sagas() {
            let since = started.get(&saga.request).copied().unwrap_or(0);
            open.entry(*txn).or_insert_with(|| row(Some(*txn), Some(saga.request), since)).nodes.push(*group);
        }
    }
    for (group, node, _) in &groups {
        let Some(participant) = node.participant() else { continue };
        for (txn, entry) in participant.txns() {
            let since = entry.in_doubt_since_ms.unwrap_or(calm_since);
            open.entry(*txn).or_insert_with(|| row(Some(*txn), None, since)).nodes.push(*group);
        }
    }
    let running: VecSet<RequestId> = open.values().filter_map(|stuck| stuck.request).collect();
    let mut rows: Vec<Stuck> = open.into_values().collect();
    // A request the client still waits on that no coordinator holds (lost, or refused unheard).
    for request in world.client().pending().keys().filter(|request| !running.contains(request)) {
        rows.push(row(None, Some(*request), started.get(request).copied().unwrap_or(0)));
    }
    rows
}

/// How long a transaction may take to resolve once the run is calm: a vote timeout or a client
/// retry, two rounds of resends or queries, a few message delays and disk writes, and in the
/// replicated mode a few elections.
pub fn bound_ms(scenario: &crate::Scenario) -> Millis {
    let timeouts = scenario.timeouts;
    let mut bound = timeouts.vote_ms.max(timeouts.client_retry_ms)
        + 2 * timeouts.resend_ms.max(timeouts.query_ms)
        + 4 * scenario.network.latency_ms_max
        + 4 * scenario.disk.write_ms;
    if scenario.replication.is_replicated() {
        bound += 3 * scenario.replication.election_timeout_ms_max + 2 * scenario.replication.heartbeat_ms;
    }
    bound
}
