//! An API with routes: `[[emulator.routes]]` (each route to a function, with an optional
//! method (REST) / route (HTTP API) throttle) and `[emulator.functions.NAME]` (each
//! function's own concurrency, times and answer). Read here, checked with file:line:col.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use toml::{Spanned, Value};

use stampede_located::forms::{DurationOrRange, Rate, WholeNumber};
use stampede_located::{Result, Source};

use crate::answer_template::{FunctionAnswer, Template, PLACEHOLDERS};
use crate::config::{handler_time, memory, EmulatorConfig, HandlerTime};
use crate::routes::{RoutePattern, Segment};

/// One route: what selects it, the function it invokes, its own throttle.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteConfig {
    pub pattern: RoutePattern,
    /// Index into [`EmulatorConfig::functions`].
    pub function: usize,
    /// The method (REST) / route (HTTP API) throttle: rate and burst.
    pub throttle: Option<(f64, u64)>,
}

/// One function of the API.
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionConfig {
    pub name: String,
    pub reserved_concurrency: Option<u64>,
    pub provisioned_concurrency: Option<u64>,
    pub cold_start: HandlerTime,
    pub duration: HandlerTime,
    /// The CPU parts at 1,769 MB (`memory_model`).
    pub cpu_time: HandlerTime,
    pub init_cpu_time: HandlerTime,
    pub memory_mb: u64,
    pub error_rate: f64,
    pub answer: FunctionAnswer,
}

/// `[[emulator.routes]]`.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "EmulatorRoute")]
pub struct RawRoute {
    /// `METHOD /path` as API Gateway writes it: "POST /orders", "GET /orders/{id}",
    /// "ANY /{proxy+}".
    #[schemars(with = "String")]
    route: Spanned<String>,
    /// The function it invokes: a name under [emulator.functions].
    #[schemars(with = "String")]
    function: Spanned<String>,
    /// The method (REST) or route (HTTP API) throttle, requests per second. With burst.
    #[schemars(with = "Option<Rate>")]
    rate: Option<Spanned<Value>>,
    /// That throttle's bucket size. With rate.
    #[schemars(with = "Option<WholeNumber>")]
    burst: Option<Spanned<Value>>,
}

/// `[emulator.functions.NAME]`: defaults are the [emulator] table's.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "EmulatorFunction")]
pub struct RawFunction {
    /// Its reserved concurrency (default none: it shares the account's unreserved pool).
    #[schemars(with = "Option<WholeNumber>")]
    reserved_concurrency: Option<Spanned<Value>>,
    /// Reported by the control plane; does not pre-warm (default none).
    #[schemars(with = "Option<WholeNumber>")]
    provisioned_concurrency: Option<Spanned<Value>>,
    /// Handler time, fixed or a uniform range such as "20ms..80ms".
    #[schemars(with = "Option<DurationOrRange>")]
    duration: Option<Spanned<Value>>,
    /// Added on a new execution environment, fixed or a range.
    #[schemars(with = "Option<DurationOrRange>")]
    cold_start: Option<Spanned<Value>>,
    /// The handler's CPU part at 1,769 MB, scaled by memory, fixed or a range.
    #[schemars(with = "Option<DurationOrRange>")]
    cpu_time: Option<Spanned<Value>>,
    /// The cold start's CPU part at 1,769 MB, scaled by memory, fixed or a range.
    #[schemars(with = "Option<DurationOrRange>")]
    init_cpu_time: Option<Spanned<Value>>,
    /// Memory in MB, 128 to 10240.
    #[schemars(with = "Option<u64>")]
    memory: Option<Spanned<Value>>,
    /// The fraction of its invocations that end in a function error, 0 to 1.
    #[schemars(with = "Option<f64>")]
    error_rate: Option<Spanned<Value>>,
    /// What it answers when it succeeds (default 200 {"ok":true}).
    answer: Option<RawAnswer>,
}

