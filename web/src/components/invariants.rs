//! The invariants at the cursor, each holding or violated; a violation jumps to its event and
//! highlights the nodes and the transaction's messages. Below, the progress verdict (liveness,
//! apart from safety) and who is blocked in doubt.

use crate::model::Action;
use crate::state::Props;
use commitlab_sim::Invariant;
use yew::prelude::*;

#[component]
pub fn Invariants(props: &Props) -> Html {
    let playground = props.state.get();
    // The first violation of each invariant up to the cursor, from the index rather than a scan
    // of the trace at every frame.
    let step = playground.simulation.cursor_step();
    let statuses: Vec<_> = Invariant::checked(playground.simulation.scenario())
        .iter()
        .map(|invariant| {
            let violation = playground
                .index
                .violations
                .iter()
                .take_while(|(violation_step, _, _)| *violation_step <= step)
                .find(|(_, _, violation)| violation.invariant == *invariant)
                .cloned();
            (*invariant, violation)
        })
        .collect();
    let in_doubt = playground.simulation.in_doubt();
    let progress = commitlab_sim::Progress::of(&playground.simulation);
    let (progress_class, progress_mark) = match &progress {
        commitlab_sim::Progress::Stuck { .. } => ("stuck", "✗"),
        commitlab_sim::Progress::NotJudged { .. } => ("not-judged", "–"),
        commitlab_sim::Progress::Ok { .. } => ("ok", "✓"),
    };
    html! {
        <section class="panel invariants-panel" aria-label="Invariants">
            <h2>{ "Invariants" }</h2>
            <ul id="invariants">
                { for statuses.iter().map(|(invariant, violation)| {
                    let name = invariant.name();
                    match violation {
                        None => html! {
                            <li data-invariant={name} class="ok" title={invariant.description()}>
                                <span class="verdict" aria-label="holds">{ "✓" }</span>
                                <strong>{ name }</strong>
                                <span class="description">{ invariant.description() }</span>
                            </li>
                        },
                        Some((step, time_ms, violation)) => {
                            let onclick = {
                                let state = props.state.clone();
                                let (step, nodes, txn) = (*step, violation.nodes.clone(), violation.txn);
                                Callback::from(move |_: MouseEvent| state.dispatch(Action::JumpToViolation { step, nodes: nodes.clone(), txn }))
                            };
                            html! {
                                <li data-invariant={name} class="violated">
                                    <span class="verdict" aria-label="violated">{ "✗" }</span>
                                    <strong>{ name }</strong>
                                    <span class="description">{ format!("at {time_ms} ms: {}", violation.detail) }</span>
                                    <button class="jump" aria-label={format!("Jump to the {name} violation")} {onclick}>{ "jump" }</button>
                                </li>
                            }
                        }
                    }
                }) }
            </ul>
            <h2>{ "Progress" }</h2>
            <p id="progress" class={progress_class}
                title="liveness, apart from safety: with every node up and connected, every transaction must resolve">
                <span class="verdict" aria-label={progress_class}>{ progress_mark }</span>
                { progress.to_string() }
            </p>
            <h2>{ "Blocked in doubt" }</h2>
            if in_doubt.is_empty() {
                <p class="none">{ "nobody is in doubt" }</p>
            }
            <ul id="in-doubt">
                { for in_doubt.iter().map(|row| {
                    let locks: Vec<String> = row.locks.iter().map(|account| account.to_string()).collect();
                    html! {
                        <li data-node={row.node.to_string()} data-txn={row.txn.to_string()}>
                            { format!("{} {}: voted YES, in doubt for {} ms, holding {}{}", row.node, row.txn, row.for_ms,
                                locks.join(" "), if row.node_up { "" } else { " (node down)" }) }
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
}
