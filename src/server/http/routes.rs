//! The HTTP surface: the pages Leptos renders, the static site, `/webrtc/{name}`, the
//! original's URL that is both the call page (`NAME.html`) and the signaling socket (`NAME`),
//! `/lan.svg`, the QR code of the LAN URL on the home page, and the account forms and
//! pages (`/signin`, `/signup`, `/signout`, `/account`, `/i/TOKEN`; see `server/auth/`).
//! Every page rendered gets a [`Visit`] in its context: who looks at it.

use super::assets;
use crate::account::{self, FormOutcome, Visit, paths};
use crate::app::shell;
use crate::pages::{LAN_QR_PATH, page_path};
use crate::protocol::UserName;
use crate::server::auth::forms::{Answer, PasswordForm, RevokeForm, SignInForm, SignUpForm};
use crate::server::auth::{self, Auth, Claim};
use crate::server::chat::store::{Store, StoreError};
use crate::server::reach::lan::{self, Lan};
use crate::server::reach::turn::TurnAllocations;
use crate::server::settings::Settings;
use crate::server::signal::hub::Hub;
use crate::server::signal::socket::handle_socket;
use crate::server::{data_dir, language, names};
use crate::text::{Lang, lang};
use axum::extract::{
    ConnectInfo, Form, FromRef, FromRequest, FromRequestParts, Path, Request, State,
    WebSocketUpgrade,
};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Router, body::Body};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
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
    pub auth: Arc<Auth>,
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
    let settings = Arc::new(settings);
    let auth = Arc::new(Auth::new(settings.clone(), store.clone()));
    let hub = Hub::new(settings, store, turn);
    auth::sweep::start(&hub, &auth);
    let state = AppState {
        leptos_options,
        hub,
        lan: Arc::new(lan),
        auth,
    };
    let hashed = assets::Hashed::of(&state.leptos_options);
    let pkg_prefix: Arc<str> = format!("/{}/", state.leptos_options.site_pkg_dir).into();
    let router = Router::new()
        .route("/", get(home))
        .route(WEBRTC_ROUTE, get(webrtc))
        .route(LAN_QR_PATH, get(lan::lan_qr))
        .route(paths::SIGN_IN, post(sign_in))
        .route(paths::SIGN_UP, post(sign_up))
        .route(paths::SIGN_OUT, post(sign_out))
        .route(paths::ACCOUNT, get(account))
        .route(paths::REVOKE, post(revoke))
        .route(paths::PASSWORD, post(change_password))
        .route(paths::INVITE, post(make_invite))
        .route("/i/{token}", get(invite))
        .route(lang::SWITCH_PATH, get(switch_language))
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
            let words = page_language(&state, &parts).words();
            return (StatusCode::BAD_REQUEST, (words.bad_name)(&why)).into_response();
        }
    };
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(rejection) if raw == segment => return rejection.into_response(),
        Err(_) => return call_page(&state, name, Request::from_parts(parts, body)).await,
    };
    // Before the upgrade: a claimed name's socket only for its account's session, and no
    // socket for another site's page.
    let device = match state.auth.socket_device(&name, &parts).await {
        Ok(device) => device,
        Err(refusal) => return (refusal.status, refusal.reason).into_response(),
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
        .on_upgrade(move |socket| handle_socket(socket, hub, name, device, resume, who))
}

/// `/webrtc/NAME.html`: NAME's call page, gated (the sign-in form instead of the phone)
/// when the socket would be refused to this browser.
async fn call_page(state: &AppState, name: UserName, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let look = state.auth.look(&parts).await;
    let gate = match state.auth.claim(&name, &look.cookie).await {
        Ok(Claim::Open | Claim::Own(_)) => false,
        Ok(Claim::Closed | Claim::Other { spelled: None }) => true,
        // This browser's own account, spelled otherwise: its page is the account's.
        Ok(Claim::Other {
            spelled: Some(own), ..
        }) => {
            let to = UserName::parse(&own).map_or_else(|_| "/".to_owned(), |n| page_path(&n));
            return with_cookie(Redirect::to(&to).into_response(), look.set_cookie);
        }
        Err(err) => {
            tracing::error!("checking who may open {name}'s page: {err}");
            true
        }
    };
    let visit = Visit {
        gate,
        next: gate.then(|| page_path(&name)),
        ..look.visit
    };
    let response = render_page(state, Request::from_parts(parts, body), visit).await;
    with_cookie(response, look.set_cookie)
}

