//! Repeat and mass complaints in the running processes, on SQLite and PostgreSQL.
//!
//! - **Repeats**: one customer complains three times about the same card fee. The second,
//!   the same facts again while the first is open, is merged into the first and the customer
//!   told; the third brings new facts: merged too, the first complaint's statutory clock
//!   restarts, and as the third of the series it is escalated to a supervisor who tracks it.
//! - **Mass complaints**: twenty unrelated complaints from twenty customers open no incident;
//!   twenty complaints from twenty customers about the same outage within minutes open one,
//!   every member graded Red; the task force's one statement reaches every member at the
//!   delivery sink through the member's own channel, and a member who joins later gets it
//!   too; an operator unlinks one member (its investigation resumes) and links one by hand.

use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use system_tests::{
    assignment, case_of, clock_where, customer_id, delivered, handler_of, sample_complaint, submit, timeline_line, wait_for,
    wait_stage, Platform, WAIT,
};

/// A complaint of customer `customer` with its own words.
fn complaint_of(key: &str, customer: u64, summary: &str, description: &str) -> pb::SubmitComplaintRequest {
    let mut request = sample_complaint(key);
    if let Some(person) = request.customer.as_mut() {
        person.id_number = customer_id(customer);
    }
    request.summary = summary.into();
    request.description = description.into();
    request
}

async fn repeats(platform: &Platform) {
    let customer = 777_001;
    let summary = "Annual fee charged on a card I cancelled";
    let facts = "An annual fee of 500 CNY was charged on my credit card although I closed the card in October.";
    let first = submit(platform, complaint_of("repeat-1", customer, summary, facts)).await;
    let first: &str = &first;
    handler_of(platform, first).await;
    let statutory = clock_where(platform, first, "first statutory clock", |c| c.kind == "regulator_decision").await;
    assert_eq!(statutory.round, 1);

    // The same facts again while the first is being handled: merged, the customer told.
    let second = submit(platform, complaint_of("repeat-2", customer, summary, facts)).await;
    wait_stage(platform, &second, "merged").await;
    timeline_line(platform, &second, "repeat_detected", "complaint #2").await;
    timeline_line(platform, &second, "merged", "without new facts").await;
    delivered(platform, "merge notice", |m| {
        m.body["kind"] == "merged" && m.body["text"].as_str().is_some_and(|t| t.contains(&second) && t.contains(first))
    })
    .await;
    assert!(case_of(platform, &second).await.is_none(), "a merged complaint opens no case of its own");

    // New facts: merged as well, but the first complaint's statutory clock restarts; the
    // third of the series is escalated to a supervisor who tracks the matter.
    let third = submit(
        platform,
        complaint_of(
            "repeat-3",
            customer,
            summary,
            "The annual fee on my cancelled credit card is still charged, and now they added a late payment penalty of 80 CNY and \
             reported me to the credit bureau.",
        ),
    )
    .await;
    wait_stage(platform, &third, "merged").await;
    let (_, _, detail) = timeline_line(platform, &third, "repeat_detected", "complaint #3").await;
    assert!(detail.contains("new facts") && !detail.contains("no new facts"), "{detail}");
    assert!(detail.contains("escalated to RO-SUP"), "{detail}");
    let restarted = clock_where(platform, first, "statutory clock restarted", |c| c.kind == "regulator_decision" && c.round == 2).await;
    assert!(restarted.started_at_ms >= statutory.started_at_ms);
    wait_for("first complaint escalated", WAIT, || async move {
        assignment(platform, first).await.filter(|a| a.handler_id == "RO-SUP")
    })
    .await;
    delivered(platform, "escalation alert", |m| m.body["kind"] == "case_assigned" && m.body["recipient"] == "RO-SUP").await;
    let case = wait_for("facts in the first case file", WAIT, || async move {
        case_of(platform, first).await.filter(|case| case.notes.iter().filter(|n| n.kind == "merged").count() == 2)
    })
    .await;
    assert!(case.notes.iter().any(|n| n.note.contains("late payment penalty")), "{:?}", case.notes);
    assert_eq!(case.handler_id, "RO-SUP");
}

const OUTAGE: &str = "Card payments declined at every shop today: the terminal shows error E-502 and the card is refused although the \
    account has money. The bank app shows the same error code when I try to pay online";

async fn incidents(platform: &Platform) -> Vec<pb::Incident> {
    let mut routing = platform.routing().await;
    routing.list_incidents(pb::ListIncidentsRequest { include_closed: true }).await.expect("incidents").into_inner().incidents
}

