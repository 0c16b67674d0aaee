//! Analytics' error boundary, mapped once to gRPC (and HTTP) status.

use complaints_domain::FieldError;
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("complaint {0} not known")]
    NotFound(String),
    #[error("complaint {number} has no sealed case file: it is {status}, not archived")]
    NotArchived { number: String, status: String },
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Field(_) => ErrorCode::InvalidField,
            Self::NotFound(_) | Self::NotArchived { .. } => ErrorCode::NotFound,
            Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
