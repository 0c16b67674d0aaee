//! On `received`: triage, choose a handler without conflict, store the assignment and emit
//! `triaged` and `assigned` in one transaction. On the customer's objection: hand the case to
//! a supervisor for the escalated re-review (with counsel for a contract dispute). On closure,
//! withdrawal or merge: the case leaves the handler's caseload; a review request brings it back.

use std::sync::Arc;

use complaints_classifier::Classifier;
use complaints_domain::events::{CustomerErased, 
    ComplaintAssigned, ComplaintClosed, ComplaintReceived, ComplaintTriaged, ComplaintWithdrawn, CustomerResponded, CustomerResponse, EventMeta,
    LifecycleEvent, MergedInto, ReassignCause, RepeatDetected, ReviewDecided, ReviewRequested,
};
use complaints_domain::StaffId;
use complaints_domain::org::Involvement;
use complaints_plumbing::access::Access;
use complaints_plumbing::consumer::{EventHandler, HandlerError};
use complaints_plumbing::outbox::{self, Subject};
use complaints_plumbing::store::Tx;

use crate::detection;
use crate::domain::{choose_handler, choose_reviewer, counsel, is_contract_dispute, triage, Complaint};
use crate::incidents;
use crate::screening::{self, Candidate, Mass};
use crate::store::{self, Assignment, Move};
use crate::{Config, SERVICE};

complaints_plumbing::consumes! {
    pub enum Consumed {
        Received(ComplaintReceived),
        CustomerResponded(CustomerResponded),
        Closed(ComplaintClosed),
        Withdrawn(ComplaintWithdrawn),
        ReviewRequested(ReviewRequested),
        ReviewDecided(ReviewDecided),
        CustomerErased(CustomerErased),
    }
}

pub struct Handler {
    /// The organisation directory the service loaded at start-up (shared, not copied).
    pub access: Access,
    pub config: Arc<Config>,
    pub classifier: Arc<Classifier>,
}

impl Handler {
    /// Legal & compliance counsel who join an escalation of a complaint tagged a contract
    /// dispute; nobody otherwise.
    fn counsel_for(&self, tags: &[String], involvement: &Involvement<'_>) -> Vec<StaffId> {
        let rules = &self.config.re_review;
        if is_contract_dispute(tags, &rules.contract_dispute_tags) {
            counsel(self.access.org(), &rules.counsel_role, involvement)
        } else {
            Vec::new()
        }
    }

    /// The escalated re-review: a supervisor who is not the handler who decided, and counsel
    /// from legal & compliance when the complaint is a contract dispute.
    async fn re_review(&self, tx: &mut Tx, meta: &EventMeta) -> Result<(), HandlerError> {
        let current = store::find(&mut **tx, meta.complaint_id.as_str())
            .await?
            .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("no assignment for {} yet", meta.complaint_id)))?;
        if !current.open {
            return Ok(());
        }
        let caseloads = store::caseloads(tx).await?;
        let involvement = Involvement { staff: &current.staff_involved, branch: &current.branch_involved };
        let org = self.access.org();
        let (reviewer, department) =
            choose_reviewer(org, &current.department, Some(&current.handler), &involvement, |id| caseloads.get(id).copied().unwrap_or(0))
                .ok_or_else(|| HandlerError::Poison("no supervisor without a conflict of interest in the org directory for the re-review".into()))?;
        let contract_dispute = is_contract_dispute(&current.tags, &self.config.re_review.contract_dispute_tags);
        let co_reviewers = self.counsel_for(&current.tags, &involvement);
        let reason = if contract_dispute {
            "the customer objected to the result; contract dispute, legal & compliance joins"
        } else {
            "the customer objected to the result"
        };
        let to = Move {
            cause: ReassignCause::ReReview,
            handler: &reviewer,
            department: &department,
            grade: current.grade,
            category: &current.category,
            product: &current.product,
            co_reviewers: &co_reviewers,
            reason,
            by: "system:routing",
        };
        crate::moves::apply(tx, &current, &to).await?;
        Ok(())
    }
}

impl Handler {
    /// The superior institution's review: a reviewer there who had no part in the decision and
    /// no conflict takes the case (its department stays the line that approves).
    async fn review(&self, tx: &mut Tx, meta: &EventMeta) -> Result<(), HandlerError> {
        let current = store::find(&mut **tx, meta.complaint_id.as_str())
            .await?
            .ok_or_else(|| HandlerError::Retry(anyhow::anyhow!("no assignment for {} yet", meta.complaint_id)))?;
        store::reopen(tx, &meta.complaint_id).await?;
        let caseloads = store::caseloads(tx).await?;
        let org = self.access.org();
        let involvement = Involvement { staff: &current.staff_involved, branch: &current.branch_involved };
        let rules = &self.config.review;
        let reviewer = rules
            .roles
            .iter()
            .flat_map(|role| org.with_role(Some(&rules.department), role))
            .filter(|staff| staff.id != current.handler.as_str() && org.conflict(staff, &involvement).is_none())
            .min_by_key(|staff| caseloads.get(&staff.id).copied().unwrap_or(0))
            .and_then(|staff| StaffId::parse("staff", &staff.id).ok())
            .ok_or_else(|| HandlerError::Poison(format!("no reviewer in {} without a conflict of interest", rules.department)))?;
        let to = Move {
            cause: ReassignCause::Review,
            handler: &reviewer,
            department: &current.department,
            grade: current.grade,
            category: &current.category,
            product: &current.product,
            co_reviewers: &[],
            reason: "the customer asked the superior institution to review the decision",
            by: "system:routing",
        };
        crate::moves::apply(tx, &current, &to).await?;
        Ok(())
    }
}

