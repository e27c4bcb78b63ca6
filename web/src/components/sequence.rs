//! The sequence diagram: a lane per node plus the client, one arrow per message from its send time
//! to its arrival, slanted by latency; crosses for dropped messages, marks for WAL writes, locks,
//! crashes and restarts, and the phase bands of each transaction as in seed 001's diagram.
//!
//! In the replicated mode a lane per group (C1, C2, C3, TM) by default: 2PC arrows leave from the
//! group of the replica that sent them, consensus messages are hidden, and each replication round
//! is a double-line box on the group's lane from the leader's proposal to its commit (seed 002's
//! ACCEPT and COMMIT boxes). Clicking a group's header shows a lane per replica with the Raft
//! messages between them.
//!
//! Only the time window around the cursor is drawn, so runs with thousands of messages stay
//! smooth: the window follows the cursor during play.

use crate::components::crown::crown;
use crate::components::round::{round_label, RoundProps, RoundView};
use crate::decimal::Decimal;
use crate::lanes::{Lane, Lanes};
use crate::model::{Action, Playground};
use crate::run_index::{Ending, Mark, MarkKind, MessageView, PhaseBand};
use crate::state::{Props, State};
use crate::text_layout::{Anchor, Placer, TextBox, TextSizes};
use commitlab_protocol::paxos::PaxosRole;
use commitlab_protocol::raft::RaftRole;
use commitlab_protocol::{Endpoint, Millis, NodeId};
use std::rc::Rc;
use yew::prelude::*;

const WIDTH: f64 = 860.0;
const HEIGHT: f64 = 560.0;
const HEADER: f64 = 46.0;
/// The header with a row of group names above the lanes (replicated mode).
const HEADER_WITH_GROUPS: f64 = 66.0;
const MARGIN: f64 = 60.0;
/// Above this many arrows in view, labels move into tooltips.
const LABELLED_ARROWS_MAX: usize = 70;
/// Above this many, each arrow is a bare line (still clickable): thousands stay smooth.
const DETAILED_ARROWS_MAX: usize = 160;
/// Above this many transactions in view, phase bands are left out.
const BANDS_MAX: usize = 8;
/// Above this many replication rounds in view, their boxes lose their labels.
const LABELLED_ROUNDS_MAX: usize = 40;
/// Above this many lanes, headers shorten their roles and routine consensus messages (heartbeats,
/// successful append replies) lose their labels to their tooltips.
const NARROW_LANES: usize = 8;
/// The width of one character of an arrow's label (10-pixel monospace), to keep labels inside.
const LABEL_CHAR_WIDTH: f64 = 6.1;
/// The distance between loops sent from one lane in the same millisecond: their labels, one
/// line each, must not touch.
const LOOP_PITCH: f64 = 14.0;
/// Baselines of a lane header's two lines, from the header's top: far enough apart that the
/// enlarged texts of a narrow frame (15 and 12 pixels) do not touch.
const HEADER_NAME_BASELINE: f64 = 18.0;
const HEADER_SUBTITLE_BASELINE: f64 = 33.0;
/// How far an arrow's label may move off its arrow, up or down, when every place on it is taken.
const ARROW_LABEL_LINE: f64 = 13.0;

/// Maps virtual time and lanes to diagram coordinates. Content is drawn at absolute time
/// coordinates (`y`) inside a group that is shifted to the window, so while the cursor moves only
/// that shift changes and the elements already drawn stay as they are.
struct Geometry {
    lanes: Lanes,
    /// The height of the lane headers.
    header: f64,
    top_ms: f64,
    span_ms: f64,
    /// Pixels per virtual millisecond.
    scale: f64,
}

impl Geometry {
    fn new(playground: &Playground) -> Geometry {
        let lanes = Lanes::new(&playground.snapshots, &playground.groups, &playground.expanded_groups);
        let header = if lanes.replicated() { HEADER_WITH_GROUPS } else { HEADER };
        let span_ms = playground.span_ms;
        let top_ms = (playground.display_ms - 0.8 * span_ms).max(0.0);
        Geometry { lanes, header, top_ms, span_ms, scale: (HEIGHT - header - 8.0) / span_ms }
    }

    fn lane_x(&self, lane: usize) -> f64 {
        let gaps = (self.lanes.lanes.len().max(2) - 1) as f64;
        MARGIN + lane as f64 * (WIDTH - 2.0 * MARGIN) / gaps
    }

    fn x(&self, endpoint: Endpoint) -> f64 {
        self.lane_x(self.lanes.lane(endpoint))
    }

    /// Where a mark of `endpoint` goes: on its lane, or beside its collapsed group's lane.
    fn mark_x(&self, endpoint: Endpoint) -> f64 {
        self.x(endpoint) + 5.0 * self.lanes.member_offset(endpoint)
    }

    /// So many lanes that long labels would run into the neighbouring lanes.
    fn narrow(&self) -> bool {
        self.lanes.lanes.len() > NARROW_LANES
    }

    /// Consensus messages of a collapsed group are not drawn.
    fn shows(&self, message: &MessageView) -> bool {
        !(message.consensus && self.lanes.is_collapsed(message.from))
    }

    /// The content coordinate of a time.
    fn y(&self, ms: f64) -> f64 {
        ms * self.scale
    }

    /// Where a time is in the visible diagram.
    fn viewport_y(&self, ms: f64) -> f64 {
        self.header + (ms - self.top_ms) * self.scale
    }

    fn content_transform(&self) -> String {
        format!("translate(0 {})", (self.header - self.top_ms * self.scale).dec())
    }

    fn window(&self) -> (Millis, Millis) {
        (self.top_ms.floor() as Millis, (self.top_ms + self.span_ms).ceil() as Millis)
    }
}

