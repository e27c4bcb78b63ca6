//! Measures the built playground and prints a table; it never asserts.
//!
//! Run: `scripts/build-web.sh && cargo run --release -p commitlab-e2e --bin web-bench`
//!
//! - wasm size of `dist/*.wasm`, raw and gzip -9;
//! - navigation to first diagram: `performance.mark("commitlab-first-diagram")`'s startTime,
//!   5 fresh navigations (the static server sends `Cache-Control: no-store`, so each one fetches
//!   and compiles the wasm again);
//! - frame-to-frame intervals the app records in `window.__commitlabFrameTimes` while playing the
//!   `busy`, `raft-busy` and `paxos-busy` presets at 10x for up to 5 s each, and while the compare
//!   view plays two runs on one clock (`seed-002-raft-vs-paxos`, `busy-raft-vs-paxos`);
//! - the explorer in its Web Worker: `happy-path` with lose 1 and timers 1 (12,326 states) to the
//!   end, states per second as the worker measures them.

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use commitlab_e2e::{dist_dir, fail, Browser, Probe, Result, Site, APP_START_WAIT, DEFAULT_WAIT};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;

const COMMAND: &str = "cargo run --release -p commitlab-e2e --bin web-bench";
const NAVIGATIONS: usize = 5;
const PLAY_WINDOW: Duration = Duration::from_secs(5);
const EXPLORE_WAIT: Duration = Duration::from_secs(120);

fn main() {
    println!("Commit Lab web benchmark: `{COMMAND}` (after scripts/build-web.sh)");
    println!("1 KB = 1024 bytes; times in ms\n");
    let mut rows = wasm_rows();
    let site = Site::start();
    let browser = Browser::start();
    rows.push(("first diagram".into(), report(first_diagram(&site, &browser))));
    rows.push(("busy @10x frames".into(), report(busy_frames(&site, &browser, "busy"))));
    rows.push(("raft-busy @10x frames".into(), report(busy_frames(&site, &browser, "raft-busy"))));
    rows.push(("paxos-busy @10x frames".into(), report(busy_frames(&site, &browser, "paxos-busy"))));
    for comparison in ["seed-002-raft-vs-paxos", "busy-raft-vs-paxos"] {
        rows.push((format!("compare {comparison} @10x frames"), report(compare_frames(&site, &browser, comparison))));
    }
    rows.push(("explore happy-path (lose 1, timers 1) in the worker".into(), report(explore_rate(&site, &browser))));
    print_table(&rows);
}

fn report(outcome: Result<String>) -> String {
    outcome.unwrap_or_else(|failure| format!("unavailable: {failure}"))
}

fn print_table(rows: &[(String, String)]) {
    let width = rows.iter().map(|(metric, _)| metric.len()).max().unwrap_or(0);
    println!("{:<width$}  value", "metric");
    println!("{:-<width$}  {:-<60}", "", "");
    for (metric, value) in rows {
        println!("{metric:<width$}  {value}");
    }
}

/// One row per `dist/*.wasm`: raw and gzip -9 sizes.
fn wasm_rows() -> Vec<(String, String)> {
    let entries = match std::fs::read_dir(dist_dir()) {
        Ok(entries) => entries,
        Err(e) => return vec![("wasm".into(), format!("unavailable: dist/ unreadable: {e}"))],
    };
    let mut rows: Vec<(String, String)> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .map(|path| {
            let name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
            let value = std::fs::read(&path).map(|bytes| sizes(&bytes));
            (format!("wasm {name}"), value.unwrap_or_else(|e| format!("unreadable: {e}")))
        })
        .collect();
    if rows.is_empty() {
        rows.push(("wasm".into(), "unavailable: no .wasm in dist/ (run scripts/build-web.sh)".into()));
    }
    rows
}

fn sizes(bytes: &[u8]) -> String {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::new(9));
    let gzip = encoder.write_all(bytes).and_then(|()| encoder.finish()).map(|out| out.len());
    let kb = |n: usize| n as f64 / 1024.0;
    match gzip {
        Ok(gz) => format!("raw {:.1} KB ({} B), gzip -9 {:.1} KB ({gz} B)", kb(bytes.len()), bytes.len(), kb(gz)),
        Err(e) => format!("raw {:.1} KB, gzip failed: {e}", kb(bytes.len())),
    }
}

/// Median and each value of the first-diagram mark over fresh navigations.
fn first_diagram(site: &Site, browser: &Browser) -> Result<String> {
    let mut times = Vec::with_capacity(NAVIGATIONS);
    for _ in 0..NAVIGATIONS {
        // Leaving the page first makes the next goto a brand-new document, not a same-URL reload.
        browser.goto("about:blank")?;
        browser.goto(&site.url("/"))?;
        browser.wait_for("svg#sequence", APP_START_WAIT)?;
        times.push(browser.wait_until("the commitlab-first-diagram mark", DEFAULT_WAIT, |b| {
            let start = b.js(FIRST_DIAGRAM_JS, vec![])?;
            Ok(match start.as_f64() {
                Some(ms) => Probe::Ready(ms),
                None => Probe::NotYet("no such performance mark".into()),
            })
        })?);
    }
    let each: Vec<String> = times.iter().map(|ms| format!("{ms:.1}")).collect();
    Ok(format!("median {:.1} ms of {NAVIGATIONS} (each: {})", median(&times), each.join(", ")))
}

