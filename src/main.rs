use clap::Parser;
use sharetrail::cli::Cli;

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
