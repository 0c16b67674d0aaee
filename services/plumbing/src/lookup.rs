//! Protected lookup keys (a keyed blind index) for personal identifiers: equality lookups —
//! search by ID number, the same customer's repeat complaints — without the clear value
//! anywhere but the intake store. A lookup key is HMAC-SHA256 under the installation's secret
//! of the normalised identifier; without the secret, an ID number (a small space) cannot be
//! recovered from it by trying every candidate.
//!
//! The secret is generated at set-up (`complaintctl up` writes `.data/secrets/lookup.key`),
//! read from `lookup_key_file`, never committed or built in.

use std::path::Path;

use anyhow::Context;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Bytes of secret a key file must hold (hex-encoded).
const KEY_BYTES: usize = 32;

#[derive(Clone)]
pub struct LookupKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupKey(..)")
    }
}

impl LookupKey {
    /// The key in `path`: hex of at least 32 bytes.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the lookup key {}", path.display()))?;
        let secret = hex::decode(text.trim()).with_context(|| format!("the lookup key {} is not hex", path.display()))?;
        anyhow::ensure!(secret.len() >= KEY_BYTES, "the lookup key {} holds fewer than {KEY_BYTES} bytes", path.display());
        Ok(Self { secret })
    }

    /// The key in `path`, generated there first (readable by the owner only) when missing.
    pub fn ensure(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let mut secret = vec![0u8; KEY_BYTES];
            rand::thread_rng().fill_bytes(&mut secret);
            crate::write_private(path, &hex::encode(&secret))?;
        }
        Self::load(path)
    }

    /// The key a service is configured with; a clear error naming the setting when unset.
    pub fn from_config(path: Option<&Path>) -> anyhow::Result<Self> {
        let path = path.context(
            "lookup_key_file (CMS_LOOKUP_KEY_FILE) is not set: the protected customer lookup needs the installation's \
             secret (complaintctl up generates .data/secrets/lookup.key)",
        )?;
        Self::load(path)
    }

    /// The lookup key of a customer's identity document number: case, spaces and hyphens do not
    /// matter. Empty for an empty number.
    pub fn customer(&self, id_number: &str) -> String {
        let normalised: String = id_number.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
        if normalised.is_empty() {
            return String::new();
        }
        self.digest("customer", &normalised)
    }

    fn digest(&self, purpose: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_number_however_written_gives_the_same_key_and_another_secret_another() {
        let dir = std::env::temp_dir().join(format!("lookup-{}", uuid::Uuid::now_v7()));
        let key = LookupKey::ensure(&dir.join("a.key")).expect("generated");
        let again = LookupKey::ensure(&dir.join("a.key")).expect("loaded");
        let other = LookupKey::ensure(&dir.join("b.key")).expect("generated");
        let one = key.customer("11010519491231002x");
        assert_eq!(one, again.customer(" 110105-19491231002X "));
        assert_ne!(one, other.customer("11010519491231002X"));
        assert_ne!(one, key.customer("11010519491231002"));
        assert!(!one.contains("1101051949"), "no clear digits");
        assert_eq!(one.len(), 64);
        assert_eq!(key.customer("  "), "");
        std::fs::write(dir.join("short.key"), "abcd").expect("write");
        assert!(LookupKey::load(&dir.join("short.key")).is_err());
        assert!(LookupKey::from_config(None).expect_err("unset").to_string().contains("CMS_LOOKUP_KEY_FILE"));
        std::fs::remove_dir_all(dir).ok();
    }
}
