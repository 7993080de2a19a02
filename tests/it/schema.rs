//! The JSON Schemas stampede ships (`stampede schema …`, schemas/) against checkers we did not
//! write: Taplo — the TOML toolkit behind Even Better TOML, which reads a file's `#:schema`
//! directive as editors do — for the shipped scenarios, and Python's `jsonschema` for results
//! files written by real runs. `scripts/test` installs both under target/; without them these
//! tests are skipped unless `STAMPEDE_REQUIRE_TOOLS=1`.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

const FORMATS: [&str; 5] = ["scenario", "emulator", "quotas", "results", "compare"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

use common::tool;

fn schema_text(format: &str) -> String {
    let o = common::stampede(&["schema", format]);
    assert_eq!(o.status.code(), Some(0), "{}", common::stderr(&o));
    common::stdout(&o)
}

#[test]
fn the_schemas_in_the_repository_are_the_ones_the_binary_prints() {
    for format in FORMATS {
        let path = root().join(format!("schemas/{format}.schema.json"));
        let printed = schema_text(format);
        let kept = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            kept == printed,
            "{} differs from what the binary prints (it carries the shipped file): rebuild it",
            path.display()
        );
    }
}

/// The shipped TOML files, each with the schema its first line names.
fn shipped_files() -> Vec<(PathBuf, String)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let first = text.lines().next().unwrap_or_default().to_string();
            (p, first)
        })
        .collect()
}

#[test]
fn every_shipped_file_names_its_schema_for_editors() {
    let files = shipped_files();
    assert!(files.len() >= 5);
    for (path, first) in files {
        let format = if path.ends_with("quotas.toml") {
            "quotas"
        } else {
            "scenario"
        };
        assert_eq!(
            first,
            format!("#:schema ../schemas/{format}.schema.json"),
            "{}: the first line is the Taplo schema directive",
            path.display()
        );
    }
}

/// `taplo check` on `files`; true when taplo finds them valid.
fn taplo_check(taplo: &Path, extra: &[&str], files: &[&Path]) -> (bool, String) {
    let mut cmd = Command::new(taplo);
    cmd.arg("check").args(extra).args(files);
    cmd.env("RUST_LOG", "warn").env("NO_COLOR", "1");
    let run = common::run_bounded(cmd, Duration::from_secs(60));
    let o = run.output;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.success(), said)
}

#[test]
fn taplo_finds_the_shipped_files_valid_through_their_directive_and_flags_a_bad_one() {
    let Some(taplo) = tool("taplo") else { return };
    let files: Vec<PathBuf> = shipped_files().into_iter().map(|(p, _)| p).collect();
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    // No --schema: taplo follows each file's `#:schema` line, as an editor does.
    let (ok, said) = taplo_check(&taplo, &[], &refs);
    assert!(ok, "taplo rejects a shipped file:\n{said}");

    // The same directive on a scenario with mistakes an editor must underline.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("scenarios")).unwrap();
    std::os::unix::fs::symlink(root().join("schemas"), dir.path().join("schemas")).unwrap();
    let bad = common::write(
        &dir.path().join("scenarios"),
        "bad.toml",
        "#:schema ../schemas/scenario.schema.json\n\
         [target]\nurl = \"http://127.0.0.1:9/\"\nmethd = \"GET\"\n\
         [[stages]]\nkind = \"burst\"\nduration = \"10s\"\n\
         [[stages]]\nkind = \"constant\"\nrate = 5\nduration = \"10 parsecs\"\n\
         [thresholds]\nthrottle_rate = \"1\"\n\
         [retry]\non = [\"throttle\", \"flood\"]\n",
    );
    let (ok, said) = taplo_check(&taplo, &[], &[&bad]);
    assert!(!ok, "taplo passed a bad scenario:\n{said}");
    for mistake in [
        "'methd' was unexpected",
        "\"requests\" is a required property",
        "\"10 parsecs\" does not match",
        "\"1\" does not match",
        "\"flood\" is not one of",
    ] {
        assert!(
            said.contains(mistake),
            "taplo did not say {mistake}:\n{said}"
        );
    }
}

