//! The approval decision rules: who may sign next, and when a proposal is fully approved. A
//! proposal's status is the approval service's own record of one proposal (pending, approved,
//! returned), not a copy of the complaint's stage.

use complaints_domain::org::{Involvement, OrgDirectory};
use complaints_domain::{ApprovalLevel, StaffId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalStatus {
    Pending,
    Approved,
    Returned,
    /// The customer withdrew the complaint while the proposal waited.
    Withdrawn,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Returned => "returned",
            Self::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Returned, Self::Withdrawn].into_iter().find(|s| s.as_str() == name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0} is not in the organisation directory")]
    UnknownApprover(String),
    #[error("the proposer may not approve their own proposal")]
    OwnProposal,
    #[error("{approver} does not hold the role {role} that must sign next")]
    WrongRole { approver: String, role: String },
    #[error("{approver} signs as {role} only for the line in charge of {department}")]
    OutsideLine { approver: String, role: String, department: String },
    #[error("{0} already signed this proposal")]
    AlreadySigned(String),
    #[error("recused: {0}")]
    Conflict(String),
    #[error("the proposal is {0}, not pending")]
    NotPending(&'static str),
}

/// What is being approved: the proposal's state and the case it belongs to.
pub struct Proposal<'a> {
    pub level: ApprovalLevel,
    pub status: ProposalStatus,
    pub proposed_by: &'a StaffId,
    pub signed_by: &'a [StaffId],
    /// The department handling the case.
    pub department: &'a str,
    pub involvement: Involvement<'a>,
}

/// Checks that `approver_id` may give the next signature on `proposal`. Returns the role they
/// sign for. The approver must hold that role in the case's line: a department head of the
/// handling department; a branch vice president in charge of it; head-office roles for any.
pub fn may_sign(org: &OrgDirectory, proposal: &Proposal<'_>, approver_id: &str) -> Result<&'static str, Refusal> {
    if proposal.status != ProposalStatus::Pending {
        return Err(Refusal::NotPending(proposal.status.as_str()));
    }
    let approver = org.staff(approver_id).ok_or_else(|| Refusal::UnknownApprover(approver_id.to_owned()))?;
    if proposal.proposed_by.as_str() == approver_id {
        return Err(Refusal::OwnProposal);
    }
    if proposal.signed_by.iter().any(|s| s.as_str() == approver_id) {
        return Err(Refusal::AlreadySigned(approver_id.to_owned()));
    }
    let roles = proposal.level.required_roles();
    let role = roles.get(proposal.signed_by.len()).copied().ok_or(Refusal::NotPending("fully signed"))?;
    if !approver.has_role(role) {
        return Err(Refusal::WrongRole { approver: approver_id.to_owned(), role: role.to_owned() });
    }
    let in_line = match role {
        "department_head" => approver.department == proposal.department,
        "branch_vice_president" => approver.in_charge_of.iter().any(|d| d == proposal.department),
        _ => true,
    };
    if !in_line {
        return Err(Refusal::OutsideLine {
            approver: approver_id.to_owned(),
            role: role.to_owned(),
            department: proposal.department.to_owned(),
        });
    }
    if let Some(reason) = org.conflict(approver, &proposal.involvement) {
        return Err(Refusal::Conflict(reason));
    }
    Ok(role)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"
        [[department]]
        id = "d"
        name = "D"
        [[department]]
        id = "other"
        name = "Other"
        [[staff]]
        id = "H"
        name = "Head"
        department = "d"
        roles = ["department_head"]
        [[staff]]
        id = "OH"
        name = "Other head"
        department = "other"
        roles = ["department_head"]
        [[staff]]
        id = "VP"
        name = "Vice president"
        department = "other"
        roles = ["branch_vice_president"]
        in_charge_of = ["d"]
        [[staff]]
        id = "VP2"
        name = "Vice president of another line"
        department = "other"
        roles = ["branch_vice_president"]
        in_charge_of = ["other"]
        [[staff]]
        id = "R"
        name = "Risk"
        department = "d"
        roles = ["head_office_risk_legal"]
        [[staff]]
        id = "E"
        name = "Exec"
        department = "d"
        roles = ["senior_executive"]
    "#;

    fn id(value: &str) -> StaffId {
        StaffId::parse("id", value).expect("id")
    }

    fn check(level: ApprovalLevel, proposer: &str, signed: &[&str], approver: &str, involved: &[&str]) -> Result<&'static str, Refusal> {
        let org = OrgDirectory::parse(ORG, "test").expect("org");
        let proposed_by = id(proposer);
        let signed_by: Vec<StaffId> = signed.iter().map(|s| id(s)).collect();
        let staff: Vec<StaffId> = involved.iter().map(|s| id(s)).collect();
        let proposal = Proposal {
            level,
            status: ProposalStatus::Pending,
            proposed_by: &proposed_by,
            signed_by: &signed_by,
            department: "d",
            involvement: Involvement { staff: &staff, branch: "" },
        };
        may_sign(&org, &proposal, approver)
    }

    #[test]
    fn proposer_cannot_approve_and_roles_sign_in_order() {
        assert_eq!(check(ApprovalLevel::DepartmentHead, "H", &[], "H", &[]), Err(Refusal::OwnProposal));
        assert_eq!(check(ApprovalLevel::DepartmentHead, "X", &[], "H", &[]), Ok("department_head"));
        assert!(matches!(check(ApprovalLevel::HeadOffice, "X", &[], "E", &[]), Err(Refusal::WrongRole { .. })));
        assert_eq!(check(ApprovalLevel::HeadOffice, "X", &[], "R", &[]), Ok("head_office_risk_legal"));
        assert_eq!(check(ApprovalLevel::HeadOffice, "X", &["R"], "E", &[]), Ok("senior_executive"));
        assert_eq!(check(ApprovalLevel::HeadOffice, "X", &["R"], "R", &[]), Err(Refusal::AlreadySigned("R".into())));
    }

    #[test]
    fn approvers_sign_only_for_their_line() {
        assert!(matches!(check(ApprovalLevel::DepartmentHead, "X", &[], "OH", &[]), Err(Refusal::OutsideLine { .. })));
        assert_eq!(check(ApprovalLevel::BranchVicePresident, "X", &[], "VP", &[]), Ok("branch_vice_president"));
        assert!(matches!(check(ApprovalLevel::BranchVicePresident, "X", &[], "VP2", &[]), Err(Refusal::OutsideLine { .. })));
        assert!(matches!(check(ApprovalLevel::BranchVicePresident, "X", &[], "H", &[]), Err(Refusal::WrongRole { .. })), "a head above their level");
    }

    #[test]
    fn named_approver_is_recused_and_strangers_are_refused() {
        assert!(matches!(check(ApprovalLevel::DepartmentHead, "X", &[], "H", &["H"]), Err(Refusal::Conflict(_))));
        assert!(matches!(check(ApprovalLevel::DepartmentHead, "X", &[], "NOBODY", &[]), Err(Refusal::UnknownApprover(_))));
    }
}
