//! The Explore panel's model, free of Yew: the form (bounds, search, a cap on states), what the
//! page sends the worker and what the worker sends back (JSON), and the panel's state.
//!
//! The explorer runs in a Web Worker (see `explore_worker`) so the page stays responsive; the
//! worker runs the same wasm as the page, so this module is compiled into both: the page uses the
//! form and the state, the worker the request and the messages.

use commitlab_explore::implementation::{Bounds, Implementation};
use commitlab_sim::Scenario;
use serde::{Deserialize, Serialize};

/// The cap on states a form starts with: small enough to finish in seconds in a browser.
pub const MAX_STATES_DEFAULT: u64 = 50_000;
/// The largest cap the form accepts. Every state waiting in the breadth-first queue holds a whole
/// simulated world (several KB): past this a browser tab runs out of memory.
pub const MAX_STATES_LIMIT: u64 = 500_000;

/// The form's fields, each kept as typed so that a bad value can be shown and corrected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExploreField {
    Lose,
    Duplicate,
    Crash,
    Restart,
    Timers,
    MaxStates,
}

impl ExploreField {
    pub const BOUNDS: [ExploreField; 5] =
        [ExploreField::Lose, ExploreField::Duplicate, ExploreField::Crash, ExploreField::Restart, ExploreField::Timers];

    /// The field's name on screen (and the word its errors start with).
    pub fn label(self) -> &'static str {
        match self {
            ExploreField::Lose => "lose",
            ExploreField::Duplicate => "duplicate",
            ExploreField::Crash => "crash",
            ExploreField::Restart => "restart",
            ExploreField::Timers => "timers",
            ExploreField::MaxStates => "max states",
        }
    }

    /// What the field bounds, for its tooltip.
    pub fn help(self) -> &'static str {
        match self {
            ExploreField::Lose => "messages the network may lose on one path",
            ExploreField::Duplicate => "messages the network may copy on one path",
            ExploreField::Crash => "node crashes on one path",
            ExploreField::Restart => "node restarts on one path",
            ExploreField::Timers => "timer firings on one path (any armed timer may fire at any moment)",
            ExploreField::MaxStates => "stop after this many distinct states",
        }
    }
}

/// The order the explorer expands states in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SearchOrder {
    /// The first counterexample found for a property is a shortest one.
    BreadthFirst,
    /// Deep paths first, with a much smaller queue.
    DepthFirst,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExploreForm {
    pub lose: String,
    pub duplicate: String,
    pub crash: String,
    pub restart: String,
    pub timers: String,
    pub max_states: String,
    pub search: SearchOrder,
}

impl Default for ExploreForm {
    /// Small bounds: one crash and its restart, one timer firing, nothing lost or copied. The
    /// explorer's own defaults (one loss, two timers) can take minutes in a browser.
    fn default() -> ExploreForm {
        ExploreForm {
            lose: "0".into(),
            duplicate: "0".into(),
            crash: "1".into(),
            restart: "1".into(),
            timers: "1".into(),
            max_states: MAX_STATES_DEFAULT.to_string(),
            search: SearchOrder::BreadthFirst,
        }
    }
}

/// What the page asks the worker to explore.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExploreRequest {
    /// The scenario as JSON, read back with its validation (pretty, as the editor writes it: one
    /// serialiser in the wasm instead of two).
    pub scenario: String,
    pub lose: u32,
    pub duplicate: u32,
    pub crash: u32,
    pub restart: u32,
    pub timers: u32,
    pub search: SearchOrder,
    pub max_states: u64,
}

impl ExploreRequest {
    pub fn bounds(&self) -> Bounds {
        Bounds {
            losses: self.lose,
            duplicates: self.duplicate,
            crashes: self.crash,
            restarts: self.restart,
            timers: self.timers,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serialises")
    }
}

fn whole_number(field: ExploreField, text: &str, min: u64, max: u64) -> Result<u64, String> {
    let name = field.label();
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{name}: enter a number from {min} to {max}"));
    }
    let value: u64 = text.parse().map_err(|_| format!("{name}: `{text}` is not a whole number from {min} to {max}"))?;
    if value < min || value > max {
        return Err(format!("{name}: {value} is out of range, enter a number from {min} to {max}"));
    }
    Ok(value)
}

impl ExploreForm {
    pub fn value(&self, field: ExploreField) -> &str {
        match field {
            ExploreField::Lose => &self.lose,
            ExploreField::Duplicate => &self.duplicate,
            ExploreField::Crash => &self.crash,
            ExploreField::Restart => &self.restart,
            ExploreField::Timers => &self.timers,
            ExploreField::MaxStates => &self.max_states,
        }
    }

