//! One file per route.

mod account;
mod call;
mod home;
mod invite;

pub use account::AccountPage;
pub use call::{CallPage, page_path, page_user};
pub use home::{HomePage, LAN_QR_PATH, LanLink};
pub use invite::InvitePage;

use crate::account::Visit;
use leptos::prelude::use_context;

/// Who looks at the page being rendered, as `App` put it in the context (on the server
/// from the request, in the browser from what the server wrote into the page).
fn visit() -> Visit {
    use_context::<Visit>().unwrap_or_default()
}
