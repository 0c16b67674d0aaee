//! The side paths of case work in the running processes, on SQLite and PostgreSQL:
//!
//! - **withdrawal** by the customer's channel: the procedure ends, every clock of every service
//!   stops, the reason is recorded, the customer gets a confirmation and the case leaves the
//!   handler's caseload;
//! - **out of scope**: the handler marks it, the customer is offered the external routes, the
//!   statutory clock is met by that notice, and the customer's choice closes the complaint;
//! - **closing without execution**: an accepted apology goes to the follow-up with nothing
//!   executed;
//! - **objection → escalated re-review** of a contract dispute: a supervisor, not the handler
//!   who decided, takes the case with legal & compliance; the new resolution is approved again;
//! - **reassignment and hand-over**: a supervisor moves a case, the handler hands one over
//!   with a written record, the clocks follow the case, outsiders are refused;
//! - **re-triage** from the triage desk: the correction is recorded with who and why and the
//!   case goes to the department of the corrected category;
//! - **review (复核)** by the superior institution: inside the window the customer asks; a
//!   reviewer at head office (not the handler) takes the case on its own 30-day clock and
//!   upholds the decision (the complaint closes again, the customer told) or changes it (the
//!   new resolution is approved again); after the window, or before a decision, it is refused;
//! - **archive**: the complete case file as one JSON and one HTML document with a checksum,
//!   no contact in it; archived complaints are read-only in every service; refused while
//!   open, while the review window is open, and to staff without a supervising role;
//! - **work queues and search** over all of them: my cases, the department's, the triage desk,
//!   filters, earliest due first, paging without a cap, search by number, by customer (through
//!   the protected lookup key) and by text.

use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use system_tests::{
    assignment, case_of, clock_in, clock_state, clocks_of, complaint, delivered, handler_of, propose_and_approve, resolve,
    sample_complaint, submit, timeline_line, wait_for, wait_stage, Platform, WAIT,
};

fn case_stage(case: &Option<pb::CaseView>) -> &str {
    case.as_ref().map_or("", |case| case.status.as_str())
}

async fn withdrawal(platform: &Platform) -> String {
    let owned = submit(platform, sample_complaint("side-withdraw")).await;
    let number: &str = &owned;
    let handler = handler_of(platform, number).await;
    clock_in(platform, number, "investigation", pb::ClockState::Running).await;
    clock_in(platform, number, "regulator_decision", pb::ClockState::Running).await;

    let mut intake = platform.intake().await;
    let refused = intake
        .withdraw_complaint(pb::WithdrawComplaintRequest { complaint_number: number.to_owned(), reason: "  ".into() })
        .await
        .expect_err("a reason is required");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("reason"), "{}", refused.message());
    let other_channel = platform
        .intake_as("channel:wechat")
        .await
        .withdraw_complaint(pb::WithdrawComplaintRequest { complaint_number: number.to_owned(), reason: "not mine".into() })
        .await
        .expect_err("a channel that does not serve the customer");
    assert_eq!(other_channel.code(), tonic::Code::PermissionDenied);

    let view = intake
        .withdraw_complaint(pb::WithdrawComplaintRequest { complaint_number: number.to_owned(), reason: "settled with the branch".into() })
        .await
        .expect("withdraw")
        .into_inner();
    assert_eq!(view.status, "withdrawn");
    let again = intake
        .withdraw_complaint(pb::WithdrawComplaintRequest { complaint_number: number.to_owned(), reason: "twice".into() })
        .await
        .expect_err("only an open complaint can be withdrawn");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);

    // Every clock stops: intake's and investigation's, none left running anywhere.
    wait_for("every clock stopped", WAIT, || async move {
        let clocks = clocks_of(platform, number).await;
        let running = clocks.iter().filter(|clock| {
            matches!(clock_state(clock), pb::ClockState::Running | pb::ClockState::Warned | pb::ClockState::Paused)
        });
        (clocks.len() >= 4 && running.count() == 0).then_some(())
    })
    .await;
    clock_in(platform, number, "investigation", pb::ClockState::Cancelled).await;
    clock_in(platform, number, "regulator_decision", pb::ClockState::Cancelled).await;

    // The reason is on record, the customer is told, the case and the caseload let it go.
    let (_, actor, detail) = timeline_line(platform, number, "withdrawn", "settled with the branch").await;
    assert_eq!(actor, "channel:app");
    assert!(detail.contains("by the customer"), "{detail}");
    let confirmation = delivered(platform, "withdrawal confirmation", |m| m.body["kind"] == "withdrawal").await;
    assert!(confirmation.body["text"].as_str().unwrap_or_default().contains(number), "{:?}", confirmation.body);
    wait_for("case withdrawn", WAIT, || async move { (case_stage(&case_of(platform, number).await) == "withdrawn").then_some(()) }).await;
    let case = case_of(platform, number).await.expect("case");
    assert!(case.notes.iter().any(|note| note.kind == "withdrawn" && note.note == "settled with the branch"), "{:?}", case.notes);
    wait_for("out of the caseload", WAIT, || async move { assignment(platform, number).await.filter(|a| !a.open) }).await;
    let late = platform
        .investigation_as(&handler)
        .await
        .record_finding(pb::RecordFindingRequest { complaint_number: number.to_owned(), finding: "too late".into() })
        .await
        .expect_err("a withdrawn case takes no more work");
    assert_eq!(late.code(), tonic::Code::FailedPrecondition);
    owned
}

