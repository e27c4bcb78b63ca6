//! The state tables at the cursor, per node, as seed 002's "STATE AFTER PREPARE": balances, locks
//! and the transaction table in volatile memory, next to the durable WAL. Beside each balance, what
//! an open transaction has pending on it: with writes in place the balance already holds the change
//! and the undo image is shown (`t1: undo 100`); with writes deferred the balance is unchanged and
//! the redo image waits for COMMIT (`t1: → 90 at COMMIT`). Cells that changed since
//! the cursor last moved are highlighted. A replica of the replicated mode shows its Raft state
//! and log in place of the WAL; its memory is the 2PC state it applied from the committed log (the
//! acting leader's is live), so every replica of a group shows the same "STATE AFTER PREPARE".

use crate::components::crown::crown_icon;
use crate::state::Props;
use commitlab_protocol::{AccountId, NodeId, NodeView, Role, TxnId, TxnView};
use commitlab_sim::{NodeSnapshot, PaxosView, RaftView};
use std::rc::Rc;
use yew::prelude::*;

#[component]
pub fn StateTables(props: &Props) -> Html {
    let playground = props.state.get();
    html! {
        <section id="tables" class="panel" aria-label="Node state">
            <h2>{ format!("State at {} ms", playground.simulation.now_ms()) }</h2>
            <div class="node-cards">
                { for playground.snapshots.iter().map(|snapshot| {
                    let previous = playground.previous_snapshots.iter().find(|old| old.id == snapshot.id);
                    let highlighted = playground.highlighted_nodes.contains(&snapshot.id);
                    html! {
                        <NodeCard key={snapshot.id.0} snapshot={Rc::new(snapshot.clone())}
                            previous={previous.map(|old| Rc::new(old.clone()))} {highlighted} />
                    }
                }) }
            </div>
        </section>
    }
}

/// One node's card. While a run plays most nodes do not change from one frame to the next: their
/// cards keep equal props and Yew skips them (a dozen replicas' tables stay cheap).
#[derive(Properties, PartialEq)]
struct NodeCardProps {
    snapshot: Rc<NodeSnapshot>,
    previous: Option<Rc<NodeSnapshot>>,
    highlighted: bool,
}

#[component]
fn NodeCard(props: &NodeCardProps) -> Html {
    node_card(&props.snapshot, props.previous.as_deref(), props.highlighted)
}

fn changed(condition: bool) -> Option<&'static str> {
    condition.then_some("changed")
}

fn node_card(snapshot: &NodeSnapshot, previous: Option<&NodeSnapshot>, highlighted: bool) -> Html {
    let roles: Vec<String> = snapshot.roles.iter().map(Role::to_string).collect();
    let status_changed = previous.is_some_and(|old| old.up != snapshot.up);
    let class = classes!("node-state", if snapshot.up { "up" } else { "down" }, highlighted.then_some("highlighted"));
    html! {
        <section {class} data-node={snapshot.id.to_string()} aria-label={format!("{} state", snapshot.id)}>
            <header>
                <h3>{ snapshot.id.to_string() }<small>{ format!(" {}", snapshot.label) }</small></h3>
                <span class={classes!("node-status", changed(status_changed))}>{ if snapshot.up { "up" } else { "DOWN" } }</span>
                <span class="roles">{ roles.join(" + ") }</span>
                { replica_badge(snapshot) }
            </header>
            <div class={classes!("columns", snapshot.is_replica().then_some("replica-columns"))}>
                <div class="memory">
                    <h4>{ memory_title(snapshot) }</h4>
                    { match &snapshot.memory {
                        Some(memory) => memory_view(memory, previous.and_then(|old| old.memory.as_ref())),
                        None => html! { <p class="lost">{ "Lost in the crash. A restart rebuilds it from the WAL." }</p> },
                    } }
                </div>
                <div class="durable">
                    { match (&snapshot.raft, &snapshot.paxos) {
                        (Some(raft), _) => raft_view(raft, previous.and_then(|old| old.raft.as_ref())),
                        (_, Some(paxos)) => paxos_view(paxos, previous.and_then(|old| old.paxos.as_ref())),
                        _ => html! { <><h4>{ "WAL (durable)" }</h4>{ wal_view(snapshot, previous) }</> },
                    } }
                </div>
            </div>
        </section>
    }
}

