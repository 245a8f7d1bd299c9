//! Plain HTTP requests with headers and forms, for the account tests: HTTP/1.0, so the
//! answer is never chunked and its body can be compared as it is.

use super::WAIT;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A response: status, headers (names in lower case) and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The session cookie this response sets: its whole `Set-Cookie` line.
    pub fn set_cookie(&self) -> Option<&str> {
        self.headers
            .iter()
            .filter(|(key, _)| key == "set-cookie")
            .map(|(_, value)| value.as_str())
            .find(|value| value.starts_with("duet_session="))
    }

    /// The session token this response sets (not one it clears).
    pub fn token(&self) -> Option<String> {
        let line = self.set_cookie()?;
        let value = line.strip_prefix("duet_session=")?.split(';').next()?;
        (!value.is_empty()).then(|| value.to_owned())
    }

    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }
}

/// `Cookie` header for `token`.
pub fn cookie(token: &str) -> (&'static str, String) {
    ("Cookie", format!("duet_session={token}"))
}

/// One request; `headers` beside Host, which is always the server's address.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Response {
    let exchange = async {
        let mut tcp = TcpStream::connect(addr).await.expect("connect for HTTP");
        let mut head = format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\n");
        for (key, value) in headers {
            head.push_str(&format!("{key}: {value}\r\n"));
        }
        if let Some(body) = body {
            head.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        head.push_str(body.unwrap_or(""));
        tcp.write_all(head.as_bytes())
            .await
            .expect("write the request");
        let mut response = Vec::new();
        tcp.read_to_end(&mut response)
            .await
            .expect("read the response");
        String::from_utf8_lossy(&response).into_owned()
    };
    let raw = timeout(WAIT * 5, exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} timed out"));
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("{method} {path}: no status line in {raw:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// `GET path` with `headers`.
pub async fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Response {
    request(addr, "GET", path, headers, None).await
}

/// `POST path` of the form `fields`, with `headers`.
pub async fn post(
    addr: SocketAddr,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Response {
    let body: Vec<String> = fields
        .iter()
        .map(|(key, value)| format!("{key}={}", encode(value)))
        .collect();
    request(addr, "POST", path, headers, Some(&body.join("&"))).await
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Signs `name` up (sign-up open) with `password`, kept; its session token.
pub async fn sign_up(addr: SocketAddr, name: &str, password: &str) -> String {
    let answer = post(
        addr,
        "/signup",
        &[("name", name), ("password", password), ("keep", "on")],
        &[],
    )
    .await;
    assert_eq!(answer.status, 303, "sign up {name}: {answer:?}");
    answer.token().expect("a sign-up sets the session cookie")
}

/// Signs `name` in from a browser calling itself `user_agent`; its session token.
pub async fn sign_in(addr: SocketAddr, name: &str, password: &str, user_agent: &str) -> String {
    let answer = post(
        addr,
        "/signin",
        &[("name", name), ("password", password), ("keep", "on")],
        &[("User-Agent", user_agent)],
    )
    .await;
    assert_eq!(answer.status, 303, "sign in {name}: {answer:?}");
    answer.token().expect("a sign-in sets the session cookie")
}
