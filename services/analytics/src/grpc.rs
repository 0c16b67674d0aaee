//! Analytics' gRPC API: timeline and live counts, for staff.

use complaints_domain::{Channel, ClockState, ComplaintKey, ComplaintNumber, FieldError, Grade, Stage};
use complaints_plumbing::lookup::LookupKey;
use complaints_plumbing::access::Access;
use complaints_plumbing::auth::actor;
use complaints_plumbing::service::Plumbing;
use complaints_proto::v1 as pb;
use complaints_proto::v1::analytics_server::Analytics;
use tonic::{Request, Response, Status};

use crate::{case_file, store, Error};

pub struct AnalyticsApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub lookup: LookupKey,
    pub triage_department: String,
}

/// The queue's cursor: the last row's due instant and complaint id.
fn queue_token(row: &store::QueueRow) -> String {
    format!("{}|{}", row.next_due_at_ms, row.complaint_id)
}

fn parse_queue_token(token: &str) -> Result<Option<(i64, String)>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || FieldError::new("page_token", "is not a token this service issued");
    let (due, id) = token.split_once('|').ok_or_else(invalid)?;
    Ok(Some((due.parse().map_err(|_| invalid())?, id.to_owned())))
}

/// Page size of a queue or search: default 50, at most 1000.
fn queue_page_size(requested: u32) -> Result<i64, FieldError> {
    match requested {
        0 => Ok(50),
        size @ 1..=1000 => Ok(i64::from(size)),
        _ => Err(FieldError::new("page_size", "must be at most 1000")),
    }
}

fn queue_item(row: store::QueueRow) -> pb::QueueItem {
    pb::QueueItem {
        complaint_id: row.complaint_id,
        complaint_number: row.complaint_number,
        status: row.status,
        grade: Grade::parse(&row.grade).map_or(0, |grade| grade.to_proto() as i32),
        channel: Channel::parse(&row.channel).map_or(0, |channel| channel.to_proto() as i32),
        product: row.product,
        category: row.category,
        jurisdiction: row.jurisdiction,
        department: row.department,
        handler_id: row.handler_id,
        summary: row.summary,
        next_due_at: if row.next_due_at_ms == store::NO_DUE { String::new() } else { complaints_plumbing::format_ms(row.next_due_at_ms) },
        clock_state: row.clock_state,
        received_at: row.received_at_ms.map(complaints_plumbing::format_ms).unwrap_or_default(),
    }
}

impl AnalyticsApi {
    /// One page of the queue `filter` selects.
    async fn page(&self, filter: &store::QueueFilter, size: i64, token: &str) -> Result<pb::QueuePage, Error> {
        let after = parse_queue_token(token)?;
        let rows = store::queue(&self.plumbing.pool, filter, after, size + 1).await?;
        let more = rows.len() as i64 > size;
        let rows: Vec<store::QueueRow> = rows.into_iter().take(size as usize).collect();
        let next_page_token = if more { rows.last().map(queue_token).unwrap_or_default() } else { String::new() };
        Ok(pb::QueuePage { items: rows.into_iter().map(queue_item).collect(), next_page_token })
    }
}

/// Names from a repeated enum field, each checked; an unknown value is named `field[i]`.
fn enum_names<T>(field: &str, values: &[i32], parse: impl Fn(i32) -> Option<T>, name: impl Fn(T) -> &'static str) -> Result<Vec<String>, FieldError> {
    values
        .iter()
        .enumerate()
        .map(|(i, value)| parse(*value).map(|v| name(v).to_owned()).ok_or_else(|| FieldError::new(format!("{field}[{i}]"), "is not a known value")))
        .collect()
}

fn clock_rows(rows: &[store::ClockRow]) -> Vec<pb::ClockRow> {
    rows.iter()
        .map(|row| pb::ClockRow {
            complaint_id: row.complaint_id.clone(),
            complaint_number: row.complaint_number.clone(),
            owner_service: row.producer.clone(),
            clock: Some((&row.clock).into()),
        })
        .collect()
}

