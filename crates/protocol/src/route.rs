//! Routing by group, not by node: leader discovery (seed 002's "bug to fix").
//!
//! In the replicated mode the 2PC roles address a shard's *group* (named by its first replica, so
//! C2 = n4..n6 is addressed as n4) and never a replica. A sender resolves the address only when it
//! sends, through a leader cache:
//! - a replica that is not the leader bounces the message back with `NotLeader` and its best hint;
//!   the sender believes the hint and sends the bounced message there at once (a bounded number of
//!   times, so two replicas with stale beliefs cannot bounce a message forever);
//! - a group that has not answered anything for `patience_ms` since the sender first waited on
//!   it is presumed to have lost its leader: the next send goes to the next member.
//!
//! Seed 002's bug is the teaching switch `static_leader`: the sender always uses the configured
//! leader (the first replica) and ignores hints, so after an election its messages go nowhere.

use crate::ids::{Millis, NodeId};
use crate::vec_map::VecMap;
use std::sync::Arc;

/// One group: a shard or the transaction manager, replicated.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Group {
    /// `C1`, `C2`, ... or `TM`.
    pub label: String,
    /// Its replicas in id order; the first is the group's address and its configured leader.
    pub members: Vec<NodeId>,
}

impl Group {
    pub fn address(&self) -> NodeId {
        self.members[0]
    }

    /// The member after `member`, wrapping around.
    fn after(&self, member: NodeId) -> NodeId {
        let position = self.members.iter().position(|candidate| *candidate == member).unwrap_or(0);
        self.members[(position + 1) % self.members.len()]
    }
}

/// Every group of a replicated cluster.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Groups {
    pub groups: Vec<Group>,
}

impl Groups {
    /// The group whose address is `address`.
    pub fn addressed(&self, address: NodeId) -> Option<&Group> {
        self.groups.iter().find(|group| group.address() == address)
    }

    /// The group `member` belongs to.
    pub fn of_member(&self, member: NodeId) -> Option<&Group> {
        self.groups.iter().find(|group| group.members.contains(&member))
    }
}

/// How a sender routes.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteConfig {
    /// Silence from a group for this long moves the sender to its next member.
    pub patience_ms: Millis,
    /// Teaching bug: always send to the configured leader, ignore hints (seed 002's line 80).
    pub static_leader: bool,
}

/// A sender's leader cache.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Router {
    groups: Arc<Groups>,
    config: RouteConfig,
    /// Group address to the replica believed to lead it.
    leaders: VecMap<NodeId, NodeId>,
    /// Group address to when the sender started waiting for an answer from it.
    waiting_since_ms: VecMap<NodeId, Millis>,
    /// Group address to bounces followed since the group last answered with something else.
    bounces: VecMap<NodeId, usize>,
}

impl Router {
    pub fn new(groups: Arc<Groups>, config: RouteConfig) -> Router {
        Router { groups, config, leaders: VecMap::new(), waiting_since_ms: VecMap::new(), bounces: VecMap::new() }
    }

    pub fn groups(&self) -> &Arc<Groups> {
        &self.groups
    }

    /// The replica a message to `address` goes to now; `expects_answer` starts the patience clock
    /// if it is not running. Addresses that name no group (the single node mode) are their own
    /// target.
    pub fn target(&mut self, now_ms: Millis, address: NodeId, expects_answer: bool) -> NodeId {
        let Some(group) = self.groups.addressed(address) else { return address };
        if self.config.static_leader {
            return address;
        }
        let believed = self.leaders.get(&address).copied().unwrap_or(address);
        let Some(waited) = self.waiting_since_ms.get_mut(&address) else {
            if expects_answer {
                self.waiting_since_ms.insert(address, now_ms);
            }
            return believed;
        };
        if now_ms >= *waited + self.config.patience_ms {
            let next = group.after(believed);
            self.leaders.insert(address, next);
            *waited = now_ms;
            return next;
        }
        believed
    }

    /// Something arrived from `member`: its group is answering. Returns the group's address (what
    /// the 2PC roles call the sender), or the member itself outside any group.
    pub fn heard_from(&mut self, member: NodeId, bounced: bool) -> NodeId {
        let Some(group) = self.groups.of_member(member) else { return member };
        let address = group.address();
        self.waiting_since_ms.remove(&address);
        if !bounced {
            self.bounces.remove(&address);
            if !self.config.static_leader {
                self.leaders.insert(address, member);
            }
        }
        address
    }

