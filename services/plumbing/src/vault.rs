//! Envelope encryption of personal data at rest.
//!
//! - **Key-encryption keys (KEKs)** live in a keyring file outside every store (`kek_file`,
//!   generated at set-up, readable by the owner only): one key per line, `<id> <64 hex>`; the
//!   last line is the active key. A KMS-backed keyring has the same shape: ids and unwrap calls.
//! - **Data keys (DEKs)** are random 256-bit keys, one per customer (the reference is the
//!   customer's protected lookup key), stored in the service's own `data_keys` table wrapped by
//!   a KEK. A sealed field names its data key, so reading needs no customer reference.
//! - **Fields** are sealed with XChaCha20-Poly1305 (random 192-bit nonces) under the data key,
//!   the field's place (`table.column:record`) as associated data, so a sealed value copied to
//!   another row or column does not open. Text form: `enc:v1:<key id>:<base64>`.
//! - **Rotation without downtime**: append a new KEK to the keyring (`complaintctl keys rotate`); every service notices
//!   the change within `key_check_secs`, wraps new data keys under it and re-wraps the old ones
//!   in batches (data are never re-encrypted). An old KEK can be dropped from the file once
//!   [`Vault::wrapped_under`] reports no key left under it.
//! - **Erasure** ([`Vault::shred`]) destroys a customer's wrapped data keys: their sealed
//!   fields read as [`Opened::Erased`] from then on, in this store and in any copy of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyConnection, AnyPool, Row};
use tokio_util::sync::CancellationToken;

use crate::store::StoreError;

/// Prefix of a sealed field.
const PREFIX: &str = "enc:v1:";
const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;
/// Data keys kept unwrapped in memory, and for how long (a key shredded by another replica
/// stops opening within this time).
const CACHE_ENTRIES: usize = 10_000;
const CACHE_TTL: Duration = Duration::from_secs(60);
/// Data keys re-wrapped per transaction during rotation.
const REWRAP_BATCH: i64 = 500;

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the sealed value of {context} is malformed")]
    Malformed { context: String },
    #[error("the sealed value of {context} does not open under its data key (altered or moved)")]
    Tampered { context: String },
    #[error("data key {key_id} is wrapped by key-encryption key {kek_id}, which is not in the keyring")]
    UnknownKek { key_id: String, kek_id: String },
    #[error("data key {key_id} does not unwrap under key-encryption key {kek_id}")]
    Unwrap { key_id: String, kek_id: String },
    #[error("data key {key_id} is not in this store")]
    UnknownKey { key_id: String },
}

impl From<sqlx::Error> for VaultError {
    fn from(error: sqlx::Error) -> Self {
        Self::Store(error.into())
    }
}

impl crate::error::ServiceError for VaultError {
    fn code(&self) -> crate::error::ErrorCode {
        match self {
            Self::Store(error) => error.code(),
            _ => crate::error::ErrorCode::Internal,
        }
    }
}

/// What a sealed field opened to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    Clear(String),
    /// Its data key was destroyed: the customer was erased.
    Erased,
}

impl Opened {
    /// The clear text, or `erased` for an erased field.
    pub fn or_erased(self) -> String {
        match self {
            Self::Clear(text) => text,
            Self::Erased => ERASED.to_owned(),
        }
    }
}

/// What an erased field shows.
pub const ERASED: &str = "[erased]";

/// True when `value` is a sealed field (as opposed to clear text written before encryption).
pub fn is_sealed(value: &str) -> bool {
    value.starts_with(PREFIX)
}

/// The key-encryption keys, by id; the last one read is the active one.
struct Keyring {
    keys: HashMap<String, XChaCha20Poly1305>,
    active: String,
    modified: Option<SystemTime>,
}

impl Keyring {
    fn load(path: &Path) -> anyhow::Result<Self> {
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the keyring {}", path.display()))?;
        let mut keys = HashMap::new();
        let mut active = None;
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (id, key) = line
                .split_once(char::is_whitespace)
                .with_context(|| format!("{} line {}: expected `<id> <64 hex digits>`", path.display(), number + 1))?;
            let key = hex::decode(key.trim()).ok().filter(|k| k.len() == KEY_BYTES).with_context(|| {
                format!("{} line {}: the key of {id} must be {KEY_BYTES} bytes of hex", path.display(), number + 1)
            })?;
            keys.insert(id.to_owned(), XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key"));
            active = Some(id.to_owned());
        }
        let active = active.with_context(|| format!("the keyring {} holds no key", path.display()))?;
        Ok(Self { keys, active, modified })
    }
}

