//! Data sealed for one recipient: an anonymous sealed box (X25519, XSalsa20-Poly1305; the
//! libsodium `crypto_box_seal` construction from the `crypto_box` crate) to the recipient's
//! public key. Used where personal data must cross a shared medium to exactly one reader:
//! the customer's contact in `received` (only notification holds the opening key; the other
//! consumers and the broker see ciphertext) and spooled messages (only the gateway opens them).
//!
//! A stream of messages to one recipient (the contacts intake seals for notification) may use
//! [`SealFor::seal_in_stream`] instead: a crypto_box from a sender key pair the sealer makes
//! itself and renews every [`SENDER_KEY_SECONDS`] or [`SENDER_KEY_USES`] messages, with a
//! random nonce per message — the two X25519 multiplications of a sealed box are paid once
//! per sender key rather than per message, and a sender key's secret lives only in the
//! sealer's memory, for minutes. [`Opener::open`] opens both forms.
//!
//! Key files are generated at set-up: the secret key as 64 hex digits, owner-only, and the
//! public key next to it with `.pub` appended.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use crypto_box::aead::{Aead, AeadCore, OsRng};
use crypto_box::{Nonce, PublicKey, SalsaBox, SecretKey};

/// How long a sender key of [`SealFor::seal_in_stream`] seals.
pub const SENDER_KEY_SECONDS: u64 = 600;
/// How many messages a sender key of [`SealFor::seal_in_stream`] seals at most.
pub const SENDER_KEY_USES: u32 = 100_000;

/// What starts a message of [`SealFor::seal_in_stream`]: then the sender's public key, the
/// nonce and the ciphertext.
const STREAM_TAG: &[u8] = b"cb1";
const NONCE_BYTES: usize = 24;
/// Sender keys whose boxes an [`Opener`] keeps.
const SENDERS_REMEMBERED: usize = 64;

/// Who can seal for a recipient: its public key.
#[derive(Clone)]
pub struct SealFor {
    recipient: PublicKey,
    sender: Arc<Mutex<Option<Sender>>>,
}

/// The current sender key of [`SealFor::seal_in_stream`], its box with the recipient
/// precomputed.
struct Sender {
    public: PublicKey,
    shared: SalsaBox,
    born: Instant,
    uses: u32,
}

/// The recipient's opening key.
#[derive(Clone)]
pub struct Opener {
    secret: SecretKey,
    /// The boxes with the sender keys seen lately (a stream's messages share one; each
    /// replica of the sealer has its own).
    senders: Arc<Mutex<HashMap<[u8; 32], SalsaBox>>>,
}

impl std::fmt::Debug for Opener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opener(..)")
    }
}

impl std::fmt::Debug for SealFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealFor({})", hex::encode(self.recipient.as_bytes()))
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
    fn new(recipient: PublicKey) -> Self {
        Self { recipient, sender: Arc::new(Mutex::new(None)) }
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::new(PublicKey::from(read_key(path, "public sealing key")?)))
    }

    /// `clear` sealed so that only the holder of the matching secret key opens it: an
    /// anonymous sealed box, which any libsodium reader opens.
    pub fn seal(&self, clear: &[u8]) -> Vec<u8> {
        self.recipient.seal(&mut OsRng, clear).expect("sealing never fails for in-memory data")
    }

    /// `clear` sealed for the recipient, one of a stream of messages to it (the module's
    /// documentation says how); only [`Opener::open`] opens it.
    pub fn seal_in_stream(&self, clear: &[u8]) -> Vec<u8> {
        let nonce = SalsaBox::generate_nonce(&mut OsRng);
        let mut sender = self.sender.lock().expect("sender lock");
        let stale = sender.as_ref().is_none_or(|current| {
            current.uses >= SENDER_KEY_USES || current.born.elapsed() >= Duration::from_secs(SENDER_KEY_SECONDS)
        });
        if stale {
            let secret = SecretKey::generate(&mut OsRng);
            let shared = SalsaBox::new(&self.recipient, &secret);
            *sender = Some(Sender { public: secret.public_key(), shared, born: Instant::now(), uses: 0 });
        }
        let current = sender.as_mut().expect("a sender key");
        current.uses += 1;
        let sealed = current.shared.encrypt(&nonce, clear).expect("sealing never fails for in-memory data");
        let mut out = Vec::with_capacity(STREAM_TAG.len() + 32 + NONCE_BYTES + sealed.len());
        out.extend_from_slice(STREAM_TAG);
        out.extend_from_slice(current.public.as_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }
}

impl Opener {
    fn new(secret: SecretKey) -> Self {
        Self { secret, senders: Arc::new(Mutex::new(HashMap::new())) }
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::new(SecretKey::from(read_key(path, "secret sealing key")?)))
    }

    /// The clear bytes of a box sealed for this key ([`SealFor::seal`] or
    /// [`SealFor::seal_in_stream`]); `None` when it was not, or was altered.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        self.open_in_stream(sealed).or_else(|| self.secret.unseal(sealed).ok())
    }

    fn open_in_stream(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let rest = sealed.strip_prefix(STREAM_TAG)?;
        if rest.len() < 32 + NONCE_BYTES {
            return None;
        }
        let (public, rest) = rest.split_at(32);
        let (nonce, body) = rest.split_at(NONCE_BYTES);
        let public = <[u8; 32]>::try_from(public).ok()?;
        let mut senders = self.senders.lock().expect("senders lock");
        if !senders.contains_key(&public) {
            if senders.len() >= SENDERS_REMEMBERED {
                senders.clear();
            }
            senders.insert(public, SalsaBox::new(&PublicKey::from(public), &self.secret));
        }
        senders.get(&public)?.decrypt(Nonce::from_slice(nonce), body).ok()
    }

    /// The public key that seals for this opener.
    pub fn seal_for(&self) -> SealFor {
        SealFor::new(self.secret.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_open_only_for_their_recipient_and_unaltered() {
        let opener = Opener::new(SecretKey::generate(&mut OsRng));
        let other = Opener::new(SecretKey::generate(&mut OsRng));
        let seal = opener.seal_for();
        let anonymous = seal.seal(b"13812345678");
        let first = seal.seal_in_stream(b"13812345678");
        let second = seal.seal_in_stream(b"13812345678");
        for sealed in [&anonymous, &first, &second] {
            assert_eq!(opener.open(sealed).as_deref(), Some(&b"13812345678"[..]));
            assert_eq!(other.open(sealed), None, "another recipient");
            assert!(!sealed.windows(11).any(|w| w == b"13812345678"), "nothing clear");
            let mut altered = sealed.clone();
            *altered.last_mut().expect("bytes") ^= 1;
            assert_eq!(opener.open(&altered), None, "altered");
        }
        assert!(first.starts_with(STREAM_TAG));
        assert_eq!(first[3..35], second[3..35], "one sender key for the stream");
        assert_ne!(first[35..59], second[35..59], "a nonce per message");
        assert_eq!(opener.open(&first[..40]), None, "cut short");
        assert_eq!(opener.open(b""), None);
        // A renewed sender key still opens.
        let renewed = opener.seal_for();
        assert_eq!(opener.open(&renewed.seal_in_stream(b"x")).as_deref(), Some(&b"x"[..]));
        assert_eq!(opener.open(&second).as_deref(), Some(&b"13812345678"[..]), "and so do the older ones");
    }
}
