//! Which pages may post duet's forms and open its sockets: its own (the scheme, host and
//! port the request came to) and those in `allowed_origins`. Browsers send `Origin` with
//! every cross-site request and every form POST and WebSocket upgrade; `null` (a sandboxed
//! frame, a `data:` page) is refused like any other stranger. A request without `Origin`
//! comes from a program, not a browser, so it carries nobody's cookie: it is allowed.

use axum::http::header;
use axum::http::request::Parts;

/// Whether the request in `parts`, to a server speaking `scheme`, may act.
pub fn allowed(parts: &Parts, scheme: &str, allowed_origins: &[String]) -> bool {
    let Some(origin) = parts.headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let origin = origin.trim().to_ascii_lowercase();
    // HTTP/1.1 names the host in `Host`; HTTP/2 in the `:authority` that becomes the URI's.
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()));
    let own =
        host.is_some_and(|host| origin == format!("{scheme}://{}", host.to_ascii_lowercase()));
    own || allowed_origins.iter().any(|allowed| *allowed == origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(origin: Option<&str>) -> Parts {
        let mut req = Request::get("/signin").header(header::HOST, "127.0.0.1:3000");
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        req.body(()).unwrap().into_parts().0
    }

    #[test]
    fn own_listed_and_missing_origins_pass_others_not() {
        let listed = vec!["https://duet.example".to_string()];
        assert!(allowed(&parts(Some("http://127.0.0.1:3000")), "http", &[]));
        assert!(allowed(&parts(Some("HTTP://127.0.0.1:3000")), "http", &[]));
        assert!(allowed(&parts(None), "http", &[]));
        assert!(allowed(
            &parts(Some("https://duet.example")),
            "http",
            &listed
        ));
        for stranger in [
            "http://evil.example",
            "null",
            "https://127.0.0.1:3000",
            "http://127.0.0.1:3001",
        ] {
            assert!(
                !allowed(&parts(Some(stranger)), "http", &listed),
                "{stranger}"
            );
        }
    }
}
