//! On `received`: triage, choose a handler without conflict, store the assignment and emit
//! `triaged` and `assigned` in one transaction. On the customer's objection: hand the case to
//! a supervisor for the escalated re-review (with counsel for a contract dispute). On closure,
//! withdrawal or merge: the case leaves the handler's caseload; a review request brings it back.

use std::sync::Arc;

use complaints_classifier::Classifier;
use complaints_domain::events::{
    ComplaintAssigned, ComplaintClosed, ComplaintReceived, ComplaintTriaged, ComplaintWithdrawn, CustomerResponded, CustomerResponse, EventMeta,
    LifecycleEvent, ReassignCause,
};
use complaints_domain::org::Involvement;
use complaints_plumbing::access::Access;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::Tx;

use crate::domain::{choose_handler, choose_reviewer, counsel, is_contract_dispute, triage, Complaint};
use crate::store::{self, Assignment, Move};
use crate::{Config, SERVICE};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        CustomerResponded(CustomerResponded),
        Closed(ComplaintClosed),
        Withdrawn(ComplaintWithdrawn),
    }
}

pub struct Handler {
    /// The organisation directory the service loaded at start-up (shared, not copied).
    pub access: Access,
    pub config: Arc<Config>,
    pub classifier: Arc<Classifier>,
}

impl Handler {
    /// The escalated re-review: a supervisor who is not the handler who decided, and counsel
    /// from legal & compliance when the complaint is a contract dispute.
    async fn re_review(&self, tx: &mut Tx, meta: &EventMeta) -> Result<(), HandlerError> {
        let current = store::find(&mut **tx, meta.complaint_id.as_str())
            .await?
            .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("no assignment for {} yet", meta.complaint_id)))?;
        if !current.open {
            return Ok(());
        }
        let caseloads = store::caseloads(tx).await?;
        let involvement = Involvement { staff: &current.staff_involved, branch: &current.branch_involved };
        let org = self.access.org();
        let (reviewer, department) =
            choose_reviewer(org, &current.department, &current.handler, &involvement, |id| caseloads.get(id).copied().unwrap_or(0))
                .ok_or_else(|| HandlerError::Poison("no supervisor without a conflict of interest in the org directory for the re-review".into()))?;
        let contract_dispute = is_contract_dispute(&current.tags, &self.config.re_review.contract_dispute_tags);
        let co_reviewers = if contract_dispute { counsel(org, &self.config.re_review.counsel_role, &involvement) } else { Vec::new() };
        let reason = if contract_dispute {
            "the customer objected to the result; contract dispute, legal & compliance joins"
        } else {
            "the customer objected to the result"
        };
        let to = Move {
            cause: ReassignCause::ReReview,
            handler: &reviewer,
            department: &department,
            grade: current.grade,
            category: &current.category,
            product: &current.product,
            co_reviewers: &co_reviewers,
            reason,
            by: "system:routing",
        };
        crate::moves::apply(tx, &current, &to).await?;
        Ok(())
    }
}

impl EventHandler for Handler {
    type Event = Consumed;

    /// Only an objection opens a re-review.
    fn ignores(&self, event: &Consumed) -> bool {
        matches!(event, Consumed::CustomerResponded(responded) if responded.response != CustomerResponse::Objected)
    }

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let received = match event {
            Consumed::Received(received) => received,
            Consumed::CustomerResponded(_) => return self.re_review(tx, meta).await,
            Consumed::Closed(_) | Consumed::Withdrawn(_) => {
                store::close(tx, &meta.complaint_id).await?;
                return Ok(());
            }
        };
        let triage = triage(
            &self.classifier,
            &Complaint {
                channel: Some(received.channel),
                summary: &received.summary,
                description: &received.description,
                product_hint: &received.product_hint,
                amount: received.amount_involved.as_ref(),
                tags: &received.tags,
            },
        );
        let department = if triage.needs_human_triage {
            self.config.triage_department.clone()
        } else {
            self.config
                .departments
                .get(&triage.category)
                .or_else(|| self.config.departments.get("default"))
                .cloned()
                .unwrap_or_default()
        };
        let caseloads = store::caseloads(tx).await?;
        let involvement = Involvement { staff: &received.staff_involved, branch: &received.branch_involved };
        let choice = choose_handler(self.access.org(), &department, &involvement, |id| caseloads.get(id).copied().unwrap_or(0))
            .ok_or_else(|| HandlerError::Poison("no handler without a conflict of interest in the org directory".into()))?;
        let assignment = Assignment {
            complaint_id: meta.complaint_id.clone(),
            complaint_number: meta.complaint_number.clone(),
            grade: triage.grade,
            category: triage.category.clone(),
            product: triage.product.clone(),
            department: choice.department.clone(),
            handler: choice.handler.clone(),
            reasons: triage.reasons.clone(),
            recused: choice.recused.clone(),
            open: true,
            text: format!("{}\n{}", received.summary, received.description),
            staff_involved: received.staff_involved.clone(),
            branch_involved: received.branch_involved.clone(),
            tags: received.tags.clone(),
            co_reviewers: Vec::new(),
            jurisdiction: received.jurisdiction.clone(),
        };
        store::insert(tx, &assignment).await?;
        let subject = Subject::new(&meta.complaint_id, &meta.complaint_number);
        let triaged = LifecycleEvent::Triaged(ComplaintTriaged {
            grade: triage.grade,
            category: triage.category.clone(),
            product: triage.product.clone(),
            reasons: triage.reasons.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject.clone(), triaged).await?;
        let assigned = LifecycleEvent::Assigned(ComplaintAssigned {
            department: choice.department.clone(),
            handler: choice.handler.clone(),
            grade: triage.grade,
            category: triage.category.clone(),
            recused_staff: choice.recused.clone(),
            jurisdiction: received.jurisdiction.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject, assigned).await?;
        tracing::info!(
            grade = triage.grade.as_str(),
            category = %triage.category,
            human_triage = triage.needs_human_triage,
            department = %choice.department,
            handler_id = %choice.handler,
            "complaint assigned"
        );
        Ok(())
    }
}
