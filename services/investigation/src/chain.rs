//! The evidence register as a hash chain per case. An item's `chain_hash` covers the chain hash
//! of the item before it (a genesis hash of the complaint for the first), its number, kind,
//! description, content hash, size, who registered it and when. Nothing updates or deletes an
//! item, so [`EvidenceChain`] can recompute every item — the content against its SHA-256 and
//! the chain link by link — and name the first that does not verify.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use complaints_plumbing::audit::{ChainVerdict, RecordChain};
use complaints_plumbing::store::{StoreError, Tx};
use complaints_plumbing::vault::{Opened, Vault, VaultError};
use futures::future::BoxFuture;
use sqlx::{AnyPool, Row};

/// The place an item's content is sealed for.
pub fn content_place(complaint_id: &str, evidence_number: i64) -> String {
    format!("evidence.content:{complaint_id}#{evidence_number}")
}

/// The data-key reference of a case's evidence: the complaint (erasing the customer shreds the
/// keys of each of their complaints).
pub fn key_ref(complaint_id: &str) -> String {
    format!("complaint:{complaint_id}")
}

/// What the first item of a case links to.
pub fn genesis(complaint_id: &str) -> String {
    complaints_plumbing::sha256_hex(format!("cms-evidence-genesis:{complaint_id}").as_bytes())
}

/// The fields an item's chain hash covers.
pub struct Link<'a> {
    pub complaint_id: &'a str,
    pub evidence_number: i64,
    pub kind: &'a str,
    pub description: &'a str,
    pub sha256: &'a str,
    pub size_bytes: i64,
    pub registered_by: &'a str,
    pub registered_at_ms: i64,
}

impl Link<'_> {
    /// SHA-256 of the JSON array of `prev` and the fields.
    pub fn hash(&self, prev: &str) -> String {
        let canonical = serde_json::json!([
            prev,
            self.complaint_id,
            self.evidence_number,
            self.kind,
            self.description,
            self.sha256,
            self.size_bytes,
            self.registered_by,
            self.registered_at_ms
        ])
        .to_string();
        complaints_plumbing::sha256_hex(canonical.as_bytes())
    }
}

/// The chain hash of the case's item `evidence_number - 1` (the genesis hash for the first).
pub async fn previous(tx: &mut Tx, complaint_id: &str, evidence_number: i64) -> Result<String, StoreError> {
    if evidence_number <= 1 {
        return Ok(genesis(complaint_id));
    }
    let prev: String = sqlx::query_scalar("SELECT chain_hash FROM evidence WHERE complaint_id = $1 AND evidence_number = $2")
        .bind(complaint_id)
        .bind(evidence_number - 1)
        .fetch_one(&mut **tx)
        .await?;
    Ok(prev)
}

const COLUMNS: &str = "e.complaint_id, c.complaint_number, e.evidence_number, e.kind, e.description, e.sha256, e.size_bytes, e.content, \
    e.registered_by, e.registered_at_ms, e.chain_hash";

/// Seals items registered before the chain existed (an empty `chain_hash`), in order, once.
pub async fn seal_unchained(pool: &AnyPool) -> Result<u64, StoreError> {
    let mut tx = pool.begin().await?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM evidence e JOIN cases c ON c.complaint_id = e.complaint_id \
         WHERE e.complaint_id IN (SELECT complaint_id FROM evidence WHERE chain_hash = '') ORDER BY e.complaint_id, e.evidence_number"
    ))
    .fetch_all(&mut *tx)
    .await?;
    let mut sealed = 0;
    let mut prev = (String::new(), String::new());
    for row in &rows {
        let complaint_id: String = row.try_get("complaint_id")?;
        if prev.0 != complaint_id {
            prev = (complaint_id.clone(), genesis(&complaint_id));
        }
        let link = link_of(row)?;
        let hash = link.hash(&prev.1);
        let current: String = row.try_get("chain_hash")?;
        if current.is_empty() {
            sqlx::query("UPDATE evidence SET chain_hash = $1 WHERE complaint_id = $2 AND evidence_number = $3 AND chain_hash = ''")
                .bind(&hash)
                .bind(&complaint_id)
                .bind(link.evidence_number)
                .execute(&mut *tx)
                .await?;
            sealed += 1;
            prev.1 = hash;
        } else {
            prev.1 = current;
        }
    }
    tx.commit().await?;
    Ok(sealed)
}

