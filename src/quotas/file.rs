//! The quotas file (docs/quotas.md): for offline runs and accounts that may not read quotas.
//! Every key is optional; a missing key means "unknown", never zero.

use std::collections::BTreeMap;
use std::path::Path;

use toml::{Spanned, Value};

use super::{IntegrationKind, LimitKey, Quota, QuotaSource, Quotas, RouteLimits, LIMIT_KEYS};
use crate::error::{Error, Result};
use crate::located::{toml_error, Source};

/// Reads a quotas file; a bad one is bad input (exit 2) with its line and column.
pub fn load(path: &Path) -> Result<Quotas> {
    let max = crate::located::TEXT_FILE_MAX;
    let text = crate::located::read_user_text(path, max).map_err(|why| {
        Error::input(format!(
            "cannot read quotas file {}: {why}\n  expected: a quotas file (TOML) of at most {}",
            path.display(),
            crate::located::size_text(max)
        ))
    })?;
    parse(path, &text)
}

/// Parses the text of a quotas file named `path`.
pub fn parse(path: &Path, text: &str) -> Result<Quotas> {
    let src = Source::new(path, text);
    // Spanned keys and values, so each error can point at its line and column.
    let spanned: std::collections::BTreeMap<Spanned<String>, Spanned<Value>> =
        toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
    let names: Vec<&str> = LIMIT_KEYS.iter().map(|k| k.key()).collect();
    let source = QuotaSource::File {
        path: path.display().to_string(),
    };
    let mut quotas = Quotas {
        origin: "file".into(),
        ..Quotas::default()
    };
    for (name, value) in &spanned {
        if name.get_ref() == ROUTES {
            continue;
        }
        let Some(key) = LimitKey::from_key(name.get_ref()) else {
            let mut names = names.clone();
            names.push(ROUTES);
            return Err(src.unknown(name.span(), "quota", name.get_ref(), &names));
        };
        let n = src.number_in(value, key.key(), true, key.unit())?;
        quotas.offer(key, Some(n), source.clone());
    }
    // The scaling rate has no API and no account-specific value: AWS's number stands.
    if let Some(v) = LimitKey::LambdaScalingRate.documented() {
        quotas.offer(
            LimitKey::LambdaScalingRate,
            Some(v),
            QuotaSource::Documented,
        );
    }
    quotas.quotas.sort_by_key(|q| q.key);
    let file: RoutesOnly = toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
    for table in &file.routes {
        quotas.routes.push(route(&src, table, &source)?);
    }
    Ok(quotas)
}

/// `[[routes]]`: an API's routes and their own limits, for the quota check per route.
const ROUTES: &str = "routes";

/// What a route's table may hold beside its limits.
const ROUTE_NAMES: [&str; 3] = ["route", "function", "qualifier"];

/// The limits a route's table may hold.
const ROUTE_LIMITS: [LimitKey; 6] = [
    LimitKey::RouteThrottleRate,
    LimitKey::RouteThrottleBurst,
    LimitKey::UsagePlanRate,
    LimitKey::UsagePlanBurst,
    LimitKey::FunctionReservedConcurrency,
    LimitKey::FunctionProvisionedConcurrency,
];

#[derive(serde::Deserialize)]
struct RoutesOnly {
    #[serde(default)]
    routes: Vec<Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>>,
}

/// One `[[routes]]` table: `route = "POST /orders"` (required), `function`, `qualifier`
/// and any of the route's limits.
fn route(
    src: &Source,
    table: &Spanned<BTreeMap<Spanned<String>, Spanned<Value>>>,
    source: &QuotaSource,
) -> Result<RouteLimits> {
    let mut names: Vec<&str> = ROUTE_NAMES.to_vec();
    names.extend(ROUTE_LIMITS.iter().map(|k| k.key()));
    let text = |key: &str, v: &Spanned<Value>| -> Result<String> {
        v.get_ref()
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| src.error(v.span(), &format!("`{key}` is not a string"), "a string"))
    };
    let mut out = RouteLimits {
        route: String::new(),
        integration: IntegrationKind::None,
        function: None,
        qualifier: None,
        quotas: Vec::new(),
        function_config: None,
    };
    for (name, value) in table.get_ref() {
        match name.get_ref().as_str() {
            "route" => {
                let route = text("route", value)?;
                stampede_routes::RoutePattern::parse(&route).map_err(|why| {
                    src.error(
                        value.span(),
                        &format!("route `{route}`: {why}"),
                        "`METHOD /path`, as API Gateway writes it: \"POST /orders\", \"GET /orders/{id}\", \"ANY /{proxy+}\"",
                    )
                })?;
                out.route = route;
            }
            "function" => {
                out.function = Some(text("function", value)?);
                out.integration = IntegrationKind::Lambda;
            }
            "qualifier" => out.qualifier = Some(text("qualifier", value)?),
            other => {
                let Some(key) = ROUTE_LIMITS.into_iter().find(|k| k.key() == other) else {
                    return Err(src.unknown(name.span(), "route key", other, &names));
                };
                let n = src.number_in(value, key.key(), true, key.unit())?;
                out.quotas.push(Quota {
                    key,
                    value: Some(n),
                    source: source.clone(),
                    note: None,
                });
            }
        }
    }
    if out.route.is_empty() {
        return Err(src.error(
            table.span(),
            "a [[routes]] entry without `route`",
            "route = \"METHOD /path\" in every [[routes]] entry",
        ));
    }
    out.quotas.sort_by_key(|q| q.key);
    Ok(out)
}

