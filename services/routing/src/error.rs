//! Routing's error boundary, mapped once to gRPC (and HTTP) status.

use complaints_domain::FieldError;
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("no assignment for complaint {0}")]
    NotFound(String),
    #[error("complaint {0} is closed; its case can no longer be moved")]
    Closed(String),
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Field(_) => ErrorCode::InvalidField,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Closed(_) => ErrorCode::Refused,
            Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
