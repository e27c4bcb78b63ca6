//! Playback: play/pause, step, restart, speed on a log scale, virtual time and the scrubber.

use crate::decimal::{fixed, Decimal};
use crate::model::{Action, Playground, SPEED_LOG_MAX, SPEED_LOG_MIN};
use crate::state::{on_click, Props};
use commitlab_sim::Stop;
use web_sys::HtmlInputElement;
use yew::prelude::*;

fn format_speed(speed: f64) -> String {
    if speed < 1.0 {
        format!("{}x", fixed(speed, 1))
    } else {
        format!("{}x", fixed(speed, 0))
    }
}

/// Why the computed run ends where it does, when it is not because nothing was left to happen.
fn stop_mark(playground: &Playground) -> &'static str {
    match playground.simulation.stop() {
        Some(Stop::EndTime) => " (cut at end)",
        Some(Stop::StepLimit) => " (step limit)",
        _ => "",
    }
}

fn stop_title(playground: &Playground) -> String {
    let scenario = playground.scenario();
    match playground.simulation.stop() {
        Some(Stop::EndTime) => {
            format!("The run stops at the scenario's end, {} ms, with events still pending", scenario.end_ms)
        }
        Some(Stop::StepLimit) => format!("The run stops after the scenario's limit of {} events", scenario.max_steps),
        _ => "The run ends when nothing is left to happen".to_string(),
    }
}

#[component]
pub fn Controls(props: &Props) -> Html {
    let playground = props.state.get();
    let send = |action: Action| on_click(&props.state, action);
    let on_speed = {
        let state = props.state.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Some(value) = crate::decimal::parse(&input.value()) {
                state.dispatch(Action::SetSpeedLog(value));
            }
        })
    };
    let on_scrub = {
        let state = props.state.clone();
        Callback::from(move |event: InputEvent| {
            let input: HtmlInputElement = event.target_unchecked_into();
            if let Ok(value) = input.value().parse::<u64>() {
                state.dispatch(Action::SeekTime(value));
            }
        })
    };
    let play_label = if playground.playing { "Pause" } else { "Play" };
    let time_ms = playground.display_ms.floor() as u64;
    let step = playground.simulation.cursor_step();
    let total = playground.simulation.total_steps();
    html! {
        <section class="controls" aria-label="Playback">
            <div class="buttons">
                <button id="restart" aria-label="Restart" title="Restart" onclick={send(Action::Restart)}>{ "↺ Restart" }</button>
                <button id="step-back" aria-label="Step back" title="Step back (←)" onclick={send(Action::StepBack)}>{ "◀ Step" }</button>
                <button id="play" class="primary" aria-label={play_label} title={format!("{play_label} (space)")}
                    onclick={send(Action::TogglePlay)}>{ if playground.playing { "❚❚ Pause" } else { "▶ Play" } }</button>
                <button id="step-forward" aria-label="Step forward" title="Step forward (→)" onclick={send(Action::StepForward)}>{ "Step ▶" }</button>
            </div>
            <label class="speed">
                <span>{ "Speed" }</span>
                <input id="speed" type="range" aria-label="Speed" min={SPEED_LOG_MIN.dec()} max={SPEED_LOG_MAX.dec()}
                    step="0.1" value={fixed(playground.speed_log, 1)} oninput={on_speed} />
                <output id="speed-label">{ format_speed(playground.speed()) }</output>
            </label>
            <div class="clock" aria-live="off">
                <span id="time">{ format!("{time_ms} ms") }</span>
                <span class="steps" title={stop_title(&playground)}>{ format!("event {step} of {total}{}", stop_mark(&playground)) }</span>
            </div>
            <input id="scrubber" class="scrubber" type="range" aria-label="Time" min="0" max={playground.end_ms.to_string()}
                value={time_ms.to_string()} oninput={on_scrub} />
            <div class="zoom">
                <button aria-label="Zoom in" title="Show less time" onclick={send(Action::Zoom(0.5))}>{ "+" }</button>
                <button aria-label="Zoom out" title="Show more time" onclick={send(Action::Zoom(2.0))}>{ "−" }</button>
            </div>
        </section>
    }
}

/// Play/pause and the time, for embeds with `controls=minimal`.
#[component]
pub fn MiniControls(props: &Props) -> Html {
    let playground = props.state.get();
    let state = props.state.clone();
    let onclick = Callback::from(move |_: MouseEvent| state.dispatch(Action::TogglePlay));
    let label = if playground.playing { "Pause" } else { "Play" };
    html! {
        <div class="mini-controls" aria-label="Playback">
            <button id="play" class="primary" aria-label={label} {onclick}>
                { if playground.playing { "❚❚ Pause" } else { "▶ Play" } }
            </button>
            <span id="time">{ format!("{} ms", playground.display_ms.floor() as u64) }</span>
        </div>
    }
}
