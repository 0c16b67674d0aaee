//! Repeat and mass-complaint detection by text similarity, bounded per new complaint.
//!
//! A complaint's text becomes a set of shingles — lower-cased words of two or more letters or
//! digits, and adjacent character pairs of Chinese text — and a MinHash signature of
//! [`SIGNATURE_LEN`] values, from which the Jaccard similarity of two texts is estimated.
//! The signature is cut into [`BANDS`] bands; complaints that share a band key (with the
//! product) are the candidates for a mass incident (locality-sensitive hashing). Candidates
//! are looked up by band key inside the time window only, so the cost of a new complaint
//! depends on how many similar complaints the window holds, never on the history.

use std::collections::BTreeSet;

/// Values in a signature.
pub const SIGNATURE_LEN: usize = 32;
/// Bands the signature is cut into (two values each): pairs with a Jaccard similarity of about
/// 0.25 or more share a band with even odds; at 0.5, almost surely (1 − (1 − 0.5²)¹⁶ ≈ 0.99).
pub const BANDS: usize = 16;
const ROWS: usize = SIGNATURE_LEN / BANDS;

/// Words too common in complaints to say what one is about.
const STOPWORDS: &[&str] = &[
    "the", "and", "for", "was", "were", "with", "that", "this", "have", "has", "had", "not", "but", "are", "you", "your", "our", "they",
    "them", "their", "from", "been", "which", "would", "could", "should", "about", "into", "after", "before", "when", "what", "there",
    "then", "than", "also", "just", "only", "very", "some", "any", "all", "can", "did", "does", "its", "his", "her", "she", "him",
    "who", "how", "why", "will", "xxxx", "xx", "my", "me", "an", "on", "in", "of", "to", "it", "is", "be", "by", "at", "or", "as",
    "so", "no", "do", "if", "we", "us", "am",
];

/// The shingles of `text`, hashed.
pub fn shingles(text: &str) -> BTreeSet<u64> {
    let mut set = BTreeSet::new();
    let mut word = String::new();
    let mut previous_han: Option<char> = None;
    let flush = |word: &mut String, set: &mut BTreeSet<u64>| {
        if word.chars().count() >= 2 && !STOPWORDS.contains(&word.as_str()) {
            set.insert(fnv(word.as_bytes()));
        }
        word.clear();
    };
    for c in text.chars() {
        if is_han(c) {
            flush(&mut word, &mut set);
            if let Some(first) = previous_han {
                let mut pair = [0u8; 8];
                let first = first.encode_utf8(&mut pair[..4]).len();
                let second = c.encode_utf8(&mut pair[first..]).len();
                set.insert(fnv(&pair[..first + second]));
            }
            previous_han = Some(c);
        } else {
            previous_han = None;
            if c.is_alphanumeric() {
                word.extend(c.to_lowercase());
            } else {
                flush(&mut word, &mut set);
            }
        }
    }
    flush(&mut word, &mut set);
    set
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

fn fnv(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// A well-mixed 64-bit hash of `x` under `seed` (splitmix64 finaliser).
fn mix(x: u64, seed: u64) -> u64 {
    let mut z = x ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The MinHash signature of a shingle set; `None` for an empty set (nothing to compare).
pub fn signature(shingles: &BTreeSet<u64>) -> Option<[u32; SIGNATURE_LEN]> {
    if shingles.is_empty() {
        return None;
    }
    let mut minima = [u32::MAX; SIGNATURE_LEN];
    for shingle in shingles {
        for (i, minimum) in minima.iter_mut().enumerate() {
            let value = (mix(*shingle, i as u64 + 1) >> 32) as u32;
            if value < *minimum {
                *minimum = value;
            }
        }
    }
    Some(minima)
}

/// The signature as stored: hex, eight digits per value.
pub fn encode(signature: &[u32; SIGNATURE_LEN]) -> String {
    signature.iter().map(|value| format!("{value:08x}")).collect()
}

/// A stored signature; `None` when it is empty or malformed.
pub fn decode(text: &str) -> Option<[u32; SIGNATURE_LEN]> {
    if text.len() != SIGNATURE_LEN * 8 || !text.is_ascii() {
        return None;
    }
    let mut signature = [0u32; SIGNATURE_LEN];
    for (i, value) in signature.iter_mut().enumerate() {
        *value = u32::from_str_radix(&text[i * 8..i * 8 + 8], 16).ok()?;
    }
    Some(signature)
}

/// Estimated Jaccard similarity of the texts behind two signatures.
pub fn similarity(a: &[u32; SIGNATURE_LEN], b: &[u32; SIGNATURE_LEN]) -> f64 {
    let equal = a.iter().zip(b).filter(|(x, y)| x == y).count();
    equal as f64 / SIGNATURE_LEN as f64
}

/// The band keys of a signature within `scope` (the product): complaints sharing one are
/// candidates for the same mass incident.
pub fn band_keys(scope: &str, signature: &[u32; SIGNATURE_LEN]) -> Vec<String> {
    (0..BANDS)
        .map(|band| {
            let mut hash = fnv(scope.as_bytes()) ^ band as u64;
            for value in &signature[band * ROWS..(band + 1) * ROWS] {
                hash = mix(hash ^ u64::from(*value), band as u64);
            }
            format!("{band:02}{hash:016x}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(text: &str) -> [u32; SIGNATURE_LEN] {
        signature(&shingles(text)).expect("words")
    }

    #[test]
    fn near_duplicates_are_similar_and_unrelated_texts_are_not() {
        let a = sig("The mobile app shows error 502 at login since this morning and I cannot transfer money");
        let b = sig("Since this morning the mobile app shows error 502 at login; I cannot transfer any money");
        let c = sig("My mortgage interest rate was raised without notice after the fixed period ended");
        assert!(similarity(&a, &b) >= 0.7, "{}", similarity(&a, &b));
        assert!(similarity(&a, &c) <= 0.15, "{}", similarity(&a, &c));
        assert!(band_keys("payments", &a).iter().zip(band_keys("payments", &b)).any(|(x, y)| *x == y));
        assert!(band_keys("payments", &a).iter().zip(band_keys("loans", &a)).all(|(x, y)| *x != y), "the product scopes the bands");
    }

    #[test]
    fn chinese_text_is_shingled_by_character_pairs() {
        let a = sig("手机银行登录失败，显示系统错误，无法转账");
        let b = sig("今天手机银行登录失败，显示系统错误");
        let c = sig("信用卡年费被重复收取");
        assert!(similarity(&a, &b) > similarity(&a, &c));
        assert_eq!(shingles("的"), BTreeSet::new());
    }

    #[test]
    fn signatures_round_trip_and_empty_text_has_none() {
        let a = sig("annual fee charged twice on a cancelled card");
        assert_eq!(decode(&encode(&a)), Some(a));
        assert_eq!(decode("zz"), None);
        assert_eq!(signature(&shingles(" , . the and ")), None);
    }
}
