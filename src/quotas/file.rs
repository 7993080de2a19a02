//! The quotas file (SCENARIO.md): for offline runs and accounts that may not read quotas.

use std::path::Path;

use super::Quotas;
use crate::error::Result;

/// Reads a quotas file; a bad one is bad input (exit 2) with its line and column.
pub fn load(path: &Path) -> Result<Quotas> {
    let _ = path;
    todo!("quotas::file::load")
}
