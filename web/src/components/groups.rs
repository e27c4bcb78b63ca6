//! The cluster picture of the replicated mode, in seed 002's shape: a box per group (C1, C2, C3,
//! TM) with its replicas side by side, the leader shaded and crowned, each replica's term, log
//! length and commit index, and its election timer running down. Click a replica to crash or
//! restart it. `cluster.rs` draws the client, the in-flight messages and this picture's frame.

use crate::components::crown::crown;
use crate::decimal::Decimal;
use crate::model::{Action, Playground};
use crate::state::Props;
use commitlab_protocol::route::Group;
use commitlab_protocol::{Endpoint, NodeId, Role};
use commitlab_sim::NodeSnapshot;
use yew::prelude::*;

pub const WIDTH: f64 = 600.0;
const CLIENT_Y: f64 = 26.0;
const FIRST_ROW_Y: f64 = 52.0;
const ROW_HEIGHT: f64 = 146.0;
const GROUP_HEIGHT: f64 = 138.0;
const REPLICA_WIDTH: f64 = 56.0;
const REPLICA_TOP: f64 = 44.0;
const REPLICA_HEIGHT: f64 = 48.0;

/// Seed 002's three groups of three fit in one row; more (a TM, five replicas) take two per row.
fn groups_per_row(groups: &[Group]) -> usize {
    if groups.len() <= 3 && groups.iter().all(|group| group.members.len() <= 3) {
        3
    } else {
        2
    }
}

/// The top-left corner and width of a group's box.
fn group_box(groups: &[Group], position: usize) -> (f64, f64, f64) {
    let per_row = groups_per_row(groups);
    let width = (WIDTH - 12.0) / per_row as f64;
    let (column, row) = (position % per_row, position / per_row);
    (6.0 + column as f64 * width, FIRST_ROW_Y + row as f64 * ROW_HEIGHT, width - 8.0)
}

/// The picture's height: one or two rows of groups.
pub fn height(groups: &[Group]) -> f64 {
    let rows = groups.len().div_ceil(groups_per_row(groups)).max(1);
    FIRST_ROW_Y + rows as f64 * ROW_HEIGHT + 12.0
}

/// Where an endpoint sits: the client at the top, a replica at the middle of its box.
pub fn position(groups: &[Group], endpoint: Endpoint) -> (f64, f64) {
    let Endpoint::Node(node) = endpoint else { return (WIDTH / 2.0, CLIENT_Y) };
    for (group_position, group) in groups.iter().enumerate() {
        if let Some(place) = group.members.iter().position(|member| *member == node) {
            let (x, y, width) = group_box(groups, group_position);
            let spacing = width / group.members.len() as f64;
            return (x + spacing * (place as f64 + 0.5), y + REPLICA_TOP + REPLICA_HEIGHT / 2.0);
        }
    }
    (WIDTH / 2.0, CLIENT_Y)
}

pub fn groups_picture(playground: &Playground, props: &Props) -> Html {
    html! {
        <g class="groups">
            { for playground.groups.iter().enumerate().map(|(position, group)| group_view(playground, position, group, props)) }
        </g>
    }
}

/// The side of the partition an endpoint is on, as a letter (`A`, `B`, ...), while one is in force.
pub fn side(playground: &Playground, endpoint: Endpoint) -> Option<char> {
    let partition = playground.simulation.world().partition();
    let position = partition.iter().position(|side| side.contains(&endpoint))?;
    Some(side_letter(position))
}

pub fn side_letter(position: usize) -> char {
    char::from(b'A' + (position % 26) as u8)
}

/// Where the partition runs through a group: a dashed cut between neighbouring replicas on
/// different sides (a replica cut off from both neighbours gets a cut on each side).
fn cuts(playground: &Playground, place: usize, group: &Group) -> Html {
    let (_, y, _) = group_box(&playground.groups, place);
    let sides: Vec<Option<char>> =
        group.members.iter().map(|member| side(playground, Endpoint::Node(*member))).collect();
    html! {
        <g class="cuts">
            { for group.members.windows(2).zip(sides.windows(2)).filter(|(_, sides)| sides[0] != sides[1]).map(|(pair, _)| {
                let (left, _) = position(&playground.groups, Endpoint::Node(pair[0]));
                let (right, _) = position(&playground.groups, Endpoint::Node(pair[1]));
                let x = ((left + right) / 2.0).dec();
                html! {
                    <line class="cut-line" data-between={format!("{} {}", pair[0], pair[1])} x1={x.clone()} y1={(y + REPLICA_TOP - 10.0).dec()}
                        x2={x} y2={(y + GROUP_HEIGHT - 4.0).dec()} />
                }
            }) }
        </g>
    }
}

