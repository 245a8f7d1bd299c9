//! `/webrtc/NAME.html`: NAME's call page, the original demo's URL.

use crate::account::Visit;
use crate::chat_view::{ChatAction, ChatView};
use crate::components::{CallControls, ChatPanel, People, SignOutButton, StatusLine, VideoTile};
use crate::phone::{Action, Phase, PhoneView};
use crate::protocol::UserName;
use crate::text::{self, words};
use leptos::either::EitherOf3;
use leptos::prelude::*;
use leptos_meta::Title;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What a name's path segment escapes: everything but ASCII letters, digits and the
/// punctuation names may hold, so `alice-2` stays readable and `张三` is UTF-8 escaped.
const NAME_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The page's path for `name`.
pub fn page_path(name: &UserName) -> String {
    let encoded = utf8_percent_encode(name.as_str(), NAME_SEGMENT);
    format!("/webrtc/{encoded}.html")
}

/// The user whose page `segment` (`NAME.html`, percent-encoded) is.
pub fn page_user(segment: &str) -> Result<UserName, crate::protocol::NameError> {
    let raw = segment.strip_suffix(".html").unwrap_or(segment);
    UserName::parse(&percent_decode_str(raw).decode_utf8_lossy())
}

/// The page of `/webrtc/SEGMENT`: the phone, or, when the server would not open its
/// socket to this browser, the sign-in form (and no socket).
#[component]
pub fn CallPage(segment: String) -> impl IntoView {
    let visit = super::visit();
    match page_user(&segment) {
        Ok(name) if visit.gate => EitherOf3::A(gate(name, visit)),
        Ok(name) => {
            // The account bar only on the signed-in person's own page: on an open name's
            // page it would read as if that name were theirs.
            let signed_in = visit.signed_in.as_deref() == Some(name.as_str());
            EitherOf3::B(view! { <Phone name signed_in /> })
        }
        // The server answers a bad name with 400 and never renders this; were it to, the page
        // says why rather than panic.
        Err(why) => EitherOf3::C(view! { <p class="notice">{(words().bad_name)(&why)}</p> }),
    }
}

/// The gate of a call page this browser may not open; only the server renders it (such a
/// page loads no script).
#[cfg(feature = "ssr")]
fn gate(name: UserName, visit: Visit) -> impl IntoView {
    view! { <super::gate::Gate name visit /> }
}

#[cfg(not(feature = "ssr"))]
fn gate(_: UserName, _: Visit) -> impl IntoView {}

/// The call page of a signed-in user: the call on one side, chat and people beside it.
#[component]
fn Phone(
    name: UserName,
    /// This browser is signed in as `name`: the header links to the account and signs out.
    signed_in: bool,
) -> impl IntoView {
    let view = PhoneView::new();
    let chat = ChatView::new();
    let local = NodeRef::new();
    let remote = NodeRef::new();
    let to_user = RwSignal::new(String::new());
    let (actions, requests) = futures::channel::mpsc::unbounded::<Action>();
    let (chat_actions, chat_requests) = futures::channel::mpsc::unbounded::<ChatAction>();
    #[cfg(feature = "hydrate")]
    crate::client::start(
        name.clone(),
        crate::client::Views { phone: view, chat },
        crate::client::Screens { local, remote },
        requests,
        chat_requests,
    );
    #[cfg(not(feature = "hydrate"))]
    drop((requests, chat_requests));
    // Leaving the page drops the last senders: the controller then hangs up and closes.
    let act = Callback::new(move |action: Action| {
        let _ = actions.unbounded_send(action);
    });
    let chat_act = Callback::new(move |action: ChatAction| {
        let _ = chat_actions.unbounded_send(action);
    });
    let open_chat = Callback::new(move |typed: String| chat_act.run(ChatAction::OpenNamed(typed)));
    let phase = move || view.phase.get().as_str();
    // While it rings, the tab says who calls, so a ring in a background tab is seen.
    let page_title = format!("{name} · {}", text::APP_NAME);
    let title = move || match (view.phase.get(), view.peer.get()) {
        (Phase::RingingIn, Some(from)) => (words().ring_title)(&from),
        _ => page_title.clone(),
    };
    let remote_label = move || view.peer.get().unwrap_or_default();
    let local_label = move || {
        if view.audio_only.get() {
            words().you_audio_only.to_owned()
        } else {
            words().you.to_owned()
        }
    };
    view! {
        <Title text=title />
        <section class="phone" data-phase=phase>
            <header>
                <strong class="brand">{text::APP_NAME}</strong>
                <span class="me">{name.to_string()}</span>
                {signed_in
                    .then(|| {
                        view! {
                            <nav class="account-links" aria-label={words().account}>
                                <a id="accountLink" href=crate::account::paths::ACCOUNT>
                                    {words().account}
                                </a>
                                <SignOutButton />
                            </nav>
                        }
                    })}
            </header>
            <StatusLine view />
            <div class="room">
                <div class="call">
                    <div class="stage">
                        <VideoTile id="remoteVideo" node_ref=remote muted=false label=Signal::derive(remote_label) />
                        <VideoTile id="localVideo" node_ref=local muted=true label=Signal::derive(local_label) />
                    </div>
                    <CallControls view act to_user open_chat />
                </div>
                <ChatPanel chat act=chat_act me=name.to_string() />
                <People chat act=chat_act to_user />
            </div>
        </section>
    }
}
