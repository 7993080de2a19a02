//! What CloudWatch's per-function numbers say about each route's throttles: confirmed
//! (the function counted throttles and the client saw them on its routes), other traffic
//! (counted, not seen), not confirmed (suspected Lambda throttles the function never
//! counted). Pure; never changes the verdict.

use crate::cloudwatch::ServerFinding;
use stampede_results::cloudwatch::FunctionCounted;
use stampede_results::quota_check::RouteCheck;

fn n(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// "50 on POST /orders and 2 on PUT /orders/{id}": each of `f`'s routes with `of` > 0.
fn on_routes(f: &FunctionCounted, checks: &[RouteCheck], of: fn(&RouteCheck) -> u64) -> String {
    let parts: Vec<String> = checks
        .iter()
        .filter(|c| f.routes.contains(&c.route) && of(c) > 0)
        .map(|c| format!("{} on {}", of(c), c.route))
        .collect();
    parts.join(" and ")
}

fn suspected(c: &RouteCheck) -> u64 {
    c.suspected_lambda_throttles.as_ref().map_or(0, |s| s.count)
}

/// One finding per function whose numbers say something about its routes.
pub fn findings(functions: &[FunctionCounted], checks: &[RouteCheck]) -> Vec<ServerFinding> {
    let mut out = Vec::new();
    for f in functions {
        let Some(throttles) = f.throttles else {
            continue;
        };
        let routes = f.routes.join(", ");
        let (kind, message) = if throttles > 0.0 && f.client_throttled > 0 {
            (
                "route_confirmed",
                format!(
                    "CloudWatch: {} counted {} throttles over the run, the client saw {}",
                    f.function,
                    n(throttles),
                    on_routes(f, checks, |c| c.throttled)
                ),
            )
        } else if throttles > 0.0 {
            (
                "route_other_traffic",
                format!(
                    "CloudWatch: {} counted {} throttles over the run, the client saw none on {routes}: other callers of the function were throttled in the run's minutes",
                    f.function,
                    n(throttles)
                ),
            )
        } else if checks
            .iter()
            .any(|c| f.routes.contains(&c.route) && suspected(c) > 0)
        {
            (
                "route_not_confirmed",
                format!(
                    "CloudWatch: {} counted no throttles over the run, though the client saw suspected Lambda throttles (500s with API Gateway's body), {} — those 500s were something else: look at the integration and the function's logs",
                    f.function,
                    on_routes(f, checks, suspected)
                ),
            )
        } else {
            continue;
        };
        out.push(ServerFinding {
            kind: kind.into(),
            message,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stampede_results::quota_check::SuspectedLambdaThrottles;

    fn check(route: &str, throttled: u64, suspected: u64) -> RouteCheck {
        RouteCheck {
            route: route.into(),
            requests: vec![],
            function: Some("orders-create:live".into()),
            sent: 100,
            throttled,
            usage: vec![],
            onset: None,
            suspected_lambda_throttles: (suspected > 0).then(|| SuspectedLambdaThrottles {
                count: suspected,
                first_t_s: 1,
                in_flight: 5,
                at_limit: None,
                message: String::new(),
            }),
            next_steps: vec![],
            pass: throttled == 0,
        }
    }

    fn function(throttles: Option<f64>, client_throttled: u64) -> FunctionCounted {
        FunctionCounted {
            function: "orders-create:live".into(),
            routes: vec!["POST /orders".into(), "PUT /orders/{id}".into()],
            client_sent: 200,
            client_throttled,
            throttles,
            ..FunctionCounted::default()
        }
    }

    #[test]
    fn a_functions_throttles_are_set_against_its_routes() {
        let checks = [
            check("POST /orders", 50, 50),
            check("PUT /orders/{id}", 0, 0),
        ];
        let f = findings(&[function(Some(50.0), 50)], &checks);
        assert_eq!(f[0].kind, "route_confirmed");
        assert_eq!(
            f[0].message,
            "CloudWatch: orders-create:live counted 50 throttles over the run, the client saw 50 on POST /orders"
        );
        let f = findings(&[function(Some(7.0), 0)], &[check("POST /orders", 0, 0)]);
        assert_eq!(f[0].kind, "route_other_traffic");
        assert!(f[0]
            .message
            .contains("saw none on POST /orders, PUT /orders/{id}"));
        let f = findings(&[function(Some(0.0), 50)], &checks);
        assert_eq!(f[0].kind, "route_not_confirmed");
        assert!(
            f[0].message.contains("body), 50 on POST /orders — "),
            "{}",
            f[0].message
        );
        // No datapoint, or nothing to say: no finding.
        assert!(findings(&[function(None, 50)], &checks).is_empty());
        assert!(findings(&[function(Some(0.0), 0)], &[check("POST /orders", 0, 0)]).is_empty());
    }
}
