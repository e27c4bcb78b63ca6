//! A minimal blocking HTTP/1.1 GET, enough to probe chromedriver's `/status` and to check what
//! the static server answers without going through the browser.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// An HTTP response, body fully read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// GETs `path` from `addr`, giving up after `timeout` on connect and on each read.
pub(crate) fn get(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<Response> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    read_response(&mut stream)
}

fn read_response(stream: &mut TcpStream) -> io::Result<Response> {
    let mut raw = Vec::new();
    let head_end = read_until_head_end(stream, &mut raw)?;
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let (status, headers) = parse_head(&head)?;
    let mut body = raw[head_end + 4..].to_vec();
    let length = headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok());
    match length {
        // Read exactly the announced body: some servers keep the connection open regardless.
        Some(length) => {
            while body.len() < length {
                let mut chunk = [0u8; 16 * 1024];
                let n = stream.read(&mut chunk)?;
                if n == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "body cut short"));
                }
                body.extend_from_slice(&chunk[..n]);
            }
            body.truncate(length);
        }
        None => {
            stream.read_to_end(&mut body)?;
        }
    }
    Ok(Response { status, headers, body })
}

/// Reads into `raw` until it holds `\r\n\r\n`; returns where that separator starts.
fn read_until_head_end(stream: &mut TcpStream, raw: &mut Vec<u8>) -> io::Result<usize> {
    loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            return Ok(at);
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "no complete HTTP head"));
        }
        raw.extend_from_slice(&chunk[..n]);
    }
}

fn parse_head(head: &str) -> io::Result<(u16, Vec<(String, String)>)> {
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("bad status line {status_line:?}")))?;
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_string(), value.trim().to_string()))
        .collect();
    Ok((status, headers))
}
