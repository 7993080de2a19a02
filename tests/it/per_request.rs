//! `connections = "per-request"` (`--no-keepalive`), checked by a server we did not write:
//! nginx logs each request's connection number and the requests that connection carried.
//! Per request, every request of every stage kind comes on a connection of its own; kept
//! alive, a few connections carry them all. Over TLS, nginx says which sessions were
//! resumed: some with `tls_resume` on, none with it off. `scripts/test` installs nginx.

use crate::common;

use std::collections::BTreeSet;

use common::nginx::{by_connection, certificate, every_stage_kind, Nginx};
use common::{run_results, write};
use serde_json::Value;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn per_request_opens_one_connection_per_request_in_every_stage_kind() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), None);
    let url = format!("http://127.0.0.1:{}/", nginx.port);

    let s = every_stage_kind(
        dir.path(),
        &url,
        "connections = \"per-request\"",
        (100, 4, 30),
    );
    let (r, _) = run_results(dir.path(), "per.json", &["run", &s, "--quiet"], 0);
    let requests = u(&r["totals"]["requests"]);
    assert_eq!(u(&r["totals"]["ok"]), requests, "{}", r["totals"]);
    assert_eq!(u(&r["totals"]["stale_connection_resends"]), 0);
    assert_eq!(r["target"]["connections"], "per-request", "{}", r["target"]);
    // 100 open, 30 burst, and the closed workers' half second.
    assert!(requests > 130, "{requests}");
    let log = nginx.log(requests as usize);
    assert_eq!(
        log.len() as u64,
        requests,
        "nginx logged every request once"
    );
    let per = by_connection(&log);
    assert_eq!(per.len() as u64, requests, "one connection per request");
    assert!(
        log.iter().all(|l| l.connection_requests == 1),
        "each connection carried one request: {:?}",
        log.iter().find(|l| l.connection_requests != 1)
    );
    eprintln!(
        "per-request: stampede {requests} requests, nginx {} lines on {} connections",
        log.len(),
        per.len()
    );

    // The same load kept alive: far fewer connections than requests.
    nginx.clear_log();
    let s = every_stage_kind(dir.path(), &url, "", (100, 4, 30));
    let (r, _) = run_results(dir.path(), "keep.json", &["run", &s, "--quiet"], 0);
    assert!(r["target"].get("connections").is_none(), "{}", r["target"]);
    let requests = u(&r["totals"]["requests"]);
    let log = nginx.log(requests as usize);
    assert_eq!(log.len() as u64, requests);
    let per = by_connection(&log);
    assert!(
        (per.len() as u64) * 3 < requests,
        "{} connections for {requests} requests",
        per.len()
    );
    assert!(log.iter().any(|l| l.connection_requests > 1));
    eprintln!(
        "keep-alive: stampede {requests} requests, nginx {} lines on {} connections",
        log.len(),
        per.len()
    );
}

#[test]
fn with_no_keepalive_each_retry_opens_its_own_connection() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), None);
    // nginx answers 503 here: each request is tried 3 times.
    let url = format!("http://127.0.0.1:{}/busy", nginx.port);
    let s = write(
        dir.path(),
        "retry.toml",
        &format!(
            "[target]\nurl = \"{url}\"\n[retry]\nmax_attempts = 3\nbase = \"1ms\"\nbudget = 0\n\
             [[stages]]\nkind = \"constant\"\nrate = 20\nduration = \"1s\"\n"
        ),
    );
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &["run", s.to_str().unwrap(), "--no-keepalive", "--quiet"],
        1, // no request succeeded
    );
    assert_eq!(u(&r["totals"]["requests"]), 20);
    let sent = u(&r["attempts"]["sent"]);
    assert_eq!(sent, 60, "{}", r["attempts"]);
    let log = nginx.log(sent as usize);
    assert_eq!(log.len() as u64, sent);
    assert_eq!(
        by_connection(&log).len() as u64,
        sent,
        "a connection per attempt"
    );
    assert!(log.iter().all(|l| l.connection_requests == 1));
}

