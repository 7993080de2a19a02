//! `[[requests]]`: a weighted mix arrives exactly in its proportions, its results say what
//! each request did, shards merge into the single run per request, and bad entries are
//! exit 2 with file:line:col.

use crate::common;

use common::{stampede, stderr, write};

/// Runs `text` as a scenario with `plan`; returns stderr after checking the exit code is 2.
fn rejected(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "mix.toml", text);
    let o = stampede(&["plan", path.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

const HEAD: &str =
    "[target]\nurl = \"http://127.0.0.1:9/api\"\n[[stages]]\nkind = \"burst\"\nrequests = 10\n";

#[test]
fn bad_entries_are_exit_2_at_their_place() {
    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\n[[requests]]\nname = \"a\"\npath = \"/b\"\n"
    ));
    assert!(
        err.contains("mix.toml:10:8:") && err.contains("duplicate request name `a`"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\nweight = 0\n"
    ));
    assert!(
        err.contains("mix.toml:9:10:") && err.contains("at least 1"),
        "{err}"
    );

    let err = rejected(&format!("{HEAD}[[requests]]\nname = \"a\"\npath = \"a\"\n"));
    assert!(
        err.contains("mix.toml:8:9:") && err.contains("does not start with `/`"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\nurl = \"http://127.0.0.1:10/a\"\n"
    ));
    assert!(
        err.contains("mix.toml:8:7:") && err.contains("another origin"),
        "{err}"
    );

    // A placeholder the template compiler does not know: the column is inside the string.
    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a/{{{{nope}}}}\"\n"
    ));
    assert!(err.contains("mix.toml:8:12:"), "{err}");

    let many: String = (0..101)
        .map(|i| format!("[[requests]]\nname = \"r{i}\"\npath = \"/{i}\"\n"))
        .collect();
    let err = rejected(&format!("{HEAD}{many}"));
    assert!(
        err.contains("101 [[requests]]") && err.contains("at most 100"),
        "{err}"
    );

    let err = rejected(
        "[target]\nurl = \"http://127.0.0.1:9/\"\nmethod = \"POST\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n[[requests]]\nname = \"a\"\npath = \"/a\"\n"
    );
    assert!(
        err.contains("mix.toml:3:10:") && err.contains("[target] method with [[requests]]"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[requests]]\nname = \"a\"\npath = \"/a\"\nexpect = 1\n"
    ));
    assert!(err.contains("unknown") && err.contains("expect"), "{err}");
}
