//! Token verification against a JWKS from a file or a URL.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::config::is_loopback;
use super::jwks::{KeySet, VerifyKey, MAX_JWKS_BYTES};
use super::{Actor, AuthConfig, AuthError};

/// Longest token accepted, in bytes; longer ones are rejected unparsed.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;
/// A JWKS URL is refetched because of an unknown `kid` at most this often.
pub const MIN_REFETCH_INTERVAL: Duration = Duration::from_secs(30);

const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_SUBJECT_LEN: usize = 256;
const MAX_ROLES: usize = 256;
const MAX_ROLE_LEN: usize = 256;

/// Verifies bearer tokens; cheap to clone (one `Arc` inside), shareable
/// across tasks.
///
/// Accepts only compact JWS tokens whose header `alg` is RS256, ES256 or
/// EdDSA *and* equals the algorithm of the JWK selected by the header `kid`
/// (so `none`, HS* and algorithm-confusion tokens fail). Claims: `iss` must
/// equal the configured issuer, `aud` must contain the configured audience,
/// `exp` is required, `nbf` is checked when present (both with the configured
/// leeway), `sub` must be a non-empty string, and the roles claim — when
/// present — must be an array of strings.
///
/// Key rotation: for a URL source the JWKS is refetched every
/// `refresh_seconds` in the background and, when a token names an unknown
/// `kid`, at most once per [`MIN_REFETCH_INTERVAL`]. For a file source the
/// file is reloaded when a token names an unknown `kid` and the file's
/// mtime/size/inode changed. A failed reload keeps the previous keys.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    leeway: u64,
    roles_claim: String,
    keys: RwLock<Arc<KeySet>>,
    source: Source,
    /// Tokens verified before, with their expiry (Unix seconds): a client sends the same token
    /// with every call until it expires, and the signature need not be checked each time.
    /// Emptied whenever the key set changes.
    verified: Mutex<HashMap<String, (Actor, u64)>>,
}

/// Most tokens remembered as verified; the cache is emptied when full.
const VERIFIED_CACHE_ENTRIES: usize = 4096;

/// Seconds since the Unix epoch (0 if the clock is before it).
fn unix_now() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

