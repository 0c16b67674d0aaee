//! Every intake validation rule, against the running service (in-process, real nats-server and
//! SQLite): the status is INVALID_ARGUMENT and the message names the field. Nothing is stored.

use complaints_proto::v1 as pb;
use complaints_proto::v1::intake_client::IntakeClient;
use complaints_shared::config::CommonConfig;
use complaints_shared::store::Backend;
use complaints_shared::testing::{NatsServer, TestStores};
use tokio_util::sync::CancellationToken;
use tonic::Code;

fn valid() -> pb::SubmitComplaintRequest {
    pb::SubmitComplaintRequest {
        request_key: "key-1".into(),
        channel: pb::Channel::Web as i32,
        customer: Some(pb::Customer {
            name: "Li Si".into(),
            id_type: pb::IdDocumentType::IdCard as i32,
            id_number: "11010519491231002X".into(),
            phone: "+86 138-1234-5678".into(),
            email: "li.si@example.com".into(),
            address: String::new(),
            account_number: "6222 0202 0011 2233".into(),
            preferred_channel: 0,
        }),
        summary: "Transfer delayed".into(),
        description: "A transfer made on Monday has not arrived.".into(),
        demand: "explanation".into(),
        amount_involved: Some(pb::Money { minor_units: 12_345, currency: "CNY".into() }),
        product_hint: "payments".into(),
        evidence: vec![],
        receiving_staff: String::new(),
        received_at: String::new(),
        staff_involved: vec![],
        branch_involved: String::new(),
        tags: vec![],
    }
}

type Mutation = fn(&mut pb::SubmitComplaintRequest);

fn customer(request: &mut pb::SubmitComplaintRequest) -> &mut pb::Customer {
    request.customer.as_mut().expect("customer")
}

/// (rule, mutation, field the error must name)
fn cases() -> Vec<(&'static str, Mutation, &'static str)> {
    vec![
        ("request key required", |r| r.request_key = " ".into(), "request_key"),
        ("request key too long", |r| r.request_key = "k".repeat(129), "request_key"),
        ("request key without spaces", |r| r.request_key = "a b".into(), "request_key"),
        ("channel required", |r| r.channel = 0, "channel"),
        ("channel known", |r| r.channel = 999, "channel"),
        ("customer required", |r| r.customer = None, "customer"),
        ("customer name required", |r| customer(r).name = String::new(), "customer.name"),
        ("customer name length", |r| customer(r).name = "x".repeat(101), "customer.name"),
        ("id type required", |r| customer(r).id_type = 0, "customer.id_type"),
        ("id number required", |r| customer(r).id_number = String::new(), "customer.id_number"),
        ("id card format", |r| customer(r).id_number = "12345".into(), "customer.id_number"),
        ("id card check digit", |r| customer(r).id_number = "110105194912310021".into(), "customer.id_number"),
        (
            "passport format",
            |r| {
                customer(r).id_type = pb::IdDocumentType::Passport as i32;
                customer(r).id_number = "E1".into();
            },
            "customer.id_number",
        ),
        (
            "business licence format",
            |r| {
                customer(r).id_type = pb::IdDocumentType::BusinessLicence as i32;
                customer(r).id_number = "91110000IOZSV00000".into();
            },
            "customer.id_number",
        ),
        ("phone digits", |r| customer(r).phone = "12ab".into(), "customer.phone"),
        ("phone length", |r| customer(r).phone = "123456".into(), "customer.phone"),
        ("email format", |r| customer(r).email = "not-an-address".into(), "customer.email"),
        (
            "a contact is required",
            |r| {
                customer(r).phone = String::new();
                customer(r).email = String::new();
            },
            "customer.phone",
        ),
        ("account number digits", |r| customer(r).account_number = "62-22".into(), "customer.account_number"),
        ("account number length", |r| customer(r).account_number = "1234567".into(), "customer.account_number"),
        ("preferred channel known", |r| customer(r).preferred_channel = 999, "customer.preferred_channel"),
        ("address length", |r| customer(r).address = "x".repeat(501), "customer.address"),
        ("summary required", |r| r.summary = String::new(), "summary"),
        ("summary length", |r| r.summary = "x".repeat(501), "summary"),
        ("description required", |r| r.description = "  ".into(), "description"),
        ("description length", |r| r.description = "x".repeat(20_001), "description"),
        ("demand known", |r| r.demand = "revenge".into(), "demand"),
        (
            "amount not negative",
            |r| r.amount_involved = Some(pb::Money { minor_units: -1, currency: "CNY".into() }),
            "amount_involved.minor_units",
        ),
        (
            "amount currency",
            |r| r.amount_involved = Some(pb::Money { minor_units: 100, currency: "yuan".into() }),
            "amount_involved.currency",
        ),
        ("product hint length", |r| r.product_hint = "x".repeat(101), "product_hint"),
        (
            "evidence kind required",
            |r| r.evidence = vec![pb::EvidenceItem { kind: String::new(), ..Default::default() }],
            "evidence[0].kind",
        ),
        (
            "evidence description length",
            |r| r.evidence = vec![pb::EvidenceItem { kind: "photo".into(), description: "x".repeat(1001), ..Default::default() }],
            "evidence[0].description",
        ),
        (
            "receiving staff on staffed channels",
            |r| r.channel = pb::Channel::BranchCounter as i32,
            "receiving_staff",
        ),
        ("received_at format", |r| r.received_at = "yesterday".into(), "received_at"),
        ("received_at not in the future", |r| r.received_at = "2999-01-01T00:00:00Z".into(), "received_at"),
        ("tag length", |r| r.tags = vec![String::new()], "tags[0]"),
        ("tag count", |r| r.tags = vec!["t".into(); 21], "tags"),
        ("receiving staff length", |r| r.receiving_staff = "s".repeat(65), "receiving_staff"),
        ("staff involved count", |r| r.staff_involved = vec!["S".into(); 21], "staff_involved"),
        ("staff involved length", |r| r.staff_involved = vec!["s".repeat(65)], "staff_involved[0]"),
        ("branch involved length", |r| r.branch_involved = "b".repeat(65), "branch_involved"),
        ("evidence count", |r| r.evidence = vec![pb::EvidenceItem { kind: "photo".into(), ..Default::default() }; 51], "evidence"),
        (
            "evidence reference length",
            |r| r.evidence = vec![pb::EvidenceItem { kind: "photo".into(), reference: "x".repeat(501), ..Default::default() }],
            "evidence[0].reference",
        ),
    ]
}

