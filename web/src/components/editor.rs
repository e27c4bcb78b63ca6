//! The scenario editor: a form for the common fields and the whole scenario as JSON. Invalid input
//! says what is wrong and where; the last valid scenario keeps running.

use crate::form::{bug_on, Field, FormDraft, BUG_SWITCHES};
use crate::model::{Action, EditorTab};
use crate::state::{on_click, Handle, RevisionProps as Props};
use commitlab_protocol::WriteMode;
use commitlab_sim::Engine;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::prelude::*;

fn edit(state: &Handle, field: Field) -> Callback<InputEvent> {
    let state = state.clone();
    Callback::from(move |event: InputEvent| {
        let input: HtmlInputElement = event.target_unchecked_into();
        state.dispatch(Action::EditForm(field.clone(), input.value()));
    })
}

/// Runs a request as a saga instead of two-phase commit.
fn saga_switch(state: &Handle, number: usize, index: usize, checked: bool) -> Html {
    let state = state.clone();
    let onchange = Callback::from(move |event: Event| {
        let input: HtmlInputElement = event.target_unchecked_into();
        state.dispatch(Action::EditForm(Field::RequestSaga(index), input.checked().to_string()));
    });
    html! {
        <label class="saga">
            <input type="checkbox" {checked} {onchange} aria-label={format!("r{number} as a saga")} />
            { "saga" }
        </label>
    }
}

fn text_field(state: &Handle, label: &str, field: Field, value: &str) -> Html {
    html! {
        <label class="field">
            <span>{ label.to_string() }</span>
            <input type="text" value={value.to_string()} oninput={edit(state, field)} aria-label={label.to_string()} />
        </label>
    }
}

#[component]
pub fn Editor(props: &Props) -> Html {
    let playground = props.state.get();
    let send = |action: Action| on_click(&props.state, action);
    let form_tab = playground.editor_tab == EditorTab::Form;
    html! {
        <section class="panel editor" aria-label="Scenario editor">
            <h2>{ "Scenario" }</h2>
            <div class="tabs" role="tablist">
                <button role="tab" aria-selected={form_tab.to_string()} onclick={send(Action::SetEditorTab(EditorTab::Form))}>{ "Form" }</button>
                <button role="tab" aria-selected={(!form_tab).to_string()} onclick={send(Action::SetEditorTab(EditorTab::Json))}>{ "JSON" }</button>
            </div>
            if let Some(error) = &playground.editor_error {
                <p id="editor-error" class="error" role="alert">{ error }</p>
            } else {
                <p id="editor-error" class="error" role="alert" hidden=true></p>
            }
            if form_tab { { form(props) } } else { { json(props) } }
        </section>
    }
}

fn json(props: &Props) -> Html {
    let playground = props.state.get();
    let oninput = {
        let state = props.state.clone();
        Callback::from(move |event: InputEvent| {
            let area: HtmlTextAreaElement = event.target_unchecked_into();
            state.dispatch(Action::EditJson(area.value()));
        })
    };
    let state = props.state.clone();
    let onclick = Callback::from(move |_: MouseEvent| state.dispatch(Action::ApplyJson));
    html! {
        <div class="json-editor">
            <textarea id="scenario-json" aria-label="Scenario JSON" spellcheck="false" value={playground.json.clone()} {oninput} />
            <button id="apply-json" class="primary" {onclick}>{ "Apply JSON" }</button>
        </div>
    }
}