enum Source {
    File {
        path: PathBuf,
        /// Stamp of the file the current keys were read from.
        seen: tokio::sync::Mutex<Option<FileStamp>>,
    },
    Url {
        url: String,
        client: reqwest::Client,
        /// Last refetch caused by an unknown `kid`.
        last_refetch: tokio::sync::Mutex<Option<Instant>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

/// The parts of a JOSE header looked at before any key is chosen.
#[derive(Deserialize)]
struct PeekHeader {
    alg: String,
    kid: Option<String>,
    crit: Option<Value>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = match &self.inner.source {
            Source::File { path, .. } => format!("file {}", path.display()),
            Source::Url { url, .. } => format!("url {url}"),
        };
        f.debug_struct("Verifier")
            .field("issuer", &self.inner.issuer)
            .field("audience", &self.inner.audience)
            .field("source", &source)
            .field("keys", &self.inner.current_keys().len())
            .finish()
    }
}

impl Verifier {
    /// Validates `config` and loads the key set: reads `jwks_file`, or
    /// fetches `jwks_url` (and, inside a Tokio runtime, starts a background
    /// refresh task that ends when the last clone of the verifier is dropped).
    ///
    /// Fails with [`AuthError::Config`] for bad settings and
    /// [`AuthError::Keys`] / [`AuthError::Io`] when no usable key set could be
    /// loaded — a service must not start without keys.
    pub async fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        config.validate()?;
        let (source, keys) = match (&config.jwks_file, &config.jwks_url) {
            (Some(path), None) => {
                let (keys, stamp) = load_file(path).await?;
                let source = Source::File {
                    path: path.clone(),
                    seen: tokio::sync::Mutex::new(Some(stamp)),
                };
                (source, keys)
            }
            (None, Some(url)) => {
                let client = build_client(url)?;
                let keys = fetch(&client, url).await?;
                let source = Source::Url {
                    url: url.clone(),
                    client,
                    last_refetch: tokio::sync::Mutex::new(None),
                };
                (source, keys)
            }
            _ => {
                return Err(AuthError::config(
                    "jwks_file/jwks_url",
                    "set exactly one of jwks_file or jwks_url",
                ))
            }
        };
        tracing::info!(keys = keys.len(), issuer = %config.issuer, "auth keys loaded");
        let inner = Arc::new(Inner {
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway: config.leeway_seconds,
            roles_claim: config.roles_claim.clone(),
            keys: RwLock::new(Arc::new(keys)),
            source,
            verified: Mutex::new(HashMap::new()),
        });
        if matches!(inner.source, Source::Url { .. }) {
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    let every = Duration::from_secs(config.refresh_seconds);
                    handle.spawn(refresh_loop(Arc::downgrade(&inner), every));
                }
                Err(_) => tracing::warn!(
                    "no Tokio runtime: JWKS will only be refetched on unknown key ids"
                ),
            }
        }
        Ok(Verifier { inner })
    }

    /// Verifies a compact JWT (without the `Bearer ` prefix) and returns the
    /// caller. Every error is a credential error whose message is safe to
    /// return to the client. Never panics, whatever the input.
    pub async fn verify(&self, token: &str) -> Result<Actor, AuthError> {
        if token.is_empty() {
            return Err(AuthError::MissingToken);
        }
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::MalformedToken);
        }
        if let Some(actor) = self.inner.remembered(token) {
            return Ok(actor);
        }
        let header = peek_header(token)?;
        let alg = match header.alg.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            _ => return Err(AuthError::AlgorithmNotAllowed),
        };
        if header.crit.is_some() {
            // No critical header extension is understood (RFC 7515 §4.1.11).
            return Err(AuthError::MalformedToken);
        }
        let kid = match header.kid {
            Some(kid) if !kid.is_empty() => kid,
            _ => return Err(AuthError::MissingKeyId),
        };
        let key = match self.inner.key(&kid) {
            Some(key) => key,
            None => {
                self.inner.reload_for_unknown_kid().await;
                self.inner.key(&kid).ok_or(AuthError::UnknownKey)?
            }
        };
        if key.alg != alg {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let data = jsonwebtoken::decode::<Map<String, Value>>(
            token,
            &key.key,
            &self.inner.validation(key.alg),
        )
        .map_err(map_jwt_error)?;
        let actor = self.inner.actor_from_claims(&data.claims)?;
        if let Some(expires) = data.claims.get("exp").and_then(Value::as_u64) {
            self.inner.remember(token, &actor, expires);
        }
        Ok(actor)
    }
}

