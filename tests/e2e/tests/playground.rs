//! End-to-end tests of the built playground (`dist/`) in headless Chromium.
//!
//! Each test serves the site and drives a browser of its own, so the tests are independent and
//! can run in parallel. They wait for the state they expect (the app re-renders asynchronously)
//! and never sleep blindly. Screenshots land in `tests/e2e/screenshots/`.
//!
//! Run: `scripts/build-web.sh && cargo test -p commitlab-e2e --test playground`

use commitlab_e2e::app::{cluster_node, node_state, open_app, start, step};
use commitlab_e2e::{fail, Browser, Probe, Result, DEFAULT_WAIT, PLAYBACK_WAIT};
use serde_json::json;

fn balance(node: &str, account: &str) -> String {
    format!(r#"{} td.balance[data-account="{account}"]"#, node_state(node))
}

fn lock(node: &str, account: &str) -> String {
    format!(r#"{} ul.locks li[data-account="{account}"]"#, node_state(node))
}

fn participant_phase(node: &str, txn: &str) -> String {
    let row = format!(r#"table.txns tr[data-txn="{txn}"][data-role="participant"]"#);
    format!("{} {row} td.phase", node_state(node))
}

/// Where two texts first differ, for failure messages about long texts.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut expected_lines, mut actual_lines) = (expected.lines(), actual.lines());
    for line in 1.. {
        match (expected_lines.next(), actual_lines.next()) {
            (None, None) => return "no difference".into(),
            (e, a) if e == a => continue,
            (e, a) => return format!("line {line}: expected {e:?}, got {a:?}"),
        }
    }
    unreachable!("the loop returns at the first difference or at the end of both texts")
}

/// Harness check, independent of the app: the server, chromedriver and Chromium work together.
#[test]
fn the_built_site_loads_in_chromium() -> Result<()> {
    let (site, browser) = start();
    browser.goto(&site.url("/"))?;
    assert_eq!(browser.title()?, "Commit Lab", "title of the page served from dist/");

    // Asked from the page, so the browser's own view of the server is what is checked.
    const FETCH_STATUS: &str = r#"
        const [path, done] = arguments;
        fetch(path).then((r) => done(r.status), (e) => done(String(e)));
    "#;
    let status = browser.js_async(FETCH_STATUS, vec![json!("/missing.js")])?;
    assert_eq!(status, json!(404), "status of GET /missing.js");

    // The app cannot start unless its wasm is served as application/wasm.
    let wasm = dist_wasm_files();
    assert!(!wasm.is_empty(), "dist/ holds no .wasm file: run scripts/build-web.sh");
    for name in wasm {
        let response = site.get(&format!("/{name}"))?;
        assert_eq!(response.status, 200, "status of GET /{name}");
        assert_eq!(response.header("content-type"), Some("application/wasm"), "/{name}");
    }
    Ok(())
}

fn dist_wasm_files() -> Vec<String> {
    let entries = std::fs::read_dir(commitlab_e2e::dist_dir()).expect("dist/ is readable");
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".wasm"))
        .collect()
}

#[test]
fn default_page_plays_to_completion_with_balances_90_and_60() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    // The opening balances, so that the final ones prove the run moved the money.
    browser.wait_for_text(&balance("n1", "1001"), "100", DEFAULT_WAIT)?;
    browser.wait_for_text(&balance("n4", "3001"), "50", DEFAULT_WAIT)?;
    browser.set_range_to_max("#speed")?;
    browser.click("#play")?;
    browser.wait_for_attr("#app", "data-at-end", "true", PLAYBACK_WAIT)?;

    // The committed transfer 1001 -> 3001 of 10: the sender's shard n1 and the receiver's n4.
    browser.wait_for_text(&balance("n1", "1001"), "90", DEFAULT_WAIT)?;
    browser.wait_for_text(&balance("n4", "3001"), "60", DEFAULT_WAIT)?;
    // Prepared shards hold the same balances, so check that the commit also released the locks.
    browser.wait_for_count(&lock("n1", "1001"), 0, DEFAULT_WAIT)?;
    browser.wait_for_count(&lock("n4", "3001"), 0, DEFAULT_WAIT)?;
    browser.screenshot("default-played")?;
    Ok(())
}

