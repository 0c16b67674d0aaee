//! Approval's gRPC API: approve (signature by signature) or return for rework. The approver is
//! the caller named by the token; the rules of `domain::may_sign` decide whether they may sign.

use complaints_domain::events::{LifecycleEvent, ResolutionApproved, ResolutionReturned};
use complaints_domain::org::Involvement;
use std::sync::Arc;

use complaints_domain::{at_most, required, ClockKind, StaffId};
use complaints_plumbing::clocks::{self, ClockBook, Ending};
use complaints_plumbing::access::Access;
use complaints_plumbing::auth::{actor, Actor};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_proto::v1 as pb;
use complaints_proto::v1::approval_server::Approval as ApprovalRpc;
use tonic::{Request, Response, Status};

use crate::domain::{may_sign, Proposal, ProposalStatus};
use crate::extensions::{self, ExtensionRequest};
use crate::store::{self, Approval};
use crate::{Error, SERVICE};

pub struct ApprovalApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub book: Arc<ClockBook>,
}

impl ApprovalApi {
    /// The approval clock is met by the decision (approved or returned).
    async fn decided(&self, tx: &mut Tx, approval: &Approval) -> Result<(), Error> {
        let at = complaints_plumbing::now_ms();
        let changed: Vec<_> = clocks::end(tx, &self.book, &approval.complaint_id, ClockKind::Approval, at, Ending::Completed).await?.into_iter().collect();
        let subject = Subject::new(&approval.complaint_id, &approval.complaint_number).in_trace(&approval.traceparent);
        clocks::announce(tx, SERVICE, subject, changed).await?;
        Ok(())
    }
}

/// Longest text accepted in any field.
const MAX_TEXT_CHARS: usize = 2000;

fn view(approval: &Approval) -> pb::ApprovalView {
    let roles = approval.level.required_roles();
    let pending_roles = if approval.status == ProposalStatus::Pending {
        roles.iter().skip(approval.signed_by.len()).map(|r| (*r).to_owned()).collect()
    } else {
        Vec::new()
    };
    pb::ApprovalView {
        complaint_id: approval.complaint_id.to_string(),
        complaint_number: approval.complaint_number.to_string(),
        proposal_id: approval.proposal_id.to_string(),
        level: approval.level.as_str().to_owned(),
        status: approval.status.as_str().to_owned(),
        pending_roles,
        approvers: approval.signed_by.iter().map(ToString::to_string).collect(),
        proposed_by: approval.proposed_by.to_string(),
    }
}

impl ApprovalApi {
    /// Loads the latest proposal and checks that the caller may sign it next; returns the
    /// approver and the role they sign for.
    async fn begin(&self, actor: &Actor, number: &str) -> Result<(Tx, Approval, StaffId, &'static str), Error> {
        let staff = self.access.staff(actor)?;
        let approver = StaffId::parse("actor", &staff.id)?;
        let number = required("complaint_number", number, MAX_TEXT_CHARS)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from)?;
        let approval = store::latest(&mut tx, number).await?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        // Without the complaint's details recusal and the line cannot be checked: refuse rather than guess.
        let involved = store::involved(&mut tx, &approval.complaint_id).await?.ok_or(Error::DetailsPending)?;
        let proposal = Proposal {
            level: approval.level,
            status: approval.status,
            proposed_by: &approval.proposed_by,
            signed_by: &approval.signed_by,
            department: &approval.department,
            involvement: Involvement { staff: &involved.staff, branch: &involved.branch },
        };
        let role = may_sign(self.access.org(), &proposal, approver.as_str())?;
        Ok((tx, approval, approver, role))
    }

    async fn finish(&self, tx: Tx, approval: &Approval) -> Result<Response<pb::ApprovalView>, Error> {
        tx.commit().await.map_err(StoreError::from)?;
        self.plumbing.relay.notify();
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from)?;
        let approval = store::latest(&mut tx, approval.complaint_id.as_str())
            .await?
            .ok_or_else(|| Error::NotFound(approval.complaint_number.to_string()))?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Response::new(view(&approval)))
    }
}

fn extension_view(request: &ExtensionRequest) -> pb::ExtensionView {
    pb::ExtensionView {
        complaint_number: request.complaint_number.to_string(),
        request_id: request.request_id.clone(),
        clock: request.clock.as_str().to_owned(),
        reason: request.reason.clone(),
        requested_by: request.requested_by.to_string(),
        status: request.status.clone(),
        decided_by: request.decided_by.clone().unwrap_or_default(),
        comment: request.comment.clone(),
    }
}

