//! On `received`: triage, choose a handler without conflict, store the assignment and emit
//! `triaged` and `assigned` in one transaction.

use std::sync::Arc;

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::classify::Classifier;
use complaints_shared::consumer::{EventHandler, HandlerError};
use complaints_shared::domain::org::{Involvement, OrgDirectory};
use complaints_shared::domain::{Channel, Money};
use complaints_shared::events::Event;
use complaints_shared::outbox::{self, RelayHandle, Subject};
use complaints_shared::store::Tx;

use crate::domain::{choose_handler, triage, Complaint};
use crate::store::{self, Assignment};
use crate::{Config, SERVICE};

pub struct Handler {
    pub relay: RelayHandle,
    pub org: Arc<OrgDirectory>,
    pub config: Arc<Config>,
    pub classifier: Arc<Classifier>,
}

impl EventHandler for Handler {
    async fn handle(&self, tx: &mut Tx, event: &Event) -> Result<(), HandlerError> {
        let Payload::Received(received) = &event.payload else {
            return Err(HandlerError::Poison(format!("routing does not handle {}", event.name())));
        };
        let amount = Money::parse("amount_involved", received.amount_involved.as_ref())
            .map_err(|e| HandlerError::Poison(e.to_string()))?;
        let triage = triage(
            &self.classifier,
            &Complaint {
                channel: Channel::from_proto(received.channel),
                summary: &received.summary,
                description: &received.description,
                product_hint: &received.product_hint,
                amount: amount.as_ref(),
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
        let choice = choose_handler(&self.org, &department, &involvement, |id| caseloads.get(id).copied().unwrap_or(0))
            .ok_or_else(|| HandlerError::Poison("no handler without a conflict of interest in the org directory".into()))?;
        let envelope = &event.envelope;
        let assignment = Assignment {
            complaint_id: envelope.complaint_id.clone(),
            complaint_number: envelope.complaint_number.clone(),
            grade: triage.grade.as_str().to_owned(),
            category: triage.category.clone(),
            product: triage.product.clone(),
            department: choice.department.clone(),
            handler_id: choice.handler_id.clone(),
            reasons: triage.reasons.clone(),
            recused: choice.recused.clone(),
        };
        store::insert(tx, &assignment).await?;
        let subject = Subject::new(&envelope.complaint_id, &envelope.complaint_number);
        let triaged = Payload::Triaged(pb::ComplaintTriaged {
            grade: triage.grade.to_proto() as i32,
            category: triage.category.clone(),
            product: triage.product.clone(),
            reasons: triage.reasons.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject.clone(), triaged).await?;
        let assigned = Payload::Assigned(pb::ComplaintAssigned {
            department: choice.department.clone(),
            handler_id: choice.handler_id.clone(),
            grade: triage.grade.to_proto() as i32,
            category: triage.category.clone(),
            recused_staff: choice.recused.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject, assigned).await?;
        tracing::info!(
            grade = triage.grade.as_str(),
            category = %triage.category,
            human_triage = triage.needs_human_triage,
            department = %choice.department,
            handler_id = %choice.handler_id,
            "complaint assigned"
        );
        Ok(())
    }

    fn committed(&self) {
        self.relay.notify();
    }
}
