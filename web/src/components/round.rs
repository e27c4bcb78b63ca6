//! One replication round on a group's lane, drawn as seed 002's double-line ACCEPT/COMMIT box:
//! from the leader's proposal of an entry to the moment its commit index reaches the entry.

use crate::decimal::Decimal;
use crate::run_index::Round;
use std::rc::Rc;
use yew::prelude::*;

/// A round in absolute time: an ended round keeps the same props every frame, so Yew renders it once.
#[derive(Properties, PartialEq, Clone)]
pub struct RoundProps {
    pub round: Rc<Round>,
    pub x: f64,
    pub y1: f64,
    pub y2: f64,
    /// `Some(true)` once committed, `Some(false)` if abandoned (crash, step-down), `None` while open.
    pub ended: Option<bool>,
    /// The label's baseline, placed clear of the diagram's other texts; `None` unlabelled.
    pub label_y: Option<f64>,
    /// On the rightmost lane: the label goes on the box's left.
    pub right_edge: bool,
}

#[component]
pub fn RoundView(props: &RoundProps) -> Html {
    let RoundProps { round, x, y1, y2, ended, label_y, right_edge } = props;
    let (x, top) = (*x, *y1);
    let height = (y2 - y1).max(2.0);
    let state = match ended {
        Some(true) => "committed",
        Some(false) => "abandoned",
        None => "open",
    };
    let entry = if round.entry.is_empty() { "entry" } else { round.entry.as_str() };
    let title = match &round.ballot {
        None => format!(
            "{} ms {} proposed {entry} at {}@{}: {}",
            round.start_ms,
            round.leader,
            round.index,
            round.term,
            match ended {
                Some(true) => "committed by a majority",
                Some(false) => "not committed by this leader",
                None => "replicating",
            }
        ),
        Some(ballot) => format!(
            "{} ms {} sent ACCEPT {} for slot #{} in ballot {ballot}: {}",
            round.start_ms,
            round.leader,
            if round.detail.is_empty() { entry } else { round.detail.as_str() },
            round.index,
            match ended {
                Some(true) => "a majority accepted: chosen, COMMIT sent",
                Some(false) => "not chosen by this leader",
                None => "waiting for AcceptedReplies",
            }
        ),
    };
    html! {
        <g class={classes!("round", state)} data-node={round.leader.to_string()} data-index={round.index.to_string()}>
            <title>{ title }</title>
            <rect class="outer" x={(x - 7.0).dec()} y={top.dec()} width="14" height={height.dec()} rx="1" />
            <rect class="inner" x={(x - 4.5).dec()} y={(top + 2.5).dec()} width="9"
                height={(height - 5.0).max(0.5).dec()} />
            if let Some(label_y) = label_y {
                // Beside the box, on its left where the right would run past the diagram's edge.
                <text class="round-label" x={(if *right_edge { x - 10.0 } else { x + 10.0 }).dec()} y={label_y.dec()}
                    text-anchor={if *right_edge { "end" } else { "start" }}>
                    { round_label(round) }
                </text>
            }
        </g>
    }
}

/// A round's label: its entry and `index@term` (under Multi-Paxos seed 002's `seq 100 P` alone).
pub fn round_label(round: &Round) -> String {
    let entry = if round.entry.is_empty() { "entry" } else { round.entry.as_str() };
    match &round.ballot {
        None => format!("{entry} {}@{}", round.index, round.term),
        Some(_) => entry.to_string(),
    }
}
