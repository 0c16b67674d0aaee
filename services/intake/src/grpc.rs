//! Intake's gRPC API: the edge where protobuf requests become domain values and the caller's
//! token becomes the actor. Validation failures are `INVALID_ARGUMENT` naming the field; a
//! request key reused for a different complaint is `ALREADY_EXISTS`; answers out of turn are
//! `FAILED_PRECONDITION`; a caller who may not act is `PERMISSION_DENIED`.

use complaints_domain::events::{CustomerResponse, ExternalRoute, Satisfaction};
use complaints_domain::lifecycle::{self, Stage};
use std::sync::Arc;

use complaints_domain::{at_most, masking, required, Channel, ClockKind, ComplaintKey, FieldError, StaffId, Step};
use complaints_plumbing::clocks::ClockBook;
use complaints_plumbing::access::{Access, Denied};
use complaints_plumbing::auth::{actor, Actor, ActorKind};
use complaints_plumbing::lookup::LookupKey;
use complaints_plumbing::sealed::SealFor;
use complaints_plumbing::vault::{Vault, ERASED};
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_proto::v1 as pb;
use complaints_proto::v1::intake_server::Intake;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};

use crate::clocks;
use crate::erasure;
use crate::domain::{choose_jurisdiction, CustomerInput, Evidence, IdType, NewComplaint, Submission};
use crate::store::{self, Outcome, Registered, StoredComplaint};
use crate::{Config, Error};

pub struct IntakeApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub config: Config,
    pub book: Arc<ClockBook>,
    pub lookup: LookupKey,
    /// Seals and opens the personal columns of the store.
    pub vault: Vault,
    /// Seals the customer's contact for notification.
    pub contact_seal: SealFor,
}

impl IntakeApi {
    async fn load(&self, key: &ComplaintKey) -> Result<StoredComplaint, Error> {
        store::find(&self.plumbing.pool, key).await?.ok_or_else(|| Error::NotFound(key.to_string()))
    }

    /// Opens a transaction, loads the complaint and checks that `step` is legal at its stage;
    /// returns the stage the step leads to.
    async fn begin(&self, number: &str, step: &Step, rule: &'static str) -> Result<(Tx, StoredComplaint, Stage), Error> {
        let key = ComplaintKey::parse("", number, "complaint_number")?;
        let mut tx = self.plumbing.pool.begin().await.map_err(complaints_plumbing::store::StoreError::from)?;
        let current = store::find(&mut *tx, &key).await?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        let to = lifecycle::next(current.stage, step)
            .map_err(|_| Error::WrongStage { number: current.complaint_number.clone(), stage: current.stage, rule })?;
        Ok((tx, current, to))
    }

    /// Commits and answers with the complaint as it now is.
    async fn finish(&self, tx: Tx, complaint: &StoredComplaint) -> Result<Response<pb::ComplaintView>, Error> {
        tx.commit().await.map_err(complaints_plumbing::store::StoreError::from)?;
        self.plumbing.relay.notify();
        Ok(Response::new(view(&self.vault, &self.load(&ComplaintKey::Id(complaint.complaint_id.clone())).await?).await?))
    }

    /// Who may speak for the customer of `complaint`: the channel system of the complaint's
    /// channel or of the channel the customer chose, or a member of staff in the directory.
    fn may_answer_for(&self, actor: &Actor, complaint: &StoredComplaint) -> Result<(), Denied> {
        match actor.kind() {
            ActorKind::Channel => {
                let channel = Access::channel(actor)?;
                if channel == complaint.channel || Some(channel) == complaint.preferred_channel {
                    Ok(())
                } else {
                    Err(Denied(format!("{} does not serve the customer of {}", actor.id, complaint.complaint_number)))
                }
            }
            _ => self.access.any_staff(actor),
        }
    }

    /// Who may read a complaint: staff in the directory, or the channel system it came through.
    fn may_read(&self, actor: &Actor, complaint: &StoredComplaint) -> Result<(), Denied> {
        match actor.kind() {
            ActorKind::Channel => self.may_answer_for(actor, complaint),
            _ => self.access.any_staff(actor),
        }
    }

