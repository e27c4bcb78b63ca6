//! A tiny static HTTP/1.1 server for the built site.
//!
//! One background thread accepts connections and hands each to a thread of its own. Every answer
//! closes its connection: a page load here is a handful of files, so keep-alive buys nothing and
//! closing keeps the request parsing trivial.

use std::fs;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::http::{self, Response};
use crate::{dist_dir, fail, Result};

/// How long a connection may stay silent before its thread gives up on it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Request heads larger than this are refused; a browser's are a few hundred bytes.
const MAX_HEAD: usize = 16 * 1024;

/// The built site served on `127.0.0.1:<free port>`; stops serving when dropped.
pub struct Site {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl Site {
    /// Serves `<workspace>/dist`.
    ///
    /// # Panics
    /// When `dist/index.html` does not exist: a test must fail, not pass, without the site.
    pub fn start() -> Site {
        Site::start_in(dist_dir())
    }

    /// Serves the built site in `dist`.
    ///
    /// # Panics
    /// When `dist/index.html` does not exist.
    pub fn start_in(dist: impl Into<PathBuf>) -> Site {
        let dist = dist.into();
        assert!(
            dist.join("index.html").is_file(),
            "the built site is missing: run scripts/build-web.sh (no index.html in {})",
            dist.display()
        );
        Site::serve(dist).expect("could not listen on a loopback port for the static site")
    }

    /// Serves any folder (the unit tests use a scratch one).
    pub fn serve(root: impl Into<PathBuf>) -> io::Result<Site> {
        let root: Arc<Path> = root.into().into();
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name(format!("site-{}", addr.port()))
                .spawn(move || accept_loop(listener, root, stop))?
        };
        Ok(Site { addr, stop, acceptor: Some(acceptor) })
    }

    /// The full URL of `path_and_query` on this server, e.g. `url("/?preset=busy")`.
    pub fn url(&self, path_and_query: &str) -> String {
        let slash = if path_and_query.starts_with('/') { "" } else { "/" };
        format!("http://{}{slash}{path_and_query}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// GETs `path` directly (no browser), to check statuses and headers.
    pub fn get(&self, path: &str) -> Result<Response> {
        http::get(self.addr, path, IDLE_TIMEOUT).map_err(|e| fail!("GET {path} from the static site failed: {e}"))
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // accept() blocks: a throwaway connection wakes the loop so that it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

fn accept_loop(listener: TcpListener, root: Arc<Path>, stop: Arc<AtomicBool>) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let root = Arc::clone(&root);
        // A failed connection (client gone, timeout) concerns only that request: ignore it.
        thread::spawn(move || {
            let _ = handle(stream, &root);
        });
    }
}

fn handle(mut stream: TcpStream, root: &Path) -> io::Result<()> {
    stream.set_read_timeout(Some(IDLE_TIMEOUT))?;
    stream.set_write_timeout(Some(IDLE_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next().unwrap_or_default(), words.next().unwrap_or("/"));
    if method != "GET" && method != "HEAD" {
        return respond(&mut stream, 405, "text/plain; charset=utf-8", b"only GET and HEAD\n", true);
    }
    let with_body = method == "GET";
    match resolve(root, target).and_then(|file| Some((fs::read(&file).ok()?, file))) {
        Some((body, file)) => respond(&mut stream, 200, content_type(&file), &body, with_body),
        None => {
            let body = format!("404 Not Found: {target}\n");
            respond(&mut stream, 404, "text/plain; charset=utf-8", body.as_bytes(), with_body)
        }
    }
}

fn read_head(stream: &mut TcpStream) -> io::Result<String> {
    let mut raw = Vec::new();
    let mut chunk = [0u8; 2048];
    while !raw.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk)?;
        if n == 0 || raw.len() > MAX_HEAD {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "incomplete request head"));
        }
        raw.extend_from_slice(&chunk[..n]);
    }
    Ok(String::from_utf8_lossy(&raw).into_owned())
}

