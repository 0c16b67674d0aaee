//! Moving a case to another handler, the one way every move takes: the assignment and its
//! history row are written and `reassigned` is queued in the same transaction.

use complaints_domain::events::{ComplaintReassigned, LifecycleEvent};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::{StoreError, Tx};

use crate::store::{self, Assignment, Move};
use crate::SERVICE;

/// Applies `to` to the case `current` and announces it.
pub async fn apply(tx: &mut Tx, current: &Assignment, to: &Move<'_>) -> Result<(), StoreError> {
    store::reassign(tx, current, to).await?;
    let event = LifecycleEvent::Reassigned(ComplaintReassigned {
        department: to.department.to_owned(),
        handler: to.handler.clone(),
        previous_handler: Some(current.handler.clone()),
        cause: to.cause,
        reason: to.reason.to_owned(),
        reassigned_by: to.by.to_owned(),
        grade: to.grade,
        category: to.category.to_owned(),
        product: to.product.to_owned(),
        co_reviewers: to.co_reviewers.to_vec(),
    });
    outbox::enqueue(tx, SERVICE, Subject::new(&current.complaint_id, &current.complaint_number), event).await?;
    tracing::info!(
        cause = to.cause.as_str(),
        from = %current.handler,
        to = %to.handler,
        department = to.department,
        "case moved"
    );
    Ok(())
}

