//! Lamport's TwoPhase and TCommit: pinned state counts, checked against an independent
//! brute-force enumeration of the TLA+ modules, the refinement TwoPhase ⇒ TCommit, and the
//! helpers a refinement check of the implementation uses.
//!
//! The TwoPhase counts equal TLC's (TwoPhase.tla: "six RMs, a configuration with 50816 reachable
//! states") and Stateright's (its 2PC example pins 288 for 3 RMs and 8,832 for 5); the benchmark
//! `vs_stateright` asserts ours equal Stateright's for 5, 6 and 7 RMs. The TCommit counts are
//! 3^N (no RM committed: any mix of working, prepared, aborted) + 2^N − 1 (some committed, the
//! rest prepared). With symmetry the counts are the numbers of orbits under renaming of the RMs
//! (Stateright's own symmetry reduction keeps more: it sorts by rmState only, 665 for 5 RMs).

use commitlab_explore::spec::{
    Message, RmState, SpecError, TCommit, TCommitAction, TCommitState, TmState, TwoPhase, TwoPhaseAction,
    TwoPhaseState, MAX_RMS,
};
use commitlab_explore::{explore, Model, Options, StopReason, Verdict};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

/// Distinct states for 1..=8 RMs.
const TWO_PHASE: [u64; 8] = [12, 56, 288, 1_568, 8_832, 50_816, 296_448, 1_745_408];
const TWO_PHASE_SYMMETRIC: [u64; 8] = [12, 34, 80, 166, 314, 553, 920, 1_461];
const TCOMMIT: [u64; 8] = [4, 12, 34, 96, 274, 792, 2_314, 6_816];
const TCOMMIT_SYMMETRIC: [u64; 8] = [4, 8, 13, 19, 26, 34, 43, 53];

fn count<M: Model>(model: &M) -> u64 {
    let report = explore(model, Options::default(), |_| {}).unwrap();
    assert!(report.complete);
    assert!(report.all_hold(), "{:?}", report.properties);
    report.states
}

#[test]
fn two_phase_counts_are_pinned() {
    // 7 and 8 RMs are checked by the benchmark, in a release build.
    for rm_count in 1..=6 {
        let model = TwoPhase::new(rm_count).unwrap();
        assert_eq!(count(&model), TWO_PHASE[rm_count - 1], "{rm_count} RMs");
        assert_eq!(count(&model.with_symmetry(true)), TWO_PHASE_SYMMETRIC[rm_count - 1], "{rm_count} RMs, symmetric");
    }
}

#[test]
fn tcommit_counts_are_pinned() {
    for rm_count in 1..=8 {
        let model = TCommit::new(rm_count).unwrap();
        let states = count(&model);
        assert_eq!(states, TCOMMIT[rm_count - 1], "{rm_count} RMs");
        assert_eq!(states, 3u64.pow(rm_count as u32) + 2u64.pow(rm_count as u32) - 1);
        let symmetric = count(&model.with_symmetry(true));
        assert_eq!(symmetric, TCOMMIT_SYMMETRIC[rm_count - 1], "{rm_count} RMs, symmetric");
        // Multisets of {working, prepared, aborted}, plus 1..=N committed with the rest prepared.
        let n = rm_count as u64;
        assert_eq!(symmetric, (n + 2) * (n + 1) / 2 + n);
    }
}

/// TwoPhase.tla transcribed as plainly as possible, with sets and vectors.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Plain {
    rm_state: Vec<RmState>,
    tm_state: TmState,
    tm_prepared: BTreeSet<usize>,
    msgs: BTreeSet<Message>,
}

impl Plain {
    fn initial(rm_count: usize) -> Self {
        Plain {
            rm_state: vec![RmState::Working; rm_count],
            tm_state: TmState::Init,
            tm_prepared: BTreeSet::new(),
            msgs: BTreeSet::new(),
        }
    }

