//! `stampede tune` against moto (an AWS stand-in we did not write) for the control plane —
//! update, wait, publish, delete, alias — while the load goes through a URL to the
//! in-process emulator (`--function` names the function behind it, as an API in front
//! of it would). After a tune, a stop signal mid-tune or a `--restore` (an alias moved by
//! `--apply` put back too), the function's configuration read back through moto is as
//! found and no published version remains. `--apply` itself needs REPORT lines to pick
//! from, so it is tested end to end on the emulator (tests/it/tune_emulator.rs).
//!
//! Needs moto (`STAMPEDE_MOTO_ENDPOINT`, as tests/it/moto.rs); the bad-input tests do not.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_lambda as lambda;

use crate::common::{self, read_json, stderr, DUMMY_KEYS};
use crate::moto::{client, create_role, empty_zip, moto_endpoint};

const LIMIT: Duration = Duration::from_secs(90);
const ORIGINAL_MB: i32 = 256;

/// What a tune must leave as found: `$LATEST`'s configuration, the versions, the aliases.
#[derive(Debug, PartialEq)]
struct Found {
    memory: Option<i32>,
    timeout: Option<i32>,
    handler: Option<String>,
    role: Option<String>,
    runtime: Option<String>,
    versions: Vec<String>,
    aliases: Vec<(String, String)>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn unique(what: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("stampede-tune-{what}-{}-{nanos}", std::process::id())
}

/// A function in moto at [`ORIGINAL_MB`].
fn make_function(endpoint: &str, name: &str) {
    let role = create_role(endpoint, &format!("{name}-role"));
    let l = client!(lambda, endpoint);
    runtime()
        .block_on(
            l.create_function()
                .function_name(name)
                .runtime(lambda::types::Runtime::Python312)
                .role(role)
                .handler("index.handler")
                .memory_size(ORIGINAL_MB)
                .code(
                    lambda::types::FunctionCode::builder()
                        .zip_file(lambda::primitives::Blob::new(empty_zip()))
                        .build(),
                )
                .send(),
        )
        .expect("CreateFunction");
}

fn found(endpoint: &str, name: &str) -> Found {
    let l = client!(lambda, endpoint);
    runtime().block_on(async {
        let c = l
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .expect("GetFunctionConfiguration");
        let versions = l
            .list_versions_by_function()
            .function_name(name)
            .send()
            .await
            .expect("ListVersionsByFunction");
        let aliases = l
            .list_aliases()
            .function_name(name)
            .send()
            .await
            .expect("ListAliases");
        Found {
            memory: c.memory_size(),
            timeout: c.timeout(),
            handler: c.handler().map(str::to_string),
            role: c.role().map(str::to_string),
            runtime: c.runtime().map(|r| r.as_str().to_string()),
            versions: versions
                .versions()
                .iter()
                .filter_map(|v| v.version().map(str::to_string))
                .collect(),
            aliases: aliases
                .aliases()
                .iter()
                .map(|a| {
                    (
                        a.name().unwrap_or("").to_string(),
                        a.function_version().unwrap_or("").to_string(),
                    )
                })
                .collect(),
        }
    })
}

/// `stampede tune` with the control plane at moto and dummy keys, nothing of the
/// machine's AWS set-up read.
fn tune_command(dir: &Path, endpoint: &str, args: &[&str]) -> Command {
    let mut all = vec!["tune", "--endpoint-url", endpoint, "--region", "us-east-1"];
    all.extend_from_slice(args);
    common::aws_command(
        dir,
        &all,
        &[DUMMY_KEYS[0], DUMMY_KEYS[1], ("AWS_REGION", "us-east-1")],
    )
}

/// The load: the in-process emulator's API, 20 req/s for `duration`.
fn load_args<'a>(url: &'a str, function: &'a str, duration: &'a str) -> Vec<&'a str> {
    vec![
        "--url",
        url,
        "--function",
        function,
        "--rate",
        "20",
        "--duration",
        duration,
    ]
}

/// The function's configuration, versions and aliases as boto3 reads them from moto (a
/// client we did not write): `None` without the tools' Python.
fn by_boto3(endpoint: &str, name: &str) -> Option<serde_json::Value> {
    let python = common::tool("python3")?;
    let script = r#"
import json, sys, boto3
l = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="AKIDSTAMPEDETEST", aws_secret_access_key="x")
c = l.get_function_configuration(FunctionName=sys.argv[2])
keep = ["MemorySize", "Timeout", "Handler", "Role", "Runtime", "State", "LastUpdateStatus"]
print(json.dumps({
    "configuration": {k: c.get(k) for k in keep},
    "versions": [v["Version"] for v in l.list_versions_by_function(FunctionName=sys.argv[2])["Versions"]],
    "aliases": [[a["Name"], a["FunctionVersion"]] for a in l.list_aliases(FunctionName=sys.argv[2])["Aliases"]],
}, sort_keys=True))
"#;
    let out = Command::new(python)
        .args(["-c", script, endpoint, name])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("boto3's JSON"))
}

