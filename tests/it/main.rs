//! The integration tests, one binary: each file here was its own test binary, and each linked
//! the whole crate. A new file is a `mod` line below (`tests/it/shipping.rs` fails on a file
//! that has none); run one file's tests with `cargo test --test it <file>::`.

mod common;

mod answers;
mod architecture;
mod auth;
mod bad_input;
mod cli;
mod cloudwatch;
mod cloudwatch_routes;
mod compare;
mod connections;
mod control_plane;
mod deploy;
mod distributed;
mod docs;
mod emulator;
mod emulator_lambda_sdk;
mod emulator_routes;
mod emulator_runs;
mod engine_faults;
mod faults;
mod h1_codec;
mod html_report;
mod init;
mod init_api;
mod lambda_target;
mod merge;
mod mix;
mod mix_checks;
mod mix_data;
mod mix_flows;
mod mix_thresholds;
mod moto;
mod moto_routes;
mod onset;
mod parser_fuzz;
mod probe;
mod quota_check;
mod quotas;
mod quotas_routes;
mod rate_limiter;
mod report;
mod report_flows;
mod report_mix;
mod retry;
mod route_check;
mod run;
mod scenarios;
mod schema;
mod shipping;
mod short_of_plan;
mod signals;
mod user_files;
mod verdict_agreement;
