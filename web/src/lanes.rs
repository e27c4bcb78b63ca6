//! The sequence diagram's lanes and their horizontal positions, free of Yew. With single nodes a
//! lane per node plus the client, as before. In the replicated mode a lane per group (C1, C2, C3,
//! TM) by default, each expandable into a lane per replica: a collapsed group hides its consensus
//! traffic and draws its members' 2PC messages from the group's lane.

use commitlab_protocol::route::Group;
use commitlab_protocol::{Endpoint, NodeId};
use commitlab_protocol::{VecMap, VecSet};
use commitlab_sim::NodeSnapshot;

/// What one lane stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lane {
    Client,
    /// A single node, or a replica of an expanded group.
    Node(NodeId),
    /// A collapsed group, by its position in the playground's groups.
    Group(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lanes {
    pub lanes: Vec<Lane>,
    /// Every endpoint's lane, by position in `lanes`.
    lane_of: VecMap<Endpoint, usize>,
    /// Each replica's place in its group (0, 1, 2...) and the group's size, to offset marks of
    /// different replicas drawn on one collapsed lane.
    member_of: VecMap<NodeId, (usize, usize)>,
    /// Replicas whose group is collapsed.
    collapsed: VecSet<NodeId>,
    /// The groups, each with the range of lanes it spans (for the header row above the lanes).
    pub group_spans: Vec<(usize, std::ops::RangeInclusive<usize>)>,
}

impl Lanes {
    pub fn new(snapshots: &[NodeSnapshot], groups: &[Group], expanded: &VecSet<NodeId>) -> Lanes {
        let mut lanes = Lanes {
            lanes: vec![Lane::Client],
            lane_of: VecMap::from([(Endpoint::Client, 0)]),
            member_of: VecMap::new(),
            collapsed: VecSet::new(),
            group_spans: Vec::new(),
        };
        for snapshot in snapshots {
            if groups.iter().any(|group| group.members.contains(&snapshot.id)) {
                continue;
            }
            lanes.push(Lane::Node(snapshot.id), &[snapshot.id]);
        }
        for (position, group) in groups.iter().enumerate() {
            lanes.add_group(position, group, expanded.contains(&group.address()));
        }
        lanes
    }

    fn push(&mut self, lane: Lane, endpoints: &[NodeId]) {
        for node in endpoints {
            self.lane_of.insert(Endpoint::Node(*node), self.lanes.len());
        }
        self.lanes.push(lane);
    }

    fn add_group(&mut self, position: usize, group: &Group, expanded: bool) {
        let first = self.lanes.len();
        for (place, member) in group.members.iter().enumerate() {
            self.member_of.insert(*member, (place, group.members.len()));
        }
        if expanded {
            for member in &group.members {
                self.push(Lane::Node(*member), &[*member]);
            }
        } else {
            self.collapsed.extend(group.members.iter().copied());
            self.push(Lane::Group(position), &group.members);
        }
        self.group_spans.push((position, first..=self.lanes.len() - 1));
    }

    pub fn replicated(&self) -> bool {
        !self.group_spans.is_empty()
    }

    pub fn lane(&self, endpoint: Endpoint) -> usize {
        self.lane_of.get(&endpoint).copied().unwrap_or(0)
    }

    /// True for a replica drawn on its collapsed group's lane.
    pub fn is_collapsed(&self, endpoint: Endpoint) -> bool {
        matches!(endpoint, Endpoint::Node(node) if self.collapsed.contains(&node))
    }

    /// How far a replica's marks sit from its collapsed group's lane, in lane-widths of 5 pixels:
    /// the middle replica on the lane, the others either side.
    pub fn member_offset(&self, endpoint: Endpoint) -> f64 {
        match endpoint {
            Endpoint::Node(node) if self.collapsed.contains(&node) => {
                let (place, size) = self.member_of[&node];
                place as f64 - (size as f64 - 1.0) / 2.0
            }
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Playground;

    #[test]
    fn replicated_presets_get_a_lane_per_group_and_expand_into_replicas() {
        let playground = Playground::from_preset("raft-seed-002");
        let collapsed = Lanes::new(&playground.snapshots, &playground.groups, &VecSet::new());
        assert_eq!(collapsed.lanes.len(), 1 + playground.groups.len());
        assert_eq!(collapsed.lane(Endpoint::Node(NodeId(5))), 2);
        assert!(collapsed.is_collapsed(Endpoint::Node(NodeId(5))));
        let expanded = Lanes::new(&playground.snapshots, &playground.groups, &VecSet::from([NodeId(4)]));
        assert_eq!(expanded.lanes.len(), 1 + playground.groups.len() + 2);
        assert_eq!(expanded.lane(Endpoint::Node(NodeId(5))), 3);
        assert_eq!(expanded.group_spans[1].1, 2..=4);
        assert!(!expanded.is_collapsed(Endpoint::Node(NodeId(5))));
    }

    #[test]
    fn single_nodes_keep_a_lane_each() {
        let playground = Playground::from_preset("happy-path");
        let lanes = Lanes::new(&playground.snapshots, &playground.groups, &VecSet::new());
        assert_eq!(lanes.lanes.len(), 1 + playground.snapshots.len());
        assert!(!lanes.replicated());
    }
}
