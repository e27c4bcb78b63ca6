//! Refinement: the implementation's runs, mapped onto Lamport's TwoPhase specification.
//!
//! Each transaction is one instance of TwoPhase, its participants the resource managers (in node
//! order) and its coordinator the TM. The mapping reads a run's trace, step by step:
//! - `rmState[rm]`: `prepared` once the participant's prepare record is durable, `committed` or
//!   `aborted` once its outcome is; `aborted` too when it votes NO (TwoPhase's RMChooseToAbort) or
//!   an ABORT reaches it before it is prepared (RMRcvAbortMsg); otherwise `working`. A crash takes
//!   a participant back to what its disk says.
//! - `tmState`: the coordinator's durable decision, or `init`.
//! - `tmPrepared`: the participants whose YES the coordinator has received since it last started,
//!   frozen once it has decided (it can matter no more; a history variable, as refinement
//!   mappings allow).
//! - `msgs`: `Prepared(rm)` once the participant has sent YES, `Commit`/`Abort` once the
//!   coordinator has sent that decision or made it durable (TMCommit and TMAbort broadcast as they
//!   decide): messages are never taken back, as in the spec.
//!
//! Every step of the implementation must then be one TwoPhase step or a stutter (no change). Steps
//! with a fault (a crash, a restart, a lost or copied message) are not checked, since TwoPhase has
//! no faults; the states on either side of them are.

use crate::spec::{Message as SpecMessage, RmState, TmState, TwoPhase, TwoPhaseState};
use commitlab_protocol::{Decision, Endpoint, Message, NodeId, Record, TxnId};
use commitlab_sim::{TraceEntry, TraceEvent};
use std::collections::BTreeSet;
use std::fmt;

/// What the mapping remembers of one transaction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Instance {
    coordinator: NodeId,
    /// The resource managers, in node order.
    rms: Vec<NodeId>,
    /// Per RM: what its disk says (prepared, outcome) and what it is now.
    durable: Vec<RmState>,
    now: Vec<RmState>,
    tm: TmState,
    tm_prepared: BTreeSet<usize>,
    msgs: BTreeSet<SpecMessage>,
}

impl Instance {
    fn state(&self) -> TwoPhaseState {
        TwoPhaseState::from_parts(&self.now, self.tm, &self.tm_prepared, &self.msgs).expect("within the spec's limits")
    }

    fn rm(&self, node: NodeId) -> Option<usize> {
        self.rms.iter().position(|rm| *rm == node)
    }
}

/// Whether a trace event is a fault (a crash, a restart, a message lost or copied by a fault):
/// TwoPhase has none, so a step with one is not checked.
pub fn is_fault(event: &TraceEvent) -> bool {
    matches!(
        event,
        TraceEvent::Crash { .. }
            | TraceEvent::Restart { .. }
            | TraceEvent::Duplicate { .. }
            | TraceEvent::Drop { reason: commitlab_sim::DropReason::Fault, .. }
    )
}

/// The spec's variables, with RMs named by their nodes.
fn describe(rms: &[NodeId], state: TwoPhaseState) -> String {
    let rm_states: Vec<String> =
        rms.iter().zip(state.rm_states()).map(|(node, rm_state)| format!("{node}: {}", rm_state.name())).collect();
    let prepared: Vec<String> = state.tm_prepared().iter().map(|rm| rms[*rm].to_string()).collect();
    let msgs: Vec<String> = state.msgs().iter().map(|message| message_name(rms, *message)).collect();
    format!(
        "rmState = ({}), tmState = {}, tmPrepared = {{{}}}, msgs = {{{}}}",
        rm_states.join(", "),
        state.tm_state().name(),
        prepared.join(", "),
        msgs.join(", ")
    )
}

fn message_name(rms: &[NodeId], message: SpecMessage) -> String {
    match message {
        SpecMessage::Prepared(rm) => format!("Prepared({})", rms[rm]),
        SpecMessage::Commit => "Commit".to_string(),
        SpecMessage::Abort => "Abort".to_string(),
    }
}

/// A step no TwoPhase step explains.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct RefinementBreak {
    pub step: u64,
    pub txn: String,
    pub before: String,
    pub after: String,
}

impl fmt::Display for RefinementBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {}: no TwoPhase step of {} takes {} to {}", self.step, self.txn, self.before, self.after)
    }
}

