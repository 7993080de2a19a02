//! What deploy/ and the Dockerfile ship, checked offline by tools we did not write:
//! kubernetes-validate (the Kubernetes API's own schemas, strict) for the manifests,
//! botocore's parameter validator (AWS Batch's API model) for the Batch requests,
//! parliament (an IAM policy linter) for the policy, hadolint for the Dockerfile. And that
//! they agree with each other and with stampede: one shard count everywhere, a scenario
//! that parses, the policy allowing every AWS action stampede calls.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{run_bounded, tool, write};
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run_tool(program: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(root());
    let run = run_bounded(cmd, Duration::from_secs(120));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.output.stdout),
        String::from_utf8_lossy(&run.output.stderr)
    );
    (run.output.status.success(), text)
}

/// A Python snippet's stdout, run with `args` (the venv's Python has PyYAML, botocore,
/// parliament).
fn python(python: &Path, script: &str, args: &[&str]) -> String {
    let mut all = vec!["-c", script];
    all.extend(args);
    let (ok, text) = run_tool(python, &all);
    assert!(ok, "python failed: {text}");
    text
}

/// The manifests as JSON documents (PyYAML reads them).
fn manifests(py: &Path) -> Vec<Value> {
    let text = python(
        py,
        "import sys, json, yaml\nfor f in sys.argv[1:]:\n    for d in yaml.safe_load_all(open(f)):\n        print(json.dumps(d))",
        &[
            "deploy/kubernetes/scenario-configmap.yaml",
            "deploy/kubernetes/serviceaccount.yaml",
            "deploy/kubernetes/shards-job.yaml",
            "deploy/kubernetes/merge-job.yaml",
        ],
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn kind<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"] == kind && d["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn env_value<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

fn arg_after<'a>(args: &'a [Value], flag: &str) -> &'a str {
    let i = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("no {flag}"));
    args[i + 1].as_str().unwrap()
}

#[test]
fn the_kubernetes_manifests_are_valid_and_agree() {
    let (Some(validate), Some(py)) = (tool("kubernetes-validate"), tool("python3")) else {
        return;
    };
    let files = [
        "deploy/kubernetes/scenario-configmap.yaml",
        "deploy/kubernetes/serviceaccount.yaml",
        "deploy/kubernetes/shards-job.yaml",
        "deploy/kubernetes/merge-job.yaml",
    ];
    // backoffLimitPerIndex and podFailurePolicy are GA from Kubernetes 1.33.
    let mut args = vec!["--strict", "-k", "1.33.0"];
    args.extend(files);
    let (ok, text) = run_tool(&validate, &args);
    assert!(ok, "{text}");

    // The check can fail: a misspelt key in a copy.
    let dir = tempfile::tempdir().unwrap();
    let job = std::fs::read_to_string(root().join("deploy/kubernetes/shards-job.yaml")).unwrap();
    let bent = write(
        dir.path(),
        "bent.yaml",
        &job.replace("parallelism:", "paralelism:"),
    );
    let (ok, text) = run_tool(
        &validate,
        &["--strict", "-k", "1.33.0", bent.to_str().unwrap()],
    );
    assert!(!ok && text.contains("paralelism"), "{text}");

    let docs = manifests(&py);
    let shards = kind(&docs, "Job", "stampede-shards");
    let spec = &shards["spec"];
    assert_eq!(spec["completionMode"], "Indexed");
    assert_eq!(
        spec["backoffLimitPerIndex"], 0,
        "a failed shard is not rerun late"
    );
    let n = spec["completions"].as_u64().unwrap();
    assert_eq!(spec["parallelism"].as_u64(), Some(n), "every shard at once");
    let container = &spec["template"]["spec"]["containers"][0];
    assert_eq!(
        env_value(container, "STAMPEDE_SHARDS"),
        Some(n.to_string().as_str())
    );
    assert!(env_value(container, "STAMPEDE_START_AT").is_some());
    let args = container["args"].as_array().unwrap();
    let store = arg_after(args, "--out");
    assert!(
        store.starts_with("s3://") && store.ends_with('/'),
        "{store}"
    );

    // Scraped where it serves: the annotations, the container's port and the address
    // stampede listens on name one port.
    let annotations = &spec["template"]["metadata"]["annotations"];
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    assert_eq!(annotations["prometheus.io/path"], "/metrics");
    let port = annotations["prometheus.io/port"].as_str().unwrap();
    let listen = env_value(container, "STAMPEDE_METRICS_LISTEN").unwrap();
    assert_eq!(listen, format!("0.0.0.0:{port}"));
    assert_eq!(
        container["ports"][0]["containerPort"].to_string(),
        port,
        "the container's port"
    );
    assert!(
        arg_after(args, "--metrics-linger").ends_with('s'),
        "a linger for the last scrape"
    );

    let merge = &kind(&docs, "Job", "stampede-merge")["spec"]["template"]["spec"]["containers"][0];
    let margs = merge["args"].as_array().unwrap();
    assert_eq!(margs[0], "merge");
    assert_eq!(
        margs[1].as_str(),
        Some(store),
        "the merge reads the shards' store"
    );
    assert_eq!(arg_after(margs, "--expect"), n.to_string());

    // The scenario in the ConfigMap is one stampede reads.
    let scenario = kind(&docs, "ConfigMap", "stampede-scenario")["data"]["launch.toml"]
        .as_str()
        .unwrap();
    let path = write(dir.path(), "launch.toml", scenario);
    let quotas = root().join("scenarios/quotas.toml");
    let o = common::stampede(&[
        "plan",
        path.to_str().unwrap(),
        "--quotas",
        quotas.to_str().unwrap(),
    ]);
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "{}",
        common::stderr(&o)
    );
}

