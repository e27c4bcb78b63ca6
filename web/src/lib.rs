//! The Commit Lab playground: a Yew app that renders what the simulator exposes and turns every
//! click into an action on the model. No protocol logic lives here.
//!
//! - `model`: the state and every action, free of Yew (`Playground`, `Action`);
//! - `run_index`: what the views draw, derived from the trace; `lanes`: the diagram's lanes;
//!   `text_layout`: where the diagram's texts go so that none covers another;
//! - `form`: the scenario editor's form;
//! - `spec_track`: the run mapped onto Lamport's TwoPhase, per transaction and step;
//! - `explore`: the Explore panel's form, state and messages; `explore_worker`: the explorer in a
//!   Web Worker running this same wasm, and the page's handle on it;
//! - `state`: the `Reducible` wrapper; `app` and `components`: the views, one per file;
//! - `compare`: two runs side by side on one clock.

pub mod app;
pub mod browser;
pub mod compare;
pub mod components;
pub mod decimal;
pub mod embed;
pub mod explore;
pub mod explore_worker;
pub mod form;
pub mod lanes;
pub mod model;
pub mod run_index;
pub mod spec_track;
pub mod state;
pub mod text_layout;

pub use app::App;

/// Mounts the playground on the page's body, opening the run in the address's fragment (or the
/// default) in full or embed mode, with a panic shown as a message instead of a frozen page.
///
/// The explorer's Web Worker initialises this same wasm, which runs `main` too: there is no
/// `window` there, and nothing to mount.
pub fn start() {
    if web_sys::window().is_none() {
        return;
    }
    std::panic::set_hook(Box::new(show_panic));
    let (fragment, query) = browser::location_parts();
    let page = embed::parse_query(&query);
    if let Some(options) = &page.embed {
        browser::set_theme(options.theme);
    }
    // A comparison (`#c=...`) opens the compare view; anything else the playground.
    if fragment.trim_start_matches('#').starts_with(commitlab_sim::link::COMPARE_KEY) {
        yew::Renderer::<compare::CompareApp>::with_props(compare::CompareProps { fragment: fragment.into(), page })
            .render();
        return;
    }
    yew::Renderer::<App>::with_props(app::AppProps { fragment: fragment.into(), page }).render();
}

fn show_panic(info: &std::panic::PanicHookInfo) {
    let text = format!(
        "Commit Lab hit an internal error and stopped: {info}. Reload the page to start again; \
         please report this with the scenario you were running."
    );
    web_sys::console::error_1(&text.clone().into());
    let Some(document) = web_sys::window().and_then(|window| window.document()) else { return };
    let banner = document.get_element_by_id("panic").or_else(|| {
        let banner = document.create_element("div").ok()?;
        banner.set_id("panic");
        banner.set_attribute("role", "alert").ok()?;
        document.body()?.prepend_with_node_1(&banner).ok()?;
        Some(banner)
    });
    if let Some(banner) = banner {
        banner.set_text_content(Some(&text));
    }
}
