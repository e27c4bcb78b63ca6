//! The phases a transaction goes through at each role, as typed values: the trace prints their
//! names, the state tables show them, and the page draws seed 001's prepare and decision bands
//! from them, so renaming a label cannot silently remove a band.

use serde::{Serialize, Serializer};
use std::fmt;

#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    // The coordinator's.
    /// `Prepared(t)` is being written.
    LoggingPrepared,
    /// PREPARE sent; collecting votes.
    CollectingVotes,
    /// The decision record is being written.
    LoggingDecision,
    /// The decision is durable and sent; waiting for every ACK.
    AwaitingAcks,
    /// Every ACK is in; `Completed(t)` is being written.
    Completing,
    /// `Completed(t)` is durable: the coordinator forgets the transaction.
    Completed,
    /// A restarted coordinator (or a new leader) found the decision logged and sends it again.
    ResendingDecision,
    /// A new leader of a coordinator group found the transaction collecting votes.
    Resuming,
    // The participant's.
    /// Locks taken; the prepare record is being written.
    Preparing,
    /// Voted YES; waiting for the decision, locks held.
    InDoubt,
    /// Restarted (or a new leader) with a prepare record and no outcome.
    InDoubtAfterRecovery,
    /// The decision COMMIT arrived; its outcome record is being written.
    Committing,
    /// The decision ABORT arrived; its outcome record is being written.
    Aborting,
    Committed,
    RolledBack,
    VotedNo,
    // A saga orchestrator's.
    /// The saga's first record is being written.
    LoggingSaga,
    /// A step is running at its participant (or its answer is being logged).
    RunningSteps,
    /// A step failed: the steps done are being compensated, last first.
    Compensating,
    /// The saga's end record is being written.
    EndingSaga,
    /// The end is durable and the client told: the orchestrator forgets the saga.
    SagaEnded,
    /// A restarted orchestrator found the saga open in its log and carries on.
    ResumingSaga,
    // A participant's, for a saga step.
    /// The step's changes are made under short locks; its record is being written.
    ApplyingStep,
    /// The step's record is durable: committed locally, locks released.
    StepCommitted,
    /// The step was refused (a check failed); the refusal is being written.
    RefusingStep,
    /// The refusal is durable.
    StepRefused,
    /// The compensation's changes are made; its record is being written.
    CompensatingStep,
    /// The compensation is durable.
    StepCompensated,
}

impl Phase {
    pub const ALL: [Phase; 28] = [
        Phase::LoggingPrepared,
        Phase::CollectingVotes,
        Phase::LoggingDecision,
        Phase::AwaitingAcks,
        Phase::Completing,
        Phase::Completed,
        Phase::ResendingDecision,
        Phase::Resuming,
        Phase::Preparing,
        Phase::InDoubt,
        Phase::InDoubtAfterRecovery,
        Phase::Committing,
        Phase::Aborting,
        Phase::Committed,
        Phase::RolledBack,
        Phase::VotedNo,
        Phase::LoggingSaga,
        Phase::RunningSteps,
        Phase::Compensating,
        Phase::EndingSaga,
        Phase::SagaEnded,
        Phase::ResumingSaga,
        Phase::ApplyingStep,
        Phase::StepCommitted,
        Phase::RefusingStep,
        Phase::StepRefused,
        Phase::CompensatingStep,
        Phase::StepCompensated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Phase::LoggingPrepared => "logging prepared",
            Phase::CollectingVotes => "collecting votes",
            Phase::LoggingDecision => "logging decision",
            Phase::AwaitingAcks => "awaiting acks",
            Phase::Completing => "completing",
            Phase::Completed => "completed",
            Phase::ResendingDecision => "resending decision after recovery",
            Phase::Resuming => "resuming after a leader change",
            Phase::Preparing => "preparing",
            Phase::InDoubt => "prepared (in doubt)",
            Phase::InDoubtAfterRecovery => "in doubt after recovery",
            Phase::Committing => "committing",
            Phase::Aborting => "aborting",
            Phase::Committed => "committed",
            Phase::RolledBack => "rolled back",
            Phase::VotedNo => "voted NO",
            Phase::LoggingSaga => "logging saga",
            Phase::RunningSteps => "running steps",
            Phase::Compensating => "compensating",
            Phase::EndingSaga => "logging saga end",
            Phase::SagaEnded => "saga ended",
            Phase::ResumingSaga => "resuming saga after recovery",
            Phase::ApplyingStep => "applying step",
            Phase::StepCommitted => "step committed locally",
            Phase::RefusingStep => "refusing step",
            Phase::StepRefused => "step refused",
            Phase::CompensatingStep => "compensating step",
            Phase::StepCompensated => "step compensated",
        }
    }

    /// The coordinator is in phase 1 (seed 001's prepare band is open).
    pub fn is_voting(self) -> bool {
        matches!(self, Phase::LoggingPrepared | Phase::CollectingVotes)
    }

    /// A saga orchestrator runs its steps forward (the saga's forward band is open).
    pub fn is_saga_forward(self) -> bool {
        matches!(self, Phase::LoggingSaga | Phase::RunningSteps)
    }

    /// The coordinator's decision is durable and on its way (the decision band opens).
    pub fn is_resolving(self) -> bool {
        matches!(self, Phase::AwaitingAcks | Phase::ResendingDecision)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

impl Serialize for Phase {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Phase;
    use crate::vec_map::VecSet;

    #[test]
    fn every_phase_has_its_own_name() {
        let names: VecSet<&str> = Phase::ALL.iter().map(|phase| phase.name()).collect();
        assert_eq!(names.len(), Phase::ALL.len());
    }
}
