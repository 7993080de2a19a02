//! nginx on a free loopback port with a `server` block the test writes, and an access log
//! of each request's connection number, the requests that connection had carried and
//! whether its TLS session was resumed — what a server we did not write saw.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// nginx, stopped when dropped.
pub struct Nginx {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One line of the access log.
#[derive(Debug, Clone, PartialEq)]
pub struct Logged {
    /// nginx's `$connection`: the connection's serial number.
    pub connection: u64,
    /// `$connection_requests`: this request's number on its connection, from 1.
    pub connection_requests: u64,
    /// `$ssl_session_reused`: "r" for a resumed TLS session, "." otherwise, "" plain.
    pub session_reused: String,
    pub method: String,
    /// `$ssl_protocol`: "TLSv1.3", …; "-" plain.
    pub protocol: String,
    /// `$server_protocol`: "HTTP/1.1", "HTTP/2.0".
    pub server_protocol: String,
}

/// How nginx serves, beyond its defaults here.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options {
    /// HTTP/2 on the port (`listen … http2`: with TLS, offered by ALPN; without, h2c with
    /// prior knowledge).
    pub http2: bool,
    /// `keepalive_requests`: after this many requests on a connection nginx closes it (an
    /// HTTP/2 connection with GOAWAY). Default: 100,000.
    pub keepalive_requests: Option<u32>,
}

fn nginx_binary() -> String {
    ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nginx is needed for this test (apt-get install nginx; scripts/test installs it)")
        .to_string()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Nginx {
    /// nginx in `dir`, answering `200 ok` on every path but `/busy` (503); over TLS with
    /// `tls` (certificate and key, PEM) when given.
    pub fn start(dir: &Path, tls: Option<(&str, &str)>) -> Nginx {
        Nginx::start_with(dir, tls, Options::default())
    }

    /// [`Nginx::start`] with `options`.
    pub fn start_with(dir: &Path, tls: Option<(&str, &str)>, options: Options) -> Nginx {
        let port = free_port();
        let d = dir.display();
        let ssl = match tls {
            Some((cert, key)) => {
                std::fs::write(dir.join("cert.pem"), cert).unwrap();
                std::fs::write(dir.join("key.pem"), key).unwrap();
                format!(
                    " ssl;\n    ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;\n    \
                     ssl_protocols TLSv1.2 TLSv1.3; ssl_session_cache shared:SSL:1m"
                )
            }
            None => String::new(),
        };
        // nginx before 1.25 says HTTP/2 on `listen` (no `http2 on;` yet).
        let http2 = if options.http2 { " http2" } else { "" };
        let keepalive_requests = options.keepalive_requests.unwrap_or(100_000);
        let conf = dir.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "daemon off; master_process off; user root; pid {d}/nginx.pid; error_log {d}/error.log error;
events {{ worker_connections 4096; }}
http {{
  log_format conns '$connection $connection_requests \"$ssl_session_reused\" $request_method $ssl_protocol $server_protocol';
  access_log {d}/access.log conns;
  keepalive_requests {keepalive_requests};
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port}{http2}{ssl};
    location / {{ return 200 \"ok\\n\"; }}
    location /busy {{ return 503; }}
  }}
}}
"
            ),
        )
        .unwrap();
        let child = Command::new(nginx_binary())
            .args(["-c", conf.to_str().unwrap(), "-p", dir.to_str().unwrap()])
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            child,
            port,
            log: dir.join("access.log"),
        };
        for _ in 0..100 {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                // The probe's connection logs nothing: it sent no request.
                return nginx;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "nginx did not listen: {}",
            std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
        );
    }

    /// The access log once it holds at least `expected` lines (nginx logs a request as it
    /// finishes it, which may be just after the client read the answer), or after 3 s.
    pub fn log(&self, expected: usize) -> Vec<Logged> {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let lines = self.read_log();
            if lines.len() >= expected || Instant::now() >= deadline {
                // Anything late would show here.
                std::thread::sleep(Duration::from_millis(100));
                return self.read_log();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Empties the access log between runs (nginx keeps appending to the same file).
    pub fn clear_log(&self) {
        std::fs::write(&self.log, "").unwrap();
    }

    fn read_log(&self) -> Vec<Logged> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let f: Vec<&str> = line.split(' ').collect();
                Logged {
                    connection: f[0].parse().unwrap(),
                    connection_requests: f[1].parse().unwrap(),
                    session_reused: f[2].trim_matches('"').to_string(),
                    method: f[3].to_string(),
                    protocol: f[4].to_string(),
                    server_protocol: f[5].to_string(),
                }
            })
            .collect()
    }
}

/// A scenario with one stage of each kind at `url` — open (a constant `rate` for 1 s),
/// closed (`workers` for half a second), burst (`burst` requests) — with `target_extra`
/// lines in its `[target]`.
pub fn every_stage_kind(
    dir: &Path,
    url: &str,
    target_extra: &str,
    (rate, workers, burst): (u32, u32, u32),
) -> String {
    let path = super::write(
        dir,
        "s.toml",
        &format!(
            "[target]\nurl = \"{url}\"\ntimeout = \"5s\"\n{target_extra}\n\
             [[stages]]\nkind = \"constant\"\nrate = {rate}\nduration = \"1s\"\n\
             [[stages]]\nkind = \"concurrency\"\nworkers = {workers}\nduration = \"500ms\"\n\
             [[stages]]\nkind = \"burst\"\nrequests = {burst}\n"
        ),
    );
    path.to_str().unwrap().to_string()
}

/// Requests nginx logged (GET: the load, not the clock probe's HEAD), by connection
/// number: how many each carried.
pub fn by_connection(log: &[Logged]) -> std::collections::BTreeMap<u64, u64> {
    let mut per = std::collections::BTreeMap::new();
    for l in log.iter().filter(|l| l.method == "GET") {
        *per.entry(l.connection).or_insert(0) += 1;
    }
    per
}

/// A self-signed certificate for 127.0.0.1: its PEM, its key's PEM.
pub fn certificate() -> (String, String) {
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    (ck.cert.pem(), ck.signing_key.serialize_pem())
}
