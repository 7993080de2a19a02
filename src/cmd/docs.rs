//! `stampede completions SHELL`, `stampede man` and `stampede schema FORMAT`: generated from
//! the clap definitions and the parser's and writer's own types, so they cannot drift.

use clap::CommandFactory;

use crate::cli::{Cli, SchemaFormat};
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

/// The JSON Schema of a file format, pretty-printed.
pub fn schema(format: SchemaFormat) -> Result<i32> {
    let schema = match format {
        SchemaFormat::Scenario => crate::scenario::schema::scenario(),
        SchemaFormat::Emulator => crate::scenario::schema::emulator(),
        SchemaFormat::Quotas => crate::quotas::file::schema(),
        SchemaFormat::Results => crate::results::schema::results(),
        SchemaFormat::Compare => crate::results::schema::comparison(),
    };
    let mut text = serde_json::to_string_pretty(&schema)
        .map_err(|e| Error::internal(format!("cannot render the schema: {e}")))?;
    text.push('\n');
    write_out(text.as_bytes())
}
