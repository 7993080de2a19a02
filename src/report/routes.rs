//! The route table of `stampede quotas --url`: each route of the API, what it integrates
//! with, the function and qualifier it invokes, and each of its limits with its source.

use std::fmt::Write as _;

use super::quotas::value;
use crate::quotas::{ApiKind, Quotas};

/// The table, or nothing when no API's map was read.
pub fn render(q: &Quotas) -> String {
    let Some(api) = &q.api else {
        return String::new();
    };
    let kind = match api.kind {
        ApiKind::Rest => "REST API",
        ApiKind::Http => "HTTP API",
    };
    let mut out = format!("routes ({kind} {} · stage {})\n\n", api.id, api.stage);
    if q.routes.is_empty() {
        out.push_str("no routes read\n");
        return out;
    }
    // One row per limit; the route, integration and function on its first.
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut notes: Vec<(usize, String)> = Vec::new();
    for r in &q.routes {
        let head = [
            r.route.clone(),
            r.integration.name().to_string(),
            r.function_label().unwrap_or_else(|| "-".into()),
        ];
        if r.quotas.is_empty() {
            let [route, integration, function] = head.clone();
            rows.push([
                route,
                integration,
                function,
                "-".into(),
                String::new(),
                String::new(),
            ]);
        }
        for (i, quota) in r.quotas.iter().enumerate() {
            let [route, integration, function] = if i == 0 {
                head.clone()
            } else {
                Default::default()
            };
            rows.push([
                route,
                integration,
                function,
                quota.key.title().to_string(),
                value(quota),
                quota.source.describe(),
            ]);
            if let Some(note) = &quota.note {
                notes.push((rows.len() - 1, note.clone()));
            }
        }
    }
    let titles = [
        "route",
        "integration",
        "function",
        "limit",
        "value",
        "source",
    ];
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([titles[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: [&str; 6]| {
        let mut l = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let w = widths[i];
            match i {
                5 => l.push_str(cell),
                4 => {
                    let _ = write!(l, "{cell:>w$}  ");
                }
                _ => {
                    let _ = write!(l, "{cell:<w$}  ");
                }
            }
        }
        l.trim_end().to_string()
    };
    let _ = writeln!(out, "{}", line(titles));
    for (i, row) in rows.iter().enumerate() {
        let _ = writeln!(out, "{}", line(row.each_ref().map(String::as_str)));
        for (_, note) in notes.iter().filter(|(at, _)| *at == i) {
            // Under the source column.
            let pad: usize = widths[..5].iter().map(|w| w + 2).sum();
            let _ = writeln!(out, "{:pad$}note: {note}", "");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quotas::{ApiMapped, IntegrationKind, LimitKey, Quota, QuotaSource, RouteLimits};

    fn quota(key: LimitKey, value: Option<f64>, action: &str) -> Quota {
        Quota {
            key,
            value,
            source: QuotaSource::Api {
                action: action.into(),
            },
            note: None,
        }
    }

    #[test]
    fn each_route_names_its_function_and_each_limit_its_source() {
        let mut q = Quotas::documented();
        q.api = Some(ApiMapped {
            kind: ApiKind::Rest,
            id: "abc123".into(),
            stage: "prod".into(),
        });
        q.routes = vec![
            RouteLimits {
                route: "POST /orders".into(),
                integration: IntegrationKind::Lambda,
                function: Some("orders-create".into()),
                qualifier: Some("live".into()),
                quotas: vec![
                    quota(
                        LimitKey::FunctionReservedConcurrency,
                        Some(5.0),
                        "lambda:GetFunctionConcurrency",
                    ),
                    quota(
                        LimitKey::RouteThrottleRate,
                        Some(50.0),
                        "apigateway:GetStage",
                    ),
                ],
                function_config: None,
            },
            RouteLimits {
                route: "GET /health".into(),
                integration: IntegrationKind::Mock,
                function: None,
                qualifier: None,
                quotas: Vec::new(),
                function_config: None,
            },
        ];
        let text = render(&q);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "routes (REST API abc123 · stage prod)");
        assert!(lines[2].starts_with("route"), "{text}");
        assert!(
            lines[3].starts_with(
                "POST /orders  lambda       orders-create:live  function reserved concurrency"
            ),
            "{text}"
        );
        assert!(
            lines[3].ends_with("5 concurrent  lambda:GetFunctionConcurrency"),
            "{text}"
        );
        assert!(
            lines[4].trim_start().starts_with("route throttle rate"),
            "{text}"
        );
        assert!(
            lines[4].ends_with("50 req/s  apigateway:GetStage"),
            "{text}"
        );
        assert!(
            lines[5].starts_with("GET /health   mock         -"),
            "{text}"
        );
        assert_eq!(render(&Quotas::documented()), "");
    }
}
