//! The Explore panel: every interleaving of the scenario on screen, within bounds on faults and
//! timer firings, searched in a Web Worker while the page stays responsive. Each property's
//! verdict, and for each counterexample its steps, a button that loads it into the playground
//! (exactly as opening its share link does, the cursor on the violating step) and the link.

use crate::browser;
use crate::explore::{
    CounterexampleResult, ExploreAction, ExploreField, ExplorePanel, ExploreResults, PropertyResult, RunStatus,
    SearchOrder, MAX_STATES_LIMIT,
};
use crate::explore_worker::ExploreWorker;
use crate::model::Action;
use crate::state::{on_click, Handle, RevisionProps};
use commitlab_explore::grouped;
use commitlab_explore::implementation::Bounds;
use std::cell::RefCell;
use std::rc::Rc;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The panel's state as Yew holds it.
#[derive(Default, PartialEq)]
struct PanelState(ExplorePanel);

impl Reducible for PanelState {
    type Action = ExploreAction;

    fn reduce(self: Rc<Self>, action: ExploreAction) -> Rc<Self> {
        let mut panel = self.0.clone();
        panel.apply(action);
        Rc::new(PanelState(panel))
    }
}

type PanelHandle = UseReducerHandle<PanelState>;

#[component]
pub fn Explore(props: &RevisionProps) -> Html {
    let panel = use_reducer(PanelState::default);
    let worker: Rc<RefCell<Option<ExploreWorker>>> = use_mut_ref(|| None);
    {
        // A search that ended has nothing more to say: end its worker (and free its memory).
        let worker = worker.clone();
        use_effect_with(panel.0.status, move |status| {
            if !status.busy() {
                worker.borrow_mut().take();
            }
        });
    }
    let playground = props.state.get();
    let validation = panel.0.form.request(playground.scenario());
    let toggle = {
        let panel = panel.clone();
        Callback::from(move |_: MouseEvent| panel.dispatch(ExploreAction::Toggle))
    };
    let open = panel.0.open;
    html! {
        <section id="explore" class="panel explore-panel" aria-label="Explore" data-status={panel.0.status.name()}>
            <div class="explore-header">
                <h2>{ "Explore every interleaving" }</h2>
                <button id="explore-toggle" aria-expanded={open.to_string()} aria-controls="explore-body" onclick={toggle}>
                    { if open { "Hide" } else { "Open" } }
                </button>
            </div>
            if open {
                <div id="explore-body">
                    <p class="explore-intro">
                        { "Runs this scenario's protocol through every order its messages, disk writes and timers can take, \
                           with up to the faults below on any one path, and checks every invariant in every state. \
                           It runs beside the page, in a worker: the playground stays usable." }
                    </p>
                    { form(&panel, validation.as_ref().err()) }
                    { buttons(&panel, &worker, &props.state, validation.is_ok()) }
                    { progress_line(&panel.0) }
                    if let Some(results) = &panel.0.results {
                        { results_view(results, &props.state) }
                    }
                </div>
            }
        </section>
    }
}

fn form(panel: &PanelHandle, problem: Option<&String>) -> Html {
    let busy = panel.0.status.busy();
    let input = |field: ExploreField| {
        let id = format!("explore-{}", field.label().replace(' ', "-"));
        let oninput = {
            let panel = panel.clone();
            Callback::from(move |event: InputEvent| {
                let input: HtmlInputElement = event.target_unchecked_into();
                panel.dispatch(ExploreAction::Edit(field, input.value()));
            })
        };
        let max = if field == ExploreField::MaxStates { MAX_STATES_LIMIT } else { u64::from(Bounds::MAX) };
        let min = if field == ExploreField::MaxStates { 1 } else { 0 };
        html! {
            <label class="explore-field" title={field.help()}>
                <span>{ field.label() }</span>
                <input {id} type="number" min={min.to_string()} max={max.to_string()} step="1" disabled={busy}
                    value={panel.0.form.value(field).to_string()} {oninput} aria-label={field.label()} />
            </label>
        }
    };
    let onchange = {
        let panel = panel.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            let search =
                if select.value() == "depth-first" { SearchOrder::DepthFirst } else { SearchOrder::BreadthFirst };
            panel.dispatch(ExploreAction::SetSearch(search));
        })
    };
    let breadth = panel.0.form.search == SearchOrder::BreadthFirst;
    html! {
        <div class="explore-form">
            <fieldset class="explore-bounds">
                <legend>{ format!("faults and timer firings on one path (0 to {})", Bounds::MAX) }</legend>
                { for ExploreField::BOUNDS.into_iter().map(input) }
            </fieldset>
            <label class="explore-field">
                <span>{ "search" }</span>
                <select id="explore-search" aria-label="search" disabled={busy} {onchange}>
                    <option value="breadth-first" selected={breadth}>{ "breadth first (shortest counterexamples)" }</option>
                    <option value="depth-first" selected={!breadth}>{ "depth first (less memory)" }</option>
                </select>
            </label>
            { input(ExploreField::MaxStates) }
            if let Some(problem) = problem {
                <p id="explore-error" class="explore-error" role="alert">{ problem.clone() }</p>
            }
        </div>
    }
}

