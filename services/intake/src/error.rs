//! Intake's error boundary: every failure of its API is one of these, mapped once to a gRPC
//! status (and, through the same code, to an HTTP status).

use complaints_domain::{ComplaintNumber, FieldError, Stage};
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;
use complaints_plumbing::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
    #[error("complaint {0} not found")]
    NotFound(String),
    #[error("complaint {number} is {stage}; {rule}")]
    WrongStage { number: ComplaintNumber, stage: Stage, rule: &'static str },
    #[error("request_key: already used by complaint {0} with different content")]
    RequestKeyReused(ComplaintNumber),
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Denied(#[from] Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Vault(#[from] VaultError),
}

impl ServiceError for Error {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Field(_) => ErrorCode::InvalidField,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::WrongStage { .. } => ErrorCode::WrongState,
            Self::RequestKeyReused(_) => ErrorCode::AlreadyExists,
            Self::Refused(_) => ErrorCode::WrongState,
            Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
            Self::Vault(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
