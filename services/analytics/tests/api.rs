//! Analytics against the running service (in-process, real nats-server and SQLite, its own
//! signing key), playing every other service by publishing their events: a whole lifecycle
//! published out of order ends with every event on the timeline exactly once and the summary at
//! the final stage; counts by status, grade and channel are exact; only staff read them.

use std::time::Duration;

use complaints_domain::events::{
    ComplaintAssigned, ComplaintClosed, ComplaintReceived, ComplaintTriaged, SealedContact, CustomerNotified, CustomerResponded, CustomerResponse,
    EvidenceRegistered, FollowUpRecorded, InvestigationOpened, NotificationKind, RemedyExecuted, Resolution, ResolutionApproved,
    ResolutionProposed, ResolutionType, Satisfaction,
};
use complaints_domain::{ApprovalLevel, Channel, ComplaintId, ComplaintNumber, EventId, Grade, LifecycleEvent, Money, ProposalId, StaffId};
use complaints_plumbing::events::EVENTS_STREAM;
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, SpawnedApp, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::analytics_client::AnalyticsClient;
use tonic::transport::Channel as GrpcChannel;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(25);

fn staff(id: &str) -> StaffId {
    StaffId::parse("staff", id).expect("staff id")
}

fn refund() -> Resolution {
    Resolution {
        kind: ResolutionType::PartialRefund,
        amount: Some(Money { minor_units: 20_000, currency: "CNY".into() }),
        conclusion: "The second annual fee was charged in error.".into(),
        basis: "Card terms, section 4.2".into(),
        execution_method: "Credit to the card account".into(),
    }
}

fn received(channel: Channel) -> LifecycleEvent {
    LifecycleEvent::Received(ComplaintReceived {
        channel,
        summary: "Annual card fee charged twice".into(),
        description: "The annual fee was charged twice this month.".into(),
        demand: "refund".into(),
        amount_involved: Some(Money { minor_units: 30_000, currency: "CNY".into() }),
        product_hint: "credit card".into(),
        contact: SealedContact::default(),
        receiving_staff: None,
        staff_involved: vec![],
        branch_involved: String::new(),
        tags: vec![],
        received_at_ms: complaints_plumbing::now_ms(),
        jurisdiction: "cn".into(),
        reply_due: None,
        customer_key: String::new(),
    })
}

fn triaged(grade: Grade) -> LifecycleEvent {
    LifecycleEvent::Triaged(ComplaintTriaged { grade, category: "fees".into(), product: "credit_cards".into(), reasons: vec!["loss words".into()] })
}

fn notified(kind: NotificationKind) -> LifecycleEvent {
    LifecycleEvent::CustomerNotified(CustomerNotified { delivery_id: format!("D-{}", kind.as_str()), kind, channel: Channel::Sms })
}

/// Every event of one complaint's lifecycle, in the order they are published: deliberately not
/// the lifecycle's (triaged before received, investigation opened before assigned, the result
/// delivered before the approval, the remedy executed and the complaint closed before the
/// customer's acceptance), with the timeline stage each one reads as.
fn lifecycle_out_of_order() -> Vec<(LifecycleEvent, &'static str)> {
    let handler = staff("RO-001");
    let proposal_id = ProposalId::generate();
    vec![
        (triaged(Grade::Yellow), "triaged"),
        (received(Channel::App), "received"),
        (LifecycleEvent::InvestigationOpened(InvestigationOpened { handler: handler.clone(), department: "retail_operations".into() }), "investigating"),
        (
            LifecycleEvent::Assigned(ComplaintAssigned {
                department: "retail_operations".into(),
                handler: handler.clone(),
                grade: Grade::Yellow,
                category: "fees".into(),
                recused_staff: vec![],
                jurisdiction: "cn".into(),
            }),
            "assigned",
        ),
        (
            LifecycleEvent::EvidenceRegistered(EvidenceRegistered {
                evidence_number: 1,
                sha256: "ab".repeat(32),
                description: "statement".into(),
                registered_by: handler.clone(),
            }),
            "evidence_registered",
        ),
        (notified(NotificationKind::Acknowledgement), "acknowledged"),
        (
            LifecycleEvent::ResolutionProposed(ResolutionProposed { proposal_id: proposal_id.clone(), resolution: refund(), proposed_by: handler.clone(), department: "retail_operations".into() }),
            "resolution_proposed",
        ),
        (notified(NotificationKind::Result), "customer_informed"),
        (
            LifecycleEvent::ResolutionApproved(ResolutionApproved {
                proposal_id,
                resolution: refund(),
                approval_level: ApprovalLevel::DepartmentHead,
                approvers: vec![staff("RO-HEAD")],
            }),
            "approved",
        ),
        (
            LifecycleEvent::RemedyExecuted(RemedyExecuted { executed_by: handler, reference: "TX-42".into(), amount: refund().amount, nothing_to_execute: false }),
            "executed",
        ),
        (LifecycleEvent::Closed(ComplaintClosed { reason: "follow-up recorded".into(), external_route: None }), "closed"),
        (
            LifecycleEvent::CustomerResponded(CustomerResponded {
                response: CustomerResponse::Accepted,
                comment: String::new(),
                recorded_by: "channel:app".into(),
                by_silence: false,
            }),
            "customer_accepted",
        ),
        (notified(NotificationKind::Execution), "customer_notified"),
        (
            LifecycleEvent::FollowUpRecorded(FollowUpRecorded {
                satisfaction: Satisfaction::Satisfied,
                accepts_outcome: true,
                recorded_by: "CS-001".into(),
            }),
            "followed_up",
        ),
    ]
}

/// Analytics started in-process on its own nats-server, store and key.
struct TestAnalytics {
    app: SpawnedApp,
    env: TestEnv,
    js: async_nats::jetstream::Context,
}

