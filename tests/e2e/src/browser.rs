//! Headless Chromium driven through a chromedriver child process of our own.
//!
//! The public API is blocking: every call runs its WebDriver command on a private current-thread
//! tokio runtime. fantoccini's session task is spawned on that runtime, so it only makes progress
//! inside `block_on`, which is exactly when we are waiting for an answer.

use std::fs::{self, File};
use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use fantoccini::error::{CmdError, ErrorStatus};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use crate::{fail, http, screenshot_dir, Failure, Result};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const INSTALL_HINT: &str = "run scripts/setup.sh --browser (Debian's chromium and chromium-driver)";

/// Ordinary wait for the app to react to an action.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(10);
/// Wait for the first render after navigation: fetching, compiling and starting the wasm on a
/// busy 2-core machine.
pub const APP_START_WAIT: Duration = Duration::from_secs(30);
/// Wait for a whole run to play.
pub const PLAYBACK_WAIT: Duration = Duration::from_secs(60);

/// Between two looks at the page while waiting.
const POLL: Duration = Duration::from_millis(50);
/// For chromedriver to answer `/status` after it is spawned.
const DRIVER_START: Duration = Duration::from_secs(10);
/// For chromedriver to launch Chromium and open the session.
const SESSION_START: Duration = Duration::from_secs(60);
/// For any single WebDriver command: beyond this the browser is considered hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// One look at the page while waiting for a condition.
pub enum Probe<T> {
    /// The condition holds; here is what it produced.
    Ready(T),
    /// Not yet; the text says what was seen, for the timeout message.
    NotYet(String),
}

/// A headless Chromium session. The session is closed and chromedriver killed on drop.
pub struct Browser {
    // Field order matters for drop: the session goes before the runtime, chromedriver last.
    client: Option<Client>,
    runtime: Runtime,
    // Never read: held so that dropping the Browser kills chromedriver.
    #[allow(dead_code)]
    driver: Driver,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    ///
    /// # Panics
    /// When Chromium or chromedriver is missing, or the driver or browser does not come up.
    pub fn start() -> Browser {
        Browser::try_start().unwrap_or_else(|failure| panic!("{failure}"))
    }