/// One transaction's spec variables at a point of a run, for views.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SpecView {
    pub txn: String,
    pub rm_state: Vec<(String, &'static str)>,
    pub tm_state: &'static str,
    pub tm_prepared: Vec<String>,
    pub msgs: Vec<String>,
    /// The spec action the step into this point was, if it was one ("stutter" for none).
    pub last_action: Option<&'static str>,
}

/// The mapping along one run, fed its trace one step at a time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Refinement {
    instances: Vec<(TxnId, Instance)>,
    /// The spec action each instance's last checked step was.
    last_actions: Vec<(TxnId, &'static str)>,
    broken: Option<RefinementBreak>,
}

impl Refinement {
    pub fn new() -> Refinement {
        Refinement::default()
    }

    /// The first step no spec step explains, if any.
    pub fn broken(&self) -> Option<&RefinementBreak> {
        self.broken.as_ref()
    }

    /// Maps the entries of one step (all with the same step number) and checks the step. Returns
    /// the break this step made, if it made one (only the first is kept).
    pub fn observe_step(&mut self, entries: &[TraceEntry]) -> Option<RefinementBreak> {
        let first = entries.first()?;
        let step = first.step;
        let fault = entries.iter().any(|entry| is_fault(&entry.event));
        let before: Vec<(TxnId, TwoPhaseState)> =
            self.instances.iter().map(|(txn, instance)| (*txn, instance.state())).collect();
        for entry in entries {
            self.apply(&entry.event);
        }
        self.last_actions.clear();
        if fault {
            return None;
        }
        let mut found = None;
        for (txn, instance) in &self.instances {
            let after = instance.state();
            // A new instance starts in TPInit; its first step is checked from there.
            let from_state = match before.iter().find(|(old, _)| old == txn) {
                Some((_, state)) => *state,
                None => TwoPhaseState::initial(instance.rms.len()).expect("within limits"),
            };
            if from_state == after {
                self.last_actions.push((*txn, "stutter"));
                continue;
            }
            let spec = TwoPhase::new(instance.rms.len()).expect("within limits");
            match spec.step_name(&from_state, &after) {
                Some(action) => self.last_actions.push((*txn, action)),
                None if found.is_none() => {
                    found = Some(RefinementBreak {
                        step,
                        txn: txn.to_string(),
                        before: describe(&instance.rms, from_state),
                        after: describe(&instance.rms, after),
                    });
                }
                None => {}
            }
        }
        if self.broken.is_none() {
            self.broken.clone_from(&found);
        }
        found
    }

    /// Maps a whole trace, step by step; returns the first break.
    pub fn check_trace(entries: &[TraceEntry]) -> Refinement {
        let mut refinement = Refinement::new();
        let mut start = 0;
        while start < entries.len() {
            let step = entries[start].step;
            let end = start + entries[start..].iter().take_while(|entry| entry.step == step).count();
            refinement.observe_step(&entries[start..end]);
            start = end;
        }
        refinement
    }

    /// The spec's variables of every transaction now, for a view.
    pub fn views(&self) -> Vec<SpecView> {
        self.instances
            .iter()
            .map(|(txn, instance)| SpecView {
                txn: txn.to_string(),
                rm_state: instance
                    .rms
                    .iter()
                    .zip(&instance.now)
                    .map(|(node, state)| (node.to_string(), state.name()))
                    .collect(),
                tm_state: instance.tm.name(),
                tm_prepared: instance.tm_prepared.iter().map(|rm| instance.rms[*rm].to_string()).collect(),
                msgs: instance.msgs.iter().map(|message| message_name(&instance.rms, *message)).collect(),
                last_action: self.last_actions.iter().find(|(last, _)| last == txn).map(|(_, action)| *action),
            })
            .collect()
    }

    fn instance(&mut self, txn: TxnId) -> Option<&mut Instance> {
        self.instances.iter_mut().find(|(known, _)| *known == txn).map(|(_, instance)| instance)
    }

