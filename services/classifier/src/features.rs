//! Feature extraction: English word unigrams and bigrams, Chinese character unigrams and bigrams,
//! and structured fields (channel, product, amount band), hashed into a fixed number of buckets.
//!
//! Hashing is FNV-1a 64 over a kind tag and the feature's parts, so buckets are stable across
//! platforms and releases; the artifact records the bucket count.

/// One feature before hashing. Text features borrow from the lowercased text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureKey<'a> {
    Word(&'a str),
    WordPair(&'a str, &'a str),
    /// One or two Han characters.
    Han(&'a str),
    /// A structured field and its value (e.g. `channel`, `web`).
    Field(&'static str, &'a str),
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv_bytes(mut hash: u64, bytes: &[u8]) -> u64 {
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(FNV_PRIME);
    }
    hash
}

/// FNV-1a 64 of a string; also used for the deterministic split and model versions.
pub(crate) fn fnv64(text: &str) -> u64 {
    fnv_bytes(FNV_OFFSET, text.as_bytes())
}

impl FeatureKey<'_> {
    fn hash(&self, offset: u64) -> u64 {
        match self {
            FeatureKey::Word(word) => fnv_bytes(fnv_bytes(offset, b"w\x1f"), word.as_bytes()),
            FeatureKey::WordPair(first, second) => {
                let hash = fnv_bytes(fnv_bytes(offset, b"p\x1f"), first.as_bytes());
                fnv_bytes(fnv_bytes(hash, b" "), second.as_bytes())
            }
            FeatureKey::Han(chars) => fnv_bytes(fnv_bytes(offset, b"h\x1f"), chars.as_bytes()),
            FeatureKey::Field(field, value) => {
                let hash = fnv_bytes(fnv_bytes(offset, b"f\x1f"), field.as_bytes());
                fnv_bytes(fnv_bytes(hash, b"="), value.as_bytes())
            }
        }
    }

    /// `(bucket in 0..buckets, 32-bit fingerprint)` from one well-mixed 64-bit hash: the bucket
    /// takes the low bits, the fingerprint the high 32 (`buckets` is a power of two ≤ 2^24).
    pub(crate) fn bucket_and_fingerprint(&self, buckets: u32) -> (u32, u32) {
        // splitmix64's finaliser: FNV's low bits are weak for short inputs.
        let mut z = self.hash(FNV_OFFSET);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        ((z as u32) & (buckets - 1), (z >> 32) as u32)
    }

    pub(crate) fn bucket(&self, buckets: u32) -> u32 {
        self.bucket_and_fingerprint(buckets).0
    }

    /// Human-readable form for reasons ("word 'stolen'").
    pub(crate) fn describe(&self) -> String {
        match self {
            FeatureKey::Word(word) => format!("word '{word}'"),
            FeatureKey::WordPair(first, second) => format!("phrase '{first} {second}'"),
            FeatureKey::Han(chars) => format!("characters '{chars}'"),
            FeatureKey::Field(field, value) => format!("{field} '{value}'"),
        }
    }
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}' | '\u{f900}'..='\u{faff}')
}

/// CFPB redacts names, dates and numbers as runs of `x` ("XXXX", "XX/XX/XXXX").
fn is_redaction(word: &str) -> bool {
    word.bytes().all(|byte| byte == b'x')
}

/// Calls `visit` for every text feature of `lowercased` (already lowercased by the caller).
/// Words are runs of alphabetic non-Han characters of length ≥ 2; digits separate words and are
/// dropped (amounts are a structured field). Han runs yield every character and every adjacent
/// pair, which stands in for a segmenter.
pub(crate) fn visit_text_features<'a>(lowercased: &'a str, mut visit: impl FnMut(FeatureKey<'a>)) {
    let mut previous_word: Option<&'a str> = None;
    let mut chars = lowercased.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if is_han(c) {
            let mut end = start + c.len_utf8();
            let mut previous_start = start;
            visit(FeatureKey::Han(&lowercased[start..end]));
            while let Some(&(next_start, next)) = chars.peek() {
                if !is_han(next) {
                    break;
                }
                chars.next();
                end = next_start + next.len_utf8();
                visit(FeatureKey::Han(&lowercased[next_start..end]));
                visit(FeatureKey::Han(&lowercased[previous_start..end]));
                previous_start = next_start;
            }
            previous_word = None;
        } else if c.is_alphabetic() {
            let mut end = start + c.len_utf8();
            while let Some(&(next_start, next)) = chars.peek() {
                if !(next.is_alphabetic() || next == '\'') || is_han(next) {
                    break;
                }
                chars.next();
                end = next_start + next.len_utf8();
            }
            let word = lowercased[start..end].trim_end_matches('\'');
            if word.len() < 2 || is_redaction(word) {
                continue;
            }
            visit(FeatureKey::Word(word));
            if let Some(previous) = previous_word {
                visit(FeatureKey::WordPair(previous, word));
            }
            previous_word = Some(word);
        } else if c.is_whitespace() || c == '-' || c == '/' {
            // Keep the pair across simple separators.
        } else {
            previous_word = None;
        }
    }
}