/// `/`, the home page.
/// `/?name=NAME`, the home page's form for a name without an account, goes to NAME's call
/// page; a bad name gets the home page with why (400).
async fn home(State(state): State<AppState>, req: Request) -> Response {
    let asked = req.uri().query().and_then(|query| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("name="))
            .map(|raw| raw.replace('+', " "))
    });
    let (parts, body) = req.into_parts();
    let mut refused = None;
    if let Some(raw) = asked {
        let decoded = percent_encoding::percent_decode_str(&raw).decode_utf8_lossy();
        match UserName::parse(decoded.trim()) {
            Ok(name) => return Redirect::to(&page_path(&name)).into_response(),
            Err(why) => {
                let words = page_language(&state, &parts).words();
                refused = Some(FormOutcome {
                    form: account::Form::OpenName,
                    error: (words.bad_name)(&why),
                    name: decoded.trim().to_owned(),
                });
            }
        }
    }
    let look = state.auth.look(&parts).await;
    // `/?next=PATH`: where a sign-in here goes afterwards (`/account` sends people here).
    let next = query_value(&parts, "next").and_then(|next| auth::local_path(&next));
    let failed = refused.is_some();
    let visit = Visit {
        next,
        outcome: refused,
        ..look.visit
    };
    let mut response = render_page(&state, Request::from_parts(parts, body), visit).await;
    if failed {
        *response.status_mut() = StatusCode::BAD_REQUEST;
    }
    with_cookie(response, look.set_cookie)
}

/// `GET /account`: the signed-in person's sessions, password and invites; signed out, the
/// home page's sign-in, coming back here.
async fn account(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let look = state.auth.look(&parts).await;
    let Some(session) = look.session() else {
        let to = format!("/?next={}", paths::ACCOUNT);
        return with_cookie(Redirect::to(&to).into_response(), look.set_cookie);
    };
    let mut account = match state.auth.account_view(session).await {
        Ok(account) => account,
        Err(err) => {
            tracing::error!("listing sessions: {err}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                crate::text::forms::SERVER_ERROR,
            )
                .into_response();
        }
    };
    account.password_changed = query_value(&parts, "changed").is_some_and(|v| v == "1");
    let visit = Visit {
        account: Some(account),
        ..look.visit
    };
    let response = render_page(&state, Request::from_parts(parts, body), visit).await;
    with_cookie(response, look.set_cookie)
}

/// `GET /i/TOKEN`: an invite link's sign-up form (200), or why it cannot be used (410).
async fn invite(
    State(state): State<AppState>,
    Path(token): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let look = state.auth.look(&parts).await;
    let view = match state
        .auth
        .invite_view(&token, page_language(&state, &parts).words())
        .await
    {
        Ok(view) => view,
        Err(err) => {
            tracing::error!("reading an invite: {err}");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                crate::text::forms::SERVER_ERROR,
            )
                .into_response();
        }
    };
    let status = if view.refused.is_some() {
        StatusCode::GONE
    } else {
        StatusCode::OK
    };
    let visit = Visit {
        invite: Some(view),
        ..look.visit
    };
    let mut response = render_page(&state, Request::from_parts(parts, body), visit).await;
    *response.status_mut() = status;
    with_cookie(response, look.set_cookie)
}

async fn sign_in(State(state): State<AppState>, req: Request) -> Response {
    let (parts, form) = match read_form::<SignInForm>(&state, req).await {
        Ok(read) => read,
        Err(rejection) => return rejection,
    };
    let answer = state.auth.sign_in(&state.hub, &parts, form).await;
    answer_with(&state, &parts, answer).await
}

async fn sign_up(State(state): State<AppState>, req: Request) -> Response {
    let (parts, form) = match read_form::<SignUpForm>(&state, req).await {
        Ok(read) => read,
        Err(rejection) => return rejection,
    };
    let answer = state.auth.sign_up(&state.hub, &parts, form).await;
    answer_with(&state, &parts, answer).await
}

async fn sign_out(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let answer = state.auth.sign_out(&state.hub, &parts).await;
    answer_with(&state, &parts, answer).await
}

