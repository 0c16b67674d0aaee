//! Triage through the shared classifier (grade, category, product, with reasons and
//! confidence) and the choice of a handler who has no conflict of interest.

use complaints_classifier::{Classifier, ComplaintFeatures};
use complaints_domain::org::{Involvement, OrgDirectory};
use complaints_domain::{Channel, Grade, Money, StaffId};

/// What triage needs of a complaint.
#[derive(Debug, Clone)]
pub struct Complaint<'a> {
    pub channel: Option<Channel>,
    pub summary: &'a str,
    pub description: &'a str,
    pub product_hint: &'a str,
    pub amount: Option<&'a Money>,
    pub tags: &'a [String],
    /// Reported by many customers at once (a mass incident): graded Red.
    pub mass_complaint: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Triage {
    pub grade: Grade,
    pub category: String,
    pub product: String,
    /// The rules that fired and the model's strongest features, so a handler sees why.
    pub reasons: Vec<String>,
    /// Confidence too low for an automatic label: a person triages it.
    pub needs_human_triage: bool,
    pub predicted_handling_days: Option<f64>,
}

/// Grades and classifies a complaint with the classifier (trained model when loaded, its
/// transparent rules otherwise).
pub fn triage(classifier: &Classifier, complaint: &Complaint<'_>) -> Triage {
    let prediction = classifier.classify(&ComplaintFeatures {
        summary: complaint.summary,
        description: complaint.description,
        product_hint: complaint.product_hint,
        channel: complaint.channel.map(Channel::as_str).unwrap_or(""),
        amount_minor: complaint.amount.map(|m| m.minor_units),
        tags: complaint.tags,
        regulator_transfer: complaint.channel == Some(Channel::RegulatorTransfer),
        mass_complaint: complaint.mass_complaint,
    });
    let grade = prediction.grade;
    let mut reasons = prediction.reasons;
    reasons.push(format!(
        "product {} ({:.2}), category {} ({:.2}), {}",
        prediction.product.as_str(),
        prediction.product_confidence,
        prediction.category.as_str(),
        prediction.category_confidence,
        prediction.model_version
    ));
    Triage {
        grade,
        category: prediction.category.as_str().to_owned(),
        product: prediction.product.as_str().to_owned(),
        reasons,
        needs_human_triage: prediction.needs_human_triage,
        predicted_handling_days: prediction.predicted_handling_days,
    }
}

/// The chosen handler and who was passed over for a conflict of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    pub department: String,
    pub handler: StaffId,
    pub recused: Vec<StaffId>,
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
        let mut best: Option<(StaffId, &str, i64)> = None;
        for candidate in org.with_role(scope, "handler") {
            // The directory validates every staff id when it loads.
            let Ok(id) = StaffId::parse("staff.id", &candidate.id) else { continue };
            if let Some(reason) = org.conflict(candidate, involvement) {
                if !recused.contains(&id) {
                    tracing::info!(staff_id = %candidate.id, %reason, "handler recused");
                    recused.push(id);
                }
                continue;
            }
            let caseload = load(&candidate.id);
            if best.as_ref().is_none_or(|(_, _, lowest)| caseload < *lowest) {
                best = Some((id, candidate.department.as_str(), caseload));
            }
        }
        if let Some((handler, department, _)) = best {
            return Some(Choice { department: department.to_owned(), handler, recused });
        }
    }
    None
}

/// Who re-reviews after an objection: a supervisor of `department` (else its head; else a
/// supervisor or head anywhere) who is neither the handler who decided (`excluded`) nor in a
/// conflict; the least loaded first.
pub fn choose_reviewer(
    org: &OrgDirectory,
    department: &str,
    excluded: Option<&StaffId>,
    involvement: &Involvement<'_>,
    load: impl Fn(&str) -> i64,
) -> Option<(StaffId, String)> {
    let scopes = [(Some(department), "supervisor"), (Some(department), "department_head"), (None, "supervisor"), (None, "department_head")];
    for (scope, role) in scopes {
        let best = org
            .with_role(scope, role)
            .filter(|candidate| excluded.is_none_or(|id| candidate.id != id.as_str()) && org.conflict(candidate, involvement).is_none())
            .min_by_key(|candidate| load(&candidate.id));
        if let Some(candidate) = best {
            if let Ok(id) = StaffId::parse("staff.id", &candidate.id) {
                return Some((id, candidate.department.clone()));
            }
        }
    }
    None
}

/// Counsel who join the re-review of a contract dispute: staff with `role` and no conflict.
pub fn counsel(org: &OrgDirectory, role: &str, involvement: &Involvement<'_>) -> Vec<StaffId> {
    org.with_role(None, role)
        .filter(|candidate| org.conflict(candidate, involvement).is_none())
        .filter_map(|candidate| StaffId::parse("staff.id", &candidate.id).ok())
        .collect()
}

/// Whether the complaint's tags mark a contract dispute (case-insensitive).
pub fn is_contract_dispute(tags: &[String], dispute_tags: &[String]) -> bool {
    tags.iter().any(|tag| dispute_tags.iter().any(|dispute| dispute.eq_ignore_ascii_case(tag.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint<'a>(summary: &'a str, amount: Option<&'a Money>, tags: &'a [String]) -> Complaint<'a> {
        Complaint { channel: Some(Channel::App), summary, description: "", product_hint: "", amount, tags, mass_complaint: false }
    }

    #[test]
    fn fraud_is_red_and_security_without_a_model() {
        let t = triage(&Classifier::rules_only(), &complaint("Unauthorized transfer, my card was stolen", None, &[]));
        assert_eq!(t.grade, Grade::Red, "{:?}", t.reasons);
        assert_eq!(t.category, "security");
    }

    #[test]
    fn chinese_fraud_words_grade_red() {
        let t = triage(&Classifier::rules_only(), &complaint("信用卡被盗刷，资金损失", None, &[]));
        assert_eq!(t.grade, Grade::Red, "{:?}", t.reasons);
    }

    #[test]
    fn a_plain_question_is_green() {
        let t = triage(&Classifier::rules_only(), &complaint("question about opening hours", None, &[]));
        assert_eq!(t.grade, Grade::Green, "{:?}", t.reasons);
    }
}
