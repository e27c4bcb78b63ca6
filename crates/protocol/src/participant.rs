//! The participant role of two-phase commit (a shard, a database).
//!
//! Phase 1: on PREPARE the participant checks its constraints (known accounts, no negative
//! balance), takes no-wait exclusive locks (a lock held by another transaction means NO) and
//! writes a prepare record to its WAL. Writes go one of two ways ([`WriteMode`]): *in place*
//! (seed 002) it changes the balances now and the record holds the undo images; *deferred*
//! (seed 004's "resources are locked but not changed") it changes nothing and the record is a
//! redo record holding the after images. Only once that record is durable does it vote YES: from
//! then on it has given up the right to abort on its own and is *in doubt* until it learns the
//! decision. A participant that has not voted YES may still abort alone: voting NO is exactly that.
//!
//! Phase 2: on the decision it writes an outcome record, then applies it (in place: keeps the
//! changes or restores the undo images; deferred: applies the redo images or drops them), releases
//! its locks and acknowledges. The outcome record must be durable before the ACK: once the
//! coordinator has every ACK it forgets the transaction and would answer a later query with
//! "abort" (presumed abort).
//!
//! While in doubt it asks the coordinator for the outcome every `query_ms`; after a crash it rebuilds
//! its balances, locks and in-doubt entries from the WAL and asks at once. Nothing else can unblock
//! it: that is the blocking problem of 2PC.

use crate::bank::Bank;
use crate::chunk_map::ChunkMap;
use crate::context::Context;
use crate::effect::{Note, Recovery, Role, Timer};
use crate::ids::{AccountId, Millis, NodeId, TxnId};
use crate::message::{Decision, Message, Record, Work, Write, WriteMode};
use crate::phase::Phase;
use crate::vec_map::VecMap;

pub mod steps;
use steps::StepEntry;

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParticipantPhase {
    /// Locks taken (and, in place, changes made); the prepare record is being written.
    Preparing,
    /// Voted YES; waiting for the decision, locks held.
    InDoubt,
    /// The decision arrived; its outcome record is being written.
    Deciding(Decision),
}

