//! The hot path: `offer`, `answer` and `_ice`, which the two people in a call send each
//! other dozens of times per call. They are checked like any frame, but not rebuilt from a
//! decoded [`Message`](crate::protocol::Message): an SDP is passed through as the sender
//! wrote it (still JSON-escaped), a candidate's strings likewise, and only `type`,
//! `fromUser` and `toUser` are written around them by the server.
//!
//! Decoding a 5 KB offer into a `Message` and encoding it again cost a copy and an escape
//! pass of the whole SDP, several allocations, and all of it under the hub's lock; the relay
//! benchmark (`make bench`) showed it as duet's gap to a bare relay. The frame is read in
//! one pass: a candidate is checked as it is read, not captured raw and read again (that
//! second pass was a third of the server's instructions per `_ice`, counted by callgrind).

use crate::protocol::UserName;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The parts of a relayed frame the server reads; everything else is not relayed (as on
/// the general path, which ignores unknown fields).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(rename = "toUser", borrow, default)]
    to_user: Option<Text<'a>>,
    /// Replaced by the server, but it must still be a string, as on the general path.
    #[serde(rename = "fromUser", borrow, default)]
    #[allow(dead_code)]
    from_user: Option<Text<'a>>,
    #[serde(borrow, default)]
    sdp: Option<&'a RawValue>,
    #[serde(rename = "iceCandidate", borrow, default)]
    ice_candidate: Option<Candidate<'a>>,
}

/// A candidate with the fields [`IceCandidate`](crate::protocol::IceCandidate) decodes,
/// of the same types, plus the `usernameFragment` browsers write, which is passed on
/// (it tells the other side which ICE restart a candidate belongs to).
#[derive(Deserialize)]
struct Candidate<'a> {
    #[serde(borrow)]
    candidate: Cow<'a, str>,
    #[serde(rename = "sdpMid", borrow, default)]
    sdp_mid: Option<Text<'a>>,
    #[serde(rename = "sdpMLineIndex", default)]
    sdp_m_line_index: Option<u16>,
    #[serde(rename = "usernameFragment", borrow, default)]
    username_fragment: Option<Text<'a>>,
}

/// A string, borrowed from the frame where it can be. serde borrows a `Cow<str>` field
/// only when it is the field's whole type: inside an `Option` it always copies.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// A JSON string literal (the raw value is valid JSON: a string iff it starts with a quote).
fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// The inside of the JSON string literal for `text`, quotes left off. serde_json lends a
/// string only when the frame had no escape in it, and JSON forbids raw control
/// characters, so a lent string is already its own literal; only one it had to unescape
/// is escaped again.
fn literal(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(text) => Cow::Borrowed(text),
        Cow::Owned(text) => {
            let quoted = serde_json::to_string(&text).expect("a string always encodes");
            Cow::Owned(quoted[1..quoted.len() - 1].to_owned())
        }
    }
}

/// A well-formed `offer`, `answer` or `_ice`, borrowed from the frame it came in.
pub struct RelayFrame<'a> {
    kind: &'static str,
    to_user: Option<Cow<'a, str>>,
    payload: Payload<'a>,
}

enum Payload<'a> {
    /// The SDP as a JSON string literal, quotes and escapes included.
    Sdp(&'a RawValue),
    /// The candidate's strings as literals (see [`literal`]), checked.
    Ice {
        candidate: Cow<'a, str>,
        sdp_mid: Option<Cow<'a, str>>,
        sdp_m_line_index: Option<u16>,
        username_fragment: Option<Cow<'a, str>>,
    },
}

impl<'a> RelayFrame<'a> {
    /// The frame, if it is an `offer`, `answer` or `_ice` in the right shape. Anything
    /// else (another type, bad JSON, a missing or mistyped field) is `None`: the general
    /// path decodes it and answers with the precise error.
    pub fn parse(text: &'a str) -> Option<Self> {
        let head: Head<'a> = serde_json::from_str(text).ok()?;
        let (kind, payload) = match (head.kind.as_ref(), head.sdp, head.ice_candidate) {
            ("offer", Some(sdp), _) if is_string(sdp) => ("offer", Payload::Sdp(sdp)),
            ("answer", Some(sdp), _) if is_string(sdp) => ("answer", Payload::Sdp(sdp)),
            ("_ice", _, Some(ice)) => (
                "_ice",
                Payload::Ice {
                    candidate: literal(ice.candidate),
                    sdp_mid: ice.sdp_mid.map(|mid| literal(mid.0)),
                    sdp_m_line_index: ice.sdp_m_line_index,
                    username_fragment: ice.username_fragment.map(|fragment| literal(fragment.0)),
                },
            ),
            _ => return None,
        };
        Some(Self {
            kind,
            to_user: head.to_user.map(|to| to.0),
            payload,
        })
    }

    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The `toUser` the sender wrote, if any.
    pub fn to_user(&self) -> Option<&str> {
        self.to_user.as_deref()
    }

