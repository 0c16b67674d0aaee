//! Notification's gRPC API: the deliveries made for a complaint, recipients masked; for staff.

use complaints_domain::{masking, required, Channel};
use complaints_plumbing::access::Access;
use complaints_plumbing::auth::actor;
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::vault::{Opened, Vault, ERASED};
use complaints_proto::v1 as pb;
use complaints_proto::v1::notification_server::Notification;
use tonic::{Request, Response, Status};

use crate::store::DeliveryKind;
use crate::{store, Error};

pub struct NotificationApi {
    pub plumbing: Plumbing,
    pub access: Access,
    pub vault: Vault,
}

#[tonic::async_trait]
impl Notification for NotificationApi {
    async fn list_deliveries(&self, request: Request<pb::ListDeliveriesRequest>) -> Result<Response<pb::ListDeliveriesResponse>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        let key = required("complaint_id", &request.complaint_id, 64).map_err(Error::from)?;
        let deliveries = store::for_complaint(&self.plumbing.pool, key).await.map_err(Error::from)?;
        let mut listed = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let recipient_masked = match d.kind {
                // A staff id is not personal data of the customer.
                DeliveryKind::Staff(_) => d.recipient.clone(),
                DeliveryKind::Customer(_) => match self.vault.open_field(&store::recipient_place(&d.delivery_id), &d.recipient).await.map_err(Error::from)? {
                    Opened::Erased => ERASED.to_owned(),
                    Opened::Clear(recipient) if recipient.contains('@') => masking::email(&recipient),
                    Opened::Clear(recipient) => masking::phone(&recipient),
                },
            };
            listed.push(pb::Delivery {
                recipient_masked,
                delivery_id: d.delivery_id,
                kind: match d.kind {
                    DeliveryKind::Customer(kind) => kind.to_proto() as i32,
                    DeliveryKind::Staff(_) => 0,
                },
                alert: match d.kind {
                    DeliveryKind::Staff(_) => d.kind.as_str().to_owned(),
                    DeliveryKind::Customer(_) => String::new(),
                },
                channel: Channel::parse(&d.channel).map(|c| c.to_proto() as i32).unwrap_or_default(),
                status: d.status,
                attempts: u32::try_from(d.attempts).unwrap_or(u32::MAX),
                delivered_at: d.delivered_at_ms.map(complaints_plumbing::format_ms).unwrap_or_default(),
            });
        }
        Ok(Response::new(pb::ListDeliveriesResponse { deliveries: listed }))
    }
}