struct Running {
    client: IntakeClient<tonic::transport::Channel>,
    stores: TestStores,
    token: CancellationToken,
    _nats: NatsServer,
}

async fn start_intake() -> Running {
    let nats = NatsServer::start();
    let stores = TestStores::new(Backend::Sqlite);
    let addr_file = stores.path("intake.addr");
    let mut common = CommonConfig::defaults_for(intake::SERVICE);
    common.nats_url = nats.url();
    common.database_url = stores.url(intake::SERVICE);
    common.grpc_addr = "127.0.0.1:0".into();
    common.grpc_addr_file = Some(addr_file.clone());
    let config = intake::Config { common, number_prefix: "T".into(), max_clock_skew_seconds: 300 };
    let token = CancellationToken::new();
    let running = intake::Application::start(config, token.clone()).await.expect("intake starts");
    tokio::spawn(running);
    let addr = std::fs::read_to_string(&addr_file).expect("bound address");
    let client = IntakeClient::connect(format!("http://{addr}")).await.expect("connect");
    Running { client, stores, token, _nats: nats }
}

#[tokio::test]
async fn every_validation_rule_names_its_field() {
    let mut running = start_intake().await;
    let cases = cases();
    for (rule, mutate, field) in &cases {
        let mut request = valid();
        mutate(&mut request);
        let status = running.client.submit_complaint(request).await.expect_err(rule);
        assert_eq!(status.code(), Code::InvalidArgument, "{rule}: {status:?}");
        assert!(status.message().starts_with(&format!("{field}:")), "{rule}: expected field {field}, got {:?}", status.message());
    }
    // Nothing was stored by any rejected request; the valid one goes through.
    let accepted = running.client.submit_complaint(valid()).await.expect("valid request accepted").into_inner();
    assert!(accepted.complaint_number.starts_with("T-"));
    let pool = sqlx::any::AnyPoolOptions::new().connect(&running.stores.url(intake::SERVICE)).await.expect("store");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM complaints").fetch_one(&pool).await.expect("count");
    assert_eq!(stored, 1);
    running.token.cancel();
}