    /// Like [`Browser::start`], returning the reason instead of panicking.
    pub fn try_start() -> Result<Browser> {
        require_executable(CHROMIUM, "Chromium")?;
        require_executable(CHROMEDRIVER, "chromedriver")?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail!("could not build the tokio runtime: {e}"))?;
        let driver = Driver::spawn()?;
        driver.wait_ready()?;
        let client = runtime.block_on(open_session(&driver))?;
        Ok(Browser { client: Some(client), runtime, driver })
    }

    /// The fantoccini client, for anything the helpers do not cover (use with [`Browser::block_on`]).
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("the session stays open until the Browser is dropped")
    }

    /// Runs a future on the browser's runtime (needed to drive fantoccini calls).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// Navigates and waits for the `load` event.
    pub fn goto(&self, url: &str) -> Result<()> {
        self.run(&format!("goto {url}"), self.client().goto(url))
    }

    /// The address of the top-level page (whatever frame the session is in), as WebDriver sees it.
    pub fn current_url(&self) -> Result<String> {
        self.run("current url", self.client().current_url()).map(|url| url.to_string())
    }

    /// Moves the session into the `index`-th frame (`window.frames[index]`) of the current
    /// document: later calls look at and act on that frame's document until [`Browser::leave_frame`].
    pub fn enter_frame(&self, index: u16) -> Result<()> {
        self.run(&format!("enter frame {index}"), self.client().enter_frame(index))
    }

    /// Moves the session back to the document that holds the current frame.
    pub fn leave_frame(&self) -> Result<()> {
        self.run("enter parent frame", self.client().enter_parent_frame())
    }

    /// Runs `steps` inside the `index`-th frame of the current document and always leaves the
    /// frame afterwards, also when `steps` fails (its failure is the one reported).
    pub fn within_frame<T>(&self, index: u16, steps: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.enter_frame(index)?;
        let outcome = steps(self);
        let left = self.leave_frame();
        let value = outcome.map_err(|e| fail!("in frame {index}: {e}"))?;
        left.map(|()| value)
    }

    pub fn title(&self) -> Result<String> {
        self.run("title", self.client().title())
    }

    /// Runs `script` as a function body (`arguments` holds `args`) and returns its result.
    pub fn js(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.run("execute script", self.client().execute(script, args))
    }

    /// Like [`Browser::js`], but the script reports by calling the callback passed as its last
    /// argument (use for promises).
    pub fn js_async(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.run("execute async script", self.client().execute_async(script, args))
    }

    /// Looks at the page every 50 ms until `probe` is ready; after `timeout`, fails with `what`
    /// and the last observation (and saves a screenshot of the page as it was).
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut probe: impl FnMut(&Self) -> Result<Probe<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen = match probe(self)? {
                Probe::Ready(value) => return Ok(value),
                Probe::NotYet(seen) => seen,
            };
            if Instant::now() >= deadline {
                let shot = self.failure_screenshot();
                return Err(fail!("timed out after {} waiting for {what}; last seen: {seen}{shot}", seconds(timeout)));
            }
            thread::sleep(POLL);
        }
    }

    /// Waits until some element matches `css`.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("`{css}` to appear"), timeout, |b| {
            Ok(match b.count(css)? {
                0 => Probe::NotYet("no element matches".into()),
                _ => Probe::Ready(()),
            })
        })
    }

    /// How many elements match `css` right now.
    pub fn count(&self, css: &str) -> Result<usize> {
        let value = self.query(css, "count", Value::Null)?.unwrap_or_default();
        value.as_u64().map(|n| n as usize).ok_or_else(|| fail!("count of `{css}` is {value}"))
    }

    /// Waits until exactly `n` elements match `css`.
    pub fn wait_for_count(&self, css: &str, n: usize, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("exactly {n} elements to match `{css}`"), timeout, |b| {
            Ok(match b.count(css)? {
                seen if seen == n => Probe::Ready(()),
                seen => Probe::NotYet(format!("{seen} match")),
            })
        })
    }

    /// The trimmed rendered text (`innerText`; `textContent` for SVG) of the first match.
    pub fn text(&self, css: &str) -> Result<String> {
        self.try_text(css)?.ok_or_else(|| not_found(css))
    }

    /// The trimmed texts of every match, in document order.
    pub fn texts(&self, css: &str) -> Result<Vec<String>> {
        let value = self.query(css, "texts", Value::Null)?.unwrap_or_default();
        serde_json::from_value(value).map_err(|e| fail!("texts of `{css}`: {e}"))
    }

    /// Waits until the first match's text is exactly `expected`.
    pub fn wait_for_text(&self, css: &str, expected: &str, timeout: Duration) -> Result<()> {
        let what = format!("`{css}` to read {expected:?}");
        self.wait_for_text_matching(css, &what, timeout, |text| text == expected).map(drop)
    }

    /// Waits until the first match's text satisfies `accept`; returns that text.
    pub fn wait_for_text_matching(
        &self,
        css: &str,
        what: &str,
        timeout: Duration,
        accept: impl Fn(&str) -> bool,
    ) -> Result<String> {
        self.wait_until(what, timeout, |b| {
            Ok(match b.try_text(css)? {
                Some(text) if accept(&text) => Probe::Ready(text),
                Some(text) => Probe::NotYet(format!("text {text:?}")),
                None => Probe::NotYet(format!("no element matches `{css}`")),
            })
        })
    }

    /// The attribute `name` of the first match (`None` when it has no such attribute).
    pub fn attr(&self, css: &str, name: &str) -> Result<Option<String>> {
        let value = self.query(css, "attr", name.into())?.ok_or_else(|| not_found(css))?;
        Ok(value.as_str().map(str::to_string))
    }

    /// Waits until the first match has `name="expected"`.
    pub fn wait_for_attr(&self, css: &str, name: &str, expected: &str, timeout: Duration) -> Result<()> {
        let what = format!("`{css}` to have {name}={expected:?}");
        self.wait_until(&what, timeout, |b| {
            let seen = b.query(css, "attr", name.into())?;
            Ok(match seen {
                Some(Value::String(value)) if value == expected => Probe::Ready(()),
                Some(Value::String(value)) => Probe::NotYet(format!("{name}={value:?}")),
                Some(_) => Probe::NotYet(format!("no {name} attribute")),
                None => Probe::NotYet("no element matches".into()),
            })
        })
    }

    /// Whether the first match has `class` in its class list (works for SVG elements too).
    pub fn has_class(&self, css: &str, class: &str) -> Result<bool> {
        Ok(self.classes(css)?.ok_or_else(|| not_found(css))?.split_whitespace().any(|c| c == class))
    }

    /// Waits until the first match has `class`.
    pub fn wait_for_class(&self, css: &str, class: &str, timeout: Duration) -> Result<()> {
        self.wait_until(&format!("`{css}` to have class {class:?}"), timeout, |b| {
            Ok(match b.classes(css)? {
                Some(list) if list.split_whitespace().any(|c| c == class) => Probe::Ready(()),
                Some(list) => Probe::NotYet(format!("class={list:?}")),
                None => Probe::NotYet("no element matches".into()),
            })
        })
    }

    /// Clicks the first match like a user would (a WebDriver click at its centre), waiting for
    /// it to exist and retrying while a re-render makes it stale or covers it.
    pub fn click(&self, css: &str) -> Result<()> {
        self.wait_until(&format!("`{css}` to take a click"), DEFAULT_WAIT, |b| b.try_click(css))
    }

    /// Sets an `<input type=range>` to `value` and dispatches `input` then `change`, as a drag
    /// would. Waits until the element exists and its min/max/step accept `value` exactly (a
    /// range silently clamps, and a freshly loaded scenario may not have its new max yet).
    pub fn set_range(&self, css: &str, value: &str) -> Result<()> {
        let what = format!("`{css}` to accept the value {value}");
        self.wait_until(&what, DEFAULT_WAIT, |b| b.try_set_range(css, value.into())).map(drop)
    }

    /// Sets an `<input type=range>` to its `max` (dispatching `input` and `change`); returns it.
    pub fn set_range_to_max(&self, css: &str) -> Result<String> {
        let what = format!("`{css}` to be set to its max");
        self.wait_until(&what, DEFAULT_WAIT, |b| b.try_set_range(css, Value::Null))
    }

    /// Types `value` into an `<input>` (any type but range, checkbox and radio) and dispatches
    /// `input` then `change`, as typing and leaving the field would. Waits until it exists and is
    /// enabled.
    pub fn set_input(&self, css: &str, value: &str) -> Result<()> {
        let what = format!("`{css}` to take the value {value:?}");
        self.wait_until(&what, DEFAULT_WAIT, |b| {
            let outcome = b.js(SET_INPUT_JS, vec![css.into(), value.into()])?;
            match outcome["status"].as_str() {
                Some("set") => Ok(Probe::Ready(())),
                Some("missing") => Ok(Probe::NotYet("no element matches".into())),
                Some("disabled") => Ok(Probe::NotYet("it is disabled".into())),
                _ => Err(fail!("cannot type into `{css}`: {}", outcome["description"])),
            }
        })
    }

    /// Selects the `<option value=value>` of a `<select>` and dispatches `input` then `change`,
    /// as a user's choice would. Waits until the element and the option exist.
    pub fn select_option(&self, css: &str, value: &str) -> Result<()> {
        let what = format!("`{css}` to offer the option {value:?}");
        self.wait_until(&what, DEFAULT_WAIT, |b| {
            let outcome = b.js(SELECT_JS, vec![css.into(), value.into()])?;
            match outcome["status"].as_str() {
                Some("set") => Ok(Probe::Ready(())),
                Some("missing") => Ok(Probe::NotYet("no element matches".into())),
                Some("absent") => Ok(Probe::NotYet(format!("options {}", outcome["options"]))),
                _ => Err(fail!("cannot select in `{css}`: {}", outcome["description"])),
            }
        })
    }

    /// Saves a PNG of the viewport to `tests/e2e/screenshots/<name>.png`; returns its path.
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.run("screenshot", self.client().screenshot())?;
        let dir = screenshot_dir();
        fs::create_dir_all(&dir).map_err(|e| fail!("cannot create {}: {e}", dir.display()))?;
        let path = dir.join(format!("{name}.png"));
        fs::write(&path, png).map_err(|e| fail!("cannot write {}: {e}", path.display()))?;
        Ok(path)
    }

    fn try_text(&self, css: &str) -> Result<Option<String>> {
        Ok(self.query(css, "text", Value::Null)?.map(|v| v.as_str().unwrap_or_default().into()))
    }

    fn classes(&self, css: &str) -> Result<Option<String>> {
        Ok(self.query(css, "class", Value::Null)?.map(|v| v.as_str().unwrap_or_default().into()))
    }

    /// Asks the page one question about `css` (see QUERY_JS); `None` when nothing matches.
    fn query(&self, css: &str, question: &str, arg: Value) -> Result<Option<Value>> {
        let answer = self.js(QUERY_JS, vec![css.into(), question.into(), arg])?;
        Ok(match answer["found"].as_bool() {
            Some(true) => Some(answer["value"].clone()),
            _ => None,
        })
    }

    fn try_click(&self, css: &str) -> Result<Probe<()>> {
        let element = match self.command("find", self.client().find(Locator::Css(css)))? {
            Ok(element) => element,
            Err(e) if e.is_no_such_element() => return Ok(Probe::NotYet("no element matches".into())),
            Err(e) => return Err(fail!("finding `{css}` failed: {e}")),
        };
        match self.command("click", element.click())? {
            Ok(()) => Ok(Probe::Ready(())),
            // The click did not happen, so trying again cannot click twice.
            Err(e) if is_transient(&e) => Ok(Probe::NotYet(format!("click refused: {e}"))),
            Err(e) => Err(fail!("clicking `{css}` failed: {e}")),
        }
    }

    /// `value` null means "the max".
    fn try_set_range(&self, css: &str, value: Value) -> Result<Probe<String>> {
        let outcome = self.js(SET_RANGE_JS, vec![css.into(), value])?;
        let field = |key: &str| outcome[key].as_str().unwrap_or_default().to_string();
        match outcome["status"].as_str() {
            Some("set") => Ok(Probe::Ready(field("value"))),
            Some("missing") => Ok(Probe::NotYet("no element matches".into())),
            Some("refused") => Ok(Probe::NotYet(format!(
                "it clamps to {} (min {}, max {}, step {})",
                field("clamped"),
                field("min"),
                field("max"),
                field("step")
            ))),
            _ => Err(fail!("cannot set `{css}`: {}", outcome["description"])),
        }
    }

    /// Runs one WebDriver command with a deadline; the inner result is the driver's answer.
    fn command<T>(
        &self,
        what: &str,
        future: impl Future<Output = std::result::Result<T, CmdError>>,
    ) -> Result<std::result::Result<T, CmdError>> {
        // The timeout is built inside the async block: tokio timers need the runtime's context.
        self.runtime
            .block_on(async { tokio::time::timeout(COMMAND_TIMEOUT, future).await })
            .map_err(|_| fail!("WebDriver command `{what}` got no answer in {}", seconds(COMMAND_TIMEOUT)))
    }

    fn run<T>(&self, what: &str, future: impl Future<Output = std::result::Result<T, CmdError>>) -> Result<T> {
        self.command(what, future)?.map_err(|e| fail!("WebDriver command `{what}` failed: {e}"))
    }

    /// Saves `screenshots/failed-<test name>.png`; returns a note for the failure message.
    fn failure_screenshot(&self) -> String {
        let test = thread::current().name().unwrap_or("unnamed").replace("::", "-");
        match self.screenshot(&format!("failed-{test}")) {
            Ok(path) => format!(" (page screenshot: {})", path.display()),
            Err(_) => String::new(),
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if thread::panicking() {
            let note = self.failure_screenshot();
            if !note.is_empty() {
                eprintln!("e2e:{note}");
            }
        }
        // Ending the session makes chromedriver quit Chromium; killing only the driver could
        // leave the browser behind.
        if let Some(client) = self.client.take() {
            let close = async { tokio::time::timeout(Duration::from_secs(10), client.close()).await };
            let _ = self.runtime.block_on(close);
        }
    }
}

