//! View pieces the pages are made of.

mod account_bar;
mod call_controls;
mod chat_panel;
mod people;
#[cfg(feature = "ssr")]
mod sign_in;
#[cfg(feature = "ssr")]
mod sign_up;
mod status_line;
mod text_field;
mod video_tile;

pub use account_bar::{AccountBar, SignOutButton};
pub use call_controls::CallControls;
pub use chat_panel::ChatPanel;
pub use people::People;
#[cfg(feature = "ssr")]
pub use sign_in::SignInForm;
#[cfg(feature = "ssr")]
pub use sign_up::SignUpForm;
pub use status_line::StatusLine;
pub use text_field::{Holds, TextField};
pub use video_tile::VideoTile;
