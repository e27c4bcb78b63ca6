//! The `commitlab` binary: output and exit status.

use std::process::Command;

fn commitlab(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_commitlab")).args(args).output().expect("commitlab runs");
    (
        output.status.code().expect("exit code"),
        String::from_utf8(output.stdout).expect("utf-8"),
        String::from_utf8(output.stderr).expect("utf-8"),
    )
}

#[test]
fn lists_every_preset() {
    let (code, out, _) = commitlab(&["presets"]);
    assert_eq!(code, 0);
    for preset in commitlab_sim::PRESETS {
        assert!(out.contains(preset.name), "{} missing from:\n{out}", preset.name);
    }
}

#[test]
fn runs_the_default_transfer_with_the_seeds_descriptions() {
    let (code, out, _) = commitlab(&["run", "happy-path"]);
    assert_eq!(code, 0, "{out}");
    // Seed 002's phase 0: n1 locks, changes and logs 1001 before PREPARE goes out, to n4 only.
    let lock = out.find("n1 lock 1001 taken by t1").expect("n1 locks 1001");
    let prepare = out.find("send m2 n1 -> n4 Prepare t1").expect("PREPARE goes to n4");
    assert!(lock < prepare, "{out}");
    assert!(!out.contains("n1 -> n1 Prepare"), "no PREPARE to the coordinator's own shard: {out}");
    assert!(out.contains("n1 WAL Commit(t1)"));
    assert!(out.contains("balances: 1001=90 1002=100"));
    assert!(out.contains("balances: 3001=60 3002=50"));
    assert!(out.contains("ok        atomicity"));
}

#[test]
fn until_stops_the_cursor_and_shows_the_in_doubt_participants() {
    let (code, out, _) = commitlab(&["run", "coordinator-crash-after-prepare", "--until", "800"]);
    assert_eq!(code, 0);
    assert!(out.contains("in doubt (blocked):"), "{out}");
    assert!(out.contains("n4 t1 for 777 ms (since 23 ms), holding 3001"), "{out}");
    assert!(!out.contains("RESTART n10"), "the restart at 1500 ms is past the cursor");
}

#[test]
fn a_violation_exits_with_1() {
    let (code, out, _) = commitlab(&["run", "bug-commit-before-log"]);
    assert_eq!(code, 1);
    assert!(out.contains("VIOLATED  atomicity"), "{out}");
}

