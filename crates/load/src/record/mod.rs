//! Recording what happened: per-lane recorders on the hot path (no locks; one per thread),
//! merged into per-stage records and a per-second timeline.

pub mod flow;
pub mod lambda;
pub(crate) mod lane;
pub mod live;
mod stage;
mod statuses;
mod timeline;

pub use flow::{FailReason, FlowRecord, CAPTURE_MISSING};
pub use lambda::{ColdStart, LambdaRecord};
pub use lane::{
    pick_samples, AttemptEnded, FailureSample, LaneRecorder, RequestEnd, FAILURE_SAMPLES,
};
pub use stage::{Counts, StageRecord, ATTEMPT_BUCKETS};
pub use stampede_results::histogram::{
    decode, encode, new_histogram, percentiles, Percentiles, SecondLatency, ENCODING,
};
pub use statuses::StatusCounts;
pub use timeline::{RequestSeconds, SecondHistograms, SecondRecord, Timeline, TimelinePoint};