    /// Every successor under TPNext (stutters included).
    fn successors(&self) -> Vec<Plain> {
        let rms = 0..self.rm_state.len();
        let mut out = Vec::new();
        let all: BTreeSet<usize> = rms.clone().collect();
        if self.tm_state == TmState::Init && self.tm_prepared == all {
            let mut next = self.clone();
            next.tm_state = TmState::Committed;
            next.msgs.insert(Message::Commit);
            out.push(next);
        }
        if self.tm_state == TmState::Init {
            let mut next = self.clone();
            next.tm_state = TmState::Aborted;
            next.msgs.insert(Message::Abort);
            out.push(next);
        }
        for rm in rms {
            if self.tm_state == TmState::Init && self.msgs.contains(&Message::Prepared(rm)) {
                let mut next = self.clone();
                next.tm_prepared.insert(rm);
                out.push(next);
            }
            if self.rm_state[rm] == RmState::Working {
                let mut next = self.clone();
                next.rm_state[rm] = RmState::Prepared;
                next.msgs.insert(Message::Prepared(rm));
                out.push(next);
                let mut next = self.clone();
                next.rm_state[rm] = RmState::Aborted;
                out.push(next);
            }
            if self.msgs.contains(&Message::Commit) {
                let mut next = self.clone();
                next.rm_state[rm] = RmState::Committed;
                out.push(next);
            }
            if self.msgs.contains(&Message::Abort) {
                let mut next = self.clone();
                next.rm_state[rm] = RmState::Aborted;
                out.push(next);
            }
        }
        out
    }

    /// The orbit's canonical member: per-RM parts sorted.
    fn canonical(&self) -> (Vec<(RmState, bool, bool)>, TmState, bool, bool) {
        let mut parts: Vec<_> = (0..self.rm_state.len())
            .map(|rm| (self.rm_state[rm], self.tm_prepared.contains(&rm), self.msgs.contains(&Message::Prepared(rm))))
            .collect();
        parts.sort();
        (parts, self.tm_state, self.msgs.contains(&Message::Commit), self.msgs.contains(&Message::Abort))
    }
}

fn reachable<S: Clone + Ord>(initial: S, successors: impl Fn(&S) -> Vec<S>) -> BTreeSet<S> {
    let mut seen = BTreeSet::from([initial.clone()]);
    let mut queue = VecDeque::from([initial]);
    while let Some(state) = queue.pop_front() {
        for next in successors(&state) {
            if seen.insert(next.clone()) {
                queue.push_back(next);
            }
        }
    }
    seen
}

/// Every state reachable in the model, by its own actions and next_state (no fingerprints).
fn model_reachable<M: Model>(model: &M) -> HashSet<M::State>
where
    M::State: Eq + std::hash::Hash,
{
    let mut seen = HashSet::new();
    let mut queue: VecDeque<M::State> = model.init_states().into();
    seen.extend(queue.iter().cloned());
    let mut actions = Vec::new();
    while let Some(state) = queue.pop_front() {
        actions.clear();
        model.actions(&state, &mut actions);
        for action in &actions {
            if let Some(next) = model.next_state(&state, action) {
                if seen.insert(next.clone()) {
                    queue.push_back(next);
                }
            }
        }
    }
    seen
}

#[test]
fn two_phase_matches_a_plain_transcription_of_the_spec() {
    for rm_count in 1..=4 {
        let plain = reachable(Plain::initial(rm_count), Plain::successors);
        assert_eq!(plain.len() as u64, TWO_PHASE[rm_count - 1], "{rm_count} RMs");
        let orbits: BTreeSet<_> = plain.iter().map(Plain::canonical).collect();
        assert_eq!(orbits.len() as u64, TWO_PHASE_SYMMETRIC[rm_count - 1], "{rm_count} RMs, orbits");

        // The packed states are exactly the plain ones.
        let model = TwoPhase::new(rm_count).unwrap();
        let packed: BTreeSet<Plain> = model_reachable(&model)
            .into_iter()
            .map(|state| Plain {
                rm_state: state.rm_states(),
                tm_state: state.tm_state(),
                tm_prepared: state.tm_prepared(),
                msgs: state.msgs(),
            })
            .collect();
        assert_eq!(packed, plain, "{rm_count} RMs");
        // The fingerprints separate exactly the distinct states, and with symmetry exactly the
        // distinct orbits.
        let symmetric = model.with_symmetry(true);
        let mut fingerprints = BTreeSet::new();
        let mut orbit_fingerprints: BTreeMap<_, BTreeSet<u64>> = BTreeMap::new();
        for plain_state in &plain {
            let state = TwoPhaseState::from_parts(
                &plain_state.rm_state,
                plain_state.tm_state,
                &plain_state.tm_prepared,
                &plain_state.msgs,
            )
            .unwrap();
            fingerprints.insert(model.fingerprint(&state));
            orbit_fingerprints.entry(plain_state.canonical()).or_default().insert(symmetric.fingerprint(&state));
        }
        assert_eq!(fingerprints.len(), plain.len());
        assert!(orbit_fingerprints.values().all(|fingerprints| fingerprints.len() == 1));
        let distinct: BTreeSet<u64> = orbit_fingerprints.values().flatten().copied().collect();
        assert_eq!(distinct.len(), orbits.len());
    }
}

