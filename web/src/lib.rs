//! The Commit Lab playground.

use commitlab_sim::export::trace_text;
use commitlab_sim::{preset, Simulation};
use yew::prelude::*;

#[component]
pub fn App() -> Html {
    let mut simulation = Simulation::new((preset("happy-path").expect("default preset").build)()).expect("valid preset");
    simulation.run_to_end();
    html! {
        <main>
            <h1>{ "Commit Lab" }</h1>
            <pre>{ trace_text(simulation.trace()) }</pre>
        </main>
    }
}

pub fn start() {
    yew::Renderer::<App>::new().render();
}
