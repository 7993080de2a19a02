//! Lambda, as stampede knows it: which function and URL an invocation goes to (names, ARNs,
//! the Invoke API's path and endpoint), what its answer's `REPORT` line says (cold start,
//! init, duration, billed time, memory), and what the invocations cost. Pure: the CLI (the
//! scenario's Lambda target, the transport, the results) and the emulator both call it.

pub mod cost;
pub mod function;
pub mod report_line;

pub use cost::{gb_seconds, Architecture, Cost, Prices, ARCHITECTURES};
pub use function::{FunctionRef, Invocation};
pub use report_line::ReportLine;
