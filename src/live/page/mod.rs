//! The live page (`--live ADDR`, docs/live.md "The live page"): `GET /` the page, `GET
//! /events` its seconds as server-sent events, `POST /abort` its abort button (only with
//! `--live-control`), `GET /report` the run's HTML report once the run has ended.

pub mod events;
pub mod html;

use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream;
use http::{header, HeaderMap, Method, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use super::server::{plain, whole, Body};
use super::Watched;
use crate::report::html::data::{limits_of, Limit, CONCURRENCY_LIMITS, RATE_LIMITS};

/// How often the page gets an event.
const EVERY: Duration = Duration::from_secs(1);
/// At the end, how long `finish` waits for the pages that are open to fetch the report.
const REPORT_WAIT: Duration = Duration::from_secs(5);
/// The header the page's abort button sends: a cross-site form cannot set it, and a
/// cross-site script that tries is stopped by the browser's preflight, which gets no CORS.
pub const CONTROL_HEADER: &str = "x-stampede-control";

/// The page's side of a watched run.
#[derive(Default)]
pub struct Page {
    /// `--live-control`: the abort button and `POST /abort`.
    pub control: bool,
    /// The limits the charts draw (rate, concurrency), from the preflight.
    limits: OnceLock<(Vec<Limit>, Vec<Limit>)>,
    /// The run's HTML report, once it has ended.
    report: OnceLock<String>,
    ended: tokio::sync::Notify,
    /// `/events` streams open now, and reports served.
    streams: AtomicUsize,
    reports_served: AtomicUsize,
}

impl Page {
    pub fn new(control: bool) -> Page {
        Page {
            control,
            ..Page::default()
        }
    }

    /// The limits to draw, from the quotas the preflight read.
    pub fn show_limits(&self, quotas: &crate::quotas::Quotas) {
        let _ = self.limits.set((
            limits_of(quotas, &RATE_LIMITS),
            limits_of(quotas, &CONCURRENCY_LIMITS),
        ));
    }

    /// The run has ended and `report` is its HTML report: every open page gets the `end`
    /// event and loads it. Waits (up to [`REPORT_WAIT`]) until the pages open now have.
    pub fn end(&self, report: String) {
        let open = self.streams.load(SeqCst);
        let served = self.reports_served.load(SeqCst);
        let _ = self.report.set(report);
        self.ended.notify_waiters();
        let start = Instant::now();
        while open > 0
            && self.reports_served.load(SeqCst) < served + open
            && start.elapsed() < REPORT_WAIT
        {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The page's answer to `method path`, `None` when the path is not one of its.
pub fn route(
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    watched: &Arc<Watched>,
) -> Option<Response<Body>> {
    let page = &watched.page;
    let get = method == Method::GET || method == Method::HEAD;
    let answer = match path {
        "/" | "/index.html" if get => html_answer(html::render(
            &watched.about,
            page.limits.get().cloned().unwrap_or_default(),
            page.control,
        )),
        "/events" if get => events_answer(watched, headers),
        "/report" if get => match page.report.get() {
            Some(report) => report_answer(watched, report.clone()),
            None => plain(
                StatusCode::NOT_FOUND,
                "the report is served here once the run has ended\n",
            ),
        },
        "/abort" if page.control => abort(method, headers, watched),
        "/" | "/index.html" | "/events" | "/report" => {
            plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n")
        }
        _ => return None,
    };
    Some(answer)
}

fn html_answer(text: String) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(whole(text))
        .expect("a valid response")
}

/// The report, counted as served once hyper has taken all of it (so `finish` does not stop
/// the server while an open page is still loading it).
fn report_answer(watched: &Arc<Watched>, report: String) -> Response<Body> {
    let watched = Arc::clone(watched);
    let frames = stream::unfold(Some(report), move |left| {
        let watched = Arc::clone(&watched);
        async move {
            match left {
                Some(text) => Some((Ok::<_, Infallible>(Frame::data(Bytes::from(text))), None)),
                None => {
                    watched.page.reports_served.fetch_add(1, SeqCst);
                    None
                }
            }
        }
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("a valid response")
}

/// `POST /abort` from the page's button: the run stops as an abort rule would.
fn abort(method: &Method, headers: &HeaderMap, watched: &Watched) -> Response<Body> {
    if method != Method::POST {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "POST /abort\n");
        r.headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
        return r;
    }
    if !same_origin(headers) {
        return plain(
            StatusCode::FORBIDDEN,
            "only the live page's own button can stop the run\n",
        );
    }
    let first = watched
        .run
        .request_abort("the live page's abort button".into());
    if first {
        eprintln!("stopping: the live page's abort button was pressed");
    }
    Response::builder()
        .status(StatusCode::ACCEPTED)
        .header(header::CONTENT_TYPE, "application/json")
        .body(whole(format!("{{\"stopping\":true,\"first\":{first}}}\n")))
        .expect("a valid response")
}

/// Whether a stop comes from the page itself: it carries [`CONTROL_HEADER`] (which a form
/// cannot set, and a script on another site only after a CORS preflight this server never
/// allows), and its `Origin`, when the browser sends one, is this server's.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if headers.get(CONTROL_HEADER).and_then(|v| v.to_str().ok()) != Some("abort") {
        return false;
    }
    match (text(header::ORIGIN), text(header::HOST)) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin == format!("http://{host}"),
        (Some(_), None) => false,
    }
}

/// `GET /events`: every second so far (after the client's `Last-Event-ID`), then an event
/// each second, then `end` once the report is there.
fn events_answer(watched: &Arc<Watched>, headers: &HeaderMap) -> Response<Body> {
    let known = watched.run.state().points.len();
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let from = events::resume_from(last, known);
    watched.page.streams.fetch_add(1, SeqCst);
    let feed = Feed {
        watched: Arc::clone(watched),
        next: from,
        first: true,
        done: false,
    };
    let frames = stream::unfold(feed, |mut feed| async move {
        if feed.done {
            return None;
        }
        if !feed.first {
            let page = &feed.watched.page;
            let ended = page.ended.notified();
            if page.report.get().is_none() {
                tokio::select! {
                    _ = tokio::time::sleep(EVERY) => {}
                    _ = ended => {}
                }
            }
        }
        feed.first = false;
        let text = feed.next_text();
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(text))), feed))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-store")
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("a valid response")
}

