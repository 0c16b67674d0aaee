//! Investigation's gRPC API: evidence register, findings, proposal, execution.

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use complaints_proto::v1::investigation_server::Investigation;
use complaints_shared::grpc::{at_most, internal, required, store_error, FieldError};
use complaints_shared::outbox::{self, Subject};
use complaints_shared::service::Plumbing;
use complaints_shared::store::Tx;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use crate::domain::{CaseStatus, Resolution};
use crate::store::{self, Case, Evidence};
use crate::{Config, SERVICE};

pub struct InvestigationApi {
    pub plumbing: Plumbing,
    pub config: Config,
}

/// Longest free text accepted in any field (events must stay well below the broker's limit).
const MAX_TEXT_CHARS: usize = 4000;

fn evidence_view(evidence: &Evidence) -> pb::EvidenceView {
    pb::EvidenceView {
        evidence_number: u32::try_from(evidence.evidence_number).unwrap_or(u32::MAX),
        sha256: evidence.sha256.clone(),
        kind: evidence.kind.clone(),
        description: evidence.description.clone(),
        registered_by: evidence.registered_by.clone(),
        registered_at: complaints_shared::format_ms(evidence.registered_at_ms),
    }
}

fn subject(case: &Case) -> Subject<'_> {
    Subject::new(&case.complaint_id, &case.complaint_number).in_trace(&case.traceparent)
}

impl InvestigationApi {
    /// Opens a transaction and loads the case, requiring one of `allowed` statuses.
    async fn begin(&self, complaint_number: &str, allowed: &[CaseStatus], action: &str) -> Result<(Tx, Case), Status> {
        let number = required("complaint_number", complaint_number, MAX_TEXT_CHARS)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let case = store::case(&mut *tx, number)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no case for complaint {number}")))?;
        if !allowed.contains(&case.status) {
            return Err(Status::failed_precondition(format!(
                "case {} is {}; cannot {action}",
                case.complaint_number,
                case.status.as_str()
            )));
        }
        Ok((tx, case))
    }

    async fn view(&self, key: &str) -> Result<pb::CaseView, Status> {
        let pool = &self.plumbing.pool;
        let case = store::case(pool, key).await.map_err(internal)?.ok_or_else(|| Status::not_found(format!("no case for complaint {key}")))?;
        let evidence = store::evidence(pool, &case.complaint_id).await.map_err(internal)?;
        let findings = store::findings(pool, &case.complaint_id).await.map_err(internal)?;
        Ok(pb::CaseView {
            complaint_id: case.complaint_id.clone(),
            complaint_number: case.complaint_number.clone(),
            status: case.status.as_str().to_owned(),
            handler_id: case.handler_id.clone(),
            department: case.department.clone(),
            evidence: evidence.iter().map(evidence_view).collect(),
            findings,
            proposed_resolution: case.resolution.as_ref().map(Resolution::to_proto),
            proposal_id: case.proposal_id.clone().unwrap_or_default(),
        })
    }

    async fn commit(&self, tx: Tx) -> Result<(), Status> {
        tx.commit().await.map_err(internal)?;
        self.plumbing.relay.notify();
        Ok(())
    }
}

const OPEN: [CaseStatus; 2] = [CaseStatus::Investigating, CaseStatus::Proposed];

