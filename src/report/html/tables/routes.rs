//! The routes section: the API's map (each route, its integration, function and own
//! limits) and the quota check of each route the requests reached.

use std::fmt::Write as _;

use super::{esc, pass_badge, section, table};
use crate::results::Results;
use crate::verdict::num;

pub fn routes(out: &mut String, r: &Results) {
    let q = &r.quota_check;
    if q.quotas.routes.is_empty() && q.by_route.is_empty() {
        return;
    }
    section(out, "routes", "Routes");
    if let Some(api) = &q.quotas.api {
        let _ = write!(
            out,
            "<p>{} API {} · stage {}</p>",
            match api.kind {
                crate::quotas::ApiKind::Rest => "REST",
                crate::quotas::ApiKind::Http => "HTTP",
            },
            esc(&api.id),
            esc(&api.stage)
        );
    }
    if !q.by_route.is_empty() {
        let rows: Vec<Vec<String>> = q
            .by_route
            .iter()
            .map(|c| {
                let what = c.outcome();
                vec![
                    esc(&c.route),
                    esc(c.function.as_deref().unwrap_or("-")),
                    esc(&c.requests.join(", ")),
                    num(c.sent as f64),
                    format!(
                        "<span class=\"{}\">{}</span>",
                        if c.throttled > 0 { "over" } else { "" },
                        c.throttled
                    ),
                    pass_badge(c.pass),
                    esc(&what),
                ]
            })
            .collect();
        out.push_str("<h3>Each route's quota check</h3>");
        table(
            out,
            "",
            &[
                "route",
                "function",
                "requests",
                "sent",
                "throttled",
                "check",
                "onset",
            ],
            &rows,
        );
    }
    if !q.quotas.routes.is_empty() {
        let rows: Vec<Vec<String>> = q
            .quotas
            .routes
            .iter()
            .map(|route| {
                let limits: Vec<String> = route
                    .quotas
                    .iter()
                    .map(|l| {
                        format!(
                            "{} {} ({})",
                            l.key.title(),
                            l.value.map_or("not set".into(), |v| format!(
                                "{} {}",
                                num(v),
                                l.key.unit()
                            )),
                            l.source.describe()
                        )
                    })
                    .collect();
                vec![
                    esc(&route.route),
                    esc(route.integration.name()),
                    esc(&route.function_label().unwrap_or_else(|| "-".into())),
                    esc(&limits.join("; ")),
                ]
            })
            .collect();
        out.push_str("<h3>The API's routes and their limits</h3>");
        table(
            out,
            "",
            &["route", "integration", "function", "limits"],
            &rows,
        );
    }
    out.push_str("</section>\n");
}
