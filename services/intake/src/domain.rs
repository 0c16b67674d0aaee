//! The complaint record and the rules that validate it. Every rule rejects with the offending
//! field named; the error boundary turns that into `INVALID_ARGUMENT`. No generated types here:
//! the gRPC edge reads a request into [`Submission`] and these rules do the rest.

use complaints_domain::{at_most, required, Channel, FieldError, Money, StaffId};

/// Demands a customer can make (SPEC §4).
pub const DEMANDS: [&str; 6] = ["refund", "compensation", "apology", "service_improvement", "explanation", "other"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdType {
    IdCard,
    Passport,
    BusinessLicence,
}

impl IdType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdCard => "id_card",
            Self::Passport => "passport",
            Self::BusinessLicence => "business_licence",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct Customer {
    pub name: String,
    pub id_type: IdType,
    pub id_number: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub account_number: String,
    pub preferred_channel: Option<Channel>,
}

/// Personal data is never printed in clear, not even by `{:?}`.
impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use complaints_domain::masking;
        f.debug_struct("Customer")
            .field("name", &masking::name(&self.name))
            .field("id_type", &self.id_type)
            .field("id_number", &masking::id_number(&self.id_number))
            .field("phone", &masking::phone(&self.phone))
            .field("email", &masking::email(&self.email))
            .field("account_number", &masking::account_number(&self.account_number))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Evidence {
    pub kind: String,
    pub description: String,
    pub reference: String,
}

/// A submission as read off the wire, before validation. Enumerations the edge could not read
/// are `Err(())` so the rule names the field.
pub struct Submission<'a> {
    pub request_key: &'a str,
    pub channel: Option<Channel>,
    pub customer: Option<CustomerInput<'a>>,
    pub summary: &'a str,
    pub description: &'a str,
    pub demand: &'a str,
    pub amount_involved: Option<(i64, &'a str)>,
    pub product_hint: &'a str,
    pub evidence: Vec<Evidence>,
    pub receiving_staff: &'a str,
    pub received_at: &'a str,
    pub staff_involved: &'a [String],
    pub branch_involved: &'a str,
    pub tags: &'a [String],
    /// SHA-256 of the canonical request, to tell a true retry from a reused key.
    pub request_hash: String,
}

/// The customer part of a [`Submission`].
pub struct CustomerInput<'a> {
    pub name: &'a str,
    pub id_type: Option<IdType>,
    pub id_number: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub address: &'a str,
    pub account_number: &'a str,
    /// `Ok(None)`: the channel of receipt; `Err(())`: an unknown channel.
    pub preferred_channel: Result<Option<Channel>, ()>,
}

/// A validated submission.
#[derive(Debug, Clone)]
pub struct NewComplaint {
    pub request_key: String,
    pub channel: Channel,
    pub customer: Customer,
    pub summary: String,
    pub description: String,
    pub demand: String,
    pub amount_involved: Option<Money>,
    pub product_hint: String,
    pub evidence: Vec<Evidence>,
    pub receiving_staff: Option<StaffId>,
    pub received_at_ms: i64,
    pub staff_involved: Vec<StaffId>,
    pub branch_involved: String,
    pub tags: Vec<String>,
    pub request_hash: String,
}

