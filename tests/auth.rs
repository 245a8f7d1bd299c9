//! Accounts against the real server and a real database file (issue 19): a claimed name's
//! socket, page and history belong to its account's sessions only; origins are checked;
//! sign-in cannot be guessed at; invites and look-alike names.

mod common;

use common::http::{cookie, get, post, sign_in, sign_up};
use common::{Client, start, test_settings};
use duet::account::Signup;
use duet::protocol::{Conversation, Message, UserName, close};
use duet::server::Settings;
use duet::server::auth::accounts::{Accounts, InviteSpec};
use duet::server::auth::token;
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery";

fn settings() -> Settings {
    Settings {
        login_attempts_per_minute: 1000,
        session_check_secs: 1,
        ..test_settings()
    }
}

/// A read-write connection to the server's database, to age or inspect sessions.
fn database(settings: &Settings) -> rusqlite::Connection {
    rusqlite::Connection::open(settings.database()).expect("open the database")
}

/// The public id of the session of `token`.
fn public_id(settings: &Settings, token: &str) -> String {
    database(settings)
        .query_row(
            "SELECT public_id FROM sessions WHERE token_hash = ?1",
            [token::hash(token)],
            |row| row.get(0),
        )
        .expect("the session is stored")
}

/// `page` without the values that differ on every render (the scripts' nonce).
fn unsalted(page: &str) -> String {
    let mut out = String::new();
    let mut rest = page;
    while let Some(at) = ["nonce=\"", "crossorigin=\""]
        .iter()
        .filter_map(|attribute| rest.find(attribute))
        .min()
    {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let value = after.find('"').map_or(after.len(), |q| q + 1);
        let end = after[value..]
            .find('"')
            .map_or(after.len(), |q| value + q + 1);
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Opening `name`'s socket with `headers` is refused with `status`; the reason.
async fn refused(addr: SocketAddr, name: &str, headers: &[(&str, &str)], status: u16) -> String {
    match Client::connect_with(addr, name, headers).await {
        Ok(_) => panic!("{name}'s socket opened with {headers:?}"),
        Err((got, reason)) => {
            assert_eq!(got, status, "{name} with {headers:?}: {reason}");
            assert!(!reason.is_empty(), "a refusal says why");
            reason
        }
    }
}

async fn socket_as(addr: SocketAddr, name: &str, token: &str) -> Client {
    let (key, value) = cookie(token);
    Client::connect_with(addr, name, &[(key, &value)])
        .await
        .unwrap_or_else(|e| panic!("{name}'s socket with its cookie: {e:?}"))
}

#[tokio::test]
async fn a_claimed_names_socket_opens_only_with_that_accounts_live_session() {
    let settings = settings();
    let addr = start(settings.clone()).await;
    let bob = sign_up(addr, "bob", PASSWORD).await;
    let alice = sign_up(addr, "alice", PASSWORD).await;

    let reason = refused(addr, "bob", &[], 401).await;
    assert!(reason.contains("sign in"), "{reason}");
    let (key, alices) = cookie(&alice);
    refused(addr, "bob", &[(key, &alices)], 401).await;
    refused(addr, "bob", &[("Cookie", "duet_session=made-up")], 401).await;
    // Another spelling of a claimed name is claimed too, for its owner as well.
    let (key, bobs) = cookie(&bob);
    refused(addr, "Bob", &[], 401).await;
    refused(addr, "Bob", &[(key, &bobs)], 401).await;
    socket_as(addr, "bob", &bob).await.close().await;

    // Expired.
    let old = sign_in(addr, "bob", PASSWORD, "old laptop").await;
    socket_as(addr, "bob", &old).await.close().await;
    database(&settings)
        .execute(
            "UPDATE sessions SET expires_at = 1 WHERE token_hash = ?1",
            [token::hash(&old)],
        )
        .unwrap();
    let (key, olds) = cookie(&old);
    refused(addr, "bob", &[(key, &olds)], 401).await;
    // Its page clears the cookie that signs nobody in.
    let page = get(addr, "/", &[(key, &olds)]).await;
    let cleared = page.set_cookie().expect("a stale cookie is cleared");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // Signed out.
    let gone = sign_in(addr, "bob", PASSWORD, "phone").await;
    socket_as(addr, "bob", &gone).await.close().await;
    let (key, gones) = cookie(&gone);
    let out = post(addr, "/signout", &[], &[(key, &gones)]).await;
    assert_eq!((out.status, out.location()), (303, Some("/")));
    assert!(out.set_cookie().unwrap().contains("Max-Age=0"));
    refused(addr, "bob", &[(key, &gones)], 401).await;

    // The account's own live session still opens it.
    socket_as(addr, "bob", &bob).await.close().await;
}

#[tokio::test]
async fn unclaimed_names_need_an_account_when_open_names_are_off() {
    let addr = start(Settings {
        open_names: false,
        ..settings()
    })
    .await;
    let reason = refused(addr, "zed", &[], 401).await;
    assert!(reason.contains("account"), "{reason}");
    let zed = sign_up(addr, "zed", PASSWORD).await;
    socket_as(addr, "zed", &zed).await.close().await;
}

#[tokio::test]
async fn revoking_a_session_or_changing_the_password_closes_live_sockets_with_4401() {
    let settings = settings();
    let addr = start(settings.clone()).await;
    let laptop = sign_up(addr, "bob", PASSWORD).await;
    let phone = sign_in(addr, "bob", PASSWORD, "phone").await;
    let mut on_phone = socket_as(addr, "bob", &phone).await;

    let (key, laptops) = cookie(&laptop);
    let account = get(addr, "/account", &[(key, &laptops)]).await;
    assert_eq!(account.status, 200, "{account:?}");
    let phone_id = public_id(&settings, &phone);
    let revoked = post(
        addr,
        "/account/revoke",
        &[("session", &phone_id)],
        &[(key, &laptops)],
    )
    .await;
    assert_eq!(
        (revoked.status, revoked.location()),
        (303, Some("/account"))
    );
    let (code, _) = on_phone.expect_close().await;
    assert_eq!(code, close::SIGNED_OUT);
    let (pkey, phones) = cookie(&phone);
    let account = get(addr, "/account", &[(pkey, &phones)]).await;
    assert_eq!(account.status, 303);
    assert_eq!(account.location(), Some("/?next=/account"));

    // Someone else's session cannot be revoked.
    let carol = sign_up(addr, "carol", PASSWORD).await;
    let (ckey, carols) = cookie(&carol);
    let laptop_id = public_id(&settings, &laptop);
    post(
        addr,
        "/account/revoke",
        &[("session", &laptop_id)],
        &[(ckey, &carols)],
    )
    .await;
    socket_as(addr, "bob", &laptop).await.close().await;

    // A new password signs out every other session, at once.
    let tablet = sign_in(addr, "bob", PASSWORD, "tablet").await;
    let mut on_tablet = socket_as(addr, "bob", &tablet).await;
    let wrong = post(
        addr,
        "/account/password",
        &[("current", "not it at all"), ("new", "a new password")],
        &[(key, &laptops)],
    )
    .await;
    assert_eq!(wrong.status, 401);
    let short = post(
        addr,
        "/account/password",
        &[("current", PASSWORD), ("new", "short")],
        &[(key, &laptops)],
    )
    .await;
    assert_eq!(short.status, 400);
    let changed = post(
        addr,
        "/account/password",
        &[("current", PASSWORD), ("new", "a new password")],
        &[(key, &laptops)],
    )
    .await;
    assert_eq!(
        (changed.status, changed.location()),
        (303, Some("/account?changed=1"))
    );
    let (code, _) = on_tablet.expect_close().await;
    assert_eq!(code, close::SIGNED_OUT);
    assert_eq!(get(addr, "/account", &[(key, &laptops)]).await.status, 200);
    sign_in(addr, "bob", "a new password", "anywhere").await;
}

#[tokio::test]
async fn origins_are_checked_on_the_socket_and_on_sign_in() {
    let addr = start(Settings {
        allowed_origins: vec!["https://friend.example".into()],
        ..settings()
    })
    .await;
    let own = format!("http://{addr}");
    for stranger in ["http://evil.example", "null", "https://127.0.0.1"] {
        let reason = refused(addr, "carol", &[("Origin", stranger)], 403).await;
        assert!(reason.contains("another site"), "{reason}");
    }
    for fine in [own.as_str(), "https://friend.example"] {
        Client::connect_with(addr, "carol", &[("Origin", fine)])
            .await
            .unwrap_or_else(|e| panic!("Origin {fine}: {e:?}"))
            .close()
            .await;
    }
    // No Origin: not a browser, so no one's cookie; allowed.
    Client::connect_with(addr, "carol", &[])
        .await
        .unwrap()
        .close()
        .await;

    let bob = sign_up(addr, "bob", PASSWORD).await;
    let (key, bobs) = cookie(&bob);
    for stranger in ["http://evil.example", "null"] {
        // Even with the account's own cookie (which SameSite=Lax would not send anyway).
        refused(addr, "bob", &[("Origin", stranger), (key, &bobs)], 403).await;
        let answer = post(
            addr,
            "/signin",
            &[("name", "bob"), ("password", PASSWORD)],
            &[("Origin", stranger)],
        )
        .await;
        assert_eq!(answer.status, 403, "sign-in from {stranger}");
        assert!(answer.token().is_none());
        let answer = post(
            addr,
            "/signup",
            &[("name", "mallory"), ("password", PASSWORD)],
            &[("Origin", stranger)],
        )
        .await;
        assert_eq!(answer.status, 403, "sign-up from {stranger}");
        let answer = post(addr, "/signout", &[], &[("Origin", stranger), (key, &bobs)]).await;
        assert_eq!(answer.status, 403, "sign-out from {stranger}");
    }
    socket_as(addr, "bob", &bob).await.close().await;
    for origin in [Some(own.as_str()), None] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("Origin", o)).into_iter().collect();
        let answer = post(
            addr,
            "/signin",
            &[("name", "bob"), ("password", PASSWORD)],
            &headers,
        )
        .await;
        assert_eq!(answer.status, 303, "sign-in with Origin {origin:?}");
    }
}

