//! The multi-threaded breadth-first search (native only).
//!
//! It is level-synchronous and reproduces the single-threaded search exactly, so counts,
//! counterexamples and their lengths never depend on the number of threads:
//!
//! 1. **Expand.** The level (in the single-threaded order) is cut into contiguous chunks that
//!    threads expand in parallel, reading the visited table without locks (nobody writes it in this
//!    phase). Each successor not seen in earlier levels becomes a candidate in its chunk's bucket for
//!    the visited shard it belongs to, and the chunk remembers the shard of each candidate in order.
//! 2. **Merge.** Each thread owns whole shards and inserts their candidates chunk by chunk, in order.
//!    Within a shard that is the single-threaded order, so the first discovery wins, exactly as in
//!    the single-threaded search, and the winner's parent and action are recorded.
//! 3. **Collect.** Per chunk, the winners are taken in order (following the remembered shard
//!    sequence), checked against the properties and appended to the next level, which is therefore
//!    in the single-threaded order too.
//!
//! If the level would end the search (`max_states` reached, or the last missing counterexample
//! found), where inside the level it would stop matters for the counts: the level is rolled back
//! and redone by the single-threaded search, which stops at exactly the same point as on its own.

use crate::engine::{Exploration, Node, STOP_CHECK_EVERY};
use crate::options::Options;
use crate::report::{Progress, Report, StopReason};
use crate::visited::{insert_new, Origin, Shard, Visited, INITIAL};
use crate::Model;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How a level is cut up for the threads.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// Levels smaller than this are done on the calling thread: spawning would cost more.
    small_level: usize,
    /// The least number of states in a chunk.
    min_chunk: usize,
}

const TUNING: Tuning = Tuning { small_level: 4096, min_chunk: 1024 };
/// Chunks per thread, so that a thread that finishes early takes another.
const CHUNKS_PER_THREAD: usize = 8;
/// Visited shards per thread, so that merging spreads evenly.
const SHARDS_PER_THREAD: usize = 16;

/// Candidates of one shard (or one chunk), bucket by bucket.
type Buckets<S> = Vec<Vec<Candidate<S>>>;

struct Candidate<S> {
    fingerprint: u64,
    parent: u64,
    action: u32,
    won: bool,
    state: S,
}

/// What expanding one chunk produced.
struct Expanded<S> {
    /// Candidates per visited shard, each bucket in discovery order.
    buckets: Vec<Vec<Candidate<S>>>,
    /// The shard of every candidate, in discovery order.
    order: Vec<u16>,
    edges: u64,
    depth_limited: bool,
    /// The chunk's first terminal state that the model calls a liveness failure.
    terminal: Option<(u64, u32, String)>,
    stopped: bool,
}

/// The winners of one chunk, in discovery order.
struct Collected<S> {
    nodes: Vec<Node<S>>,
    /// Per property, the chunk's first violation: (fingerprint, detail).
    violations: Vec<Option<(u64, String)>>,
}

enum LevelOutcome<S> {
    Committed,
    /// The level would end the search somewhere inside: redo it single-threaded.
    Redo(Vec<Node<S>>),
    Stopped(Vec<Node<S>>),
}

pub(crate) fn explore<M: Model>(
    model: &M,
    options: Options,
    on_progress: &mut dyn FnMut(Progress),
) -> Report<M::Action> {
    explore_tuned(model, options, on_progress, TUNING)
}

fn explore_tuned<M: Model>(
    model: &M,
    options: Options,
    on_progress: &mut dyn FnMut(Progress),
    tuning: Tuning,
) -> Report<M::Action> {
    let threads = options.threads;
    let shard_count = (threads * SHARDS_PER_THREAD).next_power_of_two().min(1 << 15);
    let progress_every = options.progress_every;
    let mut run = Exploration::with_shards(model, options, shard_count);
    let mut last_reported = 0;
    while run.stop_reason.is_none() {
        if run.frontier.is_empty() {
            run.stop_reason = Some(StopReason::Exhausted);
            break;
        }
        if run.options.stop.load(Ordering::Relaxed) {
            run.stop_reason = Some(StopReason::StopRequested);
            break;
        }
        let level = Vec::from(std::mem::take(&mut run.frontier));
        match run_level(&mut run, level, threads, tuning) {
            LevelOutcome::Committed => {}
            LevelOutcome::Stopped(level) => {
                run.frontier = VecDeque::from(level);
                run.stop_reason = Some(StopReason::StopRequested);
            }
            LevelOutcome::Redo(level) => {
                run.frontier = VecDeque::from(level);
                let slice = usize::try_from(progress_every).unwrap_or(usize::MAX);
                while !run.step(slice).done {
                    on_progress(run.progress());
                }
            }
        }
        if run.states - last_reported >= progress_every && run.stop_reason.is_none() {
            last_reported = run.states;
            on_progress(run.progress());
        }
    }
    on_progress(run.progress());
    run.report()
}

