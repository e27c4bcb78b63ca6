//! The trace around the cursor, one canonical line per entry: what the diagram shows, in words.
//! Click a line to move the cursor to its event.

use crate::model::Action;
use crate::state::Props;
use commitlab_sim::TraceEvent;
use yew::prelude::*;

/// How many entries up to the cursor are listed.
const SHOWN: usize = 14;

#[component]
pub fn TraceLog(props: &Props) -> Html {
    let playground = props.state.get();
    let trace = playground.simulation.trace_to_cursor();
    let start = trace.len().saturating_sub(SHOWN);
    let current_step = playground.simulation.cursor_step();
    html! {
        <section class="panel trace-log" aria-label="Trace">
            <h2>{ format!("Trace ({} entries up to the cursor)", trace.len()) }</h2>
            <ol id="trace" start={(start + 1).to_string()}>
                // Keyed by position in the trace, so a sliding list moves its lines.
                { for trace[start..].iter().enumerate().map(|(offset, entry)| {
                    let step = entry.step;
                    let onclick = {
                        let state = props.state.clone();
                        Callback::from(move |_: MouseEvent| state.dispatch(Action::SeekStep(step)))
                    };
                    let class = classes!(
                        (entry.step == current_step).then_some("current"),
                        matches!(entry.event, TraceEvent::Violation(_)).then_some("violation"),
                    );
                    html! {
                        <li key={start + offset} {class}>
                            <button class="entry" {onclick} title="move the cursor to this event">
                                <span class="time">{ format!("{:>6} ms", entry.time_ms) }</span>
                                { entry.event.to_string() }
                            </button>
                        </li>
                    }
                }) }
            </ol>
        </section>
    }
}