/// The quotas file as a JSON Schema (`stampede schema quotas`): the keys this parser reads.
pub fn schema() -> schemars::Schema {
    let limit = |k: &LimitKey| {
        let about = format!("{} ({}). Absent: unknown.", k.title(), k.unit());
        let form = serde_json::json!({ "description": about, "type": "number", "minimum": 0 });
        (k.key().to_string(), form)
    };
    let mut properties: serde_json::Map<String, serde_json::Value> =
        LIMIT_KEYS.iter().map(limit).collect();
    let mut route: serde_json::Map<String, serde_json::Value> =
        ROUTE_LIMITS.iter().map(limit).collect();
    route.insert(
        "route".into(),
        serde_json::json!({"description": "`METHOD /path` as API Gateway writes it: \"POST /orders\", \"GET /orders/{id}\", \"ANY /{proxy+}\"", "type": "string"}),
    );
    route.insert(
        "function".into(),
        serde_json::json!({"description": "The Lambda function the route invokes (its name).", "type": "string"}),
    );
    route.insert(
        "qualifier".into(),
        serde_json::json!({"description": "Its alias or version.", "type": "string"}),
    );
    properties.insert(
        ROUTES.into(),
        serde_json::json!({
            "description": "An API's routes and their own limits, for the quota check per route (a [[requests]] mix is matched to them).",
            "type": "array",
            "items": {"type": "object", "properties": route, "required": ["route"], "additionalProperties": false}
        }),
    );
    schemars::json_schema!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "stampede quotas file",
        "description": "The limits a run can hit, for offline runs and accounts that may not read quotas. Every key is optional.",
        "type": "object",
        "properties": properties,
        "additionalProperties": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Quotas> {
        parse(Path::new("q.toml"), text)
    }

    #[test]
    fn every_key_is_optional_and_a_missing_one_stays_unknown() {
        let q = parse_str("apigw_rate = 400\nfunction_reserved_concurrency = 50\n").unwrap();
        assert_eq!(q.origin, "file");
        assert_eq!(q.get(LimitKey::ApigwRate), Some(400.0));
        assert_eq!(q.get(LimitKey::FunctionReservedConcurrency), Some(50.0));
        assert!(q.quota(LimitKey::LambdaConcurrentExecutions).is_none());
        assert_eq!(q.get(LimitKey::LambdaScalingRate), Some(1000.0));
        assert_eq!(
            q.quota(LimitKey::ApigwRate).unwrap().source,
            QuotaSource::File {
                path: "q.toml".into()
            }
        );
    }

    #[test]
    fn routes_carry_their_own_limits_and_bad_ones_are_located() {
        let q = parse_str(
            "lambda_concurrent_executions = 1000\n\n[[routes]]\nroute = \"POST /orders\"\nfunction = \"orders-create\"\nfunction_reserved_concurrency = 50\nroute_throttle_rate = 100\n\n[[routes]]\nroute = \"GET /orders/{id}\"\n",
        )
        .unwrap();
        assert_eq!(q.get(LimitKey::LambdaConcurrentExecutions), Some(1000.0));
        assert_eq!(q.routes.len(), 2);
        let create = &q.routes[0];
        assert_eq!(create.route, "POST /orders");
        assert_eq!(create.function.as_deref(), Some("orders-create"));
        assert_eq!(create.integration, IntegrationKind::Lambda);
        assert_eq!(
            create.get(LimitKey::FunctionReservedConcurrency),
            Some(50.0)
        );
        assert_eq!(create.get(LimitKey::RouteThrottleRate), Some(100.0));
        assert_eq!(q.routes[1].integration, IntegrationKind::None);
        let e = parse_str("[[routes]]\nroute = \"FETCH /orders\"\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:2:9:"), "{}", e.message);
        assert!(e.message.contains("METHOD /path"), "{}", e.message);
        let e = parse_str("[[routes]]\nroute = \"GET /\"\nroute_throttle_rat = 5\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:3:1:"), "{}", e.message);
        assert!(
            e.message.contains("did you mean `route_throttle_rate`"),
            "{}",
            e.message
        );
        let e = parse_str("[[routes]]\nfunction = \"f\"\n").unwrap_err();
        assert!(e.message.contains("without `route`"), "{}", e.message);
    }

    #[test]
    fn bad_files_name_the_line_and_what_was_expected() {
        let e = parse_str("apigw_rate = 400\napigw_brust = 10\n").unwrap_err();
        assert_eq!(e.code, 2);
        assert!(
            e.message
                .starts_with("q.toml:2:1: unknown quota `apigw_brust`"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains("did you mean `apigw_burst`"),
            "{}",
            e.message
        );
        let e = parse_str("stage_rate = \"fast\"\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:1:14:"), "{}", e.message);
        assert!(
            e.message.contains("expected: a number ≥ 0 (req/s)"),
            "{}",
            e.message
        );
        let e = parse_str("\n\nstage_burst = -5\n").unwrap_err();
        assert!(e.message.starts_with("q.toml:3:15:"), "{}", e.message);
        assert!(e.message.contains("negative"), "{}", e.message);
        let e = parse_str("stage_burst = \n").unwrap_err();
        assert!(e.message.starts_with("q.toml:1:"), "{}", e.message);
    }
}
