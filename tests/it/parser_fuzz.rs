//! A property test of the scenario parser, in-process: thousands of seeded mutants of
//! every shipped scenario (and the README's example, and a file that sets every key) never
//! panic, and every error is bad input (code 2) that names `FILE:LINE:COL`.
//!
//! `STAMPEDE_FUZZ_SEED` and `STAMPEDE_FUZZ_MUTANTS` change the seed and the count.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use http::Uri;

const DEFAULT_MUTANTS: usize = 20_000;
const DEFAULT_SEED: u64 = 0x5eed_0f5c_a1ab_1e00;

/// A scenario that sets every key the parser knows, so mutants reach every check.
const EVERY_KEY: &str = r#"
name = "every key"
seed = 7

[emulator]
api = "rest"
account_concurrency = 100
reserved_concurrency = 50
provisioned_concurrency = 10
rate = 500
burst = 250
stage_rate = 400
stage_burst = 200
cold_start = "250ms"
duration = "20ms..80ms"
scaling = { environments = 100, per = "1s" }
idle_expiry = "10m"
integration_timeout = "29s"
seed = 3
region = "us-east-1"
function = "orders"
qualifier = "live"
rest_api_id = "abc123"
stage = "prod"
deny = ["lambda:GetAccountSettings"]

[target]
url = "/orders"
method = "POST"
body_file = "body.json"
timeout = "5s"
connect_timeout = "2s"

[target.headers]
content-type = "application/json"

[target.auth]
kind = "api-key"
header = "x-api-key"
env = "ORDERS_API_KEY"

[request]
correlation_header = "x-correlation-id"
idempotency_header = "idempotency-key"

[retry]
max_attempts = 3
mode = "adaptive"
backoff = "full-jitter"
base = "100ms"
cap = "20s"
on = ["throttle", "server-error", "timeout", "connect"]
respect_retry_after = true
budget = 500
deadline = "60s"

[abort]
throttle_rate = "50%"
error_rate = "10%"
window = "5s"
min_attempts = 20

[aws]
region = "us-east-1"
function = "orders"
qualifier = "live"
rest_api_id = "abc123"
stage = "prod"
endpoint_url = "http://127.0.0.1:9"
quotas_file = "quotas.toml"

[[stages]]
name = "flat"
kind = "constant"
rate = 10
duration = "1s"

[[stages]]
name = "up"
kind = "ramp"
from = 0
to = 20
duration = "1s"

[[stages]]
name = "stairs"
kind = "steps"
from = 5
to = 10
step = 5
hold = "1s"

[[stages]]
name = "all at once"
kind = "burst"
requests = 10

[[stages]]
name = "closed"
kind = "concurrency"
workers = 2
duration = "1s"

[[stages]]
kind = "pause"
duration = "1s"

[thresholds]
p50 = "100ms"
p90 = "200ms"
p95 = "300ms"
p99 = "1s"
p999 = "2s"
max = "5s"
mean = "150ms"
throttle_rate = "5%"
error_rate = "1%"

[thresholds.stages."all at once"]
p99 = "2s"
"#;

/// Values of every TOML type, and strings the parser reads as durations, rates, URLs.
const VALUES: &[&str] = &[
    "\"text\"",
    "\"\"",
    "\"30s\"",
    "\"0s\"",
    "\"250ms\"",
    "\"-1s\"",
    "\"99999999999999999999s\"",
    "\"5%\"",
    "\"101%\"",
    "\"-1%\"",
    "\"nan%\"",
    "\"20ms..1ms\"",
    "\"..\"",
    "\"/x\"",
    "\"http://\"",
    "\"ftp://127.0.0.1/\"",
    "\"http://127.0.0.1:9/\"",
    "\"é…🦀\"",
    "'literal'",
    "\"\"\"multi\nline\"\"\"",
    "0",
    "1",
    "-1",
    "42",
    "9223372036854775807",
    "-9223372036854775808",
    "0x10",
    "3.5",
    "-0.0",
    "1e308",
    "nan",
    "inf",
    "-inf",
    "true",
    "false",
    "1979-05-27T07:32:00Z",
    "[]",
    "[1, \"a\"]",
    "[\"throttle\", \"nope\"]",
    "{}",
    "{ a = 1 }",
    "{ environments = 0, per = \"0s\" }",
];