const FIRST_DIAGRAM_JS: &str = r#"
const entry = performance.getEntriesByName("commitlab-first-diagram")[0];
return entry ? entry.startTime : null;
"#;

/// Frame-time statistics while a busy preset (`busy`, `raft-busy`) plays at 10x.
fn busy_frames(site: &Site, browser: &Browser, preset: &str) -> Result<String> {
    browser.goto(&site.url("/"))?;
    browser.wait_for("svg#sequence", APP_START_WAIT)?;
    browser.select_option("#preset", preset)?;
    browser.set_range("#speed", "1")?; // log10 of the multiplier: 10x
    browser.js("window.__commitlabFrameTimes = []; window.__commitlabRenderTimes = [];", vec![])?;
    browser.click("#play")?;
    let (played, reached_end) = play_for(browser, PLAY_WINDOW)?;
    // Clicking #play at the end could start the run over, so pause only a run still playing.
    if browser.attr("#app", "data-playing")?.as_deref() == Some("true") {
        browser.click("#play")?;
    }
    let frames = read_times(browser, "__commitlabFrameTimes")?;
    let renders = read_times(browser, "__commitlabRenderTimes")?;
    let ending = if reached_end { ", reached the end" } else { "" };
    let window = format!("played {:.2} s{ending}", played.as_secs_f64());
    Ok(format!(
        "frame interval: {} ({window}); app work per frame (tick + render, without layout and paint): {}",
        frame_stats(&frames)?,
        frame_stats(&renders)?
    ))
}

/// Frame-time statistics while the compare view plays two runs at 10x.
fn compare_frames(site: &Site, browser: &Browser, comparison: &str) -> Result<String> {
    browser.goto("about:blank")?;
    browser.goto(&site.url(&format!("/#c={comparison}")))?;
    browser.wait_for_count("section.compare-pane svg#sequence", 2, APP_START_WAIT)?;
    browser.select_option("#compare-speed", "1")?;
    browser.js("window.__commitlabFrameTimes = []; window.__commitlabRenderTimes = [];", vec![])?;
    browser.click("#compare-play")?;
    let start = Instant::now();
    while start.elapsed() < PLAY_WINDOW {
        thread::sleep(Duration::from_millis(100));
        if browser.attr("#app", "data-playing")?.as_deref() == Some("false") {
            break;
        }
    }
    let played = start.elapsed();
    if browser.attr("#app", "data-playing")?.as_deref() == Some("true") {
        browser.click("#compare-play")?;
    }
    let frames = read_times(browser, "__commitlabFrameTimes")?;
    let renders = read_times(browser, "__commitlabRenderTimes")?;
    Ok(format!(
        "frame interval: {} (played {:.2} s); app work per frame: {}",
        frame_stats(&frames)?,
        played.as_secs_f64(),
        frame_stats(&renders)?
    ))
}

/// The explorer in its worker, from Start to the end of the search, as the panel reports it.
fn explore_rate(site: &Site, browser: &Browser) -> Result<String> {
    browser.goto("about:blank")?;
    browser.goto(&site.url("/"))?;
    browser.wait_for("svg#sequence", APP_START_WAIT)?;
    browser.select_option("#preset", "happy-path")?;
    browser.click("#explore-toggle")?;
    let fields = [("lose", "1"), ("duplicate", "0"), ("crash", "0"), ("restart", "0"), ("timers", "1")];
    for (field, value) in fields.into_iter().chain([("max-states", "500000")]) {
        browser.set_input(&format!("#explore-{field}"), value)?;
    }
    browser.click("#explore-start")?;
    browser.wait_for_attr("#explore", "data-status", "finished", EXPLORE_WAIT)?;
    let attr = |name: &str| -> Result<String> {
        browser.attr("#explore-progress", name)?.ok_or_else(|| fail!("#explore-progress has no {name}"))
    };
    let (states, elapsed_ms, rate) = (attr("data-states")?, attr("data-elapsed-ms")?, attr("data-states-per-second")?);
    Ok(format!("{states} states in {elapsed_ms} ms: {rate} states/s"))
}

/// Lets the run play for `window`, or until it reaches its end; returns how long and whether
/// it ended.
fn play_for(browser: &Browser, window: Duration) -> Result<(Duration, bool)> {
    let start = Instant::now();
    while start.elapsed() < window {
        if browser.attr("#app", "data-at-end")?.as_deref() == Some("true") {
            return Ok((start.elapsed(), true));
        }
        thread::sleep(Duration::from_millis(100));
    }
    Ok((start.elapsed(), false))
}

fn read_times(browser: &Browser, name: &str) -> Result<Vec<f64>> {
    let value = browser.js(&format!("return window.{name};"), vec![])?;
    let Value::Array(items) = value else {
        return Err(fail!("window.{name} is {value}, not an array"));
    };
    let times: Vec<f64> = items.iter().filter_map(Value::as_f64).collect();
    if times.is_empty() {
        return Err(fail!("the app recorded no times in window.{name}"));
    }
    Ok(times)
}

fn frame_stats(frames: &[f64]) -> Result<String> {
    let mut sorted = frames.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    // Nearest-rank 95th percentile.
    let p95 = sorted[((sorted.len() as f64 * 0.95).ceil() as usize).clamp(1, sorted.len()) - 1];
    let max = sorted[sorted.len() - 1];
    Ok(format!("count {}, mean {mean:.1} ms, p95 {p95:.1} ms, max {max:.1} ms", sorted.len()))
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}
