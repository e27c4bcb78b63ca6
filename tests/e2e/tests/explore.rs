//! End-to-end tests of the Explore panel and the TwoPhase spec panel in headless Chromium: the
//! explorer runs in a Web Worker on the page's own wasm, the page stays usable meanwhile, Stop
//! stops it, and a counterexample loads into the playground on its violating step.
//!
//! Run: `scripts/build-web.sh && cargo test -p commitlab-e2e --test explore`

use commitlab_e2e::app::{open_app, start, step};
use commitlab_e2e::{fail, Browser, Probe, Result, APP_START_WAIT, DEFAULT_WAIT, PLAYBACK_WAIT};

/// Opens the Explore panel and fills in the bounds and the cap on states.
fn fill_explore_form(browser: &Browser, bounds: [(&str, &str); 5], max_states: &str) -> Result<()> {
    browser.click("#explore-toggle")?;
    browser.wait_for("#explore-body", DEFAULT_WAIT)?;
    for (field, value) in bounds {
        browser.set_input(&format!("#explore-{field}"), value)?;
    }
    browser.set_input("#explore-max-states", max_states)?;
    browser.wait_for_count("#explore-error", 0, DEFAULT_WAIT)
}

/// The states the running search has found, from `#explore-progress[data-states]`.
fn explored_states(browser: &Browser) -> Result<Option<u64>> {
    if browser.count("#explore-progress")? == 0 {
        return Ok(None);
    }
    let raw = browser.attr("#explore-progress", "data-states")?.unwrap_or_default();
    raw.parse().map(Some).map_err(|_| fail!("#explore-progress has data-states={raw:?}"))
}

/// Waits until the search has found more than `than` states; returns how many.
fn wait_for_more_states(browser: &Browser, than: u64) -> Result<u64> {
    browser.wait_until(&format!("the explorer to find more than {than} states"), APP_START_WAIT, |b| {
        Ok(match explored_states(b)? {
            Some(states) if states > than => Probe::Ready(states),
            seen => Probe::NotYet(format!("states {seen:?}, status {:?}", b.attr("#explore", "data-status")?)),
        })
    })
}

fn status(browser: &Browser) -> Result<String> {
    Ok(browser.attr("#explore", "data-status")?.unwrap_or_default())
}

