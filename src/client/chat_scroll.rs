//! Where the reader is in `#messages`, kept as the lines change: a conversation opens at
//! its newest line; new lines are followed while the reader is at the bottom (and one's
//! own always); older lines put on top leave the lines in view where they were.

use crate::protocol::Conversation;
use web_sys::Element;

/// How close to the top (in pixels) a scroll fetches older messages.
const NEAR_TOP: i32 = 40;
/// How close to the bottom (in pixels) counts as reading the newest line.
const NEAR_BOTTOM: i32 = 48;

/// The reader's place in the list, as last seen.
pub struct ListPlace {
    conversation: Option<Conversation>,
    /// At the newest line: new lines keep the reader there.
    at_bottom: bool,
    /// The newest line (its client or server id), to tell a new line from a changed one.
    newest: Option<String>,
    /// While older lines are fetched: the top line and how far below the top of the
    /// list's box it was, to put it back there when they arrive above it.
    anchor: Option<(Element, f64)>,
}

impl Default for ListPlace {
    /// No conversation yet; the first one opens at its newest line.
    fn default() -> Self {
        Self {
            conversation: None,
            at_bottom: true,
            newest: None,
            anchor: None,
        }
    }
}

impl ListPlace {
    /// The list now shows `open`'s lines, the last of them `newest` (written by this page's
    /// user if `from_me`): scrolls it to where the reader belongs.
    pub fn shown(
        &mut self,
        list: &Element,
        open: Option<Conversation>,
        newest: Option<String>,
        from_me: bool,
    ) {
        if self.conversation != open {
            self.conversation = open;
            self.at_bottom = true;
            self.anchor = None;
        }
        let arrived = newest.is_some() && newest != self.newest;
        self.newest = newest;
        let pushed_down = self.anchor.take_if(|(top, _)| {
            top.is_connected() && list.first_element_child().as_ref() != Some(top)
        });
        if let Some((top, was)) = pushed_down {
            // Older lines came in above: scroll down by as much as they pushed it (nothing
            // if the browser's own scroll anchoring already did).
            let pushed = offset_in(list, &top) - was;
            list.set_scroll_top(list.scroll_top() + pushed.round() as i32);
        } else if self.at_bottom || (arrived && from_me) {
            list.set_scroll_top(list.scroll_height());
            self.at_bottom = true;
        }
    }

    /// The reader scrolled the list. Returns whether they are at its top, where older
    /// lines are fetched; `fetching` says whether that will happen.
    pub fn scrolled(&mut self, list: &Element, fetching: bool) -> bool {
        let to_bottom = list.scroll_height() - list.scroll_top() - list.client_height();
        self.at_bottom = to_bottom <= NEAR_BOTTOM;
        let at_top = list.scroll_top() < NEAR_TOP;
        if at_top && fetching {
            self.anchor = list.first_element_child().map(|top| {
                let was = offset_in(list, &top);
                (top, was)
            });
        }
        at_top
    }
}

/// How far `item`'s top is below the top of `list`'s box, in pixels.
fn offset_in(list: &Element, item: &Element) -> f64 {
    item.get_bounding_client_rect().top() - list.get_bounding_client_rect().top()
}
