//! Share, embed and export: the link to this run at this cursor, a ready `<iframe>` for a
//! documentation page, and the run as Mermaid, SVG, trace JSON or scenario file (download and
//! upload).

use crate::browser;
use crate::embed::{iframe_snippet, ControlsLevel, EmbedOptions, EmbedView, Theme};
use crate::model::Action;
use crate::state::Props;
use commitlab_sim::export::{mermaid_of, run_json};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Open {
    Nothing,
    Share,
    Embed,
    Export,
}

#[component]
pub fn ShareBar(props: &Props) -> Html {
    let open = use_state(|| Open::Nothing);
    let copied = use_state(|| None::<&'static str>);
    let embed = use_state(|| EmbedOptions { view: EmbedView::Sequence, autoplay: true, ..EmbedOptions::default() });
    let toggle = |which: Open| {
        let (open, copied) = (open.clone(), copied.clone());
        Callback::from(move |_: MouseEvent| {
            copied.set(None);
            open.set(if *open == which { Open::Nothing } else { which });
        })
    };
    let compare = {
        let state = props.state.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(fragment) = crate::compare::compare_with_other_engine(&state.get()) {
                browser::open_fragment(&fragment);
            }
        })
    };
    // A link to another fragment of this page does not reload it: open it as a fresh page.
    let open_comparisons = Callback::from(|event: MouseEvent| {
        event.prevent_default();
        browser::open_fragment(&format!("c={}", commitlab_sim::presets::DEFAULT_COMPARISON));
    });
    let playground = props.state.get();
    let panel = match *open {
        Open::Nothing => html! {},
        Open::Share => share_panel(&playground.share_fragment(), &copied, props),
        Open::Embed => embed_panel(&playground.share_fragment(), &embed, &copied, &playground.preset),
        Open::Export => export_panel(props, &copied),
    };
    html! {
        <div class="share-bar">
            <div class="share-buttons">
                <button id="share" aria-expanded={(*open == Open::Share).to_string()} onclick={toggle(Open::Share)}>{ "Share" }</button>
                <button id="embed" aria-expanded={(*open == Open::Embed).to_string()} onclick={toggle(Open::Embed)}>{ "Embed" }</button>
                <button id="export" aria-expanded={(*open == Open::Export).to_string()} onclick={toggle(Open::Export)}>{ "Export" }</button>
                <button id="compare" title="This run beside the same scenario under the next engine, on one clock" onclick={compare}>
                    { "Compare ↔" }
                </button>
                <a id="comparisons" class="button-link" href={format!("{}#c={}", browser::page_url(), commitlab_sim::presets::DEFAULT_COMPARISON)}
                    onclick={open_comparisons}>{ "Comparisons" }</a>
            </div>
            { panel }
        </div>
    }
}

fn copy_button(id: &'static str, text: String, copied: &UseStateHandle<Option<&'static str>>) -> Html {
    let copied_now = **copied == Some(id);
    let copied = copied.clone();
    let onclick = Callback::from(move |_: MouseEvent| {
        if browser::copy_to_clipboard(&text) {
            copied.set(Some(id));
        }
    });
    html! {
        <button id={id} {onclick}>{ if copied_now { "Copied ✓" } else { "Copy" } }</button>
    }
}

fn share_panel(
    fragment: &Result<String, commitlab_sim::LinkError>,
    copied: &UseStateHandle<Option<&'static str>>,
    props: &Props,
) -> Html {
    match fragment {
        Ok(fragment) => {
            let url = format!("{}#{fragment}", browser::page_url());
            html! {
                <div class="popover" role="dialog" aria-label="Share link">
                    <p>{ "This link replays exactly this run, with its faults, and opens at this cursor." }</p>
                    <div class="row">
                        <input id="share-link" type="text" readonly=true value={url.clone()} aria-label="Share link"
                            onfocus={Callback::from(|event: FocusEvent| select_all(&event))} />
                        { copy_button("copy-link", url.clone(), copied) }
                    </div>
                    <p class="hint">{ format!("{} characters", url.len()) }</p>
                </div>
            }
        }
        Err(error) => {
            let state = props.state.clone();
            let onclick = Callback::from(move |_: MouseEvent| {
                let json = state.get().scenario().to_json_pretty();
                browser::download("commitlab-scenario.json", "application/json", &json);
            });
            html! {
                <div class="popover" role="dialog" aria-label="Share link">
                    <p class="error" role="alert">{ error.to_string() }</p>
                    <button {onclick}>{ "Download the scenario file" }</button>
                </div>
            }
        }
    }
}