#[test]
fn tcommit_matches_a_plain_transcription_of_the_spec() {
    for rm_count in 1..=5 {
        let successors = |state: &Vec<RmState>| {
            let can_commit = state.iter().all(|s| matches!(s, RmState::Prepared | RmState::Committed));
            let not_committed = state.iter().all(|s| *s != RmState::Committed);
            let mut out = Vec::new();
            for rm in 0..state.len() {
                let mut set = |to| {
                    let mut next = state.clone();
                    next[rm] = to;
                    out.push(next);
                };
                if state[rm] == RmState::Working {
                    set(RmState::Prepared);
                }
                if state[rm] == RmState::Prepared && can_commit {
                    set(RmState::Committed);
                }
                if matches!(state[rm], RmState::Working | RmState::Prepared) && not_committed {
                    set(RmState::Aborted);
                }
            }
            out
        };
        let plain = reachable(vec![RmState::Working; rm_count], successors);
        let packed: BTreeSet<Vec<RmState>> =
            model_reachable(&TCommit::new(rm_count).unwrap()).into_iter().map(TCommitState::rm_states).collect();
        assert_eq!(packed, plain, "{rm_count} RMs");
    }
}

#[test]
fn two_phase_implements_tcommit() {
    // THEOREM TPSpec => TC!TCSpec, with rmState mapped to itself: every TwoPhase step is a TCommit
    // step or a stutter.
    for rm_count in 1..=4 {
        let two_phase = TwoPhase::new(rm_count).unwrap();
        let tcommit = TCommit::new(rm_count).unwrap();
        let mut names = BTreeSet::new();
        let mut actions = Vec::new();
        for state in model_reachable(&two_phase) {
            actions.clear();
            two_phase.actions(&state, &mut actions);
            for action in &actions {
                let next = two_phase.next_state(&state, action).unwrap();
                // Several actions can make the same step (a working RM aborts by choice or on the
                // Abort message): step_action names the first in TPNext's order.
                let found = two_phase.step_action(&state, &next).unwrap();
                assert_eq!(two_phase.next_state(&state, &found), Some(next));
                let name = tcommit.step_name(&state.to_tcommit(), &next.to_tcommit());
                assert!(name.is_some(), "{action:?} from {state:?} is no TCommit step");
                names.insert((action.name(), name.unwrap()));
            }
        }
        let expected: BTreeSet<(&str, &str)> = [
            ("TMRcvPrepared", "stutter"),
            ("TMCommit", "stutter"),
            ("TMAbort", "stutter"),
            ("RMPrepare", "Prepare"),
            ("RMChooseToAbort", "Decide"),
            ("RMRcvCommitMsg", "Decide"),
            ("RMRcvAbortMsg", "Decide"),
        ]
        .into();
        assert_eq!(names, expected, "{rm_count} RMs");
    }
}

