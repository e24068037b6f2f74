//! Structured logs with `tracing`.

use tracing_subscriber::EnvFilter;

/// `SHARETRAIL_LOG` takes a tracing filter (`info`, `sharetrail=debug,sqlx=warn`);
/// `SHARETRAIL_LOG_FORMAT=json` switches to one JSON object per line for log shippers.
pub fn init() {
    let filter = EnvFilter::try_from_env("SHARETRAIL_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let json = std::env::var("SHARETRAIL_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Ignore the error: a test binary may already have installed a subscriber.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// `outer: middle: root`, so one log line says everything that went wrong.
pub fn cause_chain(err: &(dyn std::error::Error + 'static)) -> String {
    use std::fmt::Write;
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let _ = write!(out, ": {cause}");
        source = cause.source();
    }
    out
}
