//! The command line as a user meets it: version, help with examples, completions, man page.

mod common;

use common::{stampede, stdout};

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
