//! End-to-end: the sequence diagram's text stays legible. Every visible `<text>` of `svg#sequence`
//! (arrow and loop labels, phase-band labels, time ticks, replication-round labels, the cursor's
//! time, lane headers, marks) is measured in the browser at many cursor positions of several
//! presets at the default zoom, and no two of their boxes may intersect.
//!
//! Run: `scripts/build-web.sh && cargo test -p commitlab-e2e --test diagram`

use commitlab_e2e::app::{open_app, start};
use commitlab_e2e::{fail, Browser, Probe, Result, DEFAULT_WAIT};
use serde_json::{json, Value};

/// Cursor positions per preset, evenly spread from the start to the end of the run: at least
/// this many, and at least one every `STRIDE_MS` (a fifth of the default zoom's 120 ms) up to
/// `POSITIONS_MAX`.
const POSITIONS: u64 = 40;
const STRIDE_MS: u64 = 25;
const POSITIONS_MAX: u64 = 150;

/// Measures every visible text of the diagram after the next two frames (so what is measured is
/// what was painted) and answers the pairs whose boxes intersect, in the diagram's own units.
/// Content drawn under the lane headers is hidden by their backdrop, so only the part of a
/// content text below the headers counts; anything outside the diagram is not visible at all.
const OVERLAPS_JS: &str = r#"
const done = arguments[arguments.length - 1];
requestAnimationFrame(() => requestAnimationFrame(() => {
  const svg = document.querySelector('svg#sequence');
  if (!svg) { done({ error: 'no svg#sequence' }); return; }
  const frame = svg.getBoundingClientRect();
  const scale = frame.width / svg.viewBox.baseVal.width;
  const backdrop = svg.querySelector('rect.header-backdrop');
  const headerBottom = backdrop ? backdrop.getBoundingClientRect().bottom : frame.top;
  const boxes = [];
  for (const text of svg.querySelectorAll('text')) {
    const own = Array.from(text.childNodes).filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.data).join('').trim();
    if (own === '' || text.getClientRects().length === 0) continue;
    const style = getComputedStyle(text);
    if (style.visibility === 'hidden' || style.opacity === '0') continue;
    const r = text.getBoundingClientRect();
    const top = Math.max(r.top, text.closest('g.content') ? headerBottom : frame.top);
    const bottom = Math.min(r.bottom, frame.bottom);
    const left = Math.max(r.left, frame.left);
    const right = Math.min(r.right, frame.right);
    if (right - left <= 0 || bottom - top <= 0) continue;
    const owner = text.closest('g[class]');
    const kind = (text.getAttribute('class') || '') + ' in ' + (owner ? owner.getAttribute('class') : 'svg');
    const unit = (v, o) => Math.round(((v - o) / scale) * 10) / 10;
    boxes.push({ text: own, kind, left: unit(left, frame.left), top: unit(top, frame.top),
                 right: unit(right, frame.left), bottom: unit(bottom, frame.top) });
  }
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) {
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i], b = boxes[j];
      const width = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const height = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (width > 0 && height > 0) overlaps.push([a, b]);
    }
  }
  done({ texts: boxes.length, overlaps, time: (document.querySelector('#time') || {}).textContent });
}));
"#;

fn describe(text: &Value) -> String {
    format!(
        "{:?} ({}) at x {}..{}, y {}..{}",
        text["text"].as_str().unwrap_or_default(),
        text["kind"].as_str().unwrap_or_default(),
        text["left"],
        text["right"],
        text["top"],
        text["bottom"]
    )
}

fn choose(browser: &Browser, preset: &str) -> Result<u64> {
    browser.select_option("#preset", preset)?;
    browser.wait_until(&format!("the scrubber of {preset}"), DEFAULT_WAIT, |b| {
        let max = b.attr("#scrubber", "max")?.unwrap_or_default();
        let chosen = b.js("return document.querySelector('#preset').value;", vec![])?;
        Ok(match max.parse::<u64>() {
            Ok(max) if chosen == json!(preset) && max > 0 => Probe::Ready(max),
            _ => Probe::NotYet(format!("max {max:?}, preset {chosen}")),
        })
    })
}