fn buttons(panel: &PanelHandle, worker: &Rc<RefCell<Option<ExploreWorker>>>, state: &Handle, valid: bool) -> Html {
    let status = panel.0.status;
    let start = {
        let (panel, worker, state) = (panel.clone(), worker.clone(), state.clone());
        Callback::from(move |_: MouseEvent| start_search(&panel, &worker, &state))
    };
    let stop = {
        let (panel, worker) = (panel.clone(), worker.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(worker) = worker.borrow().as_ref() {
                worker.stop();
            }
            panel.dispatch(ExploreAction::Stop);
        })
    };
    html! {
        <div class="explore-buttons">
            <button id="explore-start" onclick={start} disabled={status.busy() || !valid}>{ "Start" }</button>
            <button id="explore-stop" onclick={stop} disabled={status != RunStatus::Running}>{ "Stop" }</button>
            if let Some(error) = &panel.0.error {
                <p id="explore-failure" class="explore-error" role="alert">{ error.clone() }</p>
            }
        </div>
    }
}

fn start_search(panel: &PanelHandle, worker: &Rc<RefCell<Option<ExploreWorker>>>, state: &Handle) {
    let request = match panel.0.form.request(state.get().scenario()) {
        Ok(request) => request,
        Err(problem) => return panel.dispatch(ExploreAction::NotStarted(problem)),
    };
    let dispatcher = panel.dispatcher();
    match ExploreWorker::start(&request, move |message| dispatcher.dispatch(ExploreAction::Message(message))) {
        Ok(started) => {
            // Replacing a previous worker ends it.
            *worker.borrow_mut() = Some(started);
            panel.dispatch(ExploreAction::Started { max_states: request.max_states });
        }
        Err(problem) => panel.dispatch(ExploreAction::NotStarted(problem)),
    }
}

fn progress_line(panel: &ExplorePanel) -> Html {
    let Some(progress) = panel.progress else {
        return match panel.status {
            RunStatus::Running => {
                html! { <p id="explore-progress" class="explore-progress" data-states="0">{ "starting the worker…" }</p> }
            }
            _ => html! {},
        };
    };
    // A search that checked every reachable state is done, however far below the cap it stayed.
    let complete =
        panel.status == RunStatus::Finished && panel.results.as_ref().is_some_and(|results| results.complete);
    let bar_value = if complete { panel.max_states } else { progress.states.min(panel.max_states) };
    let status = match panel.status {
        RunStatus::Running => "exploring",
        RunStatus::Stopping => "stopping",
        _ => "explored",
    };
    html! {
        <div id="explore-progress" class="explore-progress" data-states={progress.states.to_string()}
            data-elapsed-ms={format!("{:.0}", progress.elapsed_ms)} data-states-per-second={format!("{:.0}", progress.states_per_second)}>
            <progress max={panel.max_states.to_string()} value={bar_value.to_string()}
                aria-label="states found, of the cap" />
            <span class="explore-numbers">
                { format!(
                    "{status}: {} states · {} states/s · depth {} · queue {} · {:.1} s",
                    grouped(progress.states),
                    grouped(progress.states_per_second.round() as u64),
                    progress.depth,
                    grouped(progress.queue),
                    progress.elapsed_ms / 1000.0
                ) }
            </span>
        </div>
    }
}

fn results_view(results: &ExploreResults, state: &Handle) -> Html {
    let progress = &results.progress;
    let completeness = if results.complete { "complete" } else { "incomplete" };
    html! {
        <div id="explore-results" class="explore-results" data-complete={results.complete.to_string()}>
            <p class="explore-summary">
                <strong>{ format!("{completeness}: {}", results.stopped) }</strong>
                { format!(
                    " — {} states, {} edges, depth {}",
                    grouped(progress.states),
                    grouped(progress.edges),
                    progress.depth
                ) }
            </p>
            <ul id="explore-properties">
                { for results.properties.iter().map(|property| property_view(property, state)) }
            </ul>
        </div>
    }
}

fn property_view(property: &PropertyResult, state: &Handle) -> Html {
    let (mark, label) = match property.verdict.as_str() {
        "holds" => ("✓", "holds"),
        "violated" => ("✗", "violated"),
        _ => ("?", "not violated, but the search was incomplete"),
    };
    html! {
        <li data-property={property.name.clone()} class={property.verdict.clone()}>
            <span class="verdict" aria-label={label}>{ mark }</span>
            <strong>{ property.name.clone() }</strong>
            <span class="verdict-text">{ format!(" {label}") }</span>
            if let Some(counterexample) = &property.counterexample {
                { counterexample_view(&property.name, counterexample, state) }
            }
        </li>
    }
}

fn counterexample_view(name: &str, counterexample: &CounterexampleResult, state: &Handle) -> Html {
    let steps = counterexample.steps.iter().map(|step| html! { <li>{ step.clone() }</li> });
    let link = counterexample.fragment.as_ref().map(|fragment| {
        let url = format!("{}#{fragment}", browser::page_url());
        html! {
            <div class="counterexample-actions">
                <button class="load-counterexample" aria-label={format!("Load the {name} counterexample in the playground")}
                    onclick={on_click(state, Action::OpenLink(fragment.clone()))}>{ "Load in playground" }</button>
                <input class="counterexample-link" readonly=true value={url} aria-label={format!("Share link of the {name} counterexample")} />
            </div>
        }
    });
    html! {
        <div class="counterexample">
            <p class="detail">{ counterexample.detail.clone() }</p>
            <ol class="steps" aria-label={format!("{} steps", counterexample.steps.len())}>{ for steps }</ol>
            { for link }
            if let Some(problem) = &counterexample.problem {
                <p class="explore-error">{ problem.clone() }</p>
            }
        </div>
    }
}
