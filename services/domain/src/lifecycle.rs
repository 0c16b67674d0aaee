//! The complaint lifecycle: [`Stage`], [`Step`], the [`TRANSITIONS`] table, the strict transition
//! function [`next`] for the lifecycle owner and the tolerant [`classify`] for event consumers.
//!
//! Every service's complaint state is a projection of this module; no service redefines stages.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Where a complaint stands. The serde and [`Stage::as_str`] names are stored in databases and
/// never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Registered; the acceptance notice is not known to have reached the customer.
    Received,
    /// The acceptance notice reached the customer before triage finished.
    Acknowledged,
    /// Category and grade set.
    Triaged,
    /// Department or handler named.
    Assigned,
    /// Evidence being gathered; also where a returned resolution or an unlinked mass member lands.
    Investigating,
    /// A resolution waits for approval by amount.
    AwaitingApproval,
    /// The resolution is approved and not yet delivered.
    Approved,
    /// Conclusion, basis, amount, execution method and rights delivered; objection window runs.
    CustomerInformed,
    /// Accepted explicitly or by silence; the remedy is due.
    Accepted,
    /// Objection escalated to a supervisor (legal counsel for contract disputes) who proposes anew.
    ReReview,
    /// Remedy executed or nothing to execute; the satisfaction follow-up is due.
    AwaitingFollowUp,
    /// Handling finished; the customer may still ask the superior institution for review.
    Closed,
    /// The complete case file is archived. Nothing follows.
    Archived,
    /// Withdrawn by the customer. Only archiving follows.
    Withdrawn,
    /// The customer was told the matter is outside the institution's power and offered external
    /// routes; the complaint closes once the customer's choice is recorded.
    OutOfScope,
    /// Merged into another open complaint, which carries on. Only archiving follows.
    Merged,
    /// Handled through a mass incident (task force, one unified statement to all members).
    MassMember,
    /// The customer asked the superior institution to review the decision (复核).
    UnderReview,
}

impl Stage {
    /// Every stage: main path first, then side paths.
    pub const ALL: [Stage; 18] = [
        Stage::Received,
        Stage::Acknowledged,
        Stage::Triaged,
        Stage::Assigned,
        Stage::Investigating,
        Stage::AwaitingApproval,
        Stage::Approved,
        Stage::CustomerInformed,
        Stage::Accepted,
        Stage::ReReview,
        Stage::AwaitingFollowUp,
        Stage::Closed,
        Stage::Archived,
        Stage::Withdrawn,
        Stage::OutOfScope,
        Stage::Merged,
        Stage::MassMember,
        Stage::UnderReview,
    ];

    /// The stable snake_case name, identical to the serde name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stage::Received => "received",
            Stage::Acknowledged => "acknowledged",
            Stage::Triaged => "triaged",
            Stage::Assigned => "assigned",
            Stage::Investigating => "investigating",
            Stage::AwaitingApproval => "awaiting_approval",
            Stage::Approved => "approved",
            Stage::CustomerInformed => "customer_informed",
            Stage::Accepted => "accepted",
            Stage::ReReview => "re_review",
            Stage::AwaitingFollowUp => "awaiting_follow_up",
            Stage::Closed => "closed",
            Stage::Archived => "archived",
            Stage::Withdrawn => "withdrawn",
            Stage::OutOfScope => "out_of_scope",
            Stage::Merged => "merged",
            Stage::MassMember => "mass_member",
            Stage::UnderReview => "under_review",
        }
    }

    /// The stage named `name` by [`Stage::as_str`]; `None` for anything else (case-sensitive).
    pub fn parse(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.as_str() == name)
    }

    /// Nothing but [`Step::Archived`] can follow (or nothing at all, for `Archived`).
    pub const fn is_terminal(self) -> bool {
        matches!(self, Stage::Archived | Stage::Withdrawn | Stage::Merged)
    }

    /// The complaint still needs work and its handling clocks run: every stage except `Closed`,
    /// `Archived`, `Withdrawn` and `Merged`. `OutOfScope` and `UnderReview` are open.
    pub const fn is_open(self) -> bool {
        !matches!(
            self,
            Stage::Closed | Stage::Archived | Stage::Withdrawn | Stage::Merged
        )
    }

    /// Rank along the main path, for consumers that see events out of order.
    ///
    /// A transition is *forward* when the target ranks higher than the source and *rework* when
    /// it ranks lower (see [`Move::rework`]); the only equal-rank transitions are no-ops. Side
    /// stages slot in by where they are entered: `ReReview` ranks with `Investigating` (a new
    /// investigation), `MassMember` just above it, `OutOfScope` with `AwaitingFollowUp` (decided,
    /// waiting to close), `UnderReview` above `Closed` (it follows the decision), and the terminal
    /// side stages above every open stage so a withdrawal or merge is always a forward move.
    pub const fn progress(self) -> u8 {
        match self {
            Stage::Received => 10,
            Stage::Acknowledged => 20,
            Stage::Triaged => 30,
            Stage::Assigned => 40,
            Stage::Investigating | Stage::ReReview => 50,
            Stage::MassMember => 55,
            Stage::AwaitingApproval => 60,
            Stage::Approved => 70,
            Stage::CustomerInformed => 80,
            Stage::Accepted => 90,
            Stage::AwaitingFollowUp | Stage::OutOfScope => 100,
            Stage::Closed => 110,
            Stage::UnderReview => 120,
            Stage::Withdrawn | Stage::Merged => 130,
            Stage::Archived => 140,
        }
    }

    const fn bit(self) -> u32 {
        1 << self as u32
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What moves a complaint: the domain meaning of lifecycle commands and events. Time checks
/// (objection window, 30-day review window) are the caller's; a step states what happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// The acceptance notice reached the customer. Legal before or after triage; after triage it
    /// leaves the stage unchanged.
    AcknowledgementSent,
    /// Category and grade set.
    Triaged,
    /// Department or handler named.
    Assigned,
    /// The responsible team started the investigation.
    InvestigationOpened,
    /// A resolution was proposed, after investigation or after a re-review.
    ResolutionProposed,
    /// The approver for the amount approved the resolution.
    ResolutionApproved,
    /// The approver returned the resolution for rework.
    ResolutionReturned,
    /// The approved result reached the customer.
    ResultDelivered,
    /// The customer accepted; `by_silence` when the objection window ended without an answer.
    CustomerAccepted {
        /// Accepted because the objection window passed in silence.
        by_silence: bool,
    },
    /// The customer objected within the window; this also opens the escalated re-review.
    CustomerObjected,
    /// The accepted remedy was executed and the customer notified.
    RemedyExecuted,
    /// The accepted resolution has nothing to execute (explanation, apology, commitment).
    NothingToExecute,
    /// The satisfaction follow-up was recorded; the complaint closes.
    FollowUpRecorded,
    /// A complaint without a follow-up closes: out of scope, once the customer's choice of
    /// external route is recorded.
    Closed,
    /// The complete case file was archived.
    Archived,
    /// The customer withdrew the complaint.
    Withdrawn,
    /// The matter is outside the institution's power; the customer was told and offered routes.
    MarkedOutOfScope,
    /// Merged into another open complaint (same matter, no new facts).
    MergedInto,
    /// Linked to a mass incident, which now handles it.
    JoinedMassIncident,
    /// Unlinked from its mass incident; individual investigation resumes.
    LeftMassIncident,
    /// The mass incident's unified statement reached the customer.
    UnifiedStatementDelivered,
    /// The customer asked the superior institution for review (within 30 days of the decision).
    ReviewRequested,
    /// The review upheld the decision.
    ReviewUpheld,
    /// The review changed the decision; the new resolution it sets out awaits approval.
    ReviewChanged,
}

