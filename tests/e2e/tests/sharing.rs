//! End-to-end tests of sharing in the built playground (`dist/`): share links, the link kept in
//! the address bar, malformed links, embed mode, the documentation page with its embedded runs,
//! and the Mermaid export checked with the real Mermaid library.
//!
//! Each test serves the site and drives a browser of its own, so the tests are independent and
//! can run in parallel. They wait for the state they expect and never sleep blindly. Screenshots
//! land in `tests/e2e/screenshots/`.
//!
//! Run: `scripts/build-web.sh && cargo test -p commitlab-e2e --test sharing`
//! (the Mermaid test also needs `scripts/setup.sh --browser`, which installs Mermaid in `.tools/`).

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use commitlab_e2e::app::{cluster_node, open_app, start, step};
use commitlab_e2e::{fail, Browser, Probe, Result, Site, APP_START_WAIT, DEFAULT_WAIT};
use serde_json::{json, Value};

/// The scenario a page opens without a link, and after a link it cannot read.
const DEFAULT_PRESET: &str = "happy-path";
/// What every message about an unreadable link starts with.
const BAD_LINK_PREFIX: &str = "This link cannot be opened:";
/// Where `scripts/setup.sh --browser` installs Mermaid.
const MERMAID_JS: &str = ".tools/node_modules/mermaid/dist/mermaid.min.js";
/// How long Mermaid (a 3 MB script) may take to load and render on a busy 2-core machine.
const MERMAID_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Opens `url` as a new document: going through about:blank first makes sure that a URL which
/// differs from the current one only in its fragment still loads the page afresh, instead of
/// being a same-document navigation the running app could answer.
fn open_fresh(browser: &Browser, url: &str) -> Result<()> {
    browser.goto("about:blank")?;
    let blank = browser.js("return location.href;", vec![])?;
    if blank != json!("about:blank") {
        return Err(fail!("navigating to about:blank left the page at {blank}"));
    }
    browser.goto(url)
}

