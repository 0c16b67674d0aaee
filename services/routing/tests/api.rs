//! Routing against the running service (in-process, real nats-server and SQLite, its own
//! signing key, triage by rules only): a received complaint is graded, classified and assigned
//! to a handler without a conflict of interest, announced once; who may read an assignment; a
//! `received` event forged by another producer is dead-lettered and assigns nothing.

use std::time::Duration;

use complaints_classifier::ClassifierConfig;
use complaints_domain::events::{ComplaintReceived, SealedContact};
use complaints_domain::{Channel, ComplaintId, ComplaintNumber, LifecycleEvent, Money, StaffId};
use complaints_plumbing::dlq;
use complaints_plumbing::events::{headers, SCHEMA_VERSION};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, SpawnedApp, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::routing_client::RoutingClient;
use prost::Message as _;
use tonic::transport::Channel as GrpcChannel;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(20);

/// Routing started in-process on its own nats-server, store and key.
struct TestRouting {
    app: SpawnedApp,
    env: TestEnv,
    js: async_nats::jetstream::Context,
}

impl TestRouting {
    async fn start() -> Self {
        let env = TestEnv::new(Backend::Sqlite);
        let config = routing::Config {
            common: env.common(routing::SERVICE),
            departments: [
                ("security", "risk_security"),
                ("fees", "retail_operations"),
                ("product", "retail_operations"),
                ("system", "digital_banking"),
                ("service", "customer_service"),
                ("default", "customer_service"),
            ]
            .into_iter()
            .map(|(category, department)| (category.to_owned(), department.to_owned()))
            .collect(),
            triage_department: "customer_service".into(),
            // Absent on purpose: triage by the classifier's rules.
            model_path: env.stores.path("no-model.json"),
            classifier: ClassifierConfig::default(),
            re_review: routing::config::ReReviewConfig::default(),
            detection: routing::config::DetectionConfig::default(),
            review: routing::config::ReviewConfig::default(),
        };
        let app = SpawnedApp::spawn(|token| routing::Application::start(config, token)).await;
        let js = async_nats::jetstream::new(env.nats.connect().await);
        Self { app, env, js }
    }

    async fn client(&self) -> RoutingClient<GrpcChannel> {
        RoutingClient::new(self.app.channel().await)
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(routing::SERVICE)).await.expect("store");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count")
    }

    /// Waits until routing has assigned `id`, read as a member of staff.
    async fn assignment(&self, id: &ComplaintId) -> pb::Assignment {
        let client = self.client().await;
        let token = self.env.auth.staff("CS-001");
        eventually("the complaint to be assigned", WAIT, || {
            let mut client = client.clone();
            let request = pb::GetAssignmentRequest { complaint_id: id.to_string() };
            let token = token.clone();
            async move { client.get_assignment(authorized(request, &token)).await.ok().map(tonic::Response::into_inner) }
        })
        .await
    }
}

fn number(value: &str) -> ComplaintNumber {
    ComplaintNumber::parse("complaint_number", value).expect("number")
}

/// A fees complaint through the app: 500.00 CNY, naming RO-001.
fn fees_complaint() -> ComplaintReceived {
    ComplaintReceived {
        channel: Channel::App,
        summary: "Annual card fee charged twice".into(),
        description: "The annual fee was charged twice this month; I want a refund of the second one.".into(),
        demand: "refund".into(),
        amount_involved: Some(Money { minor_units: 50_000, currency: "CNY".into() }),
        product_hint: "credit card".into(),
        contact: SealedContact::default(),
        receiving_staff: None,
        staff_involved: vec![StaffId::parse("staff_involved", "RO-001").expect("id")],
        branch_involved: String::new(),
        tags: vec![],
        received_at_ms: complaints_plumbing::now_ms(),
        jurisdiction: "cn".into(),
        reply_due: None,
        customer_key: String::new(),
    }
}

