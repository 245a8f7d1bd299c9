//! `duet user ...` and `duet invite ...`: the operator's commands, in the server's own
//! binary, on the database of the settings' `data_dir` (while the server runs, too).
//!
//! ```text
//! duet user add NAME [--admin]      the password is read from standard input
//! duet user passwd NAME             likewise; signs out every session of NAME
//! duet user list
//! duet user remove NAME [--purge]   --purge deletes its history too, freeing the name
//! duet invite create [--name NAME] [--uses N] [--expires 7d] [--origin URL]
//! ```

use super::accounts::{Accounts, AccountsError, InviteSpec};
use crate::account::paths;
use crate::server::settings::Settings;
use std::io::BufRead;
use std::time::Duration;

pub const USAGE: &str = "usage: duet [--tls]                       serve (settings: Leptos.toml and DUET_* variables)
       duet user add NAME [--admin]        add an account; its password from standard input
       duet user passwd NAME               set a password (from standard input); signs NAME out everywhere
       duet user list                      list the accounts
       duet user remove NAME [--purge]     remove an account (--purge: and its history, freeing the name)
       duet invite create [--name NAME] [--uses N] [--expires 7d] [--origin URL]
                                           print an invite link";

/// Whether `args` (without the program's name) are a command rather than the server's.
pub fn is_command(args: &[String]) -> bool {
    matches!(args.first().map(String::as_str), Some("user" | "invite"))
}

/// What went wrong with a command: its exit status is 2 for usage, 1 otherwise.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}\n{USAGE}")]
    Usage(String),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error("reading the password from standard input: {0}")]
    Stdin(std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            _ => 1,
        }
    }
}

/// Runs the command `args` against `settings`' data directory, reading a password from
/// `stdin` when the command needs one; what to print.
pub async fn run(
    args: &[String],
    settings: &Settings,
    stdin: impl BufRead,
) -> Result<String, CliError> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let usage = |what: &str| CliError::Usage(what.to_owned());
    // Parsed before the database opens, so a typo touches nothing.
    enum Command<'a> {
        Add(&'a str, bool),
        Passwd(&'a str),
        List,
        Remove(&'a str, bool),
        Invite(InviteSpec, Option<String>),
    }
    let command = match words.as_slice() {
        ["user", "add", name, rest @ ..] => Command::Add(name, flag(rest, "--admin")?),
        ["user", "passwd", name] => Command::Passwd(name),
        ["user", "list"] => Command::List,
        ["user", "remove", name, rest @ ..] => Command::Remove(name, flag(rest, "--purge")?),
        ["invite", "create", rest @ ..] => {
            let (spec, origin) = invite_options(rest)?;
            Command::Invite(spec, origin)
        }
        _ => return Err(usage("duet: unknown command")),
    };
    let accounts = Accounts::open(settings).map_err(AccountsError::from)?;
    match command {
        Command::Add(name, admin) => {
            let password = read_password(stdin)?;
            accounts.add_user(name, &password, admin).await?;
            let admin = if admin { " (administrator)" } else { "" };
            Ok(format!("added {name}{admin}"))
        }
        Command::Passwd(name) => {
            let password = read_password(stdin)?;
            let ended = accounts.set_password(name, &password).await?;
            Ok(format!(
                "changed the password of {name}; signed out {ended} session(s)"
            ))
        }
        Command::List => {
            let mut out = String::from("name\tadmin\tremoved\tsessions\tcreated (ms since 1970)");
            for user in accounts.list().await? {
                out.push_str(&format!(
                    "\n{}\t{}\t{}\t{}\t{}",
                    user.name,
                    yes_no(user.admin),
                    yes_no(user.removed),
                    user.sessions,
                    user.created_at
                ));
            }
            Ok(out)
        }
        Command::Remove(name, purge) => {
            accounts.remove(name, purge).await?;
            Ok(if purge {
                format!("removed {name} and its history; the name is free")
            } else {
                format!("removed {name}; the name stays taken")
            })
        }
        Command::Invite(spec, origin) => {
            let token = accounts.create_invite(spec).await?;
            let origin = origin.unwrap_or_else(|| default_origin(settings));
            Ok(format!("{origin}{}{token}", paths::INVITE_PREFIX))
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// Whether `rest` is `[flag]` (true) or empty (false).
fn flag(rest: &[&str], flag: &str) -> Result<bool, CliError> {
    match rest {
        [] => Ok(false),
        [f] if *f == flag => Ok(true),
        _ => Err(CliError::Usage(format!(
            "duet: unexpected {}",
            rest.join(" ")
        ))),
    }
}

fn invite_options(mut rest: &[&str]) -> Result<(InviteSpec, Option<String>), CliError> {
    let mut spec = InviteSpec::default();
    let mut origin = None;
    while let [option, value, tail @ ..] = rest {
        match *option {
            "--name" => spec.name = Some((*value).to_owned()),
            "--uses" => {
                spec.uses = value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                    CliError::Usage(format!("duet: --uses {value}: a whole number above 0"))
                })?;
            }
            "--expires" => {
                spec.life = duration(value).ok_or_else(|| {
                    CliError::Usage(format!("duet: --expires {value}: like 7d, 12h, 30m"))
                })?;
            }
            "--origin" => origin = Some(value.trim_end_matches('/').to_owned()),
            _ => return Err(CliError::Usage(format!("duet: unknown option {option}"))),
        }
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(CliError::Usage(format!(
            "duet: {} needs a value",
            rest.join(" ")
        )));
    }
    Ok((spec, origin))
}

/// `7d`, `12h`, `30m`, `45s` (or plain seconds).
pub fn duration(text: &str) -> Option<Duration> {
    let (number, unit) = match text.char_indices().last()? {
        (i, c) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let n: u64 = number.parse().ok()?;
    let secs = match unit {
        'd' => n.checked_mul(24 * 3600)?,
        'h' => n.checked_mul(3600)?,
        'm' => n.checked_mul(60)?,
        's' => n,
        _ => return None,
    };
    (secs <= crate::server::settings::MAX_SECS).then(|| Duration::from_secs(secs))
}

/// The server's own address, as the settings say: on `0.0.0.0` this machine's loopback
/// (`--origin` gives the address others reach it by).
fn default_origin(settings: &Settings) -> String {
    let mut addr = settings.site_addr;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    format!("{}://{addr}", settings.scheme())
}

/// The first line of `stdin`, without its line end.
fn read_password(mut stdin: impl BufRead) -> Result<String, CliError> {
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(CliError::Stdin)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_with_their_unit() {
        assert_eq!(duration("7d"), Some(Duration::from_secs(7 * 24 * 3600)));
        assert_eq!(duration("12h"), Some(Duration::from_secs(12 * 3600)));
        assert_eq!(duration("30m"), Some(Duration::from_secs(1800)));
        assert_eq!(duration("45"), Some(Duration::from_secs(45)));
        for bad in ["", "d", "7w", "-1d", "99999999999999d"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn invite_options_and_flags() {
        let (spec, origin) =
            invite_options(&["--name", "dave", "--uses", "3", "--origin", "https://x/"]).unwrap();
        assert_eq!(spec.name.as_deref(), Some("dave"));
        assert_eq!(spec.uses, 3);
        assert_eq!(origin.as_deref(), Some("https://x"));
        assert!(invite_options(&["--uses", "0"]).is_err());
        assert!(invite_options(&["--name"]).is_err());
        assert!(flag(&["--admin"], "--admin").unwrap());
        assert!(flag(&["--purge"], "--admin").is_err());
        assert!(is_command(&["user".into()]));
        assert!(!is_command(&["--tls".into()]));
    }
}