async fn out_of_scope(platform: &Platform) {
    let number = submit(platform, sample_complaint("side-scope")).await;
    let number: &str = &number;
    let handler = handler_of(platform, number).await;
    let mut investigation = platform.investigation_as(&handler).await;
    let refused = investigation
        .mark_out_of_scope(pb::MarkOutOfScopeRequest {
            complaint_number: number.to_owned(),
            reason: "a merchant dispute".into(),
            routes: vec!["mediation".into(), "duel".into()],
        })
        .await
        .expect_err("unknown route");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("routes[1]"), "{}", refused.message());
    let case = investigation
        .mark_out_of_scope(pb::MarkOutOfScopeRequest {
            complaint_number: number.to_owned(),
            reason: "the fee was set by the card scheme, not by the bank".into(),
            routes: vec![],
        })
        .await
        .expect("out of scope")
        .into_inner();
    assert_eq!(case.status, "out_of_scope");

    // The customer is told why and offered every external route; that notice is the decision
    // the statutory clock waits for.
    let notice = delivered(platform, "out-of-scope notice", |m| m.body["kind"] == "out_of_scope").await;
    let text = notice.body["text"].as_str().unwrap_or_default().to_owned();
    for route in ["mediation", "arbitration", "litigation", "industry_association", "regulator"] {
        assert!(text.contains(route), "{route} offered: {text}");
    }
    assert!(text.contains("card scheme"), "{text}");
    clock_in(platform, number, "regulator_decision", pb::ClockState::Met).await;
    clock_in(platform, number, "investigation", pb::ClockState::Met).await;
    wait_stage(platform, number, "out_of_scope").await;

    let mut intake = platform.intake().await;
    let bad = intake
        .record_external_route(pb::RecordExternalRouteRequest { complaint_number: number.to_owned(), route: "duel".into(), note: String::new() })
        .await
        .expect_err("unknown route");
    assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    assert!(bad.message().contains("route"), "{}", bad.message());
    let view = intake
        .record_external_route(pb::RecordExternalRouteRequest {
            complaint_number: number.to_owned(),
            route: "mediation".into(),
            note: "will go to the mediation centre".into(),
        })
        .await
        .expect("route chosen")
        .into_inner();
    assert_eq!(view.status, "closed");
    timeline_line(platform, number, "closed", "mediation").await;
    wait_for("case closed", WAIT, || async move { (case_stage(&case_of(platform, number).await) == "closed").then_some(()) }).await;
}

async fn nothing_to_execute(platform: &Platform) -> String {
    let owned = submit(platform, sample_complaint("side-nothing")).await;
    let number: &str = &owned;
    let handler = handler_of(platform, number).await;
    let apology = pb::Resolution {
        resolution_type: pb::ResolutionType::ExplanationAndApology as i32,
        amount: None,
        conclusion: "The fee was correct; we apologise for the unclear statement".into(),
        basis: "Card agreement 4.2".into(),
        execution_method: "Letter of explanation".into(),
    };
    propose_and_approve(platform, number, &handler, apology).await;
    platform
        .intake()
        .await
        .respond_to_resolution(pb::RespondToResolutionRequest { complaint_number: number.to_owned(), accept: true, comment: String::new() })
        .await
        .expect("accept");
    let mut investigation = platform.investigation_as(&handler).await;
    wait_for("case accepted", WAIT, || async move { (case_stage(&case_of(platform, number).await) == "accepted").then_some(()) }).await;
    let missing = investigation
        .record_execution(pb::RecordExecutionRequest { complaint_number: number.to_owned(), reference: String::new(), nothing_to_execute: false })
        .await
        .expect_err("an execution needs its reference");
    assert!(missing.message().contains("reference"), "{}", missing.message());
    let case = investigation
        .record_execution(pb::RecordExecutionRequest { complaint_number: number.to_owned(), reference: String::new(), nothing_to_execute: true })
        .await
        .expect("nothing to execute")
        .into_inner();
    assert_eq!(case.status, "awaiting_follow_up");
    wait_stage(platform, number, "awaiting_follow_up").await;
    clock_in(platform, number, "execution", pb::ClockState::Met).await;
    clock_in(platform, number, "follow_up", pb::ClockState::Running).await;
    timeline_line(platform, number, "nothing_to_execute", "nothing executed").await;
    let notice = delivered(platform, "completion notice", |m| {
        m.body["kind"] == "execution" && m.body["text"].as_str().is_some_and(|t| t.contains(number) && t.contains("nothing further"))
    })
    .await;
    assert_eq!(notice.body["channel"], "sms");
    owned
}

