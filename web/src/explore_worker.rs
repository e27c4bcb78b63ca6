//! The explorer in a Web Worker, with the page's own wasm.
//!
//! The page starts a module worker from `explore-worker.js` (copied into `dist/` by Trunk) and
//! posts it the URL of this app's wasm-bindgen module (`import.meta.url` of the glue, read from
//! Rust), the compiled `WebAssembly.Module` the page already runs (`wasm_bindgen::module()`, so
//! nothing is fetched or compiled twice) and the request. The worker imports the module, calls
//! its `init` with that module and then [`explore_in_worker`]. `init` runs the app's `main` too,
//! which returns at once where there is no `window` (see `crate::start`).
//!
//! [`explore_in_worker`] runs the search in slices of about [`SLICE_MS`]: after each it posts
//! progress (at most every [`PROGRESS_EVERY_MS`]), yields to the worker's event loop (a
//! `setTimeout(0)` promise the worker script hands in) so a Stop message can arrive, and asks
//! whether one did. The search itself never reads a clock; this loop does.

use crate::explore::{
    CounterexampleResult, ExploreRequest, ExploreResults, ProgressReport, PropertyResult, SearchOrder, WorkerMessage,
};
use commitlab_explore::implementation::Implementation;
use commitlab_explore::{Exploration, Options, Progress, PropertyReport, Report, Search, StopReason, Verdict};
use commitlab_sim::{link, Choice, Scenario, Shared, View};
use std::sync::atomic::Ordering;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The time one slice of the search aims at: short enough for Stop to feel immediate.
pub const SLICE_MS: f64 = 40.0;
/// Progress is posted at most this often.
pub const PROGRESS_EVERY_MS: f64 = 100.0;
const FIRST_SLICE: usize = 64;
const MAX_SLICE: usize = 1 << 16;

/// Reads and checks a request; the model to explore and the search options.
pub fn prepare(request_json: &str) -> Result<(Implementation, Options), String> {
    let request: ExploreRequest = serde_json::from_str(request_json)
        .map_err(|error| format!("the explorer got a request it cannot read ({error})"))?;
    let scenario =
        Scenario::from_json(&request.scenario).map_err(|error| format!("the scenario is not valid: {error}"))?;
    let model = Implementation::new(&scenario, request.bounds())
        .map_err(|error| format!("This scenario cannot be explored: {error}"))?;
    let options = Options {
        search: match request.search {
            SearchOrder::BreadthFirst => Search::BreadthFirst,
            SearchOrder::DepthFirst => Search::DepthFirst,
        },
        max_states: Some(request.max_states.max(1)),
        ..Options::default()
    };
    options.validate().map_err(|error| error.to_string())?;
    Ok((model, options))
}

/// The next slice's size (in expanded states) after one of `slice` took `took_ms`.
pub fn next_slice(slice: usize, took_ms: f64) -> usize {
    if took_ms <= 0.0 {
        return (slice * 2).min(MAX_SLICE);
    }
    let scaled = slice as f64 * (SLICE_MS / took_ms);
    // Grow gently, shrink at once: a slow slice delays Stop.
    (scaled.min(slice as f64 * 2.0) as usize).clamp(1, MAX_SLICE)
}

pub fn progress_report(progress: Progress, elapsed_ms: f64) -> ProgressReport {
    let seconds = elapsed_ms / 1000.0;
    ProgressReport {
        states: progress.states,
        edges: progress.edges,
        depth: progress.depth,
        queue: progress.queue,
        elapsed_ms,
        states_per_second: if seconds > 0.0 { progress.states as f64 / seconds } else { 0.0 },
    }
}

fn stopped_text(report: &Report<Choice>) -> String {
    let reason = match report.stop_reason {
        Some(StopReason::Exhausted) if report.depth_limited => "the depth limit cut the search short",
        Some(StopReason::Exhausted) => "every reachable state was checked",
        Some(StopReason::AllViolated) => "every property has a counterexample: nothing more to learn",
        Some(StopReason::FirstViolation) => "stopped at the first violation",
        Some(StopReason::MaxStates) => "stopped at the cap on states",
        Some(StopReason::StopRequested) => "stopped when you asked",
        None => "still running",
    };
    reason.to_string()
}