/// A new keyring line: a fresh random key named after the time.
fn new_key_line() -> String {
    let mut key = [0u8; KEY_BYTES];
    rand::thread_rng().fill_bytes(&mut key);
    format!("kek-{} {}\n", chrono::Utc::now().format("%Y%m%dT%H%M%S%3f"), hex::encode(key))
}

/// Creates the keyring at `path` (owner-only) with one key when it does not exist.
pub fn ensure_keyring(path: &Path) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::write_private(path, &format!("# Key-encryption keys: <id> <hex>; the last is active. Never commit.\n{}", new_key_line()))
}

/// Appends a new active key to the keyring at `path`; returns its id. Services pick it up
/// within `key_check_secs` and re-wrap their data keys under it.
pub fn rotate_keyring(path: &Path) -> anyhow::Result<String> {
    use std::io::Write as _;
    Keyring::load(path)?;
    let line = new_key_line();
    let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_all()?;
    Ok(line.split_whitespace().next().unwrap_or_default().to_owned())
}

fn on_postgres(connection: &AnyConnection) -> bool {
    connection.backend_name() == "PostgreSQL"
}

/// How a registration reads a customer's key row: on PostgreSQL, with several replicas,
/// `FOR SHARE`, so an erasure elsewhere (whose shred updates the row) waits for the
/// registration's transaction and then sees its complaint when it re-reads the customer's
/// complaints, and a shred committed first is seen here and a new key made. SQLite has one
/// writer, so no such race.
fn share_lock(connection: &AnyConnection) -> &'static str {
    if on_postgres(connection) {
        " FOR SHARE"
    } else {
        ""
    }
}

/// A customer's data key as [`Vault::key_or_fresh`] gives it.
pub enum KeyFor {
    /// Stored (or created) in the store already.
    Live(Arc<DataKey>),
    /// New, to be stored by the caller in the statement that writes what it sealed.
    Fresh(FreshKey),
}

impl KeyFor {
    /// The key, to seal with.
    pub fn key(&self) -> &DataKey {
        match self {
            Self::Live(key) => key,
            Self::Fresh(fresh) => &fresh.key,
        }
    }
}

/// A new data key, wrapped, not yet stored.
pub struct FreshKey {
    key: Arc<DataKey>,
    key_ref: String,
    kek_id: String,
    wrapped: String,
    created_at_ms: i64,
}

impl FreshKey {
    /// The statement storing a fresh key, its five parameters numbered from `first`; it
    /// stores nothing (0 rows) when the reference already has a live key.
    pub fn insert_sql(first: usize) -> String {
        let [a, b, c, d, e] = [first, first + 1, first + 2, first + 3, first + 4];
        format!(
            "INSERT INTO data_keys (key_id, key_ref, kek_id, wrapped, created_at_ms) VALUES (${a}, ${b}, ${c}, ${d}, ${e}) \
             ON CONFLICT DO NOTHING"
        )
    }

    /// Binds [`FreshKey::insert_sql`]'s parameters, after those already bound.
    pub fn bind<'q>(&'q self, query: Query<'q, Any, AnyArguments<'q>>) -> Query<'q, Any, AnyArguments<'q>> {
        query.bind(self.key.key_id.as_str()).bind(self.key_ref.as_str()).bind(self.kek_id.as_str()).bind(self.wrapped.as_str()).bind(self.created_at_ms)
    }
}

/// A data key, unwrapped: seals and opens fields.
pub struct DataKey {
    key_id: String,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    /// The key's id, named in every field it seals.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `clear` sealed for the place `context` (`table.column:record`); empty stays empty.
    pub fn seal(&self, context: &str, clear: &str) -> String {
        if clear.is_empty() {
            return String::new();
        }
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: clear.as_bytes(), aad: context.as_bytes() })
            .expect("XChaCha20-Poly1305 seals any length a field has");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}:{}", self.key_id, B64.encode(bytes))
    }

    fn open(&self, context: &str, body: &str) -> Result<String, VaultError> {
        let malformed = || VaultError::Malformed { context: context.to_owned() };
        let bytes = B64.decode(body).map_err(|_| malformed())?;
        if bytes.len() < NONCE_BYTES {
            return Err(malformed());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let clear = self
            .cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| VaultError::Tampered { context: context.to_owned() })?;
        String::from_utf8(clear).map_err(|_| malformed())
    }
}

