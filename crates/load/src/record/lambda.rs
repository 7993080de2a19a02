//! What the Lambda Invoke API's answers said (their REPORT lines and function errors), per
//! stage of one lane, merged like the rest of the record. Only a Lambda target has one.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use stampede_lambda::ReportLine;
use stampede_results::histogram::new_histogram;

pub use stampede_results::lambda::{
    count_type, ColdStart, COLD_START_SAMPLES, ERROR_TYPES, OTHER_ERROR_TYPES,
};

#[derive(Clone, Debug)]
pub struct LambdaRecord {
    /// Answers whose REPORT line was read.
    pub reports: u64,
    pub cold_starts: u64,
    /// µs: `Init Duration` of cold starts, `Duration`, `Billed Duration`.
    pub init: Histogram<u64>,
    pub duration: Histogram<u64>,
    pub billed: Histogram<u64>,
    pub billed_ms: u64,
    /// Σ billed ms × memory MB: what the compute price is charged on.
    pub mb_ms: u128,
    /// `Memory Size` and the highest `Max Memory Used` seen.
    pub memory_mb: u64,
    pub max_memory_used_mb: u64,
    pub function_errors: BTreeMap<String, u64>,
    pub cold: Vec<ColdStart>,
}

impl Default for LambdaRecord {
    fn default() -> Self {
        LambdaRecord {
            reports: 0,
            cold_starts: 0,
            init: new_histogram(),
            duration: new_histogram(),
            billed: new_histogram(),
            billed_ms: 0,
            mb_ms: 0,
            memory_mb: 0,
            max_memory_used_mb: 0,
            function_errors: BTreeMap::new(),
            cold: Vec::new(),
        }
    }
}

fn us(ms: f64) -> u64 {
    ((ms * 1000.0).round() as u64).max(1)
}

impl LambdaRecord {
    /// One answer's REPORT line; `cold` describes it when it was a cold start and there
    /// is room to keep it.
    pub fn report(&mut self, r: &ReportLine, cold: impl FnOnce() -> ColdStart) {
        self.reports += 1;
        self.duration.saturating_record(us(r.duration_ms));
        self.billed.saturating_record((r.billed_ms * 1000).max(1));
        self.billed_ms += r.billed_ms;
        self.mb_ms += r.mb_ms() as u128;
        self.memory_mb = self.memory_mb.max(r.memory_mb);
        self.max_memory_used_mb = self.max_memory_used_mb.max(r.max_memory_used_mb);
        if let Some(init) = r.init_ms.or(r.restore_ms) {
            self.cold_starts += 1;
            self.init.saturating_record(us(init));
            if self.cold.len() < COLD_START_SAMPLES {
                self.cold.push(cold());
            }
        }
    }

    pub fn function_error(&mut self, error_type: &str) {
        count_type(&mut self.function_errors, error_type, 1);
    }

    pub fn merge(&mut self, o: &LambdaRecord) {
        self.reports += o.reports;
        self.cold_starts += o.cold_starts;
        self.init.add(&o.init).expect("same bounds");
        self.duration.add(&o.duration).expect("same bounds");
        self.billed.add(&o.billed).expect("same bounds");
        self.billed_ms += o.billed_ms;
        self.mb_ms += o.mb_ms;
        self.memory_mb = self.memory_mb.max(o.memory_mb);
        self.max_memory_used_mb = self.max_memory_used_mb.max(o.max_memory_used_mb);
        for (t, n) in &o.function_errors {
            count_type(&mut self.function_errors, t, *n);
        }
        self.cold.extend(o.cold.iter().cloned());
        self.cold.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
        self.cold.truncate(COLD_START_SAMPLES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(duration_ms: f64, billed_ms: u64, memory_mb: u64, init_ms: Option<f64>) -> ReportLine {
        ReportLine {
            request_id: "r".into(),
            duration_ms,
            billed_ms,
            memory_mb,
            max_memory_used_mb: 60,
            init_ms,
            restore_ms: None,
        }
    }

    fn cold(t_s: f64) -> ColdStart {
        ColdStart {
            t_s,
            stage: "s".into(),
            request_id: "r".into(),
            correlation_id: None,
            init_ms: 250.0,
        }
    }

    #[test]
    fn reports_add_up_cold_starts_and_billed_time() {
        let mut r = LambdaRecord::default();
        r.report(&line(40.2, 291, 1769, Some(250.1)), || cold(0.5));
        r.report(&line(40.2, 41, 1769, None), || panic!("warm"));
        assert_eq!((r.reports, r.cold_starts, r.billed_ms), (2, 1, 332));
        assert_eq!(r.mb_ms, 332 * 1769);
        assert_eq!(r.init.len(), 1);
        assert!((r.init.max() as i64 - 250_100).abs() <= 250);
        assert_eq!(r.cold.len(), 1);
    }

    #[test]
    fn merging_keeps_the_earliest_cold_starts_and_bounds_them() {
        let mut a = LambdaRecord::default();
        let mut b = LambdaRecord::default();
        for i in 0..COLD_START_SAMPLES {
            a.report(&line(1.0, 252, 128, Some(250.0)), || cold(10.0 + i as f64));
            b.report(&line(1.0, 252, 128, Some(250.0)), || cold(i as f64));
        }
        a.merge(&b);
        assert_eq!(a.cold_starts, 2 * COLD_START_SAMPLES as u64);
        assert_eq!(a.cold.len(), COLD_START_SAMPLES);
        assert_eq!(a.cold[0].t_s, 0.0);
    }

    #[test]
    fn error_types_are_bounded() {
        let mut r = LambdaRecord::default();
        for i in 0..ERROR_TYPES + 5 {
            r.function_error(&format!("E{i}"));
        }
        r.function_error("E0");
        assert_eq!(r.function_errors.len(), ERROR_TYPES + 1);
        assert_eq!(r.function_errors["E0"], 2);
        assert_eq!(r.function_errors[OTHER_ERROR_TYPES], 5);
    }
}