    /// Who may register a complaint: a channel system for its own channel; a member of staff
    /// for a staffed channel, as the receiving staff member.
    fn may_submit(&self, actor: &Actor, complaint: &mut NewComplaint) -> Result<(), Error> {
        match actor.kind() {
            ActorKind::Channel => {
                let channel = Access::channel(actor)?;
                if channel != complaint.channel {
                    return Err(Denied(format!("{} may not register {} complaints", actor.id, complaint.channel.as_str())).into());
                }
                Ok(())
            }
            ActorKind::Staff => {
                let staff = self.access.staff(actor)?;
                if !complaint.channel.is_staffed() {
                    return Err(Denied(format!("{} complaints come from the channel system, not from staff", complaint.channel.as_str())).into());
                }
                match &complaint.receiving_staff {
                    Some(named) if named.as_str() != staff.id => {
                        Err(FieldError::new("receiving_staff", "must be empty or the caller").into())
                    }
                    _ => {
                        complaint.receiving_staff = Some(complaints_domain::StaffId::parse("receiving_staff", &staff.id)?);
                        Ok(())
                    }
                }
            }
            ActorKind::System => Err(Denied(format!("{} is a system account and registers no complaints", actor.id)).into()),
        }
    }
}

/// Reads a submission off the wire into the domain's rules.
fn submission(request: &pb::SubmitComplaintRequest) -> Submission<'_> {
    let mut hasher = Sha256::new();
    hasher.update(prost::Message::encode_to_vec(&pb::SubmitComplaintRequest { received_at: String::new(), ..request.clone() }));
    Submission {
        request_key: &request.request_key,
        channel: Channel::from_proto(request.channel),
        customer: request.customer.as_ref().map(|customer| CustomerInput {
            name: &customer.name,
            id_type: match pb::IdDocumentType::try_from(customer.id_type) {
                Ok(pb::IdDocumentType::IdCard) => Some(IdType::IdCard),
                Ok(pb::IdDocumentType::Passport) => Some(IdType::Passport),
                Ok(pb::IdDocumentType::BusinessLicence) => Some(IdType::BusinessLicence),
                _ => None,
            },
            id_number: &customer.id_number,
            phone: &customer.phone,
            email: &customer.email,
            address: &customer.address,
            account_number: &customer.account_number,
            preferred_channel: match customer.preferred_channel {
                0 => Ok(None),
                value => Channel::from_proto(value).map(Some).ok_or(()),
            },
        }),
        summary: &request.summary,
        description: &request.description,
        demand: &request.demand,
        amount_involved: request.amount_involved.as_ref().map(|m| (m.minor_units, m.currency.as_str())),
        product_hint: &request.product_hint,
        evidence: request
            .evidence
            .iter()
            .map(|item| Evidence { kind: item.kind.clone(), description: item.description.clone(), reference: item.reference.clone() })
            .collect(),
        receiving_staff: &request.receiving_staff,
        received_at: &request.received_at,
        staff_involved: &request.staff_involved,
        branch_involved: &request.branch_involved,
        tags: &request.tags,
        request_hash: hex::encode(hasher.finalize()),
    }
}

/// `value` masked for display; an erased value shows as erased.
fn masked(value: &str, mask: fn(&str) -> String) -> String {
    if value == ERASED {
        ERASED.to_owned()
    } else {
        mask(value)
    }
}

async fn view(vault: &Vault, complaint: &StoredComplaint) -> Result<pb::ComplaintView, Error> {
    let [name, id_number, phone, account_number] = complaint.personal.open(vault, &complaint.complaint_id).await?;
    Ok(pb::ComplaintView {
        complaint_id: complaint.complaint_id.to_string(),
        complaint_number: complaint.complaint_number.to_string(),
        status: complaint.stage.as_str().to_owned(),
        channel: complaint.channel.to_proto() as i32,
        customer_name_masked: masked(&name, masking::name),
        phone_masked: masked(&phone, masking::phone),
        id_number_masked: masked(&id_number, masking::id_number),
        account_number_masked: masked(&account_number, masking::account_number),
        summary: complaint.summary.clone(),
        amount_involved: complaint.amount_involved.as_ref().map(pb::Money::from),
        received_at: complaints_plumbing::format_ms(complaint.received_at_ms),
        jurisdiction: complaint.jurisdiction.clone(),
        legal_hold: complaint.legal_hold.clone(),
        erased: complaint.erased,
    })
}

