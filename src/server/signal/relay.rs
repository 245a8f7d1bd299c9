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
//!
//! Strings are lent from the frame, never copied: a frame with an escape in a string
//! other than the SDP takes the general path. Browsers never write one there (candidates,
//! mids and ICE username fragments are plain ASCII, names are letters, digits, `_`, `-`
//! and `.`), and lending only is what makes a string its own JSON literal: JSON forbids
//! raw control characters, so a string with no escape needs none when written again.
//!
//! A frame the sender wrote exactly as the server would write it (duet's pages do) is
//! passed on as it came, a second handle to the same bytes: no allocation and no copy.
//! A candidate frame in that layout is also read without serde ([`read_as_written`]);
//! a unit test holds that reading to serde's on every one-byte change of such frames.

use crate::protocol::UserName;
use axum::extract::ws::Utf8Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The parts of a relayed frame the server reads; everything else is not relayed (as on
/// the general path, which ignores unknown fields).
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(rename = "toUser", default)]
    to_user: Option<&'a str>,
    /// Replaced by the server, but it must still be a string, as on the general path.
    #[serde(rename = "fromUser", default)]
    #[allow(dead_code)]
    from_user: Option<&'a str>,
    #[serde(borrow, default)]
    sdp: Option<&'a RawValue>,
    #[serde(rename = "iceCandidate", borrow, default)]
    ice_candidate: Option<Candidate<'a>>,
}

/// A candidate with the fields [`IceCandidate`](crate::protocol::IceCandidate) decodes,
/// of the same types, plus the `usernameFragment` browsers write, which is passed on
/// (it tells the other side which ICE restart a candidate belongs to).
#[derive(Deserialize)]
#[cfg_attr(test, derive(Debug, PartialEq))]
struct Candidate<'a> {
    candidate: &'a str,
    #[serde(rename = "sdpMid", default)]
    sdp_mid: Option<&'a str>,
    #[serde(rename = "sdpMLineIndex", default)]
    sdp_m_line_index: Option<u16>,
    #[serde(rename = "usernameFragment", default)]
    username_fragment: Option<&'a str>,
}

