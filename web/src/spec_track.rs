//! Lamport's TwoPhase beside the run: the refinement mapping's spec variables at every step, built
//! once per run, and read at the cursor.
//!
//! `Refinement` maps a whole run at once, but it looks at every transaction at every step: over
//! the `busy` preset (300 transactions, 3,700 steps) that is a million instance checks, far too
//! slow to redo whenever a run is edited. Each transaction's instance depends only on the trace
//! entries about it (its WAL records and messages) and on faults (a crash resets what a node has
//! not made durable; a step with a fault is not checked). So each transaction gets a mapping of
//! its own, fed only those entries, one step at a time: the whole run costs one pass over the
//! trace. Every step that concerned a transaction leaves a point on its timeline (the spec
//! variables after it); the view at the cursor is, per transaction, the last point at or before
//! it, found by binary search. A test checks the result against the whole-run mapping.

use commitlab_explore::refinement::{is_fault, Refinement, RefinementBreak, SpecView};
use commitlab_protocol::{Record, TxnId, VecMap};
use commitlab_sim::{Scenario, TraceEntry, TraceEvent};

/// At most this many transactions are shown at the cursor; runs with more show the open ones.
pub const SHOWN_TRANSACTIONS: usize = 6;

/// What the spec panel can show for the run on screen.
pub enum SpecMapping {
    /// The mapping covers single-node 2PC: a replicated run gets this explanation instead.
    NotMapped(&'static str),
    Mapped(SpecTimeline),
}

impl SpecMapping {
    pub fn of(scenario: &Scenario, trace: &[TraceEntry]) -> SpecMapping {
        if scenario.replication.is_replicated() {
            return SpecMapping::NotMapped(
                "The TwoPhase mapping covers single-node 2PC only: in this replicated run each coordinator and \
                 participant is a consensus group, which TwoPhase does not describe.",
            );
        }
        SpecMapping::Mapped(SpecTimeline::build(trace))
    }

    pub fn broken(&self) -> Option<&RefinementBreak> {
        match self {
            SpecMapping::NotMapped(_) => None,
            SpecMapping::Mapped(timeline) => timeline.broken.as_ref(),
        }
    }
}

/// What the step into the cursor was, for one transaction's instance of TwoPhase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LastStep {
    /// A TwoPhase action (`TMCommit`, `RMPrepare`, ...).
    Action(&'static str),
    /// The step changed nothing in this instance.
    Stutter,
    /// The step was a fault (crash, restart, lost or copied message): TwoPhase has none, so it
    /// is not checked.
    Fault,
    /// No TwoPhase step explains it.
    NoSpecStep,
}

/// One transaction's spec variables at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecRow {
    pub view: SpecView,
    pub last_step: LastStep,
}

/// The rows shown at the cursor, and how many transactions were left out.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SpecAt {
    pub rows: Vec<SpecRow>,
    pub hidden: usize,
}

/// Per transaction: the spec variables after each step that concerned it.
struct TxnTimeline {
    refinement: Refinement,
    /// (step, view after it); `view.last_action` is the step's spec action, None if it was a
    /// fault or no spec step.
    points: Vec<(u64, SpecView)>,
    /// The trace index of the entry that began this transaction's instance (its coordinator's
    /// Prepared record): instances are checked in this order, so the first break of a step is
    /// the earliest-born transaction's.
    born: Option<usize>,
}

pub struct SpecTimeline {
    txns: Vec<TxnTimeline>,
    /// Where each transaction's timeline is in `txns`, while building.
    positions: VecMap<TxnId, usize>,
    /// Steps with a fault in them, in order.
    fault_steps: Vec<u64>,
    broken: Option<RefinementBreak>,
}

/// The transaction an entry is about, for the events the mapping reads.
fn txn_of(event: &TraceEvent) -> Option<TxnId> {
    match event {
        TraceEvent::WalAppend { record, .. } => Some(record.txn()),
        TraceEvent::Send { message, .. } | TraceEvent::Deliver { message, .. } => message.txn(),
        _ => None,
    }
}

impl SpecTimeline {
    /// Maps the run one step at a time (entries are in step order).
    pub fn build(trace: &[TraceEntry]) -> SpecTimeline {
        let mut timeline =
            SpecTimeline { txns: Vec::new(), positions: VecMap::new(), fault_steps: Vec::new(), broken: None };
        let mut start = 0;
        while start < trace.len() {
            let step = trace[start].step;
            let end = start + trace[start..].iter().take_while(|entry| entry.step == step).count();
            timeline.observe(step, start, &trace[start..end]);
            start = end;
        }
        // Transactions the mapping never began (no Prepared record) have nothing to show; the
        // rest are shown in the order their instances began.
        timeline.txns.retain(|txn| txn.born.is_some());
        timeline.txns.sort_by_key(|txn| txn.born);
        timeline.positions.clear();
        timeline.broken = timeline
            .txns
            .iter()
            .filter_map(|txn| txn.refinement.broken().map(|broken| ((broken.step, txn.born), broken)))
            .min_by_key(|(order, _)| *order)
            .map(|(_, broken)| broken.clone());
        timeline
    }