impl Step {
    /// The payload-free kind, as used in [`TRANSITIONS`].
    pub const fn kind(&self) -> StepKind {
        match self {
            Step::AcknowledgementSent => StepKind::AcknowledgementSent,
            Step::Triaged => StepKind::Triaged,
            Step::Assigned => StepKind::Assigned,
            Step::InvestigationOpened => StepKind::InvestigationOpened,
            Step::ResolutionProposed => StepKind::ResolutionProposed,
            Step::ResolutionApproved => StepKind::ResolutionApproved,
            Step::ResolutionReturned => StepKind::ResolutionReturned,
            Step::ResultDelivered => StepKind::ResultDelivered,
            Step::CustomerAccepted { .. } => StepKind::CustomerAccepted,
            Step::CustomerObjected => StepKind::CustomerObjected,
            Step::RemedyExecuted => StepKind::RemedyExecuted,
            Step::NothingToExecute => StepKind::NothingToExecute,
            Step::FollowUpRecorded => StepKind::FollowUpRecorded,
            Step::Closed => StepKind::Closed,
            Step::Archived => StepKind::Archived,
            Step::Withdrawn => StepKind::Withdrawn,
            Step::MarkedOutOfScope => StepKind::MarkedOutOfScope,
            Step::MergedInto => StepKind::MergedInto,
            Step::JoinedMassIncident => StepKind::JoinedMassIncident,
            Step::LeftMassIncident => StepKind::LeftMassIncident,
            Step::UnifiedStatementDelivered => StepKind::UnifiedStatementDelivered,
            Step::ReviewRequested => StepKind::ReviewRequested,
            Step::ReviewUpheld => StepKind::ReviewUpheld,
            Step::ReviewChanged => StepKind::ReviewChanged,
        }
    }

    /// The stable snake_case name of the step's kind.
    pub const fn name(&self) -> &'static str {
        self.kind().name()
    }
}

/// [`Step`] without payload, one variant per step; see [`Step`] for each meaning.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StepKind {
    AcknowledgementSent,
    Triaged,
    Assigned,
    InvestigationOpened,
    ResolutionProposed,
    ResolutionApproved,
    ResolutionReturned,
    ResultDelivered,
    CustomerAccepted,
    CustomerObjected,
    RemedyExecuted,
    NothingToExecute,
    FollowUpRecorded,
    Closed,
    Archived,
    Withdrawn,
    MarkedOutOfScope,
    MergedInto,
    JoinedMassIncident,
    LeftMassIncident,
    UnifiedStatementDelivered,
    ReviewRequested,
    ReviewUpheld,
    ReviewChanged,
}

