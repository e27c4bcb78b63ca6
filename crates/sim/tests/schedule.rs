//! Scheduled runs: a world driven step by step, and a scenario that plays a schedule.

use commitlab_sim::{preset, Choice, Scenario, Simulation, TraceEvent, World};
use std::sync::Arc;

/// The `happy-path` preset made ready for a schedule: version 2, no faults, no random loss.
fn schedulable(name: &str) -> Scenario {
    let mut scenario = (preset(name).expect("a preset").build)();
    scenario.version = 2;
    scenario.faults.clear();
    scenario
}

/// Takes the first possible step that is not a fault, until only faults are left.
fn calm_path(scenario: &Scenario) -> Vec<Choice> {
    let mut world = World::new(Arc::new(scenario.clone()));
    let mut path = Vec::new();
    let mut trace = Vec::new();
    loop {
        let mut choices = Vec::new();
        world.choices(&mut choices);
        let Some(choice) =
            choices.into_iter().find(|choice| !choice.is_fault() && !matches!(choice, Choice::Timer(..)))
        else {
            return path;
        };
        world.take(choice, 0, &mut trace).expect("a listed choice can be taken");
        path.push(choice);
    }
}

#[test]
fn a_calm_schedule_commits_and_replays_as_a_scenario() {
    let mut scenario = schedulable("happy-path");
    let path = calm_path(&scenario);
    assert_eq!(path.first(), Some(&"submit r1".parse().unwrap()));
    scenario.schedule = path.clone();
    scenario.end_ms = 10_000;
    let text = scenario.to_json();
    let mut simulation = Simulation::from_json(&text).expect("the schedule is valid");
    simulation.run_to_end();
    assert_eq!(simulation.total_steps(), path.len() as u64);
    simulation.seek_step(simulation.total_steps());
    let outcomes = simulation.world().client().outcomes();
    assert_eq!(outcomes.len(), 1);
    assert!(outcomes.iter().all(|(_, decision)| decision.to_string() == "COMMIT"), "{outcomes:?}");
    // Each step is STEP_MS after the one before, and the first delivery is the request.
    let first_delivery = simulation.trace().iter().find(|entry| matches!(entry.event, TraceEvent::Deliver { .. }));
    assert_eq!(first_delivery.map(|entry| entry.time_ms), Some(20));
}

fn refusal(scenario: &Scenario) -> String {
    match Simulation::new(scenario.clone()) {
        Ok(_) => panic!("the scenario was accepted"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn a_step_that_cannot_happen_is_named() {
    let mut scenario = schedulable("happy-path");
    scenario.schedule = vec!["submit r1".parse().unwrap(), "deliver m7".parse().unwrap()];
    let error = refusal(&scenario);
    assert_eq!(error, "schedule[1]: 'deliver m7': m7 is not in flight");
    scenario.schedule = vec!["crash n1".parse().unwrap(), "crash n1".parse().unwrap()];
    let error = refusal(&scenario);
    assert_eq!(error, "schedule[1]: 'crash n1': n1 is already down");
    scenario.version = 1;
    let error = refusal(&scenario);
    assert!(error.starts_with("schedule: needs scenario version 2"), "{error}");
    let error = Scenario::from_json(&scenario.to_json().replace("crash n1", "crash the server")).expect_err("refused");
    assert!(error.to_string().contains("schedule[0]"), "{error}");
}

#[test]
fn equal_states_reached_by_different_orders_share_a_fingerprint() {
    // A dedicated coordinator (n10) and two participants.
    let scenario = schedulable("lost-ack");
    let fingerprint = |world: &World| {
        // std's default hasher has fixed keys: the same on every run.
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        world.fingerprint(&mut hasher);
        std::hash::Hasher::finish(&hasher)
    };
    let mut trace = Vec::new();
    let mut world = World::new(Arc::new(scenario));
    let start = fingerprint(&world);
    for step in ["submit r1", "deliver m1", "disk n10"] {
        world.take(step.parse().unwrap(), 0, &mut trace).unwrap();
    }
    assert_ne!(fingerprint(&world), start);
    // Two PREPAREs in flight: delivering them in either order ends in the same state.
    let mut choices = Vec::new();
    world.choices(&mut choices);
    let deliveries: Vec<Choice> = choices.into_iter().filter(|choice| matches!(choice, Choice::Deliver(_))).collect();
    assert_eq!(deliveries.len(), 2, "{deliveries:?}");
    let mut one = world.clone();
    let mut other = world.clone();
    one.take(deliveries[0], 0, &mut trace).unwrap();
    one.take(deliveries[1], 0, &mut trace).unwrap();
    other.take(deliveries[1], 0, &mut trace).unwrap();
    assert_ne!(fingerprint(&one), fingerprint(&other), "half way the states differ");
    other.take(deliveries[0], 0, &mut trace).unwrap();
    assert_eq!(fingerprint(&one), fingerprint(&other));
}

#[test]
fn a_schedule_refuses_what_would_make_it_play_another_path() {
    let mut scenario = schedulable("happy-path");
    scenario.schedule = vec!["submit r1".parse().unwrap(), "deliver m1".parse().unwrap()];
    assert!(Simulation::new(scenario.clone()).is_ok());
    // A fault on top of the schedule (a click on a node in the page, say).
    let mut with_fault = scenario.clone();
    with_fault.faults.push(commitlab_sim::ScheduledFault {
        at_ms: 5,
        fault: commitlab_sim::Fault::Crash(commitlab_protocol::NodeId(1)),
    });
    assert!(refusal(&with_fault).starts_with("faults: this run plays a schedule"), "{}", refusal(&with_fault));
    let mut lossy = scenario.clone();
    lossy.network.loss = commitlab_sim::Ratio { numerator: 1, denominator: 10 };
    assert!(
        refusal(&lossy).starts_with("network: a scheduled run loses and copies messages only where its schedule says")
    );
    let mut short = scenario.clone();
    short.end_ms = 15;
    assert_eq!(refusal(&short), "end_ms: a schedule of 2 steps needs end_ms of at least 20");
    let mut replicated = (preset("raft-seed-002").expect("a preset").build)();
    replicated.version = 2;
    replicated.faults.clear();
    replicated.schedule = scenario.schedule.clone();
    assert!(refusal(&replicated).contains("single-node 2PC only"), "{}", refusal(&replicated));
}