/// One client's stream: the next second to send it.
struct Feed {
    watched: Arc<Watched>,
    next: usize,
    first: bool,
    done: bool,
}

impl Feed {
    /// The event now: the seconds since the last one and the state; with the `end` event
    /// after it once the report is there.
    fn next_text(&mut self) -> String {
        let w = &self.watched;
        let report_ready = w.page.report.get().is_some();
        let cells = w.run.counters.read();
        let update = {
            let state = w.run.state();
            let schedule = events::Schedule {
                plans: &w.plans,
                shard: w.shard,
            };
            events::update(&w.about, &schedule, &state, &cells, self.next)
        };
        self.next += update.points.len();
        let mut text = events::frame(self.next, &update);
        if report_ready {
            text.push_str(&events::end_frame(self.next));
            self.done = true;
        }
        text
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.watched.page.streams.fetch_sub(1, SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, header::HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_the_page_itself_can_stop_the_run() {
        let host = ("host", "127.0.0.1:8089");
        let control = (CONTROL_HEADER, "abort");
        assert!(same_origin(&headers(&[host, control])), "a script or curl");
        assert!(same_origin(&headers(&[
            host,
            control,
            ("origin", "http://127.0.0.1:8089")
        ])));
        assert!(
            !same_origin(&headers(&[host])),
            "a form cannot set the header"
        );
        assert!(!same_origin(&headers(&[host, (CONTROL_HEADER, "yes")])));
        assert!(!same_origin(&headers(&[
            host,
            control,
            ("origin", "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            control,
            ("origin", "http://evil.example")
        ])));
    }
}