impl StepKind {
    /// Every step kind, in declaration order.
    pub const ALL: [StepKind; 24] = [
        StepKind::AcknowledgementSent,
        StepKind::Triaged,
        StepKind::Assigned,
        StepKind::InvestigationOpened,
        StepKind::ResolutionProposed,
        StepKind::ResolutionApproved,
        StepKind::ResolutionReturned,
        StepKind::ResultDelivered,
        StepKind::CustomerAccepted,
        StepKind::CustomerObjected,
        StepKind::RemedyExecuted,
        StepKind::NothingToExecute,
        StepKind::FollowUpRecorded,
        StepKind::Closed,
        StepKind::Archived,
        StepKind::Withdrawn,
        StepKind::MarkedOutOfScope,
        StepKind::MergedInto,
        StepKind::JoinedMassIncident,
        StepKind::LeftMassIncident,
        StepKind::UnifiedStatementDelivered,
        StepKind::ReviewRequested,
        StepKind::ReviewUpheld,
        StepKind::ReviewChanged,
    ];

    /// The stable snake_case name.
    pub const fn name(self) -> &'static str {
        match self {
            StepKind::AcknowledgementSent => "acknowledgement_sent",
            StepKind::Triaged => "triaged",
            StepKind::Assigned => "assigned",
            StepKind::InvestigationOpened => "investigation_opened",
            StepKind::ResolutionProposed => "resolution_proposed",
            StepKind::ResolutionApproved => "resolution_approved",
            StepKind::ResolutionReturned => "resolution_returned",
            StepKind::ResultDelivered => "result_delivered",
            StepKind::CustomerAccepted => "customer_accepted",
            StepKind::CustomerObjected => "customer_objected",
            StepKind::RemedyExecuted => "remedy_executed",
            StepKind::NothingToExecute => "nothing_to_execute",
            StepKind::FollowUpRecorded => "follow_up_recorded",
            StepKind::Closed => "closed",
            StepKind::Archived => "archived",
            StepKind::Withdrawn => "withdrawn",
            StepKind::MarkedOutOfScope => "marked_out_of_scope",
            StepKind::MergedInto => "merged_into",
            StepKind::JoinedMassIncident => "joined_mass_incident",
            StepKind::LeftMassIncident => "left_mass_incident",
            StepKind::UnifiedStatementDelivered => "unified_statement_delivered",
            StepKind::ReviewRequested => "review_requested",
            StepKind::ReviewUpheld => "review_upheld",
            StepKind::ReviewChanged => "review_changed",
        }
    }
}

/// Every legal transition as `(from, step, to)`; at most one row per `(from, step)`. Rows with
/// `from == to` are accepted no-ops. [`next`] and [`classify`] read nothing else.
pub const TRANSITIONS: &[(Stage, StepKind, Stage)] = {
    use Stage::*;
    use StepKind as K;
    &[
        // Main path.
        (Received, K::AcknowledgementSent, Acknowledged),
        (Received, K::Triaged, Triaged),
        (Acknowledged, K::Triaged, Triaged),
        (Triaged, K::Assigned, Assigned),
        (Assigned, K::InvestigationOpened, Investigating),
        (Investigating, K::ResolutionProposed, AwaitingApproval),
        (AwaitingApproval, K::ResolutionApproved, Approved),
        (AwaitingApproval, K::ResolutionReturned, Investigating),
        (Approved, K::ResultDelivered, CustomerInformed),
        (CustomerInformed, K::CustomerAccepted, Accepted),
        (CustomerInformed, K::CustomerObjected, ReReview),
        (ReReview, K::ResolutionProposed, AwaitingApproval),
        (Accepted, K::RemedyExecuted, AwaitingFollowUp),
        (Accepted, K::NothingToExecute, AwaitingFollowUp),
        (AwaitingFollowUp, K::FollowUpRecorded, Closed),
        (Closed, K::Archived, Archived),
        // A late acknowledgement after triage changes nothing.
        (Triaged, K::AcknowledgementSent, Triaged),
        (Assigned, K::AcknowledgementSent, Assigned),
        (Investigating, K::AcknowledgementSent, Investigating),
        (MassMember, K::AcknowledgementSent, MassMember),
        (AwaitingApproval, K::AcknowledgementSent, AwaitingApproval),
        (Approved, K::AcknowledgementSent, Approved),
        // Withdrawal from every open stage.
        (Received, K::Withdrawn, Withdrawn),
        (Acknowledged, K::Withdrawn, Withdrawn),
        (Triaged, K::Withdrawn, Withdrawn),
        (Assigned, K::Withdrawn, Withdrawn),
        (Investigating, K::Withdrawn, Withdrawn),
        (AwaitingApproval, K::Withdrawn, Withdrawn),
        (Approved, K::Withdrawn, Withdrawn),
        (CustomerInformed, K::Withdrawn, Withdrawn),
        (Accepted, K::Withdrawn, Withdrawn),
        (ReReview, K::Withdrawn, Withdrawn),
        (AwaitingFollowUp, K::Withdrawn, Withdrawn),
        (OutOfScope, K::Withdrawn, Withdrawn),
        (MassMember, K::Withdrawn, Withdrawn),
        (UnderReview, K::Withdrawn, Withdrawn),
        (Withdrawn, K::Archived, Archived),
        // Out of scope.
        (Triaged, K::MarkedOutOfScope, OutOfScope),
        (Assigned, K::MarkedOutOfScope, OutOfScope),
        (Investigating, K::MarkedOutOfScope, OutOfScope),
        (OutOfScope, K::Closed, Closed),
        // Merge, before any resolution is proposed.
        (Received, K::MergedInto, Merged),
        (Acknowledged, K::MergedInto, Merged),
        (Triaged, K::MergedInto, Merged),
        (Assigned, K::MergedInto, Merged),
        (Investigating, K::MergedInto, Merged),
        (Merged, K::Archived, Archived),
        // Mass incident, before the customer is informed.
        (Received, K::JoinedMassIncident, MassMember),
        (Acknowledged, K::JoinedMassIncident, MassMember),
        (Triaged, K::JoinedMassIncident, MassMember),
        (Assigned, K::JoinedMassIncident, MassMember),
        (Investigating, K::JoinedMassIncident, MassMember),
        (AwaitingApproval, K::JoinedMassIncident, MassMember),
        (Approved, K::JoinedMassIncident, MassMember),
        (MassMember, K::UnifiedStatementDelivered, CustomerInformed),
        (MassMember, K::LeftMassIncident, Investigating),
        // Review by the superior institution.
        (CustomerInformed, K::ReviewRequested, UnderReview),
        (Accepted, K::ReviewRequested, UnderReview),
        (AwaitingFollowUp, K::ReviewRequested, UnderReview),
        (Closed, K::ReviewRequested, UnderReview),
        (UnderReview, K::ReviewUpheld, Closed),
        (UnderReview, K::ReviewChanged, AwaitingApproval),
    ]
};

