//! What went wrong reading a results file (or a flag of `compare`), and where. The CLI
//! reports it as bad input (exit 2).

/// One error: what it is about (the file, or the flag), why, and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct Error {
    /// "results file r.json", "--max-regress".
    pub about: String,
    pub why: String,
    pub expected: String,
}

impl Error {
    pub fn new(
        about: impl Into<String>,
        why: impl Into<String>,
        expected: impl Into<String>,
    ) -> Error {
        Error {
            about: about.into(),
            why: why.into(),
            expected: expected.into(),
        }
    }

    /// A bad value of a flag: "{flag}: {why}", expected….
    pub fn flag(flag: &str, why: &str, expected: &str) -> Error {
        Error::new(flag, why, expected)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {}\n  expected: {}",
            self.about, self.why, self.expected
        )
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// A results file that cannot be read, or a bad flag of `compare`: bad input (exit 2).
impl From<Error> for stampede_located::Error {
    fn from(e: Error) -> stampede_located::Error {
        stampede_located::Error::input(e.to_string())
    }
}
