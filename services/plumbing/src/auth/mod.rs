//! Bearer-token authentication for every RPC.
//!
//! * [`AuthConfig`] says which issuer/audience to accept and where the public
//!   keys come from (a JWKS file or a JWKS URL).
//! * [`Verifier`] checks a compact JWT (RS256, ES256 or EdDSA only; key chosen
//!   by `kid`) and turns it into an [`Actor`].
//! * [`AuthLayer`] is a tower layer for `tonic::transport::Server::builder().layer(..)`:
//!   it rejects unauthenticated calls with gRPC status `UNAUTHENTICATED` and
//!   otherwise puts the [`Actor`] into the request extensions, where handlers
//!   find it with [`actor`].
//! * [`DevSigner`] creates a local Ed25519 signing key plus matching JWKS and
//!   mints tokens, for development and tests only.
//!
//! Tokens are never logged and never echoed in error messages.

mod actor;
mod config;
mod dev;
mod error;
mod jwks;
mod layer;
mod verifier;

pub use actor::{Actor, ActorKind, ROLE_CHANNEL, ROLE_OPERATOR, ROLE_SYSTEM};
pub use config::AuthConfig;
pub use dev::{DevSigner, DEV_JWKS_FILE, DEV_KEY_FILE, DEV_META_FILE};
pub use error::AuthError;
pub use layer::{actor, is_exempt_path, AuthLayer, AuthService, EXEMPT_PATH_PREFIXES};
pub use verifier::{Verifier, MAX_TOKEN_LEN, MIN_REFETCH_INTERVAL};
