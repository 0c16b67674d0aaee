//! Screening a newly received complaint against the customer's earlier complaints (repeats)
//! and against other customers' recent complaints (mass incidents). Both lookups go through
//! indexes bounded by what they look for — one customer's complaints, the band keys inside the
//! time window — so a complaint costs the same with a million complaints in history.

use std::collections::BTreeSet;

use complaints_plumbing::store::{StoreError, Tx};

use crate::config::DetectionConfig;
use crate::detection::{self, SIGNATURE_LEN};
use crate::incidents::{self, Incident};
use crate::store::{self, Assignment};

const DAY_MS: i64 = 24 * 3_600_000;

/// What is known of the new complaint.
pub struct Candidate<'a> {
    pub customer_key: &'a str,
    pub product: &'a str,
    pub category: &'a str,
    pub channel: &'a str,
    pub received_at_ms: i64,
    pub signature: Option<&'a [u32; SIGNATURE_LEN]>,
}

/// The customer's series on the matter.
#[derive(Debug, Default)]
pub struct Repeat {
    /// Earlier complaints on the same or a related matter, oldest first, with their similarity.
    pub earlier: Vec<(Assignment, f64)>,
    /// The new complaint's place in the series (1 when it is the first).
    pub count: u32,
    /// Highest similarity to an earlier complaint of the series.
    pub closest: f64,
    /// The text brings facts the earlier complaints did not have.
    pub new_facts: bool,
    /// The customer's open complaint on the matter, which this one is merged into.
    pub merge_into: Option<Assignment>,
    /// The series reached the escalation count.
    pub escalate: bool,
}

/// What the mass detector found.
#[derive(Debug)]
pub enum Mass {
    None,
    /// An open incident the complaint reports too.
    Join(Box<Incident>),
    /// Enough customers report the same problem: these open complaints (without an incident)
    /// form a new one with the new complaint.
    Open(Vec<Assignment>),
}

fn similarity_to(signature: Option<&[u32; SIGNATURE_LEN]>, other: &Assignment) -> f64 {
    match (signature, detection::decode(&other.signature)) {
        (Some(a), Some(b)) => detection::similarity(a, &b),
        _ => 0.0,
    }
}

/// The customer's earlier complaints on the same matter: the same product, and the same
/// category or similar text.
pub async fn repeat(tx: &mut Tx, config: &DetectionConfig, new: &Candidate<'_>) -> Result<Repeat, StoreError> {
    let since = new.received_at_ms - config.repeat_window_days * DAY_MS;
    let history = store::customer_history(tx, new.customer_key, since).await?;
    let earlier: Vec<(Assignment, f64)> = history
        .into_iter()
        .filter(|earlier| earlier.product == new.product)
        .map(|earlier| {
            let similarity = similarity_to(new.signature, &earlier);
            (earlier, similarity)
        })
        .filter(|(earlier, similarity)| earlier.category == new.category || *similarity >= config.repeat_similarity)
        .collect();
    if earlier.is_empty() {
        return Ok(Repeat { count: 1, new_facts: true, ..Repeat::default() });
    }
    let closest = earlier.iter().map(|(_, similarity)| *similarity).fold(0.0, f64::max);
    let count = u32::try_from(earlier.len() + 1).unwrap_or(u32::MAX);
    let merge_into = earlier.iter().rev().find(|(earlier, _)| earlier.open).map(|(earlier, _)| earlier.clone());
    Ok(Repeat {
        count,
        closest,
        new_facts: closest < config.same_facts_similarity,
        merge_into,
        escalate: count >= config.escalate_at,
        earlier,
    })
}

/// Other customers' open complaints in the window reporting the same problem.
pub async fn mass(tx: &mut Tx, config: &DetectionConfig, new: &Candidate<'_>, band_keys: &[String]) -> Result<Mass, StoreError> {
    let Some(signature) = new.signature else { return Ok(Mass::None) };
    let since = new.received_at_ms - config.mass_window_minutes * 60_000;
    let ids = store::band_candidates(tx, band_keys, since).await?;
    if ids.is_empty() {
        return Ok(Mass::None);
    }
    let similar: Vec<Assignment> = store::by_ids(tx, &ids)
        .await?
        .into_iter()
        .filter(|other| other.open && other.product == new.product && other.customer_key != new.customer_key)
        .filter(|other| !config.mass_same_channel || other.channel == new.channel)
        .filter(|other| similarity_to(Some(signature), other) >= config.mass_similarity)
        .collect();
    for other in &similar {
        if other.incident_id.is_empty() {
            continue;
        }
        if let Some(incident) = incidents::find(&mut **tx, &other.incident_id).await? {
            if incident.status == "open" {
                return Ok(Mass::Join(Box::new(incident)));
            }
        }
    }
    let mut customers: BTreeSet<&str> = similar.iter().map(|other| other.customer_key.as_str()).collect();
    customers.insert(new.customer_key);
    if customers.len() >= config.mass_min_customers {
        Ok(Mass::Open(similar.into_iter().filter(|other| other.incident_id.is_empty()).collect()))
    } else {
        Ok(Mass::None)
    }
}
