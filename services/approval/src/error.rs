//! Approval's error boundary, mapped once to gRPC (and HTTP) status.

use complaints_domain::FieldError;
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;

use crate::domain::Refusal;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("nothing awaits approval for {0}")]
    NotFound(String),
    #[error("the latest extension request is {0}; nothing is pending")]
    NoPendingExtension(String),
    #[error("the complaint's details have not reached approval yet; retry shortly")]
    DetailsPending,
    #[error(transparent)]
    Refused(#[from] Refusal),
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
            Self::DetailsPending | Self::NoPendingExtension(_) => ErrorCode::WrongState,
            Self::Refused(Refusal::NotPending(_)) => ErrorCode::WrongState,
            Self::Refused(_) | Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
