//! Routing's gRPC API.

use complaints_proto::v1 as pb;
use complaints_proto::v1::routing_server::Routing;
use complaints_shared::domain::Grade;
use complaints_shared::grpc::{internal, FieldError};
use complaints_shared::service::Plumbing;
use tonic::{Request, Response, Status};

use crate::store;

pub struct RoutingApi {
    pub plumbing: Plumbing,
}

#[tonic::async_trait]
impl Routing for RoutingApi {
    async fn get_assignment(&self, request: Request<pb::GetAssignmentRequest>) -> Result<Response<pb::Assignment>, Status> {
        let id = request.into_inner().complaint_id;
        if id.trim().is_empty() {
            return Err(FieldError::new("complaint_id", "is required").into());
        }
        let found = store::find(&self.plumbing.pool, id.trim())
            .await
            .map_err(internal)?
            .ok_or_else(|| Status::not_found(format!("no assignment for {id}")))?;
        Ok(Response::new(pb::Assignment {
            complaint_id: found.complaint_id,
            complaint_number: found.complaint_number,
            grade: Grade::parse(&found.grade).map(|g| g.to_proto() as i32).unwrap_or_default(),
            category: found.category,
            product: found.product,
            department: found.department,
            handler_id: found.handler_id,
            reasons: found.reasons,
            recused_staff: found.recused,
        }))
    }
}
