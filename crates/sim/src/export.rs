//! Text renderings of a run shared by the command line and the web page: the trace, the state
//! tables in the shape of seed 002's "STATE AFTER PREPARE", the invariant verdicts, the blocking
//! report, and a Mermaid `sequenceDiagram`.

use crate::simulation::{NodeSnapshot, PaxosView, RaftView, Simulation};
use crate::trace::{TraceEntry, TraceEvent};
use commitlab_protocol::raft::{Payload, RaftMessage, RaftNote, RaftRole};
use commitlab_protocol::route::Groups;
use commitlab_protocol::VecMap;
use commitlab_protocol::{Endpoint, Message, Millis, NodeId, Note, Role};
use std::fmt::Write;

pub fn trace_text(trace: &[TraceEntry]) -> String {
    let mut text = String::new();
    for entry in trace {
        writeln!(text, "{entry}").expect("writing to a String");
    }
    text
}

/// The state tables of every node at the cursor.
pub fn tables_text(simulation: &Simulation) -> String {
    let mut text = String::new();
    for snapshot in simulation.snapshots() {
        node_table(&mut text, &snapshot);
    }
    text
}

fn node_table(text: &mut String, snapshot: &NodeSnapshot) {
    let roles: Vec<String> = snapshot.roles.iter().map(Role::to_string).collect();
    let state = if snapshot.up { "up" } else { "DOWN" };
    let _ = writeln!(text, "== {} ({}) {} [{}]", snapshot.id, snapshot.label, state, roles.join(" + "));
    match (&snapshot.raft, &snapshot.paxos) {
        (Some(raft), _) => raft_table(text, raft),
        (_, Some(paxos)) => paxos_table(text, paxos),
        _ => wal_table(text, snapshot),
    }
    memory_table(text, snapshot);
}

/// A Multi-Paxos replica as seed 002's STATE AFTER PREPARE box: `Log[100] = {Phase:"P", executed}`,
/// `PrepareSeq = 100`, and the slots behind them.
fn paxos_table(text: &mut String, paxos: &PaxosView) {
    let acting = if paxos.acting { ", acting" } else { "" };
    let leader = paxos.leader.map(|node| format!(", leader {node}")).unwrap_or_default();
    let _ = writeln!(
        text,
        "  multi-paxos (durable promise, accepted, chosen): {} with ballot {}, promised {}{acting}{leader}",
        paxos.role, paxos.ballot, paxos.promised
    );
    let _ = writeln!(text, "    chosen through #{}, applied #{} (volatile)", paxos.chosen_through, paxos.applied);
    for row in &paxos.log {
        let executed = if row.executed { "executed" } else { "not executed" };
        let completed = if row.completed { ", completed" } else { "" };
        let _ =
            writeln!(text, "    Log[{}] = {{{}, Phase:\"{}\", {executed}{completed}}}", row.seq, row.txn, row.phase);
    }
    for (txn, seq) in &paxos.prepare_seq {
        let _ = writeln!(text, "    PrepareSeq = {seq} ({txn})");
    }
    for row in &paxos.slots {
        let status = match (row.chosen, row.slot <= paxos.applied) {
            (true, true) => "executed",
            (true, false) => "chosen",
            (false, _) => "accepted",
        };
        let ballot = row.ballot.as_ref().map(|ballot| format!(" in {ballot}")).unwrap_or_default();
        let _ = writeln!(text, "    #{}{ballot} {} ({status})", row.slot, row.value);
    }
}

/// A replica's Raft state: seed 002's `Log[100] = {Phase:"P", executed}`, Raft's way.
fn raft_table(text: &mut String, raft: &RaftView) {
    let acting = if raft.acting { ", acting" } else { "" };
    let vote = raft.voted_for.map(|node| format!(", voted for {node}")).unwrap_or_default();
    let leader = raft.leader.map(|node| format!(", leader {node}")).unwrap_or_default();
    let _ =
        writeln!(text, "  raft (durable term, vote, log): {} in term {}{acting}{vote}{leader}", raft.role, raft.term);
    let _ = writeln!(text, "    commit index {}, applied {} (volatile)", raft.commit_index, raft.applied_index);
    for row in &raft.log {
        let state = if row.index <= raft.applied_index {
            "applied"
        } else if row.index <= raft.commit_index {
            "committed"
        } else {
            "uncommitted"
        };
        let _ = writeln!(text, "    [{}] term {} {} ({state})", row.index, row.term, row.entry);
    }
}

