//! Intake's gRPC API. Validation failures are `INVALID_ARGUMENT` naming the field; a request key
//! reused for a different complaint is `ALREADY_EXISTS`; answers out of turn are
//! `FAILED_PRECONDITION`.

use complaints_proto::v1 as pb;
use complaints_proto::v1::intake_server::Intake;
use complaints_shared::domain::masking;
use complaints_shared::grpc::{at_most, internal, required, store_error, FieldError};
use complaints_shared::service::Plumbing;
use complaints_shared::store::Tx;
use tonic::{Request, Response, Status};

use crate::domain::{NewComplaint, Status as ComplaintStatus};
use crate::store::{self, Registered, StoredComplaint};
use crate::Config;

pub struct IntakeApi {
    plumbing: Plumbing,
    config: Config,
}

impl IntakeApi {
    pub fn new(plumbing: Plumbing, config: Config) -> Self {
        Self { plumbing, config }
    }

    /// A complaint by id or number.
    async fn load(&self, key: &str) -> Result<StoredComplaint, Status> {
        store::find(&self.plumbing.pool, key)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("complaint {key} not found")))
    }

    /// Opens a transaction and loads the complaint, which must be in `expected` status for
    /// `action` (the refusal says when the action is taken).
    async fn begin(&self, number: &str, expected: ComplaintStatus, action: &str) -> Result<(Tx, StoredComplaint), Status> {
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let current = store::find(&mut *tx, number)
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("complaint {number} not found")))?;
        if current.status != expected {
            return Err(Status::failed_precondition(format!(
                "complaint {} is {}; {action}",
                current.complaint_number,
                current.status.as_str()
            )));
        }
        Ok((tx, current))
    }

    /// Commits a guarded write (`recorded`: it found the complaint still in the expected status)
    /// and answers with the complaint as it now is.
    async fn finish(&self, tx: Tx, recorded: bool, complaint_id: &str) -> Result<Response<pb::ComplaintView>, Status> {
        if !recorded {
            return Err(Status::aborted("the complaint changed concurrently; read it again"));
        }
        tx.commit().await.map_err(internal)?;
        self.plumbing.relay.notify();
        Ok(Response::new(view(&self.load(complaint_id).await?)))
    }
}

fn view(complaint: &StoredComplaint) -> pb::ComplaintView {
    pb::ComplaintView {
        complaint_id: complaint.complaint_id.clone(),
        complaint_number: complaint.complaint_number.clone(),
        status: complaint.status.as_str().to_owned(),
        channel: complaints_shared::domain::Channel::parse(&complaint.channel)
            .map(|c| c.to_proto() as i32)
            .unwrap_or_default(),
        customer_name_masked: masking::name(&complaint.customer_name),
        phone_masked: masking::phone(&complaint.phone),
        id_number_masked: masking::id_number(&complaint.id_number),
        account_number_masked: masking::account_number(&complaint.account_number),
        summary: complaint.summary.clone(),
        amount_involved: complaint
            .amount_minor
            .zip(complaint.currency.clone())
            .map(|(minor_units, currency)| pb::Money { minor_units, currency }),
        received_at: complaints_shared::format_ms(complaint.received_at_ms),
    }
}

#[tonic::async_trait]
impl Intake for IntakeApi {
    #[tracing::instrument(skip_all, fields(channel = request.get_ref().channel, complaint_id))]
    async fn submit_complaint(
        &self,
        request: Request<pb::SubmitComplaintRequest>,
    ) -> Result<Response<pb::SubmitComplaintResponse>, Status> {
        let complaint = NewComplaint::parse(
            request.get_ref(),
            complaints_shared::now_ms(),
            self.config.max_clock_skew_seconds * 1000,
        )?;
        let registered = store::register(&self.plumbing.pool, &self.config.number_prefix, &complaint)
            .await
            .map_err(internal)?;
        let (stored, duplicate) = match registered {
            Registered::New(stored) => {
                self.plumbing.relay.notify();
                (stored, false)
            }
            Registered::Existing(stored) => {
                if stored.request_hash != complaint.request_hash {
                    return Err(Status::already_exists(format!(
                        "request_key: already used by complaint {} with different content",
                        stored.complaint_number
                    )));
                }
                (stored, true)
            }
        };
        tracing::Span::current().record("complaint_id", stored.complaint_id.as_str());
        tracing::info!(complaint_number = %stored.complaint_number, duplicate, "complaint registered");
        Ok(Response::new(pb::SubmitComplaintResponse {
            complaint_id: stored.complaint_id,
            complaint_number: stored.complaint_number,
            duplicate,
        }))
    }

    async fn get_complaint(&self, request: Request<pb::GetComplaintRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let request = request.into_inner();
        let key = if request.complaint_id.trim().is_empty() { &request.complaint_number } else { &request.complaint_id };
        let complaint = self.load(required("complaint_number", key, usize::MAX)?).await?;
        Ok(Response::new(view(&complaint)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn respond_to_resolution(
        &self,
        request: Request<pb::RespondToResolutionRequest>,
    ) -> Result<Response<pb::ComplaintView>, Status> {
        let request = request.into_inner();
        let number = required("complaint_number", &request.complaint_number, usize::MAX)?;
        required("recorded_by", &request.recorded_by, usize::MAX)?;
        if !request.accept && request.comment.trim().is_empty() {
            return Err(FieldError::new("comment", "an objection must say what the customer objects to").into());
        }
        at_most("comment", &request.comment, 2000)?;
        at_most("recorded_by", &request.recorded_by, 64)?;
        let (mut tx, current) = self
            .begin(number, ComplaintStatus::AwaitingResponse, "a response is taken only after the result was sent")
            .await?;
        let recorded = store::record_response(&mut tx, &current, request.accept, request.comment.trim(), request.recorded_by.trim())
            .await
            .map_err(store_error)?;
        self.finish(tx, recorded, &current.complaint_id).await
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_follow_up(&self, request: Request<pb::RecordFollowUpRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let request = request.into_inner();
        let number = required("complaint_number", &request.complaint_number, usize::MAX)?;
        required("recorded_by", &request.recorded_by, usize::MAX)?;
        let satisfaction = match pb::Satisfaction::try_from(request.satisfaction) {
            Ok(pb::Satisfaction::Unspecified) | Err(_) => {
                return Err(FieldError::new("satisfaction", "must be satisfied, basically_satisfied or dissatisfied").into())
            }
            Ok(value) => value,
        };
        let (mut tx, current) = self
            .begin(number, ComplaintStatus::Executed, "the follow-up comes after the remedy is executed")
            .await?;
        let recorded = store::record_follow_up(&mut tx, &current, satisfaction, request.accepts_outcome, request.recorded_by.trim())
            .await
            .map_err(store_error)?;
        self.finish(tx, recorded, &current.complaint_id).await
    }
}
