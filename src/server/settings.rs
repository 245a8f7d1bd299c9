//! The server's runtime settings: `Leptos.toml`, each key overridable by an environment
//! variable `DUET_<KEY>` (upper case). Build settings live in `Cargo.toml` for cargo-leptos.

use crate::account::Signup;
use crate::protocol::{IcePolicy, IceServer};
use crate::text::Lang;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A socket that has sent nothing, not even a pong, for this many heartbeats is gone.
pub const SILENT_BEATS: u32 = 3;

/// The default settings file, relative to the working directory.
pub const SETTINGS_FILE: &str = "Leptos.toml";

/// The longest any `*_secs` setting may be: a year. Nothing duet times needs longer, and
/// it keeps every deadline (`Instant` + duration, heartbeat × beats, Unix time + TTL) far
/// from overflowing, which would panic.
pub const MAX_SECS: u64 = 365 * 24 * 3600;

/// The largest `send_queue`: tokio's bounded channel panics on a larger capacity.
pub const MAX_SEND_QUEUE: usize = usize::MAX >> 3;

/// The longest `session_days`: ten years.
pub const MAX_SESSION_DAYS: u64 = 3650;

/// Everything the server can be told at start.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where to listen. `DUET_SITE_ADDR` and then the usual `LEPTOS_SITE_ADDR` override it.
    pub site_addr: SocketAddr,
    /// How long a call rings before it counts as unanswered.
    pub ring_timeout_secs: u64,
    /// How long an accepted call may try to find a media path; then the pages give up and
    /// say what would help (a TURN relay). Sent to pages in their welcome.
    pub connect_timeout_secs: u64,
    /// The largest signaling frame accepted; a larger one closes the socket with 1009.
    pub max_message_bytes: usize,
    /// Frames queued for one socket before its reader counts as stuck and is disconnected.
    pub send_queue: usize,
    /// Seconds between the server's pings; a socket silent for [`SILENT_BEATS`] of them is
    /// counted as gone, so a page that lost its network ends its call within that time.
    pub heartbeat_secs: u64,
    /// Seconds a call is kept after one side's socket is lost (not closed), for that page
    /// to reconnect and carry on; 0 ends the call at once.
    pub grace_secs: u64,
    /// STUN/TURN servers handed to every page. `DUET_ICE_SERVERS` takes them as JSON.
    pub ice_servers: Vec<IceServer>,
    /// `relay` makes pages use TURN relays only (no direct paths: neither side learns the
    /// other's addresses); `all` (the default) lets ICE pick the best path.
    pub ice_transport_policy: IcePolicy,
    /// The shared secret of a TURN server in coturn's `use-auth-secret` mode: each page
    /// gets its own short-lived credentials for `turn_urls`.
    pub turn_secret: Option<String>,
    /// The TURN URLs those credentials are for, e.g. `turn:turn.example.org:3478`.
    pub turn_urls: Vec<String>,
    /// How long TURN credentials live; pages get fresh ones halfway through.
    pub turn_ttl_secs: u64,
    /// Where the built-in TURN server listens (UDP), e.g. `0.0.0.0:3478`; unset, there is
    /// none. It needs `turn_secret` too, and stands in for `turn_urls` when those are empty.
    pub turn_listen: Option<SocketAddr>,
    /// The address the built-in TURN server's relays are advertised on: this machine's
    /// public one. Unset, the address of `turn_listen` (which then must not be 0.0.0.0).
    pub turn_relay_ip: Option<IpAddr>,
    /// The realm the built-in TURN server names in its challenges.
    pub turn_realm: String,
    /// Let the built-in TURN server relay to loopback, private and link-local addresses
    /// (off: a stranger with credentials could otherwise reach this host's own networks).
    pub turn_allow_private: bool,
    /// Allocations one user may hold at once on the built-in TURN server.
    pub turn_max_allocations_per_user: usize,
    /// Where duet keeps its files (the chat database `duet.sqlite3`); created if missing.
    pub data_dir: PathBuf,
    /// The longest chat message, in characters; a longer one is refused, not cut.
    pub max_chat_chars: usize,
    /// Chat frames one socket may send per second, on average ...
    pub chat_rate_per_sec: u32,
    /// ... and at once after a pause.
    pub chat_burst: u32,
    /// Serve HTTPS (and the socket as `wss`) instead of plain HTTP. `DUET_TLS`, or the
    /// `--tls` flag, switch it on.
    pub tls: bool,
    /// The certificate chain (PEM) to serve, e.g. Let's Encrypt's `fullchain.pem`. Without
    /// it duet makes a self-signed certificate and keeps it in [`Settings::data_dir`].
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of [`Settings::tls_cert`], e.g. `privkey.pem`.
    pub tls_key: Option<PathBuf>,
    /// Seconds a connection may take to send a request's headers (and, with TLS, to finish
    /// the handshake first), and may wait between requests; then it is closed.
    pub header_timeout_secs: u64,
    /// Seconds a connection that is not a signaling socket may send and read nothing, in
    /// the middle of a request or response too; then it is closed. Sockets have their own
    /// heartbeat ([`Settings::heartbeat_secs`]).
    pub idle_timeout_secs: u64,
    /// HTTP connections one address (an IPv6 /64) may hold open at once; more are closed as
    /// they arrive. Signaling sockets count only until they are upgraded.
    pub max_connections_per_ip: usize,
    /// Allocations the clients at one address (an IPv6 client's /64) may hold at once on
    /// the built-in TURN server, whatever names they use.
    pub turn_max_allocations_per_address: usize,
    /// The most members a chat group may have, its creator included.
    pub max_group_members: usize,
    /// The most chat groups one person may be a member of.
    pub max_groups_per_user: usize,
    /// Days a message waits for a recipient's page to confirm it; after that it is no
    /// longer sent to that page (it stays in the history).
    pub pending_days: u64,
    /// The most messages waiting for one recipient's page; beyond it the oldest stop
    /// waiting (they stay in the history).
    pub max_pending_per_user: usize,
    /// Bytes of text queued for one socket, beside [`Settings::send_queue`] frames: a page
    /// that stops reading holds at most this (and one larger frame) of the server's memory,
    /// and is disconnected once its queue has been full for three heartbeats (see
    /// `server/queue.rs`).
    pub send_queue_bytes: usize,
    /// Call frames (`offer`, `answer`, `_ice`, `ring_offer`, `call_back`, `hangup`) one
    /// person may send per second, on average ...
    pub call_rate_per_sec: u32,
    /// ... and at once after a pause. Chat receipts (`chat_received`, `chat_read`) and
    /// frames the server can only refuse (bad JSON, unknown types) each have an allowance
    /// of this size too.
    pub call_burst: u32,
    /// Calls (`call_start`) one person may start per minute, on average ...
    pub ring_rate_per_min: u32,
    /// ... and at once after a pause.
    pub ring_burst: u32,
    /// How many people's allowance one client address has in all, for each kind of frame
    /// (people behind one NAT share an address): each rate and burst above, and the chat
    /// ones, times this.
    pub names_per_address: u32,
    /// Names nobody has claimed with an account work as in the original demo: whoever
    /// opens `/webrtc/NAME.html` is NAME. Off, every page and socket needs a sign-in.
    pub open_names: bool,
    /// Who may create an account on the pages: anyone (`open`), whoever has an invite
    /// link (`invite`), or nobody (`closed`: the operator adds people from the command
    /// line; invite links still work).
    pub signup: Signup,
    /// Origins besides the server's own (scheme, host and port a request came to) whose
    /// pages may post its forms and open its sockets, e.g. `https://duet.example.org`
    /// behind a proxy that rewrites Host. `DUET_ALLOWED_ORIGINS` is comma separated.
    pub allowed_origins: Vec<String>,
    /// Days a sign-in lasts since the browser was last seen (each page load extends it).
    pub session_days: u64,
    /// Sign-in attempts one name may take per minute, and (times `names_per_address`)
    /// one client address; more are answered 429 with Retry-After.
    pub login_attempts_per_minute: u32,
    /// Seconds between checks of the signed-in sockets against the database: a session
    /// revoked, expired or removed elsewhere (by the command line, in another process)
    /// closes its sockets within this time.
    pub session_check_secs: u64,
    /// The language of a page whose browser asks for none duet has (no `duet_lang` cookie,
    /// no `?lang=`, no known language in `Accept-Language`), and of the text the server
    /// puts in its notices to original pages: `en` or `zh-CN`. `DUET_DEFAULT_LANGUAGE`.
    pub default_language: Lang,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            ring_timeout_secs: 30,
            connect_timeout_secs: crate::protocol::DEFAULT_CONNECT_TIMEOUT_SECS,
            max_message_bytes: 64 * 1024,
            send_queue: 256,
            heartbeat_secs: 5,
            grace_secs: 20,
            ice_servers: Vec::new(),
            ice_transport_policy: IcePolicy::All,
            turn_secret: None,
            turn_urls: Vec::new(),
            turn_ttl_secs: 3600,
            turn_listen: None,
            turn_relay_ip: None,
            turn_realm: "duet".into(),
            turn_allow_private: false,
            turn_max_allocations_per_user: 10,
            data_dir: PathBuf::from("data"),
            max_chat_chars: 4000,
            chat_rate_per_sec: 20,
            chat_burst: 40,
            tls: false,
            tls_cert: None,
            tls_key: None,
            header_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections_per_ip: 64,
            turn_max_allocations_per_address: 20,
            max_group_members: 100,
            max_groups_per_user: 100,
            pending_days: 30,
            max_pending_per_user: 5000,
            send_queue_bytes: 1024 * 1024,
            call_rate_per_sec: 50,
            call_burst: 100,
            ring_rate_per_min: 60,
            ring_burst: 5,
            names_per_address: 8,
            open_names: true,
            signup: Signup::Open,
            allowed_origins: Vec::new(),
            session_days: 30,
            login_attempts_per_minute: 10,
            session_check_secs: 30,
            default_language: Lang::En,
        }
    }
}

