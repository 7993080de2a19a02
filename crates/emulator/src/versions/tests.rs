use super::*;
use crate::config::EmulatorConfig;
use serde_json::json;
use serde_json::Value;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:f";
const DELAY: Duration = Duration::from_millis(300);

fn at(t0: Instant, ms: u64) -> (Instant, SystemTime) {
    (t0 + Duration::from_millis(ms), SystemTime::UNIX_EPOCH)
}

fn function(t0: Instant) -> FunctionVersions {
    let config = VersionConfig {
        memory_mb: 128,
        timeout_s: 3,
    };
    FunctionVersions::new(ARN.into(), config, "live", Some(10), DELAY, at(t0, 0))
}

#[test]
fn it_starts_as_configured_with_version_1_behind_the_alias() {
    let t0 = Instant::now();
    let v = function(t0);
    let live = v.target(Some("live")).unwrap();
    assert_eq!((live.version.as_str(), live.memory_mb), ("1", 128));
    // Version 1 is $LATEST as configured: the same environments.
    assert_eq!(v.target(None).unwrap().pool, live.pool);
    assert_eq!(v.target(Some("$LATEST")).unwrap().version, "$LATEST");
    assert_eq!(
        v.target(Some("7")),
        Err(Refused::NotFound(format!("Function not found: {ARN}:7")))
    );
    assert!(matches!(v.target(Some("beta")), Err(Refused::NotFound(_))));
    // The settings' provisioned concurrency is reported, keeps nothing warm.
    assert_eq!(v.provisioned(Some("live")).unwrap().requested, 10);
    assert!(v.kept_warm().is_empty());
}

#[test]
fn an_update_is_in_progress_for_the_delay_and_refuses_another() {
    let t0 = Instant::now();
    let mut v = function(t0);
    let before = v.latest.revision;
    let pool = v.latest.pool;
    v.update(Some(1024), None, None, at(t0, 0)).unwrap();
    assert_eq!(v.update_status(t0), UpdateStatus::InProgress);
    assert_ne!(v.latest.revision, before, "a new RevisionId");
    assert_ne!(v.latest.pool, pool, "fresh environments");
    assert_eq!(v.latest.config.timeout_s, 3, "what was not given is kept");
    assert!(matches!(
        v.update(Some(512), None, None, at(t0, 100)),
        Err(Refused::Conflict(m)) if m.contains("An update is in progress")
    ));
    assert!(matches!(
        v.publish(None, None, at(t0, 299)),
        Err(Refused::Conflict(_))
    ));
    assert_eq!(
        v.update_status(t0 + Duration::from_millis(300)),
        UpdateStatus::Successful
    );
    assert!(matches!(
        v.update(Some(64), None, None, at(t0, 400)),
        Err(Refused::Invalid(_))
    ));
    assert!(matches!(
        v.update(None, Some(901), None, at(t0, 400)),
        Err(Refused::Invalid(_))
    ));
    assert!(matches!(
        v.update(Some(256), None, Some("stale"), at(t0, 400)),
        Err(Refused::Stale(_))
    ));
    let current = revision_id(v.latest.revision);
    v.update(Some(256), Some(10), Some(&current), at(t0, 400))
        .unwrap();
    assert_eq!(
        v.latest.config,
        VersionConfig {
            memory_mb: 256,
            timeout_s: 10
        }
    );
    // The alias still runs version 1, as configured.
    assert_eq!(v.target(Some("live")).unwrap().memory_mb, 128);
}

