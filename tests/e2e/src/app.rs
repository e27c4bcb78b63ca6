//! Helpers that know the playground's page: opening it and reading its state. Shared by the test
//! files so that each selector of the DOM contract is written once.

use crate::{fail, Browser, Result, Site, APP_START_WAIT};

/// Serves `dist/` and opens a browser; both panic with a clear message when missing.
pub fn start() -> (Site, Browser) {
    (Site::start(), Browser::start())
}

/// Opens the full playground at `path` and waits for its first sequence diagram.
pub fn open_app(site: &Site, browser: &Browser, path: &str) -> Result<()> {
    browser.goto(&site.url(path))?;
    browser.wait_for("svg#sequence", APP_START_WAIT)
}

/// A node in the cluster picture.
pub fn cluster_node(node: &str) -> String {
    format!(r#"svg#cluster g.node[data-node="{node}"]"#)
}

/// A node's card in the state tables.
pub fn node_state(node: &str) -> String {
    format!(r#"section.node-state[data-node="{node}"]"#)
}

/// The cursor's step number, from `#app[data-step]`.
pub fn step(browser: &Browser) -> Result<u64> {
    let raw = browser.attr("#app", "data-step")?;
    let raw = raw.ok_or_else(|| fail!("#app has no data-step attribute"))?;
    raw.parse().map_err(|_| fail!("#app has data-step={raw:?}, not a step number"))
}
