//! The complaint domain shared by the services: identifier newtypes, one `Grade`, `Channel`,
//! `Money`, the lifecycle (stages and legal transitions), the lifecycle events with their
//! protobuf conversions, the organisation directory with recusal, approval bands and masking.
//! Pure: no I/O but reading the org directory file.

pub mod approval;
pub mod clocks;
pub mod events;
pub mod ids;
pub mod lifecycle;
pub mod masking;
pub mod money;
pub mod org;
pub mod types;
pub mod validation;

pub use approval::ApprovalLevel;
pub use clocks::{ClockKind, ClockSnapshot, ClockState};
pub use events::{Envelope, EventKind, EventMeta, LifecycleEvent};
pub use lifecycle::{Stage, Step};
pub use ids::{ComplaintId, ComplaintKey, ComplaintNumber, EventId, ProposalId, StaffId};
pub use money::Money;
pub use types::{Channel, Grade};
pub use validation::{at_most, required, FieldError};
