//! A labelled CFPB complaint, how it becomes classifier input, and the deterministic split.

use chrono::NaiveDate;

use super::features::fnv64;
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
