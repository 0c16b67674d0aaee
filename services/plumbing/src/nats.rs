//! NATS connection and the JetStream topology, created idempotently at start-up by every service.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull, stream};
use complaints_domain::events::EventKind;

use crate::events::{
    AUDIT_STREAM, AUDIT_SUBJECT_PREFIX, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_PREFIX, EVENTS_STREAM, EVENT_SUBJECT_PREFIX, REPLAY_SUBJECT_PREFIX,
};

/// How long JetStream remembers a `Nats-Msg-Id` to drop a re-published duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// The connect options of broker user `name`: its NKey seed file when the broker is locked
/// down, replies on the user's own inbox prefix, and with `tls_ca_file` TLS required and the
/// server's certificate verified against that CA (PEM).
pub fn options(name: &str, seed_file: Option<&std::path::Path>, tls_ca_file: Option<&std::path::Path>) -> anyhow::Result<async_nats::ConnectOptions> {
    let mut options = async_nats::ConnectOptions::new()
        .name(name)
        .custom_inbox_prefix(crate::broker::inbox_prefix(name))
        .connection_timeout(Duration::from_secs(5));
    if let Some(ca) = tls_ca_file {
        if !ca.exists() {
            anyhow::bail!("the broker's CA file {} does not exist (nats_tls_ca_file)", ca.display());
        }
        options = options.require_tls(true).add_root_certificates(ca.to_path_buf());
    }
    if let Some(path) = seed_file {
        let seed = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read the NKey seed {}: {e}", path.display()))?;
        options = options.nkey(seed.trim().to_owned());
    }
    Ok(options)
}

/// Connects a service to NATS as `name`, retrying until the broker is reachable.
pub async fn connect(url: &str, name: &str, seed_file: Option<&std::path::Path>, tls_ca_file: Option<&std::path::Path>) -> anyhow::Result<async_nats::Client> {
    Ok(options(name, seed_file, tls_ca_file)?.retry_on_initial_connect().connect(url).await?)
}

/// Creates the event stream (events kept `max_age_days`) and the dead-letter stream (kept
/// `dead_letter_days`), or updates them to this configuration.
pub async fn ensure_streams(js: &jetstream::Context, max_age_days: u64, dead_letter_days: u64) -> anyhow::Result<()> {
    js.create_or_update_stream(stream::Config {
        name: EVENTS_STREAM.to_owned(),
        subjects: vec![format!("{EVENT_SUBJECT_PREFIX}>"), format!("{REPLAY_SUBJECT_PREFIX}>")],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: Duration::from_secs(max_age_days * 24 * 3600),
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot create stream {EVENTS_STREAM}: {e}"))?;
    js.create_or_update_stream(stream::Config {
        name: DEAD_LETTER_STREAM.to_owned(),
        subjects: vec![format!("{DEAD_LETTER_SUBJECT_PREFIX}>")],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: Duration::from_secs(dead_letter_days * 24 * 3600),
        duplicate_window: DUPLICATE_WINDOW,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot create stream {DEAD_LETTER_STREAM}: {e}"))?;
    Ok(())
}

/// Creates the audit stream (heads of every service's audit chain, kept `retention_days`,
/// no deletes or purges), or updates it to this configuration.
pub async fn ensure_audit_stream(js: &jetstream::Context, retention_days: u64) -> anyhow::Result<()> {
    js.create_or_update_stream(stream::Config {
        name: AUDIT_STREAM.to_owned(),
        subjects: vec![format!("{AUDIT_SUBJECT_PREFIX}>")],
        storage: stream::StorageType::File,
        retention: stream::RetentionPolicy::Limits,
        max_age: Duration::from_secs(retention_days * 24 * 3600),
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot create stream {AUDIT_STREAM}: {e}"))?;
    Ok(())
}

/// Creates the durable pull consumer `name` on the event stream, filtered to the given event
/// kinds plus its own replay subject, or updates an existing one to this configuration (so an
/// upgrade that consumes a new event takes effect).
///
/// JetStream redelivers without limit: the consumer runner counts deliveries itself and
/// dead-letters at its own limit, so a message is never dropped by the server.
pub async fn ensure_consumer(
    js: &jetstream::Context,
    name: &str,
    kinds: &[EventKind],
) -> anyhow::Result<jetstream::consumer::Consumer<pull::Config>> {
    let stream = js.get_stream(EVENTS_STREAM).await?;
    let mut filter_subjects: Vec<String> = kinds.iter().map(|kind| crate::events::filter_subject(*kind)).collect();
    filter_subjects.push(format!("{REPLAY_SUBJECT_PREFIX}{name}.>"));
    let consumer = stream
        .create_consumer(pull::Config {
            durable_name: Some(name.to_owned()),
            filter_subjects,
            ack_policy: jetstream::consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            max_deliver: -1,
            max_ack_pending: 1000,
            ..Default::default()
        })
        .await
        .map_err(|e| anyhow::anyhow!("cannot create consumer {name}: {e}"))?;
    Ok(consumer)
}
