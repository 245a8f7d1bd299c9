//! Chat frames bounded in bytes. However many messages a page asks for or has waiting, and
//! however long each is, no frame chat builds is much over [`FRAME_BUDGET`]: an answer is
//! split into several frames (a catch-up), cut short with `more` (a history page), or has
//! its large parts sent apart (a conversation list's group members).

use crate::protocol::{ChatMessage, ConversationSummary, GroupName, UserName};
use serde::Serialize;

/// The most bytes one frame of messages or conversations is built to. A single message
/// larger than this (on a server whose `max_chat_chars` allows it) still goes, alone.
pub const FRAME_BUDGET: usize = 64 * 1024;

/// Room left in a frame for what surrounds the list: its type, route and conversation.
const ENVELOPE: usize = 1024;

/// The length of `value` as JSON, counted without keeping the text.
pub fn json_len<T: Serialize>(value: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Neither writing to a counter nor serialising a wire type can fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// How many of `messages`, from the first, fit in one frame: at least one, if any.
pub fn fitting(messages: &[ChatMessage]) -> usize {
    let mut bytes = 0;
    for (taken, message) in messages.iter().enumerate() {
        // The comma between two.
        bytes += json_len(message) + 1;
        if taken > 0 && bytes > FRAME_BUDGET - ENVELOPE {
            return taken;
        }
    }
    messages.len()
}

/// A sync's conversation list as one frame: the most recently active that fit, with the
/// members of those groups whose list still fits beside them; the other groups' members
/// go after it, each group in a `group` frame of its own (`max_group_members` bounds
/// those). Returns the list and those groups.
pub fn conversations(
    list: Vec<ConversationSummary>,
) -> (Vec<ConversationSummary>, Vec<(GroupName, Vec<UserName>)>) {
    let mut bytes = 0;
    let mut listed = Vec::with_capacity(list.len());
    let mut apart = Vec::new();
    let total = list.len();
    for mut summary in list {
        let members = std::mem::take(&mut summary.members);
        let base = json_len(&summary) + 1;
        if bytes + base > FRAME_BUDGET - ENVELOPE {
            tracing::debug!(
                listed = listed.len(),
                total,
                "a conversation list cut to one frame"
            );
            break;
        }
        bytes += base;
        let members_bytes = json_len(&members);
        if bytes + members_bytes <= FRAME_BUDGET - ENVELOPE {
            bytes += members_bytes;
            summary.members = members;
        } else if let crate::protocol::Conversation::Group(group) = &summary.conversation {
            apart.push((group.clone(), members));
        }
        listed.push(summary);
    }
    (listed, apart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{ChatKind, Conversation, Delivery};

    fn message(id: i64, text: &str) -> ChatMessage {
        ChatMessage {
            id,
            client_id: Some(format!("c{id}")),
            conversation: Conversation::User(UserName::parse("bob").unwrap()),
            from: UserName::parse("alice").unwrap(),
            at: 0,
            kind: ChatKind::Text,
            text: text.to_owned(),
            reason: None,
            state: Delivery::Sent,
        }
    }

    #[test]
    fn json_len_is_the_length_of_the_json() {
        let m = message(7, "quote \" and\ncontrol \u{1}");
        assert_eq!(json_len(&m), serde_json::to_string(&m).unwrap().len());
    }

    #[test]
    fn messages_fill_a_frame_and_a_huge_one_goes_alone() {
        let long = "x".repeat(4000);
        let lines: Vec<ChatMessage> = (0..30).map(|i| message(i, &long)).collect();
        let n = fitting(&lines);
        assert!((10..30).contains(&n), "{n} of 30 fit");
        let bytes: usize = lines[..n].iter().map(|m| json_len(m) + 1).sum();
        assert!(bytes <= FRAME_BUDGET - ENVELOPE, "{bytes}");
        let next = bytes + json_len(&lines[n]) + 1;
        assert!(next > FRAME_BUDGET - ENVELOPE, "one more would have fit");

        let huge = [message(1, &"y".repeat(FRAME_BUDGET)), message(2, "hi")];
        assert_eq!(fitting(&huge), 1);
        assert_eq!(fitting(&huge[1..]), 1);
        assert_eq!(fitting(&[]), 0);
    }

    #[test]
    fn group_members_that_do_not_fit_go_apart() {
        let members: Vec<UserName> = (0..3000)
            .map(|i| UserName::parse(&format!("member-{i:05}")).unwrap())
            .collect();
        let summary = |name: &str| ConversationSummary {
            conversation: Conversation::Group(GroupName::parse(name).unwrap()),
            members: members.clone(),
            unread: 0,
            last_id: None,
        };
        let (listed, apart) = conversations(vec![summary("a"), summary("b"), summary("c")]);
        assert_eq!(listed.len(), 3, "every conversation is listed");
        let kept: Vec<usize> = listed.iter().map(|s| s.members.len()).collect();
        assert_eq!(kept, vec![3000, 0, 0], "the first group's members fit");
        let names: Vec<&str> = apart.iter().map(|(g, _)| g.as_str()).collect();
        assert_eq!(names, vec!["b", "c"]);
        assert!(json_len(&listed) <= FRAME_BUDGET);
    }
}
