//! English.

use super::Words;
use crate::protocol::{MAX_NAME_CHARS, NameError, Reason, SYSTEM_USER};

pub const EN: Words = Words {
    language_name: "English",
    language: "Language",

    tagline: "Private video calls, peer to peer.",
    pick_name: "Your name",
    open: "Open",
    name_rule: "1–32 letters, digits, _ - or .",
    to_user: "Name to call",
    call: "Video call",
    accept: "Accept",
    decline: "Decline",
    cancel: "Cancel",
    hang_up: "Hang up",
    you: "You",
    you_audio_only: "You (no camera: audio only)",
    not_found: "Page not found.",

    connecting: "Connecting…",
    ready: "Ready. Type a name and press Video call.",
    name_in_use: "That name is in use in another window. Close it or pick another name.",
    no_media_self: "No camera or microphone available, so you cannot take or make calls.",
    enter_name: "Type the name of the person to call.",
    self_call: "You cannot call yourself.",
    media_failed: "The media connection failed.",
    camera_blocked: "The camera and microphone are blocked for this page: allow them (the \
         camera icon in the address bar, or the browser's site settings), then try again.",
    camera_in_use: "The camera or microphone is in use by another app: close it there, then \
         try again.",
    camera_missing: "No camera or microphone was found: connect one, then try again.",
    camera_insecure: "The browser opens the camera only on secure pages: open duet over HTTPS \
         (see \"On a phone\" in the README).",
    ring_notice: "Open the call page to accept or decline.",
    call_ended: "Call ended.",

    opening_camera: |to| format!("Opening your camera and microphone to call {to}…"),
    ring_title: |from| format!("📞 {from} is calling"),
    no_connection,
    ringing_out: |to| format!("Calling {to}…"),
    ringing_in: |from| format!("{from} is calling you."),
    in_call: |with| format!("In a call with {with}."),
    connecting_to: |with| format!("Connecting to {with}…"),
    ended,
    missed,
    you_cancelled: |to| format!("You cancelled the call to {to}."),
    you_declined: |from| format!("You declined the call from {from}."),
    glare: |caller| format!("{caller} is calling you at the same moment: answer their call."),
    bad_name,

    on_a_phone: "On a phone",
    lan_qr_alt: "QR code of the address to open on a phone",
    fingerprint: "Certificate SHA-256:",
    no_qr: "Could not make the QR code of this server's address.",
    no_lan_link: "Could not get this server's address.",
    lan_hint,

    online: "Online",
    filter: "Filter names",
    nobody_online: "Nobody else is online.",
    chats: "Conversations",
    groups: "Groups",
    group_name: "New group name",
    group_members: "Members: names, comma separated",
    create_group: "Create group",
    add_members: "Add people: names, comma separated",
    add: "Add",
    message: "Message",
    write: "Write a message",
    send: "Send",
    messages: "Messages",
    unread: "unread",
    pick_conversation: "Pick someone in the lists, or type a name and press Message.",
    in_a_call: "in a call",
    reconnecting: "Reconnecting to the server…",
    reconnecting_call: "Connection lost, reconnecting… the call goes on meanwhile.",
    relay_check: "Test the relay",
    relay_running: "Asking the TURN server for a relay…",
    relay_none: "No TURN server is configured, so calls cannot be relayed.",
    call_lost: "The call ended while the connection was lost.",
    self_message: "You cannot send messages to yourself.",
    message_too_big: "This message is too large to send. Shorten it, or send it in parts.",
    unsent_too_long: "A message written earlier is too long for the server and was not sent.",
    message_too_long: |chars, max| {
        format!(
            "This message has {chars} characters; at most {max} can be sent. \
             Shorten it, or send it in parts."
        )
    },
    chat_with: |name| format!("Chat with {name}"),
    group_title: |name, members| format!("{name} · {members} members"),
    missed_call_line,
    relay_ok: |address| format!("The relay works: this browser got a relay address, {address}."),
    relay_failed: |error| match error {
        Some(error) => format!("The relay does not work from this browser: {error}."),
        None => "The relay does not work from this browser: no relay address came.".to_owned(),
    },

    sign_in: "Sign in",
    sign_up: "Create an account",
    sign_out: "Sign out",
    name: "Name",
    password: "Password",
    new_password_rule: "At least 8 characters.",
    keep: "Keep me signed in",
    sign_up_hint: "Your name is then yours: its page, calls and chat open only with your \
         password.",
    sign_up_by_invite: "New accounts need an invite link from someone here.",
    sign_up_closed: "New accounts are made by the operator of this server.",
    open_name: "Or use a name without an account",
    open_name_hint: "Anyone who opens the same name gets its page, so use this only to try \
         duet.",
    signed_in_as: |name| format!("Signed in as {name}"),
    my_page: "Your call page",
    account: "Account",

    gate: |name| format!("{name}'s page is private. Sign in as {name} to open it."),
    gate_closed_names: "This server opens call pages only for signed-in people.",
    gate_other: |signed_in| {
        format!("You are signed in as {signed_in}; signing in here switches this browser.")
    },
    declined_elsewhere: |from| format!("The call from {from} was declined on another device."),
    signed_out: "This page was signed out.",

    account_title: "Your account",
    sessions: "Signed-in browsers",
    sessions_hint: "Sign out a browser you no longer use: its open pages close at once.",
    this_browser: "this browser",
    signed_in_at: "Signed in",
    last_seen: "last seen",
    revoke: "Sign out",
    admin: "administrator",
    revoke_label: |device, current| {
        if current {
            format!("Sign out {device} (this browser)")
        } else {
            format!("Sign out {device}")
        }
    },
    change_password: "Change password",
    current_password: "Current password",
    new_password: "New password",
    change_password_hint: "Every other browser is signed out.",
    password_changed: "Password changed. Every other browser signed in as you was signed out.",
    invite_title: "Invite someone",
    invite_hint: "The link lets one person create an account, within 7 days.",
    invite: "Make an invite link",
    invite_made: "Send this link to the person you invite. It is shown only once.",
    copy: "Copy",
    copied: "Copied.",
    copy_failed: "Could not copy: select the link and copy it by hand.",
    not_signed_in: "Sign in to see your account.",

    invited: "You are invited",
    invited_hint: "Pick a password to create your account.",
    invited_as: |name| format!("This invite is for the name {name}."),
    invite_refused: "This invite link cannot be used",
    home: "Go to the home page",

    wrong_sign_in: "Wrong name or password.",
    wrong_current_password: "The current password is wrong.",
    password_too_short: "The password needs at least 8 characters.",
    password_too_long: "The password may have at most 256 characters.",
    name_taken: "That name is taken: pick another.",
    signup_closed: "New accounts need an invite link on this server.",
    invite_unknown: "This invite link is not valid.",
    invite_used_up: "This invite link has been used already.",
    invite_expired: "This invite link has expired.",
    foreign_origin: "Refused: the form was sent from a page of another site (its Origin is not \
         this server).",
    too_many_attempts: |secs| format!("Too many attempts. Try again in {secs} s."),
    invite_for: |name| format!("This invite link is for the name {name}."),
};

fn no_connection(peer: &str, relayed: bool) -> String {
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

fn ended(reason: Reason, peer: &str) -> String {
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

fn missed(reason: Reason, caller: &str) -> String {
    match reason {
        Reason::Timeout => format!("Missed call from {caller}."),
        // The ring reached several of the callee's devices and one of them declined.
        Reason::Declined => format!("The call from {caller} was declined on another device."),
        _ => ended(reason, caller),
    }
}

fn bad_name(why: &NameError) -> String {
    let why = match why {
        NameError::Empty => "a name needs at least one character".to_owned(),
        NameError::TooLong => format!("a name has at most {MAX_NAME_CHARS} characters"),
        NameError::BadChar(c) => {
            format!("{c:?} is not allowed in a name: use letters, digits, _ - or .")
        }
        NameError::Reserved => format!("the name {SYSTEM_USER:?} is reserved"),
    };
    format!("Invalid name: {why}.")
}

fn lan_hint(on_lan: bool, secure: bool) -> &'static str {
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

fn missed_call_line(reason: Option<Reason>, caller: &str, me: &str) -> String {
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
