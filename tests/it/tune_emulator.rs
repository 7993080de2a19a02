//! `stampede tune` end to end against the emulator's memory model (80 ms of CPU at
//! 1,769 MB, 20 ms of waiting): each size's measured duration follows the model, the
//! costs and picks are those worked out by hand from it and the price table, and after
//! the tune the emulator's own control plane says the function is as found; the cold
//! starts tune counted are the emulator's.

use std::time::Duration;

use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::config::{BehaviorVersion, Credentials, Region};
use stampede_emulator::{EmulatorConfig, HandlerTime, RunningEmulator};

use crate::common::{self, aws_command, read_json, run_bounded, stderr, write, DUMMY_KEYS};

const SIZES: [u64; 5] = [256, 512, 1024, 1769, 3008];
const ORIGINAL_MB: u64 = 512;
const INIT_MS: f64 = 50.0;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The model's handler time at `memory` MB.
fn model_ms(memory: u64) -> f64 {
    20.0 + 80.0 * (1769.0 / memory as f64).max(1.0)
}

/// Per million invocations at `memory`, `billed_ms` each on average: the request price and
/// the x86_64 compute price of us-east-1 (the defaults), worked out here.
fn per_million(memory: u64, billed_ms: f64) -> f64 {
    0.20 + billed_ms / 1000.0 * memory as f64 / 1024.0 * 0.000_016_666_7 * 1e6
}

fn control(em: &RunningEmulator) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(stampede::aws::http_client())
        .endpoint_url(format!("http://{}", em.addr))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "t"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

/// The emulator with the model: 20 ms of waiting, 80 ms of CPU at 1,769 MB, a 50 ms init.
fn model_emulator() -> RunningEmulator {
    common::start_emulator(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(20)),
        cpu_time: HandlerTime::Fixed(ms(80)),
        cold_start: HandlerTime::Fixed(ms(INIT_MS as u64)),
        update_delay: ms(100),
        memory_mb: ORIGINAL_MB,
        ..EmulatorConfig::default()
    })
}

/// `stampede tune` of the emulator's function at `sizes`, 20 req/s for `seconds` each,
/// with `more` flags: its output and its results.
fn tune(
    em: &RunningEmulator,
    sizes: &[u64],
    seconds: u64,
    more: &[&str],
) -> (std::process::Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "tune.toml",
        &format!(
            "[target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\nregion = \"us-east-1\"\n\
             [[stages]]\nname = \"hold\"\nkind = \"constant\"\nrate = 20\nduration = \"{seconds}s\"\n"
        ),
    );
    let out = dir.path().join("tune.json");
    let sizes = sizes
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let endpoint = format!("http://{}", em.addr);
    let mut env = DUMMY_KEYS.to_vec();
    env.push(("AWS_ENDPOINT_URL", &endpoint));
    let mut args = vec!["tune", scenario.to_str().unwrap(), "--memory", &sizes];
    args.extend(more);
    args.extend(["--allow-changes", "--out", out.to_str().unwrap()]);
    let run = run_bounded(
        aws_command(dir.path(), &args, &env),
        Duration::from_secs(120),
    );
    let o = run.output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = read_json(&out);
    (o, r)
}

/// `$LATEST`'s memory, the versions and the aliases, as the emulator's control plane says.
fn as_found(em: &RunningEmulator) -> (Option<i32>, Vec<String>, Vec<(String, String)>) {
    let client = control(em);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let f = "emulated-function";
        let c = client
            .get_function_configuration()
            .function_name(f)
            .send()
            .await
            .unwrap();
        let v = client
            .list_versions_by_function()
            .function_name(f)
            .send()
            .await
            .unwrap();
        let a = client.list_aliases().function_name(f).send().await.unwrap();
        let versions = v
            .versions()
            .iter()
            .filter_map(|f| f.version().map(str::to_string))
            .collect();
        let aliases = a
            .aliases()
            .iter()
            .map(|a| {
                (
                    a.name().unwrap_or_default().to_string(),
                    a.function_version().unwrap_or_default().to_string(),
                )
            })
            .collect();
        (c.memory_size(), versions, aliases)
    })
}