fn memory_view(memory: &NodeView, previous: Option<&NodeView>) -> Html {
    let old_balance =
        |account| previous.and_then(|old| old.balances.iter().find(|(id, _)| *id == account).map(|(_, value)| *value));
    let old_lock =
        |account| previous.and_then(|old| old.locks.iter().find(|(id, _)| *id == account).map(|(_, txn)| *txn));
    html! {
        <>
            if !memory.balances.is_empty() {
                <table class="balances">
                    <thead><tr><th>{ "account" }</th><th>{ "balance" }</th><th>{ "uncommitted" }</th></tr></thead>
                    <tbody>
                        { for memory.balances.iter().map(|(account, value)| html! {
                            <tr>
                                <td>{ account.to_string() }</td>
                                <td class={classes!("balance", changed(old_balance(*account).is_some_and(|old| old != *value)))}
                                    data-account={account.to_string()}>{ value.to_string() }</td>
                                { uncommitted_cell(memory, previous, *account, *value) }
                            </tr>
                        }) }
                    </tbody>
                </table>
                <ul class="locks" aria-label="locks">
                    if memory.locks.is_empty() {
                        <li class="none">{ "no locks held" }</li>
                    }
                    { for memory.locks.iter().map(|(account, txn)| html! {
                        <li data-account={account.to_string()} class={classes!(changed(old_lock(*account) != Some(*txn)))}>
                            { format!("lock {account} held by {txn}") }
                        </li>
                    }) }
                </ul>
            }
            { txn_table(memory, previous) }
            if memory.txns.iter().any(|row| !row.undo.is_empty()) {
                <ul class="undo" aria-label="twoPCWAL">
                    { for memory.txns.iter().flat_map(|row| row.undo.iter().map(move |(account, before)| html! {
                        <li data-account={account.to_string()}>{ format!("twoPCWAL[{}][{account}] = {before}", row.txn) }</li>
                    })) }
                </ul>
            }
            if memory.txns.iter().any(|row| !row.redo.is_empty()) {
                <ul class="redo" aria-label="redo records">
                    { for memory.txns.iter().flat_map(|row| row.redo.iter().map(move |(account, after)| html! {
                        <li data-account={account.to_string()}>{ format!("redo[{}][{account}] = {after}, applied at COMMIT", row.txn) }</li>
                    })) }
                </ul>
            }
            if !memory.journal.is_empty() {
                <ul class="journal" aria-label="journal">
                    { for memory.journal.iter().map(|(txn, line)| html! { <li>{ format!("journal {txn}: {line}") }</li> }) }
                </ul>
            }
            if !memory.steps.is_empty() {
                <ul class="saga-steps" aria-label="saga steps">
                    { for memory.steps.iter().map(|step| html! {
                        <li data-txn={step.txn.to_string()}>{ format!("saga step {step}") }</li>
                    }) }
                </ul>
            }
            if !memory.cached_replies.is_empty() {
                <p class="cache">{ format!("{} cached replies", memory.cached_replies.len()) }</p>
            }
        </>
    }
}

/// What open transactions have pending on one account: an undo image (the balance holds the
/// change, made in place at PREPARE) or a redo image (the balance waits for COMMIT).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    Undo(i64),
    Redo(i64),
}

fn pending_on(memory: &NodeView, account: AccountId) -> Vec<(TxnId, Pending)> {
    let mut pending = Vec::new();
    for row in &memory.txns {
        let undo = row.undo.iter().filter(|(id, _)| *id == account).map(|(_, before)| Pending::Undo(*before));
        let redo = row.redo.iter().filter(|(id, _)| *id == account).map(|(_, after)| Pending::Redo(*after));
        pending.extend(undo.chain(redo).map(|image| (row.txn, image)));
    }
    pending
}

/// The cell beside a balance: `t1: undo 100` in place, `t1: → 90 at COMMIT` deferred, with a
/// tooltip that says what each means; highlighted when it changed since the cursor last moved.
fn uncommitted_cell(memory: &NodeView, previous: Option<&NodeView>, account: AccountId, balance: i64) -> Html {
    let pending = pending_on(memory, account);
    let was_changed = previous.is_some_and(|old| pending_on(old, account) != pending);
    html! {
        <td class={classes!("pending", changed(was_changed))} data-account={account.to_string()}>
            { for pending.iter().map(|(txn, image)| match image {
                Pending::Undo(before) => html! {
                    <span class="pending-undo" data-txn={txn.to_string()}
                        title={format!("{txn} changed {account} in place at PREPARE: COMMIT keeps {balance}, ABORT restores {before} from the undo image in the WAL")}>
                        { format!("{txn}: undo {before}") }
                    </span>
                },
                Pending::Redo(after) => html! {
                    <span class="pending-redo" data-txn={txn.to_string()}
                        title={format!("{txn}'s write to {account} is deferred: the balance stays {balance} until COMMIT applies {after} from the redo record in the WAL; ABORT drops it")}>
                        { format!("{txn}: → {after} at COMMIT") }
                    </span>
                },
            }) }
        </td>
    }
}

