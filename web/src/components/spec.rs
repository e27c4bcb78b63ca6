//! Lamport's TwoPhase beside the implementation's state tables: for each transaction at the
//! cursor, the spec's variables as the refinement mapping reads them from the run (rmState per
//! participant, tmState, tmPrepared, msgs) and the spec action the last step was. If some step of
//! the run is no TwoPhase step, a line says which, with a button to go there.
//!
//! The mapping is built once per run (`spec_track`); each frame only looks the cursor up in it.

use crate::model::Action;
use crate::spec_track::{LastStep, SpecMapping, SpecRow};
use crate::state::{on_click, Props};
use yew::prelude::*;

#[component]
pub fn SpecPanel(props: &Props) -> Html {
    let playground = props.state.get();
    let step = playground.simulation.cursor_step();
    let body = match &playground.spec {
        SpecMapping::NotMapped(text) => html! { <p class="spec-note" id="spec-not-mapped">{ *text }</p> },
        SpecMapping::Mapped(timeline) => {
            let at = timeline.at(step);
            html! {
                <>
                    if playground.scenario().runs_sagas() {
                        <p class="spec-note">{ "Sagas are not two-phase commit: only this run's 2PC transactions are mapped." }</p>
                    }
                    if at.rows.is_empty() {
                        <p class="none">{ "No transaction has begun yet: TwoPhase starts when a coordinator logs Prepared." }</p>
                    }
                    <div class="spec-cards">
                        { for at.rows.into_iter().map(|row| {
                            let key = row.view.txn.clone();
                            html! { <SpecCard {key} {row} /> }
                        }) }
                    </div>
                    if at.hidden > 0 {
                        <p class="spec-hidden">{ format!("{} more finished transactions not shown", at.hidden) }</p>
                    }
                </>
            }
        }
    };
    let broken = playground.spec.broken().map(|broken| {
        let here = broken.step == step;
        html! {
            <p id="spec-break" class={classes!("spec-break", here.then_some("here"))} role="alert" data-step={broken.step.to_string()}>
                <strong>{ format!("step {} is no TwoPhase step", broken.step) }</strong>
                { format!(" of {}: {} → {}", broken.txn, broken.before, broken.after) }
                <button id="spec-break-jump" class="jump" onclick={on_click(&props.state, Action::SeekStep(broken.step))}
                    disabled={here}>{ format!("go to step {}", broken.step) }</button>
            </p>
        }
    });
    html! {
        <section id="spec" class="panel spec-panel" aria-label="TwoPhase spec" data-step={step.to_string()}>
            <h2>{ "TwoPhase spec" }</h2>
            <p class="spec-intro">
                { "Lamport's TwoPhase, one instance per transaction: the participants are its resource managers, \
                   the coordinator its TM. The variables after step " }
                <strong>{ step }</strong>{ ":" }
            </p>
            { for broken }
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SpecCardProps {
    row: SpecRow,
}

/// One transaction's variables; while a run plays most cards do not change and Yew skips them.
#[component]
fn SpecCard(props: &SpecCardProps) -> Html {
    let view = &props.row.view;
    let (action, class) = match &props.row.last_step {
        LastStep::Action(action) => (action.to_string(), "action"),
        LastStep::Stutter => ("stutter".to_string(), "stutter"),
        LastStep::Fault => ("a fault (TwoPhase has none: not checked)".to_string(), "fault"),
        LastStep::NoSpecStep => ("no TwoPhase step".to_string(), "broken"),
    };
    let set = |items: &[String]| format!("{{{}}}", items.join(", "));
    html! {
        <section class="spec-txn" data-txn={view.txn.clone()}>
            <h3>
                { view.txn.clone() }
                <span class={classes!("spec-action", class)} data-action={action.clone()}>{ format!("last step: {action}") }</span>
            </h3>
            <table class="spec-vars">
                <tbody>
                    <tr data-var="rmState">
                        <th>{ "rmState" }</th>
                        <td>
                            { for view.rm_state.iter().map(|(node, state)| html! {
                                <span class={classes!("rm", *state)} data-rm={node.clone()}>{ format!("{node}: {state}") }</span>
                            }) }
                        </td>
                    </tr>
                    <tr data-var="tmState"><th>{ "tmState" }</th><td class={classes!("tm", view.tm_state)}>{ view.tm_state }</td></tr>
                    <tr data-var="tmPrepared"><th>{ "tmPrepared" }</th><td>{ set(&view.tm_prepared) }</td></tr>
                    <tr data-var="msgs"><th>{ "msgs" }</th><td>{ set(&view.msgs) }</td></tr>
                </tbody>
            </table>
        </section>
    }
}