/// A legal transition's outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Move {
    /// The stage after the step; equal to the source for accepted no-ops.
    pub to: Stage,
    /// `to` ranks lower than the source (returned for rework, objection, review outcome, joining a
    /// mass incident after a proposal, leaving one). A projection that only keeps the highest
    /// [`Stage::progress`] must apply rework moves even though progress falls.
    pub rework: bool,
}

/// `step` is not legal from `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IllegalTransition {
    /// The stage the step was tried from.
    pub from: Stage,
    /// [`Step::name`] of the rejected step.
    pub step: &'static str,
}

impl fmt::Display for IllegalTransition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "step `{}` is not legal from stage `{}`",
            self.step, self.from
        )
    }
}

impl std::error::Error for IllegalTransition {}

/// How an event consumer treats a step given the stage it holds; see [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Legal: move to this stage (possibly the same one, for a no-op).
    To(Stage),
    /// The step is already behind the complaint: acknowledge and change nothing.
    Stale,
    /// The step needs a stage the consumer has not reached: retry later.
    Early,
    /// No history explains the step here: treat as poison.
    Illegal,
}

/// The strict lifecycle: where `step` takes a complaint at `stage`, with the move's direction.
pub fn next_move(stage: Stage, step: &Step) -> Result<Move, IllegalTransition> {
    match lookup(stage, step.kind()) {
        Some(to) => Ok(Move {
            to,
            rework: to.progress() < stage.progress(),
        }),
        None => Err(IllegalTransition {
            from: stage,
            step: step.name(),
        }),
    }
}

/// The strict lifecycle: where `step` takes a complaint at `stage`, or why it cannot.
pub fn next(stage: Stage, step: &Step) -> Result<Stage, IllegalTransition> {
    next_move(stage, step).map(|legal| legal.to)
}

/// The tolerant lifecycle for consumers that may see a step twice or out of order.
///
/// The first rule that matches decides:
/// 1. `To(next)` when the step is legal at `stage`.
/// 2. `Stale` when `stage` is where the step leads (a redelivery).
/// 3. `Early` when a stage where the step moves the complaint lies ahead of `stage` through
///    forward moves only (higher [`Stage::progress`] at each move): it can still come this round.
/// 4. `Stale` when `stage` can be reached, through any legal moves, from where the step leads: it
///    is in the complaint's past, this round or an earlier one.
/// 5. `Illegal` otherwise.
///
/// Rework loops are ambiguous from the stage alone: a consumer at `ReReview` cannot tell an old
/// `ResolutionApproved` from the next round's. Rule 3 before 4 prefers a retry to dropping a step
/// that may still be needed. Consumers that must be exact across rework loops order events by the
/// producer's per-complaint sequence first.
pub fn classify(stage: Stage, step: &Step) -> Verdict {
    let kind = step.kind();
    if let Some(to) = lookup(stage, kind) {
        return Verdict::To(to);
    }
    let rows = || {
        TRANSITIONS
            .iter()
            .filter(move |(_, row_kind, _)| *row_kind == kind)
    };
    if rows().any(|&(_, _, to)| to == stage) {
        return Verdict::Stale;
    }
    let ahead = reachable(stage, true);
    if rows().any(|&(from, _, to)| from != to && ahead & from.bit() != 0) {
        return Verdict::Early;
    }
    if rows().any(|&(_, _, to)| reachable(to, false) & stage.bit() != 0) {
        return Verdict::Stale;
    }
    Verdict::Illegal
}

/// A Markdown table of [`TRANSITIONS`] (`from | step | to`), in table order.
pub fn render_table() -> String {
    let mut table = String::from("| from | step | to |\n|---|---|---|\n");
    for (from, step, to) in TRANSITIONS {
        table.push_str(&format!("| {from} | {} | {to} |\n", step.name()));
    }
    table
}

