//! The case as investigation sees the complaint's lifecycle: its stage is a projection of the
//! one lifecycle, moved by investigation's own commands and by the events it consumes. Which
//! case work each stage allows.

use complaints_domain::lifecycle::{self, Stage, Step, Verdict};
use complaints_domain::ProposalId;

/// Stages in which the case file is still open for evidence (until the remedy is executed).
pub const EVIDENCE_STAGES: [Stage; 7] = [
    Stage::Investigating,
    Stage::ReReview,
    Stage::AwaitingApproval,
    Stage::Approved,
    Stage::CustomerInformed,
    Stage::Accepted,
    Stage::UnderReview,
];

/// Stages in which findings are recorded: while a resolution is being worked out or reviewed.
pub const FINDING_STAGES: [Stage; 4] = [Stage::Investigating, Stage::ReReview, Stage::AwaitingApproval, Stage::UnderReview];

/// Stages in which the handler may stop and restart the clock (while investigating).
pub const STOP_CLOCK_STAGES: [Stage; 2] = [Stage::Investigating, Stage::ReReview];

/// What an approval decision does to a case at `stage` whose current proposal is `current`:
/// a decision on another (older) proposal is stale, whatever the stage.
pub fn decision(stage: Stage, current: Option<&ProposalId>, decided: &ProposalId, step: &Step) -> Verdict {
    if current != Some(decided) {
        return Verdict::Stale;
    }
    lifecycle::classify(stage, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(value: &str) -> ProposalId {
        ProposalId::parse("proposal_id", value).expect("id")
    }

    #[test]
    fn given_a_proposal_awaiting_approval_when_it_is_approved_then_the_case_is_approved() {
        let verdict = decision(Stage::AwaitingApproval, Some(&id("p1")), &id("p1"), &Step::ResolutionApproved);
        assert_eq!(verdict, Verdict::To(Stage::Approved));
    }

    #[test]
    fn given_a_newer_proposal_when_an_old_one_is_decided_then_nothing_changes() {
        assert_eq!(decision(Stage::AwaitingApproval, Some(&id("p2")), &id("p1"), &Step::ResolutionApproved), Verdict::Stale);
        assert_eq!(decision(Stage::AwaitingApproval, Some(&id("p2")), &id("p1"), &Step::ResolutionReturned), Verdict::Stale);
    }

    #[test]
    fn given_a_returned_proposal_when_the_return_arrives_then_investigation_resumes() {
        let verdict = decision(Stage::AwaitingApproval, Some(&id("p1")), &id("p1"), &Step::ResolutionReturned);
        assert_eq!(verdict, Verdict::To(Stage::Investigating));
    }
}