fn counterexample_of(model: &Implementation, property: &PropertyReport<Choice>) -> Option<CounterexampleResult> {
    let counterexample = property.counterexample.as_ref()?;
    let mut result = CounterexampleResult {
        detail: counterexample.detail.clone(),
        steps: counterexample.actions.iter().map(ToString::to_string).collect(),
        fragment: None,
        problem: None,
    };
    if let Some(error) = &counterexample.replay_error {
        result.steps.clone_from(&counterexample.steps);
        result.problem = Some(format!("the path could not be replayed: {error}"));
        return Some(result);
    }
    let path = &counterexample.actions;
    // The link opens on the path's last step: the one that breaks the property.
    let view = View { step: Some(path.len() as u64), ..View::default() };
    match link::encode(&Shared { scenario: model.scheduled(path), view }) {
        Ok(encoded) => result.fragment = Some(format!("{}{encoded}", link::LINK_KEY)),
        Err(error) => result.problem = Some(format!("no link: {error}")),
    }
    Some(result)
}

/// What a finished (or stopped) search found, with a link per counterexample.
pub fn results_of(model: &Implementation, report: &Report<Choice>, elapsed_ms: f64) -> ExploreResults {
    let progress =
        Progress { states: report.states, edges: report.edges, depth: report.max_depth, queue: 0, done: true };
    let liveness = Some(&report.liveness).filter(|liveness| liveness.verdict == Verdict::Violated);
    let properties = report
        .properties
        .iter()
        .chain(liveness)
        .map(|property| PropertyResult {
            name: property.name.to_string(),
            verdict: match property.verdict {
                Verdict::Holds => "holds",
                Verdict::Violated => "violated",
                Verdict::Unknown => "unknown",
            }
            .to_string(),
            counterexample: counterexample_of(model, property),
        })
        .collect();
    ExploreResults {
        progress: progress_report(progress, elapsed_ms),
        complete: report.complete,
        stopped: stopped_text(report),
        properties,
    }
}

/// Runs a request to its end in one go (tests, and anything without an event loop to yield to).
pub fn explore_now(request_json: &str) -> WorkerMessage {
    let (model, options) = match prepare(request_json) {
        Ok(prepared) => prepared,
        Err(message) => return WorkerMessage::Failed { message },
    };
    let mut run = match Exploration::new(&model, options) {
        Ok(run) => run,
        Err(error) => return WorkerMessage::Failed { message: error.to_string() },
    };
    while !run.step(MAX_SLICE).done {}
    WorkerMessage::Done(results_of(&model, &run.report(), 0.0))
}

/// The worker's entry point: explores `request` (an [`ExploreRequest`] as JSON), posting
/// [`WorkerMessage`]s as JSON text through `post`, yielding through `pause` (a function returning
/// a promise) after every slice, and stopping once `stop_requested()` returns true.
#[wasm_bindgen]
pub async fn explore_in_worker(
    request: String,
    post: js_sys::Function,
    stop_requested: js_sys::Function,
    pause: js_sys::Function,
) {
    let send = |message: WorkerMessage| {
        let _ = post.call1(&JsValue::NULL, &JsValue::from_str(&message.to_json()));
    };
    let (model, options) = match prepare(&request) {
        Ok(prepared) => prepared,
        Err(message) => return send(WorkerMessage::Failed { message }),
    };
    let stop = options.stop.clone();
    let mut run = match Exploration::new(&model, options) {
        Ok(run) => run,
        Err(error) => return send(WorkerMessage::Failed { message: error.to_string() }),
    };
    let started_ms = js_sys::Date::now();
    let mut posted_ms = started_ms;
    let mut slice = FIRST_SLICE;
    loop {
        let before_ms = js_sys::Date::now();
        let progress = run.step(slice);
        let now_ms = js_sys::Date::now();
        if progress.done {
            break;
        }
        slice = next_slice(slice, now_ms - before_ms);
        if now_ms - posted_ms >= PROGRESS_EVERY_MS {
            posted_ms = now_ms;
            send(WorkerMessage::Progress(progress_report(progress, now_ms - started_ms)));
        }
        if let Ok(promise) = pause.call0(&JsValue::NULL).and_then(|value| value.dyn_into::<js_sys::Promise>()) {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        }
        if stop_requested.call0(&JsValue::NULL).is_ok_and(|asked| asked.is_truthy()) {
            stop.store(true, Ordering::Relaxed);
        }
    }
    let elapsed_ms = js_sys::Date::now() - started_ms;
    send(WorkerMessage::Done(results_of(&model, &run.report(), elapsed_ms)));
}

