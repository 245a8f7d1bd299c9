//! The side lists: who is online (`#online`, filterable: it may hold hundreds), the user's
//! one-to-one conversations (`#chats`) and groups (`#groups`), and the new-group form.
//! A click on a person fills the name to call and opens the conversation with them.

use super::{Holds, TextField};
use crate::chat_view::{ChatAction, ChatView};
use crate::protocol::{Conversation, Presence, UserName};
use crate::text;
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
    let chats = move || {
        chat.threads.with(|threads| {
            threads
                .iter()
                .filter_map(|t| match &t.conversation {
                    Conversation::User(name) => Some((name.clone(), t.unread)),
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
                    Conversation::Group(group) => Some((group.clone(), t.unread, t.members.len())),
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
            <h2>{text::ONLINE}</h2>
            <TextField id="onlineFilter" label=text::FILTER value=filter holds=Holds::Search />
            <ul id="online" class="list">
                <For each=shown key=|(name, state)| (name.clone(), *state) let((name, state))>
                    {
                        let unread = {
                            let conversation = Conversation::User(name.clone());
                            Signal::derive(move || chat.unread(&conversation))
                        };
                        let label = name.to_string();
                        let state_word = match state {
                            Presence::InCall => text::IN_A_CALL,
                            _ => "",
                        };
                        let data_state = match state {
                            Presence::InCall => "in_call",
                            _ => "available",
                        };
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
            <p class="hint" hidden=move || chat.online.with(|o| !o.is_empty())>{text::NOBODY_ONLINE}</p>

            <h2>{text::CHATS}</h2>
            <ul id="chats" class="list">
                <For each=chats key=|pair| pair.clone() let((name, unread))>
                    {
                        let who = name.clone();
                        view! {
                            <li data-chat=name.to_string() data-unread=unread.to_string() on:click=move |_| open_user(who.clone())>
                                <button type="button">{name.to_string()}</button>
                                <Badge count=Signal::derive(move || unread) />
                            </li>
                        }
                    }
                </For>
            </ul>

            <h2>{text::GROUPS}</h2>
            <ul id="groups" class="list">
                <For each=groups key=|entry| entry.clone() let((group, unread, _members))>
                    {
                        let which = group.clone();
                        view! {
                            <li
                                data-group=group.to_string()
                                data-unread=unread.to_string()
                                on:click=move |_| act.run(ChatAction::Open(Conversation::Group(which.clone())))
                            >
                                <button type="button">{group.to_string()}</button>
                                <Badge count=Signal::derive(move || unread) />
                            </li>
                        }
                    }
                </For>
            </ul>
            <form class="new-group" on:submit=create>
                <TextField id="groupName" label=text::GROUP_NAME value=group_name holds=Holds::Prose />
                <TextField id="groupMembers" label=text::GROUP_MEMBERS value=group_members holds=Holds::Names />
                <button id="groupCreate" type="submit">{text::CREATE_GROUP}</button>
            </form>
        </aside>
    }
}

/// An unread count, hidden at zero.
#[component]
fn Badge(count: Signal<u32>) -> impl IntoView {
    view! {
        <span class="badge" hidden=move || count.get() == 0>{move || count.get()}</span>
    }
}