async fn mass(platform: &Platform) {
    // Twenty unrelated complaints from twenty customers: each its own words.
    let words: Vec<String> = (0..400).map(|i| format!("w{i:03}x{}", (i * 7919) % 1000)).collect();
    let mut unrelated = Vec::new();
    for i in 0..20u64 {
        let text: Vec<&str> = words[(i as usize) * 20..(i as usize + 1) * 20].iter().map(String::as_str).collect();
        let request = complaint_of(&format!("unrelated-{i}"), 880_000 + i, "Card problem", &text.join(" "));
        unrelated.push(submit(platform, request).await);
    }
    for number in &unrelated {
        handler_of(platform, number).await;
    }
    assert!(incidents(platform).await.is_empty(), "unrelated complaints open no incident");

    // Twenty customers report the same outage within minutes.
    let mut members = Vec::new();
    for i in 0..20u64 {
        let description = format!("{OUTAGE}. Customer note {i}.");
        let request = complaint_of(&format!("outage-{i}"), 990_000 + i, "Card refused with error E-502", &description);
        members.push(submit(platform, request).await);
    }
    let incident = wait_for("one incident with twenty members", WAIT, || async move {
        let found = incidents(platform).await;
        found.into_iter().next().filter(|incident| incident.members.iter().filter(|m| m.left_at.is_empty()).count() == 20)
    })
    .await;
    assert_eq!(incidents(platform).await.len(), 1, "one incident");
    let mut listed: Vec<&str> = incident.members.iter().map(|m| m.complaint_number.as_str()).collect();
    listed.sort_unstable();
    let mut expected: Vec<&str> = members.iter().map(String::as_str).collect();
    expected.sort_unstable();
    assert_eq!(listed, expected, "exactly the twenty similar complaints");
    assert!(!incident.task_force_ids.is_empty());
    for number in &members {
        wait_stage(platform, number, "mass_member").await;
    }
    let first_member: &str = &members[0];
    let red = wait_for("members graded Red", WAIT, || async move {
        let first = assignment(platform, first_member).await?;
        (first.grade == pb::Grade::Red as i32).then_some(first)
    })
    .await;
    assert_eq!(red.grade, pb::Grade::Red as i32);

    // Only the task force issues the statement; it reaches all twenty through their channel.
    let mut outsider = platform.routing_as("RO-001").await;
    let denied = outsider
        .issue_statement(pb::IssueStatementRequest { incident: incident.incident_number.clone(), text: "x".into() })
        .await
        .expect_err("not on the task force");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let lead = incident.task_force_ids[0].clone();
    let mut task_force = platform.routing_as(&lead).await;
    let statement = "The card network fault of this morning is fixed; declined payments were not charged and any fee is refunded.";
    task_force
        .issue_statement(pb::IssueStatementRequest { incident: incident.incident_number.clone(), text: statement.into() })
        .await
        .expect("statement");
    for number in &members {
        let message = delivered(platform, &format!("statement to {number}"), |m| {
            m.body["kind"] == "unified_statement" && m.body["text"].as_str().is_some_and(|t| t.contains(number.as_str()))
        })
        .await;
        assert!(message.body["text"].as_str().unwrap_or_default().contains("card network fault"), "{:?}", message.body);
        assert_eq!(message.body["channel"], "sms", "the member's own channel");
    }
    for number in &members {
        wait_stage(platform, number, "customer_informed").await;
    }

    // A customer who reports it later joins and receives the same statement.
    let late = submit(platform, complaint_of("outage-late", 990_100, "Card refused with error E-502", &format!("{OUTAGE}. Still today."))).await;
    delivered(platform, "statement to the late member", |m| {
        m.body["kind"] == "unified_statement" && m.body["text"].as_str().is_some_and(|t| t.contains(&late))
    })
    .await;

    // An operator links a complaint by hand: it receives the statement too.
    let hand = &unrelated[0];
    let linked = task_force
        .link_to_incident(pb::LinkToIncidentRequest { incident: incident.incident_number.clone(), complaint_number: hand.clone() })
        .await
        .expect("link")
        .into_inner();
    assert!(linked.members.iter().any(|m| &m.complaint_number == hand && m.linked_by == lead));
    wait_stage(platform, hand, "customer_informed").await;
    let missing = task_force
        .unlink_from_incident(pb::UnlinkFromIncidentRequest {
            incident: incident.incident_number.clone(),
            complaint_number: unrelated[3].clone(),
            reason: "x".into(),
        })
        .await
        .expect_err("not a member");
    assert_eq!(missing.code(), tonic::Code::InvalidArgument);

    // The post-incident review closes it.
    let closed = task_force
        .close_incident(pb::CloseIncidentRequest {
            incident: incident.incident_number.clone(),
            root_cause: "a certificate expired on the card switch".into(),
            review: "certificate expiry is now monitored; the switch fails over".into(),
        })
        .await
        .expect("close")
        .into_inner();
    assert_eq!(closed.status, "closed");
    assert!(!closed.review.is_empty());
}

async fn unlink(platform: &Platform) {
    // A second outage, unlinked before any statement: the member's own investigation resumes.
    let mut members = Vec::new();
    for i in 0..10u64 {
        let description = format!("Mortgage portal login fails with code M-77 since the upgrade; cannot see my repayment schedule {i}");
        let mut request = complaint_of(&format!("portal-{i}"), 660_000 + i, "Mortgage portal login fails M-77", &description);
        request.product_hint = "mortgage".into();
        members.push(submit(platform, request).await);
    }
    let incident = wait_for("second incident", WAIT, || async move {
        incidents(platform).await.into_iter().find(|incident| incident.status == "open" && incident.members.len() == 10)
    })
    .await;
    let number = members[0].clone();
    wait_stage(platform, &number, "mass_member").await;
    let mut supervisor = platform.routing_as("RO-SUP").await;
    let refused = supervisor
        .unlink_from_incident(pb::UnlinkFromIncidentRequest {
            incident: incident.incident_number.clone(),
            complaint_number: number.clone(),
            reason: String::new(),
        })
        .await
        .expect_err("a reason is required");
    assert!(refused.message().contains("reason"), "{}", refused.message());
    supervisor
        .unlink_from_incident(pb::UnlinkFromIncidentRequest {
            incident: incident.incident_number.clone(),
            complaint_number: number.clone(),
            reason: "the customer's login fails for another reason".into(),
        })
        .await
        .expect("unlink");
    wait_stage(platform, &number, "investigating").await;
    timeline_line(platform, &number, "left_mass_incident", "another reason").await;
}

async fn detection(backend: Backend) {
    let platform = Platform::start(backend).await;
    repeats(&platform).await;
    mass(&platform).await;
    unlink(&platform).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn repeats_and_mass_incidents_on_sqlite() {
    detection(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn repeats_and_mass_incidents_on_postgres() {
    detection(Backend::Postgres).await;
}