fn run_level<M: Model>(
    run: &mut Exploration<'_, M>,
    level: Vec<Node<M::State>>,
    threads: usize,
    tuning: Tuning,
) -> LevelOutcome<M::State> {
    let model = run.model;
    let depth = level[0].depth;
    debug_assert!(level.iter().all(|node| node.depth == depth), "a level mixes depths");
    let threads = if level.len() < tuning.small_level { 1 } else { threads };
    let chunk_count = (threads * CHUNKS_PER_THREAD).min(level.len() / tuning.min_chunk).max(1);
    let chunk_len = level.len().div_ceil(chunk_count);

    let max_depth = run.options.max_depth;
    let stop = &*run.options.stop;
    let visited = &run.visited;
    let chunks: Vec<&[Node<M::State>]> = level.chunks(chunk_len).collect();
    let expanded = parallel_map(threads, chunks, |chunk| expand_chunk(model, visited, chunk, max_depth, stop));
    if expanded.iter().any(|chunk| chunk.stopped) {
        return LevelOutcome::Stopped(level);
    }

    let mut orders = Vec::with_capacity(expanded.len());
    let mut per_shard: Vec<Buckets<M::State>> =
        (0..run.visited.shards.len()).map(|_| Vec::with_capacity(expanded.len())).collect();
    let mut edges = 0;
    let mut depth_limited = false;
    let mut terminal = None;
    let mut candidates = 0;
    for chunk in expanded {
        edges += chunk.edges;
        depth_limited |= chunk.depth_limited;
        if terminal.is_none() {
            terminal = chunk.terminal;
        }
        candidates += chunk.order.len();
        orders.push(chunk.order);
        for (shard, bucket) in chunk.buckets.into_iter().enumerate() {
            per_shard[shard].push(bucket);
        }
    }

    let origin_depth = depth + 1;
    let merge_inputs: Vec<(&mut Shard, Buckets<M::State>)> =
        run.visited.shards.iter_mut().zip(per_shard).collect();
    let merged = parallel_map(threads, merge_inputs, |(shard, mut buckets)| {
        for candidate in buckets.iter_mut().flatten() {
            let origin = Origin { parent: candidate.parent, action: candidate.action, depth: origin_depth };
            candidate.won = insert_new(shard, candidate.fingerprint, origin);
        }
        buckets
    });

    let mut per_chunk: Vec<Buckets<M::State>> =
        (0..orders.len()).map(|_| Vec::with_capacity(merged.len())).collect();
    for buckets in merged {
        for (chunk, bucket) in buckets.into_iter().enumerate() {
            per_chunk[chunk].push(bucket);
        }
    }
    let property_count = run.found.len() - 1;
    let collect_inputs: Vec<_> = per_chunk.into_iter().zip(orders).collect();
    let collected = parallel_map(threads, collect_inputs, |(buckets, order)| {
        collect_winners(model, buckets, &order, origin_depth, property_count)
    });

    let node_bytes = std::mem::size_of::<Node<M::State>>();
    let new_states: usize = collected.iter().map(|chunk| chunk.nodes.len()).sum();
    let held = (level.len() + new_states) * node_bytes
        + candidates * (std::mem::size_of::<Candidate<M::State>>() + std::mem::size_of::<u16>());
    run.parallel_peak_bytes = run.parallel_peak_bytes.max(held as u64);

    let first_violations: Vec<Option<(u64, String)>> = (0..property_count)
        .map(|property| collected.iter().find_map(|chunk| chunk.violations[property].clone()))
        .collect();
    let new_slots = first_violations
        .iter()
        .enumerate()
        .filter(|(property, violation)| violation.is_some() && run.found[*property].is_none())
        .count()
        + usize::from(terminal.is_some() && run.found[property_count].is_none());
    let reaches_max = run.options.max_states.is_some_and(|max| run.states + new_states as u64 >= max);
    if reaches_max || run.would_settle(new_slots) {
        roll_back(&mut run.visited, &collected);
        return LevelOutcome::Redo(level);
    }

    run.states += new_states as u64;
    run.edges += edges;
    run.depth_limited |= depth_limited;
    if new_states > 0 {
        run.max_depth = run.max_depth.max(origin_depth);
    }
    if let Some((fingerprint, depth, detail)) = terminal {
        run.record_liveness(fingerprint, depth, detail);
    }
    for (property, violation) in first_violations.into_iter().enumerate() {
        if let Some((fingerprint, detail)) = violation {
            run.record_violation(property, fingerprint, origin_depth, detail);
        }
    }
    let mut next = VecDeque::with_capacity(new_states);
    for chunk in collected {
        next.extend(chunk.nodes);
    }
    run.frontier = next;
    LevelOutcome::Committed
}

