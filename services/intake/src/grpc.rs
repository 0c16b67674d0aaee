//! Intake's gRPC API. Validation failures are `INVALID_ARGUMENT` naming the field; a request key
//! reused for a different complaint is `ALREADY_EXISTS`; answers out of turn are
//! `FAILED_PRECONDITION`.

use complaints_proto::v1 as pb;
use complaints_proto::v1::intake_server::Intake;
use complaints_shared::domain::masking;
use complaints_shared::grpc::{at_most, internal, required, store_error, FieldError};
use complaints_shared::service::Plumbing;
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

    async fn load(&self, complaint_id: &str, complaint_number: &str) -> Result<StoredComplaint, Status> {
        if complaint_id.trim().is_empty() && complaint_number.trim().is_empty() {
            return Err(FieldError::new("complaint_number", "is required").into());
        }
        store::find(&self.plumbing.pool, complaint_id.trim(), complaint_number.trim())
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("complaint {}{} not found", complaint_id.trim(), complaint_number.trim())))
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
        let complaint = self.load(&request.complaint_id, &request.complaint_number).await?;
        Ok(Response::new(view(&complaint)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn respond_to_resolution(
        &self,
        request: Request<pb::RespondToResolutionRequest>,
    ) -> Result<Response<pb::ComplaintView>, Status> {
        let request = request.into_inner();
        required("complaint_number", &request.complaint_number, usize::MAX)?;
        required("recorded_by", &request.recorded_by, usize::MAX)?;
        if !request.accept && request.comment.trim().is_empty() {
            return Err(FieldError::new("comment", "an objection must say what the customer objects to").into());
        }
        at_most("comment", &request.comment, 2000)?;
        at_most("recorded_by", &request.recorded_by, 64)?;
        let complaint = self.load("", &request.complaint_number).await?;
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let current = store::find_in(&mut tx, &complaint.complaint_id).await.map_err(internal)?.ok_or_else(|| Status::not_found("complaint not found"))?;
        if current.status != ComplaintStatus::AwaitingResponse {
            return Err(Status::failed_precondition(format!(
                "complaint {} is {}; a response is taken only after the result was sent",
                current.complaint_number,
                current.status.as_str()
            )));
        }
        let recorded = store::record_response(&mut tx, &current, request.accept, request.comment.trim(), request.recorded_by.trim())
            .await
            .map_err(store_error)?;
        if !recorded {
            return Err(Status::aborted("the complaint changed concurrently; read it again"));
        }
        tx.commit().await.map_err(internal)?;
        self.plumbing.relay.notify();
        let updated = self.load(&current.complaint_id, "").await?;
        Ok(Response::new(view(&updated)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn record_follow_up(&self, request: Request<pb::RecordFollowUpRequest>) -> Result<Response<pb::ComplaintView>, Status> {
        let request = request.into_inner();
        required("complaint_number", &request.complaint_number, usize::MAX)?;
        required("recorded_by", &request.recorded_by, usize::MAX)?;
        let satisfaction = match pb::Satisfaction::try_from(request.satisfaction) {
            Ok(pb::Satisfaction::Unspecified) | Err(_) => {
                return Err(FieldError::new("satisfaction", "must be satisfied, basically_satisfied or dissatisfied").into())
            }
            Ok(value) => value,
        };
        let complaint = self.load("", &request.complaint_number).await?;
        let mut tx = self.plumbing.pool.begin().await.map_err(internal)?;
        let current = store::find_in(&mut tx, &complaint.complaint_id).await.map_err(internal)?.ok_or_else(|| Status::not_found("complaint not found"))?;
        if current.status != ComplaintStatus::Executed {
            return Err(Status::failed_precondition(format!(
                "complaint {} is {}; the follow-up comes after the remedy is executed",
                current.complaint_number,
                current.status.as_str()
            )));
        }
        let recorded = store::record_follow_up(&mut tx, &current, satisfaction, request.accepts_outcome, request.recorded_by.trim())
            .await
            .map_err(store_error)?;
        if !recorded {
            return Err(Status::aborted("the complaint changed concurrently; read it again"));
        }
        tx.commit().await.map_err(internal)?;
        self.plumbing.relay.notify();
        let updated = self.load(&current.complaint_id, "").await?;
        Ok(Response::new(view(&updated)))
    }
}
