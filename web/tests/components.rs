//! Component tests in headless Chromium: the real app mounted in a real page.
#![cfg(target_arch = "wasm32")]

use commitlab_web::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlInputElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts a fresh playground in its own element.
async fn mount() -> Element {
    let document = web_sys::window().expect("window").document().expect("document");
    let root = document.create_element("div").expect("div");
    document.body().expect("body").append_child(&root).expect("append");
    yew::Renderer::<App>::with_root(root.clone()).render();
    yew::scheduler::flush().await;
    root
}

fn find(root: &Element, selector: &str) -> Element {
    root.query_selector(selector).expect("valid selector").unwrap_or_else(|| panic!("no element matches {selector}"))
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector).expect("valid selector").length()
}

async fn click(root: &Element, selector: &str) {
    // SVG elements have no click(): send every element a real bubbling click event.
    let init = web_sys::MouseEventInit::new();
    init.set_bubbles(true);
    let event = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", &init).expect("click event");
    find(root, selector).dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

async fn type_into(element: &Element, value: &str) {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    }
    let init = web_sys::InputEventInit::new();
    init.set_bubbles(true);
    let event = web_sys::InputEvent::new_with_event_init_dict("input", &init).expect("input event");
    element.dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn the_default_scenario_renders_its_lanes_and_arrows() {
    let root = mount().await;
    assert_eq!(count(&root, "svg#sequence g.lane"), 4, "client, n1, n4, n7");
    assert_eq!(count(&root, "svg#sequence g.arrow"), 0, "nothing sent at time 0");
    type_into(&find(&root, "#scrubber"), "60").await;
    assert_eq!(find(&root, "#time").text_content().as_deref(), Some("60 ms"));
    assert!(count(&root, "svg#sequence g.arrow.delivered") >= 8, "the run's messages are drawn");
    let prepare = find(&root, r#"svg#sequence g.arrow[data-message="m2"]"#);
    assert!(prepare.text_content().unwrap_or_default().contains("Prepare t1"), "arrows carry the canonical label");
    let balance = find(&root, r#"section.node-state[data-node="n1"] td.balance[data-account="1001"]"#);
    assert_eq!(balance.text_content().as_deref(), Some("90"));
}

#[wasm_bindgen_test]
async fn clicking_a_node_records_a_crash_fault() {
    let root = mount().await;
    type_into(&find(&root, "#scrubber"), "20").await;
    click(&root, r#"svg#cluster g.node[data-node="n4"]"#).await;
    let node = find(&root, r#"svg#cluster g.node[data-node="n4"]"#);
    assert!(node.class_list().contains("down"), "n4 is drawn down");
    assert_eq!(count(&root, "#faults li.fault"), 1);
    let fault = find(&root, "#faults li.fault").text_content().unwrap_or_default();
    assert!(fault.contains("crash n4"), "{fault}");
    assert_eq!(count(&root, r#"svg#sequence .crash-mark[data-node="n4"]"#), 1);
    click(&root, r#"svg#cluster g.node[data-node="n4"]"#).await;
    assert!(
        find(&root, r#"svg#cluster g.node[data-node="n4"]"#).class_list().contains("up"),
        "a second click restarts it"
    );
    assert_eq!(count(&root, "#faults li.fault"), 2);
}

#[wasm_bindgen_test]
async fn the_json_editor_shows_a_validation_error_and_keeps_the_last_valid_scenario() {
    let root = mount().await;
    click(&root, r#".editor [role="tab"]:nth-child(2)"#).await;
    let area = find(&root, "#scenario-json");
    type_into(&area, r#"{"version": 1, "topology": {"shards": []}}"#).await;
    click(&root, "#apply-json").await;
    let error = find(&root, "#editor-error").text_content().unwrap_or_default();
    assert!(error.contains("topology.shards") && error.contains("at least one shard"), "{error}");
    assert_eq!(count(&root, "svg#sequence g.lane"), 4, "the last valid scenario keeps running");
    type_into(&find(&root, "#scenario-json"), "{ not json").await;
    click(&root, "#apply-json").await;
    let error = find(&root, "#editor-error").text_content().unwrap_or_default();
    assert!(error.contains("cannot be read (line 1, column"), "{error}");
}

#[wasm_bindgen_test]
async fn the_share_button_shows_a_link_to_this_run_and_cursor() {
    let root = mount().await;
    type_into(&find(&root, "#scrubber"), "20").await;
    click(&root, r#"svg#cluster g.node[data-node="n1"]"#).await;
    click(&root, "#share").await;
    let input = find(&root, "#share-link").dyn_into::<HtmlInputElement>().expect("an input");
    let url = input.value();
    let (_, fragment) = url.split_once('#').expect("a fragment");
    let shared = commitlab_sim::link::decode(fragment).expect("the link decodes");
    assert_eq!(shared.scenario.faults.len(), 1, "the crash travels with the link");
    assert_eq!(shared.scenario.faults[0].to_string(), "at 20 ms: crash n1");
    let step: u64 = find(&root, "#app").get_attribute("data-step").expect("data-step").parse().expect("a number");
    assert_eq!(shared.view.step, Some(step), "the link lands on the same cursor");
}

#[wasm_bindgen_test]
async fn arrow_keys_step_and_space_plays() {
    let root = mount().await;
    let step = |root: &Element| -> u64 {
        find(root, "#app").get_attribute("data-step").expect("data-step").parse().expect("a number")
    };
    let press = |key: &str| {
        let init = web_sys::KeyboardEventInit::new();
        init.set_key(key);
        init.set_bubbles(true);
        let event = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("key event");
        web_sys::window().expect("window").dispatch_event(&event).expect("dispatch");
    };
    let before = step(&root);
    press("ArrowRight");
    yew::scheduler::flush().await;
    assert_eq!(step(&root), before + 1);
    press("ArrowLeft");
    yew::scheduler::flush().await;
    assert_eq!(step(&root), before);
    press(" ");
    yew::scheduler::flush().await;
    assert_eq!(find(&root, "#app").get_attribute("data-playing").as_deref(), Some("true"));
    press(" ");
    yew::scheduler::flush().await;
    assert_eq!(find(&root, "#app").get_attribute("data-playing").as_deref(), Some("false"));
}

/// Picks a preset in the scenario menu, as a reader does.
async fn choose_preset(root: &Element, name: &str) {
    let select = find(root, "select#preset");
    select.dyn_ref::<web_sys::HtmlSelectElement>().expect("a select").set_value(name);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("change", &init).expect("change event");
    select.dispatch_event(&event).expect("dispatch");
    yew::scheduler::flush().await;
}

#[wasm_bindgen_test]
async fn a_replicated_preset_draws_group_lanes_crowns_and_raft_tables() {
    let root = mount().await;
    choose_preset(&root, "raft-seed-002").await;
    type_into(&find(&root, "#scrubber"), "180").await;
    assert_eq!(count(&root, "svg#sequence g.lane"), 4, "client, C1, C2, C3");
    assert_eq!(count(&root, "svg#sequence g.group-lane"), 3);
    assert_eq!(count(&root, r#"svg#sequence g.arrow.kind-AppendEntries"#), 0, "Raft traffic hidden while collapsed");
    assert!(count(&root, "svg#sequence g.round") >= 2, "replication rounds drawn on the group lanes");
    let prepared = find(&root, r#"svg#sequence g.round[data-node="n1"][data-index="2"]"#);
    assert!(prepared.text_content().unwrap_or_default().contains("Prepared(t1)"));
    assert!(prepared.class_list().contains("committed"));
    let votes = root.query_selector_all("svg#sequence g.arrow.kind-VoteYes").expect("selector");
    let labels: Vec<String> = (0..votes.length()).filter_map(|index| votes.item(index)?.text_content()).collect();
    assert!(labels.iter().any(|label| label.contains("n4: Vote t1 YES")), "the sending replica is named: {labels:?}");
    assert_eq!(count(&root, "svg#cluster g.group"), 3);
    assert_eq!(count(&root, "svg#cluster g.replica"), 9);
    for leader in ["n1", "n4", "n7"] {
        let replica = find(&root, &format!(r#"svg#cluster g.replica[data-node="{leader}"]"#));
        assert!(replica.class_list().contains("leader"), "{leader} leads");
        assert!(replica.query_selector(".crown").expect("selector").is_some(), "{leader} is crowned");
    }
    assert_eq!(count(&root, "svg#cluster g.replica.leader"), 3);
    assert!(count(&root, "svg#cluster g.election-timer") >= 6, "followers' election timers run down");
    let follower = find(&root, r#"section.node-state[data-node="n2"]"#);
    assert_eq!(follower.query_selector_all("table.raft-log tbody tr[data-index]").expect("selector").length(), 4);
    let role = find(&root, r#"section.node-state[data-node="n2"] table.raft-state tr[data-field="role"] td"#);
    assert_eq!(role.text_content().as_deref(), Some("follower"));
    type_into(&find(&root, "#scrubber"), "400").await;
    let applied = find(&root, r#"section.node-state[data-node="n5"] td.balance[data-account="3001"]"#);
    assert_eq!(applied.text_content().as_deref(), Some("60"), "a follower shows the applied prepare");
}

#[wasm_bindgen_test]
async fn a_group_lane_expands_into_replicas_with_raft_arrows_and_collapses_again() {
    let root = mount().await;
    choose_preset(&root, "raft-seed-002").await;
    type_into(&find(&root, "#scrubber"), "60").await;
    click(&root, r#"svg#sequence g.group-header[data-group="C1"]"#).await;
    assert_eq!(count(&root, "svg#sequence g.lane"), 6, "client, n1, n2, n3, C2, C3");
    assert!(count(&root, r#"svg#sequence g.lane-header[data-endpoint="n2"]"#) == 1);
    assert!(count(&root, "svg#sequence g.arrow.kind-AppendEntries") > 0, "C1's Raft messages are shown");
    assert!(count(&root, r#"svg#sequence g.lane-header[data-endpoint="n1"] .crown"#) == 1, "n1 is crowned");
    click(&root, r#"svg#sequence g.group-header[data-group="C1"]"#).await;
    assert_eq!(count(&root, "svg#sequence g.lane"), 4);
    assert_eq!(count(&root, "svg#sequence g.arrow.kind-AppendEntries"), 0);
}

#[wasm_bindgen_test]
async fn clicking_a_replica_crashes_it_and_the_editor_offers_replication() {
    let root = mount().await;
    choose_preset(&root, "raft-seed-002").await;
    type_into(&find(&root, "#scrubber"), "150").await;
    click(&root, r#"svg#cluster g.replica[data-node="n1"]"#).await;
    assert!(find(&root, r#"svg#cluster g.replica[data-node="n1"]"#).class_list().contains("down"));
    let fault = find(&root, "#faults li.fault").text_content().unwrap_or_default();
    assert!(fault.contains("crash n1"), "{fault}");
    let engine = find(&root, r#"select[aria-label="Replication engine"]"#);
    assert_eq!(engine.dyn_ref::<web_sys::HtmlSelectElement>().expect("select").value(), "raft");
    assert_eq!(count(&root, r#"input[aria-label^="Bug static_leader"]"#), 1);
    type_into(&find(&root, r#"input[aria-label="heartbeat (ms)"]"#), "900").await;
    click(&root, "#apply-form").await;
    let error = find(&root, "#editor-error").text_content().unwrap_or_default();
    assert!(error.contains("replication.heartbeat_ms"), "{error}");
}

#[wasm_bindgen_test]
async fn a_partition_cuts_through_the_group_it_splits_and_names_each_replicas_side() {
    let root = mount().await;
    choose_preset(&root, "raft-stale-leader").await;
    type_into(&find(&root, "#scrubber"), "60").await;
    assert_eq!(count(&root, "svg#cluster line.cut-line"), 0, "connected: no cut");
    assert_eq!(count(&root, "svg#cluster text.side-tag"), 0);
    // At 90 ms the TM group's leader n10 is cut off from everyone else.
    type_into(&find(&root, "#scrubber"), "150").await;
    let cuts = root.query_selector_all("svg#cluster line.cut-line").expect("selector");
    let between: Vec<String> = (0..cuts.length())
        .filter_map(|index| cuts.item(index)?.dyn_into::<Element>().ok()?.get_attribute("data-between"))
        .collect();
    assert_eq!(between, ["n10 n11"], "one cut, inside the TM group, between n10 and its followers");
    let side = |node: &str| {
        find(&root, &format!(r#"svg#cluster g.replica[data-node="{node}"] text.side-tag"#))
            .text_content()
            .unwrap_or_default()
    };
    assert!(side("n10").starts_with('A') && side("n11").starts_with('B') && side("n1").starts_with('B'));
    let text = find(&root, "svg#cluster text.partition-text").text_content().unwrap_or_default();
    assert!(text.starts_with("partition: A {n10} | B {n1,"), "{text}");
}

#[wasm_bindgen_test]
async fn with_every_group_expanded_heartbeats_lose_their_labels_and_headers_shorten() {
    let root = mount().await;
    choose_preset(&root, "raft-seed-002").await;
    type_into(&find(&root, "#scrubber"), "140").await;
    for group in ["C1", "C2", "C3"] {
        click(&root, &format!(r#"svg#sequence g.group-header[data-group="{group}"]"#)).await;
    }
    assert_eq!(count(&root, "svg#sequence g.lane"), 10, "the client and nine replicas");
    let appends = root.query_selector_all("svg#sequence g.arrow.kind-AppendEntries").expect("selector");
    let labels: Vec<String> = (0..appends.length())
        .filter_map(|index| appends.item(index)?.dyn_into::<Element>().ok()?.query_selector("text.label").ok()?)
        .filter_map(|label| label.text_content())
        .collect();
    assert!(appends.length() > labels.len() as u32, "some AppendEntries are heartbeats, drawn without a label");
    assert!(labels.iter().all(|label| label.starts_with("append ")), "{labels:?}");
    assert!(labels.iter().any(|label| label == "append 2 Prepared(t1)"), "{labels:?}");
    let subtitle = find(&root, r#"svg#sequence g.lane-header[data-endpoint="n2"] text.subtitle"#);
    assert_eq!(subtitle.text_content().as_deref(), Some("t1"), "a follower shows its term");
}

#[wasm_bindgen_test]
async fn the_progress_box_tells_running_from_stuck_and_not_judged() {
    let root = mount().await;
    type_into(&find(&root, "#scrubber"), "5").await;
    let progress = find(&root, "p#progress");
    assert_eq!(progress.class_name(), "ok");
    assert!(progress.text_content().unwrap_or_default().contains("1 still running"), "r1 has just been sent");
    choose_preset(&root, "coordinator-crash-after-prepare").await;
    type_into(&find(&root, "#scrubber"), "800").await;
    let progress = find(&root, "p#progress");
    assert_eq!(progress.class_name(), "not-judged");
    assert!(progress.text_content().unwrap_or_default().contains("n10 down"));
    choose_preset(&root, "bug-commit-on-vote-timeout").await;
    type_into(&find(&root, "#scrubber"), "2000").await;
    let progress = find(&root, "p#progress");
    assert_eq!(progress.class_name(), "stuck");
    assert!(progress.text_content().unwrap_or_default().contains("t1 unresolved for"));
}

#[wasm_bindgen_test]
async fn a_saga_shows_its_steps_its_bands_and_the_isolation_it_gives_up() {
    let root = mount().await;
    choose_preset(&root, "saga-half-done-visible").await;
    // At 300 ms the third step has failed and C2's compensation waits for money t2 spent.
    type_into(&find(&root, "#scrubber"), "300").await;
    let row = find(&root, "table.txns tr[data-txn=\"t1\"][data-role=\"coordinator\"]");
    let text = row.text_content().unwrap_or_default();
    assert!(text.contains("compensating"), "{text}");
    assert!(
        text.contains("1 at n1 done") && text.contains("2 at n4 compensating") && text.contains("3 at n7 failed"),
        "{text}"
    );
    let steps = find(&root, "ul.saga-steps li[data-txn=\"t1\"]").text_content().unwrap_or_default();
    assert!(steps.contains("t1/1 1001 -50"), "{steps}");
    assert!(count(&root, "g.band.compensate") >= 1, "the compensation band is drawn");
    assert!(count(&root, "g.arrow.kind-Compensate") >= 1, "compensation arrows carry their kind");
    let isolation = find(&root, "li[data-invariant=\"isolation\"]");
    assert_eq!(isolation.class_name(), "violated");
    // Earlier, the saga runs forward under its own band, isolation not yet broken.
    type_into(&find(&root, "#scrubber"), "40").await;
    assert!(count(&root, "g.band.saga") >= 1, "the saga band is drawn");
    assert_eq!(find(&root, "li[data-invariant=\"isolation\"]").class_name(), "ok");
}

#[wasm_bindgen_test]
async fn the_balance_table_shows_undo_images_in_place_and_pending_redo_images_deferred() {
    let root = mount().await;
    let c2 = r#"section.node-state[data-node="n4"]"#;
    // In place (the lost COMMIT keeps C2 in doubt): the balance already holds t1's change.
    choose_preset(&root, "lost-commit").await;
    type_into(&find(&root, "#scrubber"), "80").await;
    let balance = find(&root, &format!(r#"{c2} td.balance[data-account="3001"]"#));
    assert_eq!(balance.text_content().as_deref(), Some("60"));
    let undo = find(&root, &format!(r#"{c2} td.pending[data-account="3001"] .pending-undo"#));
    assert_eq!(undo.text_content().as_deref(), Some("t1: undo 50"));
    assert!(undo.get_attribute("title").unwrap_or_default().contains("ABORT restores 50"));
    assert_eq!(count(&root, &format!("{c2} td.pending .pending-redo")), 0);
    // Deferred: the balance is unchanged while in doubt and the change waits for COMMIT.
    choose_preset(&root, "deferred-writes").await;
    type_into(&find(&root, "#scrubber"), "80").await;
    let balance = find(&root, &format!(r#"{c2} td.balance[data-account="3001"]"#));
    assert_eq!(balance.text_content().as_deref(), Some("200"), "locked but not changed");
    let redo = find(&root, &format!(r#"{c2} td.pending[data-account="3001"] .pending-redo"#));
    assert_eq!(redo.text_content().as_deref(), Some("t1: → 300 at COMMIT"));
    assert!(redo.get_attribute("title").unwrap_or_default().contains("COMMIT applies 300 from the redo record"));
    assert_eq!(count(&root, &format!("{c2} td.pending .pending-undo")), 0);
    assert_eq!(count(&root, &format!("{c2} ul.undo")), 0, "no undo images to keep");
    let writes = find(&root, r#"select[aria-label="Writes"]"#);
    assert_eq!(writes.dyn_ref::<web_sys::HtmlSelectElement>().expect("select").value(), "deferred");
    // Once COMMIT arrives the redo image is applied and nothing is pending.
    type_into(&find(&root, "#scrubber"), "120").await;
    let balance = find(&root, &format!(r#"{c2} td.balance[data-account="3001"]"#));
    assert_eq!(balance.text_content().as_deref(), Some("300"));
    assert_eq!(count(&root, &format!("{c2} td.pending span")), 0);
}

/// Moves the scrubber to the end of the run.
async fn seek_to_end(root: &Element) {
    let scrubber = find(root, "#scrubber");
    let end = scrubber.get_attribute("max").expect("the scrubber has a max");
    type_into(&scrubber, &end).await;
    assert_eq!(find(root, "#app").get_attribute("data-at-end").as_deref(), Some("true"));
}

fn text(root: &Element, selector: &str) -> String {
    find(root, selector).text_content().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn the_spec_panel_shows_two_phase_committed_at_the_end_of_the_happy_path() {
    let root = mount().await;
    let card = r#"#spec section.spec-txn[data-txn="t1"]"#;
    assert_eq!(count(&root, card), 0, "no instance before the coordinator logs Prepared");
    seek_to_end(&root).await;
    assert_eq!(text(&root, &format!(r#"{card} tr[data-var="tmState"] td"#)), "committed");
    assert_eq!(text(&root, &format!(r#"{card} span.rm[data-rm="n1"]"#)), "n1: committed");
    assert_eq!(text(&root, &format!(r#"{card} span.rm[data-rm="n4"]"#)), "n4: committed");
    assert_eq!(text(&root, &format!(r#"{card} tr[data-var="tmPrepared"] td"#)), "{n1, n4}");
    assert_eq!(text(&root, &format!(r#"{card} tr[data-var="msgs"] td"#)), "{Prepared(n1), Prepared(n4), Commit}");
    assert_eq!(count(&root, "#spec-break"), 0, "the correct protocol refines TwoPhase");
    // Stepping back walks the spec back with the run: the last RM to learn COMMIT forgets it.
    let mut steps_back = 0;
    while text(&root, &format!(r#"{card} .spec-action"#)) == "last step: stutter" && steps_back < 20 {
        click(&root, "#step-back").await;
        steps_back += 1;
    }
    let action = find(&root, &format!("{card} .spec-action")).get_attribute("data-action").unwrap_or_default();
    assert_eq!(action, "RMRcvCommitMsg", "the last change to t1 is an RM learning the commit");
}

#[wasm_bindgen_test]
async fn the_spec_panel_names_the_step_that_breaks_two_phase_and_jumps_to_it() {
    let root = mount().await;
    choose_preset(&root, "bug-commit-on-vote-timeout").await;
    let broken = find(&root, "#spec-break");
    let step = broken.get_attribute("data-step").expect("the break names its step");
    let line = broken.text_content().unwrap_or_default();
    assert!(line.contains(&format!("step {step} is no TwoPhase step of t1")), "{line}");
    assert!(line.contains("tmState = init") && line.contains("→") && line.contains("tmState = committed"), "{line}");
    click(&root, "#spec-break-jump").await;
    assert_eq!(find(&root, "#app").get_attribute("data-step"), Some(step), "the cursor is on the break");
    let card = r#"#spec section.spec-txn[data-txn="t1"]"#;
    assert_eq!(text(&root, &format!("{card} .spec-action.broken")), "last step: no TwoPhase step");
    assert_eq!(text(&root, &format!(r#"{card} tr[data-var="tmState"] td"#)), "committed");
    // TMCommit needs every RM in tmPrepared: n4 never voted YES.
    assert_eq!(text(&root, &format!(r#"{card} tr[data-var="tmPrepared"] td"#)), "{n1}");
    assert_eq!(text(&root, &format!(r#"{card} span.rm[data-rm="n4"]"#)), "n4: working");
}

#[wasm_bindgen_test]
async fn a_replicated_run_says_the_spec_mapping_covers_single_node_2pc_only() {
    let root = mount().await;
    choose_preset(&root, "raft-seed-002").await;
    seek_to_end(&root).await;
    assert!(text(&root, "#spec-not-mapped").contains("single-node 2PC only"));
    assert_eq!(count(&root, "#spec section.spec-txn"), 0);
}

#[wasm_bindgen_test]
async fn the_explore_form_refuses_bad_bounds_and_unexplorable_scenarios() {
    let root = mount().await;
    assert_eq!(count(&root, "#explore-body"), 0, "the panel opens on demand");
    click(&root, "#explore-toggle").await;
    let start = || find(&root, "#explore-start").has_attribute("disabled");
    assert_eq!(count(&root, "#explore-error"), 0, "the defaults are valid");
    assert!(!start(), "Start is enabled");
    for (field, value) in [("lose", "0"), ("duplicate", "0"), ("crash", "1"), ("restart", "1"), ("timers", "1")] {
        let input = find(&root, &format!("#explore-{field}")).dyn_into::<HtmlInputElement>().expect("an input");
        assert_eq!(input.value(), value, "{field} starts small");
    }
    type_into(&find(&root, "#explore-crash"), "17").await;
    assert_eq!(text(&root, "#explore-error"), "crash: 17 is out of range, enter a number from 0 to 16");
    assert!(start(), "Start is disabled while a field is wrong");
    type_into(&find(&root, "#explore-crash"), "").await;
    assert_eq!(text(&root, "#explore-error"), "crash: enter a number from 0 to 16");
    type_into(&find(&root, "#explore-crash"), "1").await;
    type_into(&find(&root, "#explore-max-states"), "600000").await;
    assert_eq!(text(&root, "#explore-error"), "max states: 600000 is out of range, enter a number from 1 to 500000");
    type_into(&find(&root, "#explore-max-states"), "1000").await;
    assert_eq!(count(&root, "#explore-error"), 0);
    assert!(!start());
    choose_preset(&root, "raft-seed-002").await;
    let error = text(&root, "#explore-error");
    assert!(error.starts_with("This scenario cannot be explored") && error.contains("single-node 2PC"), "{error}");
    assert!(start());
    choose_preset(&root, "busy").await;
    assert_eq!(count(&root, "#explore-error"), 0, "a random workload is drawn from the seed: explorable");
    choose_preset(&root, "lost-ack").await;
    assert_eq!(count(&root, "#explore-error"), 0, "a single-node preset with explicit requests is explorable");
    assert_eq!(find(&root, "#explore").get_attribute("data-status").as_deref(), Some("idle"));
}
