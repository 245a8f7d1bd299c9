//! Every sentence a person reads, in one place, so a translation is one file.
//! Both builds use it: the server for the `msg` of its notices (old pages show that text),
//! the page for its status line and buttons.

use crate::protocol::Reason;

pub mod account;
pub mod forms;

pub const APP_NAME: &str = "duet";
pub const TAGLINE: &str = "Private video calls, peer to peer.";
pub const PICK_NAME: &str = "Your name";
pub const OPEN: &str = "Open";
pub const NAME_RULE: &str = "1–32 letters, digits, _ - or .";
pub const TO_USER: &str = "Name to call";
pub const CALL: &str = "Video call";
pub const ACCEPT: &str = "Accept";
pub const DECLINE: &str = "Decline";
pub const CANCEL: &str = "Cancel";
pub const HANG_UP: &str = "Hang up";
pub const YOU: &str = "You";
pub const YOU_AUDIO_ONLY: &str = "You (no camera: audio only)";
pub const NOT_FOUND: &str = "Page not found.";

pub const CONNECTING: &str = "Connecting…";
pub const READY: &str = "Ready. Type a name and press Video call.";
pub const NAME_IN_USE: &str =
    "That name is in use in another window. Close it or pick another name.";
pub const DISCONNECTED: &str = "Lost the connection to the server.";
pub const NO_MEDIA_SELF: &str =
    "No camera or microphone available, so you cannot take or make calls.";
pub const ENTER_NAME: &str = "Type the name of the person to call.";
pub const SELF_CALL: &str = "You cannot call yourself.";
pub const MEDIA_FAILED: &str = "The media connection failed.";
pub const CAMERA_BLOCKED: &str = "The camera and microphone are blocked for this page: allow \
     them (the camera icon in the address bar, or the browser's site settings), then try again.";
pub const CAMERA_IN_USE: &str =
    "The camera or microphone is in use by another app: close it there, then try again.";
pub const CAMERA_MISSING: &str = "No camera or microphone was found: connect one, then try again.";
pub const CAMERA_INSECURE: &str = "The browser opens the camera only on secure pages: open \
     duet over HTTPS (see \"On a phone\" in the README).";
pub const RING_NOTICE: &str = "Open the call page to accept or decline.";

pub fn opening_camera(to: &str) -> String {
    format!("Opening your camera and microphone to call {to}…")
}

/// The tab's title while `from`'s call rings.
pub fn ring_title(from: &str) -> String {
    format!("📞 {from} is calling")
}

/// Why an accepted call with `peer` ended before it connected: `relayed` when this page
/// had a TURN relay to try.
pub fn no_connection(peer: &str, relayed: bool) -> String {
    if relayed {
        format!(
            "The call with {peer} could not connect, not even through the TURN relay: \
             check that the relay is reachable (Test the relay)."
        )
    } else {
        format!(
            "The call with {peer} could not connect: your networks block a direct \
             connection. A TURN relay (see the README) would carry it."
        )
    }
}

pub fn ringing_out(to: &str) -> String {
    format!("Calling {to}…")
}

pub fn ringing_in(from: &str) -> String {
    format!("{from} is calling you.")
}

pub fn in_call(with: &str) -> String {
    format!("In a call with {with}.")
}

pub fn connecting_to(with: &str) -> String {
    format!("Connecting to {with}…")
}

/// What ended a ring or call with `peer`, in plain words for the person who sees it.
pub fn ended(reason: Reason, peer: &str) -> String {
    match reason {
        Reason::Declined => format!("{peer} declined the call."),
        Reason::Busy => format!("{peer} is busy in another call."),
        Reason::Offline => format!("{peer} is not online."),
        Reason::Cancelled => format!("{peer} cancelled the call."),
        Reason::Timeout => format!("No answer from {peer}."),
        Reason::HungUp => format!("{peer} hung up."),
        Reason::Gone => format!("{peer} left: their page closed or lost its connection."),
        Reason::NoMedia => format!("{peer} has no camera or microphone available."),
        Reason::NoConnection => no_connection(peer, false),
        Reason::AnsweredElsewhere => {
            format!("The call from {peer} was answered on another device.")
        }
        Reason::Other => format!("The call with {peer} ended."),
    }
}

/// What the callee sees when their own ring ended for `reason`.
pub fn missed(reason: Reason, caller: &str) -> String {
    match reason {
        Reason::Timeout => format!("Missed call from {caller}."),
        // The ring reached several of the callee's devices and one of them declined.
        Reason::Declined => format!("The call from {caller} was declined on another device."),
        _ => ended(reason, caller),
    }
}

pub fn you_hung_up() -> String {
    "Call ended.".to_owned()
}

pub fn you_cancelled(to: &str) -> String {
    format!("You cancelled the call to {to}.")
}

pub fn you_declined(from: &str) -> String {
    format!("You declined the call from {from}.")
}