/// `answer = { status = 201, headers = { … }, body = '…' }`.
#[derive(Deserialize, Clone, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "EmulatorAnswer")]
pub struct RawAnswer {
    /// The status (default 200).
    #[schemars(with = "Option<u16>")]
    status: Option<Spanned<Value>>,
    /// Headers; values may use the body's placeholders (default content-type: application/json).
    #[schemars(with = "Option<BTreeMap<String, String>>")]
    headers: Option<BTreeMap<String, Spanned<String>>>,
    /// The body; may echo the request with {{request.id}}, {{uuid}},
    /// {{request.path.NAME}} and {{request.json./pointer}}.
    #[schemars(with = "Option<String>")]
    body: Option<Spanned<String>>,
}

/// Reads the routes and functions into `c` (whose function defaults are already read).
pub fn validate(
    src: &Source,
    c: &mut EmulatorConfig,
    routes: &[Spanned<RawRoute>],
    functions: &BTreeMap<String, Spanned<RawFunction>>,
    at: std::ops::Range<usize>,
) -> Result<()> {
    for (name, raw) in functions {
        c.functions.push(function(src, c, name, raw)?);
    }
    let names: Vec<&str> = functions.keys().map(String::as_str).collect();
    if !functions.is_empty() && routes.is_empty() {
        return Err(src.error(
            at,
            "[emulator.functions] without [[emulator.routes]]",
            "a [[emulator.routes]] entry for each function, such as route = \"POST /orders\", function = \"orders-create\"",
        ));
    }
    let reserved: u64 = c
        .functions
        .iter()
        .filter_map(|f| f.reserved_concurrency)
        .sum();
    if reserved > c.account_concurrency {
        let f = functions
            .values()
            .find_map(|f| f.get_ref().reserved_concurrency.clone());
        return Err(src.error(
            f.map_or(at, |f| f.span()),
            &format!(
                "the functions reserve {reserved} in all, above account_concurrency {}",
                c.account_concurrency
            ),
            "reservations that sum to at most account_concurrency",
        ));
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for raw in routes {
        let r = raw.get_ref();
        let pattern = RoutePattern::parse(r.route.get_ref()).map_err(|why| {
            src.error(
                r.route.span(),
                &format!("bad route: {why}"),
                "`METHOD /path`, such as \"POST /orders\", \"GET /orders/{id}\" or \"ANY /{proxy+}\"",
            )
        })?;
        // `/orders/{id}` and `/orders/{orderId}` are one resource to API Gateway.
        let shape = format!("{} {}", pattern.method_name(), shape(&pattern));
        if let Some((first, _)) = seen.iter().find(|(_, s)| *s == shape) {
            return Err(src.error(
                r.route.span(),
                &format!("route `{pattern}` duplicates `{first}`"),
                "each method and path once",
            ));
        }
        seen.push((pattern.to_string(), shape));
        let wanted = r.function.get_ref();
        let Some(function) = names.iter().position(|n| n == wanted) else {
            let expected = if names.is_empty() {
                "a function defined as [emulator.functions.NAME]".to_string()
            } else {
                format!("one of {}", names.join(", "))
            };
            return Err(src.error(
                r.function.span(),
                &format!("unknown function `{wanted}`"),
                &expected,
            ));
        };
        for p in c.functions[function].answer.body.path_params() {
            if !pattern
                .segments
                .iter()
                .any(|s| matches!(s, Segment::Param(n) | Segment::Greedy(n) if n == p))
            {
                return Err(src.error(
                    r.function.span(),
                    &format!("function `{wanted}` answers with {{{{request.path.{p}}}}} but route `{pattern}` has no {{{p}}}"),
                    "a route whose path has the parameter its function echoes",
                ));
            }
        }
        let rate = r
            .rate
            .as_ref()
            .map(|v| src.number(v, "rate", false))
            .transpose()?;
        let burst = r
            .burst
            .as_ref()
            .map(|v| src.whole_number(v, "burst"))
            .transpose()?;
        let throttle = match (rate, burst) {
            (Some(rate), Some(burst)) => Some((rate, burst)),
            (None, None) => None,
            _ => {
                return Err(src.error(
                    r.rate
                        .as_ref()
                        .or(r.burst.as_ref())
                        .map_or(r.route.span(), |v| v.span()),
                    "a route's rate and burst go together",
                    "both, or neither",
                ))
            }
        };
        c.routes.push(RouteConfig {
            pattern,
            function,
            throttle,
        });
    }
    Ok(())
}

fn shape(p: &RoutePattern) -> String {
    let parts: Vec<&str> = p
        .segments
        .iter()
        .map(|s| match s {
            Segment::Literal(l) => l.as_str(),
            Segment::Param(_) => "{}",
            Segment::Greedy(_) => "{+}",
        })
        .collect();
    format!("/{}", parts.join("/"))
}

fn function(
    src: &Source,
    c: &EmulatorConfig,
    name: &str,
    raw: &Spanned<RawFunction>,
) -> Result<FunctionConfig> {
    let f = raw.get_ref();
    let whole = |v: &Option<Spanned<Value>>, key: &str| {
        v.as_ref().map(|v| src.whole_number(v, key)).transpose()
    };
    let reserved_concurrency = whole(&f.reserved_concurrency, "reserved_concurrency")?;
    if let (Some(r), Some(v)) = (reserved_concurrency, &f.reserved_concurrency) {
        if r > c.account_concurrency {
            return Err(src.error(
                v.span(),
                &format!(
                    "reserved_concurrency {r} is above account_concurrency {}",
                    c.account_concurrency
                ),
                "reserved_concurrency ≤ account_concurrency",
            ));
        }
    }
    let error_rate = match &f.error_rate {
        Some(v) => {
            let rate = src.number_in(v, "error_rate", true, "a fraction of invocations")?;
            if rate > 1.0 {
                return Err(src.error(
                    v.span(),
                    &format!("`error_rate` {rate} is above 1"),
                    "a fraction from 0 to 1, such as 0.05",
                ));
            }
            rate
        }
        None => c.error_rate,
    };
    Ok(FunctionConfig {
        name: name.to_string(),
        reserved_concurrency,
        provisioned_concurrency: whole(&f.provisioned_concurrency, "provisioned_concurrency")?,
        cold_start: f
            .cold_start
            .as_ref()
            .map_or(Ok(c.cold_start), |v| handler_time(src, v, "cold_start"))?,
        duration: f
            .duration
            .as_ref()
            .map_or(Ok(c.duration), |v| handler_time(src, v, "duration"))?,
        cpu_time: f
            .cpu_time
            .as_ref()
            .map_or(Ok(c.cpu_time), |v| handler_time(src, v, "cpu_time"))?,
        init_cpu_time: f.init_cpu_time.as_ref().map_or(Ok(c.init_cpu_time), |v| {
            handler_time(src, v, "init_cpu_time")
        })?,
        memory_mb: f
            .memory
            .as_ref()
            .map_or(Ok(c.memory_mb), |v| memory(src, v))?,
        error_rate,
        answer: f
            .answer
            .as_ref()
            .map_or(Ok(FunctionAnswer::default()), |a| answer(src, a))?,
    })
}

fn answer(src: &Source, raw: &RawAnswer) -> Result<FunctionAnswer> {
    let mut a = FunctionAnswer::default();
    if let Some(v) = &raw.status {
        a.status = match v.get_ref() {
            Value::Integer(s) if (200..=599).contains(s) => *s as u16,
            _ => {
                return Err(src.error(
                    v.span(),
                    "`status` is not an HTTP status a function answers",
                    "a whole number from 200 to 599, such as 201",
                ))
            }
        };
    }
    let template = |v: &Spanned<String>| {
        Template::parse(v.get_ref()).map_err(|why| {
            src.error(
                v.span(),
                &why,
                &format!(
                    "text with placeholders among {{{{{}}}}}",
                    PLACEHOLDERS.join("}}, {{")
                ),
            )
        })
    };
    if let Some(headers) = &raw.headers {
        for (name, value) in headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(src.error(
                    value.span(),
                    &format!("bad header name `{name}`"),
                    "a header name such as content-type",
                ));
            }
            let lower = name.to_ascii_lowercase();
            a.headers.retain(|(n, _)| *n != lower);
            a.headers.push((lower, template(value)?));
        }
    }
    if let Some(body) = &raw.body {
        a.body = template(body)?;
    }
    Ok(a)
}