#[test]
fn step_name_names_single_steps_only() {
    let model = TwoPhase::new(3).unwrap();
    let initial = model.initial_state();
    let prepared = model.next_state(&initial, &TwoPhaseAction::RmPrepare(1)).unwrap();
    assert_eq!(model.step_name(&initial, &prepared), Some("RMPrepare"));
    assert_eq!(model.step_name(&prepared, &prepared), Some("stutter"));
    assert_eq!(model.step_name(&prepared, &initial), None);
    let received = model.next_state(&prepared, &TwoPhaseAction::TmRcvPrepared(1)).unwrap();
    assert_eq!(model.step_action(&prepared, &received), Some(TwoPhaseAction::TmRcvPrepared(1)));
    // Two steps at once are no single step.
    assert_eq!(model.step_name(&initial, &received), None);
    // States with another number of RMs belong to no step of this model.
    let other = TwoPhaseState::initial(2).unwrap();
    assert_eq!(model.step_name(&other, &other), None);
    assert_eq!(model.check_state(&other), Err(SpecError::RmCountMismatch { expected: 3, actual: 2 }));

    let tcommit = TCommit::new(2).unwrap();
    let start = tcommit.initial_state();
    let aborted = tcommit.next_state(&start, &TCommitAction::DecideAbort(0)).unwrap();
    assert_eq!(tcommit.step_name(&start, &aborted), Some("Decide"));
    assert_eq!(tcommit.step_action(&start, &aborted), Some(TCommitAction::DecideAbort(0)));
    let both_committed = TCommitState::from_rm_states(&[RmState::Committed, RmState::Committed]).unwrap();
    assert_eq!(tcommit.step_name(&start, &both_committed), None);
    // DecideCommit needs canCommit: not while RM 1 works.
    assert_eq!(tcommit.next_state(&start, &TCommitAction::DecideCommit(0)), None);
}

#[test]
fn states_from_parts_round_trip_and_reject_bad_parts() {
    let rm_states = [RmState::Prepared, RmState::Committed, RmState::Aborted, RmState::Working];
    let tm_prepared = BTreeSet::from([0, 3]);
    let msgs = BTreeSet::from([Message::Prepared(0), Message::Prepared(1), Message::Commit]);
    let state = TwoPhaseState::from_parts(&rm_states, TmState::Committed, &tm_prepared, &msgs).unwrap();
    assert_eq!(state.rm_count(), 4);
    assert_eq!(state.rm_states(), rm_states);
    assert_eq!(state.rm_state(1), Some(RmState::Committed));
    assert_eq!(state.rm_state(4), None);
    assert_eq!(state.tm_state(), TmState::Committed);
    assert_eq!(state.tm_prepared(), tm_prepared);
    assert_eq!(state.msgs(), msgs);
    assert!(state.has_message(Message::Commit) && !state.has_message(Message::Abort));
    assert!(state.is_tm_prepared(3) && !state.is_tm_prepared(1) && !state.is_tm_prepared(9));
    assert_eq!(state.to_tcommit().rm_states(), rm_states);
    assert_eq!(
        format!("{state:?}"),
        "TwoPhaseState { rm_state: [\"prepared\", \"committed\", \"aborted\", \"working\"], tm_state: \"committed\", \
         tm_prepared: {0, 3}, msgs: {Prepared(0), Prepared(1), Commit} }"
    );
    let json = serde_json::to_value(state).unwrap();
    assert_eq!(json["rm_state"], serde_json::json!(["prepared", "committed", "aborted", "working"]));
    assert_eq!(json["tm_state"], "committed");

    // This state violates TCConsistent; the model says which RMs.
    let model = TwoPhase::new(4).unwrap();
    let mut violations = Vec::new();
    model.check(&state, &mut violations);
    assert_eq!(violations, vec![(1, "RM 1 committed while RM 2 aborted".to_string())]);

    let (no_rms, no_msgs) = (BTreeSet::new(), BTreeSet::new());
    assert_eq!(
        TwoPhaseState::from_parts(&rm_states, TmState::Init, &BTreeSet::from([4]), &no_msgs),
        Err(SpecError::RmOutOfRange { rm: 4, rm_count: 4 })
    );
    let stray = BTreeSet::from([Message::Prepared(7)]);
    assert_eq!(
        TwoPhaseState::from_parts(&rm_states, TmState::Init, &no_rms, &stray),
        Err(SpecError::RmOutOfRange { rm: 7, rm_count: 4 })
    );
    assert_eq!(TwoPhaseState::from_parts(&[], TmState::Init, &no_rms, &no_msgs), Err(SpecError::RmCount(0)));
    let too_many = vec![RmState::Working; MAX_RMS + 1];
    assert_eq!(TwoPhaseState::from_parts(&too_many, TmState::Init, &no_rms, &no_msgs), Err(SpecError::RmCount(15)));
}

