//! The `REPORT` line Lambda writes after each invocation, read from the Invoke answer's
//! `X-Amz-Log-Result` (the base64 tail of the log, last 4 KB):
//!
//! `REPORT RequestId: … Duration: 12.34 ms Billed Duration: 13 ms Memory Size: 128 MB
//! Max Memory Used: 18 MB Init Duration: 166.62 ms`, its fields separated by tabs.
//!
//! `Init Duration` appears only on a cold start (`Restore Duration` on a SnapStart one).

use base64::Engine as _;

/// One invocation's report.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportLine {
    pub request_id: String,
    pub duration_ms: f64,
    pub billed_ms: u64,
    pub memory_mb: u64,
    pub max_memory_used_mb: u64,
    /// A cold start's initialisation; `None` on a warm environment.
    pub init_ms: Option<f64>,
    /// A SnapStart environment's restore (a cold start too, of another kind).
    pub restore_ms: Option<f64>,
}

impl ReportLine {
    /// A new execution environment served it.
    pub fn cold(&self) -> bool {
        self.init_ms.is_some() || self.restore_ms.is_some()
    }

    /// The line's fields, or `None` when it is not a `REPORT` line. Fields it does not
    /// know (`Status`, `Error Type`, `Billed Restore Duration`) are skipped.
    pub fn parse(line: &str) -> Option<ReportLine> {
        let rest = line
            .trim_end_matches(['\r', '\n'])
            .strip_prefix("REPORT ")?;
        let mut r = ReportLine {
            request_id: String::new(),
            duration_ms: f64::NAN,
            billed_ms: u64::MAX,
            memory_mb: 0,
            max_memory_used_mb: 0,
            init_ms: None,
            restore_ms: None,
        };
        for field in rest.split('\t').map(str::trim).filter(|f| !f.is_empty()) {
            let (key, value) = field.split_once(": ")?;
            let number = |unit: &str| value.strip_suffix(unit).map(str::trim);
            match key {
                "RequestId" => r.request_id = value.trim().to_string(),
                "Duration" => r.duration_ms = number(" ms")?.parse().ok()?,
                "Billed Duration" => r.billed_ms = number(" ms")?.parse().ok()?,
                "Memory Size" => r.memory_mb = number(" MB")?.parse().ok()?,
                "Max Memory Used" => r.max_memory_used_mb = number(" MB")?.parse().ok()?,
                "Init Duration" => r.init_ms = Some(number(" ms")?.parse().ok()?),
                "Restore Duration" => r.restore_ms = Some(number(" ms")?.parse().ok()?),
                _ => {}
            }
        }
        let complete = !r.request_id.is_empty()
            && r.duration_ms.is_finite()
            && r.billed_ms != u64::MAX
            && r.memory_mb > 0;
        complete.then_some(r)
    }

    /// The last `REPORT` line of an `X-Amz-Log-Result` value (base64 of the log's tail).
    pub fn from_log_result(b64: &[u8]) -> Option<ReportLine> {
        let log = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        let log = String::from_utf8_lossy(&log);
        log.lines().rev().find_map(ReportLine::parse)
    }

    /// MB × ms of this invocation, what Lambda's compute price is charged on.
    pub fn mb_ms(&self) -> u64 {
        self.billed_ms.saturating_mul(self.memory_mb)
    }
}

impl std::fmt::Display for ReportLine {
    /// The line as Lambda writes it (fields tab-separated, a trailing tab).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {} MB\t",
            self.request_id, self.duration_ms, self.billed_ms, self.memory_mb, self.max_memory_used_mb
        )?;
        if let Some(init) = self.init_ms {
            write!(f, "Init Duration: {init:.2} ms\t")?;
        }
        Ok(())
    }
}

/// What Lambda bills for one on-demand invocation: its duration and (since August 2025,
/// for every runtime) its init duration, rounded up to the next millisecond, at least 1.
pub fn billed_ms(duration_ms: f64, init_ms: Option<f64>) -> u64 {
    let total = duration_ms + init_ms.unwrap_or(0.0);
    // 40.000000001 ms of float noise is not 41 billed ms.
    ((total - 1e-6).ceil() as u64).max(1)
}

