//! The playground's state and every action a person can take, free of Yew: the components render
//! a `Playground` and send `Action`s; `apply` is the only place state changes.
//!
//! Every fault a person injects goes through `Simulation::inject` at the cursor's time, so the
//! scenario (and the fault list) always describes the run on screen completely.

use crate::form::{Field, FormDraft};
use crate::run_index::RunIndex;
use crate::spec_track::SpecMapping;
use commitlab_protocol::route::Group;
use commitlab_protocol::{Endpoint, MessageId, Millis, NodeId, Timer, TxnId};
use commitlab_protocol::{VecMap, VecSet};
use commitlab_sim::link::{self, LinkError};
use commitlab_sim::{preset, Fault, MessageTarget, NodeSnapshot, Scenario, Shared, Simulation, Stop, View, PRESETS};

/// Playback speed: virtual milliseconds per real second at 1x.
pub const VIRTUAL_MS_PER_SECOND_AT_1X: f64 = 20.0;
/// The speed control is log10 of the multiplier, from 0.1x to 100x.
pub const SPEED_LOG_MIN: f64 = -1.0;
pub const SPEED_LOG_MAX: f64 = 2.0;
/// The most events the page computes past the cursor in one go.
pub const STEP_BUDGET: u64 = 200_000;
/// The newest WAL records each node's table shows.
pub const WAL_SHOWN: usize = 16;
/// The diagram's visible time span, in virtual milliseconds, and its bounds.
pub const SPAN_MS_DEFAULT: f64 = 120.0;
pub const SPAN_MS_MIN: f64 = 15.0;
pub const SPAN_MS_MAX: f64 = 20_000.0;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EditorTab {
    Form,
    Json,
}

/// A message to the person: what just happened, or what went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    LoadPreset(String),
    /// Opens a share link's fragment (`s=1....`) as if the page had been opened with it.
    OpenLink(String),
    /// A scenario file's text, from an upload.
    LoadScenarioText(String),
    Play,
    TogglePlay,
    Pause,
    /// Real milliseconds elapsed since the previous animation frame.
    Tick(f64),
    StepForward,
    StepBack,
    Restart,
    SeekTime(Millis),
    SeekStep(u64),
    SetSpeedLog(f64),
    /// Multiply the visible time span.
    Zoom(f64),
    /// Crash the node if it is up, restart it if it is down.
    ToggleNode(NodeId),
    /// Expand a replicated group's lane in the sequence diagram into a lane per replica, or
    /// collapse it back (the group is named by its address, its first member).
    ToggleGroupLane(NodeId),
    SelectMessage(Option<MessageId>),
    DropMessage(MessageId),
    DelayMessage(MessageId),
    DuplicateMessage(MessageId),
    SetDelayMs(Millis),
    TogglePartitionMember(Endpoint),
    Partition,
    Heal,
    RemoveFault(usize),
    MoveFault(usize, Millis),
    JumpToViolation {
        step: u64,
        nodes: Vec<NodeId>,
        txn: Option<TxnId>,
    },
    SetEditorTab(EditorTab),
    EditJson(String),
    ApplyJson,
    EditForm(Field, String),
    AddShard,
    RemoveShard(usize),
    AddRequest,
    RemoveRequest(usize),
    ApplyForm,
    DismissNotice,
}

pub struct Playground {
    /// The preset on screen, or empty once the scenario was edited.
    pub preset: String,
    pub simulation: Simulation,
    pub index: RunIndex,
    /// The run mapped onto Lamport's TwoPhase, per transaction and step.
    pub spec: SpecMapping,
    /// The end of the computed run, in virtual milliseconds.
    pub end_ms: Millis,
    /// The computed run's trace hash: equal runs, equal hashes (shown for comparing runs).
    pub trace_hash: String,
    pub playing: bool,
    pub speed_log: f64,
    /// Playback position with a fraction, so messages glide between milliseconds.
    pub display_ms: f64,
    pub span_ms: f64,
    pub selected_message: Option<MessageId>,
    pub highlighted_nodes: VecSet<NodeId>,
    pub highlighted_txn: Option<TxnId>,
    /// Node snapshots at the cursor, and before the cursor last moved (for change highlights).
    pub snapshots: Vec<NodeSnapshot>,
    pub previous_snapshots: Vec<NodeSnapshot>,
    /// The replicated mode's groups (C1, C2, ..., TM), in order; empty with single nodes.
    pub groups: Vec<Group>,
    /// Groups whose sequence diagram lane is expanded into one lane per replica, by address.
    pub expanded_groups: VecSet<NodeId>,
    /// When each replica's election timer fires, at the cursor (armed timers only).
    pub election_due_ms: VecMap<NodeId, Millis>,
    pub notice: Option<Notice>,
    pub delay_ms: Millis,
    pub partition_draft: VecSet<Endpoint>,
    pub editor_tab: EditorTab,
    pub json: String,
    pub form: FormDraft,
    pub editor_error: Option<String>,
    /// Counts changes to anything but the cursor and playback, so panels that show only the
    /// scenario, its faults and the editor skip rendering while the run plays.
    pub revision: u64,
    /// Set when the page was opened from a link that could not be read: the address keeps that
    /// link (a reload shows the same message) until the reader does something.
    pub keep_address: bool,
}