    fn observe(&mut self, step: u64, first_index: usize, entries: &[TraceEntry]) {
        let faults: Vec<TraceEntry> = entries.iter().filter(|entry| is_fault(&entry.event)).cloned().collect();
        if !faults.is_empty() {
            self.fault_steps.push(step);
        }
        // Each transaction's own entries of this step, in trace order, with the step's faults.
        let mut groups: Vec<(usize, Vec<TraceEntry>)> = Vec::new();
        let mut prepared_at: Vec<(usize, usize)> = Vec::new();
        for (offset, entry) in entries.iter().enumerate() {
            let Some(txn) = txn_of(&entry.event) else { continue };
            let index = self.timeline_of(txn);
            if matches!(&entry.event, TraceEvent::WalAppend { record, .. } if matches!(**record, Record::Prepared { .. }))
            {
                prepared_at.push((index, first_index + offset));
            }
            match groups.iter_mut().find(|(known, _)| *known == index) {
                Some((_, group)) => group.push(entry.clone()),
                None => groups.push((index, vec![entry.clone()])),
            }
        }
        let own = groups.len();
        // A crash resets every instance to what its disk says. Other faults change no instance
        // (they only leave the step unchecked), so the others need not see them.
        if faults.iter().any(|entry| matches!(entry.event, TraceEvent::Crash { .. })) {
            for index in 0..self.txns.len() {
                if !groups.iter().any(|(known, _)| *known == index) {
                    groups.push((index, Vec::new()));
                }
            }
        }
        for (position, (index, mut group)) in groups.into_iter().enumerate() {
            group.extend(faults.iter().cloned());
            let timeline = &mut self.txns[index];
            timeline.refinement.observe_step(&group);
            // One instance per mapping: this transaction's, once its coordinator logged Prepared.
            let Some(view) = timeline.refinement.views().into_iter().next() else { continue };
            if timeline.born.is_none() {
                let prepared = prepared_at.iter().find(|(known, _)| *known == index).map(|(_, at)| *at);
                timeline.born = Some(prepared.unwrap_or(first_index));
            }
            let changed = timeline.points.last().is_none_or(|(_, last)| !same_variables(last, &view));
            if position < own || changed {
                timeline.points.push((step, view));
            }
        }
    }

    fn timeline_of(&mut self, txn: TxnId) -> usize {
        let txns = &mut self.txns;
        *self.positions.entry(txn).or_insert_with(|| {
            txns.push(TxnTimeline { refinement: Refinement::new(), points: Vec::new(), born: None });
            txns.len() - 1
        })
    }

    /// The first step of the run that no TwoPhase step explains.
    pub fn broken(&self) -> Option<&RefinementBreak> {
        self.broken.as_ref()
    }

    /// Every transaction's spec variables after step `step`, in the order their instances began.
    pub fn views_at(&self, step: u64) -> Vec<SpecRow> {
        self.rows_at(step).map(|(view, last_step)| SpecRow { view: view.clone(), last_step }).collect()
    }

    /// What the panel shows after step `step`: every transaction when there are few, otherwise
    /// the ones still open or changed by this step (at most [`SHOWN_TRANSACTIONS`]). Only the
    /// rows shown are copied: this runs at every frame of playback.
    pub fn at(&self, step: u64) -> SpecAt {
        let total = self.rows_at(step).count();
        let rows: Vec<SpecRow> = self
            .rows_at(step)
            .filter(|(view, last_step)| {
                total <= SHOWN_TRANSACTIONS || !finished(view) || *last_step != LastStep::Stutter
            })
            .take(SHOWN_TRANSACTIONS)
            .map(|(view, last_step)| SpecRow { view: view.clone(), last_step })
            .collect();
        SpecAt { hidden: total - rows.len(), rows }
    }

    fn rows_at(&self, step: u64) -> impl Iterator<Item = (&SpecView, LastStep)> {
        let fault = self.fault_steps.binary_search(&step).is_ok();
        self.txns.iter().filter_map(move |timeline| {
            let seen = timeline.points.partition_point(|(at, _)| *at <= step);
            let (at, view) = timeline.points.get(seen.checked_sub(1)?)?;
            let last_step = match (*at == step, view.last_action) {
                (true, Some("stutter")) => LastStep::Stutter,
                (true, Some(action)) => LastStep::Action(action),
                (true, None) if fault => LastStep::Fault,
                (true, None) => LastStep::NoSpecStep,
                (false, _) if fault => LastStep::Fault,
                (false, _) => LastStep::Stutter,
            };
            Some((view, last_step))
        })
    }
}

