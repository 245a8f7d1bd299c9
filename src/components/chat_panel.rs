//! `#chat`: the open conversation's messages (`#messages`, oldest at the top, older ones
//! fetched when scrolled to the top) and the line to write in. Text is always shown as
//! text: Leptos puts it in text nodes, so markup in a message is never parsed.

use super::{Holds, TextField};
use crate::chat_view::{ChatAction, ChatView, Line, conversation_key};
use crate::protocol::{ChatKind, Conversation};
use crate::text;
use leptos::html::Ol;
use leptos::prelude::*;

/// How close to the top (in pixels) a scroll fetches older messages.
const NEAR_TOP: i32 = 40;

#[component]
pub fn ChatPanel(chat: ChatView, act: Callback<ChatAction>, me: String) -> impl IntoView {
    let draft = RwSignal::new(String::new());
    let newcomers = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act.run(ChatAction::AddMembers(newcomers.get_untracked()));
        newcomers.set(String::new());
    };
    let not_group = move || !matches!(chat.open.get(), Some(Conversation::Group(_)));
    let list = NodeRef::<Ol>::new();
    let send = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = draft.get_untracked();
        if text.trim().is_empty() {
            return;
        }
        act.run(ChatAction::Send(text));
        draft.set(String::new());
    };
    let title = move || match chat.open.get() {
        None => String::new(),
        Some(Conversation::User(name)) => text::chat_with(name.as_str()),
        Some(Conversation::Group(group)) => {
            let members = chat.threads.with(|threads| {
                threads
                    .iter()
                    .find(|t| t.conversation == Conversation::Group(group.clone()))
                    .map_or(0, |t| t.members.len())
            });
            text::group_title(group.as_str(), members)
        }
    };
    // Follow the newest message as it arrives (not when older ones are put on top).
    let newest = Memo::new(move |_| chat.lines.with(|lines| lines.last().map(Line::render_key)));
    Effect::new(move |_| {
        newest.track();
        if let Some(list) = list.get() {
            list.set_scroll_top(list.scroll_height());
        }
    });
    let on_scroll = move |_| {
        if let Some(list) = list.get_untracked()
            && list.scroll_top() < NEAR_TOP
            && chat.more.get_untracked()
        {
            act.run(ChatAction::Older);
        }
    };
    view! {
        <section
            id="chat"
            data-conversation=move || chat.open.get().as_ref().map(conversation_key).unwrap_or_default()
        >
            <h2 id="chatTitle">{title}</h2>
            <form class="add-members" on:submit=add hidden=not_group>
                <TextField id="groupAddName" label=text::ADD_MEMBERS value=newcomers holds=Holds::Names />
                <button id="groupAdd" type="submit">{text::ADD}</button>
            </form>
            <p class="hint" hidden=move || chat.open.with(Option::is_some)>{text::PICK_CONVERSATION}</p>
            // A live region of its own around the list: `role="log"` on the list itself
            // would hide that its items are list items.
            <div class="log" role="log" aria-live="polite" aria-label=text::MESSAGES>
                <ol id="messages" node_ref=list on:scroll=on_scroll>
                    <For each=move || chat.lines.get() key=Line::render_key let(line)>
                        <ChatLine line me=me.clone() />
                    </For>
                </ol>
            </div>
            <p id="chatError" role="alert">{move || chat.error.get()}</p>
            <form class="compose" on:submit=send hidden=move || chat.open.with(Option::is_none)>
                <TextField id="chatInput" label=text::WRITE value=draft holds=Holds::Prose />
                <button id="chatSend" type="submit" class="go">{text::SEND}</button>
            </form>
        </section>
    }
}

#[component]
fn ChatLine(line: Line, me: String) -> impl IntoView {
    let kind = match line.kind {
        ChatKind::MissedCall => "missed_call",
        _ => "text",
    };
    let body = match line.kind {
        ChatKind::MissedCall => text::missed_call_line(line.reason, &line.from, &me),
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