#[tokio::test]
async fn wrong_names_and_passwords_are_answered_alike_and_limited() {
    let addr = start(Settings {
        login_attempts_per_minute: 3,
        names_per_address: 2,
        ..settings()
    })
    .await;
    // bob: 1 attempt, the address: 1 (of 6).
    sign_up(addr, "bob", PASSWORD).await;
    let attempt = |name: &'static str, password: &'static str| async move {
        post(
            addr,
            "/signin",
            &[("name", name), ("password", password), ("next", "/account")],
            &[],
        )
        .await
    };
    let wrong_password = attempt("bob", "not the password").await;
    let wrong_name = attempt("nobody", "not the password").await;
    assert_eq!((wrong_password.status, wrong_name.status), (401, 401));
    assert!(wrong_password.token().is_none() && wrong_name.token().is_none());
    // The same page, but for the name typed back into the field.
    assert_eq!(
        unsalted(&wrong_password.body).replace("bob", "NAME"),
        unsalted(&wrong_name.body).replace("nobody", "NAME")
    );
    // bob's third; then bob is past the limit, even with the right password.
    assert_eq!(attempt("bob", "still not it").await.status, 401);
    let limited = attempt("bob", PASSWORD).await;
    assert_eq!(limited.status, 429);
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(limited.token().is_none());
    // Other names go on, until the address has had its six (the refused one counted).
    assert_eq!(attempt("nobody", "wrong").await.status, 401);
    let limited = attempt("someone", "wrong").await;
    assert_eq!(limited.status, 429);
    assert!(limited.header("retry-after").is_some());
}