/// Maps a request target to a file under `root`: query and fragment dropped, a folder holding an
/// `index.html` (such as `/docs/`) to that file, as static hosts do, other extension-less paths
/// (`/` and the app's client-side routes) to the root `index.html`, anything climbing out of
/// `root` or not a file to `None`.
fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or("/");
    let path = percent_decode(path)?;
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if segments.iter().any(|s| *s == ".." || s.contains('\\')) {
        return None;
    }
    let file = segments.iter().fold(root.to_path_buf(), |dir, s| dir.join(s));
    let has_extension = segments.last().is_some_and(|last| last.contains('.'));
    if !has_extension {
        let folder_index = file.join("index.html");
        let index = match folder_index.is_file() {
            true => folder_index,
            false => root.join("index.html"),
        };
        return Some(index).filter(|file| file.is_file());
    }
    Some(file).filter(|file| file.is_file())
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = path.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn content_type(file: &Path) -> &'static str {
    let extension = file.extension().and_then(|e| e.to_str()).unwrap_or_default();
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // Required: WebAssembly.instantiateStreaming rejects any other type.
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &[u8], with_body: bool) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    // no-store: every test and benchmark run sees the dist on disk now, never a cached copy.
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if with_body {
        stream.write_all(body)?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder, removed on drop.
    struct Scratch(PathBuf);

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    /// A scratch site: index.html, app.wasm and style/app.css under a fresh temp folder.
    fn scratch_site() -> (Site, Scratch) {
        let root = std::env::temp_dir().join(format!(
            "commitlab-e2e-site-{}-{:?}",
            std::process::id(),
            thread::current().id()
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("style")).expect("create the scratch site folder");
        fs::create_dir_all(root.join("docs")).expect("create the scratch docs folder");
        fs::write(root.join("index.html"), "<title>x</title>").expect("write index.html");
        fs::write(root.join("docs/index.html"), "<title>docs</title>").expect("write docs/index.html");
        fs::write(root.join("app.wasm"), b"\0asm").expect("write app.wasm");
        fs::write(root.join("style/app.css"), "body{}").expect("write app.css");
        let site = Site::serve(&root).expect("serve the scratch site");
        (site, Scratch(root))
    }

    #[test]
    fn serves_files_with_their_content_types() -> Result<()> {
        let (site, _root) = scratch_site();
        let wasm = site.get("/app.wasm")?;
        assert_eq!((wasm.status, wasm.header("content-type")), (200, Some("application/wasm")));
        assert_eq!(wasm.body, b"\0asm");
        let css = site.get("/style/app.css?v=3")?;
        assert_eq!((css.status, css.header("content-type")), (200, Some("text/css; charset=utf-8")));
        Ok(())
    }

    #[test]
    fn routes_without_extension_get_the_index() -> Result<()> {
        let (site, _root) = scratch_site();
        for path in ["/", "/?preset=busy", "/share/abc", "/#t=10"] {
            let page = site.get(path)?;
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(page.body, b"<title>x</title>", "{path}");
        }
        Ok(())
    }

    #[test]
    fn folders_with_an_index_get_their_own() -> Result<()> {
        let (site, _root) = scratch_site();
        for path in ["/docs/", "/docs", "/docs/?x=1#y"] {
            let page = site.get(path)?;
            assert_eq!(page.status, 200, "{path}");
            assert_eq!(page.body, b"<title>docs</title>", "{path}");
        }
        // A folder without an index.html is a client-side route like any other.
        assert_eq!(site.get("/style/")?.body, b"<title>x</title>");
        Ok(())
    }

    #[test]
    fn missing_files_and_escapes_are_404() -> Result<()> {
        let (site, _root) = scratch_site();
        for path in ["/missing.js", "/../Cargo.toml", "/style/%2e%2e/%2e%2e/etc/passwd", "/%zz.js"] {
            assert_eq!(site.get(path)?.status, 404, "{path}");
        }
        Ok(())
    }

    #[test]
    #[should_panic(expected = "the built site is missing: run scripts/build-web.sh")]
    fn a_missing_build_fails_loudly() {
        let (_site, scratch) = scratch_site();
        fs::remove_file(scratch.0.join("index.html")).expect("remove the scratch index.html");
        Site::start_in(&scratch.0);
    }

    #[test]
    fn urls_are_absolute() {
        let (site, _root) = scratch_site();
        let base = format!("http://{}", site.addr());
        assert_eq!(site.url("/?preset=busy"), format!("{base}/?preset=busy"));
        assert_eq!(site.url("app.wasm"), format!("{base}/app.wasm"));
    }
}
