//! One file per route.

mod call;
mod home;

pub use call::CallPage;
pub use home::{HomePage, LAN_QR_PATH, LanLink};