/// Amount band as a structured feature value (minor units, currency-agnostic).
pub(crate) fn amount_band(amount_minor: Option<i64>) -> &'static str {
    match amount_minor {
        None => "none",
        Some(amount) if amount <= 0 => "zero",
        Some(amount) if amount < 100 * 100 => "lt100",
        Some(amount) if amount < 1_000 * 100 => "lt1k",
        Some(amount) if amount < 10_000 * 100 => "lt10k",
        Some(_) => "ge10k",
    }
}

/// A hashed, de-duplicated, L2-normalised sparse vector.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseVector {
    pub(crate) buckets: Vec<u32>,
    pub(crate) value: f32,
}

/// A text's distinct features, hashed once and shared by both models.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextFeatures {
    /// Sorted, distinct buckets.
    pub(crate) buckets: Vec<u32>,
    /// Sorted, distinct fingerprints (for the vocabulary check).
    pub(crate) fingerprints: Vec<u32>,
}

impl TextFeatures {
    pub(crate) fn of(lowercased_text: &str, buckets: u32) -> TextFeatures {
        let mut hashed = Vec::with_capacity(lowercased_text.len() / 3);
        let mut fingerprints = Vec::with_capacity(hashed.capacity());
        visit_text_features(lowercased_text, |key| {
            let (bucket, fingerprint) = key.bucket_and_fingerprint(buckets);
            hashed.push(bucket);
            fingerprints.push(fingerprint);
        });
        hashed.sort_unstable();
        hashed.dedup();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        TextFeatures {
            buckets: hashed,
            fingerprints,
        }
    }

    /// The text's buckets plus the fields' buckets, those for which `keep` holds, normalised.
    pub(crate) fn vector(
        &self,
        fields: &[(&'static str, &str)],
        buckets: u32,
        keep: impl Fn(u32) -> bool,
    ) -> SparseVector {
        let mut kept: Vec<u32> = self
            .buckets
            .iter()
            .copied()
            .filter(|bucket| keep(*bucket))
            .collect();
        for (field, value) in fields {
            let bucket = FeatureKey::Field(field, value).bucket(buckets);
            if keep(bucket) {
                kept.push(bucket);
            }
        }
        kept.sort_unstable();
        kept.dedup();
        let value = if kept.is_empty() {
            0.0
        } else {
            1.0 / (kept.len() as f32).sqrt()
        };
        SparseVector {
            buckets: kept,
            value,
        }
    }
}

/// log2 of the vocabulary bitset size: 2^21 bits (256 KiB, cache-friendly) gives a 100,000-feature vocabulary a
/// false-positive rate near 1 %.
const VOCABULARY_BITS: u32 = 21;

/// The set of text features seen in training, as a bitset over fingerprints. Used to measure how
/// much of a complaint's text the model has ever seen (hash buckets collide too often for that).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vocabulary {
    bits: Vec<u64>,
}

impl Vocabulary {
    pub(crate) fn from_fingerprints(fingerprints: &[u32]) -> Vocabulary {
        let mut bits = vec![0u64; (1usize << VOCABULARY_BITS) / 64];
        for fingerprint in fingerprints {
            let index = (fingerprint >> (32 - VOCABULARY_BITS)) as usize;
            bits[index / 64] |= 1 << (index % 64);
        }
        Vocabulary { bits }
    }

    pub(crate) fn contains(&self, fingerprint: u32) -> bool {
        let index = (fingerprint >> (32 - VOCABULARY_BITS)) as usize;
        self.bits[index / 64] & (1 << (index % 64)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        visit_text_features(text, |key| out.push(key.describe()));
        out
    }

    #[test]
    fn english_words_and_pairs_skip_redactions_and_numbers() {
        let features = collect("my card was stolen on xx/xx/xxxx, $500 lost");
        assert!(features.contains(&"word 'stolen'".to_string()));
        assert!(features.contains(&"phrase 'was stolen'".to_string()));
        assert!(!features.iter().any(|f| f.contains("xx")));
        assert!(!features.iter().any(|f| f.contains("500")));
    }

    #[test]
    fn chinese_runs_yield_unigrams_and_bigrams() {
        let features = collect("信用卡被盗刷");
        assert!(features.contains(&"characters '盗刷'".to_string()));
        assert!(features.contains(&"characters '信'".to_string()));
        assert_eq!(features.len(), 6 + 5);
    }

    #[test]
    fn buckets_are_stable_and_in_range() {
        let key = FeatureKey::Word("fraud");
        assert_eq!(key.bucket(1 << 18), key.bucket(1 << 18));
        assert!(key.bucket(1 << 10) < 1 << 10);
        assert_ne!(
            key.bucket(1 << 18),
            FeatureKey::Han("fraud").bucket(1 << 18)
        );
    }
}
