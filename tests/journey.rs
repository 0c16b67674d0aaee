//! One complaint from submission to closure through all six services, on SQLite and on
//! PostgreSQL: asserts the analytics timeline (one trace), the notifications the gateway
//! received, and each service's own store.

use std::time::Duration;

use complaints_proto::v1 as pb;
use complaints_plumbing::store::Backend;
use system_tests::{sample_complaint, wait_for, Platform};
use tonic::Code;

const WAIT: Duration = Duration::from_secs(60);

async fn journey(backend: Backend) {
    let mut platform = Platform::start(backend).await;
    for service in system_tests::SERVICES {
        let (health, listed) = platform.health_and_reflection(service).await;
        assert_eq!(health, 1, "{service} reports SERVING");
        // This service and the audit verification every service carries.
        let ours = |listed: &[String]| -> Vec<String> {
            let mut ours: Vec<String> = listed.iter().filter(|s| s.starts_with("complaints.")).map(|s| s.to_lowercase()).collect();
            ours.sort();
            ours
        };
        let mut expected = vec!["complaints.v1.audit".to_owned(), format!("complaints.v1.{service}").to_lowercase()];
        expected.sort();
        assert_eq!(ours(&listed), expected, "{service} reflection v1: {listed:?}");
        assert!(listed.iter().any(|s| s == "grpc.health.v1.Health"), "{listed:?}");
        // grpcio's Python client speaks reflection v1alpha: exactly this service, too.
        let seen = platform.grpcio_reflection(service);
        assert_eq!(ours(&seen), expected, "{service} reflection v1alpha: {seen:?}");
    }
    let unauthenticated = platform.intake_without_token().await.submit_complaint(sample_complaint("no-token")).await.expect_err("no token");
    assert_eq!(unauthenticated.code(), Code::Unauthenticated, "{unauthenticated:?}");
    let mut intake = platform.intake().await;

    let submitted = intake.submit_complaint(sample_complaint("journey-1")).await.expect("submit").into_inner();
    assert!(!submitted.duplicate);
    assert!(submitted.complaint_number.starts_with("CMP-"), "number {}", submitted.complaint_number);
    let again = intake.submit_complaint(sample_complaint("journey-1")).await.expect("retry").into_inner();
    assert!(again.duplicate, "same request key returns the original");
    assert_eq!(again.complaint_id, submitted.complaint_id);
    let number = submitted.complaint_number.clone();
    let id = submitted.complaint_id.clone();

    // Routing grades and assigns automatically.
    let mut routing = platform.routing().await;
    let assignment = wait_for("assignment", WAIT, || {
        let mut routing = routing.clone();
        let id = id.clone();
        async move { routing.get_assignment(pb::GetAssignmentRequest { complaint_id: id }).await.ok() }
    })
    .await
    .into_inner();
    assert_eq!(assignment.grade, pb::Grade::Yellow as i32, "an amount at stake grades yellow: {:?}", assignment.reasons);
    assert_eq!(assignment.category, "fees");
    assert_eq!(assignment.department, "retail_operations");
    let handler = assignment.handler_id.clone();
    assert!(handler.starts_with("RO-0"), "handler {handler}");
    drop(routing.get_assignment(pb::GetAssignmentRequest { complaint_id: id.clone() }).await);

    // Investigation: the case opens on assignment; the assigned handler works it.
    let mut investigation = platform.investigation_as(&handler).await;
    wait_for("case opened", WAIT, || {
        let mut investigation = investigation.clone();
        let number = number.clone();
        async move { investigation.get_case(pb::GetCaseRequest { complaint_number: number }).await.ok() }
    })
    .await;
    let content = b"statement 2026-11 line 7: ANNUAL FEE 500.00".to_vec();
    let evidence = investigation
        .register_evidence(pb::RegisterEvidenceRequest {
            complaint_number: number.clone(),
            kind: "transaction_log".into(),
            description: "card statement".into(),
            content: content.clone(),
        })
        .await
        .expect("evidence")
        .into_inner();
    assert_eq!(evidence.evidence_number, 1);
    assert_eq!(evidence.sha256.len(), 64);
    let early = investigation
        .propose_resolution(pb::ProposeResolutionRequest {
            complaint_number: number.clone(),
            resolution: Some(resolution()),
        })
        .await
        .expect_err("no finding yet");
    assert_eq!(early.code(), Code::FailedPrecondition);
    investigation
        .record_finding(pb::RecordFindingRequest {
            complaint_number: number.clone(),
            finding: "card closed 2026-10-15; fee charged in error".into(),
        })
        .await
        .expect("finding");
    investigation
        .propose_resolution(pb::ProposeResolutionRequest {
            complaint_number: number.clone(),
            resolution: Some(resolution()),
        })
        .await
        .expect("proposal");

    // Approval: 500 CNY is a department-head decision; the proposer may not approve.
    let mut approval = platform.approval_as("RO-HEAD").await;
    let pending = wait_for("approval opened", WAIT, || {
        let mut approval = approval.clone();
        let number = number.clone();
        async move { approval.get_approval(pb::GetApprovalRequest { complaint_number: number }).await.ok() }
    })
    .await
    .into_inner();
    assert_eq!(pending.level, "department_head");
    assert_eq!(pending.pending_roles, vec!["department_head".to_owned()]);
    let own = platform
        .approval_as(&handler)
        .await
        .approve(pb::DecideRequest { complaint_number: number.clone(), comment: String::new() })
        .await
        .expect_err("proposer cannot approve");
    assert_eq!(own.code(), Code::PermissionDenied, "{own:?}");
    let approved = approval
        .approve(pb::DecideRequest { complaint_number: number.clone(), comment: "agreed".into() })
        .await
        .expect("approve")
        .into_inner();
    assert_eq!(approved.status, "approved");

    // The result reaches the customer, who accepts.
    wait_for("result sent", WAIT, || {
        let mut intake = intake.clone();
        let number = number.clone();
        async move {
            let view = intake.get_complaint(pb::GetComplaintRequest { complaint_number: number, ..Default::default() }).await.ok()?;
            (view.get_ref().status == "customer_informed").then_some(())
        }
    })
    .await;
    intake
        .respond_to_resolution(pb::RespondToResolutionRequest {
            complaint_number: number.clone(),
            accept: true,
            comment: String::new(),
        })
        .await
        .expect("accept");

    // Execution, then the follow-up closes the complaint.
    wait_for("case awaits execution", WAIT, || {
        let mut investigation = investigation.clone();
        let number = number.clone();
        async move {
            let case = investigation.get_case(pb::GetCaseRequest { complaint_number: number }).await.ok()?;
            (case.get_ref().status == "accepted").then_some(())
        }
    })
    .await;
    investigation
        .record_execution(pb::RecordExecutionRequest {
            complaint_number: number.clone(),
            reference: "REFUND-2026-000123".into(),
            nothing_to_execute: false,
        })
        .await
        .expect("execution");
    wait_for("remedy executed seen by intake", WAIT, || {
        let mut intake = intake.clone();
        let number = number.clone();
        async move {
            let view = intake.get_complaint(pb::GetComplaintRequest { complaint_number: number, ..Default::default() }).await.ok()?;
            (view.get_ref().status == "awaiting_follow_up").then_some(())
        }
    })
    .await;
    let closed = intake
        .record_follow_up(pb::RecordFollowUpRequest {
            complaint_number: number.clone(),
            satisfaction: pb::Satisfaction::Satisfied as i32,
            accepts_outcome: true,
        })
        .await
        .expect("follow-up")
        .into_inner();
    assert_eq!(closed.status, "closed");
    assert_eq!(closed.phone_masked, "138****5678", "personal data masked in views");
    let id_number = sample_complaint("journey-1").customer.map(|c| c.id_number).unwrap_or_default();
    assert_eq!(closed.id_number_masked, format!("1101**********{}", &id_number[14..]));

    platform.wait_idle(WAIT).await;

    // Analytics: the whole timeline, in order, one trace.
    let mut analytics = platform.analytics().await;
    let timeline = analytics
        .get_timeline(pb::GetTimelineRequest { complaint_number: number.clone(), ..Default::default() })
        .await
        .expect("timeline")
        .into_inner();
    assert_eq!(timeline.status, "closed");
    let stages: Vec<&str> = timeline.entries.iter().map(|e| e.stage.as_str()).collect();
    for expected in [
        "received",
        "acknowledged",
        "triaged",
        "assigned",
        "investigating",
        "evidence_registered",
        "resolution_proposed",
        "approved",
        "customer_informed",
        "customer_accepted",
        "executed",
        "customer_notified",
        "followed_up",
        "closed",
    ] {
        assert_eq!(stages.iter().filter(|s| **s == expected).count(), 1, "stage {expected} once in {stages:?}");
    }
    let position = |stage: &str| stages.iter().position(|s| *s == stage).expect("stage present");
    assert!(position("received") < position("assigned"));
    assert!(position("assigned") < position("resolution_proposed"));
    assert!(position("approved") < position("customer_accepted"));
    assert!(position("executed") < position("closed"));
    assert_eq!(timeline.entries.len(), 14);
    let approved_entry = timeline.entries.iter().find(|e| e.stage == "approved").expect("approved entry");
    assert_eq!(approved_entry.actor, "RO-HEAD");
    let trace_ids: std::collections::HashSet<&str> = timeline.entries.iter().map(|e| e.trace_id.as_str()).collect();
    assert!(trace_ids.len() == 1 && !trace_ids.contains(""), "one trace for the whole journey: {:?}", timeline.entries.iter().map(|e| (&e.stage, &e.trace_id)).collect::<Vec<_>>());
    let counts = analytics.get_counts(pb::GetCountsRequest {}).await.expect("counts").into_inner();
    assert_eq!(counts.total, 1);
    assert_eq!(counts.by_status, vec![pb::CountEntry { key: "closed".into(), count: 1 }]);
    assert_eq!(counts.by_grade, vec![pb::CountEntry { key: "yellow".into(), count: 1 }]);
    assert_eq!(counts.by_channel, vec![pb::CountEntry { key: "app".into(), count: 1 }]);

    // The gateway received exactly the three messages, once each, to the customer's SMS.
    let kinds = platform.sink.kinds_for(&id);
    for kind in ["acknowledgement", "result", "execution"] {
        assert_eq!(kinds.get(kind).map(Vec::len), Some(1), "one {kind} delivery: {kinds:?}");
    }
    assert_eq!(kinds.len(), 3);
    let result = platform
        .sink
        .all()
        .into_iter()
        .find(|d| d.body["kind"] == "result")
        .expect("result delivered");
    let text = result.body["text"].as_str().unwrap_or_default();
    assert!(text.contains("fee charged after closure is refunded"), "{text}");
    assert!(text.contains("500.00 CNY"), "{text}");
    assert!(text.contains("card agreement"), "{text}");
    assert!(text.contains("3 working days"), "{text}");
    assert_eq!(result.body["recipient"], "13812345678");
    assert_eq!(result.body["channel"], "sms");

    // Each service's own store.
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM complaints WHERE status = 'closed'").await, 1);
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM follow_ups").await, 1);
    assert_eq!(platform.count("routing", "SELECT COUNT(*) FROM assignments").await, 1);
    assert_eq!(platform.count("investigation", "SELECT COUNT(*) FROM cases WHERE status = 'closed'").await, 1);
    assert_eq!(
        platform.count("investigation", &format!("SELECT COUNT(*) FROM evidence WHERE sha256 = '{}'", sha256_hex(&content))).await,
        1,
        "evidence hash fixed"
    );
    assert_eq!(platform.count("approval", "SELECT COUNT(*) FROM approvals WHERE status = 'approved'").await, 1);
    assert_eq!(platform.count("approval", "SELECT COUNT(*) FROM signatures").await, 1);
    assert_eq!(platform.count("notification", "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'").await, 3);
    assert_eq!(platform.count("analytics", "SELECT COUNT(*) FROM timeline").await, 14);
    for service in system_tests::SERVICES {
        assert_eq!(platform.count(service, "SELECT COUNT(*) FROM outbox WHERE published_at_ms IS NULL").await, 0, "{service} outbox drained");
    }

    // Graceful shutdown on SIGTERM.
    for service in system_tests::SERVICES {
        assert!(platform.service(service).terminate(), "{service} stops cleanly on SIGTERM");
    }
}

fn resolution() -> pb::Resolution {
    pb::Resolution {
        resolution_type: pb::ResolutionType::FeeWaiver as i32,
        amount: Some(pb::Money { minor_units: 50_000, currency: "CNY".into() }),
        conclusion: "The annual fee charged after closure is refunded.".into(),
        basis: "Section 4.2 of the card agreement: no fees accrue after closure.".into(),
        execution_method: "Credit to the customer's debit account within 3 working days.".into(),
    }
}

fn sha256_hex(content: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(content))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_sqlite() {
    journey(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_on_postgres() {
    journey(Backend::Postgres).await;
}
