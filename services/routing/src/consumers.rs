//! On `received`: triage, choose a handler without conflict, store the assignment and emit
//! `triaged` and `assigned` in one transaction.

use std::sync::Arc;

use complaints_classifier::Classifier;
use complaints_domain::events::{ComplaintAssigned, ComplaintReceived, ComplaintTriaged, EventMeta, LifecycleEvent};
use complaints_domain::org::Involvement;
use complaints_plumbing::access::Access;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::Tx;

use crate::domain::{choose_handler, triage, Complaint};
use crate::store::{self, Assignment};
use crate::{Config, SERVICE};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
    }
}

pub struct Handler {
    /// The organisation directory the service loaded at start-up (shared, not copied).
    pub access: Access,
    pub config: Arc<Config>,
    pub classifier: Arc<Classifier>,
}

impl EventHandler for Handler {
    type Event = Consumed;

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let Consumed::Received(received) = event;
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
