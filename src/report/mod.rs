//! What the user sees: the live view while running and the summary at the end.

pub mod check;
pub mod live;
pub mod quotas;
pub mod summary;
