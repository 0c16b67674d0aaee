//! Investigation's clocks (SPEC §4), owned by the case's handler:
//!
//! | clock | starts | ends |
//! |---|---|---|
//! | investigation_start (24 hours) | assignment | the handler's first evidence or finding, or a proposal |
//! | investigation (by grade: Green 3 working days, Yellow 2, Red target) | assignment; again on an objection (re-review) | proposal |
//! | execution (3 working days) | the customer's acceptance (or silence) | execution recorded |
//!
//! Closing the complaint cancels what is still open.

use complaints_domain::{ClockKind, ClockSnapshot, ComplaintId, ComplaintNumber, Grade, StaffId};
use complaints_plumbing::clocks::{self, ClockBook, Ending, StartClock};
use complaints_plumbing::outbox::Subject;
use complaints_plumbing::store::{StoreError, Tx};

use crate::store::Case;
use crate::SERVICE;

/// The facts a clock of a case starts from.
pub struct CaseClock<'a> {
    pub complaint_id: &'a ComplaintId,
    pub complaint_number: &'a ComplaintNumber,
    pub jurisdiction: &'a str,
    pub grade: Grade,
    pub handler: &'a StaffId,
    pub department: &'a str,
    pub traceparent: &'a str,
}

impl<'a> CaseClock<'a> {
    pub fn of(case: &'a Case) -> Self {
        Self {
            complaint_id: &case.complaint_id,
            complaint_number: &case.complaint_number,
            jurisdiction: &case.jurisdiction,
            grade: case.grade,
            handler: &case.handler,
            department: &case.department,
            traceparent: &case.traceparent,
        }
    }

    fn spec(&self, kind: ClockKind, at_ms: i64) -> StartClock<'a> {
        StartClock {
            complaint_id: self.complaint_id,
            complaint_number: self.complaint_number,
            kind,
            jurisdiction: self.jurisdiction,
            grade: self.grade,
            owner: Some(self.handler),
            department: Some(self.department),
            at_ms,
            traceparent: self.traceparent,
        }
    }

    pub async fn start(&self, tx: &mut Tx, book: &ClockBook, kind: ClockKind, at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
        clocks::start(tx, book, self.spec(kind, at_ms)).await
    }

    /// Starts the first round of `kinds` on a new case, in one statement.
    pub async fn start_first(&self, tx: &mut Tx, book: &ClockBook, kinds: &[ClockKind], at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
        let specs: Vec<StartClock<'a>> = kinds.iter().map(|kind| self.spec(*kind, at_ms)).collect();
        clocks::start_first(tx, book, &specs).await
    }

    /// Ends the open clocks of `kinds` as completed.
    pub async fn complete(&self, tx: &mut Tx, book: &ClockBook, kinds: &[ClockKind], at_ms: i64) -> Result<Vec<ClockSnapshot>, StoreError> {
        let mut changed = Vec::new();
        for kind in kinds {
            changed.extend(clocks::end(tx, book, self.complaint_id, *kind, at_ms, Ending::Completed).await?);
        }
        Ok(changed)
    }

    /// Writes `clocks_changed` for what changed.
    pub async fn announce(&self, tx: &mut Tx, changed: Vec<ClockSnapshot>) -> Result<(), StoreError> {
        clocks::announce(tx, SERVICE, Subject::new(self.complaint_id, self.complaint_number).in_trace(self.traceparent), changed).await
    }
}
