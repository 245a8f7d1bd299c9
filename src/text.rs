//! Every sentence a person reads, one table per language ([`en::EN`], [`zh::ZH`]), so a
//! translation is one file. A table is a [`Words`] value: it must fill every field, so a
//! string missing in one language does not compile. Both builds use it: the server for
//! the pages it renders and the `msg` of its notices (old pages show that text, in the
//! server's `default_language`), the page for its status line and buttons.
//!
//! A call site asks for the page's table with [`words()`], e.g. `words().hang_up` or
//! `(words().ringing_in)(&from)`. To add a string: a field here, and its text in every
//! table (the compiler lists the tables that lack it).

use crate::protocol::{NameError, Reason};

pub mod en;
pub mod forms;
pub mod lang;
pub mod zh;

pub use lang::Lang;

/// The product's name, the same in every language.
pub const APP_NAME: &str = "duet";

/// The words of one language. Strings with something to fill in are functions.
#[cfg_attr(test, derive(Debug))]
pub struct Words {
    /// The name of this language, in itself ("English", "中文"): what the switch to it says.
    pub language_name: &'static str,
    /// The accessible name of the language switch.
    pub language: &'static str,

    // --- the home page and the call page ---
    pub tagline: &'static str,
    pub pick_name: &'static str,
    pub open: &'static str,
    pub name_rule: &'static str,
    pub to_user: &'static str,
    pub call: &'static str,
    pub accept: &'static str,
    pub decline: &'static str,
    pub cancel: &'static str,
    pub hang_up: &'static str,
    pub you: &'static str,
    pub you_audio_only: &'static str,
    pub not_found: &'static str,

    pub connecting: &'static str,
    pub ready: &'static str,
    pub name_in_use: &'static str,
    pub no_media_self: &'static str,
    pub enter_name: &'static str,
    pub self_call: &'static str,
    pub media_failed: &'static str,
    pub camera_blocked: &'static str,
    pub camera_in_use: &'static str,
    pub camera_missing: &'static str,
    pub camera_insecure: &'static str,
    pub ring_notice: &'static str,
    pub call_ended: &'static str,

    /// The status while the camera opens for a call to this name.
    pub opening_camera: fn(&str) -> String,
    /// The tab's title while this name's call rings.
    pub ring_title: fn(&str) -> String,
    /// Why an accepted call with a peer ended before it connected: `true` when this page
    /// had a TURN relay to try.
    pub no_connection: fn(&str, bool) -> String,
    pub ringing_out: fn(&str) -> String,
    pub ringing_in: fn(&str) -> String,
    pub in_call: fn(&str) -> String,
    pub connecting_to: fn(&str) -> String,
    /// What ended a ring or call with a peer, in plain words for the person who sees it.
    pub ended: fn(Reason, &str) -> String,
    /// What the callee sees when their own ring from this caller ended for a reason.
    pub missed: fn(Reason, &str) -> String,
    pub you_cancelled: fn(&str) -> String,
    pub you_declined: fn(&str) -> String,
    /// This caller rings at the same moment as the person's own call to them.
    pub glare: fn(&str) -> String,
    pub bad_name: fn(&NameError) -> String,

    // --- the home page's LAN address ---
    pub on_a_phone: &'static str,
    pub lan_qr_alt: &'static str,
    pub fingerprint: &'static str,
    pub no_qr: &'static str,
    pub no_lan_link: &'static str,
    /// What a phone needs to know about the address shown: whether it can reach it
    /// (on the LAN), and whether its browser will open the camera there (secure).
    pub lan_hint: fn(bool, bool) -> &'static str,