#[test]
fn publishing_snapshots_latest_in_environments_of_its_own() {
    let t0 = Instant::now();
    let mut v = function(t0);
    // Unchanged since version 1: Lambda gives version 1 again.
    assert_eq!(v.publish(None, None, at(t0, 0)).unwrap().0, 1);
    v.update(Some(512), None, None, at(t0, 0)).unwrap();
    let (n, _) = v.publish(Some("512 MB"), None, at(t0, 300)).unwrap();
    assert_eq!(n, 2);
    let two = v.target(Some("2")).unwrap();
    assert_eq!((two.version.as_str(), two.memory_mb), ("2", 512));
    assert_ne!(two.pool, v.target(None).unwrap().pool, "a fresh version");
    assert_eq!(
        v.publish(None, None, at(t0, 301)).unwrap().0,
        2,
        "no change"
    );
    // A later change to $LATEST leaves the version as published.
    v.update(Some(1024), None, None, at(t0, 400)).unwrap();
    assert_eq!(v.target(Some("2")).unwrap().memory_mb, 512);
    assert_eq!(v.publish(None, None, at(t0, 700)).unwrap().0, 3);
    let listed: Vec<(String, u64)> = v
        .versions()
        .iter()
        .map(|(n, ver)| (n.clone(), ver.config.memory_mb))
        .collect();
    assert_eq!(
        listed,
        [
            ("$LATEST".into(), 1024),
            ("1".into(), 128),
            ("2".into(), 512),
            ("3".into(), 1024)
        ]
    );
    // Deleted: gone with its environments, its number never given again.
    let three = v.target(Some("3")).unwrap().pool;
    v.delete_version(Some("3")).unwrap();
    assert!(!v.pools().contains(&three));
    assert!(matches!(v.target(Some("3")), Err(Refused::NotFound(_))));
    v.update(Some(2048), None, None, at(t0, 800)).unwrap();
    assert_eq!(v.publish(None, None, at(t0, 1100)).unwrap().0, 4);
}

#[test]
fn deleting_is_for_versions_no_alias_names() {
    let t0 = Instant::now();
    let mut v = function(t0);
    assert!(matches!(
        v.delete_version(Some("1")),
        Err(Refused::Conflict(m)) if m.contains("[live]")
    ));
    assert!(matches!(v.delete_version(None), Err(Refused::Invalid(_))));
    assert!(matches!(
        v.delete_version(Some("$LATEST")),
        Err(Refused::Invalid(_))
    ));
    assert!(matches!(
        v.delete_version(Some("live")),
        Err(Refused::Invalid(_))
    ));
    assert!(matches!(
        v.delete_version(Some("9")),
        Err(Refused::NotFound(_))
    ));
    v.delete_alias("live").unwrap();
    v.delete_version(Some("1")).unwrap();
    assert_eq!(v.versions().len(), 1);
}

#[test]
fn aliases_name_a_version_and_follow_it() {
    let t0 = Instant::now();
    let mut v = function(t0);
    v.update(Some(1769), None, None, at(t0, 0)).unwrap();
    v.publish(None, None, at(t0, 300)).unwrap();
    v.create_alias("beta", "2", Some("tuned")).unwrap();
    assert_eq!(v.target(Some("beta")).unwrap().memory_mb, 1769);
    assert!(matches!(
        v.create_alias("beta", "1", None),
        Err(Refused::Conflict(_))
    ));
    assert!(matches!(
        v.create_alias("gamma", "9", None),
        Err(Refused::NotFound(_))
    ));
    assert!(matches!(
        v.create_alias("12", "1", None),
        Err(Refused::Invalid(_))
    ));
    let names = |v: &FunctionVersions, of| {
        v.aliases(of)
            .iter()
            .map(|(n, _)| n.to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&v, None), ["beta", "live"]);
    assert_eq!(names(&v, Some("1")), ["live"]);
    let r = revision_id(v.alias("live").unwrap().revision);
    v.update_alias("live", Some("2"), None, Some(&r)).unwrap();
    assert_eq!(v.target(Some("live")).unwrap().version, "2");
    assert!(matches!(
        v.update_alias("live", Some("1"), None, Some(&r)),
        Err(Refused::Stale(_))
    ));
    assert!(matches!(
        v.update_alias("nope", Some("1"), None, None),
        Err(Refused::NotFound(_))
    ));
    v.delete_alias("beta").unwrap();
    assert!(matches!(v.alias("beta"), Err(Refused::NotFound(_))));
    assert!(matches!(v.delete_alias("beta"), Err(Refused::NotFound(_))));
}

