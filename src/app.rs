//! The HTML shell the server renders around the app, and the app's routes.

use crate::pages::{CallPage, HomePage};
use crate::text;
use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

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

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text=text::APP_NAME />
        <Router>
            <main>
                <Routes fallback=|| view! { <p class="notice">{text::NOT_FOUND}</p> }>
                    <Route path=path!("/") view=HomePage />
                    // `/webrtc/NAME.html`, the original's page URL; the server answers a bad
                    // NAME with 400 before this renders.
                    <Route path=path!("/webrtc/:segment") view=CallPage />
                </Routes>
            </main>
        </Router>
    }
}
