//! The words the sign-in, sign-up, account and invite pages show.

// --- signing in and up ---------------------------------------------------------------

pub const SIGN_IN: &str = "Sign in";
pub const SIGN_UP: &str = "Create an account";
pub const SIGN_OUT: &str = "Sign out";
pub const NAME: &str = "Name";
pub const PASSWORD: &str = "Password";
pub const NEW_PASSWORD_RULE: &str = "At least 8 characters.";
pub const KEEP: &str = "Keep me signed in";
pub const SIGN_UP_HINT: &str = "Your name is then yours: its page, calls and chat open only \
     with your password.";
pub const SIGN_UP_BY_INVITE: &str = "New accounts need an invite link from someone here.";
pub const SIGN_UP_CLOSED: &str = "New accounts are made by the operator of this server.";
pub const OPEN_NAME: &str = "Or use a name without an account";
pub const OPEN_NAME_HINT: &str =
    "Anyone who opens the same name gets its page, so use this only to try duet.";

pub fn signed_in_as(name: &str) -> String {
    format!("Signed in as {name}")
}

pub const MY_PAGE: &str = "Your call page";
pub const ACCOUNT: &str = "Account";

// --- a call page that needs a sign-in ----------------------------------------------------

/// Why `name`'s call page shows a sign-in form instead of the phone.
pub fn gate(name: &str) -> String {
    format!("{name}'s page is private. Sign in as {name} to open it.")
}

pub const GATE_CLOSED_NAMES: &str = "This server opens call pages only for signed-in people.";

/// The gate, to someone signed in as another name.
pub fn gate_other(signed_in: &str) -> String {
    format!("You are signed in as {signed_in}; signing in here switches this browser.")
}

/// What a ringing page shows when the person declined the call on another of their pages.
pub fn declined_elsewhere(from: &str) -> String {
    format!("The call from {from} was declined on another device.")
}

pub const SIGNED_OUT: &str = "This page was signed out.";

// --- /account ---------------------------------------------------------------------------

pub const ACCOUNT_TITLE: &str = "Your account";
pub const SESSIONS: &str = "Signed-in browsers";
pub const SESSIONS_HINT: &str = "Sign out a browser you no longer use: its open pages close \
     at once.";
pub const THIS_BROWSER: &str = "this browser";
pub const SIGNED_IN_AT: &str = "Signed in";
pub const LAST_SEEN: &str = "last seen";
pub const REVOKE: &str = "Sign out";
pub const ADMIN: &str = "administrator";

/// The accessible name of a session's *Sign out* button: which browser it ends.
pub fn revoke_label(device: &str, current: bool) -> String {
    if current {
        format!("Sign out {device} (this browser)")
    } else {
        format!("Sign out {device}")
    }
}

pub const CHANGE_PASSWORD: &str = "Change password";
pub const CURRENT_PASSWORD: &str = "Current password";
pub const NEW_PASSWORD: &str = "New password";
pub const CHANGE_PASSWORD_HINT: &str = "Every other browser is signed out.";
pub const PASSWORD_CHANGED: &str =
    "Password changed. Every other browser signed in as you was signed out.";

pub const INVITE_TITLE: &str = "Invite someone";
pub const INVITE_HINT: &str = "The link lets one person create an account, within 7 days.";
pub const INVITE: &str = "Make an invite link";
pub const INVITE_MADE: &str = "Send this link to the person you invite. It is shown only once.";
pub const COPY: &str = "Copy";
pub const COPIED: &str = "Copied.";
pub const COPY_FAILED: &str = "Could not copy: select the link and copy it by hand.";
pub const NOT_SIGNED_IN: &str = "Sign in to see your account.";

// --- /i/TOKEN ---------------------------------------------------------------------------

pub const INVITED: &str = "You are invited";
pub const INVITED_HINT: &str = "Pick a password to create your account.";

/// The invite's name is pinned by whoever made it.
pub fn invited_as(name: &str) -> String {
    format!("This invite is for the name {name}.")
}

pub const INVITE_REFUSED: &str = "This invite link cannot be used";
pub const HOME: &str = "Go to the home page";

/// `millis` (since 1970, UTC) as `yyyy-mm-dd hh:mm UTC`: the same on the server that renders
/// the page and in the browser that hydrates it, wherever each is.
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
    use super::utc_time;

    #[test]
    fn times_read_in_utc() {
        assert_eq!(utc_time(0), "1970-01-01 00:00 UTC");
        // 2024-02-29 23:59:59 UTC, a leap day.
        assert_eq!(utc_time(1_709_251_199_000), "2024-02-29 23:59 UTC");
        assert_eq!(utc_time(1_709_251_200_000), "2024-03-01 00:00 UTC");
        assert_eq!(utc_time(-60_000), "1969-12-31 23:59 UTC");
    }
}