fn members<'a>(playground: &'a Playground, group: &'a Group) -> impl Iterator<Item = &'a NodeSnapshot> + 'a {
    playground.snapshots.iter().filter(|snapshot| group.members.contains(&snapshot.id))
}

fn group_view(playground: &Playground, position: usize, group: &Group, props: &Props) -> Html {
    let (x, y, width) = group_box(&playground.groups, position);
    let first = members(playground, group).next();
    let role = first.map_or("", |snapshot| role_text(&snapshot.roles));
    html! {
        <g class="group" data-group={group.label.clone()}>
            <rect class="group-box" x={x.dec()} y={y.dec()} width={width.dec()} height={GROUP_HEIGHT.dec()} rx="10" />
            <text class="group-label" x={(x + 8.0).dec()} y={(y + 15.0).dec()}>
                { format!("{} ", group.label) }<tspan class="group-role">{ role }</tspan>
            </text>
            <text class="badges" x={(x + 8.0).dec()} y={(y + 29.0).dec()}>
                { group_badges(playground, group) }
            </text>
            { for members(playground, group).map(|snapshot| replica(playground, snapshot, props)) }
            { cuts(playground, position, group) }
        </g>
    }
}

fn role_text(roles: &[Role]) -> &'static str {
    match (roles.contains(&Role::Coordinator), roles.contains(&Role::Participant)) {
        (true, true) => "coordinator + participant",
        (true, false) => "coordinator",
        (false, true) => "participant",
        (false, false) => "",
    }
}

/// Locks and doubt of the group's 2PC state, as its acting leader (or any live replica) holds it.
fn group_badges(playground: &Playground, group: &Group) -> String {
    let acting = members(playground, group).find(|snapshot| snapshot.acting());
    let Some(memory) = acting
        .or_else(|| members(playground, group).find(|snapshot| snapshot.up))
        .and_then(|snapshot| snapshot.memory.as_ref())
    else {
        return "no replica up".to_string();
    };
    let in_doubt = memory.txns.iter().filter(|row| row.in_doubt_since_ms.is_some()).count();
    let mut parts = Vec::new();
    if !memory.locks.is_empty() {
        parts.push(format!("{} locked", memory.locks.len()));
    }
    if in_doubt > 0 {
        parts.push(format!("{in_doubt} in doubt"));
    }
    parts.join(" · ")
}

fn toggle(props: &Props, node: NodeId) -> (Callback<MouseEvent>, Callback<KeyboardEvent>) {
    let state = props.state.clone();
    let onclick = Callback::from(move |_: MouseEvent| state.dispatch(Action::ToggleNode(node)));
    let state = props.state.clone();
    let onkeydown = Callback::from(move |event: KeyboardEvent| {
        if event.key() == "Enter" || event.key() == " " {
            event.prevent_default();
            state.dispatch(Action::ToggleNode(node));
        }
    });
    (onclick, onkeydown)
}

fn short_role(role: &str) -> &str {
    if role == "pre-candidate" {
        "pre-cand."
    } else {
        role
    }
}

/// A replica's role and the three lines its box shows: its term (or ballot), how far its log
/// goes, and how much of it is committed (chosen).
fn replica_lines(snapshot: &NodeSnapshot) -> Option<(String, Vec<String>)> {
    let (role, epoch, length, done) = match (&snapshot.raft, &snapshot.paxos) {
        (Some(raft), _) => (
            raft.role.to_string(),
            format!("term {}", raft.term),
            format!("log {}", raft.log.last().map_or(0, |row| row.index)),
            format!("commit {}", raft.commit_index),
        ),
        (_, Some(paxos)) => (
            paxos.role.to_string(),
            paxos.ballot.clone(),
            format!("slots {}", paxos.slots.last().map_or(0, |row| row.slot)),
            format!("chosen {}", paxos.chosen_through),
        ),
        _ => return None,
    };
    let lines = if snapshot.up { vec![epoch, length, done] } else { vec!["DOWN".to_string(), epoch, length] };
    Some((role, lines))
}

