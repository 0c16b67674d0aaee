//! Erasure of a customer by crypto-shredding: on request (`EraseCustomer`) and, once the record
//! retention of every complaint of theirs has run out, by the hourly sweep. Both apply the
//! same rule — every complaint closed, none under legal hold, each past
//! `record_retention_days.<pack>` from its last change — and the same erasure: the customer's
//! data keys are destroyed, each complaint is marked erased and `customer_erased` announces it
//! to the services holding their own copies.

use std::time::Duration;

use complaints_domain::StaffId;
use complaints_plumbing::outbox::RelayHandle;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_plumbing::time::TimeSource;
use complaints_plumbing::vault::Vault;
use sqlx::{AnyPool, Row};
use tokio_util::sync::CancellationToken;

use crate::store::{self, StoredComplaint};
use crate::{Config, Error};

const DAY_MS: i64 = 24 * 3600 * 1000;

/// Who the sweep records as having erased a customer.
pub const SWEEP_ACTOR: &str = "system:retention";

/// Customers examined per query of the sweep.
const BATCH: i64 = 100;

/// Why the customer whose complaints are `complaints` may not be erased at `now_ms`, naming
/// the first complaint that holds them; `None` when they may.
pub fn refusal(complaints: &[StoredComplaint], config: &Config, now_ms: i64) -> Option<String> {
    complaints.iter().find_map(|complaint| {
        let number = &complaint.complaint_number;
        if complaint.stage.is_open() {
            return Some(format!("complaint {number}: is still {}; a customer is erased once every complaint is closed", complaint.stage));
        }
        if !complaint.legal_hold.is_empty() {
            return Some(format!("complaint {number}: is under legal hold: {}", complaint.legal_hold));
        }
        let days = config.retention_days(&complaint.jurisdiction);
        let kept_until = complaint.updated_at_ms.saturating_add(days.saturating_mul(DAY_MS));
        (now_ms < kept_until).then(|| {
            format!(
                "complaint {number}: the record is kept until {} ({days} days after closing under the {} rules)",
                complaints_plumbing::format_ms(kept_until),
                complaint.jurisdiction
            )
        })
    })
}

/// Who erases, why and when.
pub struct Erasure<'a> {
    pub by: &'a StaffId,
    pub reason: &'a str,
    pub now_ms: i64,
}

/// Erases the customer with lookup key `customer_key`, whose complaints not yet erased are
/// `complaints`, inside `tx`: refused (nothing changed) unless [`refusal`] finds no reason.
/// Two erasures of one customer racing: the later finds the rows erased and fails with
/// [`StoreError::Conflict`]; so does one racing a new complaint of the customer.
pub async fn erase(
    tx: &mut Tx,
    vault: &Vault,
    config: &Config,
    complaints: &[StoredComplaint],
    customer_key: &str,
    erasure: &Erasure<'_>,
) -> Result<(), Error> {
    if let Some(rule) = refusal(complaints, config, erasure.now_ms) {
        return Err(Error::Refused(rule));
    }
    vault.shred_in(tx, customer_key).await?;
    // A registration on another replica that read the customer's key before the shred holds
    // it until its commit (PostgreSQL), so its complaint is visible now: when the complaints
    // are no longer those read, the erasure rolls back.
    let now = store::of_customer(tx, customer_key).await?;
    let ids = |complaints: &[StoredComplaint]| complaints.iter().map(|c| c.complaint_id.clone()).collect::<std::collections::BTreeSet<_>>();
    if ids(&now) != ids(complaints) {
        return Err(StoreError::Conflict.into());
    }
    store::record_erasure(tx, complaints, customer_key, erasure.by, erasure.reason, erasure.now_ms).await?;
    Ok(())
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Customers erased.
    pub erased: usize,
    /// Customers with a complaint past the shortest retention who are still kept (another
    /// complaint open, held or within its own retention).
    pub kept: usize,
    /// Customers whose erasure failed (retried at the next sweep).
    pub failed: usize,
}

/// Erases every customer whose complaints have all outlived their retention at `now_ms`.
/// Several replicas may sweep at once: an erasure that loses the race rolls back. The sweep
/// walks the customers in lookup-key order through `complaints_by_customer_key`, reading
/// each complaint's last change from the row: one pass an hour, rather than an index on
/// `updated_at_ms` that every stage change of every complaint would have to maintain.
pub async fn sweep(pool: &AnyPool, vault: &Vault, config: &Config, relay: &RelayHandle, now_ms: i64) -> Result<Swept, Error> {
    let shortest = config.record_retention_days.values().copied().chain([config.retention_days("")]).min().unwrap_or(0);
    let changed_before = now_ms.saturating_sub(shortest.saturating_mul(DAY_MS));
    let by = StaffId::parse("erased_by", SWEEP_ACTOR)?;
    let erasure = Erasure { by: &by, reason: "the record retention of every complaint ran out", now_ms };
    let mut swept = Swept::default();
    let mut after = String::new();
    loop {
        let keys: Vec<String> = sqlx::query(
            "SELECT DISTINCT customer_key FROM complaints \
             WHERE erased_at_ms IS NULL AND customer_key <> '' AND customer_key > $1 AND updated_at_ms < $2 \
             ORDER BY customer_key LIMIT $3",
        )
        .bind(&after)
        .bind(changed_before)
        .bind(BATCH)
        .fetch_all(pool)
        .await
        .map_err(StoreError::from)?
        .iter()
        .map(|row| row.try_get("customer_key"))
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)?;
        let Some(last) = keys.last() else { return Ok(swept) };
        after = last.clone();
        for customer_key in &keys {
            let outcome = async {
                let mut tx = pool.begin().await.map_err(StoreError::from)?;
                let complaints = store::of_customer(&mut tx, customer_key).await?;
                if complaints.is_empty() {
                    return Ok(0);
                }
                erase(&mut tx, vault, config, &complaints, customer_key, &erasure).await?;
                tx.commit().await.map_err(StoreError::from)?;
                Ok::<usize, Error>(complaints.len())
            }
            .await;
            match outcome {
                Ok(0) => {}
                Ok(complaints) => {
                    relay.notify();
                    swept.erased += 1;
                    tracing::info!(complaints, "customer erased at the end of the record retention");
                }
                Err(Error::Refused(_)) => swept.kept += 1,
                Err(Error::Store(StoreError::Conflict)) => tracing::debug!("customer changed or erased meanwhile; looked at again next sweep"),
                // One customer's failure (a corrupt row, a deadlock) does not stop the others.
                Err(error) => {
                    swept.failed += 1;
                    tracing::warn!(%error, "erasing a customer failed; retried at the next sweep");
                }
            }
        }
    }
}

/// Runs [`sweep`] every `interval` until cancelled; a failed sweep is logged and retried at
/// the next interval.
pub async fn run(
    pool: AnyPool,
    vault: Vault,
    config: Config,
    relay: RelayHandle,
    time: TimeSource,
    interval: Duration,
    token: CancellationToken,
) -> anyhow::Result<()> {
    loop {
        match sweep(&pool, &vault, &config, &relay, time.now_ms()).await {
            Ok(swept) if swept.erased + swept.failed > 0 => {
                tracing::info!(erased = swept.erased, kept = swept.kept, failed = swept.failed, "erasure sweep")
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "erasure sweep failed; retried at the next interval"),
        }
        tokio::select! {
            () = token.cancelled() => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    }
}
