//! The multi-threaded breadth-first search (native only).
//!
//! It reproduces the single-threaded search exactly, so counts, counterexamples and their lengths
//! never depend on the number of threads. The single-threaded search pops states from the front
//! of the frontier, and a successor that is new when its parent is expanded is recorded with that
//! parent and appended to the back: first discovery wins. This search does the same a batch of
//! states at a time:
//!
//! 1. **Expand.** The batch (the front of the frontier, in order) is cut into contiguous chunks
//!    that threads expand in parallel, writing nothing shared. Each successor not visited in an
//!    earlier batch (the table is only read here) becomes a candidate
//!    in its chunk's bucket for the visited-table shard its fingerprint belongs to, and the chunk
//!    remembers the shard of each candidate in order.
//! 2. **Merge.** Each thread owns whole shards and inserts their candidates chunk by chunk, in
//!    order. Within a shard that is the single-threaded order, so the same candidate wins. A
//!    shard is a fraction of the table, so this phase mostly hits the cache: the candidates of a
//!    batch are, in effect, sorted by shard before they are looked up.
//! 3. **Collect.** Per chunk, the winners are taken in order (following the remembered shard
//!    sequence), checked against the properties and appended to the frontier, in the
//!    single-threaded order again.
//!
//! Batches bound the memory of candidates. A batch that would end the search (`max_states`
//! reached, or the last missing counterexample found) matters for where exactly it stops: it is
//! rolled back and redone by the single-threaded search, which then stops at the same point as it
//! would on its own.

use crate::engine::{successors, Core, Exploration, Node, STOP_CHECK_EVERY};
use crate::options::Options;
use crate::report::{Progress, Report, StopReason};
use crate::visited::{insert_new, Origin, Shard, Visited, INITIAL};
use crate::Model;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// How the frontier is cut up for the threads.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    /// While the frontier is smaller than this, the single-threaded search expands it: spawning
    /// threads would cost more.
    small_frontier: usize,
    /// The most states expanded in one batch, per thread.
    batch_per_thread: usize,
    /// The least number of states in a chunk.
    min_chunk: usize,
}

const TUNING: Tuning = Tuning { small_frontier: 4096, batch_per_thread: 16_384, min_chunk: 1024 };
/// For models whose states are large (see [`Model::large_states`]): small batches, so the
/// successors held at once stay few (a batch holds every successor of its states until the merge).
const LARGE_STATES: Tuning = Tuning { small_frontier: 64, batch_per_thread: 256, min_chunk: 16 };
/// Chunks per thread, so that a thread that finishes early takes another.
const CHUNKS_PER_THREAD: usize = 8;
/// Visited shards per thread: a few, so merging spreads evenly, but not more, since every shard
/// is one more stream of candidates to write during expansion (measured: 4 beats 2 and 16).
const SHARDS_PER_THREAD: usize = 4;
/// A candidate's `action` once another candidate (or an earlier state) took its fingerprint.
const LOST: u32 = INITIAL;

/// A successor found in a batch; 24 bytes plus the state's padding.
struct Candidate<S> {
    fingerprint: u64,
    state: S,
    /// The parent's index in its chunk.
    parent: u32,
    /// The index of the action in the parent's `actions()`, or [`LOST`].
    action: u32,
}

/// Candidates bucket by bucket: per shard for a chunk, or per chunk for a shard.
type Buckets<S> = Vec<Vec<Candidate<S>>>;

/// What expanding one chunk produced.
struct Expanded<S> {
    /// Candidates per visited shard, each bucket in discovery order.
    buckets: Buckets<S>,
    /// The shard of every candidate, in discovery order.
    order: Vec<u16>,
    edges: u64,
    depth_limited: bool,
    /// The chunk's first terminal state that the model calls a liveness failure.
    terminal: Option<(u64, u32, String)>,
    stopped: bool,
}

/// A first violation in a chunk: fingerprint, depth, detail.
type Violation = Option<(u64, u32, String)>;

/// The winners of one chunk, in discovery order.
struct Collected<S> {
    nodes: Vec<Node<S>>,
    /// Per property, the chunk's first violation.
    violations: Vec<Violation>,
}

enum BatchOutcome<S> {
    Committed,
    /// The batch would end the search somewhere inside: redo it single-threaded.
    Redo(Vec<Node<S>>),
    Stopped(Vec<Node<S>>),
}