/// The overdue listing's cursor: due instant, complaint id, clock kind and round of the last row.
fn page_token(row: &store::ClockRow) -> String {
    format!("{}|{}|{}|{}", row.clock.due_at_ms, row.complaint_id, row.clock.kind, row.clock.round)
}

fn parse_page_token(token: &str) -> Result<Option<(i64, String, String, i64)>, FieldError> {
    if token.is_empty() {
        return Ok(None);
    }
    let invalid = || FieldError::new("page_token", "is not a token this service issued");
    let mut parts = token.splitn(4, '|');
    let mut next = || parts.next().ok_or_else(invalid);
    let due = next()?.parse().map_err(|_| invalid())?;
    let complaint = next()?.to_owned();
    let kind = next()?.to_owned();
    let round = next()?.parse().map_err(|_| invalid())?;
    Ok(Some((due, complaint, kind, round)))
}

fn entries(rows: Vec<(String, i64)>) -> Vec<pb::CountEntry> {
    rows.into_iter().map(|(key, count)| pb::CountEntry { key, count }).collect()
}

#[tonic::async_trait]
impl Analytics for AnalyticsApi {
    async fn get_timeline(&self, request: Request<pb::GetTimelineRequest>) -> Result<Response<pb::Timeline>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let key = ComplaintKey::parse(&request.complaint_id, &request.complaint_number, "complaint_number").map_err(Error::from)?;
        let pool = &self.plumbing.pool;
        let (complaint_id, complaint_number, status) =
            store::summary(pool, key.as_str()).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        let entries = store::timeline(pool, &complaint_id)
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|row| pb::TimelineEntry {
                stage: row.stage,
                occurred_at: complaints_plumbing::format_ms(row.occurred_at_ms),
                actor: row.actor,
                detail: row.detail,
                event_id: row.event_id,
                trace_id: row.trace_id,
                producer: row.producer,
            })
            .collect();
        Ok(Response::new(pb::Timeline { complaint_id, complaint_number, status, entries }))
    }

    async fn list_clocks(&self, request: Request<pb::ListClocksRequest>) -> Result<Response<pb::ClockList>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let key = ComplaintKey::parse(&request.complaint_id, &request.complaint_number, "complaint_number").map_err(Error::from)?;
        let pool = &self.plumbing.pool;
        let (complaint_id, _, _) = store::summary(pool, key.as_str()).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        let rows = store::clocks_of(pool, &complaint_id).await.map_err(Error::from)?;
        Ok(Response::new(pb::ClockList { clocks: clock_rows(&rows), next_page_token: String::new() }))
    }

    async fn list_overdue(&self, request: Request<pb::ListOverdueRequest>) -> Result<Response<pb::ClockList>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let size = match request.page_size {
            0 => 100,
            size @ 1..=1000 => i64::from(size),
            _ => return Err(Error::from(FieldError::new("page_size", "must be at most 1000")).into()),
        };
        let after = parse_page_token(&request.page_token).map_err(Error::from)?;
        let states: &[ClockState] = if request.include_at_risk { &[ClockState::Breached, ClockState::Warned] } else { &[ClockState::Breached] };
        let rows = store::overdue(&self.plumbing.pool, states, after, size + 1).await.map_err(Error::from)?;
        let more = rows.len() as i64 > size;
        let rows = &rows[..rows.len().min(size as usize)];
        let next_page_token = if more { rows.last().map(page_token).unwrap_or_default() } else { String::new() };
        Ok(Response::new(pb::ClockList { clocks: clock_rows(rows), next_page_token }))
    }

    async fn list_queue(&self, request: Request<pb::ListQueueRequest>) -> Result<Response<pb::QueuePage>, Status> {
        let actor = actor(&request)?.clone();
        let staff = self.access.staff(&actor).map_err(Error::from)?.clone();
        let request = request.into_inner();
        let size = queue_page_size(request.page_size).map_err(Error::from)?;
        let mut filter = store::QueueFilter::default();
        match pb::QueueView::try_from(request.view) {
            Ok(pb::QueueView::Mine) => filter.handler = Some(staff.id.clone()),
            Ok(pb::QueueView::Department) => {
                filter.department = Some(if request.department.trim().is_empty() { staff.department.clone() } else { request.department.trim().to_owned() })
            }
            Ok(pb::QueueView::Triage) => filter.department = Some(self.triage_department.clone()),
            Ok(pb::QueueView::All) => {}
            _ => return Err(Error::from(FieldError::new("view", "must be mine, department, triage or all")).into()),
        }
        for (i, status) in request.statuses.iter().enumerate() {
            if Stage::parse(status).is_none() {
                return Err(Error::from(FieldError::new(format!("statuses[{i}]"), "is not a lifecycle stage")).into());
            }
        }
        for (i, state) in request.clock_states.iter().enumerate() {
            if !["breached", "warned", "running", "paused"].contains(&state.as_str()) {
                return Err(Error::from(FieldError::new(format!("clock_states[{i}]"), "must be breached, warned, running or paused")).into());
            }
        }
        filter.statuses = request.statuses;
        filter.clock_states = request.clock_states;
        filter.grades = enum_names("grades", &request.grades, Grade::from_proto, Grade::as_str).map_err(Error::from)?;
        filter.channels = enum_names("channels", &request.channels, Channel::from_proto, Channel::as_str).map_err(Error::from)?;
        filter.products = request.products;
        filter.jurisdictions = request.jurisdictions;
        filter.include_closed = request.include_closed;
        if !request.due_before.trim().is_empty() {
            let due = complaints_plumbing::parse_rfc3339_ms(request.due_before.trim())
                .ok_or_else(|| Error::from(FieldError::new("due_before", "must be an RFC 3339 instant")))?;
            filter.due_before_ms = Some(due);
        }
        Ok(Response::new(self.page(&filter, size, &request.page_token).await?))
    }

    async fn search_complaints(&self, request: Request<pb::SearchComplaintsRequest>) -> Result<Response<pb::QueuePage>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let size = queue_page_size(request.page_size).map_err(Error::from)?;
        let mut filter = store::QueueFilter { include_closed: true, ..Default::default() };
        let (number, id_number, text) = (request.complaint_number.trim(), request.customer_id_number.trim(), request.text.trim());
        match (number.is_empty(), id_number.is_empty(), text.is_empty()) {
            (false, true, true) => filter.number = Some(number.to_owned()),
            (true, false, true) => filter.customer_key = Some(self.lookup.customer(id_number)),
            (true, true, false) if text.chars().count() >= 2 => filter.text = Some(text.to_lowercase()),
            (true, true, false) => return Err(Error::from(FieldError::new("text", "must be at least 2 characters")).into()),
            _ => {
                return Err(Error::from(FieldError::new("complaint_number", "give exactly one of complaint_number, customer_id_number or text")).into())
            }
        }
        Ok(Response::new(self.page(&filter, size, &request.page_token).await?))
    }

    async fn get_case_file(&self, request: Request<pb::GetCaseFileRequest>) -> Result<Response<pb::CaseFile>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let number = ComplaintNumber::parse("complaint_number", request.get_ref().complaint_number.trim()).map_err(Error::from)?;
        let pool = &self.plumbing.pool;
        let Some(file) = case_file::find(pool, number.as_str()).await.map_err(Error::from)? else {
            let (_, number, status) =
                store::summary(pool, number.as_str()).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(number.to_string()))?;
            return Err(Error::NotArchived { number, status }.into());
        };
        Ok(Response::new(pb::CaseFile {
            complaint_number: file.complaint_number,
            sha256: file.sha256,
            json: file.json,
            html: file.html,
            archived_at: complaints_plumbing::format_ms(file.archived_at_ms),
        }))
    }

    async fn get_counts(&self, request: Request<pb::GetCountsRequest>) -> Result<Response<pb::Counts>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let pool = &self.plumbing.pool;
        let by_status = store::counts(pool, "status").await.map_err(Error::from)?;
        let total = by_status.iter().map(|(_, n)| n).sum();
        Ok(Response::new(pb::Counts {
            by_status: entries(by_status),
            by_grade: entries(store::counts(pool, "grade").await.map_err(Error::from)?),
            by_channel: entries(store::counts(pool, "channel").await.map_err(Error::from)?),
            total,
        }))
    }
}
