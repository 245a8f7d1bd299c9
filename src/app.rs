//! The HTML shell the server renders around the app, and which page a path shows.

use crate::pages::{CallPage, HomePage};
use crate::text;
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};

/// The document around the app; the server renders it, the WASM hydrates `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                // The release build's file names carry a hash of their contents.
                <HashedStylesheet options=options.clone() id="leptos" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The pages there are. Two pages and no links between them need no client-side router:
/// going from one to the other is a page load (as in the original), and leaving
/// leptos_router out of the page's WASM (with the home page's server function, see
/// `pages/home.rs`) made it a quarter smaller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    /// `/`
    Home,
    /// `/webrtc/SEGMENT`, `SEGMENT` being `NAME.html` (the original's page URL); the server
    /// answers a bad NAME with 400 before this renders.
    Call(String),
    NotFound,
}

impl Page {
    /// The page `path` (as it is in the URL, percent-encoded) shows.
    pub fn of(path: &str) -> Self {
        if path == "/" {
            return Page::Home;
        }
        match path.strip_prefix("/webrtc/") {
            Some(segment) if !segment.is_empty() && !segment.contains('/') => {
                Page::Call(segment.to_owned())
            }
            _ => Page::NotFound,
        }
    }

    /// The page being rendered (on the server) or shown (in the browser).
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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let page = match Page::current() {
        Page::Home => EitherOf3::A(view! { <HomePage /> }),
        Page::Call(segment) => EitherOf3::B(view! { <CallPage segment /> }),
        Page::NotFound => EitherOf3::C(view! { <p class="notice">{text::NOT_FOUND}</p> }),
    };
    view! {
        <Title text=text::APP_NAME />
        <main>{page}</main>
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
        for other in ["", "/webrtc/", "/webrtc", "/webrtc/a/b", "/nope", "//"] {
            assert_eq!(Page::of(other), Page::NotFound, "{other}");
        }
    }
}
