//! Headless Chromium driven over the Chrome DevTools Protocol on a pipe
//! (`--remote-debugging-pipe`: JSON messages ending in NUL, ours on fd 3, its on fd 4), so
//! a test can keep a page open, read its DOM while it changes and click it. The network is
//! blocked but for loopback. Skipped without Chromium unless `STAMPEDE_REQUIRE_TOOLS=1`.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Chromium's binary, when installed.
pub fn chromium() -> Option<PathBuf> {
    let paths = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&paths).map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Chromium, or `None` (and a note) when it is missing and not required.
pub fn require_chromium() -> Option<PathBuf> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var("STAMPEDE_REQUIRE_TOOLS").as_deref() != Ok("1"),
            "STAMPEDE_REQUIRE_TOOLS=1 but chromium is missing (apt-get install chromium)"
        );
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
    }
    found
}

/// One headless Chromium with one page, attached.
pub struct Browser {
    child: Child,
    to: File,
    from: Receiver<Value>,
    next_id: u64,
    session: String,
}

/// How long one protocol call may take.
const CALL_LIMIT: Duration = Duration::from_secs(30);

fn pipe() -> (RawFd, RawFd) {
    let mut fds = [0; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    (fds[0], fds[1])
}

impl Browser {
    /// Chromium (a fresh profile under `profile`) with `url` open.
    pub fn open(chromium: &Path, profile: &Path, url: &str) -> Browser {
        let (ours_read, its_write) = pipe();
        let (its_read, ours_write) = pipe();
        let mut cmd = Command::new(chromium);
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            "--remote-debugging-pipe",
            "--window-size=1300,1500",
            // No network but loopback: names resolve to nothing, other addresses go to a
            // dead proxy.
            "--proxy-server=127.0.0.1:9",
            "--proxy-bypass-list=127.0.0.1",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(url)
        .env("HOME", profile)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only dup2 between fork and exec; it is async-signal-safe.
        unsafe {
            cmd.pre_exec(move || {
                if libc::dup2(its_read, 3) < 0 || libc::dup2(its_write, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        // SAFETY: each descriptor is ours alone from here on.
        let (to, from_file) = unsafe {
            libc::close(its_read);
            libc::close(its_write);
            (File::from_raw_fd(ours_write), File::from_raw_fd(ours_read))
        };
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(from_file);
            let mut buf = Vec::new();
            while reader.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                buf.pop();
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    if tx.send(v).is_err() {
                        return;
                    }
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            to,
            from: rx,
            next_id: 0,
            session: String::new(),
        };
        let start = Instant::now();
        let target = loop {
            let targets = b.call("Target.getTargets", json!({}), false);
            let page = targets["result"]["targetInfos"]
                .as_array()
                .and_then(|t| t.iter().find(|t| t["type"] == "page").cloned());
            if let Some(p) = page {
                break p["targetId"].as_str().unwrap().to_string();
            }
            assert!(start.elapsed() < CALL_LIMIT, "chromium opened no page");
            std::thread::sleep(Duration::from_millis(50));
        };
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
            false,
        );
        b.session = attached["result"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("not attached: {attached}"))
            .to_string();
        b
    }

    /// Sends `method` (to the page's session when `page`) and waits for its answer.
    fn call(&mut self, method: &str, params: Value, page: bool) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if page {
            msg["sessionId"] = json!(self.session);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("chromium takes the call");
        let start = Instant::now();
        loop {
            let left = CALL_LIMIT.saturating_sub(start.elapsed());
            match self.from.recv_timeout(left) {
                Ok(v) if v["id"] == id => return v,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => panic!("chromium did not answer {method}"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium went away ({method})"),
            }
        }
    }

    /// `js` evaluated in the page, its value (`None`: it threw, or the page was between
    /// documents).
    pub fn eval(&mut self, js: &str) -> Option<Value> {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": js, "returnByValue": true}),
            true,
        );
        if r.get("error").is_some() || r["result"].get("exceptionDetails").is_some() {
            return None;
        }
        r["result"]["result"].get("value").cloned()
    }

    /// Waits (polling every 50 ms, at most `limit`) until `js` gives a value that `done`
    /// accepts, and returns it.
    pub fn wait_for(
        &mut self,
        what: &str,
        limit: Duration,
        js: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let v = self.eval(js);
            if let Some(v) = v.filter(|v| done(v)) {
                return v;
            }
            assert!(
                start.elapsed() < limit,
                "the page did not get to {what} within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// A left click at the middle of the element `#id`, as a user's mouse makes it.
    pub fn click(&mut self, id: &str) {
        let js = format!(
            "(function(){{var r=document.getElementById({id:?}).getBoundingClientRect();\
             return [r.left+r.width/2, r.top+r.height/2];}})()"
        );
        let at = self
            .eval(&js)
            .unwrap_or_else(|| panic!("no #{id} to click"));
        let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
                true,
            );
        }
    }

    /// A PNG of the page as it is now.
    pub fn screenshot(&mut self, to: &Path) {
        use base64::Engine as _;
        let r = self.call("Page.captureScreenshot", json!({"format": "png"}), true);
        let data = r["result"]["data"].as_str().expect("a screenshot");
        let png = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        std::fs::write(to, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