fn wal_table(text: &mut String, snapshot: &NodeSnapshot) {
    let _ = writeln!(text, "  WAL (durable):");
    if snapshot.wal.is_empty() {
        let _ = writeln!(text, "    (empty)");
    }
    for (index, record) in snapshot.wal.iter().enumerate() {
        let _ = writeln!(text, "    [{index}] {record}");
    }
    for record in &snapshot.unwritten {
        let _ = writeln!(text, "    [..] {record} (being written)");
    }
}

fn memory_table(text: &mut String, snapshot: &NodeSnapshot) {
    let Some(memory) = &snapshot.memory else {
        let _ = writeln!(text, "  memory (volatile): lost, the node is down");
        return;
    };
    let _ = writeln!(text, "  memory (volatile):");
    if !memory.balances.is_empty() {
        let balances: Vec<String> =
            memory.balances.iter().map(|(account, value)| format!("{account}={value}")).collect();
        let _ = writeln!(text, "    balances: {}", balances.join(" "));
    }
    let locks: Vec<String> = memory.locks.iter().map(|(account, txn)| format!("{account} by {txn}")).collect();
    if snapshot.shard.is_some() {
        let locks = if locks.is_empty() { "none".to_string() } else { locks.join(", ") };
        let _ = writeln!(text, "    locks: {locks}");
    }
    for (txn, line) in &memory.journal {
        let _ = writeln!(text, "    journal: {txn} {line}");
    }
    for row in &memory.txns {
        for (account, before) in &row.undo {
            let _ = writeln!(text, "    twoPCWAL[{}][{account}] = {before}", row.txn);
        }
        for (account, after) in &row.redo {
            let _ = writeln!(text, "    redo[{}][{account}] = {after} (not applied: waits for COMMIT)", row.txn);
        }
    }
    for row in &memory.txns {
        let mut line = format!("    {} {}: {}", row.txn, row.role, row.phase);
        if !row.votes.is_empty() {
            let votes: Vec<String> =
                row.votes.iter().map(|(node, yes)| format!("{node}={}", if *yes { "YES" } else { "NO" })).collect();
            let _ = write!(line, ", votes {}", votes.join(" "));
        }
        if !row.steps.is_empty() {
            let steps: Vec<String> = row.steps.iter().map(ToString::to_string).collect();
            let _ = write!(line, ", steps {}", steps.join(", "));
        }
        if let Some(decision) = row.decision {
            let _ = write!(line, ", decision {decision}");
        }
        if let Some(since) = row.in_doubt_since_ms {
            let _ = write!(line, ", in doubt since {since} ms");
        }
        if !row.locks.is_empty() {
            let locks: Vec<String> = row.locks.iter().map(|account| account.to_string()).collect();
            let _ = write!(line, ", holds {}", locks.join(" "));
        }
        let _ = writeln!(text, "{line}");
    }
    for step in &memory.steps {
        let _ = writeln!(text, "    saga step {step}");
    }
    for (request, txn, decision) in &memory.cached_replies {
        let txn = txn.map(|txn| format!(" {txn}")).unwrap_or_default();
        let _ = writeln!(text, "    cached reply: {request}{txn} {decision}");
    }
}