impl ParticipantPhase {
    pub fn phase(self) -> Phase {
        match self {
            ParticipantPhase::Preparing => Phase::Preparing,
            ParticipantPhase::InDoubt => Phase::InDoubt,
            ParticipantPhase::Deciding(Decision::Commit) => Phase::Committing,
            ParticipantPhase::Deciding(Decision::Abort) => Phase::Aborting,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ParticipantTxn {
    pub coordinator: NodeId,
    pub phase: ParticipantPhase,
    pub writes: Vec<Write>,
    /// In place, the balances hold `writes`' after images; deferred, they still hold the before
    /// images until COMMIT.
    pub mode: WriteMode,
    pub journal: Option<String>,
    pub voted_yes: bool,
    pub in_doubt_since_ms: Option<Millis>,
}

impl ParticipantTxn {
    /// The money this transaction's writes add to the balances once committed.
    pub fn delta(&self) -> i64 {
        self.writes.iter().map(|write| write.after - write.before).sum()
    }

    /// Whether the balances already hold this transaction's changes (in place) or not (deferred).
    pub fn applied(&self) -> bool {
        self.mode == WriteMode::InPlace
    }
}

/// How a transaction ended here, remembered so that a PREPARE arriving late (a retransmission or
/// a duplicate the network held back) gets the same answer instead of preparing it again. Kept
/// small: one of these stays for every transaction the shard has seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Finished {
    Committed,
    RolledBack,
    /// The ABORT arrived before the PREPARE.
    AbortedBeforePrepare,
    /// This participant voted NO, for this reason.
    Refused(String),
}

impl Finished {
    /// The NO a late PREPARE gets, or nothing for a committed transaction (its decision is made).
    fn repeated_vote(&self, txn: TxnId) -> Option<Message> {
        let reason = match self {
            Finished::Committed => return None,
            Finished::RolledBack => format!("{txn} was already rolled back here"),
            Finished::AbortedBeforePrepare => format!("{txn} was already aborted by its coordinator"),
            Finished::Refused(reason) => reason.clone(),
        };
        Some(Message::Vote { txn, yes: false, reason: Some(reason) })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Participant {
    bank: Bank,
    txns: VecMap<TxnId, ParticipantTxn>,
    /// Transactions refused, committed or rolled back here. The durable ones (those with an
    /// outcome record) are rebuilt on recovery; a NO vote needs no record (presumed abort).
    finished: ChunkMap<TxnId, Finished>,
    /// Saga steps run here (by saga and step), with their state; kept so a repeated step or
    /// compensation gets the same answer.
    steps: VecMap<(TxnId, u32), StepEntry>,
    /// Counts the changes to the shard data: balances, locks, the writes of the open transactions
    /// and the saga steps run here (see [`Participant::shard_changes`]).
    shard_changes: u64,
}

impl Participant {
    /// Rebuilds the participant from its durable state: the data image at time zero plus the WAL.
    /// Returns it with the queries its in-doubt transactions must send.
    pub fn recover<'a>(log: impl Iterator<Item = &'a Record>, context: &mut Context) -> Participant {
        let mut participant = Participant {
            bank: Bank::new(context.config.initial_balances.clone()),
            txns: VecMap::new(),
            finished: ChunkMap::new(),
            steps: VecMap::new(),
            shard_changes: 0,
        };
        // Replaying reproduces old changes; only the end state matters, so its notes are dropped.
        let mut replay_out = Vec::new();
        let mut replay = Context { config: context.config, now_ms: context.now_ms, out: &mut replay_out };
        for record in log {
            participant.replay(record, &mut replay);
        }
        for (txn, entry) in &mut participant.txns {
            entry.phase = ParticipantPhase::InDoubt;
            entry.voted_yes = true;
            for write in &entry.writes {
                context.note(Note::LockTaken { account: write.account, txn: *txn });
            }
            context.note(Note::Phase { txn: *txn, role: Role::Participant, phase: Phase::InDoubtAfterRecovery });
            if context.config.recovery == Recovery::Resume {
                // A new leader of a participant group cannot know whether the old one sent the YES
                // vote before it fell: it sends it again (a coordinator past voting ignores it).
                context.send(entry.coordinator, Message::Vote { txn: *txn, yes: true, reason: None });
            }
            context.send(entry.coordinator, Message::Query { txn: *txn });
            context.set_timer(Timer::QueryDecision(*txn), context.config.timeouts.query_ms);
        }
        participant
    }

    /// Replays one durable record into the shard state: how a replica of a participant group
    /// keeps its copy of balances, locks and undo or redo data (seed 002's twoPCWAL on every
    /// replica). The record says which: an undo record's changes were made at PREPARE, a redo
    /// record's wait for COMMIT.
    pub fn replay(&mut self, record: &Record, context: &mut Context) {
        match record {
            Record::PrepareVote { txn, coordinator, writes, journal, at_ms, mode } => {
                self.shard_changes += 1;
                if *mode == WriteMode::InPlace {
                    self.bank.apply_after(writes, context);
                }
                if !context.config.bugs.ignore_locks {
                    for write in writes {
                        self.bank.lock(write.account, *txn, context);
                    }
                }
                self.txns.insert(
                    *txn,
                    ParticipantTxn {
                        coordinator: *coordinator,
                        phase: ParticipantPhase::InDoubt,
                        writes: writes.clone(),
                        mode: *mode,
                        journal: journal.clone(),
                        voted_yes: true,
                        in_doubt_since_ms: Some(*at_ms),
                    },
                );
            }
            Record::Outcome { txn, decision } => {
                if let Some(entry) = self.txns.remove(txn) {
                    self.finish(*txn, entry, *decision, context);
                }
            }
            Record::StepApplied { .. } | Record::StepRefused { .. } | Record::StepCompensated { .. } => {
                self.replay_step(record, context)
            }
            _ => {}
        }
    }

    pub fn bank(&self) -> &Bank {
        &self.bank
    }

    pub fn txns(&self) -> &VecMap<TxnId, ParticipantTxn> {
        &self.txns
    }

    /// How many times the shard data (balances, locks, the writes of open transactions, the saga
    /// steps run here) has changed since this participant was built: an observer that saw the same number before has
    /// nothing new to look at. (The simulator's checks after every event rely on it.)
    pub fn shard_changes(&self) -> u64 {
        self.shard_changes
    }

    pub fn on_prepare(&mut self, coordinator: NodeId, txn: TxnId, work: &Work, context: &mut Context) {
        self.on_prepare_checked(coordinator, txn, work, None, context);
    }

    /// `on_prepare` with the result of [`Participant::check`] for `work` already known when
    /// `checked` is given: the coordinator on the same node pre-checked it and nothing has changed
    /// the shard since.
    pub fn on_prepare_checked(
        &mut self,
        coordinator: NodeId,
        txn: TxnId,
        work: &Work,
        checked: Option<Vec<Write>>,
        context: &mut Context,
    ) {
        if let Some(entry) = self.txns.get(&txn) {
            // In a replicated group a transaction is named after its request, so a PREPARE may come
            // from a new leader re-running a request whose first run this shard is rolling back:
            // it gets the NO a rolled-back transaction gets. (On a single node ids are never
            // reused, and a late YES is ignored by a coordinator that has decided.)
            let aborting = entry.phase == ParticipantPhase::Deciding(Decision::Abort);
            if aborting && context.config.recovery == Recovery::Resume {
                let reason = format!("{txn} is being rolled back here");
                context.send(coordinator, Message::Vote { txn, yes: false, reason: Some(reason) });
            } else if entry.voted_yes {
                context.send(coordinator, Message::Vote { txn, yes: true, reason: None });
            }
            return;
        }
        if let Some(finished) = self.finished.get(&txn) {
            if let Some(vote) = finished.repeated_vote(txn) {
                context.send(coordinator, vote);
            }
            return;
        }
        let ignore_locks = context.config.bugs.ignore_locks;
        debug_assert!(
            checked.as_ref().is_none_or(|writes| self.check(work, ignore_locks).as_ref() == Ok(writes)),
            "{txn} was pre-checked against another state of the shard"
        );
        match checked.map_or_else(|| self.check(work, ignore_locks), Ok) {
            Err(reason) => self.refuse(coordinator, txn, reason, context),
            Ok(writes) => self.prepare(coordinator, txn, writes, work.journal.clone(), context),
        }
    }

    /// Computes the writes of `work`, or the reason this participant must vote NO.
    pub fn check(&self, work: &Work, ignore_locks: bool) -> Result<Vec<Write>, String> {
        // The writes, by account: a work's few deltas, usually on different accounts.
        let mut writes: Vec<Write> = Vec::with_capacity(work.deltas.len());
        for &(account, delta) in &work.deltas {
            let balance = self.balance_after_pending(account).ok_or_else(|| format!("unknown account {account}"))?;
            if !ignore_locks {
                if let Some(holder) = self.bank.lock_holder(account) {
                    return Err(format!("{account} locked by {holder}"));
                }
            }
            let position = writes.binary_search_by_key(&account, |write| write.account);
            let current = position.map_or(balance, |position| writes[position].after);
            let after = current.checked_add(delta).ok_or_else(|| format!("balance of {account} would overflow"))?;
            if after < 0 {
                return Err(format!("insufficient funds in {account}: {current} < {}", -delta));
            }
            match position {
                Ok(position) => writes[position].after = after,
                Err(position) => writes.insert(position, Write { account, before: balance, after }),
            }
        }
        Ok(writes)
    }

    /// The balance a new transaction builds on: the stored one, plus the changes of deferred
    /// transactions prepared here and not yet applied (in place, the stored balance holds them
    /// already). With locks no prepared transaction shares an account with another, so this is the
    /// stored balance unless the `ignore_locks` bug lets two in.
    fn balance_after_pending(&self, account: AccountId) -> Option<i64> {
        let balance = self.bank.balance(account)?;
        let deferred = self.txns.values().filter(|entry| !entry.applied());
        let pending: i64 = deferred
            .flat_map(|entry| entry.writes.iter())
            .filter(|write| write.account == account)
            .map(|write| write.after - write.before)
            .sum();
        Some(balance + pending)
    }

    fn refuse(&mut self, coordinator: NodeId, txn: TxnId, reason: String, context: &mut Context) {
        context.note(Note::Phase { txn, role: Role::Participant, phase: Phase::VotedNo });
        context.send(coordinator, Message::Vote { txn, yes: false, reason: Some(reason.clone()) });
        self.finished.insert(txn, Finished::Refused(reason));
    }

    fn prepare(
        &mut self,
        coordinator: NodeId,
        txn: TxnId,
        writes: Vec<Write>,
        journal: Option<String>,
        context: &mut Context,
    ) {
        let bugs = context.config.bugs;
        self.shard_changes += 1;
        let mode = context.config.writes;
        if !bugs.ignore_locks {
            for write in &writes {
                self.bank.lock(write.account, txn, context);
            }
        }
        if mode == WriteMode::InPlace {
            self.bank.apply_after(&writes, context);
        }
        let at_ms = context.now_ms;
        context.persist(Record::PrepareVote {
            txn,
            coordinator,
            writes: writes.clone(),
            journal: journal.clone(),
            at_ms,
            mode,
        });
        context.note(Note::Phase { txn, role: Role::Participant, phase: ParticipantPhase::Preparing.phase() });
        let voted_yes = bugs.vote_before_wal;
        if voted_yes {
            context.send(coordinator, Message::Vote { txn, yes: true, reason: None });
        }
        let entry = ParticipantTxn {
            coordinator,
            phase: ParticipantPhase::Preparing,
            writes,
            mode,
            journal,
            voted_yes,
            in_doubt_since_ms: voted_yes.then_some(context.now_ms),
        };
        self.txns.insert(txn, entry);
    }

    pub fn on_decide(&mut self, txn: TxnId, decision: Decision, coordinator: NodeId, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else {
            // Already applied, refused, or never prepared: the decision changes nothing here. An
            // ABORT that overtook its PREPARE leaves a tombstone, so the PREPARE gets a NO when it
            // arrives instead of locking for a transaction that is already over.
            if decision == Decision::Abort {
                if !self.finished.contains_key(&txn) {
                    self.finished.insert(txn, Finished::AbortedBeforePrepare);
                }
            } else if context.config.revision.refuses_unknown_commit()
                && self.finished.get(&txn) != Some(&Finished::Committed)
            {
                // No prepare record and no commit: this participant never voted YES, so a COMMIT
                // is a coordinator's error. Acknowledging it would let the coordinator forget.
                context.note(Note::UnknownCommit { txn });
                return;
            }
            context.send(coordinator, Message::Ack { txn });
            return;
        };
        if let ParticipantPhase::Deciding(_) = entry.phase {
            return;
        }
        entry.phase = ParticipantPhase::Deciding(decision);
        context.cancel_timer(Timer::QueryDecision(txn));
        context.note(Note::Phase { txn, role: Role::Participant, phase: entry.phase.phase() });
        context.persist(Record::Outcome { txn, decision });
    }

    pub fn on_query_timeout(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get(&txn) else { return };
        if entry.phase == ParticipantPhase::InDoubt {
            context.send(entry.coordinator, Message::Query { txn });
            context.set_timer(Timer::QueryDecision(txn), context.config.timeouts.query_ms);
        }
    }

    pub fn on_persisted(&mut self, record: &Record, context: &mut Context) {
        match record {
            Record::PrepareVote { txn, .. } => self.on_prepare_record_durable(*txn, context),
            Record::Outcome { txn, decision } => {
                let Some(entry) = self.txns.remove(txn) else { return };
                let coordinator = entry.coordinator;
                self.finish(*txn, entry, *decision, context);
                context.send(coordinator, Message::Ack { txn: *txn });
            }
            Record::StepApplied { .. } | Record::StepRefused { .. } | Record::StepCompensated { .. } => {
                self.on_step_record_durable(record, context)
            }
            _ => {}
        }
    }

    fn on_prepare_record_durable(&mut self, txn: TxnId, context: &mut Context) {
        let Some(entry) = self.txns.get_mut(&txn) else { return };
        if entry.phase != ParticipantPhase::Preparing {
            return;
        }
        entry.phase = ParticipantPhase::InDoubt;
        context.note(Note::Phase { txn, role: Role::Participant, phase: entry.phase.phase() });
        if !entry.voted_yes {
            entry.voted_yes = true;
            entry.in_doubt_since_ms = Some(context.now_ms);
            context.send(entry.coordinator, Message::Vote { txn, yes: true, reason: None });
        }
        context.set_timer(Timer::QueryDecision(txn), context.config.timeouts.query_ms);
    }

    /// Applies a decision whose outcome record is durable, then releases the locks. In place a
    /// COMMIT keeps the changes and an ABORT restores the undo images; deferred a COMMIT applies
    /// the redo images and an ABORT has nothing to undo.
    fn finish(&mut self, txn: TxnId, entry: ParticipantTxn, decision: Decision, context: &mut Context) {
        self.shard_changes += 1;
        match (decision, entry.mode) {
            (Decision::Commit, WriteMode::InPlace) | (Decision::Abort, WriteMode::Deferred) => {}
            (Decision::Commit, WriteMode::Deferred) => self.bank.apply_after(&entry.writes, context),
            (Decision::Abort, WriteMode::InPlace) => self.bank.apply_before(&entry.writes, context),
        }
        if let (Decision::Commit, Some(line)) = (decision, entry.journal) {
            self.bank.append_journal(txn, line);
        }
        self.bank.unlock(&entry.writes, txn, context);
        let phase = match decision {
            Decision::Commit => Phase::Committed,
            Decision::Abort => Phase::RolledBack,
        };
        let finished = match decision {
            Decision::Commit => Finished::Committed,
            Decision::Abort => Finished::RolledBack,
        };
        self.finished.insert(txn, finished);
        context.note(Note::Phase { txn, role: Role::Participant, phase });
    }
}
