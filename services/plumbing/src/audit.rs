//! The tamper-evident audit trail every service keeps of the commands it was given.
//!
//! Every command RPC (a method whose name does not start with `Get`, `List`, `Search` or
//! `Verify`) is appended to the service's `audit_log` before the handler runs: who (the token's
//! subject), what (the gRPC method), when, and the SHA-256 of the request message as it came
//! over the wire. Entry *n*'s hash covers its own fields and the hash of entry *n − 1* (the
//! first entry links to a genesis hash of the service name), so altering, inserting or removing
//! any entry breaks every hash after it. A command whose entry cannot be written is refused
//! (`UNAVAILABLE`): nothing is done unaudited. Refused calls (a denied permission, a bad field)
//! are in the trail too: it records what was asked, the service's own records what was done.
//!
//! [`verify`] recomputes the chain and names the first entry that does not verify; the `Audit`
//! gRPC service every server carries exposes it to operators (`complaintctl audit verify`).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_nats::jetstream;
use futures::StreamExt;
use http_body_util::BodyExt;
use prost::Message;
use sqlx::{AnyPool, Row};
use tonic::body::Body;
use tonic::{Request, Response, Status};

use crate::auth::{is_exempt_path, Actor};
use crate::events::{AUDIT_STREAM, AUDIT_SUBJECT_PREFIX};
use crate::store::{StoreError, Tx};
use complaints_proto::v1 as pb;

/// Method-name prefixes of reads: they change nothing and are not audited.
pub const READ_PREFIXES: [&str; 4] = ["Get", "List", "Search", "Verify"];

/// Attempts at appending before a command is refused (concurrent appends race for a sequence
/// number on PostgreSQL; the loser retries).
const APPEND_ATTEMPTS: usize = 20;

/// Whether the gRPC `path` (`/package.Service/Method`) is a command that the trail records.
pub fn is_command(path: &str) -> bool {
    if is_exempt_path(path) {
        return false;
    }
    let method = path.rsplit('/').next().unwrap_or_default();
    !READ_PREFIXES.iter().any(|prefix| method.starts_with(prefix))
}

/// The hash the first entry of `service`'s chain links to.
pub fn genesis(service: &str) -> String {
    crate::sha256_hex(format!("cms-audit-genesis:{service}").as_bytes())
}

/// One entry of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub recorded_at_ms: i64,
    pub actor: String,
    pub method: String,
    pub payload_sha256: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The hash of an entry: SHA-256 of the JSON array of its predecessor's hash and its fields
/// (JSON, so no field can run into the next).
pub fn entry_hash(prev_hash: &str, seq: i64, recorded_at_ms: i64, actor: &str, method: &str, payload_sha256: &str) -> String {
    let canonical = serde_json::json!([prev_hash, seq, recorded_at_ms, actor, method, payload_sha256]).to_string();
    crate::sha256_hex(canonical.as_bytes())
}

/// Appends one entry in its own transaction and returns it. Replicas appending at the same
/// moment race for the next sequence number; the loser re-reads the head and links to the
/// winner's entry.
pub async fn append(pool: &AnyPool, service: &str, actor: &str, method: &str, payload_sha256: &str) -> Result<Entry, StoreError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match try_append(pool, service, actor, method, payload_sha256).await {
            Ok(entry) => return Ok(entry),
            Err(AppendError::Store(error)) => return Err(error),
            Err(AppendError::Raced(error)) if attempt >= APPEND_ATTEMPTS => return Err(error),
            Err(AppendError::Raced(_)) => tokio::time::sleep(std::time::Duration::from_millis(2 * attempt as u64)).await,
        }
    }
}

enum AppendError {
    /// Another writer took the sequence number, or holds the (SQLite) write lock.
    Raced(StoreError),
    Store(StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(error: sqlx::Error) -> Self {
        let raced = match &error {
            sqlx::Error::Database(database) => {
                database.is_unique_violation() || matches!(database.code().as_deref(), Some("5" | "517" | "40001"))
            }
            _ => false,
        };
        if raced {
            Self::Raced(error.into())
        } else {
            Self::Store(error.into())
        }
    }
}

impl From<StoreError> for AppendError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => error.into(),
            StoreError::Conflict => Self::Raced(StoreError::Conflict),
            other => Self::Store(other),
        }
    }
}

