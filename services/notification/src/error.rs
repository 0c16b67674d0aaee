//! Notification's error boundary, mapped once to gRPC (and HTTP) status.

use complaints_domain::FieldError;
use complaints_plumbing::access::Denied;
use complaints_plumbing::error::{ErrorCode, ServiceError};
use complaints_plumbing::store::StoreError;
use complaints_plumbing::vault::VaultError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Field(#[from] FieldError),
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
            Self::Denied(_) => ErrorCode::PermissionDenied,
            Self::Store(error) => error.code(),
            Self::Vault(error) => error.code(),
        }
    }
}

complaints_plumbing::grpc_status_from!(Error);
