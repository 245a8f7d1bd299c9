//! The sign-up form, posted to `/signup` like [`super::SignInForm`]: on the home page when
//! sign-up is open, and on an invite's page with its token. Hooks: `#signupName`,
//! `#signupPassword`, `#signupKeep`, `#signupSubmit`, `#signupError`.

use crate::account::paths;
use crate::text::words;
use leptos::prelude::*;

#[component]
pub fn SignUpForm(
    /// Filled in: the name typed before, or the one an invite is for.
    #[prop(optional, into)]
    name: String,
    /// An invite's token, sent with the form (sign-up may be closed to everyone else).
    #[prop(default = None)]
    invite: Option<String>,
    /// The invite is for `name` only: it cannot be changed.
    #[prop(optional)]
    pinned: bool,
    /// Why the server refused the last try.
    #[prop(default = None)]
    error: Option<String>,
    /// Put the keyboard in the form as the page opens.
    #[prop(optional)]
    focus: bool,
) -> impl IntoView {
    let failed = error.is_some();
    let focus_name = focus && !pinned;
    let focus_password = focus && pinned;
    let describe_name = if failed {
        "signupNameRule signupError"
    } else {
        "signupNameRule"
    };
    let describe_password = if failed {
        "signupPasswordRule signupError"
    } else {
        "signupPasswordRule"
    };
    view! {
        <form class="account-form" method="post" action=paths::SIGN_UP aria-labelledby="signupTitle">
            <h2 id="signupTitle">{words().sign_up}</h2>
            <label for="signupName">{words().name}</label>
            <input
                id="signupName"
                name="name"
                type="text"
                required
                maxlength="64"
                autocomplete="username"
                autocapitalize="none"
                spellcheck="false"
                value=name
                readonly=pinned
                autofocus=focus_name
                aria-invalid=(failed && !pinned).then_some("true")
                aria-describedby=describe_name
            />
            <small id="signupNameRule">{words().name_rule}</small>
            <label for="signupPassword">{words().password}</label>
            <input
                id="signupPassword"
                name="password"
                type="password"
                required
                minlength="8"
                autocomplete="new-password"
                autofocus=focus_password
                aria-describedby=describe_password
            />
            <small id="signupPasswordRule">{words().new_password_rule}</small>
            <label class="check">
                <input id="signupKeep" name="keep" type="checkbox" checked />
                {words().keep}
            </label>
            {invite.map(|token| view! { <input type="hidden" name="invite" value=token /> })}
            <button id="signupSubmit" type="submit" class="go">
                {words().sign_up}
            </button>
            // Only a refusal is an alert (the server renders it with the page, which a screen
            // reader then reads first); the empty line is just a place for it.
            <p id="signupError" class="error" role=failed.then_some("alert")>
                {error}
            </p>
        </form>
    }
}