async fn revoke(State(state): State<AppState>, req: Request) -> Response {
    let (parts, form) = match read_form::<RevokeForm>(&state, req).await {
        Ok(read) => read,
        Err(rejection) => return rejection,
    };
    let answer = state.auth.revoke(&state.hub, &parts, form).await;
    answer_with(&state, &parts, answer).await
}

async fn change_password(State(state): State<AppState>, req: Request) -> Response {
    let (parts, form) = match read_form::<PasswordForm>(&state, req).await {
        Ok(read) => read,
        Err(rejection) => return rejection,
    };
    let answer = state.auth.change_password(&state.hub, &parts, form).await;
    answer_with(&state, &parts, answer).await
}

async fn make_invite(State(state): State<AppState>, req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let answer = state.auth.make_invite(&parts).await;
    answer_with(&state, &parts, answer).await
}

/// The request's head and its urlencoded form.
async fn read_form<T: DeserializeOwned>(
    state: &AppState,
    req: Request,
) -> Result<(Parts, T), Response> {
    let (parts, body) = req.into_parts();
    let req = Request::from_parts(parts.clone(), body);
    match Form::<T>::from_request(req, state).await {
        Ok(Form(form)) => Ok((parts, form)),
        Err(rejection) => Err(rejection.into_response()),
    }
}

/// A form's [`Answer`] as a response: a 303, or the page rendered as if `GET` (the
/// request's path changed to the page's, its headers kept), with the answer's status.
async fn answer_with(state: &AppState, parts: &Parts, answer: Answer) -> Response {
    match answer {
        Answer::Redirect { to, cookie } => with_cookie(Redirect::to(&to).into_response(), cookie),
        Answer::Refused { status, reason } => (status, reason).into_response(),
        Answer::Page {
            path,
            visit,
            status,
            cookie,
            retry_after,
        } => {
            let mut req = Request::new(Body::empty());
            *req.method_mut() = Method::GET;
            *req.uri_mut() = path.parse().unwrap_or_default();
            *req.headers_mut() = parts.headers.clone();
            req.headers_mut().remove(header::CONTENT_TYPE);
            req.headers_mut().remove(header::CONTENT_LENGTH);
            let mut response = render_page(state, req, *visit).await;
            *response.status_mut() = status;
            if let Some(secs) = retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            with_cookie(response, cookie)
        }
    }
}

/// `response` with `cookie` set, if any.
fn with_cookie(mut response: Response, cookie: Option<HeaderValue>) -> Response {
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// The percent-decoded value of `key` in the request's query.
fn query_value(parts: &Parts, key: &str) -> Option<String> {
    parts.uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
    })
}

/// `GET /lang?to=TAG&back=PATH`: the language switch. Remembers the language in the
/// `duet_lang` cookie (a year; readable by scripts, as it holds nothing secret) and goes
/// back to the page (a path on this server), which renders in it.
async fn switch_language(req: Request) -> Response {
    let (parts, _) = req.into_parts();
    let Some(lang) = query_value(&parts, "to").and_then(|tag| Lang::parse(&tag)) else {
        return (StatusCode::BAD_REQUEST, "to= is neither en nor zh-CN").into_response();
    };
    let back = query_value(&parts, "back")
        .and_then(|back| auth::local_path(&back))
        .filter(|back| HeaderValue::from_str(back).is_ok())
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang::COOKIE,
        lang.tag()
    );
    let cookie = HeaderValue::from_str(&cookie).expect("a language tag is a header value");
    with_cookie(Redirect::to(&back).into_response(), Some(cookie))
}

/// The language of the page a request asks for.
fn page_language(state: &AppState, parts: &Parts) -> Lang {
    language::of(parts, state.hub.settings().default_language)
}

/// Renders the app (which picks the page by `req`'s path, `app::Page`), with the server's
/// state, `visit` and the page's language in its context.
async fn render_page(state: &AppState, req: Request, visit: Visit) -> Response {
    let (parts, body) = req.into_parts();
    let lang = page_language(state, &parts);
    let req = Request::from_parts(parts, body);
    let options = state.leptos_options.clone();
    let render = leptos_axum::render_app_to_stream_with_context(
        {
            let state = state.clone();
            move || {
                provide_context(state.leptos_options.clone());
                provide_context(state.clone());
                provide_context(visit.clone());
                provide_context(lang);
            }
        },
        move || shell(options.clone()),
    );
    render(req).await
}
