//! Our explorer against Stateright 0.31 on Lamport's TwoPhase, in one process.
//!
//! For 5, 6 and 7 RMs: our breadth-first search on one thread, Stateright's breadth-first search
//! on one thread (on the same spec written with its `Model` trait, shaped like its own 2PC
//! example: vectors and a `BTreeSet` of messages), and ours on every core. The unique state
//! counts must be equal (asserted). Then 8 RMs with ours only, each configuration in a child
//! process of its own so that its peak resident memory (VmHWM) is its own.
//!
//! Run: `cargo bench -p commitlab-explore --bench vs_stateright`.

use commitlab_explore::spec::TwoPhase;
use commitlab_explore::{explore, Options, Report};
use std::process::Command;
use std::time::{Duration, Instant};

/// TwoPhase.tla in Stateright's terms, as its examples/2pc.rs models it: the state is plain
/// collections, and receiving a message that changes nothing is still an action.
mod theirs {
    use stateright::{Model, Property};
    use std::collections::BTreeSet;

    pub struct TwoPhaseSys {
        pub rm_count: usize,
    }

    #[derive(Clone, Debug, PartialEq, Eq, Hash)]
    pub struct State {
        rm_state: Vec<Rm>,
        tm_state: Tm,
        tm_prepared: Vec<bool>,
        msgs: BTreeSet<Msg>,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    enum Rm {
        Working,
        Prepared,
        Committed,
        Aborted,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    enum Tm {
        Init,
        Committed,
        Aborted,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
    enum Msg {
        Prepared(usize),
        Commit,
        Abort,
    }

    #[derive(Clone, Debug, PartialEq)]
    pub enum Action {
        TmRcvPrepared(usize),
        TmCommit,
        TmAbort,
        RmPrepare(usize),
        RmChooseToAbort(usize),
        RmRcvCommitMsg(usize),
        RmRcvAbortMsg(usize),
    }

    impl Model for TwoPhaseSys {
        type State = State;
        type Action = Action;

        fn init_states(&self) -> Vec<State> {
            vec![State {
                rm_state: vec![Rm::Working; self.rm_count],
                tm_state: Tm::Init,
                tm_prepared: vec![false; self.rm_count],
                msgs: BTreeSet::new(),
            }]
        }

        fn actions(&self, state: &State, actions: &mut Vec<Action>) {
            let tm_init = state.tm_state == Tm::Init;
            if tm_init && state.tm_prepared.iter().all(|&prepared| prepared) {
                actions.push(Action::TmCommit);
            }
            if tm_init {
                actions.push(Action::TmAbort);
            }
            for rm in 0..self.rm_count {
                if tm_init && state.msgs.contains(&Msg::Prepared(rm)) {
                    actions.push(Action::TmRcvPrepared(rm));
                }
                if state.rm_state[rm] == Rm::Working {
                    actions.push(Action::RmPrepare(rm));
                    actions.push(Action::RmChooseToAbort(rm));
                }
                if state.msgs.contains(&Msg::Commit) {
                    actions.push(Action::RmRcvCommitMsg(rm));
                }
                if state.msgs.contains(&Msg::Abort) {
                    actions.push(Action::RmRcvAbortMsg(rm));
                }
            }
        }

        fn next_state(&self, last: &State, action: Action) -> Option<State> {
            let mut state = last.clone();
            match action {
                Action::TmRcvPrepared(rm) => state.tm_prepared[rm] = true,
                Action::TmCommit => {
                    state.tm_state = Tm::Committed;
                    state.msgs.insert(Msg::Commit);
                }
                Action::TmAbort => {
                    state.tm_state = Tm::Aborted;
                    state.msgs.insert(Msg::Abort);
                }
                Action::RmPrepare(rm) => {
                    state.rm_state[rm] = Rm::Prepared;
                    state.msgs.insert(Msg::Prepared(rm));
                }
                Action::RmChooseToAbort(rm) | Action::RmRcvAbortMsg(rm) => state.rm_state[rm] = Rm::Aborted,
                Action::RmRcvCommitMsg(rm) => state.rm_state[rm] = Rm::Committed,
            }
            Some(state)
        }

        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::<Self>::sometimes("abort agreement", |_, state| {
                    state.rm_state.iter().all(|&rm| rm == Rm::Aborted)
                }),
                Property::<Self>::sometimes("commit agreement", |_, state| {
                    state.rm_state.iter().all(|&rm| rm == Rm::Committed)
                }),
                Property::<Self>::always("consistent", |_, state| {
                    !(state.rm_state.contains(&Rm::Aborted) && state.rm_state.contains(&Rm::Committed))
                }),
            ]
        }
    }
}

fn ours(rm_count: usize, threads: usize) -> (Report<commitlab_explore::spec::TwoPhaseAction>, Duration) {
    let model = TwoPhase::new(rm_count).expect("a valid RM count");
    let options = Options { threads, ..Options::default() };
    let start = Instant::now();
    let report = explore(&model, options, |_| {}).expect("valid options");
    let elapsed = start.elapsed();
    assert!(report.complete && report.all_hold(), "TwoPhase with {rm_count} RMs: {report:?}");
    (report, elapsed)
}

fn stateright(rm_count: usize) -> (u64, Duration) {
    use stateright::{Checker, Model};
    let start = Instant::now();
    let checker = theirs::TwoPhaseSys { rm_count }.checker().threads(1).spawn_bfs().join();
    let elapsed = start.elapsed();
    checker.assert_properties();
    (checker.unique_state_count() as u64, elapsed)
}

/// The median of `rounds` runs of `run`, with the result of the last.
fn median<T>(rounds: usize, mut run: impl FnMut() -> (T, Duration)) -> (T, Duration) {
    let mut times = Vec::with_capacity(rounds);
    let mut last = None;
    for _ in 0..rounds {
        let (value, time) = run();
        times.push(time);
        last = Some(value);
    }
    times.sort();
    (last.expect("at least one round"), times[rounds / 2])
}

fn per_second(states: u64, time: Duration) -> f64 {
    states as f64 / time.as_secs_f64()
}

fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The 1, 5 and 15 minute load averages, to tell a quiet machine from a busy one.
fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

const CHILD: &str = "--eight-rms-child";

/// In a child process: 8 RMs on `threads` threads, printed as one line: the peak memory of the
/// first round (later rounds reuse a fragmented heap), the median time of 3.
fn eight_rms_child(threads: usize) {
    let first = ours(8, threads);
    // Pinned with the smaller counts in tests/specs.rs.
    assert_eq!(first.0.states, 1_745_408, "TwoPhase with 8 RMs");
    let peak = peak_resident_kib();
    let mut rounds = Some(first).into_iter();
    let (report, time) = median(3, || rounds.next().unwrap_or_else(|| ours(8, threads)));
    let peak = peak.map_or_else(|| "unknown".to_string(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0));
    println!(
        "{threads:>7} | {:>9} | {:>8.3} s | {:>10.0} | {:>10} | {:>6.1}",
        report.states,
        time.as_secs_f64(),
        per_second(report.states, time),
        peak,
        report.memory.bytes_per_state
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(position) = args.iter().position(|arg| arg == CHILD) {
        let threads = args.get(position + 1).and_then(|threads| threads.parse().ok()).unwrap_or(1);
        eight_rms_child(threads);
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |cores| cores.get());
    println!("TwoPhase, breadth-first, every reachable state; {cores} cores; time = median of the rounds");
    println!("load average before: {}", load_average());
    println!("(time in ms, speed in million unique states per second)");
    println!();
    let threads_label = format!("ours {cores} threads");
    println!(
        "RMs | rounds | states ours = Stateright | {:<18} | {:<19} | {threads_label:<18} | ours/Stateright | ours B/state",
        "ours 1 thread", "Stateright 1 thread"
    );
    println!(
        "----|--------|--------------------------|{}|{}|{}|-----------------|-------------",
        "-".repeat(20),
        "-".repeat(21),
        "-".repeat(20.max(threads_label.len() + 2))
    );
    for rm_count in [5, 6, 7] {
        let rounds = if rm_count < 7 { 7 } else { 3 };
        let (single, single_time) = median(rounds, || ours(rm_count, 1));
        let (their_states, their_time) = median(rounds, || stateright(rm_count));
        let (multi, multi_time) = median(rounds, || ours(rm_count, cores));
        assert_eq!(single.states, their_states, "{rm_count} RMs: our count differs from Stateright's");
        assert_eq!(multi.states, single.states, "{rm_count} RMs: threads changed the count");
        let cell = |time: Duration| {
            format!("{:>7.1} {:>6.2} M/s", time.as_secs_f64() * 1e3, per_second(single.states, time) / 1e6)
        };
        println!(
            "{rm_count:>3} | {rounds:>6} | {:>11} = {:<10} | {:<18} | {:<19} | {:<18} | {:>14.1}x | {:>12.1}",
            single.states,
            their_states,
            cell(single_time),
            cell(their_time),
            cell(multi_time),
            their_time.as_secs_f64() / single_time.as_secs_f64(),
            single.memory.bytes_per_state
        );
    }
    println!();
    println!("8 RMs, ours only, 3 rounds in a child process per row (peak = its VmHWM after the first):");
    println!("threads |    states |       time |   states/s |       peak | B/state");
    println!("--------|-----------|------------|------------|------------|--------");
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let mut thread_counts = vec![1];
    if cores > 1 {
        thread_counts.push(cores);
    }
    for threads in thread_counts {
        let output = Command::new(&exe).arg(CHILD).arg(threads.to_string()).output().expect("the child runs");
        assert!(output.status.success(), "the 8-RM child failed: {}", String::from_utf8_lossy(&output.stderr));
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    println!();
    println!("load average after: {} (other work on the machine slows the multi-threaded runs most)", load_average());
}
