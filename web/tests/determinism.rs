//! Determinism across platforms: every preset run in WebAssembly, in the browser, gives the same
//! trace hash as the native run pinned in `tests/scenarios/presets/*.trace`.
#![cfg(target_arch = "wasm32")]

use commitlab_sim::{Simulation, PRESETS};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The pinned native runs, compiled in.
const PINNED: [(&str, &str); 58] = [
    ("happy-path", include_str!("../../tests/scenarios/presets/happy-path.trace")),
    ("vote-no", include_str!("../../tests/scenarios/presets/vote-no.trace")),
    ("lock-conflict", include_str!("../../tests/scenarios/presets/lock-conflict.trace")),
    (
        "participant-crash-before-vote",
        include_str!("../../tests/scenarios/presets/participant-crash-before-vote.trace"),
    ),
    ("participant-crash-after-yes", include_str!("../../tests/scenarios/presets/participant-crash-after-yes.trace")),
    (
        "coordinator-crash-before-prepare",
        include_str!("../../tests/scenarios/presets/coordinator-crash-before-prepare.trace"),
    ),
    (
        "coordinator-crash-after-prepare",
        include_str!("../../tests/scenarios/presets/coordinator-crash-after-prepare.trace"),
    ),
    (
        "coordinator-crash-after-commit",
        include_str!("../../tests/scenarios/presets/coordinator-crash-after-commit.trace"),
    ),
    ("lost-commit", include_str!("../../tests/scenarios/presets/lost-commit.trace")),
    ("partition-during-voting", include_str!("../../tests/scenarios/presets/partition-during-voting.trace")),
    ("three-participants", include_str!("../../tests/scenarios/presets/three-participants.trace")),
    ("deferred-writes", include_str!("../../tests/scenarios/presets/deferred-writes.trace")),
    ("duplicate-request", include_str!("../../tests/scenarios/presets/duplicate-request.trace")),
    ("busy", include_str!("../../tests/scenarios/presets/busy.trace")),
    ("bug-vote-before-wal", include_str!("../../tests/scenarios/presets/bug-vote-before-wal.trace")),
    ("bug-commit-before-log", include_str!("../../tests/scenarios/presets/bug-commit-before-log.trace")),
    ("raft-seed-002", include_str!("../../tests/scenarios/presets/raft-seed-002.trace")),
    (
        "raft-coordinator-leader-crash",
        include_str!("../../tests/scenarios/presets/raft-coordinator-leader-crash.trace"),
    ),
    (
        "raft-participant-leader-crash",
        include_str!("../../tests/scenarios/presets/raft-participant-leader-crash.trace"),
    ),
    (
        "raft-leader-crash-during-commit",
        include_str!("../../tests/scenarios/presets/raft-leader-crash-during-commit.trace"),
    ),
    ("raft-leader-discovery", include_str!("../../tests/scenarios/presets/raft-leader-discovery.trace")),
    ("raft-bug-static-leader", include_str!("../../tests/scenarios/presets/raft-bug-static-leader.trace")),
    ("raft-stale-leader", include_str!("../../tests/scenarios/presets/raft-stale-leader.trace")),
    ("raft-split-vote", include_str!("../../tests/scenarios/presets/raft-split-vote.trace")),
    ("raft-follower-crash", include_str!("../../tests/scenarios/presets/raft-follower-crash.trace")),
    ("raft-majority-lost", include_str!("../../tests/scenarios/presets/raft-majority-lost.trace")),
    (
        "raft-bug-vote-without-log-check",
        include_str!("../../tests/scenarios/presets/raft-bug-vote-without-log-check.trace"),
    ),
    (
        "raft-bug-commit-old-term-by-count",
        include_str!("../../tests/scenarios/presets/raft-bug-commit-old-term-by-count.trace"),
    ),
    ("raft-busy", include_str!("../../tests/scenarios/presets/raft-busy.trace")),
    ("paxos-seed-002", include_str!("../../tests/scenarios/presets/paxos-seed-002.trace")),
    (
        "paxos-coordinator-leader-crash",
        include_str!("../../tests/scenarios/presets/paxos-coordinator-leader-crash.trace"),
    ),
    (
        "paxos-participant-leader-crash",
        include_str!("../../tests/scenarios/presets/paxos-participant-leader-crash.trace"),
    ),
    (
        "paxos-leader-crash-during-commit",
        include_str!("../../tests/scenarios/presets/paxos-leader-crash-during-commit.trace"),
    ),
    ("paxos-leader-discovery", include_str!("../../tests/scenarios/presets/paxos-leader-discovery.trace")),
    ("paxos-bug-static-leader", include_str!("../../tests/scenarios/presets/paxos-bug-static-leader.trace")),
    ("paxos-stale-leader", include_str!("../../tests/scenarios/presets/paxos-stale-leader.trace")),
    ("paxos-follower-crash", include_str!("../../tests/scenarios/presets/paxos-follower-crash.trace")),
    ("paxos-majority-lost", include_str!("../../tests/scenarios/presets/paxos-majority-lost.trace")),
    (
        "paxos-bug-commit-before-quorum",
        include_str!("../../tests/scenarios/presets/paxos-bug-commit-before-quorum.trace"),
    ),
    ("paxos-bug-update-in-place", include_str!("../../tests/scenarios/presets/paxos-bug-update-in-place.trace")),
    ("paxos-busy", include_str!("../../tests/scenarios/presets/paxos-busy.trace")),
    (
        "participant-crash-before-prepare-durable",
        include_str!("../../tests/scenarios/presets/participant-crash-before-prepare-durable.trace"),
    ),
    (
        "participant-crash-before-outcome-durable",
        include_str!("../../tests/scenarios/presets/participant-crash-before-outcome-durable.trace"),
    ),
    (
        "coordinator-crash-during-commit-broadcast",
        include_str!("../../tests/scenarios/presets/coordinator-crash-during-commit-broadcast.trace"),
    ),
    (
        "coordinator-crash-before-commit-durable",
        include_str!("../../tests/scenarios/presets/coordinator-crash-before-commit-durable.trace"),
    ),
    ("lost-ack", include_str!("../../tests/scenarios/presets/lost-ack.trace")),
    ("vulnerability-window", include_str!("../../tests/scenarios/presets/vulnerability-window.trace")),
    ("third-participant-votes-no", include_str!("../../tests/scenarios/presets/third-participant-votes-no.trace")),
    ("partition-during-commit", include_str!("../../tests/scenarios/presets/partition-during-commit.trace")),
    ("abort-overtakes-prepare", include_str!("../../tests/scenarios/presets/abort-overtakes-prepare.trace")),
    ("late-duplicate-prepare", include_str!("../../tests/scenarios/presets/late-duplicate-prepare.trace")),
    ("bug-ignore-locks", include_str!("../../tests/scenarios/presets/bug-ignore-locks.trace")),
    ("bug-commit-on-vote-timeout", include_str!("../../tests/scenarios/presets/bug-commit-on-vote-timeout.trace")),
    ("bug-reply-before-log", include_str!("../../tests/scenarios/presets/bug-reply-before-log.trace")),
    ("saga-completes", include_str!("../../tests/scenarios/presets/saga-completes.trace")),
    ("saga-compensates", include_str!("../../tests/scenarios/presets/saga-compensates.trace")),
    ("saga-half-done-visible", include_str!("../../tests/scenarios/presets/saga-half-done-visible.trace")),
    ("saga-no-blocking", include_str!("../../tests/scenarios/presets/saga-no-blocking.trace")),
];

fn pinned_hash(trace: &str) -> &str {
    let line =
        trace.lines().find(|line| line.starts_with("## trace hash ")).expect("a pinned trace ends with its hash");
    line["## trace hash ".len()..].split(',').next().expect("the hash")
}

#[wasm_bindgen_test]
fn every_preset_hashes_in_wasm_as_it_does_natively() {
    assert_eq!(PINNED.len(), PRESETS.len(), "a preset was added: pin it here too");
    for (name, trace) in PINNED {
        let preset = commitlab_sim::preset(name).unwrap_or_else(|| panic!("no preset {name}"));
        let mut simulation = Simulation::new((preset.build)()).expect("valid preset");
        simulation.run_to_end();
        assert_eq!(format!("{:016x}", simulation.trace_hash()), pinned_hash(trace), "{name} runs differently in wasm");
    }
}