/// A settings file or variable that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("reading settings: {0}")]
    Read(#[from] config::ConfigError),
    #[error("{var} is not valid JSON for a list of ICE servers: {err}")]
    IceServers {
        var: &'static str,
        err: serde_json::Error,
    },
    #[error("{var}={value:?} is not an address like 127.0.0.1:3000")]
    Addr { var: &'static str, value: String },
    #[error("{var}={value:?} is not an IP address")]
    Ip { var: &'static str, value: String },
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("{var}={value:?} is neither on (1, true, on, yes) nor off (0, false, off, no)")]
    Switch { var: &'static str, value: String },
    #[error("{var}={value:?} is none of open, invite, closed")]
    Signup { var: &'static str, value: String },
    #[error("DUET_DEFAULT_LANGUAGE={value:?} is neither en nor zh-CN")]
    Language { value: String },
    #[error("allowed_origins: {0:?} is not an origin like https://duet.example.org")]
    Origin(String),
    #[error("tls_cert and tls_key go together: {0} is set, the other is not")]
    HalfCertificate(&'static str),
    #[error("{key} = {value} is too large: at most {max}")]
    TooLarge {
        key: &'static str,
        value: u64,
        max: u64,
    },
}

impl Settings {
    /// Reads `path` (missing is fine: the defaults apply) and the environment.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let env = |key: &str| std::env::var(key).ok();
        Self::load_with(path, env)
    }

    /// [`Settings::load`] with the environment given, for tests.
    pub fn load_with(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SettingsError> {
        let mut settings: Settings = config::Config::builder()
            .add_source(config::File::from(path).required(false))
            .build()?
            .try_deserialize()?;
        // Each key by hand rather than config's Environment source: that one would also
        // pick up every unrelated DUET_* variable and cannot read a JSON list.
        if let Some(value) = env("DUET_SITE_ADDR").or_else(|| env("LEPTOS_SITE_ADDR")) {
            settings.site_addr = value.parse().map_err(|_| SettingsError::Addr {
                var: "DUET_SITE_ADDR / LEPTOS_SITE_ADDR",
                value,
            })?;
        }
        override_number(
            &env,
            "DUET_RING_TIMEOUT_SECS",
            &mut settings.ring_timeout_secs,
        )?;
        override_number(
            &env,
            "DUET_CONNECT_TIMEOUT_SECS",
            &mut settings.connect_timeout_secs,
        )?;
        override_number(
            &env,
            "DUET_MAX_MESSAGE_BYTES",
            &mut settings.max_message_bytes,
        )?;
        override_number(&env, "DUET_SEND_QUEUE", &mut settings.send_queue)?;
        override_number(&env, "DUET_HEARTBEAT_SECS", &mut settings.heartbeat_secs)?;
        override_number(&env, "DUET_GRACE_SECS", &mut settings.grace_secs)?;
        override_number(&env, "DUET_MAX_CHAT_CHARS", &mut settings.max_chat_chars)?;
        override_number(
            &env,
            "DUET_CHAT_RATE_PER_SEC",
            &mut settings.chat_rate_per_sec,
        )?;
        override_number(&env, "DUET_CHAT_BURST", &mut settings.chat_burst)?;
        override_number(&env, "DUET_TURN_TTL_SECS", &mut settings.turn_ttl_secs)?;
        if let Some(policy) = env("DUET_ICE_TRANSPORT_POLICY") {
            settings.ice_transport_policy = match policy.trim() {
                "all" => IcePolicy::All,
                "relay" => IcePolicy::Relay,
                _ => {
                    return Err(SettingsError::Read(config::ConfigError::Message(format!(
                        "DUET_ICE_TRANSPORT_POLICY={policy:?} is neither \"all\" nor \"relay\""
                    ))));
                }
            };
        }
        if let Some(secret) = env("DUET_TURN_SECRET") {
            settings.turn_secret = Some(secret).filter(|s| !s.is_empty());
        }
        if let Some(urls) = env("DUET_TURN_URLS") {
            settings.turn_urls = urls
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
        }
        override_optional(
            &env,
            "DUET_TURN_LISTEN",
            &mut settings.turn_listen,
            |var, value| SettingsError::Addr { var, value },
        )?;
        override_optional(
            &env,
            "DUET_TURN_RELAY_IP",
            &mut settings.turn_relay_ip,
            |var, value| SettingsError::Ip { var, value },
        )?;
        if let Some(realm) = env("DUET_TURN_REALM") {
            settings.turn_realm = realm;
        }
        override_switch(
            &env,
            "DUET_TURN_ALLOW_PRIVATE",
            &mut settings.turn_allow_private,
        )?;
        override_number(
            &env,
            "DUET_TURN_MAX_ALLOCATIONS_PER_USER",
            &mut settings.turn_max_allocations_per_user,
        )?;
        if let Some(dir) = env("DUET_DATA_DIR") {
            settings.data_dir = PathBuf::from(dir);
        }
        override_switch(&env, "DUET_TLS", &mut settings.tls)?;
        if let Some(path) = env("DUET_TLS_CERT") {
            settings.tls_cert = Some(PathBuf::from(path));
        }
        if let Some(path) = env("DUET_TLS_KEY") {
            settings.tls_key = Some(PathBuf::from(path));
        }
        // An empty value (`tls_cert = ""`, `DUET_TLS_CERT=`) means none, so a variable can
        // switch off a path the file sets.
        settings.tls_cert = settings.tls_cert.filter(|p| !p.as_os_str().is_empty());
        settings.tls_key = settings.tls_key.filter(|p| !p.as_os_str().is_empty());
        match (&settings.tls_cert, &settings.tls_key) {
            (Some(_), None) => return Err(SettingsError::HalfCertificate("tls_cert")),
            (None, Some(_)) => return Err(SettingsError::HalfCertificate("tls_key")),
            _ => {}
        }
        override_number(
            &env,
            "DUET_HEADER_TIMEOUT_SECS",
            &mut settings.header_timeout_secs,
        )?;
        override_number(
            &env,
            "DUET_IDLE_TIMEOUT_SECS",
            &mut settings.idle_timeout_secs,
        )?;
        override_number(
            &env,
            "DUET_MAX_CONNECTIONS_PER_IP",
            &mut settings.max_connections_per_ip,
        )?;
        override_number(
            &env,
            "DUET_TURN_MAX_ALLOCATIONS_PER_ADDRESS",
            &mut settings.turn_max_allocations_per_address,
        )?;
        override_number(
            &env,
            "DUET_MAX_GROUP_MEMBERS",
            &mut settings.max_group_members,
        )?;
        override_number(
            &env,
            "DUET_MAX_GROUPS_PER_USER",
            &mut settings.max_groups_per_user,
        )?;
        override_number(&env, "DUET_PENDING_DAYS", &mut settings.pending_days)?;
        override_number(
            &env,
            "DUET_MAX_PENDING_PER_USER",
            &mut settings.max_pending_per_user,
        )?;
        override_number(
            &env,
            "DUET_SEND_QUEUE_BYTES",
            &mut settings.send_queue_bytes,
        )?;
        override_number(
            &env,
            "DUET_CALL_RATE_PER_SEC",
            &mut settings.call_rate_per_sec,
        )?;
        override_number(&env, "DUET_CALL_BURST", &mut settings.call_burst)?;
        override_number(
            &env,
            "DUET_RING_RATE_PER_MIN",
            &mut settings.ring_rate_per_min,
        )?;
        override_number(&env, "DUET_RING_BURST", &mut settings.ring_burst)?;
        override_number(
            &env,
            "DUET_NAMES_PER_ADDRESS",
            &mut settings.names_per_address,
        )?;
        override_switch(&env, "DUET_OPEN_NAMES", &mut settings.open_names)?;
        if let Some(value) = env("DUET_SIGNUP") {
            settings.signup = match value.trim() {
                "open" => Signup::Open,
                "invite" => Signup::Invite,
                "closed" => Signup::Closed,
                _ => {
                    return Err(SettingsError::Signup {
                        var: "DUET_SIGNUP",
                        value,
                    });
                }
            };
        }
        if let Some(value) = env("DUET_DEFAULT_LANGUAGE") {
            settings.default_language =
                Lang::parse(&value).ok_or(SettingsError::Language { value })?;
        }
        if let Some(list) = env("DUET_ALLOWED_ORIGINS") {
            settings.allowed_origins = list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned)
                .collect();
        }
        // As browsers write them: no trailing slash, scheme and host in lower case.
        for origin in &mut settings.allowed_origins {
            let trimmed = origin.trim().trim_end_matches('/').to_ascii_lowercase();
            let well_formed = trimmed.split_once("://").is_some_and(|(scheme, host)| {
                !scheme.is_empty() && !host.is_empty() && !host.contains('/')
            });
            if !well_formed {
                return Err(SettingsError::Origin(origin.clone()));
            }
            *origin = trimmed;
        }
        override_number(&env, "DUET_SESSION_DAYS", &mut settings.session_days)?;
        override_number(
            &env,
            "DUET_LOGIN_ATTEMPTS_PER_MINUTE",
            &mut settings.login_attempts_per_minute,
        )?;
        override_number(
            &env,
            "DUET_SESSION_CHECK_SECS",
            &mut settings.session_check_secs,
        )?;
        if let Some(json) = env("DUET_ICE_SERVERS") {
            settings.ice_servers =
                serde_json::from_str(&json).map_err(|err| SettingsError::IceServers {
                    var: "DUET_ICE_SERVERS",
                    err,
                })?;
        }
        for (key, value) in [
            ("ring_timeout_secs", settings.ring_timeout_secs as usize),
            (
                "connect_timeout_secs",
                settings.connect_timeout_secs as usize,
            ),
            ("max_message_bytes", settings.max_message_bytes),
            ("send_queue", settings.send_queue),
            ("heartbeat_secs", settings.heartbeat_secs as usize),
            ("max_chat_chars", settings.max_chat_chars),
            ("chat_rate_per_sec", settings.chat_rate_per_sec as usize),
            ("chat_burst", settings.chat_burst as usize),
            ("turn_ttl_secs", settings.turn_ttl_secs as usize),
            (
                "turn_max_allocations_per_user",
                settings.turn_max_allocations_per_user,
            ),
            ("header_timeout_secs", settings.header_timeout_secs as usize),
            ("idle_timeout_secs", settings.idle_timeout_secs as usize),
            ("max_connections_per_ip", settings.max_connections_per_ip),
            (
                "turn_max_allocations_per_address",
                settings.turn_max_allocations_per_address,
            ),
            ("max_group_members", settings.max_group_members),
            ("max_groups_per_user", settings.max_groups_per_user),
            ("pending_days", settings.pending_days as usize),
            ("max_pending_per_user", settings.max_pending_per_user),
            ("send_queue_bytes", settings.send_queue_bytes),
            ("call_rate_per_sec", settings.call_rate_per_sec as usize),
            ("call_burst", settings.call_burst as usize),
            ("ring_rate_per_min", settings.ring_rate_per_min as usize),
            ("ring_burst", settings.ring_burst as usize),
            ("names_per_address", settings.names_per_address as usize),
            ("session_days", settings.session_days as usize),
            (
                "login_attempts_per_minute",
                settings.login_attempts_per_minute as usize,
            ),
            ("session_check_secs", settings.session_check_secs as usize),
        ] {
            if value == 0 {
                return Err(SettingsError::Zero(key));
            }
        }
        for (key, value) in [
            ("ring_timeout_secs", settings.ring_timeout_secs),
            ("connect_timeout_secs", settings.connect_timeout_secs),
            ("heartbeat_secs", settings.heartbeat_secs),
            ("grace_secs", settings.grace_secs),
            ("turn_ttl_secs", settings.turn_ttl_secs),
            ("header_timeout_secs", settings.header_timeout_secs),
            ("idle_timeout_secs", settings.idle_timeout_secs),
            ("session_check_secs", settings.session_check_secs),
        ] {
            at_most(key, value, MAX_SECS)?;
        }
        at_most("session_days", settings.session_days, MAX_SESSION_DAYS)?;
        at_most(
            "send_queue",
            settings.send_queue as u64,
            MAX_SEND_QUEUE as u64,
        )?;
        Ok(settings)
    }

    pub fn ring_timeout(&self) -> Duration {
        Duration::from_secs(self.ring_timeout_secs)
    }

    pub fn heartbeat(&self) -> Duration {
        Duration::from_secs(self.heartbeat_secs)
    }

    pub fn grace(&self) -> Duration {
        Duration::from_secs(self.grace_secs)
    }

    /// How often a page gets fresh TURN credentials: halfway through their life.
    pub fn turn_refresh(&self) -> Option<Duration> {
        (self.turn_secret.is_some() && !self.turn_urls.is_empty())
            .then(|| Duration::from_secs(self.turn_ttl_secs).max(Duration::from_secs(2)) / 2)
    }

    /// The chat database's path.
    pub fn database(&self) -> PathBuf {
        self.data_dir.join("duet.sqlite3")
    }

    /// How long a sign-in lasts since the browser was last seen.
    pub fn session_life(&self) -> Duration {
        Duration::from_secs(self.session_days * 24 * 3600)
    }

    pub fn session_check(&self) -> Duration {
        Duration::from_secs(self.session_check_secs)
    }

    /// `https` with TLS on, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls { "https" } else { "http" }
    }
}

/// Refuses `value` of `key` above `max`.
fn at_most(key: &'static str, value: u64, max: u64) -> Result<(), SettingsError> {
    if value > max {
        return Err(SettingsError::TooLarge { key, value, max });
    }
    Ok(())
}

/// Sets the on/off `slot` from `var` if it is set, taking the words config takes for a
/// boolean in the file too (1/true/on/yes, 0/false/off/no; empty is off).
fn override_switch(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    slot: &mut bool,
) -> Result<(), SettingsError> {
    if let Some(value) = env(var) {
        *slot = match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "on" | "yes" => true,
            "0" | "false" | "off" | "no" | "" => false,
            _ => return Err(SettingsError::Switch { var, value }),
        };
    }
    Ok(())
}

/// Sets `slot` from `var` if it is set: empty clears it, anything else must parse (`bad`
/// names the error).
fn override_optional<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    slot: &mut Option<T>,
    bad: impl FnOnce(&'static str, String) -> SettingsError,
) -> Result<(), SettingsError> {
    if let Some(value) = env(var) {
        let trimmed = value.trim();
        *slot = if trimmed.is_empty() {
            None
        } else {
            Some(trimmed.parse().map_err(|_| bad(var, value.clone()))?)
        };
    }
    Ok(())
}

fn override_number<T: std::str::FromStr>(
    env: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    slot: &mut T,
) -> Result<(), SettingsError> {
    if let Some(value) = env(var) {
        *slot = value.trim().parse().map_err(|_| {
            SettingsError::Read(config::ConfigError::Message(format!(
                "{var}={value:?} is not a whole number"
            )))
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