/// Errors after which the click certainly did not happen and may be tried again.
fn is_transient(e: &CmdError) -> bool {
    matches!(
        e,
        CmdError::Standard(w) if matches!(
            w.error,
            ErrorStatus::StaleElementReference
                | ErrorStatus::ElementClickIntercepted
                | ErrorStatus::ElementNotInteractable
        )
    )
}

fn not_found(css: &str) -> Failure {
    fail!("element not found: no element matches `{css}`")
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

fn require_executable(path: &str, what: &str) -> Result<()> {
    match Path::new(path).is_file() {
        true => Ok(()),
        false => Err(fail!("{what} is missing: no {path}; {INSTALL_HINT}")),
    }
}

fn capabilities() -> serde_json::Map<String, Value> {
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--window-size=1280,800",
                // Containers often give /dev/shm 64 MB, which crashes renderers mid-test.
                "--disable-dev-shm-usage",
            ],
        },
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

async fn open_session(driver: &Driver) -> Result<Client> {
    let mut builder = ClientBuilder::new(HttpConnector::new());
    builder.capabilities(capabilities());
    match tokio::time::timeout(SESSION_START, builder.connect(&driver.url())).await {
        Ok(Ok(client)) => Ok(client),
        Ok(Err(e)) => Err(fail!("chromedriver could not start Chromium: {e}{}", driver.output())),
        Err(_) => Err(fail!("Chromium did not start within {}{}", seconds(SESSION_START), driver.output())),
    }
}

