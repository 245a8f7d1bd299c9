//! The sign-in form: a plain HTML form posted to `/signin`, which answers with a redirect
//! (signed in) or this page again with the error, so it works before and without the
//! page's script. Hooks: `#signinName`, `#signinPassword`, `#signinKeep`,
//! `#signinSubmit`, `#signinError`.

use crate::account::paths;
use crate::text::words;
use leptos::prelude::*;

#[component]
pub fn SignInForm(
    /// Filled in: the name typed before, or the call page's own.
    #[prop(optional, into)]
    name: String,
    /// Where to go once signed in (a path on this server).
    #[prop(default = None)]
    next: Option<String>,
    /// Why the server refused the last try.
    #[prop(default = None)]
    error: Option<String>,
    /// Put the keyboard in the form as the page opens (on an error, or on a page that is
    /// only this form).
    #[prop(optional)]
    focus: bool,
) -> impl IntoView {
    let failed = error.is_some();
    // With the name known, the password is what is left to type.
    let focus_name = focus && name.is_empty();
    let focus_password = focus && !focus_name;
    view! {
        <form class="account-form" method="post" action=paths::SIGN_IN aria-labelledby="signinTitle">
            <h2 id="signinTitle">{words().sign_in}</h2>
            <label for="signinName">{words().name}</label>
            <input
                id="signinName"
                name="name"
                type="text"
                required
                maxlength="64"
                autocomplete="username"
                autocapitalize="none"
                spellcheck="false"
                value=name
                autofocus=focus_name
            />
            <label for="signinPassword">{words().password}</label>
            <input
                id="signinPassword"
                name="password"
                type="password"
                required
                autocomplete="current-password"
                autofocus=focus_password
                aria-invalid=failed.then_some("true")
                aria-describedby=failed.then_some("signinError")
            />
            <label class="check">
                <input id="signinKeep" name="keep" type="checkbox" checked />
                {words().keep}
            </label>
            {next.map(|next| view! { <input type="hidden" name="next" value=next /> })}
            <button id="signinSubmit" type="submit" class="go">
                {words().sign_in}
            </button>
            // Only a refusal is an alert (the server renders it with the page, which a screen
            // reader then reads first); the empty line is just a place for it.
            <p id="signinError" class="error" role=failed.then_some("alert")>
                {error}
            </p>
        </form>
    }
}
