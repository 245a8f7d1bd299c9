//! `/`: sign in or create an account (or, while names are open, just pick a name) and go
//! to the call page; beside it, the address (and its QR code) a phone on the LAN opens.

use crate::account::{Form, FormOutcome, Signup, Visit};
use crate::components::{AccountBar, SignInForm, SignUpForm};
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

/// The server's [`LanLink`].
fn lan_link() -> Option<LanLink> {
    use_context::<crate::server::AppState>().map(|state| state.lan.link())
}

#[component]
pub fn HomePage() -> impl IntoView {
    let visit = super::visit();
    let lan = lan_link();
    let refused = visit.outcome.clone().filter(|o| o.form == Form::OpenName);
    let open_names = visit.open_names.then(|| view! { <OpenName refused /> });
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

/// Today's form: a name without an account, straight to its call page. The browser sends
/// it as `/?name=NAME`, which the server answers with NAME's page, or with this page and
/// why the name cannot be one.
#[component]
fn OpenName(
    /// What was typed and why it was refused.
    refused: Option<FormOutcome>,
) -> impl IntoView {
    let (typed, error) = match refused {
        Some(outcome) => (outcome.name, Some(outcome.error)),
        None => (String::new(), None),
    };
    let failed = error.is_some();
    view! {
        <section class="open-name" aria-labelledby="openNameTitle">
            <h2 id="openNameTitle">{words().open_name}</h2>
            // `data-ready`: there is no script to wait for; scripts and tests may type at once.
            <form method="get" action="/" data-ready="true">
                <label for="name">{words().pick_name}</label>
                <input
                    id="name"
                    name="name"
                    type="text"
                    required
                    maxlength="64"
                    autocomplete="nickname"
                    autocapitalize="none"
                    value=typed
                    autofocus=failed
                    aria-invalid=failed.then_some("true")
                    aria-describedby=failed.then_some("nameError")
                />
                <small>{words().name_rule}</small>
                <button type="submit">{words().open}</button>
                <p id="nameError" class="error" role=failed.then_some("alert")>
                    {error}
                </p>
            </form>
            <p class="hint">{words().open_name_hint}</p>
        </section>
    }
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
