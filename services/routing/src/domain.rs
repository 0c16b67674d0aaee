//! Triage by transparent, configurable rules: grade (Red/Yellow/Green) from amount at stake,
//! alarming words, vulnerable-customer tags and regulator transfer; category by keywords; and
//! the choice of a handler who has no conflict of interest.

use complaints_shared::domain::org::{Involvement, OrgDirectory};
use complaints_shared::domain::{Channel, Grade, Money};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rules {
    /// Words that make a complaint Red (matched case-insensitively in summary and description).
    pub red_keywords: Vec<String>,
    /// Words that make a complaint at least Yellow.
    pub yellow_keywords: Vec<String>,
    /// Amount (minor units, any currency) from which a complaint is Red.
    pub red_amount_minor: i64,
    /// Amount from which a complaint is at least Yellow.
    pub yellow_amount_minor: i64,
    /// Tags marking a vulnerable customer: at least Yellow.
    pub vulnerable_tags: Vec<String>,
    /// Category keyword lists, checked in order; the first match wins.
    pub categories: Vec<CategoryRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CategoryRule {
    pub category: String,
    pub keywords: Vec<String>,
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            red_keywords: words(&[
                "fraud", "unauthorized", "unauthorised", "stolen", "identity theft", "account taken over", "data leak",
                "被盗", "盗刷", "资金损失", "泄露", "诈骗",
            ]),
            yellow_keywords: words(&["charged", "lost", "loss", "overcharged", "wrongly", "扣款", "损失", "错误"]),
            red_amount_minor: 5_000_000,
            yellow_amount_minor: 1,
            vulnerable_tags: words(&["Older American", "Servicemember", "elderly", "老年人"]),
            categories: vec![
                CategoryRule {
                    category: "security".into(),
                    keywords: words(&["fraud", "unauthorized", "stolen", "identity theft", "scam", "被盗", "盗刷", "诈骗", "泄露"]),
                },
                CategoryRule {
                    category: "fees".into(),
                    keywords: words(&["fee", "charge", "interest charged", "overdraft", "手续费", "年费", "扣费"]),
                },
                CategoryRule {
                    category: "system".into(),
                    keywords: words(&["app", "website", "online banking", "outage", "cannot log", "error message", "系统", "无法登录", "闪退"]),
                },
                CategoryRule {
                    category: "service".into(),
                    keywords: words(&["rude", "staff", "waited", "queue", "attitude", "态度", "排队", "服务"]),
                },
                CategoryRule {
                    category: "product".into(),
                    keywords: words(&["loan", "mortgage", "card", "deposit", "wealth", "interest rate", "贷款", "信用卡", "理财", "存款"]),
                },
            ],
        }
    }
}

/// What triage needs of a complaint.
#[derive(Debug, Clone)]
pub struct Complaint<'a> {
    pub channel: Option<Channel>,
    pub summary: &'a str,
    pub description: &'a str,
    pub product_hint: &'a str,
    pub amount: Option<&'a Money>,
    pub tags: &'a [String],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Triage {
    pub grade: Grade,
    pub category: String,
    pub product: String,
    /// The rules that fired, so a handler sees why.
    pub reasons: Vec<String>,
}

fn contains_any<'a>(text: &str, keywords: &'a [String]) -> Option<&'a str> {
    keywords.iter().find(|k| text.contains(&k.to_lowercase())).map(String::as_str)
}

