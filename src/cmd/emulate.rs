//! `stampede emulate`: serve the emulator in the foreground until Ctrl-C (or SIGTERM, SIGHUP).

use std::net::SocketAddr;

use crate::cli::EmulateArgs;
use crate::error::{exit, Error, Result};
use stampede_emulator::{self as emulator, EmulatorConfig, STATS_PATH};

pub fn emulate(args: &EmulateArgs) -> Result<i32> {
    let config = match &args.config {
        Some(path) => emulator::config::load(path)?,
        None => EmulatorConfig::default(),
    };
    let addr: SocketAddr = args.listen.parse().map_err(|_| {
        Error::input(format!(
            "--listen: bad address `{}`\n  expected: IP:PORT, such as 127.0.0.1:8080",
            args.listen
        ))
    })?;
    if !addr.ip().is_loopback() {
        eprintln!("{}", exposed_warning(addr));
    }
    let running = emulator::start(config.clone(), addr)?;
    let metrics = match args.metrics_listen {
        Some(at) => {
            let stats = running.stats_reader();
            let server = crate::live::serve_beside(
                "--metrics-listen",
                at,
                Box::new(move || crate::live::emulator_metrics::gather(&stats.stats(), &[])),
            )?;
            eprintln!("metrics at http://{}/metrics", server.addr);
            Some(server)
        }
        None => None,
    };
    eprintln!(
        "emulating {} API → Lambda `{}` on http://{} (stats: {STATS_PATH}); Ctrl-C stops",
        match config.api {
            emulator::ApiMode::Rest => "a REST",
            emulator::ApiMode::Http => "an HTTP",
            emulator::ApiMode::FunctionUrl => "a function URL, no",
        },
        config.function,
        running.addr
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal(format!("cannot start the runtime: {e}")))?;
    let mut signals = crate::signals::Signals::listen()?;
    runtime.block_on(signals.next());
    drop(metrics);
    let stats = running.stats();
    eprintln!(
        "{}",
        serde_json::to_string(&stats).expect("stats serialise")
    );
    Ok(exit::OK)
}

/// Said when `--listen` is not a loopback address: others on the network reach it.
fn exposed_warning(addr: SocketAddr) -> String {
    format!(
        "warning: --listen {addr} is not a loopback address: anyone who can reach this machine can send it traffic and read its control plane (it checks no credentials); use 127.0.0.1 unless other machines must reach it"
    )
}
