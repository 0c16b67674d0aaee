//! The clocks in the running processes, on SQLite and PostgreSQL. Time is moved by the test
//! deployment's offset file (every scheduler reads it; recorded instants stay on the system
//! clock), and every assertion polls for the state it expects — no sleeps stand in for a result.
//!
//! One complaint, registered now: the statutory reply date is in the acknowledgement; the
//! recorded first contact meets its clock; a day later the investigation-start clock breaches
//! and escalates to the department's heads (alert at the delivery sink, line on the timeline);
//! after the result, intake is killed with SIGKILL, the objection window passes while it is
//! down, and on restart the silence is applied as acceptance exactly once; the execution clock
//! then runs in investigation and breaches too. A second complaint objects inside its window
//! and its investigation clock starts a second round (re-review). A third stays unresolved and
//! gets a progress update with its decision date at the statutory clock's warning point; its
//! clock is stopped for an appraisal and restarted; its statutory limit is extended by the head
//! office and its investigation limit by the department head, the customer told the new date.


use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use system_tests::{clock_in, clock_where, handler_of, resolve, sample_complaint, wait_for, wait_stage, Platform, WAIT};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

async fn clocks_in_the_running_services(backend: Backend) {
    let mut platform = Platform::start(backend).await;
    let mut intake = platform.intake().await;
    let number = intake.submit_complaint(sample_complaint("clocks-1")).await.expect("submit").into_inner().complaint_number;

    // Registration starts intake's clocks on the default (CN) rule pack; the acknowledgement,
    // once delivered, meets its clock and promises the statutory date.
    let statutory = clock_in(&platform, &number, "regulator_decision", pb::ClockState::Running).await;
    assert_eq!(statutory.jurisdiction, "cn");
    assert_eq!(statutory.period, "15 days");
    assert!(statutory.due_local.ends_with("T00:00:00+08:00"), "CN periods end at local midnight: {}", statutory.due_local);
    clock_in(&platform, &number, "acknowledge", pb::ClockState::Met).await;
    let acknowledgement = wait_for("acknowledgement at the sink", WAIT, || {
        let sink = platform.sink.all();
        async move { sink.into_iter().find(|m| m.body["kind"] == "acknowledgement") }
    })
    .await;
    let text = acknowledgement.body["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains(&format!("You will have our answer by {}", statutory.due_local)), "{text}");
    assert!(!text.contains("24 hours"), "no hard-coded promise: {text}");

    // The first contact is recorded by a member of staff: its 24-hour clock is met.
    clock_in(&platform, &number, "first_contact", pb::ClockState::Running).await;
    let mut staff_intake = platform.intake_as("CS-001").await;
    staff_intake
        .record_contact(pb::RecordContactRequest {
            complaint_number: number.clone(),
            kind: pb::ContactKind::FirstContact as i32,
            note: "confirmed receipt and process by phone".into(),
        })
        .await
        .expect("contact");
    clock_in(&platform, &number, "first_contact", pb::ClockState::Met).await;
    let refused = staff_intake
        .record_contact(pb::RecordContactRequest { complaint_number: number.clone(), kind: 0, note: "x".into() })
        .await
        .expect_err("kind is required");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("kind"), "{}", refused.message());

    // Nobody starts the investigation: 25 hours later its 24-hour start clock breaches and is
    // escalated to the handling department's heads.
    let started = clock_in(&platform, &number, "investigation_start", pb::ClockState::Running).await;
    assert!(!started.owner_id.is_empty(), "the handler owns it");
    platform.shift_time(25 * HOUR_MS);
    let breached = clock_in(&platform, &number, "investigation_start", pb::ClockState::Breached).await;
    assert_eq!(breached.breached_at_ms, breached.due_at_ms, "recorded at the due instant");
    // The head of retail operations (the handler's line manager) hears of it; so does the
    // department's supervisor.
    for recipient in ["RO-HEAD", "RO-SUP"] {
        let escalation = wait_for(&format!("breach alert to {recipient} at the sink"), WAIT, || {
            let sink = platform.sink.all();
            async move { sink.into_iter().find(|m| m.body["kind"] == "clock_breached" && m.body["recipient"] == recipient) }
        })
        .await;
        assert_eq!(escalation.body["channel"], "staff");
    }
    let mut analytics = platform.analytics().await;
    let timeline = analytics
        .get_timeline(pb::GetTimelineRequest { complaint_number: number.clone(), ..Default::default() })
        .await
        .expect("timeline")
        .into_inner();
    assert!(
        timeline.entries.iter().any(|e| e.stage == "clock_breached" && e.detail.contains("investigation_start") && e.detail.contains("RO-HEAD")),
        "{:?}",
        timeline.entries
    );
    let overdue = analytics
        .list_overdue(pb::ListOverdueRequest { include_at_risk: false, page_size: 0, page_token: String::new() })
        .await
        .expect("overdue")
        .into_inner();
    assert!(overdue.clocks.iter().any(|row| row.complaint_number == number), "{overdue:?}");

    // The result reaches the customer: the statutory and response clocks are met and the
    // objection window (3 working days) opens.
    resolve(&platform, &number).await;
    clock_in(&platform, &number, "regulator_decision", pb::ClockState::Met).await;
    clock_in(&platform, &number, "objection_window", pb::ClockState::Running).await;
    clock_in(&platform, &number, "review_window", pb::ClockState::Running).await;

    // Intake dies before the window ends and comes back after it: the silence is applied once.
    platform.service("intake").kill9();
    platform.shift_time(25 * HOUR_MS + 8 * DAY_MS);
    platform.service("intake").restart();
    wait_stage(&platform, &number, "accepted").await;
    clock_in(&platform, &number, "objection_window", pb::ClockState::Expired).await;
    let accepted = platform
        .count("intake", "SELECT COUNT(*) FROM customer_responses WHERE recorded_by = 'system:intake' AND response = 'accepted'")
        .await;
    assert_eq!(accepted, 1, "accepted by silence exactly once");
    let timeline = platform
        .analytics()
        .await
        .get_timeline(pb::GetTimelineRequest { complaint_number: number.clone(), ..Default::default() })
        .await
        .expect("timeline")
        .into_inner();
    assert!(timeline.entries.iter().any(|e| e.stage == "customer_accepted" && e.actor == "system:intake"), "{:?}", timeline.entries);

    // Acceptance starts investigation's execution clock (3 working days from the acceptance,
    // recorded on the system clock); with the schedulers nine days ahead it breaches at once.
    let execution = clock_in(&platform, &number, "execution", pb::ClockState::Breached).await;
    assert_eq!(execution.period, "3 working days");
    assert!(execution.due_at_ms - execution.started_at_ms >= 3 * DAY_MS, "{execution:?}");

    // Another complaint, back on today's time, objects inside its window: the re-review starts
    // a second investigation round.
    platform.shift_time(0);
    let second = platform.intake().await.submit_complaint(sample_complaint("clocks-2")).await.expect("submit").into_inner().complaint_number;
    resolve(&platform, &second).await;
    clock_in(&platform, &second, "objection_window", pb::ClockState::Running).await;
    platform
        .intake()
        .await
        .respond_to_resolution(pb::RespondToResolutionRequest { complaint_number: second.clone(), accept: false, comment: "too little".into() })
        .await
        .expect("objection");
    clock_in(&platform, &second, "objection_window", pb::ClockState::Met).await;
    let rereview = clock_in(&platform, &second, "investigation", pb::ClockState::Running).await;
    assert_eq!(rereview.round, 2, "the re-review is the second investigation round");

    // A third complaint stays unresolved: at the statutory clock's warning point (75 % of 15
    // days of counting time after the day of receipt: 13 days on covers it from any hour) the
    // customer gets a progress update with the decision date.
    let third = platform.intake().await.submit_complaint(sample_complaint("clocks-3")).await.expect("submit").into_inner();
    let statutory = clock_in(&platform, &third.complaint_number, "regulator_decision", pb::ClockState::Running).await;

    // Stop-clock for an external appraisal: the investigation limit (investigation), the
    // statutory limit and the response clock (intake) pause, and the customer is told why.
    let handler = handler_of(&platform, &third.complaint_number).await;
    let mut investigation = platform.investigation_as(&handler).await;
    investigation
        .stop_clock(pb::StopClockRequest {
            complaint_number: third.complaint_number.clone(),
            reason: pb::StopReason::ExternalAppraisal as i32,
            note: "signature appraisal by the forensic lab".into(),
        })
        .await
        .expect("stop the clock");
    clock_in(&platform, &third.complaint_number, "investigation", pb::ClockState::Paused).await;
    clock_in(&platform, &third.complaint_number, "regulator_decision", pb::ClockState::Paused).await;
    clock_in(&platform, &third.complaint_number, "response", pb::ClockState::Paused).await;
    let paused_notice = wait_for("stop-clock notice at the sink", WAIT, || {
        let sink = platform.sink.all();
        let id = third.complaint_id.clone();
        async move {
            sink.into_iter().find(|m| m.body["kind"] == "progress" && m.body["complaint_id"] == id.as_str() && m.body["subject"].as_str().is_some_and(|s| s.contains("paused")))
        }
    })
    .await;
    assert!(paused_notice.body["text"].as_str().unwrap_or_default().contains("signature appraisal"), "{:?}", paused_notice.body);
    let again = investigation
        .stop_clock(pb::StopClockRequest {
            complaint_number: third.complaint_number.clone(),
            reason: pb::StopReason::ExternalAppraisal as i32,
            note: "again".into(),
        })
        .await
        .expect_err("already stopped");
    assert_eq!(again.code(), tonic::Code::FailedPrecondition, "{again:?}");
    investigation
        .restart_clock(pb::RestartClockRequest { complaint_number: third.complaint_number.clone(), note: "report received".into() })
        .await
        .expect("restart the clock");
    let resumed = clock_in(&platform, &third.complaint_number, "regulator_decision", pb::ClockState::Running).await;
    // Paused within the day of receipt, which does not count: the limit is where it was.
    assert_eq!(resumed.due_at_ms, statutory.due_at_ms);
    clock_in(&platform, &third.complaint_number, "investigation", pb::ClockState::Running).await;

    platform.shift_time(13 * DAY_MS);
    clock_in(&platform, &third.complaint_number, "regulator_decision", pb::ClockState::Warned).await;
    let progress = wait_for("progress update at the sink", WAIT, || {
        let sink = platform.sink.all();
        let id = third.complaint_id.clone();
        async move {
            sink.into_iter().find(|m| {
                m.body["kind"] == "progress"
                    && m.body["complaint_id"] == id.as_str()
                    && m.body["subject"].as_str().is_some_and(|s| s.contains("still in progress"))
            })
        }
    })
    .await;
    let text = progress.body["text"].as_str().unwrap_or_default();
    assert!(text.contains(&format!("decision by {}", statutory.due_local)), "{text}");
    assert_eq!(progress.body["channel"], "sms", "through the customer's channel");

    // The case is complex: the handler asks for the CN extension to 30 days. The department
    // head may not decide a statutory extension; the head office (superior institution) does,
    // intake moves the limit by 15 days and the customer is told the new date.
    investigation
        .request_extension(pb::RequestExtensionRequest {
            complaint_number: third.complaint_number.clone(),
            clock: "regulator_decision".into(),
            reason: "complex case: records from two branches".into(),
        })
        .await
        .expect("request the extension");
    let approval = platform.approval_as("RO-HEAD").await;
    wait_for("extension request at approval", WAIT, || {
        let mut approval = approval.clone();
        let number = third.complaint_number.clone();
        async move { approval.get_extension(pb::GetApprovalRequest { complaint_number: number }).await.ok() }
    })
    .await;
    let decide = |approve| pb::DecideExtensionRequest { complaint_number: third.complaint_number.clone(), approve, comment: "complex".into() };
    let denied = approval.clone().decide_extension(decide(true)).await.expect_err("the department head may not");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    let decided = platform.approval_as("HO-EXEC").await.decide_extension(decide(true)).await.expect("head office approves").into_inner();
    assert_eq!(decided.status, "approved");
    let extended =
        clock_where(&platform, &third.complaint_number, "statutory limit extended", |c| c.kind == "regulator_decision" && c.extensions == 1).await;
    assert_eq!(extended.period, "30 days");
    // 15 more days, less at most the two days a weekend had added to the 15-day end.
    assert!(extended.due_at_ms >= statutory.due_at_ms + 13 * DAY_MS, "{} → {}", statutory.due_local, extended.due_local);
    let notice = wait_for("new reply date at the sink", WAIT, || {
        let sink = platform.sink.all();
        let id = third.complaint_id.clone();
        async move {
            sink.into_iter().find(|m| m.body["complaint_id"] == id.as_str() && m.body["subject"].as_str().is_some_and(|s| s.contains("new reply date")))
        }
    })
    .await;
    assert!(notice.body["text"].as_str().unwrap_or_default().contains(&extended.due_local), "{:?}", notice.body);

    // The investigation limit's extension (Yellow: +1 working day) is the department head's.
    investigation
        .request_extension(pb::RequestExtensionRequest {
            complaint_number: third.complaint_number.clone(),
            clock: "investigation".into(),
            reason: "waiting for the branch's CCTV".into(),
        })
        .await
        .expect("request the extension");
    wait_for("investigation extension pending", WAIT, || {
        let mut approval = approval.clone();
        let number = third.complaint_number.clone();
        async move {
            let view = approval.get_extension(pb::GetApprovalRequest { complaint_number: number }).await.ok()?.into_inner();
            (view.clock == "investigation" && view.status == "pending").then_some(())
        }
    })
    .await;
    approval.clone().decide_extension(decide(true)).await.expect("the department head approves");
    let extended =
        clock_where(&platform, &third.complaint_number, "investigation limit extended", |c| c.kind == "investigation" && c.extensions == 1).await;
    assert_eq!(extended.period, "3 working days");
    let refused = investigation
        .request_extension(pb::RequestExtensionRequest {
            complaint_number: third.complaint_number.clone(),
            clock: "investigation".into(),
            reason: "more".into(),
        })
        .await
        .expect_err("the Yellow rule has one extension");
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition, "{refused:?}");
}

#[tokio::test]
async fn clocks_in_the_running_services_on_sqlite() {
    clocks_in_the_running_services(Backend::Sqlite).await;
}

#[tokio::test]
async fn clocks_in_the_running_services_on_postgres() {
    clocks_in_the_running_services(Backend::Postgres).await;
}
