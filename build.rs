//! `stampede --version` names the commit it was built from, when built from a git checkout.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|c| !c.is_empty());
    let version = env!("CARGO_PKG_VERSION");
    let full = match commit {
        Some(c) => format!("{version} ({c})"),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=STAMPEDE_VERSION={full}");
    // A new commit changes HEAD or the branch it points to. (Only files that exist: a
    // missing one would rebuild every time, as in a worktree, where .git is a file.)
    println!("cargo:rerun-if-changed=build.rs");
    if let Ok(head) = std::fs::read_to_string(".git/HEAD") {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Some(branch) = head.strip_prefix("ref: ") {
            let branch = format!(".git/{}", branch.trim());
            if std::path::Path::new(&branch).exists() {
                println!("cargo:rerun-if-changed={branch}");
            }
        }
    }
}
