//! `stampede init`: reads an OpenAPI document, a HAR recording or a deployed API's map
//! (API Gateway's and Lambda's control planes), drafts a scenario from it
//! (`scenario::init`, pure) and writes it to stdout or `--out`. Sends nothing to the API.

use std::io::Write;
use std::path::Path;

use crate::aws::Aws;
use crate::cli::InitArgs;
use crate::error::{Error, Result};
use crate::located::{read_user_text, Source};
use crate::pipeline::aws::api_aimed_at;
use crate::quotas::aws::fetch_blocking;
use crate::scenario::init::{self, api, har, openapi, DocumentError};

/// The most an input file may hold: a HAR with its answers' bodies is often tens of MB.
const INPUT_MAX: u64 = 256 << 20;

const OPENAPI_FORM: &str = "an OpenAPI 3.x or Swagger 2.0 document, as JSON or YAML";
const HAR_FORM: &str = "a HAR file (JSON): {\"log\": {\"entries\": […]}}";

pub fn init(args: &InitArgs) -> Result<i32> {
    if let Some(url) = &args.from_api {
        let (names, at) = api_aimed_at(&args.api, Some(("--from-api", url)))?;
        let quotas = fetch_blocking(Aws::shared()?, &names, &at);
        let mut draft = api::from_api(&quotas, url)
            .map_err(|why| Error::input(format!("--from-api {url}: {why}")))?;
        retarget(&mut draft, args.url.as_deref(), "the API's URL");
        let text = init::render(&draft, &api::origin(&quotas));
        return finish(args, None, &text, draft.requests.len());
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
        retarget(&mut draft, args.url.as_deref(), "the recorded host");
        (path, draft)
    } else {
        unreachable!("clap requires one of --from-openapi, --from-har, --from-api")
    };
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = init::render(&draft, &name);
    finish(args, Some(path), &text, draft.requests.len())
}

/// `--url` instead of the target the input gave (`what`), said in the header.
fn retarget(draft: &mut init::Draft, url: Option<&str>, what: &str) {
    if let Some(url) = url {
        draft.about.push(format!(
            "Sent to --url instead of {what}, {}.",
            draft.url.as_deref().unwrap_or("")
        ));
        draft.url = Some(init::tidy_url(url));
    }
}

/// Writes the scenario, and says where on stderr when it went to a file.
fn finish(args: &InitArgs, input: Option<&Path>, text: &str, requests: usize) -> Result<i32> {
    write(args, input, text)?;
    if let Some(out) = &args.out {
        eprintln!(
            "wrote {} ({requests} requests); check it with `stampede plan {}`",
            out.display(),
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
fn write(args: &InitArgs, input: Option<&Path>, text: &str) -> Result<()> {
    let Some(out) = &args.out else {
        let mut stdout = std::io::stdout().lock();
        return stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
            .map_err(|e| Error::internal(format!("stdout: cannot write the scenario: {e}")));
    };
    if let (Some(Ok(a)), Ok(b)) = (input.map(Path::canonicalize), out.canonicalize()) {
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
