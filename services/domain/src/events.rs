//! The lifecycle events as domain types: one [`LifecycleEvent`] per payload of the protobuf
//! `EventEnvelope`, carried with its [`EventMeta`] in an [`Envelope`]. Converted once at the
//! edge — `Envelope: TryFrom<pb::EventEnvelope>` validates ids, enums and amounts and names the
//! offending field (`received.channel`, `assigned.handler_id`, ...); `From<&Envelope>` builds
//! the wire form back. Handlers match the domain enum and never see generated types.

use std::fmt;

use complaints_proto::v1 as pb;
use complaints_proto::v1::event_envelope::Payload;
use serde::{Deserialize, Serialize};

use crate::lifecycle::Step;
use crate::approval::ApprovalLevel;
use crate::clocks::{ClockKind, ClockSnapshot};
use crate::ids::{ComplaintId, ComplaintNumber, EventId, ProposalId, StaffId};
use crate::masking;
use crate::money::Money;
use crate::types::{Channel, Grade};
use crate::validation::{at_most, required, FieldError};

// ---------------------------------------------------------------------------------------------
// Event kinds
// ---------------------------------------------------------------------------------------------

/// The kind of a lifecycle event: one per payload of the envelope. Ordered as the lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventKind {
    Received,
    Triaged,
    Assigned,
    InvestigationOpened,
    EvidenceRegistered,
    ResolutionProposed,
    ResolutionApproved,
    ResolutionReturned,
    CustomerNotified,
    CustomerResponded,
    RemedyExecuted,
    FollowUpRecorded,
    Closed,
    ClocksChanged,
    ClockWarning,
    ClockBreached,
    ClockStopped,
    ClockRestarted,
    ExtensionRequested,
    ExtensionDecided,
    DeadlineExtended,
    Withdrawn,
    MarkedOutOfScope,
    Reassigned,
    RepeatDetected,
    MergedInto,
    JoinedMassIncident,
    LeftMassIncident,
    UnifiedStatement,
    ReviewRequested,
    ReviewDecided,
    Archived,
    CustomerErased,
}

impl EventKind {
    /// Every kind, in lifecycle order (the clock events last).
    pub const ALL: [EventKind; 33] = [
        Self::Received,
        Self::Triaged,
        Self::Assigned,
        Self::InvestigationOpened,
        Self::EvidenceRegistered,
        Self::ResolutionProposed,
        Self::ResolutionApproved,
        Self::ResolutionReturned,
        Self::CustomerNotified,
        Self::CustomerResponded,
        Self::RemedyExecuted,
        Self::FollowUpRecorded,
        Self::Closed,
        Self::ClocksChanged,
        Self::ClockWarning,
        Self::ClockBreached,
        Self::ClockStopped,
        Self::ClockRestarted,
        Self::ExtensionRequested,
        Self::ExtensionDecided,
        Self::DeadlineExtended,
        Self::Withdrawn,
        Self::MarkedOutOfScope,
        Self::Reassigned,
        Self::RepeatDetected,
        Self::MergedInto,
        Self::JoinedMassIncident,
        Self::LeftMassIncident,
        Self::UnifiedStatement,
        Self::ReviewRequested,
        Self::ReviewDecided,
        Self::Archived,
        Self::CustomerErased,
    ];

    /// The short name, which is also the last token of the subject `cms.complaint.<name>`.
    /// Stable: changing one renames a NATS subject.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Triaged => "triaged",
            Self::Assigned => "assigned",
            Self::InvestigationOpened => "investigation_opened",
            Self::EvidenceRegistered => "evidence_registered",
            Self::ResolutionProposed => "resolution_proposed",
            Self::ResolutionApproved => "resolution_approved",
            Self::ResolutionReturned => "resolution_returned",
            Self::CustomerNotified => "customer_notified",
            Self::CustomerResponded => "customer_responded",
            Self::RemedyExecuted => "remedy_executed",
            Self::FollowUpRecorded => "follow_up_recorded",
            Self::Closed => "closed",
            Self::ClocksChanged => "clocks_changed",
            Self::ClockWarning => "clock_warning",
            Self::ClockBreached => "clock_breached",
            Self::ClockStopped => "clock_stopped",
            Self::ClockRestarted => "clock_restarted",
            Self::ExtensionRequested => "extension_requested",
            Self::ExtensionDecided => "extension_decided",
            Self::DeadlineExtended => "deadline_extended",
            Self::Withdrawn => "withdrawn",
            Self::MarkedOutOfScope => "marked_out_of_scope",
            Self::Reassigned => "reassigned",
            Self::RepeatDetected => "repeat_detected",
            Self::MergedInto => "merged_into",
            Self::JoinedMassIncident => "joined_mass_incident",
            Self::LeftMassIncident => "left_mass_incident",
            Self::UnifiedStatement => "unified_statement",
            Self::ReviewRequested => "review_requested",
            Self::ReviewDecided => "review_decided",
            Self::Archived => "archived",
            Self::CustomerErased => "customer_erased",
        }
    }

    /// The kind named `name` (as [`EventKind::as_str`] spells it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The services the event catalogue names as this event's producers: one for every
    /// lifecycle step; the clock events come from each service that owns clocks (intake,
    /// investigation, approval), and their subjects name the producer.
    pub fn catalogued_producers(self) -> &'static [&'static str] {
        match self {
            Self::Received
            | Self::CustomerResponded
            | Self::FollowUpRecorded
            | Self::Closed
            | Self::Withdrawn
            | Self::ReviewRequested
            | Self::Archived
            | Self::CustomerErased => &["intake"],
            Self::Triaged
            | Self::Assigned
            | Self::Reassigned
            | Self::RepeatDetected
            | Self::MergedInto
            | Self::JoinedMassIncident
            | Self::LeftMassIncident
            | Self::UnifiedStatement => &["routing"],
            Self::InvestigationOpened
            | Self::EvidenceRegistered
            | Self::ResolutionProposed
            | Self::RemedyExecuted
            | Self::ClockStopped
            | Self::ClockRestarted
            | Self::ExtensionRequested
            | Self::MarkedOutOfScope
            | Self::ReviewDecided => &["investigation"],
            Self::ResolutionApproved | Self::ResolutionReturned | Self::ExtensionDecided => &["approval"],
            Self::DeadlineExtended => &["intake", "investigation"],
            Self::CustomerNotified => &["notification"],
            Self::ClocksChanged | Self::ClockWarning | Self::ClockBreached => CLOCK_OWNERS,
        }
    }

    /// Whether several services produce this kind (its subject then ends in the producer).
    pub fn has_several_producers(self) -> bool {
        self.catalogued_producers().len() > 1
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The services that own durable clocks.
pub const CLOCK_OWNERS: &[&str] = &["intake", "investigation", "approval"];

// ---------------------------------------------------------------------------------------------
// Enums carried by payloads
// ---------------------------------------------------------------------------------------------

/// The kind of remedy a resolution offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResolutionType {
    FullRefund,
    PartialRefund,
    Compensation,
    FeeWaiver,
    ServiceImprovement,
    ExplanationAndApology,
    ThirdPartyReferral,
}

impl ResolutionType {
    pub const ALL: [ResolutionType; 7] = [
        Self::FullRefund,
        Self::PartialRefund,
        Self::Compensation,
        Self::FeeWaiver,
        Self::ServiceImprovement,
        Self::ExplanationAndApology,
        Self::ThirdPartyReferral,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FullRefund => "full_refund",
            Self::PartialRefund => "partial_refund",
            Self::Compensation => "compensation",
            Self::FeeWaiver => "fee_waiver",
            Self::ServiceImprovement => "service_improvement",
            Self::ExplanationAndApology => "explanation_and_apology",
            Self::ThirdPartyReferral => "third_party_referral",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Remedies that pay or waive money and so need a positive amount.
    pub fn is_monetary(self) -> bool {
        matches!(self, Self::FullRefund | Self::PartialRefund | Self::Compensation | Self::FeeWaiver)
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        Some(match pb::ResolutionType::try_from(value).ok()? {
            pb::ResolutionType::Unspecified => return None,
            pb::ResolutionType::FullRefund => Self::FullRefund,
            pb::ResolutionType::PartialRefund => Self::PartialRefund,
            pb::ResolutionType::Compensation => Self::Compensation,
            pb::ResolutionType::FeeWaiver => Self::FeeWaiver,
            pb::ResolutionType::ServiceImprovement => Self::ServiceImprovement,
            pb::ResolutionType::ExplanationAndApology => Self::ExplanationAndApology,
            pb::ResolutionType::ThirdPartyReferral => Self::ThirdPartyReferral,
        })
    }

    pub fn to_proto(self) -> pb::ResolutionType {
        match self {
            Self::FullRefund => pb::ResolutionType::FullRefund,
            Self::PartialRefund => pb::ResolutionType::PartialRefund,
            Self::Compensation => pb::ResolutionType::Compensation,
            Self::FeeWaiver => pb::ResolutionType::FeeWaiver,
            Self::ServiceImprovement => pb::ResolutionType::ServiceImprovement,
            Self::ExplanationAndApology => pb::ResolutionType::ExplanationAndApology,
            Self::ThirdPartyReferral => pb::ResolutionType::ThirdPartyReferral,
        }
    }
}

/// Which notice a delivery to the customer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Acknowledgement,
    Result,
    Execution,
    /// A progress update or holding response before the statutory limit runs out; moves no stage.
    Progress,
    /// Confirmation of a withdrawal; moves no stage.
    Withdrawal,
    /// The matter is outside the institution's remit and the external routes are offered; moves
    /// no stage (the marking did).
    OutOfScope,
    /// The complaint was merged into the customer's open complaint; moves no stage.
    Merged,
    /// A mass incident's unified statement reached the member: the customer is informed.
    UnifiedStatement,
    /// The superior institution's review decision; moves no stage.
    ReviewOutcome,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 9] = [
        Self::Acknowledgement,
        Self::Result,
        Self::Execution,
        Self::Progress,
        Self::Withdrawal,
        Self::OutOfScope,
        Self::Merged,
        Self::UnifiedStatement,
        Self::ReviewOutcome,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledgement => "acknowledgement",
            Self::Result => "result",
            Self::Execution => "execution",
            Self::Progress => "progress",
            Self::Withdrawal => "withdrawal",
            Self::OutOfScope => "out_of_scope",
            Self::Merged => "merged",
            Self::UnifiedStatement => "unified_statement",
            Self::ReviewOutcome => "review_outcome",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::NotificationKind::try_from(value).ok()? {
            pb::NotificationKind::Unspecified => None,
            pb::NotificationKind::Acknowledgement => Some(Self::Acknowledgement),
            pb::NotificationKind::Result => Some(Self::Result),
            pb::NotificationKind::Execution => Some(Self::Execution),
            pb::NotificationKind::Progress => Some(Self::Progress),
            pb::NotificationKind::Withdrawal => Some(Self::Withdrawal),
            pb::NotificationKind::OutOfScope => Some(Self::OutOfScope),
            pb::NotificationKind::Merged => Some(Self::Merged),
            pb::NotificationKind::UnifiedStatement => Some(Self::UnifiedStatement),
            pb::NotificationKind::ReviewOutcome => Some(Self::ReviewOutcome),
        }
    }

    pub fn to_proto(self) -> pb::NotificationKind {
        match self {
            Self::Acknowledgement => pb::NotificationKind::Acknowledgement,
            Self::Result => pb::NotificationKind::Result,
            Self::Execution => pb::NotificationKind::Execution,
            Self::Progress => pb::NotificationKind::Progress,
            Self::Withdrawal => pb::NotificationKind::Withdrawal,
            Self::OutOfScope => pb::NotificationKind::OutOfScope,
            Self::Merged => pb::NotificationKind::Merged,
            Self::UnifiedStatement => pb::NotificationKind::UnifiedStatement,
            Self::ReviewOutcome => pb::NotificationKind::ReviewOutcome,
        }
    }
}