    fn apply(&mut self, event: &TraceEvent) {
        match event {
            TraceEvent::WalAppend { node, record } => self.on_durable(*node, record),
            TraceEvent::Send { from: Endpoint::Node(from), message, .. } => self.on_send(*from, message),
            TraceEvent::Deliver { to: Endpoint::Node(to), message, .. }
                if matches!(&**message, Message::Decide { decision: Decision::Abort, .. }) =>
            {
                // An ABORT that reaches a participant before its prepare record is durable ends it
                // there and then (TwoPhase's RMRcvAbortMsg from working).
                let (txn, to) = (message.txn().expect("a decision names its transaction"), *to);
                if let Some(instance) = self.instance(txn) {
                    if let Some(rm) = instance.rm(to) {
                        if instance.now[rm] == RmState::Working {
                            instance.now[rm] = RmState::Aborted;
                        }
                    }
                }
            }
            TraceEvent::Deliver { from: Endpoint::Node(from), to: Endpoint::Node(to), message, .. } => {
                if let Message::Vote { txn, yes: true, .. } = &**message {
                    let (txn, from, to) = (*txn, *from, *to);
                    if let Some(instance) = self.instance(txn) {
                        if instance.coordinator == to && instance.tm == TmState::Init {
                            if let Some(rm) = instance.rm(from) {
                                instance.tm_prepared.insert(rm);
                            }
                        }
                    }
                }
            }
            TraceEvent::Crash { node, .. } => {
                for (_, instance) in &mut self.instances {
                    if let Some(rm) = instance.rm(*node) {
                        instance.now[rm] = instance.durable[rm];
                    }
                    if instance.coordinator == *node && instance.tm == TmState::Init {
                        instance.tm_prepared.clear();
                    }
                }
            }
            _ => {}
        }
    }

    fn on_durable(&mut self, node: NodeId, record: &Record) {
        match record {
            Record::Prepared { txn, participants, .. } if self.instance(*txn).is_none() => {
                let mut rms: Vec<NodeId> = participants.to_vec();
                rms.sort_unstable();
                let count = rms.len();
                self.instances.push((
                    *txn,
                    Instance {
                        coordinator: node,
                        rms,
                        durable: vec![RmState::Working; count],
                        now: vec![RmState::Working; count],
                        tm: TmState::Init,
                        tm_prepared: BTreeSet::new(),
                        msgs: BTreeSet::new(),
                    },
                ));
            }
            Record::Decided { txn, decision, .. } => {
                if let Some(instance) = self.instance(*txn) {
                    if instance.coordinator == node {
                        // TMCommit and TMAbort broadcast as they decide: a coordinator that has
                        // nobody to tell (a failed local check aborts before any PREPARE) still
                        // made the decision every later answer gives.
                        let (tm, message) = match decision {
                            Decision::Commit => (TmState::Committed, SpecMessage::Commit),
                            Decision::Abort => (TmState::Aborted, SpecMessage::Abort),
                        };
                        instance.tm = tm;
                        instance.msgs.insert(message);
                    }
                }
            }
            Record::PrepareVote { txn, .. } | Record::Outcome { txn, .. } => {
                let state = match record {
                    Record::Outcome { decision: Decision::Commit, .. } => RmState::Committed,
                    Record::Outcome { decision: Decision::Abort, .. } => RmState::Aborted,
                    _ => RmState::Prepared,
                };
                if let Some(instance) = self.instance(*txn) {
                    if let Some(rm) = instance.rm(node) {
                        instance.durable[rm] = state;
                        // A prepare record that lands after the ABORT arrived changes nothing: the
                        // participant is already aborting.
                        if state != RmState::Prepared || instance.now[rm] == RmState::Working {
                            instance.now[rm] = state;
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn on_send(&mut self, from: NodeId, message: &Message) {
        match message {
            Message::Vote { txn, yes, .. } => {
                if let Some(instance) = self.instance(*txn) {
                    if let Some(rm) = instance.rm(from) {
                        if *yes {
                            instance.msgs.insert(SpecMessage::Prepared(rm));
                        } else if instance.now[rm] == RmState::Working {
                            instance.now[rm] = RmState::Aborted;
                        }
                    }
                }
            }
            Message::Decide { txn, decision } => {
                if let Some(instance) = self.instance(*txn) {
                    if instance.coordinator == from {
                        instance.msgs.insert(match decision {
                            Decision::Commit => SpecMessage::Commit,
                            Decision::Abort => SpecMessage::Abort,
                        });
                    }
                }
            }
            _ => {}
        }
    }
}
