//! The saga orchestrator (seed 004's alternative to 2PC for long-running workflows), played by
//! the coordinator node.
//!
//! A saga runs a transaction as one local transaction per participant, in turn: each step commits
//! at its participant at once and holds no lock after that, so nothing blocks and nobody is ever
//! in doubt. When a step fails, the orchestrator runs the compensating transactions of the steps
//! done, in reverse order, and the saga ends aborted; when every step is done it ends committed.
//!
//! The orchestrator logs each move in its saga log before the next (`Saga(t)`, each step's answer,
//! each compensation, the end) and a restarted orchestrator resumes from there: it sends the step
//! or compensation it was waiting on again, and participants answer a repeated one from their own
//! records. It never gives up on a silent participant: a step with no answer may have committed,
//! so it asks until it hears. The price is isolation: between steps, others see the half-done
//! transfer (the money has left one account and not reached the other).

use super::{plan, Coordinator, RequestState};
use crate::context::Context;
use crate::effect::{Note, Role, Timer};
use crate::ids::{Endpoint, NodeId, RequestId, TxnId};
use crate::message::{Decision, Message, Plan, Record, SagaStep, TxnSpec};
use crate::phase::Phase;
use crate::vec_map::VecMap;
use std::sync::Arc;

/// Where a saga stands at its orchestrator.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum SagaPhase {
    /// `Saga(t)` is being written.
    Logging,
    /// Step `n` (from 1) was sent; waiting for its answer.
    Running(u32),
    /// Step `n` was sent to be compensated; waiting for the answer.
    Compensating(u32),
    /// An answer is being logged.
    Recording,
    /// The end record is being written.
    Ending(Decision),
}

