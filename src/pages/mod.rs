//! One file per route.

//! Only the call page runs in the browser; the others are the server's alone (see
//! `app::static_page`).

#[cfg(feature = "ssr")]
mod account;
mod call;
#[cfg(feature = "ssr")]
mod gate;
#[cfg(feature = "ssr")]
mod home;
#[cfg(feature = "ssr")]
mod invite;

#[cfg(feature = "ssr")]
pub use account::AccountPage;
pub use call::{CallPage, page_path, page_user};
#[cfg(feature = "ssr")]
pub use home::{HomePage, LAN_QR_PATH, LanLink};
#[cfg(feature = "ssr")]
pub use invite::InvitePage;

use crate::account::Visit;
use leptos::prelude::use_context;

/// Who looks at the page being rendered, as `App` put it in the context (on the server
/// from the request, in the browser from what the server wrote into the page).
fn visit() -> Visit {
    use_context::<Visit>().unwrap_or_default()
}