pub fn glare(caller: &str) -> String {
    format!("{caller} is calling you at the same moment: answer their call.")
}

pub fn bad_name(reason: &str) -> String {
    format!("Invalid name: {reason}.")
}

// --- the home page's LAN address --------------------------------------------------------

pub const ON_A_PHONE: &str = "On a phone";
pub const LAN_QR_ALT: &str = "QR code of the address to open on a phone";
pub const FINGERPRINT: &str = "Certificate SHA-256:";
pub const NO_QR: &str = "Could not make the QR code of this server's address.";

pub const NO_LAN_LINK: &str = "Could not get this server's address.";

/// What a phone needs to know about the address shown: whether it can reach it, and
/// whether its browser will open the camera there.
pub fn lan_hint(on_lan: bool, secure: bool) -> &'static str {
    match (on_lan, secure) {
        (true, true) => {
            "Scan it with a phone on the same network. Its browser warns once about the \
             certificate: check that the fingerprint matches the one below, then go on."
        }
        (true, false) => {
            "Phones open their camera only on HTTPS pages: start duet with tls = true \
             (or --tls) to call one."
        }
        (false, _) => {
            "Only this machine can open this address. For a phone, listen on the LAN with \
             HTTPS: site_addr = \"0.0.0.0:3000\" and tls = true in Leptos.toml."
        }
    }
}

// --- chat and presence ---------------------------------------------------------------

pub const ONLINE: &str = "Online";
pub const FILTER: &str = "Filter names";
pub const NOBODY_ONLINE: &str = "Nobody else is online.";
pub const CHATS: &str = "Conversations";
pub const GROUPS: &str = "Groups";
pub const GROUP_NAME: &str = "New group name";
pub const GROUP_MEMBERS: &str = "Members: names, comma separated";
pub const CREATE_GROUP: &str = "Create group";
pub const ADD_MEMBERS: &str = "Add people: names, comma separated";
pub const ADD: &str = "Add";
pub const MESSAGE: &str = "Message";
pub const WRITE: &str = "Write a message";
pub const SEND: &str = "Send";
pub const MESSAGES: &str = "Messages";
pub const UNREAD: &str = "unread";
pub const PICK_CONVERSATION: &str = "Pick someone in the lists, or type a name and press Message.";
pub const IN_A_CALL: &str = "in a call";
pub const RECONNECTING: &str = "Reconnecting to the server…";
pub const RECONNECTING_CALL: &str = "Connection lost, reconnecting… the call goes on meanwhile.";
pub const RELAY_CHECK: &str = "Test the relay";
pub const RELAY_RUNNING: &str = "Asking the TURN server for a relay…";
pub const RELAY_NONE: &str = "No TURN server is configured, so calls cannot be relayed.";
pub const CALL_LOST: &str = "The call ended while the connection was lost.";
pub const SELF_MESSAGE: &str = "You cannot send messages to yourself.";
pub const MESSAGE_TOO_BIG: &str =
    "This message is too large to send. Shorten it, or send it in parts.";
pub const UNSENT_TOO_LONG: &str =
    "A message written earlier is too long for the server and was not sent.";

/// Why a message of `chars` characters is not sent, and what to do.
pub fn message_too_long(chars: usize, max: u64) -> String {
    format!(
        "This message has {chars} characters; at most {max} can be sent. \
         Shorten it, or send it in parts."
    )
}

/// The title of the open conversation.
pub fn chat_with(name: &str) -> String {
    format!("Chat with {name}")
}

pub fn group_title(name: &str, members: usize) -> String {
    format!("{name} · {members} members")
}

/// The line a ring that did not become a call leaves in the conversation, as `me` reads it.
pub fn missed_call_line(reason: Option<Reason>, caller: &str, me: &str) -> String {
    let why = match reason {
        Some(Reason::Declined) => " (declined)",
        Some(Reason::Busy) => " (busy)",
        Some(Reason::Offline) => " (offline)",
        Some(Reason::Cancelled) => " (cancelled)",
        Some(Reason::Timeout) => " (no answer)",
        Some(Reason::NoMedia) => " (no camera or microphone)",
        Some(Reason::NoConnection) => {
            return if caller == me {
                "You called; the call could not connect (no network path).".to_owned()
            } else {
                format!("Call from {caller} could not connect (no network path).")
            };
        }
        _ => "",
    };
    if caller == me {
        format!("You called, not answered{why}.")
    } else {
        format!("Missed call from {caller}{why}.")
    }
}

pub fn relay_ok(address: &str) -> String {
    format!("The relay works: this browser got a relay address, {address}.")
}

pub fn relay_failed(error: Option<&str>) -> String {
    match error {
        Some(error) => format!("The relay does not work from this browser: {error}."),
        None => "The relay does not work from this browser: no relay address came.".to_owned(),
    }
}
