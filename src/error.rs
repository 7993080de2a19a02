//! Errors that end a command, each mapped to its exit code (README, "Exit codes"). The type
//! lives in `stampede-located`, so the emulator's errors are the same type and exit the same.

pub use stampede_located::error::{exit, Error, Result};