async fn objection_re_review(platform: &Platform) {
    let request = pb::SubmitComplaintRequest { tags: vec!["contract_dispute".into()], ..sample_complaint("side-objection") };
    let number = submit(platform, request).await;
    let number: &str = &number;
    let handler = resolve(platform, number).await;
    let handler: &str = &handler;
    platform
        .intake()
        .await
        .respond_to_resolution(pb::RespondToResolutionRequest {
            complaint_number: number.to_owned(),
            accept: false,
            comment: "the contract says the fee is waived for life".into(),
        })
        .await
        .expect("objection");

    // A supervisor of the department, not the handler who decided, re-reviews; legal &
    // compliance joins because the complaint is a contract dispute.
    let moved = wait_for("re-review assigned", WAIT, || async move {
        assignment(platform, number).await.filter(|a| a.handler_id != handler)
    })
    .await;
    assert_eq!(moved.handler_id, "RO-SUP");
    assert_eq!(moved.co_reviewer_ids, ["HO-RISK"]);
    for recipient in ["RO-SUP", "HO-RISK"] {
        delivered(platform, &format!("re-review alert to {recipient}"), |m| {
            m.body["kind"] == "case_assigned" && m.body["recipient"] == recipient
        })
        .await;
    }
    let (_, actor, _) = timeline_line(platform, number, "re_review", "RO-SUP").await;
    assert_eq!(actor, "system:routing");
    wait_for("case handed to the reviewer", WAIT, || async move {
        case_of(platform, number).await.filter(|case| case.handler_id == "RO-SUP" && case.status == "re_review")
    })
    .await;
    let round_two = clock_where_owner(platform, number, "investigation", 2, "RO-SUP").await;
    assert_eq!(clock_state(&round_two), pb::ClockState::Running);

    // The handler who decided no longer works the case; the supervisor proposes anew and the
    // new resolution goes through approval again.
    let refused = platform
        .investigation_as(handler)
        .await
        .record_finding(pb::RecordFindingRequest { complaint_number: number.to_owned(), finding: "mine".into() })
        .await
        .expect_err("not the original handler");
    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    let larger = pb::Resolution { conclusion: "The fee is refunded with interest".into(), ..system_tests::fee_waiver() };
    propose_and_approve(platform, number, "RO-SUP", larger).await;
    let results = platform.sink.all().into_iter().filter(|m| m.body["kind"] == "result" && m.body["text"].as_str().is_some_and(|t| t.contains(number))).count();
    assert!(results >= 1);
    delivered(platform, "second result", |m| {
        m.body["kind"] == "result" && m.body["text"].as_str().is_some_and(|t| t.contains(number) && t.contains("with interest"))
    })
    .await;
}

/// Waits for the complaint's clock `kind` of `round` owned by `owner`.
async fn clock_where_owner(platform: &Platform, number: &str, kind: &str, round: u32, owner: &str) -> pb::ClockSnapshot {
    system_tests::clock_where(platform, number, &format!("{kind} round {round} owned by {owner}"), |clock| {
        clock.kind == kind && clock.round == round && clock.owner_id == owner
    })
    .await
}

async fn reassignment(platform: &Platform) {
    let number = submit(platform, sample_complaint("side-reassign")).await;
    let number: &str = &number;
    let first = handler_of(platform, number).await;
    let other = if first == "RO-001" { "RO-002" } else { "RO-001" };

    // Someone outside the department and not holding the case is refused.
    let mut outsider = platform.routing_as("DB-001").await;
    let denied = outsider
        .reassign(pb::ReassignRequest { complaint_number: number.to_owned(), reason: "mine now".into(), ..Default::default() })
        .await
        .expect_err("not a supervisor of the department");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    // The handler hands over to a named colleague with a written record.
    let mut holder = platform.routing_as(&first).await;
    let missing = holder
        .reassign(pb::ReassignRequest { complaint_number: number.to_owned(), handler_id: other.into(), ..Default::default() })
        .await
        .expect_err("the written record is required");
    assert!(missing.message().contains("reason"), "{}", missing.message());
    let moved = holder
        .reassign(pb::ReassignRequest {
            complaint_number: number.to_owned(),
            handler_id: other.into(),
            reason: "going on leave; customer called twice, statement requested".into(),
            ..Default::default()
        })
        .await
        .expect("hand-over")
        .into_inner();
    assert_eq!(moved.handler_id, other);
    clock_where_owner(platform, number, "investigation", 1, other).await;
    wait_for("case follows", WAIT, || async move { case_of(platform, number).await.filter(|case| case.handler_id == other) }).await;
    timeline_line(platform, number, "reassignment", "going on leave").await;
    delivered(platform, "hand-over alert", |m| m.body["kind"] == "case_assigned" && m.body["recipient"] == other).await;
    let old = platform
        .investigation_as(&first)
        .await
        .record_finding(pb::RecordFindingRequest { complaint_number: number.to_owned(), finding: "still mine?".into() })
        .await
        .expect_err("handed over");
    assert_eq!(old.code(), tonic::Code::PermissionDenied);

    // The supervisor moves it on to whoever has the lightest open caseload.
    let mut supervisor = platform.routing_as("RO-SUP").await;
    let back = supervisor
        .reassign(pb::ReassignRequest { complaint_number: number.to_owned(), reason: "balance the load".into(), ..Default::default() })
        .await
        .expect("reassign")
        .into_inner();
    assert_ne!(back.handler_id, other);
    assert_eq!(back.department, "retail_operations");
    let conflicted = supervisor
        .reassign(pb::ReassignRequest {
            complaint_number: number.to_owned(),
            department: "digital_banking".into(),
            handler_id: "RO-001".into(),
            reason: "x".into(),
        })
        .await
        .expect_err("handler not in the department");
    assert_eq!(conflicted.code(), tonic::Code::InvalidArgument);
    assert!(conflicted.message().contains("handler_id"), "{}", conflicted.message());
}

