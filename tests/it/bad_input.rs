//! Bad input exits 2 with the file, line and column, and what was expected — never a panic.

use crate::common;

use common::{stampede, stderr, write};

const HEAD: &str = "[target]\nurl = \"http://127.0.0.1:9/\"\n";

/// Runs `text` as a scenario; returns stderr after checking the exit code is 2.
fn rejected(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "bad.toml", text);
    let o = stampede(&["run", path.to_str().unwrap(), "--quiet"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("bad.toml:"), "names the file: {err}");
    err
}

fn flags_rejected(args: &[&str]) -> String {
    let o = stampede(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn unknown_keys_name_the_nearest_valid_one() {
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrat = 5\nduration = \"1s\"\n"
    ));
    assert!(err.contains("bad.toml:5:1:"), "{err}");
    assert!(
        err.contains("unknown key `rat`") && err.contains("did you mean `rate`?"),
        "{err}"
    );

    let err = rejected("[target]\nurl = \"http://127.0.0.1:9/\"\nheaderz = 1\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    assert!(
        err.contains("bad.toml:3:1:") && err.contains("did you mean `headers`?"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[retrys]\nmax = 1\n"
    ));
    assert!(
        err.contains("bad.toml:6:") && err.contains("unknown key `retrys`"),
        "{err}"
    );
}

#[test]
fn unknown_stage_kinds_and_misplaced_keys() {
    let err = rejected(&format!("{HEAD}[[stages]]\nkind = \"rmp\"\nfrom = 1\n"));
    assert!(
        err.contains("bad.toml:4:8:") && err.contains("did you mean `ramp`?"),
        "{err}"
    );
    assert!(
        err.contains("constant, ramp, steps, burst, concurrency, pause"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\nduration = \"1s\"\n"
    ));
    assert!(
        err.contains("bad.toml:6:12:") && err.contains("does not apply to a burst stage"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrate = 5\n"
    ));
    assert!(err.contains("missing `duration`"), "{err}");
}

#[test]
fn wrong_types_bad_durations_and_bad_rates() {
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrate = \"fast\"\nduration = \"1s\"\n"
    ));
    assert!(
        err.contains("bad.toml:5:8:") && err.contains("not a number"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrate = 5\nduration = \"10 parsecs\"\n"
    ));
    assert!(
        err.contains("bad.toml:6:12:") && err.contains("bad duration") && err.contains("\"30s\""),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"concurrency\"\nworkers = 5\nduration = 30\n"
    ));
    assert!(
        err.contains("bad.toml:6:12:") && err.contains("not a duration"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrate = -5\nduration = \"1s\"\n"
    ));
    assert!(
        err.contains("bad.toml:5:8:") && err.contains("negative"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"constant\"\nrate = 0\nduration = \"1s\"\n"
    ));
    assert!(
        err.contains("bad.toml:5:8:") && err.contains("zero"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 0\n"
    ));
    assert!(
        err.contains("bad.toml:5:12:") && err.contains("at least 1"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"steps\"\nfrom = 10\nto = 5\nstep = 1\nhold = \"1s\"\n"
    ));
    assert!(
        err.contains("bad.toml:6:6:") && err.contains("below `from`"),
        "{err}"
    );
}

