//! The layering, enforced: a module of `src/` may use only the modules below it in the
//! pipeline. The order is written once, here (ARCHITECTURE.md explains each layer, and a
//! test holds its headings to this order). The crates of the workspace are checked by their
//! manifests — Cargo then refuses any use the graph does not allow — and ARCHITECTURE.md's
//! crate graph is held to what the manifests say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lowest first, each with the source directory of the crate that holds it. A module may use
/// any module listed before it, never one after it. The load path's modules live in
/// `crates/load`, the scenario with its retry policy and outcome classes in `crates/scenario`,
/// and the CLI crate re-exports them by the same names; Cargo already refuses a lower crate
/// naming a higher one, so across crates the order holds by construction and this check
/// holds it within each.
const LAYERS: [(&str, &str); 24] = [
    ("error", CLI),    // exit codes and the error type (the `stampede-located` crate's)
    ("signals", LOAD), // SIGINT, SIGTERM, SIGHUP: one listener for the process
    ("located", CLI),  // file:line:col errors for whatever the user wrote (`stampede-located`)
    ("classify", SCENARIO), // an answer → its outcome class
    ("retry", SCENARIO), // backoff, the retry budget, Retry-After
    ("adaptive", LOAD), // the SDKs' client-side rate limiter
    ("scenario", SCENARIO), // what the user wrote: target, stages, thresholds, abort rules, [emulator]
    ("schedule", LOAD),     // stages → send instants or worker counts
    ("transport", LOAD),    // one attempt on the wire: HTTP/1.1, HTTP/2, TLS, the signer
    ("record", LOAD),       // counters, histograms, the per-second timeline
    ("engine", LOAD),       // drives the traffic; abort rules
    ("aws", CLI),           // the AWS context: SDK config and credentials once, its runtime
    ("quotas", CLI),        // the limits, fetched with the AWS SDKs or read from a file
    ("cloudwatch", CLI),    // what AWS counted: GetMetricData over the run's minutes
    ("verdict", CLI),       // thresholds, preflight, quota findings
    ("probe", CLI),         // the knee search of `probe`, and what the knee is set against
    ("tune", CLI),          // `tune`: memory sizes set, published, measured and always put back
    ("results", CLI), // the results file assembled from the record (its types: crates/results)
    ("store", CLI),   // where shards' results meet: a directory or S3, and the abort marker
    ("report", CLI),  // summary, live view, check text
    ("cli", CLI),     // clap definitions
    ("live", CLI),    // /metrics, remote write and the live page while the run goes
    ("pipeline", CLI), // what the commands share: the scenario, the preflight, results → reports → exit code
    ("cmd", CLI),      // one file per command: wiring only
];
const CLI: &str = "src";
const LOAD: &str = "crates/load/src";
const SCENARIO: &str = "crates/scenario/src";

/// The scenario crate's own modules besides the scenario: what the scenario's files may
/// name beside their own items.
const SCENARIO_CRATE_LAYERS: [&str; 2] = ["classify", "retry"];

/// Uses of a layer above, allowed by name: the probe's driver judges each step on the
/// figures `results` computes from a stage's record (`results::observed`), the same a
/// finished run is judged on. Only this file.
const ALLOWED_ABOVE: [(&str, &str); 1] = [("probe/drive.rs", "results")];

/// The workspace's crates below the CLI, and the only crates of ours each may depend on.
const CRATES: [(&str, &[&str]); 8] = [
    ("crates/located", &[]),
    ("crates/lambda", &[]),
    ("crates/mix", &[]),
    ("crates/routes", &[]),
    (
        "crates/emulator",
        &["stampede-lambda", "stampede-located", "stampede-routes"],
    ),
    ("crates/results", &["stampede-lambda", "stampede-located"]),
    (
        "crates/scenario",
        &[
            "stampede-emulator",
            "stampede-lambda",
            "stampede-located",
            "stampede-mix",
            "stampede-results",
        ],
    ),
    // The emulator only for its tests (an Invoke stream's frames written by the emulator).
    (
        "crates/load",
        &[
            "stampede-emulator",
            "stampede-lambda",
            "stampede-located",
            "stampede-mix",
            "stampede-results",
            "stampede-scenario",
        ],
    ),
];