    // --- chat and presence ---
    pub online: &'static str,
    pub filter: &'static str,
    pub nobody_online: &'static str,
    pub chats: &'static str,
    pub groups: &'static str,
    pub group_name: &'static str,
    pub group_members: &'static str,
    pub create_group: &'static str,
    pub add_members: &'static str,
    pub add: &'static str,
    pub message: &'static str,
    pub write: &'static str,
    pub send: &'static str,
    pub messages: &'static str,
    pub unread: &'static str,
    pub pick_conversation: &'static str,
    pub in_a_call: &'static str,
    pub reconnecting: &'static str,
    pub reconnecting_call: &'static str,
    pub relay_check: &'static str,
    pub relay_running: &'static str,
    pub relay_none: &'static str,
    pub call_lost: &'static str,
    pub self_message: &'static str,
    pub message_too_big: &'static str,
    pub unsent_too_long: &'static str,
    /// Why a message of so many characters is not sent, with the most there may be.
    pub message_too_long: fn(usize, u64) -> String,
    /// The title of the open conversation.
    pub chat_with: fn(&str) -> String,
    pub group_title: fn(&str, usize) -> String,
    /// The line a ring that did not become a call leaves in the conversation: the reason,
    /// the caller, and who reads it.
    pub missed_call_line: fn(Option<Reason>, &str, &str) -> String,
    pub relay_ok: fn(&str) -> String,
    pub relay_failed: fn(Option<&str>) -> String,

    // --- signing in and up ---
    pub sign_in: &'static str,
    pub sign_up: &'static str,
    pub sign_out: &'static str,
    pub name: &'static str,
    pub password: &'static str,
    pub new_password_rule: &'static str,
    pub keep: &'static str,
    pub sign_up_hint: &'static str,
    pub sign_up_by_invite: &'static str,
    pub sign_up_closed: &'static str,
    pub open_name: &'static str,
    pub open_name_hint: &'static str,
    pub signed_in_as: fn(&str) -> String,
    pub my_page: &'static str,
    pub account: &'static str,

    // --- a call page that needs a sign-in ---
    /// Why this name's call page shows a sign-in form instead of the phone.
    pub gate: fn(&str) -> String,
    pub gate_closed_names: &'static str,
    /// The gate, to someone signed in as this other name.
    pub gate_other: fn(&str) -> String,
    /// What a ringing page shows when the person declined this caller on another page.
    pub declined_elsewhere: fn(&str) -> String,
    pub signed_out: &'static str,

    // --- /account ---
    pub account_title: &'static str,
    pub sessions: &'static str,
    pub sessions_hint: &'static str,
    pub this_browser: &'static str,
    pub signed_in_at: &'static str,
    pub last_seen: &'static str,
    pub revoke: &'static str,
    pub admin: &'static str,
    /// The accessible name of a session's *Sign out* button: which browser it ends, and
    /// whether it is this one.
    pub revoke_label: fn(&str, bool) -> String,
    pub change_password: &'static str,
    pub current_password: &'static str,
    pub new_password: &'static str,
    pub change_password_hint: &'static str,
    pub password_changed: &'static str,
    pub invite_title: &'static str,
    pub invite_hint: &'static str,
    pub invite: &'static str,
    pub invite_made: &'static str,
    pub copy: &'static str,
    pub copied: &'static str,
    pub copy_failed: &'static str,
    pub not_signed_in: &'static str,

    // --- /i/TOKEN ---
    pub invited: &'static str,
    pub invited_hint: &'static str,
    /// The invite's name, pinned by whoever made it.
    pub invited_as: fn(&str) -> String,
    pub invite_refused: &'static str,
    pub home: &'static str,

    // --- why the server refused a form (it writes these into the page it answers with) ---
    /// The one answer for a wrong name and a wrong password: which of the two was wrong is
    /// not told, so names cannot be guessed.
    pub wrong_sign_in: &'static str,
    pub wrong_current_password: &'static str,
    pub password_too_short: &'static str,
    pub password_too_long: &'static str,
    pub name_taken: &'static str,
    pub signup_closed: &'static str,
    pub invite_unknown: &'static str,
    pub invite_used_up: &'static str,
    pub invite_expired: &'static str,
    /// A form sent from a page of another site.
    pub foreign_origin: &'static str,
    /// Sign-in attempts past the limit: the seconds to wait.
    pub too_many_attempts: fn(u64) -> String,
    /// An invite pinned to another name.
    pub invite_for: fn(&str) -> String,
}

/// The words of the page being rendered (on the server) or shown (in the browser).
pub fn words() -> &'static Words {
    lang::current().words()
}

