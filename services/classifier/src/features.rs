//! Feature extraction: English word unigrams and bigrams, English character n-grams within
//! words, Chinese character unigrams and bigrams, and structured fields (channel, product,
//! amount band), hashed into a fixed number of buckets and weighted by sublinear TF-IDF; for
//! the category model the word-level features also enter crossed with the product.
//!
//! Hashing is FNV-1a 64 over a kind tag and the feature's parts, so buckets are stable across
//! platforms and releases; the artifact records the bucket count and the n-gram range.

/// One feature before hashing. Text features borrow from the lowercased text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FeatureKey<'a> {
    Word(&'a str),
    WordPair(&'a str, &'a str),
    /// One or two Han characters.
    Han(&'a str),
    /// Characters of one word; `starts`/`ends` when the n-gram includes the word's boundary
    /// (the word is padded with one boundary mark on each side, as in `<card>`).
    CharGram {
        chars: &'a str,
        starts: bool,
        ends: bool,
    },
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
            FeatureKey::CharGram {
                chars,
                starts,
                ends,
            } => {
                let hash = fnv_bytes(offset, if *starts { b"c\x1f<" } else { b"c\x1f" });
                let hash = fnv_bytes(hash, chars.as_bytes());
                if *ends {
                    fnv_bytes(hash, b">")
                } else {
                    hash
                }
            }
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
            FeatureKey::CharGram {
                chars,
                starts,
                ends,
            } => format!(
                "letters '{}{chars}{}'",
                if *starts { "<" } else { "" },
                if *ends { ">" } else { "" }
            ),
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

/// Lengths of the character n-grams taken from each English word, boundary marks included;
/// `min == 0` takes none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CharGrams {
    pub(crate) min: u8,
    pub(crate) max: u8,
}

/// Calls `visit` for every text feature of `lowercased` (already lowercased by the caller).
/// Words are runs of alphabetic non-Han characters of length ≥ 2; digits separate words and are
/// dropped (amounts are a structured field). Each word also yields its character n-grams
/// (`grams`), which match spelling variants, inflections and typos that whole words miss. Han
/// runs yield every character and every adjacent pair, which stands in for a segmenter.
pub(crate) fn visit_text_features<'a>(
    lowercased: &'a str,
    grams: CharGrams,
    mut visit: impl FnMut(FeatureKey<'a>),
) {
    let mut previous_word: Option<&'a str> = None;
    let mut boundaries = Vec::new();
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
            visit_char_grams(word, grams, &mut boundaries, &mut visit);
            previous_word = Some(word);
        } else if c.is_whitespace() || c == '-' || c == '/' {
            // Keep the pair across simple separators.
        } else {
            previous_word = None;
        }
    }
}

/// The n-grams of `word` padded with a boundary mark on each side: for 3..=4, "card" yields
/// `<ca car ard rd> <car card ard>`. `boundaries` is scratch space for char offsets.
fn visit_char_grams<'a>(
    word: &'a str,
    grams: CharGrams,
    boundaries: &mut Vec<usize>,
    visit: &mut impl FnMut(FeatureKey<'a>),
) {
    if grams.min == 0 {
        return;
    }
    boundaries.clear();
    boundaries.extend(word.char_indices().map(|(offset, _)| offset));
    boundaries.push(word.len());
    let letters = boundaries.len() - 1;
    // Padded positions: 0 is the start mark, 1..=letters the letters, letters + 1 the end mark.
    let padded = letters + 2;
    for length in usize::from(grams.min)..=usize::from(grams.max) {
        if length > padded {
            break;
        }
        for start in 0..=padded - length {
            let end = start + length;
            let starts = start == 0;
            let ends = end == padded;
            let first = if starts { 0 } else { start - 1 };
            let last = if ends { letters } else { end - 1 };
            visit(FeatureKey::CharGram {
                chars: &word[boundaries[first]..boundaries[last]],
                starts,
                ends,
            });
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

/// Hash of a crossing context (see [`TextFeatures::crossed_words`]).
pub(crate) fn context_salt(context: &str) -> u64 {
    fnv_bytes(fnv_bytes(FNV_OFFSET, b"x\x1f"), context.as_bytes())
}

/// The bucket of word-level feature `bucket` crossed with the context hashed as `salt`.
pub(crate) fn crossed_bucket(bucket: u32, salt: u64, buckets: u32) -> u32 {
    let mut z = salt ^ u64::from(bucket).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z as u32) & (buckets - 1)
}

/// A hashed sparse vector: distinct buckets in ascending order and their values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseVector {
    pub(crate) buckets: Vec<u32>,
    pub(crate) values: Vec<f32>,
}

/// A text's hashed features with their counts, computed once and shared by both models.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TextFeatures {
    /// `(bucket, count)` of words, word pairs and Han characters, ascending by bucket.
    pub(crate) words: Vec<(u32, u32)>,
    /// `(bucket, count)` of character n-grams, ascending by bucket.
    pub(crate) grams: Vec<(u32, u32)>,
    /// Sorted, distinct fingerprints of the word-level features (for the vocabulary check;
    /// n-grams are left out because nonsense shares n-grams with real words).
    pub(crate) fingerprints: Vec<u32>,
}