impl Action {
    /// True for actions that only move the cursor or change playback.
    fn moves_only_the_cursor(&self) -> bool {
        matches!(
            self,
            Action::TogglePlay
                | Action::Play
                | Action::Pause
                | Action::Tick(_)
                | Action::StepForward
                | Action::StepBack
                | Action::Restart
                | Action::SeekTime(_)
                | Action::SeekStep(_)
                | Action::SetSpeedLog(_)
                | Action::Zoom(_)
                | Action::SelectMessage(_)
                | Action::ToggleGroupLane(_)
        )
    }
}

impl Playground {
    pub fn from_preset(name: &str) -> Playground {
        let found =
            preset(name).or_else(|| preset(commitlab_sim::presets::DEFAULT_PRESET)).expect("the default preset exists");
        let mut playground = Playground::new((found.build)()).expect("presets are valid");
        playground.preset = found.name.to_string();
        playground
    }

    pub fn new(scenario: Scenario) -> Result<Playground, String> {
        let simulation = Simulation::new(scenario.clone()).map_err(|error| error.to_string())?;
        let mut playground = Playground {
            preset: String::new(),
            simulation,
            index: RunIndex::default(),
            spec: SpecMapping::NotMapped(""),
            end_ms: 0,
            trace_hash: String::new(),
            playing: false,
            speed_log: 0.0,
            display_ms: 0.0,
            span_ms: SPAN_MS_DEFAULT,
            selected_message: None,
            highlighted_nodes: VecSet::new(),
            highlighted_txn: None,
            snapshots: Vec::new(),
            previous_snapshots: Vec::new(),
            groups: Vec::new(),
            expanded_groups: VecSet::new(),
            election_due_ms: VecMap::new(),
            notice: None,
            delay_ms: 50,
            partition_draft: VecSet::new(),
            editor_tab: EditorTab::Form,
            json: scenario.to_json_pretty(),
            form: FormDraft::from_scenario(&scenario),
            editor_error: None,
            revision: 0,
            keep_address: false,
        };
        playground.recompute();
        playground.simulation.seek_step(0);
        playground.cursor_moved();
        playground.previous_snapshots = playground.snapshots.clone();
        Ok(playground)
    }

    /// Opens a share link's fragment (`#s=1....`); an empty fragment opens the default scenario,
    /// and a bad one opens it too, with a message that says what is wrong with the link.
    pub fn from_fragment(fragment: &str) -> Playground {
        let fragment = fragment.trim_start_matches('#');
        if fragment.is_empty() {
            return Playground::from_preset(commitlab_sim::presets::DEFAULT_PRESET);
        }
        match link::decode(fragment).map_err(|error| error.to_string()).and_then(Playground::from_shared) {
            Ok(playground) => playground,
            Err(error) => {
                let mut playground = Playground::from_preset(commitlab_sim::presets::DEFAULT_PRESET);
                playground.notice = Some(Notice {
                    text: format!("This link cannot be opened: {error}. Showing the default scenario instead."),
                    error: true,
                });
                playground.keep_address = true;
                playground
            }
        }
    }

    /// A shared run: its scenario, named after the preset it equals, at the shared view.
    pub fn from_shared(shared: Shared) -> Result<Playground, String> {
        let mut playground = Playground::new(shared.scenario)?;
        playground.preset = PRESETS
            .iter()
            .find(|preset| (preset.build)() == *playground.scenario())
            .map(|preset| preset.name.to_string())
            .unwrap_or_default();
        playground.apply_view(&shared.view);
        Ok(playground)
    }

    /// This run as a link carries it.
    pub fn shared(&self) -> Shared {
        Shared { scenario: self.scenario().clone(), view: self.view() }
    }

    fn apply_view(&mut self, view: &View) {
        if let Some(step) = view.step {
            // A link's cursor cannot make the page compute past its budget.
            self.simulation.seek_step(step.min(self.simulation.total_steps()));
            self.display_ms = self.simulation.now_ms() as f64;
            self.cursor_moved();
            // A link opens on a state, not on a change: nothing is highlighted yet.
            self.previous_snapshots = self.snapshots.clone();
        }
        self.selected_message = view.message.filter(|id| self.index.message(*id).is_some());
        if let Some(span_ms) = view.span_ms {
            self.span_ms = f64::from(span_ms).clamp(SPAN_MS_MIN, SPAN_MS_MAX);
        }
        if let Some(tenths) = view.speed_tenths {
            self.speed_log = (f64::from(tenths) / 10.0).clamp(SPEED_LOG_MIN, SPEED_LOG_MAX);
        }
    }