/// The invariant verdicts and the blocking report at the cursor.
pub fn verdict_text(simulation: &Simulation) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "invariants:");
    for status in simulation.invariants() {
        match &status.violation {
            None => {
                let _ = writeln!(text, "  ok        {:<24} {}", status.invariant, status.description);
            }
            Some((step, time_ms, violation)) => {
                let _ = writeln!(
                    text,
                    "  VIOLATED  {:<24} at {time_ms} ms (step {step}): {}",
                    status.invariant, violation.detail
                );
            }
        }
    }
    let progress = crate::progress::Progress::of(simulation);
    let status = match &progress {
        crate::progress::Progress::Stuck { .. } => "STUCK",
        crate::progress::Progress::NotJudged { .. } => "-",
        crate::progress::Progress::Ok { .. } => "ok",
    };
    let _ = writeln!(text, "liveness:\n  {status:<9} {:<24} {progress}", "progress");
    let in_doubt = simulation.in_doubt();
    if !in_doubt.is_empty() {
        let _ = writeln!(text, "in doubt (blocked):");
        for row in in_doubt {
            let locks: Vec<String> = row.locks.iter().map(|account| account.to_string()).collect();
            let down = if row.node_up { "" } else { " (node down)" };
            let _ = writeln!(
                text,
                "  {} {} for {} ms (since {} ms), holding {}{down}",
                row.node,
                row.txn,
                row.for_ms,
                row.since_ms,
                locks.join(" ")
            );
        }
    }
    let client = simulation.world().client();
    let _ = writeln!(text, "client:");
    for (request, decision) in client.outcomes() {
        let _ = writeln!(text, "  {request} {decision}");
    }
    for request in client.pending().keys() {
        let _ = writeln!(text, "  {request} waiting for a reply");
    }
    text
}

fn mermaid_name(endpoint: Endpoint) -> String {
    endpoint.to_string()
}

fn mermaid_text(text: &str) -> String {
    text.replace([';', '#', '\n'], " ")
}

/// The run up to the cursor as a Mermaid `sequenceDiagram`: one arrow per delivered message,
/// a cross for each lost one, notes for WAL writes, crashes, restarts and violations.
pub fn mermaid(simulation: &Simulation) -> String {
    mermaid_of(simulation, simulation.trace_to_cursor())
}

/// The same for any part of the trace (the page exports the whole computed run).
pub fn mermaid_of(simulation: &Simulation, trace: &[TraceEntry]) -> String {
    if let Some(groups) = simulation.world().groups() {
        return mermaid_of_groups(groups, trace);
    }
    let mut text = String::from("sequenceDiagram\n    participant client as client\n");
    for snapshot in simulation.snapshots_with_wal_tail(0) {
        let _ = writeln!(text, "    participant {} as {} ({})", snapshot.id, snapshot.id, snapshot.label);
    }
    for entry in trace {
        let time = entry.time_ms;
        match &entry.event {
            TraceEvent::Deliver { from, to, message, .. } => {
                let _ = writeln!(
                    text,
                    "    {}->>{}: {}",
                    mermaid_name(*from),
                    mermaid_name(*to),
                    mermaid_text(&message.to_string())
                );
            }
            TraceEvent::Drop { from, to, message, reason, .. } => {
                let label = mermaid_text(&format!("{message} ({reason})"));
                let _ = writeln!(text, "    {}-x{}: {label}", mermaid_name(*from), mermaid_name(*to));
            }
            TraceEvent::WalAppend { node, record } => {
                let _ = writeln!(text, "    Note right of {node}: {time} ms WAL {}", mermaid_text(&record.to_string()));
            }
            TraceEvent::Crash { node, .. } => {
                let _ = writeln!(text, "    Note over {node}: {time} ms CRASH");
            }
            TraceEvent::Restart { node } => {
                let _ = writeln!(text, "    Note over {node}: {time} ms RESTART");
            }
            TraceEvent::Violation(violation) => {
                let over = violation.nodes.first().map_or("client".to_string(), |node| node.to_string());
                let _ = writeln!(text, "    Note over {over}: {}", mermaid_text(&violation.to_string()));
            }
            _ => {}
        }
    }
    text
}

