//! The selected message: what it is, where it is, and, while it is in flight, the faults that
//! can act on it (drop, delay, duplicate), each recorded into the scenario at the cursor.

use crate::model::Action;
use crate::state::{on_click, Props};
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[component]
pub fn MessageDetails(props: &Props) -> Html {
    let playground = props.state.get();
    let Some(message) = playground.selected_message.and_then(|id| playground.index.message(id)) else {
        return html! {
            <section class="panel details" aria-label="Message">
                <p class="hint">{ "Click an arrow or a moving message to see it; while it is in flight you can drop, delay or duplicate it. Click a node to crash or restart it." }</p>
            </section>
        };
    };
    let step = playground.simulation.cursor_step();
    let id = message.id;
    let send = |action: Action| on_click(&props.state, action);
    let on_delay = {
        let state = props.state.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse() {
                state.dispatch(Action::SetDelayMs(value));
            }
        })
    };
    html! {
        <section class="panel details" aria-label="Message">
            <h2>{ format!("{} {} → {}", message.id, message.from, message.to) }</h2>
            <p class="message-label">{ &message.label }</p>
            <p>{ super::sequence::describe(message, step) }</p>
            if message.in_flight_at(step) && message.from != message.to {
                <div class="message-actions">
                    <button onclick={send(Action::DropMessage(id))} aria-label={format!("Drop {id}")}>{ "Drop" }</button>
                    <button onclick={send(Action::DuplicateMessage(id))} aria-label={format!("Duplicate {id}")}>{ "Duplicate" }</button>
                    <button onclick={send(Action::DelayMessage(id))} aria-label={format!("Delay {id}")}>{ "Delay by" }</button>
                    <input type="number" min="1" max="60000" aria-label="Delay in milliseconds"
                        value={playground.delay_ms.to_string()} oninput={on_delay} />
                    <span>{ "ms" }</span>
                </div>
            } else {
                <p class="hint">{ "Not in flight at the cursor: move the cursor to when it travels to act on it." }</p>
            }
            <button class="link" onclick={send(Action::SelectMessage(None))}>{ "close" }</button>
        </section>
    }
}