    /// The view this page shows, as a link carries it.
    pub fn view(&self) -> View {
        View {
            step: Some(self.simulation.cursor_step()),
            message: self.selected_message,
            span_ms: (self.span_ms != SPAN_MS_DEFAULT).then_some(self.span_ms.round() as u32),
            speed_tenths: (self.speed_log != 0.0).then_some((self.speed_log * 10.0).round() as i8),
        }
    }

    /// The share link fragment of the scenario and view on screen: `s=1.<data>`.
    pub fn share_fragment(&self) -> Result<String, LinkError> {
        link::encode(&self.shared()).map(|encoded| format!("{}{encoded}", link::LINK_KEY))
    }

    pub fn scenario(&self) -> &Scenario {
        self.simulation.scenario()
    }

    pub fn at_end(&self) -> bool {
        self.simulation.cursor_step() >= self.simulation.total_steps()
    }

    pub fn speed(&self) -> f64 {
        10f64.powf(self.speed_log)
    }

    /// Computes the run to its end and rebuilds what the views draw from it.
    fn recompute(&mut self) {
        let cursor = self.simulation.cursor_step();
        // The page computes at most this many events past the cursor, so that no scenario can
        // freeze it or fill its memory; the command line computes any run to its end.
        self.simulation.extend(STEP_BUDGET);
        if self.simulation.stop().is_none() {
            let text = format!(
                "This run is long: the playground computed {} events and stops there (the scenario allows {}). \
                 Lower end_ms or max_steps to see its end here, or run it whole with `commitlab run`.",
                self.simulation.total_steps(),
                self.scenario().max_steps
            );
            self.notice = Some(Notice { text, error: true });
        }
        self.groups = self.simulation.world().groups().map(|groups| groups.groups.clone()).unwrap_or_default();
        self.expanded_groups.retain(|address| self.groups.iter().any(|group| group.address() == *address));
        self.index = RunIndex::build(&self.simulation);
        self.spec = SpecMapping::of(self.scenario(), self.simulation.trace());
        self.trace_hash = format!("{:016x}", self.simulation.trace_hash());
        let last_ms = self.simulation.trace().last().map_or(0, |entry| entry.time_ms);
        self.end_ms = match self.simulation.stop() {
            Some(Stop::EndTime) => self.scenario().end_ms.max(last_ms),
            _ => last_ms,
        };
        self.simulation.seek_step(cursor);
    }

    /// Reads the snapshots at the (moved) cursor, keeping the old ones for change highlights.
    fn cursor_moved(&mut self) {
        let snapshots = self.simulation.snapshots_with_wal_tail(WAL_SHOWN);
        self.previous_snapshots = std::mem::replace(&mut self.snapshots, snapshots);
        let world = self.simulation.world();
        self.election_due_ms = self
            .snapshots
            .iter()
            .filter(|snapshot| snapshot.is_replica())
            .filter_map(|snapshot| {
                world.timer_due_ms(Endpoint::Node(snapshot.id), Timer::Election).map(|due_ms| (snapshot.id, due_ms))
            })
            .collect();
    }

    fn seek_time(&mut self, time_ms: Millis) {
        let before = self.simulation.cursor_step();
        self.simulation.seek_time(time_ms.min(self.end_ms));
        if self.simulation.cursor_step() != before {
            self.cursor_moved();
        }
    }

