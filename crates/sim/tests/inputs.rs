//! Bad input gets a typed error that names what is wrong, never a panic.

use commitlab_protocol::{NodeId, WriteMode};
use commitlab_sim::{Fault, Scenario, ScenarioError, Simulation};

fn error_of(json: &str) -> ScenarioError {
    match Scenario::from_json(json) {
        Ok(_) => panic!("accepted invalid scenario: {json}"),
        Err(error) => error,
    }
}

fn assert_names(json: &str, expected_parts: &[&str]) {
    let message = error_of(json).to_string();
    for part in expected_parts {
        assert!(message.contains(part), "`{message}` should mention `{part}`");
    }
}

const SHARDS: &str = r#""topology":{"shards":[{"accounts":{"1001":100}},{"accounts":{"3001":50}}]}"#;

#[test]
fn malformed_json_says_where() {
    let error = error_of(r#"{"version": 1, "topology": "#);
    assert!(matches!(error, ScenarioError::Json { line: 1, .. }), "{error:?}");
    assert_names("not json at all", &["cannot be read", "line 1"]);
    assert_names(&format!(r#"{{"version":1,{SHARDS}}} trailing"#), &["unexpected text after the scenario"]);
    assert_names("", &["cannot be read"]);
}

#[test]
fn wrong_fields_and_types_are_named_with_their_path() {
    assert_names(&format!(r#"{{"version":1,{SHARDS},"netwrk":{{}}}}"#), &["unknown field `netwrk`"]);
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"workload":{{"requests":[{{"transfers":[{{"from":1001,"to":3001,"amount":-5}}]}}]}}}}"#
        ),
        &["workload.requests[0].transfers[0].amount", "-5"],
    );
    assert_names(&format!(r#"{{"version":1,{SHARDS},"network":{{"loss":"2/1"}}}}"#), &["network.loss", "more than 1"]);
    assert_names(
        &format!(r#"{{"version":1,{SHARDS},"faults":[{{"at_ms":1,"fault":{{"crash":"node4"}}}}]}}"#),
        &["faults[0].fault", "node4"],
    );
}

#[test]
fn unknown_nodes_accounts_and_shards_are_named() {
    assert_names(
        &format!(r#"{{"version":1,{SHARDS},"faults":[{{"at_ms":5,"fault":{{"crash":"n9"}}}}]}}"#),
        &["faults[0].fault", "no node n9", "n1, n4"],
    );
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"workload":{{"requests":[{{"transfers":[{{"from":1001,"to":9999,"amount":5}}]}}]}}}}"#
        ),
        &["workload.requests[0].transfers[0].to", "unknown account 9999"],
    );
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"workload":{{"requests":[{{"transfers":[{{"from":1001,"to":3001,"amount":5}}],"journal":["C7"]}}]}}}}"#
        ),
        &["journal[0]", "unknown shard C7"],
    );
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"faults":[{{"at_ms":5,"fault":{{"drop":{{"next":{{"kind":"Teleport"}}}}}}}}]}}"#
        ),
        &["unknown message kind", "Teleport"],
    );
    assert_names(
        &format!(r#"{{"version":1,{SHARDS},"faults":[{{"at_ms":5,"fault":{{"partition":[["n1","n4"]]}}}}]}}"#),
        &["at least two groups"],
    );
}