#[component]
pub fn SequenceDiagram(props: &Props) -> Html {
    use_effect_with((), |_| {
        // Lets the web benchmark read the time from navigation to the first diagram.
        if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
            let _ = performance.mark("commitlab-first-diagram");
        }
    });
    let playground = props.state.get();
    let dispatcher = props.state.dispatcher();
    let geometry = Geometry::new(&playground);
    let step = playground.simulation.cursor_step();
    let (from_ms, to_ms) = geometry.window();
    let messages: Vec<&Rc<MessageView>> =
        playground.index.messages_in_window(from_ms, to_ms, step).filter(|message| geometry.shows(message)).collect();
    let labelled = messages.len() <= LABELLED_ARROWS_MAX;
    let narrow = geometry.narrow();
    let detailed = messages.len() <= DETAILED_ARROWS_MAX;
    let arrows = stacked(&messages, &geometry.lanes)
        .map(|(message, stack)| {
            let labelled = labelled && detailed && !(narrow && message.routine);
            plan_arrow(&playground, &geometry, message, stack, labelled)
        })
        .collect();
    let mut scene = Scene {
        arrows,
        marks: visible_marks(&playground, &geometry),
        rounds: round_plans(&playground, &geometry),
        bands: band_plans(&playground, &geometry),
        ticks: tick_plans(&geometry),
    };
    let labels = place_texts(&playground, &geometry, detailed, &mut scene);
    let Scene { arrows, marks, rounds, bands, ticks } = scene;
    html! {
        <figure class="sequence-figure">
            <svg id="sequence" viewBox={format!("0 0 {WIDTH} {HEIGHT}")} role="img"
                aria-label="Sequence diagram of the run around the cursor">
                <defs>
                    <marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
                    </marker>
                </defs>
                { lane_lines(&playground, &geometry) }
                <g class="content" transform={geometry.content_transform()}>
                    { bands_view(&bands) }
                    { downtimes(&playground, &geometry) }
                    { rounds_view(rounds) }
                    { time_axis(&ticks) }
                    // In a group of their own: a keyed list beside other children would be
                    // diffed by position, and every arrow would be drawn anew at every frame.
                    <g class="arrows">
                        { for arrows.into_iter().zip(labels).map(|(plan, label)| {
                            arrow(&playground, plan, label, detailed, &dispatcher)
                        }) }
                    </g>
                    { marks_view(&marks) }
                </g>
                { cursor_line(&playground, &geometry) }
                { lane_headers(&playground, &geometry, props) }
                if geometry.lanes.replicated() {
                    { group_headers(&playground, &geometry, props) }
                }
            </svg>
            <figcaption class="legend">
                { "solid arrow: delivered · dashed: in flight · ✕: dropped · ■ WAL write · padlock: lock taken (filled) or released (open) · clock: a timeout fired · red ✕ and band: crash · ↻ restart · shaded bands: a transaction's prepare, commit or abort phase" }
                if geometry.lanes.replicated() {
                    { " · double box: a replication round, from the leader's proposal to its commit · crown: a replica became leader · click a group's name to show its replicas and their consensus messages" }
                }
            </figcaption>
        </figure>
    }
}

/// Everything drawn in the content frame whose texts are laid out together.
struct Scene<'a> {
    arrows: Vec<ArrowPlan>,
    marks: Vec<(usize, &'a Rc<Mark>, f64, f64)>,
    rounds: Vec<(usize, RoundProps)>,
    bands: Vec<BandPlan<'a>>,
    ticks: Vec<TickPlan>,
}

/// The font sizes of the diagram's texts: `style.css` enlarges them in narrow frames.
fn text_sizes() -> TextSizes {
    #[cfg(target_arch = "wasm32")]
    {
        thread_local! {
            // One query for the page's life: `matchMedia` builds a new list at every call.
            static NARROW_FRAME: Option<web_sys::MediaQueryList> =
                web_sys::window().and_then(|window| window.match_media("(max-width: 760px)").ok().flatten());
        }
        if NARROW_FRAME.with(|query| query.as_ref().is_some_and(web_sys::MediaQueryList::matches)) {
            return TextSizes::NARROW;
        }
    }
    TextSizes::WIDE
}

/// Decides where every movable text goes so that none covers another (see `text_layout`): what
/// cannot move first, then round labels, arrow labels, band labels and last the time ticks.
/// Answers each arrow's label place; the others are written into the scene.
fn place_texts(
    playground: &Playground,
    geometry: &Geometry,
    detailed: bool,
    scene: &mut Scene,
) -> Vec<Option<LabelAt>> {
    let sizes = text_sizes();
    let mut placer = Placer::default();
    let cursor_ms = playground.display_ms;
    placer.reserve(TextBox::of(
        &cursor_text(cursor_ms),
        WIDTH - 4.0,
        geometry.y(cursor_ms) - 4.0,
        sizes.cursor,
        Anchor::End,
    ));
    for plan in scene.arrows.iter().filter(|plan| detailed && plan.shape.end == ArrowEnd::Dropped) {
        placer.reserve(TextBox::symbol(plan.shape.x2, plan.shape.y2 + 4.0, sizes.cross));
    }
    for (_, mark, x, y) in &scene.marks {
        if matches!(mark.kind, MarkKind::Crash | MarkKind::Restart) {
            placer.reserve(TextBox::symbol(*x, y + 6.0, sizes.mark));
        }
    }
    for (_, round) in &mut scene.rounds {
        round.label_y = round.label_y.and_then(|wanted| place_round_label(&mut placer, round, wanted, sizes.round));
    }
    let labels = scene.arrows.iter().map(|plan| place_arrow_label(&mut placer, plan, sizes.arrow)).collect();
    for band in &mut scene.bands {
        // Lower in its band when its first line is taken (by a band starting just before it).
        let lines = (0..4).map(|line| band.top + 11.0 + 13.0 * f64::from(line));
        let candidates = lines
            .enumerate()
            .filter(|(line, y)| *line == 0 || y + 3.0 <= band.bottom)
            .map(|(_, y)| (TextBox::of(&band.label, 8.0, y, sizes.band, Anchor::Start), y));
        band.label_y = placer.place(candidates.collect::<Vec<_>>());
    }
    for tick in &mut scene.ticks {
        let text_box = TextBox::of(&tick_text(tick.ms), 12.0, tick.y + 3.0, sizes.tick, Anchor::Start);
        tick.labelled = placer.place([(text_box, ())]).is_some();
    }
    labels
}

