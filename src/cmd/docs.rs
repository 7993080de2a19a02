//! `stampede completions SHELL`, `stampede man [SUBCOMMAND]` and `stampede schema FORMAT`: generated from
//! the clap definitions and the parser's and writer's own types, so they cannot drift.

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs, SchemaFormat};
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

/// The command as the manual pages show it: no `help` subcommand, which has no page.
fn man_command() -> clap::Command {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    command
}

/// `stampede man [SUBCOMMAND]` prints one page; `--dir` writes them all. The main page's
/// SUBCOMMANDS section names `stampede-run(1)` and the like: each of those is written.
pub fn man(args: &ManArgs) -> Result<i32> {
    let command = man_command();
    if let Some(dir) = &args.dir {
        return man_pages_to(command, dir);
    }
    let page_of = match &args.subcommand {
        None => command,
        Some(name) => {
            let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
            let Some(sub) = command.find_subcommand(name) else {
                let near = crate::cli::near_by_edits(name, &names)
                    .first()
                    .map_or(String::new(), |n| format!(" (did you mean `{n}`?)"));
                return Err(Error::input(format!(
                    "man: no subcommand `{name}`{near}\n  expected: one of {}",
                    names.join(", ")
                )));
            };
            sub.clone()
        }
    };
    let mut page = Vec::new();
    clap_mangen::Man::new(page_of)
        .render(&mut page)
        .map_err(|e| Error::internal(format!("cannot render the manual page: {e}")))?;
    write_out(&page)
}

/// Every page into `dir`, their paths on stdout.
fn man_pages_to(command: clap::Command, dir: &std::path::Path) -> Result<i32> {
    let cannot = |e: std::io::Error| {
        Error::input(format!(
            "--dir {}: cannot write the manual pages: {e}\n  expected: a directory that exists and can be written",
            dir.display()
        ))
    };
    let mut pages = vec![clap_mangen::Man::new(command.clone())];
    pages.extend(
        command
            .get_subcommands()
            .cloned()
            .map(clap_mangen::Man::new),
    );
    let mut written = String::new();
    for page in pages {
        let path = page.generate_to(dir).map_err(cannot)?;
        written.push_str(&format!("{}\n", path.display()));
    }
    write_out(written.as_bytes())
}

/// The JSON Schema of a file format, pretty-printed: the file shipped in schemas/, which a
/// test keeps equal to what the types derive (`derived_schema`). The binary carries the
/// text, not the derivation: the schema generator and every type's schema code stay out of
/// the release binary (about 0.6 MB).
pub fn schema(format: SchemaFormat) -> Result<i32> {
    write_out(shipped_schema(format).as_bytes())
}

/// The schemas/ file of `format`, as shipped.
pub fn shipped_schema(format: SchemaFormat) -> &'static str {
    match format {
        SchemaFormat::Scenario => include_str!("../../schemas/scenario.schema.json"),
        SchemaFormat::Emulator => include_str!("../../schemas/emulator.schema.json"),
        SchemaFormat::Quotas => include_str!("../../schemas/quotas.schema.json"),
        SchemaFormat::Results => include_str!("../../schemas/results.schema.json"),
        SchemaFormat::Compare => include_str!("../../schemas/compare.schema.json"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    /// The JSON Schema of a file format as its types derive it, pretty-printed (the text of
    /// its schemas/ file).
    pub fn derived_schema(format: SchemaFormat) -> String {
        let schema = match format {
            SchemaFormat::Scenario => crate::scenario::schema::scenario(),
            SchemaFormat::Emulator => crate::scenario::schema::emulator(),
            SchemaFormat::Quotas => crate::quotas::file::schema(),
            SchemaFormat::Results => crate::results::schema::results(),
            SchemaFormat::Compare => crate::results::schema::comparison(),
        };
        let mut text = serde_json::to_string_pretty(&schema).expect("a schema renders as JSON");
        text.push('\n');
        text
    }

    /// The shipped schemas are what the types derive. `STAMPEDE_WRITE_SCHEMAS=1 cargo test
    /// --lib shipped_schemas` writes them again after a change of a format's types.
    #[test]
    fn shipped_schemas_are_what_the_types_derive() {
        let write = std::env::var_os("STAMPEDE_WRITE_SCHEMAS").is_some();
        for format in SchemaFormat::value_variants() {
            let name = format
                .to_possible_value()
                .expect("named")
                .get_name()
                .to_string();
            let derived = derived_schema(*format);
            if write {
                let path = format!("{}/schemas/{name}.schema.json", env!("CARGO_MANIFEST_DIR"));
                std::fs::write(&path, &derived).expect("schemas/ is writable");
            } else {
                assert!(
                    derived == shipped_schema(*format),
                    "schemas/{name}.schema.json is not what the types derive: \
                     STAMPEDE_WRITE_SCHEMAS=1 cargo test --lib shipped_schemas"
                );
            }
        }
    }
}
