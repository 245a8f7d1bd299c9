//! Soak test placeholder.

mod common;