impl NewComplaint {
    /// Validates a submission received at `now_ms`, allowing `max_skew_ms` of clock skew.
    pub fn parse(request: Submission<'_>, now_ms: i64, max_skew_ms: i64) -> Result<Self, FieldError> {
        let request_key = request.request_key.trim();
        required("request_key", request_key, usize::MAX)?;
        if request_key.len() > 128 || !request_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(FieldError::new("request_key", "must be 1 to 128 printable ASCII characters without spaces"));
        }
        let channel = request.channel.ok_or_else(|| FieldError::new("channel", "must name the channel the complaint arrived through"))?;
        let customer = parse_customer(request.customer)?;
        let summary = bounded("summary", request.summary, 500)?;
        let description = bounded("description", request.description, 20_000)?;
        let demand = request.demand.trim();
        if !DEMANDS.contains(&demand) {
            return Err(FieldError::new("demand", format!("must be one of {}", DEMANDS.join(", "))));
        }
        let amount_involved = match request.amount_involved {
            Some((minor_units, currency)) => Money::parse("amount_involved", minor_units, currency)?,
            None => None,
        };
        at_most("product_hint", request.product_hint, 100)?;
        if request.evidence.len() > 50 {
            return Err(FieldError::new("evidence", "at most 50 items"));
        }
        let mut evidence = Vec::with_capacity(request.evidence.len());
        for (index, item) in request.evidence.into_iter().enumerate() {
            let kind = bounded(&format!("evidence[{index}].kind"), &item.kind, 64)?;
            at_most(format!("evidence[{index}].description"), &item.description, 1000)?;
            at_most(format!("evidence[{index}].reference"), &item.reference, 500)?;
            evidence.push(Evidence { kind, ..item });
        }
        let receiving_staff = match request.receiving_staff.trim() {
            "" => None,
            staff => Some(StaffId::parse("receiving_staff", staff)?),
        };
        if request.staff_involved.len() > 20 {
            return Err(FieldError::new("staff_involved", "at most 20 staff"));
        }
        let mut staff_involved = Vec::with_capacity(request.staff_involved.len());
        for (index, staff) in request.staff_involved.iter().enumerate() {
            if !staff.trim().is_empty() {
                staff_involved.push(StaffId::parse(&format!("staff_involved[{index}]"), staff)?);
            }
        }
        at_most("branch_involved", request.branch_involved, 64)?;
        if request.tags.len() > 20 {
            return Err(FieldError::new("tags", "at most 20 tags"));
        }
        if channel.is_staffed() && receiving_staff.is_none() {
            return Err(FieldError::new("receiving_staff", format!("is required for the {} channel", channel.as_str())));
        }
        let received_at_ms = if request.received_at.trim().is_empty() {
            now_ms
        } else {
            let parsed = chrono::DateTime::parse_from_rfc3339(request.received_at.trim())
                .map_err(|_| FieldError::new("received_at", "must be an RFC 3339 timestamp such as 2026-11-24T09:30:00+08:00"))?;
            let millis = parsed.timestamp_millis();
            if millis > now_ms + max_skew_ms {
                return Err(FieldError::new("received_at", "must not lie in the future"));
            }
            millis
        };
        for (index, tag) in request.tags.iter().enumerate() {
            if tag.trim().is_empty() || tag.chars().count() > 64 {
                return Err(FieldError::new(format!("tags[{index}]"), "must be 1 to 64 characters"));
            }
        }
        Ok(Self {
            request_key: request_key.to_owned(),
            channel,
            customer,
            summary,
            description,
            demand: demand.to_owned(),
            amount_involved,
            product_hint: request.product_hint.trim().to_owned(),
            evidence,
            receiving_staff,
            received_at_ms,
            staff_involved,
            branch_involved: request.branch_involved.trim().to_owned(),
            tags: request.tags.iter().map(|t| t.trim().to_owned()).collect(),
            request_hash: request.request_hash,
        })
    }
}

fn bounded(field: &str, value: &str, max_chars: usize) -> Result<String, FieldError> {
    Ok(required(field, value, max_chars)?.to_owned())
}

fn parse_customer(customer: Option<CustomerInput<'_>>) -> Result<Customer, FieldError> {
    let customer = customer.ok_or_else(|| FieldError::new("customer", "is required"))?;
    let name = bounded("customer.name", customer.name, 100)?;
    let id_type = customer
        .id_type
        .ok_or_else(|| FieldError::new("customer.id_type", "must be id_card, passport or business_licence"))?;
    let id_number = customer.id_number.trim().to_ascii_uppercase();
    required("customer.id_number", &id_number, usize::MAX)?;
    validate_id_number(id_type, &id_number)?;
    let phone: String = customer.phone.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if !phone.is_empty() {
        let digits = phone.strip_prefix('+').unwrap_or(&phone);
        if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(FieldError::new("customer.phone", "must be 7 to 15 digits, optionally starting with +"));
        }
    }
    let email = customer.email.trim().to_owned();
    if !email.is_empty() && !looks_like_email(&email) {
        return Err(FieldError::new("customer.email", "must be an address such as name@example.com"));
    }
    if phone.is_empty() && email.is_empty() {
        return Err(FieldError::new("customer.phone", "a phone number or an e-mail address is required to reach the customer"));
    }
    let account_number: String = customer.account_number.chars().filter(|c| *c != ' ').collect();
    if !account_number.is_empty()
        && (!(8..=32).contains(&account_number.len()) || !account_number.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(FieldError::new("customer.account_number", "must be 8 to 32 digits"));
    }
    let preferred_channel = customer
        .preferred_channel
        .map_err(|()| FieldError::new("customer.preferred_channel", "is not a known channel"))?;
    at_most("customer.address", customer.address, 500)?;
    Ok(Customer {
        name,
        id_type,
        id_number,
        phone,
        email,
        address: customer.address.trim().to_owned(),
        account_number,
        preferred_channel,
    })
}