/// Characters mutants are made of: TOML's punctuation, digits, letters, multi-byte.
const CHARS: &[char] = &[
    '"', '\'', '[', ']', '{', '}', '=', '.', ',', '#', '\n', ' ', '\\', '-', '+', '%', ':', '0',
    '1', '9', 'a', 'e', 's', 'm', 'x', '_', '\t', 'é', '…', '🦀', '\r', '\u{0}',
];

fn seeds() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .filter(|p| p.file_name().is_some_and(|n| n != "quotas.toml"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read_to_string(&f).unwrap()));
    }
    out.push(("every-key.toml".into(), EVERY_KEY.into()));
    // README's example: the client tables, completed with a target and a stage.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for (i, block) in readme.split("```toml\n").skip(1).enumerate() {
        let block = block.split("```").next().unwrap_or("");
        let whole =
            format!("{block}\n[target]\nurl = \"http://127.0.0.1:9/\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
        out.push((format!("readme-{i}.toml"), whole));
    }
    out
}

/// One random change to `text`.
fn mutate(rng: &mut fastrand::Rng, text: &str) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = |rng: &mut fastrand::Rng, n: usize| if n == 0 { 0 } else { rng.usize(..n) };
    match rng.u8(..9) {
        // Replace a character.
        0 if !chars.is_empty() => {
            let i = at(rng, chars.len());
            chars[i] = CHARS[rng.usize(..CHARS.len())];
            chars.into_iter().collect()
        }
        // Insert one.
        1 => {
            let i = at(rng, chars.len() + 1);
            chars.insert(i, CHARS[rng.usize(..CHARS.len())]);
            chars.into_iter().collect()
        }
        // Delete a few.
        2 if !chars.is_empty() => {
            let i = at(rng, chars.len());
            let n = rng.usize(1..=4).min(chars.len() - i);
            chars.drain(i..i + n);
            chars.into_iter().collect()
        }
        // Drop a line.
        3 if !lines.is_empty() => {
            let i = at(rng, lines.len());
            let mut l = lines.clone();
            l.remove(i);
            l.concat()
        }
        // Duplicate a line.
        4 if !lines.is_empty() => {
            let i = at(rng, lines.len());
            let mut l = lines.clone();
            l.insert(i, lines[i]);
            l.concat()
        }
        // A value of another type (or another value of the same).
        5 | 6 => {
            let kv: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = ") && !lines[i].trim_start().starts_with('#'))
                .collect();
            if kv.is_empty() {
                return text.to_string();
            }
            let i = kv[rng.usize(..kv.len())];
            let key = lines[i].split(" = ").next().unwrap();
            let new = format!("{key} = {}\n", VALUES[rng.usize(..VALUES.len())]);
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            l[i] = new;
            l.concat()
        }
        // Move a key = value line elsewhere (often into another table).
        7 => {
            let kv: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = "))
                .collect();
            if kv.is_empty() {
                return text.to_string();
            }
            let from = kv[rng.usize(..kv.len())];
            let mut l: Vec<&str> = lines.clone();
            let line = l.remove(from);
            let to = at(rng, l.len() + 1);
            l.insert(to, line);
            l.concat()
        }
        // Swap the keys of two key = value lines.
        _ => {
            let kv: Vec<usize> = (0..lines.len())
                .filter(|&i| lines[i].contains(" = ") && !lines[i].trim_start().starts_with('#'))
                .collect();
            if kv.len() < 2 {
                return text.to_string();
            }
            let (a, b) = (kv[rng.usize(..kv.len())], kv[rng.usize(..kv.len())]);
            let split = |s: &str| {
                let (k, v) = s.split_once(" = ").unwrap();
                (k.to_string(), v.to_string())
            };
            let (ka, va) = split(lines[a]);
            let (kb, vb) = split(lines[b]);
            let mut l: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            l[a] = format!("{kb} = {va}");
            l[b] = format!("{ka} = {vb}");
            l.concat()
        }
    }
}