/// A data key as the cache holds it: when it was read, and the key (`None`: shredded).
type Cached = (Instant, Option<Arc<DataKey>>);

/// A service's envelope encryption: its keyring and its store's data keys.
#[derive(Clone)]
pub struct Vault {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    path: PathBuf,
    ring: RwLock<Keyring>,
    /// key id → (when unwrapped, key); `None` for a shredded key.
    cache: Mutex<HashMap<String, Cached>>,
    /// key reference → live key id.
    live: Mutex<HashMap<String, (Instant, String)>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault").field("keyring", &self.inner.path).finish_non_exhaustive()
    }
}

impl Vault {
    /// The vault over `pool` with the keyring at `path`.
    pub fn open(pool: AnyPool, path: &Path) -> anyhow::Result<Self> {
        let ring = Keyring::load(path)?;
        Ok(Self {
            inner: Arc::new(Inner {
                pool,
                path: path.to_owned(),
                ring: RwLock::new(ring),
                cache: Mutex::new(HashMap::new()),
                live: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The vault a service is configured with; a clear error naming the setting when unset.
    pub fn from_config(pool: AnyPool, path: Option<&Path>) -> anyhow::Result<Self> {
        let path = path.context(
            "kek_file (CMS_KEK_FILE) is not set: personal data is encrypted at rest under the installation's keyring \
             (complaintctl up generates .data/secrets/kek.keys)",
        )?;
        Self::open(pool, path)
    }

    /// The id of the active key-encryption key.
    pub fn active_kek(&self) -> String {
        self.inner.ring.read().expect("keyring lock").active.clone()
    }

    /// Reloads the keyring when its file changed; true when it did.
    pub fn reload_if_changed(&self) -> anyhow::Result<bool> {
        let modified = std::fs::metadata(&self.inner.path).and_then(|m| m.modified()).ok();
        if modified == self.inner.ring.read().expect("keyring lock").modified {
            return Ok(false);
        }
        let ring = Keyring::load(&self.inner.path)?;
        tracing::info!(active = %ring.active, keys = ring.keys.len(), "keyring reloaded");
        *self.inner.ring.write().expect("keyring lock") = ring;
        Ok(true)
    }

    fn wrap(&self, key_id: &str, key: &[u8]) -> (String, String) {
        let ring = self.inner.ring.read().expect("keyring lock");
        let kek = &ring.keys[&ring.active];
        let mut nonce = [0u8; NONCE_BYTES];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = kek
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: key, aad: key_id.as_bytes() })
            .expect("a data key always seals");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        (ring.active.clone(), B64.encode(bytes))
    }

    fn unwrap(&self, key_id: &str, kek_id: &str, wrapped: &str) -> Result<Vec<u8>, VaultError> {
        let ring = self.inner.ring.read().expect("keyring lock");
        let kek = ring
            .keys
            .get(kek_id)
            .ok_or_else(|| VaultError::UnknownKek { key_id: key_id.to_owned(), kek_id: kek_id.to_owned() })?;
        let failed = || VaultError::Unwrap { key_id: key_id.to_owned(), kek_id: kek_id.to_owned() };
        let bytes = B64.decode(wrapped).map_err(|_| failed())?;
        if bytes.len() < NONCE_BYTES {
            return Err(failed());
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        kek.decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad: key_id.as_bytes() }).map_err(|_| failed())
    }

    fn remember(&self, key_id: &str, key: Option<Arc<DataKey>>) {
        let mut cache = self.inner.cache.lock().expect("cache lock");
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(key_id.to_owned(), (Instant::now(), key));
    }

    /// The live data key of `key_ref` (a customer's lookup key), created when it has none.
    /// Call it before opening a transaction (on SQLite it may write), or use [`Vault::key_in`].
    pub async fn key_for(&self, key_ref: &str) -> Result<Arc<DataKey>, VaultError> {
        let mut connection = self.inner.pool.acquire().await?;
        self.key_in(&mut connection, key_ref).await
    }

    /// [`Vault::key_for`] on `connection`, e.g. inside the transaction that writes the sealed
    /// fields: a key created there commits or rolls back with them.
    pub async fn key_in(&self, connection: &mut AnyConnection, key_ref: &str) -> Result<Arc<DataKey>, VaultError> {
        if let Some(key) = self.cached_key_in(&mut *connection, key_ref).await? {
            return Ok(key);
        }
        self.stored_key_in(connection, key_ref).await
    }

    /// The live data key of `key_ref` inside the caller's transaction: the one remembered or,
    /// on SQLite, a fresh one the caller stores in the same call as the fields it seals
    /// ([`FreshKey::insert_sql`]), so a new customer's key costs no statement of its own —
    /// SQLite has one connection, and each statement inside a transaction holds it for a
    /// round trip to its worker thread. A fresh key refused there (the customer already had
    /// one, not remembered) means: roll back and go again with [`Vault::key_in`]. On
    /// PostgreSQL, as [`Vault::key_in`].
    pub async fn key_or_fresh(&self, connection: &mut AnyConnection, key_ref: &str) -> Result<KeyFor, VaultError> {
        if on_postgres(connection) {
            return Ok(KeyFor::Live(self.key_in(connection, key_ref).await?));
        }
        Ok(match self.cached_key_in(connection, key_ref).await? {
            Some(key) => KeyFor::Live(key),
            None => KeyFor::Fresh(self.fresh(key_ref)),
        })
    }

    /// Remembers a fresh key once the transaction that stored it committed.
    pub fn committed(&self, key: &KeyFor) {
        if let KeyFor::Fresh(fresh) = key {
            self.remember(&fresh.key.key_id, Some(fresh.key.clone()));
            self.inner.live.lock().expect("live lock").insert(fresh.key_ref.clone(), (Instant::now(), fresh.key.key_id.clone()));
        }
    }

    /// A new data key for `key_ref`, wrapped under the active key-encryption key, not stored.
    fn fresh(&self, key_ref: &str) -> FreshKey {
        let mut key = [0u8; KEY_BYTES];
        rand::thread_rng().fill_bytes(&mut key);
        // Time-ordered: a new key appends to the key-id B-tree.
        let key_id = uuid::Uuid::now_v7().simple().to_string();
        let (kek_id, wrapped) = self.wrap(&key_id, &key);
        let cipher = XChaCha20Poly1305::new_from_slice(&key).expect("a 32-byte key");
        FreshKey { key: Arc::new(DataKey { key_id, cipher }), key_ref: key_ref.to_owned(), kek_id, wrapped, created_at_ms: crate::now_ms() }
    }

    /// The remembered live key of `key_ref`, checked (and on PostgreSQL locked) in the store.
    async fn cached_key_in(&self, connection: &mut AnyConnection, key_ref: &str) -> Result<Option<Arc<DataKey>>, VaultError> {
        let lock = share_lock(connection);
        let cached = self.inner.live.lock().expect("live lock").get(key_ref).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, id)| id.clone());
        if let Some(key_id) = cached {
            let live = lock.is_empty()
                || sqlx::query(&format!("SELECT key_id FROM data_keys WHERE key_id = $1 AND shredded_at_ms IS NULL{lock}"))
                    .bind(&key_id)
                    .fetch_optional(&mut *connection)
                    .await?
                    .is_some();
            if !live {
                self.forget(key_ref, [key_id]);
            } else if let Some(key) = self.key(&mut *connection, &key_id).await? {
                return Ok(Some(key));
            }
        }
        Ok(None)
    }

