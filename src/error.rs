//! Errors that end a command, each mapped to its exit code (README, "Exit codes").

use std::fmt;

/// Exit codes shared by every command (README, "Exit codes").
pub mod exit {
    pub const OK: i32 = 0;
    pub const CHECK_FAILED: i32 = 1;
    pub const BAD_INPUT: i32 = 2;
    pub const ABORTED: i32 = 3;
    /// stampede itself failed: an engine fault, or results not written where asked.
    pub const INTERNAL: i32 = 4;
    pub const INTERRUPTED: i32 = 130;
}

/// A failure the user has to act on. `code` is the process exit code.
#[derive(Debug)]
pub struct Error {
    pub code: i32,
    pub message: String,
}

impl Error {
    /// Bad input: a scenario, a flag or a file the user gave us (exit 2).
    pub fn input(message: impl Into<String>) -> Error {
        Error {
            code: exit::BAD_INPUT,
            message: message.into(),
        }
    }

    /// stampede itself failed (exit 4): a runtime, thread or file it could not make.
    /// Never exit 1, which means the target failed a gate.
    pub fn internal(message: impl Into<String>) -> Error {
        Error {
            code: exit::INTERNAL,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

/// A results file that cannot be read, or a bad flag of `compare`: bad input (exit 2).
impl From<stampede_results::Error> for Error {
    fn from(e: stampede_results::Error) -> Error {
        Error::input(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
