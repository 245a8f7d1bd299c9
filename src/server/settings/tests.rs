use super::*;
use std::collections::HashMap;

fn load(toml: &str, vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let dir = std::env::temp_dir().join(format!("duet-settings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Named by content: tests run in parallel, and two files of one name would race.
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(toml, &mut hasher);
    let path = dir.join(format!("{:x}.toml", std::hash::Hasher::finish(&hasher)));
    std::fs::write(&path, toml).unwrap();
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::load_with(&path, |k| vars.get(k).cloned())
}

#[test]
fn the_shipped_file_parses_to_the_defaults() {
    let shipped = Settings::load_with(Path::new(SETTINGS_FILE), |_| None).unwrap();
    let defaults = Settings::default();
    assert_eq!(shipped.site_addr, defaults.site_addr);
    assert_eq!(shipped.ring_timeout_secs, 30);
    assert_eq!(shipped.connect_timeout_secs, 20);
    assert_eq!(shipped.max_message_bytes, 65536);
    assert_eq!(shipped.heartbeat_secs, defaults.heartbeat_secs);
    assert!(shipped.ice_servers.is_empty());
    assert_eq!(shipped.data_dir, defaults.data_dir);
    assert_eq!(shipped.max_chat_chars, 4000);
    assert_eq!(shipped.grace_secs, 20);
    assert_eq!(shipped.chat_rate_per_sec, defaults.chat_rate_per_sec);
    assert_eq!(shipped.chat_burst, defaults.chat_burst);
    assert!(!shipped.tls, "plain HTTP unless asked");
    assert_eq!(shipped.tls_cert, None);
    assert_eq!(shipped.tls_key, None);
    assert_eq!(shipped.turn_listen, None);
    assert_eq!(shipped.turn_realm, defaults.turn_realm);
    assert!(!shipped.turn_allow_private);
    assert_eq!(shipped.turn_max_allocations_per_user, 10);
    assert_eq!(shipped.header_timeout_secs, defaults.header_timeout_secs);
    assert_eq!(shipped.idle_timeout_secs, defaults.idle_timeout_secs);
    assert_eq!(
        shipped.max_connections_per_ip,
        defaults.max_connections_per_ip
    );
    assert_eq!(shipped.max_group_members, defaults.max_group_members);
    assert_eq!(shipped.max_groups_per_user, defaults.max_groups_per_user);
    assert_eq!(shipped.pending_days, defaults.pending_days);
    assert_eq!(shipped.max_pending_per_user, defaults.max_pending_per_user);
}

#[test]
fn chat_limits_from_file_and_environment() {
    let s = load("max_group_members = 8\npending_days = 7\n", &[]).unwrap();
    assert_eq!((s.max_group_members, s.pending_days), (8, 7));
    let s = load(
        "max_group_members = 8\n",
        &[
            ("DUET_MAX_GROUP_MEMBERS", "9"),
            ("DUET_MAX_GROUPS_PER_USER", "3"),
            ("DUET_PENDING_DAYS", "2"),
            ("DUET_MAX_PENDING_PER_USER", "50"),
        ],
    )
    .unwrap();
    assert_eq!(s.max_group_members, 9);
    assert_eq!(s.max_groups_per_user, 3);
    assert_eq!(s.pending_days, 2);
    assert_eq!(s.max_pending_per_user, 50);
    for key in [
        "max_group_members",
        "max_groups_per_user",
        "pending_days",
        "max_pending_per_user",
    ] {
        let err = load(&format!("{key} = 0\n"), &[]).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    }
}

#[test]
fn the_built_in_turn_server_from_file_and_environment() {
    let s = load(
        "turn_listen = \"0.0.0.0:3478\"\nturn_relay_ip = \"203.0.113.5\"\nturn_realm = \"r\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(s.turn_listen, Some("0.0.0.0:3478".parse().unwrap()));
    assert_eq!(s.turn_relay_ip, Some("203.0.113.5".parse().unwrap()));
    assert_eq!(s.turn_realm, "r");
    let s = load(
        "turn_listen = \"0.0.0.0:3478\"\n",
        &[
            ("DUET_TURN_LISTEN", "127.0.0.1:3479"),
            ("DUET_TURN_RELAY_IP", "::1"),
            ("DUET_TURN_ALLOW_PRIVATE", "1"),
            ("DUET_TURN_MAX_ALLOCATIONS_PER_USER", "3"),
        ],
    )
    .unwrap();
    assert_eq!(s.turn_listen, Some("127.0.0.1:3479".parse().unwrap()));
    assert_eq!(s.turn_relay_ip, Some("::1".parse().unwrap()));
    assert!(s.turn_allow_private);
    assert_eq!(s.turn_max_allocations_per_user, 3);
    let s = load(
        "turn_listen = \"0.0.0.0:3478\"\n",
        &[("DUET_TURN_LISTEN", "")],
    )
    .unwrap();
    assert_eq!(s.turn_listen, None);
    for (var, value) in [
        ("DUET_TURN_LISTEN", "3478"),
        ("DUET_TURN_RELAY_IP", "turn.example.org"),
        ("DUET_TURN_ALLOW_PRIVATE", "maybe"),
        ("DUET_TURN_MAX_ALLOCATIONS_PER_USER", "0"),
    ] {
        let err = load("", &[(var, value)]).unwrap_err().to_string();
        assert!(
            err.contains(var) || err.contains("turn_max_allocations_per_user"),
            "{err}"
        );
    }
}

#[test]
fn tls_from_file_then_environment() {
    let s = load(
        "tls = true\ntls_cert = \"/etc/le/fullchain.pem\"\ntls_key = \"/etc/le/privkey.pem\"\n",
        &[],
    )
    .unwrap();
    assert!(s.tls);
    assert_eq!(s.scheme(), "https");
    assert_eq!(
        s.tls_cert.as_deref(),
        Some(Path::new("/etc/le/fullchain.pem"))
    );
    assert_eq!(s.tls_key.as_deref(), Some(Path::new("/etc/le/privkey.pem")));

    let s = load(
        "tls = true\ntls_cert = \"a.pem\"\ntls_key = \"b.pem\"\n",
        &[
            ("DUET_TLS", "0"),
            ("DUET_TLS_CERT", ""),
            ("DUET_TLS_KEY", ""),
        ],
    )
    .unwrap();
    assert!(!s.tls);
    assert_eq!(s.scheme(), "http");
    assert_eq!((s.tls_cert, s.tls_key), (None, None));

    for on in ["1", "true", "TRUE", " true ", "on", "yes"] {
        assert!(load("", &[("DUET_TLS", on)]).unwrap().tls, "{on:?}");
    }
    let s = load(
        "",
        &[
            ("DUET_TLS", "1"),
            ("DUET_TLS_CERT", "c.pem"),
            ("DUET_TLS_KEY", "k.pem"),
        ],
    )
    .unwrap();
    assert_eq!(s.tls_cert.as_deref(), Some(Path::new("c.pem")));
    assert_eq!(s.tls_key.as_deref(), Some(Path::new("k.pem")));
}

#[test]
fn bad_tls_values_are_named() {
    let err = load("", &[("DUET_TLS", "yes please")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("DUET_TLS"), "{err}");
    let err = load("tls = \"maybe\"\n", &[]).unwrap_err().to_string();
    assert!(err.contains("tls"), "{err}");
    let err = load("tls_cert = \"c.pem\"\n", &[]).unwrap_err().to_string();
    assert!(err.contains("tls_cert") && err.contains("tls_key"), "{err}");
    let err = load("", &[("DUET_TLS_KEY", "k.pem")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("tls_key is set"), "{err}");
}

#[test]
fn account_settings_from_file_then_environment() {
    let defaults = load("", &[]).unwrap();
    assert!(defaults.open_names);
    assert_eq!(defaults.signup, Signup::Open);
    assert_eq!(
        (defaults.session_days, defaults.login_attempts_per_minute),
        (30, 10)
    );
    let s = load(
        "open_names = false\nsignup = \"invite\"\nallowed_origins = [\"https://A.example/\"]\n",
        &[
            ("DUET_SESSION_DAYS", "7"),
            ("DUET_LOGIN_ATTEMPTS_PER_MINUTE", "3"),
        ],
    )
    .unwrap();
    assert!(!s.open_names);
    assert_eq!(s.signup, Signup::Invite);
    assert_eq!(s.allowed_origins, vec!["https://a.example".to_string()]);
    assert_eq!((s.session_days, s.login_attempts_per_minute), (7, 3));
    let s = load(
        "",
        &[
            ("DUET_OPEN_NAMES", "1"),
            ("DUET_SIGNUP", "closed"),
            ("DUET_DEFAULT_LANGUAGE", "zh-CN"),
            ("DUET_ALLOWED_ORIGINS", "http://a:1, https://b"),
        ],
    )
    .unwrap();
    assert!(s.open_names);
    assert_eq!(s.signup, Signup::Closed);
    assert_eq!(s.default_language, Lang::ZhCn);
    assert_eq!(s.allowed_origins.len(), 2);
    for (var, value) in [
        ("DUET_SIGNUP", "maybe"),
        ("DUET_DEFAULT_LANGUAGE", "fr"),
        ("DUET_ALLOWED_ORIGINS", "a.example"),
        ("DUET_SESSION_DAYS", "0"),
        ("DUET_SESSION_DAYS", "100000"),
        ("DUET_LOGIN_ATTEMPTS_PER_MINUTE", "0"),
    ] {
        let err = load("", &[(var, value)]).unwrap_err().to_string();
        assert!(
            err.contains(var) || err.contains(&var[5..].to_lowercase()) || err.contains(value),
            "{var}={value}: {err}"
        );
    }
}

#[test]
fn file_then_environment() {
    let s = load(
        "ring_timeout_secs = 5\nice_servers = [{ urls = [\"stun:a\"] }]\n",
        &[
            ("DUET_SEND_QUEUE", "8"),
            ("LEPTOS_SITE_ADDR", "127.0.0.1:9"),
        ],
    )
    .unwrap();
    assert_eq!(s.ring_timeout_secs, 5);
    assert_eq!(s.send_queue, 8);
    assert_eq!(s.site_addr.port(), 9);
    assert_eq!(s.ice_servers[0].urls, vec!["stun:a".to_string()]);
    let s = load(
        "",
        &[
            ("DUET_SITE_ADDR", "127.0.0.1:7"),
            ("LEPTOS_SITE_ADDR", "127.0.0.1:9"),
            (
                "DUET_ICE_SERVERS",
                r#"[{"urls":["turn:t"],"username":"u","credential":"p"}]"#,
            ),
        ],
    )
    .unwrap();
    assert_eq!(s.site_addr.port(), 7);
    assert_eq!(s.ice_servers[0].username.as_deref(), Some("u"));
}

#[test]
fn bad_values_are_named() {
    let err = load("ring_timout_secs = 5\n", &[]).unwrap_err().to_string();
    assert!(err.contains("ring_timout_secs"), "{err}");
    let err = load("", &[("DUET_RING_TIMEOUT_SECS", "soon")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("DUET_RING_TIMEOUT_SECS"), "{err}");
    let err = load("", &[("DUET_ICE_SERVERS", "stun:x")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("DUET_ICE_SERVERS"), "{err}");
    let err = load("", &[("DUET_SITE_ADDR", "localhost")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("localhost"), "{err}");
    let err = load("", &[("DUET_ICE_TRANSPORT_POLICY", "direct")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("DUET_ICE_TRANSPORT_POLICY"), "{err}");
    let relay = load("ice_transport_policy = \"relay\"\n", &[]).unwrap();
    assert_eq!(relay.ice_transport_policy, IcePolicy::Relay);
    let err = load("send_queue = 0\n", &[]).unwrap_err().to_string();
    assert!(err.contains("send_queue"), "{err}");
}

#[test]
fn connection_limits_from_file_then_environment() {
    let s = load(
        "header_timeout_secs = 3\nidle_timeout_secs = 30\nmax_connections_per_ip = 8\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        (
            s.header_timeout_secs,
            s.idle_timeout_secs,
            s.max_connections_per_ip
        ),
        (3, 30, 8)
    );
    let s = load(
        "header_timeout_secs = 3\n",
        &[
            ("DUET_HEADER_TIMEOUT_SECS", "4"),
            ("DUET_IDLE_TIMEOUT_SECS", "5"),
            ("DUET_MAX_CONNECTIONS_PER_IP", "6"),
        ],
    )
    .unwrap();
    assert_eq!(
        (
            s.header_timeout_secs,
            s.idle_timeout_secs,
            s.max_connections_per_ip
        ),
        (4, 5, 6)
    );
    for key in [
        "header_timeout_secs",
        "idle_timeout_secs",
        "max_connections_per_ip",
    ] {
        let err = load(&format!("{key} = 0\n"), &[]).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
    }
}

#[test]
fn durations_that_would_overflow_are_refused_by_name() {
    for key in [
        "ring_timeout_secs",
        "connect_timeout_secs",
        "heartbeat_secs",
        "grace_secs",
        "turn_ttl_secs",
        "header_timeout_secs",
        "idle_timeout_secs",
    ] {
        let at_max = load(&format!("{key} = {MAX_SECS}\n"), &[]);
        assert!(at_max.is_ok(), "{key} = {MAX_SECS}: {:?}", at_max.err());
        for too_long in [MAX_SECS + 1, i64::MAX as u64] {
            let err = load(&format!("{key} = {too_long}\n"), &[])
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(key) && err.contains(&format!("at most {MAX_SECS}")),
                "{err}"
            );
        }
        let var = format!("DUET_{}", key.to_uppercase());
        let err = load("", &[(&var, &u64::MAX.to_string())])
            .unwrap_err()
            .to_string();
        assert!(err.contains(key) && err.contains("at most"), "{err}");
    }
    let err = load("", &[("DUET_SEND_QUEUE", &usize::MAX.to_string())])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("send_queue") && err.contains(&MAX_SEND_QUEUE.to_string()),
        "{err}"
    );
}

#[test]
fn the_turn_cap_per_address_from_file_and_environment() {
    let shipped = Settings::load_with(Path::new(SETTINGS_FILE), |_| None).unwrap();
    assert_eq!(shipped.turn_max_allocations_per_address, 20);
    let s = load("turn_max_allocations_per_address = 4\n", &[]).unwrap();
    assert_eq!(s.turn_max_allocations_per_address, 4);
    let s = load("", &[("DUET_TURN_MAX_ALLOCATIONS_PER_ADDRESS", "7")]).unwrap();
    assert_eq!(s.turn_max_allocations_per_address, 7);
    for (var, value) in [
        ("DUET_TURN_MAX_ALLOCATIONS_PER_ADDRESS", "0"),
        ("DUET_TURN_MAX_ALLOCATIONS_PER_ADDRESS", "many"),
        (
            "DUET_TURN_MAX_ALLOCATIONS_PER_ADDRESS",
            "18446744073709551616",
        ),
    ] {
        let err = load("", &[(var, value)]).unwrap_err().to_string();
        assert!(
            err.contains(var) || err.contains("turn_max_allocations_per_address"),
            "{value}: {err}"
        );
    }
}

#[test]
fn queue_bytes_and_allowances_from_file_then_environment() {
    let shipped = Settings::load_with(Path::new(SETTINGS_FILE), |_| None).unwrap();
    let defaults = Settings::default();
    assert_eq!(shipped.send_queue_bytes, defaults.send_queue_bytes);
    assert_eq!(shipped.call_rate_per_sec, defaults.call_rate_per_sec);
    assert_eq!(shipped.call_burst, defaults.call_burst);
    assert_eq!(shipped.ring_rate_per_min, defaults.ring_rate_per_min);
    assert_eq!(shipped.ring_burst, defaults.ring_burst);
    assert_eq!(shipped.names_per_address, defaults.names_per_address);
    let s = load(
        "send_queue_bytes = 4096\ncall_burst = 9\n",
        &[
            ("DUET_SEND_QUEUE_BYTES", "8192"),
            ("DUET_CALL_RATE_PER_SEC", "7"),
            ("DUET_RING_RATE_PER_MIN", "6"),
            ("DUET_RING_BURST", "2"),
            ("DUET_NAMES_PER_ADDRESS", "3"),
        ],
    )
    .unwrap();
    assert_eq!(s.send_queue_bytes, 8192);
    assert_eq!((s.call_rate_per_sec, s.call_burst), (7, 9));
    assert_eq!((s.ring_rate_per_min, s.ring_burst), (6, 2));
    assert_eq!(s.names_per_address, 3);
    for key in [
        "send_queue_bytes",
        "call_rate_per_sec",
        "call_burst",
        "ring_rate_per_min",
        "ring_burst",
        "names_per_address",
    ] {
        let err = load(&format!("{key} = 0\n"), &[]).unwrap_err().to_string();
        assert!(err.contains(key), "{err}");
        let var = format!("DUET_{}", key.to_uppercase());
        let err = load("", &[(&var, "-1")]).unwrap_err().to_string();
        assert!(err.contains(&var), "{err}");
    }
}
