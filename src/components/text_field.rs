//! A one-line text input bound to a signal, with a label screen readers read (the layout
//! shows the same words as its placeholder).

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
        <label for=id class="visually-hidden">{label}</label>
        <input
            id=id
            type=kind
            placeholder=label
            autocomplete="off"
            autocapitalize=capitalize
            bind:value=value
        />
    }
}