/// The `.rs` files of module `name` in the crate whose sources are `root/dir`:
/// `dir/name.rs` or everything under `dir/name/`. The scenario is its crate's root: every
/// file of `crates/scenario/src` but those of the crate's other modules.
fn files_of(root: &Path, dir: &str, name: &str) -> Vec<PathBuf> {
    let src = root.join(dir);
    if dir == SCENARIO && name == "scenario" {
        let own = |p: &Path| {
            SCENARIO_CRATE_LAYERS
                .iter()
                .any(|m| p.starts_with(src.join(m)) || p == src.join(format!("{m}.rs")))
        };
        return rust_files(&src).into_iter().filter(|p| !own(p)).collect();
    }
    let single = src.join(format!("{name}.rs"));
    if single.exists() {
        return vec![single];
    }
    rust_files(&src.join(name))
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
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

/// Upward imports under the workspace `root`: (file, line, from, to).
fn violations(root: &Path) -> Vec<(PathBuf, usize, &'static str, String)> {
    let rank: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .map(|(i, (m, _))| (*m, i))
        .collect();
    let mut found = Vec::new();
    for (i, (module, dir)) in LAYERS.iter().enumerate() {
        for file in files_of(root, dir, module) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (line, used) in crate_uses(&text) {
                let Some(to) = rank.get(used.as_str()) else {
                    // The scenario's files name the scenario's own items from its crate root.
                    assert!(
                        *module == "scenario",
                        "{}:{line}: `crate::{used}` is in no layer",
                        file.display()
                    );
                    continue;
                };
                let allowed = ALLOWED_ABOVE
                    .iter()
                    .any(|(f, m)| file.ends_with(f) && used == *m);
                if *to > i && !allowed {
                    found.push((file.clone(), line, *module, used));
                }
            }
        }
    }
    found
}

#[test]
fn every_module_has_a_layer() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [CLI, LOAD, SCENARIO] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name == "lib"
                || name == "main"
                || (dir == SCENARIO && !SCENARIO_CRATE_LAYERS.contains(&name.as_str()))
            {
                continue;
            }
            assert!(
                LAYERS.contains(&(name.as_str(), dir)),
                "{dir}/{name} has no place in LAYERS (tests/it/architecture.rs) or ARCHITECTURE.md"
            );
        }
    }
    // And every layer is where it says.
    for (module, dir) in LAYERS {
        assert!(
            !files_of(root, dir, module).is_empty(),
            "LAYERS puts `{module}` in {dir}, which has no such module"
        );
    }
}

#[test]
fn no_module_uses_one_above_it_in_the_pipeline() {
    let found = violations(Path::new(env!("CARGO_MANIFEST_DIR")));
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
    // A copy of the modules with an upward import added must be caught, in the load
    // crate as in the CLI.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (module, dir) in LAYERS {
        std::fs::create_dir_all(root.join(dir)).unwrap();
        std::fs::write(root.join(dir).join(format!("{module}.rs")), "").unwrap();
    }
    std::fs::write(
        root.join(LOAD).join("transport.rs"),
        "// crate::report in a comment is fine\nuse crate::record::StageRecord;\n",
    )
    .unwrap();
    std::fs::write(
        root.join(CLI).join("aws.rs"),
        "use crate::quotas::Quotas;\n",
    )
    .unwrap();
    std::fs::write(
        root.join(SCENARIO).join("classify.rs"),
        "use crate::retry::RetryPolicy;\n",
    )
    .unwrap();
    let found = violations(root);
    let found: Vec<(usize, &str, &str)> = found
        .iter()
        .map(|(_, line, from, to)| (*line, *from, to.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (1, "classify", "retry"),
            (2, "transport", "record"),
            (1, "aws", "quotas")
        ]
    );
}

#[test]
fn architecture_md_lists_the_same_layers_in_the_same_order() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md"))
            .expect("ARCHITECTURE.md at the root");
    let mut last = 0;
    for (module, _) in LAYERS {
        let marker = format!("### `{module}`");
        let at = doc
            .find(&marker)
            .unwrap_or_else(|| panic!("ARCHITECTURE.md has no section `{marker}`"));
        assert!(at >= last, "ARCHITECTURE.md puts `{module}` out of order");
        last = at;
    }
}

/// The `stampede*` packages (sorted) a manifest's `[dependencies]`, `[dev-dependencies]` and
/// `[build-dependencies]` name.
fn our_dependencies(manifest: &Path) -> Vec<String> {
    let text =
        std::fs::read_to_string(manifest).unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let mut out = Vec::new();
    for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
        for (name, spec) in doc
            .get(section)
            .and_then(|d| d.as_table())
            .into_iter()
            .flatten()
        {
            let package = spec.get("package").and_then(|p| p.as_str()).unwrap_or(name);
            if package.starts_with("stampede") {
                out.push(package.to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_crates_below_the_cli_depend_only_on_those_below_them() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workspace: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    let list = |key: &str| -> Vec<&str> {
        workspace["workspace"][key]
            .as_array()
            .unwrap_or_else(|| panic!("[workspace] has no {key}"))
            .iter()
            .map(|m| m.as_str().unwrap())
            .collect()
    };
    let (members, default) = (list("members"), list("default-members"));
    for (dir, allowed) in CRATES {
        assert!(members.contains(&dir), "{dir} is not a workspace member");
        assert!(
            default.contains(&dir),
            "{dir} is not a default member: `cargo test` would skip its tests"
        );
        for dep in our_dependencies(&root.join(dir).join("Cargo.toml")) {
            assert!(
                allowed.contains(&dep.as_str()),
                "{dir} depends on {dep}: it may use only {allowed:?} of ours (never the stampede CLI, its results, engine or transport)"
            );
        }
    }
}

#[test]
fn the_emulator_depends_on_no_part_of_the_cli() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let deps = our_dependencies(&root.join("crates/emulator/Cargo.toml"));
    assert_eq!(
        deps,
        ["stampede-lambda", "stampede-located", "stampede-routes"]
    );
    // The check itself sees a manifest that names the CLI.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Cargo.toml");
    std::fs::write(
        &bad,
        "[dependencies]\nstampede = { path = \"../..\" }\ncli = { package = \"stampede-results\", path = \"x\" }\n",
    )
    .unwrap();
    assert_eq!(our_dependencies(&bad), ["stampede", "stampede-results"]);
}

/// The `[dependencies]` table of a crate's Cargo.toml: the names it lists.
fn dependencies(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut names = Vec::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
        } else if inside && !line.is_empty() && !line.starts_with('#') {
            if let Some((name, _)) = line.split_once('=') {
                names.push(name.trim().to_string());
            }
        }
    }
    names
}