/// The settings of function `f` as the one-function emulator's, for its invocations.
pub fn function_settings(base: &EmulatorConfig, f: &FunctionConfig) -> EmulatorConfig {
    EmulatorConfig {
        function: f.name.clone(),
        reserved_concurrency: f.reserved_concurrency,
        provisioned_concurrency: f.provisioned_concurrency,
        cold_start: f.cold_start,
        duration: f.duration,
        cpu_time: f.cpu_time,
        init_cpu_time: f.init_cpu_time,
        memory_mb: f.memory_mb,
        error_rate: f.error_rate,
        warm: 0,
        routes: Vec::new(),
        functions: Vec::new(),
        ..base.clone()
    }
}

/// The unreserved pool: the account's concurrency less every reservation, as AWS.
pub fn unreserved_pool(c: &EmulatorConfig) -> u64 {
    let reserved: u64 = c
        .functions
        .iter()
        .filter_map(|f| f.reserved_concurrency)
        .sum();
    c.account_concurrency.saturating_sub(reserved)
}

#[cfg(test)]
mod tests {
    use crate::config::RawEmulator;
    use stampede_located::{toml_error, Result, Source};
    use std::path::Path;
    use std::time::Duration;

    use super::*;

    fn parse(text: &str) -> Result<EmulatorConfig> {
        let src = Source::new(Path::new("e.toml"), text);
        let raw: RawEmulator = toml::from_str(text).map_err(|e| toml_error(&src, &e))?;
        crate::config::validate(&src, &raw)
    }

