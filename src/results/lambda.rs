//! The results' `lambda` key: what a Lambda target's answers said (REPORT lines, cold
//! starts, function errors) and what the invocations cost. Per stage, the same counts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::invoke::{Architecture, Cost, Prices};
use crate::record::invoke::{count_type, InvokeRecord};
use crate::record::{decode, encode, new_histogram, percentiles, ColdStart, Counts, Percentiles};
use crate::scenario::LambdaTarget;

/// The run's (or a stage's) REPORT lines and function errors.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct InvokeSeen {
    /// Attempts the function ran: answered ok or with a function error (throttles and
    /// service errors are not billed).
    pub invocations: u64,
    /// Answers whose REPORT line was read (needs the log tail).
    pub reports: u64,
    /// REPORT lines with `Init Duration` (or a SnapStart `Restore Duration`).
    pub cold_starts: u64,
    /// cold_starts / reports.
    pub cold_start_rate: f64,
    /// `Init Duration` of the cold starts, `Duration` and `Billed Duration`, in ms.
    pub init_ms: Percentiles,
    pub duration_ms: Percentiles,
    pub billed_ms: Percentiles,
    /// Σ `Billed Duration`, ms, and Σ billed ms × `Memory Size` MB.
    pub billed_ms_total: u64,
    pub mb_ms: u64,
    pub gb_seconds: f64,
    /// `Memory Size` and the highest `Max Memory Used`, MB.
    pub memory_mb: u64,
    pub max_memory_used_mb: u64,
    /// Function errors by `errorType` (else the `X-Amz-Function-Error` value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub function_errors: BTreeMap<String, u64>,
    /// The init, duration and billed histograms, encoded as `histograms` are (µs), so
    /// merged runs have exact percentiles.
    pub histograms: InvokeHistograms,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct InvokeHistograms {
    pub init: String,
    pub duration: String,
    pub billed: String,
}

/// The top-level `lambda` key.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct LambdaResults {
    /// As the target named it: a name, an ARN or a partial ARN.
    pub function: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    pub region: String,
    /// "request-response" or "event".
    pub invocation: String,
    pub log_tail: bool,
    #[serde(flatten)]
    pub seen: InvokeSeen,
    /// The first cold starts, by request, so they can be found in CloudWatch Logs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cold_start_requests: Vec<ColdStart>,
    /// The architecture the cost is priced at, and where it came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture: Option<Architecture>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub architecture_source: Option<String>,
    /// What the test cost: invocations × the request price + billed GB-seconds × the
    /// compute price.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<Cost>,
    /// What the cost leaves out, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_note: Option<String>,
}

impl InvokeSeen {
    pub fn of(record: Option<&InvokeRecord>, counts: &Counts) -> InvokeSeen {
        let empty = InvokeRecord::default();
        let r = record.unwrap_or(&empty);
        InvokeSeen {
            invocations: counts.attempts_ok + counts.function_errors,
            reports: r.reports,
            cold_starts: r.cold_starts,
            cold_start_rate: ratio(r.cold_starts, r.reports),
            init_ms: percentiles(&r.init),
            duration_ms: percentiles(&r.duration),
            billed_ms: percentiles(&r.billed),
            billed_ms_total: r.billed_ms,
            mb_ms: r.mb_ms.min(u64::MAX as u128) as u64,
            gb_seconds: crate::invoke::cost::gb_seconds(r.mb_ms),
            memory_mb: r.memory_mb,
            max_memory_used_mb: r.max_memory_used_mb,
            function_errors: r.function_errors.clone(),
            histograms: InvokeHistograms {
                init: encode(&r.init),
                duration: encode(&r.duration),
                billed: encode(&r.billed),
            },
        }
    }

    /// Adds another run's (a shard's) counts; percentiles from the merged histograms.
    pub fn merge(&mut self, o: &InvokeSeen) {
        self.invocations += o.invocations;
        self.reports += o.reports;
        self.cold_starts += o.cold_starts;
        self.cold_start_rate = ratio(self.cold_starts, self.reports);
        self.billed_ms_total += o.billed_ms_total;
        self.mb_ms = self.mb_ms.saturating_add(o.mb_ms);
        self.gb_seconds = crate::invoke::cost::gb_seconds(self.mb_ms as u128);
        self.memory_mb = self.memory_mb.max(o.memory_mb);
        self.max_memory_used_mb = self.max_memory_used_mb.max(o.max_memory_used_mb);
        for (t, n) in &o.function_errors {
            count_type(&mut self.function_errors, t, *n);
        }
        let add = |a: &mut String, b: &str, into: &mut Percentiles| {
            let mut h = decode(a).unwrap_or_else(new_histogram);
            if let Some(other) = decode(b) {
                let _ = h.add(&other);
            }
            *into = percentiles(&h);
            *a = encode(&h);
        };
        add(
            &mut self.histograms.init,
            &o.histograms.init,
            &mut self.init_ms,
        );
        add(
            &mut self.histograms.duration,
            &o.histograms.duration,
            &mut self.duration_ms,
        );
        add(
            &mut self.histograms.billed,
            &o.histograms.billed,
            &mut self.billed_ms,
        );
    }
}