#[test]
fn the_results_crate_has_no_runtime_no_aws_and_no_cli_types() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let crate_dir = root.join("crates/results");
    let deps = dependencies(&crate_dir.join("Cargo.toml"));
    assert!(deps.contains(&"serde".to_string()), "{deps:?}");
    for dep in &deps {
        assert!(
            !(dep.starts_with("tokio")
                || dep.starts_with("aws")
                || dep.starts_with("hyper")
                || dep.starts_with("rustls")
                || dep == "stampede"
                || dep == "stampede-emulator"),
            "crates/results depends on {dep}: the results file's crate has no async runtime, \
             no AWS, no transport, nothing of the CLI or the emulator"
        );
    }
    assert!(
        dependencies(&root.join("Cargo.toml")).contains(&"stampede-results".to_string()),
        "the CLI builds on the results crate"
    );
    // Its sources name only their own modules.
    for file in rust_files(&crate_dir.join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            !text.contains("stampede::") && !text.contains("tokio"),
            "{} names the CLI or tokio",
            file.display()
        );
    }
}

/// The crate graph as ARCHITECTURE.md lists it: the first ```text block after `## Crates`,
/// one line per crate, `name (what it is) → ours, ours` (or `→ (none)`).
fn documented_graph(doc: &str) -> BTreeMap<String, Vec<String>> {
    let (_, section) = doc
        .split_once("\n## Crates\n")
        .expect("ARCHITECTURE.md has a `## Crates` section");
    let (_, block) = section
        .split_once("```text\n")
        .expect("`## Crates` lists the graph in a ```text block");
    let (block, _) = block.split_once("```").expect("the block ends");
    let mut graph = BTreeMap::new();
    for line in block.lines().filter(|l| !l.trim().is_empty()) {
        let (name, deps) = line
            .split_once('→')
            .unwrap_or_else(|| panic!("ARCHITECTURE.md's crate graph: `{line}` has no →"));
        let name = name.split_whitespace().next().unwrap().to_string();
        let mut deps: Vec<String> = deps
            .split(',')
            .map(|d| d.trim().to_string())
            .filter(|d| !d.is_empty() && d != "(none)")
            .collect();
        deps.sort();
        assert!(
            graph.insert(name.clone(), deps).is_none(),
            "ARCHITECTURE.md lists {name} twice"
        );
    }
    graph
}

/// The crate graph as the manifests say it: every workspace member's package name and the
/// crates of ours it depends on.
fn manifest_graph(root: &Path) -> BTreeMap<String, Vec<String>> {
    let workspace: toml::Table =
        toml::from_str(&std::fs::read_to_string(root.join("Cargo.toml")).unwrap()).unwrap();
    workspace["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let manifest = root.join(m.as_str().unwrap()).join("Cargo.toml");
            let package: toml::Table =
                toml::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
            let name = package["package"]["name"].as_str().unwrap().to_string();
            (name, our_dependencies(&manifest))
        })
        .collect()
}

#[test]
fn architecture_md_draws_the_crate_graph_the_manifests_have() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let documented = documented_graph(&doc);
    let actual = manifest_graph(root);
    assert_eq!(
        documented, actual,
        "ARCHITECTURE.md's crate graph (`## Crates`) is not the manifests' (right): update the \
         list, and the text around it"
    );
    // Every crate has its section too.
    for dir in CRATES.map(|(dir, _)| dir) {
        assert!(
            doc.contains(&format!("### `{dir}`")),
            "ARCHITECTURE.md has no section `### `{dir}``"
        );
    }
    // The reading sees an edge added or dropped.
    let drifted = doc.replace(
        "stampede-lambda           → (none)",
        "stampede-lambda           → stampede-located",
    );
    assert_ne!(documented_graph(&drifted), actual);
}

#[test]
fn every_path_architecture_md_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let mut missing = Vec::new();
    for quoted in doc.split('`').skip(1).step_by(2) {
        let is_path = ["src/", "crates/", "tests/", "docs/", "schemas/", "scripts/"]
            .iter()
            .any(|p| quoted.starts_with(p));
        // `src/report/<format>.rs` is a pattern, `cmd/run.rs::run` a function in a file.
        let path = quoted.split("::").next().unwrap();
        if is_path && !path.contains(['<', ' ']) && !root.join(path).exists() {
            missing.push(path.to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}