async fn retriage(platform: &Platform) {
    // Text the classifier cannot place lands at the triage desk (customer service).
    let request = pb::SubmitComplaintRequest {
        summary: "zorp blivet quandary".into(),
        description: "frobnicated the wibble twice without a glorp".into(),
        product_hint: String::new(),
        amount_involved: None,
        ..sample_complaint("side-retriage")
    };
    let number = submit(platform, request).await;
    let number: &str = &number;
    handler_of(platform, number).await;
    let desk = assignment(platform, number).await.expect("assignment");
    assert_eq!(desk.department, "customer_service", "{desk:?}");

    let mut routing = platform.routing_as("CS-002").await;
    let nothing = routing
        .retriage(pb::RetriageRequest { complaint_number: number.to_owned(), reason: "x".into(), ..Default::default() })
        .await
        .expect_err("no correction named");
    assert_eq!(nothing.code(), tonic::Code::InvalidArgument);
    let unknown = routing
        .retriage(pb::RetriageRequest { complaint_number: number.to_owned(), category: "weather".into(), reason: "x".into(), ..Default::default() })
        .await
        .expect_err("unknown category");
    assert!(unknown.message().contains("category"), "{}", unknown.message());
    let corrected = routing
        .retriage(pb::RetriageRequest {
            complaint_number: number.to_owned(),
            category: "fees".into(),
            grade: pb::Grade::Yellow as i32,
            product: "credit_cards".into(),
            reason: "the customer explained by phone: a card fee charged twice".into(),
        })
        .await
        .expect("retriage")
        .into_inner();
    assert_eq!(corrected.department, "retail_operations");
    assert_eq!(corrected.category, "fees");
    assert_eq!(corrected.product, "credit_cards");
    assert_eq!(corrected.grade, pb::Grade::Yellow as i32);
    let handler: &str = &corrected.handler_id;
    assert!(handler.starts_with("RO-"), "{handler}");
    wait_for("case moved to retail operations", WAIT, || async move {
        case_of(platform, number).await.filter(|case| case.department == "retail_operations" && case.handler_id == handler)
    })
    .await;
    timeline_line(platform, number, "retriage", "card fee charged twice").await;

    // The correction is training data: who, why, the text, before and after.
    let corrections = routing.list_corrections(pb::ListCorrectionsRequest::default()).await.expect("corrections").into_inner();
    let correction = corrections.corrections.iter().find(|c| c.complaint_number == number).expect("recorded");
    assert_eq!(correction.corrected_by, "CS-002");
    assert_eq!(correction.category, "fees");
    assert_eq!(correction.product, "credit_cards");
    assert_eq!(correction.grade, "yellow");
    assert!(correction.text.contains("frobnicated"), "{correction:?}");
    assert_ne!(correction.category_before, "fees");
    // The complaint itself stays where it was.
    assert_ne!(complaint(platform, number).await.status, "closed");
}

