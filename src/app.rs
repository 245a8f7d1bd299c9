//! The HTML shell the server renders around the app, and which page a path shows.

use crate::account::{Visit, paths};
use crate::pages::CallPage;
use crate::text::{self, Lang};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};

/// The document around the app; the server renders it, and on the call page the WASM
/// hydrates `<body>`. Every other page is plain HTML with plain forms: it loads no script
/// at all, and the WASM holds none of its code (see [`static_page`]).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let scripts = hydrates().then(|| view! { <HydrationScripts options=options.clone() /> });
    let lang = lang_from_server().tag();
    view! {
        <!DOCTYPE html>
        <html lang=lang>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // The release build's file names carry a hash of their contents.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                {scripts}
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Whether the page being rendered runs the WASM: a call page showing its phone (not the
/// sign-in form of a page this browser may not open).
fn hydrates() -> bool {
    matches!(Page::current(), Page::Call(_)) && !visit_from_server().gate
}

/// The pages there are. Going from one to another is a page load (as in the original, and
/// as every form post is), so they need no client-side router; leaving leptos_router out
/// of the page's WASM made it a quarter smaller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/webrtc/SEGMENT`, `SEGMENT` being `NAME.html` (the original's page URL); the server
    /// answers a bad NAME with 400 before this renders.
    Call(String),
    /// `/account`: the signed-in person's sessions, password and invites.
    Account,
    /// `/i/TOKEN`: an invite link.
    Invite(String),
    NotFound,
}

impl Page {
    /// The page `path` (as it is in the URL, percent-encoded) shows.
    pub fn of(path: &str) -> Self {
        if path == "/" {
            return Page::Home;
        }
        if path == paths::ACCOUNT {
            return Page::Account;
        }
        let one_segment = |rest: &str| !rest.is_empty() && !rest.contains('/');
        if let Some(segment) = path.strip_prefix("/webrtc/").filter(|s| one_segment(s)) {
            return Page::Call(segment.to_owned());
        }
        match path.strip_prefix(paths::INVITE_PREFIX) {
            Some(token) if one_segment(token) => Page::Invite(token.to_owned()),
            _ => Page::NotFound,
        }
    }

    /// The page being rendered (on the server) or the one the address bar names (in the
    /// browser; after a refused form post, the page the form was on has another path).
    pub fn current() -> Self {
        Self::of(&current_path())
    }
}

/// The path being rendered: the request's on the server, the address bar's in the browser.
fn current_path() -> String {
    #[cfg(feature = "hydrate")]
    return window().location().pathname().unwrap_or_default();
    #[cfg(not(feature = "hydrate"))]
    use_context::<axum::http::request::Parts>()
        .map(|parts| parts.uri.path().to_owned())
        .unwrap_or_default()
}

/// The [`Visit`] the server put in the render's context. Outside a server render (a
/// render without one, as in a unit test) nobody is signed in and names are open, as
/// they were before accounts.
fn visit_from_server() -> Visit {
    #[cfg(feature = "ssr")]
    if let Some(visit) = use_context::<Visit>() {
        return visit;
    }
    Visit {
        open_names: true,
        ..Visit::default()
    }
}

/// The language the server chose for the page (see `server/language.rs`). A page rendered
/// without one, the "not found" page of the static files' fallback, goes by its request
/// alone, without the server's `default_language`.
fn lang_from_server() -> Lang {
    #[cfg(feature = "ssr")]
    if let Some(lang) = use_context::<Lang>() {
        return lang;
    }
    #[cfg(feature = "ssr")]
    if let Some(parts) = use_context::<axum::http::request::Parts>() {
        return crate::server::language::of(&parts, Lang::default());
    }
    Lang::default()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Written into the page by the server and read back by the browser as it hydrates, so
    // both render the same forms; the pages take it from the context on both sides.
    provide_context(SharedValue::new(visit_from_server).into_inner());
    // The language the server chose for the page, likewise: every word the browser shows
    // later (a status, an error) is in it too.
    let lang = SharedValue::new(lang_from_server).into_inner();
    #[cfg(feature = "hydrate")]
    text::lang::set_page(lang);
    provide_context(lang);
    // The page the server rendered, which is not always the one in the address bar: a
    // refused form post (`/signin`) is answered with the page the form was on (`/`).
    let path = SharedValue::new(current_path).into_inner();
    let page = match Page::of(&path) {
        Page::Call(segment) => Either::Left(view! { <CallPage segment /> }),
        other => Either::Right(static_page(other)),
    };
    view! {
        <Title text=text::APP_NAME />
        <LanguageSwitch lang path />
        <main>{page}</main>
    }
}

/// A page without script: the home page, `/account`, an invite and "not found". Only the
/// server has their code; the browser never runs it.
#[cfg(feature = "ssr")]
fn static_page(page: Page) -> impl IntoView {
    use crate::pages::{AccountPage, HomePage, InvitePage};
    use leptos::either::EitherOf4;
    match page {
        Page::Home => EitherOf4::A(view! { <HomePage /> }),
        Page::Account => EitherOf4::B(view! { <AccountPage /> }),
        Page::Invite(token) => EitherOf4::C(view! { <InvitePage token /> }),
        Page::Call(_) | Page::NotFound => {
            EitherOf4::D(view! { <p class="notice">{text::words().not_found}</p> })
        }
    }
}

#[cfg(not(feature = "ssr"))]
fn static_page(_: Page) -> impl IntoView {}

/// The switch to the other language: a plain link (it works before the page's script
/// does) to `/lang`, which remembers the choice and comes back to `path`.
#[component]
fn LanguageSwitch(lang: Lang, path: String) -> impl IntoView {
    let other = lang.other();
    // `path` as one query value: its own percent signs kept, and nothing that ends it.
    let back: String = path
        .chars()
        .map(|c| match c {
            '%' => "%25".to_owned(),
            '&' => "%26".to_owned(),
            '#' => "%23".to_owned(),
            '+' => "%2B".to_owned(),
            '?' => "%3F".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let href = format!("{}?to={}&back={back}", text::lang::SWITCH_PATH, other.tag());
    view! {
        <nav class="lang" aria-label=lang.words().language>
            <a id="lang" href=href hreflang=other.tag() lang=other.tag()>
                {other.words().language_name}
            </a>
        </nav>
    }
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn paths_and_their_pages() {
        assert_eq!(Page::of("/"), Page::Home);
        assert_eq!(
            Page::of("/webrtc/alice.html"),
            Page::Call("alice.html".into())
        );
        assert_eq!(
            Page::of("/webrtc/%E5%BC%A0.html"),
            Page::Call("%E5%BC%A0.html".into())
        );
        assert_eq!(Page::of("/account"), Page::Account);
        assert_eq!(Page::of("/i/abc_-9"), Page::Invite("abc_-9".into()));
        for other in [
            "",
            "/webrtc/",
            "/webrtc",
            "/webrtc/a/b",
            "/nope",
            "//",
            "/i/",
            "/i/a/b",
            "/account/",
        ] {
            assert_eq!(Page::of(other), Page::NotFound, "{other}");
        }
    }
}
