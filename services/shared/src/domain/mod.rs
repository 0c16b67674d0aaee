//! Domain rules more than one service needs: value types, masking of personal data, the
//! organisation directory with recusal, and approval levels by amount.

pub mod approval;
pub mod masking;
pub mod money;
pub mod org;
pub mod types;

pub use approval::ApprovalLevel;
pub use money::Money;
pub use types::{Channel, Grade};
