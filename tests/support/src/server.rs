//! A loopback HTTP server for the tests: serves a chart repository from a directory and the
//! four discovery endpoints Helm 3's client dry-run asks a Kubernetes API server for. It counts
//! requests per path. Bound to 127.0.0.1 only.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct Server {
    pub url: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

impl Server {
    pub fn start(root: PathBuf) -> Server {
        Server::start_with_delay(root, std::time::Duration::ZERO)
    }

    /// A server that waits `delay` before answering each request (a distant CDN, in benchmarks).
    pub fn start_with_delay(root: PathBuf, delay: std::time::Duration) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(Mutex::new(HashMap::new()));
        let counter = Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let counter = Arc::clone(&counter);
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let _ = serve(stream, &root, &counter);
                });
            }
        });
        Server { url, hits }
    }

    /// How many GETs `path` has had.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

fn serve(
    stream: TcpStream,
    root: &std::path::Path,
    hits: &Mutex<HashMap<String, usize>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let target = request.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split('?').next().unwrap_or("/").to_owned();
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let (status, content_type, body) = if let Some(json) = discovery(&path) {
        ("200 OK", "application/json", json.into_bytes())
    } else {
        let file = root.join(path.trim_start_matches('/'));
        let inside = !path.contains("..");
        match std::fs::read(&file) {
            Ok(bytes) if inside => ("200 OK", "application/octet-stream", bytes),
            _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
        }
    };
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(&body)?;
    stream.flush()
}

fn discovery(path: &str) -> Option<String> {
    let json = match path {
        "/version" => {
            r#"{"major":"1","minor":"31","gitVersion":"v1.31.0","platform":"linux/amd64"}"#
        }
        "/api" => {
            r#"{"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1"}]}"#
        }
        "/apis" => r#"{"kind":"APIGroupList","apiVersion":"v1","groups":[]}"#,
        "/api/v1" => r#"{"kind":"APIResourceList","groupVersion":"v1","resources":[]}"#,
        _ => return None,
    };
    Some(json.to_owned())
}
