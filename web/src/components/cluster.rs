//! The cluster picture, after seed 002's: each shard a box holding its node, the transaction
//! manager and the client above; up or down, role, locks held and doubt; the partition drawn as cut
//! links; messages in flight moving along the links. Click a node to crash or restart it, a
//! message to act on it. In the replicated mode each group is a box of replicas (`groups.rs`).

use crate::components::groups;
use crate::decimal::Decimal;
use crate::model::{Action, Playground};
use crate::state::Props;
use commitlab_protocol::{Endpoint, Role};
use commitlab_sim::NodeSnapshot;
use yew::prelude::*;

const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 320.0;

fn position(playground: &Playground, endpoint: Endpoint) -> (f64, f64) {
    if !playground.groups.is_empty() {
        return groups::position(&playground.groups, endpoint);
    }
    let Endpoint::Node(node) = endpoint else { return (WIDTH / 2.0, 30.0) };
    let shards: Vec<&NodeSnapshot> = playground.snapshots.iter().filter(|snapshot| snapshot.shard.is_some()).collect();
    match shards.iter().position(|snapshot| snapshot.id == node) {
        Some(index) => (WIDTH * (index as f64 + 1.0) / (shards.len() as f64 + 1.0), 248.0),
        None => (WIDTH / 2.0, 122.0),
    }
}

fn role_text(snapshot: &NodeSnapshot) -> &'static str {
    match (snapshot.roles.contains(&Role::Coordinator), snapshot.roles.contains(&Role::Participant)) {
        (true, true) => "coordinator + participant",
        (true, false) => "coordinator",
        _ => "participant",
    }
}

#[component]
pub fn ClusterView(props: &Props) -> Html {
    let playground = props.state.get();
    let partition = playground.simulation.world().partition().to_vec();
    let endpoints: Vec<Endpoint> = std::iter::once(Endpoint::Client)
        .chain(playground.snapshots.iter().map(|snapshot| Endpoint::Node(snapshot.id)))
        .collect();
    let group_of = |endpoint: &Endpoint| partition.iter().position(|group| group.contains(endpoint));
    let cut =
        |left: &Endpoint, right: &Endpoint| matches!((group_of(left), group_of(right)), (Some(a), Some(b)) if a != b);
    let replicated = !playground.groups.is_empty();
    let mut links = Vec::new();
    for (index, left) in endpoints.iter().enumerate() {
        for right in &endpoints[index + 1..] {
            // Replicas talk within their group and 2PC goes group to group: links would only clutter.
            if !replicated {
                links.push((*left, *right, cut(left, right)));
            }
        }
    }
    let partition_text = if partition.is_empty() {
        "network: connected".to_string()
    } else {
        let groups: Vec<String> = partition
            .iter()
            .enumerate()
            .map(|(position, group)| {
                let members: Vec<String> = group.iter().map(|endpoint| endpoint.to_string()).collect();
                format!("{} {{{}}}", groups::side_letter(position), members.join(", "))
            })
            .collect();
        format!("partition: {}", groups.join(" | "))
    };
    let step = playground.simulation.cursor_step();
    let now_ms = playground.simulation.now_ms();
    let flying: Vec<_> = playground
        .index
        .messages_in_window(now_ms, now_ms, step)
        .filter(|message| message.from != message.to && message.in_flight_at(step))
        .collect();
    let (width, height) =
        if replicated { (groups::WIDTH, groups::height(&playground.groups)) } else { (WIDTH, HEIGHT) };
    html! {
        <svg id="cluster" viewBox={format!("0 0 {width} {height}")} role="group" aria-label="Cluster: click a node to crash or restart it">
            <g class="links">
            { for links.iter().map(|(left, right, is_cut)| {
                let (x1, y1) = position(&playground, *left);
                let (x2, y2) = position(&playground, *right);
                html! {
                    <line class={classes!("link", is_cut.then_some("cut"))} x1={x1.dec()} y1={y1.dec()} x2={x2.dec()} y2={y2.dec()} />
                }
            }) }
            </g>
            { client(&playground) }
            if replicated {
                { groups::groups_picture(&playground, props) }
            } else {
                { for playground.snapshots.iter().map(|snapshot| node(&playground, snapshot, props)) }
            }
            // Keyed and in a group of their own, so each message keeps its circle while it flies.
            <g class="flying">
            { for flying.iter().map(|message| {
                let (x1, y1) = position(&playground, message.from);
                let (x2, y2) = position(&playground, message.to);
                let flight = (message.due_ms - message.send_ms).max(1) as f64;
                let fraction = ((playground.display_ms - message.send_ms as f64) / flight).clamp(0.0, 1.0);
                let (x, y) = (x1 + (x2 - x1) * fraction, y1 + (y2 - y1) * fraction);
                let onclick = {
                    let state = props.state.clone();
                    let id = message.id;
                    Callback::from(move |_: MouseEvent| state.dispatch(Action::SelectMessage(Some(id))))
                };
                let onkeydown = {
                    let state = props.state.clone();
                    let id = message.id;
                    Callback::from(move |event: KeyboardEvent| {
                        if event.key() == "Enter" || event.key() == " " {
                            event.prevent_default();
                            state.dispatch(Action::SelectMessage(Some(id)));
                        }
                    })
                };
                let selected = playground.selected_message == Some(message.id);
                let title = format!("{} {} -> {} {} (click to drop, delay or duplicate)", message.id, message.from, message.to, message.label);
                html! {
                    <circle key={message.id.0} class={classes!("in-flight", format!("kind-{}", message.kind), selected.then_some("selected"))}
                        data-message={message.id.to_string()} cx={x.dec()} cy={y.dec()} r="7" {onclick} {onkeydown}
                        role="button" tabindex="0" aria-label={title.clone()}>
                        <title>{ title }</title>
                    </circle>
                }
            }) }
            </g>
            <text class="partition-text" x="8" y={(height - 4.0).dec()}>{ partition_text }</text>
        </svg>
    }
}

