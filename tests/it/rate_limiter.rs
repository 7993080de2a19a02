//! A real rate limiter we did not write (nginx's limit_req answering 429) is counted as
//! throttling, not as errors. `.ci/run` installs nginx.

use crate::common;

use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::Duration;

use common::{run_results, write};

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is needed for this test (apt-get install nginx; .ci/run installs it)")
        .to_string()
}

/// nginx on a free loopback port: 20 req/s per client, a burst of 5, then 429.
fn start_nginx(dir: &std::path::Path) -> (Nginx, u16) {
    start_nginx_limited(dir, "rate=20r/s", "burst=5")
}

/// nginx on a free loopback port with `limit_req` at `rate` and `burst`.
fn start_nginx_limited(dir: &std::path::Path, rate: &str, burst: &str) -> (Nginx, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let d = dir.display();
    let conf = write(
        dir,
        "nginx.conf",
        &format!(
            "daemon off; master_process off; user root; pid {d}/nginx.pid; error_log {d}/error.log error;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  limit_req_zone $binary_remote_addr zone=api:1m {rate};
  server {{
    listen 127.0.0.1:{port};
    # A file, not `return`: `return` answers before limit_req is consulted.
    location / {{ limit_req zone=api {burst} nodelay; limit_req_status 429; root {d}/www; }}
  }}
}}
"
        ),
    );
    std::fs::create_dir_all(dir.join("www")).unwrap();
    std::fs::write(dir.join("www/index.html"), "ok\n").unwrap();
    let child = Command::new(nginx_binary())
        .args(["-c", conf.to_str().unwrap(), "-p", dir.to_str().unwrap()])
        .spawn()
        .expect("nginx starts");
    let nginx = Nginx(child);
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return (nginx, port);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!(
        "nginx did not listen: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

#[test]
fn nginx_limit_req_429s_are_throttles() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, port) = start_nginx(dir.path());
    let url = format!("http://127.0.0.1:{port}/");
    let (r, _) = run_results(
        dir.path(),
        "r.json",
        &[
            "run",
            "--url",
            &url,
            "--rate",
            "100",
            "--duration",
            "1s",
            "--quiet",
        ],
        0,
    );
    let n = |v: &serde_json::Value| v.as_u64().unwrap();
    assert_eq!(n(&r["totals"]["requests"]), 100);
    assert_eq!(n(&r["totals"]["errors"]), 0);
    let ok = n(&r["totals"]["ok"]);
    // 20/s over one second plus the burst of 5, give or take the edges.
    assert!((20..=32).contains(&ok), "nginx admitted {ok}");
    assert_eq!(n(&r["totals"]["throttled"]), 100 - ok);
    assert_eq!(n(&r["throttles"]["other_429"]), 100 - ok);
    assert!(r["throttle_onset"]["t_s"] == 0);
}

/// `stampede probe` against nginx's limit_req at 200 req/s: the knee is nginx's rate, and
/// it is no quota stampede read.
#[test]
fn probe_finds_nginx_limit_req_rate() {
    let dir = tempfile::tempdir().unwrap();
    let (_nginx, port) = start_nginx_limited(dir.path(), "rate=200r/s", "burst=20");
    let url = format!("http://127.0.0.1:{port}/");
    let (r, _) = run_results(
        dir.path(),
        "probe.json",
        &[
            "probe",
            "--url",
            &url,
            "--by",
            "rate",
            "--from",
            "25",
            "--max",
            "2000",
            "--step",
            "1s",
            "--settle",
            "300ms",
            "--threads",
            "1",
            "-q",
        ],
        0,
    );
    let p = &r["probe"];
    let knee = p["knee"].as_f64().unwrap();
    let error = (knee - 200.0) / 200.0 * 100.0;
    eprintln!(
        "probe rate vs nginx limit_req 200 r/s: knee {knee} ({error:+.1}%) · {} steps · {:.1} s · {}",
        p["steps"].as_array().unwrap().len(),
        p["seconds"].as_f64().unwrap(),
        p["finding"]
    );
    assert!(error.abs() <= 15.0, "{p}");
    assert!(p.get("limit").is_none(), "{p}");
    assert!(
        r["throttles"]["other_429"].as_u64().unwrap() > 0,
        "nginx's 429s are throttles"
    );
}
