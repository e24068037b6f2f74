use clap::Parser;
use sharetrail::cli::Cli;

fn main() -> std::process::ExitCode {
    tune_malloc();
    let cli = Cli::parse();
    let log = cli.log_settings().unwrap_or_else(|err| err.exit());
    sharetrail::telemetry::init(&log);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("sharetrail: could not start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(sharetrail::commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("sharetrail: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc gives each thread (HTTP workers, the runtime, one per SQLite connection) its own malloc
/// arena, and freed memory stays in them: under load that alone took RSS past 100 MB. Two arenas
/// measured the same throughput. `MALLOC_ARENA_MAX` in the environment still wins.
///
/// The visit writer's buffers run to megabytes. glibc raises its mmap threshold each time such a
/// block is freed, after which they come from the arenas and stay there; a fixed threshold keeps
/// them mapped and returned when freed (PostgreSQL redirect benchmark: RSS after the run 103 →
/// 72–80 MB, throughput unchanged).
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only tunes the allocator, and runs first, before any other thread.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
            libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        }
    }
}