    pub fn apply(&mut self, action: Action) {
        self.keep_address = false;
        if !action.moves_only_the_cursor() {
            self.revision += 1;
        }
        match action {
            Action::LoadPreset(name) => {
                let revision = self.revision;
                *self = Playground::from_preset(&name);
                self.revision = revision;
            }
            Action::OpenLink(fragment) => {
                let revision = self.revision;
                *self = Playground::from_fragment(&fragment);
                self.revision = revision;
            }
            Action::LoadScenarioText(text) => {
                let result =
                    Scenario::from_json(&text).map_err(|error| format!("the file is not a valid scenario: {error}"));
                match result {
                    Ok(scenario) => {
                        self.json = scenario.to_json_pretty();
                        self.apply_edited(Ok(scenario));
                    }
                    Err(error) => self.notice = Some(Notice { text: error, error: true }),
                }
            }
            Action::Play => {
                if !self.playing {
                    self.toggle_play();
                }
            }
            Action::TogglePlay => self.toggle_play(),
            Action::Pause => self.playing = false,
            Action::Tick(real_ms) => self.tick(real_ms),
            Action::StepForward => self.step(true),
            Action::StepBack => self.step(false),
            Action::Restart => {
                self.playing = false;
                self.display_ms = 0.0;
                self.simulation.seek_step(0);
                self.cursor_moved();
            }
            Action::SeekTime(time_ms) => {
                self.display_ms = time_ms.min(self.end_ms) as f64;
                self.seek_time(time_ms);
            }
            Action::SeekStep(step) => {
                self.playing = false;
                self.simulation.seek_step(step.min(self.simulation.total_steps()));
                self.display_ms = self.simulation.now_ms() as f64;
                self.cursor_moved();
            }
            Action::SetSpeedLog(value) => self.speed_log = value.clamp(SPEED_LOG_MIN, SPEED_LOG_MAX),
            Action::Zoom(factor) => self.span_ms = (self.span_ms * factor).clamp(SPAN_MS_MIN, SPAN_MS_MAX),
            Action::ToggleNode(node) => self.toggle_node(node),
            Action::ToggleGroupLane(address) => {
                if self.groups.iter().any(|group| group.address() == address) && !self.expanded_groups.remove(&address)
                {
                    self.expanded_groups.insert(address);
                }
            }
            Action::SelectMessage(id) => self.selected_message = id,
            Action::DropMessage(id) => self.inject(Fault::Drop(MessageTarget::Id(id))),
            Action::DelayMessage(id) => {
                self.inject(Fault::Delay { message: MessageTarget::Id(id), by_ms: self.delay_ms })
            }
            Action::DuplicateMessage(id) => self.inject(Fault::Duplicate(MessageTarget::Id(id))),
            Action::SetDelayMs(delay_ms) => self.delay_ms = delay_ms.clamp(1, 60_000),
            Action::TogglePartitionMember(endpoint) => {
                if !self.partition_draft.remove(&endpoint) {
                    self.partition_draft.insert(endpoint);
                }
            }
            Action::Partition => self.partition(),
            Action::Heal => self.inject(Fault::Heal),
            Action::RemoveFault(index) => self.edit_faults(|faults| {
                if index < faults.len() {
                    faults.remove(index);
                }
            }),
            Action::MoveFault(index, at_ms) => self.edit_faults(|faults| {
                if let Some(fault) = faults.get_mut(index) {
                    fault.at_ms = at_ms;
                }
            }),
            Action::JumpToViolation { step, nodes, txn } => {
                self.playing = false;
                self.simulation.seek_step(step);
                self.display_ms = self.simulation.now_ms() as f64;
                self.cursor_moved();
                self.highlighted_nodes = nodes.into_iter().collect();
                self.highlighted_txn = txn;
            }
            Action::SetEditorTab(tab) => {
                self.editor_tab = tab;
                self.editor_error = None;
            }
            Action::EditJson(text) => self.json = text,
            Action::ApplyJson => {
                let result = Scenario::from_json(&self.json).map_err(|error| error.to_string());
                self.apply_edited(result);
            }
            Action::EditForm(field, value) => self.form.set(&field, value),
            Action::AddShard => self.form.add_shard(),
            Action::RemoveShard(index) => {
                if self.form.shards.len() > 1 && index < self.form.shards.len() {
                    self.form.shards.remove(index);
                }
            }
            Action::AddRequest => self.form.add_request(),
            Action::RemoveRequest(index) => {
                if index < self.form.requests.len() {
                    self.form.requests.remove(index);
                }
            }
            Action::ApplyForm => {
                let result = self.form.to_scenario(self.scenario());
                self.apply_edited(result);
            }
            Action::DismissNotice => self.notice = None,
        }
    }

    fn toggle_play(&mut self) {
        if self.playing {
            self.playing = false;
            return;
        }
        if self.at_end() {
            self.simulation.seek_step(0);
            self.display_ms = 0.0;
            self.cursor_moved();
        }
        self.playing = true;
    }

    fn tick(&mut self, real_ms: f64) {
        if !self.playing {
            return;
        }
        // A hidden tab or a slow frame must not jump the run forward by seconds.
        let real_ms = real_ms.clamp(0.0, 100.0);
        self.display_ms += real_ms / 1000.0 * VIRTUAL_MS_PER_SECOND_AT_1X * self.speed();
        if self.display_ms >= self.end_ms as f64 {
            self.display_ms = self.end_ms as f64;
            let before = self.simulation.cursor_step();
            self.simulation.seek_step(self.simulation.total_steps());
            if self.simulation.cursor_step() != before {
                self.cursor_moved();
            }
            self.playing = false;
            return;
        }
        self.seek_time(self.display_ms.floor() as Millis);
    }

