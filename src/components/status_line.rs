//! `#status`: the status line, with `data-phase` and `data-reason` for scripts and tests.

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
        >
            {move || view.status.get()}
        </p>
    }
}
