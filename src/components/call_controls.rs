//! The name to call and the buttons; each is shown only in the phase where it applies.
//! A ring takes the keyboard: focus moves to *Accept*, and *Escape* declines.

use super::{Holds, TextField};
use crate::phone::{Action, Phase, PhoneView};
use crate::text::words;
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
    // When a ring or call changes phase, the keyboard goes to the button that matters now:
    // Accept when it rings (unless someone is typing: their next Enter would answer), and
    // otherwise whenever the button that had focus was just hidden. Not as the page starts
    // or reconnects. Effects run only in the browser.
    Effect::new(move |before: Option<Phase>| {
        let now = view.phase.get();
        if matches!(before, None | Some(Phase::Connecting)) {
            return now;
        }
        let button = match now {
            Phase::Idle => call_button,
            Phase::OpeningCamera | Phase::RingingOut => cancel,
            Phase::RingingIn => accept,
            Phase::InCall => hang_up,
            Phase::Connecting | Phase::Closed => return now,
        };
        // After the next frame: a button just shown takes focus only once it is drawn, and
        // a hidden one has lost it by then.
        request_animation_frame(move || {
            let active = document().active_element();
            // `None`: nothing has focus; else whether the focused element is drawn, and a text field.
            let focused = active.map(|el| {
                let shown = el.closest("[hidden]").ok().flatten().is_none();
                let field = matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA");
                (shown && el.tag_name() != "BODY", field && shown)
            });
            let typing = focused.is_some_and(|(_, field)| field);
            let lost = focused.is_none_or(|(drawn, _)| !drawn);
            let take = if now == Phase::RingingIn {
                !typing
            } else {
                lost
            };
            if take && let Some(button) = button.get_untracked() {
                let _ = button.focus();
            }
        });
        now
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
            <TextField id="toUser" label={words().to_user} value=to_user holds=Holds::Names />
            <button id="call" type="submit" class="go" node_ref=call_button>{words().call}</button>
            <button id="openChat" type="button" on:click=move |_| open_chat.run(to_user.get_untracked())>
                {words().message}
            </button>
        </form>
        <div class="ring" hidden=not_in(Phase::RingingIn)>
            <button id="accept" type="button" class="go" node_ref=accept on:click=move |_| act.run(Action::Accept)>
                {words().accept}
            </button>
            <button id="decline" type="button" class="stop" on:click=move |_| act.run(Action::Decline)>
                {words().decline}
            </button>
        </div>
        <button id="cancel" type="button" class="stop" node_ref=cancel hidden=not_cancellable on:click=move |_| act.run(Action::Cancel)>
            {words().cancel}
        </button>
        <button id="hangup" type="button" class="stop" node_ref=hang_up hidden=not_in(Phase::InCall) on:click=move |_| act.run(Action::HangUp)>
            {words().hang_up}
        </button>
        <p class="relay">
            <button id="relayTest" type="button" on:click=move |_| act.run(Action::CheckRelay)>
                {words().relay_check}
            </button>
            <span id="relayResult" role="status" data-result=move || view.relay.get().as_str()>
                {move || view.relay.get().message()}
            </span>
        </p>
    }
}