/// The overlapping pairs of texts at cursor times spread through the run on screen, described.
fn overlaps_through(browser: &Browser, preset: &str, end_ms: u64) -> Result<(Vec<String>, u64)> {
    let positions = (end_ms / STRIDE_MS).clamp(POSITIONS, POSITIONS_MAX);
    let mut found = Vec::new();
    let mut measured = 0;
    for position in 1..=positions {
        let at_ms = end_ms * position / positions;
        browser.set_range("#scrubber", &at_ms.to_string())?;
        browser.wait_for_text("#time", &format!("{at_ms} ms"), DEFAULT_WAIT)?;
        let outcome = browser.js_async(OVERLAPS_JS, vec![])?;
        if let Some(error) = outcome["error"].as_str() {
            return Err(fail!("{preset} at {at_ms} ms: {error}"));
        }
        measured += outcome["texts"].as_u64().unwrap_or_default();
        if position == positions / 2 {
            browser.screenshot(&format!("diagram-{}", preset.replace(' ', "-")))?;
        }
        for pair in outcome["overlaps"].as_array().into_iter().flatten() {
            found.push(format!("{preset} at {at_ms} ms: {} overlaps {}", describe(&pair[0]), describe(&pair[1])));
        }
    }
    Ok((found, measured))
}

#[test]
fn diagram_texts_never_overlap_at_the_default_zoom() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let mut found = Vec::new();
    for preset in [
        "happy-path",
        "three-participants",
        "coordinator-crash-after-prepare",
        "raft-seed-002",
        "paxos-seed-002",
        "busy",
        "saga-half-done-visible",
    ] {
        let end_ms = choose(&browser, preset)?;
        let (overlaps, measured) = overlaps_through(&browser, preset, end_ms)?;
        // The measure must have seen the diagram: a selector gone stale would pass vacuously.
        assert!(measured >= POSITIONS * 5, "{preset}: only {measured} texts measured over {POSITIONS} positions");
        found.extend(overlaps);
    }
    none_found(found)
}

/// Ten lanes of replicas with their Raft traffic: the most crowded diagram at the default zoom.
#[test]
fn diagram_texts_never_overlap_with_every_group_expanded() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let end_ms = choose(&browser, "raft-seed-002")?;
    browser.wait_for_count("svg#sequence g.group-lane", 3, DEFAULT_WAIT)?;
    for group in ["C1", "C2", "C3"] {
        browser.click(&format!(r#"svg#sequence g.group-header[data-group="{group}"]"#))?;
    }
    browser.wait_for_count("svg#sequence g.lane", 10, DEFAULT_WAIT)?;
    let (found, measured) = overlaps_through(&browser, "raft-seed-002 expanded", end_ms)?;
    assert!(measured >= POSITIONS * 10, "only {measured} texts measured over {POSITIONS} positions");
    none_found(found)
}

/// A 600-pixel frame, where the stylesheet enlarges the diagram's texts (an embed in a narrow
/// column of a documentation page).
#[test]
fn diagram_texts_never_overlap_in_a_narrow_frame() -> Result<()> {
    let (site, browser) = start();
    browser
        .block_on(browser.client().set_window_size(600, 800))
        .map_err(|error| fail!("cannot resize the window: {error}"))?;
    open_app(&site, &browser, "/")?;
    let wide = browser.js("return window.innerWidth;", vec![])?;
    assert!(wide.as_u64().is_some_and(|width| width <= 760), "the window is {wide} pixels wide, not narrow");
    let mut found = Vec::new();
    for preset in ["happy-path", "three-participants", "raft-seed-002", "paxos-seed-002"] {
        let end_ms = choose(&browser, preset)?;
        let (overlaps, measured) = overlaps_through(&browser, &format!("{preset} narrow"), end_ms)?;
        assert!(measured >= POSITIONS * 5, "{preset}: only {measured} texts measured over {POSITIONS} positions");
        found.extend(overlaps);
    }
    none_found(found)
}

fn none_found(mut found: Vec<String>) -> Result<()> {
    if found.is_empty() {
        return Ok(());
    }
    let total = found.len();
    found.truncate(40);
    Err(fail!("{total} overlapping pairs of texts in svg#sequence, the first ones:\n{}", found.join("\n")))
}
