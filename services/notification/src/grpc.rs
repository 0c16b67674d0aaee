//! Notification's gRPC API: the deliveries made for a complaint, recipients masked.

use complaints_proto::v1 as pb;
use complaints_proto::v1::notification_server::Notification;
use complaints_shared::domain::{masking, Channel};
use complaints_shared::grpc::{internal, required};
use complaints_shared::service::Plumbing;
use tonic::{Request, Response, Status};

use crate::store;

pub struct NotificationApi {
    pub plumbing: Plumbing,
}

#[tonic::async_trait]
impl Notification for NotificationApi {
    async fn list_deliveries(&self, request: Request<pb::ListDeliveriesRequest>) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        let request = request.into_inner();
        let key = required("complaint_id", &request.complaint_id, usize::MAX)?;
        let deliveries = store::for_complaint(&self.plumbing.pool, key).await.map_err(internal)?;
        let deliveries = deliveries
            .into_iter()
            .map(|d| pb::Delivery {
                recipient_masked: if d.recipient.contains('@') { masking::email(&d.recipient) } else { masking::phone(&d.recipient) },
                delivery_id: d.delivery_id,
                kind: d.kind.to_proto() as i32,
                channel: Channel::parse(&d.channel).map(|c| c.to_proto() as i32).unwrap_or_default(),
                status: d.status,
                attempts: u32::try_from(d.attempts).unwrap_or(u32::MAX),
                delivered_at: d.delivered_at_ms.map(complaints_shared::format_ms).unwrap_or_default(),
            })
            .collect();
        Ok(Response::new(pb::ListDeliveriesResponse { deliveries }))
    }
}