#[test]
fn bad_urls_methods_headers_and_syntax() {
    let err =
        rejected("[target]\nurl = \"ftp://x/\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    assert!(
        err.contains("bad.toml:2:7:") && err.contains("unsupported scheme"),
        "{err}"
    );
    assert!(err.contains("http:// or https://"), "{err}");

    let err =
        rejected("[target]\nurl = \"not a url\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    assert!(
        err.contains("bad.toml:2:7:") && err.contains("bad URL"),
        "{err}"
    );

    let err = rejected("[target]\nurl = \"http://x/\"\nmethod = \"G E T\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    assert!(
        err.contains("bad.toml:3:10:") && err.contains("bad method"),
        "{err}"
    );

    let err = rejected("[target\nurl = 1\n");
    assert!(err.contains("bad.toml:1:"), "{err}");

    let err = rejected("[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    assert!(err.contains("missing [target]"), "{err}");
}

#[test]
fn bad_thresholds() {
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\n[thresholds]\np99 = \"fast\"\n"
    ));
    assert!(
        err.contains("bad.toml:7:7:") && err.contains("\"800ms\""),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\n[thresholds]\nerror_rate = 0.1\n"
    ));
    assert!(
        err.contains("bad.toml:7:14:") && err.contains("percentage"),
        "{err}"
    );

    let err = rejected(&format!("{HEAD}[[stages]]\nname = \"burst\"\nkind = \"burst\"\nrequests = 5\n[thresholds.stages.brst]\np99 = \"1s\"\n"));
    assert!(
        err.contains("bad.toml:7:20:") && err.contains("did you mean `burst`?"),
        "{err}"
    );

    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\n[thresholds]\np98 = \"1s\"\n"
    ));
    assert!(err.contains("did you mean `p99`?"), "{err}");

    // A floor on streamed answers takes a rate of bytes, and says which.
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\n[thresholds]\nmin_throughput = \"50KB\"\n"
    ));
    assert!(
        err.contains("bad.toml:7:18:") && err.contains("\"50KB/s\"") && err.contains("KB = 1000"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 5\n[emulator]\nstream = {{ chunks = 0, pace = \"1s\" }}\n"
    ));
    assert!(
        err.contains("bad.toml:7:21:") && err.contains("chunks"),
        "{err}"
    );
}

#[test]
fn missing_or_unreadable_files_are_named() {
    let err = flags_rejected(&["run", "/nonexistent/stampede.toml"]);
    assert!(
        err.contains("/nonexistent/stampede.toml") && err.contains("no such file"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let err = flags_rejected(&["run", dir.path().to_str().unwrap()]);
    assert!(err.contains(dir.path().to_str().unwrap()), "{err}");

    let body = write(dir.path(), "s.toml", "[target]\nurl = \"http://x/\"\nbody_file = \"missing.json\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    let o = stampede(&["run", body.to_str().unwrap()]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err.contains("s.toml:3:13:") && err.contains("missing.json"),
        "{err}"
    );
}

#[test]
fn bad_flags() {
    let err = flags_rejected(&["run", "--url", "http://127.0.0.1:9/", "--rate", "-5"]);
    assert!(
        err.contains("--rate") && err.contains("not positive"),
        "{err}"
    );

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "--threshold",
        "p98=1s",
    ]);
    assert!(err.contains("did you mean `p99`?"), "{err}");

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "--threshold",
        "p99",
    ]);
    assert!(err.contains("NAME=LIMIT"), "{err}");

    let err = flags_rejected(&["run", "--url", "127.0.0.1:9", "--rate", "5"]);
    assert!(err.contains("--url") && err.contains("bad URL"), "{err}");

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "--duration",
        "forever",
    ]);
    assert!(
        err.contains("invalid value 'forever' for '--duration <DURATION>'")
            && err.contains("expected a duration above zero, such as 30s"),
        "{err}"
    );

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "-H",
        "no-colon",
    ]);
    assert!(err.contains("--header"), "{err}");

    let err = flags_rejected(&["run", "--url", "http://127.0.0.1:9/"]);
    assert!(err.contains("--rate"), "{err}");

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "--burst",
        "5",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");

    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "--out",
        "/nonexistent/dir/r.json",
    ]);
    assert!(err.contains("/nonexistent/dir"), "{err}");
}

#[test]
fn bad_abort_and_aws_tables() {
    let burst = format!("{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n");
    let err = rejected(&format!("{burst}[abort]\nthrottle_rate = \"120%\"\n"));
    assert!(
        err.contains("bad.toml:7:17:") && err.contains("percentage"),
        "{err}"
    );
    let err = rejected(&format!("{burst}[abort]\nwindow = \"5s\"\n"));
    assert!(
        err.contains("bad.toml:6:1:") && err.contains("no rule"),
        "{err}"
    );
    let err = rejected(&format!(
        "{burst}[abort]\nerror_rate = \"5%\"\nwindow = \"1500ms\"\n"
    ));
    assert!(
        err.contains("bad.toml:8:10:") && err.contains("whole"),
        "{err}"
    );
    let err = rejected(&format!("{burst}[abort]\nerorr_rate = \"5%\"\n"));
    assert!(
        err.contains("bad.toml:7:1:") && err.contains("error_rate"),
        "{err}"
    );
    let err = rejected(&format!("{burst}[aws]\nfuncton = \"orders\"\n"));
    assert!(
        err.contains("bad.toml:7:1:") && err.contains("function"),
        "{err}"
    );
    let err = rejected(&format!("{burst}[aws]\nrest_api_id = \"abc\"\n"));
    assert!(
        err.contains("bad.toml:6:1:") && err.contains("stage"),
        "{err}"
    );
    let err = rejected(&format!("{burst}[aws]\nquotas_file = \"missing.toml\"\n"));
    assert!(
        err.contains("bad.toml:7:15:") && err.contains("missing.toml"),
        "{err}"
    );
}