/// The role that places legal holds and erases customers: head office risk & legal.
const LEGAL_ROLE: &str = "head_office_risk_legal";


#[tonic::async_trait]
impl Intake for IntakeApi {
    #[tracing::instrument(skip_all, fields(channel = request.get_ref().channel, complaint_id))]
    async fn submit_complaint(&self, request: Request<pb::SubmitComplaintRequest>) -> Result<Response<pb::SubmitComplaintResponse>, Status> {
        let actor = actor(&request)?.clone();
        let mut submission = submission(request.get_ref());
        if actor.kind() == ActorKind::Staff && submission.receiving_staff.trim().is_empty() {
            // A member of staff registering a complaint is the one who received it.
            submission.receiving_staff = &actor.id;
        }
        let mut complaint = NewComplaint::parse(
            submission,
            complaints_plumbing::now_ms(),
            self.config.max_clock_skew_seconds * 1000,
        )
        .map_err(Error::from)?;
        self.may_submit(&actor, &mut complaint)?;
        let rules = choose_jurisdiction(&self.config.jurisdiction, complaint.channel, &complaint.branch_involved, &complaint.product_hint);
        let customer_key = self.lookup.customer(&complaint.customer.id_number);
        let protection = store::Protection { customer_key: &customer_key, vault: &self.vault, contact_seal: &self.contact_seal };
        let registered = store::register(&self.plumbing.pool, &self.config, &self.book, &complaint, &rules, &protection).await?;
        let (stored, duplicate) = match registered {
            Registered::New(stored) => {
                self.plumbing.relay.notify();
                (stored, false)
            }
            Registered::Existing(stored) => {
                if stored.request_hash != complaint.request_hash {
                    return Err(Error::RequestKeyReused(stored.complaint_number).into());
                }
                (stored, true)
            }
        };
        tracing::Span::current().record("complaint_id", stored.complaint_id.as_str());
        tracing::info!(complaint_number = %stored.complaint_number, duplicate, actor = %actor.id, "complaint registered");
        Ok(Response::new(pb::SubmitComplaintResponse {
            complaint_id: stored.complaint_id.to_string(),
            complaint_number: stored.complaint_number.to_string(),
            duplicate,
        }))
    }

