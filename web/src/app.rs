//! The application shell: layout, the playback loop (one tick per animation frame while playing),
//! keyboard shortcuts, and pausing when the tab is hidden.

use crate::browser;
use crate::components::cluster::ClusterView;
use crate::components::controls::{Controls, MiniControls};
use crate::components::details::MessageDetails;
use crate::components::editor::Editor;
use crate::components::explore::Explore;
use crate::components::faults::Faults;
use crate::components::header::Header;
use crate::components::invariants::Invariants;
use crate::components::sequence::SequenceDiagram;
use crate::components::share::ShareBar;
use crate::components::spec::SpecPanel;
use crate::components::tables::StateTables;
use crate::components::trace_log::TraceLog;
use crate::embed::{ControlsLevel, EmbedOptions, EmbedView, PageOptions};
use crate::model::{Action, Notice, Playground};
use crate::state::{Handle, State};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

#[derive(Properties, PartialEq, Default)]
pub struct AppProps {
    /// The address fragment: a share link (`#s=1....`), or empty for the default scenario.
    #[prop_or_default]
    pub fragment: AttrValue,
    /// What the query string asked for: embed mode and its options.
    #[prop_or_default]
    pub page: PageOptions,
}

#[component]
pub fn App(props: &AppProps) -> Html {
    let state = use_reducer({
        let (fragment, page) = (props.fragment.clone(), props.page.clone());
        move || State::new(open(&fragment, &page))
    });
    let playing = state.get().playing;
    use_effect_with(playing, {
        let state = state.clone();
        move |playing| start_playback(*playing, Rc::new(move |real_ms| state.dispatch(Action::Tick(real_ms))))
    });
    use_effect_with((), {
        let state = state.clone();
        let autoplay = props.page.embed.as_ref().is_some_and(|options| options.autoplay);
        move |_| {
            if autoplay {
                state.dispatch(Action::Play);
            }
            listen_to_keys_and_visibility(state)
        }
    });
    use_effect(record_render_time);
    let embedded = props.page.embed.is_some();
    {
        // The address bar shows the link to what is on screen, except in embeds, which never
        // rewrite their URL; not while playing, to keep the history API quiet.
        let playground = state.get();
        let key = (playground.revision, playground.simulation.cursor_step(), playground.selected_message, playing);
        let state = state.clone();
        use_effect_with(key, move |(_, _, _, playing)| {
            let playground = state.get();
            if !embedded && !*playing && !playground.keep_address {
                if let Ok(fragment) = playground.share_fragment() {
                    browser::replace_fragment(&fragment);
                }
            }
        });
    }
    if let Some(options) = &props.page.embed {
        return html! { <EmbedApp state={state.clone()} options={options.clone()} /> };
    }
    let playground = state.get();
    let notice = playground.notice.clone();
    let dismiss = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::DismissNotice))
    };
    html! {
        <div id="app" class="app" data-playing={playground.playing.to_string()} data-at-end={playground.at_end().to_string()}
            data-step={playground.simulation.cursor_step().to_string()} data-preset={playground.preset.clone()}
            data-trace-hash={playground.trace_hash.clone()}>
            <Header state={state.clone()} revision={playground.revision} />
            <ShareBar state={state.clone()} />
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
            <div class="state-and-spec">
                <StateTables state={state.clone()} />
                <SpecPanel state={state.clone()} />
            </div>
            <Explore state={state.clone()} revision={playground.revision} />
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

/// The playground a page opens: the link's run (or the default), with embed options applied and
/// any option that could not be read reported.
fn open(fragment: &str, page: &PageOptions) -> Playground {
    let mut playground = Playground::from_fragment(fragment);
    if let Some(speed) = page.embed.as_ref().and_then(|options| options.speed) {
        playground.apply(Action::SetSpeedLog(speed.log10()));
    }
    if !page.warnings.is_empty() && playground.notice.is_none() {
        let text =
            format!("Some embed options were not understood and use their defaults: {}", page.warnings.join("; "));
        playground.notice = Some(Notice { text, error: true });
    }
    playground
}

#[derive(Properties, PartialEq)]
struct EmbedProps {
    state: Handle,
    options: EmbedOptions,
}

/// The minimal view for documentation pages: the chosen views, the chosen controls, and a link
/// to the full playground at the same state.
#[component]
fn EmbedApp(props: &EmbedProps) -> Html {
    let state = &props.state;
    let playground = state.get();
    let options = &props.options;
    let key = (playground.revision, if playground.playing { u64::MAX } else { playground.simulation.cursor_step() });
    let open_link = use_memo(key, {
        let state = state.clone();
        move |_| match state.get().share_fragment() {
            Ok(fragment) => format!("{}#{fragment}", browser::page_url()),
            Err(_) => browser::page_url(),
        }
    });
    let (sequence, cluster, tables) = match options.view {
        EmbedView::Sequence => (true, false, false),
        EmbedView::Cluster => (false, true, false),
        EmbedView::Tables => (false, false, true),
        EmbedView::All => (true, true, true),
    };
    html! {
        <div id="app" class={classes!("app", "embed", format!("embed-{}", options.view))} data-playing={playground.playing.to_string()}
            data-at-end={playground.at_end().to_string()} data-step={playground.simulation.cursor_step().to_string()}
            data-preset={playground.preset.clone()} data-trace-hash={playground.trace_hash.clone()}>
            <div class="embed-bar">
                { match options.controls {
                    ControlsLevel::None => html! {},
                    ControlsLevel::Minimal => html! { <MiniControls state={state.clone()} /> },
                    ControlsLevel::Full => html! { <Controls state={state.clone()} /> },
                } }
                <a id="open-full" class="open-full" href={(*open_link).clone()} target="_blank" rel="noopener">{ "Open in Commit Lab ↗" }</a>
            </div>
            if let Some(notice) = &playground.notice {
                <div id="message" role="status" class={classes!("notice", if notice.error { "error" } else { "info" })}>
                    <span>{ &notice.text }</span>
                </div>
            }
            <div class="embed-views">
                if sequence { <SequenceDiagram state={state.clone()} /> }
                if cluster { <ClusterView state={state.clone()} /> }
                if tables { <StateTables state={state.clone()} /> }
            </div>
        </div>
    }
}

type FrameClosure = Closure<dyn FnMut(f64)>;

/// While playing, calls `tick` with the real time elapsed at every animation frame.
pub fn start_playback(playing: bool, tick: Rc<dyn Fn(f64)>) -> impl FnOnce() {
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
                tick(now - previous);
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
pub fn record_render_time() {
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
            if event.ctrl_key() || event.meta_key() || event.alt_key() {
                return;
            }
            let target = focused_kind(&event);
            let action = match event.key().as_str() {
                " " if target == Focus::Page => Action::TogglePlay,
                "ArrowLeft" if target != Focus::Field => Action::StepBack,
                "ArrowRight" if target != Focus::Field => Action::StepForward,
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

/// What has the keyboard focus: a field owns every key (arrows move sliders and carets), a
/// button owns space and enter, and the page gets the rest.
#[derive(PartialEq)]
enum Focus {
    Field,
    Button,
    Page,
}

fn focused_kind(event: &web_sys::KeyboardEvent) -> Focus {
    let Some(element) = event.target().and_then(|target| target.dyn_into::<web_sys::Element>().ok()) else {
        return Focus::Page;
    };
    match element.tag_name().as_str() {
        "INPUT" | "TEXTAREA" | "SELECT" => Focus::Field,
        "BUTTON" => Focus::Button,
        _ if element.get_attribute("role").as_deref() == Some("button") => Focus::Button,
        _ => Focus::Page,
    }
}
