//! The Yew side of the model: a `Reducible` wrapper around the `Playground`.
//!
//! The simulation is large, so it is not cloned per action: the playground sits behind a shared
//! `RefCell`, `reduce` applies the action in place and returns a new handle with a higher version,
//! which is what tells Yew to render again.

use crate::model::{Action, Playground};
use std::cell::{Ref, RefCell};
use std::rc::Rc;
use yew::prelude::*;

pub struct State {
    playground: Rc<RefCell<Playground>>,
    version: u64,
}

impl State {
    pub fn new(playground: Playground) -> State {
        State { playground: Rc::new(RefCell::new(playground)), version: 0 }
    }

    pub fn get(&self) -> Ref<'_, Playground> {
        self.playground.borrow()
    }
}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        self.version == other.version && Rc::ptr_eq(&self.playground, &other.playground)
    }
}

impl Reducible for State {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        self.playground.borrow_mut().apply(action);
        Rc::new(State { playground: self.playground.clone(), version: self.version + 1 })
    }
}

/// What every component gets: the state to render and the way to act on it.
pub type Handle = UseReducerHandle<State>;

/// A click handler that sends one action.
pub fn on_click(state: &Handle, action: Action) -> Callback<MouseEvent> {
    let state = state.clone();
    Callback::from(move |_: MouseEvent| state.dispatch(action.clone()))
}

#[derive(Properties, PartialEq)]
pub struct Props {
    pub state: Handle,
}

/// For panels that do not depend on the cursor: they render again only when the playground's
/// `revision` changes, not at every frame of playback. The handle still reads the live state.
#[derive(Properties)]
pub struct RevisionProps {
    pub state: Handle,
    pub revision: u64,
}

impl PartialEq for RevisionProps {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
    }
}
