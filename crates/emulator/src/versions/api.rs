//! Lambda's REST calls on a function's versions (restJson1, as the AWS SDKs send them):
//! GetFunctionConfiguration, GetFunction, UpdateFunctionConfiguration, PublishVersion,
//! ListVersionsByFunction, DeleteFunction (of a version), the alias calls and the
//! provisioned concurrency calls. Answers as Lambda's: the same paths, JSON field names,
//! status codes and error types. Pure: the state and the clock are passed in.

use std::time::{Instant, SystemTime};

use serde_json::{json, Value};

use super::{revision_id, Alias, FunctionVersions, Provisioned, Refused, UpdateStatus, Version};
use crate::config::EmulatorConfig;
use crate::control::Reply;
use crate::invoke_api::{function_arn, query_qualifier, resolve, Refusal, ACCOUNT};

/// The operation a Lambda request is, when it is one of these.
pub fn operation(method: &str, parts: &[&str]) -> Option<&'static str> {
    Some(match (method, parts) {
        ("GET", ["2015-03-31", "functions", _, "configuration"]) => "GetFunctionConfiguration",
        ("PUT", ["2015-03-31", "functions", _, "configuration"]) => "UpdateFunctionConfiguration",
        ("GET", ["2015-03-31", "functions", _]) => "GetFunction",
        ("DELETE", ["2015-03-31", "functions", _]) => "DeleteFunction",
        ("POST", ["2015-03-31", "functions", _, "versions"]) => "PublishVersion",
        ("GET", ["2015-03-31", "functions", _, "versions"]) => "ListVersionsByFunction",
        ("POST", ["2015-03-31", "functions", _, "aliases"]) => "CreateAlias",
        ("GET", ["2015-03-31", "functions", _, "aliases"]) => "ListAliases",
        ("GET", ["2015-03-31", "functions", _, "aliases", _]) => "GetAlias",
        ("PUT", ["2015-03-31", "functions", _, "aliases", _]) => "UpdateAlias",
        ("DELETE", ["2015-03-31", "functions", _, "aliases", _]) => "DeleteAlias",
        ("GET", ["2019-09-30", "functions", _, "provisioned-concurrency"]) => {
            "GetProvisionedConcurrencyConfig"
        }
        ("PUT", ["2019-09-30", "functions", _, "provisioned-concurrency"]) => {
            "PutProvisionedConcurrencyConfig"
        }
        ("DELETE", ["2019-09-30", "functions", _, "provisioned-concurrency"]) => {
            "DeleteProvisionedConcurrencyConfig"
        }
        _ => return None,
    })
}

/// A refusal's status, error type and message.
pub fn refusal(r: &Refused) -> (u16, &'static str, String) {
    match r {
        Refused::NotFound(m) => (404, "ResourceNotFoundException", m.clone()),
        Refused::Conflict(m) => (409, "ResourceConflictException", m.clone()),
        Refused::Invalid(m) => (400, "InvalidParameterValueException", m.clone()),
        Refused::Stale(m) => (412, "PreconditionFailedException", m.clone()),
        Refused::NoProvisioned(m) => (
            404,
            "ProvisionedConcurrencyConfigNotFoundException",
            m.clone(),
        ),
    }
}

fn reply(status: u16, body: Value) -> Reply {
    Reply {
        status,
        content_type: "application/json",
        error_type: None,
        body: if status == 204 {
            String::new()
        } else {
            body.to_string()
        },
    }
}

fn error(status: u16, error_type: &'static str, message: &str) -> Reply {
    Reply {
        error_type: Some(error_type),
        ..reply(status, json!({"Type": "User", "message": message}))
    }
}

fn refused(r: Refused) -> Reply {
    let (status, error_type, message) = refusal(&r);
    error(status, error_type, &message)
}