    pub fn set(&mut self, field: ExploreField, value: String) {
        let slot = match field {
            ExploreField::Lose => &mut self.lose,
            ExploreField::Duplicate => &mut self.duplicate,
            ExploreField::Crash => &mut self.crash,
            ExploreField::Restart => &mut self.restart,
            ExploreField::Timers => &mut self.timers,
            ExploreField::MaxStates => &mut self.max_states,
        };
        *slot = value;
    }

    fn bound(&self, field: ExploreField) -> Result<u32, String> {
        let value = whole_number(field, self.value(field), 0, u64::from(Bounds::MAX))?;
        Ok(u32::try_from(value).expect("at most Bounds::MAX"))
    }

    /// The request for exploring `scenario` with this form, or what is wrong (the first bad field,
    /// then whatever makes the scenario unexplorable).
    pub fn request(&self, scenario: &Scenario) -> Result<ExploreRequest, String> {
        let request = ExploreRequest {
            scenario: scenario.to_json_pretty(),
            lose: self.bound(ExploreField::Lose)?,
            duplicate: self.bound(ExploreField::Duplicate)?,
            crash: self.bound(ExploreField::Crash)?,
            restart: self.bound(ExploreField::Restart)?,
            timers: self.bound(ExploreField::Timers)?,
            search: self.search,
            max_states: whole_number(ExploreField::MaxStates, &self.max_states, 1, MAX_STATES_LIMIT)?,
        };
        Implementation::new(scenario, request.bounds())
            .map_err(|error| format!("This scenario cannot be explored: {error}"))?;
        Ok(request)
    }
}

/// How far a running search is.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProgressReport {
    pub states: u64,
    pub edges: u64,
    pub depth: u32,
    pub queue: u64,
    pub elapsed_ms: f64,
    pub states_per_second: f64,
}

/// One property's outcome, with its counterexample as a link the playground opens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PropertyResult {
    pub name: String,
    /// `holds`, `violated`, or `unknown` (not violated, but the search was incomplete).
    pub verdict: String,
    pub counterexample: Option<CounterexampleResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CounterexampleResult {
    pub detail: String,
    /// The path's steps (`submit r1`, `deliver m1`, ...).
    pub steps: Vec<String>,
    /// The share link's fragment (`s=1....`) of the scheduled run, its cursor on the last step.
    pub fragment: Option<String>,
    /// Why there is no link (the path could not be replayed, or the link would be too long).
    pub problem: Option<String>,
}

/// A finished search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExploreResults {
    pub progress: ProgressReport,
    pub complete: bool,
    /// Why the search stopped, in words.
    pub stopped: String,
    pub properties: Vec<PropertyResult>,
}

/// What the worker posts to the page: `{"progress": {...}}`, `{"done": {...}}` or
/// `{"failed": {"message": "..."}}` (externally tagged: it reads back without buffering).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkerMessage {
    Progress(ProgressReport),
    Done(ExploreResults),
    Failed { message: String },
}

impl WorkerMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a worker message always serialises")
    }

    /// Reads a worker's message; one that cannot be read becomes a failure saying so.
    pub fn from_json(text: &str) -> WorkerMessage {
        serde_json::from_str(text).unwrap_or_else(|error| WorkerMessage::Failed {
            message: format!("the explorer sent a message the page cannot read ({error})"),
        })
    }
}

/// Where the panel's search is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Idle,
    Running,
    /// Stop was asked for; the worker answers with what it found so far.
    Stopping,
    Finished,
    Failed,
}

impl RunStatus {
    pub fn name(self) -> &'static str {
        match self {
            RunStatus::Idle => "idle",
            RunStatus::Running => "running",
            RunStatus::Stopping => "stopping",
            RunStatus::Finished => "finished",
            RunStatus::Failed => "failed",
        }
    }

    pub fn busy(self) -> bool {
        matches!(self, RunStatus::Running | RunStatus::Stopping)
    }
}

/// The Explore panel's state.
#[derive(Clone, Debug, PartialEq)]
pub struct ExplorePanel {
    pub open: bool,
    pub form: ExploreForm,
    pub status: RunStatus,
    /// The cap the running (or last) search had, for the progress bar.
    pub max_states: u64,
    pub progress: Option<ProgressReport>,
    pub results: Option<ExploreResults>,
    /// Why the last search could not start or did not finish.
    pub error: Option<String>,
}