    async fn get_complaint(&self, request: Request<pb::GetComplaintRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let key = ComplaintKey::parse(&request.complaint_id, &request.complaint_number, "complaint_number").map_err(Error::from)?;
        let complaint = self.load(&key).await?;
        self.may_read(&actor, &complaint).map_err(Error::from)?;
        Ok(Response::new(view(&self.vault, &complaint).await?))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn respond_to_resolution(&self, request: Request<pb::RespondToResolutionRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        if !request.accept && request.comment.trim().is_empty() {
            return Err(Error::from(FieldError::new("comment", "an objection must say what the customer objects to")).into());
        }
        at_most("comment", &request.comment, 2000).map_err(Error::from)?;
        let (response, step) = if request.accept {
            (CustomerResponse::Accepted, Step::CustomerAccepted { by_silence: false })
        } else {
            (CustomerResponse::Objected, Step::CustomerObjected)
        };
        let (mut tx, current, to) =
            self.begin(&request.complaint_number, &step, "a response is taken only after the result was sent").await?;
        self.may_answer_for(&actor, &current).map_err(Error::from)?;
        store::record_response(&mut tx, &current, to, response, request.comment.trim(), &actor.id, false).await.map_err(Error::from)?;
        let changed = clocks::on_response(&mut tx, &self.book, &current, complaints_plumbing::now_ms()).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_follow_up(&self, request: Request<pb::RecordFollowUpRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let satisfaction = Satisfaction::from_proto(request.satisfaction)
            .ok_or_else(|| Error::from(FieldError::new("satisfaction", "must be satisfied, basically_satisfied or dissatisfied")))?;
        let (mut tx, current, to) = self
            .begin(&request.complaint_number, &Step::FollowUpRecorded, "the follow-up comes after the remedy is executed")
            .await?;
        self.may_answer_for(&actor, &current).map_err(Error::from)?;
        store::record_follow_up(&mut tx, &current, to, satisfaction, request.accepts_outcome, &actor.id).await.map_err(Error::from)?;
        let changed = clocks::on_closed(&mut tx, &self.book, &current, complaints_plumbing::now_ms()).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_contact(&self, request: Request<pb::RecordContactRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let kind = match pb::ContactKind::try_from(request.kind) {
            Ok(pb::ContactKind::FirstContact) => ClockKind::FirstContact,
            Ok(pb::ContactKind::Handover) => ClockKind::Handover,
            _ => return Err(Error::from(FieldError::new("kind", "must be first_contact or handover")).into()),
        };
        let note = required("note", &request.note, 2000).map_err(Error::from)?;
        self.access.any_staff(&actor).map_err(Error::from)?;
        let key = ComplaintKey::parse("", &request.complaint_number, "complaint_number").map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(|error| Error::from(StoreError::from(error)))?;
        let current = store::find(&mut *tx, &key).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        if current.stage.is_terminal() {
            return Err(Error::WrongStage { number: current.complaint_number, stage: current.stage, rule: "contacts are recorded on open complaints" }.into());
        }
        store::record_contact(&mut tx, &current, kind, note, &actor.id).await.map_err(Error::from)?;
        let changed = clocks::on_contact(&mut tx, &self.book, &current, kind, complaints_plumbing::now_ms()).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn withdraw_complaint(&self, request: Request<pb::WithdrawComplaintRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, 2000).map_err(Error::from)?;
        let (mut tx, current, to) =
            self.begin(&request.complaint_number, &Step::Withdrawn, "only an open complaint can be withdrawn").await?;
        self.may_answer_for(&actor, &current).map_err(Error::from)?;
        let on_behalf = actor.kind() != ActorKind::Channel;
        store::record_outcome(&mut tx, &current, to, Outcome::Withdrawn { reason, on_behalf }, &actor.id).await.map_err(Error::from)?;
        let changed = clocks::on_withdrawn(&mut tx, &self.book, &current, complaints_plumbing::now_ms()).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        tracing::info!(on_behalf, actor = %actor.id, "complaint withdrawn");
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn request_review(&self, request: Request<pb::RequestReviewRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, 2000).map_err(Error::from)?;
        let (mut tx, current, to) = self
            .begin(&request.complaint_number, &Step::ReviewRequested, "a review is requested of a decision the customer has received")
            .await?;
        self.may_answer_for(&actor, &current).map_err(Error::from)?;
        let now = complaints_plumbing::now_ms();
        // Only inside the review window of the complaint's rule pack.
        if !clocks::review_window_open(&mut tx, &current.complaint_id, now).await.map_err(Error::from)? {
            return Err(Error::WrongStage {
                number: current.complaint_number.clone(),
                stage: current.stage,
                rule: "a review is requested within the review window of the decision (CN: 30 days)",
            }
            .into());
        }
        let on_behalf = actor.kind() != ActorKind::Channel;
        store::record_outcome(&mut tx, &current, to, Outcome::ReviewRequested { reason, on_behalf }, &actor.id).await.map_err(Error::from)?;
        let met = complaints_plumbing::clocks::end(&mut tx, &self.book, &current.complaint_id, ClockKind::ReviewWindow, now, complaints_plumbing::clocks::Ending::Completed)
            .await
            .map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, met.into_iter().collect()).await.map_err(Error::from)?;
        tracing::info!(on_behalf, "review requested");
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn archive_complaint(&self, request: Request<pb::ArchiveComplaintRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let archivist = self.access.supervisor(&actor).map_err(Error::from)?;
        let archived_by = StaffId::parse("actor", &archivist.id).map_err(Error::from)?;
        let request = request.into_inner();
        at_most("note", &request.note, 2000).map_err(Error::from)?;
        let (mut tx, current, to) =
            self.begin(&request.complaint_number, &Step::Archived, "only a closed, withdrawn or merged complaint is archived").await?;
        let now = complaints_plumbing::now_ms();
        // The customer's right to a review outlives the closing: no archive while it may come.
        if clocks::review_window_open(&mut tx, &current.complaint_id, now).await.map_err(Error::from)? {
            return Err(Error::WrongStage {
                number: current.complaint_number.clone(),
                stage: current.stage,
                rule: "a complaint is archived once its review window has passed (CN: 30 days after the decision)",
            }
            .into());
        }
        let outcome = Outcome::Archived { note: request.note.trim(), archived_by: &archived_by };
        store::record_outcome(&mut tx, &current, to, outcome, archived_by.as_str()).await.map_err(Error::from)?;
        let changed = complaints_plumbing::clocks::cancel_all(&mut tx, &self.book, &current.complaint_id, now, &[]).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        tracing::info!(archived_by = %archived_by, "complaint archived");
        Ok(self.finish(tx, &current).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn set_legal_hold(&self, request: Request<pb::SetLegalHoldRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let officer = self.access.with_role(&actor, LEGAL_ROLE).map_err(Error::from)?.id.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, 2000).map_err(Error::from)?;
        let key = ComplaintKey::parse("", &request.complaint_number, "complaint_number").map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from).map_err(Error::from)?;
        let current = store::find(&mut *tx, &key).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        let held = if request.hold { format!("{reason} (placed by {officer})") } else { String::new() };
        store::set_legal_hold(&mut tx, &current.complaint_id, &held).await.map_err(Error::from)?;
        tracing::info!(hold = request.hold, officer = %officer, "legal hold changed");
        Ok(self.finish(tx, &current).await?)
    }

    async fn erase_customer(&self, request: Request<pb::EraseCustomerRequest>) -> Result<Response<pb::EraseCustomerResponse>, Status> {
        let actor = actor(&request)?.clone();
        let officer = StaffId::parse("actor", &self.access.with_role(&actor, LEGAL_ROLE).map_err(Error::from)?.id).map_err(Error::from)?;
        let request = request.into_inner();
        required("id_number", &request.id_number, 64).map_err(Error::from)?;
        let reason = required("reason", &request.reason, 2000).map_err(Error::from)?;
        let customer_key = self.lookup.customer(&request.id_number);
        let now = self.plumbing.time.now_ms();
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from).map_err(Error::from)?;
        let complaints = store::of_customer(&mut tx, &customer_key).await.map_err(Error::from)?;
        if complaints.is_empty() {
            return Err(Error::NotFound("no complaint of a customer with that id_number (or already erased)".into()).into());
        }
        let erasure = erasure::Erasure { by: &officer, reason, now_ms: now };
        erasure::erase(&mut tx, &self.vault, &self.config, &complaints, &customer_key, &erasure).await?;
        tx.commit().await.map_err(StoreError::from).map_err(Error::from)?;
        self.plumbing.relay.notify();
        tracing::info!(complaints = complaints.len(), officer = %officer, "customer erased");
        Ok(Response::new(pb::EraseCustomerResponse { complaint_numbers: complaints.iter().map(|c| c.complaint_number.to_string()).collect() }))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_external_route(&self, request: Request<pb::RecordExternalRouteRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let route = ExternalRoute::parse(request.route.trim()).ok_or_else(|| {
            Error::from(FieldError::new("route", "must be mediation, arbitration, litigation, industry_association, regulator or declined"))
        })?;
        at_most("note", &request.note, 2000).map_err(Error::from)?;
        let (mut tx, current, to) = self
            .begin(&request.complaint_number, &Step::Closed, "the external route is recorded for a complaint out of scope")
            .await?;
        self.may_answer_for(&actor, &current).map_err(Error::from)?;
        let outcome = Outcome::ExternalRoute { route, note: request.note.trim() };
        store::record_outcome(&mut tx, &current, to, outcome, &actor.id).await.map_err(Error::from)?;
        let changed = clocks::on_closed(&mut tx, &self.book, &current, complaints_plumbing::now_ms()).await.map_err(Error::from)?;
        store::announce_clocks(&mut tx, &current, changed).await.map_err(Error::from)?;
        tracing::info!(route = route.as_str(), "out-of-scope complaint closed");
        Ok(self.finish(tx, &current).await?)
    }
}
