//! `/`: sign in or create an account (or, while names are open, just pick a name) and go
//! to the call page; beside it, the address (and its QR code) a phone on the LAN opens.

use crate::account::{Form, Signup, Visit};
use crate::components::{AccountBar, SignInForm, SignUpForm};
use crate::protocol::UserName;
use crate::text::{self, words};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The QR code of [`LanLink::url`], served by the server (`server/reach/lan.rs`).
pub const LAN_QR_PATH: &str = "/lan.svg";

/// The address the home page offers other devices, and what they need to know about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanLink {
    /// The URL shown and encoded in `/lan.svg`.
    pub url: String,
    /// Another device on the LAN can reach it (the server listens on a LAN address).
    pub on_lan: bool,
    /// It is HTTPS, which a phone's browser needs before it opens the camera.
    pub secure: bool,
    /// The SHA-256 fingerprint of the server's certificate, with TLS on.
    pub fingerprint: Option<String>,
}

/// The server's [`LanLink`]; `None` in the browser, which reads the server's instead (see
/// [`HomePage`]).
fn lan_link() -> Option<LanLink> {
    #[cfg(feature = "ssr")]
    return use_context::<crate::server::AppState>().map(|state| state.lan.link());
    #[cfg(not(feature = "ssr"))]
    None
}

#[component]
pub fn HomePage() -> impl IntoView {
    let visit = super::visit();
    // Computed while the server renders the page and written into it, so the browser
    // hydrates the same panel without asking again (and without async machinery).
    let lan = SharedValue::new(lan_link).into_inner();
    let open_names = visit.open_names.then(|| view! { <OpenName /> });
    view! {
        <section class="home">
            <h1>{text::APP_NAME}</h1>
            <p class="tagline">{words().tagline}</p>
            {match visit.signed_in.clone() {
                Some(name) => Either::Left(view! { <AccountBar name /> }),
                None => Either::Right(view! { <SignInOrUp visit /> }),
            }}
            {open_names}
            {match lan {
                Some(link) => Either::Left(view! { <LanPanel link /> }),
                None => {
                    Either::Right(
                        view! {
                            <p class="error" role="alert">
                                {words().no_lan_link}
                            </p>
                        },
                    )
                }
            }}
        </section>
    }
}

/// The sign-in form, and the sign-up form where sign-up is open to all; each shows the
/// error of its last try.
#[component]
fn SignInOrUp(visit: Visit) -> impl IntoView {
    let outcome = |form: Form| visit.outcome.clone().filter(|o| o.form == form);
    let signin = outcome(Form::SignIn);
    let signup = outcome(Form::SignUp);
    let sign_up = match visit.signup {
        Signup::Open => EitherOf3::A(view! {
            <SignUpForm
                name=signup.as_ref().map(|o| o.name.clone()).unwrap_or_default()
                focus=signup.is_some()
                error=signup.map(|o| o.error)
            />
            <p class="hint">{words().sign_up_hint}</p>
        }),
        Signup::Invite => EitherOf3::B(view! { <p class="hint">{words().sign_up_by_invite}</p> }),
        Signup::Closed => EitherOf3::C(view! { <p class="hint">{words().sign_up_closed}</p> }),
    };
    view! {
        <div class="accounts">
            <SignInForm
                name=signin.as_ref().map(|o| o.name.clone()).unwrap_or_default()
                next=visit.next.clone()
                focus=signin.is_some()
                error=signin.map(|o| o.error)
            />
            <div class="sign-up">{sign_up}</div>
        </div>
    }
}

/// Today's form: a name without an account, straight to its call page.
#[component]
fn OpenName() -> impl IntoView {
    let field = NodeRef::<leptos::html::Input>::new();
    let error = RwSignal::new(None::<String>);
    // The name is read from the field itself when the form is sent, never written into it:
    // text typed before the page's script took over stays where it is.
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = field.get_untracked().map(|f| f.value()).unwrap_or_default();
        match UserName::parse(typed.trim()) {
            Ok(name) => go_to(&crate::pages::call::page_path(&name)),
            Err(why) => error.set(Some((words().bad_name)(&why))),
        }
    };
    // Set once the page is hydrated, for tests and scripts.
    let ready = RwSignal::new(false);
    Effect::new(move |_| ready.set(true));
    view! {
        <section class="open-name" aria-labelledby="openNameTitle">
            <h2 id="openNameTitle">{words().open_name}</h2>
            // Without the script (Enter pressed while the page loads) the browser sends the
            // form as `/?name=NAME`, which the server answers with NAME's page.
            <form method="get" action="/" on:submit=open data-ready=move || ready.get().to_string()>
                <label for="name">{words().pick_name}</label>
                <input
                    id="name"
                    name="name"
                    node_ref=field
                    type="text"
                    required
                    maxlength="64"
                    autocomplete="nickname"
                    autocapitalize="none"
                />
                <small>{words().name_rule}</small>
                <button type="submit">{words().open}</button>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>
            <p class="hint">{words().open_name_hint}</p>
        </section>
    }
}

/// Opens `path` as a new page load.
fn go_to(path: &str) {
    #[cfg(feature = "hydrate")]
    if let Err(err) = window().location().assign(path) {
        leptos::logging::error!("cannot open {path}: {err:?}");
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// The LAN URL as a QR code and as text, with what a phone needs to know to use it.
#[component]
fn LanPanel(link: LanLink) -> impl IntoView {
    let hint = (words().lan_hint)(link.on_lan, link.secure);
    view! {
        <aside class="lan">
            <h2>{words().on_a_phone}</h2>
            <img id="lanQr" src=LAN_QR_PATH alt={words().lan_qr_alt} width="200" height="200" />
            <a id="lanUrl" href=link.url.clone()>
                {link.url.clone()}
            </a>
            <p class="hint">{hint}</p>
            {link
                .fingerprint
                .map(|fingerprint| {
                    view! {
                        <p class="fingerprint">
                            {words().fingerprint}
                            " "
                            <code id="lanFingerprint">{fingerprint}</code>
                        </p>
                    }
                })}
        </aside>
    }
}
