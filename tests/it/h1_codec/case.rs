//! Cases, what each must give, and the checks of a reading against it: whole, split and
//! cut at every prefix.

use stampede::transport::h1::ParseError;

use super::corpus::corpus;
use super::driver::{assert_split_invariant, cuts, drive, Read, Setup, PLAIN};
use super::generator::{generated, seed};

/// Some bytes a server sends, and what reading them must give.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    pub bytes: Vec<u8>,
    pub setup: Setup,
    pub want: Want,
    /// Why hyper's client reads these bytes otherwise (None: it must agree).
    pub hyper_differs: Option<&'static str>,
}

#[derive(Clone, Debug)]
pub enum Want {
    Answer(Expected),
    Error(ParseError),
    /// httparse rejects the head (which complaint is its business).
    BadHead,
}

#[derive(Clone, Debug)]
pub struct Expected {
    pub status: u16,
    pub close: bool,
    /// The whole body, as the server meant it.
    pub body: Vec<u8>,
    /// Whether the reader keeps the body: a status of 400 and above, or a function error.
    pub kept: bool,
    /// Where the final head ends, and where the answer ends.
    pub head_end: usize,
    pub end: usize,
    /// The body runs until the server closes.
    pub until_close: bool,
}

impl Case {
    /// An answer: `head` (interim answers included), then `wire` (the body as framed),
    /// whose content is `body`. Kept when the status is 400 or above.
    pub fn ok(name: &str, status: u16, head: &[u8], wire: &[u8], body: &[u8]) -> Case {
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(wire);
        Case {
            name: name.to_string(),
            want: Want::Answer(Expected {
                status,
                close: false,
                body: body.to_vec(),
                kept: status >= 400,
                head_end: head.len(),
                end: bytes.len(),
                until_close: false,
            }),
            bytes,
            setup: PLAIN,
            hyper_differs: None,
        }
    }

    /// A body framed by its length, or not framed at all.
    pub fn plain(name: &str, status: u16, head: &[u8], body: &[u8]) -> Case {
        Case::ok(name, status, head, body, body)
    }

    pub fn err(name: &str, bytes: &[u8], e: ParseError) -> Case {
        Case {
            name: name.to_string(),
            bytes: bytes.to_vec(),
            setup: PLAIN,
            want: Want::Error(e),
            hyper_differs: None,
        }
    }

    pub fn bad_head(name: &str, bytes: &[u8]) -> Case {
        Case {
            want: Want::BadHead,
            ..Case::err(name, bytes, ParseError::Incomplete)
        }
    }

    pub fn expected(&mut self) -> &mut Expected {
        match &mut self.want {
            Want::Answer(e) => e,
            _ => panic!("{}: not an answer", self.name),
        }
    }

    pub fn close(mut self) -> Case {
        self.expected().close = true;
        self
    }

    /// The body runs until the server closes (and so the connection is done with).
    pub fn until_close(mut self) -> Case {
        let e = self.expected();
        e.until_close = true;
        e.close = true;
        self
    }

    /// Bytes after the answer, which are not its.
    pub fn then(mut self, rest: &[u8]) -> Case {
        self.bytes.extend_from_slice(rest);
        self
    }

    pub fn kept(mut self, kept: bool) -> Case {
        self.expected().kept = kept;
        self
    }

    pub fn setup(mut self, setup: Setup) -> Case {
        self.setup = setup;
        self
    }

    pub fn head_request(mut self) -> Case {
        self.setup.head_request = true;
        self
    }

    pub fn hyper_differs(mut self, why: &'static str) -> Case {
        self.hyper_differs = Some(why);
        self
    }
}

