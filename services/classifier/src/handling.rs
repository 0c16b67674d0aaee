//! Predicted handling time: the historical median by product / category / grade, falling back
//! to coarser groups when a group has too few cases.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::grading::Grade;
use super::taxonomy::{IssueCategory, ProductLine};

/// Medians of historical handling days, keyed `product/category/grade`, `product/category`,
/// `product`, plus a global median.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HandlingTimes {
    /// What the days measure, e.g. "days from date received to date sent to company".
    pub measure: String,
    pub min_group_size: u32,
    pub global_median_days: Option<f64>,
    /// key → (median days, number of cases).
    pub groups: BTreeMap<String, (f64, u32)>,
}

fn keys(product: ProductLine, category: IssueCategory, grade: Grade) -> [String; 3] {
    [
        format!(
            "{}/{}/{}",
            product.as_str(),
            category.as_str(),
            grade.as_str()
        ),
        format!("{}/{}", product.as_str(), category.as_str()),
        product.as_str().to_string(),
    ]
}

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle]
    } else {
        (values[middle - 1] + values[middle]) / 2.0
    })
}

impl HandlingTimes {
    /// Builds the table from `(product, category, grade, days)` history.
    pub fn from_history(
        measure: &str,
        min_group_size: u32,
        history: impl IntoIterator<Item = (ProductLine, IssueCategory, Grade, f64)>,
    ) -> HandlingTimes {
        let mut grouped: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let mut all = Vec::new();
        for (product, category, grade, days) in history {
            for key in keys(product, category, grade) {
                grouped.entry(key).or_default().push(days);
            }
            all.push(days);
        }
        let groups = grouped
            .into_iter()
            .filter(|(_, days)| days.len() >= min_group_size as usize)
            .filter_map(|(key, mut days)| {
                let count = days.len() as u32;
                median(&mut days).map(|median| (key, (median, count)))
            })
            .collect();
        HandlingTimes {
            measure: measure.to_string(),
            min_group_size,
            global_median_days: median(&mut all),
            groups,
        }
    }

    /// The most specific median available, with the group it came from.
    pub fn predict(
        &self,
        product: ProductLine,
        category: IssueCategory,
        grade: Grade,
    ) -> Option<(f64, String)> {
        keys(product, category, grade)
            .into_iter()
            .find_map(|key| self.groups.get(&key).map(|(days, _)| (*days, key)))
            .or_else(|| {
                self.global_median_days
                    .map(|days| (days, "all".to_string()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn falls_back_from_specific_to_global() {
        let history = (0..6)
            .map(|day| {
                (
                    ProductLine::Mortgages,
                    IssueCategory::Fees,
                    Grade::Green,
                    day as f64,
                )
            })
            .chain([(
                ProductLine::Loans,
                IssueCategory::Service,
                Grade::Red,
                100.0,
            )]);
        let table = HandlingTimes::from_history("days", 5, history);
        let (days, key) = table
            .predict(
                ProductLine::Mortgages,
                IssueCategory::Fees,
                Grade::Green,
            )
            .expect("group");
        assert_eq!((days, key.as_str()), (2.5, "mortgages/fees/green"));
        let (days, key) = table
            .predict(
                ProductLine::Mortgages,
                IssueCategory::Fees,
                Grade::Red,
            )
            .expect("group");
        assert_eq!((days, key.as_str()), (2.5, "mortgages/fees"));
        let (days, key) = table
            .predict(
                ProductLine::Loans,
                IssueCategory::Service,
                Grade::Red,
            )
            .expect("global");
        assert_eq!((days, key.as_str()), (3.0, "all"));
        assert_eq!(
            HandlingTimes::default().predict(
                ProductLine::Loans,
                IssueCategory::Other,
                Grade::Red
            ),
            None
        );
    }
}
