//! Routing's gRPC API: read access to assignments for staff.

use complaints_plumbing::access::Access;
use complaints_plumbing::auth::actor;
use complaints_plumbing::service::Plumbing;
use complaints_proto::v1 as pb;
use complaints_proto::v1::routing_server::Routing;
use tonic::{Request, Response, Status};

use crate::{store, Error};

pub struct RoutingApi {
    pub plumbing: Plumbing,
    pub access: Access,
}

#[tonic::async_trait]
impl Routing for RoutingApi {
    async fn get_assignment(&self, request: Request<pb::GetAssignmentRequest>) -> Result<Response<pb::Assignment>, Status> {
        self.access.any_staff(actor(&request)?).map_err(Error::from)?;
        let request = request.into_inner();
        // The id or the number, in the one field this request has.
        let key = complaints_domain::ComplaintId::parse("complaint_id", &request.complaint_id).map_err(Error::from)?;
        let found = store::find(&self.plumbing.pool, &key).await.map_err(Error::from)?.ok_or_else(|| Error::NotFound(key.to_string()))?;
        Ok(Response::new(pb::Assignment {
            complaint_id: found.complaint_id.to_string(),
            complaint_number: found.complaint_number.to_string(),
            grade: found.grade.to_proto() as i32,
            category: found.category,
            product: found.product,
            department: found.department,
            handler_id: found.handler.to_string(),
            reasons: found.reasons,
            recused_staff: found.recused.into_iter().map(|s| s.into_string()).collect(),
        }))
    }
}
