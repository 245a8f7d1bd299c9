//! `/i/TOKEN`: an invite link. The sign-up form carrying the token (sign-up may be closed
//! to everyone else), with the name filled in and fixed when the invite is for one; or why
//! the link cannot be used. Hooks: the sign-up form's, and `#inviteRefused`.

use crate::account::{Form, InviteView};
use crate::components::{AccountBar, SignUpForm};
use crate::text::{self, words};
use leptos::either::Either;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn InvitePage(
    /// From the path; the server's [`InviteView`] has the same one.
    token: String,
) -> impl IntoView {
    let visit = super::visit();
    let invite = visit.invite.clone().unwrap_or(InviteView {
        token,
        name: None,
        refused: None,
    });
    let page_title = format!("{} · {}", words().invited, text::APP_NAME);
    let signed_in = visit
        .signed_in
        .clone()
        .map(|name| view! { <AccountBar name /> });
    let body = match invite.refused {
        Some(why) => Either::Left(view! {
            <h1>{words().invite_refused}</h1>
            <p id="inviteRefused" class="error" role="alert">
                {why}
            </p>
            <a href="/">{words().home}</a>
        }),
        None => {
            let outcome = visit.outcome.filter(|o| o.form == Form::SignUp);
            let pinned = invite.name.is_some();
            let pinned_hint = invite
                .name
                .as_deref()
                .map(|name| view! { <p class="hint">{(words().invited_as)(name)}</p> });
            let name = invite
                .name
                .clone()
                .or_else(|| outcome.as_ref().map(|o| o.name.clone()))
                .unwrap_or_default();
            Either::Right(view! {
                <h1>{words().invited}</h1>
                <p class="tagline">{words().invited_hint}</p>
                {pinned_hint}
                <SignUpForm
                    name
                    invite=Some(invite.token)
                    pinned
                    focus=true
                    error=outcome.map(|o| o.error)
                />
            })
        }
    };
    view! {
        <Title text=page_title />
        <section class="home invite">{signed_in} {body}</section>
    }
}