/// A round's label beside its box, or a line or two lower if that is taken.
fn place_round_label(placer: &mut Placer, round: &RoundProps, wanted_y: f64, font_px: f64) -> Option<f64> {
    let label = round_label(&round.round);
    let (x, anchor) = if round.right_edge { (round.x - 10.0, Anchor::End) } else { (round.x + 10.0, Anchor::Start) };
    let candidates: Vec<_> = (0..3)
        .map(|line| wanted_y + 12.0 * f64::from(line))
        .map(|y| (TextBox::of(&label, x, y, font_px, anchor), y))
        .collect();
    placer.place(candidates)
}

/// An arrow's label where it is best, else further along the arrow; a loop's label right of the
/// loop, else left of its lane.
fn place_arrow_label(placer: &mut Placer, plan: &ArrowPlan, font_px: f64) -> Option<LabelAt> {
    let (label, best_at) = plan.label.as_ref()?;
    let plan = &plan.shape;
    let at = |x: f64, y: f64, anchor: Anchor| (TextBox::of(label, x, y, font_px, anchor), LabelAt { x, y, anchor });
    let width = TextBox::of(label, 0.0, 0.0, font_px, Anchor::Start).width();
    if plan.local {
        let y = plan.y1 + 6.0;
        let mut candidates = vec![at((plan.x1 + 38.0).min(WIDTH - width - 2.0), y, Anchor::Start)];
        if plan.x1 - 20.0 - width >= 2.0 {
            candidates.push(at(plan.x1 - 20.0, y, Anchor::End));
        }
        return placer.place(candidates);
    }
    let half_width = width / 2.0;
    let fractions: Vec<f64> = [0.0, -0.12, 0.12, -0.24, 0.24, -0.36, 0.36]
        .into_iter()
        .map(|shift| best_at + shift)
        .filter(|fraction| (0.08..=0.92).contains(fraction))
        .collect();
    // On the arrow first; then a line below or above it, where lanes are close together and
    // a long label covers the whole of a short arrow.
    let candidates: Vec<_> = [0.0, ARROW_LABEL_LINE, -ARROW_LABEL_LINE]
        .into_iter()
        .flat_map(|shift_y| fractions.iter().map(move |fraction| (*fraction, shift_y)))
        .map(|(fraction, shift_y)| {
            let x = (plan.x1 + (plan.x2 - plan.x1) * fraction)
                .clamp(half_width + 2.0, (WIDTH - half_width - 2.0).max(half_width + 2.0));
            at(x, plan.y1 + (plan.y2 - plan.y1) * fraction - 3.0 + shift_y, Anchor::Middle)
        })
        .collect();
    placer.place(candidates)
}

/// A phase band in view; its label's baseline once placed (`None`: no room, left out).
struct BandPlan<'a> {
    band: &'a PhaseBand,
    top: f64,
    bottom: f64,
    label: String,
    label_y: Option<f64>,
}

fn band_plans<'a>(playground: &'a Playground, geometry: &Geometry) -> Vec<BandPlan<'a>> {
    let step = playground.simulation.cursor_step();
    let (from_ms, to_ms) = geometry.window();
    let cursor_ms = playground.display_ms;
    let visible: Vec<_> = playground
        .index
        .bands
        .iter()
        .filter(|band| band.start_step <= step && band.start_ms <= to_ms)
        .filter(|band| band.end.is_none_or(|(end_ms, end_step)| end_step > step || end_ms >= from_ms))
        .collect();
    if visible.len() > BANDS_MAX {
        return Vec::new();
    }
    visible
        .into_iter()
        .map(|band| {
            let end_ms =
                band.end.filter(|(_, end_step)| *end_step <= step).map_or(cursor_ms, |(end_ms, _)| end_ms as f64);
            let (top, bottom) = (geometry.y(band.start_ms as f64), geometry.y(end_ms));
            BandPlan { band, top, bottom, label: format!("{} {}", band.txn, band.phase), label_y: None }
        })
        .collect()
}

fn bands_view(bands: &[BandPlan]) -> Html {
    html! {
        <g class="bands">
            { for bands.iter().map(|plan| {
                let band = plan.band;
                html! {
                    <g key={format!("{}-{}", band.txn, band.phase)} class={classes!("band", band.phase)} data-txn={band.txn.to_string()}>
                        <rect x="4" y={plan.top.dec()} width={(WIDTH - 8.0).dec()} height={(plan.bottom - plan.top).max(1.0).dec()} />
                        if let Some(y) = plan.label_y {
                            <text x="8" y={y.dec()}>{ plan.label.clone() }</text>
                        }
                    </g>
                }
            }) }
        </g>
    }
}

/// The lanes, drawn in the fixed frame: they span the whole view whatever the time.
fn lane_lines(playground: &Playground, geometry: &Geometry) -> Html {
    let bottom = HEIGHT - 4.0;
    html! {
        <g class="lanes">
            { for geometry.lanes.lanes.iter().enumerate().map(|(position, lane)| {
                let x = geometry.lane_x(position).dec();
                let top = geometry.header.dec();
                match lane {
                    Lane::Group(group) => html! {
                        <g class="lane group-lane" data-group={group_label(playground, *group)}>
                            <line class="lane-line" x1={x.clone()} y1={top} x2={x} y2={bottom.dec()} />
                        </g>
                    },
                    _ => html! {
                        <g class="lane" data-endpoint={lane_endpoint(lane).to_string()}>
                            <line class="lane-line" x1={x.clone()} y1={top} x2={x} y2={bottom.dec()} />
                        </g>
                    },
                }
            }) }
        </g>
    }
}

