//! The verdict on a run: thresholds now; quota findings later.

pub mod thresholds;