/// A replicated run in seed 002's shape: one participant per group, the 2PC messages between groups
/// (labelled with the replica that sent them), and each replication round as a note on its group
/// from proposal to commit, with the entry; Raft's own messages are left out.
fn mermaid_of_groups(groups: &Groups, trace: &[TraceEntry]) -> String {
    let mut text = String::from("sequenceDiagram\n    participant client as client\n");
    for group in &groups.groups {
        let members = group.members.iter().map(|member| member.to_string()).collect::<Vec<_>>().join(", ");
        let _ = writeln!(text, "    participant {} as {} ({members})", group.label, group.label);
    }
    let label_of = |endpoint: Endpoint| match endpoint {
        Endpoint::Client => "client".to_string(),
        Endpoint::Node(node) => groups.of_member(node).map_or(node.to_string(), |group| group.label.clone()),
    };
    // What each leader sent at each index, learned from the trace itself (not from the cursor).
    let mut entries: VecMap<(NodeId, u64), String> = VecMap::new();
    // Proposals waiting for their commit: (leader, index) -> proposed at.
    let mut proposed: VecMap<(NodeId, u64), Millis> = VecMap::new();
    for entry in trace {
        let time = entry.time_ms;
        match &entry.event {
            TraceEvent::Send { from: Endpoint::Node(leader), message, .. } => {
                remember_entries(&mut entries, *leader, message);
            }
            TraceEvent::Deliver { from, to, message, .. } if message.is_two_phase() => {
                let label = mermaid_text(&format!("{from}: {message}"));
                let _ = writeln!(text, "    {}->>{}: {label}", label_of(*from), label_of(*to));
            }
            TraceEvent::Drop { from, to, message, reason, .. } if message.is_two_phase() => {
                let label = mermaid_text(&format!("{from}: {message} ({reason})"));
                let _ = writeln!(text, "    {}-x{}: {label}", label_of(*from), label_of(*to));
            }
            TraceEvent::Note { at: Endpoint::Node(node), note: Note::Raft(note) } => {
                let group = label_of(Endpoint::Node(*node));
                match note {
                    RaftNote::Proposed { index, .. } => {
                        proposed.insert((*node, *index), time);
                    }
                    RaftNote::Committed { index } => {
                        let done: Vec<(u64, Millis)> = proposed
                            .range((*node, 0)..=(*node, *index))
                            .map(|((_, index), at)| (*index, *at))
                            .collect();
                        for (index, at) in done {
                            proposed.remove(&(*node, index));
                            let what = entries.get(&(*node, index)).map_or("an entry", String::as_str);
                            let what = mermaid_text(what);
                            let _ = writeln!(
                                text,
                                "    Note over {group}: {at}-{time} ms {node} replicated [{index}] {what}"
                            );
                        }
                    }
                    RaftNote::Role { role: RaftRole::Leader, term } => {
                        let _ = writeln!(text, "    Note over {group}: {time} ms {node} leads {group} in term {term}");
                    }
                    _ => {}
                }
            }
            TraceEvent::Crash { node, .. } => {
                let _ = writeln!(text, "    Note over {}: {time} ms CRASH {node}", label_of(Endpoint::Node(*node)));
            }
            TraceEvent::Restart { node } => {
                let _ = writeln!(text, "    Note over {}: {time} ms RESTART {node}", label_of(Endpoint::Node(*node)));
            }
            TraceEvent::Violation(violation) => {
                let over = violation.nodes.first().map_or("client".to_string(), |node| label_of(Endpoint::Node(*node)));
                let _ = writeln!(text, "    Note over {over}: {}", mermaid_text(&violation.to_string()));
            }
            _ => {}
        }
    }
    text
}

/// A leader's AppendEntries carry its own entries: remembers what `leader` holds at each index.
fn remember_entries(texts: &mut VecMap<(NodeId, u64), String>, leader: NodeId, message: &Message) {
    let Message::Raft(RaftMessage::AppendEntries { prev_log_index, entries, .. }) = message else { return };
    for (offset, entry) in entries.iter().enumerate() {
        let text = match &entry.payload {
            Payload::Command(record) => record.to_string(),
            Payload::Noop => "no-op".to_string(),
        };
        texts.insert((leader, prev_log_index + 1 + offset as u64), text);
    }
}

/// The run up to the cursor as data: scenario, how it stopped, the trace (canonical text and
/// structured event per entry), node snapshots, invariants and who is in doubt.
pub fn run_json(simulation: &Simulation) -> serde_json::Value {
    let trace = simulation.trace_to_cursor();
    serde_json::json!({
        "scenario": simulation.scenario().to_value(),
        "stop": simulation.stop(),
        "steps": simulation.cursor_step(),
        "time_ms": simulation.now_ms(),
        "trace_hash": format!("{:016x}", crate::simulation::trace_hash(trace)),
        "trace": trace.iter().map(|entry| serde_json::json!({
            "step": entry.step,
            "time_ms": entry.time_ms,
            "text": entry.event.to_string(),
            "event": entry.event,
        })).collect::<Vec<_>>(),
        "nodes": simulation.snapshots(),
        "invariants": simulation.invariants(),
        "in_doubt": simulation.in_doubt(),
    })
}
