//! Retention of the plumbing's own records: published outbox rows and inbox claims are pruned
//! once nothing can need them, in batches, by a task every service runs; dead letters age out
//! of their stream (`retention.dead_letter_days`). The audit trail is never pruned here: it is
//! kept for the audit retention, and its heads for `audit_retention_days` in the audit stream.
//!
//! An inbox claim must outlive every redelivery of its event: the event stream drops events
//! after `stream_max_age_days`, so claims are kept longer than that (checked at start-up).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyPool;
use tokio_util::sync::CancellationToken;

use crate::store::StoreError;

/// How long the plumbing keeps what (`CMS_RETENTION__…`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Published outbox rows are deleted after this many days (unpublished ones never).
    pub outbox_days: u64,
    /// Inbox claims are deleted after this many days; must exceed `stream_max_age_days`.
    pub inbox_days: u64,
    /// Dead letters stay in their stream this many days.
    pub dead_letter_days: u64,
    /// How often the pruning runs, in seconds.
    pub prune_interval_secs: u64,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self { outbox_days: 7, inbox_days: 37, dead_letter_days: 90, prune_interval_secs: 3600 }
    }
}

impl RetentionConfig {
    /// Refuses a policy that would forget a claim while its event can still be redelivered.
    pub fn check(&self, stream_max_age_days: u64) -> anyhow::Result<()> {
        if self.inbox_days <= stream_max_age_days {
            anyhow::bail!(
                "retention.inbox_days ({}) must exceed stream_max_age_days ({stream_max_age_days}): a redelivered event would be applied twice",
                self.inbox_days
            );
        }
        Ok(())
    }
}

/// Rows deleted per statement.
const BATCH: i64 = 1000;

const DAY_MS: i64 = 24 * 3600 * 1000;

fn days_ms(days: u64) -> i64 {
    i64::try_from(days).unwrap_or(i64::MAX / DAY_MS).saturating_mul(DAY_MS)
}

/// What one pruning pass deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pruned {
    pub outbox: u64,
    pub inbox: u64,
}

/// Deletes published outbox rows and inbox claims older than the policy allows at `now_ms`.
pub async fn prune(pool: &AnyPool, policy: &RetentionConfig, now_ms: i64) -> Result<Pruned, StoreError> {
    let outbox_before = now_ms.saturating_sub(days_ms(policy.outbox_days));
    let inbox_before = now_ms.saturating_sub(days_ms(policy.inbox_days));
    let outbox = delete_in_batches(
        pool,
        "DELETE FROM outbox WHERE event_id IN \
         (SELECT event_id FROM outbox WHERE published_at_ms IS NOT NULL AND published_at_ms < $1 LIMIT $2)",
        outbox_before,
    )
    .await?;
    let inbox = delete_in_batches(
        pool,
        "DELETE FROM inbox WHERE (consumer, event_id) IN \
         (SELECT consumer, event_id FROM inbox WHERE processed_at_ms < $1 LIMIT $2)",
        inbox_before,
    )
    .await?;
    Ok(Pruned { outbox, inbox })
}

async fn delete_in_batches(pool: &AnyPool, sql: &str, before_ms: i64) -> Result<u64, StoreError> {
    let mut deleted = 0;
    loop {
        let done = sqlx::query(sql).bind(before_ms).bind(BATCH).execute(pool).await?.rows_affected();
        deleted += done;
        if done < u64::try_from(BATCH).unwrap_or(u64::MAX) {
            return Ok(deleted);
        }
    }
}

/// Runs [`prune`] every `prune_interval_secs` until cancelled; a failed pass is logged and
/// retried at the next interval.
pub async fn run(pool: AnyPool, policy: RetentionConfig, token: CancellationToken) -> anyhow::Result<()> {
    let interval = Duration::from_secs(policy.prune_interval_secs.max(1));
    loop {
        match prune(&pool, &policy, crate::now_ms()).await {
            Ok(pruned) if pruned != Pruned::default() => tracing::info!(outbox = pruned.outbox, inbox = pruned.inbox, "pruned"),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "pruning failed; retried at the next interval"),
        }
        tokio::select! {
            () = token.cancelled() => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    }
}
