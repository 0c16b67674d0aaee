//! Analytics' gRPC API: timeline and live counts.

use complaints_proto::v1 as pb;
use complaints_proto::v1::analytics_server::Analytics;
use complaints_shared::grpc::{internal, required};
use complaints_shared::service::Plumbing;
use tonic::{Request, Response, Status};

use crate::store;

pub struct AnalyticsApi {
    pub plumbing: Plumbing,
}

fn entries(rows: Vec<(String, i64)>) -> Vec<pb::CountEntry> {
    rows.into_iter().map(|(key, count)| pb::CountEntry { key, count }).collect()
}

#[tonic::async_trait]
impl Analytics for AnalyticsApi {
    async fn get_timeline(&self, request: Request<pb::GetTimelineRequest>) -> Result<Response<pb::Timeline>, Status> {
        let request = request.into_inner();
        let key = if request.complaint_id.trim().is_empty() { &request.complaint_number } else { &request.complaint_id };
        let key = required("complaint_number", key, usize::MAX)?;
        let pool = &self.plumbing.pool;
        let (complaint_id, complaint_number, status) =
            store::summary(pool, key).await.map_err(internal)?.ok_or_else(|| Status::not_found(format!("complaint {key} not known")))?;
        let entries = store::timeline(pool, &complaint_id)
            .await
            .map_err(internal)?
            .into_iter()
            .map(|row| pb::TimelineEntry {
                stage: row.stage,
                occurred_at: complaints_shared::format_ms(row.occurred_at_ms),
                actor: row.actor,
                detail: row.detail,
                event_id: row.event_id,
                trace_id: row.trace_id,
                producer: row.producer,
            })
            .collect();
        Ok(Response::new(pb::Timeline { complaint_id, complaint_number, status, entries }))
    }

    async fn get_counts(&self, _request: Request<pb::GetCountsRequest>) -> Result<Response<pb::Counts>, Status> {
        let pool = &self.plumbing.pool;
        let by_status = store::counts(pool, "status").await.map_err(internal)?;
        let total = by_status.iter().map(|(_, n)| n).sum();
        Ok(Response::new(pb::Counts {
            by_status: entries(by_status),
            by_grade: entries(store::counts(pool, "grade").await.map_err(internal)?),
            by_channel: entries(store::counts(pool, "channel").await.map_err(internal)?),
            total,
        }))
    }
}