#[test]
fn impossible_values_are_rejected() {
    assert_names(r#"{"version":7,"topology":{"shards":[{"accounts":{"1":1}}]}}"#, &["version", "1 to 2"]);
    assert_names(r#"{"version":1,"topology":{"shards":[]}}"#, &["topology.shards", "at least one shard"]);
    assert_names(
        r#"{"version":1,"topology":{"shards":[{"accounts":{"1":-3}}]}}"#,
        &["topology.shards[0].accounts.1", "-3"],
    );
    assert_names(
        r#"{"version":1,"topology":{"shards":[{"accounts":{"1":1,"9":1}},{"accounts":{"5":1}}]}}"#,
        &["overlap"],
    );
    assert_names(
        &format!(r#"{{"version":1,{SHARDS},"network":{{"latency_ms_min":9,"latency_ms_max":3}}}}"#),
        &["network.latency_ms_min"],
    );
    assert_names(&format!(r#"{{"version":1,{SHARDS},"timeouts":{{"vote_ms":0}}}}"#), &["timeouts.vote_ms"]);
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"workload":{{"requests":[{{"transfers":[{{"from":1001,"to":3001,"amount":0}}]}}]}}}}"#
        ),
        &["amount", "between 1"],
    );
}

#[test]
fn absurd_sizes_hit_explicit_limits() {
    assert_names(
        r#"{"version":1,"topology":{"shards":[{"generate":{"first":1,"count":1000000000,"balance":5}}]}}"#,
        &["topology.shards[0].generate.count", "1000000000 accounts", "limit"],
    );
    let million_nodes = format!(
        r#"{{"version":1,"topology":{{"shards":[{}]}}}}"#,
        vec![r#"{"accounts":{"1":1}}"#; 1_000_000].join(",")
    );
    assert_names(&million_nodes, &["limit"]);
    assert_names(
        &format!(
            r#"{{"version":1,{SHARDS},"workload":{{"random":{{"count":50000000,"interval_ms":1,"amount_max":5}}}}}}"#
        ),
        &["workload", "limit"],
    );
    assert_names(&format!(r#"{{"version":1,{SHARDS},"end_ms":99999999999}}"#), &["end_ms"]);
    assert_names(&format!(r#"{{"version":1,{SHARDS},"max_steps":0}}"#), &["max_steps"]);
}

#[test]
fn faults_injected_through_the_api_are_checked_too() {
    let scenario = (commitlab_sim::preset("happy-path").expect("exists").build)();
    let mut simulation = Simulation::new(scenario).expect("valid");
    simulation.seek_time(20);
    let error = simulation.inject(Fault::Crash(NodeId(42))).expect_err("no such node");
    assert!(error.to_string().contains("no node n42"), "{error}");
    assert!(simulation.scenario().faults.is_empty(), "a refused fault is not recorded");
    simulation.inject(Fault::Crash(NodeId(4))).expect("n4 exists");
    assert_eq!(simulation.scenario().faults.len(), 1);
    assert_eq!(simulation.scenario().faults[0].at_ms, simulation.now_ms());
}

mod fuzz {
    use commitlab_sim::{Scenario, Simulation};
    use proptest::prelude::*;

    fn preset_json(index: usize) -> String {
        let presets = commitlab_sim::PRESETS;
        (presets[index % presets.len()].build)().to_json()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any text: an error or a scenario, never a panic.
        #[test]
        fn random_text_never_panics(text in ".{0,300}") {
            let _ = Scenario::from_json(&text);
        }

        /// A preset's JSON with bytes changed: either refused with a message, or a valid scenario
        /// that runs (bounded) without panicking.
        #[test]
        fn mutated_scenarios_are_refused_or_run(
            preset in 0usize..20,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), proptest::char::range(' ', '~')), 1..6),
        ) {
            let mut text: Vec<char> = preset_json(preset).chars().collect();
            for (position, replacement) in edits {
                let index = position.index(text.len());
                text[index] = replacement;
            }
            let text: String = text.into_iter().collect();
            if let Ok(mut scenario) = Scenario::from_json(&text) {
                scenario.max_steps = scenario.max_steps.min(20_000);
                let mut simulation = Simulation::new(scenario).expect("validated");
                simulation.run_to_end();
            }
        }
    }
}

#[test]
fn bad_replication_settings_are_named() {
    let with = |replication: &str| format!(r#"{{"version":1,{SHARDS},"replication":{replication}}}"#);
    assert_names(&with(r#"{"engine":"raft","replicas":4}"#), &["replication.replicas", "4 is even", "3 or 5"]);
    assert_names(&with(r#"{"engine":"raft","replicas":0}"#), &["replication.replicas", "3 or 5"]);
    assert_names(&with(r#"{"engine":"raft","replicas":7}"#), &["replication.replicas", "3 or 5"]);
    assert_names(
        &with(r#"{"engine":"raft","election_timeout_ms_min":300,"election_timeout_ms_max":150}"#),
        &["replication.election_timeout_ms_min", "upside down"],
    );
    assert_names(
        &with(r#"{"engine":"raft","heartbeat_ms":200}"#),
        &["replication.heartbeat_ms", "less than election_timeout_ms_min"],
    );
    assert_names(&with(r#"{"engine":"raft","entries_per_message":0}"#), &["replication.entries_per_message", "0"]);
    assert_names(&with(r#"{"engine":"raft","entries_per_message":65}"#), &["replication.entries_per_message", "65"]);
    assert_names(&with(r#"{"engine":"paxos"}"#), &["replication.engine", "paxos"]);
    assert_names(&with(r#"{"engine":"raft","replica":3}"#), &["unknown field `replica`"]);
}

#[test]
fn faults_reach_every_replica_and_only_replicas_that_exist() {
    let replicated = format!(
        r#"{{"version":1,{SHARDS},"replication":{{"engine":"raft"}},"faults":[{{"at_ms":5,"fault":{{"crash":"n6"}}}}]}}"#
    );
    let scenario = Scenario::from_json(&replicated).expect("n6 is C2's third replica");
    assert_eq!(scenario.node_ids().len(), 6);
    assert_names(
        &replicated.replace(r#""crash":"n6""#, r#""crash":"n7""#),
        &["faults[0].fault", "no node n7", "n1, n2, n3, n4, n5, n6"],
    );
    let five = replicated.replace(r#""engine":"raft""#, r#""engine":"raft","replicas":5"#).replace("n6", "n10");
    let scenario = Scenario::from_json(&five).expect("C2 = n6-n10 with five replicas");
    assert_eq!(scenario.group_members(1), (6..=10).map(NodeId).collect::<Vec<_>>());
}

#[test]
fn a_reused_request_id_must_be_the_same_request_in_the_replicated_mode() {
    let requests = r#""workload":{"requests":[
        {"request":"r1","transfers":[{"from":1001,"to":3001,"amount":5}]},
        {"request":"r1","transfers":[{"from":1001,"to":3001,"amount":7}]}]}"#;
    let single = format!(r#"{{"version":1,{SHARDS},{requests}}}"#);
    assert!(Scenario::from_json(&single).is_ok(), "single nodes answer a reused id from their cache, as before");
    let replicated = format!(r#"{{"version":1,{SHARDS},{requests},"replication":{{"engine":"raft"}}}}"#);
    assert_names(&replicated, &["workload.requests[1].request", "r1 is also requests[0]", "names one transaction"]);
    let retry = replicated.replace(r#""amount":7"#, r#""amount":5"#);
    assert!(Scenario::from_json(&retry).is_ok(), "the same request sent again is a retry");
}

#[test]
fn the_write_mode_reads_in_place_or_deferred_and_names_both_otherwise() {
    let read = |extra: &str| Scenario::from_json(&format!(r#"{{"version":1,{SHARDS}{extra}}}"#));
    assert_eq!(read("").expect("valid").writes, WriteMode::InPlace, "left out: in place, as before the option");
    assert_eq!(read(r#","writes":"in_place""#).expect("valid").writes, WriteMode::InPlace);
    let deferred = read(r#","writes":"deferred""#).expect("valid");
    assert_eq!(deferred.writes, WriteMode::Deferred);
    assert!(deferred.to_json().contains(r#""writes":"deferred""#));
    assert!(!read("").expect("valid").to_json().contains("writes\""), "the default is left out of the JSON");
    assert_names(
        &format!(r#"{{"version":1,{SHARDS},"writes":"later"}}"#),
        &["writes", "`later` is not a write mode", "\"in_place\"", "\"deferred\""],
    );
    assert_names(&format!(r#"{{"version":1,{SHARDS},"writes":true}}"#), &["writes", "expected a string"]);
}

#[test]
fn a_redo_record_says_so_in_its_json_and_an_undo_record_reads_as_it_always_did() {
    use commitlab_protocol::{AccountId, NodeId, Record, TxnId, Write};
    let record = |mode| Record::PrepareVote {
        txn: TxnId(1),
        coordinator: NodeId(1),
        writes: vec![Write { account: AccountId(3001), before: 50, after: 60 }],
        journal: None,
        at_ms: 10,
        mode,
    };
    let undo = serde_json::to_string(&record(WriteMode::InPlace)).expect("serialisable");
    assert_eq!(
        undo,
        r#"{"PrepareVote":{"txn":"t1","coordinator":"n1","writes":[{"account":3001,"before":50,"after":60}],"journal":null,"at_ms":10}}"#
    );
    let redo = serde_json::to_string(&record(WriteMode::Deferred)).expect("serialisable");
    assert!(redo.ends_with(r#""at_ms":10,"mode":"deferred"}}"#), "{redo}");
    assert_eq!(serde_json::from_str::<Record>(&redo).expect("reads back"), record(WriteMode::Deferred));
    assert_eq!(serde_json::from_str::<Record>(&undo).expect("reads back"), record(WriteMode::InPlace));
}

/// The scenario reader names the field at fault from serde_json's position (`json_path`), not
/// through serde_path_to_error's wrapper: wherever the wrapper names a field, the message names
/// the same one (or, for an unknown enum variant or an unreadable key, that variant or key).
#[test]
fn error_paths_match_what_serde_path_to_error_names() {
    let faults =
        r#""faults":[{"at_ms":5,"fault":{"crash":"n1"}},{"at_ms":6,"fault":{"drop":{"next":{"kind":"Prepare"}}}}]"#;
    let requests = r#""workload":{"requests":[{"transfers":[{"from":1001,"to":3001,"amount":5}]},
        {"request":"r2","at_ms":4,"transfers":[{"from":1001,"to":3001,"amount":6}],"journal":["C1"]}]}"#;
    let valid = format!(
        r#"{{"version":1,"name":"x {{[\"q\"]}}",{SHARDS},{requests},{faults},
        "network":{{"latency_ms_min":1,"latency_ms_max":5,"loss":"0/1"}},"replication":{{"engine":"raft","replicas":3}}}}"#
    );
    Scenario::from_json(&valid).expect("the base of the broken variants is valid");
    let breakages = [
        (r#""amount":6"#, r#""amount":-6"#),
        (r#""amount":6"#, r#""amount":"6""#),
        (r#""from":1001,"to":3001,"amount":6"#, r#""from":1001,"to":3001"#),
        (r#""at_ms":4"#, r#""at_ms":[4]"#),
        (r#""journal":["C1"]"#, r#""journal":[7]"#),
        (r#""request":"r2""#, r#""request":2"#),
        (r#""crash":"n1""#, r#""crash":"node1""#),
        (r#""crash":"n1""#, r#""crush":"n1""#),
        (r#""next":{"kind":"Prepare"}"#, r#""next":{"knd":"Prepare"}"#),
        (r#""at_ms":6"#, r#""at_ms":-6"#),
        (r#""latency_ms_max":5"#, r#""latency_ms_max":true"#),
        (r#""loss":"0/1""#, r#""loss":"a/b""#),
        (r#""loss":"0/1""#, r#""loss":0.5"#),
        (r#""replicas":3"#, r#""replicas":3.5"#),
        (r#""engine":"raft""#, r#""engine":"zab""#),
        (r#""accounts":{"3001":50}"#, r#""accounts":{"3001":"fifty"}"#),
        (r#""accounts":{"3001":50}"#, r#""accounts":{"x":50}"#),
        (r#""accounts":{"3001":50}"#, r#""accounts":[50]"#),
        (r#""shards":["#, r#""shards":[7,"#),
        (r#""version":1"#, r#""version":"1""#),
        (r#""name":"x"#, r#""nam":"x"#),
    ];
    let mut wrong = Vec::new();
    for (from, to) in breakages {
        assert!(valid.contains(from), "`{from}` is in the base scenario");
        let text = valid.replacen(from, to, 1);
        let mut deserializer = serde_json::Deserializer::from_str(&text);
        let Err(wrapped) = serde_path_to_error::deserialize::<_, Scenario>(&mut deserializer) else {
            wrong.push(format!("`{to}` is read by serde: only validation refuses it"));
            continue;
        };
        // Where the wrapper could not read a key (`accounts.?`), the key itself is named here.
        let path = wrapped.path().to_string();
        let path = path.strip_suffix(".?").unwrap_or(&path);
        let message = error_of(&text).to_string();
        // The same field, or (for an unknown enum variant) the variant below it.
        let named = match path {
            "." => !message.contains(": ."),
            path => [": ", ".", "["].iter().any(|next| message.contains(&format!("): {path}{next}"))),
        };
        if !named {
            wrong.push(format!("`{to}`: `{message}` should name {path}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
