//! Money as integer minor units plus an ISO 4217 currency code; never floating point.

use std::fmt;

use complaints_proto::v1 as pb;

use crate::validation::FieldError;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Money {
    pub minor_units: i64,
    pub currency: String,
}

impl Money {
    /// Validates an amount; `field` names it in errors. Amounts must be ≥ 0 and a currency is
    /// three upper-case letters (required when the amount is non-zero). Zero without a currency
    /// is no amount (`None`).
    pub fn parse(field: &str, minor_units: i64, currency: &str) -> Result<Option<Self>, FieldError> {
        if minor_units < 0 {
            return Err(FieldError::new(format!("{field}.minor_units"), "must not be negative"));
        }
        if currency.is_empty() && minor_units == 0 {
            return Ok(None);
        }
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(format!("{field}.currency"), "must be a three-letter ISO 4217 code such as CNY"));
        }
        Ok(Some(Self { minor_units, currency: currency.to_owned() }))
    }

    /// Validates an optional protobuf amount at the edge; `field` names it in errors.
    pub fn from_proto(field: &str, value: Option<&pb::Money>) -> Result<Option<Self>, FieldError> {
        match value {
            None => Ok(None),
            Some(value) => Self::parse(field, value.minor_units, &value.currency),
        }
    }

    pub fn is_zero(&self) -> bool {
        self.minor_units == 0
    }
}

impl From<&Money> for pb::Money {
    fn from(money: &Money) -> Self {
        pb::Money { minor_units: money.minor_units, currency: money.currency.clone() }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02} {}", self.minor_units / 100, self.minor_units % 100, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_validated_naming_the_field() {
        assert_eq!(Money::parse("amount", 0, ""), Ok(None));
        assert_eq!(Money::parse("amount", -1, "CNY").map_err(|e| e.field), Err("amount.minor_units".to_owned()));
        assert_eq!(Money::parse("amount", 5, "cny").map_err(|e| e.field), Err("amount.currency".to_owned()));
        assert_eq!(Money::parse("amount", 50_000, "CNY").map(|m| m.map(|m| m.to_string())), Ok(Some("500.00 CNY".to_owned())));
    }
}
