//! `#status`: the status line, with `data-phase`, `data-reason` and `data-socket`
//! (`open` / `reconnecting`) for scripts and tests.

use crate::phone::{Ended, PhoneView};
use leptos::prelude::*;

#[component]
pub fn StatusLine(view: PhoneView) -> impl IntoView {
    view! {
        <p
            id="status"
            role="status"
            aria-live="polite"
            data-phase=move || view.phase.get().as_str()
            data-reason=move || view.ended.get().map(Ended::as_str).unwrap_or_default()
            data-socket=move || if view.reconnecting.get() { "reconnecting" } else { "open" }
        >
            {move || view.status.get()}
        </p>
    }
}