#[tokio::test]
async fn a_request_key_reused_for_other_content_is_rejected() {
    let mut running = start_intake().await;
    let first = running.client.submit_complaint(valid()).await.expect("first").into_inner();
    let retry = running.client.submit_complaint(valid()).await.expect("retry").into_inner();
    assert!(retry.duplicate);
    assert_eq!(retry.complaint_number, first.complaint_number);
    let mut other = valid();
    other.summary = "Something else entirely".into();
    let status = running.client.submit_complaint(other).await.expect_err("reused key");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().starts_with("request_key:"), "{}", status.message());
    running.token.cancel();
}

#[tokio::test]
async fn answers_out_of_turn_are_refused() {
    let mut running = start_intake().await;
    let submitted = running.client.submit_complaint(valid()).await.expect("submit").into_inner();
    let early = running
        .client
        .respond_to_resolution(pb::RespondToResolutionRequest {
            complaint_number: submitted.complaint_number.clone(),
            accept: true,
            comment: String::new(),
            recorded_by: "CS-001".into(),
        })
        .await
        .expect_err("no result sent yet");
    assert_eq!(early.code(), Code::FailedPrecondition);
    let missing = running
        .client
        .record_follow_up(pb::RecordFollowUpRequest { complaint_number: submitted.complaint_number, ..Default::default() })
        .await
        .expect_err("fields missing");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(missing.message().starts_with("recorded_by:"), "{}", missing.message());
    running.token.cancel();
}

#[tokio::test]
async fn of_two_racing_answers_exactly_one_is_recorded() {
    use complaints_proto::v1::event_envelope::Payload;
    use prost::Message;
    let mut running = start_intake().await;
    let submitted = running.client.submit_complaint(valid()).await.expect("submit").into_inner();
    // Tell intake the result was sent, as notification would.
    let envelope = pb::EventEnvelope {
        event_id: "01900000-0000-7000-8000-000000000001".into(),
        complaint_id: submitted.complaint_id.clone(),
        occurred_at_ms: complaints_shared::now_ms(),
        producer: "notification".into(),
        schema_version: 1,
        complaint_number: submitted.complaint_number.clone(),
        payload: Some(Payload::CustomerNotified(pb::CustomerNotified {
            delivery_id: "d1".into(),
            kind: pb::NotificationKind::Result as i32,
            channel: pb::Channel::Sms as i32,
        })),
        ..Default::default()
    };
    let js = async_nats::jetstream::new(async_nats::connect(running._nats.url()).await.expect("nats"));
    js.publish("cms.complaint.customer_notified", envelope.encode_to_vec().into()).await.expect("publish").await.expect("ack");
    let number = submitted.complaint_number.clone();
    complaints_shared::testing::eventually("awaiting the customer's answer", std::time::Duration::from_secs(30), || {
        let mut client = running.client.clone();
        let number = number.clone();
        async move {
            let view = client.get_complaint(pb::GetComplaintRequest { complaint_number: number, ..Default::default() }).await.ok()?;
            (view.get_ref().status == "awaiting_response").then_some(())
        }
    })
    .await;
    let answer = |accept: bool| {
        let mut client = running.client.clone();
        let number = number.clone();
        async move {
            client
                .respond_to_resolution(pb::RespondToResolutionRequest {
                    complaint_number: number,
                    accept,
                    comment: if accept { String::new() } else { "amount too low".into() },
                    recorded_by: "CS-001".into(),
                })
                .await
        }
    };
    let (accepted, objected) = tokio::join!(answer(true), answer(false));
    let outcomes = [accepted.is_ok(), objected.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "exactly one answer wins: {outcomes:?}");
    for result in [&accepted, &objected] {
        if let Err(status) = result {
            assert!(matches!(status.code(), Code::FailedPrecondition | Code::Aborted), "{status:?}");
        }
    }
    let pool = sqlx::any::AnyPoolOptions::new().connect(&running.stores.url(intake::SERVICE)).await.expect("store");
    let responses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM customer_responses").fetch_one(&pool).await.expect("count");
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.customer_responded'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!((responses, events), (1, 1));
    running.token.cancel();
}