#[tokio::test]
async fn a_wrong_name_costs_as_long_as_a_wrong_password() {
    let addr = start(settings()).await;
    sign_up(addr, "bob", PASSWORD).await;
    let timed = |name: &'static str| async move {
        let mut fastest = Duration::MAX;
        for _ in 0..3 {
            let began = Instant::now();
            let answer = post(
                addr,
                "/signin",
                &[("name", name), ("password", "not the password")],
                &[],
            )
            .await;
            assert_eq!(answer.status, 401);
            fastest = fastest.min(began.elapsed());
        }
        fastest
    };
    let (wrong_password, wrong_name) = (timed("bob").await, timed("nobody").await);
    // A hash is tens of milliseconds; a query without one, well under one.
    assert!(
        wrong_name * 3 >= wrong_password,
        "a wrong name took {wrong_name:?}, a wrong password {wrong_password:?}"
    );
}

/// Sends `sync` and collects every message of the answer's backlog.
async fn synced_messages(client: &mut Client) -> Vec<String> {
    client.send_json(json!({"type": "sync"})).await;
    let mut texts = Vec::new();
    loop {
        match client.recv().await {
            Message::Chat { messages, .. } => texts.extend(messages.into_iter().map(|m| m.text)),
            Message::Conversations { .. } => break,
            _ => {}
        }
    }
    for msg in client.drain(common::QUIET_MS).await {
        if let Message::Chat { messages, .. } = msg {
            texts.extend(messages.into_iter().map(|m| m.text));
        }
    }
    texts
}

