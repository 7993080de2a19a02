use clap::Parser;

fn main() {
    let cli = stampede::cli::Cli::parse();
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
    let code = match stampede::cmd::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.code
        }
    };
    std::process::exit(code);
}
