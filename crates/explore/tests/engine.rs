//! The explorer on small toy models: counterexamples, stops, limits, threads and resumption.

use commitlab_explore::spec::{TwoPhase, TwoPhaseAction};
use commitlab_explore::{
    explore, mix64, replay, Exploration, ExploreError, Model, Options, Report, Search, StopReason, Verdict,
};
use std::sync::atomic::Ordering;

/// A counter that may step up by one, or wobble a side value; it "breaks" at `limit`.
struct Counter {
    limit: u32,
    top: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tick {
    Up,
    Wobble,
}

impl Model for Counter {
    type State = (u32, u8);
    type Action = Tick;

    fn init_states(&self) -> Vec<(u32, u8)> {
        vec![(0, 0)]
    }
    fn actions(&self, _state: &(u32, u8), out: &mut Vec<Tick>) {
        out.push(Tick::Wobble);
        out.push(Tick::Up);
    }
    fn next_state(&self, &(value, wobble): &(u32, u8), action: &Tick) -> Option<(u32, u8)> {
        match action {
            Tick::Up => (value < self.top).then_some((value + 1, wobble)),
            Tick::Wobble => Some((value, (wobble + 1) % 3)),
        }
    }
    fn fingerprint(&self, &(value, wobble): &(u32, u8)) -> u64 {
        mix64(u64::from(value) << 8 | u64::from(wobble))
    }
    fn properties(&self) -> Vec<&'static str> {
        vec!["below the limit"]
    }
    fn check(&self, &(value, _): &(u32, u8), out: &mut Vec<(usize, String)>) {
        if value >= self.limit {
            out.push((0, format!("counter reached {value}")));
        }
    }
}

/// A chain 0 → 1 → … → `end` that gets stuck at `end`.
struct Chain {
    end: u32,
}

impl Model for Chain {
    type State = u32;
    type Action = &'static str;

    fn init_states(&self) -> Vec<u32> {
        vec![0]
    }
    fn actions(&self, _state: &u32, out: &mut Vec<&'static str>) {
        out.push("stay");
        out.push("next");
    }
    fn next_state(&self, state: &u32, action: &&'static str) -> Option<u32> {
        match *action {
            // A self-loop: a successor with the same fingerprint is no move.
            "stay" => Some(*state),
            _ => (*state < self.end).then_some(state + 1),
        }
    }
    fn fingerprint(&self, state: &u32) -> u64 {
        mix64(u64::from(*state))
    }
    fn properties(&self) -> Vec<&'static str> {
        Vec::new()
    }
    fn check(&self, _state: &u32, _out: &mut Vec<(usize, String)>) {}
    fn terminal_failure(&self, state: &u32) -> Option<String> {
        Some(format!("stuck at {state}"))
    }
}

fn run<M: Model>(model: &M, options: Options) -> Report<M::Action> {
    explore(model, options, |_| {}).expect("valid options")
}

/// The report without the fields that legitimately differ between runs with other threads.
fn comparable<A: Clone>(report: &Report<A>) -> Report<A> {
    let mut report = report.clone();
    report.threads = 0;
    report.memory.visited_bytes = 0;
    report.memory.frontier_peak_bytes = 0;
    report.memory.bytes_per_state = 0.0;
    report
}

#[test]
fn breadth_first_finds_the_shortest_counterexample() {
    let model = Counter { limit: 5, top: 20 };
    let report = run(&model, Options::default());
    let property = &report.properties[0];
    assert_eq!(property.name, "below the limit");
    assert_eq!(property.verdict, Verdict::Violated);
    let counterexample = property.counterexample.as_ref().expect("a counterexample");
    assert_eq!(counterexample.depth, 5);
    assert_eq!(counterexample.actions, vec![Tick::Up; 5]);
    assert_eq!(counterexample.steps, vec!["Up"; 5]);
    assert_eq!(counterexample.detail, "counter reached 5");
    assert_eq!(counterexample.replay_error, None);
    // The compact form replays to the same path and the violating state.
    let path = replay(&model, counterexample.init, &counterexample.choices).expect("replays");
    assert_eq!(path.actions, counterexample.actions);
    assert_eq!(path.states.last(), Some(&(5, 0)));
    assert_eq!(model.fingerprint(&(5, 0)), counterexample.fingerprint);
    // Liveness cannot fail here (wobbling is always possible), so the search ran to the end.
    assert_eq!(report.states, 21 * 3);
    assert_eq!(report.stop_reason, Some(StopReason::Exhausted));
    assert!(report.complete);
    assert_eq!(report.liveness.verdict, Verdict::Holds);
    assert!(!report.all_hold());
}