impl EventHandler for Handler {
    type Event = Consumed;

    /// Only an objection opens a re-review.
    fn ignores(&self, event: &Consumed) -> bool {
        matches!(event, Consumed::CustomerResponded(responded) if responded.response != CustomerResponse::Objected)
    }

    async fn handle(&self, tx: &mut Tx, meta: &EventMeta, event: Consumed) -> Result<(), HandlerError> {
        let received = match event {
            Consumed::Received(received) => received,
            Consumed::CustomerResponded(_) => return self.re_review(tx, meta).await,
            Consumed::Closed(_) | Consumed::Withdrawn(_) => {
                store::close(tx, &meta.complaint_id).await?;
                return Ok(());
            }
            Consumed::ReviewRequested(_) => return self.review(tx, meta).await,
            Consumed::CustomerErased(_) => {
                // Erased customers' complaints no longer count in repeat screening.
                store::forget_customer(tx, &meta.complaint_id).await?;
                return Ok(());
            }
            Consumed::ReviewDecided(decided) => {
                if decided.upheld {
                    store::close(tx, &meta.complaint_id).await?;
                }
                return Ok(());
            }
        };
        self.received(tx, meta, received).await
    }
}

impl Handler {
    /// Triage, repeat and mass screening, and the assignment (or the merge into the customer's
    /// open complaint on the matter), with their events, in one transaction.
    async fn received(&self, tx: &mut Tx, meta: &EventMeta, received: ComplaintReceived) -> Result<(), HandlerError> {
        let complaint = |mass_complaint| Complaint {
            channel: Some(received.channel),
            summary: &received.summary,
            description: &received.description,
            product_hint: &received.product_hint,
            amount: received.amount_involved.as_ref(),
            tags: &received.tags,
            mass_complaint,
        };
        let mut triage = triage(&self.classifier, &complaint(false));
        let text = format!("{}\n{}", received.summary, received.description);
        let signature = detection::signature(&detection::shingles(&text));
        let rules = &self.config.detection;
        let candidate = Candidate {
            customer_key: &received.customer_key,
            product: &triage.product,
            category: &triage.category,
            channel: received.channel.as_str(),
            received_at_ms: received.received_at_ms,
            signature: signature.as_ref(),
        };
        let repeat = screening::repeat(tx, rules, &candidate).await?;
        let band_keys = signature.as_ref().map(|s| detection::band_keys(&triage.product, s)).unwrap_or_default();
        let mass = if repeat.merge_into.is_some() { Mass::None } else { screening::mass(tx, rules, &candidate, &band_keys).await? };
        if !matches!(mass, Mass::None) {
            // Reported by many customers: the grading rule for mass complaints applies.
            triage = crate::domain::triage(&self.classifier, &complaint(true));
        }
        let org = self.access.org();
        let involvement = Involvement { staff: &received.staff_involved, branch: &received.branch_involved };
        let caseloads = store::caseloads(tx).await?;
        let load = |id: &str| caseloads.get(id).copied().unwrap_or(0);
        let department = match &repeat.merge_into {
            Some(target) => target.department.clone(),
            None if triage.needs_human_triage => self.config.triage_department.clone(),
            None => self.config.departments.get(&triage.category).or_else(|| self.config.departments.get("default")).cloned().unwrap_or_default(),
        };
        // The series reached the escalation count: a supervisor takes the matter over and
        // tracks it, with counsel for a contract dispute.
        let escalation = if repeat.escalate {
            let holder = repeat.merge_into.as_ref().map(|target| &target.handler);
            let (reviewer, reviewer_department) = choose_reviewer(org, &department, holder, &involvement, load)
                .ok_or_else(|| HandlerError::Poison("no supervisor without a conflict of interest for the repeat escalation".into()))?;
            Some((reviewer, reviewer_department, self.counsel_for(&received.tags, &involvement)))
        } else {
            None
        };
        let (department, handler, recused) = match (&repeat.merge_into, &escalation) {
            (Some(target), _) => (target.department.clone(), target.handler.clone(), Vec::new()),
            (None, Some((reviewer, reviewer_department, _))) => (reviewer_department.clone(), reviewer.clone(), Vec::new()),
            (None, None) => {
                let choice = choose_handler(org, &department, &involvement, load)
                    .ok_or_else(|| HandlerError::Poison("no handler without a conflict of interest in the org directory".into()))?;
                (choice.department, choice.handler, choice.recused)
            }
        };
        let assignment = Assignment {
            complaint_id: meta.complaint_id.clone(),
            complaint_number: meta.complaint_number.clone(),
            grade: triage.grade,
            category: triage.category.clone(),
            product: triage.product.clone(),
            department: department.clone(),
            handler: handler.clone(),
            reasons: triage.reasons.clone(),
            recused: recused.clone(),
            // A merged complaint is handled under its target and counts in no caseload.
            open: repeat.merge_into.is_none(),
            text: text.clone(),
            staff_involved: received.staff_involved.clone(),
            branch_involved: received.branch_involved.clone(),
            tags: received.tags.clone(),
            co_reviewers: escalation.as_ref().map(|(_, _, counsel)| counsel.clone()).unwrap_or_default(),
            jurisdiction: received.jurisdiction.clone(),
            customer_key: received.customer_key.clone(),
            received_at_ms: received.received_at_ms,
            channel: received.channel.as_str().to_owned(),
            signature: signature.as_ref().map(detection::encode).unwrap_or_default(),
            series_count: i64::from(repeat.count),
            incident_id: String::new(),
        };
        store::insert(tx, &assignment).await?;
        store::file_bands(tx, &meta.complaint_id, received.received_at_ms, &band_keys, received.received_at_ms - rules.mass_window_minutes * 60_000)
            .await?;
        for (earlier, similarity) in &repeat.earlier {
            store::link_repeat(tx, &meta.complaint_id, earlier, *similarity).await?;
        }
        let subject = Subject::new(&meta.complaint_id, &meta.complaint_number);
        let triaged = LifecycleEvent::Triaged(ComplaintTriaged {
            grade: triage.grade,
            category: triage.category.clone(),
            product: triage.product.clone(),
            reasons: triage.reasons.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject.clone(), triaged).await?;
        if repeat.count >= 2 {
            let detected = LifecycleEvent::RepeatDetected(RepeatDetected {
                earlier_numbers: repeat.earlier.iter().map(|(earlier, _)| earlier.complaint_number.to_string()).collect(),
                count: repeat.count,
                new_facts: repeat.new_facts,
                similarity: repeat.closest,
                escalated_to: escalation.as_ref().map(|(reviewer, _, _)| reviewer.clone()),
                co_reviewers: escalation.as_ref().map(|(_, _, counsel)| counsel.clone()).unwrap_or_default(),
            });
            outbox::enqueue(tx, SERVICE, subject.clone(), detected).await?;
        }
        if let Some(target) = &repeat.merge_into {
            let merged = LifecycleEvent::MergedInto(MergedInto {
                target_complaint_id: target.complaint_id.clone(),
                target_number: target.complaint_number.clone(),
                new_facts: repeat.new_facts,
                facts: text,
            });
            outbox::enqueue(tx, SERVICE, subject, merged).await?;
            if let Some((reviewer, reviewer_department, counsel)) = &escalation {
                if reviewer != &target.handler {
                    let to = Move {
                        cause: ReassignCause::RepeatEscalation,
                        handler: reviewer,
                        department: reviewer_department,
                        grade: target.grade,
                        category: &target.category,
                        product: &target.product,
                        co_reviewers: counsel,
                        reason: "the customer's repeated complaints on the matter reached the escalation count",
                        by: "system:routing",
                    };
                    crate::moves::apply(tx, target, &to).await?;
                }
            }
            tracing::info!(target = %target.complaint_number, count = repeat.count, new_facts = repeat.new_facts, "repeat merged");
            return Ok(());
        }
        let assigned = LifecycleEvent::Assigned(ComplaintAssigned {
            department: department.clone(),
            handler: handler.clone(),
            grade: triage.grade,
            category: triage.category.clone(),
            recused_staff: recused,
            jurisdiction: received.jurisdiction.clone(),
        });
        outbox::enqueue(tx, SERVICE, subject, assigned).await?;
        match mass {
            Mass::None => {}
            Mass::Join(incident) => incidents::join(tx, &incident, &meta.complaint_id, &meta.complaint_number, incidents::DETECTED).await?,
            Mass::Open(others) => {
                let task_force: Vec<StaffId> = org
                    .with_role(None, &rules.task_force_role)
                    .filter_map(|staff| StaffId::parse("staff", &staff.id).ok())
                    .collect();
                let incident = incidents::open(tx, &triage.product, &triage.category, &task_force, received.received_at_ms).await?;
                for other in &others {
                    incidents::join(tx, &incident, &other.complaint_id, &other.complaint_number, incidents::DETECTED).await?;
                }
                incidents::join(tx, &incident, &meta.complaint_id, &meta.complaint_number, incidents::DETECTED).await?;
                tracing::info!(incident = %incident.incident_number, members = others.len() + 1, "mass incident opened");
            }
        }
        tracing::info!(
            grade = triage.grade.as_str(),
            category = %triage.category,
            human_triage = triage.needs_human_triage,
            department = %department,
            handler_id = %handler,
            series = repeat.count,
            "complaint assigned"
        );
        Ok(())
    }
}
