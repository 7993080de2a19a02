fn main() {
    // A fault inside stampede is named in one line, never a stack trace: the engine
    // catches a failing lane and still writes what the others gathered.
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        let at = info
            .location()
            .map_or(String::new(), |l| format!(" at {}:{}", l.file(), l.line()));
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("main");
        eprintln!("error: stampede failed inside ({name}{at}): {what}");
    }));
    let cli = stampede::cli::Cli::parse_args();
    // `stampede plan … | head` ends quietly, as Unix tools do; `run` handles a closed pipe
    // itself, so a reader going away never costs a run its results.
    if !matches!(cli.command, stampede::cli::Command::Run(_)) {
        // SAFETY: setting a signal's disposition to its default has no preconditions.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        }
    }
    // Our own warnings by default; the AWS SDK's only when asked (-v), as they are long.
    use tracing::Level;
    use tracing_subscriber::prelude::*;
    let (ours, theirs) = match cli.verbose {
        0 => (Level::WARN, Level::ERROR),
        1 => (Level::INFO, Level::WARN),
        _ => (Level::DEBUG, Level::DEBUG),
    };
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("stampede", ours)
        .with_default(theirs);
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter),
        )
        .init();
    // A panic outside the engine is stampede failing (exit 4), not a code of Rust's own.
    let code = match std::panic::catch_unwind(|| stampede::cmd::dispatch(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) => {
            eprintln!("error: {e}");
            e.code
        }
        Err(_) => stampede::error::exit::INTERNAL,
    };
    std::process::exit(code);
}
