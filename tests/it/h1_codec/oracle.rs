//! 3. hyper's client, a parser we did not write, on the same bytes.

use std::time::Duration;

use bytes::Bytes;
use http::Method;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::case::{Case, Want};
use super::corpus::corpus;
use super::driver::{drive, drive_with, find, random_ends, Read, Setup};
use super::generator::generated;

/// What hyper's HTTP/1.1 client makes of `bytes` sent as the answer to a GET (or a HEAD):
/// the status and the whole body, or its error.
async fn hyper_reads(bytes: Vec<u8>, head_request: bool) -> Result<(u16, Vec<u8>), String> {
    let (client, mut server) = tokio::io::duplex(64 * 1024);
    let serve = tokio::spawn(async move {
        // The answer comes after the request: hyper fails on bytes it did not ask for.
        let mut request = Vec::new();
        while find(&request, b"\r\n\r\n").is_none() {
            let mut piece = [0u8; 1024];
            match server.read(&mut piece).await {
                Ok(0) | Err(_) => return,
                Ok(n) => request.extend_from_slice(&piece[..n]),
            }
        }
        let _ = server.write_all(&bytes).await;
        let _ = server.shutdown().await;
        // Take whatever the client sends until it goes away.
        let mut sink = Vec::new();
        let _ = server.read_to_end(&mut sink).await;
    });
    let read = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(client))
                .await
                .map_err(|e| e.to_string())?;
        let conn = tokio::spawn(conn);
        let method = if head_request {
            Method::HEAD
        } else {
            Method::GET
        };
        let request = http::Request::builder()
            .method(method)
            .uri("/")
            .header("host", "stampede.test")
            .body(Empty::new())
            .expect("a request");
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| format!("{e:?}"))?;
        let status = answer.status().as_u16();
        let body = answer
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("{e:?}"))?
            .to_bytes();
        conn.abort();
        Ok((status, body.to_vec()))
    };
    let read = tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| Err("hyper did not finish within 10 s".into()));
    serve.abort();
    read
}

/// How ours and hyper's readings differ, if they do.
fn disagreement(
    case: &Case,
    ours: &Read,
    theirs: &Result<(u16, Vec<u8>), String>,
) -> Option<String> {
    match (ours, theirs) {
        (Read::Failed(e), Ok((status, body))) => Some(format!(
            "we fail ({e:?}), hyper reads {status} with {} body bytes",
            body.len()
        )),
        (Read::Answer { head, .. }, Err(e)) => {
            Some(format!("we read {}, hyper fails ({e})", head.status))
        }
        (Read::Failed(_), Err(_)) => None,
        (Read::Answer { head, excerpt, .. }, Ok((status, body))) => {
            if head.status != *status {
                return Some(format!("we read {}, hyper {status}", head.status));
            }
            // Our reader keeps a body only when it is asked to; what hyper read must then be
            // what we kept, else what the case meant.
            let wanted = match &case.want {
                Want::Answer(e) if !e.kept => Some(&e.body),
                _ => None,
            };
            let kept = !excerpt.is_empty() || wanted.is_none();
            if kept && excerpt != body {
                return Some(format!(
                    "we keep {} body bytes, hyper reads {}",
                    excerpt.len(),
                    body.len()
                ));
            }
            if let Some(wanted) = wanted.filter(|w| *w != body) {
                return Some(format!(
                    "hyper reads {} body bytes, the case means {}",
                    body.len(),
                    wanted.len()
                ));
            }
            None
        }
    }
}

#[tokio::test]
async fn hyper_reads_the_same_bytes_alike_but_where_listed() {
    let mut cases = corpus();
    cases.extend(generated());
    let mut agreed = 0;
    let mut listed = Vec::new();
    let mut unlisted = Vec::new();
    for case in &cases {
        let setup = Setup {
            limit: usize::MAX,
            ..case.setup
        };
        let ours = drive(&case.bytes, &[], setup);
        let theirs = hyper_reads(case.bytes.clone(), setup.head_request).await;
        let case = Case {
            setup,
            ..case.clone()
        };
        match (disagreement(&case, &ours, &theirs), case.hyper_differs) {
            (None, None) => agreed += 1,
            (Some(how), Some(why)) => listed.push(format!("{}: {how} — {why}", case.name)),
            (Some(how), None) => unlisted.push(format!("{}: {how}", case.name)),
            (None, Some(why)) => unlisted.push(format!(
                "{}: listed as differing ({why}), but hyper agrees",
                case.name
            )),
        }
    }
    for line in &listed {
        eprintln!("known difference: {line}");
    }
    assert!(
        unlisted.is_empty(),
        "{} disagreements not listed:\n{}",
        unlisted.len(),
        unlisted.join("\n")
    );
    eprintln!(
        "{} cases: {agreed} alike, {} known differences",
        cases.len(),
        listed.len()
    );
}

/// A request with checks keeps every answer's body, not only a failed one's: what it keeps
/// is the body hyper reads, however the bytes arrive, and the headers it names.
#[tokio::test]
async fn a_body_kept_for_checks_is_the_body_hyper_reads() {
    use stampede::transport::h1::{KeepFor, ResponseReader};
    use stampede_mix::expect::Headers;
    let keep = std::sync::Arc::new(KeepFor::new(usize::MAX, ["content-type"]));
    let mut cases = corpus();
    cases.extend(generated());
    let mut rng = fastrand::Rng::with_seed(26);
    let (mut compared, mut typed) = (0, 0);
    for case in cases.iter().filter(|c| c.hyper_differs.is_none()) {
        let reader = || {
            ResponseReader::new(case.setup.head_request, case.setup.invoke, 0).keeping(keep.clone())
        };
        let ours = drive_with(&case.bytes, &[], reader());
        if case.bytes.len() <= 64 * 1024 {
            for most in [1, 7, 1500] {
                let ends = random_ends(&mut rng, case.bytes.len(), most);
                assert!(
                    drive_with(&case.bytes, &ends, reader()) == ours,
                    "{}: kept otherwise in pieces of 1..={most}",
                    case.name
                );
            }
        }
        let theirs = hyper_reads(case.bytes.clone(), case.setup.head_request).await;
        if let (Read::Answer { head, excerpt, .. }, Ok((status, body))) = (&ours, &theirs) {
            assert_eq!(head.status, *status, "{}", case.name);
            assert!(
                excerpt == body,
                "{}: we keep {} body bytes for checks, hyper reads {}",
                case.name,
                excerpt.len(),
                body.len()
            );
            let kept = head.kept.as_ref().expect("kept for checks");
            assert!(!kept.body_cut, "{}", case.name);
            let named = find(&case.bytes.to_ascii_lowercase(), b"content-type:");
            typed += usize::from(kept.get("content-type").is_some());
            assert!(
                named.is_some() || kept.get("content-type").is_none(),
                "{}: a header that is not there was kept",
                case.name
            );
            compared += 1;
        }
    }
    eprintln!("{compared} answers kept for checks as hyper reads them ({typed} with content-type)");
    assert!(compared >= 50, "only {compared} answers compared");
}
