//! `#chat`: the open conversation's messages (`#messages`, oldest at the top, older ones
//! fetched when scrolled to the top) and the box to write in. Text is always shown as
//! text: Leptos puts it in text nodes, so markup in a message is never parsed. The list
//! keeps the reader's place as lines come and go (`client/chat_scroll.rs`).

use super::{Holds, TextField};
use crate::chat_view::{ChatAction, ChatView, Line, conversation_key};
use crate::protocol::{ChatKind, Conversation};
use crate::text::words;
use leptos::html::Ol;
use leptos::prelude::*;

#[component]
pub fn ChatPanel(chat: ChatView, act: Callback<ChatAction>, me: String) -> impl IntoView {
    let draft = chat.draft;
    let newcomers = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act.run(ChatAction::AddMembers(newcomers.get_untracked()));
        newcomers.set(String::new());
    };
    let not_group = move || !matches!(chat.open.get(), Some(Conversation::Group(_)));
    let list = NodeRef::<Ol>::new();
    // The controller empties the box once it takes the message; one it refuses (too long)
    // stays there to be shortened.
    let send_draft = move || {
        let text = draft.get_untracked();
        if !text.trim().is_empty() {
            act.run(ChatAction::Send(text));
        }
    };
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        send_draft();
    };
    // Enter sends, Shift+Enter starts a new line; Enter that ends an IME composition
    // (Chinese, Japanese input) only picks the characters.
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send_draft();
        }
    };
    let title = move || match chat.open.get() {
        None => String::new(),
        Some(Conversation::User(name)) => (words().chat_with)(name.as_str()),
        Some(Conversation::Group(group)) => {
            let members = chat.threads.with(|threads| {
                threads
                    .iter()
                    .find(|t| t.conversation == Conversation::Group(group.clone()))
                    .map_or(0, |t| t.members.len())
            });
            (words().group_title)(group.as_str(), members)
        }
    };
    // After the lines change (effects run once the list shows them), put the reader where
    // they belong.
    #[cfg(feature = "hydrate")]
    let place = StoredValue::new_local(crate::client::ListPlace::default());
    #[cfg(feature = "hydrate")]
    {
        let me = me.clone();
        Effect::new(move |_| {
            let open = chat.open.get();
            let (newest, from_me) = chat.lines.with(|lines| match lines.last() {
                Some(line) => (identity(line), line.from == me),
                None => (None, false),
            });
            if let Some(list) = list.get() {
                place.update_value(|place| place.shown(&list, open, newest, from_me));
            }
        });
    }
    #[cfg(feature = "hydrate")]
    let on_scroll = move |_: leptos::ev::Event| {
        if let Some(list) = list.get_untracked() {
            let more = chat.more.get_untracked();
            let at_top = place
                .try_update_value(|place| place.scrolled(&list, more))
                .unwrap_or(false);
            if at_top && more {
                act.run(ChatAction::Older);
            }
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_scroll = |_: leptos::ev::Event| {};
    view! {
        <section
            id="chat"
            data-conversation=move || chat.open.get().as_ref().map(conversation_key).unwrap_or_default()
        >
            <h2 id="chatTitle">{title}</h2>
            <form class="add-members" on:submit=add hidden=not_group>
                <TextField id="groupAddName" label={words().add_members} value=newcomers holds=Holds::Names />
                <button id="groupAdd" type="submit">{words().add}</button>
            </form>
            <p class="hint" hidden=move || chat.open.with(Option::is_some)>{words().pick_conversation}</p>
            // A live region of its own around the list: `role="log"` on the list itself
            // would hide that its items are list items.
            <div class="log" role="log" aria-live="polite" aria-label={words().messages}>
                <ol id="messages" node_ref=list on:scroll=on_scroll>
                    <For each=move || chat.lines.get() key=Line::render_key let(line)>
                        <ChatLine line me=me.clone() />
                    </For>
                </ol>
            </div>
            <p id="chatError" role="alert">{move || chat.error.get()}</p>
            <form class="compose" on:submit=send hidden=move || chat.open.with(Option::is_none)>
                <label for="chatInput" class="visually-hidden">{words().write}</label>
                <textarea
                    id="chatInput"
                    rows="2"
                    placeholder={words().write}
                    autocomplete="off"
                    autocapitalize="sentences"
                    enterkeyhint="send"
                    bind:value=draft
                    on:keydown=on_key
                ></textarea>
                <button id="chatSend" type="submit" class="go">{words().send}</button>
            </form>
        </section>
    }
}

/// Which message `line` is, whatever its state.
#[cfg(feature = "hydrate")]
fn identity(line: &Line) -> Option<String> {
    line.client_id
        .clone()
        .or_else(|| line.id.map(|id| id.to_string()))
}

#[component]
fn ChatLine(line: Line, me: String) -> impl IntoView {
    let kind = match line.kind {
        ChatKind::MissedCall => "missed_call",
        _ => "text",
    };
    let body = match line.kind {
        ChatKind::MissedCall => (words().missed_call_line)(line.reason, &line.from, &me),
        _ => line.text.clone(),
    };
    let mine = line.from == me;
    view! {
        <li
            class:mine=mine
            data-id=line.id.map(|id| id.to_string()).unwrap_or_default()
            data-from=line.from.clone()
            data-state=line.state.as_str()
            data-kind=kind
        >
            <span class="from">{line.from.clone()}</span>
            <time>{line.time.clone()}</time>
            <span class="text">{body}</span>
            <span class="state" hidden=!mine>{line.state.as_str()}</span>
        </li>
    }
}
