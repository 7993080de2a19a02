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
        .http_client(stampede::transport::aws_http_client())
        .endpoint_url(format!("http://{}", em.addr))
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDEXAMPLE", "secret", None, None, "t"))
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

#[test]
fn each_size_follows_the_model_the_picks_are_the_hand_worked_ones_and_all_is_put_back() {
    let em = common::start_emulator(EmulatorConfig {
        duration: HandlerTime::Fixed(ms(20)),
        cpu_time: HandlerTime::Fixed(ms(80)),
        cold_start: HandlerTime::Fixed(ms(INIT_MS as u64)),
        update_delay: ms(100),
        memory_mb: ORIGINAL_MB,
        ..EmulatorConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(
        dir.path(),
        "tune.toml",
        "[target]\nkind = \"lambda\"\nfunction = \"emulated-function\"\nregion = \"us-east-1\"\n\
         [[stages]]\nname = \"hold\"\nkind = \"constant\"\nrate = 20\nduration = \"2s\"\n",
    );
    let out = dir.path().join("tune.json");
    let sizes: Vec<String> = SIZES.iter().map(u64::to_string).collect();
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
                &sizes.join(","),
                "--strategy",
                "speed",
                "--allow-changes",
                "--out",
                out.to_str().unwrap(),
            ],
            &env,
        ),
        Duration::from_secs(120),
    );
    let o = &run.output;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(o));
    let r = read_json(&out);
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
    let cheapest = by_hand
        .iter()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap()
        .0;
    assert_eq!(tune["picks"]["cost"].as_u64(), Some(cheapest), "{by_hand:?}");
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
    let client = control(&em);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (memory, versions) = runtime.block_on(async {
        let c = client
            .get_function_configuration()
            .function_name("emulated-function")
            .send()
            .await
            .unwrap();
        let v = client
            .list_versions_by_function()
            .function_name("emulated-function")
            .send()
            .await
            .unwrap();
        let versions: Vec<String> = v
            .versions()
            .iter()
            .filter_map(|f| f.version().map(str::to_string))
            .collect();
        (c.memory_size(), versions)
    });
    assert_eq!(memory, Some(ORIGINAL_MB as i32));
    // The emulator's function starts with version 1 (its alias `live`'s): tune's are gone.
    assert_eq!(versions, ["$LATEST", "1"]);
    let summary = common::stdout(o);
    assert!(summary.contains("speed (asked for) → 1,769 MB"), "{summary}");
}
