//! What the server accepts from a page's chat, as its welcome said, so a message it would
//! refuse is refused here before it is sent, with the text still in the compose box.

use crate::text::words;

/// The server's chat limits; `None` where the server did not say (an older server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChatLimits {
    /// The longest message, in characters (Unicode scalar values, as the server counts).
    pub max_chars: Option<u64>,
    /// The largest frame the server reads, in bytes; a larger one closes the socket.
    pub max_frame_bytes: Option<u64>,
}

impl ChatLimits {
    /// Why `text`, sent as a frame of `frame_bytes` bytes, would be refused; `None` if it
    /// fits.
    pub fn refusal(&self, text: &str, frame_bytes: usize) -> Option<String> {
        if let Some(max) = self.max_chars {
            let chars = text.chars().count();
            if chars as u64 > max {
                return Some((words().message_too_long)(chars, max));
            }
        }
        match self.max_frame_bytes {
            Some(max) if frame_bytes as u64 > max => Some(words().message_too_big.to_owned()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ChatLimits = ChatLimits {
        max_chars: Some(5),
        max_frame_bytes: Some(100),
    };

    #[test]
    fn a_message_within_both_limits_goes() {
        assert_eq!(LIMITS.refusal("hello", 100), None);
        // Characters, not bytes: five letters of four bytes each.
        assert_eq!(LIMITS.refusal("😀😀😀😀😀", 100), None);
    }

    #[test]
    fn too_many_characters_says_how_many_and_the_most() {
        let why = LIMITS.refusal("hello!", 50).expect("refused");
        assert!(why.contains('6') && why.contains('5'), "{why}");
    }

    #[test]
    fn a_frame_over_the_server_limit_is_refused() {
        assert_eq!(
            LIMITS.refusal("hi", 101).as_deref(),
            Some(words().message_too_big)
        );
    }

    #[test]
    fn unknown_limits_refuse_nothing() {
        let text = "x".repeat(100_000);
        assert_eq!(ChatLimits::default().refusal(&text, 1 << 20), None);
    }
}