impl Inner {
    fn current_keys(&self) -> Arc<KeySet> {
        self.keys
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn store_keys(&self, keys: KeySet) {
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(keys);
        self.verified.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The actor of a token verified before and not yet expired.
    fn remembered(&self, token: &str) -> Option<Actor> {
        let verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        let (actor, expires) = verified.get(token)?;
        (unix_now() < *expires).then(|| actor.clone())
    }

    fn remember(&self, token: &str, actor: &Actor, expires: u64) {
        let mut verified = self.verified.lock().unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= VERIFIED_CACHE_ENTRIES {
            verified.clear();
        }
        verified.insert(token.to_owned(), (actor.clone(), expires));
    }

    fn key(&self, kid: &str) -> Option<VerifyKey> {
        self.current_keys().get(kid).cloned()
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_issuer(&[self.issuer.as_str()]);
        v.set_audience(&[self.audience.as_str()]);
        v.required_spec_claims = ["exp", "iss", "aud", "sub"]
            .into_iter()
            .map(str::to_owned)
            .collect::<HashSet<_>>();
        v
    }

    fn actor_from_claims(&self, claims: &Map<String, Value>) -> Result<Actor, AuthError> {
        // jsonwebtoken also accepts an array `iss`; require the plain string.
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer.as_str()) {
            return Err(AuthError::InvalidIssuer);
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(AuthError::MissingClaim("sub"))?;
        if sub.trim().is_empty() || sub.len() > MAX_SUBJECT_LEN || sub.chars().any(char::is_control)
        {
            return Err(AuthError::InvalidClaim("sub"));
        }
        let roles = roles_from_claims(claims, &self.roles_claim)?;
        Ok(Actor {
            id: sub.to_owned(),
            roles,
        })
    }

    async fn reload_for_unknown_kid(&self) {
        match &self.source {
            Source::File { path, seen } => {
                let mut seen = seen.lock().await;
                match stamp(path).await {
                    Ok(now) if Some(now) == *seen => {}
                    Ok(_) => match load_file(path).await {
                        Ok((keys, new_stamp)) => {
                            tracing::info!(keys = keys.len(), path = %path.display(), "JWKS file reloaded");
                            self.store_keys(keys);
                            *seen = Some(new_stamp);
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "JWKS file reload failed; keeping previous keys")
                        }
                    },
                    Err(e) => {
                        tracing::warn!(error = %e, "JWKS file not readable; keeping previous keys")
                    }
                }
            }
            Source::Url {
                url,
                client,
                last_refetch,
            } => {
                let mut last = last_refetch.lock().await;
                if last.is_some_and(|t| t.elapsed() < MIN_REFETCH_INTERVAL) {
                    return;
                }
                *last = Some(Instant::now());
                self.refetch(client, url, "unknown key id").await;
            }
        }
    }

    async fn refetch(&self, client: &reqwest::Client, url: &str, why: &str) {
        match fetch(client, url).await {
            Ok(keys) => {
                tracing::debug!(keys = keys.len(), reason = why, "JWKS refetched");
                self.store_keys(keys);
            }
            Err(e) => tracing::warn!(error = %e, "JWKS refetch failed; keeping previous keys"),
        }
    }
}

async fn refresh_loop(inner: Weak<Inner>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };
        if let Source::Url { url, client, .. } = &inner.source {
            inner.refetch(client, url, "periodic").await;
        }
    }
}

fn peek_header(token: &str) -> Result<PeekHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_payload), Some(_sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::MalformedToken);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| AuthError::MalformedToken)?;
    serde_json::from_slice(&bytes).map_err(|_| AuthError::MalformedToken)
}

/// Looks up the roles claim: an exact top-level claim name first, then the
/// dotted path. Missing (or `null`) means no roles; anything other than an
/// array of strings is an error.
fn roles_from_claims(
    claims: &Map<String, Value>,
    path: &str,
) -> Result<BTreeSet<String>, AuthError> {
    let value = claims.get(path).or_else(|| {
        let mut segments = path.split('.');
        let first = claims.get(segments.next()?)?;
        segments.try_fold(first, |cur, seg| cur.as_object()?.get(seg))
    });
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(BTreeSet::new());
    };
    let items = value.as_array().ok_or(AuthError::InvalidClaim("roles"))?;
    if items.len() > MAX_ROLES {
        return Err(AuthError::InvalidClaim("roles"));
    }
    items
        .iter()
        .map(|item| match item.as_str() {
            Some(role) if role.len() <= MAX_ROLE_LEN => Ok(role.to_owned()),
            _ => Err(AuthError::InvalidClaim("roles")),
        })
        .collect()
}

fn map_jwt_error(err: jsonwebtoken::errors::Error) -> AuthError {
    match err.kind() {
        ErrorKind::InvalidSignature => AuthError::InvalidSignature,
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidIssuer => AuthError::InvalidIssuer,
        ErrorKind::InvalidAudience => AuthError::InvalidAudience,
        ErrorKind::InvalidSubject => AuthError::InvalidClaim("sub"),
        ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(claim_name(c)),
        ErrorKind::InvalidClaimFormat(c) => AuthError::InvalidClaim(claim_name(c)),
        ErrorKind::InvalidAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::InvalidAlgorithmName => AuthError::AlgorithmNotAllowed,
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat
        | ErrorKind::Provider(_) => {
            tracing::debug!(error = %err, "verification key unusable");
            AuthError::InvalidSignature
        }
        _ => AuthError::MalformedToken,
    }
}

