//! Red/Yellow/Green grading: transparent, configurable point rules plus the model's signals.
//!
//! Each rule that fires adds points and a reason. Red at `red_points`, Yellow at
//! `yellow_points`, Green otherwise. Keyword matching is substring matching on lowercased text
//! and does not understand negation ("not stolen" still fires); that is deliberate: a handler
//! downgrades a false Red faster than anyone notices a missed one.

use serde::{Deserialize, Serialize};

use super::taxonomy::IssueCategory;

/// The urgency grade is the platform's one `Grade`.
pub use complaints_domain::Grade;

/// Grading rules. Every field has a default, so a config file may set only what it changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GradingRules {
    /// Information-security and fraud words (English and Chinese), lowercase.
    pub security_keywords: Vec<String>,
    pub security_keyword_points: u32,
    /// Words signalling a financial loss or serious impact, lowercase.
    pub loss_keywords: Vec<String>,
    pub loss_keyword_points: u32,
    /// Amount at stake (minor units) from which the complaint is a major loss.
    pub major_amount_minor: i64,
    pub major_amount_points: u32,
    /// Amount at stake (minor units) from which the loss is significant.
    pub significant_amount_minor: i64,
    pub significant_amount_points: u32,
    /// Customer tags marking a vulnerable customer (case-insensitive, substring).
    pub vulnerable_tags: Vec<String>,
    pub vulnerable_points: u32,
    pub regulator_transfer_points: u32,
    pub mass_complaint_points: u32,
    /// Points when the model predicts the security category with at least
    /// `model_signal_confidence`.
    pub model_security_points: u32,
    /// Points when the model predicts the fees category with at least
    /// `model_signal_confidence`.
    pub model_fees_points: u32,
    pub model_signal_confidence: f64,
    pub red_points: u32,
    pub yellow_points: u32,
}

impl Default for GradingRules {
    fn default() -> Self {
        let words = |list: &[&str]| list.iter().map(|word| word.to_string()).collect();
        GradingRules {
            security_keywords: words(&[
                "fraud",
                "unauthorized",
                "unauthorised",
                "stolen",
                "identity theft",
                "hacked",
                "account takeover",
                "data breach",
                "phishing",
                "scam",
                "被盗",
                "盗刷",
                "资金损失",
                "诈骗",
                "盗用",
                "冒用",
                "泄露",
                "被骗",
            ]),
            security_keyword_points: 3,
            loss_keywords: words(&[
                "lost money",
                "overcharged",
                "double charged",
                "charged twice",
                "foreclosure",
                "repossess",
                "garnish",
                "overdraft",
                "refund",
                "损失",
                "多扣",
                "扣款",
                "退款",
                "罚息",
            ]),
            loss_keyword_points: 2,
            major_amount_minor: 10_000 * 100,
            major_amount_points: 3,
            significant_amount_minor: 1_000 * 100,
            significant_amount_points: 2,
            vulnerable_tags: words(&["older american", "servicemember", "老年", "军人", "残疾"]),
            vulnerable_points: 1,
            regulator_transfer_points: 2,
            mass_complaint_points: 3,
            model_security_points: 2,
            model_fees_points: 1,
            model_signal_confidence: 0.5,
            red_points: 3,
            yellow_points: 2,
        }
    }
}

/// What the grader looks at.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GradingInput<'a> {
    pub(crate) lowercased_text: &'a str,
    pub(crate) amount_minor: Option<i64>,
    pub(crate) tags: &'a [String],
    pub(crate) regulator_transfer: bool,
    pub(crate) mass_complaint: bool,
    /// The model's category and its confidence, when a model is loaded.
    pub(crate) model_category: Option<(IssueCategory, f64)>,
}

