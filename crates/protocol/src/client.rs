//! The client: submits transactions and retries a request (same id) until it gets a reply.
//! Retries are how duplicate requests reach the coordinator in real systems. In the replicated
//! mode it addresses the coordinator's group and finds its leader through a [`Router`], like the
//! coordinators do.

use crate::chunk_map::ChunkMap;
use crate::effect::{Effect, Note, Timer};
use crate::ids::{Endpoint, Millis, NodeId, RequestId};
use crate::message::{Decision, Message, TxnSpec};
use crate::route::Router;
use crate::vec_map::VecMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PendingRequest {
    pub spec: TxnSpec,
    pub coordinator: NodeId,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Client {
    retry_ms: Millis,
    pending: VecMap<RequestId, PendingRequest>,
    /// Every outcome heard (a table that only grows: shared between copies, see [`ChunkMap`]).
    outcomes: ChunkMap<RequestId, Decision>,
    router: Option<Router>,
}

impl Client {
    pub fn new(retry_ms: Millis) -> Client {
        Client { retry_ms, pending: VecMap::new(), outcomes: ChunkMap::new(), router: None }
    }

    /// A client of a replicated cluster: requests go to the leader of the coordinator's group.
    pub fn routed(retry_ms: Millis, router: Router) -> Client {
        Client { router: Some(router), ..Client::new(retry_ms) }
    }

    pub fn router(&self) -> Option<&Router> {
        self.router.as_ref()
    }

    fn target(&mut self, now_ms: Millis, coordinator: NodeId) -> Endpoint {
        match &mut self.router {
            Some(router) => Endpoint::Node(router.target(now_ms, coordinator, true)),
            None => Endpoint::Node(coordinator),
        }
    }

    /// Sends a request. Submitting an id again (a deliberate duplicate) sends it again.
    pub fn submit(
        &mut self,
        now_ms: Millis,
        request: RequestId,
        spec: TxnSpec,
        coordinator: NodeId,
        out: &mut Vec<Effect>,
    ) {
        let to = self.target(now_ms, coordinator);
        out.push(Effect::Send { to, message: Message::Request { request, spec: spec.clone() } });
        // A request id already answered, or pending for another transfer, is sent as it is (the
        // coordinator answers from its cache or refuses it) and changes nothing here.
        let other_transfer = self.pending.get(&request).is_some_and(|pending| pending.spec != spec);
        if self.outcomes.contains_key(&request) || other_transfer {
            return;
        }
        out.push(Effect::SetTimer { timer: Timer::ClientRetry(request), after_ms: self.retry_ms });
        self.pending.insert(request, PendingRequest { spec, coordinator });
    }

    /// Any message from a node: a reply, or a request bounced by a replica that does not lead.
    pub fn on_message(&mut self, from: NodeId, message: &Message, out: &mut Vec<Effect>) {
        match message {
            Message::Reply { request, decision, .. } => {
                if let Some(router) = &mut self.router {
                    router.heard_from(from, false);
                }
                self.on_reply(*request, *decision, out);
            }
            Message::NotLeader { hint, bounced } => {
                let next = self.router.as_mut().and_then(|router| router.on_not_leader(from, *hint));
                if let (Some(next), Message::Request { request, .. }) = (next, &**bounced) {
                    if self.pending.contains_key(request) {
                        out.push(Effect::Send { to: Endpoint::Node(next), message: (**bounced).clone() });
                    }
                }
            }
            _ => {}
        }
    }

    pub fn on_reply(&mut self, request: RequestId, decision: Decision, out: &mut Vec<Effect>) {
        if self.pending.remove(&request).is_some() {
            out.push(Effect::CancelTimer(Timer::ClientRetry(request)));
            out.push(Effect::Note(Note::ClientOutcome { request, decision }));
            self.outcomes.insert(request, decision);
        }
    }

    pub fn on_retry_timeout(&mut self, now_ms: Millis, request: RequestId, out: &mut Vec<Effect>) {
        if let Some(pending) = self.pending.get(&request) {
            let message = Message::Request { request, spec: pending.spec.clone() };
            let coordinator = pending.coordinator;
            let to = self.target(now_ms, coordinator);
            out.push(Effect::Send { to, message });
            out.push(Effect::SetTimer { timer: Timer::ClientRetry(request), after_ms: self.retry_ms });
        }
    }

    pub fn pending(&self) -> &VecMap<RequestId, PendingRequest> {
        &self.pending
    }

    pub fn outcomes(&self) -> &ChunkMap<RequestId, Decision> {
        &self.outcomes
    }
}