fn txn_table(memory: &NodeView, previous: Option<&NodeView>) -> Html {
    if memory.txns.is_empty() {
        return html! { <p class="no-txns">{ "no transactions in progress" }</p> };
    }
    let old_row =
        |row: &TxnView| previous.and_then(|old| old.txns.iter().find(|old| old.txn == row.txn && old.role == row.role));
    html! {
        <table class="txns">
            <thead><tr>
                <th>{ "txn" }</th><th>{ "role" }</th><th>{ "phase" }</th><th>{ "votes / steps" }</th>
                <th>{ "decision" }</th><th>{ "in doubt since" }</th><th>{ "locks" }</th>
            </tr></thead>
            <tbody>
                { for memory.txns.iter().map(|row| {
                    let old = old_row(row);
                    let new_row = old.is_none() && previous.is_some();
                    // A saga's row shows where each step stands instead of votes.
                    let votes: Vec<String> = if row.steps.is_empty() {
                        row.votes.iter().map(|(node, yes)| format!("{node} {}", if *yes { "YES" } else { "NO" })).collect()
                    } else {
                        row.steps.iter().map(ToString::to_string).collect()
                    };
                    let peers: Vec<String> = row.peers.iter().map(|node| node.to_string()).collect();
                    let locks: Vec<String> = row.locks.iter().map(|account| account.to_string()).collect();
                    html! {
                        <tr key={format!("{}-{}", row.txn, row.role)} data-txn={row.txn.to_string()} data-role={row.role.to_string()} class={classes!(changed(new_row))}
                            title={format!("peers: {}", peers.join(", "))}>
                            <td>{ row.txn.to_string() }</td>
                            <td>{ row.role.to_string() }</td>
                            <td class={classes!("phase", changed(old.is_some_and(|old| old.phase != row.phase)))}>{ row.phase.name() }</td>
                            <td class={classes!(changed(old.is_some_and(|old| old.votes != row.votes || old.steps != row.steps)))}>{ votes.join(", ") }</td>
                            <td class={classes!(changed(old.is_some_and(|old| old.decision != row.decision)))}>
                                { row.decision.map(|decision| decision.to_string()).unwrap_or_default() }
                            </td>
                            <td>{ row.in_doubt_since_ms.map(|since| format!("{since} ms")).unwrap_or_default() }</td>
                            <td>{ locks.join(" ") }</td>
                        </tr>
                    }
                }) }
            </tbody>
        </table>
    }
}

fn wal_view(snapshot: &NodeSnapshot, previous: Option<&NodeSnapshot>) -> Html {
    // Records are numbered from the start of the log; the snapshot carries only the newest.
    let total = snapshot.wal_first + snapshot.wal.len();
    let old_total = previous.map_or(total, |old| old.wal_first + old.wal.len());
    let hidden = snapshot.wal_first;
    html! {
        <ol class="wal" start={(hidden + 1).to_string()}>
            if total == 0 && snapshot.unwritten.is_empty() {
                <li class="none">{ "empty" }</li>
            }
            if hidden > 0 {
                <li class="earlier">{ format!("… {hidden} earlier records") }</li>
            }
            // Keyed by record number, and one child of its own, so a sliding tail moves rows
            // instead of rewriting every one.
            { snapshot.wal.iter().enumerate().map(|(offset, record)| html! {
                <li key={hidden + offset} class={classes!(changed(hidden + offset >= old_total))}>{ record.to_string() }</li>
            }).collect::<Html>() }
            { for snapshot.unwritten.iter().map(|record| html! {
                <li class="unwritten" title="handed to the disk, not yet durable: lost if the node crashes now">
                    { format!("{record} (being written)") }
                </li>
            }) }
        </ol>
    }
}

fn memory_title(snapshot: &NodeSnapshot) -> &'static str {
    match (snapshot.is_replica(), snapshot.acting(), snapshot.paxos.is_some()) {
        (false, _, _) => "Memory (volatile)",
        (true, true, _) => "Memory (volatile, acting leader)",
        (true, false, true) => "Memory (applied from the chosen log)",
        (true, false, false) => "Memory (applied from the committed log)",
    }
}

