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

    async fn list_incidents(&self, request: Request<pb::ListIncidentsRequest>) -> Result<Response<pb::IncidentList>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let found = crate::incidents::list(&self.plumbing.pool, request.get_ref().include_closed).await.map_err(Error::from)?;
        let mut incidents = Vec::new();
        for incident in found {
            incidents.push(incident_api::view(self, incident).await?);
        }
        Ok(Response::new(pb::IncidentList { incidents }))
    }

    async fn get_incident(&self, request: Request<pb::GetIncidentRequest>) -> Result<Response<pb::Incident>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let incident = incident_api::load(self, &request.get_ref().incident).await?;
        Ok(Response::new(incident_api::view(self, incident).await?))
    }

    #[tracing::instrument(skip_all, fields(incident = %request.get_ref().incident))]
    async fn issue_statement(&self, request: Request<pb::IssueStatementRequest>) -> Result<Response<pb::Incident>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let incident = incident_api::load(self, &request.incident).await?;
        let by = incident_api::task_force(self, &actor, &incident)?;
        incident_api::open(&incident)?;
        let text = required("text", &request.text, 8000).map_err(Error::from)?;
        if !incident.statement.is_empty() {
            return Err(Error::from(FieldError::new("incident", "has its unified statement already")).into());
        }
        let mut tx = self.plumbing.pool.begin().await.map_err(|e| Error::from(StoreError::from(e)))?;
        let sent = crate::incidents::issue_statement(&mut tx, &incident, text, &by).await.map_err(Error::from)?;
        tx.commit().await.map_err(|e| Error::from(StoreError::from(e)))?;
        self.plumbing.relay.notify();
        tracing::info!(members = sent, "unified statement issued");
        Ok(Response::new(incident_api::view(self, incident_api::load(self, &incident.incident_id).await?).await?))
    }

    async fn link_to_incident(&self, request: Request<pb::LinkToIncidentRequest>) -> Result<Response<pb::Incident>, Status> {
        let actor = actor(&request)?.clone();
        Ok(Response::new(incident_api::link(self, &actor, request.into_inner()).await?))
    }

    async fn unlink_from_incident(&self, request: Request<pb::UnlinkFromIncidentRequest>) -> Result<Response<pb::Incident>, Status> {
        let actor = actor(&request)?.clone();
        Ok(Response::new(incident_api::unlink(self, &actor, request.into_inner()).await?))
    }

    async fn close_incident(&self, request: Request<pb::CloseIncidentRequest>) -> Result<Response<pb::Incident>, Status> {
        let actor = actor(&request)?.clone();
        let request = request.into_inner();
        let incident = incident_api::load(self, &request.incident).await?;
        incident_api::task_force(self, &actor, &incident)?;
        incident_api::open(&incident)?;
        let root_cause = required("root_cause", &request.root_cause, 8000).map_err(Error::from)?;
        let review = required("review", &request.review, 8000).map_err(Error::from)?;
        let mut tx = self.plumbing.pool.begin().await.map_err(|e| Error::from(StoreError::from(e)))?;
        crate::incidents::close(&mut tx, &incident, root_cause, review).await.map_err(Error::from)?;
        tx.commit().await.map_err(|e| Error::from(StoreError::from(e)))?;
        Ok(Response::new(incident_api::view(self, incident_api::load(self, &incident.incident_id).await?).await?))
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

/// The incident API: any member of staff reads; the task force issues the statement and closes
/// the incident; the task force or a supervisor links and unlinks members.
pub mod incident_api {
    use complaints_domain::{required, FieldError, StaffId};
    use complaints_plumbing::access::{Denied, SUPERVISING_ROLES};
    use complaints_plumbing::auth::Actor;
    use complaints_plumbing::store::StoreError;
    use complaints_proto::v1 as pb;

    use super::RoutingApi;
    use crate::incidents::{self, Incident};
    use crate::{store, Error};

    fn ms(value: Option<i64>) -> String {
        value.map(complaints_plumbing::format_ms).unwrap_or_default()
    }

    pub async fn view(api: &RoutingApi, incident: Incident) -> Result<pb::Incident, Error> {
        let members = incidents::members(&api.plumbing.pool, &incident.incident_id).await?;
        Ok(pb::Incident {
            incident_id: incident.incident_id,
            incident_number: incident.incident_number,
            product: incident.product,
            category: incident.category,
            status: incident.status,
            opened_at: complaints_plumbing::format_ms(incident.opened_at_ms),
            task_force_ids: incident.task_force.into_iter().map(StaffId::into_string).collect(),
            root_cause: incident.root_cause,
            statement: incident.statement,
            statement_by: incident.statement_by,
            statement_at: ms(incident.statement_at_ms),
            review: incident.review,
            members: members
                .into_iter()
                .map(|m| pb::IncidentMember {
                    complaint_number: m.complaint_number,
                    joined_at: complaints_plumbing::format_ms(m.joined_at_ms),
                    linked_by: m.linked_by,
                    left_at: ms(m.left_at_ms),
                })
                .collect(),
        })
    }

    pub async fn load(api: &RoutingApi, key: &str) -> Result<Incident, Error> {
        let key = required("incident", key, 64)?;
        incidents::find(&api.plumbing.pool, key).await?.ok_or_else(|| Error::NotFound(key.to_owned()))
    }

    /// A member of the incident's task force.
    pub fn task_force(api: &RoutingApi, actor: &Actor, incident: &Incident) -> Result<StaffId, Error> {
        let staff = api.access.staff(actor)?;
        if incident.task_force.iter().any(|id| id.as_str() == staff.id) {
            return Ok(StaffId::parse("actor", &staff.id)?);
        }
        Err(Denied(format!("{} is not on the task force of {}", staff.id, incident.incident_number)).into())
    }

    /// The task force, or a supervisor or department head.
    pub fn operator(api: &RoutingApi, actor: &Actor, incident: &Incident) -> Result<StaffId, Error> {
        let staff = api.access.staff(actor)?;
        if SUPERVISING_ROLES.iter().any(|role| staff.has_role(role)) {
            return Ok(StaffId::parse("actor", &staff.id)?);
        }
        task_force(api, actor, incident)
    }

    pub fn open(incident: &Incident) -> Result<(), Error> {
        if incident.status != "open" {
            return Err(Error::Closed(incident.incident_number.clone()));
        }
        Ok(())
    }

    pub async fn link(api: &RoutingApi, actor: &Actor, request: pb::LinkToIncidentRequest) -> Result<pb::Incident, Error> {
        let incident = load(api, &request.incident).await?;
        let by = operator(api, actor, &incident)?;
        open(&incident)?;
        let number = required("complaint_number", &request.complaint_number, 64)?;
        let mut tx = api.plumbing.pool.begin().await.map_err(StoreError::from)?;
        let case = store::find(&mut *tx, number).await?.ok_or_else(|| Error::NotFound(number.to_owned()))?;
        if !case.open {
            return Err(Error::Closed(case.complaint_number.to_string()));
        }
        if case.incident_id == incident.incident_id {
            return Err(FieldError::new("complaint_number", "is a member already").into());
        }
        if !case.incident_id.is_empty() {
            return Err(FieldError::new("complaint_number", "belongs to another incident; unlink it there first").into());
        }
        incidents::join(&mut tx, &incident, &case.complaint_id, &case.complaint_number, by.as_str()).await?;
        tx.commit().await.map_err(StoreError::from)?;
        api.plumbing.relay.notify();
        view(api, load(api, &incident.incident_id).await?).await
    }

    pub async fn unlink(api: &RoutingApi, actor: &Actor, request: pb::UnlinkFromIncidentRequest) -> Result<pb::Incident, Error> {
        let incident = load(api, &request.incident).await?;
        let by = operator(api, actor, &incident)?;
        let reason = required("reason", &request.reason, 2000)?;
        let number = required("complaint_number", &request.complaint_number, 64)?;
        let members = incidents::members(&api.plumbing.pool, &incident.incident_id).await?;
        let member = members
            .into_iter()
            .find(|m| m.complaint_number == number && m.left_at_ms.is_none())
            .ok_or_else(|| FieldError::new("complaint_number", "is not a member of the incident"))?;
        let mut tx = api.plumbing.pool.begin().await.map_err(StoreError::from)?;
        incidents::leave(&mut tx, &incident, &member, &by, reason).await?;
        tx.commit().await.map_err(StoreError::from)?;
        api.plumbing.relay.notify();
        view(api, load(api, &incident.incident_id).await?).await
    }

}