pub(crate) fn explore<M: Model>(
    model: &M,
    options: Options,
    on_progress: &mut dyn FnMut(Progress),
) -> Report<M::Action> {
    let tuning = if model.large_states() { LARGE_STATES } else { TUNING };
    explore_tuned(model, options, on_progress, tuning)
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
    let batch_len = threads * tuning.batch_per_thread;
    let mut run = Exploration::with_shards(model, options, shard_count);
    let mut last_reported = 0;
    while !run.is_done() {
        let queued = run.core.frontier.len();
        let core = &mut run.core;
        if queued < tuning.small_frontier {
            run.step(queued.max(1));
        } else if core.options.stop.load(Ordering::Relaxed) {
            core.stop_reason = Some(StopReason::StopRequested);
        } else {
            let batch: Vec<Node<M::State>> = core.frontier.drain(..batch_len.min(core.frontier.len())).collect();
            match run_batch(model, core, batch, threads, tuning) {
                BatchOutcome::Committed => {}
                BatchOutcome::Stopped(batch) => {
                    put_back(core, batch);
                    core.stop_reason = Some(StopReason::StopRequested);
                }
                BatchOutcome::Redo(batch) => {
                    put_back(core, batch);
                    let slice = usize::try_from(progress_every).unwrap_or(usize::MAX);
                    while !run.step(slice).done {
                        on_progress(run.progress());
                    }
                }
            }
        }
        if run.core.states - last_reported >= progress_every && !run.is_done() {
            last_reported = run.core.states;
            on_progress(run.progress());
        }
    }
    on_progress(run.progress());
    run.report()
}

/// Returns an unexpanded batch to the front of the frontier, in order.
fn put_back<S>(core: &mut Core<S>, batch: Vec<Node<S>>) {
    for node in batch.into_iter().rev() {
        core.frontier.push_front(node);
    }
}

fn run_batch<M: Model>(
    model: &M,
    core: &mut Core<M::State>,
    batch: Vec<Node<M::State>>,
    threads: usize,
    tuning: Tuning,
) -> BatchOutcome<M::State> {
    let chunk_count = (threads * CHUNKS_PER_THREAD).min(batch.len() / tuning.min_chunk).max(1);
    let chunk_len = batch.len().div_ceil(chunk_count);
    let chunks: Vec<&[Node<M::State>]> = batch.chunks(chunk_len).collect();
    let shard_count = core.visited.shards.len();

    let max_depth = core.options.max_depth;
    let stop = &*core.options.stop;
    let visited = &core.visited;
    let expanded = parallel_map(threads, chunks.clone(), |chunk| {
        expand_chunk(model, chunk, shard_count, visited, max_depth, stop)
    });
    if expanded.iter().any(|chunk| chunk.stopped) {
        return BatchOutcome::Stopped(batch);
    }

    let mut orders = Vec::with_capacity(expanded.len());
    let mut per_shard: Vec<Buckets<M::State>> = (0..shard_count).map(|_| Vec::with_capacity(expanded.len())).collect();
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

    let merge_inputs: Vec<(&mut Shard, Buckets<M::State>)> = core.visited.shards.iter_mut().zip(per_shard).collect();
    let merged = parallel_map(threads, merge_inputs, |(shard, mut buckets)| {
        for (chunk, bucket) in chunks.iter().zip(&mut buckets) {
            for candidate in bucket {
                let parent = &chunk[candidate.parent as usize];
                let origin = Origin { parent: parent.fingerprint, action: candidate.action, depth: parent.depth + 1 };
                if !insert_new(shard, candidate.fingerprint, origin) {
                    candidate.action = LOST;
                }
            }
        }
        buckets
    });

    let mut per_chunk: Vec<Buckets<M::State>> = (0..orders.len()).map(|_| Vec::with_capacity(shard_count)).collect();
    for buckets in merged {
        for (chunk, bucket) in buckets.into_iter().enumerate() {
            per_chunk[chunk].push(bucket);
        }
    }
    let property_count = core.found.len() - 1;
    let collect_inputs: Vec<_> = chunks.iter().zip(per_chunk).zip(orders).collect();
    let collected = parallel_map(threads, collect_inputs, |((chunk, buckets), order)| {
        collect_winners(model, chunk, buckets, &order, property_count)
    });

    let node_bytes = std::mem::size_of::<Node<M::State>>();
    let new_states: usize = collected.iter().map(|chunk| chunk.nodes.len()).sum();
    let held = (batch.len() + new_states) * node_bytes
        + candidates * (std::mem::size_of::<Candidate<M::State>>() + std::mem::size_of::<u16>());
    core.parallel_peak_bytes = core.parallel_peak_bytes.max(held as u64);

    let first_violations: Vec<Violation> = (0..property_count)
        .map(|property| collected.iter().find_map(|chunk| chunk.violations[property].clone()))
        .collect();
    let new_slots = first_violations
        .iter()
        .enumerate()
        .filter(|(property, violation)| violation.is_some() && core.found[*property].is_none())
        .count()
        + usize::from(terminal.is_some() && core.found[property_count].is_none());
    let reaches_max = core.options.max_states.is_some_and(|max| core.states + new_states as u64 >= max);
    if reaches_max || core.would_settle(new_slots) {
        for node in collected.iter().flat_map(|chunk| &chunk.nodes) {
            core.visited.remove(node.fingerprint);
        }
        return BatchOutcome::Redo(batch);
    }

    core.states += new_states as u64;
    core.edges += edges;
    core.depth_limited |= depth_limited;
    if let Some((fingerprint, depth, detail)) = terminal {
        core.record_liveness(fingerprint, depth, detail);
    }
    for (property, violation) in first_violations.into_iter().enumerate() {
        if let Some((fingerprint, depth, detail)) = violation {
            core.record_violation(property, fingerprint, depth, detail);
        }
    }
    for node in collected.into_iter().flat_map(|chunk| chunk.nodes) {
        core.max_depth = core.max_depth.max(node.depth);
        core.frontier.push_back(node);
    }
    BatchOutcome::Committed
}

