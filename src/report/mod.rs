//! What the user sees: the live view while running, the summary at the end, the HTML report.

pub mod check;
pub mod html;
pub mod live;
pub mod quotas;
pub mod summary;
