//! `stampede completions SHELL` and `stampede man`: generated from the clap definitions,
//! so they cannot drift from the flags.

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::{exit, Error, Result};

pub fn completions(shell: clap_complete::Shell) -> Result<i32> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "stampede", &mut script);
    write_out(&script)
}

/// Writes `bytes` to stdout; a reader that went away (`| head`) is no failure.
fn write_out(bytes: &[u8]) -> Result<i32> {
    use std::io::Write;
    match std::io::stdout().write_all(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::internal(format!("cannot write to stdout: {e}")))
        }
        _ => Ok(exit::OK),
    }
}

pub fn man() -> Result<i32> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command())
        .render(&mut page)
        .map_err(|e| Error::internal(format!("cannot render the manual page: {e}")))?;
    write_out(&page)
}