/// One replica: a tall box, shaded and crowned when it leads, with its term, log and commit index.
fn replica(playground: &Playground, snapshot: &NodeSnapshot, props: &Props) -> Html {
    let (x, middle) = position(&playground.groups, Endpoint::Node(snapshot.id));
    let top = middle - REPLICA_HEIGHT / 2.0;
    let Some((role, lines)) = replica_lines(snapshot) else { return html! {} };
    let leads = snapshot.up && snapshot.leads();
    let mut class = classes!("node", "replica", if snapshot.up { "up" } else { "down" }, leads.then_some("leader"));
    if playground.highlighted_nodes.contains(&snapshot.id) {
        class.push("highlighted");
    }
    let action = format!("{} {}", if snapshot.up { "Crash" } else { "Restart" }, snapshot.id);
    let (onclick, onkeydown) = toggle(props, snapshot.id);
    html! {
        <g {class} data-node={snapshot.id.to_string()} data-role={role.clone()} {onclick} {onkeydown}
            role="button" tabindex="0" aria-label={action.clone()}>
            <title>{ format!("{action} (click)") }</title>
            <rect class="replica-box" x={(x - REPLICA_WIDTH / 2.0).dec()} y={top.dec()}
                width={REPLICA_WIDTH.dec()} height={REPLICA_HEIGHT.dec()} rx="3" />
            if leads {
                { crown(x, top - 6.0, 14.0) }
            }
            if let Some(letter) = side(playground, Endpoint::Node(snapshot.id)) {
                <text class={classes!("side-tag", format!("side-{letter}"))} x={(x + REPLICA_WIDTH / 2.0 - 2.0).dec()}
                    y={(top - 2.0).dec()} text-anchor="end">
                    { letter.to_string() }<title>{ format!("{} is on side {letter} of the partition", snapshot.id) }</title>
                </text>
            }
            { for lines.iter().enumerate().map(|(line, text)| html! {
                <text class={if snapshot.up { "detail" } else { "detail down-text" }} x={x.dec()}
                    y={(top + 14.0 + 14.0 * line as f64).dec()} text-anchor="middle">{ text }</text>
            }) }
            <text class="node-name" x={x.dec()} y={(top + REPLICA_HEIGHT + 15.0).dec()} text-anchor="middle">
                { if snapshot.up { snapshot.id.to_string() } else { format!("✕ {}", snapshot.id) } }
            </text>
            <text class="role-text" x={x.dec()} y={(top + REPLICA_HEIGHT + 27.0).dec()} text-anchor="middle">
                { if snapshot.up { short_role(&role).to_string() } else { String::new() } }
            </text>
            { election_timer(playground, snapshot.id, x, top + REPLICA_HEIGHT + 32.0) }
        </g>
    }
}

/// The election timer running down: a bar that empties as the timeout nears (full at the
/// scenario's longest election timeout).
fn election_timer(playground: &Playground, node: NodeId, x: f64, y: f64) -> Html {
    let Some(due_ms) = playground.election_due_ms.get(&node) else { return html! {} };
    let full_ms = playground.scenario().replication.election_timeout_ms_max.max(1) as f64;
    let remaining = ((*due_ms as f64 - playground.display_ms) / full_ms).clamp(0.0, 1.0);
    let width = REPLICA_WIDTH - 6.0;
    html! {
        <g class="election-timer" data-node={node.to_string()}>
            <title>{ format!("{node}: election timeout at {due_ms} ms") }</title>
            <rect class="timer-track" x={(x - width / 2.0).dec()} y={y.dec()} width={width.dec()} height="4" />
            <rect class="timer-left" x={(x - width / 2.0).dec()} y={y.dec()} width={(width * remaining).dec()} height="4" />
        </g>
    }
}
