//! Plumbing every service of the complaint platform shares: configuration, telemetry, stores
//! and migrations, the audit trail, outbox and inbox, NATS topology, the consumer runner, dead letters, gRPC
//! serving with authentication, health and reflection, the error boundary's codes, the service
//! builder and test support.
//!
//! Services depend on this crate, `complaints-domain` and `complaints-proto`, never on each
//! other.

pub mod access;
pub mod audit;
pub mod auth;
pub mod broker;
pub mod clocks;
pub mod config;
pub mod consumer;
pub mod dlq;
pub mod error;
pub mod events;
pub mod grpc;
pub mod inbox;
pub mod lookup;
pub mod metrics;
pub mod nats;
pub mod outbox;
pub mod privacy;
pub mod retention;
pub mod roles;
pub mod scheduler;
pub mod sealed;
pub mod service;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod vault;
#[cfg(feature = "test-support")]
pub mod testing;

/// Milliseconds since the Unix epoch, the one time representation stored and carried on events.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Epoch milliseconds of an RFC 3339 instant (any offset); `None` when it is not one.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// Hex SHA-256 of `bytes`: the one digest of evidence, case files and the audit chains.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Writes a secret to a new file readable by its owner only (0600); an existing file is an error.
pub(crate) fn write_private(path: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}

/// Formats epoch milliseconds as RFC 3339 (UTC, millisecond precision).
pub fn format_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
