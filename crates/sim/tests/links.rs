//! Released share links keep working: `tests/links/v<N>/<name>.link` holds a link as it was made
//! by link version N, `<name>.json` the scenario and view it must still decode to, and
//! `<name>.hash` the trace hash of its whole run, so that no change to the protocol or the
//! simulator can alter what an old link shows unnoticed (fixes that change runs go behind a
//! protocol revision: see `Scenario::protocol`).
//!
//! `COMMITLAB_BLESS=1 cargo test -p commitlab-sim --test links` adds the current version's link of
//! any preset that has none yet. It never rewrites a pinned link: those are promises to users.

use commitlab_sim::link::{decode, encode, LINK_VERSION};
use commitlab_sim::simulation::trace_hash;
use commitlab_sim::{Scenario, Shared, Simulation, TraceEntry, TraceEvent, View, PRESETS};
use std::path::{Path, PathBuf};

fn links_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/links")
}

fn expected_json(shared: &Shared) -> String {
    let value = serde_json::json!({ "scenario": shared.scenario, "view": shared.view });
    serde_json::to_string_pretty(&value).expect("serialisable") + "\n"
}

fn parse_expected(text: &str) -> Shared {
    let value: serde_json::Value = serde_json::from_str(text).expect("pinned JSON");
    Shared {
        scenario: Scenario::from_json(&value["scenario"].to_string()).expect("pinned scenario"),
        view: serde_json::from_value(value["view"].clone()).expect("pinned view"),
    }
}

#[test]
fn every_preset_has_a_pinned_link() {
    let dir = links_dir().join(format!("v{LINK_VERSION}"));
    let bless = std::env::var_os("COMMITLAB_BLESS").is_some();
    let mut missing = Vec::new();
    for preset in PRESETS {
        let path = dir.join(format!("{}.link", preset.name));
        if path.exists() {
            continue;
        }
        if !bless {
            missing.push(preset.name);
            continue;
        }
        std::fs::create_dir_all(&dir).expect("create the links folder");
        let shared = Shared { scenario: (preset.build)(), view: View { step: Some(5), ..View::default() } };
        std::fs::write(&path, format!("#s={}\n", encode(&shared).expect("presets fit in a link"))).expect("write link");
        std::fs::write(path.with_extension("json"), expected_json(&shared)).expect("write expectation");
    }
    assert!(missing.is_empty(), "presets without a pinned link: {missing:?}; pin them with COMMITLAB_BLESS=1");
}

#[test]
fn every_released_link_still_decodes_to_its_scenario() {
    let mut checked = 0;
    for path in released_links() {
        {
            let link = std::fs::read_to_string(&path).expect("readable link");
            let expected = parse_expected(
                &std::fs::read_to_string(path.with_extension("json")).expect("expectation beside the link"),
            );
            let decoded = decode(&link).unwrap_or_else(|error| panic!("{} no longer decodes: {error}", path.display()));
            assert_eq!(decoded, expected, "{} decodes to another scenario", path.display());
            checked += 1;
        }
    }
    assert!(checked >= PRESETS.len(), "only {checked} pinned links found: run with COMMITLAB_BLESS=1 to pin today's");
}

/// Every `.link` file under `tests/links`, in a stable order.
fn released_links() -> Vec<PathBuf> {
    let mut links = Vec::new();
    for version in std::fs::read_dir(links_dir()).expect("tests/links exists") {
        let version = version.expect("entry").path();
        for entry in std::fs::read_dir(&version).expect("a version folder") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|extension| extension == "link") {
                links.push(path);
            }
        }
    }
    links.sort();
    links
}

/// The hash of the run's events: what happened, without the checker's verdicts on it (a new
/// invariant may judge an old run; it must not change it).
fn whole_run_hash(scenario: Scenario) -> String {
    let mut simulation = Simulation::new(scenario).expect("a released link holds a valid scenario");
    simulation.run_to_end();
    let events: Vec<TraceEntry> =
        simulation.trace().iter().filter(|entry| !matches!(entry.event, TraceEvent::Violation(_))).cloned().collect();
    format!("{:016x} {} steps\n", trace_hash(&events), simulation.total_steps())
}

#[test]
fn every_released_link_replays_its_pinned_run() {
    let bless = std::env::var_os("COMMITLAB_BLESS").is_some();
    let mut changed = Vec::new();
    for path in released_links() {
        let link = std::fs::read_to_string(&path).expect("readable link");
        let shared = decode(&link).unwrap_or_else(|error| panic!("{} no longer decodes: {error}", path.display()));
        let actual = whole_run_hash(shared.scenario);
        let hash_path = path.with_extension("hash");
        match std::fs::read_to_string(&hash_path) {
            Ok(pinned) if pinned == actual => {}
            Ok(pinned) => changed.push(format!("{}: pinned {} now {}", path.display(), pinned.trim(), actual.trim())),
            Err(_) if bless => std::fs::write(&hash_path, &actual).expect("write the hash"),
            Err(_) => changed.push(format!("{}: no pinned hash; pin it with COMMITLAB_BLESS=1", path.display())),
        }
    }
    assert!(changed.is_empty(), "released links replay differently:\n{}", changed.join("\n"));
}

#[test]
fn the_current_format_reproduces_the_pinned_links_of_unchanged_presets() {
    // While the format stays the same, encoding a preset gives its pinned link back: a change here
    // means a new link version, and the old links must keep decoding (the test above).
    let dir = links_dir().join(format!("v{LINK_VERSION}"));
    for preset in PRESETS {
        let path = dir.join(format!("{}.link", preset.name));
        let Ok(pinned) = std::fs::read_to_string(&path) else { continue };
        let expected = parse_expected(&std::fs::read_to_string(path.with_extension("json")).expect("expectation"));
        if expected.scenario != (preset.build)() {
            continue;
        }
        assert_eq!(format!("#s={}\n", encode(&expected).expect("fits")), pinned, "{}", preset.name);
    }
}