#[test]
fn provisioned_concurrency_keeps_its_versions_environments_warm() {
    let t0 = Instant::now();
    let mut v = function(t0);
    v.update(Some(1024), None, None, at(t0, 0)).unwrap();
    v.publish(None, None, at(t0, 300)).unwrap();
    let pool = v.target(Some("2")).unwrap().pool;
    assert!(matches!(
        v.put_provisioned(None, 5, at(t0, 300)),
        Err(Refused::Invalid(_))
    ));
    assert!(matches!(
        v.put_provisioned(Some("9"), 5, at(t0, 300)),
        Err(Refused::NotFound(_))
    ));
    let p = v.put_provisioned(Some("2"), 50, at(t0, 300)).unwrap();
    assert_eq!(p.ready_at, t0 + Duration::from_millis(600));
    assert_eq!(v.kept_warm(), BTreeMap::from([(pool, 50)]));
    v.delete_provisioned(Some("2")).unwrap();
    assert!(matches!(
        v.provisioned(Some("2")),
        Err(Refused::NoProvisioned(_))
    ));
    assert!(v.kept_warm().is_empty());
    // On an alias: its version's environments; deleting the version drops it.
    v.create_alias("beta", "2", None).unwrap();
    v.put_provisioned(Some("beta"), 3, at(t0, 400)).unwrap();
    assert_eq!(v.kept_warm(), BTreeMap::from([(pool, 3)]));
    v.delete_alias("beta").unwrap();
    assert!(v.kept_warm().is_empty());
}

fn call(
    c: &EmulatorConfig,
    v: &mut FunctionVersions,
    method: &str,
    path: &str,
    query: &str,
    body: &str,
    now: (Instant, SystemTime),
) -> (u16, Option<&'static str>, Value) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let op = api::operation(method, &parts).expect("an operation on versions");
    let r = api::answer(c, v, op, &parts, query, body.as_bytes(), now);
    let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
    (r.status, r.error_type, body)
}