/// The expansion of [`Exploration`]'s `expand`, without writing anything shared.
fn expand_chunk<M: Model>(
    model: &M,
    visited: &Visited,
    nodes: &[Node<M::State>],
    max_depth: Option<u32>,
    stop: &AtomicBool,
) -> Expanded<M::State> {
    let mut out = Expanded {
        buckets: (0..visited.shards.len()).map(|_| Vec::new()).collect(),
        order: Vec::new(),
        edges: 0,
        depth_limited: false,
        terminal: None,
        stopped: false,
    };
    let mut actions = Vec::new();
    for (expanded, node) in nodes.iter().enumerate() {
        if expanded % STOP_CHECK_EVERY == 0 && stop.load(Ordering::Relaxed) {
            out.stopped = true;
            break;
        }
        let at_limit = max_depth.is_some_and(|limit| node.depth >= limit);
        actions.clear();
        model.actions(&node.state, &mut actions);
        let mut moved = false;
        for (index, action) in (0..INITIAL).zip(actions.iter()) {
            let Some(next) = model.next_state(&node.state, action) else {
                continue;
            };
            let fingerprint = model.fingerprint(&next);
            if at_limit {
                if fingerprint != node.fingerprint {
                    moved = true;
                    out.depth_limited = true;
                    break;
                }
                continue;
            }
            out.edges += 1;
            if fingerprint == node.fingerprint {
                continue;
            }
            moved = true;
            if visited.contains(fingerprint) {
                continue;
            }
            let shard = visited.shard_of(fingerprint);
            out.order.push(shard as u16);
            out.buckets[shard].push(Candidate { fingerprint, parent: node.fingerprint, action: index, won: false, state: next });
        }
        if !moved && out.terminal.is_none() {
            if let Some(detail) = model.terminal_failure(&node.state) {
                out.terminal = Some((node.fingerprint, node.depth, detail));
            }
        }
    }
    out
}

fn collect_winners<M: Model>(
    model: &M,
    buckets: Buckets<M::State>,
    order: &[u16],
    depth: u32,
    property_count: usize,
) -> Collected<M::State> {
    let mut buckets: Vec<_> = buckets.into_iter().map(Vec::into_iter).collect();
    let mut out = Collected { nodes: Vec::new(), violations: vec![None; property_count] };
    let mut violations = Vec::new();
    for &shard in order {
        let candidate = buckets[usize::from(shard)].next().expect("every candidate in the order is in its bucket");
        if !candidate.won {
            continue;
        }
        violations.clear();
        model.check(&candidate.state, &mut violations);
        for (property, detail) in violations.drain(..) {
            assert!(
                property < property_count,
                "Model::check reported property {property}, but properties() names only {property_count}"
            );
            if out.violations[property].is_none() {
                out.violations[property] = Some((candidate.fingerprint, detail));
            }
        }
        out.nodes.push(Node { state: candidate.state, fingerprint: candidate.fingerprint, depth });
    }
    out
}

fn roll_back<S>(visited: &mut Visited, collected: &[Collected<S>]) {
    for node in collected.iter().flat_map(|chunk| &chunk.nodes) {
        visited.remove(node.fingerprint);
    }
}