/// A JSON string literal (the raw value is valid JSON: a string iff it starts with a quote).
fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// Reads an `_ice` frame laid out exactly as the server writes one, which is how duet's
/// pages write theirs: `type`, `fromUser`, `toUser`, then the candidate's fields in that
/// order, no spaces, no escapes. It matches that text instead of running a JSON reader:
/// serde's reading was the largest part of what a candidate cost duet beyond a bare
/// relay, counted by callgrind. Any other layout is `None`, and serde reads it. Yields
/// what serde would: the `toUser` and the candidate, lent from the frame.
fn read_as_written(text: &str) -> Option<(&str, Candidate<'_>)> {
    let mut rest = Rest(text);
    rest.literal(r#"{"type":"_ice","fromUser":"#)?;
    rest.string()?;
    rest.literal(r#","toUser":"#)?;
    let to_user = rest.string()?;
    rest.literal(r#","iceCandidate":{"candidate":"#)?;
    let candidate = rest.string()?;
    let sdp_mid = rest.field(r#","sdpMid":"#, Rest::string)?;
    let sdp_m_line_index = rest.field(r#","sdpMLineIndex":"#, Rest::index)?;
    let username_fragment = rest.field(r#","usernameFragment":"#, Rest::string)?;
    rest.literal("}}")?;
    let ice = Candidate {
        candidate,
        sdp_mid,
        sdp_m_line_index,
        username_fragment,
    };
    rest.0.is_empty().then_some((to_user, ice))
}

/// What is left of a frame being matched.
struct Rest<'a>(&'a str);

impl<'a> Rest<'a> {
    fn literal(&mut self, text: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(text)?;
        Some(())
    }

    /// A JSON string with no escape, as its contents. JSON allows neither a raw control
    /// character nor a lone backslash in a string, so one without either is its own
    /// literal.
    fn string(&mut self) -> Option<&'a str> {
        let body = self.0.strip_prefix('"')?;
        let end = memchr::memchr(b'"', body.as_bytes())?;
        let (value, after) = body.split_at(end);
        // Without early exit, so the compiler checks many bytes at a time.
        let plain = value
            .bytes()
            .fold(true, |plain, b| plain & (b != b'\\') & (b >= 0x20));
        self.0 = &after[1..];
        plain.then_some(value)
    }

    /// A candidate's line index: a JSON integer (no sign, no leading zero) up to 65535.
    fn index(&mut self) -> Option<u16> {
        let end = self
            .0
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.0.len());
        let (digits, after) = self.0.split_at(end);
        if digits.len() > 1 && digits.starts_with('0') {
            return None;
        }
        self.0 = after;
        digits.parse().ok()
    }

    /// An optional field: absent, or `name` then what `read` reads. `None` if it is there
    /// but `read` refuses it.
    fn field<T>(&mut self, name: &str, read: fn(&mut Self) -> Option<T>) -> Option<Option<T>> {
        match self.literal(name) {
            Some(()) => read(self).map(Some),
            None => Some(None),
        }
    }
}

/// A well-formed `offer`, `answer` or `_ice`, borrowed from the frame it came in.
pub struct RelayFrame<'a> {
    sent: &'a Utf8Bytes,
    kind: &'static str,
    to_user: Option<&'a str>,
    payload: Payload<'a>,
}

enum Payload<'a> {
    /// The SDP as a JSON string literal, quotes and escapes included.
    Sdp(&'a RawValue),
    /// The candidate, checked; its strings have no escapes (see the module's comment).
    Ice(Candidate<'a>),
}

impl<'a> RelayFrame<'a> {
    /// The frame, if it is an `offer`, `answer` or `_ice` in the right shape with no
    /// escape outside its SDP. Anything else (another type, bad JSON, a missing or
    /// mistyped field, an escaped string) is `None`: the general path decodes it, and
    /// relays it or answers with the precise error.
    pub fn parse(sent: &'a Utf8Bytes) -> Option<Self> {
        if let Some((to_user, ice)) = read_as_written(sent.as_str()) {
            return Some(Self {
                sent,
                kind: "_ice",
                to_user: Some(to_user),
                payload: Payload::Ice(ice),
            });
        }
        let head: Head<'a> = serde_json::from_str(sent.as_str()).ok()?;
        let (kind, payload) = match (head.kind, head.sdp, head.ice_candidate) {
            ("offer", Some(sdp), _) if is_string(sdp) => ("offer", Payload::Sdp(sdp)),
            ("answer", Some(sdp), _) if is_string(sdp) => ("answer", Payload::Sdp(sdp)),
            ("_ice", _, Some(ice)) => ("_ice", Payload::Ice(ice)),
            _ => return None,
        };
        Some(Self {
            sent,
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
        self.to_user
    }

    /// The frame as `to` receives it, from `from`: the frame as sent if that is how it
    /// reads, else written anew.
    pub fn relayed(&self, from: &UserName, to: &UserName) -> Utf8Bytes {
        let mut index = itoa::Buffer::new();
        let parts = self.parts(from, to, &mut index);
        if parts.spell(self.sent) {
            self.sent.clone()
        } else {
            parts.concat().into()
        }
    }

    /// The pieces of the frame as the server writes it. `index` holds the digits of the
    /// candidate's line index.
    fn parts<'s>(
        &'s self,
        from: &'s UserName,
        to: &'s UserName,
        index: &'s mut itoa::Buffer,
    ) -> Parts<'s> {
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
        match &self.payload {
            Payload::Sdp(sdp) => parts.extend([r#"","sdp":"#, sdp.get()]),
            Payload::Ice(ice) => {
                parts.extend([r#"","iceCandidate":{"candidate":""#, ice.candidate, "\""]);
                if let Some(mid) = ice.sdp_mid {
                    parts.extend([r#","sdpMid":""#, mid, "\""]);
                }
                if let Some(line) = ice.sdp_m_line_index {
                    parts.extend([r#","sdpMLineIndex":"#, index.format(line)]);
                }
                if let Some(fragment) = ice.username_fragment {
                    parts.extend([r#","usernameFragment":""#, fragment, "\""]);
                }
                parts.extend(["}"]);
            }
        }
        parts.extend(["}"]);
        parts
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

    /// Whether `text` is these pieces, in order, and nothing else.
    fn spell(&self, text: &str) -> bool {
        let parts = &self.parts[..self.len];
        if parts.iter().map(|p| p.len()).sum::<usize>() != text.len() {
            return false;
        }
        let mut rest = text;
        for part in parts {
            // A piece lent from `text` at this very place (an SDP, a candidate) matches
            // without a look at its bytes.
            if !(part.as_ptr() == rest.as_ptr() || rest.starts_with(part)) {
                return false;
            }
            rest = &rest[part.len()..];
        }
        true
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
    use crate::protocol::{self, Message, Route};

    /// What the general path makes of `text` from `from` to `to`.
    fn general(text: &str, from: &UserName, to: &UserName) -> String {
        let mut msg = protocol::decode(text).expect("a valid frame");
        *msg.route_mut() = Route::new(from.as_str(), to.as_str());
        msg.to_json()
    }

    /// The two people every test's call is between.
    fn alice_and_bob() -> (UserName, UserName) {
        (
            UserName::parse("alice").unwrap(),
            UserName::parse("bob").unwrap(),
        )
    }

    #[test]
    fn relayed_frames_come_out_as_the_general_path_writes_them() {
        let (alice, bob) = alice_and_bob();
        let frames = [
            r#"{"type":"offer","fromUser":"mallory","toUser":"bob","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#,
            r#"{"sdp":"v=0\r\na=x:\"q\" é\r\n","type":"answer"}"#,
            r#"{"type":"_ice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host","sdpMid":"0","sdpMLineIndex":0}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":""},"extra":[1,2,{"a":null}]}"#,
            // Nulls and fields a candidate does not have are left out, as there.
            r#"{"type":"_ice","iceCandidate":{"candidate":"c é","sdpMid":null,"sdpMLineIndex":null,"port":{"x":1}}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMid":"a b","sdpMLineIndex":65535}}"#,
            // serde reads a struct from an array too, on both paths.
            r#"{"type":"_ice","iceCandidate":["c","0",0]}"#,
        ];
        for text in frames {
            let sent = Utf8Bytes::from(text);
            let frame = RelayFrame::parse(&sent).unwrap_or_else(|| panic!("fast path: {text}"));
            assert_eq!(
                frame.relayed(&alice, &bob).as_str(),
                general(text, &alice, &bob),
                "{text}"
            );
        }
        let sent = Utf8Bytes::from(frames[2]);
        let mut index = itoa::Buffer::new();
        let frame = RelayFrame::parse(&sent).unwrap();
        let text = frame.parts(&alice, &bob, &mut index).concat();
        assert_eq!(text.capacity(), text.len(), "no spare capacity");
        let sent = Utf8Bytes::from(frames[0]);
        let to = RelayFrame::parse(&sent).unwrap();
        assert_eq!((to.kind(), to.to_user()), ("offer", Some("bob")));
        let sent = Utf8Bytes::from(frames[1]);
        assert_eq!(RelayFrame::parse(&sent).unwrap().to_user(), None);
    }

    #[test]
    fn a_frame_written_as_the_server_writes_it_is_passed_on_as_it_came() {
        let (alice, bob) = alice_and_bob();
        let ice = r#"{"type":"_ice","fromUser":"alice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Ex36"}}"#;
        let offer = r#"{"type":"offer","fromUser":"alice","toUser":"bob","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#;
        for text in [ice, offer] {
            let sent = Utf8Bytes::from(text);
            let relayed = RelayFrame::parse(&sent).unwrap().relayed(&alice, &bob);
            assert_eq!(relayed.as_ptr(), sent.as_ptr(), "the same bytes: {text}");
            assert_eq!(relayed.as_str(), text);
        }
        // Anything else is written anew, as the frames above: another sender's name,
        // another order, a space, a field the server leaves out, no `toUser`.
        for (text, written) in [
            (
                ice.replace(r#""fromUser":"alice""#, r#""fromUser":"mallory""#),
                ice,
            ),
            (
                ice.replace(r#""type":"_ice","#, "")
                    .replace(r#""bob","#, r#""bob","type":"_ice","#),
                ice,
            ),
            (ice.replace(r#""toUser":"bob""#, r#""toUser": "bob""#), ice),
            (
                ice.replace(r#""sdpMid":"0""#, r#""sdpMid":"0","port":5000"#),
                ice,
            ),
            (offer.replace(r#""toUser":"bob","#, ""), offer),
        ] {
            let sent = Utf8Bytes::from(text.as_str());
            let relayed = RelayFrame::parse(&sent).unwrap().relayed(&alice, &bob);
            assert_ne!(relayed.as_ptr(), sent.as_ptr(), "a new frame: {text}");
            assert_eq!(relayed.as_str(), written, "{text}");
        }
    }

    #[test]
    fn frames_as_duet_pages_write_them_are_passed_on_as_they_came() {
        let (alice, bob) = alice_and_bob();
        // As src/client/controller.rs sends them: signed with the page's own name.
        let route = || Route::new("alice", "bob");
        let candidate = protocol::IceCandidate {
            candidate: "candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host".into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
        };
        for msg in [
            Message::Offer {
                route: route(),
                sdp: "v=0\r\na=x:\"q\" é\r\n".into(),
            },
            Message::Answer {
                route: route(),
                sdp: "v=0\r\n".into(),
            },
            Message::Ice {
                route: route(),
                ice_candidate: candidate,
            },
        ] {
            let sent = Utf8Bytes::from(msg.to_json());
            let relayed = RelayFrame::parse(&sent).unwrap().relayed(&alice, &bob);
            assert_eq!(relayed.as_ptr(), sent.as_ptr(), "{}", sent.as_str());
        }
    }

    #[test]
    fn what_the_matcher_reads_serde_reads_alike() {
        let frames = [
            r#"{"type":"_ice","fromUser":"alice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 2122260223 10.0.0.2 5000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Ex36"}}"#,
            r#"{"type":"_ice","fromUser":"a","toUser":"b","iceCandidate":{"candidate":"","sdpMLineIndex":65535}}"#,
            r#"{"type":"_ice","fromUser":"a","toUser":"b","iceCandidate":{"candidate":"c é","sdpMid":"a b","sdpMLineIndex":10}}"#,
        ];
        fn serde(text: &str) -> Option<(&str, Candidate<'_>)> {
            let head: Head = serde_json::from_str(text).ok()?;
            let ice = head.ice_candidate.filter(|_| head.kind == "_ice")?;
            Some((head.to_user?, ice))
        }
        let mut taken = 0;
        for frame in frames {
            assert!(read_as_written(frame).is_some(), "{frame}");
            // Every byte changed, removed or added: whatever the matcher takes, serde
            // takes too and reads the same, so no frame is read as it is not.
            let mut variants = vec![frame.to_owned()];
            let at: Vec<usize> = (0..=frame.len())
                .filter(|&i| frame.is_char_boundary(i))
                .collect();
            for (&i, &next) in at.iter().zip(at.iter().skip(1)) {
                variants.push(format!("{}{}", &frame[..i], &frame[next..]));
                for c in [
                    '"', '\\', '\u{1}', '\u{7f}', ' ', '0', '9', 'x', '}', ',', ':', 'é',
                ] {
                    variants.push(format!("{}{c}{}", &frame[..i], &frame[next..]));
                    variants.push(format!("{}{c}{}", &frame[..i], &frame[i..]));
                }
            }
            for text in &variants {
                if let Some(ours) = read_as_written(text) {
                    taken += 1;
                    assert_eq!(Some(ours), serde(text), "{text}");
                }
            }
        }
        assert!(
            taken > frames.len(),
            "some changes still read as written: {taken}"
        );
    }

    #[test]
    fn a_candidate_is_passed_on_as_written() {
        let (alice, bob) = alice_and_bob();
        let text = r#"{"type":"_ice","iceCandidate":{"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","usernameFragment":"Ex36"}}"#;
        let sent = Utf8Bytes::from(text);
        let frame = RelayFrame::parse(&sent).expect("a candidate");
        assert_eq!(
            frame.relayed(&alice, &bob).as_str(),
            r#"{"type":"_ice","fromUser":"alice","toUser":"bob","iceCandidate":{"candidate":"candidate:1 1 udp 1 10.0.0.2 5000 typ host","sdpMid":"0","usernameFragment":"Ex36"}}"#
        );
    }

    #[test]
    fn a_frame_with_an_escaped_string_takes_the_general_path() {
        let (alice, bob) = alice_and_bob();
        for text in [
            r#"{"type":"_ice","iceCandidate":{"candidate":"c\u0041 \"q\" \\ é","sdpMid":null}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","sdpMid":"a\tb","sdpMLineIndex":65535}}"#,
            r#"{"type":"_ice","iceCandidate":{"candidate":"c","usernameFragment":"a\/b"}}"#,
            r#"{"type":"offer","toUser":"b\u006fb","sdp":"v=0"}"#,
            r#"{"type":"answer","fromUser":"m\"","sdp":"v=0"}"#,
            r#"{"type":"\u005fice","iceCandidate":{"candidate":"c"}}"#,
        ] {
            assert!(RelayFrame::parse(&text.into()).is_none(), "{text}");
            // ...which relays it with its strings as they were meant (a username fragment
            // it does not carry: browsers never escape one, see the module's comment).
            let sent: serde_json::Value = serde_json::from_str(text).unwrap();
            let relayed: serde_json::Value =
                serde_json::from_str(&general(text, &alice, &bob)).unwrap();
            assert_eq!(relayed["sdp"], sent["sdp"], "{text}");
            for field in ["candidate", "sdpMid"] {
                let (got, want) = (&relayed["iceCandidate"], &sent["iceCandidate"]);
                assert_eq!(got[field], want[field], "{text}: {field}");
            }
        }
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
            assert!(RelayFrame::parse(&text.into()).is_none(), "{text}");
        }
    }
}