#[test]
fn a_tune_measures_each_size_and_leaves_the_function_as_found() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let function = unique("each");
    make_function(&endpoint, &function);
    let before = found(&endpoint, &function);
    let before_boto3 = by_boto3(&endpoint, &function);
    let emulator = common::start_emulator(stampede_emulator::EmulatorConfig::default());
    let url = format!("http://{}/", emulator.addr);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tune.json");
    let mut args = load_args(&url, &function, "1s");
    args.extend([
        "--memory",
        "128,512",
        "--allow-changes",
        "--out",
        out.to_str().unwrap(),
    ]);
    let run = common::run_bounded(tune_command(dir.path(), &endpoint, &args), LIMIT);
    let err = stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(0), "{err}");

    assert_eq!(found(&endpoint, &function), before, "{err}");
    assert_eq!(before.versions, vec!["$LATEST".to_string()]);
    // And as boto3 reads it back: the configuration after the tune equals before.
    if let Some(before_boto3) = before_boto3 {
        let after = by_boto3(&endpoint, &function).unwrap();
        assert_eq!(after, before_boto3, "{err}");
        assert_eq!(after["configuration"]["MemorySize"], ORIGINAL_MB);
    }
    let r = read_json(&out);
    let t = &r["tune"];
    assert_eq!(t["original"]["memory"], ORIGINAL_MB);
    assert_eq!(t["original"]["function"], function.as_str());
    let published = t["original"]["published"].as_array().unwrap().clone();
    assert_eq!(published.len(), 2, "{t:#}");
    let memories: Vec<(u64, String)> = t["memories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["memory"].as_u64().unwrap(),
                m["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(memories[0].0, 128);
    assert_eq!(memories[1].0, 512);
    assert_eq!(
        memories.iter().map(|m| m.1.as_str()).collect::<Vec<_>>(),
        published
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>()
    );
    // Each size's run reached the API: its latency was measured.
    for m in t["memories"].as_array().unwrap() {
        assert!(m["latency_ms"]["p50"].as_f64().unwrap() > 0.0, "{m:#}");
    }
    assert_eq!(t["restored"]["memory_restored"], true);
    assert_eq!(
        t["restored"]["deleted"],
        serde_json::Value::Array(published)
    );
    // A stage per size.
    let stages: Vec<&str> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(stages.len(), 2, "{stages:?}");
    assert!(stages[0].starts_with("128 MB") && stages[1].starts_with("512 MB"));
    assert!(
        r["totals"]["requests"].as_u64().unwrap() >= 30,
        "{:#}",
        r["totals"]
    );
}

/// A stop signal during a size's run: the load stops, the function is put back, the
/// results are written with `tune.restored`, exit 130.
fn a_signal_mid_tune_puts_the_function_back(signal: libc::c_int, what: &str) {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let function = unique(what);
    make_function(&endpoint, &function);
    let before = found(&endpoint, &function);
    let emulator = common::start_emulator(stampede_emulator::EmulatorConfig::default());
    let url = format!("http://{}/", emulator.addr);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tune.json");
    let mut args = load_args(&url, &function, "30s");
    args.extend([
        "--memory",
        "128,512,1024",
        "--allow-changes",
        "--out",
        out.to_str().unwrap(),
    ]);
    let mut child = common::spawn_watched(tune_command(dir.path(), &endpoint, &args));
    // Mid-tune: the first size set and published, its load under way.
    child.wait_for("the first version published", LIMIT, || {
        let now = found(&endpoint, &function);
        now.versions.len() == 2 && now.memory == Some(128)
    });
    child.wait_for("requests at the emulator", LIMIT, || {
        emulator.stats().requests > 0
    });
    child.signal(signal);
    let run = child.finish(LIMIT);
    let err = stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(130), "{err}");
    assert!(
        run.elapsed < Duration::from_secs(30),
        "the load stopped: {:?}",
        run.elapsed
    );
    assert_eq!(found(&endpoint, &function), before, "{err}");
    let r = read_json(&out);
    assert_eq!(r["interrupted"], true);
    let t = &r["tune"];
    assert_eq!(
        t["original"]["published"].as_array().unwrap().len(),
        1,
        "{t:#}"
    );
    assert_eq!(t["restored"]["memory_restored"], true);
    assert_eq!(t["restored"]["deleted"], t["original"]["published"]);
    assert_eq!(t["memories"].as_array().unwrap().len(), 1, "{t:#}");
}