/// The replica's role and term (or ballot) beside its name, crowned when it leads.
fn replica_badge(snapshot: &NodeSnapshot) -> Html {
    let (role, epoch) = match (&snapshot.raft, &snapshot.paxos) {
        (Some(raft), _) => (raft.role.to_string(), format!("term {}", raft.term)),
        (_, Some(paxos)) => (paxos.role.to_string(), format!("ballot {}", paxos.ballot)),
        _ => return html! {},
    };
    let leader = snapshot.leads();
    html! {
        <span class={classes!("raft-role", leader.then_some("leader"))} data-role={role.clone()}>
            if leader { { crown_icon() } }
            { format!("{role} · {epoch}") }
        </span>
    }
}

/// One row of a replica's consensus state, highlighted when it changed since the previous cursor.
fn state_row<V>(name: &'static str, now: &V, previous: Option<&V>, value: &dyn Fn(&V) -> String) -> Html {
    let shown = value(now);
    let was_changed = previous.is_some_and(|old| value(old) != shown);
    html! {
        <tr data-field={name}>
            <th>{ name }</th>
            <td class={classes!(changed(was_changed))}>{ shown }</td>
        </tr>
    }
}

fn node_or_none(node: Option<NodeId>) -> String {
    node.map_or("none".to_string(), |node| node.to_string())
}

/// A Multi-Paxos replica as seed 002's "STATE AFTER PREPARE" box: the acceptor's promise, the
/// state machine's `Log` by sequence number, `PrepareSeq`, and the slots with what each holds.
fn paxos_view(paxos: &PaxosView, previous: Option<&PaxosView>) -> Html {
    let row = |name: &'static str, value: &dyn Fn(&PaxosView) -> String| state_row(name, paxos, previous, value);
    let prepare_seq = |paxos: &PaxosView| match paxos.prepare_seq.as_slice() {
        [] => "none".to_string(),
        [(_, seq)] => seq.to_string(),
        many => many.iter().map(|(txn, seq)| format!("{txn}: {seq}")).collect::<Vec<_>>().join(", "),
    };
    let old_row = |seq: u64| previous.and_then(|old| old.log.iter().find(|row| row.seq == seq));
    html! {
        <>
            <h4>{ "Multi-Paxos (promise, accepted and chosen values durable)" }</h4>
            <div class="raft-columns">
            <table class="raft-state paxos-state">
                <tbody>
                    { row("role", &|paxos| paxos.role.to_string()) }
                    { row("ballot", &|paxos| paxos.ballot.clone()) }
                    { row("promised", &|paxos| paxos.promised.clone()) }
                    { row("leader", &|paxos| node_or_none(paxos.leader)) }
                    { row("acting", &|paxos| if paxos.acting { "yes".to_string() } else { "no".to_string() }) }
                    { row("chosen through", &|paxos| paxos.chosen_through.to_string()) }
                    { row("PrepareSeq", &prepare_seq) }
                </tbody>
            </table>
            <table class="seq-log">
                <caption>{ "Log by sequence number" }</caption>
                <thead><tr><th>{ "seq" }</th><th>{ "txn" }</th><th>{ "phase" }</th><th>{ "executed" }</th></tr></thead>
                <tbody>
                    if paxos.log.is_empty() {
                        <tr class="none"><td colspan="4">{ "no transaction yet" }</td></tr>
                    }
                    { paxos.log.iter().map(|row| {
                        let old = old_row(row.seq);
                        let executed = match (row.executed, row.completed) {
                            (true, true) => "yes, completed",
                            (true, false) => "yes",
                            (false, _) => "not yet (accepted)",
                        };
                        html! {
                            <tr key={row.seq} data-seq={row.seq.to_string()}
                                class={classes!(changed(previous.is_some() && old.is_none()))}>
                                <td>{ format!("Log[{}]", row.seq) }</td>
                                <td>{ row.txn.to_string() }</td>
                                <td class={classes!("phase", changed(old.is_some_and(|old| old.phase != row.phase)))}>{ row.phase.to_string() }</td>
                                <td class={classes!(changed(old.is_some_and(|old| (old.executed, old.completed) != (row.executed, row.completed))))}>{ executed }</td>
                            </tr>
                        }
                    }).collect::<Html>() }
                </tbody>
            </table>
            { paxos_slots(paxos, previous) }
            </div>
        </>
    }
}

