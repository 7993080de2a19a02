//! The pure part of reading an API's map: which function an integration URI invokes,
//! stage variables in it, the keys a REST stage's `methodSettings` and a usage plan's
//! `throttle` use for a method, and what kind of integration a type names.

use std::collections::HashMap;

use super::super::IntegrationKind;

/// The Lambda function an integration invokes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LambdaRef {
    pub name: String,
    /// Its alias or version, when the URI names one.
    pub qualifier: Option<String>,
    /// The function's own region, when the URI gives an ARN.
    pub region: Option<String>,
    /// The unqualified ARN, when the URI gives one.
    pub arn: Option<String>,
}

impl LambdaRef {
    /// What Lambda's calls name it by: the name in `region`, the ARN elsewhere (another
    /// region's function is not found by its name).
    pub fn call_name(&self, region: Option<&str>) -> &str {
        match (&self.arn, self.region.as_deref()) {
            (Some(arn), Some(r)) if Some(r) != region => arn,
            _ => &self.name,
        }
    }
}

/// The function of a Lambda integration URI: API Gateway's
/// `arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION/invocations`, or
/// (HTTP APIs) the function's ARN itself. FUNCTION is an ARN
/// (`arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]`), a partial ARN
/// (`ACCOUNT:function:NAME`) or a name, maybe qualified. `None`: not Lambda's.
pub fn lambda_function(uri: &str) -> Option<LambdaRef> {
    let function = if uri.starts_with("arn:") && uri.contains(":apigateway:") {
        let (_, rest) = uri.split_once(":lambda:path/")?;
        let (_, rest) = rest.split_once("/functions/")?;
        rest.strip_suffix("/invocations")?
    } else {
        uri
    };
    let parts: Vec<&str> = function.split(':').collect();
    let (name, qualifier, region, arn) = match parts.as_slice() {
        ["arn", partition, "lambda", region, account, "function", name, rest @ ..] => (
            *name,
            rest.first(),
            Some(region.to_string()),
            Some(format!(
                "arn:{partition}:lambda:{region}:{account}:function:{name}"
            )),
        ),
        ["arn", ..] => return None,
        [_, "function", name, rest @ ..] => (*name, rest.first(), None, None),
        [name, rest @ ..] => (*name, rest.first(), None, None),
        [] => return None,
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '$')
    };
    if !valid(name) || qualifier.is_some_and(|q| !valid(q)) {
        return None;
    }
    Some(LambdaRef {
        name: name.to_string(),
        qualifier: qualifier.map(|q| q.to_string()),
        region,
        arn,
    })
}