impl TestAnalytics {
    async fn start() -> Self {
        let env = TestEnv::new(Backend::Sqlite);
        let config = analytics::Config { common: env.common(analytics::SERVICE), triage_department: "customer_service".into() };
        let app = SpawnedApp::spawn(|token| analytics::Application::start(config, token)).await;
        let js = async_nats::jetstream::new(env.nats.connect().await);
        Self { app, env, js }
    }

    async fn client(&self) -> AnalyticsClient<GrpcChannel> {
        AnalyticsClient::new(self.app.channel().await)
    }

    fn staff_token(&self) -> String {
        self.env.auth.staff("CS-001")
    }

    async fn timeline(&self, number: &ComplaintNumber) -> Option<pb::Timeline> {
        let request = pb::GetTimelineRequest { complaint_id: String::new(), complaint_number: number.to_string() };
        self.client().await.get_timeline(authorized(request, &self.staff_token())).await.ok().map(tonic::Response::into_inner)
    }

    async fn counts(&self) -> pb::Counts {
        self.client().await.get_counts(authorized(pb::GetCountsRequest {}, &self.staff_token())).await.expect("counts").into_inner()
    }

    /// Waits until analytics' consumer has settled everything published so far.
    async fn settled(&self) {
        let js = &self.js;
        eventually("analytics' consumer to settle", WAIT, move || async move {
            let stream = js.get_stream(EVENTS_STREAM).await.ok()?;
            let last = stream.get_info().await.ok()?.state.last_sequence;
            let info = stream.consumer_info(analytics::SERVICE).await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence == last).then_some(())
        })
        .await;
    }
}

fn entries(counts: &[pb::CountEntry]) -> Vec<(&str, i64)> {
    counts.iter().map(|entry| (entry.key.as_str(), entry.count)).collect()
}

#[tokio::test]
async fn a_lifecycle_published_out_of_order_ends_closed_with_every_event_once() {
    let analytics = TestAnalytics::start().await;
    let id = ComplaintId::generate();
    let number = ComplaintNumber::parse("complaint_number", "T-20260101-000001").expect("number");
    let events = lifecycle_out_of_order();
    let mut published: Vec<(EventId, &str)> = Vec::new();
    for (event, stage) in events {
        published.push((publish_event(&analytics.js, &id, &number, event).await, stage));
    }
    // A second complaint that only got as far as triage.
    let other = ComplaintId::generate();
    let other_number = ComplaintNumber::parse("complaint_number", "T-20260101-000002").expect("number");
    publish_event(&analytics.js, &other, &other_number, received(Channel::Web)).await;
    publish_event(&analytics.js, &other, &other_number, triaged(Grade::Green)).await;

    let (watched, key) = (&analytics, &number);
    let timeline = eventually("the whole lifecycle on the timeline, closed", WAIT, move || async move {
        watched.timeline(key).await.filter(|timeline| timeline.entries.len() == 14 && timeline.status == "closed")
    })
    .await;
    analytics.settled().await;
    let timeline = analytics.timeline(&number).await.unwrap_or(timeline);

    assert_eq!(timeline.complaint_id, id.to_string());
    assert_eq!(timeline.complaint_number, "T-20260101-000001");
    assert_eq!(timeline.status, "closed");
    let mut expected: Vec<(String, String)> = published.iter().map(|(event_id, stage)| (event_id.to_string(), (*stage).to_owned())).collect();
    let mut actual: Vec<(String, String)> = timeline.entries.iter().map(|entry| (entry.event_id.clone(), entry.stage.clone())).collect();
    expected.sort();
    actual.sort();
    assert_eq!(actual, expected, "every event once, read as its stage");
    let executed = timeline.entries.iter().find(|entry| entry.stage == "executed").expect("executed entry");
    assert_eq!(executed.actor, "RO-001");
    assert_eq!(executed.producer, "investigation");
    assert_eq!(executed.detail, "TX-42 (200.00 CNY)");
    let approved = timeline.entries.iter().find(|entry| entry.stage == "approved").expect("approved entry");
    assert_eq!(approved.actor, "RO-HEAD");
    assert_eq!(approved.detail, "level department_head");

    let other_timeline = analytics.timeline(&other_number).await.expect("the other complaint");
    assert_eq!(other_timeline.status, "triaged");
    assert_eq!(other_timeline.entries.len(), 2);

    let counts = analytics.counts().await;
    assert_eq!(entries(&counts.by_status), [("closed", 1), ("triaged", 1)]);
    assert_eq!(entries(&counts.by_grade), [("green", 1), ("yellow", 1)]);
    assert_eq!(entries(&counts.by_channel), [("app", 1), ("web", 1)]);
    assert_eq!(counts.total, 2);
}

#[tokio::test]
async fn only_staff_read_counts_and_timelines() {
    let analytics = TestAnalytics::start().await;
    let mut client = analytics.client().await;
    let status = client.get_counts(pb::GetCountsRequest {}).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.get_counts(authorized(pb::GetCountsRequest {}, &analytics.env.auth.channel("app"))).await.expect_err("a channel system");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let request = pb::GetTimelineRequest { complaint_id: String::new(), complaint_number: "T-20260101-000009".into() };
    let status = client.get_timeline(request.clone()).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.get_timeline(authorized(request, &analytics.staff_token())).await.expect_err("unknown complaint");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let counts = client.get_counts(authorized(pb::GetCountsRequest {}, &analytics.staff_token())).await.expect("staff").into_inner();
    assert_eq!(counts.total, 0);
    assert!(counts.by_status.is_empty() && counts.by_grade.is_empty() && counts.by_channel.is_empty());
}