    /// The live key of `key_ref` from the store, created when it has none.
    async fn stored_key_in(&self, connection: &mut AnyConnection, key_ref: &str) -> Result<Arc<DataKey>, VaultError> {
        let lock = share_lock(connection);
        // Insert first: a new customer's key costs one statement; an existing customer's
        // (its id not cached) a refused insert and a read.
        for _ in 0..3 {
            let fresh = self.fresh(key_ref);
            // A live key of this customer (the unique partial index), perhaps a concurrent
            // writer's, wins: read it then.
            let inserted = fresh.bind(sqlx::query(&FreshKey::insert_sql(1))).execute(&mut *connection).await?;
            if inserted.rows_affected() == 1 {
                // Not cached: the transaction around it may still roll back.
                return Ok(fresh.key);
            }
            let row = sqlx::query(&format!("SELECT key_id FROM data_keys WHERE key_ref = $1 AND shredded_at_ms IS NULL{lock}"))
                .bind(key_ref)
                .fetch_optional(&mut *connection)
                .await?;
            if let Some(row) = row {
                let key_id: String = row.try_get(0)?;
                if let Some(key) = self.key(&mut *connection, &key_id).await? {
                    self.inner.live.lock().expect("live lock").insert(key_ref.to_owned(), (Instant::now(), key_id));
                    return Ok(key);
                }
            }
        }
        Err(VaultError::Store(StoreError::Conflict))
    }

