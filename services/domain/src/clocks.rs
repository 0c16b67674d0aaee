//! Clocks as the services share them: which clock ([`ClockKind`], the names of the rule packs),
//! where one stands ([`ClockState`]) and the [`ClockSnapshot`] carried on clock events. The
//! arithmetic lives in `complaints-calendar`, the durable clocks and their scheduler in the
//! plumbing.

use std::fmt;

use complaints_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::ids::StaffId;
use crate::validation::FieldError;

/// Which clock: a lifecycle step with a time limit (SPEC §3–5). Names in data files are the snake_case forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// Register and send the acceptance notice (1 working hour).
    Acknowledge,
    /// Contact the customer to confirm receipt, process and expected time (24 hours).
    FirstContact,
    /// First-contact responsibility: written record to the department manager (24 hours).
    Handover,
    /// The responsible team starts investigating after assignment (24 hours).
    InvestigationStart,
    /// Grade response time (Red immediate, Yellow 2, Green 4 working days).
    Response,
    /// Investigation time limit per grade, with its approved extension.
    Investigation,
    /// Approval of a proposed resolution (1 working day).
    Approval,
    /// The customer's objection window after being informed (3 working days).
    ObjectionWindow,
    /// Execution of the remedy after acceptance (3 working days).
    Execution,
    /// Satisfaction follow-up after completion (1 week).
    FollowUp,
    /// The regulatory decision / final-response deadline, with its extensions.
    RegulatorDecision,
    /// UK DISP: summary resolution by close of the 3rd business day after receipt.
    SummaryResolution,
    /// UK/EU payment services final response (15 business days, exceptionally 35).
    PaymentServicesDecision,
    /// China: the customer's window to request review (复核) by the superior institution.
    ReviewWindow,
    /// The superior institution's review decision (复核).
    ReviewDecision,
}


impl ClockKind {
    pub const ALL: [ClockKind; 15] = [Self::Acknowledge, Self::FirstContact, Self::Handover, Self::InvestigationStart, Self::Response, Self::Investigation, Self::Approval, Self::ObjectionWindow, Self::Execution, Self::FollowUp, Self::RegulatorDecision, Self::SummaryResolution, Self::PaymentServicesDecision, Self::ReviewWindow, Self::ReviewDecision];

    /// The snake_case name used in rule packs, events and the CLI. Stable.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::FirstContact => "first_contact",
            Self::Handover => "handover",
            Self::InvestigationStart => "investigation_start",
            Self::Response => "response",
            Self::Investigation => "investigation",
            Self::Approval => "approval",
            Self::ObjectionWindow => "objection_window",
            Self::Execution => "execution",
            Self::FollowUp => "follow_up",
            Self::RegulatorDecision => "regulator_decision",
            Self::SummaryResolution => "summary_resolution",
            Self::PaymentServicesDecision => "payment_services_decision",
            Self::ReviewWindow => "review_window",
            Self::ReviewDecision => "review_decision",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Windows have no warning point, and running out is one of their normal ends
    /// ([`ClockState::Expired`]), not a breach: the customer's objection and review windows, and
    /// the UK's summary-resolution window (a complaint not resolved by then simply continues
    /// under the eight-week rule).
    pub fn is_window(self) -> bool {
        matches!(self, Self::ObjectionWindow | Self::ReviewWindow | Self::SummaryResolution)
    }

    /// The statutory (regulator-facing) limits: the customer is told these dates.
    pub fn is_statutory(self) -> bool {
        matches!(self, Self::RegulatorDecision | Self::SummaryResolution | Self::PaymentServicesDecision)
    }
}

impl fmt::Display for ClockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a clock stands, as shown to staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    /// Running, past its warning point.
    Warned,
    /// Past its due instant unmet (still open, or completed late).
    Breached,
    Met,
    /// A window that ran out (the customer did not act): not a failure of the bank.
    Expired,
    /// Ended without judgement: superseded, withdrawn, or the complaint closed first.
    Cancelled,
}