/// The expansion of [`Exploration`]'s `expand`, without reading or writing anything shared.
fn expand_chunk<M: Model>(
    model: &M,
    nodes: &[Node<M::State>],
    shard_count: usize,
    visited: &Visited,
    max_depth: Option<u32>,
    stop: &AtomicBool,
) -> Expanded<M::State> {
    let mut out = Expanded {
        buckets: (0..shard_count).map(|_| Vec::new()).collect(),
        order: Vec::new(),
        edges: 0,
        depth_limited: false,
        terminal: None,
        stopped: false,
    };
    let mut actions = Vec::new();
    for (parent, node) in (0u32..).zip(nodes) {
        if parent as usize % STOP_CHECK_EVERY == 0 && stop.load(Ordering::Relaxed) {
            out.stopped = true;
            break;
        }
        let at_limit = max_depth.is_some_and(|limit| node.depth >= limit);
        let expansion = successors(model, node, &mut actions, at_limit, |action, next, fingerprint| {
            // Visited in an earlier batch: it would lose the merge anyway. Not keeping it is what
            // bounds a batch's memory when states are large (a whole simulated world each).
            if visited.get(fingerprint).is_none() {
                let shard = visited.shard_of(fingerprint);
                out.order.push(shard as u16);
                out.buckets[shard].push(Candidate { fingerprint, state: next, parent, action });
            }
            true
        });
        out.edges += expansion.edges;
        out.depth_limited |= expansion.depth_limited;
        if !expansion.moved && out.terminal.is_none() {
            if let Some(detail) = model.terminal_failure(&node.state) {
                out.terminal = Some((node.fingerprint, node.depth, detail));
            }
        }
    }
    out
}

fn collect_winners<M: Model>(
    model: &M,
    chunk: &[Node<M::State>],
    buckets: Buckets<M::State>,
    order: &[u16],
    property_count: usize,
) -> Collected<M::State> {
    let mut buckets: Vec<_> = buckets.into_iter().map(Vec::into_iter).collect();
    let mut out = Collected { nodes: Vec::new(), violations: vec![None; property_count] };
    let mut violations = Vec::new();
    for &shard in order {
        let candidate = buckets[usize::from(shard)].next().expect("every candidate in the order is in its bucket");
        if candidate.action == LOST {
            continue;
        }
        let depth = chunk[candidate.parent as usize].depth + 1;
        violations.clear();
        model.check(&candidate.state, &mut violations);
        for (property, detail) in violations.drain(..) {
            assert!(
                property < property_count,
                "Model::check reported property {property}, but properties() names only {property_count}"
            );
            if out.violations[property].is_none() {
                out.violations[property] = Some((candidate.fingerprint, depth, detail));
            }
        }
        out.nodes.push(Node { state: candidate.state, fingerprint: candidate.fingerprint, depth });
    }
    out
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
        let tunings = [
            Tuning { small_frontier: 1, batch_per_thread: 1, min_chunk: 1 },
            Tuning { small_frontier: 1, batch_per_thread: 7, min_chunk: 2 },
            Tuning { small_frontier: 8, batch_per_thread: 50, min_chunk: 3 },
            TUNING,
        ];
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
                            assert_eq!(
                                report, expected,
                                "top {top}, symmetry {symmetry}, {threads} threads, {tuning:?}"
                            );
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
    fn a_stop_during_a_parallel_batch_puts_it_back() {
        let model = Cube { top: 40, symmetry: false };
        let options = Options { threads: 2, progress_every: 1, ..Options::default() };
        let stop = options.stop.clone();
        let mut calls = 0;
        let report = explore_tuned(
            &model,
            options,
            &mut |_| {
                calls += 1;
                if calls == 10 {
                    stop.store(true, Ordering::Relaxed);
                }
            },
            Tuning { small_frontier: 1, batch_per_thread: 4, min_chunk: 1 },
        );
        assert_eq!(report.stop_reason, Some(StopReason::StopRequested));
        assert!(!report.complete);
        assert!(report.states < 41 * 41 * 41);
    }
}
