//! Sessions that end where this server does not see it: revoked by `duet user` in another
//! process, expired, or their account removed. Every `session_check_secs` the signed-in
//! sockets are checked against the database; those whose session is gone close (4401), the
//! others count as seen now. (What this server itself ends, it closes at once.) The same
//! pass forgets expired sessions and old invites, and whole sign-in allowances.

use super::{Auth, db};
use crate::server::signal::hub::Hub;
use std::sync::{Arc, Weak};

/// Starts the check on the current tokio runtime (none in some unit tests: then there is
/// no check). It holds neither the hub nor the accounts: it ends with them.
pub fn start(hub: &Arc<Hub>, auth: &Arc<Auth>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let (hub, auth) = (Arc::downgrade(hub), Arc::downgrade(auth));
    runtime.spawn(async move {
        loop {
            let Some(every) = auth.upgrade().map(|auth| auth.settings().session_check()) else {
                return;
            };
            tokio::time::sleep(every).await;
            if !check(&hub, &auth).await {
                return;
            }
        }
    });
}

/// One pass; false once the server is gone.
async fn check(hub: &Weak<Hub>, auth: &Weak<Auth>) -> bool {
    let (Some(hub), Some(auth)) = (hub.upgrade(), auth.upgrade()) else {
        return false;
    };
    let mut online = hub.online_sessions();
    online.sort();
    online.dedup();
    let asked = online.clone();
    let live = auth
        .store()
        .call(move |conn| {
            let now = db::now_ms();
            db::delete_expired(conn, now)?;
            Ok(db::still_live(conn, &asked, now)?)
        })
        .await;
    match live {
        Ok(live) => {
            let gone: Vec<String> = online.into_iter().filter(|id| !live.contains(id)).collect();
            if !gone.is_empty() {
                tracing::info!(
                    sessions = gone.len(),
                    "sessions ended elsewhere: closing their sockets"
                );
                hub.end_sessions(&gone);
            }
        }
        Err(err) => tracing::warn!("checking the signed-in sockets: {err}"),
    }
    auth.attempts().sweep();
    true
}
