//! `stampede quotas` against the emulator's control plane, through the real AWS SDK
//! clients and the standard credential chain, as it would read an account.

use crate::common;

use common::{small_account, stampede_aws, start_emulator, stderr, stdout, write, DUMMY_KEYS};
use serde_json::Value;
use stampede_emulator::{EmulatorConfig, RunningEmulator};

/// `stampede quotas --json` for every limit the emulator serves; exit code and JSON.
fn quotas_json(em: &RunningEmulator, extra: &[&str], env: &[(&str, &str)]) -> (Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", em.addr);
    let mut args = vec![
        "quotas",
        "--endpoint-url",
        &endpoint,
        "--region",
        "us-east-1",
        "--function",
        "orders-handler",
        "--qualifier",
        "live",
        "--rest-api-id",
        "abc123",
        "--stage",
        "prod",
        "--json",
    ];
    args.extend(extra);
    let o = stampede_aws(dir.path(), &args, env);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json = serde_json::from_str(&stdout(&o))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&o), stderr(&o)));
    (json, format!("{}{}", stdout(&o), stderr(&o)))
}

/// The reading for `key`: (value, source kind, action or quota code).
fn reading(q: &Value, key: &str) -> (Value, String, String) {
    let entry = q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["key"] == key)
        .unwrap_or_else(|| panic!("no {key} in {q:#}"));
    let source = &entry["source"];
    let detail = source["action"]
        .as_str()
        .or(source["code"].as_str())
        .unwrap_or("")
        .to_string();
    (
        entry["value"].clone(),
        source["kind"].as_str().unwrap().to_string(),
        detail,
    )
}

fn not_read(q: &Value) -> Vec<(String, String)> {
    q["not_read"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|n| {
                    (
                        n["action"].as_str().unwrap().to_string(),
                        n["reason"].as_str().unwrap().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn api(action: &str) -> (String, String) {
    ("api".into(), action.into())
}

#[test]
fn applied_values_are_preferred_and_every_call_is_read() {
    let em = start_emulator(small_account());
    let (q, text) = quotas_json(&em, &["-vv"], &DUMMY_KEYS);
    assert_eq!(q["origin"], "aws");
    assert_eq!(q["region"], "us-east-1");
    assert_eq!(q["function"], "orders-handler");
    let r = reading(&q, "lambda_concurrent_executions");
    assert_eq!(
        (r.0, r.1, r.2),
        (100.0.into(), "applied".into(), "L-B99A9384".into())
    );
    let r = reading(&q, "lambda_unreserved_concurrency");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (50.0.into(), api("lambda:GetAccountSettings"))
    );
    let r = reading(&q, "function_reserved_concurrency");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (50.0.into(), api("lambda:GetFunctionConcurrency"))
    );
    let r = reading(&q, "function_provisioned_concurrency");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (10.0.into(), api("lambda:GetProvisionedConcurrencyConfig"))
    );
    // GetAccount is authoritative for the API Gateway account throttle.
    let r = reading(&q, "apigw_rate");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (500.0.into(), api("apigateway:GetAccount"))
    );
    let r = reading(&q, "apigw_burst");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (250.0.into(), api("apigateway:GetAccount"))
    );
    let r = reading(&q, "stage_rate");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (400.0.into(), api("apigateway:GetStage"))
    );
    let r = reading(&q, "stage_burst");
    assert_eq!(
        (r.0, (r.1, r.2)),
        (200.0.into(), api("apigateway:GetStage"))
    );
    // Never changed: Service Quotas' AWS default.
    let r = reading(&q, "rest_integration_timeout_ms");
    assert_eq!((r.0, r.1), (29000.0.into(), "aws_default".into()));
    let r = reading(&q, "lambda_scaling_rate");
    assert_eq!((r.0, r.1), (1000.0.into(), "documented".into()));
    assert!(not_read(&q).is_empty(), "{q:#}");
    assert!(
        !text.contains(DUMMY_KEYS[1].1),
        "a secret was printed:\n{text}"
    );
}

#[test]
fn quotas_never_changed_fall_back_to_the_aws_default() {
    // AWS's defaults everywhere, and the calls that would answer first denied.
    let em = start_emulator(EmulatorConfig {
        function: "orders-handler".into(),
        rest_api_id: "abc123".into(),
        deny: vec![
            "lambda:GetAccountSettings".into(),
            "apigateway:GetAccount".into(),
        ],
        ..EmulatorConfig::default()
    });
    let (q, _) = quotas_json(&em, &[], &DUMMY_KEYS);
    for (key, value, code) in [
        ("lambda_concurrent_executions", 1000.0, "L-B99A9384"),
        ("apigw_rate", 10_000.0, "L-8A5B8E43"),
        ("apigw_burst", 5_000.0, "L-CDF5615A"),
    ] {
        let r = reading(&q, key);
        assert_eq!(
            (r.0, r.1, r.2),
            (value.into(), "aws_default".into(), code.into())
        );
    }
    // Read, and nothing set: not the same as unknown.
    for (key, action) in [
        (
            "function_reserved_concurrency",
            "lambda:GetFunctionConcurrency",
        ),
        (
            "function_provisioned_concurrency",
            "lambda:GetProvisionedConcurrencyConfig",
        ),
        ("stage_rate", "apigateway:GetStage"),
    ] {
        let r = reading(&q, key);
        assert_eq!((r.0, (r.1, r.2)), (Value::Null, api(action)));
    }
    let missing = not_read(&q);
    assert!(
        missing.contains(&("lambda:GetAccountSettings".into(), "access denied".into())),
        "{missing:?}"
    );
    assert!(
        missing.contains(&("apigateway:GetAccount".into(), "access denied".into())),
        "{missing:?}"
    );
    assert_eq!(missing.len(), 2, "{missing:?}");
}

