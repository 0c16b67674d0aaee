//! Routing's gRPC API: assignments for staff; reassignment and hand-over; re-triage with the
//! corrections it records; the corrections for training.

use std::sync::Arc;

use complaints_classifier::{IssueCategory, ProductLine};
use complaints_domain::events::{ComplaintTriaged, LifecycleEvent, ReassignCause};
use complaints_domain::org::Involvement;
use complaints_domain::{required, FieldError, Grade, StaffId};
use complaints_plumbing::access::{Access, Denied, SUPERVISING_ROLES};
use complaints_plumbing::auth::{actor, Actor};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_proto::v1 as pb;
use complaints_proto::v1::routing_server::Routing;
use tonic::{Request, Response, Status};

use crate::domain::choose_handler;
use crate::store::{self, Assignment, Correction, Move};
use crate::{Config, Error, SERVICE};

pub struct RoutingApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub config: Arc<Config>,
}

/// Longest reason accepted (it travels on the event).
const MAX_REASON_CHARS: usize = 2000;

fn view(found: Assignment) -> pb::Assignment {
    pb::Assignment {
        complaint_id: found.complaint_id.to_string(),
        complaint_number: found.complaint_number.to_string(),
        grade: found.grade.to_proto() as i32,
        category: found.category,
        product: found.product,
        department: found.department,
        handler_id: found.handler.to_string(),
        reasons: found.reasons,
        recused_staff: found.recused.into_iter().map(|s| s.into_string()).collect(),
        open: found.open,
        co_reviewer_ids: found.co_reviewers.into_iter().map(|s| s.into_string()).collect(),
    }
}

impl RoutingApi {
    /// Opens a transaction and loads the open case `number`.
    async fn begin(&self, number: &str) -> Result<(Tx, Assignment), Error> {
        let number = required("complaint_number", number, 64)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(StoreError::from)?;
        let current = store::find(&mut *tx, number).await?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        if !current.open {
            return Err(Error::Closed(current.complaint_number.to_string()));
        }
        Ok((tx, current))
    }

    /// A supervisor or head of one of `departments`, or — when `handler` is given — that handler.
    fn may_move(&self, actor: &Actor, departments: &[&str], handler: Option<&StaffId>) -> Result<StaffId, Error> {
        let staff = self.access.staff(actor)?;
        let supervises = departments.contains(&staff.department.as_str()) && SUPERVISING_ROLES.iter().any(|role| staff.has_role(role));
        let is_handler = handler.is_some_and(|handler| handler.as_str() == staff.id);
        if supervises || is_handler {
            return Ok(StaffId::parse("actor", &staff.id)?);
        }
        Err(Denied(format!("{} neither supervises {} nor holds the case", staff.id, departments.join(" or "))).into())
    }

    /// The handler a case goes to: `named` (checked: in the department, able to handle, no
    /// conflict), or the least-loaded handler of the department without a conflict.
    async fn target(&self, tx: &mut Tx, current: &Assignment, department: &str, named: &str) -> Result<(StaffId, String), Error> {
        let org = self.access.org();
        let involvement = Involvement { staff: &current.staff_involved, branch: &current.branch_involved };
        if !named.trim().is_empty() {
            let staff = org.staff(named.trim()).ok_or_else(|| FieldError::new("handler_id", "is not in the organisation directory"))?;
            if staff.department != department {
                return Err(FieldError::new("handler_id", format!("works in {}, not in {department}", staff.department)).into());
            }
            if !["handler", "supervisor", "department_head"].iter().any(|role| staff.has_role(role)) {
                return Err(FieldError::new("handler_id", "holds no handling role").into());
            }
            if staff.id == current.handler.as_str() {
                return Err(FieldError::new("handler_id", "already holds the case").into());
            }
            if let Some(conflict) = org.conflict(staff, &involvement) {
                return Err(FieldError::new("handler_id", format!("is recused: {conflict}")).into());
            }
            return Ok((StaffId::parse("handler_id", &staff.id)?, staff.department.clone()));
        }
        let caseloads = store::caseloads(tx).await?;
        let others = |id: &str| if id == current.handler.as_str() { i64::MAX } else { caseloads.get(id).copied().unwrap_or(0) };
        let choice = choose_handler(org, department, &involvement, others)
            .filter(|choice| choice.handler != current.handler)
            .ok_or_else(|| FieldError::new("department", format!("{department} has no other handler without a conflict of interest")))?;
        Ok((choice.handler, choice.department))
    }

    async fn commit(&self, tx: Tx, key: &str) -> Result<Response<pb::Assignment>, Error> {
        tx.commit().await.map_err(StoreError::from)?;
        self.plumbing.relay.notify();
        let found = store::find(&self.plumbing.pool, key).await?.ok_or_else(|| Error::NotFound(key.to_owned()))?;
        Ok(Response::new(view(found)))
    }
}

