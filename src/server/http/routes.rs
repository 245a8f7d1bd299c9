//! The HTTP surface: the pages Leptos renders, the static site, `/webrtc/{name}`, the
//! original's URL that is both the call page (`NAME.html`) and the signaling socket (`NAME`),
//! and `/lan.svg`, the QR code of the LAN URL on the home page.

use super::assets;
use crate::app::shell;
use crate::pages::LAN_QR_PATH;
use crate::protocol::UserName;
use crate::server::chat::store::{Store, StoreError};
use crate::server::reach::lan::{self, Lan};
use crate::server::reach::turn::TurnAllocations;
use crate::server::settings::Settings;
use crate::server::signal::hub::{Device, Hub};
use crate::server::signal::socket::handle_socket;
use crate::server::{data_dir, names};
use crate::text;
use axum::Router;
use axum::extract::{
    ConnectInfo, FromRef, FromRequestParts, Path, Request, State, WebSocketUpgrade,
};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use leptos::prelude::*;
use std::net::SocketAddr;
use std::sync::Arc;

/// The route that serves both the call page and the socket.
const WEBRTC_ROUTE: &str = "/webrtc/{segment}";

/// Everything a handler can ask for.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub hub: Arc<Hub>,
    pub lan: Arc<Lan>,
}

/// The whole application, with its chat database opened (and migrated) under the data
/// directory, for a server listening on `settings.site_addr` and showing no certificate
/// fingerprint, as most integration tests run it. `main` uses [`app`].
pub fn router(settings: Settings, leptos_options: LeptosOptions) -> Result<Router, StoreError> {
    let lan = Lan::new(
        settings.scheme(),
        settings.site_addr,
        &lan::addresses(),
        None,
    );
    app(settings, leptos_options, lan, None)
}

/// [`router`] for a server that `lan` describes (its real address, TLS fingerprint), and
/// whose built-in TURN server (if any) `turn` reaches: a page's relays close when it
/// signs out.
pub fn app(
    settings: Settings,
    leptos_options: LeptosOptions,
    lan: Lan,
    turn: Option<TurnAllocations>,
) -> Result<Router, StoreError> {
    // Rendering spawns tasks on Leptos's executor, which runs on tokio. (leptos_axum's
    // route helpers, which duet does not use, set this up.) An Err means it already is.
    let _ = any_spawner::Executor::init_tokio();
    // Before the database opens (which would make it with the usual, readable mode).
    data_dir::create(&settings.data_dir).map_err(|err| StoreError::DataDir {
        path: settings.data_dir.display().to_string(),
        err,
    })?;
    let store = Store::open(&settings.database())?;
    let state = AppState {
        leptos_options,
        hub: Hub::new(Arc::new(settings), store, turn),
        lan: Arc::new(lan),
    };
    let hashed = assets::Hashed::of(&state.leptos_options);
    let pkg_prefix: Arc<str> = format!("/{}/", state.leptos_options.site_pkg_dir).into();
    let router = Router::new()
        .route("/", get(home))
        .route(WEBRTC_ROUTE, get(webrtc))
        .route(LAN_QR_PATH, get(lan::lan_qr))
        // Static files; any other path gets the app's "not found" page with a 404.
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(move |req, next| {
            assets::cache_control(hashed.clone(), pkg_prefix.clone(), req, next)
        }))
        .with_state(state);
    Ok(router)
}

/// What each socket reserves for reading. tungstenite's default, 128 KiB, is for bulk
/// transfer; a signaling socket gets a few hundred bytes at a time, and an idle one nothing.
/// Larger frames still arrive whole (the buffer grows for them), just in more reads.
/// With the default an idle socket cost the server about 136 KiB; the budget is 10.
const READ_BUFFER: usize = 4 * 1024;

/// `/webrtc/NAME` is NAME's signaling socket and `/webrtc/NAME.html` NAME's call page.
/// A WebSocket upgrade always means the socket, so a user named `x.html` still gets one.
/// A bad name is refused here, with the reason, before any page or socket exists.
async fn webrtc(
    State(state): State<AppState>,
    Path(segment): Path<String>,
    req: Request,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &state).await;
    let raw = match (&upgrade, segment.strip_suffix(".html")) {
        (Err(_), Some(page_of)) => page_of,
        _ => segment.as_str(),
    };
    let name = match UserName::parse(raw).and_then(names::check) {
        Ok(name) => name,
        Err(why) => {
            return (StatusCode::BAD_REQUEST, text::bad_name(&why.to_string())).into_response();
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) if raw == segment => return rejection.into_response(),
        Err(_) => return render_page(&state, Request::from_parts(parts, body)).await,
    };
    // `?resume=SECRET`: the page is coming back to a call it had (see `welcome`).
    let resume = parts.uri.query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("resume="))
            .map(str::to_owned)
    });
    // The client's address, whose allowance its frames count against besides its name's;
    // there when the server is served with connect info (as `serve` does).
    let address = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(peer)| peer.ip());
    let who = state.hub.meter().who(&name, address);
    let hub = state.hub.clone();
    let limit = hub.settings().max_message_bytes;
    upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| handle_socket(socket, hub, name, Device::default(), resume, who))
}

/// `/`, the home page.
/// `/?name=NAME`, the home page's form sent before the page's script took it over (Enter
/// pressed while the page loads), goes to NAME's call page; a bad name gets the home page,
/// whose script then says why.
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let asked = req.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("name="))
            .map(|raw| raw.replace('+', " "))
    });
    if let Some(raw) = asked {
        let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy();
        if let Ok(name) = UserName::parse(decoded.trim()) {
            return Redirect::to(&crate::pages::page_path(&name)).into_response();
        }
    }
    render_page(&state, req).await
}

/// Renders the app (which picks the page by `req`'s path, `app::Page`), with the server's
/// state in its context.
async fn render_page(state: &AppState, req: Request) -> Response {
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        {
            let state = state.clone();
            move || {
                provide_context(state.leptos_options.clone());
                provide_context(state.clone());
            }
        },
        move || shell(options.clone()),
    );
    render(req).await
}