#[tonic::async_trait]
impl Investigation for InvestigationApi {
    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::CaseView>, Status> {
        let number = request.into_inner().complaint_number;
        Ok(Response::new(self.view(required("complaint_number", &number, MAX_TEXT_CHARS)?).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn register_evidence(&self, request: Request<pb::RegisterEvidenceRequest>) -> Result<Response<pb::EvidenceView>, Status> {
        let request = request.into_inner();
        let kind = required("kind", &request.kind, MAX_TEXT_CHARS)?;
        at_most("description", &request.description, MAX_TEXT_CHARS)?;
        let registered_by = required("registered_by", &request.registered_by, MAX_TEXT_CHARS)?;
        if request.content.is_empty() {
            return Err(FieldError::new("content", "is required: the evidence itself, so its hash can be fixed").into());
        }
        if request.content.len() > self.config.max_evidence_bytes {
            return Err(FieldError::new("content", format!("must be at most {} bytes", self.config.max_evidence_bytes)).into());
        }
        let allowed = [CaseStatus::Investigating, CaseStatus::Proposed, CaseStatus::Approved, CaseStatus::AwaitingExecution];
        let (mut tx, case) = self.begin(&request.complaint_number, &allowed, "register evidence").await?;
        let sha256 = hex::encode(Sha256::digest(&request.content));
        let evidence = store::add_evidence(&mut tx, &case.complaint_id, kind, request.description.trim(), &request.content, &sha256, registered_by)
            .await
            .map_err(store_error)?;
        let payload = Payload::EvidenceRegistered(pb::EvidenceRegistered {
            evidence_number: u32::try_from(evidence.evidence_number).unwrap_or(u32::MAX),
            sha256: sha256.clone(),
            description: evidence.description.clone(),
            registered_by: registered_by.to_owned(),
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), payload).await.map_err(internal)?;
        self.commit(tx).await?;
        tracing::info!(evidence_number = evidence.evidence_number, "evidence registered");
        Ok(Response::new(evidence_view(&evidence)))
    }

    async fn record_finding(&self, request: Request<pb::RecordFindingRequest>) -> Result<Response<pb::CaseView>, Status> {
        let request = request.into_inner();
        let finding = required("finding", &request.finding, MAX_TEXT_CHARS)?;
        let recorded_by = required("recorded_by", &request.recorded_by, MAX_TEXT_CHARS)?;
        let (mut tx, case) = self.begin(&request.complaint_number, &OPEN, "record a finding").await?;
        store::add_finding(&mut tx, &case.complaint_id, finding, recorded_by).await.map_err(internal)?;
        self.commit(tx).await?;
        Ok(Response::new(self.view(&case.complaint_id).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn propose_resolution(&self, request: Request<pb::ProposeResolutionRequest>) -> Result<Response<pb::CaseView>, Status> {
        let request = request.into_inner();
        let proposed_by = required("proposed_by", &request.proposed_by, MAX_TEXT_CHARS)?;
        let resolution = Resolution::parse(request.resolution.as_ref())?;
        let (mut tx, case) = self.begin(&request.complaint_number, &[CaseStatus::Investigating], "propose a resolution").await?;
        if store::findings(&mut *tx, &case.complaint_id).await.map_err(internal)?.is_empty() {
            return Err(Status::failed_precondition("record at least one finding before proposing a resolution"));
        }
        let proposal_id = uuid::Uuid::now_v7().to_string();
        if !store::set_proposal(&mut tx, &case.complaint_id, &proposal_id, &resolution, proposed_by).await.map_err(store_error)? {
            return Err(Status::aborted("the case changed concurrently; read it again"));
        }
        let payload = Payload::ResolutionProposed(pb::ResolutionProposed {
            proposal_id: proposal_id.clone(),
            resolution: Some(resolution.to_proto()),
            proposed_by: proposed_by.to_owned(),
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), payload).await.map_err(internal)?;
        self.commit(tx).await?;
        tracing::info!(%proposal_id, "resolution proposed");
        Ok(Response::new(self.view(&case.complaint_id).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_execution(&self, request: Request<pb::RecordExecutionRequest>) -> Result<Response<pb::CaseView>, Status> {
        let request = request.into_inner();
        let executed_by = required("executed_by", &request.executed_by, MAX_TEXT_CHARS)?;
        let reference = required("reference", &request.reference, MAX_TEXT_CHARS)?;
        let (mut tx, case) = self.begin(&request.complaint_number, &[CaseStatus::AwaitingExecution], "record execution").await?;
        if !store::record_execution(&mut tx, &case.complaint_id, executed_by, reference).await.map_err(store_error)? {
            return Err(Status::aborted("the case changed concurrently; read it again"));
        }
        let payload = Payload::RemedyExecuted(pb::RemedyExecuted {
            executed_by: executed_by.to_owned(),
            reference: reference.to_owned(),
            amount: case.resolution.as_ref().and_then(Resolution::amount),
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), payload).await.map_err(internal)?;
        self.commit(tx).await?;
        tracing::info!("remedy executed");
        Ok(Response::new(self.view(&case.complaint_id).await?))
    }
}