/// Applies `work` to every input on up to `threads` scoped threads; outputs keep the inputs' order.
fn parallel_map<I: Send, O: Send>(threads: usize, inputs: Vec<I>, work: impl Fn(I) -> O + Sync) -> Vec<O> {
    if threads <= 1 || inputs.len() <= 1 {
        return inputs.into_iter().map(work).collect();
    }
    let count = inputs.len();
    let slots: Vec<Mutex<Option<I>>> = inputs.into_iter().map(|input| Mutex::new(Some(input))).collect();
    let results: Vec<Mutex<Option<O>>> = (0..count).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads.min(count) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let input = slots[index].lock().expect("no worker panicked").take().expect("each input is taken once");
                let output = work(input);
                *results[index].lock().expect("no worker panicked") = Some(output);
            });
        }
    });
    results
        .into_iter()
        .map(|result| result.into_inner().expect("no worker panicked").expect("every input was processed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{mix64, Exploration, Search};

    /// Three counters that each step up to `top`; many states have several parents, and with
    /// `symmetry` the counters are interchangeable, so a state's representative depends on which
    /// parent reached it first.
    struct Cube {
        top: u8,
        symmetry: bool,
    }

    impl Model for Cube {
        type State = [u8; 3];
        type Action = usize;

        fn init_states(&self) -> Vec<[u8; 3]> {
            vec![[0, 0, 0], [1, 0, 0]]
        }
        fn actions(&self, state: &[u8; 3], out: &mut Vec<usize>) {
            out.extend((0..3).filter(|&axis| state[axis] < self.top));
            out.push(3);
        }
        fn next_state(&self, state: &[u8; 3], action: &usize) -> Option<[u8; 3]> {
            let mut next = *state;
            match *action {
                3 => return None,
                axis => next[axis] += 1,
            }
            Some(next)
        }
        fn fingerprint(&self, state: &[u8; 3]) -> u64 {
            let mut key = *state;
            if self.symmetry {
                key.sort_unstable();
            }
            mix64(u64::from(key[0]) | u64::from(key[1]) << 8 | u64::from(key[2]) << 16)
        }
        fn properties(&self) -> Vec<&'static str> {
            vec!["sum below 7", "not x and y at the top"]
        }
        fn check(&self, state: &[u8; 3], out: &mut Vec<(usize, String)>) {
            let sum: u8 = state.iter().sum();
            if sum >= 7 {
                out.push((0, format!("sum {sum}")));
            }
            if state[0] == self.top && state[1] == self.top {
                out.push((1, "x and y at the top".into()));
            }
        }
        fn terminal_failure(&self, state: &[u8; 3]) -> Option<String> {
            Some(format!("stuck at {state:?}"))
        }
    }

    fn sequential(model: &Cube, options: &Options) -> Report<usize> {
        let mut run = Exploration::new(model, Options { threads: 1, ..options.clone() }).unwrap();
        while !run.step(5).done {}
        run.report()
    }

    #[test]
    fn every_thread_count_and_cut_gives_the_single_threaded_report() {
        let variants = [
            Options::default(),
            Options { stop_at_first: true, ..Options::default() },
            Options { max_states: Some(1), ..Options::default() },
            Options { max_states: Some(40), ..Options::default() },
            Options { max_states: Some(150), ..Options::default() },
            Options { max_depth: Some(4), ..Options::default() },
            Options { max_depth: Some(20), ..Options::default() },
        ];
        let tunings = [Tuning { small_level: 1, min_chunk: 1 }, Tuning { small_level: 8, min_chunk: 3 }, TUNING];
        for top in [2, 5] {
            for symmetry in [false, true] {
                let model = Cube { top, symmetry };
                for options in &variants {
                    let expected = sequential(&model, options);
                    for threads in [2, 3, 4] {
                        for tuning in tunings {
                            let options = Options { threads, ..options.clone() };
                            let mut report = explore_tuned(&model, options, &mut |_| {}, tuning);
                            assert_eq!(report.threads, threads);
                            report.threads = 1;
                            report.memory = expected.memory;
                            assert_eq!(report, expected, "top {top}, symmetry {symmetry}, {threads} threads, {tuning:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_full_search_of_the_cube_finds_everything() {
        let report = sequential(&Cube { top: 5, symmetry: false }, &Options::default());
        assert_eq!(report.states, 216);
        assert_eq!(report.stop_reason, Some(StopReason::AllViolated));
        // The liveness failure is the last thing found: the corner, 15 steps from [0, 0, 0] and
        // 14 from [1, 0, 0].
        assert_eq!(report.liveness.counterexample.as_ref().map(|c| c.depth), Some(14));
        assert_eq!(report.properties[0].counterexample.as_ref().map(|c| c.depth), Some(6));
        assert_eq!(report.search, Search::BreadthFirst);
    }

    #[test]
    fn a_stop_during_a_parallel_level_rolls_it_back() {
        let model = Cube { top: 40, symmetry: false };
        let options = Options { threads: 2, progress_every: 1, ..Options::default() };
        let stop = options.stop.clone();
        let mut levels = 0;
        let report = explore_tuned(
            &model,
            options,
            &mut |_| {
                levels += 1;
                if levels == 10 {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            Tuning { small_level: 1, min_chunk: 1 },
        );
        assert_eq!(report.stop_reason, Some(StopReason::StopRequested));
        assert!(!report.complete);
        assert!(report.states < 41 * 41 * 41);
    }
}
