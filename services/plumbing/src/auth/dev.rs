//! Development / test token signing with a locally generated Ed25519 key.
//!
//! Never use in production: the private key sits in a plain file. No key is
//! ever built into the code; every key is generated at run time.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::SigningKey;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{AuthConfig, AuthError};

/// File name of the PKCS#8 PEM private key (mode 0600).
pub const DEV_KEY_FILE: &str = "dev-signing-key.pem";
/// File name of the public JWKS.
pub const DEV_JWKS_FILE: &str = "jwks.json";
/// File name of the signer's issuer/audience/kid.
pub const DEV_META_FILE: &str = "dev-signer.json";

/// Mints EdDSA tokens for development and tests.
///
/// Files in its directory: `dev-signing-key.pem` (PKCS#8, mode 0600),
/// `jwks.json` (the public JWK: `kty` OKP, `crv` Ed25519, `alg` EdDSA,
/// `use` sig, `kid` = RFC 7638 thumbprint) and `dev-signer.json` (issuer,
/// audience, kid — so [`DevSigner::load`] needs only the directory).
/// Point [`AuthConfig::jwks_file`] at `jwks.json` (see [`DevSigner::config`]).
pub struct DevSigner {
    dir: PathBuf,
    kid: String,
    issuer: String,
    audience: String,
    key: EncodingKey,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    issuer: String,
    audience: String,
    kid: String,
}