#[tokio::test]
async fn a_claimed_names_messages_reach_only_its_signed_in_sockets() {
    let addr = start(settings()).await;
    let bob = sign_up(addr, "bob", PASSWORD).await;
    // alice, an open name, writes to bob while he is away.
    let mut alice = Client::connect(addr, "alice").await;
    synced_messages(&mut alice).await;
    let to_bob = Conversation::User(UserName::parse("bob").unwrap());
    alice
        .send_json(json!({"type": "chat_send", "id": "m1", "conversation": to_bob, "text": "secret for bob"}))
        .await;
    loop {
        if let Message::ChatAck { .. } = alice.recv().await {
            break;
        }
    }
    // Nobody but bob's session gets a socket to read it from, in any spelling.
    for name in ["bob", "Bob", "ｂｏｂ", "BOB"] {
        refused(addr, name, &[], 401).await;
    }
    let mut stranger = Client::connect(addr, "mallory").await;
    let seen = synced_messages(&mut stranger).await;
    assert!(!seen.iter().any(|t| t.contains("secret")), "{seen:?}");
    // bob's own session gets it waiting, and its history.
    let mut own = socket_as(addr, "bob", &bob).await;
    let seen = synced_messages(&mut own).await;
    assert_eq!(seen, vec!["secret for bob".to_string()]);

    // A name with someone's history is never given to a new account.
    for name in ["alice", "ALICE"] {
        let answer = post(
            addr,
            "/signup",
            &[("name", name), ("password", PASSWORD)],
            &[],
        )
        .await;
        assert_eq!(answer.status, 409, "sign up {name}: {answer:?}");
    }
}

#[tokio::test]
async fn look_alike_names_cannot_be_claimed_beside_bob() {
    let addr = start(settings()).await;
    sign_up(addr, "bob", PASSWORD).await;
    for (name, password, status) in [
        ("Bob", PASSWORD, 409),
        ("ｂｏｂ", PASSWORD, 409),
        ("BOB", PASSWORD, 409),
        ("duet", PASSWORD, 409),
        ("Duet", PASSWORD, 409),
        ("a b", PASSWORD, 400),
        ("", PASSWORD, 400),
        ("carol", "short", 400),
    ] {
        let answer = post(
            addr,
            "/signup",
            &[("name", name), ("password", password)],
            &[],
        )
        .await;
        assert_eq!(answer.status, status, "sign up {name:?}: {answer:?}");
        assert!(answer.token().is_none());
    }
    // A sign-in under another spelling is bob's own account, and goes to bob's page.
    let answer = post(
        addr,
        "/signin",
        &[("name", "ＢＯＢ"), ("password", PASSWORD)],
        &[],
    )
    .await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.location(), Some("/webrtc/bob.html"));
    // And his page under another spelling sends him to his own.
    let token = answer.token().unwrap();
    let (key, value) = cookie(&token);
    let page = get(addr, "/webrtc/Bob.html", &[(key, &value)]).await;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/webrtc/bob.html"))
    );
}