/// Sorts buckets and counts repeats.
fn counted(mut buckets: Vec<u32>) -> Vec<(u32, u32)> {
    buckets.sort_unstable();
    let mut counts: Vec<(u32, u32)> = Vec::with_capacity(buckets.len());
    for bucket in buckets {
        match counts.last_mut() {
            Some((last, count)) if *last == bucket => *count += 1,
            _ => counts.push((bucket, 1)),
        }
    }
    counts
}

/// Scales a block of `(bucket, value)` to unit Euclidean length (no-op when empty).
fn normalise(block: &mut [(u32, f32)]) {
    let norm = block.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, value) in block.iter_mut() {
            *value /= norm;
        }
    }
}

impl TextFeatures {
    pub(crate) fn of(lowercased_text: &str, buckets: u32, grams: CharGrams) -> TextFeatures {
        let mut words = Vec::with_capacity(lowercased_text.len() / 3);
        let mut fingerprints = Vec::with_capacity(words.capacity());
        let mut gram_buckets = Vec::new();
        visit_text_features(lowercased_text, grams, |key| {
            let (bucket, fingerprint) = key.bucket_and_fingerprint(buckets);
            if matches!(key, FeatureKey::CharGram { .. }) {
                gram_buckets.push(bucket);
            } else {
                words.push(bucket);
                fingerprints.push(fingerprint);
            }
        });
        fingerprints.sort_unstable();
        fingerprints.dedup();
        TextFeatures {
            words: counted(words),
            grams: counted(gram_buckets),
            fingerprints,
        }
    }

    /// The word-level features again, each conditioned on `context` (the product, for the
    /// category model): "charged" under loans and "charged" under credit reporting are different
    /// features, so a word can point to different categories in different products. Crossed from
    /// the word's bucket, not its text, so the text is hashed once.
    pub(crate) fn crossed_words(&self, context: &str, buckets: u32) -> Vec<(u32, u32)> {
        let salt = context_salt(context);
        let mut crossed: Vec<(u32, u32)> = self
            .words
            .iter()
            .map(|&(bucket, count)| (crossed_bucket(bucket, salt, buckets), count))
            .collect();
        crossed.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(crossed.len());
        for (bucket, count) in crossed {
            match merged.last_mut() {
                Some((last, total)) if *last == bucket => *total += count,
                _ => merged.push((bucket, count)),
            }
        }
        merged
    }

