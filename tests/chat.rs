//! Chat against the real server and a real SQLite file.

mod common;