#[test]
fn coordinator_crash_after_prepare_shows_participants_in_doubt_with_locks() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "coordinator-crash-after-prepare")?;
    // set_range waits until the new scenario's scrubber reaches 1000 (the default one ends at
    // 60 ms), so this cannot seek the old scenario by accident.
    browser.set_range("#scrubber", "1000")?;
    browser.wait_for_text("#time", "1000 ms", DEFAULT_WAIT)?;

    // Both participants voted YES and then lost their coordinator: blocked, holding locks.
    browser.wait_for_count("#in-doubt li", 2, DEFAULT_WAIT)?;
    for (node, account) in [("n1", "1001"), ("n4", "3001")] {
        let entry = format!(r#"#in-doubt li[data-node="{node}"][data-txn="t1"]"#);
        browser.wait_for(&entry, DEFAULT_WAIT)?;
        browser.wait_for(&lock(node, account), DEFAULT_WAIT)?;
        // Compared lower-cased: innerText follows CSS text-transform ("In doubt", "IN DOUBT").
        let what = format!("participant t1 on {node} to be \"in doubt\"");
        browser.wait_for_text_matching(&participant_phase(node, "t1"), &what, DEFAULT_WAIT, |text| {
            text.to_lowercase().contains("in doubt")
        })?;
    }
    browser.screenshot("blocked-in-doubt")?;
    Ok(())
}

#[test]
fn clicking_a_node_crashes_it_and_the_diagram_shows_it() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.set_range("#scrubber", "20")?;
    browser.wait_for_text("#time", "20 ms", DEFAULT_WAIT)?;

    let n4 = cluster_node("n4");
    // Precondition: clicking toggles, so the node must be up before the click crashes it.
    browser.wait_for_class(&n4, "up", DEFAULT_WAIT)?;
    browser.click(&n4)?;
    browser.wait_for_class(&n4, "down", DEFAULT_WAIT)?;
    assert!(!browser.has_class(&n4, "up")?, "`{n4}` is both up and down");

    browser.wait_for(r#"svg#sequence .crash-mark[data-node="n4"]"#, DEFAULT_WAIT)?;
    browser.wait_for_count("#faults li.fault", 1, DEFAULT_WAIT)?;
    let fault = browser.text("#faults li.fault")?;
    assert!(fault.contains("crash n4"), "the fault list should name `crash n4`, it reads {fault:?}");
    browser.screenshot("node-crashed")?;
    Ok(())
}

#[test]
fn step_back_restores_the_previous_tables() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.wait_for("#app[data-step]", DEFAULT_WAIT)?;
    browser.wait_for("#tables", DEFAULT_WAIT)?;

    let (tables_before, step_after) = step_until_tables_change(&browser, 40)?;
    browser.click("#step-back")?;
    let expected_step = (step_after - 1).to_string();
    browser.wait_for_attr("#app", "data-step", &expected_step, DEFAULT_WAIT)?;
    browser.wait_until("#tables to show the step before again", DEFAULT_WAIT, |b| {
        let now = b.text("#tables")?;
        Ok(match now == tables_before {
            true => Probe::Ready(()),
            false => Probe::NotYet(first_difference(&tables_before, &now)),
        })
    })?;
    browser.screenshot("stepped-back")?;
    Ok(())
}

/// Clicks `#step-forward` until `#tables` changes; returns the tables' text before that last
/// click and the step number after it.
fn step_until_tables_change(browser: &Browser, max_clicks: usize) -> Result<(String, u64)> {
    for _ in 0..max_clicks {
        let (text_before, step_before) = (browser.text("#tables")?, step(browser)?);
        browser.click("#step-forward")?;
        let what = format!("#app[data-step] to move on from {step_before}");
        let step_after = browser.wait_until(&what, DEFAULT_WAIT, |b| {
            Ok(match step(b)? {
                now if now != step_before => Probe::Ready(now),
                now => Probe::NotYet(format!("data-step={now}")),
            })
        })?;
        if step_after != step_before + 1 {
            return Err(fail!("#step-forward moved data-step from {step_before} to {step_after}"));
        }
        if browser.text("#tables")? != text_before {
            return Ok((text_before, step_after));
        }
    }
    Err(fail!("{max_clicks} clicks on #step-forward never changed the text of #tables"))
}

