//! The name to call and the buttons; each is shown only in the phase where it applies.

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
    let (call_button, accept, cancel, hang_up) = (
        NodeRef::<Button>::new(),
        NodeRef::<Button>::new(),
        NodeRef::<Button>::new(),
        NodeRef::<Button>::new(),
    );
    // A button pressed (or a ring) hides the one that had keyboard focus; the focus goes to
    // the button that matters in the new phase instead of back to the top of the page.
    Effect::new(move |before: Option<Phase>| {
        let now = view.phase.get();
        // Not as the page starts or reconnects: only when a ring or call changes phase.
        if matches!(before, None | Some(Phase::Connecting)) {
            return now;
        }
        let button = match now {
            Phase::Idle => call_button,
            Phase::RingingOut => cancel,
            Phase::RingingIn => accept,
            Phase::InCall => hang_up,
            Phase::Connecting | Phase::Closed => return now,
        };
        // Focus on the page itself, or on one of these controls (hidden a moment ago, or
        // pressed): the browser moves it off a hidden button only when it next draws.
        let focus_lost = document().active_element().is_none_or(|el| {
            el.tag_name() == "BODY"
                || [
                    "toUser", "call", "openChat", "accept", "decline", "cancel", "hangup",
                ]
                .contains(&el.id().as_str())
        });
        if focus_lost && let Some(button) = button.get_untracked() {
            let _ = button.focus();
        }
        now
    });
    view! {
        <form class="dial" on:submit=call hidden=not_in(Phase::Idle)>
            <TextField id="toUser" label=text::TO_USER value=to_user holds=Holds::Names />
            <button id="call" type="submit" class="go" node_ref=call_button>{text::CALL}</button>
            <button id="openChat" type="button" on:click=move |_| open_chat.run(to_user.get_untracked())>
                {text::MESSAGE}
            </button>
        </form>
        <div class="ring" hidden=not_in(Phase::RingingIn)>
            <button id="accept" type="button" class="go" node_ref=accept on:click=move |_| act.run(Action::Accept)>
                {text::ACCEPT}
            </button>
            <button id="decline" type="button" class="stop" on:click=move |_| act.run(Action::Decline)>
                {text::DECLINE}
            </button>
        </div>
        <button id="cancel" type="button" class="stop" node_ref=cancel hidden=not_in(Phase::RingingOut) on:click=move |_| act.run(Action::Cancel)>
            {text::CANCEL}
        </button>
        <button id="hangup" type="button" class="stop" node_ref=hang_up hidden=not_in(Phase::InCall) on:click=move |_| act.run(Action::HangUp)>
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
