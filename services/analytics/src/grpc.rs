//! Analytics' gRPC API: timeline and live counts, for staff.

use complaints_domain::ComplaintKey;
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