/// The customer's answer to the result of the investigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerResponse {
    Accepted,
    Objected,
}

impl CustomerResponse {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Objected => "objected",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Accepted, Self::Objected].into_iter().find(|response| response.as_str() == name)
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::CustomerResponse::try_from(value).ok()? {
            pb::CustomerResponse::Unspecified => None,
            pb::CustomerResponse::Accepted => Some(Self::Accepted),
            pb::CustomerResponse::Objected => Some(Self::Objected),
        }
    }

    pub fn to_proto(self) -> pb::CustomerResponse {
        match self {
            Self::Accepted => pb::CustomerResponse::Accepted,
            Self::Objected => pb::CustomerResponse::Objected,
        }
    }
}

/// The customer's satisfaction at the follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Satisfaction {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 3] = [Self::Satisfied, Self::BasicallySatisfied, Self::Dissatisfied];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Satisfied => "satisfied",
            Self::BasicallySatisfied => "basically_satisfied",
            Self::Dissatisfied => "dissatisfied",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|satisfaction| satisfaction.as_str() == name)
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::Satisfaction::try_from(value).ok()? {
            pb::Satisfaction::Unspecified => None,
            pb::Satisfaction::Satisfied => Some(Self::Satisfied),
            pb::Satisfaction::BasicallySatisfied => Some(Self::BasicallySatisfied),
            pb::Satisfaction::Dissatisfied => Some(Self::Dissatisfied),
        }
    }

    pub fn to_proto(self) -> pb::Satisfaction {
        match self {
            Self::Satisfied => pb::Satisfaction::Satisfied,
            Self::BasicallySatisfied => pb::Satisfaction::BasicallySatisfied,
            Self::Dissatisfied => pb::Satisfaction::Dissatisfied,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution
// ---------------------------------------------------------------------------------------------

/// A proposed or approved remedy. Stored as JSON by the services that keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub kind: ResolutionType,
    pub amount: Option<Money>,
    pub conclusion: String,
    /// The rules and facts relied on.
    pub basis: String,
    pub execution_method: String,
}

impl Resolution {
    /// Longest conclusion, basis or execution method, in characters.
    pub const MAX_TEXT_CHARS: usize = 4000;

    /// The resolution with its texts trimmed, or the first rule it breaks: a monetary kind needs
    /// a positive amount (`resolution.amount`); an amount must be a valid [`Money`]; conclusion,
    /// basis and execution method are required and at most [`Self::MAX_TEXT_CHARS`]
    /// (`resolution.conclusion`, ...).
    pub fn validate(self) -> Result<Self, FieldError> {
        let amount = match self.amount {
            Some(amount) => Money::parse("resolution.amount", amount.minor_units, &amount.currency)?,
            None => None,
        };
        if self.kind.is_monetary() && amount.as_ref().is_none_or(|amount| amount.minor_units <= 0) {
            return Err(FieldError::new(
                "resolution.amount",
                "a refund, compensation or fee waiver needs a positive amount",
            ));
        }
        let text = |field: &str, value: &str| required(field, value, Self::MAX_TEXT_CHARS).map(str::to_owned);
        Ok(Self {
            kind: self.kind,
            amount,
            conclusion: text("resolution.conclusion", &self.conclusion)?,
            basis: text("resolution.basis", &self.basis)?,
            execution_method: text("resolution.execution_method", &self.execution_method)?,
        })
    }
}

/// Decodes and [validates](Resolution::validate) a resolution; errors name the field as
/// `resolution.<field>`, the name it has in every message that carries it.
impl TryFrom<pb::Resolution> for Resolution {
    type Error = FieldError;

    fn try_from(resolution: pb::Resolution) -> Result<Self, FieldError> {
        Resolution {
            kind: known("resolution.resolution_type", ResolutionType::from_proto(resolution.resolution_type))?,
            amount: Money::from_proto("resolution.amount", resolution.amount.as_ref())?,
            conclusion: resolution.conclusion,
            basis: resolution.basis,
            execution_method: resolution.execution_method,
        }
        .validate()
    }
}

impl From<&Resolution> for pb::Resolution {
    fn from(resolution: &Resolution) -> Self {
        pb::Resolution {
            resolution_type: resolution.kind.to_proto() as i32,
            amount: resolution.amount.as_ref().map(pb::Money::from),
            conclusion: resolution.conclusion.clone(),
            basis: resolution.basis.clone(),
            execution_method: resolution.execution_method.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payloads
// ---------------------------------------------------------------------------------------------

/// `received`: intake registered a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintReceived {
    pub channel: Channel,
    pub summary: String,
    pub description: String,
    pub demand: String,
    pub amount_involved: Option<Money>,
    pub product_hint: String,
    /// The customer's contact, sealed for notification (see [`Contact::to_bytes`]).
    pub contact: SealedContact,
    /// The member of staff who took the complaint down; `None` for self-service channels.
    pub receiving_staff: Option<StaffId>,
    pub staff_involved: Vec<StaffId>,
    pub branch_involved: String,
    pub tags: Vec<String>,
    pub received_at_ms: i64,
    /// The rule pack the complaint's clocks follow ("cn", "gb", "us", "eu").
    pub jurisdiction: String,
    /// The committed reply date told to the customer (the statutory limit at receipt).
    pub reply_due: Option<ReplyDue>,
    /// Protected lookup key of the customer's ID number (keyed HMAC); never the number itself.
    pub customer_key: String,
}

/// A date promised to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyDue {
    pub at_ms: i64,
    /// In the jurisdiction's local time, RFC 3339 with offset.
    pub local: String,
    /// Past the published holiday calendar: computed on weekly rest days only.
    pub provisional: bool,
}

/// How to reach the customer. Personal data: its `Debug` prints masked values only.
#[derive(Clone, PartialEq, Eq)]
pub struct Contact {
    pub name: String,
    pub phone: String,
    pub email: String,
    /// The channel for replies (on the wire, unspecified means the channel of receipt).
    pub preferred_channel: Channel,
}

impl Contact {
    /// The encoded `CustomerContact`: what intake seals for notification.
    pub fn to_bytes(&self) -> Vec<u8> {
        prost::Message::encode_to_vec(&pb::CustomerContact {
            name: self.name.clone(),
            phone: self.phone.clone(),
            email: self.email.clone(),
            preferred_channel: self.preferred_channel.to_proto() as i32,
        })
    }

    /// The contact encoded in `bytes`; an unspecified preferred channel means `received_on`.
    pub fn from_bytes(bytes: &[u8], received_on: Channel) -> Result<Self, FieldError> {
        let contact: pb::CustomerContact =
            prost::Message::decode(bytes).map_err(|error| FieldError::new("sealed_contact", format!("does not hold a contact: {error}")))?;
        let preferred_channel = if contact.preferred_channel == pb::Channel::Unspecified as i32 {
            received_on
        } else {
            known("sealed_contact.preferred_channel", Channel::from_proto(contact.preferred_channel))?
        };
        Ok(Self { name: contact.name, phone: contact.phone, email: contact.email, preferred_channel })
    }
}

/// A customer's contact sealed for notification's key: opaque to everyone else.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SealedContact(pub Vec<u8>);

impl fmt::Debug for SealedContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedContact({} bytes)", self.0.len())
    }
}

impl fmt::Debug for Contact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contact")
            .field("name", &masking::name(&self.name))
            .field("phone", &masking::phone(&self.phone))
            .field("email", &masking::email(&self.email))
            .field("preferred_channel", &self.preferred_channel)
            .finish()
    }
}

/// `triaged`: routing graded and classified the complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintTriaged {
    pub grade: Grade,
    pub category: String,
    pub product: String,
    pub reasons: Vec<String>,
}

/// `assigned`: routing chose the responsible department and handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintAssigned {
    pub department: String,
    pub handler: StaffId,
    pub grade: Grade,
    pub category: String,
    pub recused_staff: Vec<StaffId>,
    /// The complaint's rule pack, passed on from `received`.
    pub jurisdiction: String,
}

/// `investigation_opened`: investigation opened the case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvestigationOpened {
    pub handler: StaffId,
    pub department: String,
}

/// `evidence_registered`: an item entered the evidence register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRegistered {
    pub evidence_number: u32,
    pub sha256: String,
    pub description: String,
    pub registered_by: StaffId,
}

/// `resolution_proposed`: investigation proposes a remedy for approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionProposed {
    pub proposal_id: ProposalId,
    pub resolution: Resolution,
    pub proposed_by: StaffId,
    /// The department handling the case, whose line approves.
    pub department: String,
}

/// `resolution_approved`: the required approval level approved the proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionApproved {
    pub proposal_id: ProposalId,
    pub resolution: Resolution,
    pub approval_level: ApprovalLevel,
    pub approvers: Vec<StaffId>,
}

/// `resolution_returned`: an approver returned the proposal for rework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionReturned {
    pub proposal_id: ProposalId,
    pub returned_by: StaffId,
    pub reason: String,
}

/// `customer_notified`: a notification was delivered to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerNotified {
    pub delivery_id: String,
    pub kind: NotificationKind,
    pub channel: Channel,
}

/// `customer_responded`: the customer accepted or objected to the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerResponded {
    pub response: CustomerResponse,
    pub comment: String,
    /// The actor who recorded it: a staff id or a channel system id such as `channel:app`;
    /// `system:intake` for an acceptance by silence.
    pub recorded_by: String,
    /// Accepted because the objection window ended without an answer.
    pub by_silence: bool,
}

/// `remedy_executed`: the accepted remedy was carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemedyExecuted {
    pub executed_by: StaffId,
    /// The payment or action reference; empty when nothing was to execute.
    pub reference: String,
    pub amount: Option<Money>,
    /// The accepted resolution had nothing to execute (explanation, apology, commitment).
    pub nothing_to_execute: bool,
}

/// `follow_up_recorded`: the satisfaction follow-up answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowUpRecorded {
    pub satisfaction: Satisfaction,
    pub accepts_outcome: bool,
    /// The actor who recorded it: a staff id or a channel system id such as `channel:app`.
    pub recorded_by: String,
}

/// `closed`: the complaint is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintClosed {
    pub reason: String,
    /// For a complaint out of scope: the external route the customer chose.
    pub external_route: Option<ExternalRoute>,
}

/// Where a customer may take a matter outside the institution's remit (SPEC: out of scope), or
/// `Declined` when they chose none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExternalRoute {
    Mediation,
    Arbitration,
    Litigation,
    IndustryAssociation,
    Regulator,
    Declined,
}

impl ExternalRoute {
    pub const ALL: [ExternalRoute; 6] =
        [Self::Mediation, Self::Arbitration, Self::Litigation, Self::IndustryAssociation, Self::Regulator, Self::Declined];

    /// The routes offered to a customer by default: every one but `Declined`.
    pub const OFFERED: [ExternalRoute; 5] =
        [Self::Mediation, Self::Arbitration, Self::Litigation, Self::IndustryAssociation, Self::Regulator];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mediation => "mediation",
            Self::Arbitration => "arbitration",
            Self::Litigation => "litigation",
            Self::IndustryAssociation => "industry_association",
            Self::Regulator => "regulator",
            Self::Declined => "declined",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|route| route.as_str() == name)
    }

    /// How the route reads in a notice to the customer.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Mediation => "mediation by a financial dispute mediation body",
            Self::Arbitration => "arbitration",
            Self::Litigation => "a claim before the courts",
            Self::IndustryAssociation => "the banking industry association",
            Self::Regulator => "a complaint to the financial regulator",
            Self::Declined => "none",
        }
    }
}

