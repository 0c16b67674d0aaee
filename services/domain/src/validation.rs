//! Validation failures that name the offending field. Every service's error boundary turns a
//! [`FieldError`] into `INVALID_ARGUMENT` (gRPC) or 400 (HTTP) with `field: reason`.

/// A request field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self { field: field.into(), reason: reason.into() }
    }
}

/// `value` without surrounding white space; an error naming `field` when that is empty or
/// longer than `max_chars` characters (`usize::MAX`: no bound).
pub fn required<'a>(field: &str, value: &'a str, max_chars: usize) -> Result<&'a str, FieldError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    at_most(field, value, max_chars)?;
    Ok(value)
}

/// An error naming `field` when `value` is longer than `max_chars` characters.
pub fn at_most(field: impl Into<String>, value: &str, max_chars: usize) -> Result<(), FieldError> {
    if value.chars().count() > max_chars {
        return Err(FieldError::new(field, format!("must be at most {max_chars} characters")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_bounds() {
        assert_eq!(required("f", "  x ", 5), Ok("x"));
        assert_eq!(required("f", "   ", 5).map_err(|e| e.to_string()), Err("f: is required".to_owned()));
        assert_eq!(required("f", "abcdef", 5).map_err(|e| e.field), Err("f".to_owned()));
    }
}
