//! The load path's HTTP/1.1 codec (`transport::h1`), proved four ways:
//!
//! 1. the answer does not depend on how its bytes arrive: whole, cut in two at every offset,
//!    byte by byte and in random pieces, the reader gives the same head, kept body, error and
//!    count of bytes taken;
//! 2. a corpus of hand-written answers and a seeded generator, each with what it must give —
//!    and every prefix of each: a cut answer is an error, unless its head is whole and its
//!    body runs until the server closes;
//! 3. hyper's client (a parser we did not write) reads the same bytes: it agrees on ok or
//!    error, status and body, but in the cases marked with why;
//! 4. end to end over loopback TCP, the answers written a few bytes at a time: keep-alive,
//!    `Connection: close`, chunked, a server that closes an idle connection, and the request
//!    bytes the server receives.
//!
//! `STAMPEDE_H1_SEED` and `STAMPEDE_H1_CASES` change the generator's seed and count.

#[path = "h1_codec/case.rs"]
mod case;
#[path = "h1_codec/corpus.rs"]
mod corpus;
#[path = "h1_codec/driver.rs"]
mod driver;
#[path = "h1_codec/framing.rs"]
mod framing;
#[path = "h1_codec/generator.rs"]
mod generator;
#[path = "h1_codec/loopback.rs"]
mod loopback;
#[path = "h1_codec/oracle.rs"]
mod oracle;
