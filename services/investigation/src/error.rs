//! Investigation's error boundary, mapped once to gRPC (and HTTP) status.

use complaints_domain::{ComplaintNumber, FieldError, Stage};
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("no case for complaint {0}")]
    NotFound(String),
    #[error("case {number} is {stage}; cannot {action}")]
    WrongStage { number: ComplaintNumber, stage: Stage, action: &'static str },
    #[error("{0}")]
    Refused(&'static str),
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] complaints_plumbing::vault::VaultError),
}

impl ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Field(_) => ErrorCode::InvalidField,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::WrongStage { .. } => ErrorCode::WrongState,
            Self::Refused(_) => ErrorCode::Refused,
            Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
            Self::Vault(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