    fn step(&mut self, forward: bool) {
        self.playing = false;
        // Never past what was computed: the views are built from the computed run.
        let moved = if forward {
            self.simulation.cursor_step() < self.simulation.total_steps() && self.simulation.step_forward()
        } else {
            self.simulation.step_back()
        };
        if moved {
            self.display_ms = self.simulation.now_ms() as f64;
            self.cursor_moved();
        }
    }

    fn toggle_node(&mut self, node: NodeId) {
        let up = self.snapshots.iter().find(|snapshot| snapshot.id == node).map(|snapshot| snapshot.up);
        match up {
            Some(true) => self.inject(Fault::Crash(node)),
            Some(false) => self.inject(Fault::Restart(node)),
            None => self.notice = Some(Notice { text: format!("there is no node {node}"), error: true }),
        }
    }

    fn partition(&mut self) {
        let all: Vec<Endpoint> = std::iter::once(Endpoint::Client)
            .chain(self.snapshots.iter().map(|snapshot| Endpoint::Node(snapshot.id)))
            .collect();
        let side: Vec<Endpoint> =
            all.iter().copied().filter(|endpoint| self.partition_draft.contains(endpoint)).collect();
        let rest: Vec<Endpoint> =
            all.iter().copied().filter(|endpoint| !self.partition_draft.contains(endpoint)).collect();
        if side.is_empty() || rest.is_empty() {
            self.notice = Some(Notice {
                text: "pick some, but not all, nodes for one side of the partition".to_string(),
                error: true,
            });
            return;
        }
        self.inject(Fault::Partition(vec![side, rest]));
        self.partition_draft.clear();
    }

    /// Adds a fault at the playback time, recomputes the run from there and moves the cursor
    /// past the fault so its effect shows at once.
    fn inject(&mut self, fault: Fault) {
        let at_ms = (self.display_ms.floor() as Millis).max(self.simulation.now_ms());
        let text = format!("at {at_ms} ms: {fault}");
        match self.simulation.inject_at(at_ms, fault) {
            Ok(()) => {
                self.notice = None;
                self.recompute();
                self.simulation.seek_time(at_ms);
                self.display_ms = self.display_ms.max(at_ms as f64);
                self.cursor_moved();
                self.after_scenario_change();
                // A warning from the recomputation (a run cut at the budget) wins.
                self.notice
                    .get_or_insert(Notice { text: format!("added to the fault schedule: {text}"), error: false });
            }
            Err(error) => self.notice = Some(Notice { text: format!("cannot add {text}: {error}"), error: true }),
        }
    }

    fn edit_faults(&mut self, edit: impl FnOnce(&mut Vec<commitlab_sim::ScheduledFault>)) {
        let mut scenario = self.scenario().clone();
        edit(&mut scenario.faults);
        self.replace_scenario(scenario);
    }

    fn apply_edited(&mut self, result: Result<Scenario, String>) {
        match result {
            Ok(scenario) => {
                self.editor_error = None;
                self.notice = None;
                if self.replace_scenario(scenario) {
                    self.preset.clear();
                    self.notice.get_or_insert(Notice { text: "scenario applied".to_string(), error: false });
                }
            }
            // The last valid scenario keeps running.
            Err(error) => self.editor_error = Some(error),
        }
    }

    /// Runs a changed scenario from scratch, keeping the cursor's time. False if it is invalid.
    fn replace_scenario(&mut self, scenario: Scenario) -> bool {
        let time_ms = self.simulation.now_ms();
        match Simulation::new(scenario) {
            Ok(simulation) => {
                self.simulation = simulation;
                self.recompute();
                self.simulation.seek_time(time_ms.min(self.end_ms));
                self.display_ms = self.simulation.now_ms() as f64;
                self.selected_message = None;
                self.cursor_moved();
                self.after_scenario_change();
                true
            }
            Err(error) => {
                // Shown in the editor and as a message: the change may come from the fault list.
                self.editor_error = Some(error.to_string());
                self.notice =
                    Some(Notice { text: format!("That change makes the scenario invalid: {error}"), error: true });
                false
            }
        }
    }

