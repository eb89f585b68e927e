//! Pieces of the user interface shared by every capability's pages.

pub mod fields;
pub mod text;
