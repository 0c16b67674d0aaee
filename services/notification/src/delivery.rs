//! The delivery worker: sends each pending delivery through the gateway (HTTP webhook with an
//! `Idempotency-Key`, or a spool directory), then marks it delivered and emits
//! `customer_notified` in one transaction. A crash between sending and marking re-sends with the
//! same key, which the gateway uses to drop the duplicate; at-least-once with a stable key is the
//! strongest promise any external channel allows.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use complaints_domain::events::{CustomerNotified, LifecycleEvent};
use complaints_domain::{Channel, ComplaintId, ComplaintNumber};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::sealed::SealFor;
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::vault::{Opened, Vault};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::store::{self, Delivery, DeliveryKind};
use crate::SERVICE;

/// Where messages go.
#[derive(Clone)]
pub enum Gateway {
    Webhook { client: reqwest::Client, url: String },
    /// One file per delivery, `<delivery id>.sealed`: the JSON a webhook would receive, sealed
    /// for the gateway's public key (only the gateway opens it).
    Spool { directory: PathBuf, seal_for: SealFor },
}

impl Gateway {
    pub fn new(webhook_url: &str, spool_dir: PathBuf, spool_seal_key: Option<&Path>) -> anyhow::Result<Self> {
        if webhook_url.is_empty() {
            let key = spool_seal_key.ok_or_else(|| {
                anyhow::anyhow!(
                    "spool_seal_key_file (CMS_SPOOL_SEAL_KEY_FILE) is not set: with no webhook_url, deliveries are spooled \
                     sealed for the gateway's public key (complaintctl up generates .data/secrets/gateway.key.pub)"
                )
            })?;
            let seal_for = SealFor::load(key)?;
            std::fs::create_dir_all(&spool_dir)?;
            return Ok(Self::Spool { directory: spool_dir, seal_for });
        }
        let client = reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?;
        Ok(Self::Webhook { client, url: webhook_url.to_owned() })
    }

    /// Hands one delivery to the gateway, to `recipient` (in clear); `Ok` only when the
    /// gateway took it.
    pub async fn send(&self, delivery: &Delivery, recipient: &str) -> anyhow::Result<()> {
        let body = serde_json::json!({
            "delivery_id": delivery.delivery_id,
            "complaint_id": delivery.complaint_id,
            "complaint_number": delivery.complaint_number,
            "kind": delivery.kind.as_str(),
            "channel": delivery.channel,
            "recipient": recipient,
            "subject": delivery.message.subject,
            "text": delivery.message.text,
        });
        match self {
            Self::Webhook { client, url } => {
                let response = client
                    .post(url)
                    .header("Idempotency-Key", &delivery.delivery_id)
                    .json(&body)
                    .send()
                    .await?;
                if !response.status().is_success() {
                    anyhow::bail!("gateway answered {}", response.status());
                }
                Ok(())
            }
            Self::Spool { directory, seal_for } => {
                let path = directory.join(format!("{}.sealed", delivery.delivery_id));
                let temporary = directory.join(format!(".{}.tmp", delivery.delivery_id));
                let bytes = seal_for.seal(&serde_json::to_vec(&body)?);
                let directory = directory.clone();
                // Durable before it is recorded as delivered: file, rename, directory entry.
                tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                    use std::io::Write as _;
                    let mut file = std::fs::File::create(&temporary)?;
                    file.write_all(&bytes)?;
                    file.sync_all()?;
                    std::fs::rename(&temporary, &path)?;
                    std::fs::File::open(&directory)?.sync_all()
                })
                .await??;
                Ok(())
            }
        }
    }
}

pub struct Worker {
    pub plumbing: Plumbing,
    pub gateway: Gateway,
    pub wake: Arc<Notify>,
    pub retry_base_seconds: u64,
    /// Opens the sealed recipients.
    pub vault: Vault,
}

impl Worker {
    pub async fn run(self, token: CancellationToken) -> anyhow::Result<()> {
        loop {
            match self.deliver_due().await {
                Ok(count) if count > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(error = %format!("{error:#}"), "delivery pass failed"),
            }
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Sends every due delivery once; returns how many were delivered.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let pool = &self.plumbing.pool;
        let due = store::due(pool, complaints_plumbing::now_ms(), 64).await?;
        let mut delivered = 0;
        for delivery in due {
            let span = tracing::info_span!("deliver", complaint_id = %delivery.complaint_id, kind = delivery.kind.as_str());
            complaints_plumbing::telemetry::set_remote_parent(&span, &delivery.traceparent, "");
            if self.deliver(&delivery).instrument(span).await? {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// Sends one delivery; `Ok(true)` when the gateway took it.
    async fn deliver(&self, delivery: &Delivery) -> anyhow::Result<bool> {
        let pool = &self.plumbing.pool;
        let recipient = match delivery.kind {
            DeliveryKind::Staff(_) => delivery.recipient.clone(),
            DeliveryKind::Customer(_) => match self.vault.open_field(&store::recipient_place(&delivery.delivery_id), &delivery.recipient).await? {
                Opened::Clear(recipient) => recipient,
                Opened::Erased => {
                    tracing::info!(kind = delivery.kind.as_str(), "not delivered: the customer's personal data was erased");
                    store::mark_erased(pool, &delivery.delivery_id).await?;
                    return Ok(false);
                }
            },
        };
        {
            match self.gateway.send(delivery, &recipient).await {
                Ok(()) => {
                    let mut tx = pool.begin().await?;
                    let customer_notice = match delivery.kind {
                        DeliveryKind::Customer(kind) => Some(kind),
                        DeliveryKind::Staff(_) => None,
                    };
                    if let (true, Some(kind)) = (store::mark_delivered(&mut tx, &delivery.delivery_id).await?, customer_notice) {
                        let event = LifecycleEvent::CustomerNotified(CustomerNotified {
                            delivery_id: delivery.delivery_id.clone(),
                            kind,
                            channel: Channel::parse(&delivery.channel)
                                .ok_or_else(|| anyhow::anyhow!("delivery {} has unknown channel {}", delivery.delivery_id, delivery.channel))?,
                        });
                        let complaint_id = ComplaintId::parse("complaint_id", &delivery.complaint_id)?;
                        let complaint_number = ComplaintNumber::parse("complaint_number", &delivery.complaint_number)?;
                        outbox::enqueue(&mut tx, SERVICE, Subject::new(&complaint_id, &complaint_number), event).await?;
                    }
                    tx.commit().await?;
                    self.plumbing.relay.notify();
                    tracing::info!(kind = delivery.kind.as_str(), "delivered");
                    Ok(true)
                }
                Err(error) => {
                    let exponent = u32::try_from(delivery.attempts.clamp(0, 10)).unwrap_or(10);
                    let delay_ms = (self.retry_base_seconds * 1000).saturating_mul(2u64.pow(exponent)).min(600_000);
                    let next = complaints_plumbing::now_ms() + i64::try_from(delay_ms).unwrap_or(600_000);
                    tracing::warn!(error = %format!("{error:#}"), attempts = delivery.attempts + 1, "delivery failed; will retry");
                    store::mark_failed(pool, &delivery.delivery_id, next, &format!("{error:#}")).await?;
                    Ok(false)
                }
            }
        }
    }
}