/// The chromedriver child process, killed on drop.
struct Driver {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl Driver {
    fn spawn() -> Result<Driver> {
        let addr = free_loopback_port()?;
        let log = std::env::temp_dir().join(format!("commitlab-chromedriver-{}.log", addr.port()));
        let out = File::create(&log).map_err(|e| fail!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| fail!("cannot share the driver log: {e}"))?;
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={}", addr.port()))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| fail!("cannot run {CHROMEDRIVER}: {e}; {INSTALL_HINT}"))?;
        Ok(Driver { child, addr, log })
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `/status` until the driver says it is ready.
    fn wait_ready(&self) -> Result<()> {
        let deadline = Instant::now() + DRIVER_START;
        while Instant::now() < deadline {
            let status = http::get(self.addr, "/status", Duration::from_secs(1));
            if status.is_ok_and(|r| r.status == 200 && is_ready(&r.body)) {
                return Ok(());
            }
            thread::sleep(Duration::from_millis(100));
        }
        Err(fail!("chromedriver did not come up on {} within {}{}", self.addr, seconds(DRIVER_START), self.output()))
    }

    /// The driver's output so far, to append to a failure message.
    fn output(&self) -> String {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        format!("\nchromedriver output ({}):\n{tail}", self.log.display())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // Keep the log of a failed test for a post-mortem; otherwise do not litter /tmp.
        if !thread::panicking() {
            let _ = fs::remove_file(&self.log);
        }
    }
}

fn is_ready(body: &[u8]) -> bool {
    serde_json::from_slice::<Value>(body).is_ok_and(|status| status["value"]["ready"] == json!(true))
}

/// A port that was free a moment ago (chromedriver binds it right after; the race is harmless
/// in practice and reported clearly if lost).
fn free_loopback_port() -> Result<SocketAddr> {
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .map_err(|e| fail!("no free loopback port for chromedriver: {e}"))
}

/// One question about the elements matching `arguments[0]`; `found` is false when none match.
const QUERY_JS: &str = r#"
const [css, question, arg] = arguments;
const all = document.querySelectorAll(css);
const el = all.length > 0 ? all[0] : null;
const text = (e) => ((e instanceof HTMLElement) ? e.innerText : (e.textContent || '')).trim();
switch (question) {
  case 'count': return { found: true, value: all.length };
  case 'texts': return { found: true, value: Array.from(all, text) };
}
if (el === null) return { found: false };
switch (question) {
  case 'text': return { found: true, value: text(el) };
  case 'attr': return { found: true, value: el.getAttribute(arg) };
  case 'class': return { found: true, value: el.getAttribute('class') || '' };
}
throw new Error('unknown question ' + question);
"#;

/// Sets a range input; refuses (and leaves it untouched) when the value would be clamped.
const SET_RANGE_JS: &str = r#"
const [css, wanted] = arguments;
const el = document.querySelector(css);
if (el === null) return { status: 'missing' };
if (el.tagName !== 'INPUT' || el.type !== 'range') {
  return { status: 'wrong', description: `it is a <${el.tagName.toLowerCase()} type=${el.type}>, not an <input type=range>` };
}
const before = el.value;
const value = wanted === null ? el.max : wanted;
el.value = value;
if (Math.abs(Number(el.value) - Number(value)) > 1e-9) {
  const clamped = el.value;
  el.value = before;
  const step = el.getAttribute('step') ?? '1 (default)';
  return { status: 'refused', clamped, min: el.min, max: el.max, step };
}
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return { status: 'set', value: el.value };
"#;

/// Sets a text-like input's value; `wrong` for anything else.
const SET_INPUT_JS: &str = r#"
const [css, value] = arguments;
const el = document.querySelector(css);
if (el === null) return { status: 'missing' };
if (el.tagName !== 'INPUT' || ['range', 'checkbox', 'radio'].includes(el.type)) {
  return { status: 'wrong', description: `it is a <${el.tagName.toLowerCase()} type=${el.type}>, not a field to type into` };
}
if (el.disabled) return { status: 'disabled' };
el.value = value;
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return { status: 'set' };
"#;

/// Selects an option by value; `absent` lists the values on offer.
const SELECT_JS: &str = r#"
const [css, value] = arguments;
const el = document.querySelector(css);
if (el === null) return { status: 'missing' };
if (el.tagName !== 'SELECT') {
  return { status: 'wrong', description: `it is a <${el.tagName.toLowerCase()}>, not a <select>` };
}
const options = Array.from(el.options, (o) => o.value);
if (!options.includes(value)) return { status: 'absent', options };
el.value = value;
el.dispatchEvent(new Event('input', { bubbles: true }));
el.dispatchEvent(new Event('change', { bubbles: true }));
return { status: 'set' };
"#;
