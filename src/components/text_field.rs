//! A one-line text input bound to a signal, labelled by its placeholder for screen readers.

use leptos::prelude::*;

/// What a field holds, which decides how a phone keyboard helps with it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Holds {
    /// Free text: the keyboard capitalises sentences.
    Prose,
    /// User names: nothing capitalised (names are case-sensitive).
    Names,
    /// A filter over a list.
    Search,
}

#[component]
pub fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    holds: Holds,
) -> impl IntoView {
    let (kind, capitalize) = match holds {
        Holds::Prose => ("text", "sentences"),
        Holds::Names => ("text", "none"),
        Holds::Search => ("search", "none"),
    };
    view! {
        <input
            id=id
            type=kind
            placeholder=label
            aria-label=label
            autocomplete="off"
            autocapitalize=capitalize
            bind:value=value
        />
    }
}