/// Returns the number of the complaint whose decision the review upheld (closed again).
async fn review(platform: &Platform) -> String {
    let mut upheld_number = String::new();
    // Before any decision there is nothing to review.
    let early = submit(platform, sample_complaint("side-review-early")).await;
    let early: &str = &early;
    handler_of(platform, early).await;
    let refused = platform
        .intake()
        .await
        .request_review(pb::RequestReviewRequest { complaint_number: early.to_owned(), reason: "too early".into() })
        .await
        .expect_err("no decision yet");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

    for (key, upheld) in [("side-review-upheld", true), ("side-review-changed", false)] {
        let number = submit(platform, sample_complaint(key)).await;
        let number: &str = &number;
        let handler = resolve(platform, number).await;
        let handler: &str = &handler;
        clock_in(platform, number, "review_window", pb::ClockState::Running).await;
        let mut intake = platform.intake().await;
        let missing = intake
            .request_review(pb::RequestReviewRequest { complaint_number: number.to_owned(), reason: String::new() })
            .await
            .expect_err("a reason is required");
        assert!(missing.message().contains("reason"), "{}", missing.message());
        let view = intake
            .request_review(pb::RequestReviewRequest {
                complaint_number: number.to_owned(),
                reason: "the card agreement waives the fee for life".into(),
            })
            .await
            .expect("review requested")
            .into_inner();
        assert_eq!(view.status, "under_review");
        clock_in(platform, number, "review_window", pb::ClockState::Met).await;

        // A reviewer at the superior institution, not the handler, on the review's own clock.
        let reviewer = wait_for("reviewer assigned", WAIT, || async move {
            assignment(platform, number).await.filter(|a| a.handler_id.starts_with("HO-") && a.open)
        })
        .await
        .handler_id;
        let reviewer: &str = &reviewer;
        assert_ne!(reviewer, handler);
        let clock = clock_where_owner(platform, number, "review_decision", 1, reviewer).await;
        assert_eq!(clock.period, "30 days");
        wait_for("case under review", WAIT, || async move {
            case_of(platform, number).await.filter(|case| case.status == "under_review" && case.handler_id == reviewer)
        })
        .await;
        let denied = platform
            .investigation_as(handler)
            .await
            .decide_review(pb::DecideReviewRequest { complaint_number: number.to_owned(), upheld: true, conclusion: "mine".into(), resolution: None })
            .await
            .expect_err("the handler who decided does not review");
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        let mut investigation = platform.investigation_as(reviewer).await;
        if upheld {
            // The reviewer's own evidence goes on the case file's register.
            investigation
                .register_evidence(pb::RegisterEvidenceRequest {
                    complaint_number: number.to_owned(),
                    kind: "document".into(),
                    description: "promotion terms of 2024".into(),
                    content: b"The fee waiver ends with the promotion.".to_vec(),
                })
                .await
                .expect("evidence");
            let case = investigation
                .decide_review(pb::DecideReviewRequest {
                    complaint_number: number.to_owned(),
                    upheld: true,
                    conclusion: "The fee waiver ended with the promotion in 2025; the decision stands".into(),
                    resolution: None,
                })
                .await
                .expect("upheld")
                .into_inner();
            assert_eq!(case.status, "closed");
            wait_stage(platform, number, "closed").await;
            let notice = delivered(platform, "review outcome", |m| {
                m.body["kind"] == "review_outcome" && m.body["text"].as_str().is_some_and(|t| t.contains(number) && t.contains("upholds"))
            })
            .await;
            assert_eq!(notice.body["channel"], "sms");
            clock_in(platform, number, "review_decision", pb::ClockState::Met).await;
            wait_for("out of the caseload again", WAIT, || async move { assignment(platform, number).await.filter(|a| !a.open) }).await;
            upheld_number = number.to_owned();
        } else {
            let no_resolution = investigation
                .decide_review(pb::DecideReviewRequest { complaint_number: number.to_owned(), upheld: false, conclusion: "x".into(), resolution: None })
                .await
                .expect_err("a changed decision needs its resolution");
            assert!(no_resolution.message().contains("resolution"), "{}", no_resolution.message());
            let larger = pb::Resolution { conclusion: "The fee is waived for life as agreed".into(), ..system_tests::fee_waiver() };
            let case = investigation
                .decide_review(pb::DecideReviewRequest {
                    complaint_number: number.to_owned(),
                    upheld: false,
                    conclusion: "The agreement does waive the fee for life".into(),
                    resolution: Some(larger),
                })
                .await
                .expect("changed")
                .into_inner();
            assert_eq!(case.status, "awaiting_approval");
            let proposal = case.proposal_id.clone();
            let proposal: &str = &proposal;
            let approval = platform.approval_as("RO-HEAD").await;
            let approval = &approval;
            wait_for("new approval opened", WAIT, || async move {
                let mut approval = approval.clone();
                let view = approval.get_approval(pb::GetApprovalRequest { complaint_number: number.to_owned() }).await.ok()?.into_inner();
                (view.proposal_id == proposal).then_some(())
            })
            .await;
            approval.clone().approve(pb::DecideRequest { complaint_number: number.to_owned(), comment: String::new() }).await.expect("approve");
            wait_stage(platform, number, "customer_informed").await;
            delivered(platform, "the changed result", |m| {
                m.body["kind"] == "result" && m.body["text"].as_str().is_some_and(|t| t.contains(number) && t.contains("for life as agreed"))
            })
            .await;
        }
    }
    upheld_number
}

/// After the window, the review is refused (the test's clock moves 31 days on: run last).
async fn review_after_the_window(platform: &Platform) {
    let number = submit(platform, sample_complaint("side-review-late")).await;
    let number: &str = &number;
    resolve(platform, number).await;
    clock_in(platform, number, "review_window", pb::ClockState::Running).await;
    platform.shift_time(31 * 24 * 3_600_000);
    clock_in(platform, number, "review_window", pb::ClockState::Expired).await;
    let late = platform
        .intake()
        .await
        .request_review(pb::RequestReviewRequest { complaint_number: number.to_owned(), reason: "too late".into() })
        .await
        .expect_err("the window has passed");
    assert_eq!(late.code(), tonic::Code::FailedPrecondition);
    assert!(late.message().contains("review window"), "{}", late.message());
}

async fn queue(platform: &Platform, as_staff: &str, request: pb::ListQueueRequest) -> Vec<pb::QueueItem> {
    let mut analytics = platform.analytics_as(as_staff).await;
    analytics.list_queue(request).await.expect("queue").into_inner().items
}

