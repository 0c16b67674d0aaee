//! Investigation's gRPC API: evidence register, findings, proposal, execution. Only the
//! assigned handler or a supervisor of the case's department works a case; the actor comes
//! from the token.

use complaints_domain::events::{
    ClockRestarted, ClockStopped, EvidenceRegistered, ExtensionRequested, ExternalRoute, LifecycleEvent, MarkedOutOfScope, RemedyExecuted, Resolution,
    ResolutionProposed, ReviewDecided, StopReason,
};
use complaints_domain::lifecycle::{self, Stage, Step};
use std::sync::Arc;

use complaints_domain::{at_most, required, ClockKind, ComplaintNumber, FieldError, ProposalId, StaffId};
use complaints_plumbing::clocks::{self, ClockBook};
use complaints_plumbing::access::Access;
use complaints_plumbing::auth::{actor, Actor};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_proto::v1 as pb;
use complaints_proto::v1::investigation_server::Investigation;
use tonic::{Request, Response, Status};

use crate::clocks::CaseClock;
use crate::domain::{EVIDENCE_STAGES, FINDING_STAGES, STOP_CLOCK_STAGES};
use crate::store::{self, Case, Evidence};
use crate::{Config, Error, SERVICE};

pub struct InvestigationApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub config: Config,
    pub book: Arc<ClockBook>,
    /// Seals evidence content at rest.
    pub vault: complaints_plumbing::vault::Vault,
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
        registered_at: complaints_plumbing::format_ms(evidence.registered_at_ms),
    }
}

fn subject(case: &Case) -> Subject<'_> {
    Subject::new(&case.complaint_id, &case.complaint_number).in_trace(&case.traceparent)
}

impl InvestigationApi {
    /// Opens a transaction, loads the case, checks that `actor` works it and that its stage is
    /// one of `allowed`.
    async fn begin(&self, actor: &Actor, number: &str, allowed: &[Stage], action: &'static str) -> Result<(Tx, Case, StaffId), Error> {
        let number = ComplaintNumber::parse("complaint_number", number)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from)?;
        let case = store::case(&mut *tx, number.as_str()).await?.ok_or_else(|| Error::NotFound(number.to_string()))?;
        let staff = self.access.case_worker(actor, &case.handler, &case.department)?;
        let staff = StaffId::parse("actor", &staff.id)?;
        if !allowed.contains(&case.stage) {
            return Err(Error::WrongStage { number: case.complaint_number.clone(), stage: case.stage, action });
        }
        Ok((tx, case, staff))
    }

    /// Like [`Self::begin`], for a command that is a lifecycle step: returns the stage it leads to.
    async fn begin_step(&self, actor: &Actor, number: &str, step: &Step, action: &'static str) -> Result<(Tx, Case, StaffId, Stage), Error> {
        let (tx, case, staff) = self.begin(actor, number, &Stage::ALL, action).await?;
        let to = lifecycle::next(case.stage, step)
            .map_err(|_| Error::WrongStage { number: case.complaint_number.clone(), stage: case.stage, action })?;
        Ok((tx, case, staff, to))
    }

    async fn view(&self, key: &str) -> Result<pb::CaseView, Error> {
        let pool = &self.plumbing.pool;
        let case = store::case(pool, key).await?.ok_or_else(|| Error::NotFound(key.to_owned()))?;
        let evidence = store::evidence(pool, &case.complaint_id).await?;
        let findings = store::findings(pool, &case.complaint_id).await?;
        let notes = store::notes(pool, &case.complaint_id).await?;
        Ok(pb::CaseView {
            complaint_id: case.complaint_id.to_string(),
            complaint_number: case.complaint_number.to_string(),
            status: case.stage.as_str().to_owned(),
            handler_id: case.handler.to_string(),
            department: case.department.clone(),
            evidence: evidence.iter().map(evidence_view).collect(),
            findings,
            proposed_resolution: case.resolution.as_ref().map(pb::Resolution::from),
            proposal_id: case.proposal_id.as_ref().map(ToString::to_string).unwrap_or_default(),
            notes: notes.into_iter().map(|(kind, note, recorded_by)| pb::CaseNote { kind, note, recorded_by }).collect(),
        })
    }

    /// Extensions already granted on the case's clock of `kind` (investigation's own clock; the
    /// statutory clock is intake's, whose owner refuses one too many when it applies it).
    async fn extensions_used(&self, tx: &mut Tx, case: &Case, kind: ClockKind) -> Result<usize, Error> {
        if kind != ClockKind::Investigation {
            return Ok(0);
        }
        let open = clocks::open_clock(tx, &case.complaint_id, kind).await?;
        Ok(open.map_or(usize::MAX, |clock| clock.clock.extensions().len()))
    }

    /// Meets the case's open clocks of `kinds` now and announces the change.
    async fn complete(&self, tx: &mut Tx, case: &Case, kinds: &[ClockKind]) -> Result<(), Error> {
        let clock = CaseClock::of(case);
        let changed = clock.complete(tx, &self.book, kinds, complaints_plumbing::now_ms()).await?;
        clock.announce(tx, changed).await?;
        Ok(())
    }

    async fn commit(&self, tx: Tx) -> Result<(), Error> {
        tx.commit().await.map_err(StoreError::from)?;
        self.plumbing.relay.notify();
        Ok(())
    }
}