fn link_of(row: &sqlx::any::AnyRow) -> Result<OwnedLink, StoreError> {
    Ok(OwnedLink {
        complaint_id: row.try_get("complaint_id")?,
        evidence_number: row.try_get("evidence_number")?,
        kind: row.try_get("kind")?,
        description: row.try_get("description")?,
        sha256: row.try_get("sha256")?,
        size_bytes: row.try_get("size_bytes")?,
        registered_by: row.try_get("registered_by")?,
        registered_at_ms: row.try_get("registered_at_ms")?,
    })
}

struct OwnedLink {
    complaint_id: String,
    evidence_number: i64,
    kind: String,
    description: String,
    sha256: String,
    size_bytes: i64,
    registered_by: String,
    registered_at_ms: i64,
}

impl OwnedLink {
    fn hash(&self, prev: &str) -> String {
        Link {
            complaint_id: &self.complaint_id,
            evidence_number: self.evidence_number,
            kind: &self.kind,
            description: &self.description,
            sha256: &self.sha256,
            size_bytes: self.size_bytes,
            registered_by: &self.registered_by,
            registered_at_ms: self.registered_at_ms,
        }
        .hash(prev)
    }
}

/// Items read per page while verifying.
const PAGE: i64 = 500;

/// The evidence register as the `Audit` service verifies it; the vault opens the sealed
/// content to check it against its SHA-256.
pub struct EvidenceChain(pub Vault);

impl RecordChain for EvidenceChain {
    fn name(&self) -> &'static str {
        "evidence"
    }

    fn verify<'a>(&'a self, pool: &'a AnyPool) -> BoxFuture<'a, Result<ChainVerdict, StoreError>> {
        Box::pin(verify(pool, &self.0))
    }
}

async fn verify(pool: &AnyPool, vault: &Vault) -> Result<ChainVerdict, StoreError> {
    let mut verdict = ChainVerdict::default();
    let (mut after_complaint, mut after_number) = (String::new(), 0_i64);
    let (mut case, mut expected_number, mut prev) = (String::new(), 1_i64, String::new());
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM evidence e JOIN cases c ON c.complaint_id = e.complaint_id \
             WHERE e.complaint_id > $1 OR (e.complaint_id = $1 AND e.evidence_number > $2) \
             ORDER BY e.complaint_id, e.evidence_number LIMIT $3"
        ))
        .bind(&after_complaint)
        .bind(after_number)
        .bind(PAGE)
        .fetch_all(pool)
        .await?;
        for row in &rows {
            let link = link_of(row)?;
            let number: String = row.try_get("complaint_number")?;
            if link.complaint_id != case {
                case.clone_from(&link.complaint_id);
                expected_number = 1;
                prev = genesis(&case);
            }
            verdict.entries += 1;
            let stored: String = row.try_get("chain_hash")?;
            // Content of an erased customer no longer opens: the chain still verifies, the
            // content check is void. Content that does not open under a live key was altered.
            let content = match vault.open_field(&content_place(&link.complaint_id, link.evidence_number), &row.try_get::<String, _>("content")?).await {
                Ok(Opened::Clear(base64)) => Some(BASE64.decode(base64.as_bytes()).unwrap_or_default()),
                Ok(Opened::Erased) => None,
                Err(VaultError::Store(error)) => return Err(error),
                Err(_) => Some(Vec::new()),
            };
            let problem = if link.evidence_number != expected_number {
                Some(format!("item #{expected_number} is missing"))
            } else if content.is_some_and(|bytes| complaints_plumbing::sha256_hex(&bytes) != link.sha256 || i64::try_from(bytes.len()).ok() != Some(link.size_bytes)) {
                Some("its content does not match its SHA-256".to_owned())
            } else if stored != link.hash(&prev) {
                Some("its record does not match its chain hash (or does not link to the item before it)".to_owned())
            } else {
                None
            };
            if let Some(problem) = problem {
                verdict.broken = Some((format!("{number} evidence #{}", expected_number.min(link.evidence_number)), problem));
                return Ok(verdict);
            }
            prev = stored;
            expected_number += 1;
            after_complaint.clone_from(&link.complaint_id);
            after_number = link.evidence_number;
        }
        if i64::try_from(rows.len()).unwrap_or(i64::MAX) < PAGE {
            return Ok(verdict);
        }
    }
}