#[test]
fn the_docs_complete_scenarios_pass_taplo() {
    let Some(taplo) = tool("taplo") else { return };
    let schema = format!(
        "file://{}",
        root().join("schemas/scenario.schema.json").display()
    );
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for page in ["docs/scenario.md", "README.md"] {
        let text = std::fs::read_to_string(root().join(page)).unwrap();
        for (i, block) in text.split("```toml\n").skip(1).enumerate() {
            let block = block.split("```").next().unwrap();
            // Only whole scenarios: snippets of one table are not files.
            if !block.contains("[[stages]]") {
                continue;
            }
            let file = common::write(dir.path(), &format!("{i}.toml"), block);
            let (ok, said) = taplo_check(&taplo, &["--schema", &schema], &[&file]);
            assert!(
                ok,
                "{page}, toml block {i} fails the schema:\n{said}\n{block}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 1, "no complete scenario found in the docs");
}

/// Property names of each object schema in `schema`: the root as "", definitions by name.
fn properties(schema: &Value) -> Vec<(String, BTreeSet<String>)> {
    let names = |v: &Value| -> BTreeSet<String> {
        v["properties"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let mut out = vec![(String::new(), names(schema))];
    for (name, def) in schema["definitions"].as_object().unwrap() {
        if def.get("properties").is_some() {
            out.push((name.clone(), names(def)));
        }
    }
    out
}

/// A scenario with an unknown key in the table that `definition` describes.
fn scenario_with_stray_key(definition: &str) -> String {
    let base = "[target]\nurl = \"http://127.0.0.1:9/\"\n[[stages]]\nkind = \"pause\"\nduration = \"1s\"\nname = \"p\"\n";
    match definition {
        "" => format!("zz_stray = 1\n{base}"),
        "Target" => base.replace("[target]\n", "[target]\nzz_stray = 1\n"),
        "Auth" => format!("{base}[target.auth]\nkind = \"bearer\"\nenv = \"T\"\nzz_stray = 1\n"),
        "Stage" => format!("{base}zz_stray = 1\n"),
        "Thresholds" => format!("{base}[thresholds.stages.p]\nzz_stray = \"1s\"\n"),
        "Request" => format!("{base}[request]\nzz_stray = 1\n"),
        "RequestEntry" => format!("{base}[[requests]]\nname = \"r\"\npath = \"/\"\nzz_stray = 1\n"),
        "FlowEntry" => format!(
            "{base}[[requests]]\nname = \"r\"\npath = \"/\"\n[[flows]]\nname = \"f\"\nsteps = [\"r\"]\nzz_stray = 1\n"
        ),
        "Expect" => {
            format!("{base}[[requests]]\nname = \"r\"\npath = \"/\"\nexpect = {{ zz_stray = 1 }}\n")
        }
        "Retry" => format!("{base}[retry]\nzz_stray = 1\n"),
        "Abort" => format!("{base}[abort]\nzz_stray = 1\n"),
        "Aws" => format!("{base}[aws]\nzz_stray = 1\n"),
        "DataSource" => format!("{base}[data]\nfile = \"x.csv\"\nzz_stray = 1\n"),
        "Prices" => format!("{base}[aws.prices]\nzz_stray = 1\n"),
        "Emulator" => format!("{base}[emulator]\nzz_stray = 1\n"),
        "Scaling" => format!("{base}[emulator]\nscaling = {{ zz_stray = 1 }}\n"),
        "Slowdown" => format!("{base}[emulator]\nslowdown = {{ zz_stray = 1 }}\n"),
        "Stream" => format!("{base}[emulator]\nstream = {{ zz_stray = 1 }}\n"),
        "EmulatorRoute" => format!(
            "{base}[[emulator.routes]]\nroute = \"GET /\"\nfunction = \"f\"\nzz_stray = 1\n"
        ),
        "EmulatorFunction" => format!("{base}[emulator.functions.f]\nzz_stray = 1\n"),
        "EmulatorAnswer" => {
            format!("{base}[emulator.functions.f]\nanswer = {{ zz_stray = 1 }}\n")
        }
        other => panic!("the schema has a table this test does not know: {other}"),
    }
}

/// The keys the parser's own unknown-key error lists as valid.
fn keys_the_parser_accepts(text: &str) -> BTreeSet<String> {
    let e = stampede::scenario::parse_str(Path::new("s.toml"), text, None).unwrap_err();
    assert!(
        e.message.contains("unknown key `zz_stray`"),
        "{}",
        e.message
    );
    let list = e.message.split("one of ").nth(1).expect("a list of keys");
    list.lines()
        .next()
        .unwrap()
        .split(", ")
        .map(|k| k.trim().to_string())
        .collect()
}

#[test]
fn every_table_allows_in_the_schema_exactly_the_keys_the_parser_accepts() {
    let schema: Value = serde_json::from_str(&schema_text("scenario")).unwrap();
    let tables = properties(&schema);
    assert!(tables.len() >= 11, "{tables:?}");
    for (definition, allowed) in tables {
        let accepted = keys_the_parser_accepts(&scenario_with_stray_key(&definition));
        assert_eq!(allowed, accepted, "table {definition:?}: schema vs parser");
    }
}

/// The keys a quotas file's error for a stray key lists as valid.
fn listed_in(text: &str) -> BTreeSet<String> {
    let e = stampede::quotas::file::parse(Path::new("q.toml"), text).unwrap_err();
    e.message
        .split("one of ")
        .nth(1)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(", ")
        .map(str::to_string)
        .collect()
}

#[test]
fn the_quotas_schema_allows_exactly_the_keys_the_quotas_file_reads() {
    let schema: Value = serde_json::from_str(&schema_text("quotas")).unwrap();
    let allowed: BTreeSet<String> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    for key in &allowed {
        // `routes` is an array of tables; every other key a number.
        let text = if key == "routes" {
            "[[routes]]\nroute = \"GET /\"\n".to_string()
        } else {
            format!("{key} = 1\n")
        };
        let parsed = stampede::quotas::file::parse(Path::new("q.toml"), &text);
        assert!(parsed.is_ok(), "{key}: {:?}", parsed.err());
    }
    // And a route's table: exactly the keys a [[routes]] entry takes.
    let route = &schema["properties"]["routes"]["items"]["properties"];
    for key in route.as_object().unwrap().keys() {
        let value = if ["route", "function", "qualifier"].contains(&key.as_str()) {
            "\"GET /\"".to_string()
        } else {
            "1".to_string()
        };
        let text = if key == "route" {
            "[[routes]]\nroute = \"GET /\"\n".to_string()
        } else {
            format!("[[routes]]\nroute = \"GET /\"\n{key} = {value}\n")
        };
        let parsed = stampede::quotas::file::parse(Path::new("q.toml"), &text);
        assert!(parsed.is_ok(), "routes.{key}: {:?}", parsed.err());
    }
    let in_schema: BTreeSet<String> = route.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        in_schema,
        listed_in("[[routes]]\nroute = \"GET /\"\nzz_stray = 1\n")
    );
    assert_eq!(allowed, listed_in("zz_stray = 1\n"));
}

/// Python with `jsonschema`, from the test tools' venv.
pub(crate) fn python_with_jsonschema() -> Option<PathBuf> {
    tool("python3").or_else(|| tool("python"))
}

/// Validates each JSON `instance` against `schema` (a file) with Python's jsonschema (draft
/// 7, formats checked); returns the error messages.
pub(crate) fn jsonschema_errors(
    python: &Path,
    schema: &Path,
    instances: &[PathBuf],
) -> Vec<String> {
    let script = "import json, sys, jsonschema\n\
        schema = json.load(open(sys.argv[1]))\n\
        jsonschema.Draft7Validator.check_schema(schema)\n\
        v = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())\n\
        for path in sys.argv[2:]:\n\
        \x20   for e in v.iter_errors(json.load(open(path))):\n\
        \x20       print(path, '/'.join(map(str, e.absolute_path)), e.message)\n";
    let mut cmd = Command::new(python);
    cmd.arg("-c").arg(script).arg(schema).args(instances);
    let run = common::run_bounded(cmd, Duration::from_secs(60));
    let err = String::from_utf8_lossy(&run.output.stderr);
    assert!(run.output.status.success(), "jsonschema failed: {err}");
    String::from_utf8_lossy(&run.output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn results_of_real_runs_match_the_results_schema() {
    let Some(python) = python_with_jsonschema() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    // Throttles, retries, a burst past the reserved concurrency, thresholds, an abort
    // rule that trips: most optional keys of the results are written.
    let busy = common::write(
        dir.path(),
        "busy.toml",
        r#"name = "schema check"
seed = 3
[emulator]
reserved_concurrency = 5
rate = 40
burst = 10
duration = "30ms"
[retry]
max_attempts = 2
base = "10ms"
cap = "50ms"
[thresholds]
p99 = "1ms"
throttle_rate = "0%"
[thresholds.stages.steady]
p50 = "10s"
[abort]
throttle_rate = "5%"
window = "1s"
min_attempts = 5
[[stages]]
name = "steady"
kind = "constant"
rate = 80
duration = "2s"
[[stages]]
kind = "burst"
requests = 50
"#,
    );
    let busy_out = dir.path().join("busy.json");
    let o = common::stampede(
        &["run", busy.to_str().unwrap(), "--quiet", "--out"]
            .into_iter()
            .chain([busy_out.to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert!(busy_out.is_file(), "{}", common::stderr(&o));
    // Nothing listens: connect errors, failure samples, no request succeeded.
    let dead_out = dir.path().join("dead.json");
    let o = common::stampede(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "20",
        "--duration",
        "1s",
        "--quiet",
        "--out",
        dead_out.to_str().unwrap(),
    ]);
    assert!(dead_out.is_file(), "{}", common::stderr(&o));
    // A Lambda target: the lambda key, stages' lambda, cold starts per second, errors by type.
    let lambda = common::write(
        dir.path(),
        "lambda.toml",
        "[emulator]\nreserved_concurrency = 20\nerror_rate = 0.3\nduration = \"30ms\"\n\
         [target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\n\
         [[stages]]\nkind = \"burst\"\nrequests = 60\n",
    );
    let lambda_out = dir.path().join("lambda.json");
    let o = common::stampede(&[
        "run",
        lambda.to_str().unwrap(),
        "--quiet",
        "--out",
        lambda_out.to_str().unwrap(),
    ]);
    assert!(lambda_out.is_file(), "{}", common::stderr(&o));

    let schema = root().join("schemas/results.schema.json");
    let errors = jsonschema_errors(
        &python,
        &schema,
        &[busy_out.clone(), dead_out.clone(), lambda_out],
    );
    assert!(
        errors.is_empty(),
        "results fail the schema:\n{}",
        errors.join("\n")
    );

    // What `compare --json` writes, of the same pair and of a forced pair with other stages.
    let mut comparisons = Vec::new();
    for (name, head, extra) in [
        ("same", &busy_out, None),
        ("forced", &dead_out, Some("--force")),
    ] {
        let out = dir.path().join(format!("{name}.compare.json"));
        let mut args = vec![
            "compare",
            busy_out.to_str().unwrap(),
            head.to_str().unwrap(),
            "-q",
            "--json",
            out.to_str().unwrap(),
        ];
        args.extend(extra);
        let o = common::stampede(&args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "{}",
            common::stderr(&o)
        );
        comparisons.push(out);
    }
    let compare_schema = root().join("schemas/compare.schema.json");
    let errors = jsonschema_errors(&python, &compare_schema, &comparisons);
    assert!(
        errors.is_empty(),
        "comparisons fail the schema:\n{}",
        errors.join("\n")
    );

    // And the check can fail: a key missing, a count that is not a number. (Keys the schema
    // does not know are allowed: readers of stampede.results/1 ignore keys added later.)
    let mut bent = common::read_json(&busy_out);
    bent.as_object_mut().unwrap().remove("totals");
    bent["attempts"]["sent"] = "many".into();
    let bent_path = common::write(dir.path(), "bent.json", &bent.to_string());
    let errors = jsonschema_errors(&python, &schema, &[bent_path]);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("'totals' is a required property"))
            && errors.iter().any(|e| e.contains("attempts/sent")),
        "{errors:?}"
    );
}

#[test]
fn duration_and_percentage_forms_in_the_schema_agree_with_the_parser() {
    let Some(python) = python_with_jsonschema() else {
        return;
    };
    let durations = [
        "30s",
        "250ms",
        "1m30s",
        "1.5s",
        " 2 m ",
        "1h 2m",
        "3 seconds",
        "10us",
        "5µs",
        "1w",
        "30",
        "",
        "s",
        "10 parsecs",
        "1..2s",
        "-1s",
        "1,5s",
        "0.s",
    ];
    let percentages = [
        "1%", "0.1%", " 5 %", "100%", ".5%", "1e1%", "1", "%", "one%", "5%%", "-", "1.%",
    ];
    let schema: Value = serde_json::from_str(&schema_text("scenario")).unwrap();
    let defs = &schema["definitions"];
    let dir = tempfile::tempdir().unwrap();
    let check = |form: &str, samples: &[&str], parser: &dyn Fn(&str) -> bool| {
        let one = serde_json::json!({ "$schema": schema["$schema"], "definitions": defs, "$ref": format!("#/definitions/{form}") });
        let schema_path = common::write(dir.path(), &format!("{form}.json"), &one.to_string());
        let instances: Vec<PathBuf> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| {
                common::write(
                    dir.path(),
                    &format!("{form}-{i}.json"),
                    &Value::from(*s).to_string(),
                )
            })
            .collect();
        let errors = jsonschema_errors(&python, &schema_path, &instances);
        for (sample, path) in samples.iter().zip(&instances) {
            let schema_ok = !errors.iter().any(|e| e.starts_with(path.to_str().unwrap()));
            assert_eq!(
                schema_ok,
                parser(sample),
                "{form} {sample:?}: schema and parser disagree"
            );
        }
    };
    check("Duration", &durations, &|s| {
        humantime::parse_duration(s.trim()).is_ok()
    });
    check("Percentage", &percentages, &|s| {
        stampede::scenario::Threshold::parse(stampede::scenario::Metric::ThrottleRate, s).is_ok()
    });
}