fn node_status(node: &str) -> String {
    format!(r#"section.node-state[data-node="{node}"] .node-status"#)
}

/// The page's own `window.location.href` (of the current frame).
fn location_href(browser: &Browser) -> Result<String> {
    let href = browser.js("return window.location.href;", vec![])?;
    href.as_str().map(str::to_string).ok_or_else(|| fail!("window.location.href is {href}"))
}

/// `#app[data-trace-hash]`, once it holds the 16 hex digits of a computed run.
fn trace_hash(browser: &Browser) -> Result<String> {
    browser.wait_until("#app[data-trace-hash] to hold 16 hex digits", DEFAULT_WAIT, |b| {
        Ok(match b.attr("#app", "data-trace-hash")? {
            Some(hash) if is_trace_hash(&hash) => Probe::Ready(hash),
            Some(hash) => Probe::NotYet(format!("data-trace-hash={hash:?}")),
            None => Probe::NotYet("no data-trace-hash attribute".into()),
        })
    })
}

fn is_trace_hash(text: &str) -> bool {
    text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Clicks `#step-forward` and waits for the cursor to move on by exactly one step.
fn step_forward(browser: &Browser) -> Result<u64> {
    let before = step(browser)?;
    browser.click("#step-forward")?;
    let what = format!("#app[data-step] to move on from {before}");
    let after = browser.wait_until(&what, DEFAULT_WAIT, |b| {
        Ok(match step(b)? {
            now if now != before => Probe::Ready(now),
            now => Probe::NotYet(format!("data-step={now}")),
        })
    })?;
    match after == before + 1 {
        true => Ok(after),
        false => Err(fail!("#step-forward moved data-step from {before} to {after}")),
    }
}

/// The `value` property of the first match (an input's or textarea's current text), once the
/// element exists and `accept` takes it.
fn wait_for_value(browser: &Browser, css: &str, what: &str, accept: impl Fn(&str) -> bool) -> Result<String> {
    const VALUE_JS: &str = r#"
        const el = document.querySelector(arguments[0]);
        return el === null ? null : String(el.value ?? '');
    "#;
    browser.wait_until(what, DEFAULT_WAIT, |b| {
        Ok(match b.js(VALUE_JS, vec![css.into()])? {
            Value::String(value) if accept(&value) => Probe::Ready(value),
            Value::String(value) => Probe::NotYet(format!("value {}", abbreviate(&value))),
            _ => Probe::NotYet(format!("no element matches `{css}`")),
        })
    })
}

/// Opens the Share panel and returns the link it offers.
fn share_link(browser: &Browser) -> Result<String> {
    browser.click("#share")?;
    wait_for_value(browser, "input#share-link", "the Share panel's input#share-link to hold a link", |value| {
        !value.is_empty()
    })
}

/// The address bar, once its fragment is a share link (`#s=1.`).
fn address_with_link(browser: &Browser) -> Result<String> {
    browser.wait_until("the address bar to hold a `#s=1.` link", DEFAULT_WAIT, |b| {
        let href = location_href(b)?;
        Ok(match href.contains("#s=1.") {
            true => Probe::Ready(href),
            false => Probe::NotYet(format!("location.href={href}")),
        })
    })
}

/// A long text cut for a failure message.
fn abbreviate(text: &str) -> String {
    const KEEP: usize = 160;
    match text.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{:?}... ({} chars)", &text[..cut], text.len()),
        None => format!("{text:?}"),
    }
}

#[test]
fn a_shared_link_replays_the_same_run_at_the_same_cursor() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let default_hash = trace_hash(&browser)?;

    browser.set_range("#scrubber", "20")?;
    browser.wait_for_text("#time", "20 ms", DEFAULT_WAIT)?;
    let n4 = cluster_node("n4");
    // Clicking toggles, so the node must be up before the click crashes it.
    browser.wait_for_class(&n4, "up", DEFAULT_WAIT)?;
    browser.click(&n4)?;
    browser.wait_for_class(&n4, "down", DEFAULT_WAIT)?;
    browser.wait_for_count("#faults li.fault", 1, DEFAULT_WAIT)?;
    step_forward(&browser)?;
    step_forward(&browser)?;

    let expected_hash = trace_hash(&browser)?;
    assert_ne!(
        expected_hash, default_hash,
        "crashing n4 should change #app[data-trace-hash], the identity of the computed run"
    );
    let expected_step = step(&browser)?;
    let expected_faults = browser.texts("#faults li.fault")?;
    assert!(
        expected_faults.iter().any(|fault| fault.contains("crash n4")),
        "the fault list should name `crash n4`, it reads {expected_faults:?}"
    );
    browser.wait_for_text_matching(&node_status("n4"), "n4's state to read DOWN", DEFAULT_WAIT, |t| {
        t.eq_ignore_ascii_case("down")
    })?;

    let link = share_link(&browser)?;
    assert!(
        link.starts_with(&site.url("/")) && link.contains("#s=1."),
        "the share link should be this page's address with a `#s=1.` fragment, it is {link:?}"
    );

    open_fresh(&browser, &link)?;
    browser.wait_for("svg#sequence", APP_START_WAIT)?;
    let url_now = location_href(&browser)?;
    assert!(url_now.contains("#s=1."), "the opened page's address lost its `#s=1.` fragment: {url_now}");
    browser.wait_for_attr("#app", "data-trace-hash", &expected_hash, DEFAULT_WAIT)?;
    browser.wait_for_attr("#app", "data-step", &expected_step.to_string(), DEFAULT_WAIT)?;
    browser.wait_until("the same faults as in the shared run", DEFAULT_WAIT, |b| {
        let faults = b.texts("#faults li.fault")?;
        Ok(match faults == expected_faults {
            true => Probe::Ready(()),
            false => Probe::NotYet(format!("{faults:?}, expected {expected_faults:?}")),
        })
    })?;
    browser.wait_for_text_matching(
        &node_status("n4"),
        "n4's state in the reopened run to read DOWN",
        DEFAULT_WAIT,
        |text| text.eq_ignore_ascii_case("down"),
    )?;
    browser.wait_for_class(&n4, "down", DEFAULT_WAIT)?;
    browser.screenshot("shared-link-reopened")?;
    Ok(())
}