/// One request: `operation` (from [`operation`]) on the function of `c` whose versions are
/// `v`, `parts` its path split at `/`, `query` and `body` as received.
pub fn answer(
    c: &EmulatorConfig,
    v: &mut FunctionVersions,
    operation: &str,
    parts: &[&str],
    query: &str,
    body: &[u8],
    now: (Instant, SystemTime),
) -> Reply {
    if c.deny.iter().any(|d| *d == format!("lambda:{operation}")) {
        return error(
            403,
            "AccessDeniedException",
            &format!("not authorized to perform: lambda:{operation}"),
        );
    }
    let qualifier = match resolve(c, parts[2], query) {
        Ok(q) => q,
        Err(Refusal::NotFound(arn)) => {
            return error(
                404,
                "ResourceNotFoundException",
                &format!("Function not found: {arn}"),
            )
        }
        Err(Refusal::Invalid(m)) => return error(400, "ValidationException", &m),
        Err(Refusal::QualifierMismatch) => return error(
            400,
            "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        ),
    };
    let q = qualifier.as_deref();
    let input: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = |key: &str| input[key].as_str();
    let alias_name = || {
        percent_encoding::percent_decode_str(parts.get(4).copied().unwrap_or(""))
            .decode_utf8_lossy()
            .into_owned()
    };
    let result = match operation {
        "GetFunctionConfiguration" => v
            .version(q)
            .map(|(n, ver)| reply(200, configuration(c, v, q, &n, ver, now.0))),
        "GetFunction" => v.version(q).map(|(n, ver)| {
            let mut out = json!({
                "Configuration": configuration(c, v, q, &n, ver, now.0),
                "Code": { "RepositoryType": "S3", "Location": "https://awslambda.s3.amazonaws.com/emulated" }
            });
            if let Some(r) = c.reserved_concurrency {
                out["Concurrency"] = json!({ "ReservedConcurrentExecutions": r });
            }
            reply(200, out)
        }),
        "UpdateFunctionConfiguration" => {
            let number = |key: &str| input[key].as_u64();
            v.update(number("MemorySize"), number("Timeout"), text("RevisionId"), now)
                .cloned()
                .map(|ver| reply(200, configuration(c, v, None, "$LATEST", &ver, now.0)))
        }
        "PublishVersion" => v
            .publish(text("Description"), text("RevisionId"), now)
            .map(|(n, ver)| (n.to_string(), ver.clone()))
            .map(|(n, ver)| reply(201, configuration(c, v, Some(&n), &n, &ver, now.0))),
        "ListVersionsByFunction" => {
            let versions: Vec<Value> = v
                .versions()
                .iter()
                .map(|(n, ver)| {
                    let q = (n != "$LATEST").then_some(n.as_str());
                    configuration(c, v, q, n, ver, now.0)
                })
                .collect();
            Ok(reply(200, json!({ "Versions": versions })))
        }
        "DeleteFunction" => v.delete_version(q).map(|()| reply(204, Value::Null)),
        "CreateAlias" => v
            .create_alias(
                text("Name").unwrap_or(""),
                text("FunctionVersion").unwrap_or(""),
                text("Description"),
            )
            .cloned()
            .map(|a| reply(201, alias(c, text("Name").unwrap_or(""), &a))),
        "GetAlias" => {
            let name = alias_name();
            v.alias(&name).map(|a| reply(200, alias(c, &name, a)))
        }
        "UpdateAlias" => {
            let name = alias_name();
            v.update_alias(
                &name,
                text("FunctionVersion"),
                text("Description"),
                text("RevisionId"),
            )
            .map(|a| reply(200, alias(c, &name, a)))
        }
        "DeleteAlias" => v.delete_alias(&alias_name()).map(|()| reply(204, Value::Null)),
        "ListAliases" => {
            let version = query_param(query, "FunctionVersion");
            let aliases: Vec<Value> = v
                .aliases(version.as_deref())
                .into_iter()
                .map(|(name, a)| alias(c, name, a))
                .collect();
            Ok(reply(200, json!({ "Aliases": aliases })))
        }
        "PutProvisionedConcurrencyConfig" => {
            match input["ProvisionedConcurrentExecutions"].as_u64() {
                None => Err(Refused::Invalid(
                    "ProvisionedConcurrentExecutions: a whole number ≥ 1 is required".into(),
                )),
                Some(n) => v
                    .put_provisioned(q, n, now)
                    .map(|p| reply(202, provisioned(p, now.0))),
            }
        }
        "GetProvisionedConcurrencyConfig" => v
            .provisioned(q)
            .map(|p| reply(200, provisioned(p, now.0))),
        "DeleteProvisionedConcurrencyConfig" => v
            .delete_provisioned(q)
            .map(|()| reply(204, Value::Null)),
        other => Ok(error(
            404,
            "UnknownOperationException",
            &format!("the emulator does not serve {other}"),
        )),
    };
    result.unwrap_or_else(refused)
}

/// The percent-decoded value of `key` in `query`.
fn query_param(query: &str, key: &str) -> Option<String> {
    if key == "Qualifier" {
        return query_qualifier(query);
    }
    query.split('&').find_map(|kv| {
        let v = kv.strip_prefix(key)?.strip_prefix('=')?;
        Some(
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned(),
        )
    })
}

/// Lambda's `LastModified`: `2026-01-01T00:00:00.000+0000`.
fn last_modified(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t)
        .to_string()
        .replace('Z', "+0000")
}

