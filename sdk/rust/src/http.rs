// A minimal HTTP/1.1 client for the admin listener (plain http on loopback; it has no TLS and no
// authentication). Debian packages no HTTP client crate, and one request per call is all it needs.
use crate::error::{err, Error};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// An HTTP answer; header names are lower-case.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// One request over a new connection (plain http only).
pub fn request(url: &str, method: &str, body: Option<&[u8]>) -> Result<Response, Error> {
    request_with(url, method, body, &[])
}

/// One request with extra headers.
pub fn request_with(url: &str, method: &str, body: Option<&[u8]>, headers: &[(&str, &str)]) -> Result<Response, Error> {
    let rest = url.strip_prefix("http://").ok_or_else(|| err!("ERR_ADMIN_REQUEST", "admin URL {} must be http:// (the admin listener has no TLS)", url))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let mut s = TcpStream::connect(host).map_err(|e| err!("ERR_ADMIN_UNREACHABLE", "{}: {}", host, e))?;
    // Generous: an export on a loaded machine waits for a checkpoint and runs helmctl export.
    s.set_read_timeout(Some(Duration::from_secs(300))).ok();
    let mut req = format!("{} {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", method, path, host);
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("accept")) {
        req.push_str("Accept: application/json\r\n");
    }
    for (n, v) in headers {
        req.push_str(&format!("{}: {}\r\n", n, v));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    let mut out = req.into_bytes();
    out.extend_from_slice(body.unwrap_or(&[]));
    s.write_all(&out).map_err(|e| err!("ERR_ADMIN_UNREACHABLE", "{}", e))?;
    let mut raw = vec![];
    s.read_to_end(&mut raw).map_err(|e| err!("ERR_ADMIN_UNREACHABLE", "{}", e))?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| err!("ERR_ADMIN_ANSWER", "no HTTP header block"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head.split(' ').nth(1).and_then(|c| c.parse().ok()).ok_or_else(|| err!("ERR_ADMIN_ANSWER", "bad status line"))?;
    let headers: Vec<(String, String)> = head.split("\r\n").skip(1).filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    }
    Ok(Response { status, headers, body })
}

fn dechunk(mut b: &[u8]) -> Result<Vec<u8>, Error> {
    let mut out = vec![];
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").ok_or_else(|| err!("ERR_ADMIN_ANSWER", "bad chunk"))?;
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..eol]).split(';').next().unwrap().trim(), 16).map_err(|_| err!("ERR_ADMIN_ANSWER", "bad chunk size"))?;
        if size == 0 {
            return Ok(out);
        }
        let start = eol + 2;
        out.extend_from_slice(b.get(start..start + size).ok_or_else(|| err!("ERR_ADMIN_ANSWER", "short chunk"))?);
        b = b.get(start + size + 2..).unwrap_or(&[]);
    }
}