async fn try_append(pool: &AnyPool, service: &str, actor: &str, method: &str, payload_sha256: &str) -> Result<Entry, AppendError> {
    let mut tx = pool.begin().await?;
    let entry = next_entry(&mut tx, service, actor, method, payload_sha256).await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, recorded_at_ms, actor, method, payload_sha256, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(entry.seq)
    .bind(entry.recorded_at_ms)
    .bind(&entry.actor)
    .bind(&entry.method)
    .bind(&entry.payload_sha256)
    .bind(&entry.prev_hash)
    .bind(&entry.hash)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(entry)
}

async fn next_entry(tx: &mut Tx, service: &str, actor: &str, method: &str, payload_sha256: &str) -> Result<Entry, StoreError> {
    let (seq, prev_hash) = match head(&mut **tx).await? {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, genesis(service)),
    };
    let recorded_at_ms = crate::now_ms();
    let hash = entry_hash(&prev_hash, seq, recorded_at_ms, actor, method, payload_sha256);
    Ok(Entry {
        seq,
        recorded_at_ms,
        actor: actor.to_owned(),
        method: method.to_owned(),
        payload_sha256: payload_sha256.to_owned(),
        prev_hash,
        hash,
    })
}

/// The outcome of recomputing a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub entries: u64,
    pub head: Option<(i64, String)>,
    /// The first entry that does not verify, and why.
    pub broken: Option<(i64, String)>,
}

/// Page size of the verification scan.
const VERIFY_PAGE: i64 = 1000;

/// A chain head as published to the audit stream: sequence → (hash, when published).
pub type PublishedHeads = BTreeMap<i64, (String, i64)>;

/// Recomputes every entry of `service`'s chain, in sequence order, page by page, and checks it
/// against the heads published earlier: an entry that no longer has the published hash, or a
/// published head beyond the end of the chain, is a break even when every link recomputes.
pub async fn verify(pool: &AnyPool, service: &str, heads: &PublishedHeads) -> Result<Verdict, StoreError> {
    let mut verdict = Verdict { entries: 0, head: None, broken: None };
    let mut expected_prev = genesis(service);
    let mut expected_seq = 1_i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, recorded_at_ms, actor, method, payload_sha256, prev_hash, hash FROM audit_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expected_seq)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await?;
        let page = rows.len();
        for row in rows {
            let entry = Entry {
                seq: row.try_get("seq")?,
                recorded_at_ms: row.try_get("recorded_at_ms")?,
                actor: row.try_get("actor")?,
                method: row.try_get("method")?,
                payload_sha256: row.try_get("payload_sha256")?,
                prev_hash: row.try_get("prev_hash")?,
                hash: row.try_get("hash")?,
            };
            verdict.entries += 1;
            let problem = if entry.seq != expected_seq {
                Some(format!("entry {expected_seq} is missing (the next entry is {})", entry.seq))
            } else if entry.prev_hash != expected_prev {
                Some("it does not link to the hash of the entry before it".to_owned())
            } else if entry.hash
                != entry_hash(&entry.prev_hash, entry.seq, entry.recorded_at_ms, &entry.actor, &entry.method, &entry.payload_sha256)
            {
                Some("its content does not match its hash".to_owned())
            } else {
                heads.get(&entry.seq).filter(|(hash, _)| *hash != entry.hash).map(|(_, at)| {
                    format!("its hash differs from the head published to the audit stream at {}", crate::format_ms(*at))
                })
            };
            if let Some(problem) = problem {
                verdict.broken = Some((expected_seq.min(entry.seq), problem));
                verdict.head = Some((entry.seq, entry.hash));
                return Ok(verdict);
            }
            expected_prev = entry.hash.clone();
            expected_seq = entry.seq + 1;
            verdict.head = Some((entry.seq, entry.hash));
        }
        if i64::try_from(page).unwrap_or(i64::MAX) < VERIFY_PAGE {
            if let Some((&published, (_, at))) = heads.range(expected_seq..).next() {
                verdict.broken = Some((
                    expected_seq,
                    format!("entries from {expected_seq} on are missing: the head of entry {published} was published at {}", crate::format_ms(*at)),
                ));
            }
            return Ok(verdict);
        }
    }
}

