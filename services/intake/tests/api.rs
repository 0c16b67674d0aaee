//! Intake's API against the running service (in-process, real nats-server and SQLite, its own
//! signing key): every validation rule names its field and stores nothing; who may register and
//! answer; out-of-turn and racing answers.

use std::time::Duration;

use complaints_domain::events::{
    ComplaintAssigned, ComplaintTriaged, CustomerNotified, InvestigationOpened, NotificationKind, Resolution, ResolutionApproved,
    ResolutionProposed, ResolutionType,
};
use complaints_domain::{ApprovalLevel, Channel, ComplaintId, ComplaintNumber, Grade, LifecycleEvent, ProposalId, StaffId};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, SpawnedApp, TestAuth, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::intake_client::IntakeClient;
use tonic::transport::Channel as GrpcChannel;
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
        ("received_at format", |r| r.received_at = "yesterday".into(), "received_at"),
        ("received_at not in the future", |r| r.received_at = "2999-01-01T00:00:00Z".into(), "received_at"),
        ("tag length", |r| r.tags = vec![String::new()], "tags[0]"),
        ("tag count", |r| r.tags = vec!["t".into(); 21], "tags"),
        ("receiving staff length", |r| r.receiving_staff = "s".repeat(65), "receiving_staff"),
        ("receiving staff is an id", |r| r.receiving_staff = "Zhang San".into(), "receiving_staff"),
        ("staff involved count", |r| r.staff_involved = vec!["S".into(); 21], "staff_involved"),
        ("staff involved length", |r| r.staff_involved = vec!["s".repeat(65)], "staff_involved[0]"),
        ("staff involved are ids", |r| r.staff_involved = vec!["Li Na".into()], "staff_involved[0]"),
        ("branch involved length", |r| r.branch_involved = "b".repeat(65), "branch_involved"),
        ("evidence count", |r| r.evidence = vec![pb::EvidenceItem { kind: "photo".into(), ..Default::default() }; 51], "evidence"),
        (
            "evidence reference length",
            |r| r.evidence = vec![pb::EvidenceItem { kind: "photo".into(), reference: "x".repeat(501), ..Default::default() }],
            "evidence[0].reference",
        ),
    ]
}

/// Intake started in-process on its own nats-server, store and key.
struct TestIntake {
    app: SpawnedApp,
    env: TestEnv,
}

impl TestIntake {
    async fn start() -> Self {
        Self::start_on(TestEnv::new(Backend::Sqlite)).await
    }

    /// Intake on `env`'s stores and broker (again, after a restart).
    async fn start_on(env: TestEnv) -> Self {
        let contact_key = complaints_plumbing::testing::test_sealing_key(&env.stores, "notification-contact.key");
        let config = intake::Config {
            number_prefix: "T".into(),
            contact_seal_key_file: Some(complaints_plumbing::sealed::public_path(&contact_key)),
            ..intake::Config::with_common(env.common(intake::SERVICE))
        };
        let app = SpawnedApp::spawn(|token| intake::Application::start(config, token)).await;
        Self { app, env }
    }

    async fn client(&self) -> IntakeClient<GrpcChannel> {
        IntakeClient::new(self.app.channel().await)
    }

    fn web(&self) -> String {
        self.env.auth.channel("web")
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(intake::SERVICE)).await.expect("store");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count")
    }
}

#[tokio::test]
async fn metrics_warn_of_calendars_whose_data_ends_soon() {
    let intake = TestIntake::start().await;
    let text = intake.app.metrics().await;
    let today = chrono::Utc::now().date_naive();
    let cn_end = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).expect("date");
    let days_left = (cn_end - today).num_days();
    assert!(text.contains(&format!("cms_calendar_days_left{{service=\"intake\",calendar=\"cn\"}} {days_left}")), "{text}");
    let ending = i64::from(days_left < 90);
    assert!(text.contains(&format!("cms_calendar_coverage_ending{{service=\"intake\",calendar=\"cn\"}} {ending}")), "{text}");
    // England & Wales carries 2027: more than 90 days are left today.
    assert!(text.contains("cms_calendar_coverage_ending{service=\"intake\",calendar=\"gb-eaw\"} 0"), "{text}");
    assert!(text.contains("application/openmetrics-text") && text.trim_end().ends_with("# EOF"), "{text}");
}