/// The worker script, beside the app's wasm-bindgen module in `dist/`.
pub const WORKER_SCRIPT: &str = "explore-worker.js";

#[wasm_bindgen]
extern "C" {
    /// The URL of this app's wasm-bindgen module (the glue `init` comes from).
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static MODULE_URL: js_sys::JsString;
}

type MessageClosure = Closure<dyn FnMut(web_sys::MessageEvent)>;
type ErrorClosure = Closure<dyn FnMut(web_sys::Event)>;

/// The page's side: a search running in a worker of its own. Dropping it ends the worker.
pub struct ExploreWorker {
    worker: web_sys::Worker,
    _on_message: MessageClosure,
    _on_error: ErrorClosure,
}

impl ExploreWorker {
    /// Starts a worker on this page's wasm and asks it to explore `request`; every message it
    /// posts goes to `on_message`.
    pub fn start(
        request: &ExploreRequest,
        on_message: impl Fn(WorkerMessage) + 'static,
    ) -> Result<ExploreWorker, String> {
        let module_url: String = MODULE_URL.with(|url| url.into());
        let script = web_sys::Url::new_with_base(WORKER_SCRIPT, &module_url)
            .map_err(|_| format!("the explorer's worker has no address (the app was loaded from {module_url})"))?
            .href();
        let options = web_sys::WorkerOptions::new();
        options.set_type(web_sys::WorkerType::Module);
        let worker = web_sys::Worker::new_with_options(&script, &options)
            .map_err(|error| format!("this browser could not start the explorer's worker: {error:?}"))?;
        let on_message = std::rc::Rc::new(on_message);
        let message_handler = {
            let on_message = on_message.clone();
            MessageClosure::new(move |event: web_sys::MessageEvent| {
                let text = event.data().as_string().unwrap_or_default();
                on_message(WorkerMessage::from_json(&text));
            })
        };
        let error_handler = ErrorClosure::new(move |event: web_sys::Event| {
            event.prevent_default();
            let message = format!("the explorer's worker stopped with an error (could {script} be loaded?)");
            on_message(WorkerMessage::Failed { message });
        });
        worker.set_onmessage(Some(message_handler.as_ref().unchecked_ref()));
        worker.set_onerror(Some(error_handler.as_ref().unchecked_ref()));
        let start = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&start, &JsValue::from_str(key), value);
        set("moduleUrl", &JsValue::from_str(&module_url))
            .and_then(|_| set("wasmModule", &wasm_bindgen::module()))
            .and_then(|_| set("request", &JsValue::from_str(&request.to_json())))
            .and_then(|_| worker.post_message(&start))
            .map_err(|error| format!("the explorer's worker could not be given its work: {error:?}"))?;
        Ok(ExploreWorker { worker, _on_message: message_handler, _on_error: error_handler })
    }

    /// Asks the search to stop; the worker answers with what it found so far.
    pub fn stop(&self) {
        let message = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&message, &JsValue::from_str("stop"), &JsValue::TRUE);
        let _ = self.worker.post_message(&message);
    }
}

