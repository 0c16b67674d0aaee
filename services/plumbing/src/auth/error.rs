//! The error type shared by configuration, key loading and verification.

use std::path::PathBuf;

/// Why authentication (or setting it up) failed.
///
/// Contract: the `Display` text of every variant that [`Verifier::verify`]
/// (and so the layer) can return is safe to send to a client: it never
/// contains the token or any part of it, nor key material. The variants
/// [`AuthError::Config`], [`AuthError::Keys`] and [`AuthError::Io`] only arise
/// when building a [`Verifier`] or using a [`DevSigner`]; they may name local
/// paths or URLs and are meant for operators.
///
/// [`Verifier::verify`]: super::Verifier::verify
/// [`Verifier`]: super::Verifier
/// [`DevSigner`]: super::DevSigner
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `authorization` header (or an empty token).
    #[error("missing bearer token")]
    MissingToken,
    /// An `authorization` header that is not exactly one `Bearer <token>`.
    #[error("authorization header must be a single `Bearer <token>`")]
    MalformedHeader,
    /// Not a compact JWS, bad base64/JSON, or too long.
    #[error("malformed token")]
    MalformedToken,
    /// `alg` is not RS256/ES256/EdDSA, or does not match the key's algorithm.
    #[error("token algorithm not allowed")]
    AlgorithmNotAllowed,
    /// The token header carries no `kid`.
    #[error("token header has no key id")]
    MissingKeyId,
    /// No configured key has the token's `kid` (even after a reload).
    #[error("token signed by an unknown key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid token signature")]
    InvalidSignature,
    /// `exp` is in the past (beyond the leeway).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future (beyond the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iss` is not the configured issuer.
    #[error("token issuer not accepted")]
    InvalidIssuer,
    /// `aud` does not contain the configured audience.
    #[error("token audience not accepted")]
    InvalidAudience,
    /// A required claim (`exp`, `iss`, `aud`, `sub`) is absent.
    #[error("token lacks required claim `{0}`")]
    MissingClaim(&'static str),
    /// A claim has the wrong type or an unacceptable value.
    #[error("token claim `{0}` is invalid")]
    InvalidClaim(&'static str),
    /// The configuration is unusable; `key` names the offending setting.
    #[error("invalid auth config `{key}`: {reason}")]
    Config {
        /// The configuration key, e.g. `issuer` or `jwks_url`.
        key: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The key set (or a dev key) could not be fetched, parsed or used.
    #[error("signing keys unavailable: {0}")]
    Keys(String),
    /// A file could not be read or written.
    #[error("I/O error on {}: {source}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl AuthError {
    /// True for errors about the presented credentials (the client's fault),
    /// false for configuration / key-source / I/O errors.
    pub fn is_credential_error(&self) -> bool {
        !matches!(
            self,
            AuthError::Config { .. } | AuthError::Keys(_) | AuthError::Io { .. }
        )
    }

    pub(crate) fn config(key: &'static str, reason: impl Into<String>) -> Self {
        AuthError::Config {
            key,
            reason: reason.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        AuthError::Io {
            path: path.into(),
            source,
        }
    }
}

impl From<AuthError> for tonic::Status {
    /// Credential errors become `UNAUTHENTICATED` with the (client-safe)
    /// message; anything else becomes `INTERNAL` without details.
    fn from(err: AuthError) -> Self {
        if err.is_credential_error() {
            tonic::Status::unauthenticated(err.to_string())
        } else {
            tonic::Status::internal("authentication unavailable")
        }
    }
}