fn client(playground: &Playground) -> Html {
    let (x, y) = position(playground, Endpoint::Client);
    let client = playground.simulation.world().client();
    let pending = client.pending().len();
    // The answers so far, for tests and tools (`r1 COMMIT`); the picture itself is unchanged.
    let outcomes: Vec<String> =
        client.outcomes().iter().map(|(request, decision)| format!("{request} {decision}")).collect();
    html! {
        <g class="client" data-endpoint="client" data-outcomes={outcomes.join(", ")}>
            <rect x={(x - 40.0).dec()} y={(y - 18.0).dec()} width="80" height="36" rx="18" />
            <text x={x.dec()} y={(y - 1.0).dec()} text-anchor="middle">{ "client" }</text>
            <text class="detail" x={x.dec()} y={(y + 12.0).dec()} text-anchor="middle">
                { if pending == 0 { "idle".to_string() } else { format!("{pending} waiting") } }
            </text>
            if let (false, Some(letter)) = (playground.groups.is_empty(), groups::side(playground, Endpoint::Client)) {
                <text class={classes!("side-tag", format!("side-{letter}"))} x={(x + 44.0).dec()} y={(y - 8.0).dec()}>
                    { letter.to_string() }<title>{ format!("the client is on side {letter} of the partition") }</title>
                </text>
            }
        </g>
    }
}

fn node(playground: &Playground, snapshot: &NodeSnapshot, props: &Props) -> Html {
    let (x, y) = position(playground, Endpoint::Node(snapshot.id));
    let memory = snapshot.memory.as_ref();
    let locks = memory.map_or(0, |memory| memory.locks.len());
    let in_doubt = memory.map_or(0, |memory| memory.txns.iter().filter(|row| row.in_doubt_since_ms.is_some()).count());
    let mut class = classes!("node", if snapshot.up { "up" } else { "down" });
    if playground.highlighted_nodes.contains(&snapshot.id) {
        class.push("highlighted");
    }
    let action = format!("{} {}", if snapshot.up { "Crash" } else { "Restart" }, snapshot.id);
    let onclick = {
        let state = props.state.clone();
        let node = snapshot.id;
        Callback::from(move |_: MouseEvent| state.dispatch(Action::ToggleNode(node)))
    };
    let onkeydown = {
        let state = props.state.clone();
        let node = snapshot.id;
        Callback::from(move |event: KeyboardEvent| {
            if event.key() == "Enter" || event.key() == " " {
                event.prevent_default();
                state.dispatch(Action::ToggleNode(node));
            }
        })
    };
    html! {
        <g class={class} data-node={snapshot.id.to_string()} {onclick} {onkeydown} role="button" tabindex="0" aria-label={action.clone()}>
            <title>{ format!("{action} (click)") }</title>
            <rect class="shard-box" x={(x - 66.0).dec()} y={(y - 50.0).dec()} width="132" height="104" rx="10" />
            <text class="shard-label" x={(x - 60.0).dec()} y={(y - 36.0).dec()}>{ &snapshot.label }</text>
            <circle cx={x.dec()} cy={(y - 6.0).dec()} r="24" />
            <text class="node-name" x={x.dec()} y={(y - 2.0).dec()} text-anchor="middle">
                { if snapshot.up { snapshot.id.to_string() } else { format!("✕ {}", snapshot.id) } }
            </text>
            <text class="role" x={x.dec()} y={(y + 32.0).dec()} text-anchor="middle">
                { if snapshot.up { role_text(snapshot) } else { "DOWN" } }
            </text>
            <text class="badges" x={x.dec()} y={(y + 46.0).dec()} text-anchor="middle">
                { badges(locks, in_doubt) }
            </text>
        </g>
    }
}

fn badges(locks: usize, in_doubt: usize) -> String {
    let mut parts = Vec::new();
    if locks > 0 {
        parts.push(format!("{locks} locked"));
    }
    if in_doubt > 0 {
        parts.push(format!("{in_doubt} in doubt"));
    }
    parts.join(" · ")
}