fn looks_like_email(email: &str) -> bool {
    match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.contains(char::is_whitespace)
                && email.len() <= 254
        }
        None => false,
    }
}

/// Checks the format of an identity document number; resident ID cards also by checksum
/// (GB 11643-1999, ISO 7064 MOD 11-2).
fn validate_id_number(id_type: IdType, number: &str) -> Result<(), FieldError> {
    let field = "customer.id_number";
    match id_type {
        IdType::IdCard => {
            let bytes = number.as_bytes();
            let well_formed = bytes.len() == 18
                && bytes[..17].iter().all(u8::is_ascii_digit)
                && (bytes[17].is_ascii_digit() || bytes[17] == b'X');
            if !well_formed {
                return Err(FieldError::new(field, "an ID card number has 17 digits and a final digit or X"));
            }
            const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
            const CHECK: &[u8; 11] = b"10X98765432";
            let sum: u32 = bytes[..17].iter().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
            if CHECK[(sum % 11) as usize] != bytes[17] {
                return Err(FieldError::new(field, "the ID card check digit does not match"));
            }
        }
        IdType::Passport => {
            if !(5..=20).contains(&number.len()) || !number.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(FieldError::new(field, "a passport number has 5 to 20 letters and digits"));
            }
        }
        IdType::BusinessLicence => {
            const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
            if number.len() != 18 || !number.chars().all(|c| ALPHABET.contains(c)) {
                return Err(FieldError::new(field, "a unified social credit code has 18 characters"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_card_checksum_is_verified() {
        assert!(validate_id_number(IdType::IdCard, "11010519491231002X").is_ok());
        assert!(validate_id_number(IdType::IdCard, "110105194912310021").is_err());
    }
}

/// The rule pack a complaint follows, and whether its product is a payment service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulePackChoice {
    pub jurisdiction: String,
    pub payment_services: bool,
}

/// Chooses the rule pack: the product hint's words first, then the branch involved, then the
/// channel, then the default.
pub fn choose_jurisdiction(config: &crate::config::JurisdictionConfig, channel: Channel, branch: &str, product_hint: &str) -> RulePackChoice {
    let hint = product_hint.to_lowercase();
    let by_product = config.by_product.iter().find(|(word, _)| !word.is_empty() && hint.contains(&word.to_lowercase()));
    let jurisdiction = by_product
        .map(|(_, jurisdiction)| jurisdiction)
        .or_else(|| config.by_branch.get(branch))
        .or_else(|| config.by_channel.get(channel.as_str()))
        .unwrap_or(&config.default)
        .clone();
    let payment_services = config.payment_services_products.iter().any(|word| !word.is_empty() && hint.contains(&word.to_lowercase()));
    RulePackChoice { jurisdiction, payment_services }
}

#[cfg(test)]
mod jurisdiction_tests {
    use super::*;
    use crate::config::JurisdictionConfig;

    #[test]
    fn the_most_specific_mapping_wins() {
        let config = JurisdictionConfig {
            default: "cn".into(),
            by_channel: [("web".to_owned(), "gb".to_owned())].into(),
            by_branch: [("LONDON-1".to_owned(), "gb".to_owned()), ("NY-1".to_owned(), "us".to_owned())].into(),
            by_product: [("euro account".to_owned(), "eu".to_owned())].into(),
            payment_services_products: vec!["transfer".into()],
        };
        let choose = |channel, branch, hint| choose_jurisdiction(&config, channel, branch, hint);
        assert_eq!(choose(Channel::App, "", "credit card").jurisdiction, "cn");
        assert_eq!(choose(Channel::Web, "", "credit card").jurisdiction, "gb");
        assert_eq!(choose(Channel::Web, "NY-1", "credit card").jurisdiction, "us");
        assert_eq!(choose(Channel::Web, "NY-1", "My Euro Account transfer"), RulePackChoice { jurisdiction: "eu".into(), payment_services: true });
        assert!(!choose(Channel::App, "", "mortgage").payment_services);
    }
}