/// The chain's head: the last entry's sequence number and hash.
pub async fn head<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> Result<Option<(i64, String)>, StoreError> {
    let row = sqlx::query("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetch_optional(db).await?;
    row.map(|row| -> Result<_, StoreError> { Ok((row.try_get("seq")?, row.try_get("hash")?)) }).transpose()
}

/// Publishes the chain's head to `cms.audit.<service>` whenever it moved, every `interval`.
pub struct HeadPublisher {
    pub pool: AnyPool,
    pub jetstream: jetstream::Context,
    pub service: &'static str,
    pub interval: std::time::Duration,
}

impl HeadPublisher {
    pub async fn run(self, token: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
        let subject = format!("{AUDIT_SUBJECT_PREFIX}{}", self.service);
        let mut published = last_published(&self.jetstream, &subject).await;
        loop {
            match head(&self.pool).await {
                Ok(Some((seq, hash))) if published.as_ref() != Some(&(seq, hash.clone())) => {
                    let message = pb::AuditHead {
                        service: self.service.to_owned(),
                        seq: u64::try_from(seq).unwrap_or_default(),
                        hash: hash.clone(),
                        published_at_ms: crate::now_ms(),
                    };
                    let mut headers = async_nats::HeaderMap::new();
                    headers.insert(crate::events::headers::MSG_ID, format!("{}:{seq}:{hash}", self.service).as_str());
                    match self.jetstream.publish_with_headers(subject.clone(), headers, message.encode_to_vec().into()).await {
                        Ok(ack) => match ack.await {
                            Ok(_) => published = Some((seq, hash)),
                            Err(error) => tracing::warn!(%error, "audit head not acknowledged; retried at the next interval"),
                        },
                        Err(error) => tracing::warn!(%error, "audit head not published; retried at the next interval"),
                    }
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "audit head not read; retried at the next interval"),
            }
            tokio::select! {
                () = token.cancelled() => return Ok(()),
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

/// The last head published on `subject`, if any.
async fn last_published(js: &jetstream::Context, subject: &str) -> Option<(i64, String)> {
    let stream = js.get_stream(AUDIT_STREAM).await.ok()?;
    let message = stream.get_last_raw_message_by_subject(subject).await.ok()?;
    let head = pb::AuditHead::decode(message.payload.as_ref()).ok()?;
    Some((i64::try_from(head.seq).ok()?, head.hash))
}

/// Every head of `service` published to the audit stream.
pub async fn published_heads(js: &jetstream::Context, service: &str) -> anyhow::Result<PublishedHeads> {
    let stream = js.get_stream(AUDIT_STREAM).await?;
    let mut reader = stream
        .create_consumer(jetstream::consumer::pull::OrderedConfig {
            filter_subject: format!("{AUDIT_SUBJECT_PREFIX}{service}"),
            deliver_policy: jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await?;
    let pending = reader.info().await?.num_pending;
    let mut heads = PublishedHeads::new();
    if pending == 0 {
        return Ok(heads);
    }
    let mut messages = reader.messages().await?;
    for _ in 0..pending {
        let Ok(Some(next)) = tokio::time::timeout(std::time::Duration::from_secs(5), messages.next()).await else { break };
        let message = next?;
        // Only services publish here; a message that is not a head is not one to compare.
        if let Ok(head) = pb::AuditHead::decode(message.payload.as_ref()) {
            heads.insert(i64::try_from(head.seq).unwrap_or(i64::MAX), (head.hash, head.published_at_ms));
        }
    }
    Ok(heads)
}

/// Tower layer recording every command in the audit trail; mount it inside the
/// authentication layer so the actor is known.
#[derive(Clone)]
pub struct AuditLayer {
    pool: AnyPool,
    service: &'static str,
}

impl AuditLayer {
    pub fn new(pool: AnyPool, service: &'static str) -> Self {
        Self { pool, service }
    }
}

impl<S> tower_layer::Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditService { inner, pool: self.pool.clone(), service: self.service }
    }
}

/// Service produced by [`AuditLayer`].
#[derive(Clone)]
pub struct AuditService<S> {
    inner: S,
    pool: AnyPool,
    service: &'static str,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

impl<S> tower_service::Service<http::Request<Body>> for AuditService<S>
where
    S: tower_service::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if !is_command(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let pool = self.pool.clone();
        let service = self.service;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let bytes = match body.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(error) => {
                    tracing::warn!(%error, "request body could not be read for the audit trail");
                    return Ok(Status::invalid_argument("the request body could not be read").into_http());
                }
            };
            let actor = parts.extensions.get::<Actor>().map_or("", |actor| actor.id.as_str()).to_owned();
            let method = parts.uri.path().to_owned();
            if let Err(error) = append(&pool, service, &actor, &method, &crate::sha256_hex(&bytes)).await {
                tracing::error!(%error, method, "audit entry not written; the command is refused");
                return Ok(Status::unavailable("the audit trail cannot be written; try again").into_http());
            }
            inner.call(http::Request::from_parts(parts, Body::new(http_body_util::Full::new(bytes)))).await
        })
    }
}

/// A service's own chained records (investigation's evidence register), verified beside the
/// audit trail.
pub trait RecordChain: Send + Sync {
    /// What the chain holds, e.g. `evidence`.
    fn name(&self) -> &'static str;
    /// Recomputes the chain.
    fn verify<'a>(&'a self, pool: &'a AnyPool) -> futures::future::BoxFuture<'a, Result<ChainVerdict, StoreError>>;
}

/// The outcome of recomputing a [`RecordChain`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainVerdict {
    pub entries: u64,
    /// Where the first break is and what is wrong there.
    pub broken: Option<(String, String)>,
}

/// The `Audit` gRPC service every server carries.
#[derive(Clone)]
pub struct AuditApi {
    pub pool: AnyPool,
    pub jetstream: jetstream::Context,
    pub service: &'static str,
    pub chains: Vec<std::sync::Arc<dyn RecordChain>>,
}

#[tonic::async_trait]
impl pb::audit_server::Audit for AuditApi {
    async fn verify_audit(&self, request: Request<pb::VerifyAuditRequest>) -> Result<Response<pb::AuditVerdict>, Status> {
        let actor = crate::auth::actor(&request)?;
        crate::access::Access::operator(actor).map_err(|denied| Status::permission_denied(denied.to_string()))?;
        let heads = published_heads(&self.jetstream, self.service).await.map_err(|error| {
            tracing::error!(%error, "the published audit heads could not be read");
            Status::unavailable("the audit stream could not be read")
        })?;
        let verdict = verify(&self.pool, self.service, &heads).await.map_err(|error| {
            tracing::error!(%error, "audit verification could not read the trail");
            Status::unavailable("the audit trail could not be read")
        })?;
        let mut chains = Vec::new();
        for chain in &self.chains {
            let checked = chain.verify(&self.pool).await.map_err(|error| {
                tracing::error!(%error, chain = chain.name(), "record chain could not be read");
                Status::unavailable("a record chain could not be read")
            })?;
            let (first_broken, problem) = checked.broken.clone().unwrap_or_default();
            chains.push(pb::ChainVerdict {
                chain: chain.name().to_owned(),
                entries: checked.entries,
                intact: checked.broken.is_none(),
                first_broken,
                problem,
            });
        }
        let (head_seq, head_hash) = verdict.head.unwrap_or_default();
        let (first_broken_seq, problem) = verdict.broken.clone().unwrap_or_default();
        Ok(Response::new(pb::AuditVerdict {
            service: self.service.to_owned(),
            entries: verdict.entries,
            head_seq: u64::try_from(head_seq).unwrap_or_default(),
            head_hash,
            intact: verdict.broken.is_none() && chains.iter().all(|chain| chain.intact),
            first_broken_seq: u64::try_from(first_broken_seq).unwrap_or_default(),
            problem,
            chains,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_not_commands() {
        assert!(is_command("/complaints.v1.Intake/WithdrawComplaint"));
        assert!(is_command("/complaints.v1.Approval/Approve"));
        assert!(!is_command("/complaints.v1.Intake/GetComplaint"));
        assert!(!is_command("/complaints.v1.Analytics/ListQueue"));
        assert!(!is_command("/complaints.v1.Analytics/SearchComplaints"));
        assert!(!is_command("/complaints.v1.Audit/VerifyAudit"));
        assert!(!is_command("/grpc.health.v1.Health/Check"));
    }

    #[test]
    fn every_field_is_in_the_hash() {
        let base = entry_hash("p", 1, 2, "a", "m", "h");
        for other in [
            entry_hash("q", 1, 2, "a", "m", "h"),
            entry_hash("p", 2, 2, "a", "m", "h"),
            entry_hash("p", 1, 3, "a", "m", "h"),
            entry_hash("p", 1, 2, "b", "m", "h"),
            entry_hash("p", 1, 2, "a", "n", "h"),
            entry_hash("p", 1, 2, "a", "m", "i"),
            entry_hash("p", 1, 2, "a|m", "", "h"),
        ] {
            assert_ne!(base, other);
        }
        assert_ne!(genesis("intake"), genesis("routing"));
    }
}
