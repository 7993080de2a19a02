//! Every command block of README.md and docs/ marked `sh runnable` is run against the
//! binary, so the documentation cannot drift from it. Each line is one `stampede …`
//! command; a trailing `# exit N` says the exit code it must give (0 otherwise). They run
//! in a scratch directory that sees this repository's `scenarios/`, offline (the emulator,
//! quotas files, plans), bounded in time.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

/// (file, line, command, expected exit code) of every runnable command.
fn runnable_commands(root: &Path) -> Vec<(PathBuf, usize, String, i32)> {
    let mut files = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut in_block = false;
        for (n, line) in text.lines().enumerate() {
            let fence = line.trim_start().strip_prefix("```");
            match (in_block, fence) {
                (false, Some(info)) => in_block = info.trim() == "sh runnable",
                (true, Some(_)) => in_block = false,
                (true, None) if !line.trim().is_empty() && !line.trim().starts_with('#') => {
                    let (command, comment) = line.split_once('#').unwrap_or((line, ""));
                    let code = comment
                        .trim()
                        .strip_prefix("exit ")
                        .and_then(|c| c.split(|ch: char| !ch.is_ascii_digit()).next())
                        .map_or(0, |c| c.parse().unwrap());
                    out.push((file.clone(), n + 1, command.trim().to_string(), code));
                }
                _ => {}
            }
        }
    }
    out
}

#[test]
fn every_runnable_block_of_the_docs_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let commands = runnable_commands(root);
    assert!(commands.len() >= 5, "runnable blocks found: {commands:?}");
    let scratch = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root.join("scenarios"), scratch.path().join("scenarios")).unwrap();
    for (file, line, command, code) in commands {
        let at = format!("{}:{line}: `{command}`", file.display());
        let args: Vec<&str> = command.split_whitespace().collect();
        assert_eq!(
            args[0], "stampede",
            "{at}: a runnable line is one stampede command"
        );
        let mut cmd = common::command(&args[1..]);
        cmd.current_dir(scratch.path());
        let run = common::run_bounded(cmd, Duration::from_secs(120));
        let err = String::from_utf8_lossy(&run.output.stderr);
        assert_eq!(run.output.status.code(), Some(code), "{at}\n{err}");
        assert!(!err.contains("panicked"), "{at}\n{err}");
        assert!(
            !run.output.stdout.is_empty() || code != 0,
            "{at}: printed nothing"
        );
    }
}
