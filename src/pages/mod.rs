//! One file per route.

mod call;
mod home;

pub use call::{CallPage, page_path, page_user};
pub use home::{HomePage, LAN_QR_PATH, LanLink};
