//! The language of the page a request asks for: the person's choice (the `duet_lang`
//! cookie), then `?lang=`, then `Accept-Language`, then the server's `default_language`
//! (the order is [`lang::choose`]'s).

use crate::text::{Lang, lang};
use axum::http::header;
use axum::http::request::Parts;

pub fn of(parts: &Parts, default: Lang) -> Lang {
    let header = |name| {
        parts
            .headers
            .get_all(name)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
    };
    let cookies = header(header::COOKIE);
    let cookie = cookies
        .iter()
        .find_map(|cookies| lang::cookie_value(cookies, lang::COOKIE));
    let query = parts
        .uri
        .query()
        .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("lang=")));
    let accept = header(header::ACCEPT_LANGUAGE).join(",");
    lang::choose(cookie, query, Some(&accept), default)
}
