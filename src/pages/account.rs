//! `/account`: the signed-in person's browsers (each can be signed out), their password,
//! and invite links. Every change is a plain form post the server answers with this page
//! again. Hooks: `#sessions` (an `li` per session with `data-session`, and
//! `data-current="true"` on this browser's, each with a `button.revoke`),
//! `#currentPassword`, `#newPassword`, `#changePassword`, `#passwordError`,
//! `#passwordChanged`, `#invite`, `#inviteUrl`, `#copyInvite`.

use crate::account::{AccountView, Form, SessionView, paths};
use crate::components::{AccountBar, SignInForm};
use crate::text::{self, words};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let visit = super::visit();
    let page_title = format!("{} · {}", words().account_title, text::APP_NAME);
    // The server sends a browser that is not signed in to the home page's sign-in; were it
    // to render this page for one, the page signs in right here.
    let body = match (visit.signed_in.clone(), visit.account.clone()) {
        (Some(name), Some(account)) => {
            let password_error = visit
                .outcome
                .filter(|o| o.form == Form::Password)
                .map(|o| o.error);
            Either::Left(view! {
                <AccountBar name />
                <h1>{words().account_title}</h1>
                <Account account password_error />
            })
        }
        _ => Either::Right(view! {
            <h1>{words().account_title}</h1>
            <p class="hint">{words().not_signed_in}</p>
            <SignInForm next=Some(paths::ACCOUNT.to_owned()) focus=true />
        }),
    };
    view! {
        <Title text=page_title />
        <section class="account">{body}</section>
    }
}

#[component]
fn Account(account: AccountView, password_error: Option<String>) -> impl IntoView {
    let admin = account
        .admin
        .then(|| view! { <p class="hint">{words().admin}</p> });
    view! {
        {admin}
        <section aria-labelledby="sessionsTitle">
            <h2 id="sessionsTitle">{words().sessions}</h2>
            <p class="hint">{words().sessions_hint}</p>
            <ul id="sessions" class="sessions">
                {account
                    .sessions
                    .into_iter()
                    .map(|session| view! { <Session session /> })
                    .collect_view()}
            </ul>
        </section>
        <PasswordForm changed=account.password_changed error=password_error />
        <Invite url=account.invite_url />
    }
}

/// One signed-in browser, with its *Sign out*.
#[component]
fn Session(session: SessionView) -> impl IntoView {
    let SessionView {
        id,
        device,
        created,
        last_seen,
        current,
    } = session;
    let label = (words().revoke_label)(&device, current);
    let field = id.clone();
    let this = current.then(|| view! { <strong class="this">{words().this_browser}</strong> });
    view! {
        <li data-session=id data-current=current.then_some("true")>
            <div class="what">
                <span class="device">{device}</span>
                {this}
                <small>
                    {words().signed_in_at} " " <time>{text::utc_time(created)}</time> ", "
                    {words().last_seen} " " <time>{text::utc_time(last_seen)}</time>
                </small>
            </div>
            <form method="post" action=paths::REVOKE>
                <input type="hidden" name="session" value=field />
                <button class="revoke" type="submit" aria-label=label>
                    {words().revoke}
                </button>
            </form>
        </li>
    }
}

#[component]
fn PasswordForm(changed: bool, error: Option<String>) -> impl IntoView {
    let failed = error.is_some();
    let describe_new = if failed {
        "newPasswordRule passwordError"
    } else {
        "newPasswordRule"
    };
    view! {
        <form class="account-form" method="post" action=paths::PASSWORD aria-labelledby="passwordTitle">
            <h2 id="passwordTitle">{words().change_password}</h2>
            {changed
                .then(|| {
                    view! {
                        <p id="passwordChanged" class="done" role="status">
                            {words().password_changed}
                        </p>
                    }
                })}
            <label for="currentPassword">{words().current_password}</label>
            <input
                id="currentPassword"
                name="current"
                type="password"
                required
                autocomplete="current-password"
                autofocus=failed
                aria-invalid=failed.then_some("true")
                aria-describedby=failed.then_some("passwordError")
            />
            <label for="newPassword">{words().new_password}</label>
            <input
                id="newPassword"
                name="new"
                type="password"
                required
                minlength="8"
                autocomplete="new-password"
                aria-describedby=describe_new
            />
            <small id="newPasswordRule">
                {words().new_password_rule} " " {words().change_password_hint}
            </small>
            <button id="changePassword" type="submit">
                {words().change_password}
            </button>
            // Only a refusal is an alert (the server renders it with the page, which a screen
            // reader then reads first); the empty line is just a place for it.
            <p id="passwordError" class="error" role=failed.then_some("alert")>
                {error}
            </p>
        </form>
    }
}

/// *Invite*, and the link it just made (shown this once: the server keeps only its hash).
#[component]
fn Invite(url: Option<String>) -> impl IntoView {
    let made = url.map(|url| view! { <InviteLink url /> });
    view! {
        <form class="account-form" method="post" action=paths::INVITE aria-labelledby="inviteTitle">
            <h2 id="inviteTitle">{words().invite_title}</h2>
            <p class="hint">{words().invite_hint}</p>
            <button id="invite" type="submit">
                {words().invite}
            </button>
        </form>
        {made}
    }
}

/// The link, selectable as text, and a *Copy* button. The page loads no WASM: the button
/// is the one line of script it has, and says whether the browser let it copy (the
/// Clipboard API exists only on secure pages).
#[component]
fn InviteLink(url: String) -> impl IntoView {
    let copy = format!(
        "var s=document.getElementById('copyStatus');\
         navigator.clipboard.writeText(document.getElementById('inviteUrl').textContent)\
         .then(function(){{s.textContent={ok:?}}},function(){{s.textContent={failed:?}}})",
        ok = words().copied,
        failed = words().copy_failed,
    );
    view! {
        <div class="invite-link" role="group" aria-labelledby="inviteMade">
            <p id="inviteMade">{words().invite_made}</p>
            <code id="inviteUrl">{url.clone()}</code>
            <button id="copyInvite" type="button" onclick=copy>
                {words().copy}
            </button>
            <p id="copyStatus" class="hint" role="status"></p>
        </div>
    }
}
