//! Approval's gRPC API: approve (signature by signature) or return for rework.

use std::sync::Arc;

use complaints_proto::v1 as pb;
use complaints_proto::v1::approval_server::Approval as ApprovalRpc;
use complaints_proto::v1::event_envelope::Payload;
use complaints_shared::domain::org::{Involvement, OrgDirectory};
use complaints_shared::grpc::{at_most, internal, required, store_error};
use complaints_shared::outbox::{self, Subject};
use complaints_shared::service::Plumbing;
use complaints_shared::store::Tx;
use tonic::{Request, Response, Status};

use crate::domain::{may_sign, ApprovalStatus, Refusal};
use crate::store::{self, Approval};
use crate::SERVICE;

pub struct ApprovalApi {
    pub plumbing: Plumbing,
    pub org: Arc<OrgDirectory>,
}

/// Longest text accepted in any field.
const MAX_TEXT_CHARS: usize = 2000;

fn view(approval: &Approval) -> pb::ApprovalView {
    let roles = approval.level.required_roles();
    let pending_roles = if approval.status == ApprovalStatus::Pending {
        roles.iter().skip(approval.signed_by.len()).map(|r| (*r).to_owned()).collect()
    } else {
        Vec::new()
    };
    pb::ApprovalView {
        complaint_id: approval.complaint_id.clone(),
        complaint_number: approval.complaint_number.clone(),
        proposal_id: approval.proposal_id.clone(),
        level: approval.level.as_str().to_owned(),
        status: approval.status.as_str().to_owned(),
        pending_roles,
        approvers: approval.signed_by.clone(),
        proposed_by: approval.proposed_by.clone(),
    }
}

fn refusal_status(refusal: Refusal) -> Status {
    match refusal {
        Refusal::NotPending(_) => Status::failed_precondition(refusal.to_string()),
        Refusal::UnknownApprover(_) => Status::invalid_argument(refusal.to_string()),
        _ => Status::permission_denied(refusal.to_string()),
    }
}

impl ApprovalApi {
    /// Loads the latest proposal and checks that `approver_id` may sign it next.
    async fn begin(&self, request: &pb::DecideRequest) -> Result<(Tx, Approval, &'static str), Status> {
        let number = required("complaint_number", &request.complaint_number, MAX_TEXT_CHARS)?;
        let approver_id = required("approver_id", &request.approver_id, MAX_TEXT_CHARS)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let approval = store::latest(&mut tx, number)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no proposal awaits approval for {number}")))?;
        // Without the complaint's details recusal cannot be checked: refuse rather than guess.
        let (staff, branch) = store::involvement(&mut tx, &approval.complaint_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::failed_precondition("the complaint's details have not reached approval yet; retry shortly"))?;
        let involvement = Involvement { staff: &staff, branch: &branch };
        let role = may_sign(&self.org, approval.level, approval.status, &approval.proposed_by, &approval.signed_by, approver_id, &involvement)
            .map_err(refusal_status)?;
        Ok((tx, approval, role))
    }

    async fn finish(&self, tx: Tx, complaint_id: &str) -> Result<Response<pb::ApprovalView>, Status> {
        tx.commit().await.map_err(internal)?;
        self.plumbing.relay.notify();
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let approval = store::latest(&mut tx, complaint_id).await.map_err(internal)?.ok_or_else(|| Status::not_found("proposal"))?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(view(&approval)))
    }
}

#[tonic::async_trait]
impl ApprovalRpc for ApprovalApi {
    async fn get_approval(&self, request: Request<pb::GetApprovalRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        let number = request.into_inner().complaint_number;
        let number = required("complaint_number", &number, MAX_TEXT_CHARS)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let approval = store::latest(&mut tx, number)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no proposal for {number}")))?;
        tx.commit().await.map_err(internal)?;
        Ok(Response::new(view(&approval)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn approve(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        let request = request.into_inner();
        at_most("comment", &request.comment, MAX_TEXT_CHARS)?;
        let (mut tx, mut approval, role) = self.begin(&request).await?;
        let approver_id = request.approver_id.trim();
        store::sign(&mut tx, &approval, role, approver_id, "approved", request.comment.trim()).await.map_err(store_error)?;
        approval.signed_by.push(approver_id.to_owned());
        if approval.signed_by.len() == approval.level.required_roles().len() {
            store::set_status(&mut tx, &approval.proposal_id, ApprovalStatus::Approved).await.map_err(internal)?;
            let payload = Payload::ResolutionApproved(pb::ResolutionApproved {
                proposal_id: approval.proposal_id.clone(),
                resolution: Some(approval.resolution.clone()),
                approval_level: approval.level.as_str().to_owned(),
                approvers: approval.signed_by.clone(),
            });
            let subject = Subject::new(&approval.complaint_id, &approval.complaint_number).in_trace(&approval.traceparent);
            outbox::enqueue(&mut tx, SERVICE, subject, payload).await.map_err(internal)?;
            tracing::info!(level = approval.level.as_str(), "resolution approved");
        } else {
            tracing::info!(role, "approval signature recorded; more required");
        }
        self.finish(tx, &approval.complaint_id).await
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn return_for_rework(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        let request = request.into_inner();
        let reason = required("comment", &request.comment, MAX_TEXT_CHARS)?.to_owned();
        let (mut tx, approval, role) = self.begin(&request).await?;
        let approver_id = request.approver_id.trim();
        store::sign(&mut tx, &approval, role, approver_id, "returned", &reason).await.map_err(store_error)?;
        store::set_status(&mut tx, &approval.proposal_id, ApprovalStatus::Returned).await.map_err(internal)?;
        let payload = Payload::ResolutionReturned(pb::ResolutionReturned {
            proposal_id: approval.proposal_id.clone(),
            returned_by: approver_id.to_owned(),
            reason,
        });
        let subject = Subject::new(&approval.complaint_id, &approval.complaint_number).in_trace(&approval.traceparent);
        outbox::enqueue(&mut tx, SERVICE, subject, payload).await.map_err(internal)?;
        tracing::info!("proposal returned for rework");
        self.finish(tx, &approval.complaint_id).await
    }
}