fn claim_name(name: &str) -> &'static str {
    match name {
        "exp" => "exp",
        "nbf" => "nbf",
        "iss" => "iss",
        "aud" => "aud",
        "sub" => "sub",
        _ => "claim",
    }
}

fn build_client(url: &str) -> Result<reqwest::Client, AuthError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| AuthError::config("jwks_url", format!("not a valid URL: {e}")))?;
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .connect_timeout(CONNECT_TIMEOUT)
        .https_only(!is_loopback(&parsed))
        .redirect(reqwest::redirect::Policy::limited(3))
        .user_agent(concat!("complaints-auth/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| AuthError::Keys(format!("cannot build HTTP client: {e}")))
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<KeySet, AuthError> {
    let fail = |what: String| AuthError::Keys(format!("JWKS from {url}: {what}"));
    let mut response = client
        .get(url)
        .header(http::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| fail(e.to_string()))?;
    if !response.status().is_success() {
        return Err(fail(format!("HTTP status {}", response.status())));
    }
    if response
        .content_length()
        .is_some_and(|len| len > MAX_JWKS_BYTES as u64)
    {
        return Err(fail("response too large".into()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fail(e.to_string()))? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(fail("response too large".into()));
        }
        body.extend_from_slice(&chunk);
    }
    KeySet::parse(&body).map_err(fail)
}

async fn stamp(path: &Path) -> Result<FileStamp, AuthError> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| AuthError::io(path, e))?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Ok(FileStamp {
        modified: meta.modified().ok(),
        len: meta.len(),
        inode,
    })
}

async fn load_file(path: &Path) -> Result<(KeySet, FileStamp), AuthError> {
    let before = stamp(path).await?;
    if before.len > MAX_JWKS_BYTES as u64 {
        return Err(AuthError::Keys(format!(
            "{}: JWKS larger than {MAX_JWKS_BYTES} bytes",
            path.display()
        )));
    }
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| AuthError::io(path, e))?;
    let keys =
        KeySet::parse(&bytes).map_err(|e| AuthError::Keys(format!("{}: {e}", path.display())))?;
    Ok((keys, before))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn roles_paths() {
        let c = obj(json!({
            "roles": ["a", "b"],
            "realm_access": {"roles": ["operator"]},
            "https://bank.example/roles": ["x"],
            "bad": "operator",
            "mixed": ["a", 1],
            "nested": {"deep": {"roles": ["d"]}},
            "nul": null
        }));
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(roles_from_claims(&c, "roles").expect("test value"), set(&["a", "b"]));
        assert_eq!(
            roles_from_claims(&c, "realm_access.roles").expect("test value"),
            set(&["operator"])
        );
        assert_eq!(
            roles_from_claims(&c, "nested.deep.roles").expect("test value"),
            set(&["d"])
        );
        assert_eq!(
            roles_from_claims(&c, "https://bank.example/roles").expect("test value"),
            set(&["x"])
        );
        assert!(roles_from_claims(&c, "missing").expect("test value").is_empty());
        assert!(roles_from_claims(&c, "realm_access.missing")
            .expect("test value")
            .is_empty());
        assert!(roles_from_claims(&c, "roles.deeper").expect("test value").is_empty());
        assert!(roles_from_claims(&c, "nul").expect("test value").is_empty());
        assert!(roles_from_claims(&c, "bad").is_err());
        assert!(roles_from_claims(&c, "mixed").is_err());
    }

    #[test]
    fn header_peeking() {
        assert!(peek_header("").is_err());
        assert!(peek_header("a.b").is_err());
        assert!(peek_header("a.b.c.d").is_err());
        assert!(peek_header("!!!.b.c").is_err());
        let h = URL_SAFE_NO_PAD.encode(br#"{"alg":"EdDSA","kid":"k"}"#);
        let peeked = peek_header(&format!("{h}.e30.sig")).expect("test value");
        assert_eq!(peeked.alg, "EdDSA");
        assert_eq!(peeked.kid.as_deref(), Some("k"));
    }
}
