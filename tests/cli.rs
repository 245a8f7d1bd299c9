//! The operator's commands (`duet user ...`, `duet invite ...`), run as the real binary on
//! the data directory of a server that is running meanwhile (issue 19).

mod common;

use common::http::{cookie, get, post, sign_in};
use common::{Client, WAIT, scratch_dir, start, test_settings};
use duet::protocol::close;
use duet::server::Settings;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

const PASSWORD: &str = "correct horse battery";

/// `duet ARGS` on `data_dir`, with `stdin`; its exit status and standard output (with
/// standard error after it when the command failed, to say why).
fn duet(data_dir: &Path, args: &[&str], stdin: &str) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_duet"))
        .args(args)
        // No Leptos.toml there: the defaults and these variables.
        .current_dir(data_dir.parent().expect("a parent"))
        .env("DUET_DATA_DIR", data_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run duet");
    child
        .stdin
        .take()
        .expect("its stdin")
        .write_all(stdin.as_bytes())
        .expect("write the password");
    let out = child.wait_with_output().expect("duet ends");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let status = out.status.code().unwrap_or(-1);
    if status == 0 {
        (status, stdout)
    } else {
        (status, format!("{stdout}{stderr}"))
    }
}

fn settings() -> Settings {
    Settings {
        login_attempts_per_minute: 1000,
        session_check_secs: 1,
        ..test_settings()
    }
}

/// How long a socket waits for the server to notice a change made by the command line:
/// one session check and some.
const NOTICED: Duration = Duration::from_secs(4);

#[tokio::test]
async fn the_command_line_manages_accounts_while_the_server_runs() {
    let settings = settings();
    let dir = settings.data_dir.clone();
    let addr = start(settings).await;

    let (status, out) = duet(
        &dir,
        &["user", "add", "carol", "--admin"],
        "first password\n",
    );
    assert_eq!(status, 0, "{out}");
    // Taken, in any spelling; a short password; a reserved name.
    let (status, out) = duet(&dir, &["user", "add", "CAROL"], "first password\n");
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("taken"), "{out}");
    assert_eq!(duet(&dir, &["user", "add", "dan"], "short\n").0, 1);
    assert_eq!(duet(&dir, &["user", "add", "Duet"], PASSWORD).0, 1);
    assert_eq!(duet(&dir, &["user", "frobnicate"], "").0, 2);

    // The server sees the new account at once.
    let carol = sign_in(addr, "carol", "first password", "laptop").await;
    let (key, carols) = cookie(&carol);
    let mut page = Client::connect_with(addr, "carol", &[(key, &carols)])
        .await
        .expect("carol's socket with her session");
    assert_eq!(
        Client::connect_with(addr, "carol", &[])
            .await
            .err()
            .map(|e| e.0),
        Some(401)
    );

    let (status, out) = duet(&dir, &["user", "list"], "");
    assert_eq!(status, 0, "{out}");
    let line = out
        .lines()
        .find(|line| line.starts_with("carol\t"))
        .unwrap_or_else(|| panic!("carol is listed: {out}"));
    assert!(line.starts_with("carol\tyes\tno\t1\t"), "{line}");

    // A new password signs every session out: the live socket closes with 4401.
    let (status, out) = duet(&dir, &["user", "passwd", "carol"], "second password\n");
    assert_eq!(status, 0, "{out}");
    match page.next_frame_within(NOTICED).await {
        Some(tokio_tungstenite::tungstenite::Message::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), close::SIGNED_OUT)
        }
        other => panic!("expected close 4401, got {other:?}"),
    }
    let old = post(
        addr,
        "/signin",
        &[("name", "carol"), ("password", "first password")],
        &[],
    )
    .await;
    assert_eq!(old.status, 401);
    let carol = sign_in(addr, "carol", "second password", "phone").await;
    assert_eq!(duet(&dir, &["user", "passwd", "nobody"], PASSWORD).0, 1);

    // An invite link for dave, used on the running server.
    let origin = format!("http://{addr}");
    let (status, out) = duet(
        &dir,
        &[
            "invite",
            "create",
            "--name",
            "dave",
            "--uses",
            "1",
            "--expires",
            "1d",
            "--origin",
            &origin,
        ],
        "",
    );
    assert_eq!(status, 0, "{out}");
    let link = out.trim();
    let path = link
        .strip_prefix(&origin)
        .unwrap_or_else(|| panic!("{link} is on {origin}"));
    assert!(path.starts_with("/i/"), "{link}");
    assert_eq!(get(addr, path, &[]).await.status, 200, "{path:?}");
    let token = &path[3..];
    let dave = post(
        addr,
        "/signup",
        &[("name", "dave"), ("password", PASSWORD), ("invite", token)],
        &[],
    )
    .await;
    assert_eq!(dave.status, 303, "{dave:?}");
    assert_eq!(get(addr, path, &[]).await.status, 410, "used up");

    // Removed: its socket closes, its name stays taken, nobody signs in as it.
    let (key, carols) = cookie(&carol);
    let mut page = Client::connect_with(addr, "carol", &[(key, &carols)])
        .await
        .expect("carol's socket");
    let (status, out) = duet(&dir, &["user", "remove", "carol"], "");
    assert_eq!(status, 0, "{out}");
    match page.next_frame_within(NOTICED).await {
        Some(tokio_tungstenite::tungstenite::Message::Close(Some(frame))) => {
            assert_eq!(u16::from(frame.code), close::SIGNED_OUT)
        }
        other => panic!("expected close 4401, got {other:?}"),
    }
    assert_eq!(
        Client::connect_with(addr, "carol", &[(key, &carols)])
            .await
            .err()
            .map(|e| e.0),
        Some(401)
    );
    let again = post(
        addr,
        "/signup",
        &[("name", "carol"), ("password", PASSWORD)],
        &[],
    )
    .await;
    assert_eq!(again.status, 409, "a removed account's name stays taken");
    let (_, out) = duet(&dir, &["user", "list"], "");
    assert!(
        out.lines().any(|l| l.starts_with("carol\tyes\tyes\t0\t")),
        "{out}"
    );

    // Purged: the name is free again.
    let (status, out) = duet(&dir, &["user", "remove", "dave", "--purge"], "");
    assert_eq!(status, 0, "{out}");
    let (_, out) = duet(&dir, &["user", "list"], "");
    assert!(!out.contains("dave"), "{out}");
    let dave = post(
        addr,
        "/signup",
        &[("name", "dave"), ("password", PASSWORD)],
        &[],
    )
    .await;
    assert_eq!(dave.status, 303);
}