const VALIDATE_BATCH: &str = r#"
import sys, json, botocore.session
from botocore.validate import ParamValidator
model = botocore.session.get_session().get_service_model("batch")
for arg in sys.argv[1:]:
    path, op = arg.split("=")
    report = ParamValidator().validate(json.load(open(path)), model.operation_model(op).input_shape)
    print(path, "ok" if not report.has_errors() else report.generate_report().replace("\n", " "))
"#;

#[test]
fn the_aws_batch_requests_match_the_batch_api_and_agree() {
    let Some(py) = tool("python3") else { return };
    let checks = [
        "deploy/aws-batch/job-definition.json=RegisterJobDefinition",
        "deploy/aws-batch/submit-shards.json=SubmitJob",
        "deploy/aws-batch/submit-merge.json=SubmitJob",
    ];
    let out = python(&py, VALIDATE_BATCH, &checks);
    for line in out.lines() {
        assert!(line.ends_with(" ok"), "{line}");
    }
    assert_eq!(out.lines().count(), 3);
    // The check can fail: an array size as a string.
    let dir = tempfile::tempdir().unwrap();
    let submit =
        std::fs::read_to_string(root().join("deploy/aws-batch/submit-shards.json")).unwrap();
    let bent = write(
        dir.path(),
        "bent.json",
        &submit.replace("\"size\": 8", "\"size\": \"8\""),
    );
    let out = python(
        &py,
        VALIDATE_BATCH,
        &[&format!("{}=SubmitJob", bent.display())],
    );
    assert!(
        out.contains("Invalid type for parameter arrayProperties.size"),
        "{out}"
    );

    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(root().join(f)).unwrap()).unwrap()
    };
    let submit = read("deploy/aws-batch/submit-shards.json");
    let n = submit["arrayProperties"]["size"].as_u64().unwrap();
    let env = submit["containerOverrides"]["environment"]
        .as_array()
        .unwrap();
    let size = env
        .iter()
        .find(|e| e["name"] == "AWS_BATCH_JOB_ARRAY_SIZE")
        .unwrap();
    assert_eq!(size["value"].as_str(), Some(n.to_string().as_str()));
    assert!(env.iter().any(|e| e["name"] == "STAMPEDE_START_AT"));
    let merge = read("deploy/aws-batch/submit-merge.json");
    let cmd = merge["containerOverrides"]["command"].as_array().unwrap();
    assert_eq!(arg_after(cmd, "--expect"), n.to_string());
    assert_eq!(
        cmd[1], submit["parameters"]["out"],
        "the merge reads the shards' store"
    );
}