/// `millis` (since 1970, UTC) as `yyyy-mm-dd hh:mm UTC`: the same on the server that renders
/// the page and in the browser that hydrates it, wherever each is, and in every language.
pub fn utc_time(millis: i64) -> String {
    let minutes = millis.div_euclid(60_000);
    let (days, minute_of_day) = (minutes.div_euclid(1440), minutes.rem_euclid(1440));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::{Lang, utc_time};
    use crate::protocol::{NameError, Reason};

    #[test]
    fn times_read_in_utc() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        // 2024-02-29 23:59:59 UTC, a leap day.
        assert_eq!(utc_time(1_709_251_199_000), "2024-02-29 23:59 UTC");
        assert_eq!(utc_time(1_709_251_200_000), "2024-03-01 00:00 UTC");
        assert_eq!(utc_time(-60_000), "1969-12-31 23:59 UTC");
    }

    /// The compiler sees that every table has every field; this sees that none is empty.
    #[test]
    fn every_string_is_written_in_every_language() {
        for lang in Lang::ALL {
            let table = format!("{:?}", lang.words());
            assert!(!table.contains(": \"\""), "{lang:?} has an empty string");
        }
    }

    /// Every string with something to fill in says it, in every language.
    #[test]
    fn functions_fill_in_their_arguments() {
        let reasons = [
            Reason::Declined,
            Reason::Busy,
            Reason::Offline,
            Reason::Cancelled,
            Reason::Timeout,
            Reason::HungUp,
            Reason::Gone,
            Reason::NoMedia,
            Reason::NoConnection,
            Reason::AnsweredElsewhere,
            Reason::Other,
        ];
        for lang in Lang::ALL {
            let t = lang.words();
            let one: [fn(&str) -> String; 17] = [
                t.opening_camera,
                t.ring_title,
                t.ringing_out,
                t.ringing_in,
                t.in_call,
                t.connecting_to,
                t.you_cancelled,
                t.you_declined,
                t.glare,
                t.chat_with,
                t.relay_ok,
                t.signed_in_as,
                t.gate,
                t.gate_other,
                t.declined_elsewhere,
                t.invited_as,
                t.invite_for,
            ];
            for fill in one {
                assert!(fill("ximena").contains("ximena"), "{lang:?}");
            }
            for reason in reasons {
                assert!((t.ended)(reason, "ximena").contains("ximena"), "{lang:?}");
                assert!((t.missed)(reason, "ximena").contains("ximena"), "{lang:?}");
                assert!(
                    (t.missed_call_line)(Some(reason), "ximena", "yan").contains("ximena"),
                    "{lang:?}"
                );
                assert!(!(t.missed_call_line)(Some(reason), "yan", "yan").is_empty());
            }
            assert!((t.no_connection)("ximena", true).contains("ximena"));
            assert!((t.no_connection)("ximena", false).contains("ximena"));
            assert!((t.group_title)("g", 3).contains('3'));
            assert!((t.message_too_long)(501, 500).contains("501"));
            assert!((t.too_many_attempts)(42).contains("42"));
            assert!((t.revoke_label)("Firefox", true).contains("Firefox"));
            assert!((t.relay_failed)(Some("boom")).contains("boom"));
            assert!(!(t.relay_failed)(None).is_empty());
            for (lan, secure) in [(true, true), (true, false), (false, false)] {
                assert!(!(t.lan_hint)(lan, secure).is_empty());
            }
            assert!((t.bad_name)(&NameError::BadChar('!')).contains('!'));
        }
    }

    #[test]
    fn chinese_reads_as_chinese() {
        let zh = Lang::ZhCn.words();
        assert_eq!(zh.hang_up, "挂断");
        assert_eq!(zh.accept, "接听");
        assert_eq!(zh.decline, "拒绝");
        assert_eq!(
            (zh.missed)(Reason::Timeout, "alice"),
            "来自 alice 的未接来电。"
        );
        assert_eq!((zh.ended)(Reason::Offline, "bob"), "bob 不在线。");
        // Full-width punctuation: no ASCII sentence marks next to Chinese.
        for lang_text in [zh.ready, zh.camera_blocked, zh.sign_up_hint, zh.name_in_use] {
            for ascii in [',', ':', ';', '(', ')', '?', '!'] {
                assert!(!lang_text.contains(ascii), "{lang_text}");
            }
        }
        let en = Lang::En.words();
        assert_eq!(en.hang_up, "Hang up");
        assert_eq!((en.ended)(Reason::Offline, "bob"), "bob is not online.");
    }
}
