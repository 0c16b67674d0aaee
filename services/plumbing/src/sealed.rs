//! Data sealed for one recipient: an anonymous sealed box (X25519, XSalsa20-Poly1305; the
//! libsodium `crypto_box_seal` construction from the `crypto_box` crate) to the recipient's
//! public key. Used where personal data must cross a shared medium to exactly one reader:
//! the customer's contact in `received` (only notification holds the opening key; the other
//! consumers and the broker see ciphertext) and spooled messages (only the gateway opens them).
//!
//! Key files are generated at set-up: the secret key as 64 hex digits, owner-only, and the
//! public key next to it with `.pub` appended.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use crypto_box::{PublicKey, SecretKey};

/// Who can seal for a recipient: its public key.
#[derive(Clone)]
pub struct SealFor(PublicKey);

/// The recipient's opening key.
#[derive(Clone)]
pub struct Opener(SecretKey);

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener(..)")
    }
}

impl std::fmt::Debug for SealFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealFor({})", hex::encode(self.0.as_bytes()))
    }
}

fn read_key(path: &Path, what: &str) -> anyhow::Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the {what} {}", path.display()))?;
    let bytes = hex::decode(text.trim()).with_context(|| format!("the {what} {} is not hex", path.display()))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("the {what} {} must hold 32 bytes", path.display()))
}

/// The public key file of the secret key file `secret`.
pub fn public_path(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Generates a key pair at `secret` (owner-only) and `secret.pub` unless it exists.
pub fn ensure_keypair(secret: &Path) -> anyhow::Result<()> {
    if secret.exists() {
        return Ok(());
    }
    if let Some(parent) = secret.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let key = SecretKey::generate(&mut crypto_box::aead::OsRng);
    crate::write_private(secret, &hex::encode(key.to_bytes()))?;
    std::fs::write(public_path(secret), hex::encode(key.public_key().as_bytes()))?;
    Ok(())
}

impl SealFor {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Ok(Self(PublicKey::from(read_key(path, "public sealing key")?)))
    }

    /// `clear` sealed so that only the holder of the matching secret key opens it.
    pub fn seal(&self, clear: &[u8]) -> Vec<u8> {
        self.0.seal(&mut crypto_box::aead::OsRng, clear).expect("sealing never fails for in-memory data")
    }
}

impl Opener {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Ok(Self(SecretKey::from(read_key(path, "secret sealing key")?)))
    }

    /// The clear bytes of a box sealed for this key; `None` when it was not, or was altered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        self.0.unseal(sealed).ok()
    }

    /// The public key that seals for this opener.
    pub fn seal_for(&self) -> SealFor {
        SealFor(self.0.public_key())
    }
}
