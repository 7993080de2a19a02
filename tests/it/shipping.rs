//! What ships: the integration tests stay one binary, and the fault-injection hook is in no
//! release build.

use std::fs;
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Each file under tests/ used to be its own binary linking the whole crate; now a file is
/// a module of tests/it/main.rs. Cargo would build a new tests/*.rs as one more binary, and
/// silently skip a file of tests/it/ that main.rs does not name.
#[test]
fn every_integration_test_is_a_module_of_the_one_binary() {
    let tests = root().join("tests");
    let loose: Vec<_> = fs::read_dir(&tests)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    assert!(
        loose.is_empty(),
        "{loose:?}: move it to tests/it/ and add its `mod` line to tests/it/main.rs \
         (use `crate::common` for the helpers)"
    );
    let main = fs::read_to_string(tests.join("it/main.rs")).unwrap();
    for entry in fs::read_dir(tests.join("it")).unwrap() {
        let path = entry.unwrap().path();
        let name = match path.file_stem().and_then(|s| s.to_str()) {
            Some(n) if path.extension().is_some_and(|e| e == "rs") && n != "main" => n,
            Some(n) if path.join("mod.rs").is_file() => n,
            _ => continue,
        };
        assert!(
            main.lines().any(|l| l.trim() == format!("mod {name};")),
            "tests/it/main.rs has no `mod {name};`, so {} is never built",
            path.display()
        );
    }
}

/// Where the item introduced by the line after `attr` ends: its braces closed, or its `;`.
fn item_end(lines: &[&str], attr: usize) -> usize {
    let mut depth = 0i32;
    let mut opened = false;
    for (i, line) in lines.iter().enumerate().skip(attr + 1) {
        let code = line.split("//").next().unwrap_or("");
        for c in code.chars() {
            match c {
                '{' => {
                    depth += 1;
                    opened = true;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
            return i;
        }
    }
    lines.len()
}

/// `STAMPEDE_INJECT_FAULT` makes a lane or the command panic on purpose. The tests run the
/// debug binary; a user's release build must not have it. So every piece of code naming it
/// is an item under `#[cfg(debug_assertions)]`, and the release profile keeps debug
/// assertions off. A release binary, if one is built and newer than the sources, holds no
/// trace of it.
#[test]
fn the_fault_hook_is_only_in_builds_with_debug_assertions() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut uses = 0;
    let mut newest_source = std::time::SystemTime::UNIX_EPOCH;
    for file in &files {
        newest_source = newest_source.max(fs::metadata(file).unwrap().modified().unwrap());
        let text = fs::read_to_string(file).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let gated: Vec<(usize, usize)> = (0..lines.len())
            .filter(|&i| lines[i].trim() == "#[cfg(debug_assertions)]")
            .map(|i| (i, item_end(&lines, i)))
            .collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if !code.contains("STAMPEDE_INJECT_FAULT") {
                continue;
            }
            uses += 1;
            assert!(
                gated.iter().any(|&(a, end)| a < i && i <= end),
                "{}:{}: the fault hook outside an item under #[cfg(debug_assertions)]",
                file.display(),
                i + 1
            );
        }
    }
    assert!(uses > 0, "no fault hook found: remove this test with it");

    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        !manifest.contains("debug-assertions"),
        "Cargo.toml sets debug-assertions in a profile: the release build would have the fault hook"
    );

    let release = root().join("target/release/stampede");
    if let Ok(meta) = fs::metadata(&release) {
        if meta.modified().unwrap() > newest_source {
            let bytes = fs::read(&release).unwrap();
            let needle = b"STAMPEDE_INJECT_FAULT";
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds the fault hook",
                release.display()
            );
        }
    }
}