#[test]
fn the_address_bar_always_holds_the_link_to_what_is_shown() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let at_load = address_with_link(&browser)?;
    for _ in 0..3 {
        step_forward(&browser)?;
    }
    let expected_step = step(&browser)?;
    let expected_hash = trace_hash(&browser)?;

    // The address bar and the Share panel must agree on the link to what is on screen now.
    let link = share_link(&browser)?;
    let address = browser.wait_until("the address bar to hold the Share panel's link", DEFAULT_WAIT, |b| {
        let href = location_href(b)?;
        Ok(match href == link {
            true => Probe::Ready(href),
            false => Probe::NotYet(format!("location.href={href}, share link={link}")),
        })
    })?;
    assert_ne!(address, at_load, "three steps later the address bar still holds the link it had at load");

    open_fresh(&browser, &address)?;
    browser.wait_for("svg#sequence", APP_START_WAIT)?;
    browser.wait_for_attr("#app", "data-step", &expected_step.to_string(), DEFAULT_WAIT)?;
    browser.wait_for_attr("#app", "data-trace-hash", &expected_hash, DEFAULT_WAIT)?;
    browser.screenshot("address-bar-reopened")?;
    Ok(())
}

#[test]
fn bad_links_show_a_message_and_the_default_scenario() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let default_hash = trace_hash(&browser)?;

    let cases = [
        ("/#s=1.bm90IGEgbGluaw", "damaged or cut short"),
        ("/#s=9.abc", "newer Commit Lab (link version 9)"),
        ("/#s=garbage", "not a Commit Lab link"),
    ];
    for (index, (path, reason)) in cases.into_iter().enumerate() {
        open_fresh(&browser, &site.url(path))?;
        browser.wait_for("svg#sequence", APP_START_WAIT)?;
        let what = format!("#message.error to explain why {path} cannot be opened");
        let message = browser
            .wait_for_text_matching("#message.error", &what, DEFAULT_WAIT, |text| text.starts_with(BAD_LINK_PREFIX))
            .map_err(|e| fail!("{path}: {e}"))?;
        assert!(message.contains(reason), "{path}: the message should say {reason:?}; it reads {message:?}");
        assert_eq!(
            browser.attr("#message", "role")?.as_deref(),
            Some("status"),
            "{path}: #message should be announced (role=status)"
        );
        browser
            .wait_for_attr("#app", "data-preset", DEFAULT_PRESET, DEFAULT_WAIT)
            .map_err(|e| fail!("{path}: the default scenario should be loaded: {e}"))?;
        let hash = trace_hash(&browser)?;
        assert_eq!(
            hash, default_hash,
            "{path}: the run shown is not the default one (trace hash of `/` is {default_hash})"
        );
        let address = browser.current_url()?;
        assert!(
            address.ends_with(path),
            "{path}: the address should keep the unreadable link until the reader acts; it is {address}"
        );
        if index == 0 {
            browser.screenshot("bad-link-message")?;
        }
    }
    // The first action replaces it with the link to what is on screen.
    browser.click("#step-forward")?;
    browser.wait_until("the address to hold a readable link", DEFAULT_WAIT, |browser| {
        let address = browser.current_url()?;
        Ok(if address.contains("#s=1.") { Probe::Ready(()) } else { Probe::NotYet(address) })
    })?;
    Ok(())
}

/// One `<iframe>` of the docs page as its HTML writes it.
struct DocFrame {
    /// The `src` attribute as written (`../?embed&view=...#s=1....`).
    attribute: String,
    /// The absolute URL it resolves to.
    url: String,
}

impl DocFrame {
    /// The query's `key=value` pairs (a bare key has an empty value).
    fn query(&self) -> Vec<(String, String)> {
        let query = self.attribute.split('#').next().unwrap_or_default();
        let query = query.split_once('?').map_or("", |(_, query)| query);
        query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key.to_string(), value.to_string())
            })
            .collect()
    }

    fn view(&self) -> String {
        self.query().into_iter().find(|(key, _)| key == "view").map_or_else(|| "all".to_string(), |(_, value)| value)
    }

    fn autoplay(&self) -> bool {
        self.query().iter().any(|(key, value)| key == "autoplay" && matches!(value.as_str(), "" | "1" | "true"))
    }
}

