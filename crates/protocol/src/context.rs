//! The output buffer a handler writes its effects into, with the time of the event it handles.

use crate::effect::{Effect, NodeConfig, Note, Timer};
use crate::ids::{Endpoint, Millis};
use crate::message::{Message, Record};

/// Handed to every handler: the node's configuration, the current virtual time and the effects
/// produced so far.
pub struct Context<'a> {
    pub config: &'a NodeConfig,
    pub now_ms: Millis,
    pub out: &'a mut Vec<Effect>,
}

impl Context<'_> {
    pub fn send(&mut self, to: impl Into<Endpoint>, message: Message) {
        self.out.push(Effect::Send { to: to.into(), message });
    }

    pub fn persist(&mut self, record: Record) {
        self.out.push(Effect::Persist(record));
    }

    pub fn set_timer(&mut self, timer: Timer, after_ms: Millis) {
        self.out.push(Effect::SetTimer { timer, after_ms });
    }

    pub fn cancel_timer(&mut self, timer: Timer) {
        self.out.push(Effect::CancelTimer(timer));
    }

    pub fn note(&mut self, note: Note) {
        self.out.push(Effect::Note(note));
    }
}
