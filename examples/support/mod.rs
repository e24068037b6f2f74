//! What the benchmarks share: settings from the environment, where the database lives, and a
//! seeded random generator.

/// A positive number from the environment, or the default.
pub fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `BENCH_DATABASE_URL`, or a SQLite file in a new temporary directory named after `name`; the
/// directory is returned so that the benchmark keeps it until it ends, and removed when dropped.
pub fn database_url(name: &str) -> std::io::Result<(String, tempfile::TempDir)> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("sharetrail-{name}-"))
        .tempdir()?;
    let url = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| format!("sqlite://{}", dir.path().join("bench.db").display()));
    Ok((url, dir))
}

/// A small deterministic generator: runs must be comparable, so no random seed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}