fn lookup(stage: Stage, kind: StepKind) -> Option<Stage> {
    TRANSITIONS
        .iter()
        .find(|&&(from, row_kind, _)| from == stage && row_kind == kind)
        .map(|&(_, _, to)| to)
}

/// Stages reachable from `start` (itself included) as a bit set, optionally through forward moves
/// only.
fn reachable(start: Stage, forward_only: bool) -> u32 {
    let mut reached = start.bit();
    loop {
        let before = reached;
        for &(from, _, to) in TRANSITIONS {
            let allowed = !forward_only || to.progress() > from.progress();
            if allowed && reached & from.bit() != 0 {
                reached |= to.bit();
            }
        }
        if reached == before {
            return reached;
        }
    }
}

#[cfg(test)]
mod documented {
    /// The table in `LIFECYCLE.md` is the table the code enforces.
    #[test]
    fn the_documented_table_is_the_enforced_table() {
        let documented = include_str!("../LIFECYCLE.md");
        let start = documented.find("| from | step | to |").unwrap_or(documented.len());
        assert_eq!(documented[start..].trim(), super::render_table().trim(), "regenerate LIFECYCLE.md from render_table()");
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    struct Given(Stage);

    struct When {
        from: Stage,
        step: Step,
    }

    fn given(stage: Stage) -> Given {
        Given(stage)
    }

    impl Given {
        fn when(self, step: Step) -> When {
            When { from: self.0, step }
        }
    }

    impl When {
        /// Asserts the strict and tolerant functions agree on `expected`; returns it for chaining.
        fn then(self, expected: Stage) -> Given {
            assert_eq!(
                next(self.from, &self.step),
                Ok(expected),
                "{} from {}",
                self.step.name(),
                self.from
            );
            assert_eq!(classify(self.from, &self.step), Verdict::To(expected));
            Given(expected)
        }

        fn then_illegal(self, verdict: Verdict) {
            assert_eq!(
                next(self.from, &self.step),
                Err(IllegalTransition {
                    from: self.from,
                    step: self.step.name()
                })
            );
            assert_eq!(
                classify(self.from, &self.step),
                verdict,
                "{} at {}",
                self.step.name(),
                self.from
            );
        }
    }

    fn step_of(kind: StepKind) -> Step {
        match kind {
            StepKind::AcknowledgementSent => Step::AcknowledgementSent,
            StepKind::Triaged => Step::Triaged,
            StepKind::Assigned => Step::Assigned,
            StepKind::InvestigationOpened => Step::InvestigationOpened,
            StepKind::ResolutionProposed => Step::ResolutionProposed,
            StepKind::ResolutionApproved => Step::ResolutionApproved,
            StepKind::ResolutionReturned => Step::ResolutionReturned,
            StepKind::ResultDelivered => Step::ResultDelivered,
            StepKind::CustomerAccepted => Step::CustomerAccepted { by_silence: false },
            StepKind::CustomerObjected => Step::CustomerObjected,
            StepKind::RemedyExecuted => Step::RemedyExecuted,
            StepKind::NothingToExecute => Step::NothingToExecute,
            StepKind::FollowUpRecorded => Step::FollowUpRecorded,
            StepKind::Closed => Step::Closed,
            StepKind::Archived => Step::Archived,
            StepKind::Withdrawn => Step::Withdrawn,
            StepKind::MarkedOutOfScope => Step::MarkedOutOfScope,
            StepKind::MergedInto => Step::MergedInto,
            StepKind::JoinedMassIncident => Step::JoinedMassIncident,
            StepKind::LeftMassIncident => Step::LeftMassIncident,
            StepKind::UnifiedStatementDelivered => Step::UnifiedStatementDelivered,
            StepKind::ReviewRequested => Step::ReviewRequested,
            StepKind::ReviewUpheld => Step::ReviewUpheld,
            StepKind::ReviewChanged => Step::ReviewChanged,
        }
    }

    fn is_legal(stage: Stage, kind: StepKind) -> bool {
        TRANSITIONS
            .iter()
            .any(|&(from, row_kind, _)| from == stage && row_kind == kind)
    }

    use Stage::*;

    // --- Names -------------------------------------------------------------------------------

    #[test]
    fn every_stage_name_round_trips_and_is_unique() {
        let names: HashSet<_> = Stage::ALL.iter().map(|stage| stage.as_str()).collect();
        assert_eq!(names.len(), Stage::ALL.len());
        for stage in Stage::ALL {
            assert_eq!(Stage::parse(stage.as_str()), Some(stage));
            assert_eq!(stage.to_string(), stage.as_str());
        }
        assert_eq!(Stage::parse("Received"), None);
        assert_eq!(Stage::parse(""), None);
    }

    #[test]
    fn serde_names_equal_stored_names() {
        use serde::de::IntoDeserializer;
        use serde::de::value::{Error, StrDeserializer};
        for stage in Stage::ALL {
            let deserializer: StrDeserializer<'_, Error> = stage.as_str().into_deserializer();
            assert_eq!(Stage::deserialize(deserializer), Ok(stage));
        }
    }

    #[test]
    fn all_lists_every_variant_in_declaration_order() {
        for (index, stage) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(stage as usize, index);
        }
        for (index, kind) in StepKind::ALL.into_iter().enumerate() {
            assert_eq!(kind as usize, index);
            assert_eq!(step_of(kind).kind(), kind);
            assert_eq!(step_of(kind).name(), kind.name());
        }
        let names: HashSet<_> = StepKind::ALL.iter().map(|kind| kind.name()).collect();
        assert_eq!(names.len(), StepKind::ALL.len());
    }