/// The Paxos slots, each executed, chosen or only accepted here.
fn paxos_slots(paxos: &PaxosView, previous: Option<&PaxosView>) -> Html {
    let status = |view: &PaxosView, slot: u64| -> &'static str {
        match view.slots.iter().find(|row| row.slot == slot) {
            Some(row) if row.chosen && slot <= view.applied => "executed",
            Some(row) if row.chosen => "chosen",
            Some(_) => "accepted",
            None => "",
        }
    };
    html! {
        <table class="raft-log paxos-slots">
            <thead><tr><th>{ "slot" }</th><th>{ "ballot" }</th><th>{ "value" }</th><th>{ "status" }</th></tr></thead>
            <tbody>
                if paxos.slots.is_empty() {
                    <tr class="none"><td colspan="4">{ "no slot used" }</td></tr>
                }
                { paxos.slots.iter().map(|row| {
                    let now = status(paxos, row.slot);
                    let status_changed = previous.is_some_and(|old| status(old, row.slot) != now);
                    html! {
                        <tr key={row.slot} class={classes!(now)} data-slot={row.slot.to_string()}>
                            <td>{ format!("#{}", row.slot) }</td>
                            <td>{ row.ballot.clone().unwrap_or_default() }</td>
                            <td class="entry">{ &row.value }</td>
                            <td class={classes!("status", changed(status_changed))}>{ now }</td>
                        </tr>
                    }
                }).collect::<Html>() }
            </tbody>
        </table>
    }
}

/// A replica's consensus state: durable term, vote and log; volatile role, leader and indexes.
fn raft_view(raft: &RaftView, previous: Option<&RaftView>) -> Html {
    let row = |name: &'static str, value: &dyn Fn(&RaftView) -> String| state_row(name, raft, previous, value);
    html! {
        <>
            <h4>{ "Raft (term, vote, log durable)" }</h4>
            <div class="raft-columns">
            <table class="raft-state">
                <tbody>
                    { row("role", &|raft| raft.role.to_string()) }
                    { row("term", &|raft| raft.term.to_string()) }
                    { row("voted for", &|raft| node_or_none(raft.voted_for)) }
                    { row("leader", &|raft| node_or_none(raft.leader)) }
                    { row("acting", &|raft| if raft.acting { "yes".to_string() } else { "no".to_string() }) }
                    { row("commit index", &|raft| raft.commit_index.to_string()) }
                    { row("applied index", &|raft| raft.applied_index.to_string()) }
                </tbody>
            </table>
            { raft_log(raft, previous) }
            </div>
        </>
    }
}

/// The log, newest entries last, each marked applied, committed or uncommitted.
fn raft_log(raft: &RaftView, previous: Option<&RaftView>) -> Html {
    let hidden = raft.log.first().map_or(0, |row| row.index - 1);
    let old_last = previous.and_then(|old| old.log.last()).map_or(0, |row| row.index);
    let old_status = |index: u64| previous.map(|old| log_status(old, index));
    html! {
        <table class="raft-log">
            <thead><tr><th>{ "index" }</th><th>{ "term" }</th><th>{ "entry" }</th><th>{ "status" }</th></tr></thead>
            <tbody>
                if raft.log.is_empty() {
                    <tr class="none"><td colspan="4">{ "empty log" }</td></tr>
                }
                if hidden > 0 {
                    <tr class="earlier"><td colspan="4">{ format!("… {hidden} earlier entries") }</td></tr>
                }
                // Keyed by index, and one child of its own, so a sliding tail moves rows instead
                // of rewriting every one.
                { raft.log.iter().map(|row| {
                    let status = log_status(raft, row.index);
                    let status_changed = old_status(row.index).is_some_and(|old| old != status);
                    html! {
                        <tr key={row.index} class={classes!(status, changed(previous.is_some() && row.index > old_last))} data-index={row.index.to_string()}>
                            <td>{ row.index.to_string() }</td>
                            <td>{ row.term.to_string() }</td>
                            <td class="entry">{ &row.entry }</td>
                            <td class={classes!("status", changed(status_changed))}>{ status }</td>
                        </tr>
                    }
                }).collect::<Html>() }
            </tbody>
        </table>
    }
}

fn log_status(raft: &RaftView, index: u64) -> &'static str {
    if index <= raft.applied_index {
        "applied"
    } else if index <= raft.commit_index {
        "committed"
    } else {
        "uncommitted"
    }
}
