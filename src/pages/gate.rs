//! The sign-in form a call page shows in place of the phone when this browser may not
//! open it (the name is claimed, or names are closed). Server only: such a page loads no
//! script.

use super::call::page_path;
use crate::account::{Form, Visit};
use crate::components::SignInForm;
use crate::protocol::UserName;
use crate::text::{self, words};
use leptos::prelude::*;
use leptos_meta::Title;

/// A call page this browser may not open: why, and the sign-in form with the name filled
/// in, which comes back here.
#[component]
pub fn Gate(name: UserName, visit: Visit) -> impl IntoView {
    let outcome = visit.outcome.filter(|o| o.form == Form::SignIn);
    // The name typed in a failed try, else the page's own.
    let typed = outcome
        .as_ref()
        .map(|o| o.name.clone())
        .unwrap_or_else(|| name.to_string());
    let next = visit.next.unwrap_or_else(|| page_path(&name));
    let why = if visit.open_names {
        (words().gate)(name.as_str())
    } else {
        words().gate_closed_names.to_owned()
    };
    let other = visit
        .signed_in
        .map(|other| view! { <p class="hint">{(words().gate_other)(&other)}</p> });
    let page_title = format!("{name} · {}", text::APP_NAME);
    view! {
        <Title text=page_title />
        <section class="gate">
            <header>
                <a class="brand" href="/">
                    {text::APP_NAME}
                </a>
                <span class="me">{name.to_string()}</span>
            </header>
            <p id="gate" class="notice-line">
                {why}
            </p>
            {other}
            <SignInForm name=typed next=Some(next) focus=true error=outcome.map(|o| o.error) />
        </section>
    }
}