    /// `member` bounced a message with this hint. Returns where to send it again, if anywhere:
    /// the hinted leader, at most twice per member before the group answers otherwise.
    pub fn on_not_leader(&mut self, member: NodeId, hint: Option<NodeId>) -> Option<NodeId> {
        let group = self.groups.of_member(member)?.clone();
        let address = self.heard_from(member, true);
        if self.config.static_leader {
            return None;
        }
        let next = match hint {
            Some(leader) if leader != member && group.members.contains(&leader) => leader,
            _ => {
                // No useful hint: try the next member on the next send, not now.
                self.leaders.insert(address, group.after(member));
                return None;
            }
        };
        self.leaders.insert(address, next);
        let bounces = self.bounces.entry(address).or_insert(0);
        *bounces += 1;
        (*bounces <= 2 * group.members.len()).then_some(next)
    }

    /// The replica this sender believes leads the group at `address`.
    pub fn believed_leader(&self, address: NodeId) -> NodeId {
        self.leaders.get(&address).copied().unwrap_or(address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(static_leader: bool) -> Router {
        let groups = Groups {
            groups: vec![
                Group { label: "C1".to_string(), members: vec![NodeId(1), NodeId(2), NodeId(3)] },
                Group { label: "C2".to_string(), members: vec![NodeId(4), NodeId(5), NodeId(6)] },
            ],
        };
        Router::new(Arc::new(groups), RouteConfig { patience_ms: 150, static_leader })
    }

    #[test]
    fn a_group_is_reached_through_its_configured_leader_until_told_otherwise() {
        let mut router = router(false);
        assert_eq!(router.target(0, NodeId(4), true), NodeId(4));
        assert_eq!(router.on_not_leader(NodeId(4), Some(NodeId(5))), Some(NodeId(5)), "follow the hint at once");
        assert_eq!(router.target(10, NodeId(4), true), NodeId(5));
        assert_eq!(router.heard_from(NodeId(5), false), NodeId(4), "the 2PC roles see the group's address");
        assert_eq!(router.target(500, NodeId(4), true), NodeId(5), "an answer resets the patience");
    }

    #[test]
    fn a_message_that_expects_no_answer_starts_no_clock() {
        let mut router = router(false);
        assert_eq!(router.target(0, NodeId(4), false), NodeId(4));
        assert_eq!(router.target(1_000, NodeId(4), true), NodeId(4), "the clock starts now");
        assert_eq!(router.target(1_150, NodeId(4), true), NodeId(5));
    }

    #[test]
    fn silence_moves_the_sender_to_the_next_member() {
        let mut router = router(false);
        assert_eq!(router.target(0, NodeId(4), true), NodeId(4));
        assert_eq!(router.target(149, NodeId(4), true), NodeId(4));
        assert_eq!(router.target(150, NodeId(4), true), NodeId(5));
        assert_eq!(router.target(299, NodeId(4), true), NodeId(5));
        assert_eq!(router.target(300, NodeId(4), true), NodeId(6));
        assert_eq!(router.target(450, NodeId(4), true), NodeId(4), "round and round until someone answers");
    }

    #[test]
    fn bounces_between_stale_replicas_are_followed_a_bounded_number_of_times() {
        let mut router = router(false);
        let mut followed = 0;
        for round in 0..20 {
            let (from, hint) = if round % 2 == 0 { (NodeId(5), NodeId(6)) } else { (NodeId(6), NodeId(5)) };
            if router.on_not_leader(from, Some(hint)).is_some() {
                followed += 1;
            }
        }
        assert_eq!(followed, 6);
        router.heard_from(NodeId(6), false);
        assert_eq!(router.on_not_leader(NodeId(6), Some(NodeId(4))), Some(NodeId(4)), "a real answer resets the count");
    }

    #[test]
    fn a_bounce_without_a_hint_moves_on_at_the_next_send() {
        let mut router = router(false);
        assert_eq!(router.on_not_leader(NodeId(4), None), None);
        assert_eq!(router.target(0, NodeId(4), true), NodeId(5));
    }

    #[test]
    fn the_static_leader_bug_ignores_hints_and_silence() {
        let mut router = router(true);
        assert_eq!(router.on_not_leader(NodeId(4), Some(NodeId(5))), None);
        assert_eq!(router.target(1_000, NodeId(4), true), NodeId(4));
        assert_eq!(router.target(5_000, NodeId(4), true), NodeId(4));
    }

    #[test]
    fn addresses_outside_any_group_route_to_themselves() {
        let mut router = router(false);
        assert_eq!(router.target(0, NodeId(9), true), NodeId(9));
        assert_eq!(router.heard_from(NodeId(9), false), NodeId(9));
    }
}