    // --- The table ---------------------------------------------------------------------------

    #[test]
    fn table_has_one_row_per_stage_and_step() {
        let pairs: HashSet<_> = TRANSITIONS
            .iter()
            .map(|&(from, kind, _)| (from, kind))
            .collect();
        assert_eq!(pairs.len(), TRANSITIONS.len());
    }

    #[test]
    fn every_legal_transition_is_taken_by_next_and_classify() {
        for &(from, kind, to) in TRANSITIONS {
            given(from).when(step_of(kind)).then(to);
        }
    }

    #[test]
    fn equal_progress_only_for_no_ops() {
        for &(from, kind, to) in TRANSITIONS {
            let same_rank = from.progress() == to.progress();
            assert_eq!(same_rank, from == to, "{from} --{}--> {to}", kind.name());
        }
    }

    #[test]
    fn every_pair_outside_the_table_is_rejected_and_never_classified_to() {
        let mut rejected = 0;
        for stage in Stage::ALL {
            for kind in StepKind::ALL {
                if is_legal(stage, kind) {
                    continue;
                }
                rejected += 1;
                let step = step_of(kind);
                assert_eq!(
                    next(stage, &step),
                    Err(IllegalTransition {
                        from: stage,
                        step: kind.name()
                    })
                );
                assert!(!matches!(classify(stage, &step), Verdict::To(_)));
            }
        }
        assert_eq!(
            rejected,
            Stage::ALL.len() * StepKind::ALL.len() - TRANSITIONS.len()
        );
    }

    #[test]
    fn every_stage_is_reachable_from_received_and_every_open_stage_can_close() {
        let from_received = reachable(Received, false);
        for stage in Stage::ALL {
            assert_ne!(from_received & stage.bit(), 0, "{stage} unreachable");
            if stage.is_open() {
                assert_ne!(reachable(stage, false) & Archived.bit(), 0, "{stage} stuck");
            }
        }
    }

    #[test]
    fn terminal_stages_accept_only_archiving() {
        for stage in Stage::ALL.into_iter().filter(|stage| stage.is_terminal()) {
            for kind in StepKind::ALL {
                let legal = next(stage, &step_of(kind));
                if kind == StepKind::Archived && stage != Archived {
                    assert_eq!(legal, Ok(Archived));
                } else {
                    assert!(legal.is_err(), "{} after {stage}", kind.name());
                }
            }
        }
    }