#[test]
fn json_and_mermaid_formats() {
    let (code, out, _) = commitlab(&["run", "happy-path", "--format", "json"]);
    assert_eq!(code, 0);
    let value: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(value["steps"], 17);
    assert_eq!(value["trace"][0]["text"], "send m1 client -> n1 Request r1 1001->3001:10 (due 14 ms)");
    let (code, out, _) = commitlab(&["run", "happy-path", "--format", "mermaid"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("sequenceDiagram\n"));
    assert!(out.contains("    n1->>n4: Prepare t1\n"), "{out}");
}

#[test]
fn scenario_files_round_trip_through_the_command_line() {
    let (code, json, _) = commitlab(&["scenario", "lost-commit"]);
    assert_eq!(code, 0);
    let path = std::env::temp_dir().join(format!("commitlab-cli-test-{}.json", std::process::id()));
    std::fs::write(&path, &json).expect("write temp file");
    let (code, from_file, _) = commitlab(&["run", path.to_str().expect("utf-8 path")]);
    let (_, from_preset, _) = commitlab(&["run", "lost-commit"]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 0);
    assert_eq!(from_file, from_preset);
}

#[test]
fn invalid_input_exits_with_2_and_says_what_is_wrong() {
    let (code, _, err) = commitlab(&["run", "no-such-preset"]);
    assert_eq!(code, 2);
    assert!(err.contains("no preset named `no-such-preset`"), "{err}");
    let (code, _, err) = commitlab(&["run", "happy-path", "--format", "yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("`yaml` is not one of text, json, mermaid"), "{err}");
    let (code, _, err) = commitlab(&["run", "/nonexistent/scenario.json"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read /nonexistent/scenario.json"), "{err}");
    let path = std::env::temp_dir().join(format!("commitlab-cli-bad-{}.json", std::process::id()));
    std::fs::write(
        &path,
        r#"{"version":1,"topology":{"shards":[{"accounts":{"1":5}}]},"faults":[{"at_ms":1,"fault":{"crash":"n9"}}]}"#,
    )
    .expect("write temp file");
    let (code, _, err) = commitlab(&["run", path.to_str().expect("utf-8 path")]);
    std::fs::remove_file(&path).ok();
    assert_eq!(code, 2);
    assert!(err.contains("faults[0].fault: there is no node n9"), "{err}");
    let (code, _, err) = commitlab(&["frobnicate"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown command"));
}

#[test]
fn stats_measure_a_scenario_over_many_seeds() {
    let (code, out, err) = commitlab(&["stats", "raft-coordinator-leader-crash", "--seeds", "20"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("# raft-coordinator-leader-crash: 20 runs, seeds 1 to 20"), "{out}");
    assert!(out.contains("time in doubt per participant"), "{out}");
    assert!(out.contains("  per crash    n=20 "), "one leader crash per run: {out}");
    assert!(out.contains("  committed    n=20 "), "{out}");
    let (code, out, _) = commitlab(&["stats", "raft-split-vote", "--seeds", "5", "--election-ms", "150-300"]);
    assert_eq!(code, 0);
    assert!(out.contains("# election timeouts 150-300 ms"), "{out}");
}

#[test]
fn stats_refuse_bad_options_with_a_message() {
    for (args, expected) in [
        (vec!["stats", "raft-seed-002", "--seeds", "0"], "--seeds: `0`"),
        (vec!["stats", "raft-seed-002", "--election-ms", "300"], "not a range"),
        (vec!["stats", "raft-seed-002", "--election-ms", "300-150"], "upside down"),
        (vec!["stats"], "stats of what?"),
    ] {
        let (code, _, err) = commitlab(&args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
}

#[test]
fn a_replicated_run_exports_to_mermaid_in_seed_002s_shape() {
    let (code, out, _) = commitlab(&["run", "raft-seed-002", "--format", "mermaid"]);
    assert_eq!(code, 0);
    assert!(out.contains("participant C2 as C2 (n4, n5, n6)"), "one participant per group:\n{out}");
    assert!(out.contains("C1->>C2: n1: Prepare t1"), "2PC arrows go group to group, naming the sender:\n{out}");
    assert!(out.contains("n1 replicated [2] Prepared(t1, n1, n4)"), "replication rounds as notes:\n{out}");
    assert!(out.contains("n4 leads C2 in term 1"), "{out}");
    assert!(!out.contains("AppendEntries") && !out.contains("PreVote"), "Raft messages stay inside:\n{out}");
}

#[cfg(unix)]
#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_commitlab"))
        .args(["run", "busy"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("commitlab runs");
    let mut first = [0u8; 16];
    child.stdout.take().expect("piped").read_exact(&mut first).expect("some output");
    // The reader is gone (its end of the pipe dropped): the writer must stop without a panic.
    let output = child.wait_with_output().expect("commitlab ends");
    let stderr = String::from_utf8(output.stderr).expect("utf-8");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn compare_prints_the_runs_side_by_side() {
    let (code, out, err) = commitlab(&["compare", "happy-path", "raft-seed-002", "paxos-seed-002"]);
    assert_eq!(code, 0, "{err}");
    let row = |label: &str| -> Vec<String> {
        let line =
            out.lines().find(|line| line.trim_start().starts_with(label)).unwrap_or_else(|| panic!("{label}: {out}"));
        line[label.len() + line.find(label).unwrap()..].split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(row("engine"), ["single", "node", "Raft", "Multi-Paxos"]);
    assert_eq!(row("delays to decision"), ["3", "7", "7"]);
    assert_eq!(row("PaxosCommit"), ["0", "0", "14"], "{out}");
    let (code, _, err) = commitlab(&["compare", "happy-path"]);
    assert_eq!(code, 2);
    assert!(err.contains("one named comparison (seed-002-single-vs-raft"), "{err}");
    let (code, out, err) = commitlab(&["compare", "coordinator-crash-single-vs-raft"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.lines().any(|line| line.starts_with("t1") && line.contains("ABORT") && line.contains("COMMIT")),
        "{out}"
    );
    let (code, _, err) = commitlab(&["compare", "#c=1.abc~1.def"]);
    assert_eq!(code, 2);
    assert!(err.contains("not in the form #c=<run A>~<run B>~<time in ms>"), "{err}");
    let (code, _, err) = commitlab(&["compare", "happy-path", "no-such-preset"]);
    assert_eq!(code, 2);
    assert!(err.contains("no preset named `no-such-preset`"), "{err}");
}

#[test]
fn run_replays_a_share_link_as_url_fragment_or_bare_data() {
    let (_, expected, _) = commitlab(&["run", "lost-commit"]);
    let (code, fragment, _) = commitlab(&["link", "lost-commit"]);
    assert_eq!(code, 0);
    let fragment = fragment.trim();
    let url = format!("https://commitlab.example/?embed{fragment}");
    let bare = fragment.trim_start_matches('#');
    for source in [fragment, url.as_str(), bare] {
        let (code, out, err) = commitlab(&["run", source]);
        assert_eq!(code, 0, "{source}: {err}");
        assert_eq!(out, expected, "the link of lost-commit replays lost-commit's run");
    }
}

#[test]
fn run_names_what_is_wrong_with_a_bad_link() {
    let (code, _, err) = commitlab(&["run", "#s=1.notalink!!"]);
    assert_eq!(code, 2);
    assert!(err.contains("the link cannot be opened"), "{err}");
    let (code, _, err) = commitlab(&["run", "http://host/#c=1.abc"]);
    assert_eq!(code, 2);
    assert!(err.contains("comparison link"), "{err}");
}

#[test]
fn a_deferred_run_names_its_write_mode_and_shows_its_redo_images() {
    let (code, out, _) = commitlab(&["run", "deferred-writes", "--until", "80"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.starts_with("# scenario deferred-writes (seed 1, writes deferred: balances change at COMMIT)"),
        "{out}"
    );
    assert!(out.contains("balances: 3001=200"), "locked but not changed: {out}");
    assert!(out.contains("redo[t1][3001] = 300 (not applied: waits for COMMIT)"), "{out}");
    let (_, in_place, _) = commitlab(&["run", "happy-path", "--until", "0"]);
    assert!(in_place.starts_with("# scenario happy-path (seed 1)\n"), "in place, the line is as it was: {in_place}");
    let (_, table, _) = commitlab(&["compare", "three-participants", "deferred-writes", "--until", "80"]);
    let writes = table.lines().find(|line| line.starts_with("writes")).expect("a writes row");
    assert!(writes.contains("in_place") && writes.contains("deferred"), "{table}");
}

#[test]
fn explore_finds_a_teaching_bug_and_its_link_replays_to_the_same_violation() {
    let args =
        ["explore", "bug-commit-on-vote-timeout", "--lose", "0", "--crash", "0", "--restart", "0", "--timers", "1"];
    let (code, out, err) = commitlab(&args);
    assert_eq!(code, 1, "a violation exits with 1:\n{out}\n{err}");
    assert!(
        err.starts_with("# exploring bug-commit-on-vote-timeout (lose 0, duplicate 0, crash 0, restart 0, timers 1)"),
        "{err}"
    );
    assert!(out.contains("complete: every reachable state was checked"), "{out}");
    assert!(out.contains("  commit-needs-all-yes       VIOLATED"), "{out}");
    assert!(out.contains("  atomicity                  holds"), "{out}");
    let shortest = "5 steps: 1. submit r1, 2. deliver m1, 3. disk n10, 4. timer n10 vote-timeout t1, 5. disk n10";
    assert!(out.contains(shortest), "{out}");
    // The counterexample's link plays the path step by step to the same violation.
    let section = &out[out.find("commit-needs-all-yes       VIOLATED").expect("listed")..];
    let link = section.lines().find_map(|line| line.trim().strip_prefix("link: ")).expect("a link");
    let (code, replay, _) = commitlab(&["run", link]);
    assert_eq!(code, 1, "{replay}");
    assert!(replay.contains("VIOLATED  commit-needs-all-yes"), "{replay}");
    assert!(replay.contains("## 5 steps"), "{replay}");
}

#[test]
fn explore_reports_a_correct_scenario_clean_and_the_specs_with_tlcs_counts() {
    let (code, out, _) =
        commitlab(&["explore", "happy-path", "--lose", "1", "--crash", "0", "--restart", "0", "--timers", "1"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("states 12,326  edges "), "{out}");
    assert!(!out.contains("VIOLATED"), "{out}");
    assert!(out.contains("  refines-two-phase          holds"), "{out}");
    let (code, out, _) = commitlab(&["explore", "--spec", "two-phase", "--rms", "3"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("states 288  edges "), "{out}");
    let (code, out, _) = commitlab(&["explore", "--spec", "two-phase", "--rms", "4", "--symmetry"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("states 166  edges "), "{out}");
    assert!(out.contains("without symmetry reduction: states 1,568  edges "), "{out}");
    let (code, out, _) = commitlab(&["explore", "--spec", "tcommit", "--rms", "3", "--dfs"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.starts_with("states 34  edges "), "{out}");
}

#[test]
fn explore_refuses_bad_bounds_and_options_with_a_message() {
    let cases: [(&[&str], &str); 8] = [
        (&["explore", "happy-path", "--max-states", "0"], "--max-states: must be at least 1"),
        (&["explore", "happy-path", "--crash", "-1"], "--crash: `-1` is not a whole number"),
        (&["explore", "happy-path", "--timers", "1000"], "--timers: 1000 is more than the limit of 16"),
        (&["explore", "happy-path", "--threads", "0"], "--threads: must be at least 1"),
        (&["explore", "happy-path", "--dfs", "--threads", "2"], "depth-first search is single-threaded"),
        (&["explore", "raft-seed-002"], "single-node 2PC"),
        (&["explore", "--spec", "two-phase"], "--spec needs --rms"),
        (&["explore", "--spec", "three-phase", "--rms", "3"], "`three-phase` is not one of two-phase, tcommit"),
    ];
    for (args, message) in cases {
        let (code, _, err) = commitlab(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    let (code, _, err) = commitlab(&["explore", "--spec", "two-phase", "--rms", "99"]);
    assert_eq!(code, 2);
    assert!(err.contains("--rms: 99 is more than the limit of"), "{err}");
}
