//! The fault schedule: every fault of the run, whether written in the scenario or added by a
//! click, editable (move in time, remove); and the partition tool.

use crate::model::Action;
use crate::state::{on_click, RevisionProps as Props};
use commitlab_protocol::Endpoint;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[component]
pub fn Faults(props: &Props) -> Html {
    let playground = props.state.get();
    let faults = &playground.scenario().faults;
    let endpoints: Vec<Endpoint> = std::iter::once(Endpoint::Client)
        .chain(playground.snapshots.iter().map(|snapshot| Endpoint::Node(snapshot.id)))
        .collect();
    let send = |action: Action| on_click(&props.state, action);
    html! {
        <section class="panel faults-panel" aria-label="Faults">
            <h2>{ "Fault schedule" }</h2>
            <ol id="faults">
                if faults.is_empty() {
                    <li class="none">{ "No faults: click a node, a message or use the partition tool to add one at the cursor." }</li>
                }
                { for faults.iter().enumerate().map(|(index, scheduled)| {
                    let on_time = {
                        let state = props.state.clone();
                        Callback::from(move |event: Event| {
                            let input: HtmlInputElement = event.target_unchecked_into();
                            if let Ok(value) = input.value().parse() {
                                state.dispatch(Action::MoveFault(index, value));
                            }
                        })
                    };
                    html! {
                        <li class="fault">
                            <label>
                                { "at " }
                                <input type="number" min="0" value={scheduled.at_ms.to_string()} onchange={on_time}
                                    aria-label={format!("Time of fault {}", index + 1)} />
                                { " ms: " }
                            </label>
                            <span class="fault-text">{ scheduled.fault.to_string() }</span>
                            <button onclick={send(Action::RemoveFault(index))} aria-label={format!("Remove fault {}: {}", index + 1, scheduled.fault)}>
                                { "remove" }
                            </button>
                        </li>
                    }
                }) }
            </ol>
            <fieldset class="partition-tool">
                <legend>{ "Partition at the cursor: cut these off from the rest" }</legend>
                { for endpoints.iter().map(|endpoint| {
                    let checked = playground.partition_draft.contains(endpoint);
                    let endpoint = *endpoint;
                    let state = props.state.clone();
                    let onchange = Callback::from(move |_: Event| state.dispatch(Action::TogglePartitionMember(endpoint)));
                    html! {
                        <label class="member">
                            <input type="checkbox" {checked} {onchange} aria-label={format!("Put {endpoint} on the cut-off side")} />
                            { endpoint.to_string() }
                        </label>
                    }
                }) }
                <button id="partition" onclick={send(Action::Partition)}>{ "Partition" }</button>
                <button id="heal" onclick={send(Action::Heal)}>{ "Heal" }</button>
            </fieldset>
        </section>
    }
}
