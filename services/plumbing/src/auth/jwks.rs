//! Parsing a JWKS into verification keys.
//!
//! Only signature keys usable with RS256 (RSA ≥ 2048 bit), ES256 (P-256) or
//! EdDSA (Ed25519) are kept; everything else in the set (encryption keys,
//! other curves, HMAC secrets, keys without `kid`) is skipped, so a provider
//! publishing extra keys does not break verification.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Largest JWKS document accepted (file or HTTP body).
pub(crate) const MAX_JWKS_BYTES: usize = 1024 * 1024;
/// Most keys kept from one JWKS.
const MAX_KEYS: usize = 64;

/// A key with the single algorithm it may verify.
#[derive(Clone)]
pub(crate) struct VerifyKey {
    pub(crate) alg: Algorithm,
    pub(crate) key: DecodingKey,
}

/// Usable keys by `kid`.
#[derive(Clone, Default)]
pub(crate) struct KeySet {
    keys: HashMap<String, VerifyKey>,
}

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
}

impl KeySet {
    /// Parses a JWKS document. Fails if it is not a JWKS or holds no usable
    /// key; individual unusable keys are skipped (logged at debug).
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() > MAX_JWKS_BYTES {
            return Err(format!("JWKS larger than {MAX_JWKS_BYTES} bytes"));
        }
        let raw: RawSet =
            serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = HashMap::new();
        for value in raw.keys {
            let jwk: RawJwk = match serde_json::from_value(value) {
                Ok(jwk) => jwk,
                Err(e) => {
                    tracing::debug!(error = %e, "skipping malformed JWK");
                    continue;
                }
            };
            let kid = jwk.kid.clone().unwrap_or_default();
            match convert(jwk) {
                Ok(Some((kid, key))) => {
                    if keys.len() >= MAX_KEYS {
                        tracing::warn!(max = MAX_KEYS, "JWKS has too many keys; ignoring the rest");
                        break;
                    }
                    match keys.entry(kid) {
                        Entry::Occupied(e) => tracing::warn!(
                            kid = %e.key(),
                            "duplicate kid in JWKS; keeping the first"
                        ),
                        Entry::Vacant(e) => {
                            e.insert(key);
                        }
                    }
                }
                Ok(None) => tracing::debug!(kid = %kid, "skipping non-signature JWK"),
                Err(reason) => {
                    tracing::debug!(kid = %kid, reason = %reason, "skipping unusable JWK")
                }
            }
        }
        if keys.is_empty() {
            return Err("JWKS holds no usable RS256/ES256/EdDSA signing key with a kid".into());
        }
        Ok(KeySet { keys })
    }

    pub(crate) fn get(&self, kid: &str) -> Option<&VerifyKey> {
        self.keys.get(kid)
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }
}

/// `Ok(None)`: not a signing key (skip quietly). `Err`: unusable key.
fn convert(jwk: RawJwk) -> Result<Option<(String, VerifyKey)>, String> {
    if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if jwk
        .key_ops
        .as_ref()
        .is_some_and(|ops| !ops.iter().any(|op| op == "verify"))
    {
        return Ok(None);
    }
    let kid = match jwk.kid {
        Some(kid) if !kid.is_empty() => kid,
        _ => return Err("no kid".into()),
    };
    let alg = match (jwk.kty.as_str(), jwk.alg.as_deref(), jwk.crv.as_deref()) {
        ("RSA", None | Some("RS256"), _) => Algorithm::RS256,
        ("EC", None | Some("ES256"), Some("P-256")) => Algorithm::ES256,
        ("OKP", None | Some("EdDSA"), Some("Ed25519")) => Algorithm::EdDSA,
        (kty, alg, crv) => {
            return Err(format!(
                "unsupported key (kty {kty}, alg {}, crv {})",
                alg.unwrap_or("-"),
                crv.unwrap_or("-")
            ))
        }
    };
    let key = match alg {
        Algorithm::RS256 => {
            let n = b64(jwk.n.as_deref(), "n")?;
            let e = b64(jwk.e.as_deref(), "e")?;
            let n = strip_leading_zeros(&n);
            let e = strip_leading_zeros(&e);
            if n.len() < 256 {
                return Err("RSA modulus shorter than 2048 bits".into());
            }
            if n.len() > 512 {
                return Err("RSA modulus longer than 4096 bits".into());
            }
            if e.is_empty() || e.len() > 8 {
                return Err("bad RSA exponent".into());
            }
            DecodingKey::from_rsa_raw_components(n, e)
        }
        Algorithm::ES256 => {
            let x = b64(jwk.x.as_deref(), "x")?;
            let y = b64(jwk.y.as_deref(), "y")?;
            if x.len() != 32 || y.len() != 32 {
                return Err("P-256 coordinates must be 32 bytes".into());
            }
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            DecodingKey::from_ec_der(&point)
        }
        _ => {
            let x = b64(jwk.x.as_deref(), "x")?;
            if x.len() != 32 {
                return Err("Ed25519 public key must be 32 bytes".into());
            }
            DecodingKey::from_ed_der(&x)
        }
    };
    // Let the crypto backend build a verifier once, so an invalid curve
    // point is rejected now rather than on every request.
    if jsonwebtoken::crypto::verify("", b"probe", &key, alg).is_err() {
        return Err("public key rejected by the crypto backend".into());
    }
    Ok(Some((kid, VerifyKey { alg, key })))
}

fn b64(value: Option<&str>, name: &str) -> Result<Vec<u8>, String> {
    let value = value.ok_or_else(|| format!("missing `{name}`"))?;
    URL_SAFE_NO_PAD
        .decode(value.trim_end_matches('='))
        .map_err(|_| format!("`{name}` is not base64url"))
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_garbage_and_empty_sets() {
        assert!(KeySet::parse(b"not json").is_err());
        assert!(KeySet::parse(br#"{"keys":[]}"#).is_err());
        // HMAC secret, encryption key, short Ed25519 key, P-384: all skipped.
        let doc = br#"{"keys":[
            {"kty":"oct","kid":"h","k":"c2VjcmV0"},
            {"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},
            {"kty":"OKP","kid":"short","crv":"Ed25519","x":"AAAA"},
            {"kty":"EC","kid":"p384","crv":"P-384","x":"AAAA","y":"AAAA"},
            {"kty":"OKP","kid":"wrongalg","alg":"RS256","crv":"Ed25519","x":"AAAA"}
        ]}"#;
        assert!(KeySet::parse(doc).is_err());
    }

    #[test]
    fn small_rsa_rejected() {
        let doc = br#"{"keys":[{"kty":"RSA","kid":"r","n":"AQAB","e":"AQAB"}]}"#;
        assert!(KeySet::parse(doc).is_err());
    }
}
