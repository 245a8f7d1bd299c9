//! Who is signed in, with the way to their call page, their account and out: at the top
//! of the pages a signed-in person sees. Hooks: `#myPage`, `#accountLink`, `#signout`.

use crate::account::paths;
use crate::protocol::UserName;
use crate::text::words;
use leptos::prelude::*;

#[component]
pub fn AccountBar(
    /// The name this browser is signed in as.
    name: String,
) -> impl IntoView {
    let page = UserName::parse(&name)
        .ok()
        .map(|user| crate::pages::page_path(&user));
    view! {
        <nav class="account-bar" aria-label={words().account}>
            <span class="who">{(words().signed_in_as)(&name)}</span>
            {page.map(|href| view! { <a id="myPage" href=href>{words().my_page}</a> })}
            <a id="accountLink" href=paths::ACCOUNT>{words().account}</a>
            <SignOutButton />
        </nav>
    }
}

/// `#signout`: a form, since signing out changes state on the server (a link could be
/// followed by a prefetch, or from another site).
#[component]
pub fn SignOutButton() -> impl IntoView {
    view! {
        <form class="inline" method="post" action=paths::SIGN_OUT>
            <button id="signout" type="submit">
                {words().sign_out}
            </button>
        </form>
    }
}
