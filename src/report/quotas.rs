//! The quotas table: each limit, its value, where it came from; then what could not be
//! read and how to fix that. Shared by `stampede quotas` and (later) `run` and `plan`.

use std::fmt::Write as _;

use crate::quotas::{Quota, Quotas};

pub fn render(q: &Quotas) -> String {
    let mut out = String::new();
    let mut heading = format!("quotas ({})", q.origin);
    if let Some(region) = &q.region {
        let _ = write!(heading, " · region {region}");
    }
    if let Some(function) = &q.function {
        let _ = write!(heading, " · function {function}");
    }
    let _ = writeln!(out, "{heading}\n");

    let rows: Vec<[String; 3]> = q
        .quotas
        .iter()
        .map(|quota| {
            [
                quota.key.title().to_string(),
                value(quota),
                quota.source.describe(),
            ]
        })
        .collect();
    let width = |i: usize, title: &str| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (w0, w1) = (width(0, "what"), width(1, "value"));
    let _ = writeln!(out, "{:<w0$}  {:>w1$}  source", "what", "value");
    for (row, quota) in rows.iter().zip(&q.quotas) {
        let _ = writeln!(out, "{:<w0$}  {:>w1$}  {}", row[0], row[1], row[2]);
        if let Some(note) = &quota.note {
            let _ = writeln!(out, "{:<w0$}  {:>w1$}  note: {note}", "", "");
        }
    }

    if q.api.is_some() {
        let _ = writeln!(out, "\n{}", super::routes::render(q).trim_end());
    }

    if !q.not_read.is_empty() {
        let _ = writeln!(out, "\nnot read:");
        for n in &q.not_read {
            let _ = writeln!(out, "  {}: {}", n.action, n.reason);
        }
        let _ = writeln!(out, "\n{}", hint(q));
    }
    out
}

/// What to do about the calls that failed.
fn hint(q: &Quotas) -> String {
    let credentials = q
        .not_read
        .iter()
        .any(|n| n.action == "credentials" || n.action == "region");
    if credentials {
        return "hint: set AWS credentials and a region (AWS_PROFILE, aws sso login, or \
                AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY; AWS_REGION or --region), \
                or pass --quotas FILE; until then the documented defaults above stand"
            .into();
    }
    let mut denied: Vec<String> = q
        .not_read
        .iter()
        .filter(|n| n.reason.starts_with("access denied"))
        .map(|n| iam_action(&n.action))
        .collect();
    denied.dedup();
    if denied.is_empty() {
        "hint: numbers not read fall back to AWS's documented defaults; pass --quotas FILE \
         to give the real ones"
            .into()
    } else {
        format!(
            "hint: grant {} to the caller, or pass --quotas FILE",
            denied.join(", ")
        )
    }
}

/// What IAM calls the permission for an operation: API Gateway's are HTTP verbs on paths
/// (`apigateway:GetStage` is `apigateway:GET` on the stage), the others are the operation.
fn iam_action(operation: &str) -> String {
    match operation {
        "apigateway:GetAccount" => "apigateway:GET on /account (for GetAccount)".into(),
        "apigateway:GetStage" => "apigateway:GET on /restapis/*/stages/* (for GetStage)".into(),
        "apigateway:GetRestApi" => "apigateway:GET on /restapis/* (for GetRestApi)".into(),
        "apigateway:GetResources" => {
            "apigateway:GET on /restapis/*/resources (for GetResources)".into()
        }
        "apigateway:GetIntegration" => {
            "apigateway:GET on /restapis/*/resources/*/methods/*/integration (for GetIntegration)"
                .into()
        }
        "apigateway:GetUsagePlans" => "apigateway:GET on /usageplans (for GetUsagePlans)".into(),
        "apigatewayv2:GetApi" => "apigateway:GET on /apis/* (for the HTTP API's GetApi)".into(),
        "apigatewayv2:GetRoutes" => {
            "apigateway:GET on /apis/*/routes (for the HTTP API's GetRoutes)".into()
        }
        "apigatewayv2:GetIntegrations" => {
            "apigateway:GET on /apis/*/integrations (for the HTTP API's GetIntegrations)".into()
        }
        "apigatewayv2:GetStage" => {
            "apigateway:GET on /apis/*/stages/* (for the HTTP API's GetStage)".into()
        }
        other => other.into(),
    }
}

/// "1,000 concurrent", "none set", "29,000 ms".
pub(super) fn value(q: &Quota) -> String {
    match q.value {
        None => "none set".into(),
        Some(v) => format!("{} {}", number(v), q.key.unit()),
    }
}

/// Whole numbers with thousands separators; fractions to two places.
fn number(v: f64) -> String {
    if v.fract() != 0.0 {
        return format!("{v:.2}");
    }
    let digits = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quotas::{LimitKey, NotRead, QuotaSource};

    #[test]
    fn numbers_read_like_numbers() {
        assert_eq!(number(1000.0), "1,000");
        assert_eq!(number(29_000.0), "29,000");
        assert_eq!(number(100.0), "100");
        assert_eq!(number(1_234_567.0), "1,234,567");
        assert_eq!(number(12.5), "12.50");
    }

    #[test]
    fn the_table_names_sources_gaps_and_what_to_grant() {
        let mut q = Quotas::documented();
        q.offer(
            LimitKey::FunctionReservedConcurrency,
            None,
            QuotaSource::Api {
                action: "lambda:GetFunctionConcurrency".into(),
            },
        );
        q.not_read.push(NotRead {
            action: "servicequotas:GetServiceQuota".into(),
            reason: "access denied (lambda L-B99A9384)".into(),
        });
        let text = render(&q);
        assert!(text.contains("none set"), "{text}");
        assert!(text.contains("10,000 req/s"), "{text}");
        assert!(text.contains("documented AWS default (not read)"), "{text}");
        assert!(
            text.contains("servicequotas:GetServiceQuota: access denied"),
            "{text}"
        );
        assert!(
            text.contains("grant servicequotas:GetServiceQuota to the caller"),
            "{text}"
        );
    }
}