/// The AWS SDK operations stampede could call, as the fluent method is named, with the IAM
/// action each needs. A call not in this table fails the test below: add it here and to the
/// policy.
const OPERATIONS: [(&str, &str); 35] = [
    ("get_service_quota", "servicequotas:GetServiceQuota"),
    (
        "get_aws_default_service_quota",
        "servicequotas:GetAWSDefaultServiceQuota",
    ),
    ("list_service_quotas", "servicequotas:ListServiceQuotas"),
    (
        "list_aws_default_service_quotas",
        "servicequotas:ListAWSDefaultServiceQuotas",
    ),
    ("get_account_settings", "lambda:GetAccountSettings"),
    ("get_function_concurrency", "lambda:GetFunctionConcurrency"),
    (
        "get_provisioned_concurrency_config",
        "lambda:GetProvisionedConcurrencyConfig",
    ),
    (
        "list_provisioned_concurrency_configs",
        "lambda:ListProvisionedConcurrencyConfigs",
    ),
    (
        "get_function_configuration",
        "lambda:GetFunctionConfiguration",
    ),
    ("get_function", "lambda:GetFunction"),
    ("list_functions", "lambda:ListFunctions"),
    ("invoke", "lambda:InvokeFunction"),
    // `stampede tune`'s changes (src/tune/control.rs).
    (
        "update_function_configuration",
        "lambda:UpdateFunctionConfiguration",
    ),
    ("publish_version", "lambda:PublishVersion"),
    ("delete_function", "lambda:DeleteFunction"),
    ("get_alias", "lambda:GetAlias"),
    ("create_alias", "lambda:CreateAlias"),
    ("update_alias", "lambda:UpdateAlias"),
    ("delete_alias", "lambda:DeleteAlias"),
    // API Gateway's reads are all one IAM action.
    ("get_account", "apigateway:GET"),
    ("get_stage", "apigateway:GET"),
    ("get_stages", "apigateway:GET"),
    ("get_rest_api", "apigateway:GET"),
    ("get_usage_plans", "apigateway:GET"),
    ("get_resources", "apigateway:GET"),
    ("get_integration", "apigateway:GET"),
    // apigatewayv2's (HTTP APIs) are apigateway:GET too.
    ("get_api", "apigateway:GET"),
    ("get_routes", "apigateway:GET"),
    ("get_integrations", "apigateway:GET"),
    ("get_metric_data", "cloudwatch:GetMetricData"),
    ("put_object", "s3:PutObject"),
    ("get_object", "s3:GetObject"),
    ("head_object", "s3:GetObject"),
    // ListObjectsV2 is authorised as s3:ListBucket.
    ("list_objects_v2", "s3:ListBucket"),
    ("delete_object", "s3:DeleteObject"),
];

/// The IAM actions of the SDK calls in the code that talks to AWS (quotas, CloudWatch,
/// the S3 store, tune's changes to a function).
fn actions_stampede_calls() -> BTreeSet<String> {
    let mut text = String::new();
    let mut stack = vec![
        root().join("src/quotas"),
        root().join("src/cloudwatch"),
        root().join("src/store"),
        root().join("src/tune"),
    ];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                text.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            }
        }
    }
    let mut found: BTreeSet<String> = OPERATIONS
        .iter()
        .filter(|(method, _)| text.contains(&format!(".{method}()")))
        .map(|(_, action)| action.to_string())
        .collect();
    assert!(found.len() >= 8, "the scan found the calls: {found:?}");
    // A lambda target invokes on the load path, signed by stampede, not through an SDK.
    let load_path = std::fs::read_to_string(root().join("crates/lambda/src/function.rs")).unwrap();
    if load_path.contains("/2015-03-31/functions/{}/invocations") {
        found.insert("lambda:InvokeFunction".into());
    }
    // Remote write to Amazon Managed Service for Prometheus, signed by stampede for `aps`.
    let remote_write =
        std::fs::read_to_string(root().join("src/live/remote_write/target.rs")).unwrap();
    if remote_write.contains("sigv4_auth(aws, \"aps\"") {
        found.insert("aps:RemoteWrite".into());
    }
    found
}

