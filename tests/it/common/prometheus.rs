//! A real Prometheus server (Debian's 2.x, which scripts/test installs) on a free loopback
//! port, scraping the targets a test names every second into a temp storage dir, asked
//! over its HTTP API; killed when dropped. And `promtool check metrics`, its linter.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Prometheus, killed when dropped.
pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    dir: PathBuf,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(name: &str) -> PathBuf {
    ["/usr/bin", "/usr/local/bin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{name} is needed for this test (Debian's `prometheus` package has it; ./scripts/test installs it)"
            )
        })
}

/// A free loopback address: bound, read and let go (so a child can bind it next).
pub fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

impl Prometheus {
    /// Prometheus in `dir`, scraping `targets` (`/metrics`) every second, ready to answer.
    pub fn start(dir: &Path, targets: &[SocketAddr]) -> Prometheus {
        let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: stampede\n    static_configs:\n      - targets: [{}]\n",
            list.join(", ")
        );
        Prometheus::launch(dir, &config, &[])
    }

    /// Prometheus in `dir` as a remote-write receiver (at [`Prometheus::write_url`]),
    /// scraping nothing.
    pub fn receiver(dir: &Path) -> Prometheus {
        let config = "global:\n  scrape_interval: 1m\n";
        Prometheus::launch(dir, config, &["--web.enable-remote-write-receiver"])
    }

    /// Where remote write pushes to this Prometheus (with [`Prometheus::receiver`]).
    pub fn write_url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    fn launch(dir: &Path, config_text: &str, extra: &[&str]) -> Prometheus {
        let addr = free_addr();
        let config = dir.join("prometheus.yml");
        std::fs::write(&config, config_text).unwrap();
        let log = std::fs::File::create(dir.join("prometheus.log")).unwrap();
        let child = Command::new(binary("prometheus"))
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--log.level=warn")
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            child,
            addr,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if matches!(get(addr, "/-/ready"), Some((200, _))) {
                return prometheus;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("prometheus was not ready in 30 s:\n{}", prometheus.log());
    }

    /// What Prometheus logged (warnings and worse).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default()
    }

    /// The whole JSON answer to an instant query `promql` at `time` (Unix seconds; `None`:
    /// now), whatever its status.
    pub fn query_answer(&self, promql: &str, time: Option<f64>) -> Value {
        let mut path = format!("/api/v1/query?query={}", encode(promql));
        if let Some(t) = time {
            path.push_str(&format!("&time={t:.3}"));
        }
        let (status, body) = get(self.addr, &path)
            .unwrap_or_else(|| panic!("prometheus did not answer {promql}:\n{}", self.log()));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("prometheus answered {status} not JSON ({e}): {body}"))
    }

    /// The whole JSON answer to a range query `promql` from `start` to `end` (Unix
    /// seconds), a point a second.
    pub fn query_range_answer(&self, promql: &str, (start, end): (f64, f64)) -> Value {
        let path = format!(
            "/api/v1/query_range?query={}&start={start:.3}&end={end:.3}&step=1",
            encode(promql)
        );
        let (status, body) = get(self.addr, &path)
            .unwrap_or_else(|| panic!("prometheus did not answer {promql}:\n{}", self.log()));
        serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("prometheus answered {status} not JSON ({e}): {body}"))
    }

    /// The result of an instant query that must succeed: a vector's `[{metric, value}]`.
    pub fn query(&self, promql: &str, time: Option<f64>) -> Vec<Value> {
        let answer = self.query_answer(promql, time);
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// A vector query's values by the value of `label` (the whole value under "").
    pub fn by_label(&self, promql: &str, label: &str, time: Option<f64>) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = self
            .query(promql, time)
            .iter()
            .map(|s| {
                let name = s["metric"][label].as_str().unwrap_or_default().to_string();
                (name, sample_value(s))
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// One value: the query must give exactly one sample.
    pub fn scalar(&self, promql: &str, time: Option<f64>) -> f64 {
        let result = self.query(promql, time);
        assert_eq!(
            result.len(),
            1,
            "{promql}: one sample expected, got {result:?}"
        );
        sample_value(&result[0])
    }
}

/// A sample's value (Prometheus writes it as a string).
pub fn sample_value(sample: &Value) -> f64 {
    let text = sample["value"][1].as_str().expect("a sample's value");
    match text {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        "NaN" => f64::NAN,
        _ => text.parse().expect("a number"),
    }
}

/// `promtool check metrics` on `text`: its exit status and everything it wrote.
pub fn promtool_check_metrics(text: &str) -> (bool, String) {
    let mut child = Command::new(binary("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let run = super::wait_bounded(child, "promtool check metrics", Duration::from_secs(30));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&run.output.stdout),
        String::from_utf8_lossy(&run.output.stderr)
    );
    (run.output.status.success(), said)
}

/// `GET http://addr/path` (HTTP/1.0, so the answer ends with the connection): its status
/// and body; `None` when nothing answered.
pub fn get(addr: SocketAddr, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let status = head.split(' ').nth(1)?.parse().ok()?;
    Some((status, body.to_string()))
}

/// `text` percent-encoded for a query string.
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
