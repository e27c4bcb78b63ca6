//! The application shell: layout, the playback loop (one tick per animation frame while playing),
//! keyboard shortcuts, and pausing when the tab is hidden.

use crate::components::cluster::ClusterView;
use crate::components::controls::Controls;
use crate::components::details::MessageDetails;
use crate::components::editor::Editor;
use crate::components::faults::Faults;
use crate::components::header::Header;
use crate::components::invariants::Invariants;
use crate::components::sequence::SequenceDiagram;
use crate::components::tables::StateTables;
use crate::components::trace_log::TraceLog;
use crate::model::{Action, Playground};
use crate::state::{Handle, State};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// The preset to open on; the default scenario when empty.
    #[prop_or_default]
    pub preset: AttrValue,
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let preset = props.preset.clone();
    let state = use_reducer(move || State::new(Playground::from_preset(&preset)));
    let playing = state.get().playing;
    use_effect_with(playing, {
        let state = state.clone();
        move |playing| start_playback(*playing, state)
    });
    use_effect_with((), {
        let state = state.clone();
        move |_| listen_to_keys_and_visibility(state)
    });
    use_effect(record_render_time);
    let playground = state.get();
    let notice = playground.notice.clone();
    let dismiss = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::DismissNotice))
    };
    html! {
        <div id="app" class="app" data-playing={playground.playing.to_string()} data-at-end={playground.at_end().to_string()}
            data-step={playground.simulation.cursor_step().to_string()} data-preset={playground.preset.clone()}>
            <Header state={state.clone()} revision={playground.revision} />
            <Controls state={state.clone()} />
            <div id="message" role="status" class={classes!("notice", notice.as_ref().map(|notice| if notice.error { "error" } else { "info" }))}>
                if let Some(notice) = notice {
                    <span>{ notice.text }</span>
                    <button class="link" aria-label="Dismiss" onclick={dismiss}>{ "×" }</button>
                }
            </div>
            <main class="stage">
                <div class="diagram-column">
                    <SequenceDiagram state={state.clone()} />
                    <TraceLog state={state.clone()} />
                </div>
                <aside class="side-column">
                    <ClusterView state={state.clone()} />
                    <MessageDetails state={state.clone()} />
                    <Invariants state={state.clone()} />
                </aside>
            </main>
            <StateTables state={state.clone()} />
            <div class="lower">
                <Faults state={state.clone()} revision={playground.revision} />
                <Editor state={state.clone()} revision={playground.revision} />
            </div>
            <footer class="page-footer">
                { "Keys: space play/pause · ← step back · → step forward. Every click that breaks something is added to the fault schedule, so the run replays exactly." }
            </footer>
        </div>
    }
}

type FrameClosure = Closure<dyn FnMut(f64)>;

/// While playing, dispatches a tick with the real time elapsed at every animation frame.
fn start_playback(playing: bool, state: Handle) -> impl FnOnce() {
    let frame: Rc<RefCell<Option<FrameClosure>>> = Rc::new(RefCell::new(None));
    let request_id = Rc::new(Cell::new(0));
    let window = web_sys::window().expect("a browser window");
    if playing {
        let last = Rc::new(Cell::new(None::<f64>));
        let (frame_inner, request_inner, window_inner) = (frame.clone(), request_id.clone(), window.clone());
        *frame.borrow_mut() = Some(Closure::wrap(Box::new(move |now: f64| {
            if let Some(previous) = last.get() {
                record_timing(&window_inner, FRAME_TIMES, now - previous);
                FRAME_STARTED_MS.with(|started| started.set(Some(now)));
                state.dispatch(Action::Tick(now - previous));
            }
            last.set(Some(now));
            if let Some(callback) = frame_inner.borrow().as_ref() {
                let id = window_inner.request_animation_frame(callback.as_ref().unchecked_ref()).unwrap_or(0);
                request_inner.set(id);
            }
        }) as Box<dyn FnMut(f64)>));
        if let Some(callback) = frame.borrow().as_ref() {
            request_id.set(window.request_animation_frame(callback.as_ref().unchecked_ref()).unwrap_or(0));
        }
    }
    move || {
        let _ = window.cancel_animation_frame(request_id.get());
        frame.borrow_mut().take();
    }
}

/// The web benchmark sets `window.__commitlabFrameTimes = []` (intervals between animation
/// frames while playing) and `window.__commitlabRenderTimes = []` (from a frame's start to the
/// end of the render it caused: the app's own work, without the browser's layout and paint).
const FRAME_TIMES: &str = "__commitlabFrameTimes";
const RENDER_TIMES: &str = "__commitlabRenderTimes";

thread_local! {
    static FRAME_STARTED_MS: Cell<Option<f64>> = const { Cell::new(None) };
}

fn record_timing(window: &web_sys::Window, name: &str, value_ms: f64) {
    if let Ok(times) = js_sys::Reflect::get(window, &JsValue::from_str(name)) {
        if let Some(times) = times.dyn_ref::<js_sys::Array>() {
            times.push(&JsValue::from_f64(value_ms));
        }
    }
}

/// Called after every render: closes the measurement a playback frame opened.
fn record_render_time() {
    let Some(started) = FRAME_STARTED_MS.with(|started| started.take()) else { return };
    let Some(window) = web_sys::window() else { return };
    if let Some(now) = window.performance().map(|performance| performance.now()) {
        record_timing(&window, RENDER_TIMES, now - started);
    }
}

fn listen_to_keys_and_visibility(state: Handle) -> impl FnOnce() {
    let window = web_sys::window().expect("a browser window");
    let document = window.document().expect("a document");
    let keys = {
        let state = state.clone();
        Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |event: web_sys::KeyboardEvent| {
            if typing_in_a_field(&event) || event.ctrl_key() || event.meta_key() || event.alt_key() {
                return;
            }
            let action = match event.key().as_str() {
                " " => Action::TogglePlay,
                "ArrowLeft" => Action::StepBack,
                "ArrowRight" => Action::StepForward,
                _ => return,
            };
            event.prevent_default();
            state.dispatch(action);
        })
    };
    let visibility = {
        let document = document.clone();
        Closure::<dyn Fn()>::new(move || {
            if document.hidden() {
                state.dispatch(Action::Pause);
            }
        })
    };
    let _ = window.add_event_listener_with_callback("keydown", keys.as_ref().unchecked_ref());
    let _ = document.add_event_listener_with_callback("visibilitychange", visibility.as_ref().unchecked_ref());
    move || {
        let _ = window.remove_event_listener_with_callback("keydown", keys.as_ref().unchecked_ref());
        let _ = document.remove_event_listener_with_callback("visibilitychange", visibility.as_ref().unchecked_ref());
    }
}

/// Keys typed into inputs, text areas, selects and buttons belong to them.
fn typing_in_a_field(event: &web_sys::KeyboardEvent) -> bool {
    let Some(element) = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) else { return false };
    matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT" | "BUTTON") || element.get_attribute("role").as_deref() == Some("button")
}
