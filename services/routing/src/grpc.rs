//! Routing's gRPC API.

use complaints_proto::v1 as pb;
use complaints_proto::v1::routing_server::Routing;
use complaints_shared::domain::Grade;
use complaints_shared::grpc::{internal, required};
use complaints_shared::service::Plumbing;
use tonic::{Request, Response, Status};

use crate::store;

pub struct RoutingApi {
    pub plumbing: Plumbing,
}

#[tonic::async_trait]
impl Routing for RoutingApi {
    async fn get_assignment(&self, request: Request<pb::GetAssignmentRequest>) -> Result<Response<pb::Assignment>, Status> {
        let request = request.into_inner();
        let id = required("complaint_id", &request.complaint_id, usize::MAX)?;
        let found = store::find(&self.plumbing.pool, id)
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
