//! Simulated events per second on the busy workload (single nodes and Raft groups), and the memory
//! a 100,000-event run holds.
//!
//! Run with `cargo bench -p commitlab-sim --bench events`. It measures; nothing here asserts.

use commitlab_sim::{preset, Scenario, Simulation, TraceEntry, World};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Counts the bytes currently allocated, to measure what a run keeps in memory.
struct CountingAllocator;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(pointer, layout) }
    }
    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(pointer, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

fn busy() -> Scenario {
    (preset("busy").expect("the busy preset").build)()
}

/// The busy preset stretched to about 100,000 events.
fn busy_100k() -> Scenario {
    let mut scenario = busy();
    if let Some(random) = &mut scenario.workload.random {
        random.count = 6_600;
    }
    scenario.end_ms = 60_000;
    scenario
}

fn main() {
    report_memory();
    divan::main();
}

fn report_memory() {
    let scenario = Arc::new(busy_100k());
    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut world = World::new(scenario.clone());
    let mut trace: Vec<TraceEntry> = Vec::new();
    while world.step(&mut trace) {}
    trace.shrink_to_fit();
    let world_and_trace = LIVE_BYTES.load(Ordering::Relaxed) - before;
    let steps = world.steps();
    let entries = trace.len();
    drop(trace);
    let world_only = LIVE_BYTES.load(Ordering::Relaxed) - before;
    drop(world);

    let before = LIVE_BYTES.load(Ordering::Relaxed);
    let mut simulation = Simulation::new((*scenario).clone()).expect("valid");
    simulation.run_to_end();
    let with_checkpoints = LIVE_BYTES.load(Ordering::Relaxed) - before;
    drop(simulation);

    let megabytes = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    println!("memory of a {steps}-event busy run ({entries} trace entries):");
    println!("  trace alone:                     {:7.1} MB", megabytes(world_and_trace - world_only));
    println!("  world at the end:                {:7.1} MB", megabytes(world_only));
    println!("  whole simulation with checkpoints: {:5.1} MB", megabytes(with_checkpoints));
}

/// The busy preset (300 transfers, about 4,600 events) from start to finish; the counter reports
/// events (world steps) per second.
#[divan::bench(sample_count = 30)]
fn busy_run(bencher: divan::Bencher) {
    bench_world_run(bencher, busy());
}

/// The busy workload over Raft groups of three (about 11,800 events: heartbeats, elections and
/// the 2PC records' replication included), from start to finish.
#[divan::bench(sample_count = 20)]
fn raft_busy_run(bencher: divan::Bencher) {
    bench_world_run(bencher, (preset("raft-busy").expect("the raft-busy preset").build)());
}

/// The busy workload over Multi-Paxos groups of three, from start to finish.
#[divan::bench(sample_count = 20)]
fn paxos_busy_run(bencher: divan::Bencher) {
    bench_world_run(bencher, (preset("paxos-busy").expect("the paxos-busy preset").build)());
}

/// Runs `scenario` with the `World` alone, start to finish; the counter reports events per second.
fn bench_world_run(bencher: divan::Bencher, scenario: Scenario) {
    let scenario = Arc::new(scenario);
    let steps = {
        let mut world = World::new(scenario.clone());
        while world.step(&mut Vec::new()) {}
        world.steps()
    };
    bencher.counter(divan::counter::ItemsCount::new(steps)).bench(|| {
        let mut world = World::new(scenario.clone());
        let mut trace = Vec::new();
        while world.step(&mut trace) {}
        divan::black_box(trace.len())
    });
}

/// The same through the Simulation API the page uses (checkpoints included).
#[divan::bench(sample_count = 30)]
fn busy_simulation(bencher: divan::Bencher) {
    let scenario = busy();
    let steps = {
        let mut simulation = Simulation::new(scenario.clone()).expect("valid");
        simulation.run_to_end();
        simulation.total_steps()
    };
    bencher.counter(divan::counter::ItemsCount::new(steps)).bench(|| {
        let mut simulation = Simulation::new(scenario.clone()).expect("valid");
        simulation.run_to_end();
        divan::black_box(simulation.total_steps())
    });
}

/// Seeking to the middle of a 100,000-event run that is already computed.
#[divan::bench(sample_count = 20)]
fn seek_in_100k_run(bencher: divan::Bencher) {
    let mut simulation = Simulation::new(busy_100k()).expect("valid");
    simulation.run_to_end();
    let middle = simulation.total_steps() / 2 + 517;
    bencher.bench_local(|| {
        simulation.seek_step(0);
        simulation.seek_step(middle);
        divan::black_box(simulation.now_ms())
    });
}
