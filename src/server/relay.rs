//! The hot path: `offer`, `answer` and `_ice`, which the two people in a call send each
//! other dozens of times per call. They are checked like any frame, but not rebuilt from a
//! decoded [`Message`](crate::protocol::Message): the SDP, or the candidate object, is
//! passed through as the sender wrote it (still JSON-escaped, a candidate's
//! `usernameFragment` included), and only `type`, `fromUser` and `toUser` are written
//! around it by the server.
//!
//! Decoding a 5 KB offer into a `Message` and encoding it again cost a copy and an escape
//! pass of the whole SDP, several allocations, and all of it under the hub's lock; the relay
//! benchmark (`make bench`) showed it as duet's gap to a bare relay.

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
    to_user: Option<Cow<'a, str>>,
    /// Replaced by the server, but it must still be a string, as on the general path.
    #[serde(rename = "fromUser", borrow, default)]
    #[allow(dead_code)]
    from_user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    sdp: Option<&'a RawValue>,
    #[serde(rename = "iceCandidate", borrow, default)]
    ice_candidate: Option<&'a RawValue>,
}

/// What a candidate must have, as [`IceCandidate`](crate::protocol::IceCandidate) decodes
/// it; borrowed, so checking allocates nothing.
#[derive(Deserialize)]
#[allow(dead_code)] // read only to check their types
struct Candidate<'a> {
    #[serde(borrow)]
    candidate: Cow<'a, str>,
    #[serde(rename = "sdpMid", borrow, default)]
    sdp_mid: Option<Cow<'a, str>>,
    #[serde(rename = "sdpMLineIndex", default)]
    sdp_m_line_index: Option<u16>,
}

/// A JSON string literal (the raw value is valid JSON: a string iff it starts with a quote).
fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// A candidate object with the fields a candidate needs, of the right types.
fn is_candidate(raw: &RawValue) -> bool {
    raw.get().starts_with('{') && serde_json::from_str::<Candidate>(raw.get()).is_ok()
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
    /// The candidate object, checked.
    Ice(&'a RawValue),
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
            ("_ice", _, Some(ice)) if is_candidate(ice) => ("_ice", Payload::Ice(ice)),
            _ => return None,
        };
        Some(Self {
            kind,
            to_user: head.to_user,
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
        let (field, payload) = match self.payload {
            Payload::Sdp(sdp) => ("sdp", sdp.get()),
            Payload::Ice(ice) => ("iceCandidate", ice.get()),
        };
        // A user name needs no JSON escaping: UserName::parse admits only letters, digits,
        // `_`, `-` and `.`.
        let parts = [
            r#"{"type":""#,
            self.kind,
            r#"","fromUser":""#,
            from.as_str(),
            r#"","toUser":""#,
            to.as_str(),
            r#"",""#,
            field,
            r#"":"#,
            payload,
            "}",
        ];
        // Exactly as long as it will be: the socket turns it into `Bytes`, which takes a
        // string with no spare capacity as it is, and allocates again for one with some.
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
    fn anything_else_takes_the_general_path() {
        for text in [
            r#"{"type":"call_start","toUser":"bob"}"#,
            r#"{"type":"offer","toUser":"bob"}"#,
            r#"{"type":"offer","sdp":7}"#,
            r#"{"type":"answer","sdp":null}"#,
            r#"{"type":"_ice","iceCandidate":{"sdpMid":"0"}}"#,
            r#"{"type":"_ice","iceCandidate":"candidate:1"}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMLineIndex":-1}}"#,
            r#"{"type":"_ice","iceCandidate":["c","0",0]}"#,
            r#"{"type":"offer","toUser":5,"sdp":"v=0"}"#,
            r#"{"type":"offer","fromUser":["x"],"sdp":"v=0"}"#,
            r#"{"type":"offer","sdp":"v=0""#,
            "not json",
        ] {
            assert!(RelayFrame::parse(text).is_none(), "{text}");
        }
    }
}