/// `withdrawn`: the customer withdrew the complaint; every clock stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintWithdrawn {
    pub reason: String,
    /// A channel system id such as `channel:app`, or a staff id.
    pub recorded_by: String,
    /// Recorded by staff on the customer's behalf.
    pub on_behalf: bool,
}

/// `marked_out_of_scope`: the matter is outside the institution's remit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkedOutOfScope {
    pub reason: String,
    /// The external routes offered to the customer; never empty.
    pub routes: Vec<ExternalRoute>,
    pub marked_by: StaffId,
}

/// Why routing moved a complaint to another handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassignCause {
    /// A supervisor moved the case, or first-contact responsibility was handed over.
    Reassignment,
    /// The triage desk corrected category, grade or product and sent it on.
    Retriage,
    /// The customer objected: a supervisor (and counsel for a contract dispute) re-reviews.
    ReReview,
    /// The customer's series of repeat complaints reached the escalation count.
    RepeatEscalation,
    /// The customer asked the superior institution to review the decision.
    Review,
}

impl ReassignCause {
    pub const ALL: [ReassignCause; 5] = [Self::Reassignment, Self::Retriage, Self::ReReview, Self::RepeatEscalation, Self::Review];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reassignment => "reassignment",
            Self::Retriage => "retriage",
            Self::ReReview => "re_review",
            Self::RepeatEscalation => "repeat_escalation",
            Self::Review => "review",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|cause| cause.as_str() == name)
    }
}

/// `repeat_detected`: the same customer, the same or a related matter, within the window.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatDetected {
    pub earlier_numbers: Vec<String>,
    pub count: u32,
    pub new_facts: bool,
    pub similarity: f64,
    /// Set when the series reached the escalation count.
    pub escalated_to: Option<StaffId>,
    pub co_reviewers: Vec<StaffId>,
}

impl Eq for RepeatDetected {}

/// `merged_into`: handled under the customer's open complaint on the same matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedInto {
    pub target_complaint_id: ComplaintId,
    pub target_number: ComplaintNumber,
    pub new_facts: bool,
    pub facts: String,
}

/// `joined_mass_incident`: a member of a mass incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMassIncident {
    pub incident_id: String,
    pub incident_number: String,
    pub task_force: Vec<StaffId>,
    /// `detected`, or the staff id who linked it.
    pub linked_by: String,
}

/// `left_mass_incident`: unlinked from a mass incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftMassIncident {
    pub incident_id: String,
    pub incident_number: String,
    pub unlinked_by: StaffId,
    pub reason: String,
}

/// `unified_statement`: the incident's one statement, for this member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedStatement {
    pub incident_id: String,
    pub incident_number: String,
    pub text: String,
    pub issued_by: StaffId,
}

/// `review_requested`: the customer asked the superior institution to review the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRequested {
    pub reason: String,
    pub requested_by: String,
}

/// `review_decided`: the reviewer upheld or changed the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDecided {
    pub upheld: bool,
    pub conclusion: String,
    pub decided_by: StaffId,
}

/// `customer_erased`: the customer's personal data were erased (crypto-shredding); each
/// service destroys its data keys of the complaint and of the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerErased {
    pub customer_key: String,
    pub erased_by: StaffId,
    pub reason: String,
}

/// `archived`: the complete case file was archived; nothing may change the complaint again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintArchived {
    pub archived_by: StaffId,
    pub note: String,
}

/// `reassigned`: routing moved an assigned complaint to another handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplaintReassigned {
    pub department: String,
    pub handler: StaffId,
    pub previous_handler: Option<StaffId>,
    pub cause: ReassignCause,
    pub reason: String,
    /// A staff id, or `system:routing` for the automatic re-review assignment.
    pub reassigned_by: String,
    pub grade: Grade,
    pub category: String,
    pub product: String,
    /// Legal & compliance counsel joining the re-review of a contract dispute.
    pub co_reviewers: Vec<StaffId>,
}

/// Why a complaint's clocks were stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// External appraisal, testing or an expert opinion (excluded time under CBIRC Order 2020 No. 3).
    ExternalAppraisal,
    WaitingForCustomer,
}

impl StopReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ExternalAppraisal => "external_appraisal",
            Self::WaitingForCustomer => "waiting_for_customer",
        }
    }

    /// `None` for unknown values and `UNSPECIFIED`.
    pub fn from_proto(value: i32) -> Option<Self> {
        match pb::StopReason::try_from(value).ok()? {
            pb::StopReason::Unspecified => None,
            pb::StopReason::ExternalAppraisal => Some(Self::ExternalAppraisal),
            pb::StopReason::WaitingForCustomer => Some(Self::WaitingForCustomer),
        }
    }

    pub fn to_proto(self) -> pb::StopReason {
        match self {
            Self::ExternalAppraisal => pb::StopReason::ExternalAppraisal,
            Self::WaitingForCustomer => pb::StopReason::WaitingForCustomer,
        }
    }
}

/// `clock_stopped`: the handler stopped the complaint's clocks (stop-clock).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockStopped {
    pub reason: StopReason,
    pub note: String,
    pub stopped_by: StaffId,
}

/// `clock_restarted`: the stop-clock ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockRestarted {
    pub note: String,
    pub restarted_by: StaffId,
}

/// `extension_requested`: the handler asks for the next extension of a clock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionRequested {
    pub request_id: String,
    pub clock: ClockKind,
    pub reason: String,
    pub requested_by: StaffId,
    pub department: String,
}

/// `extension_decided`: the superior level approved or refused an extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionDecided {
    pub request_id: String,
    pub clock: ClockKind,
    pub approved: bool,
    pub decided_by: StaffId,
    pub comment: String,
    pub reason: String,
}

/// `deadline_extended`: the clock's owner applied an approved extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineExtended {
    pub clock: ClockSnapshot,
    pub reason: String,
}

/// `clocks_changed`: clocks of the producer started, paused, resumed, extended or ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClocksChanged {
    pub clocks: Vec<ClockSnapshot>,
}

/// `clock_warning`: a clock passed its warning point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockWarning {
    pub clock: ClockSnapshot,
    pub notify: Vec<StaffId>,
}

/// `clock_breached`: a clock passed its due instant unmet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockBreached {
    pub clock: ClockSnapshot,
    pub escalated_to: Vec<StaffId>,
}

// ---------------------------------------------------------------------------------------------
// The event and its envelope
// ---------------------------------------------------------------------------------------------

/// A lifecycle event: exactly one payload of the envelope's `payload` oneof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleEvent {
    Received(ComplaintReceived),
    Triaged(ComplaintTriaged),
    Assigned(ComplaintAssigned),
    InvestigationOpened(InvestigationOpened),
    EvidenceRegistered(EvidenceRegistered),
    ResolutionProposed(ResolutionProposed),
    ResolutionApproved(ResolutionApproved),
    ResolutionReturned(ResolutionReturned),
    CustomerNotified(CustomerNotified),
    CustomerResponded(CustomerResponded),
    RemedyExecuted(RemedyExecuted),
    FollowUpRecorded(FollowUpRecorded),
    Closed(ComplaintClosed),
    ClocksChanged(ClocksChanged),
    ClockWarning(ClockWarning),
    ClockBreached(ClockBreached),
    ClockStopped(ClockStopped),
    ClockRestarted(ClockRestarted),
    ExtensionRequested(ExtensionRequested),
    ExtensionDecided(ExtensionDecided),
    DeadlineExtended(DeadlineExtended),
    Withdrawn(ComplaintWithdrawn),
    MarkedOutOfScope(MarkedOutOfScope),
    Reassigned(ComplaintReassigned),
    RepeatDetected(RepeatDetected),
    MergedInto(MergedInto),
    JoinedMassIncident(JoinedMassIncident),
    LeftMassIncident(LeftMassIncident),
    UnifiedStatement(UnifiedStatement),
    ReviewRequested(ReviewRequested),
    ReviewDecided(ReviewDecided),
    Archived(ComplaintArchived),
    CustomerErased(CustomerErased),
}

impl LifecycleEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            Self::Received(_) => EventKind::Received,
            Self::Triaged(_) => EventKind::Triaged,
            Self::Assigned(_) => EventKind::Assigned,
            Self::InvestigationOpened(_) => EventKind::InvestigationOpened,
            Self::EvidenceRegistered(_) => EventKind::EvidenceRegistered,
            Self::ResolutionProposed(_) => EventKind::ResolutionProposed,
            Self::ResolutionApproved(_) => EventKind::ResolutionApproved,
            Self::ResolutionReturned(_) => EventKind::ResolutionReturned,
            Self::CustomerNotified(_) => EventKind::CustomerNotified,
            Self::CustomerResponded(_) => EventKind::CustomerResponded,
            Self::RemedyExecuted(_) => EventKind::RemedyExecuted,
            Self::FollowUpRecorded(_) => EventKind::FollowUpRecorded,
            Self::Closed(_) => EventKind::Closed,
            Self::ClocksChanged(_) => EventKind::ClocksChanged,
            Self::ClockWarning(_) => EventKind::ClockWarning,
            Self::ClockBreached(_) => EventKind::ClockBreached,
            Self::ClockStopped(_) => EventKind::ClockStopped,
            Self::ClockRestarted(_) => EventKind::ClockRestarted,
            Self::ExtensionRequested(_) => EventKind::ExtensionRequested,
            Self::ExtensionDecided(_) => EventKind::ExtensionDecided,
            Self::DeadlineExtended(_) => EventKind::DeadlineExtended,
            Self::Withdrawn(_) => EventKind::Withdrawn,
            Self::MarkedOutOfScope(_) => EventKind::MarkedOutOfScope,
            Self::Reassigned(_) => EventKind::Reassigned,
            Self::RepeatDetected(_) => EventKind::RepeatDetected,
            Self::MergedInto(_) => EventKind::MergedInto,
            Self::JoinedMassIncident(_) => EventKind::JoinedMassIncident,
            Self::LeftMassIncident(_) => EventKind::LeftMassIncident,
            Self::UnifiedStatement(_) => EventKind::UnifiedStatement,
            Self::ReviewRequested(_) => EventKind::ReviewRequested,
            Self::ReviewDecided(_) => EventKind::ReviewDecided,
            Self::Archived(_) => EventKind::Archived,
            Self::CustomerErased(_) => EventKind::CustomerErased,
        }
    }

    /// The lifecycle step this event announces; `None` for events that do not move the stage
    /// (registration itself, evidence, the execution notice).
    pub fn step(&self) -> Option<Step> {
        Some(match self {
            Self::Received(_)
            | Self::EvidenceRegistered(_)
            | Self::ClocksChanged(_)
            | Self::ClockWarning(_)
            | Self::ClockBreached(_)
            | Self::ClockStopped(_)
            | Self::ClockRestarted(_)
            | Self::ExtensionRequested(_)
            | Self::ExtensionDecided(_)
            | Self::DeadlineExtended(_)
            | Self::Reassigned(_)
            | Self::RepeatDetected(_)
            | Self::UnifiedStatement(_) => return None,
            Self::Triaged(_) => Step::Triaged,
            Self::Assigned(_) => Step::Assigned,
            Self::InvestigationOpened(_) => Step::InvestigationOpened,
            Self::ResolutionProposed(_) => Step::ResolutionProposed,
            Self::ResolutionApproved(_) => Step::ResolutionApproved,
            Self::ResolutionReturned(_) => Step::ResolutionReturned,
            Self::CustomerNotified(notified) => match notified.kind {
                NotificationKind::Acknowledgement => Step::AcknowledgementSent,
                NotificationKind::Result => Step::ResultDelivered,
                NotificationKind::Execution
                | NotificationKind::Progress
                | NotificationKind::Withdrawal
                | NotificationKind::OutOfScope
                | NotificationKind::Merged
                | NotificationKind::ReviewOutcome => return None,
                NotificationKind::UnifiedStatement => Step::UnifiedStatementDelivered,
            },
            Self::CustomerResponded(responded) => match responded.response {
                CustomerResponse::Accepted => Step::CustomerAccepted { by_silence: responded.by_silence },
                CustomerResponse::Objected => Step::CustomerObjected,
            },
            Self::RemedyExecuted(executed) if executed.nothing_to_execute => Step::NothingToExecute,
            Self::RemedyExecuted(_) => Step::RemedyExecuted,
            Self::FollowUpRecorded(_) => Step::FollowUpRecorded,
            Self::Closed(_) => Step::Closed,
            Self::Withdrawn(_) => Step::Withdrawn,
            Self::MarkedOutOfScope(_) => Step::MarkedOutOfScope,
            Self::MergedInto(_) => Step::MergedInto,
            Self::JoinedMassIncident(_) => Step::JoinedMassIncident,
            Self::LeftMassIncident(_) => Step::LeftMassIncident,
            Self::ReviewRequested(_) => Step::ReviewRequested,
            Self::ReviewDecided(decided) if decided.upheld => Step::ReviewUpheld,
            Self::ReviewDecided(_) => Step::ReviewChanged,
            Self::Archived(_) => Step::Archived,
            // Erasure changes no stage: the record stays, unreadable.
            Self::CustomerErased(_) => return None,
        })
    }
}

