//! The layering, enforced: a module of `src/` may use only the modules below it in the
//! pipeline. The order is written once, here (ARCHITECTURE.md explains each layer).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lowest first. A module may use any module listed before it, never one after it.
const LAYERS: [&str; 21] = [
    "error",      // exit codes and the error type
    "signals",    // SIGINT, SIGTERM, SIGHUP: one listener for the process
    "located",    // file:line:col errors for whatever the user wrote
    "classify",   // an answer → its outcome class
    "invoke",     // the Lambda Invoke API: function names, REPORT lines, cost
    "retry",      // backoff, the retry budget, Retry-After
    "adaptive",   // the SDKs' client-side rate limiter
    "scenario",   // what the user wrote: target, stages, thresholds, abort rules, [emulator]
    "schedule",   // stages → send instants or worker counts
    "emulator",   // the local API Gateway + Lambda (served by `emulate` and in-process runs)
    "transport",  // one attempt on the wire: HTTP/1.1, TLS, auth
    "record",     // counters, histograms, the per-second timeline
    "engine",     // drives the traffic; abort rules
    "quotas",     // the limits, fetched with the AWS SDKs or read from a file
    "cloudwatch", // what AWS counted: GetMetricData over the run's minutes
    "verdict",    // thresholds, preflight, quota findings
    "probe",      // the knee search of `probe`, and what the knee is set against
    "results",    // the results file, assembled after the verdict
    "report",     // summary, live view, check text
    "cli",        // clap definitions
    "cmd",        // one file per command: wiring only
];

/// The `.rs` files of module `name`: `src/name.rs` or everything under `src/name/`.
fn files_of(src: &Path, name: &str) -> Vec<PathBuf> {
    let single = src.join(format!("{name}.rs"));
    if single.exists() {
        return vec![single];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src.join(name)];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

/// Every `crate::<module>` a piece of Rust names outside comments, with its line.
fn crate_uses(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                !name.is_empty(),
                "line {}: `crate::{{…}}` groups are not read by this test; write one `use` per module",
                n + 1
            );
            out.push((n + 1, name));
            rest = after;
        }
    }
    out
}

/// Upward imports: (file, line, from, to).
fn violations(src: &Path) -> Vec<(PathBuf, usize, &'static str, String)> {
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut found = Vec::new();
    for (i, module) in LAYERS.iter().enumerate() {
        for file in files_of(src, module) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, used) in crate_uses(&text) {
                let to = rank.get(used.as_str()).unwrap_or_else(|| {
                    panic!("{}:{line}: `crate::{used}` is in no layer", file.display())
                });
                if *to > i {
                    found.push((file.clone(), line, *module, used));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_of_src_has_a_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" || name == "main" {
            continue;
        }
        assert!(
            LAYERS.contains(&name.as_str()),
            "src/{name} has no place in LAYERS (tests/it/architecture.rs) or ARCHITECTURE.md"
        );
    }
}

#[test]
fn no_module_uses_one_above_it_in_the_pipeline() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    let lines: Vec<String> = found
        .iter()
        .map(|(file, line, from, to)| {
            format!(
                "{}:{line}: `{from}` uses `crate::{to}`, a layer above it",
                file.display()
            )
        })
        .collect();
    assert!(lines.is_empty(), "upward imports:\n{}", lines.join("\n"));
}

#[test]
fn the_check_sees_a_wrong_import() {
    // A copy of one module with an upward import added must be caught.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    for module in LAYERS {
        let single = format!("{module}.rs");
        std::fs::write(src.join(&single), "").unwrap();
    }
    std::fs::write(
        src.join("classify.rs"),
        "// crate::report in a comment is fine\nuse crate::record::StageRecord;\n",
    )
    .unwrap();
    let found = violations(src);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].1, found[0].2, found[0].3.as_str()),
        (2, "classify", "record")
    );
}

#[test]
fn architecture_md_lists_the_same_layers_in_the_same_order() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md at the root");
    let mut last = 0;
    for module in LAYERS {
        let marker = format!("### `{module}`");
        let at = doc
            .find(&marker)
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no section `{marker}`"));
        assert!(at >= last, "ARCHITECTURE.md puts `{module}` out of order");
        last = at;
    }
}