#[tokio::test]
async fn a_server_without_open_names_or_accounts_prints_the_first_admins_link() {
    let dir = scratch_dir();
    let mut server = Command::new(env!("CARGO_BIN_EXE_duet"))
        .current_dir(dir.parent().expect("a parent"))
        .env("DUET_DATA_DIR", &dir)
        .env("DUET_SITE_ADDR", "127.0.0.1:0")
        .env("DUET_OPEN_NAMES", "0")
        .env("LEPTOS_OUTPUT_NAME", "duet")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start duet");
    let stdout = server.stdout.take().expect("its stdout");
    // Read to the end, not just to the link: a server whose stdout closes dies at its
    // next line.
    let (found, link) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(word) = line.split_whitespace().find(|w| w.contains("/i/")) {
                let _ = found.send(word.to_owned());
            }
        }
    });
    let link = tokio::task::spawn_blocking(move || link.recv_timeout(WAIT * 10).ok())
        .await
        .ok()
        .flatten();
    let link = link.unwrap_or_else(|| {
        let _ = server.kill();
        panic!("no first-account link printed")
    });
    let rest = link.strip_prefix("http://").expect("an http link");
    let (host, path) = rest.split_at(rest.find('/').expect("a path"));
    let addr = host.parse().expect("the server's address");
    let page = get(addr, path, &[]).await;
    let admin = post(
        addr,
        "/signup",
        &[
            ("name", "root"),
            ("password", PASSWORD),
            ("invite", &path[3..]),
        ],
        &[],
    )
    .await;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(page.status, 200);
    assert_eq!(admin.status, 303, "{admin:?}");
    let (_, out) = duet(&dir, &["user", "list"], "");
    assert!(out.lines().any(|l| l.starts_with("root\tyes\t")), "{out}");
}