#[test]
fn the_rest_calls_answer_as_lambdas() {
    let t0 = Instant::now();
    let c = EmulatorConfig {
        memory_mb: 1769,
        architecture: stampede_lambda::Architecture::Arm64,
        ..EmulatorConfig::default()
    };
    let mut v = FunctionVersions::new(
        crate::invoke_api::function_arn(&c.region, &c.function, None),
        VersionConfig {
            memory_mb: 1769,
            timeout_s: 3,
        },
        "live",
        None,
        DELAY,
        at(t0, 0),
    );
    let config = "/2015-03-31/functions/emulated-function/configuration";
    let (status, _, got) = call(&c, &mut v, "GET", config, "", "", at(t0, 0));
    assert_eq!(status, 200);
    assert_eq!(
        (&got["MemorySize"], &got["Architectures"], &got["Version"]),
        (&json!(1769), &json!(["arm64"]), &json!("$LATEST"))
    );
    assert_eq!(got["LastModified"], "1970-01-01T00:00:00.000+0000");
    let arn = "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aemulated-function";
    let path = format!("/2015-03-31/functions/{arn}/configuration");
    let (_, _, got) = call(&c, &mut v, "GET", &path, "Qualifier=live", "", at(t0, 0));
    assert_eq!(
        (got["Version"].as_str(), got["FunctionArn"].as_str()),
        (
            Some("1"),
            Some("arn:aws:lambda:us-east-1:123456789012:function:emulated-function:live")
        )
    );
    let other = "/2015-03-31/functions/other/configuration";
    let (status, kind, _) = call(&c, &mut v, "GET", other, "", "", at(t0, 0));
    assert_eq!((status, kind), (404, Some("ResourceNotFoundException")));

    let (status, _, got) = call(
        &c,
        &mut v,
        "PUT",
        config,
        "",
        r#"{"MemorySize":512}"#,
        at(t0, 0),
    );
    assert_eq!(status, 200);
    assert_eq!(
        (&got["MemorySize"], &got["LastUpdateStatus"]),
        (&json!(512), &json!("InProgress"))
    );
    let versions = "/2015-03-31/functions/emulated-function/versions";
    let (status, kind, got) = call(&c, &mut v, "POST", versions, "", "{}", at(t0, 10));
    assert_eq!((status, kind), (409, Some("ResourceConflictException")));
    assert!(got["message"].as_str().unwrap().contains("in progress"));
    let (_, _, got) = call(&c, &mut v, "GET", config, "", "", at(t0, 300));
    assert_eq!(got["LastUpdateStatus"], "Successful");
    let (status, _, got) = call(&c, &mut v, "POST", versions, "", "{}", at(t0, 300));
    assert_eq!(
        (status, &got["Version"], &got["MemorySize"]),
        (201, &json!("2"), &json!(512))
    );
    let (_, _, got) = call(&c, &mut v, "GET", versions, "", "", at(t0, 300));
    assert_eq!(got["Versions"].as_array().unwrap().len(), 3);

    let aliases = "/2015-03-31/functions/emulated-function/aliases";
    let body = r#"{"Name":"beta","FunctionVersion":"2"}"#;
    let (status, _, got) = call(&c, &mut v, "POST", aliases, "", body, at(t0, 300));
    assert_eq!((status, &got["FunctionVersion"]), (201, &json!("2")));
    let beta = format!("{aliases}/beta");
    let (status, _, _) = call(
        &c,
        &mut v,
        "PUT",
        &beta,
        "",
        r#"{"FunctionVersion":"1"}"#,
        at(t0, 300),
    );
    assert_eq!(status, 200);
    let (_, _, got) = call(
        &c,
        &mut v,
        "GET",
        aliases,
        "FunctionVersion=1",
        "",
        at(t0, 300),
    );
    assert_eq!(got["Aliases"].as_array().unwrap().len(), 2);
    let (status, _, _) = call(&c, &mut v, "DELETE", &beta, "", "", at(t0, 300));
    assert_eq!(status, 204);
    let (status, kind, _) = call(&c, &mut v, "GET", &beta, "", "", at(t0, 300));
    assert_eq!((status, kind), (404, Some("ResourceNotFoundException")));

    let pc = "/2019-09-30/functions/emulated-function/provisioned-concurrency";
    let body = r#"{"ProvisionedConcurrentExecutions":50}"#;
    let (status, _, got) = call(&c, &mut v, "PUT", pc, "Qualifier=2", body, at(t0, 300));
    assert_eq!((status, &got["Status"]), (202, &json!("IN_PROGRESS")));
    let (_, _, got) = call(&c, &mut v, "GET", pc, "Qualifier=2", "", at(t0, 600));
    assert_eq!(
        (
            &got["Status"],
            &got["AllocatedProvisionedConcurrentExecutions"]
        ),
        (&json!("READY"), &json!(50))
    );
    let (status, _, _) = call(&c, &mut v, "DELETE", pc, "Qualifier=2", "", at(t0, 600));
    assert_eq!(status, 204);
    let (status, kind, _) = call(&c, &mut v, "GET", pc, "Qualifier=2", "", at(t0, 600));
    assert_eq!(
        (status, kind),
        (404, Some("ProvisionedConcurrencyConfigNotFoundException"))
    );

    let function = "/2015-03-31/functions/emulated-function";
    let (status, _, _) = call(
        &c,
        &mut v,
        "DELETE",
        function,
        "Qualifier=2",
        "",
        at(t0, 600),
    );
    assert_eq!(status, 204);
    let (status, kind, _) = call(&c, &mut v, "GET", function, "Qualifier=2", "", at(t0, 600));
    assert_eq!((status, kind), (404, Some("ResourceNotFoundException")));
    let (status, kind, _) = call(&c, &mut v, "DELETE", function, "", "", at(t0, 600));
    assert_eq!(
        (status, kind),
        (400, Some("InvalidParameterValueException"))
    );

    let denied = EmulatorConfig {
        deny: vec!["lambda:UpdateFunctionConfiguration".into()],
        ..c.clone()
    };
    let (status, kind, _) = call(&denied, &mut v, "PUT", config, "", "{}", at(t0, 600));
    assert_eq!((status, kind), (403, Some("AccessDeniedException")));
}