/// A red band on the lane while a node is down.
fn downtimes(playground: &Playground, geometry: &Geometry) -> Html {
    let step = playground.simulation.cursor_step();
    html! {
        <g class="downtimes">
            { for playground.index.downtimes.iter().enumerate().filter(|(_, downtime)| downtime.start_step <= step).map(|(position, downtime)| {
                let x = geometry.mark_x(Endpoint::Node(downtime.node)).dec();
                let end_ms = downtime.end.filter(|(_, end_step)| *end_step <= step)
                    .map_or(playground.display_ms, |(end_ms, _)| end_ms as f64);
                let (top, bottom) = (geometry.y(downtime.start_ms as f64), geometry.y(end_ms));
                html! {
                    <line key={position} class="down-segment" data-node={downtime.node.to_string()}
                        x1={x.clone()} y1={top.dec()} x2={x} y2={bottom.max(top).dec()} />
                }
            }) }
        </g>
    }
}

/// Pairs each message with its place among the messages sent from the same lane in the same
/// millisecond, counted separately for loops (within one lane) and for arrows to other lanes, and
/// with how many there are: loops are stacked instead of drawn on top of each other, and a
/// broadcast's labels sit near their receivers instead of piling up where the arrows start out
/// together.
fn stacked<'a>(
    messages: &'a [&'a Rc<MessageView>],
    lanes: &'a Lanes,
) -> impl Iterator<Item = (&'a Rc<MessageView>, Stack)> + 'a {
    // Messages come in order of sending: each millisecond's are counted on their own, in a short list.
    let key = |message: &MessageView| {
        let lane = lanes.lane(message.from);
        (lane, lane == lanes.lane(message.to))
    };
    messages.chunk_by(|a, b| a.send_ms == b.send_ms).flat_map(move |chunk| {
        let mut seen: Vec<((usize, bool), usize)> = Vec::new();
        let ranked: Vec<(&Rc<MessageView>, usize)> = chunk
            .iter()
            .map(|message| {
                let key = key(message);
                let rank = match seen.iter_mut().find(|(seen_key, _)| *seen_key == key) {
                    Some((_, count)) => {
                        *count += 1;
                        *count - 1
                    }
                    None => {
                        seen.push((key, 1));
                        0
                    }
                };
                (*message, rank)
            })
            .collect();
        ranked.into_iter().map(move |(message, rank)| {
            let size = seen.iter().find(|(seen_key, _)| *seen_key == key(message)).map_or(1, |(_, count)| *count);
            (message, Stack { rank, size })
        })
    })
}

/// A message's place among those sent from its lane in the same millisecond.
#[derive(Copy, Clone)]
struct Stack {
    rank: usize,
    size: usize,
}

/// Where an arrow ends at the cursor.
#[derive(Copy, Clone, PartialEq)]
enum ArrowEnd {
    Delivered,
    Dropped,
    InFlight,
}

/// Everything an arrow's drawing depends on. Delivered and dropped arrows keep the same props
/// from frame to frame (content is drawn in absolute time), so Yew skips them entirely.
#[derive(Properties, PartialEq)]
struct ArrowProps {
    message: Rc<MessageView>,
    dispatcher: UseReducerDispatcher<State>,
    shape: ArrowShape,
    /// Where its label goes; `None` unlabelled (too many arrows, or no room: see `place_texts`).
    label: Option<LabelAt>,
    selected: bool,
    highlighted: bool,
    detailed: bool,
}

/// Where a label is drawn.
#[derive(Clone, Copy, PartialEq)]
struct LabelAt {
    x: f64,
    y: f64,
    anchor: Anchor,
}

/// Where an arrow runs at the cursor and how it ends.
#[derive(Clone, Copy, PartialEq)]
struct ArrowShape {
    x1: f64,
    y1: f64,
    x2: f64,
    y2: f64,
    end: ArrowEnd,
    /// Drawn as a loop: both ends on one lane.
    local: bool,
    /// Name the sending replica in the label (it is drawn on its group's lane).
    named_sender: bool,
}

/// An arrow at the cursor, before its label is placed.
struct ArrowPlan {
    message: Rc<MessageView>,
    shape: ArrowShape,
    /// The label, if it is to have one, and where along the arrow it sits best, from 0 (the
    /// sender) to 1.
    label: Option<(String, f64)>,
}

fn plan_arrow(
    playground: &Playground,
    geometry: &Geometry,
    message: &Rc<MessageView>,
    stack: Stack,
    labelled: bool,
) -> ArrowPlan {
    let step = playground.simulation.cursor_step();
    let local = geometry.lanes.lane(message.from) == geometry.lanes.lane(message.to);
    let (x1, y1) = (
        geometry.x(message.from),
        geometry.y(message.send_ms as f64) + if local { LOOP_PITCH * stack.rank as f64 } else { 0.0 },
    );
    let x_to = geometry.x(message.to);
    let named_sender = geometry.lanes.is_collapsed(message.from);
    let label = labelled.then(|| arrow_label(message, named_sender));
    // A lone arrow is labelled at its middle; a broadcast's arrows just before their receivers,
    // which are a lane apart, where their middles may be only half a lane apart.
    let label_at = match &label {
        Some(label) if !local && stack.size > 1 => {
            let half_width = LABEL_CHAR_WIDTH * label.chars().count() as f64 / 2.0;
            (1.0 - (half_width + 10.0) / (x_to - x1).abs().max(1.0)).clamp(0.5, 0.9)
        }
        _ => 0.5,
    };
    let y_due = geometry.y(message.due_ms as f64);
    let (x2, y2, end) = match message.ending_at(step) {
        Some((Ending::Delivered, ms)) => (x_to, geometry.y(ms as f64), ArrowEnd::Delivered),
        Some((Ending::Dropped { at_send: true, .. }, _)) => {
            (x1 + (x_to - x1) * 0.5, y1 + (y_due - y1) * 0.5, ArrowEnd::Dropped)
        }
        Some((Ending::Dropped { .. }, ms)) => (x_to, geometry.y(ms as f64), ArrowEnd::Dropped),
        None => {
            let flight = (message.due_ms - message.send_ms).max(1) as f64;
            let fraction = ((playground.display_ms - message.send_ms as f64) / flight).clamp(0.0, 1.0);
            (x1 + (x_to - x1) * fraction, y1 + (y_due - y1) * fraction, ArrowEnd::InFlight)
        }
    };
    ArrowPlan {
        message: message.clone(),
        shape: ArrowShape { x1, y1, x2, y2, end, local, named_sender },
        label: label.map(|label| (label, label_at)),
    }
}

fn arrow(
    playground: &Playground,
    plan: ArrowPlan,
    label: Option<LabelAt>,
    detailed: bool,
    dispatcher: &UseReducerDispatcher<State>,
) -> Html {
    let ArrowPlan { message, shape, .. } = plan;
    html! {
        <Arrow key={message.id.0} message={message.clone()} dispatcher={dispatcher.clone()} {shape} {label}
            selected={playground.selected_message == Some(message.id)}
            highlighted={playground.highlighted_txn.is_some() && playground.highlighted_txn == message.txn}
            {detailed} />
    }
}

#[component]
fn Arrow(props: &ArrowProps) -> Html {
    let message = &props.message;
    let ArrowShape { x1, y1, x2, y2, ref end, local, named_sender } = props.shape;
    let mut class = classes!("arrow", format!("kind-{}", message.kind));
    class.push(match end {
        ArrowEnd::Delivered => "delivered",
        ArrowEnd::Dropped => "dropped",
        ArrowEnd::InFlight => "in-flight",
    });
    if message.duplicate_of.is_some() {
        class.push("duplicate");
    }
    if props.selected {
        class.push("selected");
    }
    if props.highlighted {
        class.push("highlighted");
    }
    let onclick = {
        let dispatcher = props.dispatcher.clone();
        let id = message.id;
        Callback::from(move |_: MouseEvent| dispatcher.dispatch(Action::SelectMessage(Some(id))))
    };
    if !props.detailed {
        return html! {
            <line class={class} data-message={message.id.to_string()} {onclick}
                x1={x1.dec()} y1={y1.dec()} x2={x2.dec()} y2={y2.dec()} />
        };
    }
    let cross = *end == ArrowEnd::Dropped;
    let title = describe_shown(message, *end != ArrowEnd::InFlight);
    let body = if local {
        let (x, y, bulge) = (x1.dec(), y1.dec(), (x1 + 34.0).dec());
        let path =
            format!("M {x} {y} C {bulge} {} {bulge} {} {x} {}", (y1 - 4.0).dec(), (y1 + 12.0).dec(), (y1 + 8.0).dec());
        html! { <path class="shaft" d={path} marker-end="url(#arrowhead)" /> }
    } else {
        let marker = if cross { None } else { Some("url(#arrowhead)") };
        html! { <line class="shaft" x1={x1.dec()} y1={y1.dec()} x2={x2.dec()} y2={y2.dec()} marker-end={marker} /> }
    };
    html! {
        <g class={class} data-message={message.id.to_string()} {onclick} role="button" aria-label={title.clone()}>
            <title>{ title }</title>
            // A wide invisible stroke makes thin arrows easy to hover and click.
            <line class="hit" x1={x1.dec()} y1={y1.dec()} x2={x2.dec()} y2={y2.dec()} />
            { body }
            if cross {
                <text class="cross" x={x2.dec()} y={(y2 + 4.0).dec()} text-anchor="middle">{ "✕" }</text>
            }
            if let Some(at) = props.label {
                <text class="label" x={at.x.dec()} y={at.y.dec()} text-anchor={anchor_name(at.anchor)}>
                    { arrow_label(message, named_sender) }
                </text>
            }
        </g>
    }
}

/// The arrow's label: `Vote t1 YES`, `n5: Vote t1 YES` from a collapsed group's replica; the
/// short form of a consensus message (its whole description is in the tooltip).
fn arrow_label(message: &MessageView, named_sender: bool) -> String {
    let label = match message.duplicate_of {
        Some(of) => format!("{} (copy of {of})", message.short),
        None => message.short.clone(),
    };
    if named_sender {
        format!("{}: {label}", message.from)
    } else {
        label
    }
}

/// One line about a message for tooltips and screen readers, as seen at `step`.
pub fn describe(message: &MessageView, step: u64) -> String {
    describe_shown(message, message.ending_at(step).is_some())
}

/// The same, saying how it ended only if that is already shown.
fn describe_shown(message: &MessageView, ended: bool) -> String {
    let mut text =
        format!("{} {} -> {} {}, sent at {} ms", message.id, message.from, message.to, message.label, message.send_ms);
    if let Some(of) = message.duplicate_of {
        text.push_str(&format!(", duplicate of {of}"));
    }
    match &message.end {
        Some((Ending::Delivered, ms, _)) if ended => text.push_str(&format!(", delivered at {ms} ms")),
        Some((Ending::Dropped { reason, .. }, ms, _)) if ended => {
            text.push_str(&format!(", dropped at {ms} ms ({reason})"))
        }
        _ => text.push_str(&format!(", in flight, due at {} ms", message.due_ms)),
    }
    text
}

/// The marks in view with where they go.
fn visible_marks<'a>(playground: &'a Playground, geometry: &Geometry) -> Vec<(usize, &'a Rc<Mark>, f64, f64)> {
    let step = playground.simulation.cursor_step();
    let (from_ms, to_ms) = geometry.window();
    let marks: Vec<_> = playground.index.marks_in_window(from_ms, to_ms, step).collect();
    let with_locks = marks.len() <= 400;
    let shown = |mark: &Mark| match mark.kind {
        MarkKind::ConsensusTimer(_) => !geometry.lanes.is_collapsed(mark.endpoint),
        MarkKind::LockTaken(_) | MarkKind::LockReleased(_) => with_locks,
        _ => true,
    };
    marks
        .into_iter()
        .filter(|(_, mark)| shown(mark))
        .map(|(position, mark)| (position, mark, geometry.mark_x(mark.endpoint), geometry.y(mark.ms as f64)))
        .collect()
}

