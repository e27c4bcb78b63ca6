//! The page header: the scenario picker and the chosen preset's explanation.

use crate::model::Action;
use crate::state::RevisionProps as Props;
use commitlab_sim::PRESETS;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

#[component]
pub fn Header(props: &Props) -> Html {
    let playground = props.state.get();
    let onchange = {
        let state = props.state.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            state.dispatch(Action::LoadPreset(select.value()));
        })
    };
    let summary = commitlab_sim::preset(&playground.preset).map_or(
        "Your own scenario: edit it below, inject faults by clicking, and watch what the protocol does.",
        |preset| preset.summary,
    );
    html! {
        <header class="page-header">
            <div class="brand">
                <h1>{ "Commit Lab" }</h1>
                <span class="tagline">{ "two-phase commit, step by step" }</span>
            </div>
            <label class="picker">
                <span>{ "Scenario" }</span>
                <select id="preset" aria-label="Scenario" {onchange}>
                    if playground.preset.is_empty() {
                        <option value="" selected=true>{ "(edited scenario)" }</option>
                    }
                    { for PRESETS.iter().map(|preset| html! {
                        <option value={preset.name} selected={preset.name == playground.preset}>{ preset.title }</option>
                    }) }
                </select>
            </label>
            <p id="preset-summary" class="summary">{ summary }</p>
        </header>
    }
}