/// Checks a reading against what the case wants.
pub fn check(case: &Case, got: &Read) {
    let fail = |why: &str| -> ! {
        panic!(
            "{}: {why}; wanted {}, got {}",
            case.name,
            want_brief(&case.want),
            got.brief()
        )
    };
    if let (Want::Answer(e), Some((head, excerpt, used))) = (&case.want, got.answer()) {
        if head.status != e.status {
            fail("status");
        }
        if head.close != e.close {
            fail("close");
        }
        if used != e.end {
            fail("bytes taken");
        }
        if excerpt != kept_part(case, e, &e.body) {
            fail("kept body");
        }
        return;
    }
    match (&case.want, got) {
        (Want::Error(e), Read::Failed(g)) if e == g => {}
        (Want::BadHead, Read::Failed(ParseError::Head(_))) => {}
        _ => fail("a different reading"),
    }
}

/// What the reader keeps of `body`.
pub fn kept_part<'b>(case: &Case, e: &Expected, body: &'b [u8]) -> &'b [u8] {
    if e.kept {
        &body[..body.len().min(case.setup.limit)]
    } else {
        &[]
    }
}

pub fn want_brief(want: &Want) -> String {
    match want {
        Want::Answer(e) => format!(
            "answer {} close={} body={} bytes kept={} used={}",
            e.status,
            e.close,
            e.body.len(),
            e.kept,
            e.end
        ),
        Want::Error(e) => format!("error {e:?}"),
        Want::BadHead => "a bad head".into(),
    }
}

/// Every prefix of a case, as if the server closed there: an error (the case's own, or
/// `Incomplete`) unless the answer is already whole, or its head is and its body runs
/// until the close.
pub fn assert_prefixes(case: &Case) {
    let len = case.bytes.len();
    for k in cuts(case) {
        let got = drive(&case.bytes[..k], &[], case.setup);
        let fine = match (&case.want, &got) {
            (Want::Answer(e), _) if k >= e.end => {
                check(case, &got);
                true
            }
            (
                Want::Answer(e),
                Read::Answer {
                    head,
                    excerpt,
                    used,
                },
            ) => {
                e.until_close
                    && k >= e.head_end
                    && head.status == e.status
                    && head.close
                    && *used == k
                    && excerpt[..] == kept_part(case, e, &e.body[..k - e.head_end])[..]
            }
            (Want::Answer(e), Read::Failed(ParseError::Incomplete)) => {
                !(e.until_close && k >= e.head_end)
            }
            (Want::Error(e), Read::Failed(g)) => *g == ParseError::Incomplete || g == e,
            (Want::BadHead, Read::Failed(g)) => {
                matches!(g, ParseError::Incomplete | ParseError::Head(_))
            }
            _ => false,
        };
        assert!(
            fine,
            "{}: cut to {k} of {len} bytes gives {} (the whole: {})",
            case.name,
            got.brief(),
            want_brief(&case.want)
        );
    }
}

// -------------------------------------------------------------------------------------------
// 1 and 2: the corpus and the generated cases, whole, split and cut.

#[test]
fn corpus_cases_give_what_they_must_however_their_bytes_arrive() {
    let mut rng = fastrand::Rng::with_seed(seed());
    let cases = corpus();
    for case in &cases {
        let whole = assert_split_invariant(case, &mut rng);
        check(case, &whole);
        assert_prefixes(case);
    }
    eprintln!("{} corpus cases", cases.len());
}

#[test]
fn generated_cases_give_what_they_must_however_their_bytes_arrive() {
    let mut rng = fastrand::Rng::with_seed(seed() ^ 1);
    let cases = generated();
    let mut errors = 0;
    for case in &cases {
        let whole = assert_split_invariant(case, &mut rng);
        check(case, &whole);
        assert_prefixes(case);
        errors += matches!(whole, Read::Failed(_)) as usize;
    }
    // The generator must give both kinds, or the property says little.
    assert!(
        errors > cases.len() / 10 && errors < cases.len() / 2,
        "{errors} errors in {} cases",
        cases.len()
    );
    eprintln!("{} generated cases, {errors} of them errors", cases.len());
}