fn marks_view(marks: &[(usize, &Rc<Mark>, f64, f64)]) -> Html {
    html! {
        <g class="marks">
            { for marks.iter().map(|(position, mark, x, y)| {
                html! { <MarkView key={*position} mark={(*mark).clone()} x={*x} y={*y} /> }
            }) }
        </g>
    }
}

/// A mark in absolute time: the same props every frame, so Yew renders it once.
#[derive(Properties, PartialEq)]
struct MarkProps {
    mark: Rc<Mark>,
    x: f64,
    y: f64,
}

#[component]
fn MarkView(props: &MarkProps) -> Html {
    let MarkProps { mark, x, y } = props;
    let (x, y) = (*x, *y);
    let node = mark.endpoint.to_string();
    match &mark.kind {
        MarkKind::Wal(record) => html! {
            <rect class="wal-mark" data-node={node.clone()} x={(x - 3.5).dec()} y={(y - 3.5).dec()} width="7" height="7">
                <title>{ format!("{} ms {node} WAL {record}", mark.ms) }</title>
            </rect>
        },
        MarkKind::LockTaken(text) => lock_mark(x, y, &node, mark.ms, text, true),
        MarkKind::LockReleased(text) => lock_mark(x, y, &node, mark.ms, text, false),
        MarkKind::Crash => html! {
            <text class="crash-mark" data-node={node.clone()} x={x.dec()} y={(y + 6.0).dec()} text-anchor="middle">
                { "✕" }<title>{ format!("{} ms {node} crashed", mark.ms) }</title>
            </text>
        },
        MarkKind::Restart => html! {
            <text class="restart-mark" data-node={node.clone()} x={x.dec()} y={(y + 6.0).dec()} text-anchor="middle">
                { "↻" }<title>{ format!("{} ms {node} restarted", mark.ms) }</title>
            </text>
        },
        MarkKind::Leader(epoch) => html! {
            <g class="leader-mark" data-node={node.clone()}>
                <title>{ format!("{} ms {node} leader {epoch}", mark.ms) }</title>
                { crown(x, y - 1.0, 12.0) }
            </g>
        },
        MarkKind::Timer(text) | MarkKind::ConsensusTimer(text) => html! {
            <g class="timer-mark" data-node={node.clone()}>
                <title>{ format!("{} ms {node} timer fired: {text}", mark.ms) }</title>
                <circle cx={(x + 10.0).dec()} cy={y.dec()} r="4" />
                <path d={format!("M {x} {y} v -3 M {x} {y} h 2", x = (x + 10.0).dec(), y = y.dec())} />
            </g>
        },
        MarkKind::Violation(text) => html! {
            <circle class="violation-mark" data-node={node.clone()} cx={x.dec()} cy={y.dec()} r="7">
                <title>{ format!("{} ms {text}", mark.ms) }</title>
            </circle>
        },
    }
}