    /// The data key `key_id`; `None` once shredded.
    async fn key(&self, connection: &mut AnyConnection, key_id: &str) -> Result<Option<Arc<DataKey>>, VaultError> {
        let cached = self.inner.cache.lock().expect("cache lock").get(key_id).filter(|(at, _)| at.elapsed() < CACHE_TTL).map(|(_, key)| key.clone());
        if let Some(key) = cached {
            return Ok(key);
        }
        let row = sqlx::query("SELECT kek_id, wrapped, shredded_at_ms FROM data_keys WHERE key_id = $1")
            .bind(key_id)
            .fetch_optional(&mut *connection)
            .await?
            .ok_or_else(|| VaultError::UnknownKey { key_id: key_id.to_owned() })?;
        let shredded: Option<i64> = row.try_get("shredded_at_ms")?;
        let key = match shredded {
            Some(_) => None,
            None => {
                let kek_id: String = row.try_get("kek_id")?;
                let wrapped: String = row.try_get("wrapped")?;
                let clear = self.unwrap(key_id, &kek_id, &wrapped)?;
                let cipher = XChaCha20Poly1305::new_from_slice(&clear).map_err(|_| VaultError::Unwrap { key_id: key_id.to_owned(), kek_id })?;
                Some(Arc::new(DataKey { key_id: key_id.to_owned(), cipher }))
            }
        };
        self.remember(key_id, key.clone());
        Ok(key)
    }

    /// Opens a field read from the place `context`. Clear text written before encryption (no
    /// `enc:` prefix) is returned as it is.
    pub async fn open_field(&self, context: &str, value: &str) -> Result<Opened, VaultError> {
        let mut connection = self.inner.pool.acquire().await?;
        self.open_in(&mut connection, context, value).await
    }

    /// [`Vault::open_field`] on `connection` (inside a transaction that may have created the key).
    pub async fn open_in(&self, connection: &mut AnyConnection, context: &str, value: &str) -> Result<Opened, VaultError> {
        let Some(rest) = value.strip_prefix(PREFIX) else {
            return Ok(Opened::Clear(value.to_owned()));
        };
        let (key_id, body) = rest.split_once(':').ok_or_else(|| VaultError::Malformed { context: context.to_owned() })?;
        match self.key(connection, key_id).await? {
            Some(key) => key.open(context, body).map(Opened::Clear),
            None => Ok(Opened::Erased),
        }
    }

    /// Destroys every data key of `key_ref` (crypto-shredding); returns how many. Idempotent.
    pub async fn shred(&self, key_ref: &str) -> Result<u64, VaultError> {
        let mut connection = self.inner.pool.acquire().await?;
        self.shred_in(&mut connection, key_ref).await
    }

    /// [`Vault::shred`] on `connection`, e.g. in the transaction that records the erasure.
    pub async fn shred_in(&self, connection: &mut AnyConnection, key_ref: &str) -> Result<u64, VaultError> {
        let rows = sqlx::query("SELECT key_id FROM data_keys WHERE key_ref = $1 AND shredded_at_ms IS NULL")
            .bind(key_ref)
            .fetch_all(&mut *connection)
            .await?;
        let done = sqlx::query("UPDATE data_keys SET wrapped = '', shredded_at_ms = $1 WHERE key_ref = $2 AND shredded_at_ms IS NULL")
            .bind(crate::now_ms())
            .bind(key_ref)
            .execute(&mut *connection)
            .await?;
        let key_ids = rows.iter().map(|row| row.try_get(0)).collect::<Result<Vec<String>, _>>()?;
        self.forget(key_ref, key_ids);
        Ok(done.rows_affected())
    }

