//! A recording HTTP/1.1 proxy between the `signet` binary and `signet serve`: every
//! request body the CLI sends and every response body it reads pass through it and are
//! kept, so a test can search all of them (for key material that must never cross the
//! network, for the artifact that must stay on the machine).
//!
//! One request per connection: the proxy forwards the request with `Connection: close`
//! and relays the answer until the server closes, so it never has to frame a keep-alive
//! stream.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    sync::{Arc, Mutex},
};

/// What crossed the proxy, in order.
#[derive(Default)]
pub(crate) struct Traffic {
    /// Request line and body of every request.
    pub(crate) requests: Vec<(String, Vec<u8>)>,
    /// Status line and (de-chunked) body of every response.
    pub(crate) responses: Vec<(String, Vec<u8>)>,
}

pub(crate) struct Proxy {
    pub(crate) url: String,
    traffic: Arc<Mutex<Traffic>>,
}

impl Proxy {
    /// Starts a proxy to the server at `upstream` on a free local port.
    pub(crate) fn start(upstream: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!("http://{}", listener.local_addr().expect("proxy address"));
        let traffic = Arc::new(Mutex::new(Traffic::default()));
        let kept = Arc::clone(&traffic);
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let kept = Arc::clone(&kept);
                std::thread::spawn(move || {
                    // A connection the client drops midway records nothing.
                    let _ = relay(client, upstream, &kept);
                });
            }
        });
        Proxy { url, traffic }
    }

    /// Every response body read so far.
    pub(crate) fn response_bodies(&self) -> Vec<Vec<u8>> {
        let t = self.traffic.lock().expect("traffic");
        t.responses.iter().map(|(_, b)| b.clone()).collect()
    }

    /// Every request body sent so far.
    pub(crate) fn request_bodies(&self) -> Vec<Vec<u8>> {
        let t = self.traffic.lock().expect("traffic");
        t.requests.iter().map(|(_, b)| b.clone()).collect()
    }

    /// The request lines (`POST /v1/… HTTP/1.1`) so far.
    pub(crate) fn request_lines(&self) -> Vec<String> {
        let t = self.traffic.lock().expect("traffic");
        t.requests.iter().map(|(l, _)| l.clone()).collect()
    }
}

/// Headers up to the blank line, as lines; `None` at a clean end of stream.
fn read_head(r: &mut impl BufRead) -> std::io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if line.is_empty() {
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn relay(client: TcpStream, upstream: SocketAddr, kept: &Mutex<Traffic>) -> std::io::Result<()> {
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let Some(head) = read_head(&mut from_client)? else {
        return Ok(());
    };
    let len: usize = header(&head, "content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    from_client.read_exact(&mut body)?;

    let mut server = TcpStream::connect(upstream)?;
    let mut request = String::new();
    for (i, line) in head.iter().enumerate() {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(n, _)| n.trim().eq_ignore_ascii_case("connection"));
        if i == 0 || !is_connection {
            request.push_str(line);
            request.push_str("\r\n");
        }
    }
    request.push_str("Connection: close\r\n\r\n");
    server.write_all(request.as_bytes())?;
    server.write_all(&body)?;

    let mut answer = Vec::new();
    server.read_to_end(&mut answer)?;
    to_client.write_all(&answer)?;
    to_client.flush()?;

    let mut r = BufReader::new(&answer[..]);
    let response_head = read_head(&mut r)?.unwrap_or_default();
    let mut rest = Vec::new();
    r.read_to_end(&mut rest)?;
    let response_body = if header(&response_head, "transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(&rest)
    } else {
        rest
    };
    let mut t = kept.lock().expect("traffic");
    t.requests
        .push((head.first().cloned().unwrap_or_default(), body));
    t.responses.push((
        response_head.first().cloned().unwrap_or_default(),
        response_body,
    ));
    Ok(())
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = data.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&data[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        data = &data[end + 2..];
        if size == 0 || data.len() < size {
            break;
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or_default();
    }
    out
}