/// What every event carries besides its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMeta {
    /// Also the broker's de-duplication id.
    pub event_id: EventId,
    pub complaint_id: ComplaintId,
    pub complaint_number: ComplaintNumber,
    /// Milliseconds since the Unix epoch, UTC.
    pub occurred_at_ms: i64,
    /// Name of the producing service, e.g. `intake`.
    pub producer: String,
    pub schema_version: u32,
    /// W3C trace context of the producing span; empty when there was none.
    pub traceparent: String,
    pub tracestate: String,
}

/// A decoded lifecycle event with its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub meta: EventMeta,
    pub event: LifecycleEvent,
}

impl Envelope {
    pub fn kind(&self) -> EventKind {
        self.event.kind()
    }
}

/// Decodes an envelope: event id, complaint id and complaint number present and well formed,
/// a payload present and valid. The schema version is carried, not checked.
impl TryFrom<pb::EventEnvelope> for Envelope {
    type Error = FieldError;

    fn try_from(envelope: pb::EventEnvelope) -> Result<Self, FieldError> {
        let meta = EventMeta {
            event_id: EventId::parse("event_id", &envelope.event_id)?,
            complaint_id: ComplaintId::parse("complaint_id", &envelope.complaint_id)?,
            complaint_number: ComplaintNumber::parse("complaint_number", &envelope.complaint_number)?,
            occurred_at_ms: envelope.occurred_at_ms,
            producer: envelope.producer,
            schema_version: envelope.schema_version,
            traceparent: envelope.traceparent,
            tracestate: envelope.tracestate,
        };
        let payload = envelope.payload.ok_or_else(|| FieldError::new("payload", "is required"))?;
        Ok(Self { meta, event: LifecycleEvent::try_from(payload)? })
    }
}

impl From<&Envelope> for pb::EventEnvelope {
    fn from(envelope: &Envelope) -> Self {
        let meta = &envelope.meta;
        pb::EventEnvelope {
            event_id: meta.event_id.to_string(),
            complaint_id: meta.complaint_id.to_string(),
            occurred_at_ms: meta.occurred_at_ms,
            producer: meta.producer.clone(),
            schema_version: meta.schema_version,
            traceparent: meta.traceparent.clone(),
            tracestate: meta.tracestate.clone(),
            complaint_number: meta.complaint_number.to_string(),
            payload: Some(Payload::from(&envelope.event)),
        }
    }
}

/// Decodes a payload; errors name the field under the payload's oneof name, e.g.
/// `assigned.handler_id` or `resolution_proposed.resolution.amount`.
impl TryFrom<Payload> for LifecycleEvent {
    type Error = FieldError;

    fn try_from(payload: Payload) -> Result<Self, FieldError> {
        Ok(match payload {
            Payload::Received(p) => Self::Received(p.try_into().map_err(within("received"))?),
            Payload::Triaged(p) => Self::Triaged(p.try_into().map_err(within("triaged"))?),
            Payload::Assigned(p) => Self::Assigned(p.try_into().map_err(within("assigned"))?),
            Payload::InvestigationOpened(p) => {
                Self::InvestigationOpened(p.try_into().map_err(within("investigation_opened"))?)
            }
            Payload::EvidenceRegistered(p) => {
                Self::EvidenceRegistered(p.try_into().map_err(within("evidence_registered"))?)
            }
            Payload::ResolutionProposed(p) => {
                Self::ResolutionProposed(p.try_into().map_err(within("resolution_proposed"))?)
            }
            Payload::ResolutionApproved(p) => {
                Self::ResolutionApproved(p.try_into().map_err(within("resolution_approved"))?)
            }
            Payload::ResolutionReturned(p) => {
                Self::ResolutionReturned(p.try_into().map_err(within("resolution_returned"))?)
            }
            Payload::CustomerNotified(p) => Self::CustomerNotified(p.try_into().map_err(within("customer_notified"))?),
            Payload::CustomerResponded(p) => {
                Self::CustomerResponded(p.try_into().map_err(within("customer_responded"))?)
            }
            Payload::RemedyExecuted(p) => Self::RemedyExecuted(p.try_into().map_err(within("remedy_executed"))?),
            Payload::FollowUpRecorded(p) => {
                Self::FollowUpRecorded(p.try_into().map_err(within("follow_up_recorded"))?)
            }
            Payload::Closed(p) => Self::Closed(p.try_into().map_err(within("closed"))?),
            Payload::ClocksChanged(p) => Self::ClocksChanged(ClocksChanged {
                clocks: p
                    .clocks
                    .into_iter()
                    .enumerate()
                    .map(|(i, clock)| clock.try_into().map_err(within(&format!("clocks_changed.clocks[{i}]"))))
                    .collect::<Result<_, _>>()?,
            }),
            Payload::ClockWarning(p) => Self::ClockWarning(ClockWarning {
                clock: clock_snapshot("clock_warning.clock", p.clock)?,
                notify: staff_list("clock_warning.notify_ids", &p.notify_ids)?,
            }),
            Payload::ClockBreached(p) => Self::ClockBreached(ClockBreached {
                clock: clock_snapshot("clock_breached.clock", p.clock)?,
                escalated_to: staff_list("clock_breached.escalated_to_ids", &p.escalated_to_ids)?,
            }),
            Payload::ClockStopped(p) => Self::ClockStopped(ClockStopped {
                reason: known("clock_stopped.reason", StopReason::from_proto(p.reason))?,
                note: p.note,
                stopped_by: StaffId::parse("clock_stopped.stopped_by", &p.stopped_by)?,
            }),
            Payload::ClockRestarted(p) => Self::ClockRestarted(ClockRestarted {
                note: p.note,
                restarted_by: StaffId::parse("clock_restarted.restarted_by", &p.restarted_by)?,
            }),
            Payload::ExtensionRequested(p) => Self::ExtensionRequested(ExtensionRequested {
                request_id: required("extension_requested.request_id", &p.request_id, 64)?.to_owned(),
                clock: clock_kind("extension_requested.clock", &p.clock)?,
                reason: p.reason,
                requested_by: StaffId::parse("extension_requested.requested_by", &p.requested_by)?,
                department: p.department,
            }),
            Payload::ExtensionDecided(p) => Self::ExtensionDecided(ExtensionDecided {
                request_id: required("extension_decided.request_id", &p.request_id, 64)?.to_owned(),
                clock: clock_kind("extension_decided.clock", &p.clock)?,
                approved: p.approved,
                decided_by: StaffId::parse("extension_decided.decided_by", &p.decided_by)?,
                comment: p.comment,
                reason: p.reason,
            }),
            Payload::DeadlineExtended(p) => Self::DeadlineExtended(DeadlineExtended {
                clock: clock_snapshot("deadline_extended.clock", p.clock)?,
                reason: p.reason,
            }),
            Payload::Withdrawn(p) => Self::Withdrawn(ComplaintWithdrawn {
                reason: required("withdrawn.reason", &p.reason, 4000)?.to_owned(),
                recorded_by: required("withdrawn.recorded_by", &p.recorded_by, 128)?.to_owned(),
                on_behalf: p.on_behalf,
            }),
            Payload::MarkedOutOfScope(p) => {
                if p.routes.is_empty() {
                    return Err(FieldError::new("marked_out_of_scope.routes", "must name at least one external route"));
                }
                Self::MarkedOutOfScope(MarkedOutOfScope {
                    reason: required("marked_out_of_scope.reason", &p.reason, 4000)?.to_owned(),
                    routes: p
                        .routes
                        .iter()
                        .enumerate()
                        .map(|(i, name)| external_route(&format!("marked_out_of_scope.routes[{i}]"), name))
                        .collect::<Result<_, _>>()?,
                    marked_by: StaffId::parse("marked_out_of_scope.marked_by", &p.marked_by)?,
                })
            }
            Payload::Reassigned(p) => Self::Reassigned(ComplaintReassigned {
                department: required("reassigned.department", &p.department, 64)?.to_owned(),
                handler: StaffId::parse("reassigned.handler_id", &p.handler_id)?,
                previous_handler: optional_staff("reassigned.previous_handler_id", &p.previous_handler_id)?,
                cause: ReassignCause::parse(&p.cause)
                    .ok_or_else(|| FieldError::new("reassigned.cause", "must be reassignment, retriage, re_review or repeat_escalation"))?,
                reason: p.reason,
                reassigned_by: required("reassigned.reassigned_by", &p.reassigned_by, 128)?.to_owned(),
                grade: known("reassigned.grade", Grade::from_proto(p.grade))?,
                category: p.category,
                product: p.product,
                co_reviewers: staff_list("reassigned.co_reviewer_ids", &p.co_reviewer_ids)?,
            }),
            Payload::RepeatDetected(p) => Self::RepeatDetected(RepeatDetected {
                earlier_numbers: p.earlier_numbers,
                count: p.count,
                new_facts: p.new_facts,
                similarity: p.similarity,
                escalated_to: optional_staff("repeat_detected.escalated_to_id", &p.escalated_to_id)?,
                co_reviewers: staff_list("repeat_detected.co_reviewer_ids", &p.co_reviewer_ids)?,
            }),
            Payload::MergedInto(p) => Self::MergedInto(MergedInto {
                target_complaint_id: ComplaintId::parse("merged_into.target_complaint_id", &p.target_complaint_id)?,
                target_number: ComplaintNumber::parse("merged_into.target_number", &p.target_number)?,
                new_facts: p.new_facts,
                facts: p.facts,
            }),
            Payload::JoinedMassIncident(p) => Self::JoinedMassIncident(JoinedMassIncident {
                incident_id: required("joined_mass_incident.incident_id", &p.incident_id, 64)?.to_owned(),
                incident_number: required("joined_mass_incident.incident_number", &p.incident_number, 64)?.to_owned(),
                task_force: staff_list("joined_mass_incident.task_force_ids", &p.task_force_ids)?,
                linked_by: p.linked_by,
            }),
            Payload::LeftMassIncident(p) => Self::LeftMassIncident(LeftMassIncident {
                incident_id: required("left_mass_incident.incident_id", &p.incident_id, 64)?.to_owned(),
                incident_number: required("left_mass_incident.incident_number", &p.incident_number, 64)?.to_owned(),
                unlinked_by: StaffId::parse("left_mass_incident.unlinked_by", &p.unlinked_by)?,
                reason: p.reason,
            }),
            Payload::ReviewRequested(p) => Self::ReviewRequested(ReviewRequested {
                reason: required("review_requested.reason", &p.reason, 4000)?.to_owned(),
                requested_by: required("review_requested.requested_by", &p.requested_by, 128)?.to_owned(),
            }),
            Payload::ReviewDecided(p) => Self::ReviewDecided(ReviewDecided {
                upheld: p.upheld,
                conclusion: required("review_decided.conclusion", &p.conclusion, 4000)?.to_owned(),
                decided_by: StaffId::parse("review_decided.decided_by", &p.decided_by)?,
            }),
            Payload::Archived(p) => Self::Archived(ComplaintArchived {
                archived_by: StaffId::parse("archived.archived_by", &p.archived_by)?,
                note: {
                    at_most("archived.note", &p.note, 4000)?;
                    p.note
                },
            }),
            Payload::CustomerErased(p) => Self::CustomerErased(CustomerErased {
                customer_key: required("customer_erased.customer_key", &p.customer_key, 128)?.to_owned(),
                erased_by: StaffId::parse("customer_erased.erased_by", &p.erased_by)?,
                reason: required("customer_erased.reason", &p.reason, 4000)?.to_owned(),
            }),
            Payload::UnifiedStatement(p) => Self::UnifiedStatement(UnifiedStatement {
                incident_id: required("unified_statement.incident_id", &p.incident_id, 64)?.to_owned(),
                incident_number: required("unified_statement.incident_number", &p.incident_number, 64)?.to_owned(),
                text: required("unified_statement.text", &p.text, 8000)?.to_owned(),
                issued_by: StaffId::parse("unified_statement.issued_by", &p.issued_by)?,
            }),
        })
    }
}