impl SagaPhase {
    pub fn phase(self, failed: bool) -> Phase {
        match self {
            SagaPhase::Logging => Phase::LoggingSaga,
            SagaPhase::Running(_) => Phase::RunningSteps,
            SagaPhase::Compensating(_) => Phase::Compensating,
            SagaPhase::Recording if failed => Phase::Compensating,
            SagaPhase::Recording => Phase::RunningSteps,
            SagaPhase::Ending(_) => Phase::EndingSaga,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Saga {
    pub request: RequestId,
    pub steps: Vec<SagaStep>,
    /// How many steps are done (logged): step `done + 1` runs next.
    pub done: u32,
    /// The failed step's reason, once one failed: the saga compensates.
    pub failure: Option<String>,
    /// How many of the steps done are compensated (logged), from the last one down.
    pub compensated: u32,
    pub phase: SagaPhase,
}

impl Saga {
    /// A saga whose first record is being written (or was just read from the log).
    fn begun(request: RequestId, steps: Vec<SagaStep>) -> Saga {
        Saga { request, steps, done: 0, failure: None, compensated: 0, phase: SagaPhase::Logging }
    }

    /// The table's phase for this saga.
    pub fn table_phase(&self) -> Phase {
        self.phase.phase(self.failure.is_some())
    }
}

impl Coordinator {
    pub fn sagas(&self) -> &VecMap<TxnId, Saga> {
        &self.sagas
    }

    /// A client request to run `spec` as a saga: log its steps, then run the first.
    pub(super) fn begin_saga(&mut self, request: RequestId, spec: &TxnSpec, context: &mut Context) {
        let steps = match plan(spec, context).map(|work| in_spec_order(spec, work, context)) {
            Ok(steps) => steps,
            Err(reason) => return self.refuse(request, reason, context),
        };
        let txn = self.new_txn(request, false);
        context.persist(Record::SagaBegun { txn, request, steps: steps.clone() });
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::LoggingSaga });
        self.requests.insert(request, RequestState::Running(txn));
        self.sagas.insert(txn, Saga::begun(request, steps));
    }

    /// Replays a saga log record into the table, with no effects.
    pub(super) fn replay_saga(&mut self, record: &Record) {
        match record {
            Record::SagaBegun { txn, request, steps } => {
                self.next_txn = self.next_txn.max(txn.0 + self.numbering.stride);
                self.requests.insert(*request, RequestState::Running(*txn));
                self.sagas.insert(*txn, Saga::begun(*request, steps.clone()));
            }
            Record::SagaStepDone { txn, step, ok, reason } => {
                if let Some(saga) = self.sagas.get_mut(txn) {
                    saga.phase = SagaPhase::Recording;
                    if *ok {
                        saga.done = saga.done.max(*step);
                    } else {
                        saga.failure = Some(failure_reason(saga, *step, reason.as_deref()));
                    }
                }
            }
            Record::SagaCompensated { txn, .. } => {
                if let Some(saga) = self.sagas.get_mut(txn) {
                    saga.phase = SagaPhase::Recording;
                    saga.compensated += 1;
                }
            }
            Record::SagaEnded { txn, decision, reason } => {
                if let Some(saga) = self.sagas.remove(txn) {
                    let reason = reason.as_deref().map(Arc::from);
                    let done = RequestState::Done { txn: Some(*txn), decision: *decision, reason };
                    self.requests.insert(saga.request, done);
                }
            }
            _ => {}
        }
    }

    /// After a restart: carry on with every saga the log left open.
    pub(super) fn resume_sagas(&mut self, context: &mut Context) {
        let open: Vec<TxnId> = self.sagas.keys().copied().collect();
        for txn in open {
            context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::ResumingSaga });
            self.advance(txn, context);
        }
    }

    pub(super) fn on_saga_persisted(&mut self, record: &Record, context: &mut Context) {
        match record {
            Record::SagaBegun { txn, .. }
                if self.sagas.get(txn).is_some_and(|saga| saga.phase == SagaPhase::Logging) =>
            {
                self.advance(*txn, context);
            }
            Record::SagaStepDone { txn, step, ok, reason } => {
                let Some(saga) = self.sagas.get_mut(txn) else { return };
                if *ok {
                    saga.done = *step;
                } else {
                    saga.failure = Some(failure_reason(saga, *step, reason.as_deref()));
                    context.note(Note::Phase { txn: *txn, role: Role::Coordinator, phase: Phase::Compensating });
                }
                self.advance(*txn, context);
            }
            Record::SagaCompensated { txn, .. } => {
                let Some(saga) = self.sagas.get_mut(txn) else { return };
                saga.compensated += 1;
                self.advance(*txn, context);
            }
            Record::SagaEnded { txn, decision, reason } => {
                let Some(saga) = self.sagas.remove(txn) else { return };
                let reason: Option<Arc<str>> = reason.as_deref().map(Arc::from);
                let reply = Message::Reply {
                    request: saga.request,
                    txn: Some(*txn),
                    decision: *decision,
                    reason: reason.clone(),
                };
                context.send(Endpoint::Client, reply);
                let done = RequestState::Done { txn: Some(*txn), decision: *decision, reason: reason.clone() };
                self.requests.insert(saga.request, done);
                context.note(Note::Phase { txn: *txn, role: Role::Coordinator, phase: Phase::SagaEnded });
            }
            _ => {}
        }
    }

    /// The next move from what is logged: run the next step, compensate the last step done, or end.
    fn advance(&mut self, txn: TxnId, context: &mut Context) {
        let saga = self.sagas.get_mut(&txn).expect("advance a known saga");
        let step_count = saga.steps.len() as u32;
        let (phase, message) = match &saga.failure {
            None if saga.done < step_count => {
                let step = saga.done + 1;
                let work = saga.steps[step as usize - 1].work.clone();
                (SagaPhase::Running(step), Message::Step { txn, step, work })
            }
            None => return self.end(txn, Decision::Commit, None, context),
            Some(_) if saga.compensated < saga.done => {
                let step = saga.done - saga.compensated;
                (SagaPhase::Compensating(step), Message::Compensate { txn, step })
            }
            Some(reason) => {
                let reason = Some(reason.clone());
                return self.end(txn, Decision::Abort, reason, context);
            }
        };
        if saga.phase == SagaPhase::Logging {
            context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::RunningSteps });
        }
        saga.phase = phase;
        let to = step_node(saga, phase);
        context.send(to, message);
        context.set_timer(Timer::ResendStep(txn), context.config.timeouts.resend_ms);
    }

    fn end(&mut self, txn: TxnId, decision: Decision, reason: Option<String>, context: &mut Context) {
        let saga = self.sagas.get_mut(&txn).expect("end a known saga");
        saga.phase = SagaPhase::Ending(decision);
        context.cancel_timer(Timer::ResendStep(txn));
        context.note(Note::Phase { txn, role: Role::Coordinator, phase: Phase::EndingSaga });
        context.persist(Record::SagaEnded { txn, decision, reason });
    }

    /// A participant answered a step: log the answer (it is acted on once durable).
    pub fn on_step_done(
        &mut self,
        from: NodeId,
        txn: TxnId,
        step: u32,
        ok: bool,
        reason: Option<&str>,
        context: &mut Context,
    ) {
        let Some(saga) = self.sagas.get_mut(&txn) else { return };
        if saga.phase != SagaPhase::Running(step) || step_node(saga, saga.phase) != from {
            return;
        }
        saga.phase = SagaPhase::Recording;
        context.cancel_timer(Timer::ResendStep(txn));
        context.persist(Record::SagaStepDone { txn, step, ok, reason: reason.map(str::to_string) });
    }

    /// A participant answered a compensation: log it.
    pub fn on_compensated(&mut self, from: NodeId, txn: TxnId, step: u32, context: &mut Context) {
        let Some(saga) = self.sagas.get_mut(&txn) else { return };
        if saga.phase != SagaPhase::Compensating(step) || step_node(saga, saga.phase) != from {
            return;
        }
        saga.phase = SagaPhase::Recording;
        context.cancel_timer(Timer::ResendStep(txn));
        context.persist(Record::SagaCompensated { txn, step });
    }

    /// No answer yet: send the step or compensation again (it may have been lost, or its
    /// participant may be down; either way only an answer tells whether it ran).
    pub fn on_resend_step_timeout(&mut self, txn: TxnId, context: &mut Context) {
        let Some(saga) = self.sagas.get(&txn) else { return };
        let message = match saga.phase {
            SagaPhase::Running(step) => Message::Step { txn, step, work: saga.steps[step as usize - 1].work.clone() },
            SagaPhase::Compensating(step) => Message::Compensate { txn, step },
            SagaPhase::Logging | SagaPhase::Recording | SagaPhase::Ending(_) => return,
        };
        context.send(step_node(saga, saga.phase), message);
        context.set_timer(Timer::ResendStep(txn), context.config.timeouts.resend_ms);
    }
}