#[test]
fn each_size_follows_the_model_the_picks_are_the_hand_worked_ones_and_all_is_put_back() {
    let em = model_emulator();
    let before = as_found(&em);
    let (o, r) = tune(&em, &SIZES, 2, &["--strategy", "speed"]);
    let o = &o;
    let tune = &r["tune"];
    let memories = tune["memories"].as_array().unwrap();
    assert_eq!(memories.len(), SIZES.len(), "{tune:#}");

    let mut by_hand = Vec::new();
    for (m, &memory) in memories.iter().zip(&SIZES) {
        assert_eq!(m["memory"].as_u64(), Some(memory));
        let model = model_ms(memory);
        let p50 = m["duration_ms"]["p50"].as_f64().unwrap();
        assert!(
            (p50 - model).abs() <= model * 0.10,
            "{memory} MB: measured {p50} ms, the model {model} ms"
        );
        // Billed: the duration rounded up to the millisecond, the cold starts' init too.
        let (n, cold) = (
            m["invocations"].as_u64().unwrap() as f64,
            m["cold_starts"].as_u64().unwrap() as f64,
        );
        assert!(n >= 39.0, "{memory} MB: {n} invocations of 40");
        let warm_billed = model.ceil();
        let cold_billed = (model + INIT_MS).ceil();
        let with_init = per_million(memory, ((n - cold) * warm_billed + cold * cold_billed) / n);
        let without = per_million(memory, warm_billed);
        for (key, want) in [
            ("cost_per_million", with_init),
            ("cost_per_million_without_init", without),
        ] {
            let got = m[key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= want * 0.01,
                "{memory} MB {key}: {got} against {want} by hand"
            );
        }
        by_hand.push((memory, with_init));
    }
    let cheapest = by_hand.iter().min_by(|a, b| a.1.total_cmp(&b.1)).unwrap().0;
    assert_eq!(
        tune["picks"]["cost"].as_u64(),
        Some(cheapest),
        "{by_hand:?}"
    );
    // 1,769 MB buys one vCPU: 3,008 MB runs the single-threaded handler no faster.
    assert_eq!(tune["picks"]["speed"].as_u64(), Some(1769));

    // The cold starts tune read from the REPORT lines are those the emulator counted.
    let cold_total: u64 = memories
        .iter()
        .map(|m| m["cold_starts"].as_u64().unwrap())
        .sum();
    assert_eq!(em.stats().cold_starts, cold_total);
    let invoked: u64 = memories
        .iter()
        .map(|m| m["invocations"].as_u64().unwrap())
        .sum();
    assert_eq!(em.stats().invocations_direct, invoked);

    // Put back as found, as the emulator's control plane says it.
    assert_eq!(tune["restored"]["memory_restored"], true, "{tune:#}");
    assert_eq!(as_found(&em), before);
    // The emulator's function starts with version 1, its alias `live`'s: tune's are gone.
    assert_eq!(before.0, Some(ORIGINAL_MB as i32));
    assert_eq!(before.1, ["$LATEST", "1"]);
    let summary = common::stdout(o);
    assert!(
        summary.contains("speed (asked for) → 1,769 MB"),
        "{summary}"
    );
}

#[test]
fn apply_moves_the_alias_to_the_picked_version_and_deletes_the_rest() {
    let em = model_emulator();
    let (_, r) = tune(
        &em,
        &[512, 1769],
        1,
        &["--strategy", "speed", "--apply", "--alias", "live"],
    );
    let t = &r["tune"];
    assert_eq!(t["picks"]["speed"], 1769, "{t:#}");
    let picked = t["memories"][1]["version"].as_str().unwrap().to_string();
    let other = t["memories"][0]["version"].as_str().unwrap().to_string();
    let (memory, versions, aliases) = as_found(&em);
    // $LATEST as found; the picked version kept, with `live` on it; the other gone.
    assert_eq!(memory, Some(ORIGINAL_MB as i32));
    assert!(versions.contains(&picked), "{versions:?}");
    assert!(!versions.contains(&other), "{versions:?}");
    assert_eq!(aliases, [("live".to_string(), picked.clone())]);
    // Where `live` pointed before, for a repair to put it back.
    assert_eq!(t["original"]["alias"]["name"], "live");
    assert_eq!(t["original"]["alias"]["version"], "1");
    assert_eq!(t["applied"]["memory"], 1769);
    assert_eq!(t["applied"]["alias"]["version"], picked.as_str());
}

#[test]
fn a_failure_mid_tune_is_a_fault_exit_4_with_the_function_put_back() {
    // PublishVersion refused: the first size's memory is set, then the tune cannot go on.
    let em = common::start_emulator(EmulatorConfig {
        update_delay: ms(50),
        memory_mb: ORIGINAL_MB,
        deny: vec!["lambda:PublishVersion".into()],
        ..EmulatorConfig::default()
    });
    let before = as_found(&em);
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "tune.toml",
        "[target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\nregion = \"us-east-1\"\n\
         [[stages]]\nname = \"hold\"\nkind = \"constant\"\nrate = 5\nduration = \"1s\"\n",
    );
    let out = dir.path().join("tune.json");
    let endpoint = format!("http://{}", em.addr);
    let mut env = DUMMY_KEYS.to_vec();
    env.push(("AWS_ENDPOINT_URL", &endpoint));
    let run = run_bounded(
        aws_command(
            dir.path(),
            &[
                "tune",
                scenario.to_str().unwrap(),
                "--memory",
                "1024",
                "--allow-changes",
                "--out",
                out.to_str().unwrap(),
            ],
            &env,
        ),
        Duration::from_secs(60),
    );
    let err = stderr(&run.output);
    assert_eq!(run.output.status.code(), Some(4), "{err}");
    let r = read_json(&out);
    let faults = r["faults"].to_string();
    assert!(faults.contains("the tune stopped"), "{faults}");
    assert_eq!(r["tune"]["restored"]["memory_restored"], true);
    // The memory it had set is back.
    assert_eq!(as_found(&em), before);
}