    /// Every distinct bucket of the text, of `fields` and (with a `context`) of the crossed
    /// words, ascending (document frequency input).
    pub(crate) fn distinct_buckets(
        &self,
        fields: &[(&'static str, &str)],
        context: Option<&str>,
        buckets: u32,
    ) -> Vec<u32> {
        let crossed = context.map_or_else(Vec::new, |context| self.crossed_words(context, buckets));
        let mut all: Vec<u32> = self
            .words
            .iter()
            .chain(&self.grams)
            .chain(&crossed)
            .map(|(bucket, _)| *bucket)
            .chain(
                fields
                    .iter()
                    .map(|(field, value)| FeatureKey::Field(field, value).bucket(buckets)),
            )
            .collect();
        all.sort_unstable();
        all.dedup();
        all
    }

    /// Sublinear TF-IDF: each feature weighs `(1 + ln count) · idf(bucket)`; features whose
    /// `idf` is 0 (unknown to the model) are dropped. Word-level features with the fields, the
    /// character n-grams, and (with a `context`) the crossed words are normalised to unit length
    /// separately, so long words' many n-grams do not drown the words.
    pub(crate) fn vector(
        &self,
        fields: &[(&'static str, &str)],
        context: Option<&str>,
        buckets: u32,
        idf: impl Fn(u32) -> f32,
    ) -> SparseVector {
        let weigh = |block: &[(u32, u32)]| -> Vec<(u32, f32)> {
            block
                .iter()
                .filter_map(|&(bucket, count)| {
                    let weight = idf(bucket);
                    (weight > 0.0).then(|| (bucket, (1.0 + (count as f32).ln()) * weight))
                })
                .collect()
        };
        let mut words = weigh(&self.words);
        for (field, value) in fields {
            let bucket = FeatureKey::Field(field, value).bucket(buckets);
            let weight = idf(bucket);
            if weight > 0.0 {
                words.push((bucket, weight));
            }
        }
        normalise(&mut words);
        let mut grams = weigh(&self.grams);
        normalise(&mut grams);
        words.extend(grams);
        if let Some(context) = context {
            let mut crossed = weigh(&self.crossed_words(context, buckets));
            normalise(&mut crossed);
            words.extend(crossed);
        }
        words.sort_unstable_by_key(|(bucket, _)| *bucket);
        let mut vector = SparseVector {
            buckets: Vec::with_capacity(words.len()),
            values: Vec::with_capacity(words.len()),
        };
        for (bucket, value) in words {
            if vector.buckets.last() == Some(&bucket) {
                if let Some(last) = vector.values.last_mut() {
                    *last += value;
                }
            } else {
                vector.buckets.push(bucket);
                vector.values.push(value);
            }
        }
        vector
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

    fn collect(text: &str, grams: CharGrams) -> Vec<String> {
        let mut out = Vec::new();
        visit_text_features(text, grams, |key| out.push(key.describe()));
        out
    }

    #[test]
    fn english_words_and_pairs_skip_redactions_and_numbers() {
        let features = collect(
            "my card was stolen on xx/xx/xxxx, $500 lost",
            CharGrams { min: 3, max: 5 },
        );
        assert!(features.contains(&"word 'stolen'".to_string()));
        assert!(features.contains(&"phrase 'was stolen'".to_string()));
        assert!(features.contains(&"letters '<stol'".to_string()));
        assert!(!features.iter().any(|f| f.contains("xx")));
        assert!(!features.iter().any(|f| f.contains("500")));
    }

    #[test]
    fn char_grams_cover_the_padded_word() {
        let features = collect("card", CharGrams { min: 3, max: 4 });
        let grams: Vec<&str> = features
            .iter()
            .filter_map(|f| f.strip_prefix("letters "))
            .collect();
        assert_eq!(
            grams,
            ["'<ca'", "'car'", "'ard'", "'rd>'", "'<car'", "'card'", "'ard>'"]
        );
        // Non-ASCII letters are sliced on character boundaries.
        let accented = collect("né", CharGrams { min: 3, max: 4 });
        assert!(
            accented.contains(&"letters '<né>'".to_string()),
            "{accented:?}"
        );
        assert_eq!(
            collect("card", CharGrams { min: 0, max: 0 }),
            ["word 'card'"]
        );
    }

    #[test]
    fn chinese_runs_yield_unigrams_and_bigrams() {
        let features = collect("信用卡被盗刷", CharGrams { min: 3, max: 5 });
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
        let gram = |starts, ends| FeatureKey::CharGram {
            chars: "car",
            starts,
            ends,
        };
        assert_ne!(
            gram(true, false).bucket(1 << 18),
            gram(false, false).bucket(1 << 18)
        );
        assert_ne!(
            gram(false, true).bucket(1 << 18),
            gram(false, false).bucket(1 << 18)
        );
    }

    #[test]
    fn vector_is_sublinear_tf_idf_with_unit_blocks() {
        let buckets = 1 << 16;
        let features =
            TextFeatures::of("fee fee fee refund", buckets, CharGrams { min: 0, max: 0 });
        let fee = FeatureKey::Word("fee").bucket(buckets);
        let refund = FeatureKey::Word("refund").bucket(buckets);
        assert!(features.words.contains(&(fee, 3)));
        // "refund" is unknown (idf 0) and dropped; "fee" alone has unit length.
        let vector = features.vector(&[], None, buckets, |b| if b == refund { 0.0 } else { 2.0 });
        assert!(!vector.buckets.contains(&refund));
        let norm: f32 = vector.values.iter().map(|v| v * v).sum();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
        // With n-grams the word block and the n-gram block each have unit length.
        let features = TextFeatures::of("fee refund", buckets, CharGrams { min: 3, max: 5 });
        let vector = features.vector(&[("channel", "web")], None, buckets, |_| 1.0);
        let norm: f32 = vector.values.iter().map(|v| v * v).sum();
        assert!((norm - 2.0).abs() < 0.05, "{norm}");
        assert!(vector.buckets.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(features.fingerprints.len(), 3);
    }

    #[test]
    fn crossed_words_depend_on_the_context_and_form_a_third_block() {
        let buckets = 1 << 18;
        let features =
            TextFeatures::of("charged a late fee", buckets, CharGrams { min: 3, max: 5 });
        let loans = features.crossed_words("loans", buckets);
        let cards = features.crossed_words("credit_cards", buckets);
        // One crossed feature per word-level feature (words and pairs), not per n-gram.
        assert_eq!(loans.len(), features.words.len());
        assert_eq!(loans, features.crossed_words("loans", buckets));
        assert_ne!(loans, cards);
        assert!(loans.iter().all(|(bucket, _)| *bucket < buckets));
        let plain = features.vector(&[], None, buckets, |_| 1.0);
        let crossed = features.vector(&[], Some("loans"), buckets, |_| 1.0);
        assert!(crossed.buckets.len() > plain.buckets.len());
        let norm: f32 = crossed.values.iter().map(|v| v * v).sum();
        assert!((norm - 3.0).abs() < 0.05, "{norm}");
        // Document frequency counts the crossed buckets too.
        let distinct = features.distinct_buckets(&[], Some("loans"), buckets);
        assert!(loans.iter().all(|(bucket, _)| distinct.contains(bucket)));
    }
}
