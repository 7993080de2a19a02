//! Building the results' `lambda` key from what the lanes recorded (the types are the
//! results crate's).

use crate::record::lambda::LambdaRecord;
use crate::record::{encode, percentiles, Counts};
use crate::scenario::LambdaTarget;
use stampede_lambda::Architecture;
use stampede_results::lambda::ratio;
pub use stampede_results::lambda::{LambdaHistograms, LambdaResults, LambdaSeen};

/// A run's (or a stage's) `lambda` counts from its record.
pub fn lambda_seen(record: Option<&LambdaRecord>, counts: &Counts) -> LambdaSeen {
    let empty = LambdaRecord::default();
    let r = record.unwrap_or(&empty);
    LambdaSeen {
        invocations: counts.attempts.ok + counts.attempts.function_errors,
        reports: r.reports,
        cold_starts: r.cold_starts,
        cold_start_rate: ratio(r.cold_starts, r.reports),
        init_ms: percentiles(&r.init),
        duration_ms: percentiles(&r.duration),
        billed_ms: percentiles(&r.billed),
        billed_ms_total: r.billed_ms,
        mb_ms: r.mb_ms.min(u64::MAX as u128) as u64,
        gb_seconds: stampede_lambda::gb_seconds(r.mb_ms),
        memory_mb: r.memory_mb,
        max_memory_used_mb: r.max_memory_used_mb,
        function_errors: r.function_errors.clone(),
        histograms: LambdaHistograms {
            init: encode(&r.init),
            duration: encode(&r.duration),
            billed: encode(&r.billed),
        },
    }
}

/// The results' `lambda` key for `target`, before it is priced.
pub fn lambda_results(
    target: &LambdaTarget,
    record: Option<&LambdaRecord>,
    counts: &Counts,
) -> LambdaResults {
    LambdaResults {
        function: target.function.function.clone(),
        qualifier: target.function.qualifier.clone(),
        region: target.region.clone(),
        invocation: target.invocation.key().to_string(),
        log_tail: target.log_tail,
        seen: lambda_seen(record, counts),
        cold_start_requests: record.map(|r| r.cold.clone()).unwrap_or_default(),
        ..LambdaResults::default()
    }
}

/// The architecture to price at and where it came from: `[aws] architecture`, else what
/// `GetFunctionConfiguration` said, else x86_64, assumed.
pub fn architecture_of(
    aws: Option<&crate::scenario::AwsSettings>,
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
    use crate::record::ColdStart;
    use stampede_lambda::{Prices, ReportLine};

    fn seen(cold: u64, warm: u64, init_ms: f64) -> LambdaSeen {
        let mut r = LambdaRecord::default();
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
            attempts: stampede_results::Attempts {
                ok: cold + warm,
                ..Default::default()
            },
            ..Counts::default()
        };
        lambda_seen(Some(&r), &counts)
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
            function: stampede_lambda::FunctionRef::parse("orders").unwrap(),
            invocation: stampede_lambda::Invocation::RequestResponse,
            log_tail: true,
            region: "us-east-1".into(),
        };
        let mut a = LambdaResults {
            seen: seen(1, 9, 100.0),
            ..lambda_results(&target, None, &Counts::default())
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
