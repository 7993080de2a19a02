//! What logical request number k sends, as a pure function of k and the scenario: which
//! `[[requests]]` entry (or `[[flows]]` entry) of the mix ([`pick`]), the row of each data
//! source it reads ([`data`]), and its path, headers and body rendered from their
//! templates ([`template`]); then what its answer must be ([`expect`]) and what a flow's
//! later steps take from it ([`capture`]).
//!
//! A crate of its own because this is the one place where "the same k gives the same
//! request" must hold — in every lane, every shard and every retry — and it holds only if
//! nothing here reads a clock, a lane or a connection. No tokio, no HTTP types: the engine
//! asks, the transport writes the bytes. Reading a data file is the one I/O here: once at
//! start, then each thread's own reader.

pub mod capture;
pub mod data;
pub mod expect;
pub mod pick;
pub mod secret;
pub mod template;

pub use data::{Pick, Row, RowReader, RowsOf, Source, SourceReaders};
pub use pick::Rotation;
pub use secret::EnvValues;
pub use template::{Context, Position, Scope, SourceColumns, Template, TemplateError};