#[tokio::test]
async fn every_validation_rule_names_its_field_and_stores_nothing() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    for (rule, mutate, field) in &cases() {
        let mut request = valid();
        mutate(&mut request);
        let status = client.submit_complaint(authorized(request, &intake.web())).await.expect_err(rule);
        assert_eq!(status.code(), Code::InvalidArgument, "{rule}: {status:?}");
        assert!(status.message().starts_with(&format!("{field}:")), "{rule}: expected field {field}, got {:?}", status.message());
    }
    let accepted = client.submit_complaint(authorized(valid(), &intake.web())).await.expect("valid request accepted").into_inner();
    assert!(accepted.complaint_number.starts_with("T-"));
    assert_eq!(intake.count("SELECT COUNT(*) FROM complaints").await, 1);
}

#[tokio::test]
async fn a_customers_complaints_share_one_data_key_also_after_a_restart() {
    // The first complaint stores the customer's new key with it; after a restart the key is
    // not remembered, so the fresh key offered is refused and the registration goes again
    // with the stored one.
    let intake = TestIntake::start().await;
    let first = intake.client().await.submit_complaint(authorized(valid(), &intake.web())).await.expect("first").into_inner();
    let TestIntake { app, env } = intake;
    drop(app);
    let intake = TestIntake::start_on(env).await;
    let mut client = intake.client().await;
    let mut numbers = vec![first.complaint_number];
    for key in ["key-2", "key-3"] {
        let mut again = valid();
        again.request_key = key.into();
        let accepted = client.submit_complaint(authorized(again, &intake.web())).await.expect(key).into_inner();
        assert!(!accepted.duplicate, "{key}");
        numbers.push(accepted.complaint_number);
    }
    let mut other = valid();
    other.request_key = "key-4".into();
    customer(&mut other).id_number = "110105194912310038".into();
    client.submit_complaint(authorized(other, &intake.web())).await.expect("another customer");
    assert_eq!(intake.count("SELECT COUNT(*) FROM complaints").await, 4);
    assert_eq!(intake.count("SELECT COUNT(*) FROM data_keys").await, 2, "one key per customer");
    let pool = sqlx::any::AnyPoolOptions::new().connect(&intake.env.stores.url(intake::SERVICE)).await.expect("store");
    let mut keys = Vec::new();
    for number in &numbers {
        let sealed: String =
            sqlx::query_scalar("SELECT id_number FROM complaints WHERE complaint_number = $1").bind(number).fetch_one(&pool).await.expect("row");
        keys.push(sealed.split(':').nth(2).expect("enc:v1:<key id>:…").to_owned());
    }
    assert!(keys.iter().all(|key| key == &keys[0]), "{keys:?}");
}

#[tokio::test]
async fn a_request_key_reused_for_other_content_is_rejected() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    let first = client.submit_complaint(authorized(valid(), &intake.web())).await.expect("first").into_inner();
    let retry = client.submit_complaint(authorized(valid(), &intake.web())).await.expect("retry").into_inner();
    assert!(retry.duplicate);
    assert_eq!(retry.complaint_number, first.complaint_number);
    let mut other = valid();
    other.summary = "Something else entirely".into();
    let status = client.submit_complaint(authorized(other, &intake.web())).await.expect_err("reused key");
    assert_eq!(status.code(), Code::AlreadyExists);
    assert!(status.message().starts_with("request_key:"), "{}", status.message());
}