#[test]
fn rm_counts_beyond_the_encoding_are_errors() {
    assert!(TwoPhase::new(MAX_RMS).is_ok());
    assert!(TCommit::new(MAX_RMS).is_ok());
    for bad in [0, MAX_RMS + 1, usize::MAX] {
        assert_eq!(TwoPhase::new(bad), Err(SpecError::RmCount(bad)));
        assert_eq!(TCommit::new(bad), Err(SpecError::RmCount(bad)));
    }
    let error = TwoPhase::new(20).unwrap_err().to_string();
    assert_eq!(error, "the number of resource managers must be between 1 and 14, not 20");
    // The largest model works: its first levels, with every RM's state in the encoding.
    let model = TwoPhase::new(MAX_RMS).unwrap().with_symmetry(true);
    let report = explore(&model, Options { max_depth: Some(6), ..Options::default() }, |_| {}).unwrap();
    assert!(report.depth_limited && report.all_hold());
}

/// TwoPhase with a bug: the TM commits without waiting for every Prepared message.
struct EagerTm(TwoPhase);

impl Model for EagerTm {
    type State = TwoPhaseState;
    type Action = TwoPhaseAction;
    fn init_states(&self) -> Vec<TwoPhaseState> {
        self.0.init_states()
    }
    fn actions(&self, state: &TwoPhaseState, out: &mut Vec<TwoPhaseAction>) {
        self.0.actions(state, out);
        if state.tm_state() == TmState::Init && !out.contains(&TwoPhaseAction::TmCommit) {
            out.insert(0, TwoPhaseAction::TmCommit);
        }
    }
    fn next_state(&self, state: &TwoPhaseState, action: &TwoPhaseAction) -> Option<TwoPhaseState> {
        if *action != TwoPhaseAction::TmCommit || state.tm_state() != TmState::Init {
            return self.0.next_state(state, action);
        }
        let mut msgs = state.msgs();
        msgs.insert(Message::Commit);
        TwoPhaseState::from_parts(&state.rm_states(), TmState::Committed, &state.tm_prepared(), &msgs).ok()
    }
    fn fingerprint(&self, state: &TwoPhaseState) -> u64 {
        self.0.fingerprint(state)
    }
    fn properties(&self) -> Vec<&'static str> {
        self.0.properties()
    }
    fn check(&self, state: &TwoPhaseState, out: &mut Vec<(usize, String)>) {
        self.0.check(state, out)
    }
    fn terminal_failure(&self, state: &TwoPhaseState) -> Option<String> {
        self.0.terminal_failure(state)
    }
}

#[test]
fn a_tm_that_commits_too_early_breaks_tcconsistent_in_three_steps() {
    for threads in [1, 2] {
        let model = EagerTm(TwoPhase::new(3).unwrap());
        let report = explore(&model, Options { threads, ..Options::default() }, |_| {}).unwrap();
        assert_eq!(report.stop_reason, Some(StopReason::Exhausted));
        let consistent = report.property("TCConsistent").unwrap();
        assert_eq!(consistent.verdict, Verdict::Violated);
        let counterexample = consistent.counterexample.as_ref().unwrap();
        assert_eq!(
            counterexample.actions,
            vec![TwoPhaseAction::TmCommit, TwoPhaseAction::RmChooseToAbort(0), TwoPhaseAction::RmRcvCommitMsg(1)]
        );
        assert_eq!(counterexample.detail, "RM 1 committed while RM 0 aborted");
        assert_eq!(report.property("TPTypeOK").unwrap().verdict, Verdict::Holds);
        assert_eq!(report.liveness.verdict, Verdict::Holds);
    }
}
