//! The side lists: who is online (`#online`, filterable: it may hold hundreds), the user's
//! one-to-one conversations (`#chats`) and groups (`#groups`), and the new-group form.
//! A click on a person fills the name to call and opens the conversation with them.

use super::{Holds, TextField};
use crate::chat_view::{ChatAction, ChatView};
use crate::protocol::{Conversation, Presence, UserName};
use crate::text::words;
use leptos::prelude::*;

#[component]
pub fn People(
    chat: ChatView,
    act: Callback<ChatAction>,
    to_user: RwSignal<String>,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let shown = move || {
        let needle = filter.get().to_lowercase();
        chat.online.with(|online| {
            online
                .iter()
                .filter(|(name, _)| {
                    needle.is_empty() || name.as_str().to_lowercase().contains(&needle)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let open_user = move |name: UserName| {
        to_user.set(name.to_string());
        act.run(ChatAction::Open(Conversation::User(name)));
    };
    // Rows are keyed by who or which group alone: an unread count that changes updates
    // its row in place, so a row with keyboard focus keeps it.
    let chats = move || {
        chat.threads.with(|threads| {
            threads
                .iter()
                .filter_map(|t| match &t.conversation {
                    Conversation::User(name) => Some(name.clone()),
                    Conversation::Group(_) => None,
                })
                .collect::<Vec<_>>()
        })
    };
    let groups = move || {
        chat.threads.with(|threads| {
            threads
                .iter()
                .filter_map(|t| match &t.conversation {
                    Conversation::Group(group) => Some(group.clone()),
                    Conversation::User(_) => None,
                })
                .collect::<Vec<_>>()
        })
    };
    let group_name = RwSignal::new(String::new());
    let group_members = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        act.run(ChatAction::CreateGroup {
            name: group_name.get_untracked(),
            members: group_members.get_untracked(),
        });
        group_name.set(String::new());
        group_members.set(String::new());
    };
    view! {
        <aside class="people">
            <h2>{words().online}</h2>
            <TextField id="onlineFilter" label={words().filter} value=filter holds=Holds::Search />
            <ul id="online" class="list">
                <For each=shown key=|(name, _)| name.clone() let((name, _))>
                    {
                        let unread = {
                            let conversation = Conversation::User(name.clone());
                            Signal::derive(move || chat.unread(&conversation))
                        };
                        let label = name.to_string();
                        let in_call = {
                            let name = name.clone();
                            Signal::derive(move || {
                                chat.online.with(|online| {
                                    online.iter().any(|(n, state)| n == &name && *state == Presence::InCall)
                                })
                            })
                        };
                        let state_word = move || if in_call.get() { words().in_a_call } else { "" };
                        let data_state = move || if in_call.get() { "in_call" } else { "available" };
                        let who = name.clone();
                        view! {
                            <li
                                data-user=name.to_string()
                                data-state=data_state
                                data-unread=move || unread.get().to_string()
                                on:click=move |_| open_user(who.clone())
                            >
                                <button type="button">{label}</button>
                                <small>{state_word}</small>
                                <Badge count=unread />
                            </li>
                        }
                    }
                </For>
            </ul>
            <p class="hint" hidden=move || chat.online.with(|o| !o.is_empty())>{words().nobody_online}</p>

            <h2>{words().chats}</h2>
            <ul id="chats" class="list">
                <For each=chats key=|name| name.clone() let(name)>
                    {
                        let who = name.clone();
                        let unread = {
                            let conversation = Conversation::User(name.clone());
                            Signal::derive(move || chat.unread(&conversation))
                        };
                        view! {
                            <li
                                data-chat=name.to_string()
                                data-unread=move || unread.get().to_string()
                                on:click=move |_| open_user(who.clone())
                            >
                                <button type="button">{name.to_string()}</button>
                                <Badge count=unread />
                            </li>
                        }
                    }
                </For>
            </ul>

            <h2>{words().groups}</h2>
            <ul id="groups" class="list">
                <For each=groups key=|group| group.clone() let(group)>
                    {
                        let which = group.clone();
                        let unread = {
                            let conversation = Conversation::Group(group.clone());
                            Signal::derive(move || chat.unread(&conversation))
                        };
                        view! {
                            <li
                                data-group=group.to_string()
                                data-unread=move || unread.get().to_string()
                                on:click=move |_| act.run(ChatAction::Open(Conversation::Group(which.clone())))
                            >
                                <button type="button">{group.to_string()}</button>
                                <Badge count=unread />
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="new-group" on:submit=create>
                <TextField id="groupName" label={words().group_name} value=group_name holds=Holds::Prose />
                <TextField id="groupMembers" label={words().group_members} value=group_members holds=Holds::Names />
                <button id="groupCreate" type="submit">{words().create_group}</button>
            </form>
        </aside>
    }
}

/// An unread count, hidden at zero; a screen reader hears "3 unread".
#[component]
fn Badge(count: Signal<u32>) -> impl IntoView {
    view! {
        <span class="badge" hidden=move || count.get() == 0>
            {move || count.get()}
            <span class="visually-hidden">" " {words().unread}</span>
        </span>
    }
}