#[test]
fn bad_retry_settings() {
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[retry]\nbackoff = \"full-jiter\"\n"
    ));
    assert!(
        err.contains("bad.toml:7:11:") && err.contains("did you mean `full-jitter`?"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[retry]\non = [\"throttle\", \"5xx\"]\n"
    ));
    assert!(
        err.contains("bad.toml:7:19:") && err.contains("unknown retry cause `5xx`"),
        "{err}"
    );
    let err = rejected(&format!("{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[retry]\nbase = \"1s\"\ncap = \"100ms\"\n"));
    assert!(
        err.contains("bad.toml:8:7:") && err.contains("below `base`"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[retry]\nmax_attempts = 0\n"
    ));
    assert!(
        err.contains("bad.toml:7:16:") && err.contains("at least 1"),
        "{err}"
    );
    let err = rejected(&format!("{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\n[request]\nidempotency_header = \"bad header\"\n"));
    assert!(
        err.contains("bad.toml:7:22:") && err.contains("bad header name"),
        "{err}"
    );
}

#[test]
fn bad_auth_settings() {
    let err = rejected(&format!(
        "{HEAD}[target.auth]\nkind = \"sigv5\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"
    ));
    assert!(
        err.contains("bad.toml:4:8:") && err.contains("did you mean `sigv4`?"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[target.auth]\nkind = \"api-key\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"
    ));
    assert!(err.contains("needs `env`"), "{err}");
    let err = rejected(&format!("{HEAD}[target.auth]\nkind = \"sigv4\"\nservice = \"s3\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"));
    assert!(
        err.contains("bad.toml:5:11:") && err.contains("execute-api"),
        "{err}"
    );
    // The secret's variable is named; it is missing, so nothing is sent.
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "s.toml", &format!("{HEAD}[target.auth]\nkind = \"bearer\"\nenv = \"STAMPEDE_TEST_UNSET_TOKEN\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"));
    let o = stampede(&["run", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("STAMPEDE_TEST_UNSET_TOKEN is not set"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn keys_of_another_auth_kind_and_unknown_deny_actions_are_errors() {
    let stage = "[[stages]]\nkind = \"burst\"\nrequests = 1\n";
    let err = rejected(&format!(
        "{HEAD}[target.auth]\nkind = \"bearer\"\nenv = \"TOKEN\"\nheader = \"x-token\"\n{stage}"
    ));
    assert!(
        err.contains("bad.toml:6:10:")
            && err.contains("`header` does not apply to kind = \"bearer\""),
        "{err}"
    );
    let err = rejected(&format!(
        "[emulator]\ndeny = [\"lambda:GetAcountSettings\"]\n[target]\nurl = \"/x\"\n{stage}"
    ));
    assert!(
        err.contains("bad.toml:2:9:") && err.contains("did you mean `lambda:GetAccountSettings`?"),
        "{err}"
    );
}

#[test]
fn a_password_in_the_url_and_another_authorization_conflict_without_showing_it() {
    let stage = "[[stages]]\nkind = \"burst\"\nrequests = 1\n";
    let err = rejected(&format!(
        "[target]\nurl = \"http://alice:s3cret@127.0.0.1:9/\"\n[target.headers]\nauthorization = \"Bearer x\"\n{stage}"
    ));
    assert!(err.contains("both set Authorization"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    let err = rejected(&format!(
        "[target]\nurl = \"http://alice:s3cret@127.0.0.1:9/\"\n[target.auth]\nkind = \"bearer\"\nenv = \"T\"\n{stage}"
    ));
    assert!(
        err.contains("both set Authorization") && !err.contains("s3cret"),
        "{err}"
    );
    let err = flags_rejected(&[
        "run",
        "--url",
        "http://alice:s3cret@127.0.0.1:9/",
        "--burst",
        "1",
        "-H",
        "Authorization: Bearer x",
    ]);
    assert!(
        err.contains("both set Authorization") && !err.contains("s3cret"),
        "{err}"
    );
}

#[test]
fn a_bad_url_is_quoted_without_its_password() {
    let err = flags_rejected(&[
        "run",
        "--url",
        "ftp://alice:s3cret@127.0.0.1:9/",
        "--burst",
        "1",
    ]);
    assert!(err.contains("ftp://alice:***@127.0.0.1:9/"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
}

#[test]
fn a_negative_budget_and_a_burst_with_a_duration_say_what_they_are() {
    let err = rejected(&format!(
        "{HEAD}[retry]\nbudget = -1\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"
    ));
    assert!(
        err.contains("bad.toml:4:10:")
            && err.contains("`budget` is negative")
            && err.contains("0 for unlimited"),
        "{err}"
    );
    let err = flags_rejected(&[
        "run",
        "--url",
        "http://127.0.0.1:9/",
        "--burst",
        "5",
        "--duration",
        "5s",
    ]);
    assert!(err.contains("--duration: a burst has no duration"), "{err}");
}

/// Nesting past the TOML parser's depth, on one line of 400,000 brackets, gives an error
/// of a few lines naming the place, not the whole line quoted back.
#[test]
fn a_deeply_nested_file_gives_a_short_error() {
    let deep = format!(
        "{HEAD}[[stages]]\nkind = \"burst\"\nrequests = 1\nx = {}{}\n",
        "[".repeat(200_000),
        "]".repeat(200_000)
    );
    let err = rejected(&deep);
    assert!(err.len() < 1_000, "{} bytes: {}", err.len(), &err[..300]);
    assert!(err.contains("bad.toml:6:"), "{err}");
    assert!(
        err.contains("  6 | …[[[") || err.contains("  6 | x = [[["),
        "{err}"
    );
}

/// `--cloudwatch-period` takes whole seconds, and its error names it (exit 2, before any
/// traffic: nothing listens on port 9).
#[test]
fn a_cloudwatch_period_of_part_seconds_is_refused_by_name() {
    for bad in ["1500ms", "0s", "soon"] {
        let err = flags_rejected(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--burst",
            "1",
            "--cloudwatch-period",
            bad,
        ]);
        assert!(
            err.contains(&format!(
                "invalid value '{bad}' for '--cloudwatch-period <DURATION>'"
            )) && err.contains("whole number of seconds"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn framing_and_connection_headers_are_refused_in_files_and_flags() {
    // A length that is not the body's left every attempt waiting for bytes never sent.
    let stage = "[[stages]]\nkind = \"burst\"\nrequests = 1\n";
    let err = rejected(&format!(
        "{HEAD}body = \"1234567\"\n[target.headers]\ncontent-length = \"100\"\n{stage}"
    ));
    assert!(
        err.contains("bad.toml:5:1:") && err.contains("`content-length` cannot be set"),
        "{err}"
    );
    assert!(
        err.contains("expected:") && err.contains("Transfer-Encoding"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[target.headers]\n\"Connection\" = \"close\"\n{stage}"
    ));
    assert!(
        err.contains("bad.toml:4:1:") && err.contains("manages its connections"),
        "{err}"
    );
    assert!(err.contains("connections = \"per-request\""), "{err}");

    for header in [
        "Transfer-Encoding: chunked",
        "Content-Length: 100",
        "connection: upgrade",
        "Upgrade: websocket",
        "Keep-Alive: timeout=5",
        "TE: gzip",
    ] {
        let err = flags_rejected(&[
            "run",
            "--url",
            "http://127.0.0.1:9/",
            "--rate",
            "5",
            "--body",
            "1234567",
            "-H",
            header,
        ]);
        let name = header.split(':').next().unwrap().to_ascii_lowercase();
        assert!(
            err.contains("--header") && err.contains(&format!("`{name}` cannot be set")),
            "{header}: {err}"
        );
    }
    // Host stays the user's to set (a virtual host behind an address).
    let o = stampede(&[
        "plan",
        "--url",
        "http://127.0.0.1:9/",
        "--rate",
        "5",
        "-H",
        "Host: api.example.com",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn an_unknown_connection_policy_names_the_forms() {
    let err = rejected(&format!(
        "{HEAD}connections = \"sometimes\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"
    ));
    assert!(err.contains("bad.toml:3:15:"), "{err}");
    assert!(
        err.contains("unknown connections `sometimes`")
            && err.contains("keep-alive")
            && err.contains("per-request"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}tls_resume = \"yes\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n"
    ));
    assert!(err.contains("bad.toml:3:"), "{err}");
}