/// The leaders of a group's replicas in the cluster picture.
fn crowned(browser: &Browser, members: &[&str]) -> Result<Vec<String>> {
    let mut leaders = Vec::new();
    for node in members {
        let replica = format!(r#"svg#cluster g.replica.leader[data-node="{node}"] .crown"#);
        if browser.count(&replica)? > 0 {
            leaders.push(node.to_string());
        }
    }
    Ok(leaders)
}

#[test]
fn crashing_the_coordinators_leader_moves_the_crown_and_the_client_still_hears_commit() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "raft-seed-002")?;
    browser.wait_for_count("svg#sequence g.group-lane", 3, DEFAULT_WAIT)?;
    browser.set_range("#scrubber", "150")?;
    browser.wait_for_text("#time", "150 ms", DEFAULT_WAIT)?;
    // n1 leads C1 and coordinates t1: crash it in the middle of the transaction.
    browser.wait_for_class(r#"svg#cluster g.replica[data-node="n1"]"#, "leader", DEFAULT_WAIT)?;
    browser.click(r#"svg#cluster g.replica[data-node="n1"]"#)?;
    browser.wait_for_class(r#"svg#cluster g.replica[data-node="n1"]"#, "down", DEFAULT_WAIT)?;
    let fault = browser.text("#faults li.fault")?;
    assert!(fault.contains("crash n1"), "the fault list should name `crash n1`, it reads {fault:?}");

    browser.set_range_to_max("#speed")?;
    browser.click("#play")?;
    browser.wait_for_attr("#app", "data-at-end", "true", PLAYBACK_WAIT)?;
    let leaders = browser.wait_until("a crown on n2 or n3", DEFAULT_WAIT, |b| {
        Ok(match crowned(b, &["n1", "n2", "n3"])? {
            leaders if leaders.len() == 1 && leaders[0] != "n1" => Probe::Ready(leaders),
            leaders => Probe::NotYet(format!("crowned: {leaders:?}")),
        })
    })?;
    assert!(matches!(leaders[0].as_str(), "n2" | "n3"), "C1's new leader: {leaders:?}");
    browser.wait_for_attr(r#"svg#cluster g.client"#, "data-outcomes", "r1 COMMIT", DEFAULT_WAIT)?;
    browser.screenshot("raft-leader-crashed")?;
    Ok(())
}

#[test]
fn a_group_lane_expands_into_its_replicas_and_collapses_again() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "raft-seed-002")?;
    browser.wait_for_count("svg#sequence g.group-lane", 3, DEFAULT_WAIT)?;
    browser.set_range("#scrubber", "60")?;
    browser.wait_for_text("#time", "60 ms", DEFAULT_WAIT)?;
    browser.wait_for_count("svg#sequence g.arrow.kind-AppendEntries", 0, DEFAULT_WAIT)?;

    browser.click(r#"svg#sequence g.group-header[data-group="C2"]"#)?;
    browser.wait_for_count("svg#sequence g.lane", 6, DEFAULT_WAIT)?;
    for replica in ["n4", "n5", "n6"] {
        browser.wait_for(&format!(r#"svg#sequence g.lane-header[data-endpoint="{replica}"]"#), DEFAULT_WAIT)?;
    }
    browser.wait_until("C2's Raft arrows", DEFAULT_WAIT, |b| {
        Ok(match b.count("svg#sequence g.arrow.kind-AppendEntries")? {
            0 => Probe::NotYet("no AppendEntries arrow".into()),
            shown => Probe::Ready(shown),
        })
    })?;
    browser.screenshot("raft-group-expanded")?;

    browser.click(r#"svg#sequence g.group-header[data-group="C2"]"#)?;
    browser.wait_for_count("svg#sequence g.lane", 4, DEFAULT_WAIT)?;
    browser.wait_for_count("svg#sequence g.arrow.kind-AppendEntries", 0, DEFAULT_WAIT)?;
    Ok(())
}

#[test]
fn seed_002_over_multi_paxos_shows_prepare_seq_100_in_the_c1_leaders_table() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "paxos-seed-002")?;
    browser.wait_for_count("svg#sequence g.group-lane", 3, DEFAULT_WAIT)?;
    // C2 has voted YES; C1's leader has executed its prepare values (seed 002's STATE AFTER PREPARE).
    browser.set_range("#scrubber", "145")?;
    browser.wait_for_text("#time", "145 ms", DEFAULT_WAIT)?;
    let n1 = node_state("n1");
    browser.wait_for_text(&format!(r#"{n1} tr[data-field="PrepareSeq"] td"#), "100", DEFAULT_WAIT)?;
    browser.wait_for_text(&format!(r#"{n1} table.seq-log tr[data-seq="100"] td.phase"#), "P", DEFAULT_WAIT)?;
    browser.wait_for_text(
        &format!(r#"{n1} ul.undo li[data-account="1001"]"#),
        "twoPCWAL[t1][1001] = 100",
        DEFAULT_WAIT,
    )?;
    wait_for_content(&browser, &format!(r#"{} tr[data-field="PrepareSeq"] td"#, node_state("n4")), "200")?;
    // A little later C1's followers have learned the prepare values and executed them too.
    browser.set_range("#scrubber", "158")?;
    browser.wait_for_text("#time", "158 ms", DEFAULT_WAIT)?;
    wait_for_content(&browser, &balance("n2", "1001"), "90")?;
    wait_for_content(&browser, &lock("n2", "1001"), "lock 1001 held by t1")?;
    wait_for_content(&browser, &format!(r#"{} tr[data-field="PrepareSeq"] td"#, node_state("n2")), "100")?;
    // The replication boxes name the sequence number and the phase.
    let labels = browser.texts("svg#sequence g.round text.round-label")?;
    assert!(labels.iter().any(|label| label == "seq 100 P"), "round labels: {labels:?}");
    browser.set_range_to_max("#scrubber")?;
    browser.wait_for_text(&format!(r#"{n1} table.seq-log tr[data-seq="100"] td.phase"#), "C", DEFAULT_WAIT)?;
    browser.screenshot("paxos-seed-002")?;
    Ok(())
}

/// Waits until the element's `textContent` reads `expected`: cards below the fold are not rendered
/// (`content-visibility: auto`), so their visible text is empty.
fn wait_for_content(browser: &Browser, css: &str, expected: &str) -> Result<()> {
    let script = "const element = document.querySelector(arguments[0]); return element ? element.textContent : null;";
    browser
        .wait_until(&format!("`{css}` to contain {expected:?}"), DEFAULT_WAIT, |b| {
            let found = b.js(script, vec![json!(css)])?;
            Ok(if found == json!(expected) { Probe::Ready(()) } else { Probe::NotYet(format!("{found}")) })
        })
        .map(drop)
}

fn pane(side: &str) -> String {
    format!(r#"section.compare-pane[data-side="{side}"]"#)
}

fn pane_number(browser: &Browser, side: &str, attr: &str) -> Result<u64> {
    let raw = browser.attr(&pane(side), attr)?.ok_or_else(|| fail!("pane {side} has no {attr}"))?;
    raw.parse().map_err(|_| fail!("pane {side} has {attr}={raw:?}"))
}

#[test]
fn the_compare_view_moves_both_panes_with_one_scrubber() -> Result<()> {
    let (site, browser) = start();
    browser.goto(&site.url("/#c=seed-002-raft-vs-paxos"))?;
    browser.wait_for_count("section.compare-pane svg#sequence", 2, commitlab_e2e::APP_START_WAIT)?;
    assert_eq!(browser.text(&format!("{} .engine", pane("A")))?, "Raft");
    assert_eq!(browser.text(&format!("{} .engine", pane("B")))?, "Multi-Paxos");
    let mut last = (0, 0);
    for time in ["120", "160", "600"] {
        browser.set_range("#compare-scrubber", time)?;
        browser.wait_for_text("#compare-clock", &format!("{time} ms"), DEFAULT_WAIT)?;
        let moved = browser.wait_until("both panes to move", DEFAULT_WAIT, |b| {
            let (a, b_step) = (pane_number(b, "A", "data-step")?, pane_number(b, "B", "data-step")?);
            let (a_ms, b_ms) = (pane_number(b, "A", "data-time")?, pane_number(b, "B", "data-time")?);
            let limit: u64 = time.parse().expect("a number");
            Ok(if a > last.0 && b_step > last.1 && a_ms <= limit && b_ms <= limit {
                Probe::Ready((a, b_step))
            } else {
                Probe::NotYet(format!("steps {a} and {b_step} at {a_ms} and {b_ms} ms"))
            })
        })?;
        last = moved;
    }
    let delays = browser.texts(r#"#cost-table tr[data-row="delays to decision"] td"#)?;
    assert_eq!(delays, ["7", "7"], "both decided in 7 message delays");
    let accepts = browser.texts(r#"#cost-table tr[data-row="Accept"] td"#)?;
    assert_eq!(accepts[0], "0", "Raft sends no ACCEPT: {accepts:?}");
    // The address holds the comparison's link; opened afresh it shows the same time and runs.
    let address = browser.current_url()?;
    assert!(address.contains("#c=1."), "{address}");
    let hashes = (browser.attr(&pane("A"), "data-trace-hash")?, browser.attr(&pane("B"), "data-trace-hash")?);
    // Through about:blank, so that the same page with another fragment loads afresh.
    browser.goto("about:blank")?;
    browser.goto(&address)?;
    browser.wait_for_count("section.compare-pane svg#sequence", 2, commitlab_e2e::APP_START_WAIT)?;
    browser.wait_for_text("#compare-clock", "600 ms", DEFAULT_WAIT)?;
    assert_eq!((browser.attr(&pane("A"), "data-trace-hash")?, browser.attr(&pane("B"), "data-trace-hash")?), hashes);
    // Play runs both to their ends together.
    browser.select_option("#compare-speed", "1")?;
    browser.click("#compare-play")?;
    browser.wait_for_attr("#app", "data-playing", "true", DEFAULT_WAIT)?;
    browser.wait_for_attr("#app", "data-playing", "false", PLAYBACK_WAIT)?;
    for side in ["A", "B"] {
        let at = pane_number(&browser, side, "data-time")?;
        assert!(at >= 1_990, "pane {side} played to its end, it stopped at {at} ms");
    }
    browser.screenshot("compare")?;
    Ok(())
}

#[test]
fn the_compare_button_opens_this_run_beside_the_next_engine_and_a_bad_link_says_why() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.click("#compare")?;
    browser.wait_for_count("section.compare-pane svg#sequence", 2, commitlab_e2e::APP_START_WAIT)?;
    assert_eq!(browser.text(&format!("{} .engine", pane("A")))?, "single node");
    assert_eq!(browser.text(&format!("{} .engine", pane("B")))?, "Raft");
    // A damaged comparison link opens the default comparison with a message naming the problem.
    browser.goto("about:blank")?;
    browser.goto(&site.url("/#c=1.abc~1.def"))?;
    browser.wait_for_count("section.compare-pane svg#sequence", 2, commitlab_e2e::APP_START_WAIT)?;
    browser.wait_for_text_matching("#message", "a message naming the link's shape", DEFAULT_WAIT, |text| {
        text.contains("not in the form #c=<run A>~<run B>~<time in ms>")
    })?;
    assert_eq!(browser.text(&format!("{} .engine", pane("B")))?, "Multi-Paxos", "the default comparison");
    Ok(())
}