#[tonic::async_trait]
impl Routing for RoutingApi {
    async fn get_assignment(&self, request: Request<pb::GetAssignmentRequest>) -> Result<Response<pb::Assignment>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        // The id or the number, in the one field this request has.
        let key = required("complaint_id", &request.complaint_id, 64).map_err(Error::from)?;
        let found = store::find(&self.plumbing.pool, key).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_owned()))?;
        Ok(Response::new(view(found)))
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn reassign(&self, request: Request<pb::ReassignRequest>) -> Result<Response<pb::Assignment>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, MAX_REASON_CHARS).map_err(Error::from)?;
        let (mut tx, current) = self.begin(&request.complaint_number).await?;
        let department = match request.department.trim() {
            "" => current.department.clone(),
            named if self.access.org().departments.iter().any(|d| d.id == named) => named.to_owned(),
            _ => return Err(Error::from(FieldError::new("department", "is not in the organisation directory")).into()),
        };
        let by = self.may_move(&actor, &[current.department.as_str(), department.as_str()], Some(&current.handler))?;
        let (handler, department) = self.target(&mut tx, &current, &department, &request.handler_id).await?;
        let to = Move {
            cause: ReassignCause::Reassignment,
            handler: &handler,
            department: &department,
            grade: current.grade,
            category: &current.category,
            product: &current.product,
            co_reviewers: &current.co_reviewers,
            reason,
            by: by.as_str(),
        };
        crate::moves::apply(&mut tx, &current, &to).await.map_err(Error::from)?;
        Ok(self.commit(tx, current.complaint_id.as_str()).await?)
    }

    #[tracing::instrument(skip_all, fields(complaint_number = %request.get_ref().complaint_number))]
    async fn retriage(&self, request: Request<pb::RetriageRequest>) -> Result<Response<pb::Assignment>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let reason = required("reason", &request.reason, MAX_REASON_CHARS).map_err(Error::from)?;
        let category = match request.category.trim() {
            "" => None,
            name => Some(IssueCategory::from_name(name).ok_or_else(|| {
                Error::from(FieldError::new("category", "must be product, service, fees, system, security or other"))
            })?),
        };
        let product = match request.product.trim() {
            "" => None,
            name => Some(ProductLine::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = ProductLine::ALL.iter().map(|p| p.as_str()).collect();
                Error::from(FieldError::new("product", format!("must be one of {}", names.join(", "))))
            })?),
        };
        let grade = match request.grade {
            0 => None,
            value => Some(Grade::from_proto(value).ok_or_else(|| Error::from(FieldError::new("grade", "must be green, yellow or red")))?),
        };
        if category.is_none() && product.is_none() && grade.is_none() {
            return Err(Error::from(FieldError::new("category", "name at least one correction: category, grade or product")).into());
        }
        let (mut tx, current) = self.begin(&request.complaint_number).await?;
        let desk = self.config.triage_department.as_str();
        // The triage desk re-triages; so does a supervisor of the department holding the case.
        let staff = self.access.staff(&actor).map_err(Error::from)?;
        let by = if staff.department == desk {
            StaffId::parse("actor", &staff.id).map_err(Error::from)?
        } else {
            self.may_move(&actor, &[current.department.as_str()], None)?
        };
        let category = category.map_or(current.category.clone(), |c| c.as_str().to_owned());
        let product = product.map_or(current.product.clone(), |p| p.as_str().to_owned());
        let grade = grade.unwrap_or(current.grade);
        let correction = Correction {
            complaint_number: current.complaint_number.to_string(),
            text: current.text.clone(),
            category_before: current.category.clone(),
            category: category.clone(),
            grade_before: current.grade.as_str().to_owned(),
            grade: grade.as_str().to_owned(),
            product_before: current.product.clone(),
            product: product.clone(),
            corrected_by: by.to_string(),
            reason: reason.to_owned(),
            corrected_at_ms: complaints_plumbing::now_ms(),
            id: String::new(),
        };
        store::record_correction(&mut tx, &current, &correction).await.map_err(Error::from)?;
        let triaged = LifecycleEvent::Triaged(ComplaintTriaged {
            grade,
            category: category.clone(),
            product: product.clone(),
            reasons: vec![format!("re-triaged by {by}: {reason}")],
        });
        outbox::enqueue(&mut tx, SERVICE, Subject::new(&current.complaint_id, &current.complaint_number), triaged)
            .await
            .map_err(Error::from)?;
        let department = self
            .config
            .departments
            .get(&category)
            .or_else(|| self.config.departments.get("default"))
            .cloned()
            .unwrap_or_else(|| current.department.clone());
        let (handler, department) = if department == current.department {
            (current.handler.clone(), department)
        } else {
            self.target(&mut tx, &current, &department, "").await?
        };
        let to = Move {
            cause: ReassignCause::Retriage,
            handler: &handler,
            department: &department,
            grade,
            category: &category,
            product: &product,
            co_reviewers: &current.co_reviewers,
            reason,
            by: by.as_str(),
        };
        crate::moves::apply(&mut tx, &current, &to).await.map_err(Error::from)?;
        Ok(self.commit(tx, current.complaint_id.as_str()).await?)
    }

    async fn list_corrections(&self, request: Request<pb::ListCorrectionsRequest>) -> Result<Response<pb::CorrectionList>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let size = match request.page_size {
            0 => 1000,
            size if size <= 10_000 => i64::from(size),
            _ => return Err(Error::from(FieldError::new("page_size", "must be at most 10000")).into()),
        };
        let found = store::corrections(&self.plumbing.pool, request.page_token.trim(), size + 1).await.map_err(Error::from)?;
        let more = found.len() as i64 > size;
        let page: Vec<Correction> = found.into_iter().take(size as usize).collect();
        let next_page_token = if more { page.last().map(|c| c.id.clone()).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::CorrectionList {
            corrections: page
                .into_iter()
                .map(|c| pb::Correction {
                    complaint_number: c.complaint_number,
                    text: c.text,
                    category_before: c.category_before,
                    category: c.category,
                    grade_before: c.grade_before,
                    grade: c.grade,
                    product_before: c.product_before,
                    product: c.product,
                    corrected_by: c.corrected_by,
                    reason: c.reason,
                    corrected_at: complaints_plumbing::format_ms(c.corrected_at_ms),
                })
                .collect(),
            next_page_token,
        }))
    }
}
