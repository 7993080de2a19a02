//! The command line as a user meets it: version, help with examples, completions, man page.

use crate::common;

use common::{stampede, stderr, stdout};

#[test]
fn version_names_the_release_and_help_shows_examples() {
    let o = stampede(&["--version"]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout(&o);
    assert!(
        v.starts_with(&format!("stampede {}", env!("CARGO_PKG_VERSION"))),
        "{v}"
    );
    let help = stdout(&stampede(&["--help"]));
    assert!(
        help.contains("Examples:") && help.contains("Exit codes:"),
        "{help}"
    );
    for command in [
        "run",
        "plan",
        "quotas",
        "emulate",
        "report",
        "completions",
        "man",
    ] {
        let o = stampede(&[command, "--help"]);
        assert_eq!(o.status.code(), Some(0), "{command} --help");
    }
}

#[test]
fn completions_and_the_man_page_come_from_the_same_flags() {
    for (shell, marker) in [
        ("bash", "_stampede()"),
        ("zsh", "#compdef stampede"),
        ("fish", "complete -c stampede"),
    ] {
        let o = stampede(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = stdout(&o);
        assert!(
            script.contains(marker),
            "{shell}: {}",
            &script[..script.len().min(200)]
        );
        assert!(
            script.contains("max-in-flight"),
            "{shell} completes run's flags"
        );
    }
    let man = stdout(&stampede(&["man"]));
    assert!(
        man.contains(".TH stampede 1"),
        "{}",
        &man[..man.len().min(200)]
    );
    let o = stampede(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2), "an unknown shell is bad input");
}

/// Every page a manual page names, `stampede-run(1)` and the like, is one `man --dir`
/// writes, with that subcommand's own flags; `stampede man run` prints the same page.
#[test]
fn each_subcommand_has_the_manual_page_the_main_page_names() {
    let dir = tempfile::tempdir().unwrap();
    let o = stampede(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let listed = stdout(&o);
    let read = |name: &str| {
        let path = dir.path().join(name);
        assert!(
            listed.contains(path.to_str().unwrap()),
            "{name} listed: {listed}"
        );
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .replace("\\-", "-")
    };
    let main = read("stampede.1");
    let named: Vec<&str> = main
        .match_indices("stampede-")
        .filter_map(|(at, _)| {
            let rest = &main[at + "stampede-".len()..];
            let end = rest.find('(')?;
            (rest[end..].starts_with("(1)")).then(|| &rest[..end])
        })
        .collect();
    for sub in [
        "run",
        "plan",
        "probe",
        "emulate",
        "report",
        "merge",
        "cloudwatch",
    ] {
        assert!(named.contains(&sub), "stampede-{sub}(1) named: {named:?}");
    }
    assert!(
        !named.contains(&"help"),
        "no page for `help`, so none named"
    );
    for sub in &named {
        let page = read(&format!("stampede-{sub}.1"));
        assert!(page.contains(&format!(".TH stampede-{sub} 1")), "{sub}");
    }
    let run = read("stampede-run.1");
    for flag in [
        "--max-in-flight",
        "--timeout",
        "--rate",
        "--cloudwatch-period",
    ] {
        assert!(run.contains(flag), "stampede-run(1) lists {flag}");
    }
    let printed = stdout(&stampede(&["man", "run"])).replace("\\-", "-");
    assert_eq!(printed, run, "`man run` prints the page --dir writes");
    let o = stampede(&["man", "rnu"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("did you mean `run`?"), "{}", stderr(&o));
}

/// A mistyped subcommand one edit from a real one is answered with it, exit 2.
#[test]
fn a_mistyped_subcommand_gets_a_did_you_mean() {
    for (typed, meant) in [("rn", "run"), ("plna", "plan"), ("cloudwach", "cloudwatch")] {
        let o = stampede(&[typed]);
        assert_eq!(o.status.code(), Some(2), "{typed}");
        let e = stderr(&o);
        assert!(e.contains(&format!("'{meant}'")), "{typed}: {e}");
        assert!(e.contains("similar"), "{typed}: {e}");
    }
    let o = stampede(&["xyzzy"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("similar"), "{}", stderr(&o));
}
