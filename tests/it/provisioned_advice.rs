//! Provisioned concurrency set against cold starts, in money: after a run against a
//! function, the concurrency that would have kept it warm, its cost an hour and what the
//! run's cold starts cost — checked against the emulator's own count of cold starts; and
//! `plan`'s estimate of a burst's cold starts given the function's provisioned concurrency.

use crate::common;

use common::{aws_command, run_bounded, stdout, write, DEFAULT_LIMIT};

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn a_burst_of_200_on_50_warm_environments_is_advised_200_priced() {
    let (r, summary) = crate::lambda_target::run_emulated(
        "warm = 50\ncold_start = \"200ms\"\nduration = \"50ms\"\nmemory = 1024",
        "function = \"emulated-function\"",
        "[[stages]]\nname = \"launch\"\nkind = \"burst\"\nrequests = 200\n",
    );
    let emulator_cold = r["emulator"]["cold_starts"].as_u64().unwrap();
    assert_eq!(
        emulator_cold, 150,
        "200 released on 50 warm: {}",
        r["emulator"]
    );
    let a = &r["lambda"]["provisioned_advice"];
    let concurrency = a["concurrency"].as_u64().unwrap();
    assert!(
        (190..=200).contains(&concurrency),
        "the burst's 200 in flight: {a}"
    );
    // Every cold start the emulator counted is one the advice would have removed.
    assert_eq!(a["cold_starts"].as_u64(), Some(emulator_cold), "{a}");
    assert_eq!(
        a["cold_starts_removed"].as_u64(),
        Some(emulator_cold),
        "{a}"
    );
    // Priced by hand: 1 GB × 3,600 s × $0.0000041667 per provisioned environment an hour,
    // and 150 inits of 200 ms = 30 GB-s at the compute price $0.0000166667.
    let per_hour = concurrency as f64 * 3600.0 * 0.000_004_166_7;
    assert!((f(&a["per_hour_usd"]) - per_hour).abs() < 1e-9, "{a}");
    let init_s = f(&a["init_ms_total"]) / 1000.0;
    assert!((init_s - 30.0).abs() < 0.3, "150 × 200 ms: {a}");
    assert!((f(&a["init_cost_usd"]) - init_s * 0.000_016_666_7).abs() < 1e-12);
    assert!(
        summary.contains(&format!(
            "provisioned concurrency: {concurrency} would have kept"
        )),
        "{summary}"
    );
}

#[test]
fn plan_says_a_bursts_cold_starts_past_the_provisioned_concurrency() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "plan.toml",
        "[emulator]\nprovisioned_concurrency = 50\ncold_start = \"300ms\"\nmemory = 512\n\
         [target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\nqualifier = \"live\"\n\
         [[stages]]\nname = \"launch\"\nkind = \"burst\"\nrequests = 200\n",
    );
    let plan = run_bounded(
        aws_command(dir.path(), &["plan", scenario.to_str().unwrap()], &[]),
        DEFAULT_LIMIT,
    );
    let text = stdout(&plan.output);
    assert!(
        text.contains("the burst of 200 with provisioned concurrency 50"),
        "{text}"
    );
    // 150 × 0.3 s × 0.5 GB = 22.5 GB-s at $0.0000166667 = $0.000375.
    assert!(text.contains("up to 150 cold starts"), "{text}");
    assert!(text.contains("$0.000375 more billed"), "{text}");
}
