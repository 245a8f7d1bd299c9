//! The session cookie: read from a request, written into a response. HttpOnly (no script
//! reads it), `SameSite=Lax` (another site's form or script sends no cookie with its
//! POST or fetch; a plain link to a page still does), `Secure` under TLS.

use crate::account::SESSION_COOKIE;
use axum::http::{HeaderMap, HeaderValue, header};
use std::time::Duration;

/// The session token this request carries, if any.
pub fn token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == SESSION_COOKIE).then(|| value.trim_matches('"'))
        })
}

/// The cookie that carries `token`: for `keep` (Max-Age), or for this browser session.
pub fn set(token: &str, keep: Option<Duration>, secure: bool) -> HeaderValue {
    let mut cookie = format!("{SESSION_COOKIE}={token}; HttpOnly; SameSite=Lax; Path=/");
    if let Some(life) = keep {
        cookie.push_str(&format!("; Max-Age={}", life.as_secs()));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    // A token is base64url: always a valid header value.
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Tells the browser to forget its session cookie.
pub fn clear(secure: bool) -> HeaderValue {
    if secure {
        HeaderValue::from_static("duet_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0; Secure")
    } else {
        HeaderValue::from_static("duet_session=; HttpOnly; SameSite=Lax; Path=/; Max-Age=0")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; duet_session=abc; b=2"),
        );
        assert_eq!(token(&headers), Some("abc"));
        assert_eq!(token(&HeaderMap::new()), None);
    }

    #[test]
    fn cookies_say_how_long_they_last() {
        let kept = set("t", Some(Duration::from_secs(60)), true);
        assert_eq!(
            kept,
            "duet_session=t; HttpOnly; SameSite=Lax; Path=/; Max-Age=60; Secure"
        );
        let session = set("t", None, false);
        assert_eq!(session, "duet_session=t; HttpOnly; SameSite=Lax; Path=/");
        assert!(clear(false).to_str().unwrap().contains("Max-Age=0"));
        assert!(clear(true).to_str().unwrap().starts_with(SESSION_COOKIE));
    }
}
