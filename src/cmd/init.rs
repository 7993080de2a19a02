//! `stampede init`: reads an OpenAPI document or a HAR recording, drafts a scenario from it
//! (`scenario::init`, pure) and writes it to stdout or `--out`. Sends nothing.

use std::io::Write;
use std::path::Path;

use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::located::{read_user_text, Source};
use crate::scenario::init::{self, har, openapi, DocumentError};

/// The most an input file may hold: a HAR with its answers' bodies is often tens of MB.
const INPUT_MAX: u64 = 256 << 20;

const OPENAPI_FORM: &str = "an OpenAPI 3.x or Swagger 2.0 document, as JSON or YAML";
const HAR_FORM: &str = "a HAR file (JSON): {\"log\": {\"entries\": […]}}";

pub fn init(args: &InitArgs) -> Result<i32> {
    if let Some(url) = &args.from_api {
        return Err(Error::input(format!(
            "--from-api {url}: not built yet: reading a deployed API's routes comes with `stampede quotas --url`'s route table\n  expected: --from-openapi FILE (export the API's definition: `aws apigateway get-export --parameters extensions=integrations --export-type oas30 …`) or --from-har FILE"
        )));
    }
    let (path, draft) = if let Some(path) = &args.from_openapi {
        let text = read(path)?;
        let doc =
            init::parse_document(&text, true).map_err(|e| located(path, &text, e, OPENAPI_FORM))?;
        let draft = openapi::from_openapi(&doc, args.url.as_deref())
            .map_err(|e| located(path, &text, e, OPENAPI_FORM))?;
        (path, draft)
    } else if let Some(path) = &args.from_har {
        let text = read(path)?;
        let doc =
            init::parse_document(&text, false).map_err(|e| located(path, &text, e, HAR_FORM))?;
        let mut draft = har::from_har(&doc).map_err(|e| located(path, &text, e, HAR_FORM))?;
        if let Some(url) = &args.url {
            draft.about.push(format!(
                "Sent to --url instead of the recorded host, {}.",
                draft.url.as_deref().unwrap_or("")
            ));
            draft.url = Some(init::tidy_url(url));
        }
        (path, draft)
    } else {
        unreachable!("clap requires one of --from-openapi, --from-har, --from-api")
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = init::render(&draft, &name);
    write(args, path, &text)?;
    if let Some(out) = &args.out {
        eprintln!(
            "wrote {} ({} requests); check it with `stampede plan {}`",
            out.display(),
            draft.requests.len(),
            out.display()
        );
    }
    Ok(0)
}

fn read(path: &Path) -> Result<String> {
    read_user_text(path, INPUT_MAX)
        .map_err(|why| Error::input(format!("{}: {why}", path.display())))
}

/// A parse error at its line and column; a shape error at its JSON path.
fn located(path: &Path, text: &str, e: DocumentError, form: &str) -> Error {
    match e {
        DocumentError::Syntax { offset, message } => {
            Source::new(path, text).error(offset..offset + 1, &message, form)
        }
        DocumentError::Shape {
            at,
            message,
            expected,
        } => Error::input(format!(
            "{}: at {at}: {message}\n  expected: {expected}",
            path.display()
        )),
    }
}

/// stdout, or `--out`: never over an existing file without `--force`, never over the input.
fn write(args: &InitArgs, input: &Path, text: &str) -> Result<()> {
    let Some(out) = &args.out else {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| Error::internal(format!("stdout: cannot write the scenario: {e}")));
    };
    if let (Ok(a), Ok(b)) = (input.canonicalize(), out.canonicalize()) {
        if a == b {
            return Err(Error::input(format!(
                "--out {}: is the input file\n  expected: another file",
                out.display()
            )));
        }
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if args.force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(out).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            Error::input(format!(
                "--out {}: exists\n  expected: another file, or --force to replace it",
                out.display()
            ))
        } else {
            Error::input(format!(
                "--out {}: {}",
                out.display(),
                crate::located::io_reason(&e)
            ))
        }
    })?;
    file.write_all(text.as_bytes())
        .map_err(|e| Error::internal(format!("--out {}: cannot write: {e}", out.display())))
}