impl LambdaResults {
    pub fn of(target: &LambdaTarget, record: Option<&InvokeRecord>, counts: &Counts) -> Self {
        LambdaResults {
            function: target.function.function.clone(),
            qualifier: target.function.qualifier.clone(),
            region: target.region.clone(),
            invocation: target.invocation.key().to_string(),
            log_tail: target.log_tail,
            seen: InvokeSeen::of(record, counts),
            cold_start_requests: record.map(|r| r.cold.clone()).unwrap_or_default(),
            ..LambdaResults::default()
        }
    }

    /// Prices the invocations: `architecture` from `source` ("lambda:GetFunctionConfiguration",
    /// "[aws] architecture", …).
    pub fn price(&mut self, architecture: Architecture, source: &str, prices: &Prices) {
        let s = &self.seen;
        self.architecture = Some(architecture);
        self.architecture_source = Some(source.to_string());
        self.cost = Some(Cost::of(
            s.invocations,
            s.mb_ms as u128,
            architecture,
            prices,
        ));
        self.cost_note = (s.reports < s.invocations).then(|| {
            format!(
                "compute is counted for the {} of {} invocations whose REPORT line was read{}",
                s.reports,
                s.invocations,
                if self.log_tail {
                    ""
                } else {
                    " (log_tail is off, or the invocations were events)"
                }
            )
        });
    }

    /// Adds a shard's; the cost is priced again on the sum.
    pub fn merge(&mut self, o: &LambdaResults) {
        self.seen.merge(&o.seen);
        self.cold_start_requests
            .extend(o.cold_start_requests.iter().cloned());
        self.cold_start_requests
            .sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        self.cold_start_requests
            .truncate(crate::record::invoke::COLD_START_SAMPLES);
        if let (Some(arch), Some(cost)) = (self.architecture, &self.cost) {
            let (source, prices) = (self.architecture_source.clone(), cost.prices);
            self.price(arch, source.as_deref().unwrap_or(""), &prices);
        }
    }
}

fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}

/// The architecture to price at and where it came from: `[aws] architecture`, else what
/// `GetFunctionConfiguration` said, else x86_64, assumed.
pub fn architecture_of(
    aws: Option<&crate::scenario::AwsContext>,
    quotas: &crate::quotas::Quotas,
) -> (Architecture, String) {
    if let Some(a) = aws.and_then(|a| a.architecture) {
        return (a, "[aws] architecture".into());
    }
    if let Some(c) = &quotas.function_config {
        return (c.architecture, c.source.describe());
    }
    (Architecture::X86_64, "assumed (not read)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::invoke::ReportLine;

    fn seen(cold: u64, warm: u64, init_ms: f64) -> InvokeSeen {
        let mut r = InvokeRecord::default();
        let line = |init: Option<f64>| ReportLine {
            request_id: "r".into(),
            duration_ms: 40.0,
            billed_ms: 40 + init.map_or(0, |i| i.ceil() as u64),
            memory_mb: 512,
            max_memory_used_mb: 60,
            init_ms: init,
            restore_ms: None,
        };
        for _ in 0..cold {
            r.report(&line(Some(init_ms)), || ColdStart {
                t_s: 0.0,
                stage: "s".into(),
                request_id: "r".into(),
                correlation_id: None,
                init_ms,
            });
        }
        for _ in 0..warm {
            r.report(&line(None), || unreachable!("warm"));
        }
        let counts = Counts {
            attempts_ok: cold + warm,
            ..Counts::default()
        };
        InvokeSeen::of(Some(&r), &counts)
    }

    #[test]
    fn shards_merge_into_the_sums_and_the_added_histograms() {
        let mut a = seen(10, 90, 200.0);
        let b = seen(30, 70, 400.0);
        a.merge(&b);
        assert_eq!((a.invocations, a.reports, a.cold_starts), (200, 200, 40));
        assert!((a.cold_start_rate - 0.2).abs() < 1e-12);
        // 200 × 40 ms + 10 × 200 + 30 × 400 billed, at 512 MB.
        assert_eq!(a.billed_ms_total, 200 * 40 + 10 * 200 + 30 * 400);
        assert_eq!(a.mb_ms, a.billed_ms_total * 512);
        // The init p50 comes from both shards' cold starts: three quarters at 400 ms.
        assert!((a.init_ms.p50 - 400.0).abs() < 1.0, "{:?}", a.init_ms);
        assert!((a.init_ms.p90 - 400.0).abs() < 1.0);
        assert!(a.init_ms.mean > 340.0 && a.init_ms.mean < 360.0);
    }

    #[test]
    fn a_merged_cost_is_priced_again_on_the_sums() {
        let target = LambdaTarget {
            function: crate::invoke::FunctionRef::parse("orders").unwrap(),
            invocation: crate::invoke::Invocation::RequestResponse,
            log_tail: true,
            region: "us-east-1".into(),
        };
        let mut a = LambdaResults {
            seen: seen(1, 9, 100.0),
            ..LambdaResults::of(&target, None, &Counts::default())
        };
        a.price(
            Architecture::Arm64,
            "[aws] architecture",
            &Prices::default(),
        );
        let mut b = a.clone();
        b.seen = seen(0, 10, 0.0);
        a.merge(&b);
        let c = a.cost.unwrap();
        assert_eq!(c.requests, 20);
        let gb_s = (20.0 * 40.0 + 100.0) * 512.0 / 1024.0 / 1000.0;
        assert!((c.gb_seconds - gb_s).abs() < 1e-12);
        assert_eq!(c.architecture, Architecture::Arm64);
    }
}