/// A version's FunctionConfiguration; `asked` the qualifier it was asked by (its ARN's).
fn configuration(
    c: &EmulatorConfig,
    v: &FunctionVersions,
    asked: Option<&str>,
    number: &str,
    version: &Version,
    now: Instant,
) -> Value {
    let name = c.function.as_str();
    let status = match (number, v.update_status(now)) {
        ("$LATEST", UpdateStatus::InProgress) => "InProgress",
        _ => "Successful",
    };
    let mut out = json!({
        "FunctionName": name,
        "FunctionArn": function_arn(&c.region, name, asked),
        "Runtime": "provided.al2023",
        "Role": format!("arn:aws:iam::{ACCOUNT}:role/{name}-role"),
        "Handler": "bootstrap",
        "CodeSize": 1024,
        "Description": if version.description.is_empty() { "emulated by stampede" } else { version.description.as_str() },
        "Timeout": version.config.timeout_s,
        "MemorySize": version.config.memory_mb,
        "LastModified": last_modified(version.modified),
        "CodeSha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        "Version": number,
        "TracingConfig": { "Mode": "PassThrough" },
        "RevisionId": revision_id(version.revision),
        "State": "Active",
        "LastUpdateStatus": status,
        "PackageType": "Zip",
        "Architectures": [c.architecture.key()],
        "EphemeralStorage": { "Size": 512 },
        "LoggingConfig": { "LogFormat": "Text", "LogGroup": format!("/aws/lambda/{name}") }
    });
    if status == "InProgress" {
        out["LastUpdateStatusReason"] = json!("The function is being updated.");
        out["LastUpdateStatusReasonCode"] = json!("Updating");
    }
    out
}

fn alias(c: &EmulatorConfig, name: &str, a: &Alias) -> Value {
    json!({
        "AliasArn": function_arn(&c.region, &c.function, Some(name)),
        "Name": name,
        "FunctionVersion": a.version,
        "Description": a.description,
        "RevisionId": revision_id(a.revision)
    })
}

fn provisioned(p: &Provisioned, now: Instant) -> Value {
    let ready = now >= p.ready_at;
    let allocated = if ready { p.requested } else { 0 };
    json!({
        "RequestedProvisionedConcurrentExecutions": p.requested,
        "AvailableProvisionedConcurrentExecutions": allocated,
        "AllocatedProvisionedConcurrentExecutions": allocated,
        "Status": if ready { "READY" } else { "IN_PROGRESS" },
        "LastModified": last_modified(p.modified)
    })
}