#[tokio::test]
async fn a_fees_complaint_goes_to_retail_operations_past_the_handler_it_names() {
    let routing = TestRouting::start().await;
    let id = ComplaintId::generate();
    publish_event(&routing.js, &id, &number("T-20260101-000001"), LifecycleEvent::Received(fees_complaint())).await;
    let assignment = routing.assignment(&id).await;
    assert_eq!(assignment.complaint_id, id.to_string());
    assert_eq!(assignment.complaint_number, "T-20260101-000001");
    assert_eq!(assignment.department, "retail_operations");
    assert_eq!(assignment.category, "fees");
    assert_eq!(assignment.product, "credit_cards");
    assert_eq!(assignment.grade, pb::Grade::Yellow as i32, "reasons: {:?}", assignment.reasons);
    assert_ne!(assignment.handler_id, "RO-001", "the handler named in the complaint is recused");
    assert_eq!(assignment.handler_id, "RO-002");
    assert_eq!(assignment.recused_staff, ["RO-001"]);
    assert_eq!(routing.count("SELECT COUNT(*) FROM assignments").await, 1);
    assert_eq!(routing.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.triaged'").await, 1);
    assert_eq!(routing.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.assigned'").await, 1);
    assert_eq!(routing.count("SELECT COUNT(*) FROM outbox").await, 2);
}

#[tokio::test]
async fn only_staff_read_assignments_and_an_unknown_complaint_is_not_found() {
    let routing = TestRouting::start().await;
    let id = ComplaintId::generate();
    publish_event(&routing.js, &id, &number("T-20260101-000002"), LifecycleEvent::Received(fees_complaint())).await;
    routing.assignment(&id).await;
    let mut client = routing.client().await;
    let request = || pb::GetAssignmentRequest { complaint_id: id.to_string() };

    let status = client.get_assignment(request()).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.get_assignment(authorized(request(), &routing.env.auth.channel("app"))).await.expect_err("a channel system");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client.get_assignment(authorized(request(), &routing.env.auth.staff("NOBODY"))).await.expect_err("staff unknown to the directory");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    let unknown = pb::GetAssignmentRequest { complaint_id: ComplaintId::generate().to_string() };
    let status = client.get_assignment(authorized(unknown, &routing.env.auth.staff("CS-001"))).await.expect_err("unknown complaint");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let empty = pb::GetAssignmentRequest { complaint_id: String::new() };
    let status = client.get_assignment(authorized(empty, &routing.env.auth.staff("CS-001"))).await.expect_err("no id");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("complaint_id:"), "{}", status.message());
}

#[tokio::test]
async fn a_received_event_forged_by_routing_is_dead_lettered_and_assigns_nothing() {
    let routing = TestRouting::start().await;
    let id = ComplaintId::generate();
    let event_id = complaints_domain::EventId::generate();
    let forged = pb::EventEnvelope {
        event_id: event_id.to_string(),
        complaint_id: id.to_string(),
        occurred_at_ms: complaints_plumbing::now_ms(),
        producer: "routing".into(),
        schema_version: SCHEMA_VERSION,
        traceparent: String::new(),
        tracestate: String::new(),
        complaint_number: "T-20260101-000003".into(),
        payload: Some(pb::event_envelope::Payload::Received(pb::ComplaintReceived::from(&fees_complaint()))),
    };
    let mut message_headers = async_nats::HeaderMap::new();
    message_headers.insert(headers::MSG_ID, event_id.as_str());
    routing
        .js
        .publish_with_headers("cms.complaint.received", message_headers, forged.encode_to_vec().into())
        .await
        .expect("publish")
        .await
        .expect("JetStream acknowledges");

    let letters = eventually("the forged event to be dead-lettered", WAIT, || {
        let js = routing.js.clone();
        async move { dlq::list(&js).await.ok().filter(|letters| !letters.is_empty()) }
    })
    .await;
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].consumer, "routing");
    assert_eq!(letters[0].original_subject, "cms.complaint.received");
    assert!(letters[0].error.contains("come from intake"), "names the catalogued producer: {}", letters[0].error);
    assert!(letters[0].error.contains("not routing"), "{}", letters[0].error);

    let mut client = routing.client().await;
    let request = pb::GetAssignmentRequest { complaint_id: id.to_string() };
    let status = client.get_assignment(authorized(request, &routing.env.auth.staff("CS-001"))).await.expect_err("nothing assigned");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(routing.count("SELECT COUNT(*) FROM assignments").await, 0);
    assert_eq!(routing.count("SELECT COUNT(*) FROM outbox").await, 0);
    assert_eq!(routing.count("SELECT COUNT(*) FROM inbox").await, 0);
}
