//! One error vocabulary, two transports. Each service has its own error enum (thiserror) and
//! says, once, which [`ErrorCode`] each variant is; this module maps a code once to a gRPC
//! status and once to an HTTP status. Internal detail is logged here, never sent to callers.

use complaints_domain::FieldError;

/// What kind of failure a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The complaint, case or proposal does not exist (or is not visible to the caller).
    NotFound,
    /// A request field failed validation; the message names the field.
    InvalidField,
    /// The action does not fit the complaint's current stage.
    WrongState,
    /// A concurrent command changed the record first; read it again and retry.
    Conflict,
    /// The thing to create exists already with other content (e.g. a reused request key).
    AlreadyExists,
    /// The request is well formed but refused by a rule (with the reason).
    Refused,
    /// No valid credential.
    Unauthenticated,
    /// The caller is known but may not do this.
    PermissionDenied,
    /// A dependency (store, broker) is unavailable; retry later.
    Unavailable,
    /// A defect or corrupt data; details are in the log only.
    Internal,
}

impl ErrorCode {
    pub fn grpc(self) -> tonic::Code {
        match self {
            Self::NotFound => tonic::Code::NotFound,
            Self::InvalidField => tonic::Code::InvalidArgument,
            Self::WrongState => tonic::Code::FailedPrecondition,
            Self::Conflict => tonic::Code::Aborted,
            Self::AlreadyExists => tonic::Code::AlreadyExists,
            Self::Refused => tonic::Code::FailedPrecondition,
            Self::Unauthenticated => tonic::Code::Unauthenticated,
            Self::PermissionDenied => tonic::Code::PermissionDenied,
            Self::Unavailable => tonic::Code::Unavailable,
            Self::Internal => tonic::Code::Internal,
        }
    }

    /// The HTTP status of the same failure, for the HTTP/JSON API.
    pub fn http(self) -> u16 {
        match self {
            Self::NotFound => 404,
            Self::InvalidField => 400,
            Self::WrongState => 409,
            Self::Conflict => 409,
            Self::AlreadyExists => 409,
            Self::Refused => 422,
            Self::Unauthenticated => 401,
            Self::PermissionDenied => 403,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

/// A service's error enum: each variant has one code; the message is what callers see
/// (except for [`ErrorCode::Internal`] and [`ErrorCode::Unavailable`], which are logged and
/// replaced by a generic message).
pub trait ServiceError: std::error::Error {
    fn code(&self) -> ErrorCode;
}

/// The caller-facing message of `error`; internal detail is logged once here instead.
pub fn public_message<E: ServiceError>(error: &E) -> String {
    match error.code() {
        ErrorCode::Internal => {
            tracing::error!(error = %format_chain(error), "internal error");
            "internal error".to_owned()
        }
        ErrorCode::Unavailable => {
            tracing::warn!(error = %format_chain(error), "dependency unavailable");
            "temporarily unavailable; retry shortly".to_owned()
        }
        _ => error.to_string(),
    }
}

/// The gRPC status of a service error.
pub fn to_status<E: ServiceError>(error: &E) -> tonic::Status {
    tonic::Status::new(error.code().grpc(), public_message(error))
}

fn format_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl ServiceError for FieldError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidField
    }
}

/// Implements `From<$error> for tonic::Status` through the error's [`ServiceError::code`], so
/// handlers return their own error enum and `?` does the mapping — once.
#[macro_export]
macro_rules! grpc_status_from {
    ($error:ty) => {
        impl From<$error> for ::tonic::Status {
            fn from(error: $error) -> Self {
                $crate::error::to_status(&error)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("secret detail")]
    struct Broken;

    impl ServiceError for Broken {
        fn code(&self) -> ErrorCode {
            ErrorCode::Internal
        }
    }

    #[test]
    fn internal_detail_never_reaches_the_caller() {
        let status = to_status(&Broken);
        assert_eq!(status.code(), tonic::Code::Internal);
        assert_eq!(status.message(), "internal error");
    }

    #[test]
    fn a_field_error_is_invalid_argument_naming_the_field() {
        let status = to_status(&FieldError::new("customer.phone", "must be digits"));
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert_eq!(status.message(), "customer.phone: must be digits");
        assert_eq!(ErrorCode::InvalidField.http(), 400);
        assert_eq!(ErrorCode::PermissionDenied.http(), 403);
    }
}