/// The views an embed shows for `view=`, and the ones it must leave out.
fn embed_views(view: &str) -> Result<(Vec<&'static str>, Vec<&'static str>)> {
    const ALL: [&str; 3] = ["svg#sequence", "svg#cluster", "#tables"];
    let shown: Vec<&str> = match view {
        "sequence" => vec!["svg#sequence"],
        "cluster" => vec!["svg#cluster"],
        "tables" => vec!["#tables"],
        "all" => ALL.to_vec(),
        other => return Err(fail!("the docs page embeds an unknown view={other:?}")),
    };
    let hidden = ALL.into_iter().filter(|css| !shown.contains(css)).collect();
    Ok((shown, hidden))
}

#[test]
fn the_docs_page_renders_every_embedded_frame() -> Result<()> {
    let (site, browser) = start();
    let docs_url = site.url("/docs/");
    browser.goto(&docs_url)?;
    browser.wait_for_count("iframe", 9, DEFAULT_WAIT)?;
    let top_url = browser.current_url()?;
    assert_eq!(top_url, docs_url, "the docs page's address after loading");

    const FRAMES_JS: &str = r#"
        return Array.from(document.querySelectorAll('iframe'),
            (f) => ({ attribute: f.getAttribute('src') || '', url: f.src }));
    "#;
    let listed = browser.js(FRAMES_JS, vec![])?;
    let frames: Vec<DocFrame> = listed
        .as_array()
        .ok_or_else(|| fail!("listing the iframes gave {listed}"))?
        .iter()
        .map(|frame| DocFrame {
            attribute: frame["attribute"].as_str().unwrap_or_default().to_string(),
            url: frame["url"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    assert!(frames.iter().any(DocFrame::autoplay), "no iframe of the docs page autoplays, so autoplay goes untested");

    // Asked from the docs page: the frames are same-origin, so their documents can be read.
    const FRAME_STATE_JS: &str = r#"
        const frame = document.querySelectorAll('iframe')[arguments[0]];
        if (arguments[1]) frame.scrollIntoView({ block: 'center' });
        const doc = frame.contentDocument;
        if (doc === null) return { ready: false, seen: 'no document in the frame yet' };
        const app = doc.querySelector('#app.embed');
        return { ready: app !== null,
                 seen: `frame at ${doc.location.href}, ${doc.readyState}, #app.embed ${app ? 'present' : 'absent'}` };
    "#;
    for (index, frame) in frames.iter().enumerate() {
        let at = u16::try_from(index).map_err(|_| fail!("iframe index {index} out of range"))?;
        let view = frame.view();
        let (shown, hidden) = embed_views(&view)?;
        let label = format!("iframe {index} ({})", abbreviate(&frame.attribute));

        // The frames load lazily: bring each into view, then wait for its app from outside.
        browser.js(FRAME_STATE_JS, vec![json!(index), json!(true)])?;
        browser.wait_until(&format!("{label} to start its embedded app"), APP_START_WAIT, |b| {
            let state = b.js(FRAME_STATE_JS, vec![json!(index), json!(false)])?;
            Ok(match state["ready"].as_bool() {
                Some(true) => Probe::Ready(()),
                _ => Probe::NotYet(state["seen"].as_str().unwrap_or_default().to_string()),
            })
        })?;

        browser
            .within_frame(at, |b| {
                b.wait_for("#app.embed", DEFAULT_WAIT)?;
                for css in &shown {
                    b.wait_for(css, DEFAULT_WAIT)?;
                }
                for css in &hidden {
                    let count = b.count(css)?;
                    if count != 0 {
                        return Err(fail!("view={view} should not show `{css}`, found {count}"));
                    }
                }
                let errors = b.count("#message.error")?;
                if errors != 0 {
                    return Err(fail!("the embed reports an error: {:?}", b.text("#message.error")?));
                }
                let open_full = b.attr("a#open-full", "href")?.ok_or_else(|| fail!("a#open-full has no href"))?;
                let link = open_full.contains("#s=1.") || open_full.contains("#c=1.");
                if !link || open_full.contains("embed") || open_full.contains('?') {
                    return Err(fail!(
                        "a#open-full should link to the full playground (no query, no `embed`) with a \
                         `#s=1.` (or, for a comparison, `#c=1.`) fragment; its href is {open_full:?}"
                    ));
                }
                if frame.autoplay() {
                    b.wait_until("the autoplaying embed to play (or have played to the end)", DEFAULT_WAIT, |b| {
                        let playing = b.attr("#app", "data-playing")?;
                        let at_end = b.attr("#app", "data-at-end")?;
                        Ok(match (playing.as_deref(), at_end.as_deref()) {
                            (Some("true"), _) | (_, Some("true")) => Probe::Ready(()),
                            seen => Probe::NotYet(format!("data-playing, data-at-end = {seen:?}")),
                        })
                    })?;
                }
                // Embeds never rewrite their address, even after playing.
                let href = location_href(b)?;
                if href != frame.url {
                    return Err(fail!("the embed's address changed from {} to {href}", frame.url));
                }
                Ok(())
            })
            .map_err(|e| fail!("{label}: {e}"))?;

        let now = browser.current_url()?;
        assert_eq!(now, top_url, "the docs page's address changed while checking {label}");
        browser.screenshot(&format!("docs-frame-{index}"))?;
    }
    assert_eq!(location_href(&browser)?, top_url, "the docs page's own location.href at the end");
    Ok(())
}

#[test]
fn embed_mode_shows_the_chosen_view_and_keeps_the_url() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    let default_link = address_with_link(&browser)?;
    let fragment = &default_link[default_link.find('#').expect("the link has a fragment")..];

    let embed_url = site.url(&format!("/?embed&view=cluster&controls=none{fragment}"));
    open_fresh(&browser, &embed_url)?;
    browser.wait_for("#app.embed", APP_START_WAIT)?;
    browser.wait_for("svg#cluster", DEFAULT_WAIT)?;
    assert_eq!(browser.count("svg#sequence")?, 0, "view=cluster should not show svg#sequence");
    assert_eq!(browser.count("#play")?, 0, "controls=none should not show a #play button");
    assert_eq!(location_href(&browser)?, embed_url, "the embed's address after loading");

    let hash_before = trace_hash(&browser)?;
    let open_full_before = browser.attr("a#open-full", "href")?.ok_or_else(|| fail!("a#open-full has no href"))?;
    let n4 = cluster_node("n4");
    browser.wait_for_class(&n4, "up", DEFAULT_WAIT)?;
    browser.click(&n4)?;
    browser.wait_for_class(&n4, "down", DEFAULT_WAIT)?;
    let hash_after = browser.wait_until("the crash to change the run's trace hash", DEFAULT_WAIT, |b| {
        let hash = trace_hash(b)?;
        Ok(match hash != hash_before {
            true => Probe::Ready(hash),
            false => Probe::NotYet(format!("data-trace-hash={hash}")),
        })
    })?;
    // "Open in Commit Lab" must follow the run, crash included.
    let open_full = browser.wait_until("a#open-full to link to the run with the crash", DEFAULT_WAIT, |b| {
        let href = b.attr("a#open-full", "href")?.unwrap_or_default();
        Ok(match href != open_full_before && href.contains("#s=1.") {
            true => Probe::Ready(href),
            false => Probe::NotYet(format!("href={href}")),
        })
    })?;
    assert_eq!(location_href(&browser)?, embed_url, "embed mode rewrote its address after a node was crashed");
    browser.screenshot("embed-cluster-crashed")?;

    // The link out opens the full playground on the same run.
    assert!(
        open_full.starts_with(&site.url("/#s=1.")),
        "a#open-full should point at the full playground on this server, it is {open_full:?}"
    );
    open_fresh(&browser, &open_full)?;
    browser.wait_for("svg#sequence", APP_START_WAIT)?;
    assert_eq!(browser.count("#app.embed")?, 0, "a#open-full opened an embed, not the full playground");
    browser.wait_for_attr("#app", "data-trace-hash", &hash_after, DEFAULT_WAIT)?;
    let faults = browser.texts("#faults li.fault")?;
    assert!(
        faults.iter().any(|fault| fault.contains("crash n4")),
        "the full playground opened from the embed should list `crash n4`, it lists {faults:?}"
    );
    Ok(())
}

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Renders Mermaid text with the real library and stores `{ ok, svg }` or `{ ok, error }` in
/// `window.__result`. The text comes from the file named by `?text=`.
const MERMAID_PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Mermaid check</title></head>
<body>
<div id="out"></div>
<script src="mermaid.min.js"></script>
<script>
window.__result = null;
(async () => {
  try {
    if (typeof mermaid === 'undefined') throw new Error('mermaid.min.js did not load');
    const name = new URLSearchParams(location.search).get('text');
    const response = await fetch(name);
    if (!response.ok) throw new Error(`GET ${name}: HTTP ${response.status}`);
    const text = await response.text();
    mermaid.initialize({ startOnLoad: false });
    const { svg } = await mermaid.render('diagram', text);
    document.getElementById('out').innerHTML = svg;
    window.__result = { ok: true, svg };
  } catch (error) {
    const message = (error && (error.message || error.str)) || String(error);
    window.__result = { ok: false, error: String(message) };
  }
})();
</script>
</body>
</html>
"#;

/// A folder holding the Mermaid check page, the library, and one text file per diagram.
fn mermaid_folder(diagrams: &[(&str, &str)]) -> Result<Scratch> {
    let library = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(MERMAID_JS);
    if !library.is_file() {
        return Err(fail!("Mermaid is missing: no {}; run scripts/setup.sh --browser", library.display()));
    }
    static FOLDERS: AtomicUsize = AtomicUsize::new(0);
    let name = format!("commitlab-e2e-mermaid-{}-{}", std::process::id(), FOLDERS.fetch_add(1, Ordering::SeqCst));
    let dir = Scratch(std::env::temp_dir().join(name));
    let _ = fs::remove_dir_all(&dir.0);
    let io = |e: std::io::Error| fail!("cannot prepare {}: {e}", dir.0.display());
    fs::create_dir_all(&dir.0).map_err(io)?;
    fs::copy(&library, dir.0.join("mermaid.min.js")).map_err(io)?;
    fs::write(dir.0.join("index.html"), MERMAID_PAGE).map_err(io)?;
    for (name, text) in diagrams {
        fs::write(dir.0.join(name), text).map_err(io)?;
    }
    Ok(dir)
}

/// Clicks `#export` unless its panel is open; returns the Mermaid text once `accept` takes it.
fn exported_mermaid(browser: &Browser, what: &str, accept: impl Fn(&str) -> bool) -> Result<String> {
    if browser.attr("#export", "aria-expanded")?.as_deref() != Some("true") {
        browser.click("#export")?;
    }
    let text = wait_for_value(browser, "textarea#mermaid-text", what, |text| !text.is_empty() && accept(text))?;
    if !text.starts_with("sequenceDiagram") {
        return Err(fail!(
            "textarea#mermaid-text should start with `sequenceDiagram`; it starts {}",
            abbreviate(&text)
        ));
    }
    Ok(text)
}

/// The line Mermaid's parse error points at ("Parse error on line N"), for the failure message.
fn offending_line(error: &str, text: &str) -> String {
    let number = error
        .split("line ")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse::<usize>().ok());
    match number.and_then(|n| Some((n, text.lines().nth(n.checked_sub(1)?)?))) {
        Some((n, line)) => format!("\noffending line {n}: {line:?}"),
        None => String::new(),
    }
}

/// Opens the check page for `file` and returns the SVG Mermaid made of it.
fn render_with_mermaid(browser: &Browser, site: &Site, file: &str, text: &str) -> Result<String> {
    browser.goto(&site.url(&format!("/index.html?text={file}")))?;
    let result = browser.wait_until(&format!("Mermaid to render {file}"), MERMAID_WAIT, |b| {
        let result = b.js("return window.__result ?? null;", vec![])?;
        Ok(match result {
            Value::Null => Probe::NotYet("window.__result is still null".into()),
            result => Probe::Ready(result),
        })
    })?;
    match result["ok"].as_bool() {
        Some(true) => Ok(result["svg"].as_str().unwrap_or_default().to_string()),
        _ => {
            let error = result["error"].as_str().unwrap_or("(no message)");
            Err(fail!(
                "Mermaid 11 rejected the exported text of {file}:\n{error}{}\n--- exported text ---\n{text}",
                offending_line(error, text)
            ))
        }
    }
}

fn assert_svg_mentions(svg: &str, file: &str, expected: &[&str]) -> Result<()> {
    let missing: Vec<&&str> = expected.iter().filter(|needle| !svg.contains(**needle)).collect();
    match missing.is_empty() {
        true => Ok(()),
        false => Err(fail!("the SVG Mermaid rendered from {file} lacks {missing:?} ({} chars of SVG)", svg.len())),
    }
}

#[test]
fn the_exported_mermaid_renders_with_the_real_mermaid_library() -> Result<()> {
    let (site, browser) = start();
    open_app(&site, &browser, "/")?;
    browser.wait_for_attr("#app", "data-preset", DEFAULT_PRESET, DEFAULT_WAIT)?;
    let happy = exported_mermaid(&browser, "the Export panel's Mermaid text", |_| true)?;

    browser.select_option("#preset", "coordinator-crash-after-prepare")?;
    browser.wait_for_attr("#app", "data-preset", "coordinator-crash-after-prepare", DEFAULT_WAIT)?;
    let crash =
        exported_mermaid(&browser, "the Mermaid text of coordinator-crash-after-prepare", |text| text != happy)?;
    // What makes this preset worth rendering: crash notes and lost messages.
    assert!(crash.contains(" CRASH"), "the exported coordinator-crash-after-prepare run has no crash note:\n{crash}");
    assert!(
        crash.lines().any(|line| line.contains("-x")),
        "the exported coordinator-crash-after-prepare run has no dropped message (`-x`):\n{crash}"
    );

    // A replicated run exports in seed 002's shape: groups, their replication rounds, no Raft chatter.
    let replicated_preset = "raft-coordinator-leader-crash";
    browser.select_option("#preset", replicated_preset)?;
    browser.wait_for_attr("#app", "data-preset", replicated_preset, DEFAULT_WAIT)?;
    let replicated = exported_mermaid(&browser, "the Mermaid text of a replicated run", |text| text != crash)?;
    assert!(replicated.contains("participant TM as TM (n10, n11, n12)"), "{replicated}");
    assert!(replicated.contains("replicated [2] Prepared(t1, n1, n4)"), "{replicated}");
    assert!(!replicated.contains("AppendEntries"), "Raft messages stay inside the groups:\n{replicated}");

    let files = [
        ("happy-path.txt", happy.as_str()),
        ("coordinator-crash-after-prepare.txt", crash.as_str()),
        ("raft-coordinator-leader-crash.txt", replicated.as_str()),
    ];
    let folder = mermaid_folder(&files)?;
    let mermaid_site = Site::start_in(&folder.0);
    let mut failures = Vec::new();
    for (file, text) in files {
        let rendered = render_with_mermaid(&browser, &mermaid_site, file, text).and_then(|svg| {
            let mut expected = match file.starts_with("raft-") {
                true => vec!["TM (n10, n11, n12)", "C2 (n4, n5, n6)", "Prepare t1", "replicated", "CRASH n10"],
                false => vec!["n1 (C1)", "n4 (C2)", "Prepare t1"],
            };
            if file.starts_with("coordinator-crash") {
                expected.push("CRASH");
            }
            assert_svg_mentions(&svg, file, &expected)
        });
        let shot = file.trim_end_matches(".txt");
        browser.screenshot(&format!("mermaid-{shot}"))?;
        if let Err(failure) = rendered {
            failures.push(failure.message().to_string());
        }
    }
    match failures.is_empty() {
        true => Ok(()),
        false => Err(fail!("{}", failures.join("\n\n"))),
    }
}