    /// Forgets `key_ref`'s live key and remembers `key_ids` as shredded.
    fn forget(&self, key_ref: &str, key_ids: impl IntoIterator<Item = String>) {
        self.inner.live.lock().expect("live lock").remove(key_ref);
        for key_id in key_ids {
            self.remember(&key_id, None);
        }
    }

    /// How many live data keys each key-encryption key wraps.
    pub async fn wrapped_under(&self) -> Result<Vec<(String, i64)>, VaultError> {
        let rows = sqlx::query("SELECT kek_id, COUNT(*) FROM data_keys WHERE shredded_at_ms IS NULL GROUP BY kek_id ORDER BY kek_id")
            .fetch_all(&self.inner.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Re-wraps up to one batch of live data keys not under the active key-encryption key,
    /// among those whose id follows `after` in key-id order; returns how many moved and the
    /// last id it read (`None` when there was none left). Only keys needing a re-wrap are
    /// read, so a pass with nothing to do (every start) is one query. Each key moves in its
    /// own guarded update, so replicas may run it together.
    pub async fn rewrap_batch(&self, after: &str) -> Result<(usize, Option<String>), VaultError> {
        let active = self.active_kek();
        let rows = sqlx::query(
            "SELECT key_id, kek_id, wrapped FROM data_keys WHERE key_id > $1 AND kek_id <> $2 AND shredded_at_ms IS NULL \
             ORDER BY key_id LIMIT $3",
        )
        .bind(after)
        .bind(&active)
        .bind(REWRAP_BATCH)
        .fetch_all(&self.inner.pool)
        .await?;
        let mut moved = 0;
        let mut last = None;
        for row in rows {
            let key_id: String = row.try_get("key_id")?;
            let kek_id: String = row.try_get("kek_id")?;
            let clear = self.unwrap(&key_id, &kek_id, &row.try_get::<String, _>("wrapped")?)?;
            let (new_kek, wrapped) = self.wrap(&key_id, &clear);
            let done = sqlx::query("UPDATE data_keys SET kek_id = $1, wrapped = $2 WHERE key_id = $3 AND kek_id = $4 AND shredded_at_ms IS NULL")
                .bind(&new_kek)
                .bind(&wrapped)
                .bind(&key_id)
                .bind(&kek_id)
                .execute(&self.inner.pool)
                .await?;
            moved += done.rows_affected() as usize;
            last = Some(key_id);
        }
        Ok((moved, last))
    }

    /// Re-wraps every data key under the active key-encryption key, walking the keys once in
    /// key-id order; returns how many moved.
    pub async fn rewrap_all(&self) -> Result<usize, VaultError> {
        let mut total = 0;
        let mut after = String::new();
        loop {
            let (moved, last) = self.rewrap_batch(&after).await?;
            total += moved;
            match last {
                Some(last) => after = last,
                None => return Ok(total),
            }
        }
    }

    /// Watches the keyring and re-wraps after a rotation, until `token` is cancelled.
    pub async fn run(self, check_every: Duration, token: CancellationToken) -> anyhow::Result<()> {
        // A re-wrap is due at start and after each keyring change, until one pass succeeds.
        let mut due = true;
        loop {
            let changed = match self.reload_if_changed() {
                Ok(changed) => changed,
                Err(error) => {
                    tracing::error!(error = %format!("{error:#}"), "the keyring file cannot be read; keeping the keys loaded before");
                    false
                }
            };
            if changed || due {
                match self.rewrap_all().await {
                    Ok(moved) => {
                        due = false;
                        if moved > 0 {
                            tracing::info!(moved, active = %self.active_kek(), "data keys re-wrapped under the active key-encryption key");
                        }
                    }
                    Err(error) => tracing::warn!(error = %error, "re-wrapping data keys failed; retried at the next check"),
                }
            }
            tokio::select! {
                _ = token.cancelled() => return Ok(()),
                _ = tokio::time::sleep(check_every) => {}
            }
        }
    }
}
