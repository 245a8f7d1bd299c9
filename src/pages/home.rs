//! `/`: pick a name and go to its call page.

use crate::protocol::UserName;
use crate::text;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

#[component]
pub fn HomePage() -> impl IntoView {
    let name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let open = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match UserName::parse(name.get_untracked().trim()) {
            Ok(name) => navigate(&crate::pages::call::page_path(&name), Default::default()),
            Err(why) => error.set(Some(text::bad_name(&why.to_string()))),
        }
    };
    view! {
        <section class="home">
            <h1>{text::APP_NAME}</h1>
            <p class="tagline">{text::TAGLINE}</p>
            <form on:submit=open>
                <label for="name">{text::PICK_NAME}</label>
                <input
                    id="name"
                    type="text"
                    required
                    maxlength="64"
                    autocomplete="nickname"
                    autocapitalize="none"
                    bind:value=name
                />
                <small>{text::NAME_RULE}</small>
                <button type="submit">{text::OPEN}</button>
                <p class="error" role="alert">{move || error.get()}</p>
            </form>
        </section>
    }
}