impl ClockState {
    pub const ALL: [ClockState; 7] =
        [Self::Running, Self::Paused, Self::Warned, Self::Breached, Self::Met, Self::Expired, Self::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Warned => "warned",
            Self::Breached => "breached",
            Self::Met => "met",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|state| state.as_str() == name)
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::ClockState::try_from(value).ok()? {
            pb::ClockState::Unspecified => return None,
            pb::ClockState::Running => Self::Running,
            pb::ClockState::Paused => Self::Paused,
            pb::ClockState::Warned => Self::Warned,
            pb::ClockState::Breached => Self::Breached,
            pb::ClockState::Met => Self::Met,
            pb::ClockState::Expired => Self::Expired,
            pb::ClockState::Cancelled => Self::Cancelled,
        })
    }

    pub fn to_proto(self) -> pb::ClockState {
        match self {
            Self::Running => pb::ClockState::Running,
            Self::Paused => pb::ClockState::Paused,
            Self::Warned => pb::ClockState::Warned,
            Self::Breached => pb::ClockState::Breached,
            Self::Met => pb::ClockState::Met,
            Self::Expired => pb::ClockState::Expired,
            Self::Cancelled => pb::ClockState::Cancelled,
        }
    }

    /// Still counting (or paused): not ended.
    pub fn is_open(self) -> bool {
        matches!(self, Self::Running | Self::Paused | Self::Warned | Self::Breached)
    }
}

impl fmt::Display for ClockState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One clock of a complaint as its owning service holds it (times in epoch milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClockSnapshot {
    pub kind: ClockKind,
    pub round: u32,
    pub state: ClockState,
    pub jurisdiction: String,
    pub calendar: String,
    /// The period in force, extensions included ("5 working days").
    pub period: String,
    pub started_at_ms: i64,
    pub due_at_ms: i64,
    /// The due instant in the jurisdiction's local time, RFC 3339 with offset.
    pub due_local: String,
    /// `None` for clocks without a warning point (windows).
    pub warning_at_ms: Option<i64>,
    /// The due instant lies past the calendar's published data (weekly rest days only).
    pub provisional: bool,
    pub owner: Option<StaffId>,
    pub ended_at_ms: Option<i64>,
    pub warned_at_ms: Option<i64>,
    pub breached_at_ms: Option<i64>,
    pub extensions: u32,
    pub basis: String,
}

fn optional_ms(value: i64) -> Option<i64> {
    (value != 0).then_some(value)
}

impl TryFrom<pb::ClockSnapshot> for ClockSnapshot {
    type Error = FieldError;

    fn try_from(p: pb::ClockSnapshot) -> Result<Self, FieldError> {
        let kind = ClockKind::parse(&p.kind).ok_or_else(|| FieldError::new("kind", format!("unknown clock kind {:?}", p.kind)))?;
        let state = ClockState::from_proto(p.state).ok_or_else(|| FieldError::new("state", "must be a known clock state"))?;
        let owner = if p.owner_id.trim().is_empty() { None } else { Some(StaffId::parse("owner_id", &p.owner_id)?) };
        Ok(Self {
            kind,
            round: p.round,
            state,
            jurisdiction: p.jurisdiction,
            calendar: p.calendar,
            period: p.period,
            started_at_ms: p.started_at_ms,
            due_at_ms: p.due_at_ms,
            due_local: p.due_local,
            warning_at_ms: optional_ms(p.warning_at_ms),
            provisional: p.provisional,
            owner,
            ended_at_ms: optional_ms(p.ended_at_ms),
            warned_at_ms: optional_ms(p.warned_at_ms),
            breached_at_ms: optional_ms(p.breached_at_ms),
            extensions: p.extensions,
            basis: p.basis,
        })
    }
}

impl From<&ClockSnapshot> for pb::ClockSnapshot {
    fn from(c: &ClockSnapshot) -> Self {
        pb::ClockSnapshot {
            kind: c.kind.as_str().to_owned(),
            round: c.round,
            state: c.state.to_proto() as i32,
            jurisdiction: c.jurisdiction.clone(),
            calendar: c.calendar.clone(),
            period: c.period.clone(),
            started_at_ms: c.started_at_ms,
            due_at_ms: c.due_at_ms,
            due_local: c.due_local.clone(),
            warning_at_ms: c.warning_at_ms.unwrap_or_default(),
            provisional: c.provisional,
            owner_id: c.owner.as_ref().map(StaffId::to_string).unwrap_or_default(),
            ended_at_ms: c.ended_at_ms.unwrap_or_default(),
            warned_at_ms: c.warned_at_ms.unwrap_or_default(),
            breached_at_ms: c.breached_at_ms.unwrap_or_default(),
            extensions: c.extensions,
            basis: c.basis.clone(),
        }
    }
}