#[test]
fn ctrl_c_mid_tune_puts_the_function_back() {
    a_signal_mid_tune_puts_the_function_back(libc::SIGINT, "int");
}

#[test]
fn sigterm_mid_tune_puts_the_function_back() {
    a_signal_mid_tune_puts_the_function_back(libc::SIGTERM, "term");
}

#[test]
fn restore_repairs_from_a_journal_and_again_is_harmless() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let function = unique("restore");
    make_function(&endpoint, &function);
    // As found: version 1 at the original memory, and the alias `live` on it.
    let l = client!(lambda, &endpoint);
    runtime().block_on(async {
        l.publish_version()
            .function_name(&function)
            .send()
            .await
            .expect("PublishVersion");
        l.create_alias()
            .function_name(&function)
            .name("live")
            .function_version("1")
            .send()
            .await
            .expect("CreateAlias");
    });
    let before = found(&endpoint, &function);
    assert_eq!(before.aliases, [("live".to_string(), "1".to_string())]);
    // What a tune that died after `--apply --alias live` began leaves: $LATEST at another
    // size, two versions published, the alias moved to the last.
    let published: Vec<String> = runtime().block_on(async {
        let mut published = Vec::new();
        for mb in [1024, 2048] {
            l.update_function_configuration()
                .function_name(&function)
                .memory_size(mb)
                .send()
                .await
                .expect("UpdateFunctionConfiguration");
            let v = l
                .publish_version()
                .function_name(&function)
                .send()
                .await
                .expect("PublishVersion");
            published.push(v.version().unwrap().to_string());
        }
        l.update_alias()
            .function_name(&function)
            .name("live")
            .function_version(published.last().unwrap())
            .send()
            .await
            .expect("UpdateAlias");
        published
    });
    let mut results = stampede::pipeline::tune::empty(SystemTime::now());
    results.tune = Some(stampede_results::tune::Tune {
        original: stampede_results::tune::TuneOriginal {
            function: function.clone(),
            region: Some("us-east-1".into()),
            memory: ORIGINAL_MB as u64,
            // One the tune journalled that is already gone: fine.
            published: [published.clone(), vec!["99".into()]].concat(),
            alias: Some(stampede_results::tune::TuneAlias {
                name: "live".into(),
                version: Some("1".into()),
            }),
            ..Default::default()
        },
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("died.json");
    std::fs::write(&journal, stampede_results::file::to_json(&results).unwrap()).unwrap();
    for round in 0..2 {
        let run = common::run_bounded(
            tune_command(
                dir.path(),
                &endpoint,
                &["--restore", journal.to_str().unwrap()],
            ),
            LIMIT,
        );
        let err = stderr(&run.output);
        assert_eq!(run.output.status.code(), Some(0), "round {round}: {err}");
        assert_eq!(found(&endpoint, &function), before, "round {round}: {err}");
        let t = read_json(&journal)["tune"].clone();
        assert_eq!(t["restored"]["memory_restored"], true, "{t:#}");
        assert!(t["restored"].get("problems").is_none(), "{t:#}");
        assert_eq!(
            t["restored"]["deleted"].as_array().unwrap().len(),
            3,
            "{t:#}"
        );
    }
}

#[test]
fn bad_input_is_exit_2_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["--lambda", "orders", "--memory", "128,512", "--rate", "5"],
            "--allow-changes",
        ),
        (
            &["--lambda", "orders", "--memory", "64", "--allow-changes"],
            "outside Lambda's 128 to 10240 MB",
        ),
        (
            &["--lambda", "orders", "--memory", "lots", "--allow-changes"],
            "as a list (128,256,512,1024,1769,3008) or a range",
        ),
        (
            &[
                "--lambda",
                "orders",
                "--memory",
                "128",
                "--strategy",
                "fast",
            ],
            "expected cost, speed or balanced",
        ),
        (
            &[
                "--url",
                "http://127.0.0.1:9/",
                "--memory",
                "128",
                "--rate",
                "5",
                "--allow-changes",
            ],
            "tune needs a function to change",
        ),
        (
            &["--lambda", "orders", "--rate", "5", "--allow-changes"],
            "--memory: missing",
        ),
    ];
    for (args, expected) in cases {
        let mut all = vec!["tune"];
        all.extend_from_slice(args);
        // No endpoint that answers: nothing may be called before the input is checked.
        let o = common::run_bounded(
            common::aws_command(
                dir.path(),
                &all,
                &[
                    ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
                    ("AWS_REGION", "us-east-1"),
                ],
            ),
            LIMIT,
        )
        .output;
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
    }
    let o = common::stampede(&["tune", "--restore", "nowhere.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
