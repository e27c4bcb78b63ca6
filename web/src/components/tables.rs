//! The state tables at the cursor, per node, as seed 002's "STATE AFTER PREPARE": balances, locks
//! and the transaction table in volatile memory, next to the durable WAL. Cells that changed since
//! the cursor last moved are highlighted.

use crate::state::Props;
use commitlab_protocol::{NodeView, Role, TxnView};
use commitlab_sim::NodeSnapshot;
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
                    node_card(snapshot, previous, highlighted)
                }) }
            </div>
        </section>
    }
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
            </header>
            <div class="columns">
                <div class="memory">
                    <h4>{ "Memory (volatile)" }</h4>
                    { match &snapshot.memory {
                        Some(memory) => memory_view(memory, previous.and_then(|old| old.memory.as_ref())),
                        None => html! { <p class="lost">{ "Lost in the crash. A restart rebuilds it from the WAL." }</p> },
                    } }
                </div>
                <div class="durable">
                    <h4>{ "WAL (durable)" }</h4>
                    { wal_view(snapshot, previous) }
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
                    <thead><tr><th>{ "account" }</th><th>{ "balance" }</th></tr></thead>
                    <tbody>
                        { for memory.balances.iter().map(|(account, value)| html! {
                            <tr>
                                <td>{ account.to_string() }</td>
                                <td class={classes!("balance", changed(old_balance(*account).is_some_and(|old| old != *value)))}
                                    data-account={account.to_string()}>{ value.to_string() }</td>
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
            if !memory.journal.is_empty() {
                <ul class="journal" aria-label="journal">
                    { for memory.journal.iter().map(|(txn, line)| html! { <li>{ format!("journal {txn}: {line}") }</li> }) }
                </ul>
            }
            if !memory.cached_replies.is_empty() {
                <p class="cache">{ format!("{} cached replies", memory.cached_replies.len()) }</p>
            }
        </>
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
                <th>{ "txn" }</th><th>{ "role" }</th><th>{ "phase" }</th><th>{ "votes" }</th>
                <th>{ "decision" }</th><th>{ "in doubt since" }</th><th>{ "locks" }</th>
            </tr></thead>
            <tbody>
                { for memory.txns.iter().map(|row| {
                    let old = old_row(row);
                    let new_row = old.is_none() && previous.is_some();
                    let votes: Vec<String> = row.votes.iter().map(|(node, yes)| format!("{node} {}", if *yes { "YES" } else { "NO" })).collect();
                    let peers: Vec<String> = row.peers.iter().map(|node| node.to_string()).collect();
                    let locks: Vec<String> = row.locks.iter().map(|account| account.to_string()).collect();
                    html! {
                        <tr data-txn={row.txn.to_string()} data-role={row.role.to_string()} class={classes!(changed(new_row))}
                            title={format!("peers: {}", peers.join(", "))}>
                            <td>{ row.txn.to_string() }</td>
                            <td>{ row.role.to_string() }</td>
                            <td class={classes!("phase", changed(old.is_some_and(|old| old.phase != row.phase)))}>{ row.phase }</td>
                            <td class={classes!(changed(old.is_some_and(|old| old.votes != row.votes)))}>{ votes.join(", ") }</td>
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
            { for snapshot.wal.iter().enumerate().map(|(offset, record)| html! {
                <li class={classes!(changed(hidden + offset >= old_total))}>{ record.to_string() }</li>
            }) }
            { for snapshot.unwritten.iter().map(|record| html! {
                <li class="unwritten" title="handed to the disk, not yet durable: lost if the node crashes now">
                    { format!("{record} (being written)") }
                </li>
            }) }
        </ol>
    }
}
