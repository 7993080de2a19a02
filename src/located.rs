//! Where a value came from, so an error can name the file, line and column, and reading the
//! files the user names: the `stampede-located` crate, shared with the emulator.

pub use stampede_located::*;