impl std::fmt::Debug for DevSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevSigner")
            .field("dir", &self.dir)
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl DevSigner {
    /// Creates `dir` if needed, generates a fresh Ed25519 key and writes (or
    /// replaces, atomically) the three files.
    pub fn generate(
        dir: &Path,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthError> {
        fs::create_dir_all(dir).map_err(|e| AuthError::io(dir, e))?;
        let signing = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| AuthError::Keys(format!("cannot encode dev key: {e}")))?;
        let (kid, jwk) = public_jwk(&signing)?;
        let jwks = serde_json::to_vec_pretty(&JwkSet { keys: vec![jwk] })
            .map_err(|e| AuthError::Keys(format!("cannot encode JWKS: {e}")))?;
        let meta = Meta {
            issuer: issuer.into(),
            audience: audience.into(),
            kid,
        };
        write_atomic(&dir.join(DEV_KEY_FILE), pem.as_bytes(), 0o600)?;
        write_atomic(&dir.join(DEV_JWKS_FILE), &jwks, 0o644)?;
        write_meta(dir, &meta)?;
        Self::from_parts(dir, &signing, meta)
    }

    /// Reads a signer written by [`DevSigner::generate`]; fails if a file is
    /// missing or `jwks.json` does not hold the key's public half.
    pub fn load(dir: &Path) -> Result<Self, AuthError> {
        let key_path = dir.join(DEV_KEY_FILE);
        warn_if_exposed(&key_path);
        let pem = fs::read_to_string(&key_path).map_err(|e| AuthError::io(&key_path, e))?;
        let signing = SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
            AuthError::Keys(format!(
                "{}: not a PKCS#8 Ed25519 key: {e}",
                key_path.display()
            ))
        })?;
        let meta_path = dir.join(DEV_META_FILE);
        let meta: Meta = serde_json::from_slice(
            &fs::read(&meta_path).map_err(|e| AuthError::io(&meta_path, e))?,
        )
        .map_err(|e| AuthError::Keys(format!("{}: {e}", meta_path.display())))?;
        let (kid, jwk) = public_jwk(&signing)?;
        let jwks_path = dir.join(DEV_JWKS_FILE);
        let jwks: JwkSet = serde_json::from_slice(
            &fs::read(&jwks_path).map_err(|e| AuthError::io(&jwks_path, e))?,
        )
        .map_err(|e| AuthError::Keys(format!("{}: {e}", jwks_path.display())))?;
        if kid != meta.kid || jwks.find(&kid).map(|j| &j.algorithm) != Some(&jwk.algorithm) {
            return Err(AuthError::Keys(format!(
                "{} does not match {}",
                jwks_path.display(),
                key_path.display()
            )));
        }
        Self::from_parts(dir, &signing, meta)
    }

    /// [`DevSigner::load`] if `dir` already holds a key, else
    /// [`DevSigner::generate`]. A loaded signer adopts the given issuer and
    /// audience (rewriting `dev-signer.json` if they changed).
    pub fn ensure(
        dir: &Path,
        issuer: impl Into<String>,
        audience: impl Into<String>,
    ) -> Result<Self, AuthError> {
        if !dir.join(DEV_KEY_FILE).exists() {
            return Self::generate(dir, issuer, audience);
        }
        let mut signer = Self::load(dir)?;
        let (issuer, audience) = (issuer.into(), audience.into());
        if signer.issuer != issuer || signer.audience != audience {
            signer.issuer = issuer;
            signer.audience = audience;
            write_meta(
                dir,
                &Meta {
                    issuer: signer.issuer.clone(),
                    audience: signer.audience.clone(),
                    kid: signer.kid.clone(),
                },
            )?;
        }
        Ok(signer)
    }

    fn from_parts(dir: &Path, signing: &SigningKey, meta: Meta) -> Result<Self, AuthError> {
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| AuthError::Keys(format!("cannot encode dev key: {e}")))?;
        Ok(DevSigner {
            dir: dir.to_path_buf(),
            kid: meta.kid,
            issuer: meta.issuer,
            audience: meta.audience,
            key: EncodingKey::from_ed_der(der.as_bytes()),
        })
    }

    /// The key id written into minted tokens and into `jwks.json`.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The `iss` of minted tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `aud` of minted tokens.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Path of the public `jwks.json`.
    pub fn jwks_path(&self) -> PathBuf {
        self.dir.join(DEV_JWKS_FILE)
    }

    /// An [`AuthConfig`] accepting this signer's tokens (JWKS file source).
    pub fn config(&self) -> AuthConfig {
        AuthConfig {
            issuer: self.issuer.clone(),
            audience: self.audience.clone(),
            jwks_file: Some(self.jwks_path()),
            ..AuthConfig::default()
        }
    }

    /// The standard claims [`DevSigner::mint`] signs: `iss`, `aud`, `sub`,
    /// `roles`, `iat` = now, `exp` = now + `ttl` (whole seconds). Handy as a
    /// base for [`DevSigner::mint_with`].
    pub fn claims(&self, subject: &str, roles: &[&str], ttl: Duration) -> Value {
        let now = unix_now();
        json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "roles": roles,
            "iat": now,
            "exp": now.saturating_add(ttl.as_secs()),
        })
    }

    /// Mints a signed token (header `alg` EdDSA, `typ` JWT, `kid`).
    pub fn mint(&self, subject: &str, roles: &[&str], ttl: Duration) -> Result<String, AuthError> {
        self.mint_with(self.claims(subject, roles, ttl))
    }

    /// Signs exactly `claims` (a JSON object), adding nothing — for tests
    /// that need odd tokens (expired, wrong `aud`, no `sub`...).
    pub fn mint_with(&self, claims: Value) -> Result<String, AuthError> {
        if !claims.is_object() {
            return Err(AuthError::Keys("claims must be a JSON object".into()));
        }
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".into());
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| AuthError::Keys(format!("cannot sign token: {e}")))
    }
}

/// The public JWK (`kid` = RFC 7638 SHA-256 thumbprint) of `signing`.
fn public_jwk(signing: &SigningKey) -> Result<(String, Jwk), AuthError> {
    let mut jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: URL_SAFE_NO_PAD.encode(signing.verifying_key().as_bytes()),
        }),
    };
    let kid = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|e| AuthError::Keys(format!("cannot compute key id: {e}")))?;
    jwk.common.key_id = Some(kid.clone());
    Ok((kid, jwk))
}

fn write_meta(dir: &Path, meta: &Meta) -> Result<(), AuthError> {
    let bytes = serde_json::to_vec_pretty(meta)
        .map_err(|e| AuthError::Keys(format!("cannot encode signer metadata: {e}")))?;
    write_atomic(&dir.join(DEV_META_FILE), &bytes, 0o644)
}

/// Writes via a fresh temporary file created with `mode`, then renames.
fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<(), AuthError> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(|e| AuthError::io(path, e))
}

fn warn_if_exposed(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = fs::metadata(path) {
            if meta.permissions().mode() & 0o077 != 0 {
                tracing::warn!(path = %path.display(), "dev signing key is readable by group/others");
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