/// `text` with each `${stageVariables.NAME}` replaced by the stage's value; `Err(NAME)`:
/// the first variable the stage does not set.
pub fn substitute(text: &str, variables: &HashMap<String, String>) -> Result<String, String> {
    const OPEN: &str = "${stageVariables.";
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let after = &rest[at + OPEN.len()..];
        let Some(end) = after.find('}') else {
            // Not a variable after all: kept as written.
            out.push_str(&rest[at..]);
            return Ok(out);
        };
        let name = &after[..end];
        out.push_str(variables.get(name).ok_or_else(|| name.to_string())?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The keys a REST stage's `methodSettings` may hold a method's settings under, the
/// method's own first: `~1orders~1{id}/GET` (`/` escaped as `~1`), then `~1orders~1{id}/*`.
pub fn method_settings_keys(method: &str, path: &str) -> [String; 2] {
    let path = path.replace('/', "~1");
    [format!("{path}/{method}"), format!("{path}/*")]
}

/// The keys a usage plan's per-method `throttle` may use: `/orders/POST`, then
/// `/orders/*`.
pub fn usage_plan_keys(method: &str, path: &str) -> [String; 2] {
    [format!("{path}/{method}"), format!("{path}/*")]
}

/// API Gateway writes a negative number for "no throttle set".
pub fn throttle(value: f64) -> Option<f64> {
    (value >= 0.0).then_some(value)
}

/// What a REST integration (`AWS_PROXY`, `AWS`, `HTTP`, `HTTP_PROXY`, `MOCK`) hands its
/// requests to; an `AWS` one is Lambda's when its URI names a function.
pub fn rest_kind(integration_type: &str, uri: Option<&str>) -> IntegrationKind {
    match integration_type {
        "AWS_PROXY" | "AWS" if uri.is_some_and(|u| u.contains(":lambda:path/")) => {
            IntegrationKind::Lambda
        }
        "AWS_PROXY" | "AWS" => IntegrationKind::Aws,
        "HTTP" | "HTTP_PROXY" => IntegrationKind::Http,
        "MOCK" => IntegrationKind::Mock,
        _ => IntegrationKind::None,
    }
}

/// What an HTTP API's integration hands its requests to: `AWS_PROXY` is Lambda's without
/// a subtype (service integrations have one, such as `SQS-SendMessage`).
pub fn http_kind(integration_type: &str, subtype: Option<&str>) -> IntegrationKind {
    match (integration_type, subtype) {
        ("AWS_PROXY", None) => IntegrationKind::Lambda,
        ("AWS_PROXY" | "AWS", _) => IntegrationKind::Aws,
        ("HTTP_PROXY" | "HTTP", _) => IntegrationKind::Http,
        ("MOCK", _) => IntegrationKind::Mock,
        _ => IntegrationKind::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn via_apigateway(function: &str) -> String {
        format!(
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/{function}/invocations"
        )
    }

    #[test]
    fn integration_uris_name_their_function_and_qualifier() {
        let f = lambda_function(&via_apigateway(
            "arn:aws:lambda:us-east-1:123456789012:function:orders-create",
        ))
        .unwrap();
        assert_eq!(f.name, "orders-create");
        assert_eq!(f.qualifier, None);
        assert_eq!(f.region.as_deref(), Some("us-east-1"));
        assert_eq!(
            f.arn.as_deref(),
            Some("arn:aws:lambda:us-east-1:123456789012:function:orders-create")
        );
        let q = lambda_function(&via_apigateway(
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-get:live",
        ))
        .unwrap();
        assert_eq!(
            (q.name.as_str(), q.qualifier.as_deref()),
            ("orders-get", Some("live"))
        );
        // Another region's function is called by its ARN.
        assert_eq!(
            q.call_name(Some("us-east-1")),
            "arn:aws:lambda:eu-west-1:123456789012:function:orders-get"
        );
        assert_eq!(q.call_name(Some("eu-west-1")), "orders-get");
        // HTTP APIs give the ARN itself; partial ARNs and names are functions too.
        let v2 = lambda_function("arn:aws:lambda:us-east-1:1:function:login:7").unwrap();
        assert_eq!(
            (v2.name.as_str(), v2.qualifier.as_deref()),
            ("login", Some("7"))
        );
        let partial = lambda_function("123456789012:function:login").unwrap();
        assert_eq!((partial.name.as_str(), partial.arn), ("login", None));
        assert_eq!(
            lambda_function("login:$LATEST")
                .unwrap()
                .qualifier
                .as_deref(),
            Some("$LATEST")
        );
        // Not a function.
        assert_eq!(lambda_function("https://example.com/orders"), None);
        assert_eq!(
            lambda_function("arn:aws:apigateway:us-east-1:sqs:path/1/queue"),
            None
        );
        assert_eq!(
            lambda_function("arn:aws:states:us-east-1:1:stateMachine:x"),
            None
        );
        assert_eq!(
            lambda_function(&via_apigateway(
                "arn:aws:lambda:us-east-1:1:function:${stageVariables.fn}"
            )),
            None,
            "an unresolved stage variable is no name"
        );
    }

    #[test]
    fn stage_variables_are_substituted_or_named() {
        let vars: HashMap<String, String> = [("alias".to_string(), "live".to_string())].into();
        let uri =
            via_apigateway("arn:aws:lambda:us-east-1:1:function:orders-${stageVariables.alias}");
        let f = lambda_function(&substitute(&uri, &vars).unwrap()).unwrap();
        assert_eq!((f.name.as_str(), f.qualifier), ("orders-live", None));
        let uri =
            via_apigateway("arn:aws:lambda:us-east-1:1:function:orders:${stageVariables.alias}");
        let f = lambda_function(&substitute(&uri, &vars).unwrap()).unwrap();
        assert_eq!(
            (f.name.as_str(), f.qualifier.as_deref()),
            ("orders", Some("live"))
        );
        assert_eq!(
            substitute("f:${stageVariables.version}", &vars),
            Err("version".to_string())
        );
        assert_eq!(substitute("plain", &vars).unwrap(), "plain");
        assert_eq!(
            substitute("a${stageVariables.x", &vars).unwrap(),
            "a${stageVariables.x"
        );
    }

    #[test]
    fn settings_keys_escape_the_path_and_plans_do_not() {
        assert_eq!(
            method_settings_keys("GET", "/orders/{id}"),
            ["~1orders~1{id}/GET", "~1orders~1{id}/*"]
        );
        assert_eq!(method_settings_keys("POST", "/orders")[0], "~1orders/POST");
        assert_eq!(
            usage_plan_keys("POST", "/orders"),
            ["/orders/POST", "/orders/*"]
        );
        assert_eq!(throttle(-1.0), None);
        assert_eq!(throttle(0.0), Some(0.0));
    }

    #[test]
    fn integration_types_are_kinds() {
        let lambda_uri = via_apigateway("arn:aws:lambda:us-east-1:1:function:f");
        assert_eq!(
            rest_kind("AWS_PROXY", Some(&lambda_uri)),
            IntegrationKind::Lambda
        );
        assert_eq!(rest_kind("AWS", Some(&lambda_uri)), IntegrationKind::Lambda);
        assert_eq!(
            rest_kind("AWS", Some("arn:aws:apigateway:us-east-1:sqs:path/1/q")),
            IntegrationKind::Aws
        );
        assert_eq!(
            rest_kind("HTTP_PROXY", Some("https://x")),
            IntegrationKind::Http
        );
        assert_eq!(rest_kind("MOCK", None), IntegrationKind::Mock);
        assert_eq!(http_kind("AWS_PROXY", None), IntegrationKind::Lambda);
        assert_eq!(
            http_kind("AWS_PROXY", Some("SQS-SendMessage")),
            IntegrationKind::Aws
        );
        assert_eq!(http_kind("HTTP_PROXY", None), IntegrationKind::Http);
    }
}