impl From<&LifecycleEvent> for Payload {
    fn from(event: &LifecycleEvent) -> Self {
        match event {
            LifecycleEvent::Received(p) => Payload::Received(p.into()),
            LifecycleEvent::Triaged(p) => Payload::Triaged(p.into()),
            LifecycleEvent::Assigned(p) => Payload::Assigned(p.into()),
            LifecycleEvent::InvestigationOpened(p) => Payload::InvestigationOpened(p.into()),
            LifecycleEvent::EvidenceRegistered(p) => Payload::EvidenceRegistered(p.into()),
            LifecycleEvent::ResolutionProposed(p) => Payload::ResolutionProposed(p.into()),
            LifecycleEvent::ResolutionApproved(p) => Payload::ResolutionApproved(p.into()),
            LifecycleEvent::ResolutionReturned(p) => Payload::ResolutionReturned(p.into()),
            LifecycleEvent::CustomerNotified(p) => Payload::CustomerNotified(p.into()),
            LifecycleEvent::CustomerResponded(p) => Payload::CustomerResponded(p.into()),
            LifecycleEvent::RemedyExecuted(p) => Payload::RemedyExecuted(p.into()),
            LifecycleEvent::FollowUpRecorded(p) => Payload::FollowUpRecorded(p.into()),
            LifecycleEvent::Closed(p) => Payload::Closed(p.into()),
            LifecycleEvent::ClocksChanged(p) => {
                Payload::ClocksChanged(pb::ClocksChanged { clocks: p.clocks.iter().map(Into::into).collect() })
            }
            LifecycleEvent::ClockWarning(p) => Payload::ClockWarning(pb::ClockWarning {
                clock: Some((&p.clock).into()),
                notify_ids: p.notify.iter().map(StaffId::to_string).collect(),
            }),
            LifecycleEvent::ClockBreached(p) => Payload::ClockBreached(pb::ClockBreached {
                clock: Some((&p.clock).into()),
                escalated_to_ids: p.escalated_to.iter().map(StaffId::to_string).collect(),
            }),
            LifecycleEvent::ClockStopped(p) => Payload::ClockStopped(pb::ClockStopped {
                reason: p.reason.to_proto() as i32,
                note: p.note.clone(),
                stopped_by: p.stopped_by.to_string(),
            }),
            LifecycleEvent::ClockRestarted(p) => {
                Payload::ClockRestarted(pb::ClockRestarted { note: p.note.clone(), restarted_by: p.restarted_by.to_string() })
            }
            LifecycleEvent::ExtensionRequested(p) => Payload::ExtensionRequested(pb::ExtensionRequested {
                request_id: p.request_id.clone(),
                clock: p.clock.as_str().to_owned(),
                reason: p.reason.clone(),
                requested_by: p.requested_by.to_string(),
                department: p.department.clone(),
            }),
            LifecycleEvent::ExtensionDecided(p) => Payload::ExtensionDecided(pb::ExtensionDecided {
                request_id: p.request_id.clone(),
                clock: p.clock.as_str().to_owned(),
                approved: p.approved,
                decided_by: p.decided_by.to_string(),
                comment: p.comment.clone(),
                reason: p.reason.clone(),
            }),
            LifecycleEvent::DeadlineExtended(p) => {
                Payload::DeadlineExtended(pb::DeadlineExtended { clock: Some((&p.clock).into()), reason: p.reason.clone() })
            }
            LifecycleEvent::Withdrawn(p) => Payload::Withdrawn(pb::ComplaintWithdrawn {
                reason: p.reason.clone(),
                recorded_by: p.recorded_by.clone(),
                on_behalf: p.on_behalf,
            }),
            LifecycleEvent::MarkedOutOfScope(p) => Payload::MarkedOutOfScope(pb::MarkedOutOfScope {
                reason: p.reason.clone(),
                routes: p.routes.iter().map(|route| route.as_str().to_owned()).collect(),
                marked_by: p.marked_by.to_string(),
            }),
            LifecycleEvent::Reassigned(p) => Payload::Reassigned(pb::ComplaintReassigned {
                department: p.department.clone(),
                handler_id: p.handler.to_string(),
                previous_handler_id: p.previous_handler.as_ref().map(StaffId::to_string).unwrap_or_default(),
                cause: p.cause.as_str().to_owned(),
                reason: p.reason.clone(),
                reassigned_by: p.reassigned_by.clone(),
                grade: p.grade.to_proto() as i32,
                category: p.category.clone(),
                product: p.product.clone(),
                co_reviewer_ids: p.co_reviewers.iter().map(StaffId::to_string).collect(),
            }),
            LifecycleEvent::RepeatDetected(p) => Payload::RepeatDetected(pb::RepeatDetected {
                earlier_numbers: p.earlier_numbers.clone(),
                count: p.count,
                new_facts: p.new_facts,
                similarity: p.similarity,
                escalated_to_id: p.escalated_to.as_ref().map(StaffId::to_string).unwrap_or_default(),
                co_reviewer_ids: p.co_reviewers.iter().map(StaffId::to_string).collect(),
            }),
            LifecycleEvent::MergedInto(p) => Payload::MergedInto(pb::MergedInto {
                target_complaint_id: p.target_complaint_id.to_string(),
                target_number: p.target_number.to_string(),
                new_facts: p.new_facts,
                facts: p.facts.clone(),
            }),
            LifecycleEvent::JoinedMassIncident(p) => Payload::JoinedMassIncident(pb::JoinedMassIncident {
                incident_id: p.incident_id.clone(),
                incident_number: p.incident_number.clone(),
                task_force_ids: p.task_force.iter().map(StaffId::to_string).collect(),
                linked_by: p.linked_by.clone(),
            }),
            LifecycleEvent::LeftMassIncident(p) => Payload::LeftMassIncident(pb::LeftMassIncident {
                incident_id: p.incident_id.clone(),
                incident_number: p.incident_number.clone(),
                unlinked_by: p.unlinked_by.to_string(),
                reason: p.reason.clone(),
            }),
            LifecycleEvent::ReviewRequested(p) => {
                Payload::ReviewRequested(pb::ReviewRequested { reason: p.reason.clone(), requested_by: p.requested_by.clone() })
            }
            LifecycleEvent::ReviewDecided(p) => Payload::ReviewDecided(pb::ReviewDecided {
                upheld: p.upheld,
                conclusion: p.conclusion.clone(),
                decided_by: p.decided_by.to_string(),
            }),
            LifecycleEvent::Archived(p) => {
                Payload::Archived(pb::ComplaintArchived { archived_by: p.archived_by.to_string(), note: p.note.clone() })
            }
            LifecycleEvent::CustomerErased(p) => Payload::CustomerErased(pb::CustomerErased {
                customer_key: p.customer_key.clone(),
                erased_by: p.erased_by.to_string(),
                reason: p.reason.clone(),
            }),
            LifecycleEvent::UnifiedStatement(p) => Payload::UnifiedStatement(pb::UnifiedStatement {
                incident_id: p.incident_id.clone(),
                incident_number: p.incident_number.clone(),
                text: p.text.clone(),
                issued_by: p.issued_by.to_string(),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payload conversions. Errors name fields relative to the payload message; the envelope adds
// the oneof name in front.
// ---------------------------------------------------------------------------------------------

/// A preferred channel left unspecified on the wire means the channel of receipt.
impl TryFrom<pb::ComplaintReceived> for ComplaintReceived {
    type Error = FieldError;

    fn try_from(p: pb::ComplaintReceived) -> Result<Self, FieldError> {
        let channel = known("channel", Channel::from_proto(p.channel))?;
        let receiving_staff = if p.receiving_staff.trim().is_empty() {
            None
        } else {
            Some(StaffId::parse("receiving_staff", &p.receiving_staff)?)
        };
        Ok(Self {
            channel,
            summary: p.summary,
            description: p.description,
            demand: p.demand,
            amount_involved: Money::from_proto("amount_involved", p.amount_involved.as_ref())?,
            product_hint: p.product_hint,
            contact: SealedContact(p.sealed_contact),
            receiving_staff,
            staff_involved: staff_list("staff_involved", &p.staff_involved)?,
            branch_involved: p.branch_involved,
            tags: p.tags,
            received_at_ms: p.received_at_ms,
            jurisdiction: p.jurisdiction,
            reply_due: (p.reply_due_at_ms != 0).then_some(ReplyDue {
                at_ms: p.reply_due_at_ms,
                local: p.reply_due_local,
                provisional: p.reply_due_provisional,
            }),
            customer_key: p.customer_key,
        })
    }
}

impl From<&ComplaintReceived> for pb::ComplaintReceived {
    fn from(p: &ComplaintReceived) -> Self {
        pb::ComplaintReceived {
            channel: p.channel.to_proto() as i32,
            summary: p.summary.clone(),
            description: p.description.clone(),
            demand: p.demand.clone(),
            amount_involved: p.amount_involved.as_ref().map(pb::Money::from),
            product_hint: p.product_hint.clone(),
            sealed_contact: p.contact.0.clone(),
            receiving_staff: p.receiving_staff.as_ref().map(StaffId::to_string).unwrap_or_default(),
            staff_involved: p.staff_involved.iter().map(StaffId::to_string).collect(),
            branch_involved: p.branch_involved.clone(),
            tags: p.tags.clone(),
            received_at_ms: p.received_at_ms,
            jurisdiction: p.jurisdiction.clone(),
            reply_due_at_ms: p.reply_due.as_ref().map_or(0, |due| due.at_ms),
            reply_due_local: p.reply_due.as_ref().map(|due| due.local.clone()).unwrap_or_default(),
            reply_due_provisional: p.reply_due.as_ref().is_some_and(|due| due.provisional),
            customer_key: p.customer_key.clone(),
        }
    }
}

impl TryFrom<pb::ComplaintTriaged> for ComplaintTriaged {
    type Error = FieldError;

    fn try_from(p: pb::ComplaintTriaged) -> Result<Self, FieldError> {
        Ok(Self {
            grade: known("grade", Grade::from_proto(p.grade))?,
            category: p.category,
            product: p.product,
            reasons: p.reasons,
        })
    }
}

impl From<&ComplaintTriaged> for pb::ComplaintTriaged {
    fn from(p: &ComplaintTriaged) -> Self {
        pb::ComplaintTriaged {
            grade: p.grade.to_proto() as i32,
            category: p.category.clone(),
            product: p.product.clone(),
            reasons: p.reasons.clone(),
        }
    }
}

impl TryFrom<pb::ComplaintAssigned> for ComplaintAssigned {
    type Error = FieldError;

    fn try_from(p: pb::ComplaintAssigned) -> Result<Self, FieldError> {
        Ok(Self {
            department: p.department,
            handler: StaffId::parse("handler_id", &p.handler_id)?,
            grade: known("grade", Grade::from_proto(p.grade))?,
            category: p.category,
            recused_staff: staff_list("recused_staff", &p.recused_staff)?,
            jurisdiction: p.jurisdiction,
        })
    }
}

impl From<&ComplaintAssigned> for pb::ComplaintAssigned {
    fn from(p: &ComplaintAssigned) -> Self {
        pb::ComplaintAssigned {
            department: p.department.clone(),
            handler_id: p.handler.to_string(),
            grade: p.grade.to_proto() as i32,
            category: p.category.clone(),
            recused_staff: p.recused_staff.iter().map(StaffId::to_string).collect(),
            jurisdiction: p.jurisdiction.clone(),
        }
    }
}

impl TryFrom<pb::InvestigationOpened> for InvestigationOpened {
    type Error = FieldError;

    fn try_from(p: pb::InvestigationOpened) -> Result<Self, FieldError> {
        Ok(Self { handler: StaffId::parse("handler_id", &p.handler_id)?, department: p.department })
    }
}

impl From<&InvestigationOpened> for pb::InvestigationOpened {
    fn from(p: &InvestigationOpened) -> Self {
        pb::InvestigationOpened { handler_id: p.handler.to_string(), department: p.department.clone() }
    }
}

impl TryFrom<pb::EvidenceRegistered> for EvidenceRegistered {
    type Error = FieldError;

    fn try_from(p: pb::EvidenceRegistered) -> Result<Self, FieldError> {
        Ok(Self {
            evidence_number: p.evidence_number,
            sha256: p.sha256,
            description: p.description,
            registered_by: StaffId::parse("registered_by", &p.registered_by)?,
        })
    }
}

impl From<&EvidenceRegistered> for pb::EvidenceRegistered {
    fn from(p: &EvidenceRegistered) -> Self {
        pb::EvidenceRegistered {
            evidence_number: p.evidence_number,
            sha256: p.sha256.clone(),
            description: p.description.clone(),
            registered_by: p.registered_by.to_string(),
        }
    }
}

impl TryFrom<pb::ResolutionProposed> for ResolutionProposed {
    type Error = FieldError;

    fn try_from(p: pb::ResolutionProposed) -> Result<Self, FieldError> {
        Ok(Self {
            proposal_id: ProposalId::parse("proposal_id", &p.proposal_id)?,
            resolution: resolution(p.resolution)?,
            proposed_by: StaffId::parse("proposed_by", &p.proposed_by)?,
            department: required("department", &p.department, 64)?.to_owned(),
        })
    }
}

impl From<&ResolutionProposed> for pb::ResolutionProposed {
    fn from(p: &ResolutionProposed) -> Self {
        pb::ResolutionProposed {
            proposal_id: p.proposal_id.to_string(),
            resolution: Some((&p.resolution).into()),
            proposed_by: p.proposed_by.to_string(),
            department: p.department.clone(),
        }
    }
}

impl TryFrom<pb::ResolutionApproved> for ResolutionApproved {
    type Error = FieldError;

    fn try_from(p: pb::ResolutionApproved) -> Result<Self, FieldError> {
        let approval_level = ApprovalLevel::parse(&p.approval_level).ok_or_else(|| {
            FieldError::new("approval_level", "must be department_head, branch_vice_president or head_office")
        })?;
        Ok(Self {
            proposal_id: ProposalId::parse("proposal_id", &p.proposal_id)?,
            resolution: resolution(p.resolution)?,
            approval_level,
            approvers: staff_list("approvers", &p.approvers)?,
        })
    }
}

impl From<&ResolutionApproved> for pb::ResolutionApproved {
    fn from(p: &ResolutionApproved) -> Self {
        pb::ResolutionApproved {
            proposal_id: p.proposal_id.to_string(),
            resolution: Some((&p.resolution).into()),
            approval_level: p.approval_level.as_str().to_owned(),
            approvers: p.approvers.iter().map(StaffId::to_string).collect(),
        }
    }
}

impl TryFrom<pb::ResolutionReturned> for ResolutionReturned {
    type Error = FieldError;

    fn try_from(p: pb::ResolutionReturned) -> Result<Self, FieldError> {
        Ok(Self {
            proposal_id: ProposalId::parse("proposal_id", &p.proposal_id)?,
            returned_by: StaffId::parse("returned_by", &p.returned_by)?,
            reason: p.reason,
        })
    }
}

impl From<&ResolutionReturned> for pb::ResolutionReturned {
    fn from(p: &ResolutionReturned) -> Self {
        pb::ResolutionReturned {
            proposal_id: p.proposal_id.to_string(),
            returned_by: p.returned_by.to_string(),
            reason: p.reason.clone(),
        }
    }
}

impl TryFrom<pb::CustomerNotified> for CustomerNotified {
    type Error = FieldError;

    fn try_from(p: pb::CustomerNotified) -> Result<Self, FieldError> {
        Ok(Self {
            delivery_id: p.delivery_id,
            kind: known("kind", NotificationKind::from_proto(p.kind))?,
            channel: known("channel", Channel::from_proto(p.channel))?,
        })
    }
}

impl From<&CustomerNotified> for pb::CustomerNotified {
    fn from(p: &CustomerNotified) -> Self {
        pb::CustomerNotified {
            delivery_id: p.delivery_id.clone(),
            kind: p.kind.to_proto() as i32,
            channel: p.channel.to_proto() as i32,
        }
    }
}

impl TryFrom<pb::CustomerResponded> for CustomerResponded {
    type Error = FieldError;

    fn try_from(p: pb::CustomerResponded) -> Result<Self, FieldError> {
        Ok(Self {
            response: known("response", CustomerResponse::from_proto(p.response))?,
            comment: p.comment,
            recorded_by: p.recorded_by,
            by_silence: p.by_silence,
        })
    }
}

impl From<&CustomerResponded> for pb::CustomerResponded {
    fn from(p: &CustomerResponded) -> Self {
        pb::CustomerResponded {
            response: p.response.to_proto() as i32,
            comment: p.comment.clone(),
            recorded_by: p.recorded_by.clone(),
            by_silence: p.by_silence,
        }
    }
}

impl TryFrom<pb::RemedyExecuted> for RemedyExecuted {
    type Error = FieldError;

    fn try_from(p: pb::RemedyExecuted) -> Result<Self, FieldError> {
        Ok(Self {
            executed_by: StaffId::parse("executed_by", &p.executed_by)?,
            reference: p.reference,
            amount: Money::from_proto("amount", p.amount.as_ref())?,
            nothing_to_execute: p.nothing_to_execute,
        })
    }
}

impl From<&RemedyExecuted> for pb::RemedyExecuted {
    fn from(p: &RemedyExecuted) -> Self {
        pb::RemedyExecuted {
            executed_by: p.executed_by.to_string(),
            reference: p.reference.clone(),
            amount: p.amount.as_ref().map(pb::Money::from),
            nothing_to_execute: p.nothing_to_execute,
        }
    }
}

impl TryFrom<pb::FollowUpRecorded> for FollowUpRecorded {
    type Error = FieldError;

    fn try_from(p: pb::FollowUpRecorded) -> Result<Self, FieldError> {
        Ok(Self {
            satisfaction: known("satisfaction", Satisfaction::from_proto(p.satisfaction))?,
            accepts_outcome: p.accepts_outcome,
            recorded_by: p.recorded_by,
        })
    }
}

impl From<&FollowUpRecorded> for pb::FollowUpRecorded {
    fn from(p: &FollowUpRecorded) -> Self {
        pb::FollowUpRecorded {
            satisfaction: p.satisfaction.to_proto() as i32,
            accepts_outcome: p.accepts_outcome,
            recorded_by: p.recorded_by.clone(),
        }
    }
}

impl TryFrom<pb::ComplaintClosed> for ComplaintClosed {
    type Error = FieldError;

    fn try_from(p: pb::ComplaintClosed) -> Result<Self, FieldError> {
        let external_route = match p.external_route.as_str() {
            "" => None,
            name => Some(external_route("external_route", name)?),
        };
        Ok(Self { reason: p.reason, external_route })
    }
}

impl From<&ComplaintClosed> for pb::ComplaintClosed {
    fn from(p: &ComplaintClosed) -> Self {
        pb::ComplaintClosed {
            reason: p.reason.clone(),
            external_route: p.external_route.map(|route| route.as_str().to_owned()).unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// A decoded protobuf enum, or an error naming `field` when it was unknown or `UNSPECIFIED`.
fn known<T>(field: &str, value: Option<T>) -> Result<T, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "must be a known value other than UNSPECIFIED"))
}

/// Staff ids, each validated; an invalid one is named `field[index]`.
fn staff_list(field: &str, values: &[String]) -> Result<Vec<StaffId>, FieldError> {
    values.iter().enumerate().map(|(index, value)| StaffId::parse(&format!("{field}[{index}]"), value)).collect()
}

/// A staff id that may be empty (`None`).
fn optional_staff(field: &str, value: &str) -> Result<Option<StaffId>, FieldError> {
    if value.trim().is_empty() {
        Ok(None)
    } else {
        StaffId::parse(field, value).map(Some)
    }
}

/// An external route named in an event; unknown names are refused naming `field`.
fn external_route(field: &str, name: &str) -> Result<ExternalRoute, FieldError> {
    ExternalRoute::parse(name).ok_or_else(|| {
        FieldError::new(field, "must be mediation, arbitration, litigation, industry_association, regulator or declined")
    })
}

/// The required `resolution` of a payload.
fn resolution(value: Option<pb::Resolution>) -> Result<Resolution, FieldError> {
    value.ok_or_else(|| FieldError::new("resolution", "is required"))?.try_into()
}

/// The required clock of a clock event; errors name `field.<clock field>`.
fn clock_snapshot(field: &str, value: Option<pb::ClockSnapshot>) -> Result<ClockSnapshot, FieldError> {
    value.ok_or_else(|| FieldError::new(field, "is required"))?.try_into().map_err(within(field))
}

/// A clock kind named in an event; unknown names are refused naming `field`.
fn clock_kind(field: &str, name: &str) -> Result<ClockKind, FieldError> {
    ClockKind::parse(name).ok_or_else(|| FieldError::new(field, format!("unknown clock kind {name:?}")))
}

/// Puts `prefix.` in front of the field an error names.
fn within(prefix: &str) -> impl Fn(FieldError) -> FieldError + '_ {
    move |error| FieldError { field: format!("{prefix}.{}", error.field), reason: error.reason }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn staff(id: &str) -> StaffId {
        StaffId::parse("staff", id).expect("valid staff id")
    }

    fn cny(minor_units: i64) -> Option<Money> {
        Some(Money { minor_units, currency: "CNY".into() })
    }

    fn resolution() -> Resolution {
        Resolution {
            kind: ResolutionType::PartialRefund,
            amount: cny(12_345),
            conclusion: "the fee was charged twice".into(),
            basis: "fee schedule §3".into(),
            execution_method: "refund to the card".into(),
        }
    }

    fn received() -> ComplaintReceived {
        ComplaintReceived {
            channel: Channel::Hotline,
            summary: "double charge".into(),
            description: "charged twice for one transfer".into(),
            demand: "refund".into(),
            amount_involved: cny(5_000),
            product_hint: "debit card".into(),
            contact: SealedContact(b"sealed for notification".to_vec()),
            receiving_staff: Some(staff("HL-007")),
            staff_involved: vec![staff("BR-001"), staff("BR-002")],
            branch_involved: "Main Street".into(),
            tags: vec!["fees".into()],
            received_at_ms: 1_700_000_000_000,
            jurisdiction: "cn".into(),
            reply_due: Some(ReplyDue { at_ms: 1_701_400_000_000, local: "2023-12-01T00:00:00+08:00".into(), provisional: false }),
            customer_key: "ab".repeat(32),
        }
    }

    fn clock() -> ClockSnapshot {
        ClockSnapshot {
            kind: crate::ClockKind::Investigation,
            round: 1,
            state: crate::ClockState::Breached,
            jurisdiction: "cn".into(),
            calendar: "cn".into(),
            period: "3 working days".into(),
            started_at_ms: 1_700_000_000_000,
            due_at_ms: 1_700_300_000_000,
            due_local: "2023-11-18T00:00:00+08:00".into(),
            warning_at_ms: Some(1_700_200_000_000),
            provisional: true,
            owner: Some(staff("CARD-9")),
            ended_at_ms: None,
            warned_at_ms: Some(1_700_200_000_001),
            breached_at_ms: Some(1_700_300_000_002),
            extensions: 1,
            basis: "SPEC §4".into(),
        }
    }

    /// One event of every kind, in lifecycle order.
    fn one_of_each() -> Vec<LifecycleEvent> {
        let proposal_id = ProposalId::parse("proposal_id", "P-1").expect("valid proposal id");
        vec![
            LifecycleEvent::Received(received()),
            LifecycleEvent::Triaged(ComplaintTriaged {
                grade: Grade::Yellow,
                category: "fees".into(),
                product: "debit card".into(),
                reasons: vec!["amount involved".into()],
            }),
            LifecycleEvent::Assigned(ComplaintAssigned {
                department: "cards".into(),
                handler: staff("CARD-9"),
                grade: Grade::Yellow,
                category: "fees".into(),
                recused_staff: vec![staff("BR-001")],
                jurisdiction: "cn".into(),
            }),
            LifecycleEvent::InvestigationOpened(InvestigationOpened { handler: staff("CARD-9"), department: "cards".into() }),
            LifecycleEvent::EvidenceRegistered(EvidenceRegistered {
                evidence_number: 1,
                sha256: "ab".repeat(32),
                description: "statement".into(),
                registered_by: staff("CARD-9"),
            }),
            LifecycleEvent::ResolutionProposed(ResolutionProposed {
                proposal_id: proposal_id.clone(),
                resolution: resolution(),
                proposed_by: staff("CARD-9"),
                department: "cards".into(),
            }),
            LifecycleEvent::ResolutionApproved(ResolutionApproved {
                proposal_id: proposal_id.clone(),
                resolution: resolution(),
                approval_level: ApprovalLevel::HeadOffice,
                approvers: vec![staff("HO-RISK"), staff("HO-EXEC")],
            }),
            LifecycleEvent::ResolutionReturned(ResolutionReturned {
                proposal_id,
                returned_by: staff("RO-HEAD"),
                reason: "attach the statement".into(),
            }),
            LifecycleEvent::CustomerNotified(CustomerNotified {
                delivery_id: "D-1".into(),
                kind: NotificationKind::Result,
                channel: Channel::Sms,
            }),
            LifecycleEvent::CustomerResponded(CustomerResponded {
                response: CustomerResponse::Objected,
                comment: "too little".into(),
                recorded_by: "channel:app".into(),
                by_silence: false,
            }),
            LifecycleEvent::RemedyExecuted(RemedyExecuted {
                executed_by: staff("CARD-9"),
                reference: "TX-42".into(),
                amount: cny(12_345),
                nothing_to_execute: false,
            }),
            LifecycleEvent::FollowUpRecorded(FollowUpRecorded {
                satisfaction: Satisfaction::BasicallySatisfied,
                accepts_outcome: true,
                recorded_by: "HL-007".into(),
            }),
            LifecycleEvent::Closed(ComplaintClosed { reason: "out of scope".into(), external_route: Some(ExternalRoute::Mediation) }),
            LifecycleEvent::ClocksChanged(ClocksChanged { clocks: vec![clock(), ClockSnapshot { owner: None, warning_at_ms: None, ..clock() }] }),
            LifecycleEvent::ClockWarning(ClockWarning { clock: clock(), notify: vec![staff("CARD-9")] }),
            LifecycleEvent::ClockBreached(ClockBreached { clock: clock(), escalated_to: vec![staff("RO-HEAD")] }),
            LifecycleEvent::ClockStopped(ClockStopped {
                reason: StopReason::ExternalAppraisal,
                note: "handwriting appraisal".into(),
                stopped_by: staff("CARD-9"),
            }),
            LifecycleEvent::ClockRestarted(ClockRestarted { note: "report received".into(), restarted_by: staff("CARD-9") }),
            LifecycleEvent::ExtensionRequested(ExtensionRequested {
                request_id: "X-1".into(),
                clock: ClockKind::RegulatorDecision,
                reason: "complex case".into(),
                requested_by: staff("CARD-9"),
                department: "cards".into(),
            }),
            LifecycleEvent::ExtensionDecided(ExtensionDecided {
                request_id: "X-1".into(),
                clock: ClockKind::RegulatorDecision,
                approved: true,
                decided_by: staff("HO-EXEC"),
                comment: "agreed".into(),
                reason: "complex case".into(),
            }),
            LifecycleEvent::DeadlineExtended(DeadlineExtended { clock: clock(), reason: "complex case".into() }),
            LifecycleEvent::Withdrawn(ComplaintWithdrawn {
                reason: "settled with the branch".into(),
                recorded_by: "HL-007".into(),
                on_behalf: true,
            }),
            LifecycleEvent::MarkedOutOfScope(MarkedOutOfScope {
                reason: "a dispute with the merchant, not the bank".into(),
                routes: vec![ExternalRoute::Mediation, ExternalRoute::Litigation],
                marked_by: staff("CARD-9"),
            }),
            LifecycleEvent::Reassigned(ComplaintReassigned {
                department: "legal".into(),
                handler: staff("SUP-1"),
                previous_handler: Some(staff("CARD-9")),
                cause: ReassignCause::ReReview,
                reason: "the customer objected".into(),
                reassigned_by: "system:routing".into(),
                grade: Grade::Red,
                category: "product".into(),
                product: "credit_cards".into(),
                co_reviewers: vec![staff("LEGAL-1")],
            }),
            LifecycleEvent::RepeatDetected(RepeatDetected {
                earlier_numbers: vec!["CMP-20261124-000001".into(), "CMP-20261124-000007".into()],
                count: 3,
                new_facts: false,
                similarity: 0.875,
                escalated_to: Some(staff("SUP-1")),
                co_reviewers: vec![],
            }),
            LifecycleEvent::MergedInto(MergedInto {
                target_complaint_id: ComplaintId::generate(),
                target_number: ComplaintNumber::parse("target_number", "CMP-20261124-000001").expect("number"),
                new_facts: true,
                facts: "charged again".into(),
            }),
            LifecycleEvent::JoinedMassIncident(JoinedMassIncident {
                incident_id: "I-1".into(),
                incident_number: "INC-20261124-000001".into(),
                task_force: vec![staff("RS-HEAD")],
                linked_by: "detected".into(),
            }),
            LifecycleEvent::LeftMassIncident(LeftMassIncident {
                incident_id: "I-1".into(),
                incident_number: "INC-20261124-000001".into(),
                unlinked_by: staff("RS-HEAD"),
                reason: "a different fault".into(),
            }),
            LifecycleEvent::UnifiedStatement(UnifiedStatement {
                incident_id: "I-1".into(),
                incident_number: "INC-20261124-000001".into(),
                text: "The outage is fixed; fees are refunded".into(),
                issued_by: staff("RS-HEAD"),
            }),
            LifecycleEvent::ReviewRequested(ReviewRequested { reason: "the fee is unlawful".into(), requested_by: "channel:app".into() }),
            LifecycleEvent::ReviewDecided(ReviewDecided { upheld: true, conclusion: "correct decision".into(), decided_by: staff("HO-RISK") }),
            LifecycleEvent::Archived(ComplaintArchived { archived_by: staff("RO-HEAD"), note: "review window passed".into() }),
            LifecycleEvent::CustomerErased(CustomerErased {
                customer_key: "ab".repeat(32),
                erased_by: staff("HO-RISK"),
                reason: "retention ended; the customer asked".into(),
            }),
        ]
    }

    fn envelope(event: LifecycleEvent) -> Envelope {
        Envelope {
            meta: EventMeta {
                event_id: EventId::generate(),
                complaint_id: ComplaintId::generate(),
                complaint_number: ComplaintNumber::parse("complaint_number", "CMP-20261124-000042")
                    .expect("valid number"),
                occurred_at_ms: 1_700_000_000_123,
                producer: event.kind().catalogued_producers()[0].into(),
                schema_version: 1,
                traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into(),
                tracestate: "vendor=1".into(),
            },
            event,
        }
    }

    /// The wire form of a valid envelope holding `event`.
    fn wire(event: LifecycleEvent) -> pb::EventEnvelope {
        pb::EventEnvelope::from(&envelope(event))
    }

    fn rejected_field(envelope: pb::EventEnvelope) -> String {
        Envelope::try_from(envelope).map(|_| ()).expect_err("must be rejected").field
    }

    #[test]
    fn every_kind_round_trips_through_the_wire_form() {
        let events = one_of_each();
        let kinds: BTreeSet<EventKind> = events.iter().map(LifecycleEvent::kind).collect();
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), EventKind::ALL.to_vec());
        for event in events {
            let original = envelope(event);
            let encoded = pb::EventEnvelope::from(&original);
            assert_eq!(encoded.schema_version, 1);
            assert_eq!(encoded.complaint_number, "CMP-20261124-000042");
            let decoded = Envelope::try_from(encoded).expect("decodes");
            assert_eq!(decoded, original);
        }
    }

    #[test]
    fn kind_names_are_the_subject_names() {
        let names: Vec<&str> = EventKind::ALL.iter().map(|kind| kind.as_str()).collect();
        assert_eq!(
            names,
            [
                "received",
                "triaged",
                "assigned",
                "investigation_opened",
                "evidence_registered",
                "resolution_proposed",
                "resolution_approved",
                "resolution_returned",
                "customer_notified",
                "customer_responded",
                "remedy_executed",
                "follow_up_recorded",
                "closed",
                "clocks_changed",
                "clock_warning",
                "clock_breached",
                "clock_stopped",
                "clock_restarted",
                "extension_requested",
                "extension_decided",
                "deadline_extended",
                "withdrawn",
                "marked_out_of_scope",
                "reassigned",
                "repeat_detected",
                "merged_into",
                "joined_mass_incident",
                "left_mass_incident",
                "unified_statement",
                "review_requested",
                "review_decided",
                "archived",
                "customer_erased",
            ]
        );
        for kind in EventKind::ALL {
            assert_eq!(EventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(EventKind::parse("Received"), None);
        assert!(EventKind::ALL.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn catalogued_producers() {
        let producers: Vec<String> = EventKind::ALL.iter().map(|kind| kind.catalogued_producers().join("|")).collect();
        assert_eq!(
            producers,
            [
                "intake",
                "routing",
                "routing",
                "investigation",
                "investigation",
                "investigation",
                "approval",
                "approval",
                "notification",
                "intake",
                "investigation",
                "intake",
                "intake",
                "intake|investigation|approval",
                "intake|investigation|approval",
                "intake|investigation|approval",
                "investigation",
                "investigation",
                "investigation",
                "approval",
                "intake|investigation",
                "intake",
                "investigation",
                "routing",
                "routing",
                "routing",
                "routing",
                "routing",
                "routing",
                "intake",
                "investigation",
                "intake",
                "intake",
            ]
        );
    }

    #[test]
    fn payload_enum_names_round_trip() {
        for kind in ResolutionType::ALL {
            assert_eq!(ResolutionType::parse(kind.as_str()), Some(kind));
            assert_eq!(ResolutionType::from_proto(kind.to_proto() as i32), Some(kind));
        }
        let monetary: Vec<_> = ResolutionType::ALL.into_iter().filter(|kind| kind.is_monetary()).collect();
        assert_eq!(
            monetary,
            [ResolutionType::FullRefund, ResolutionType::PartialRefund, ResolutionType::Compensation, ResolutionType::FeeWaiver]
        );
        for kind in NotificationKind::ALL {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        for satisfaction in Satisfaction::ALL {
            assert_eq!(Satisfaction::parse(satisfaction.as_str()), Some(satisfaction));
        }
        assert_eq!(CustomerResponse::parse("objected"), Some(CustomerResponse::Objected));
        assert_eq!(Satisfaction::from_proto(pb::Satisfaction::Unspecified as i32), None);
        assert_eq!(CustomerResponse::from_proto(99), None);
    }

    #[test]
    fn a_missing_payload_is_named() {
        let mut envelope = wire(LifecycleEvent::Closed(ComplaintClosed { reason: "resolved".into(), external_route: None }));
        envelope.payload = None;
        assert_eq!(rejected_field(envelope), "payload");
    }

    #[test]
    fn envelope_ids_are_required() {
        let valid = wire(LifecycleEvent::Closed(ComplaintClosed { reason: "resolved".into(), external_route: None }));
        assert_eq!(rejected_field(pb::EventEnvelope { event_id: String::new(), ..valid.clone() }), "event_id");
        assert_eq!(rejected_field(pb::EventEnvelope { complaint_id: " ".into(), ..valid.clone() }), "complaint_id");
        assert_eq!(rejected_field(pb::EventEnvelope { complaint_number: String::new(), ..valid }), "complaint_number");
    }

    #[test]
    fn an_unknown_channel_is_named() {
        let mut envelope = wire(LifecycleEvent::Received(received()));
        if let Some(Payload::Received(p)) = envelope.payload.as_mut() {
            p.channel = 99;
        }
        assert_eq!(rejected_field(envelope), "received.channel");

        let mut envelope = wire(LifecycleEvent::Received(received()));
        if let Some(Payload::Received(p)) = envelope.payload.as_mut() {
            p.channel = pb::Channel::Unspecified as i32;
        }
        assert_eq!(rejected_field(envelope), "received.channel");
    }

    #[test]
    fn an_unspecified_grade_is_named() {
        let events = one_of_each();
        for (index, name) in [(1, "triaged.grade"), (2, "assigned.grade")] {
            let mut envelope = wire(events[index].clone());
            match envelope.payload.as_mut() {
                Some(Payload::Triaged(p)) => p.grade = pb::Grade::Unspecified as i32,
                Some(Payload::Assigned(p)) => p.grade = pb::Grade::Unspecified as i32,
                other => panic!("unexpected payload {other:?}"),
            }
            assert_eq!(rejected_field(envelope), name);
        }
    }

    #[test]
    fn a_bad_money_currency_is_named() {
        let mut envelope = wire(LifecycleEvent::Received(received()));
        if let Some(Payload::Received(p)) = envelope.payload.as_mut() {
            p.amount_involved = Some(pb::Money { minor_units: 5_000, currency: "cny".into() });
        }
        assert_eq!(rejected_field(envelope), "received.amount_involved.currency");

        let mut envelope = wire(one_of_each()[10].clone());
        if let Some(Payload::RemedyExecuted(p)) = envelope.payload.as_mut() {
            p.amount = Some(pb::Money { minor_units: 5_000, currency: "YUAN".into() });
        }
        assert_eq!(rejected_field(envelope), "remedy_executed.amount.currency");
    }

    #[test]
    fn an_empty_handler_id_is_named() {
        let mut envelope = wire(one_of_each()[2].clone());
        if let Some(Payload::Assigned(p)) = envelope.payload.as_mut() {
            p.handler_id = String::new();
        }
        assert_eq!(rejected_field(envelope), "assigned.handler_id");

        let mut envelope = wire(one_of_each()[3].clone());
        if let Some(Payload::InvestigationOpened(p)) = envelope.payload.as_mut() {
            p.handler_id = "  ".into();
        }
        assert_eq!(rejected_field(envelope), "investigation_opened.handler_id");
    }

    #[test]
    fn an_unknown_notification_kind_is_named() {
        for value in [pb::NotificationKind::Unspecified as i32, 42] {
            let mut envelope = wire(one_of_each()[8].clone());
            if let Some(Payload::CustomerNotified(p)) = envelope.payload.as_mut() {
                p.kind = value;
            }
            assert_eq!(rejected_field(envelope), "customer_notified.kind");
        }
    }

    #[test]
    fn invalid_staff_lists_and_levels_are_named() {
        let mut envelope = wire(LifecycleEvent::Received(received()));
        if let Some(Payload::Received(p)) = envelope.payload.as_mut() {
            p.staff_involved[1] = "two words".into();
        }
        assert_eq!(rejected_field(envelope), "received.staff_involved[1]");

        let mut envelope = wire(one_of_each()[6].clone());
        if let Some(Payload::ResolutionApproved(p)) = envelope.payload.as_mut() {
            p.approval_level = "board".into();
        }
        assert_eq!(rejected_field(envelope), "resolution_approved.approval_level");
    }

    #[test]
    fn resolutions_in_payloads_are_validated() {
        let mut envelope = wire(one_of_each()[5].clone());
        if let Some(Payload::ResolutionProposed(p)) = envelope.payload.as_mut() {
            p.resolution = p.resolution.take().map(|r| pb::Resolution { amount: None, ..r });
        }
        assert_eq!(rejected_field(envelope), "resolution_proposed.resolution.amount");

        let mut envelope = wire(one_of_each()[5].clone());
        if let Some(Payload::ResolutionProposed(p)) = envelope.payload.as_mut() {
            p.resolution = None;
        }
        assert_eq!(rejected_field(envelope), "resolution_proposed.resolution");

        let mut envelope = wire(one_of_each()[6].clone());
        if let Some(Payload::ResolutionApproved(p)) = envelope.payload.as_mut() {
            p.resolution = p.resolution.take().map(|r| pb::Resolution { resolution_type: 0, ..r });
        }
        assert_eq!(rejected_field(envelope), "resolution_approved.resolution.resolution_type");
    }

    #[test]
    fn an_unspecified_preferred_channel_means_the_channel_of_receipt() {
        let bytes = prost::Message::encode_to_vec(&pb::CustomerContact { phone: "13812345678".into(), ..Default::default() });
        let contact = Contact::from_bytes(&bytes, Channel::Hotline).expect("decodes");
        assert_eq!(contact.preferred_channel, Channel::Hotline);
        let contact = Contact { name: "Alice Smith".into(), phone: String::new(), email: "alice@example.com".into(), preferred_channel: Channel::Sms };
        assert_eq!(Contact::from_bytes(&contact.to_bytes(), Channel::Hotline).expect("round trip"), contact);
        assert_eq!(Contact::from_bytes(b"\xff\xff", Channel::Hotline).expect_err("not a contact").field, "sealed_contact");
    }

    #[test]
    fn side_path_payloads_are_validated_naming_the_field() {
        let events = one_of_each();
        let find = |kind: EventKind| events.iter().find(|event| event.kind() == kind).cloned().expect("one of each");
        let mut envelope = wire(find(EventKind::Withdrawn));
        if let Some(Payload::Withdrawn(p)) = envelope.payload.as_mut() {
            p.reason = " ".into();
        }
        assert_eq!(rejected_field(envelope), "withdrawn.reason");
        let mut envelope = wire(find(EventKind::MarkedOutOfScope));
        if let Some(Payload::MarkedOutOfScope(p)) = envelope.payload.as_mut() {
            p.routes[1] = "duel".into();
        }
        assert_eq!(rejected_field(envelope), "marked_out_of_scope.routes[1]");
        let mut envelope = wire(find(EventKind::MarkedOutOfScope));
        if let Some(Payload::MarkedOutOfScope(p)) = envelope.payload.as_mut() {
            p.routes.clear();
        }
        assert_eq!(rejected_field(envelope), "marked_out_of_scope.routes");
        let mut envelope = wire(find(EventKind::Reassigned));
        if let Some(Payload::Reassigned(p)) = envelope.payload.as_mut() {
            p.cause = "whim".into();
        }
        assert_eq!(rejected_field(envelope), "reassigned.cause");
        let mut envelope = wire(find(EventKind::Closed));
        if let Some(Payload::Closed(p)) = envelope.payload.as_mut() {
            p.external_route = "duel".into();
        }
        assert_eq!(rejected_field(envelope), "closed.external_route");
        for route in ExternalRoute::ALL {
            assert_eq!(ExternalRoute::parse(route.as_str()), Some(route));
        }
    }

    #[test]
    fn nothing_to_execute_is_its_own_step() {
        let executed = RemedyExecuted { executed_by: staff("CARD-9"), reference: String::new(), amount: None, nothing_to_execute: true };
        assert_eq!(LifecycleEvent::RemedyExecuted(executed).step(), Some(Step::NothingToExecute));
        let withdrawn = ComplaintWithdrawn { reason: "x".into(), recorded_by: "channel:app".into(), on_behalf: false };
        assert_eq!(LifecycleEvent::Withdrawn(withdrawn).step(), Some(Step::Withdrawn));
    }

    #[test]
    fn resolution_rules() {
        assert_eq!(resolution().validate(), Ok(resolution()));
        let padded = Resolution { conclusion: "  the fee was charged twice \n".into(), ..resolution() };
        assert_eq!(padded.validate(), Ok(resolution()));

        let field = |r: Resolution| r.validate().map(|_| ()).expect_err("must be rejected").field;
        assert_eq!(field(Resolution { amount: None, ..resolution() }), "resolution.amount");
        assert_eq!(field(Resolution { amount: cny(0), ..resolution() }), "resolution.amount");
        assert_eq!(field(Resolution { amount: cny(-1), ..resolution() }), "resolution.amount.minor_units");
        assert_eq!(field(Resolution { conclusion: " ".into(), ..resolution() }), "resolution.conclusion");
        assert_eq!(field(Resolution { basis: "x".repeat(4001), ..resolution() }), "resolution.basis");
        assert_eq!(field(Resolution { execution_method: String::new(), ..resolution() }), "resolution.execution_method");

        let apology = Resolution { kind: ResolutionType::ExplanationAndApology, amount: None, ..resolution() };
        assert_eq!(apology.clone().validate(), Ok(apology));
        let long_enough = Resolution { basis: "x".repeat(4000), ..resolution() };
        assert!(long_enough.validate().is_ok());
    }

    #[test]
    fn resolution_round_trips_through_proto_and_json() {
        let original = resolution();
        assert_eq!(Resolution::try_from(pb::Resolution::from(&original)), Ok(original.clone()));
        let json = serde_json::to_string(&original).expect("serialises");
        assert!(json.contains(r#""kind":"partial_refund""#), "{json}");
        assert_eq!(serde_json::from_str::<Resolution>(&json).expect("deserialises"), original);
    }

    #[test]
    fn debug_masks_the_contact() {
        let contact = Contact { name: "Alice Smith".into(), phone: "13812345678".into(), email: "alice@example.com".into(), preferred_channel: Channel::Sms };
        let debug = format!("{contact:?}");
        for clear in ["13812345678", "alice@example.com", "Alice Smith"] {
            assert!(!debug.contains(clear), "{clear} printed in clear: {debug}");
        }
        assert!(debug.contains("138****5678"), "{debug}");
        assert!(debug.contains("a****@example.com"), "{debug}");
        assert_eq!(format!("{:?}", received().contact), "SealedContact(23 bytes)");
    }
}
