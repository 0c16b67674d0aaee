//! Labelled training data — CFPB complaints and staff corrections — how a complaint becomes
//! classifier input, the deterministic split, and the fingerprint that recognises training data.

use chrono::NaiveDate;

use super::features::fnv64;
use super::grading::Grade;
use super::taxonomy::{category_for_cfpb_issue, normalize_product, IssueCategory, ProductLine};
use super::ComplaintFeatures;

/// One row of a CSV with the CFPB columns (only the columns the classifier uses).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CfpbRecord {
    pub complaint_id: String,
    pub product: String,
    pub sub_product: String,
    pub issue: String,
    pub sub_issue: String,
    pub narrative: String,
    /// "Tags", split on commas ("Older American, Servicemember").
    pub tags: Vec<String>,
    pub submitted_via: String,
    pub date_received: Option<NaiveDate>,
    pub date_sent_to_company: Option<NaiveDate>,
}

impl CfpbRecord {
    /// The normalised product label, when the CFPB label is in the taxonomy table.
    pub fn product_label(&self) -> Option<ProductLine> {
        normalize_product(&self.product)
    }

    /// The category label from the issue table.
    pub fn category_label(&self) -> Option<IssueCategory> {
        category_for_cfpb_issue(&self.issue)
    }

    /// Days from "Date received" to "Date sent to company": the only handling-time proxy the
    /// public data offers (the CFPB does not publish when the company closed the case).
    pub fn handling_days(&self) -> Option<f64> {
        let days = (self.date_sent_to_company? - self.date_received?).num_days();
        (days >= 0).then_some(days as f64)
    }

    pub fn has_narrative(&self) -> bool {
        !self.narrative.trim().is_empty()
    }

    /// The consumer's chosen issue and sub-issue, standing in for a complaint summary.
    pub fn summary(&self) -> String {
        if self.sub_issue.is_empty() {
            self.issue.clone()
        } else {
            format!("{}. {}", self.issue, self.sub_issue)
        }
    }

    /// Input for the product task: summary (issue + sub-issue) and narrative, no product hint.
    pub fn product_task_input<'a>(&'a self, summary: &'a str) -> ComplaintFeatures<'a> {
        ComplaintFeatures {
            summary,
            description: &self.narrative,
            product_hint: "",
            channel: &self.submitted_via,
            amount_minor: None,
            tags: &self.tags,
            regulator_transfer: false,
            mass_complaint: false,
        }
    }

    /// Input for the narrative-only product task and the category task: the narrative alone,
    /// with the product as a hint when `with_product_hint` (the category labels derive from the
    /// issue, so the issue text must not be an input).
    pub fn narrative_input(&self, with_product_hint: bool) -> ComplaintFeatures<'_> {
        ComplaintFeatures {
            summary: "",
            description: &self.narrative,
            product_hint: if with_product_hint { &self.product } else { "" },
            channel: &self.submitted_via,
            amount_minor: None,
            tags: &self.tags,
            regulator_transfer: false,
            mass_complaint: false,
        }
    }
}

/// A label correction made by staff at re-triage (`complaintctl casework corrections` exports
/// them; [`crate::loader::read_corrections`] reads them). `None` = that label was not given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Correction {
    pub complaint_number: String,
    /// The complaint's summary and description.
    pub text: String,
    pub product: Option<ProductLine>,
    pub category: Option<IssueCategory>,
    pub grade: Option<Grade>,
    pub corrected_by: String,
    pub reason: String,
}

impl Correction {
    /// Whether the correction labels anything the models learn (grades come from rules).
    pub fn is_training_example(&self) -> bool {
        self.product.is_some() || self.category.is_some()
    }
}

const FNV128_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV128_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

fn fnv128(mut hash: u128, bytes: &[u8]) -> u128 {
    for byte in bytes {
        hash ^= u128::from(*byte);
        hash = hash.wrapping_mul(FNV128_PRIME);
    }
    hash
}

/// Fingerprint of a set of CFPB rows: FNV-1a 128 over each row's fields (those the classifier
/// reads), the row hashes sorted so file order and CSV quoting do not matter. Equal for the same
/// rows; a changed, added or removed row changes it. Identifies training data, not a security
/// measure.
pub fn data_fingerprint(records: &[CfpbRecord]) -> String {
    let mut rows: Vec<u128> = records
        .iter()
        .map(|record| {
            let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
            let fields = [
                record.complaint_id.as_str(),
                &record.product,
                &record.sub_product,
                &record.issue,
                &record.sub_issue,
                &record.narrative,
                &record.tags.join(","),
                &record.submitted_via,
                &date(record.date_received),
                &date(record.date_sent_to_company),
            ];
            fields.iter().fold(FNV128_OFFSET, |hash, field| {
                fnv128(fnv128(hash, field.as_bytes()), b"\x1f")
            })
        })
        .collect();
    rows.sort_unstable();
    let hash = rows
        .iter()
        .fold(FNV128_OFFSET, |hash, row| fnv128(hash, &row.to_le_bytes()));
    format!("fnv1a128:{hash:032x}")
}

/// Deterministic train/held-out split keyed by complaint id, so a row's side never depends on
/// file order or on which other rows are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Split {
    pub seed: u64,
    /// Share of rows held out for evaluation, in percent (1..=99).
    pub holdout_percent: u8,
}

impl Split {
    pub fn is_held_out(&self, complaint_id: &str) -> bool {
        let hash = fnv64(&format!("{}:{complaint_id}", self.seed));
        (hash % 100) < u64::from(self.holdout_percent)
    }
}

impl Default for Split {
    fn default() -> Self {
        Split {
            seed: 42,
            holdout_percent: 20,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_is_deterministic_and_near_the_requested_share() {
        let split = Split::default();
        let held_out = (0..10_000)
            .filter(|id| split.is_held_out(&id.to_string()))
            .count();
        assert!((1_800..2_200).contains(&held_out), "{held_out}");
        assert_eq!(split.is_held_out("12345"), split.is_held_out("12345"));
        let other = Split { seed: 7, ..split };
        let same = (0..1_000)
            .filter(|id| split.is_held_out(&id.to_string()) == other.is_held_out(&id.to_string()))
            .count();
        assert!(same < 1_000);
    }

    #[test]
    fn fingerprint_ignores_order_and_sees_any_change() {
        let row = |id: &str, narrative: &str| CfpbRecord {
            complaint_id: id.to_string(),
            narrative: narrative.to_string(),
            ..CfpbRecord::default()
        };
        let rows = [row("1", "a"), row("2", "b")];
        let reversed = [row("2", "b"), row("1", "a")];
        assert_eq!(data_fingerprint(&rows), data_fingerprint(&reversed));
        assert!(data_fingerprint(&rows).starts_with("fnv1a128:"));
        assert_ne!(data_fingerprint(&rows), data_fingerprint(&rows[..1]));
        assert_ne!(
            data_fingerprint(&rows),
            data_fingerprint(&[row("1", "a"), row("2", "c")])
        );
        // Field boundaries count: moving text between fields is a different row.
        assert_ne!(
            data_fingerprint(&[row("1", "a")]),
            data_fingerprint(&[row("1a", "")])
        );
    }

    #[test]
    fn handling_days_is_the_gap_between_dates() {
        let record = CfpbRecord {
            date_received: NaiveDate::from_ymd_opt(2024, 1, 1),
            date_sent_to_company: NaiveDate::from_ymd_opt(2024, 1, 4),
            ..CfpbRecord::default()
        };
        assert_eq!(record.handling_days(), Some(3.0));
        assert_eq!(CfpbRecord::default().handling_days(), None);
    }
}