#[test]
fn depth_first_finds_a_violation_too() {
    let model = Counter { limit: 5, top: 20 };
    let options = Options { search: Search::DepthFirst, stop_at_first: true, ..Options::default() };
    let report = run(&model, options);
    assert_eq!(report.stop_reason, Some(StopReason::FirstViolation));
    let counterexample = report.properties[0].counterexample.as_ref().expect("a counterexample");
    assert!(counterexample.depth >= 5);
    assert_eq!(counterexample.actions.len() as u32, counterexample.depth);
    let path = replay(&model, counterexample.init, &counterexample.choices).expect("replays");
    assert_eq!(path.states.last().map(|state| state.0), Some(5));
    assert_eq!(report.search, Search::DepthFirst);
}

#[test]
fn a_terminal_state_is_a_liveness_failure_with_its_path() {
    let report = run(&Chain { end: 10 }, Options::default());
    assert_eq!(report.liveness.name, "liveness");
    assert_eq!(report.liveness.verdict, Verdict::Violated);
    let counterexample = report.liveness.counterexample.as_ref().expect("a liveness failure");
    assert_eq!(counterexample.detail, "stuck at 10");
    assert_eq!(counterexample.depth, 10);
    assert_eq!(counterexample.actions, vec!["next"; 10]);
    // No safety property, and liveness has its counterexample: nothing more to learn.
    assert_eq!(report.stop_reason, Some(StopReason::AllViolated));
    assert_eq!(report.states, 11);
    // Each state has its self-loop edge, and all but the last a "next" edge.
    assert_eq!(report.edges, 11 + 10);
    assert_eq!(report.property("liveness").map(|property| property.verdict), Some(Verdict::Violated));
}

#[test]
fn max_states_stops_and_marks_the_search_incomplete() {
    let report = run(&TwoPhase::new(4).unwrap(), Options { max_states: Some(100), ..Options::default() });
    assert_eq!(report.states, 100);
    assert_eq!(report.stop_reason, Some(StopReason::MaxStates));
    assert!(!report.complete);
    assert!(report.properties.iter().all(|property| property.verdict == Verdict::Unknown));
}

#[test]
fn max_depth_cuts_the_search_and_says_so() {
    let report = run(&TwoPhase::new(3).unwrap(), Options { max_depth: Some(3), ..Options::default() });
    assert_eq!(report.max_depth, 3);
    assert!(report.depth_limited);
    assert!(!report.complete);
    assert_eq!(report.stop_reason, Some(StopReason::Exhausted));
    assert_eq!(report.liveness.verdict, Verdict::Unknown);
}

#[test]
fn the_stop_flag_stops_single_and_multi_threaded_searches() {
    for threads in [1, 2] {
        // Set before the start: nothing is expanded.
        let options = Options { threads, ..Options::default() };
        options.stop.store(true, Ordering::Relaxed);
        let report = run(&TwoPhase::new(6).unwrap(), options);
        assert_eq!(report.stop_reason, Some(StopReason::StopRequested), "{threads} threads");
        assert_eq!(report.states, 1);
        assert!(!report.complete);

        // Set from the progress callback.
        let options = Options { threads, progress_every: 1000, ..Options::default() };
        let stop = options.stop.clone();
        let report = explore(&TwoPhase::new(6).unwrap(), options, |progress| {
            if progress.states >= 2000 {
                stop.store(true, Ordering::Relaxed);
            }
        })
        .unwrap();
        assert_eq!(report.stop_reason, Some(StopReason::StopRequested), "{threads} threads");
        assert!(report.states >= 2000 && report.states < 50_816, "{threads} threads: {}", report.states);
    }
}

#[test]
fn threads_do_not_change_the_report() {
    let two_phase = TwoPhase::new(6).unwrap();
    for model in [two_phase, two_phase.with_symmetry(true)] {
        for options in [
            Options::default(),
            Options { max_states: Some(20_000), ..Options::default() },
            Options { max_depth: Some(9), ..Options::default() },
        ] {
            let single = run(&model, options.clone());
            for threads in [2, 3] {
                let multi = run(&model, Options { threads, ..options.clone() });
                assert_eq!(multi.threads, threads);
                assert_eq!(comparable(&multi), comparable(&single), "{threads} threads, {options:?}");
            }
        }
    }
    let single = run(&Counter { limit: 5, top: 5000 }, Options::default());
    let multi = run(&Counter { limit: 5, top: 5000 }, Options { threads: 2, ..Options::default() });
    assert_eq!(comparable(&multi), comparable(&single));
}

#[test]
fn stepping_gives_the_one_shot_report() {
    let model = TwoPhase::new(4).unwrap().with_symmetry(true);
    let one_shot = run(&model, Options::default());
    for slice in [1, 7, 1000] {
        let mut exploration = Exploration::new(&model, Options::default()).unwrap();
        let mut last = exploration.progress();
        assert!(!last.done);
        loop {
            let progress = exploration.step(slice);
            assert!(progress.states >= last.states && progress.edges >= last.edges);
            last = progress;
            if progress.done {
                break;
            }
        }
        assert_eq!(last.queue, 0);
        assert_eq!(exploration.report(), one_shot, "slice {slice}");
        // Stepping a finished search changes nothing.
        assert_eq!(exploration.step(10), last);
    }
}