/// The resource path each API Gateway read is authorised on (as `apigateway:GET`), by
/// the SDK crate that makes it: v1 (REST APIs) and v2 (HTTP APIs) both have a GetStage.
const APIGATEWAY_PATHS: [(&str, &str, &str); 10] = [
    ("aws_sdk_apigateway", "get_account", "/account"),
    ("aws_sdk_apigateway", "get_rest_api", "/restapis/*"),
    ("aws_sdk_apigateway", "get_stage", "/restapis/*/stages/*"),
    (
        "aws_sdk_apigateway",
        "get_resources",
        "/restapis/*/resources",
    ),
    (
        "aws_sdk_apigateway",
        "get_integration",
        "/restapis/*/resources/*/methods/*/integration",
    ),
    ("aws_sdk_apigateway", "get_usage_plans", "/usageplans"),
    ("aws_sdk_apigatewayv2", "get_api", "/apis/*"),
    ("aws_sdk_apigatewayv2", "get_routes", "/apis/*/routes"),
    (
        "aws_sdk_apigatewayv2",
        "get_integrations",
        "/apis/*/integrations",
    ),
    ("aws_sdk_apigatewayv2", "get_stage", "/apis/*/stages/*"),
];

/// The API Gateway paths the code reads: a file's calls, by the SDK crate it uses.
fn apigateway_paths_stampede_reads() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut stack = vec![root().join("src/quotas"), root().join("src/cloudwatch")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (krate, method, resource) in APIGATEWAY_PATHS {
                let uses =
                    text.contains(&format!("{krate} as")) || text.contains(&format!("{krate}::"));
                if uses && text.contains(&format!(".{method}()")) {
                    found.insert(resource.to_string());
                }
            }
        }
    }
    found
}

const LINT_POLICY: &str = r#"
import sys
from parliament import analyze_policy_string
for path in sys.argv[1:]:
    for f in analyze_policy_string(open(path).read()).findings:
        print(path, f.issue, f.detail)
"#;

#[test]
fn the_iam_policy_lints_clean_and_allows_exactly_what_stampede_calls() {
    let Some(py) = tool("python3") else { return };
    let policy = "deploy/aws-batch/iam-policy.json";
    let out = python(&py, LINT_POLICY, &[policy]);
    assert_eq!(out.trim(), "", "parliament's findings");
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join(policy)).unwrap();
    let bent = write(
        dir.path(),
        "bent.json",
        &text.replace("s3:GetObject", "s3:GetObjekt"),
    );
    let out = python(&py, LINT_POLICY, &[bent.to_str().unwrap()]);
    assert!(out.contains("UNKNOWN_ACTION"), "{out}");

    let doc: Value = serde_json::from_str(&text).unwrap();
    let allowed: BTreeSet<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| match &s["Action"] {
            Value::String(a) => vec![a.clone()],
            Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
            other => panic!("{other}"),
        })
        .collect();
    assert_eq!(allowed, actions_stampede_calls(), "the policy and the code");

    // API Gateway's reads are one action: what they may read is in the resources.
    let paths: BTreeSet<String> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["Action"] == "apigateway:GET")
        .flat_map(|s| s["Resource"].as_array().unwrap().iter())
        .map(|r| {
            let r = r.as_str().unwrap();
            r.strip_prefix("arn:aws:apigateway:us-east-1::")
                .unwrap_or_else(|| panic!("{r}"))
                .to_string()
        })
        .collect();
    assert_eq!(
        paths,
        apigateway_paths_stampede_reads(),
        "the policy's apigateway:GET resources and the code's reads"
    );
}

#[test]
fn the_dockerfile_lints_clean_and_runs_as_non_root() {
    let Some(hadolint) = tool("hadolint") else {
        return;
    };
    let (ok, text) = run_tool(&hadolint, &["Dockerfile"]);
    assert!(ok, "{text}");
    let file: PathBuf = root().join("Dockerfile");
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.matches("\nFROM ").count() + usize::from(text.starts_with("FROM ")),
        2,
        "multi-stage"
    );
    let user = text.lines().rfind(|l| l.starts_with("USER ")).unwrap();
    assert!(!user.contains("root") && !user.ends_with(" 0"), "{user}");
}