#[tokio::test]
async fn sessions_are_cookies_that_last_as_asked() {
    let addr = start(settings()).await;
    let kept = post(
        addr,
        "/signup",
        &[("name", "bob"), ("password", PASSWORD), ("keep", "on")],
        &[],
    )
    .await;
    assert_eq!(kept.location(), Some("/webrtc/bob.html"));
    let line = kept.set_cookie().unwrap();
    for part in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
        assert!(line.contains(part), "{line}");
    }
    assert!(!line.contains("Secure"), "plain HTTP: {line}");
    let once = post(
        addr,
        "/signin",
        &[
            ("name", "bob"),
            ("password", PASSWORD),
            ("next", "/account"),
        ],
        &[],
    )
    .await;
    assert_eq!(once.location(), Some("/account"));
    assert!(!once.set_cookie().unwrap().contains("Max-Age"));
    // Only paths on this server are followed.
    let elsewhere = post(
        addr,
        "/signin",
        &[
            ("name", "bob"),
            ("password", PASSWORD),
            ("next", "//evil.example/"),
        ],
        &[],
    )
    .await;
    assert_eq!(elsewhere.location(), Some("/webrtc/bob.html"));
    // A kept session's page load slides it: the cookie is sent again.
    let token = kept.token().unwrap();
    let (key, value) = cookie(&token);
    let page = get(addr, "/webrtc/bob.html", &[(key, &value)]).await;
    assert_eq!(page.status, 200);
    assert!(page.set_cookie().unwrap().contains("Max-Age=2592000"));
    // Signed out, /account asks for a sign-in and comes back.
    let page = get(addr, "/account", &[]).await;
    assert_eq!(
        (page.status, page.location()),
        (303, Some("/?next=/account"))
    );
}

#[tokio::test]
async fn invites_work_once_until_they_expire_and_only_for_their_name() {
    let settings = Settings {
        signup: Signup::Closed,
        ..settings()
    };
    let addr = start(settings.clone()).await;
    let closed = post(
        addr,
        "/signup",
        &[("name", "dave"), ("password", PASSWORD)],
        &[],
    )
    .await;
    assert_eq!(closed.status, 403);

    // The operator's side, beside the running server.
    let accounts = Accounts::open(&settings).unwrap();
    let once = accounts.create_invite(InviteSpec::default()).await.unwrap();
    let link = format!("/i/{once}");
    assert_eq!(get(addr, &link, &[]).await.status, 200);
    let use_it = |name: &'static str, token: String| async move {
        post(
            addr,
            "/signup",
            &[("name", name), ("password", PASSWORD), ("invite", &token)],
            &[],
        )
        .await
    };
    let dave = use_it("dave", once.clone()).await;
    assert_eq!(dave.status, 303, "{dave:?}");
    assert_eq!(get(addr, &link, &[]).await.status, 410, "used up");
    assert_eq!(use_it("erin", once.clone()).await.status, 403);
    assert_eq!(get(addr, "/i/not-a-token", &[]).await.status, 410);

    let expired = accounts
        .create_invite(InviteSpec {
            life: Duration::ZERO,
            ..InviteSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(get(addr, &format!("/i/{expired}"), &[]).await.status, 410);
    assert_eq!(use_it("erin", expired).await.status, 403);

    let pinned = accounts
        .create_invite(InviteSpec {
            name: Some("frank".into()),
            uses: 2,
            ..InviteSpec::default()
        })
        .await
        .unwrap();
    assert_eq!(use_it("gina", pinned.clone()).await.status, 403);
    assert_eq!(use_it("frank", pinned).await.status, 303);

    // A signed-in person makes a one-use link valid for a week.
    let (key, daves) = cookie(dave.token().as_deref().unwrap());
    let made = post(addr, "/account/invite", &[], &[(key, &daves)]).await;
    assert_eq!(made.status, 200);
    let (uses, days): (i64, i64) = database(&settings)
        .query_row(
            "SELECT i.uses_left, (i.expires_at - i.created_at) / 86400000 FROM invites i
             JOIN users u ON u.id = i.maker WHERE u.name = 'dave'",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((uses, days), (1, 7));
    let signed_out = post(addr, "/account/invite", &[], &[]).await;
    assert_eq!(signed_out.status, 303);
}

#[tokio::test]
async fn an_open_names_page_is_signed_out_when_the_name_is_claimed() {
    let addr = start(settings()).await;
    let mut squatter = Client::connect(addr, "hana").await;
    sign_up(addr, "hana", PASSWORD).await;
    let (code, _) = squatter.expect_close().await;
    assert_eq!(code, close::SIGNED_OUT);
}