impl GradingRules {
    /// Grades a complaint; pushes one reason per rule that fired.
    pub(crate) fn grade(
        &self,
        input: &GradingInput<'_>,
        reasons: &mut Vec<String>,
    ) -> Grade {
        let mut points = 0;
        let mut fire = |rule_points: u32, reason: String| {
            points += rule_points;
            reasons.push(format!("grade +{rule_points}: {reason}"));
        };
        let security: Vec<&str> = self
            .security_keywords
            .iter()
            .filter(|word| input.lowercased_text.contains(word.as_str()))
            .map(String::as_str)
            .collect();
        if !security.is_empty() {
            fire(
                self.security_keyword_points,
                format!("security words {security:?}"),
            );
        }
        let loss: Vec<&str> = self
            .loss_keywords
            .iter()
            .filter(|word| input.lowercased_text.contains(word.as_str()))
            .map(String::as_str)
            .collect();
        if !loss.is_empty() {
            fire(self.loss_keyword_points, format!("loss words {loss:?}"));
        }
        match input.amount_minor {
            Some(amount) if amount >= self.major_amount_minor => fire(
                self.major_amount_points,
                format!("amount {amount} (minor units) is major"),
            ),
            Some(amount) if amount >= self.significant_amount_minor => fire(
                self.significant_amount_points,
                format!("amount {amount} (minor units) is significant"),
            ),
            _ => {}
        }
        let vulnerable = input.tags.iter().find(|tag| {
            let tag = tag.to_lowercase();
            self.vulnerable_tags
                .iter()
                .any(|marker| tag.contains(marker.as_str()))
        });
        if let Some(tag) = vulnerable {
            fire(
                self.vulnerable_points,
                format!("vulnerable customer tag '{tag}'"),
            );
        }
        if input.regulator_transfer {
            fire(
                self.regulator_transfer_points,
                "transferred by a regulator".to_string(),
            );
        }
        if input.mass_complaint {
            fire(
                self.mass_complaint_points,
                "member of a mass complaint".to_string(),
            );
        }
        if let Some((category, confidence)) = input.model_category {
            if confidence >= self.model_signal_confidence {
                match category {
                    IssueCategory::Security => fire(
                        self.model_security_points,
                        format!("model predicts security category (p={confidence:.2})"),
                    ),
                    IssueCategory::Fees => fire(
                        self.model_fees_points,
                        format!("model predicts fees category (p={confidence:.2})"),
                    ),
                    _ => {}
                }
            }
        }
        if points >= self.red_points {
            Grade::Red
        } else if points >= self.yellow_points {
            Grade::Yellow
        } else {
            Grade::Green
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(text: &str) -> GradingInput<'_> {
        GradingInput {
            lowercased_text: text,
            amount_minor: None,
            tags: &[],
            regulator_transfer: false,
            mass_complaint: false,
            model_category: None,
        }
    }

    #[test]
    fn fraud_words_in_either_language_grade_red() {
        let rules = GradingRules::default();
        let mut reasons = Vec::new();
        assert_eq!(
            rules.grade(&input("someone made unauthorized charges"), &mut reasons),
            Grade::Red
        );
        assert_eq!(
            rules.grade(&input("我的信用卡被盗刷了"), &mut reasons),
            Grade::Red
        );
        assert_eq!(reasons.len(), 2);
    }

    #[test]
    fn plain_question_is_green_and_points_add_up() {
        let rules = GradingRules::default();
        let mut reasons = Vec::new();
        assert_eq!(
            rules.grade(&input("why is my statement late"), &mut reasons),
            Grade::Green
        );
        assert!(reasons.is_empty());
        let tags = vec!["Older American".to_string()];
        let older = GradingInput {
            tags: &tags,
            ..input("why is my statement late")
        };
        assert_eq!(rules.grade(&older, &mut reasons), Grade::Green);
        let transferred = GradingInput {
            regulator_transfer: true,
            ..older
        };
        assert_eq!(rules.grade(&transferred, &mut reasons), Grade::Red);
        let amount = GradingInput {
            amount_minor: Some(2_000 * 100),
            ..input("")
        };
        assert_eq!(rules.grade(&amount, &mut reasons), Grade::Yellow);
        let major = GradingInput {
            amount_minor: Some(50_000 * 100),
            ..input("")
        };
        assert_eq!(rules.grade(&major, &mut reasons), Grade::Red);
    }

    #[test]
    fn rules_deserialise_with_defaults() {
        let rules: GradingRules = serde_json::from_str(r#"{"red_points": 5}"#).expect("valid");
        assert_eq!(rules.red_points, 5);
        assert_eq!(rules.yellow_points, GradingRules::default().yellow_points);
    }
}