fn numbers(items: &[pb::QueueItem]) -> Vec<&str> {
    items.iter().map(|item| item.complaint_number.as_str()).collect()
}

async fn queues_and_search(platform: &Platform) {
    let all = |page_size| pb::ListQueueRequest { view: pb::QueueView::All as i32, page_size, ..Default::default() };
    // The read side has caught up once the re-triaged complaint shows its new department.
    let open = wait_for("queues caught up", WAIT, || async move {
        let items = queue(platform, "RO-HEAD", all(1000)).await;
        items.iter().any(|item| item.summary.contains("zorp") && item.department == "retail_operations").then_some(items)
    })
    .await;
    assert!(open.iter().all(|item| !["withdrawn", "closed"].contains(&item.status.as_str())), "open cases only by default");
    let dues: Vec<&str> = open.iter().map(|item| item.next_due_at.as_str()).filter(|due| !due.is_empty()).collect();
    assert!(dues.windows(2).all(|pair| pair[0] <= pair[1]), "earliest due first: {dues:?}");
    assert!(open.iter().any(|item| item.clock_state == "running" || item.clock_state == "breached"), "{open:?}");

    // Paging one at a time gives the same rows, none twice, with no fixed cap.
    let mut paged = Vec::new();
    let mut token = String::new();
    loop {
        let mut analytics = platform.analytics_as("RO-HEAD").await;
        let page = analytics.list_queue(pb::ListQueueRequest { page_token: token, ..all(1) }).await.expect("page").into_inner();
        paged.extend(page.items);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(numbers(&paged), numbers(&open));

    // The supervisor's own cases; the department's; the triage desk is empty again.
    let mine = queue(platform, "RO-SUP", pb::ListQueueRequest { view: pb::QueueView::Mine as i32, ..Default::default() }).await;
    assert!(!mine.is_empty() && mine.iter().all(|item| item.handler_id == "RO-SUP"), "{mine:?}");
    let department = queue(platform, "RO-HEAD", pb::ListQueueRequest { view: pb::QueueView::Department as i32, ..Default::default() }).await;
    assert!(department.len() >= 2 && department.iter().all(|item| item.department == "retail_operations"), "{department:?}");
    let triage = queue(platform, "CS-001", pb::ListQueueRequest { view: pb::QueueView::Triage as i32, ..Default::default() }).await;
    assert!(triage.iter().all(|item| !item.summary.contains("zorp")), "re-triaged away: {triage:?}");

    // Filters.
    let yellow = queue(platform, "RO-HEAD", pb::ListQueueRequest { grades: vec![pb::Grade::Yellow as i32], ..all(0) }).await;
    assert!(yellow.iter().any(|item| item.summary.contains("zorp")) && yellow.iter().all(|item| item.grade == pb::Grade::Yellow as i32));
    let informed = queue(platform, "RO-HEAD", pb::ListQueueRequest { statuses: vec!["customer_informed".into()], ..all(0) }).await;
    assert!(!informed.is_empty() && informed.iter().all(|item| item.status == "customer_informed"), "{informed:?}");
    let soon = queue(platform, "RO-HEAD", pb::ListQueueRequest { due_before: "2000-01-01T00:00:00Z".into(), ..all(0) }).await;
    assert!(soon.is_empty(), "nothing was due in 2000: {soon:?}");
    let app = queue(platform, "RO-HEAD", pb::ListQueueRequest { channels: vec![pb::Channel::App as i32], jurisdictions: vec!["cn".into()], ..all(0) }).await;
    assert_eq!(app.len(), open.len());
    let with_closed = queue(platform, "RO-HEAD", pb::ListQueueRequest { include_closed: true, ..all(0) }).await;
    assert!(with_closed.iter().any(|item| item.status == "withdrawn") && with_closed.iter().any(|item| item.status == "closed"));

    let mut analytics = platform.analytics_as("RO-HEAD").await;
    let bad = analytics.list_queue(pb::ListQueueRequest::default()).await.expect_err("a view is required");
    assert!(bad.message().contains("view"), "{}", bad.message());
    let bad = analytics.list_queue(pb::ListQueueRequest { statuses: vec!["lost".into()], ..all(0) }).await.expect_err("unknown stage");
    assert!(bad.message().contains("statuses[0]"), "{}", bad.message());

    // Search: by customer through the protected key (however the number is written), by text,
    // by number.
    let withdrawn = sample_complaint("side-withdraw");
    let id_number = withdrawn.customer.as_ref().map(|c| c.id_number.clone()).unwrap_or_default();
    let written_otherwise = format!("{} {}", &id_number[..6], id_number[6..].to_lowercase());
    let by_customer = analytics
        .search_complaints(pb::SearchComplaintsRequest { customer_id_number: written_otherwise, ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .items;
    assert_eq!(by_customer.len(), 1, "the customer's one complaint, withdrawn: {by_customer:?}");
    assert_eq!(by_customer[0].status, "withdrawn");
    let nobody = analytics
        .search_complaints(pb::SearchComplaintsRequest { customer_id_number: "110105194912310000".into(), ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .items;
    assert!(nobody.is_empty());
    let by_text = analytics
        .search_complaints(pb::SearchComplaintsRequest { text: "ZORP blivet".into(), ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .items;
    assert_eq!(by_text.len(), 1);
    let by_number = analytics
        .search_complaints(pb::SearchComplaintsRequest { complaint_number: by_text[0].complaint_number.clone(), ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .items;
    assert_eq!(numbers(&by_number), numbers(&by_text));
    let two = analytics
        .search_complaints(pb::SearchComplaintsRequest { text: "fee".into(), complaint_number: "X".into(), ..Default::default() })
        .await
        .expect_err("one criterion");
    assert_eq!(two.code(), tonic::Code::InvalidArgument);
}

async fn archive(platform: &Platform, number: &str, note: &str) -> pb::CaseFile {
    let view = platform
        .intake_as("RO-HEAD")
        .await
        .archive_complaint(pb::ArchiveComplaintRequest { complaint_number: number.to_owned(), note: note.to_owned() })
        .await
        .expect("archive")
        .into_inner();
    assert_eq!(view.status, "archived");
    wait_stage(platform, number, "archived").await;
    let analytics = platform.analytics_as("RO-001").await;
    let analytics = &analytics;
    wait_for("case file sealed", WAIT, || async move {
        let mut analytics = analytics.clone();
        analytics.get_case_file(pb::GetCaseFileRequest { complaint_number: number.to_owned() }).await.ok().map(|r| r.into_inner())
    })
    .await
}

/// The kinds of the events a case file's section holds.
fn section_kinds<'a>(document: &'a serde_json::Value, section: &str) -> Vec<&'a str> {
    document["sections"][section].as_array().into_iter().flatten().filter_map(|entry| entry["kind"].as_str()).collect()
}

/// The archive of a whole journey (the review upheld): one JSON and one HTML document with a
/// checksum, every part of the case file in it, no contact; the complaint read-only in
/// every service afterwards. Refusals: an open complaint, a closed one whose review window is
/// still open, a member of staff without a supervising role.
async fn archiving(platform: &Platform, upheld: &str, withdrawn: &str, awaiting_follow_up: &str) -> String {
    let mut head = platform.intake_as("RO-HEAD").await;
    let request = |number: &str| pb::ArchiveComplaintRequest { complaint_number: number.to_owned(), note: String::new() };
    let not_staff = platform.intake().await.archive_complaint(request(upheld)).await.expect_err("a channel system does not archive");
    assert_eq!(not_staff.code(), tonic::Code::PermissionDenied);
    let handler = platform.intake_as("RO-001").await.archive_complaint(request(upheld)).await.expect_err("a handler does not archive");
    assert_eq!(handler.code(), tonic::Code::PermissionDenied);
    assert!(handler.message().contains("supervising role"), "{}", handler.message());
    let open = submit(platform, sample_complaint("side-archive-open")).await;
    let refused = head.archive_complaint(request(&open)).await.expect_err("an open complaint is not archived");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);

    // Closed, but the customer may still ask for a review: not yet.
    let mut intake = platform.intake().await;
    intake
        .record_follow_up(pb::RecordFollowUpRequest {
            complaint_number: awaiting_follow_up.to_owned(),
            satisfaction: pb::Satisfaction::Satisfied as i32,
            accepts_outcome: true,
        })
        .await
        .expect("follow-up");
    wait_stage(platform, awaiting_follow_up, "closed").await;
    let window = head.archive_complaint(request(awaiting_follow_up)).await.expect_err("the review window is open");
    assert_eq!(window.code(), tonic::Code::FailedPrecondition);
    assert!(window.message().contains("review window"), "{}", window.message());

    // The upheld review's complaint: the window ended with the request.
    let file = archive(platform, upheld, "complete after the review").await;
    assert_eq!(file.complaint_number, upheld);
    assert_eq!(file.sha256, hex::encode(<sha2::Sha256 as sha2::Digest>::digest(file.json.as_bytes())), "the checksum covers the JSON bytes");
    let document: serde_json::Value = serde_json::from_str(&file.json).expect("the case file is JSON");
    assert_eq!(document["format"], "cms.case_file.v1");
    assert_eq!(document["archived_by"], "RO-HEAD");
    assert_eq!(section_kinds(&document, "registration"), ["received"]);
    let registration = &document["sections"]["registration"][0]["data"];
    // The contact travelled sealed for notification: not in the case file, not even masked.
    assert!(registration.get("contact").is_none() && registration.get("sealed_contact").is_none(), "{registration}");
    assert!(registration["customer_key"].as_str().is_some_and(|key| key.len() == 64), "{registration}");
    for (section, kinds) in [
        ("classification_and_assignment", &["triaged", "assigned", "reassigned"][..]),
        ("investigation", &["investigation_opened", "review_decided"][..]),
        ("evidence_register", &["evidence_registered"][..]),
        ("resolution", &["resolution_proposed"][..]),
        ("approvals", &["resolution_approved"][..]),
        ("customer_feedback", &["review_requested"][..]),
        ("notices", &["customer_notified"][..]),
        ("outcome", &["archived"][..]),
    ] {
        let present = section_kinds(&document, section);
        for kind in kinds {
            assert!(present.contains(kind), "{section} holds {kind}: {present:?}");
        }
    }
    for evidence in document["sections"]["evidence_register"].as_array().expect("evidence register") {
        let hash = evidence["data"]["sha256"].as_str().unwrap_or_default();
        assert!(hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()), "{evidence}");
    }
    let notices: Vec<&str> =
        document["sections"]["notices"].as_array().into_iter().flatten().filter_map(|n| n["data"]["kind"].as_str()).collect();
    for kind in ["NOTIFICATION_KIND_ACKNOWLEDGEMENT", "NOTIFICATION_KIND_RESULT", "NOTIFICATION_KIND_REVIEW_OUTCOME"] {
        assert!(notices.contains(&kind), "{kind} in {notices:?}");
    }
    assert!(document["clocks"].as_array().is_some_and(|clocks| clocks.iter().any(|c| c["kind"] == "review_decision" && c["state"] == "met")));
    let stages: Vec<&str> = document["timeline"].as_array().into_iter().flatten().filter_map(|line| line["stage"].as_str()).collect();
    assert_eq!(stages.first(), Some(&"received"));
    assert_eq!(stages.last(), Some(&"archived"));
    // Personal data stays masked in both documents.
    for (name, text) in [("json", &file.json), ("html", &file.html)] {
        for clear in ["13812345678", "zhang.san@example.com"] {
            assert!(!text.contains(clear), "{clear} in the {name} case file");
        }
    }
    assert!(file.html.contains(&file.sha256) && file.html.contains(upheld) && file.html.contains("Evidence register"), "html");

    // Read-only everywhere, and the file never changes.
    let again = head.archive_complaint(request(upheld)).await.expect_err("archived once");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition);
    assert!(again.message().contains("is archived"), "{}", again.message());
    let contact = head
        .record_contact(pb::RecordContactRequest { complaint_number: upheld.to_owned(), kind: pb::ContactKind::FirstContact as i32, note: "late".into() })
        .await
        .expect_err("an archived complaint takes no contact");
    assert_eq!(contact.code(), tonic::Code::FailedPrecondition);
    let review = intake
        .request_review(pb::RequestReviewRequest { complaint_number: upheld.to_owned(), reason: "again".into() })
        .await
        .expect_err("an archived complaint takes no review");
    assert_eq!(review.code(), tonic::Code::FailedPrecondition);
    let case = wait_for("case archived", WAIT, || async move { case_of(platform, upheld).await.filter(|case| case.status == "archived") }).await;
    let evidence = platform
        .investigation_as(&case.handler_id)
        .await
        .register_evidence(pb::RegisterEvidenceRequest {
            complaint_number: upheld.to_owned(),
            kind: "document".into(),
            description: "late paper".into(),
            content: b"late".to_vec(),
        })
        .await
        .expect_err("an archived case takes no evidence");
    assert_eq!(evidence.code(), tonic::Code::FailedPrecondition);
    let reread = platform
        .analytics_as("RO-001")
        .await
        .get_case_file(pb::GetCaseFileRequest { complaint_number: upheld.to_owned() })
        .await
        .expect("case file")
        .into_inner();
    assert_eq!((reread.sha256, reread.json), (file.sha256, file.json));

    // A withdrawn complaint is archived at once; it never had a review window.
    let withdrawn_file = archive(platform, withdrawn, "").await;
    let document: serde_json::Value = serde_json::from_str(&withdrawn_file.json).expect("JSON");
    assert_eq!(section_kinds(&document, "outcome"), ["withdrawn", "archived"]);
    let not_archived = platform
        .analytics_as("RO-001")
        .await
        .get_case_file(pb::GetCaseFileRequest { complaint_number: open.clone() })
        .await
        .expect_err("an open complaint has no case file");
    assert_eq!(not_archived.code(), tonic::Code::NotFound);
    assert!(not_archived.message().contains("not archived"), "{}", not_archived.message());
    awaiting_follow_up.to_owned()
}

async fn side_paths(backend: Backend) {
    let platform = Platform::start(backend).await;
    let withdrawn = withdrawal(&platform).await;
    out_of_scope(&platform).await;
    let apologised = nothing_to_execute(&platform).await;
    objection_re_review(&platform).await;
    reassignment(&platform).await;
    retriage(&platform).await;
    let upheld = review(&platform).await;
    queues_and_search(&platform).await;
    let closed_in_window = archiving(&platform, &upheld, &withdrawn, &apologised).await;
    review_after_the_window(&platform).await;
    // 31 days on, the review window of the closed complaint has passed: it is archived.
    archive(&platform, &closed_in_window, "review window passed").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn side_paths_on_sqlite() {
    side_paths(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn side_paths_on_postgres() {
    side_paths(Backend::Postgres).await;
}