/// The node a running step or compensation waits on.
fn step_node(saga: &Saga, phase: SagaPhase) -> NodeId {
    match phase {
        SagaPhase::Running(step) | SagaPhase::Compensating(step) => saga.steps[step as usize - 1].node,
        SagaPhase::Logging | SagaPhase::Recording | SagaPhase::Ending(_) => NodeId(0),
    }
}

fn failure_reason(saga: &Saga, step: u32, reason: Option<&str>) -> String {
    let node = saga.steps.get(step as usize - 1).map_or(NodeId(0), |step| step.node);
    format!("step {step} at {node} failed: {}", reason.unwrap_or("no reason given"))
}

/// The steps in the order the request names their shards: each transfer's sender, then its
/// receiver, then the journals. A plain transfer therefore debits before it credits, so a failed
/// debit leaves nothing to compensate.
fn in_spec_order(spec: &TxnSpec, work: Plan, context: &Context) -> Vec<SagaStep> {
    let directory = &context.config.directory;
    let accounts = spec.transfers.iter().flat_map(|transfer| [transfer.from, transfer.to]);
    let mut order: Vec<NodeId> =
        accounts.filter_map(|account| directory.shard_of(account).map(|entry| entry.node)).collect();
    order.extend(spec.journal.iter().filter_map(|shard| directory.entry(*shard).map(|entry| entry.node)));
    let mut steps: Vec<SagaStep> = Vec::with_capacity(work.len());
    for node in order {
        // Each participant's work is one step, where the spec first names its shard.
        if steps.iter().any(|step| step.node == node) {
            continue;
        }
        if let Some(work) = work.get(&node) {
            steps.push(SagaStep { node, work: work.clone() });
        }
    }
    steps
}
