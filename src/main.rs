use clap::Parser;
use sharetrail::cli::Cli;

// glibc's per-thread arenas grew RSS past 100 MB under load; mimalloc holds it lower and is faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    sharetrail::telemetry::init();
    match sharetrail::commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("sharetrail: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