#[tokio::test]
async fn calls_without_a_valid_token_are_unauthenticated() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    let none = client.submit_complaint(valid()).await.expect_err("no token");
    assert_eq!(none.code(), Code::Unauthenticated, "{none:?}");
    let expired_claims = {
        let mut claims = intake.env.auth.signer.claims("channel:web", &["channel"], Duration::from_secs(60));
        claims["exp"] = serde_json::json!(complaints_plumbing::now_ms() / 1000 - 3600);
        claims
    };
    let expired = intake.env.auth.signer.mint_with(expired_claims).expect("mint");
    let status = client.submit_complaint(authorized(valid(), &expired)).await.expect_err("expired");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let stranger = TestAuth::new().channel("web");
    let status = client.submit_complaint(authorized(valid(), &stranger)).await.expect_err("unknown key");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.submit_complaint(authorized(valid(), "not-a-jwt")).await.expect_err("garbage");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    assert_eq!(intake.count("SELECT COUNT(*) FROM complaints").await, 0, "nothing stored");
}

#[tokio::test]
async fn only_the_channel_itself_or_its_staff_register_complaints() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    let app = intake.env.auth.channel("app");
    let status = client.submit_complaint(authorized(valid(), &app)).await.expect_err("the app may not submit web complaints");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client.submit_complaint(authorized(valid(), &intake.env.auth.staff("CS-001"))).await.expect_err("staff on a self-service channel");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let mut counter = valid();
    counter.channel = pb::Channel::BranchCounter as i32;
    counter.request_key = "counter-1".into();
    let status = client.submit_complaint(authorized(counter.clone(), &intake.env.auth.staff("NOBODY"))).await.expect_err("unknown staff");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let registered = client.submit_complaint(authorized(counter, &intake.env.auth.staff("CS-001"))).await.expect("a clerk registers at the counter");
    assert!(!registered.get_ref().duplicate);
    assert_eq!(intake.count("SELECT COUNT(*) FROM complaints WHERE receiving_staff = 'CS-001'").await, 1, "the receiving staff is the caller");
}