    /// The frame as `to` receives it, from `from`.
    pub fn text(&self, from: &UserName, to: &UserName) -> String {
        // A user name needs no JSON escaping: UserName::parse admits only letters, digits,
        // `_`, `-` and `.`.
        let mut parts = Parts::default();
        parts.extend([
            r#"{"type":""#,
            self.kind,
            r#"","fromUser":""#,
            from.as_str(),
            r#"","toUser":""#,
            to.as_str(),
        ]);
        let mut index = itoa::Buffer::new();
        match &self.payload {
            Payload::Sdp(sdp) => parts.extend([r#"","sdp":"#, sdp.get()]),
            Payload::Ice {
                candidate,
                sdp_mid,
                sdp_m_line_index,
                username_fragment,
            } => {
                parts.extend([
                    r#"","iceCandidate":{"candidate":""#,
                    candidate.as_ref(),
                    "\"",
                ]);
                if let Some(mid) = sdp_mid {
                    parts.extend([r#","sdpMid":""#, mid.as_ref(), "\""]);
                }
                if let Some(line) = sdp_m_line_index {
                    parts.extend([r#","sdpMLineIndex":"#, index.format(*line)]);
                }
                if let Some(fragment) = username_fragment {
                    parts.extend([r#","usernameFragment":""#, fragment.as_ref(), "\""]);
                }
                parts.extend(["}"]);
            }
        }
        parts.extend(["}"]);
        parts.concat()
    }
}

/// The pieces of one relayed frame, joined once their total length is known. A candidate
/// frame with every field has 22.
#[derive(Default)]
struct Parts<'s> {
    parts: [&'s str; 24],
    len: usize,
}

impl<'s> Parts<'s> {
    fn extend<const N: usize>(&mut self, more: [&'s str; N]) {
        self.parts[self.len..self.len + N].copy_from_slice(&more);
        self.len += N;
    }

    /// Exactly as long as it will be: the socket turns it into `Bytes`, which takes a
    /// string with no spare capacity as it is, and allocates again for one with some.
    fn concat(&self) -> String {
        let parts = &self.parts[..self.len];
        let mut text = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        for part in parts {
            text.push_str(part);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{self, Route};

    /// What the general path makes of `text` from `from` to `to`.
    fn general(text: &str, from: &UserName, to: &UserName) -> String {
        let mut msg = protocol::decode(text).expect("a valid frame");
        *msg.route_mut() = Route::new(from.as_str(), to.as_str());
        msg.to_json()
    }

    #[test]
    fn relayed_frames_come_out_as_the_general_path_writes_them() {
        let (alice, bob) = (
            UserName::parse("alice").unwrap(),
            UserName::parse("bob").unwrap(),
        );
        let frames = [
            r#"{"type":"offer","fromUser":"mallory","toUser":"bob","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#,
            r#"{"sdp":"v=0\r\na=x:\"q\" é\r\n","type":"answer"}"#,
            r#"{"type":"_ice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":""},"extra":[1,2,{"a":null}]}"#,
            // Escapes are written as the general path writes them; nulls and fields a
            // candidate does not have are left out, as there.
            r#"{"type":"_ice","iceCandidate":{"candidate":"c\u0041 \"q\" \\ é","sdpMid":null,"sdpMLineIndex":null,"port":{"x":1}}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMid":"a\tb","sdpMLineIndex":65535}}"#,
            // serde reads a struct from an array too, on both paths.
            r#"{"type":"_ice","iceCandidate":["c","0",0]}"#,
        ];
        for text in frames {
            let frame = RelayFrame::parse(text).unwrap_or_else(|| panic!("fast path: {text}"));
            assert_eq!(
                frame.text(&alice, &bob),
                general(text, &alice, &bob),
                "{text}"
            );
        }
        let text = RelayFrame::parse(frames[2]).unwrap().text(&alice, &bob);
        assert_eq!(text.capacity(), text.len(), "no spare capacity");
        let to = RelayFrame::parse(frames[0]).unwrap();
        assert_eq!((to.kind(), to.to_user()), ("offer", Some("bob")));
        assert_eq!(RelayFrame::parse(frames[1]).unwrap().to_user(), None);
    }

    #[test]
    fn a_candidate_is_passed_on_as_written() {
        let (alice, bob) = (
            UserName::parse("alice").unwrap(),
            UserName::parse("bob").unwrap(),
        );
        let text = r#"{"type":"_ice","iceCandidate":{"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","usernameFragment":"Ex36"}}"#;
        let frame = RelayFrame::parse(text).expect("a candidate");
        assert_eq!(
            frame.text(&alice, &bob),
            r#"{"type":"_ice","fromUser":"alice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","usernameFragment":"Ex36"}}"#
        );
    }

    #[test]
    fn a_frame_without_escapes_is_borrowed_not_copied() {
        let text = r#"{"type":"_ice","toUser":"bob","iceCandidate":{"candidate":"candidate:1","sdpMid":"0","usernameFragment":"Ex36"}}"#;
        let frame = RelayFrame::parse(text).expect("a candidate");
        assert!(matches!(frame.to_user, Some(Cow::Borrowed("bob"))));
        let Payload::Ice {
            candidate,
            sdp_mid,
            username_fragment,
            ..
        } = &frame.payload
        else {
            panic!("an _ice payload");
        };
        assert!(matches!(candidate, Cow::Borrowed("candidate:1")));
        assert!(matches!(sdp_mid, Some(Cow::Borrowed("0"))));
        assert!(matches!(username_fragment, Some(Cow::Borrowed("Ex36"))));
    }

    #[test]
    fn anything_else_takes_the_general_path() {
        for text in [
            r#"{"type":"call_start","toUser":"bob"}"#,
            r#"{"type":"offer","toUser":"bob"}"#,
            r#"{"type":"offer","sdp":7}"#,
            r#"{"type":"answer","sdp":null}"#,
            r#"{"type":"_ice","iceCandidate":{"sdpMid":"0"}}"#,
            r#"{"type":"_ice","iceCandidate":"candidate:1"}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMLineIndex":-1}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMLineIndex":65536}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","usernameFragment":5}}"#,
            r#"{"type":"_ice","iceCandidate":null}"#,
            r#"{"type":"offer","toUser":5,"sdp":"v=0"}"#,
            r#"{"type":"offer","fromUser":["x"],"sdp":"v=0"}"#,
            r#"{"type":"offer","sdp":"v=0""#,
            "not json",
        ] {
            assert!(RelayFrame::parse(text).is_none(), "{text}");
        }
    }
}