/// `PATH:LINE:COL: …` with LINE and COL inside `text` (COL counted in characters).
fn located(message: &str, path: &Path, text: &str) -> Result<(), String> {
    let prefix = format!("{}:", path.display());
    let rest = message
        .strip_prefix(&prefix)
        .ok_or_else(|| format!("does not start with `{prefix}`"))?;
    let mut parts = rest.splitn(3, ':');
    let line: usize = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("no line number")?;
    let col: usize = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("no column number")?;
    if !parts.next().is_some_and(|m| m.starts_with(' ')) {
        return Err("no `: message` after the column".into());
    }
    let lines: Vec<&str> = text.split('\n').collect();
    if line == 0 || line > lines.len() {
        return Err(format!(
            "line {line} outside the text's {} lines",
            lines.len()
        ));
    }
    let width = lines[line - 1].chars().count();
    if col == 0 || col > width + 1 {
        return Err(format!("column {col} outside line {line} ({width} chars)"));
    }
    Ok(())
}

#[test]
fn mutated_scenarios_never_panic_and_every_error_is_located() {
    let seed = std::env::var("STAMPEDE_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SEED);
    let total: usize = std::env::var("STAMPEDE_FUZZ_MUTANTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_MUTANTS);
    // The scenario's directory: body_file and quotas_file resolve here, nowhere else.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body.json"), r#"{"sku":"A-1"}"#).unwrap();
    std::fs::write(dir.path().join("quotas.toml"), "apigw_rate = 100\n").unwrap();

    let seeds = seeds();
    // The seeds themselves parse (the README's may not, completed or not: it is skipped).
    let mut usable = Vec::new();
    for (name, text) in &seeds {
        let path = dir.path().join(name);
        match stampede::scenario::parse_str(&path, text, None) {
            Ok(_) => usable.push((path, text.clone())),
            Err(e) if name.starts_with("readme") => println!("{name} skipped: {e}"),
            Err(e) => panic!("seed {name} does not parse: {e}"),
        }
    }
    println!("{} seeds, {total} mutants, seed {seed:#x}", usable.len());

    let url = Uri::from_static("http://127.0.0.1:9/");
    let mut rng = fastrand::Rng::with_seed(seed);
    let (mut ok, mut errors, mut failures) = (0usize, 0usize, Vec::new());
    let quiet = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for n in 0..total {
        let (path, base) = &usable[n % usable.len()];
        let mut text = base.clone();
        for _ in 0..rng.usize(1..=3) {
            text = mutate(&mut rng, &text);
        }
        let with_url = rng.u8(..4) == 0;
        let result = catch_unwind(AssertUnwindSafe(|| {
            stampede::scenario::parse_str(path, &text, with_url.then_some(&url))
        }));
        let problem = match result {
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                Some(format!("PANIC: {why}"))
            }
            Ok(Ok(_)) => {
                ok += 1;
                None
            }
            Ok(Err(e)) => {
                errors += 1;
                if e.code != 2 {
                    Some(format!("exit code {} for: {}", e.code, e.message))
                } else {
                    located(&e.message, path, &text)
                        .err()
                        .map(|why| format!("error not located ({why}): {}", e.message))
                }
            }
        };
        if let Some(p) = problem {
            failures.push(format!(
                "mutant {n} of {} (--url: {with_url}): {p}\n--- text ---\n{text}\n",
                path.display()
            ));
        }
    }
    std::panic::set_hook(quiet);
    println!(
        "{ok} parsed, {errors} rejected, {} problems",
        failures.len()
    );
    if !failures.is_empty() {
        let report = std::env::temp_dir().join("stampede-parser-fuzz.txt");
        std::fs::write(&report, failures.join("\n=====\n")).unwrap();
        panic!(
            "{} of {total} mutants broke the parser's promise (all in {}); the first:\n{}",
            failures.len(),
            report.display(),
            failures[0]
        );
    }
}

#[test]
fn the_location_check_rejects_what_it_should() {
    let p = Path::new("/tmp/s.toml");
    let text = "a = 1\nbé = 2\n";
    assert!(located("/tmp/s.toml:2:3: bad", p, text).is_ok());
    assert!(located("/tmp/s.toml:3:1: at the end", p, text).is_ok());
    assert!(located("bad value", p, text).is_err());
    assert!(located("/tmp/s.toml:0:1: bad", p, text).is_err());
    assert!(located("/tmp/s.toml:2:8: past the line", p, text).is_err());
    assert!(located("/tmp/s.toml:4:1: past the text", p, text).is_err());
    assert!(located("/tmp/s.toml:2: no column", p, text).is_err());
}