/// Equal spec variables (the action that led there aside).
fn same_variables(a: &SpecView, b: &SpecView) -> bool {
    a.rm_state == b.rm_state && a.tm_state == b.tm_state && a.tm_prepared == b.tm_prepared && a.msgs == b.msgs
}

/// The TM decided and every RM knows the outcome: nothing more can happen in this instance.
fn finished(view: &SpecView) -> bool {
    matches!(view.tm_state, "committed" | "aborted")
        && view.rm_state.iter().all(|(_, state)| matches!(*state, "committed" | "aborted"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use commitlab_sim::{preset, Simulation, PRESETS};

    fn run(name: &str) -> Simulation {
        let mut simulation = Simulation::new((preset(name).expect("a preset").build)()).expect("valid");
        simulation.run_to_end();
        simulation
    }

    /// The whole-run mapping fed every step up to `step`.
    fn reference_at(trace: &[TraceEntry], step: u64) -> Refinement {
        let end = trace.partition_point(|entry| entry.step <= step);
        Refinement::check_trace(&trace[..end])
    }

    #[test]
    fn per_transaction_timelines_match_the_whole_run_mapping_at_every_step() {
        let mut checked = 0;
        for preset in PRESETS {
            let scenario = (preset.build)();
            if scenario.replication.is_replicated() || preset.name == "busy" {
                continue;
            }
            let simulation = run(preset.name);
            let trace = simulation.trace();
            let timeline = SpecTimeline::build(trace);
            let whole = Refinement::check_trace(trace);
            assert_eq!(timeline.broken(), whole.broken(), "{}", preset.name);
            for step in 0..=simulation.total_steps() {
                let reference = reference_at(trace, step);
                let expected = reference.views();
                let rows = timeline.views_at(step);
                assert_eq!(rows.len(), expected.len(), "{} step {step}", preset.name);
                for (row, expected) in rows.iter().zip(&expected) {
                    let context = format!("{} step {step} {}", preset.name, expected.txn);
                    assert_eq!(row.view.txn, expected.txn, "{context}");
                    assert!(same_variables(&row.view, expected), "{context}: {:?} != {expected:?}", row.view);
                    let matches = match (&row.last_step, expected.last_action) {
                        (LastStep::Stutter, Some("stutter")) => true,
                        (LastStep::Action(action), Some(expected)) => *action == expected,
                        (LastStep::Fault | LastStep::NoSpecStep, None) => true,
                        _ => false,
                    };
                    assert!(matches, "{context}: {:?} for {:?}", row.last_step, expected.last_action);
                }
            }
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} presets checked");
    }

    #[test]
    fn the_busy_run_maps_in_one_pass_and_shows_only_open_transactions() {
        let simulation = run("busy");
        let timeline = SpecTimeline::build(simulation.trace());
        let whole = Refinement::check_trace(simulation.trace());
        assert_eq!(timeline.broken(), whole.broken());
        let end = simulation.total_steps();
        assert_eq!(timeline.views_at(end).len(), whole.views().len());
        let at = timeline.at(end);
        assert!(at.rows.len() <= SHOWN_TRANSACTIONS);
        assert_eq!(at.rows.len() + at.hidden, whole.views().len());
    }

    #[test]
    fn a_teaching_bug_breaks_at_the_step_the_whole_run_mapping_names() {
        let simulation = run("bug-commit-on-vote-timeout");
        let timeline = SpecTimeline::build(simulation.trace());
        let broken = timeline.broken().expect("the bug breaks refinement");
        assert!(broken.after.contains("tmState = committed"), "{broken}");
        let rows = timeline.views_at(broken.step);
        assert_eq!(rows[0].last_step, LastStep::NoSpecStep);
        assert_eq!(rows[0].view.tm_state, "committed");
        let happy = run("happy-path");
        let rows = SpecTimeline::build(happy.trace()).views_at(happy.total_steps());
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].view.tm_state, rows[0].view.rm_state.len()), ("committed", 2));
    }

    #[test]
    fn replicated_runs_are_not_mapped() {
        let scenario = (preset("raft-seed-002").expect("a preset").build)();
        assert!(
            matches!(SpecMapping::of(&scenario, &[]), SpecMapping::NotMapped(text) if text.contains("single-node 2PC"))
        );
    }
}