    #[test]
    fn open_and_terminal_partition_as_documented() {
        let closed_like: Vec<_> = Stage::ALL.into_iter().filter(|s| !s.is_open()).collect();
        assert_eq!(closed_like, [Closed, Archived, Withdrawn, Merged]);
        let terminal: Vec<_> = Stage::ALL.into_iter().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, [Archived, Withdrawn, Merged]);
    }

    #[test]
    fn withdrawal_is_legal_from_exactly_the_open_stages() {
        for stage in Stage::ALL {
            if stage.is_open() {
                given(stage).when(Step::Withdrawn).then(Withdrawn);
            } else {
                assert!(next(stage, &Step::Withdrawn).is_err(), "{stage}");
            }
        }
    }

    #[test]
    fn rework_moves_are_the_backward_ones() {
        let rework: Vec<_> = TRANSITIONS
            .iter()
            .filter(|&&(from, kind, _)| {
                next_move(from, &step_of(kind)).map(|m| m.rework) == Ok(true)
            })
            .map(|&(from, kind, _)| (from, kind))
            .collect();
        assert_eq!(
            rework,
            [
                (AwaitingApproval, StepKind::ResolutionReturned),
                (CustomerInformed, StepKind::CustomerObjected),
                (AwaitingApproval, StepKind::JoinedMassIncident),
                (Approved, StepKind::JoinedMassIncident),
                (MassMember, StepKind::LeftMassIncident),
                (UnderReview, StepKind::ReviewUpheld),
                (UnderReview, StepKind::ReviewChanged),
            ]
        );
    }

    #[test]
    fn render_table_lists_every_transition() {
        let table = render_table();
        let lines: Vec<_> = table.lines().collect();
        assert_eq!(lines.len(), TRANSITIONS.len() + 2);
        assert_eq!(lines[0], "| from | step | to |");
        assert_eq!(
            lines[2],
            "| received | acknowledgement_sent | acknowledged |"
        );
        assert!(lines.contains(&"| under_review | review_changed | awaiting_approval |"));
    }

    #[test]
    fn illegal_transition_reads_well() {
        let error = next(Closed, &Step::ResolutionProposed).unwrap_err();
        assert_eq!(
            error.to_string(),
            "step `resolution_proposed` is not legal from stage `closed`"
        );
        let _: &dyn std::error::Error = &error;
    }

    // --- Named journeys ----------------------------------------------------------------------

    #[test]
    fn happy_path_from_received_to_archived() {
        given(Received)
            .when(Step::AcknowledgementSent)
            .then(Acknowledged)
            .when(Step::Triaged)
            .then(Triaged)
            .when(Step::Assigned)
            .then(Assigned)
            .when(Step::InvestigationOpened)
            .then(Investigating)
            .when(Step::ResolutionProposed)
            .then(AwaitingApproval)
            .when(Step::ResolutionApproved)
            .then(Approved)
            .when(Step::ResultDelivered)
            .then(CustomerInformed)
            .when(Step::CustomerAccepted { by_silence: false })
            .then(Accepted)
            .when(Step::RemedyExecuted)
            .then(AwaitingFollowUp)
            .when(Step::FollowUpRecorded)
            .then(Closed)
            .when(Step::Archived)
            .then(Archived);
    }

    #[test]
    fn acknowledgement_after_triage_keeps_the_stage() {
        given(Received)
            .when(Step::Triaged)
            .then(Triaged)
            .when(Step::AcknowledgementSent)
            .then(Triaged)
            .when(Step::Assigned)
            .then(Assigned)
            .when(Step::AcknowledgementSent)
            .then(Assigned);
        assert_eq!(
            next_move(Assigned, &Step::AcknowledgementSent),
            Ok(Move {
                to: Assigned,
                rework: false
            })
        );
    }

    #[test]
    fn returned_for_rework_goes_back_to_investigating() {
        given(AwaitingApproval)
            .when(Step::ResolutionReturned)
            .then(Investigating)
            .when(Step::ResolutionProposed)
            .then(AwaitingApproval)
            .when(Step::ResolutionApproved)
            .then(Approved);
        assert_eq!(
            next_move(AwaitingApproval, &Step::ResolutionReturned),
            Ok(Move {
                to: Investigating,
                rework: true
            })
        );
    }

    #[test]
    fn objection_opens_re_review_which_proposes_anew() {
        given(CustomerInformed)
            .when(Step::CustomerObjected)
            .then(ReReview)
            .when(Step::ResolutionProposed)
            .then(AwaitingApproval)
            .when(Step::ResolutionApproved)
            .then(Approved)
            .when(Step::ResultDelivered)
            .then(CustomerInformed);
    }

    #[test]
    fn silence_after_the_window_is_acceptance() {
        given(CustomerInformed)
            .when(Step::CustomerAccepted { by_silence: true })
            .then(Accepted);
    }

    #[test]
    fn nothing_to_execute_goes_straight_to_follow_up() {
        given(Accepted)
            .when(Step::NothingToExecute)
            .then(AwaitingFollowUp)
            .when(Step::FollowUpRecorded)
            .then(Closed);
    }

    #[test]
    fn out_of_scope_closes_then_archives() {
        for stage in [Triaged, Assigned, Investigating] {
            given(stage)
                .when(Step::MarkedOutOfScope)
                .then(OutOfScope)
                .when(Step::Closed)
                .then(Closed)
                .when(Step::Archived)
                .then(Archived);
        }
        given(Received)
            .when(Step::MarkedOutOfScope)
            .then_illegal(Verdict::Early);
        given(AwaitingApproval)
            .when(Step::MarkedOutOfScope)
            .then_illegal(Verdict::Stale);
    }

    #[test]
    fn merge_only_before_a_resolution_is_proposed() {
        for stage in [Received, Acknowledged, Triaged, Assigned, Investigating] {
            given(stage)
                .when(Step::MergedInto)
                .then(Merged)
                .when(Step::Archived)
                .then(Archived);
        }
        for stage in [
            AwaitingApproval,
            Approved,
            CustomerInformed,
            ReReview,
            MassMember,
        ] {
            given(stage)
                .when(Step::MergedInto)
                .then_illegal(Verdict::Illegal);
        }
    }

    #[test]
    fn mass_member_joins_and_gets_the_unified_statement() {
        given(Assigned)
            .when(Step::JoinedMassIncident)
            .then(MassMember)
            .when(Step::UnifiedStatementDelivered)
            .then(CustomerInformed)
            .when(Step::CustomerAccepted { by_silence: true })
            .then(Accepted);
    }

    #[test]
    fn mass_member_unlinked_resumes_investigation() {
        given(Approved)
            .when(Step::JoinedMassIncident)
            .then(MassMember)
            .when(Step::LeftMassIncident)
            .then(Investigating);
        given(CustomerInformed)
            .when(Step::JoinedMassIncident)
            .then_illegal(Verdict::Stale);
    }

    #[test]
    fn review_upheld_closes_again() {
        for stage in [CustomerInformed, Accepted, AwaitingFollowUp, Closed] {
            given(stage)
                .when(Step::ReviewRequested)
                .then(UnderReview)
                .when(Step::ReviewUpheld)
                .then(Closed);
        }
    }

    #[test]
    fn review_changed_sends_a_new_resolution_to_approval() {
        given(Closed)
            .when(Step::ReviewRequested)
            .then(UnderReview)
            .when(Step::ReviewChanged)
            .then(AwaitingApproval)
            .when(Step::ResolutionApproved)
            .then(Approved);
    }

    #[test]
    fn review_cannot_be_requested_before_a_decision() {
        given(Investigating)
            .when(Step::ReviewRequested)
            .then_illegal(Verdict::Early);
        given(Withdrawn)
            .when(Step::ReviewRequested)
            .then_illegal(Verdict::Stale);
    }

    // --- Classification of steps seen twice or out of order -----------------------------------

    #[test]
    fn repeated_steps_are_stale() {
        given(Acknowledged)
            .when(Step::AcknowledgementSent)
            .then_illegal(Verdict::Stale);
        given(ReReview)
            .when(Step::CustomerObjected)
            .then_illegal(Verdict::Stale);
        given(Closed)
            .when(Step::FollowUpRecorded)
            .then_illegal(Verdict::Stale);
        given(Withdrawn)
            .when(Step::Withdrawn)
            .then_illegal(Verdict::Stale);
        given(Archived)
            .when(Step::Archived)
            .then_illegal(Verdict::Stale);
    }

    #[test]
    fn steps_the_complaint_has_passed_are_stale() {
        given(ReReview)
            .when(Step::AcknowledgementSent)
            .then_illegal(Verdict::Stale);
        given(CustomerInformed)
            .when(Step::AcknowledgementSent)
            .then_illegal(Verdict::Stale);
        given(CustomerInformed)
            .when(Step::ResolutionApproved)
            .then_illegal(Verdict::Stale);
        given(Assigned)
            .when(Step::Triaged)
            .then_illegal(Verdict::Stale);
        given(ReReview)
            .when(Step::Triaged)
            .then_illegal(Verdict::Stale);
        given(ReReview)
            .when(Step::ResultDelivered)
            .then_illegal(Verdict::Early);
        given(Closed)
            .when(Step::ResolutionProposed)
            .then_illegal(Verdict::Stale);
        given(Archived)
            .when(Step::CustomerAccepted { by_silence: true })
            .then_illegal(Verdict::Stale);
    }

    #[test]
    fn late_events_after_withdrawal_are_stale_but_a_merge_is_illegal() {
        given(Withdrawn)
            .when(Step::Triaged)
            .then_illegal(Verdict::Stale);
        given(Withdrawn)
            .when(Step::ResolutionApproved)
            .then_illegal(Verdict::Stale);
        given(Merged)
            .when(Step::ResolutionProposed)
            .then_illegal(Verdict::Stale);
        given(Withdrawn)
            .when(Step::MergedInto)
            .then_illegal(Verdict::Illegal);
        given(Merged)
            .when(Step::Withdrawn)
            .then_illegal(Verdict::Illegal);
    }

    #[test]
    fn steps_ahead_of_the_complaint_are_early() {
        given(Investigating)
            .when(Step::ResultDelivered)
            .then_illegal(Verdict::Early);
        given(Assigned)
            .when(Step::ResolutionApproved)
            .then_illegal(Verdict::Early);
        given(Received)
            .when(Step::Assigned)
            .then_illegal(Verdict::Early);
        given(ReReview)
            .when(Step::ResolutionApproved)
            .then_illegal(Verdict::Early);
        given(Investigating)
            .when(Step::UnifiedStatementDelivered)
            .then_illegal(Verdict::Early);
        given(Closed)
            .when(Step::ReviewChanged)
            .then_illegal(Verdict::Early);
        given(Accepted)
            .when(Step::FollowUpRecorded)
            .then_illegal(Verdict::Early);
    }

    #[test]
    fn steps_no_history_explains_are_illegal() {
        given(CustomerInformed)
            .when(Step::MergedInto)
            .then_illegal(Verdict::Illegal);
        given(ReReview)
            .when(Step::MergedInto)
            .then_illegal(Verdict::Illegal);
        given(Closed)
            .when(Step::MergedInto)
            .then_illegal(Verdict::Illegal);
    }

    /// Every history without rework: each consumer position sees earlier steps as Stale (or a
    /// no-op) and later steps as Early (or a legal jump).
    #[test]
    fn forward_histories_classify_consistently() {
        fn walk(path: &mut Vec<(StepKind, Stage)>, checked: &mut usize) {
            let Some(&(_, here)) = path.last() else {
                return;
            };
            let mut extended = false;
            for &(from, kind, to) in TRANSITIONS {
                if from == here && to.progress() > from.progress() {
                    path.push((kind, to));
                    walk(path, checked);
                    path.pop();
                    extended = true;
                }
            }
            if extended {
                return;
            }
            *checked += 1;
            for (position, &(_, consumer_at)) in path.iter().enumerate() {
                for (index, &(kind, _)) in path.iter().enumerate().skip(1) {
                    let verdict = classify(consumer_at, &step_of(kind));
                    if index <= position {
                        assert!(
                            verdict == Verdict::Stale || verdict == Verdict::To(consumer_at),
                            "{} seen at {consumer_at}: {verdict:?}",
                            kind.name()
                        );
                    } else {
                        assert!(
                            matches!(verdict, Verdict::Early | Verdict::To(_)),
                            "{} seen at {consumer_at}: {verdict:?}",
                            kind.name()
                        );
                    }
                }
            }
        }
        let mut checked = 0;
        walk(&mut vec![(StepKind::Triaged, Received)], &mut checked);
        assert!(checked > 50, "only {checked} histories");
    }
}