/// The `errorType` of a function error's payload (`{"errorType":"…","errorMessage":"…"}`),
/// or `None` when the payload does not name one.
pub fn error_type(payload: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct FunctionError {
        #[serde(rename = "errorType")]
        error_type: String,
    }
    let e: FunctionError = serde_json::from_slice(payload).ok()?;
    let t = e.error_type.trim();
    (!t.is_empty() && t.len() <= 128).then(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as Lambda writes them (tabs, trailing tab), from real logs.
    const WARM: &str = "REPORT RequestId: 3604209a-e9a3-11e6-939a-754dd98c7be3\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB\t";
    const COLD: &str = "REPORT RequestId: 8f507cfc-example\tDuration: 102.25 ms\tBilled Duration: 400 ms\tMemory Size: 1769 MB\tMax Memory Used: 70 MB\tInit Duration: 297.02 ms\t";
    const SNAPSTART: &str = "REPORT RequestId: 1c9ff2a4-example\tDuration: 5.81 ms\tBilled Duration: 296 ms\tMemory Size: 512 MB\tMax Memory Used: 90 MB\tRestore Duration: 474.16 ms\tBilled Restore Duration: 290 ms\t";
    const CRASHED: &str = "REPORT RequestId: 0a1b-example\tDuration: 3.10 ms\tBilled Duration: 4 ms\tMemory Size: 128 MB\tMax Memory Used: 31 MB\tStatus: error\tError Type: Runtime.ExitError";

    #[test]
    fn warm_and_cold_lines_parse() {
        let w = ReportLine::parse(WARM).unwrap();
        assert_eq!(w.request_id, "3604209a-e9a3-11e6-939a-754dd98c7be3");
        assert_eq!((w.duration_ms, w.billed_ms), (12.34, 13));
        assert_eq!((w.memory_mb, w.max_memory_used_mb), (128, 18));
        assert!(!w.cold());
        let c = ReportLine::parse(COLD).unwrap();
        assert_eq!(c.init_ms, Some(297.02));
        assert!(c.cold());
        let s = ReportLine::parse(SNAPSTART).unwrap();
        assert_eq!((s.restore_ms, s.init_ms), (Some(474.16), None));
        assert!(s.cold());
        let e = ReportLine::parse(CRASHED).unwrap();
        assert_eq!(e.billed_ms, 4);
    }

    #[test]
    fn other_lines_and_broken_ones_are_not_reports() {
        for line in [
            "START RequestId: 1 Version: $LATEST",
            "END RequestId: 1",
            "REPORT RequestId: 1\tDuration: 12.34 ms",
            "REPORT RequestId: 1\tDuration: abc ms\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB",
            "REPORT RequestId: 1\tDuration: 12 s\tBilled Duration: 13 ms\tMemory Size: 128 MB\tMax Memory Used: 18 MB",
        ] {
            assert_eq!(ReportLine::parse(line), None, "{line}");
        }
    }

    #[test]
    fn the_log_tail_is_decoded_and_its_last_report_read() {
        let log = format!(
            "START RequestId: 8f507cfc-example Version: $LATEST\nhello\nEND RequestId: 8f507cfc-example\n{COLD}\nXRAY TraceId: 1-5e4b-xyz\tSegmentId: 12ab\tSampled: true\n"
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode(log);
        let r = ReportLine::from_log_result(b64.as_bytes()).unwrap();
        assert_eq!(r.init_ms, Some(297.02));
        assert_eq!(ReportLine::from_log_result(b"not base64!"), None);
        assert_eq!(ReportLine::from_log_result(b""), None);
    }

    #[test]
    fn written_lines_read_back() {
        let r = ReportLine::parse(COLD).unwrap();
        assert_eq!(ReportLine::parse(&r.to_string()), Some(r));
        assert_eq!(ReportLine::parse(WARM).unwrap().to_string(), WARM);
    }

    #[test]
    fn billed_time_rounds_up_to_the_millisecond_and_includes_init() {
        assert_eq!(billed_ms(12.34, None), 13);
        assert_eq!(billed_ms(40.0, None), 40);
        assert_eq!(billed_ms(40.0 + 1e-9, None), 40, "float noise");
        assert_eq!(billed_ms(0.2, None), 1, "at least 1 ms");
        assert_eq!(billed_ms(102.25, Some(297.02)), 400);
        assert_eq!(billed_ms(102.25, Some(297.76)), 401);
    }

    #[test]
    fn compute_is_charged_on_megabyte_milliseconds() {
        // 1769 MB is one full vCPU: not a power of two.
        let c = ReportLine::parse(COLD).unwrap();
        assert_eq!(c.mb_ms(), 400 * 1769);
        let w = ReportLine::parse(WARM).unwrap();
        assert_eq!(w.mb_ms(), 13 * 128);
    }

    #[test]
    fn function_errors_name_their_type() {
        assert_eq!(
            error_type(br#"{"errorType":"TypeError","errorMessage":"x is undefined","trace":[]}"#)
                .as_deref(),
            Some("TypeError")
        );
        assert_eq!(
            error_type(br#"{"errorMessage":"2024-01-01 Task timed out after 3.00 seconds"}"#),
            None
        );
        assert_eq!(error_type(b"plain text"), None);
    }
}