#[test]
fn exploring_a_bug_in_a_worker_finds_it_and_loads_the_counterexample_on_its_violating_step() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "bug-commit-on-vote-timeout")?;
    let bounds = [("lose", "0"), ("duplicate", "0"), ("crash", "0"), ("restart", "0"), ("timers", "1")];
    fill_explore_form(&browser, bounds, "50000")?;
    browser.click("#explore-start")?;
    browser.wait_for_attr("#explore", "data-status", "finished", APP_START_WAIT)?;
    browser.wait_for(r#"#explore-results[data-complete="true"]"#, DEFAULT_WAIT)?;

    let property = r#"#explore-properties li[data-property="commit-needs-all-yes"]"#;
    assert!(browser.has_class(property, "violated")?, "commit-needs-all-yes is violated");
    let steps = browser.texts(&format!("{property} ol.steps li"))?;
    assert_eq!(steps.len(), 5, "the shortest counterexample: {steps:?}");
    assert_eq!(steps.last().map(String::as_str), Some("disk n10"), "the COMMIT record becomes durable last");
    assert!(browser.has_class(r#"#explore-properties li[data-property="atomicity"]"#, "holds")?);
    let link = browser.js(
        "return document.querySelector(arguments[0]).value;",
        vec![format!("{property} input.counterexample-link").into()],
    )?;
    let link = link.as_str().ok_or_else(|| fail!("the counterexample has no share link"))?.to_string();
    let fragment = link.split_once('#').map(|(_, fragment)| fragment.to_string());
    let fragment = fragment.ok_or_else(|| fail!("the share link {link} has no fragment"))?;
    browser.screenshot("explore-bug-found")?;

    browser.click(&format!("{property} button.load-counterexample"))?;
    browser.wait_for_attr("#app", "data-step", "5", DEFAULT_WAIT)?;
    browser.wait_for(r#"#invariants li[data-invariant="commit-needs-all-yes"].violated"#, DEFAULT_WAIT)?;
    // Exactly as opening the link: the address bar now holds that same link.
    browser.wait_until("the address bar to hold the counterexample's link", DEFAULT_WAIT, |b| {
        let hash = b.js("return location.hash;", vec![])?;
        let hash = hash.as_str().unwrap_or_default().trim_start_matches('#').to_string();
        Ok(if hash == fragment { Probe::Ready(()) } else { Probe::NotYet(format!("#{hash}")) })
    })?;
    // The scheduled run breaks TwoPhase on that same last step: the spec panel says so.
    browser.wait_for_attr("#spec-break", "data-step", "5", DEFAULT_WAIT)?;
    let card = r#"#spec section.spec-txn[data-txn="t1"]"#;
    browser.wait_for_text(&format!(r#"{card} tr[data-var="tmState"] td"#), "committed", DEFAULT_WAIT)?;
    browser.wait_for(&format!(r#"{card} .spec-action.broken"#), DEFAULT_WAIT)?;
    browser.screenshot("explore-counterexample-loaded")?;
    Ok(())
}

#[test]
fn a_long_exploration_keeps_the_page_responsive_and_stops_when_asked() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "happy-path")?;
    // The explorer's own default bounds: far more states than the cap allows in a test's time.
    let bounds = [("lose", "1"), ("duplicate", "0"), ("crash", "1"), ("restart", "1"), ("timers", "2")];
    fill_explore_form(&browser, bounds, "500000")?;
    browser.click("#explore-start")?;
    let first = wait_for_more_states(&browser, 0)?;
    let second = wait_for_more_states(&browser, first)?;

    // The playground answers while the worker explores.
    let before = step(&browser)?;
    browser.click("#step-forward")?;
    browser.wait_for_attr("#app", "data-step", &(before + 1).to_string(), DEFAULT_WAIT)?;
    assert_eq!(status(&browser)?, "running", "the search still runs while the page is used");
    let third = wait_for_more_states(&browser, second)?;
    browser.screenshot("explore-running")?;

    browser.click("#explore-stop")?;
    browser.wait_for_attr("#explore", "data-status", "finished", DEFAULT_WAIT)?;
    browser.wait_for(r#"#explore-results[data-complete="false"]"#, DEFAULT_WAIT)?;
    let summary = browser.text("#explore-results .explore-summary")?;
    assert!(summary.contains("stopped when you asked"), "{summary}");
    let stopped_at = explored_states(&browser)?.ok_or_else(|| fail!("no progress line after Stop"))?;
    assert!(stopped_at >= third && stopped_at < 500_000, "stopped at {stopped_at} states, after {third}");
    // Progress no longer grows: after another round trip through the page, the count is the same.
    browser.click("#step-forward")?;
    browser.wait_for_attr("#app", "data-step", &(before + 2).to_string(), DEFAULT_WAIT)?;
    assert_eq!(explored_states(&browser)?, Some(stopped_at), "the search is over");
    let unknown = browser.attr(r#"#explore-properties li[data-property="atomicity"]"#, "class")?;
    assert_eq!(unknown.as_deref(), Some("unknown"), "not violated, but not known to hold either");
    Ok(())
}

#[test]
fn the_spec_panel_follows_the_cursor_and_jumps_to_the_step_that_breaks_two_phase() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.select_option("#preset", "happy-path")?;
    browser.set_range_to_max("#scrubber")?;
    let card = r#"#spec section.spec-txn[data-txn="t1"]"#;
    browser.wait_for_text(&format!(r#"{card} tr[data-var="tmState"] td"#), "committed", DEFAULT_WAIT)?;
    assert_eq!(browser.count("#spec-break")?, 0, "the correct protocol refines TwoPhase");

    browser.select_option("#preset", "bug-commit-on-vote-timeout")?;
    browser.wait_for("#spec-break", DEFAULT_WAIT)?;
    let broken: u64 = browser
        .attr("#spec-break", "data-step")?
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| fail!("#spec-break names no step"))?;
    let text = browser.text("#spec-break")?;
    assert!(text.contains(&format!("step {broken} is no TwoPhase step")), "{text}");
    browser.click("#spec-break-jump")?;
    browser.wait_for_attr("#app", "data-step", &broken.to_string(), PLAYBACK_WAIT)?;
    browser.wait_for(&format!(r#"{card} .spec-action.broken"#), DEFAULT_WAIT)?;
    browser.wait_for_text(&format!(r#"{card} tr[data-var="tmState"] td"#), "committed", DEFAULT_WAIT)?;
    Ok(())
}