fn embed_panel(
    fragment: &Result<String, commitlab_sim::LinkError>,
    embed: &UseStateHandle<EmbedOptions>,
    copied: &UseStateHandle<Option<&'static str>>,
    preset: &str,
) -> Html {
    let Ok(fragment) = fragment else {
        return html! { <div class="popover"><p class="error">{ "This scenario is too large for a link, so it cannot be embedded." }</p></div> };
    };
    let title = commitlab_sim::preset(preset).map_or("a two-phase commit run", |preset| preset.title);
    let snippet = iframe_snippet(&browser::page_url(), embed, fragment, title);
    let set = |apply: fn(&mut EmbedOptions, &str)| {
        let embed = embed.clone();
        Callback::from(move |event: Event| {
            let value = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlSelectElement>().ok())
                .map(|select| select.value())
                .unwrap_or_default();
            let mut options = (*embed).clone();
            apply(&mut options, &value);
            embed.set(options);
        })
    };
    let on_autoplay = {
        let embed = embed.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            embed.set(EmbedOptions { autoplay: input.checked(), ..(*embed).clone() });
        })
    };
    html! {
        <div class="popover" role="dialog" aria-label="Embed">
            <p>{ "Paste this into a documentation page: a read-only view of this run, with a link back to the full playground." }</p>
            <div class="row options">
                <label>{ "view " }
                    <select aria-label="Embedded view" onchange={set(|options, value| {
                        options.view = EmbedView::parse(value).unwrap_or(options.view) })}>
                        { for EmbedView::ALL.iter().map(|view| html! {
                            <option value={view.to_string()} selected={*view == embed.view}>{ view.to_string() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "controls " }
                    <select aria-label="Embedded controls" onchange={set(|options, value| {
                        options.controls = ControlsLevel::parse(value).unwrap_or(options.controls) })}>
                        { for ControlsLevel::ALL.iter().map(|level| html! {
                            <option value={level.to_string()} selected={*level == embed.controls}>{ level.to_string() }</option>
                        }) }
                    </select>
                </label>
                <label>{ "theme " }
                    <select aria-label="Embedded theme" onchange={set(|options, value| {
                        options.theme = Theme::parse(value).unwrap_or(options.theme) })}>
                        { for Theme::ALL.iter().map(|theme| html! {
                            <option value={theme.to_string()} selected={*theme == embed.theme}>{ theme.to_string() }</option>
                        }) }
                    </select>
                </label>
                <label><input type="checkbox" checked={embed.autoplay} onchange={on_autoplay} aria-label="Autoplay" />{ " autoplay" }</label>
            </div>
            <textarea id="embed-snippet" readonly=true aria-label="Embed snippet" value={snippet.clone()} />
            { copy_button("copy-embed", snippet, copied) }
        </div>
    }
}

fn export_panel(props: &Props, copied: &UseStateHandle<Option<&'static str>>) -> Html {
    let playground = props.state.get();
    let mermaid = mermaid_of(&playground.simulation, playground.simulation.trace());
    let download =
        |filename: &'static str, mime: &'static str, make: fn(&crate::model::Playground) -> Option<String>| {
            let state = props.state.clone();
            Callback::from(move |_: MouseEvent| {
                if let Some(content) = make(&state.get()) {
                    browser::download(filename, mime, &content);
                }
            })
        };
    let on_upload = {
        let state = props.state.clone();
        Callback::from(move |event: Event| {
            let input: HtmlInputElement = event.target_unchecked_into();
            let Some(file) = input.files().and_then(|files| files.get(0)) else { return };
            let state = state.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let text = wasm_bindgen_futures::JsFuture::from(file.text()).await;
                match text.ok().and_then(|text| text.as_string()) {
                    Some(text) => state.dispatch(Action::LoadScenarioText(text)),
                    None => state.dispatch(Action::LoadScenarioText(String::new())),
                }
            });
            input.set_value("");
        })
    };
    html! {
        <div class="popover export" role="dialog" aria-label="Export">
            <div class="row">
                <button id="download-svg" onclick={download("commitlab-sequence.svg", "image/svg+xml", |_| browser::sequence_svg())}>
                    { "Sequence diagram (SVG, as shown)" }
                </button>
                <button id="download-trace" onclick={download("commitlab-trace.json", "application/json", |playground| {
                    serde_json::to_string_pretty(&run_json(&playground.simulation)).ok()
                })}>{ "Trace up to the cursor (JSON)" }</button>
                <button id="download-scenario" onclick={download("commitlab-scenario.json", "application/json", |playground| {
                    Some(playground.scenario().to_json_pretty())
                })}>{ "Scenario (JSON file)" }</button>
                <label class="upload">{ "Open a scenario file: " }
                    <input id="upload-scenario" type="file" accept=".json,application/json" onchange={on_upload} aria-label="Open a scenario file" />
                </label>
            </div>
            <p>{ "Mermaid sequenceDiagram of the whole run, for Markdown and mermaid.live:" }</p>
            <textarea id="mermaid-text" readonly=true aria-label="Mermaid text" value={mermaid.clone()} />
            <div class="row">
                { copy_button("copy-mermaid", mermaid, copied) }
                <button id="download-mermaid" onclick={download("commitlab-run.mmd", "text/plain", |playground| {
                    Some(mermaid_of(&playground.simulation, playground.simulation.trace()))
                })}>{ "Download .mmd" }</button>
            </div>
        </div>
    }
}

fn select_all(event: &FocusEvent) {
    if let Some(input) = event.target().and_then(|target| target.dyn_into::<HtmlInputElement>().ok()) {
        input.select();
    }
}
