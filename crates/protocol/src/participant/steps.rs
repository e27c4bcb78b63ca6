//! A participant's part in a saga: each step is a local transaction that commits at once.
//!
//! On a step it checks the work as it would for PREPARE (known accounts, no negative balance, no
//! lock held by another transaction), takes short locks, makes the changes and writes the step's
//! record; once that is durable the step is committed here: it releases the locks and answers.
//! A refused step is recorded too, so a repeated step always gets the same answer. Nothing is held
//! between steps and nothing is in doubt: a participant never waits on the saga.
//!
//! A compensation takes the step's changes back as deltas, not by restoring the before images:
//! others may have changed the accounts since (that is the missing isolation). If taking the
//! change back would overdraw an account (the money was spent meanwhile) or its account is locked,
//! the compensation waits, and the orchestrator asks again.
//!
//! Every change a step makes to the shard (balances, locks, the changes a step leaves) counts as a
//! shard change ([`Participant::shard_changes`]): the simulator's money and lock checks recount a
//! node only when that count moves.

use super::Participant;
use crate::context::Context;
use crate::effect::{Note, Role};
use crate::ids::{AccountId, NodeId, TxnId};
use crate::message::{Message, Record, Work, Write};
use crate::phase::Phase;

/// Where one saga step stands at this participant.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum StepState {
    /// Changes made under short locks; the step's record is being written.
    Applying {
        reply_to: NodeId,
    },
    /// Committed here.
    Applied,
    /// Refused; the refusal is being written.
    Refusing {
        reply_to: NodeId,
        reason: String,
    },
    Refused(String),
    /// The compensation's changes are made; its record is being written.
    Compensating {
        reply_to: NodeId,
        writes: Vec<Write>,
    },
    Compensated,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StepEntry {
    pub state: StepState,
    /// The step's changes (before and after images at the time it ran).
    pub writes: Vec<Write>,
    pub journal: Option<String>,
}

impl StepEntry {
    /// The change this step leaves in the balances right now: its deltas until it is compensated.
    pub fn net(&self) -> i64 {
        match self.state {
            StepState::Applying { .. } | StepState::Applied => {
                self.writes.iter().map(|write| write.after - write.before).sum()
            }
            _ => 0,
        }
    }

    pub fn phase(&self) -> Phase {
        match self.state {
            StepState::Applying { .. } => Phase::ApplyingStep,
            StepState::Applied => Phase::StepCommitted,
            StepState::Refusing { .. } => Phase::RefusingStep,
            StepState::Refused(_) => Phase::StepRefused,
            StepState::Compensating { .. } => Phase::CompensatingStep,
            StepState::Compensated => Phase::StepCompensated,
        }
    }

    /// True while the step holds short locks (its record or its compensation's is being written).
    pub fn holds_locks(&self) -> bool {
        matches!(self.state, StepState::Applying { .. } | StepState::Compensating { .. })
    }
}

impl Participant {
    pub fn steps(&self) -> &crate::vec_map::VecMap<(TxnId, u32), StepEntry> {
        &self.steps
    }

    /// The change the steps of saga `txn` leave in this shard's balances now.
    pub fn saga_net(&self, txn: TxnId) -> i64 {
        self.steps.range((txn, 0)..=(txn, u32::MAX)).map(|(_, entry)| entry.net()).sum()
    }

    pub fn on_step(&mut self, from: NodeId, txn: TxnId, step: u32, work: &Work, context: &mut Context) {
        if let Some(entry) = self.steps.get(&(txn, step)) {
            // A repeated step (a resend, or a restarted orchestrator) gets the recorded answer.
            let answer = match &entry.state {
                StepState::Applying { .. } | StepState::Refusing { .. } => return,
                StepState::Refused(reason) => Some(reason.clone()),
                StepState::Applied | StepState::Compensating { .. } | StepState::Compensated => None,
            };
            let ok = answer.is_none();
            context.send(from, Message::StepDone { txn, step, ok, reason: answer });
            return;
        }
        match self.check(work, context.config.bugs.ignore_locks) {
            Err(reason) => {
                context.note(Note::Phase { txn, role: Role::Participant, phase: Phase::RefusingStep });
                context.persist(Record::StepRefused { txn, step, reason: reason.clone() });
                let entry = StepEntry {
                    state: StepState::Refusing { reply_to: from, reason },
                    writes: Vec::new(),
                    journal: None,
                };
                self.steps.insert((txn, step), entry);
            }
            Ok(writes) => {
                self.shard_changes += 1;
                if !context.config.bugs.ignore_locks {
                    for write in &writes {
                        self.bank.lock(write.account, txn, context);
                    }
                }
                self.bank.apply_after(&writes, context);
                if let Some(line) = &work.journal {
                    self.bank.append_journal(txn, line.clone());
                }
                context.note(Note::Phase { txn, role: Role::Participant, phase: Phase::ApplyingStep });
                context.persist(Record::StepApplied {
                    txn,
                    step,
                    writes: writes.clone(),
                    journal: work.journal.clone(),
                });
                let entry =
                    StepEntry { state: StepState::Applying { reply_to: from }, writes, journal: work.journal.clone() };
                self.steps.insert((txn, step), entry);
            }
        }
    }