#[test]
fn a_denied_call_is_named_and_the_rest_still_read() {
    let em = start_emulator(EmulatorConfig {
        deny: vec!["lambda:GetFunctionConcurrency".into()],
        ..small_account()
    });
    let (q, _) = quotas_json(&em, &[], &DUMMY_KEYS);
    assert_eq!(
        not_read(&q),
        [(
            "lambda:GetFunctionConcurrency".to_string(),
            "access denied".to_string()
        )]
    );
    assert!(q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["key"] != "function_reserved_concurrency"));
    assert_eq!(reading(&q, "lambda_concurrent_executions").0, 100.0);
    assert_eq!(reading(&q, "stage_rate").0, 400.0);

    // The table says the same, and what to grant.
    let dir = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{}", em.addr);
    let o = stampede_aws(
        dir.path(),
        &[
            "quotas",
            "--endpoint-url",
            &endpoint,
            "--region",
            "us-east-1",
            "--function",
            "orders-handler",
        ],
        &DUMMY_KEYS,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("not read:"), "{text}");
    assert!(
        text.contains("lambda:GetFunctionConcurrency: access denied"),
        "{text}"
    );
    assert!(
        text.contains("grant lambda:GetFunctionConcurrency"),
        "{text}"
    );
    assert!(
        text.contains("Service Quotas, applied (lambda L-B99A9384)"),
        "{text}"
    );
}

#[test]
fn without_credentials_it_says_so_once_and_shows_the_documented_values() {
    let em = start_emulator(small_account());
    let (q, text) = quotas_json(&em, &[], &[]);
    let missing = not_read(&q);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0].0, "credentials");
    assert!(missing[0].1.starts_with("no credentials"), "{missing:?}");
    let r = reading(&q, "lambda_concurrent_executions");
    assert_eq!((r.0, r.1), (1000.0.into(), "documented".into()));
    assert_eq!(reading(&q, "apigw_rate").0, 10_000.0);
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn a_quotas_file_is_read_instead_of_aws() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "quotas.toml",
        "lambda_concurrent_executions = 1000   # account\nfunction_reserved_concurrency = 50\nstage_rate = 400\n",
    );
    let o = stampede_aws(
        dir.path(),
        &["quotas", "--quotas", path.to_str().unwrap(), "--json"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let q: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(q["origin"], "file");
    let r = reading(&q, "function_reserved_concurrency");
    assert_eq!((r.0, r.1), (50.0.into(), "file".into()));
    // A key the file does not give stays unknown.
    assert!(q["quotas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["key"] != "apigw_rate"));
    assert!(q.get("not_read").is_none());
}

#[test]
fn bad_quotas_files_and_flags_exit_2_naming_the_place() {
    let dir = tempfile::tempdir().unwrap();
    for (text, place, says) in [
        (
            "apigw_rate = 400\nstage_brust = 10\n",
            ":2:1:",
            "did you mean `stage_burst`",
        ),
        (
            "stage_rate = \"fast\"\n",
            ":1:14:",
            "expected: a number ≥ 0 (req/s)",
        ),
        (
            "apigw_rate = 1\n\napigw_burst = -5\n",
            ":3:15:",
            "is negative (-5)",
        ),
        ("apigw_rate = = 1\n", ":1:", ""),
    ] {
        let path = write(dir.path(), "q.toml", text);
        let o = stampede_aws(
            dir.path(),
            &["quotas", "--quotas", path.to_str().unwrap()],
            &[],
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(&format!("q.toml{place}")), "{text}: {err}");
        assert!(err.contains(says), "{text}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let missing = dir.path().join("nope.toml");
    let o = stampede_aws(
        dir.path(),
        &["quotas", "--quotas", missing.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("nope.toml"), "{}", stderr(&o));

    for args in [
        &["quotas", "--qualifier", "live"][..],
        &["quotas", "--stage", "prod"][..],
        &["quotas", "--endpoint-url", "not a url"][..],
        &["quotas", "--endpoint-url", "ftp://127.0.0.1/"][..],
    ] {
        let o = stampede_aws(dir.path(), args, &[]);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    }
}