/// Grades and classifies a complaint.
pub fn triage(rules: &Rules, complaint: &Complaint<'_>) -> Triage {
    let text = format!("{} {}", complaint.summary, complaint.description).to_lowercase();
    let mut grade = Grade::Green;
    let mut reasons = Vec::new();
    let mut raise = |to: Grade, reason: String, grade: &mut Grade| {
        if to > *grade {
            *grade = to;
        }
        reasons.push(reason);
    };
    if let Some(word) = contains_any(&text, &rules.red_keywords) {
        raise(Grade::Red, format!("red keyword \"{word}\""), &mut grade);
    } else if let Some(word) = contains_any(&text, &rules.yellow_keywords) {
        raise(Grade::Yellow, format!("yellow keyword \"{word}\""), &mut grade);
    }
    if let Some(amount) = complaint.amount {
        if amount.minor_units >= rules.red_amount_minor {
            raise(Grade::Red, format!("amount {amount} at stake"), &mut grade);
        } else if amount.minor_units >= rules.yellow_amount_minor {
            raise(Grade::Yellow, format!("amount {amount} at stake"), &mut grade);
        }
    }
    if let Some(tag) = complaint.tags.iter().find(|t| rules.vulnerable_tags.iter().any(|v| v.eq_ignore_ascii_case(t))) {
        raise(Grade::Yellow, format!("vulnerable customer ({tag})"), &mut grade);
    }
    if complaint.channel == Some(Channel::RegulatorTransfer) {
        raise(Grade::Yellow, "transferred by a regulator".into(), &mut grade);
    }
    if reasons.is_empty() {
        reasons.push("no escalating signal: green".into());
    }
    let category = rules
        .categories
        .iter()
        .find_map(|rule| contains_any(&text, &rule.keywords).map(|word| (rule.category.clone(), word)));
    let category = match category {
        Some((category, word)) => {
            reasons.push(format!("category {category} by keyword \"{word}\""));
            category
        }
        None => "other".to_owned(),
    };
    let product = if complaint.product_hint.is_empty() { "unknown".to_owned() } else { complaint.product_hint.to_lowercase() };
    Triage { grade, category, product, reasons }
}

/// The chosen handler and who was passed over for a conflict of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub department: String,
    pub handler_id: String,
    pub recused: Vec<String>,
}

/// Picks the least-loaded handler of `department` without a conflict; falls back to any
/// department when all of its handlers are conflicted. `load(id)` is a handler's open caseload.
pub fn choose_handler(
    org: &OrgDirectory,
    department: &str,
    involvement: &Involvement<'_>,
    load: impl Fn(&str) -> i64,
) -> Option<Choice> {
    let mut recused = Vec::new();
    for scope in [Some(department), None] {
        let mut best: Option<(&str, &str, i64)> = None;
        for candidate in org.with_role(scope, "handler") {
            if let Some(reason) = org.conflict(candidate, involvement) {
                if !recused.contains(&candidate.id) {
                    tracing::info!(staff_id = %candidate.id, %reason, "handler recused");
                    recused.push(candidate.id.clone());
                }
                continue;
            }
            let caseload = load(&candidate.id);
            if best.is_none_or(|(_, _, lowest)| caseload < lowest) {
                best = Some((candidate.id.as_str(), candidate.department.as_str(), caseload));
            }
        }
        if let Some((handler_id, department, _)) = best {
            return Some(Choice { department: department.to_owned(), handler_id: handler_id.to_owned(), recused });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint<'a>(summary: &'a str, amount: Option<&'a Money>, tags: &'a [String]) -> Complaint<'a> {
        Complaint { channel: Some(Channel::App), summary, description: "", product_hint: "", amount, tags }
    }

    #[test]
    fn fraud_is_red_and_security() {
        let t = triage(&Rules::default(), &complaint("Unauthorized transfer from my account", None, &[]));
        assert_eq!(t.grade, Grade::Red);
        assert_eq!(t.category, "security");
    }

    #[test]
    fn large_amount_is_red_small_amount_yellow_nothing_green() {
        let rules = Rules::default();
        let large = Money { minor_units: 6_000_000, currency: "CNY".into() };
        let small = Money { minor_units: 5_000, currency: "CNY".into() };
        assert_eq!(triage(&rules, &complaint("question", Some(&large), &[])).grade, Grade::Red);
        assert_eq!(triage(&rules, &complaint("question", Some(&small), &[])).grade, Grade::Yellow);
        assert_eq!(triage(&rules, &complaint("question about opening hours", None, &[])).grade, Grade::Green);
    }

    #[test]
    fn vulnerable_customer_is_at_least_yellow() {
        let tags = vec!["Older American".to_owned()];
        assert_eq!(triage(&Rules::default(), &complaint("question", None, &tags)).grade, Grade::Yellow);
    }

    #[test]
    fn chinese_keywords_grade_red() {
        let t = triage(&Rules::default(), &complaint("信用卡被盗刷，资金损失", None, &[]));
        assert_eq!(t.grade, Grade::Red);
    }
}
