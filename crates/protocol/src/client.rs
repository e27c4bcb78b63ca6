//! The client: submits transactions and retries a request (same id) until it gets a reply.
//! Retries are how duplicate requests reach the coordinator in real systems.

use crate::effect::{Effect, Note, Timer};
use crate::ids::{Endpoint, Millis, NodeId, RequestId};
use crate::message::{Decision, Message, TxnSpec};
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingRequest {
    pub spec: TxnSpec,
    pub coordinator: NodeId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Client {
    retry_ms: Millis,
    pending: BTreeMap<RequestId, PendingRequest>,
    outcomes: BTreeMap<RequestId, Decision>,
}

impl Client {
    pub fn new(retry_ms: Millis) -> Client {
        Client { retry_ms, pending: BTreeMap::new(), outcomes: BTreeMap::new() }
    }

    /// Sends a request. Submitting an id again (a deliberate duplicate) sends it again.
    pub fn submit(&mut self, request: RequestId, spec: TxnSpec, coordinator: NodeId, out: &mut Vec<Effect>) {
        out.push(Effect::Send {
            to: Endpoint::Node(coordinator),
            message: Message::Request { request, spec: spec.clone() },
        });
        if self.outcomes.contains_key(&request) {
            return;
        }
        out.push(Effect::SetTimer { timer: Timer::ClientRetry(request), after_ms: self.retry_ms });
        self.pending.insert(request, PendingRequest { spec, coordinator });
    }

    pub fn on_reply(&mut self, request: RequestId, decision: Decision, out: &mut Vec<Effect>) {
        if self.pending.remove(&request).is_some() {
            out.push(Effect::CancelTimer(Timer::ClientRetry(request)));
            out.push(Effect::Note(Note::ClientOutcome { request, decision }));
            self.outcomes.insert(request, decision);
        }
    }

    pub fn on_retry_timeout(&mut self, request: RequestId, out: &mut Vec<Effect>) {
        if let Some(pending) = self.pending.get(&request) {
            let message = Message::Request { request, spec: pending.spec.clone() };
            out.push(Effect::Send { to: Endpoint::Node(pending.coordinator), message });
            out.push(Effect::SetTimer { timer: Timer::ClientRetry(request), after_ms: self.retry_ms });
        }
    }

    pub fn pending(&self) -> &BTreeMap<RequestId, PendingRequest> {
        &self.pending
    }

    pub fn outcomes(&self) -> &BTreeMap<RequestId, Decision> {
        &self.outcomes
    }
}
