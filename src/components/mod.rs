//! View pieces the pages are made of.

mod call_controls;
mod chat_panel;
mod people;
mod status_line;
mod text_field;
mod video_tile;

pub use call_controls::CallControls;
pub use chat_panel::ChatPanel;
pub use people::People;
pub use status_line::StatusLine;
pub use text_field::{Holds, TextField};
pub use video_tile::VideoTile;