fn form(props: &Props) -> Html {
    let playground = props.state.get();
    let draft = &playground.form;
    let state = &props.state;
    let send = |action: Action| on_click(&props.state, action);
    let on_placement = {
        let state = props.state.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            state.dispatch(Action::EditForm(Field::Dedicated, select.value()));
        })
    };
    html! {
        <div class="form-editor">
            <label class="field">
                <span>{ "Coordinator" }</span>
                <select aria-label="Coordinator placement" onchange={on_placement}>
                    <option value="colocated" selected={!draft.dedicated}>{ "the sender's shard (seed 002)" }</option>
                    <option value="dedicated" selected={draft.dedicated}>{ "a transaction manager node (TM)" }</option>
                </select>
            </label>
            { writes(state, draft) }
            <fieldset>
                <legend>{ "Shards: accounts as account:balance" }</legend>
                { for draft.shards.iter().enumerate().map(|(index, line)| html! {
                    <div class="row">
                        { text_field(state, &format!("C{}", index + 1), Field::Shard(index), line) }
                        <button onclick={send(Action::RemoveShard(index))} aria-label={format!("Remove shard C{}", index + 1)}>{ "remove" }</button>
                    </div>
                }) }
                <button onclick={send(Action::AddShard)}>{ "add shard" }</button>
            </fieldset>
            <fieldset>
                <legend>{ "Transfers" }</legend>
                { for draft.requests.iter().enumerate().map(|(index, request)| {
                    let number = index + 1;
                    html! {
                        <div class="row request">
                            { text_field(state, &format!("r{number} at (ms)"), Field::RequestAt(index), &request.at_ms) }
                            { text_field(state, &format!("r{number} from"), Field::RequestFrom(index), &request.from) }
                            { text_field(state, &format!("r{number} to"), Field::RequestTo(index), &request.to) }
                            { text_field(state, &format!("r{number} amount"), Field::RequestAmount(index), &request.amount) }
                            { text_field(state, &format!("r{number} journal shard"), Field::RequestJournal(index), &request.journal) }
                            { saga_switch(state, number, index, request.saga) }
                            <button onclick={send(Action::RemoveRequest(index))} aria-label={format!("Remove transfer r{number}")}>{ "remove" }</button>
                        </div>
                    }
                }) }
                <button onclick={send(Action::AddRequest)}>{ "add transfer" }</button>
            </fieldset>
            <fieldset class="grid">
                <legend>{ "Network, disk, timeouts" }</legend>
                { text_field(state, "latency min (ms)", Field::LatencyMin, &draft.latency_ms_min) }
                { text_field(state, "latency max (ms)", Field::LatencyMax, &draft.latency_ms_max) }
                { text_field(state, "loss", Field::Loss, &draft.loss) }
                { text_field(state, "duplication", Field::Duplication, &draft.duplication) }
                { text_field(state, "WAL write (ms)", Field::WriteMs, &draft.write_ms) }
                { text_field(state, "vote timeout (ms)", Field::VoteMs, &draft.vote_ms) }
                { text_field(state, "resend (ms)", Field::ResendMs, &draft.resend_ms) }
                { text_field(state, "query (ms)", Field::QueryMs, &draft.query_ms) }
                { text_field(state, "client retry (ms)", Field::ClientRetryMs, &draft.client_retry_ms) }
                { text_field(state, "seed", Field::Seed, &draft.seed) }
                { text_field(state, "end (ms)", Field::EndMs, &draft.end_ms) }
            </fieldset>
            { replication(state, draft) }
            <fieldset class="bugs">
                <legend>{ "Protocol bugs, for teaching: each breaks a rule an invariant checks" }</legend>
                { for BUG_SWITCHES.iter().enumerate().map(|(index, (name, description))| {
                    let checked = bug_on(&draft.bugs, index);
                    let state = props.state.clone();
                    let onchange = Callback::from(move |event: Event| {
                        let input: HtmlInputElement = event.target_unchecked_into();
                        state.dispatch(Action::EditForm(Field::Bug(index), input.checked().to_string()));
                    });
                    html! {
                        <label class="bug">
                            <input type="checkbox" {checked} {onchange} aria-label={format!("Bug {name}: {description}")} />
                            <code>{ *name }</code>{ format!(": {description}") }
                        </label>
                    }
                }) }
            </fieldset>
            <button id="apply-form" class="primary" onclick={send(Action::ApplyForm)}>{ "Apply" }</button>
        </div>
    }
}

/// When participants' writes reach their balances: seed 002's in place, or seed 004's deferred.
fn writes(state: &Handle, draft: &FormDraft) -> Html {
    let onchange = {
        let state = state.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            state.dispatch(Action::EditForm(Field::Writes, select.value()));
        })
    };
    let deferred = draft.writes == WriteMode::Deferred;
    html! {
        <label class="field">
            <span>{ "Writes" }</span>
            <select aria-label="Writes" {onchange}>
                <option value={WriteMode::InPlace.name()} selected={!deferred}>{ "in place at PREPARE, undo images in the WAL (seed 002)" }</option>
                <option value={WriteMode::Deferred.name()} selected={deferred}>{ "deferred to COMMIT, redo record in the WAL (seed 004)" }</option>
            </select>
        </label>
    }
}

/// The replication fields: single nodes or Raft groups of 3 or 5, with Raft's timing.
fn replication(state: &Handle, draft: &FormDraft) -> Html {
    let on_select = |field: Field| {
        let state = state.clone();
        Callback::from(move |event: Event| {
            let select: HtmlSelectElement = event.target_unchecked_into();
            state.dispatch(Action::EditForm(field.clone(), select.value()));
        })
    };
    html! {
        <fieldset class="grid replication">
            <legend>{ "Replication: each shard (and a TM) a consensus group" }</legend>
            <label class="field">
                <span>{ "engine" }</span>
                <select aria-label="Replication engine" onchange={on_select(Field::Engine)}>
                    <option value="none" selected={draft.engine == Engine::None}>{ "none (single nodes)" }</option>
                    <option value="raft" selected={draft.engine == Engine::Raft}>{ "Raft" }</option>
                    <option value="multi-paxos" selected={draft.engine == Engine::MultiPaxos}>{ "Multi-Paxos" }</option>
                </select>
            </label>
            if draft.engine != Engine::None {
                <label class="field">
                    <span>{ "replicas per group" }</span>
                    <select aria-label="Replicas per group" onchange={on_select(Field::Replicas)}>
                        { for ["3", "5"].iter().map(|count| html! {
                            <option value={*count} selected={draft.replicas == *count}>{ *count }</option>
                        }) }
                    </select>
                </label>
                { text_field(state, "election timeout min (ms)", Field::ElectionTimeoutMin, &draft.election_timeout_ms_min) }
                { text_field(state, "election timeout max (ms)", Field::ElectionTimeoutMax, &draft.election_timeout_ms_max) }
                { text_field(state, "heartbeat (ms)", Field::Heartbeat, &draft.heartbeat_ms) }
            }
        </fieldset>
    }
}
