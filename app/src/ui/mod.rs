//! Pieces of the user interface shared by every capability's pages. Nothing
//! here imports a capability's views: pages take their shared parts from
//! here, never from one another.

pub mod badge;
pub mod confirm;
pub mod fields;
pub mod format;
pub mod in_place;
pub mod status;
pub mod text;