#[test]
fn paths_to_any_visited_state_can_be_rebuilt() {
    let model = TwoPhase::new(3).unwrap();
    let mut exploration = Exploration::new(&model, Options::default()).unwrap();
    while !exploration.step(100).done {}
    let initial = model.initial_state();
    let path = exploration.path(model.fingerprint(&initial)).unwrap();
    assert_eq!(path.states, vec![initial]);
    assert!(path.actions.is_empty());
    // Any reachable state: all RMs committed takes 3 prepares, 3 receipts, commit, 3 deliveries.
    let mut state = initial;
    for rm in 0..3 {
        state = model.next_state(&state, &TwoPhaseAction::RmPrepare(rm)).unwrap();
    }
    for rm in 0..3 {
        state = model.next_state(&state, &TwoPhaseAction::TmRcvPrepared(rm)).unwrap();
    }
    state = model.next_state(&state, &TwoPhaseAction::TmCommit).unwrap();
    for rm in 0..3 {
        state = model.next_state(&state, &TwoPhaseAction::RmRcvCommitMsg(rm)).unwrap();
    }
    let path = exploration.path(model.fingerprint(&state)).unwrap();
    assert_eq!(path.states.last(), Some(&state));
    assert_eq!(path.actions.len(), 10);
    assert!(exploration.path(12345).is_err());
}

#[test]
fn bad_options_are_errors_that_name_the_option() {
    let model = Counter { limit: 5, top: 20 };
    let cases = [
        (Options { threads: 0, ..Options::default() }, "threads", "must be at least 1"),
        (Options { threads: 100_000, ..Options::default() }, "threads", "more than the limit"),
        (Options { threads: 2, search: Search::DepthFirst, ..Options::default() }, "threads", "depth-first"),
        (Options { max_states: Some(0), ..Options::default() }, "max_states", "at least 1"),
        (Options { progress_every: 0, ..Options::default() }, "progress_every", "at least 1"),
    ];
    for (options, option, reason) in cases {
        let error = explore(&model, options.clone(), |_| {}).unwrap_err();
        let ExploreError::InvalidOption { option: named, .. } = &error;
        assert_eq!(*named, option);
        let message = error.to_string();
        assert!(message.contains(&format!("`{option}`")) && message.contains(reason), "{message}");
        assert!(Exploration::new(&model, options).is_err());
    }
    let error = Exploration::new(&model, Options { threads: 2, ..Options::default() }).err().unwrap();
    assert!(error.to_string().contains("`threads`"), "{error}");
}

#[test]
fn reports_serialize_with_actions_as_text() {
    let report = run(&Counter { limit: 2, top: 3 }, Options::default());
    let json = serde_json::to_value(&report).unwrap();
    let counterexample = &json["properties"][0]["counterexample"];
    assert_eq!(counterexample["steps"], serde_json::json!(["Up", "Up"]));
    assert_eq!(counterexample["choices"], serde_json::json!([1, 1]));
    assert_eq!(counterexample["fingerprint"].as_str().map(str::len), Some(16));
    assert_eq!(json["stop_reason"], "Exhausted");
    assert_eq!(json["properties"][0]["verdict"], "Violated");
    assert!(json["memory"]["bytes_per_state"].as_f64().unwrap() > 0.0);
    let progress = serde_json::to_value(Exploration::new(&Chain { end: 3 }, Options::default()).unwrap().progress());
    assert_eq!(progress.unwrap(), serde_json::json!({"states": 1, "edges": 0, "depth": 0, "queue": 1, "done": false}));
}

#[test]
fn a_model_without_initial_states_is_an_empty_complete_search() {
    struct Empty;
    impl Model for Empty {
        type State = ();
        type Action = ();
        fn init_states(&self) -> Vec<()> {
            Vec::new()
        }
        fn actions(&self, _: &(), _: &mut Vec<()>) {}
        fn next_state(&self, _: &(), _: &()) -> Option<()> {
            None
        }
        fn fingerprint(&self, _: &()) -> u64 {
            0
        }
        fn properties(&self) -> Vec<&'static str> {
            vec!["anything"]
        }
        fn check(&self, _: &(), _: &mut Vec<(usize, String)>) {}
    }
    let report = run(&Empty, Options::default());
    assert_eq!(report.states, 0);
    assert!(report.complete);
    assert_eq!(report.properties[0].verdict, Verdict::Holds);
    assert_eq!(report.memory.bytes_per_state, 0.0);
}

#[test]
fn an_exploration_can_own_its_model() {
    // A Web Worker keeps its search between messages: it cannot borrow a local model.
    fn start(rm_count: usize) -> Exploration<TwoPhase> {
        Exploration::new(TwoPhase::new(rm_count).unwrap(), Options::default()).unwrap()
    }
    let mut owned = start(3);
    while !owned.step(50).done {}
    assert_eq!(owned.report().states, 288);
    assert_eq!(owned.model().rm_count(), 3);
}