impl Drop for ExploreWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explore::ExploreForm;
    use crate::model::Playground;
    use commitlab_sim::preset;

    fn request(name: &str, form: ExploreForm) -> String {
        form.request(&(preset(name).expect("a preset").build)()).expect("explorable").to_json()
    }

    fn bounds(lose: &str, crash: &str, restart: &str, timers: &str) -> ExploreForm {
        ExploreForm {
            lose: lose.into(),
            crash: crash.into(),
            restart: restart.into(),
            timers: timers.into(),
            ..ExploreForm::default()
        }
    }

    #[test]
    fn a_bug_is_found_and_its_link_opens_the_playground_on_the_violation() {
        let WorkerMessage::Done(results) =
            explore_now(&request("bug-commit-on-vote-timeout", bounds("0", "0", "0", "1")))
        else {
            panic!("the search runs")
        };
        assert!(results.complete, "{}", results.stopped);
        let property = results.properties.iter().find(|p| p.name == "commit-needs-all-yes").expect("checked");
        assert_eq!(property.verdict, "violated");
        let counterexample = property.counterexample.as_ref().expect("a counterexample");
        assert_eq!(counterexample.steps.len(), 5, "{:?}", counterexample.steps);
        assert_eq!(counterexample.steps[0], "submit r1");
        let fragment = counterexample.fragment.as_deref().expect("a link");
        let playground = Playground::from_fragment(fragment);
        assert!(playground.notice.is_none());
        assert_eq!(playground.simulation.cursor_step(), 5, "the cursor is on the violating step");
        let violated_at =
            playground.index.violations.iter().find(|(_, _, v)| v.invariant.name() == "commit-needs-all-yes");
        assert_eq!(violated_at.map(|(step, _, _)| *step), Some(5));
        let refines = results.properties.iter().find(|p| p.name == "refines-two-phase").expect("checked");
        assert_eq!(refines.verdict, "violated");
        assert!(playground.spec.broken().is_some(), "the spec panel shows the break");
    }

    #[test]
    fn the_correct_protocol_holds_and_the_cap_leaves_verdicts_unknown() {
        let WorkerMessage::Done(results) = explore_now(&request("happy-path", bounds("1", "0", "0", "1"))) else {
            panic!("the search runs")
        };
        assert_eq!(results.progress.states, 12_326, "the same count as natively");
        assert!(results.complete && results.properties.iter().all(|p| p.verdict == "holds"));
        let capped = ExploreForm { max_states: "100".into(), ..bounds("1", "0", "0", "1") };
        let WorkerMessage::Done(results) = explore_now(&request("happy-path", capped)) else { panic!("runs") };
        assert_eq!((results.progress.states, results.complete), (100, false));
        assert_eq!(results.stopped, "stopped at the cap on states");
        assert!(results.properties.iter().all(|p| p.verdict == "unknown"));
    }

    #[test]
    fn bad_requests_fail_with_a_message() {
        assert!(matches!(explore_now("{}"), WorkerMessage::Failed { message } if message.contains("cannot read")));
        let mut request: ExploreRequest =
            serde_json::from_str(&request("happy-path", ExploreForm::default())).expect("a request");
        request.crash = 99;
        let WorkerMessage::Failed { message } = explore_now(&request.to_json()) else { panic!("refused") };
        assert!(message.contains("at most 16"), "{message}");
        request.crash = 0;
        request.scenario = (preset("raft-seed-002").expect("a preset").build)().to_json();
        let WorkerMessage::Failed { message } = explore_now(&request.to_json()) else { panic!("refused") };
        assert!(message.contains("single-node 2PC"), "{message}");
    }

    #[test]
    fn slices_grow_to_the_target_time_and_shrink_at_once() {
        assert_eq!(next_slice(64, 0.0), 128);
        assert_eq!(next_slice(64, 10.0), 128, "at most doubling");
        assert_eq!(next_slice(1000, 80.0), 500);
        assert_eq!(next_slice(1, 1000.0), 1);
        assert_eq!(next_slice(MAX_SLICE, 1.0), MAX_SLICE);
    }
}