#[test]
fn per_request_over_tls_resumes_sessions_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate();
    let ca = write(dir.path(), "ca.pem", &cert);
    let nginx = Nginx::start(dir.path(), Some((&cert, &key)));
    let url = format!("https://127.0.0.1:{}/", nginx.port);
    let mut resumed = Vec::new();
    for resume in [true, false] {
        nginx.clear_log();
        let s = write(
            dir.path(),
            "tls.toml",
            &format!(
                "[target]\nurl = \"{url}\"\nconnections = \"per-request\"\ntls_resume = {resume}\n\
                 [[stages]]\nkind = \"constant\"\nrate = 50\nduration = \"1s\"\n\
                 [[stages]]\nkind = \"concurrency\"\nworkers = 2\nduration = \"300ms\"\n"
            ),
        );
        let (r, _) = run_results(
            dir.path(),
            "tls.json",
            &[
                "run",
                s.to_str().unwrap(),
                "--ca-cert",
                ca.to_str().unwrap(),
                "--quiet",
            ],
            0,
        );
        let requests = u(&r["totals"]["requests"]);
        assert_eq!(u(&r["totals"]["ok"]), requests, "{}", r["totals"]);
        let said = r["target"].get("tls_resume").and_then(Value::as_bool);
        assert_eq!(said, (!resume).then_some(false), "{}", r["target"]);
        let log = nginx.log(requests as usize);
        assert_eq!(log.len() as u64, requests);
        assert_eq!(by_connection(&log).len() as u64, requests);
        assert!(
            log.iter().all(|l| l.protocol == "TLSv1.3"),
            "TLS 1.3, as clients and API Gateway speak it: {:?}",
            log.first()
        );
        let reused = log.iter().filter(|l| l.session_reused == "r").count();
        let kinds: BTreeSet<&str> = log.iter().map(|l| l.session_reused.as_str()).collect();
        eprintln!(
            "tls_resume = {resume}: {requests} requests, {} connections, {reused} resumed ({kinds:?})",
            by_connection(&log).len()
        );
        resumed.push((reused, requests));
    }
    let (on, requests_on) = resumed[0];
    let (off, _) = resumed[1];
    // The first connections race ahead of any session to resume; most after them resume.
    assert!(on as u64 * 2 > requests_on, "{on} of {requests_on} resumed");
    assert_eq!(off, 0, "no session resumed with tls_resume = false");
}

/// `connections = "per-flow"`: each flow a new client — its steps, and a step's retries,
/// share one new connection that no other flow uses, in every stage kind. nginx's log says
/// so: one connection per flow, carrying exactly that flow's requests.
#[test]
fn per_flow_gives_each_flow_a_connection_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let nginx = Nginx::start(dir.path(), None);
    let url = format!("http://127.0.0.1:{}", nginx.port);
    let s = write(
        dir.path(),
        "flows.toml",
        &format!(
            "[target]\nurl = \"{url}\"\ntimeout = \"5s\"\nconnections = \"per-flow\"\n\
             [retry]\nmax_attempts = 3\nbase = \"1ms\"\nbudget = 0\n\
             [[requests]]\nname = \"home\"\npath = \"/\"\n\
             [[requests]]\nname = \"item\"\npath = \"/item\"\n\
             [[requests]]\nname = \"busy\"\npath = \"/busy\"\n\
             [[flows]]\nname = \"browse\"\nweight = 3\nsteps = [\"home\", \"item\", \"home\"]\n\
             [[flows]]\nname = \"give up\"\nsteps = [\"home\", \"busy\", \"item\"]\n\
             [[stages]]\nkind = \"constant\"\nrate = 40\nduration = \"1s\"\n\
             [[stages]]\nkind = \"concurrency\"\nworkers = 3\nduration = \"300ms\"\n\
             [[stages]]\nkind = \"burst\"\nrequests = 20\n"
        ),
    );
    // 'give up' fails at its retried 503s: a failed flow, exit 1 by no threshold — 0.
    let (r, _) = run_results(
        dir.path(),
        "flows.json",
        &["run", s.to_str().unwrap(), "--quiet"],
        0,
    );
    assert_eq!(r["target"]["connections"], "per-flow", "{}", r["target"]);
    let browse = u(&r["by_flow"]["browse"]["started"]);
    let give_up = u(&r["by_flow"]["give up"]["started"]);
    assert_eq!(u(&r["by_flow"]["browse"]["completed"]), browse);
    assert_eq!(u(&r["by_flow"]["give up"]["failed"]), give_up);
    assert!(browse >= 45 && give_up >= 15, "{browse} {give_up}");
    let sent = u(&r["attempts"]["sent"]);
    // browse: 3 requests; give up: home, then busy tried 3 times, and never item.
    assert_eq!(sent, browse * 3 + give_up * 4, "{}", r["attempts"]);

    let log = nginx.log(sent as usize);
    assert_eq!(log.len() as u64, sent, "nginx logged every attempt once");
    let per = by_connection(&log);
    assert_eq!(
        per.len() as u64,
        browse + give_up,
        "one connection per flow"
    );
    let carried = |n: u64| per.values().filter(|&&c| c == n).count() as u64;
    assert_eq!(
        carried(3),
        browse,
        "each browse flow's 3 steps on its connection"
    );
    assert_eq!(
        carried(4),
        give_up,
        "give up's step and its retries on its connection"
    );
    eprintln!(
        "per-flow: {browse} + {give_up} flows, {sent} attempts; nginx: {} lines on {} connections",
        log.len(),
        per.len()
    );
}

#[test]
fn per_flow_without_flows_is_refused_where_it_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let s = write(
        dir.path(),
        "bad.toml",
        "[target]\nurl = \"http://127.0.0.1:9/\"\nconnections = \"per-flow\"\n\
         [[stages]]\nkind = \"burst\"\nrequests = 1\n",
    );
    let out = common::stampede(&["plan", s.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3:15"), "{err}");
    assert!(
        err.contains("[[flows]]") && err.contains("per-request"),
        "{err}"
    );
}