/// A small padlock drawn left of the lane: closed when taken, open when released.
fn lock_mark(x: f64, y: f64, node: &str, ms: Millis, text: &str, taken: bool) -> Html {
    let (left, top) = (x - 17.0, y - 2.0);
    let shackle = if taken {
        format!("M {} {} v -3 a 3 3 0 0 1 6 0 v 3", (left + 1.5).dec(), top.dec())
    } else {
        format!("M {} {} v -3 a 3 3 0 0 1 6 0", (left + 1.5).dec(), top.dec())
    };
    html! {
        <g class={classes!("lock-mark", if taken { "taken" } else { "released" })} data-node={node.to_string()}>
            <title>{ format!("{ms} ms {text}") }</title>
            <path d={shackle} />
            <rect x={left.dec()} y={top.dec()} width="9" height="6" rx="1" />
        </g>
    }
}

/// A time tick; its label is left out where another text has the place.
struct TickPlan {
    tick: u64,
    ms: f64,
    y: f64,
    labelled: bool,
}

/// Time ticks down the left edge, at a round interval giving about six per view.
fn tick_plans(geometry: &Geometry) -> Vec<TickPlan> {
    let interval = [1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0]
        .into_iter()
        .find(|interval| geometry.span_ms / interval <= 7.0)
        .unwrap_or(10_000.0);
    let first = (geometry.top_ms / interval).ceil() as u64;
    let last = ((geometry.top_ms + geometry.span_ms) / interval).floor() as u64;
    (first..=last)
        .map(|tick| {
            let ms = tick as f64 * interval;
            TickPlan { tick, ms, y: geometry.y(ms), labelled: true }
        })
        .collect()
}

fn tick_text(ms: f64) -> String {
    format!("{} ms", ms.dec())
}