#[tonic::async_trait]
impl Investigation for InvestigationApi {
    async fn get_case(&self, request: Request<pb::GetCaseRequest>) -> Result<Response<pb::CaseView>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let number = request.into_inner().complaint_number;
        let number = required("complaint_number", &number, MAX_TEXT_CHARS).map_err(Error::from)?;
        Ok(Response::new(self.view(number).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn register_evidence(&self, request: Request<pb::RegisterEvidenceRequest>) -> Result<Response<pb::EvidenceView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let kind = required("kind", &request.kind, MAX_TEXT_CHARS).map_err(Error::from)?;
        at_most("description", &request.description, MAX_TEXT_CHARS).map_err(Error::from)?;
        if request.content.is_empty() {
            return Err(Error::from(FieldError::new("content", "is required: the evidence itself, so its hash can be fixed")).into());
        }
        if request.content.len() > self.config.max_evidence_bytes {
            return Err(Error::from(FieldError::new("content", format!("must be at most {} bytes", self.config.max_evidence_bytes))).into());
        }
        let (mut tx, case, staff) = self.begin(&actor, &request.complaint_number, &EVIDENCE_STAGES, "register evidence").await?;
        let evidence = store::add_evidence(&mut tx, &case.complaint_id, kind, request.description.trim(), &request.content, &staff, &self.vault)
            .await
            .map_err(Error::from)?;
        let event = LifecycleEvent::EvidenceRegistered(EvidenceRegistered {
            evidence_number: u32::try_from(evidence.evidence_number).unwrap_or(u32::MAX),
            sha256: evidence.sha256.clone(),
            description: evidence.description.clone(),
            registered_by: staff,
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.complete(&mut tx, &case, &[ClockKind::InvestigationStart]).await?;
        self.commit(tx).await?;
        tracing::info!(evidence_number = evidence.evidence_number, "evidence registered");
        Ok(Response::new(evidence_view(&evidence)))
    }

    async fn record_finding(&self, request: Request<pb::RecordFindingRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let finding = required("finding", &request.finding, MAX_TEXT_CHARS).map_err(Error::from)?;
        let (mut tx, case, staff) = self.begin(&actor, &request.complaint_number, &FINDING_STAGES, "record a finding").await?;
        store::add_finding(&mut tx, &case.complaint_id, finding, &staff).await.map_err(Error::from)?;
        self.complete(&mut tx, &case, &[ClockKind::InvestigationStart]).await?;
        self.commit(tx).await?;
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn propose_resolution(&self, request: Request<pb::ProposeResolutionRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let resolution = request.resolution.ok_or_else(|| Error::from(FieldError::new("resolution", "is required")))?;
        let resolution = Resolution::try_from(resolution).map_err(Error::from)?;
        let (mut tx, case, staff, to) =
            self.begin_step(&actor, &request.complaint_number, &Step::ResolutionProposed, "propose a resolution").await?;
        if store::findings(&mut *tx, &case.complaint_id).await.map_err(Error::from)?.is_empty() {
            return Err(Error::Refused("record at least one finding before proposing a resolution").into());
        }
        let proposal_id = ProposalId::generate();
        store::set_proposal(&mut tx, &case, to, &proposal_id, &resolution, &staff).await.map_err(Error::from)?;
        let event = LifecycleEvent::ResolutionProposed(ResolutionProposed {
            proposal_id: proposal_id.clone(),
            resolution,
            proposed_by: staff,
            department: case.department.clone(),
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.complete(&mut tx, &case, &[ClockKind::InvestigationStart, ClockKind::Investigation]).await?;
        self.commit(tx).await?;
        tracing::info!(%proposal_id, "resolution proposed");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn stop_clock(&self, request: Request<pb::StopClockRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = StopReason::from_proto(request.reason)
            .ok_or_else(|| Error::from(FieldError::new("reason", "must be external_appraisal or waiting_for_customer")))?;
        let note = required("note", &request.note, MAX_TEXT_CHARS).map_err(Error::from)?;
        let (mut tx, case, staff) = self.begin(&actor, &request.complaint_number, &STOP_CLOCK_STAGES, "stop the clock").await?;
        let now = complaints_plumbing::now_ms();
        let paused = clocks::pause(&mut tx, &self.book, &case.complaint_id, ClockKind::Investigation, now).await.map_err(|error| match error {
            StoreError::Clock(_) => Error::Refused("the clock is already stopped"),
            other => Error::from(other),
        })?;
        let clock = CaseClock::of(&case);
        clock.announce(&mut tx, paused.into_iter().collect()).await.map_err(Error::from)?;
        let event = LifecycleEvent::ClockStopped(ClockStopped { reason, note: note.to_owned(), stopped_by: staff });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.commit(tx).await?;
        tracing::info!(reason = reason.as_str(), "clock stopped");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn restart_clock(&self, request: Request<pb::RestartClockRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        at_most("note", &request.note, MAX_TEXT_CHARS).map_err(Error::from)?;
        let (mut tx, case, staff) = self.begin(&actor, &request.complaint_number, &STOP_CLOCK_STAGES, "restart the clock").await?;
        let now = complaints_plumbing::now_ms();
        let resumed = clocks::resume(&mut tx, &self.book, &case.complaint_id, ClockKind::Investigation, now).await.map_err(|error| match error {
            StoreError::Clock(_) => Error::Refused("the clock is not stopped"),
            other => Error::from(other),
        })?;
        let clock = CaseClock::of(&case);
        clock.announce(&mut tx, resumed.into_iter().collect()).await.map_err(Error::from)?;
        let event = LifecycleEvent::ClockRestarted(ClockRestarted { note: request.note.trim().to_owned(), restarted_by: staff });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.commit(tx).await?;
        tracing::info!("clock restarted");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn request_extension(&self, request: Request<pb::RequestExtensionRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let clock = ClockKind::parse(&request.clock)
            .filter(|kind| *kind == ClockKind::Investigation || (kind.is_statutory() && !kind.is_window()))
            .ok_or_else(|| Error::from(FieldError::new("clock", "must be investigation, regulator_decision or payment_services_decision")))?;
        let reason = required("reason", &request.reason, MAX_TEXT_CHARS).map_err(Error::from)?;
        let (mut tx, case, staff) = self.begin(&actor, &request.complaint_number, &STOP_CLOCK_STAGES, "request an extension").await?;
        if !self.book.extension_available(&case.jurisdiction, case.grade, clock, self.extensions_used(&mut tx, &case, clock).await?) {
            return Err(Error::Refused("the rule pack allows no further extension of this clock").into());
        }
        let event = LifecycleEvent::ExtensionRequested(ExtensionRequested {
            request_id: uuid::Uuid::now_v7().to_string(),
            clock,
            reason: reason.to_owned(),
            requested_by: staff,
            department: case.department.clone(),
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.commit(tx).await?;
        tracing::info!(clock = %clock, "extension requested");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn mark_out_of_scope(&self, request: Request<pb::MarkOutOfScopeRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, MAX_TEXT_CHARS).map_err(Error::from)?;
        let mut routes = Vec::new();
        for (index, name) in request.routes.iter().enumerate() {
            let route = ExternalRoute::parse(name.trim()).filter(|route| *route != ExternalRoute::Declined).ok_or_else(|| {
                Error::from(FieldError::new(
                    format!("routes[{index}]"),
                    "must be mediation, arbitration, litigation, industry_association or regulator",
                ))
            })?;
            if !routes.contains(&route) {
                routes.push(route);
            }
        }
        if routes.is_empty() {
            routes = ExternalRoute::OFFERED.to_vec();
        }
        let (mut tx, case, staff, to) =
            self.begin_step(&actor, &request.complaint_number, &Step::MarkedOutOfScope, "mark the complaint out of scope").await?;
        store::move_stage(&mut tx, &case.complaint_id, case.stage, to).await.map_err(Error::from)?;
        store::add_note(&mut tx, &case.complaint_id, "out_of_scope", reason, staff.as_str()).await.map_err(Error::from)?;
        let event = LifecycleEvent::MarkedOutOfScope(MarkedOutOfScope { reason: reason.to_owned(), routes, marked_by: staff });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        // The handler's decision meets the investigation clocks.
        self.complete(&mut tx, &case, &[ClockKind::InvestigationStart, ClockKind::Investigation]).await?;
        self.commit(tx).await?;
        tracing::info!("marked out of scope");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn decide_review(&self, request: Request<pb::DecideReviewRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let conclusion = required("conclusion", &request.conclusion, MAX_TEXT_CHARS).map_err(Error::from)?;
        let resolution = match (request.upheld, request.resolution) {
            (true, _) => None,
            (false, Some(resolution)) => Some(Resolution::try_from(resolution).map_err(Error::from)?),
            (false, None) => return Err(Error::from(FieldError::new("resolution", "is required when the review changes the decision")).into()),
        };
        let step = if request.upheld { Step::ReviewUpheld } else { Step::ReviewChanged };
        let (mut tx, case, staff, to) = self.begin_step(&actor, &request.complaint_number, &step, "decide a review").await?;
        let outcome = if request.upheld { "upheld" } else { "changed" };
        store::add_note(&mut tx, &case.complaint_id, "review", &format!("{outcome}: {conclusion}"), staff.as_str()).await.map_err(Error::from)?;
        let decided = LifecycleEvent::ReviewDecided(ReviewDecided { upheld: request.upheld, conclusion: conclusion.to_owned(), decided_by: staff.clone() });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), decided).await.map_err(Error::from)?;
        match resolution {
            // Upheld: the complaint closes again.
            None => store::move_stage(&mut tx, &case.complaint_id, case.stage, to).await.map_err(Error::from)?,
            // Changed: the new resolution goes through approval.
            Some(resolution) => {
                let proposal_id = ProposalId::generate();
                store::set_proposal(&mut tx, &case, to, &proposal_id, &resolution, &staff).await.map_err(Error::from)?;
                let proposed = LifecycleEvent::ResolutionProposed(ResolutionProposed {
                    proposal_id,
                    resolution,
                    proposed_by: staff.clone(),
                    department: case.department.clone(),
                });
                outbox::enqueue(&mut tx, SERVICE, subject(&case), proposed).await.map_err(Error::from)?;
            }
        }
        self.complete(&mut tx, &case, &[ClockKind::ReviewDecision]).await?;
        self.commit(tx).await?;
        tracing::info!(upheld = request.upheld, "review decided");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_execution(&self, request: Request<pb::RecordExecutionRequest>) -> Result<Response<pb::CaseView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let (step, reference) = if request.nothing_to_execute {
            at_most("reference", &request.reference, MAX_TEXT_CHARS).map_err(Error::from)?;
            (Step::NothingToExecute, request.reference.trim())
        } else {
            (Step::RemedyExecuted, required("reference", &request.reference, MAX_TEXT_CHARS).map_err(Error::from)?)
        };
        let (mut tx, case, staff, to) = self.begin_step(&actor, &request.complaint_number, &step, "record execution").await?;
        if request.nothing_to_execute && case.resolution.as_ref().is_some_and(|resolution| resolution.kind.is_monetary()) {
            return Err(Error::Refused("a monetary remedy must be executed with a reference; nothing_to_execute is for explanations, apologies and commitments").into());
        }
        store::record_execution(&mut tx, &case, to, &staff, reference).await.map_err(Error::from)?;
        if request.nothing_to_execute {
            store::add_note(&mut tx, &case.complaint_id, "nothing_to_execute", "the accepted resolution has nothing to execute", staff.as_str())
                .await
                .map_err(Error::from)?;
        }
        let event = LifecycleEvent::RemedyExecuted(RemedyExecuted {
            executed_by: staff,
            reference: reference.to_owned(),
            amount: if request.nothing_to_execute { None } else { case.resolution.as_ref().and_then(|r| r.amount.clone()) },
            nothing_to_execute: request.nothing_to_execute,
        });
        outbox::enqueue(&mut tx, SERVICE, subject(&case), event).await.map_err(Error::from)?;
        self.complete(&mut tx, &case, &[ClockKind::Execution]).await?;
        self.commit(tx).await?;
        tracing::info!("remedy executed");
        Ok(Response::new(self.view(case.complaint_id.as_str()).await?))
    }
}
