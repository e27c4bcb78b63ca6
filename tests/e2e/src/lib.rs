//! End-to-end harness for the Commit Lab playground.
//!
//! [`Site`] serves the Trunk-built `dist/` folder on a free loopback port, and [`Browser`] drives
//! headless Chromium through a chromedriver child process of its own. Both refuse to start (panic
//! with a message saying what to do) when the site or the browser is missing, so a test can never
//! pass without having run.
//!
//! The browser helpers address elements by CSS selector and re-query the DOM on every call: the
//! Yew app re-renders asynchronously, so holding element handles across actions invites stale
//! references. Helpers return [`Result`] with a [`Failure`] whose message names the selector and
//! what was last seen, so a test written as `fn t() -> Result<()>` fails with a readable reason.

pub mod app;
mod browser;
mod http;
mod site;

pub use browser::{Browser, Probe, APP_START_WAIT, DEFAULT_WAIT, PLAYBACK_WAIT};
pub use http::Response;
pub use site::Site;

use std::fmt;
use std::path::PathBuf;

/// A failed step of an end-to-end scenario.
///
/// `Debug` prints the bare message, because that is what the test runner shows when a test
/// returns `Err`, and a quoted, escaped string would be harder to read.
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Failure(message.into())
    }

    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failure {}

/// Result of a harness step.
pub type Result<T> = std::result::Result<T, Failure>;

/// Builds a [`Failure`] from a format string.
#[macro_export]
macro_rules! fail {
    ($($arg:tt)*) => { $crate::Failure::new(format!($($arg)*)) };
}

/// The folder Trunk builds into: `<workspace>/dist`.
pub fn dist_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dist")
}

/// Where [`Browser::screenshot`] writes its PNGs (git-ignored).
pub fn screenshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("screenshots")
}