fn time_axis(ticks: &[TickPlan]) -> Html {
    html! {
        <g class="time-axis">
            { for ticks.iter().map(|tick| {
                let y = tick.y;
                html! {
                    <g key={tick.tick}>
                        <line x1="0" y1={y.dec()} x2="10" y2={y.dec()} />
                        if tick.labelled {
                            <text x="12" y={(y + 3.0).dec()}>{ tick_text(tick.ms) }</text>
                        }
                    </g>
                }
            }) }
        </g>
    }
}

fn cursor_text(display_ms: f64) -> String {
    format!("{} ms", display_ms.floor().dec())
}

fn cursor_line(playground: &Playground, geometry: &Geometry) -> Html {
    let y = geometry.viewport_y(playground.display_ms);
    html! {
        <g class="cursor">
            <line x1="0" y1={y.dec()} x2={WIDTH.dec()} y2={y.dec()} />
            <text x={(WIDTH - 4.0).dec()} y={(y - 4.0).dec()} text-anchor="end">
                { cursor_text(playground.display_ms) }
            </text>
        </g>
    }
}

fn lane_headers(playground: &Playground, geometry: &Geometry, props: &Props) -> Html {
    // With groups, the lane boxes sit below the row of group names.
    let top = geometry.header - HEADER;
    html! {
        <g class="lane-headers">
            <rect class="header-backdrop" x="0" y="0" width={WIDTH.dec()} height={(geometry.header - 4.0).dec()} />
            { for geometry.lanes.lanes.iter().enumerate().map(|(position, lane)| {
                let x = geometry.lane_x(position);
                match lane {
                    Lane::Group(group) => group_lane_header(playground, *group, x, top, props),
                    _ => lane_header(playground, lane_endpoint(lane), x, top, geometry.narrow(), props),
                }
            }) }
        </g>
    }
}

/// The endpoint a client or node lane stands for.
fn lane_endpoint(lane: &Lane) -> Endpoint {
    match lane {
        Lane::Node(node) => Endpoint::Node(*node),
        _ => Endpoint::Client,
    }
}

fn group_label(playground: &Playground, group: usize) -> String {
    playground.groups.get(group).map(|group| group.label.clone()).unwrap_or_default()
}

/// A lane's header: click a node to crash or restart it. A replica shows its role and term,
/// crowned when it leads.
fn lane_header(playground: &Playground, endpoint: Endpoint, x: f64, top: f64, narrow: bool, props: &Props) -> Html {
    let snapshot = match endpoint {
        Endpoint::Node(node) => playground.snapshots.iter().find(|snapshot| snapshot.id == node),
        Endpoint::Client => None,
    };
    let mut class = classes!("lane-header");
    let (title, subtitle, onclick) = match snapshot {
        Some(snapshot) => {
            class.push(if snapshot.up { "up" } else { "down" });
            if playground.highlighted_nodes.contains(&snapshot.id) {
                class.push("highlighted");
            }
            let state = props.state.clone();
            let node = snapshot.id;
            let onclick = Callback::from(move |_: MouseEvent| state.dispatch(Action::ToggleNode(node)));
            let subtitle = match &snapshot.raft {
                // A dozen lanes leave a header no room for "pre-candidate": roles are shortened,
                // and a follower shows only its term.
                Some(raft) if snapshot.up && narrow => match raft.role {
                    RaftRole::Follower => format!("t{}", raft.term),
                    RaftRole::Leader => format!("leader t{}", raft.term),
                    RaftRole::Candidate => format!("cand. t{}", raft.term),
                    RaftRole::PreCandidate => format!("pre t{}", raft.term),
                },
                Some(raft) if snapshot.up => format!("{} t{}", raft.role, raft.term),
                Some(_) => "DOWN".to_string(),
                None => match &snapshot.paxos {
                    Some(paxos) if snapshot.up && narrow => match paxos.role {
                        PaxosRole::Follower => paxos.ballot.clone(),
                        PaxosRole::Leader => format!("leader {}", paxos.ballot),
                        PaxosRole::Candidate => format!("cand. {}", paxos.ballot),
                    },
                    Some(paxos) if snapshot.up => format!("{} {}", paxos.role, paxos.ballot),
                    Some(_) => "DOWN".to_string(),
                    None => snapshot.label.clone(),
                },
            };
            (snapshot.id.to_string(), subtitle, Some(onclick))
        }
        None => ("client".to_string(), String::new(), None),
    };
    let leads = snapshot.is_some_and(commitlab_sim::NodeSnapshot::leads);
    let action = snapshot.map(|snapshot| format!("{} {}", if snapshot.up { "Crash" } else { "Restart" }, snapshot.id));
    html! {
        <g class={class} data-endpoint={endpoint.to_string()} {onclick} aria-label={action.clone()}>
            if let Some(action) = action {
                <title>{ format!("{action} (click)") }</title>
            }
            <rect x={(x - 30.0).dec()} y={(top + 4.0).dec()} width="60" height="34" rx="6" />
            if leads {
                { crown(x - 19.0, top + 15.0, 11.0) }
            }
            <text class="name" x={x.dec()} y={(top + HEADER_NAME_BASELINE).dec()} text-anchor="middle">{ title }</text>
            <text class="subtitle" x={x.dec()} y={(top + HEADER_SUBTITLE_BASELINE).dec()} text-anchor="middle">{ subtitle }</text>
        </g>
    }
}

/// The leader of a group at the cursor (the highest term's, if two think they lead), with its term
/// (under Multi-Paxos its ballot's round).
fn group_leader(playground: &Playground, members: &[NodeId]) -> Option<(NodeId, u64)> {
    playground
        .snapshots
        .iter()
        .filter(|snapshot| snapshot.up && members.contains(&snapshot.id))
        .filter(|snapshot| snapshot.leads())
        .filter_map(|snapshot| snapshot.epoch().map(|epoch| (snapshot.id, epoch)))
        .max_by_key(|(_, epoch)| *epoch)
}

