//! The name to call and the buttons; each is shown only in the phase where it applies.
//! A ring takes the keyboard: focus moves to *Accept*, and *Escape* declines.

use super::{Holds, TextField};
use crate::phone::{Action, Phase, PhoneView};
use crate::text;
use leptos::html::Button;
use leptos::prelude::*;

#[component]
pub fn CallControls(
    view: PhoneView,
    act: Callback<Action>,
    /// The name field, shared with the presence list (a click on a person fills it).
    to_user: RwSignal<String>,
    /// *Message*: open the conversation with the typed name.
    open_chat: Callback<String>,
) -> impl IntoView {
    let not_in = move |phase: Phase| move || view.phase.get() != phase;
    let call = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act.run(Action::Call(to_user.get_untracked()));
    };
    let accept = NodeRef::<Button>::new();
    // Effects run only in the browser.
    Effect::new(move |_| {
        if view.phase.get() == Phase::RingingIn {
            // Once the buttons are shown (a hidden one takes no focus); not from someone
            // typing, whose next Enter would otherwise answer the call.
            request_animation_frame(move || {
                let typing = document().active_element().is_some_and(|el| {
                    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA")
                        && el.closest("[hidden]").ok().flatten().is_none()
                });
                if let Some(button) = accept.get_untracked()
                    && !typing
                {
                    let _ = button.focus();
                }
            });
        }
    });
    Effect::new(move |_| {
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.key() == "Escape" && view.phase.get_untracked() == Phase::RingingIn {
                act.run(Action::Decline);
            }
        });
        on_cleanup(move || keys.remove());
    });
    let not_cancellable =
        move || !matches!(view.phase.get(), Phase::OpeningCamera | Phase::RingingOut);
    view! {
        <form class="dial" on:submit=call hidden=not_in(Phase::Idle)>
            <TextField id="toUser" label=text::TO_USER value=to_user holds=Holds::Names />
            <button id="call" type="submit" class="go">{text::CALL}</button>
            <button id="openChat" type="button" on:click=move |_| open_chat.run(to_user.get_untracked())>
                {text::MESSAGE}
            </button>
        </form>
        <div class="ring" hidden=not_in(Phase::RingingIn)>
            <button id="accept" node_ref=accept type="button" class="go" on:click=move |_| act.run(Action::Accept)>
                {text::ACCEPT}
            </button>
            <button id="decline" type="button" class="stop" on:click=move |_| act.run(Action::Decline)>
                {text::DECLINE}
            </button>
        </div>
        <button id="cancel" type="button" class="stop" hidden=not_cancellable on:click=move |_| act.run(Action::Cancel)>
            {text::CANCEL}
        </button>
        <button id="hangup" type="button" class="stop" hidden=not_in(Phase::InCall) on:click=move |_| act.run(Action::HangUp)>
            {text::HANG_UP}
        </button>
        <p class="relay">
            <button id="relayTest" type="button" on:click=move |_| act.run(Action::CheckRelay)>
                {text::RELAY_CHECK}
            </button>
            <span id="relayResult" role="status" data-result=move || view.relay.get().as_str()>
                {move || view.relay.get().message()}
            </span>
        </p>
    }
}