impl Default for ExplorePanel {
    fn default() -> ExplorePanel {
        ExplorePanel {
            open: false,
            form: ExploreForm::default(),
            status: RunStatus::Idle,
            max_states: MAX_STATES_DEFAULT,
            progress: None,
            results: None,
            error: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExploreAction {
    Toggle,
    Edit(ExploreField, String),
    SetSearch(SearchOrder),
    /// A search started in a worker with this cap on states.
    Started {
        max_states: u64,
    },
    /// The search could not start.
    NotStarted(String),
    Stop,
    Message(WorkerMessage),
}

impl ExplorePanel {
    pub fn apply(&mut self, action: ExploreAction) {
        match action {
            ExploreAction::Toggle => self.open = !self.open,
            ExploreAction::Edit(field, value) => self.form.set(field, value),
            ExploreAction::SetSearch(search) => self.form.search = search,
            ExploreAction::Started { max_states } => {
                self.status = RunStatus::Running;
                self.max_states = max_states;
                self.progress = None;
                self.results = None;
                self.error = None;
            }
            ExploreAction::NotStarted(message) => {
                self.status = RunStatus::Failed;
                self.error = Some(message);
            }
            ExploreAction::Stop if self.status == RunStatus::Running => self.status = RunStatus::Stopping,
            ExploreAction::Stop => {}
            // A message from a worker that was replaced or stopped is dropped with it.
            ExploreAction::Message(_) if !self.status.busy() => {}
            ExploreAction::Message(WorkerMessage::Progress(progress)) => self.progress = Some(progress),
            ExploreAction::Message(WorkerMessage::Done(results)) => {
                self.status = RunStatus::Finished;
                self.progress = Some(results.progress);
                self.results = Some(results);
            }
            ExploreAction::Message(WorkerMessage::Failed { message }) => {
                self.status = RunStatus::Failed;
                self.error = Some(message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commitlab_sim::preset;

    fn scenario(name: &str) -> Scenario {
        (preset(name).expect("a preset").build)()
    }

    #[test]
    fn the_form_names_the_bad_field_and_the_unexplorable_scenario() {
        let happy = scenario("happy-path");
        let mut form = ExploreForm::default();
        let request = form.request(&happy).expect("the defaults are valid");
        assert_eq!((request.bounds().crashes, request.bounds().losses, request.max_states), (1, 0, MAX_STATES_DEFAULT));
        form.set(ExploreField::Crash, "17".into());
        assert_eq!(form.request(&happy).unwrap_err(), "crash: 17 is out of range, enter a number from 0 to 16");
        form.set(ExploreField::Crash, "two".into());
        assert_eq!(form.request(&happy).unwrap_err(), "crash: `two` is not a whole number from 0 to 16");
        form.set(ExploreField::Crash, "2".into());
        form.set(ExploreField::MaxStates, "0".into());
        assert!(form.request(&happy).unwrap_err().starts_with("max states: 0 is out of range"));
        form.set(ExploreField::MaxStates, "".into());
        assert_eq!(form.request(&happy).unwrap_err(), "max states: enter a number from 1 to 500000");
        let form = ExploreForm::default();
        let error = form.request(&scenario("raft-seed-002")).unwrap_err();
        assert!(error.starts_with("This scenario cannot be explored") && error.contains("single-node 2PC"), "{error}");
        // A random workload is drawn from the seed like any run's: explorable (capped).
        assert!(form.request(&scenario("busy")).is_ok());
    }

    #[test]
    fn requests_and_messages_travel_as_json() {
        let request = ExploreForm::default().request(&scenario("lost-ack")).expect("valid");
        let json = request.to_json();
        assert_eq!(serde_json::from_str::<ExploreRequest>(&json).expect("reads back"), request);
        let progress =
            ProgressReport { states: 10, edges: 20, depth: 3, queue: 4, elapsed_ms: 5.0, states_per_second: 2000.0 };
        let message = WorkerMessage::Progress(progress);
        assert!(message.to_json().starts_with(r#"{"progress":{"states":10"#), "{}", message.to_json());
        let failed = WorkerMessage::from_json(r#"{"failed":{"message":"the worker script's own words"}}"#);
        assert_eq!(failed, WorkerMessage::Failed { message: "the worker script's own words".into() });
        assert_eq!(WorkerMessage::from_json(&message.to_json()), message);
        assert!(matches!(WorkerMessage::from_json("{"), WorkerMessage::Failed { .. }));
    }

    #[test]
    fn the_panel_follows_its_worker_and_ignores_it_once_stopped() {
        let mut panel = ExplorePanel::default();
        panel.apply(ExploreAction::Started { max_states: 100 });
        assert_eq!(panel.status, RunStatus::Running);
        let progress =
            ProgressReport { states: 10, edges: 20, depth: 3, queue: 4, elapsed_ms: 5.0, states_per_second: 2000.0 };
        panel.apply(ExploreAction::Message(WorkerMessage::Progress(progress)));
        panel.apply(ExploreAction::Stop);
        assert_eq!(panel.status, RunStatus::Stopping);
        let results = ExploreResults { progress, complete: false, stopped: "stopped".into(), properties: Vec::new() };
        panel.apply(ExploreAction::Message(WorkerMessage::Done(results)));
        assert_eq!(panel.status, RunStatus::Finished);
        panel.apply(ExploreAction::Message(WorkerMessage::Failed { message: "late".into() }));
        assert_eq!((panel.status, panel.error.as_deref()), (RunStatus::Finished, None), "a late message is dropped");
    }
}