/// A collapsed group's lane header: its leader, crowned; click to show a lane per replica.
fn group_lane_header(playground: &Playground, group: usize, x: f64, top: f64, props: &Props) -> Html {
    let Some(found) = playground.groups.get(group) else { return html! {} };
    let leader = group_leader(playground, &found.members);
    let all_down = playground
        .snapshots
        .iter()
        .filter(|snapshot| found.members.contains(&snapshot.id))
        .all(|snapshot| !snapshot.up);
    let onclick = {
        let state = props.state.clone();
        let address = found.address();
        Callback::from(move |_: MouseEvent| state.dispatch(Action::ToggleGroupLane(address)))
    };
    let members: Vec<String> = found.members.iter().map(ToString::to_string).collect();
    let action = format!("Show each replica of {} ({})", found.label, members.join(", "));
    html! {
        <g class={classes!("lane-header", "group-lane-header", if all_down { "down" } else { "up" })}
            data-group={found.label.clone()} {onclick} role="button" aria-label={action.clone()}>
            <title>{ format!("{action} (click)") }</title>
            <rect x={(x - 30.0).dec()} y={(top + 4.0).dec()} width="60" height="34" rx="6" />
            <text class="name" x={x.dec()} y={(top + HEADER_NAME_BASELINE).dec()} text-anchor="middle">{ &found.label }</text>
            { match leader {
                Some((node, term)) => html! {
                    <>
                        { crown(x - 17.0, top + 28.0, 10.0) }
                        <text class="subtitle" x={(x + 5.0).dec()} y={(top + HEADER_SUBTITLE_BASELINE).dec()} text-anchor="middle">{ match playground.scenario().replication.engine {
                            commitlab_sim::Engine::MultiPaxos => format!("{node} b{term}"),
                            _ => format!("{node} t{term}"),
                        } }</text>
                    </>
                },
                None => html! { <text class="subtitle" x={x.dec()} y={(top + HEADER_SUBTITLE_BASELINE).dec()} text-anchor="middle">{ "no leader" }</text> },
            } }
        </g>
    }
}

/// The row of group names above the lanes: click one to expand or collapse its lanes.
fn group_headers(playground: &Playground, geometry: &Geometry, props: &Props) -> Html {
    html! {
        <g class="group-headers">
            { for geometry.lanes.group_spans.iter().filter_map(|(group, span)| {
                let found = playground.groups.get(*group)?;
                let expanded = playground.expanded_groups.contains(&found.address());
                let (left, right) = (geometry.lane_x(*span.start()) - 30.0, geometry.lane_x(*span.end()) + 30.0);
                let onclick = {
                    let state = props.state.clone();
                    let address = found.address();
                    Callback::from(move |_: MouseEvent| state.dispatch(Action::ToggleGroupLane(address)))
                };
                let first = found.members.first().map(ToString::to_string).unwrap_or_default();
                let last = found.members.last().map(ToString::to_string).unwrap_or_default();
                let action = format!("{} {} lanes", if expanded { "Collapse" } else { "Expand" }, found.label);
                // A triangle pointing right when collapsed, down when expanded.
                let chevron = if expanded {
                    format!("M {} 8 l 8 0 l -4 6 z", (left + 5.0).dec())
                } else {
                    format!("M {} 7 l 6 4 l -6 4 z", (left + 6.0).dec())
                };
                Some(html! {
                    <g class={classes!("group-header", expanded.then_some("expanded"))} data-group={found.label.clone()}
                        {onclick} role="button" aria-expanded={expanded.to_string()} aria-label={action.clone()}>
                        <title>{ format!("{action} (click)") }</title>
                        <rect x={left.dec()} y="2" width={(right - left).dec()} height="17" rx="4" />
                        <path class="chevron" d={chevron} />
                        <text x={(left + 16.0).dec()} y="14">{ format!("{} {first}-{last}", found.label) }</text>
                    </g>
                })
            }) }
        </g>
    }
}

/// The replication rounds in view, each a box on the lane of the leader that ran it, with where
/// its label would go (placed later by `place_texts`).
fn round_plans(playground: &Playground, geometry: &Geometry) -> Vec<(usize, RoundProps)> {
    let step = playground.simulation.cursor_step();
    let (from_ms, to_ms) = geometry.window();
    let rounds: Vec<_> = playground.index.rounds_in_window(from_ms, to_ms, step).collect();
    let labelled = rounds.len() <= LABELLED_ROUNDS_MAX;
    rounds
        .into_iter()
        .map(|(position, round)| {
            let ended = round.end.filter(|(_, end_step, _)| *end_step <= step);
            let end_ms = ended.map_or(playground.display_ms, |(end_ms, _, _)| end_ms as f64);
            let y1 = geometry.y(round.start_ms as f64);
            let props = RoundProps {
                round: round.clone(),
                x: geometry.x(Endpoint::Node(round.leader)),
                y1,
                y2: geometry.y(end_ms),
                ended: ended.map(|(_, _, committed)| committed),
                label_y: labelled.then_some(y1 + 9.0),
                right_edge: geometry.lanes.lane(Endpoint::Node(round.leader)) + 1 == geometry.lanes.lanes.len(),
            };
            (position, props)
        })
        .collect()
}

fn rounds_view(rounds: Vec<(usize, RoundProps)>) -> Html {
    html! {
        <g class="rounds">
            { for rounds.into_iter().map(|(position, props)| html! { <RoundView key={position} ..props /> }) }
        </g>
    }
}

fn anchor_name(anchor: Anchor) -> &'static str {
    match anchor {
        Anchor::Start => "start",
        Anchor::Middle => "middle",
        Anchor::End => "end",
    }
}