#[tokio::test]
async fn health_turns_not_serving_while_the_broker_is_unreachable_and_reflection_lists_only_intake() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    let mut intake = TestIntake::start().await;
    let mut health = HealthClient::new(intake.app.channel().await);
    let status = |health: &mut HealthClient<GrpcChannel>| {
        let mut health = health.clone();
        async move {
            health.check(HealthCheckRequest { service: "complaints.v1.Intake".into() }).await.ok().map(|r| r.into_inner().status)
        }
    };
    eventually("SERVING", Duration::from_secs(10), || {
        let probe = status(&mut health);
        async move { (probe.await == Some(ServingStatus::Serving as i32)).then_some(()) }
    })
    .await;
    intake.env.nats.kill();
    eventually("NOT_SERVING once NATS is gone", Duration::from_secs(30), || {
        let probe = status(&mut health);
        async move { (probe.await == Some(ServingStatus::NotServing as i32)).then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn answers_out_of_turn_are_refused() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    let submitted = client.submit_complaint(authorized(valid(), &intake.web())).await.expect("submit").into_inner();
    let request = pb::RespondToResolutionRequest { complaint_number: submitted.complaint_number.clone(), accept: true, comment: String::new() };
    let early = client.respond_to_resolution(authorized(request, &intake.web())).await.expect_err("no result sent yet");
    assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
    assert!(early.message().contains("is received"), "{}", early.message());
    let request = pb::RecordFollowUpRequest { complaint_number: submitted.complaint_number, ..Default::default() };
    let missing = client.record_follow_up(authorized(request, &intake.web())).await.expect_err("fields missing");
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(missing.message().starts_with("satisfaction:"), "{}", missing.message());
}

/// Plays routing, investigation, approval and notification up to the result reaching the customer.
async fn bring_to_customer_informed(intake: &TestIntake, id: &ComplaintId, number: &ComplaintNumber) {
    let js = async_nats::jetstream::new(intake.env.nats.connect().await);
    let handler = StaffId::parse("handler", "RO-001").expect("id");
    let proposal_id = ProposalId::generate();
    let resolution = Resolution {
        kind: ResolutionType::ExplanationAndApology,
        amount: None,
        conclusion: "explained".into(),
        basis: "terms".into(),
        execution_method: "letter".into(),
    };
    let events = [
        LifecycleEvent::Triaged(ComplaintTriaged { grade: Grade::Green, category: "service".into(), product: "payments".into(), reasons: vec![] }),
        LifecycleEvent::Assigned(ComplaintAssigned {
            department: "retail_operations".into(),
            handler: handler.clone(),
            grade: Grade::Green,
            category: "service".into(),
            recused_staff: vec![],
            jurisdiction: "cn".into(),
        }),
        LifecycleEvent::InvestigationOpened(InvestigationOpened { handler: handler.clone(), department: "retail_operations".into() }),
        LifecycleEvent::ResolutionProposed(ResolutionProposed { proposal_id: proposal_id.clone(), resolution: resolution.clone(), proposed_by: handler, department: "retail_operations".into() }),
        LifecycleEvent::ResolutionApproved(ResolutionApproved {
            proposal_id,
            resolution,
            approval_level: ApprovalLevel::DepartmentHead,
            approvers: vec![StaffId::parse("approver", "RO-HEAD").expect("id")],
        }),
        LifecycleEvent::CustomerNotified(CustomerNotified { delivery_id: "d1".into(), kind: NotificationKind::Result, channel: Channel::Sms }),
    ];
    // Published in reverse: every early one is retried until the one it follows has applied.
    for event in events.into_iter().rev() {
        publish_event(&js, id, number, event).await;
    }
    let mut client = intake.client().await;
    let token = intake.env.auth.staff("CS-001");
    eventually("the complaint reaches customer_informed", Duration::from_secs(60), || {
        let mut client = client.clone();
        let request = pb::GetComplaintRequest { complaint_number: number.to_string(), ..Default::default() };
        let token = token.clone();
        async move {
            let view = client.get_complaint(authorized(request, &token)).await.ok()?;
            (view.get_ref().status == "customer_informed").then_some(())
        }
    })
    .await;
    drop(client.get_complaint(authorized(pb::GetComplaintRequest::default(), &token)).await);
}

#[tokio::test]
async fn of_two_racing_answers_exactly_one_is_recorded() {
    let intake = TestIntake::start().await;
    let mut client = intake.client().await;
    let submitted = client.submit_complaint(authorized(valid(), &intake.web())).await.expect("submit").into_inner();
    let id = ComplaintId::parse("id", &submitted.complaint_id).expect("id");
    let number = ComplaintNumber::parse("number", &submitted.complaint_number).expect("number");
    bring_to_customer_informed(&intake, &id, &number).await;
    let stranger = intake.env.auth.channel("wechat");
    let request = pb::RespondToResolutionRequest { complaint_number: number.to_string(), accept: true, comment: String::new() };
    let denied = client.respond_to_resolution(authorized(request, &stranger)).await.expect_err("another channel's system");
    assert_eq!(denied.code(), Code::PermissionDenied, "{denied:?}");
    let answer = |accept: bool| {
        let mut client = client.clone();
        let request = pb::RespondToResolutionRequest {
            complaint_number: number.to_string(),
            accept,
            comment: if accept { String::new() } else { "amount too low".into() },
        };
        let token = intake.web();
        async move { client.respond_to_resolution(authorized(request, &token)).await }
    };
    let (accepted, objected) = tokio::join!(answer(true), answer(false));
    let outcomes = [accepted.is_ok(), objected.is_ok()];
    assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "exactly one answer wins: {outcomes:?}");
    for result in [&accepted, &objected] {
        if let Err(status) = result {
            assert!(matches!(status.code(), Code::FailedPrecondition | Code::Aborted), "{status:?}");
        }
    }
    assert_eq!(intake.count("SELECT COUNT(*) FROM customer_responses WHERE recorded_by = 'channel:web'").await, 1);
    assert_eq!(intake.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.customer_responded'").await, 1);
}
