//! Identifier newtypes. Each is validated once where it enters (request, event, store row) and
//! carried typed from there, so a staff id cannot be passed where a complaint id is expected.

use std::fmt;

use crate::validation::FieldError;

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $max:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Longest accepted value, in bytes.
            pub const MAX_LEN: usize = $max;

            /// Validates `value` (trimmed): non-empty, at most `MAX_LEN` bytes of printable ASCII
            /// without spaces. `field` names it in the error.
            pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
                let value = value.trim();
                if value.is_empty() {
                    return Err(FieldError::new(field, "is required"));
                }
                if value.len() > Self::MAX_LEN || !value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(FieldError::new(
                        field,
                        format!("must be 1 to {} printable ASCII characters without spaces", Self::MAX_LEN),
                    ));
                }
                Ok(Self(value.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }
    };
}

identifier!(
    /// A complaint's internal id (UUIDv7), stable across services.
    ComplaintId,
    64
);
identifier!(
    /// The human-readable complaint number, e.g. `CMP-20261124-000042`.
    ComplaintNumber,
    64
);
identifier!(
    /// A member of staff, as named in the organisation directory and in tokens.
    StaffId,
    64
);
identifier!(
    /// A proposed resolution awaiting or past approval.
    ProposalId,
    64
);
identifier!(
    /// A lifecycle event (UUIDv7; also the broker's de-duplication id).
    EventId,
    64
);

impl ComplaintId {
    /// A new time-ordered id.
    pub fn generate() -> Self {
        Self(uuid_v7())
    }
}

impl ProposalId {
    pub fn generate() -> Self {
        Self(uuid_v7())
    }
}

impl EventId {
    pub fn generate() -> Self {
        Self(uuid_v7())
    }
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A complaint addressed by either of its identifiers, as requests and commands may name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintKey {
    Id(ComplaintId),
    Number(ComplaintNumber),
}

impl ComplaintKey {
    /// The complaint named by `id` or else `number`; an error naming `number_field` when both
    /// are empty.
    pub fn parse(id: &str, number: &str, number_field: &str) -> Result<Self, FieldError> {
        if !id.trim().is_empty() {
            return Ok(Self::Id(ComplaintId::parse("complaint_id", id)?));
        }
        Ok(Self::Number(ComplaintNumber::parse(number_field, number)?))
    }

    /// The key as stored in either column.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Id(id) => id.as_str(),
            Self::Number(number) => number.as_str(),
        }
    }
}

impl fmt::Display for ComplaintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_validated_naming_the_field() {
        assert_eq!(StaffId::parse("approver", " RO-HEAD ").map(|s| s.to_string()), Ok("RO-HEAD".to_owned()));
        assert_eq!(StaffId::parse("approver", "").map_err(|e| e.field), Err("approver".to_owned()));
        assert!(StaffId::parse("approver", "two words").is_err());
        assert!(StaffId::parse("approver", &"x".repeat(65)).is_err());
        assert!(matches!(ComplaintKey::parse("", "CMP-1", "complaint_number"), Ok(ComplaintKey::Number(_))));
        assert_eq!(ComplaintKey::parse("", " ", "complaint_number").map_err(|e| e.field), Err("complaint_number".to_owned()));
    }
}