#[tonic::async_trait]
impl ApprovalRpc for ApprovalApi {
    async fn get_extension(&self, request: Request<pb::GetApprovalRequest>) -> Result<Response<pb::ExtensionView>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let number = request.into_inner().complaint_number;
        let number = required("complaint_number", &number, MAX_TEXT_CHARS).map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(|e| Error::from(StoreError::from(e)))?;
        let extension = extensions::latest(&mut tx, number).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        tx.commit().await.map_err(|e| Error::from(StoreError::from(e)))?;
        Ok(Response::new(extension_view(&extension)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn decide_extension(&self, request: Request<pb::DecideExtensionRequest>) -> Result<Response<pb::ExtensionView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        at_most("comment", &request.comment, MAX_TEXT_CHARS).map_err(Error::from)?;
        if !request.approve && request.comment.trim().is_empty() {
            return Err(Error::from(complaints_domain::FieldError::new("comment", "a refusal must say why")).into());
        }
        let staff = self.access.staff(&actor).map_err(Error::from)?;
        let decider = StaffId::parse("actor", &staff.id).map_err(Error::from)?;
        let number = required("complaint_number", &request.complaint_number, MAX_TEXT_CHARS).map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(|e| Error::from(StoreError::from(e)))?;
        let mut extension = extensions::latest(&mut tx, number).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        if extension.status != "pending" {
            return Err(Error::NoPendingExtension(extension.status.clone()).into());
        }
        extensions::may_decide(staff, &extension).map_err(Error::from)?;
        extensions::decide(&mut tx, &extension, request.approve, &decider, request.comment.trim()).await.map_err(Error::from)?;
        tx.commit().await.map_err(|e| Error::from(StoreError::from(e)))?;
        self.plumbing.relay.notify();
        extension.status = if request.approve { "approved" } else { "refused" }.to_owned();
        extension.decided_by = Some(decider.to_string());
        extension.comment = request.comment.trim().to_owned();
        tracing::info!(clock = %extension.clock, approved = request.approve, "extension decided");
        Ok(Response::new(extension_view(&extension)))
    }

    async fn get_approval(&self, request: Request<pb::GetApprovalRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let number = request.into_inner().complaint_number;
        let number = required("complaint_number", &number, MAX_TEXT_CHARS).map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(|e| Error::from(StoreError::from(e)))?;
        let approval = store::latest(&mut tx, number).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        tx.commit().await.map_err(|e| Error::from(StoreError::from(e)))?;
        Ok(Response::new(view(&approval)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn approve(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        at_most("comment", &request.comment, MAX_TEXT_CHARS).map_err(Error::from)?;
        let (mut tx, mut approval, approver, role) = self.begin(&actor, &request.complaint_number).await?;
        store::sign(&mut tx, &approval, role, &approver, "approved", request.comment.trim()).await.map_err(Error::from)?;
        approval.signed_by.push(approver);
        if approval.signed_by.len() == approval.level.required_roles().len() {
            store::decide(&mut tx, &approval.proposal_id, ProposalStatus::Approved).await.map_err(Error::from)?;
            let event = LifecycleEvent::ResolutionApproved(ResolutionApproved {
                proposal_id: approval.proposal_id.clone(),
                resolution: approval.resolution.clone(),
                approval_level: approval.level,
                approvers: approval.signed_by.clone(),
            });
            let subject = Subject::new(&approval.complaint_id, &approval.complaint_number).in_trace(&approval.traceparent);
            outbox::enqueue(&mut tx, SERVICE, subject, event).await.map_err(Error::from)?;
            self.decided(&mut tx, &approval).await?;
            tracing::info!(level = approval.level.as_str(), "resolution approved");
        } else {
            tracing::info!(role, "approval signature recorded; more required");
        }
        Ok(self.finish(tx, &approval).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn return_for_rework(&self, request: Request<pb::DecideRequest>) -> Result<Response<pb::ApprovalView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("comment", &request.comment, MAX_TEXT_CHARS).map_err(Error::from)?.to_owned();
        let (mut tx, approval, approver, role) = self.begin(&actor, &request.complaint_number).await?;
        store::sign(&mut tx, &approval, role, &approver, "returned", &reason).await.map_err(Error::from)?;
        store::decide(&mut tx, &approval.proposal_id, ProposalStatus::Returned).await.map_err(Error::from)?;
        let event = LifecycleEvent::ResolutionReturned(ResolutionReturned {
            proposal_id: approval.proposal_id.clone(),
            returned_by: approver,
            reason,
        });
        let subject = Subject::new(&approval.complaint_id, &approval.complaint_number).in_trace(&approval.traceparent);
        outbox::enqueue(&mut tx, SERVICE, subject, event).await.map_err(Error::from)?;
        self.decided(&mut tx, &approval).await?;
        tracing::info!("proposal returned for rework");
        Ok(self.finish(tx, &approval).await?)
    }
}
