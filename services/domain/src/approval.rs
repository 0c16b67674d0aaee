//! Approval levels by amount (SPEC §4): below 1,000 CNY the department head; 1,000 to 10,000 the
//! branch vice president in charge; above 10,000 head-office risk and legal review, then the
//! senior executive. Bands are configurable per currency; an amount in a currency without bands
//! goes to the highest level, the safe side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Money;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalLevel {
    DepartmentHead,
    BranchVicePresident,
    HeadOffice,
}

impl ApprovalLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DepartmentHead => "department_head",
            Self::BranchVicePresident => "branch_vice_president",
            Self::HeadOffice => "head_office",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::DepartmentHead, Self::BranchVicePresident, Self::HeadOffice].into_iter().find(|l| l.as_str() == name)
    }

    /// Roles that must sign, in order.
    pub fn required_roles(self) -> &'static [&'static str] {
        match self {
            Self::DepartmentHead => &["department_head"],
            Self::BranchVicePresident => &["branch_vice_president"],
            Self::HeadOffice => &["head_office_risk_legal", "senior_executive"],
        }
    }
}

/// Upper bounds (inclusive, minor units) of the two lower levels for one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bands {
    /// Amounts strictly below this go to the department head.
    pub department_head_below: i64,
    /// Amounts up to and including this go to the branch vice president.
    pub branch_vice_president_up_to: i64,
}

/// Bands per currency code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalBands(pub BTreeMap<String, Bands>);

impl Default for ApprovalBands {
    fn default() -> Self {
        let mut bands = BTreeMap::new();
        bands.insert("CNY".to_owned(), Bands { department_head_below: 1_000 * 100, branch_vice_president_up_to: 10_000 * 100 });
        Self(bands)
    }
}

impl ApprovalBands {
    /// The level that must approve a remedy of `amount` (none = no money: department head).
    pub fn level_for(&self, amount: Option<&Money>) -> ApprovalLevel {
        let Some(amount) = amount else { return ApprovalLevel::DepartmentHead };
        if amount.minor_units == 0 {
            return ApprovalLevel::DepartmentHead;
        }
        match self.0.get(&amount.currency) {
            Some(bands) if amount.minor_units < bands.department_head_below => ApprovalLevel::DepartmentHead,
            Some(bands) if amount.minor_units <= bands.branch_vice_president_up_to => ApprovalLevel::BranchVicePresident,
            _ => ApprovalLevel::HeadOffice,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cny(minor_units: i64) -> Money {
        Money { minor_units, currency: "CNY".into() }
    }

    #[test]
    fn band_edges_follow_the_spec() {
        let bands = ApprovalBands::default();
        assert_eq!(bands.level_for(None), ApprovalLevel::DepartmentHead);
        assert_eq!(bands.level_for(Some(&cny(99_999))), ApprovalLevel::DepartmentHead);
        assert_eq!(bands.level_for(Some(&cny(100_000))), ApprovalLevel::BranchVicePresident);
        assert_eq!(bands.level_for(Some(&cny(1_000_000))), ApprovalLevel::BranchVicePresident);
        assert_eq!(bands.level_for(Some(&cny(1_000_001))), ApprovalLevel::HeadOffice);
        let usd = Money { minor_units: 500, currency: "USD".into() };
        assert_eq!(bands.level_for(Some(&usd)), ApprovalLevel::HeadOffice);
    }
}