    pub fn on_compensate(&mut self, from: NodeId, txn: TxnId, step: u32, context: &mut Context) {
        let Some(entry) = self.steps.get(&(txn, step)) else {
            // Never ran here (its record was lost with a crash before it was durable): nothing to
            // take back.
            context.send(from, Message::Compensated { txn, step });
            return;
        };
        match entry.state {
            StepState::Applying { .. } | StepState::Refusing { .. } | StepState::Compensating { .. } => return,
            StepState::Refused(_) | StepState::Compensated => {
                context.send(from, Message::Compensated { txn, step });
                return;
            }
            StepState::Applied => {}
        }
        let writes = match self.compensation(txn, &entry.writes) {
            Ok(writes) => writes,
            Err(reason) => {
                context.note(Note::CompensationWaits { txn, step, reason: reason.into() });
                return;
            }
        };
        self.shard_changes += 1;
        for write in &writes {
            self.bank.lock(write.account, txn, context);
        }
        self.bank.apply_after(&writes, context);
        if entry.journal.is_some() {
            self.bank.remove_journal(txn);
        }
        context.note(Note::Phase { txn, role: Role::Participant, phase: Phase::CompensatingStep });
        context.persist(Record::StepCompensated { txn, step, writes: writes.clone() });
        let entry = self.steps.get_mut(&(txn, step)).expect("just read");
        entry.state = StepState::Compensating { reply_to: from, writes };
    }

    /// The writes that take a step's changes back from the balances as they are now.
    fn compensation(&self, txn: TxnId, step_writes: &[Write]) -> Result<Vec<Write>, String> {
        let mut writes = Vec::new();
        for write in step_writes {
            let account: AccountId = write.account;
            if let Some(holder) = self.bank.lock_holder(account) {
                if holder != txn {
                    return Err(format!("{account} locked by {holder}"));
                }
            }
            let now = self.bank.balance(account).unwrap_or(0);
            let after = now - (write.after - write.before);
            if after < 0 {
                return Err(format!(
                    "{account} holds {now}, taking back {} would overdraw it",
                    write.after - write.before
                ));
            }
            writes.push(Write { account, before: now, after });
        }
        Ok(writes)
    }

    /// A step's or a compensation's record is durable: committed locally, locks released, answer.
    pub(super) fn on_step_record_durable(&mut self, record: &Record, context: &mut Context) {
        let (txn, step) = match record {
            Record::StepApplied { txn, step, .. }
            | Record::StepRefused { txn, step, .. }
            | Record::StepCompensated { txn, step, .. } => (*txn, *step),
            _ => return,
        };
        let Some(entry) = self.steps.get_mut(&(txn, step)) else { return };
        let (next, phase, answer, locked) = match std::mem::replace(&mut entry.state, StepState::Applied) {
            StepState::Applying { reply_to } => (
                StepState::Applied,
                Phase::StepCommitted,
                (reply_to, Message::StepDone { txn, step, ok: true, reason: None }),
                entry.writes.clone(),
            ),
            StepState::Refusing { reply_to, reason } => (
                StepState::Refused(reason.clone()),
                Phase::StepRefused,
                (reply_to, Message::StepDone { txn, step, ok: false, reason: Some(reason) }),
                Vec::new(),
            ),
            StepState::Compensating { reply_to, writes } => {
                (StepState::Compensated, Phase::StepCompensated, (reply_to, Message::Compensated { txn, step }), writes)
            }
            other => {
                entry.state = other;
                return;
            }
        };
        entry.state = next;
        self.shard_changes += 1;
        self.bank.unlock(&locked, txn, context);
        context.note(Note::Phase { txn, role: Role::Participant, phase });
        context.send(answer.0, answer.1);
    }

    /// Replays a step record: how a restarted participant rebuilds its balances and its answers.
    pub(super) fn replay_step(&mut self, record: &Record, context: &mut Context) {
        match record {
            Record::StepApplied { txn, step, writes, journal } => {
                self.shard_changes += 1;
                self.bank.apply_after(writes, context);
                if let Some(line) = journal {
                    self.bank.append_journal(*txn, line.clone());
                }
                let entry = StepEntry { state: StepState::Applied, writes: writes.clone(), journal: journal.clone() };
                self.steps.insert((*txn, *step), entry);
            }
            Record::StepRefused { txn, step, reason } => {
                let entry = StepEntry { state: StepState::Refused(reason.clone()), writes: Vec::new(), journal: None };
                self.steps.insert((*txn, *step), entry);
            }
            Record::StepCompensated { txn, step, writes } => {
                self.shard_changes += 1;
                self.bank.apply_after(writes, context);
                if let Some(entry) = self.steps.get_mut(&(*txn, *step)) {
                    if entry.journal.is_some() {
                        self.bank.remove_journal(*txn);
                    }
                    entry.state = StepState::Compensated;
                }
            }
            _ => {}
        }
    }
}
