//! Analytics' gRPC API: timeline and live counts, for staff.

use complaints_domain::{ClockState, ComplaintKey, FieldError};
use complaints_plumbing::access::Access;
use complaints_plumbing::auth::actor;
use complaints_plumbing::service::Plumbing;
use complaints_proto::v1 as pb;
use complaints_proto::v1::analytics_server::Analytics;
use tonic::{Request, Response, Status};

use crate::{store, Error};

pub struct AnalyticsApi {
    pub plumbing: Plumbing,
    pub access: Access,
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
