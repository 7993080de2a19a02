//! The results' `lambda` key: what a Lambda target's answers said (REPORT lines, cold
//! starts, function errors) and what the invocations cost. Per stage, the same counts.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cost::{gb_seconds, Architecture, Cost, Prices};
use crate::histogram::{decode, encode, new_histogram, percentiles, Percentiles};

/// Cold starts kept by name (per lane, and in the results).
pub const COLD_START_SAMPLES: usize = 100;

/// Function error types counted by name; more are counted under [`OTHER_ERROR_TYPES`].
pub const ERROR_TYPES: usize = 32;
pub const OTHER_ERROR_TYPES: &str = "(other types)";

/// One cold start, so a user can find it in their logs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ColdStart {
    /// Seconds from the run's start, when the answer came.
    pub t_s: f64,
    pub stage: String,
    /// Lambda's request id (the REPORT line's, and CloudWatch Logs').
    pub request_id: String,
    /// The correlation id stampede sent with it.
    pub correlation_id: Option<String>,
    /// `Init Duration` (or a SnapStart `Restore Duration`), ms.
    pub init_ms: f64,
}

/// Counts `n` of `error_type`, by name while there is room.
pub fn count_type(into: &mut BTreeMap<String, u64>, error_type: &str, n: u64) {
    let named = into.contains_key(error_type) || into.len() < ERROR_TYPES;
    let key = if named { error_type } else { OTHER_ERROR_TYPES };
    *into.entry(key.to_string()).or_default() += n;
}

/// The run's (or a stage's) REPORT lines and function errors.
// Named `InvokeSeen` in the JSON Schema, as before the type was renamed: the schema's
// definitions are part of the published file (a doc comment here would be its description).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(rename = "InvokeSeen")]
pub struct LambdaSeen {
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
    pub histograms: LambdaHistograms,
}

// `InvokeHistograms` in the JSON Schema (see `LambdaSeen`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, JsonSchema)]
#[schemars(rename = "InvokeHistograms")]
pub struct LambdaHistograms {
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
    /// "request-response", "event" or "stream".
    pub invocation: String,
    pub log_tail: bool,
    #[serde(flatten)]
    pub seen: LambdaSeen,
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
    /// The provisioned concurrency that would have kept the run warm, its cost an hour, and
    /// what the run's cold starts cost (docs/lambda.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provisioned_advice: Option<crate::provisioned::ProvisionedAdvice>,
}

impl LambdaSeen {
    /// Adds another run's (a shard's) counts; percentiles from the merged histograms.
    pub fn merge(&mut self, o: &LambdaSeen) {
        self.invocations += o.invocations;
        self.reports += o.reports;
        self.cold_starts += o.cold_starts;
        self.cold_start_rate = ratio(self.cold_starts, self.reports);
        self.billed_ms_total += o.billed_ms_total;
        self.mb_ms = self.mb_ms.saturating_add(o.mb_ms);
        self.gb_seconds = gb_seconds(self.mb_ms as u128);
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

    /// Advises on provisioned concurrency from the run's `timeline` (after [`Self::price`]:
    /// at its architecture and prices); `configured`: the function's, when read (else the
    /// one already advised with, as a merge keeps it).
    pub fn advise_provisioned(
        &mut self,
        timeline: &[crate::timeline::TimelinePoint],
        configured: Option<u64>,
    ) {
        let Some(cost) = &self.cost else {
            return;
        };
        let configured = configured.or(self.provisioned_advice.as_ref().and_then(|a| a.configured));
        self.provisioned_advice = crate::provisioned::advise(
            timeline,
            &self.seen,
            cost.architecture,
            &cost.prices,
            configured,
        );
    }

    /// Adds a shard's; the cost is priced again on the sum.
    pub fn merge(&mut self, o: &LambdaResults) {
        self.seen.merge(&o.seen);
        self.cold_start_requests
            .extend(o.cold_start_requests.iter().cloned());
        self.cold_start_requests
            .sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        self.cold_start_requests.truncate(COLD_START_SAMPLES);
        if let (Some(arch), Some(cost)) = (self.architecture, &self.cost) {
            let (source, prices) = (self.architecture_source.clone(), cost.prices);
            self.price(arch, source.as_deref().unwrap_or(""), &prices);
        }
    }
}

/// `n` / `d`, 0 when `d` is.
pub fn ratio(n: u64, d: u64) -> f64 {
    if d == 0 {
        0.0
    } else {
        n as f64 / d as f64
    }
}
