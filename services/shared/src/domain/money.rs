//! Money as integer minor units plus an ISO 4217 currency code; never floating point.

use std::fmt;

use crate::grpc::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor_units: i64,
    pub currency: String,
}

impl Money {
    /// Validates a proto money value; `field` names it in errors. Amounts must be ≥ 0 and a
    /// currency is three upper-case letters (required when the amount is non-zero).
    pub fn parse(field: &str, value: Option<&complaints_proto::v1::Money>) -> Result<Option<Self>, FieldError> {
        let Some(value) = value else { return Ok(None) };
        if value.minor_units < 0 {
            return Err(FieldError::new(format!("{field}.minor_units"), "must not be negative"));
        }
        if value.currency.is_empty() && value.minor_units == 0 {
            return Ok(None);
        }
        if value.currency.len() != 3 || !value.currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(format!("{field}.currency"), "must be a three-letter ISO 4217 code such as CNY"));
        }
        Ok(Some(Self { minor_units: value.minor_units, currency: value.currency.clone() }))
    }

    pub fn to_proto(&self) -> complaints_proto::v1::Money {
        complaints_proto::v1::Money { minor_units: self.minor_units, currency: self.currency.clone() }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} {}", self.minor_units / 100, self.minor_units % 100, self.currency)
    }
}