    fn error(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const API: &str = r#"
account_concurrency = 100
duration = "5ms"

[[routes]]
route = "POST /orders"
function = "orders-create"
rate = 50
burst = 10

[[routes]]
route = "GET /orders/{id}"
function = "orders-get"

[functions.orders-create]
reserved_concurrency = 20
memory = 512
answer = { status = 201, body = '{"id":"{{uuid}}"}' }

[functions.orders-get]
duration = "20ms..30ms"
answer = { body = '{"id":"{{request.path.id}}"}', headers = { x-order = "{{request.path.id}}" } }
"#;

    #[test]
    fn routes_and_functions_are_read() {
        let c = parse(API).unwrap();
        let names: Vec<&str> = c.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["orders-create", "orders-get"]);
        let create = &c.functions[0];
        assert_eq!(
            (create.reserved_concurrency, create.memory_mb),
            (Some(20), 512)
        );
        assert_eq!(create.answer.status, 201);
        assert_eq!(
            create.duration,
            HandlerTime::Fixed(Duration::from_millis(5)),
            "the table's default"
        );
        assert_eq!(c.routes[0].pattern.to_string(), "POST /orders");
        assert_eq!(
            (c.routes[0].function, c.routes[0].throttle),
            (0, Some((50.0, 10)))
        );
        assert_eq!((c.routes[1].function, c.routes[1].throttle), (1, None));
        assert_eq!(unreserved_pool(&c), 80);
        assert!(parse("").unwrap().routes.is_empty());
    }

    #[test]
    fn bad_routes_name_their_place_and_the_names_that_exist() {
        let e = error(&API.replace("function = \"orders-get\"", "function = \"orders-gte\""));
        assert!(
            e.starts_with("e.toml:13:12: unknown function `orders-gte`"),
            "{e}"
        );
        assert!(e.contains("one of orders-create, orders-get"), "{e}");
        let e = error(&API.replace("GET /orders/{id}", "GET orders"));
        assert!(e.contains("e.toml:12:9: bad route"), "{e}");
        let e = error(&API.replace("GET /orders/{id}", "post /orders"));
        assert!(
            e.contains("route `POST /orders` duplicates `POST /orders`"),
            "{e}"
        );
        let e = error(&API.replace("GET /orders/{id}", "GET /orders/{orderId}"));
        assert!(e.contains("has no {id}"), "{e}");
        let e = error(&API.replace("burst = 10\n", ""));
        assert!(e.contains("rate and burst go together"), "{e}");
        let e = error(&API.replace("reserved_concurrency = 20", "reserved_concurrency = 101"));
        assert!(e.contains("above account_concurrency 100"), "{e}");
        let e = error(&API.replace("{{uuid}}", "{{request.header.x}}"));
        assert!(e.contains("unknown placeholder"), "{e}");
        let e = error("[functions.f]\n");
        assert!(e.contains("without [[emulator.routes]]"), "{e}");
    }
}
