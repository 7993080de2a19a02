//! The Lambda Invoke API, as a target: which function and URL an invocation goes to, what
//! its answer's `REPORT` line says (cold start, init, duration, billed time, memory), and
//! what the invocations cost. Pure: the transport and the emulator call it.

pub mod cost;
pub mod function;
pub mod report_line;

pub use cost::{Architecture, Cost, Prices};
pub use function::{FunctionRef, Invocation};
pub use report_line::ReportLine;