    /// Keeps the editor showing the scenario that runs.
    fn after_scenario_change(&mut self) {
        self.json = self.scenario().to_json_pretty();
        self.form = FormDraft::from_scenario(self.scenario());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn playing_reaches_the_end_and_stops() {
        let mut playground = Playground::from_preset("happy-path");
        playground.apply(Action::SetSpeedLog(SPEED_LOG_MAX));
        playground.apply(Action::TogglePlay);
        for _ in 0..1000 {
            playground.apply(Action::Tick(16.0));
        }
        assert!(!playground.playing);
        assert!(playground.at_end());
        assert_eq!(playground.display_ms, playground.end_ms as f64);
    }

    #[test]
    fn crashing_the_coordinators_leader_moves_the_crown_and_the_client_still_hears_commit() {
        let mut playground = Playground::from_preset("raft-seed-002");
        playground.apply(Action::SeekTime(150));
        playground.apply(Action::ToggleNode(NodeId(1)));
        playground.apply(Action::SeekStep(u64::MAX));
        let leader = playground
            .snapshots
            .iter()
            .filter(|snapshot| snapshot.up && snapshot.id.0 <= 3)
            .find(|snapshot| {
                snapshot.raft.as_ref().is_some_and(|raft| raft.role == commitlab_protocol::raft::RaftRole::Leader)
            })
            .map(|snapshot| snapshot.id);
        assert!(matches!(leader, Some(NodeId(2 | 3))), "C1's leader: {leader:?}");
        let outcomes: Vec<_> = playground.simulation.world().client().outcomes().values().copied().collect();
        assert_eq!(outcomes, [commitlab_protocol::Decision::Commit]);
    }

    #[test]
    fn group_lanes_expand_and_collapse_and_only_replicated_groups_do() {
        let mut playground = Playground::from_preset("raft-seed-002");
        assert_eq!(playground.groups.len(), 3, "C1, C2, C3: the coordinator sits in C1");
        assert!(!playground.election_due_ms.is_empty());
        playground.apply(Action::ToggleGroupLane(NodeId(4)));
        assert!(playground.expanded_groups.contains(&NodeId(4)));
        playground.apply(Action::ToggleGroupLane(NodeId(5)));
        assert_eq!(playground.expanded_groups.len(), 1, "n5 is no group's address");
        playground.apply(Action::ToggleGroupLane(NodeId(4)));
        assert!(playground.expanded_groups.is_empty());
        let rounds = &playground.index.rounds;
        let prepared = rounds.iter().find(|round| round.entry == "Prepared(t1)").expect("a Prepared round");
        assert_eq!(
            (prepared.leader, prepared.index, prepared.end.map(|(_, _, committed)| committed)),
            (NodeId(1), 2, Some(true))
        );
    }

    /// Transaction t1's phases as the diagram's bands show them: (phase, coordinator).
    fn band(phase: &'static str, coordinator: &str) -> (String, &'static str, String) {
        ("t1".to_string(), phase, coordinator.to_string())
    }

    /// Each band's phase, start and end.
    fn band_spans(playground: &Playground) -> Vec<(&'static str, Millis, Option<Millis>)> {
        playground
            .index
            .bands
            .iter()
            .map(|band| (band.phase, band.start_ms, band.end.map(|(end_ms, _)| end_ms)))
            .collect()
    }

    fn bands_of(preset: &str) -> Vec<(String, &'static str, String)> {
        let playground = Playground::from_preset(preset);
        playground
            .index
            .bands
            .iter()
            .map(|band| (band.txn.to_string(), band.phase, band.coordinator.to_string()))
            .collect()
    }

    #[test]
    fn phase_bands_turn_to_commit_or_abort_when_the_decision_is_durable_in_either_mode() {
        assert_eq!(bands_of("happy-path"), [band("prepare", "n1"), band("commit", "n1")]);
        assert_eq!(bands_of("raft-bug-static-leader"), [band("prepare", "n1"), band("abort", "n1")]);
        // The new coordinator leader takes the transaction over, then decides it.
        assert_eq!(
            bands_of("raft-coordinator-leader-crash"),
            [band("prepare", "n10"), band("prepare", "n12"), band("commit", "n12")]
        );
        // In a group, the prepare band runs from the proposal of Prepared(t1) to the commit of
        // the decision's entry, and the commit band from there to the commit of Completed(t1).
        let playground = Playground::from_preset("raft-seed-002");
        let round = |entry: &str| {
            let round = playground.index.rounds.iter().find(|round| round.entry == entry).expect("a round");
            (round.start_ms, round.end.expect("the round ends").0)
        };
        let spans = band_spans(&playground);
        let (prepared, decided, completed) = (round("Prepared(t1)"), round("Commit(t1)"), round("Completed(t1)"));
        assert_eq!(spans, [("prepare", prepared.0, Some(decided.1)), ("commit", decided.1, Some(completed.1))]);
    }

    #[test]
    fn a_saga_gets_a_forward_band_and_a_compensation_band_from_its_phases() {
        assert_eq!(bands_of("saga-completes"), [band("saga", "n10")]);
        assert_eq!(bands_of("saga-compensates"), [band("saga", "n10"), band("compensate", "n10")]);
        let spans = band_spans(&Playground::from_preset("saga-compensates"));
        // From the request's arrival to the failed step's record, then to the saga's end record.
        assert_eq!(spans, [("saga", 14, Some(81)), ("compensate", 81, Some(123))]);
    }

    #[test]
    fn consensus_arrows_carry_short_labels_and_routine_traffic_is_marked() {
        let playground = Playground::from_preset("raft-seed-002");
        let shorts = |from: u16, kind: &str| -> Vec<(String, bool)> {
            playground
                .index
                .messages
                .iter()
                .filter(|message| message.from == Endpoint::Node(NodeId(from)) && message.kind == kind)
                .map(|message| (message.short.clone(), message.routine))
                .collect()
        };
        let appends = shorts(1, "AppendEntries");
        assert!(appends.contains(&("append 2 Prepared(t1)".to_string(), false)), "{appends:?}");
        assert!(appends.contains(&("heartbeat t1".to_string(), true)), "{appends:?}");
        let replies = shorts(2, "AppendReply");
        assert!(replies.contains(&("ok 2".to_string(), true)), "{replies:?}");
        let prepare = playground.index.messages.iter().find(|message| message.kind == "Prepare").expect("a PREPARE");
        assert_eq!((prepare.short.as_str(), prepare.routine), ("Prepare t1", false), "2PC keeps its canonical label");
    }

    #[test]
    fn under_multi_paxos_boxes_name_the_sequence_number_and_phase_and_arrows_name_seed_002s_messages() {
        let playground = Playground::from_preset("paxos-seed-002");
        let rounds: Vec<(NodeId, &str, bool)> = playground
            .index
            .rounds
            .iter()
            .filter(|round| round.entry != "no-op")
            .map(|round| (round.leader, round.entry.as_str(), round.end.is_some_and(|(_, _, chosen)| chosen)))
            .collect();
        let (n1, n4) = (NodeId(1), NodeId(4));
        assert_eq!(
            rounds,
            [
                (n1, "seq 100 P", true),
                (n1, "seq 100 P", true),
                (n4, "seq 200 P", true),
                (n1, "seq 100 C", true),
                (n1, "seq 100 C", true),
                (n4, "seq 200 C", true),
                (n1, "seq 100 done", true),
            ],
            "C1's coordinator and participant records share seq 100, the decision reuses it"
        );
        let shorts: Vec<&str> = playground
            .index
            .messages
            .iter()
            .filter(|message| message.from == Endpoint::Node(n4) && message.consensus && !message.routine)
            .map(|message| message.short.as_str())
            .collect();
        for expected in ["PHASE1A b1.n4", "ACCEPT seq 200 P", "COMMIT seq 200 P", "ACCEPT seq 200 C"] {
            assert!(shorts.contains(&expected), "{expected} in {shorts:?}");
        }
        let replies: Vec<&str> = playground
            .index
            .messages
            .iter()
            .filter(|message| message.kind == "AcceptedReply")
            .map(|message| message.short.as_str())
            .collect();
        assert!(replies.contains(&"AcceptedReply #1") && replies.contains(&"AcceptedReply #2"), "{replies:?}");
        assert_eq!(bands_of("paxos-seed-002"), [band("prepare", "n1"), band("commit", "n1")]);
        assert_eq!(bands_of("paxos-bug-static-leader"), [band("prepare", "n1"), band("abort", "n1")]);
    }

    #[test]
    fn clicking_a_node_records_a_crash_and_a_second_click_a_restart() {
        let mut playground = Playground::from_preset("happy-path");
        playground.apply(Action::SeekTime(20));
        playground.apply(Action::ToggleNode(NodeId(4)));
        playground.apply(Action::ToggleNode(NodeId(4)));
        let faults: Vec<String> = playground.scenario().faults.iter().map(ToString::to_string).collect();
        assert_eq!(faults, ["at 20 ms: crash n4", "at 20 ms: restart n4"]);
        playground.apply(Action::RemoveFault(1));
        assert_eq!(playground.scenario().faults.len(), 1);
        assert!(!playground.snapshots.iter().find(|node| node.id == NodeId(4)).expect("n4").up);
    }

    #[test]
    fn a_share_link_opens_the_same_run_at_the_same_cursor() {
        let mut playground = Playground::from_preset("happy-path");
        playground.apply(Action::SeekTime(20));
        playground.apply(Action::ToggleNode(NodeId(4)));
        playground.apply(Action::StepForward);
        let fragment = playground.share_fragment().expect("short enough");
        let opened = Playground::from_fragment(&format!("#{fragment}"));
        assert_eq!(opened.trace_hash, playground.trace_hash);
        assert_eq!(opened.simulation.cursor_step(), playground.simulation.cursor_step());
        assert_eq!(opened.scenario(), playground.scenario());
        assert_eq!(opened.preset, "", "an edited scenario is no preset");
        assert!(opened.notice.is_none());
    }

    #[test]
    fn a_preset_link_selects_its_preset_and_a_bad_link_says_why() {
        let playground = Playground::from_preset("lost-commit");
        let opened = Playground::from_fragment(&playground.share_fragment().expect("fits"));
        assert_eq!(opened.preset, "lost-commit");
        let bad = Playground::from_fragment("#s=1.bm90IGEgbGluaw");
        assert_eq!(bad.preset, "happy-path");
        let notice = bad.notice.expect("a message");
        assert!(
            notice.error && notice.text.starts_with("This link cannot be opened: the link is damaged"),
            "{}",
            notice.text
        );
        let future = Playground::from_fragment("#s=9.abc");
        assert!(future.notice.expect("a message").text.contains("newer Commit Lab (link version 9)"));
    }

    #[test]
    fn moving_a_fault_out_of_range_is_refused_with_a_message() {
        let mut playground = Playground::from_preset("lost-commit");
        playground.apply(Action::MoveFault(0, u64::MAX));
        assert_eq!(playground.scenario().faults[0].at_ms, 0, "the last valid schedule keeps running");
        assert!(playground.notice.expect("a message").text.contains("faults[0].at_ms"));
    }

    #[test]
    fn messages_in_flight_can_be_dropped_delayed_and_duplicated() {
        let mut playground = Playground::from_preset("happy-path");
        playground.apply(Action::SeekTime(20));
        let prepare = playground
            .index
            .messages
            .iter()
            .find(|message| {
                message.label == "Prepare t1" && message.to == commitlab_protocol::Endpoint::Node(NodeId(4))
            })
            .expect("the PREPARE to n4")
            .id;
        assert!(playground.index.message(prepare).expect("known").in_flight_at(playground.simulation.cursor_step()));
        playground.apply(Action::SetDelayMs(200));
        playground.apply(Action::DelayMessage(prepare));
        playground.apply(Action::DuplicateMessage(prepare));
        playground.apply(Action::DropMessage(prepare));
        let faults: Vec<String> = playground.scenario().faults.iter().map(ToString::to_string).collect();
        assert_eq!(
            faults,
            [
                format!("at 20 ms: delay {prepare} by 200 ms"),
                format!("at 20 ms: duplicate {prepare}"),
                format!("at 20 ms: drop {prepare}")
            ]
        );
        let dropped = playground.index.message(prepare).expect("known");
        assert!(matches!(dropped.end, Some((crate::run_index::Ending::Dropped { .. }, 20, _))), "{:?}", dropped.end);
        assert!(
            playground.index.messages.iter().any(|message| message.duplicate_of == Some(prepare)),
            "the copy still travels"
        );
    }

    #[test]
    fn the_partition_tool_cuts_the_ticked_nodes_off_and_heal_joins_them() {
        let mut playground = Playground::from_preset("happy-path");
        playground.apply(Action::SeekTime(10));
        playground.apply(Action::Partition);
        assert!(
            playground.notice.as_ref().is_some_and(|notice| notice.error),
            "nothing ticked: refused with a message"
        );
        playground.apply(Action::TogglePartitionMember(commitlab_protocol::Endpoint::Node(NodeId(4))));
        playground.apply(Action::Partition);
        playground.apply(Action::SeekTime(300));
        playground.apply(Action::Heal);
        let faults: Vec<String> = playground.scenario().faults.iter().map(ToString::to_string).collect();
        assert_eq!(faults, ["at 10 ms: partition {n4} | {client, n1, n7}", "at 300 ms: heal partition"]);
        assert!(playground.partition_draft.is_empty());
    }

    #[test]
    fn a_very_long_run_is_cut_at_the_page_budget_with_a_message() {
        let mut scenario = (preset("coordinator-crash-after-prepare").expect("preset").build)();
        // Blocked participants ask a coordinator that never comes back, for a very long time.
        scenario.faults.truncate(1);
        scenario.end_ms = 90_000_000;
        scenario.max_steps = 5_000_000;
        let playground = Playground::new(scenario).expect("valid");
        assert_eq!(playground.simulation.total_steps(), STEP_BUDGET);
        assert!(playground.notice.as_ref().expect("a message").text.contains("computed 200000 events"));
        let mut playground = playground;
        playground.apply(Action::SeekStep(u64::MAX));
        playground.apply(Action::StepForward);
        assert_eq!(playground.simulation.cursor_step(), STEP_BUDGET, "stepping stays within the computed run");
        assert_eq!(playground.simulation.total_steps(), STEP_BUDGET);
    }

    #[test]
    fn invalid_json_keeps_the_last_valid_scenario_running() {
        let mut playground = Playground::from_preset("happy-path");
        let before = playground.scenario().clone();
        playground.apply(Action::EditJson("{\"version\": 1,".to_string()));
        playground.apply(Action::ApplyJson);
        assert!(playground.editor_error.as_deref().is_some_and(|error| error.contains("line 1")));
        assert_eq!(playground.scenario(), &before);
    }
}
