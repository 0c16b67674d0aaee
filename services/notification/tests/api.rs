//! Notification against the running service (in-process, real nats-server and SQLite, its own
//! signing key, deliveries spooled to a directory of the test), playing intake by publishing
//! `received`: the acknowledgement is delivered once to the preferred channel and listed with
//! the recipient masked, even when the event is delivered again; only staff list deliveries.

use std::path::PathBuf;
use std::time::Duration;

use complaints_domain::events::{ComplaintReceived, Contact, SealedContact};
use complaints_plumbing::sealed::{public_path, Opener, SealFor};
use complaints_domain::{Channel, ComplaintId, ComplaintNumber, EventId, LifecycleEvent};
use complaints_plumbing::events::{headers, EVENTS_STREAM};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, test_sealing_key, SpawnedApp, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::notification_client::NotificationClient;
use tonic::transport::Channel as GrpcChannel;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(20);

/// Notification started in-process on its own nats-server, store and key; spooling deliveries.
struct TestNotification {
    app: SpawnedApp,
    env: TestEnv,
    js: async_nats::jetstream::Context,
    spool: PathBuf,
    /// Seals contacts for this notification, as intake does.
    contact_seal: SealFor,
    /// Opens the spooled deliveries, as the gateway does.
    gateway: Opener,
}

impl TestNotification {
    async fn start() -> Self {
        let env = TestEnv::new(Backend::Sqlite);
        let spool = env.stores.path("spool");
        let contact_key = test_sealing_key(&env.stores, "notification-contact.key");
        let gateway_key = test_sealing_key(&env.stores, "gateway.key");
        let config = notification::Config {
            common: env.common(notification::SERVICE),
            webhook_url: String::new(),
            spool_dir: spool.clone(),
            retry_base_seconds: 2,
            institution: "The bank".into(),
            contact_open_key_file: Some(contact_key.clone()),
            spool_seal_key_file: Some(public_path(&gateway_key)),
        };
        let app = SpawnedApp::spawn(|token| notification::Application::start(config, token)).await;
        let js = async_nats::jetstream::new(env.nats.connect().await);
        let contact_seal = SealFor::load(&public_path(&contact_key)).expect("public key");
        let gateway = Opener::load(&gateway_key).expect("gateway key");
        Self { app, env, js, spool, contact_seal, gateway }
    }

    async fn client(&self) -> NotificationClient<GrpcChannel> {
        NotificationClient::new(self.app.channel().await)
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(notification::SERVICE)).await.expect("store");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count")
    }

    /// Names of the delivery files in the spool directory (not the temporary ones).
    fn spooled(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.spool)
            .expect("spool directory")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sealed") && !name.starts_with('.'))
            .collect();
        names.sort();
        names
    }

    async fn deliveries(&self, id: &ComplaintId) -> Vec<pb::Delivery> {
        let request = pb::ListDeliveriesRequest { complaint_id: id.to_string() };
        let token = self.env.auth.staff("CS-001");
        self.client().await.list_deliveries(authorized(request, &token)).await.expect("list deliveries").into_inner().deliveries
    }

    /// Waits until notification's consumer has settled every message up to `sequence`.
    async fn consumer_settled(&self, sequence: u64) {
        let js = &self.js;
        eventually("notification's consumer to settle", WAIT, move || async move {
            let info = js.get_stream(EVENTS_STREAM).await.ok()?.consumer_info(notification::SERVICE).await.ok()?;
            (info.num_pending == 0 && info.num_ack_pending == 0 && info.ack_floor.stream_sequence >= sequence).then_some(())
        })
        .await;
    }
}

/// The contact the tests' complaints come with.
fn contact() -> Contact {
    Contact { name: "Li Si".into(), phone: "13812345678".into(), email: "li.si@example.com".into(), preferred_channel: Channel::Sms }
}

/// A complaint as intake announces it, the contact sealed for `notification`.
fn received(notification: &TestNotification) -> ComplaintReceived {
    ComplaintReceived {
        channel: Channel::App,
        summary: "Transfer delayed".into(),
        description: "A transfer made on Monday has not arrived.".into(),
        demand: "explanation".into(),
        amount_involved: None,
        product_hint: "payments".into(),
        contact: SealedContact(notification.contact_seal.seal(&contact().to_bytes())),
        receiving_staff: None,
        staff_involved: vec![],
        branch_involved: String::new(),
        tags: vec![],
        received_at_ms: complaints_plumbing::now_ms(),
        jurisdiction: "cn".into(),
        reply_due: None,
        customer_key: String::new(),
    }
}

#[tokio::test]
async fn the_acknowledgement_is_delivered_once_to_the_preferred_channel_and_listed_masked() {
    let notification = TestNotification::start().await;
    let id = ComplaintId::generate();
    let number = ComplaintNumber::parse("complaint_number", "T-20260101-000001").expect("number");
    let event_id: EventId = publish_event(&notification.js, &id, &number, LifecycleEvent::Received(received(&notification))).await;

    let file = notification.spool.join(format!("{event_id}.sealed"));
    let spooled = eventually("the acknowledgement to be spooled", WAIT, || {
        let file = file.clone();
        async move { std::fs::read(&file).ok() }
    })
    .await;
    for clear in ["13812345678", "Li Si", "T-20260101-000001"] {
        assert!(!String::from_utf8_lossy(&spooled).contains(clear), "{clear} in clear in the spool file");
    }
    let opened = notification.gateway.open(&spooled).expect("the gateway opens the spooled delivery");
    let body: serde_json::Value = serde_json::from_slice(&opened).expect("the spooled delivery is JSON");
    assert_eq!(body["delivery_id"], event_id.as_str());
    assert_eq!(body["complaint_id"], id.as_str());
    assert_eq!(body["complaint_number"], "T-20260101-000001");
    assert_eq!(body["kind"], "acknowledgement");
    assert_eq!(body["channel"], "sms");
    assert_eq!(body["recipient"], "13812345678", "sms goes to the phone, not the e-mail address");
    assert!(body["text"].as_str().is_some_and(|text| text.contains("T-20260101-000001")), "{body}");

    let (watched, complaint) = (&notification, &id);
    let delivered = eventually("the delivery to be recorded as delivered", WAIT, move || async move {
        let deliveries = watched.deliveries(complaint).await;
        (!deliveries.is_empty() && deliveries.iter().all(|d| d.status == "delivered")).then_some(deliveries)
    })
    .await;
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    let delivery = &delivered[0];
    assert_eq!(delivery.delivery_id, event_id.as_str());
    assert_eq!(delivery.kind, pb::NotificationKind::Acknowledgement as i32);
    assert_eq!(delivery.channel, pb::Channel::Sms as i32);
    assert_eq!(delivery.recipient_masked, "138****5678");
    assert_eq!(delivery.attempts, 1);
    assert!(!delivery.delivered_at.is_empty());
    eventually("customer_notified to be published", WAIT, move || async move {
        (watched.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.customer_notified' AND published_at_ms IS NOT NULL").await
            == 1)
            .then_some(())
    })
    .await;

    // The same event again, under a new message id so the broker cannot drop it as a duplicate.
    let stream = notification.js.get_stream(EVENTS_STREAM).await.expect("stream");
    let stored = stream.get_last_raw_message_by_subject("cms.complaint.received").await.expect("the stored event");
    let mut again = stored.headers.clone();
    again.insert(headers::MSG_ID, format!("again-{event_id}").as_str());
    let ack = notification
        .js
        .publish_with_headers(stored.subject.to_string(), again, stored.payload.clone())
        .await
        .expect("publish")
        .await
        .expect("JetStream acknowledges");
    assert!(ack.sequence > stored.sequence, "stored as a new message");
    notification.consumer_settled(ack.sequence).await;

    assert_eq!(notification.deliveries(&id).await.len(), 1, "no second delivery queued");
    assert_eq!(notification.count("SELECT COUNT(*) FROM deliveries").await, 1);
    assert_eq!(notification.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.customer_notified'").await, 1);
    assert_eq!(notification.spooled(), [format!("{event_id}.sealed")], "nothing sent twice");
}

#[tokio::test]
async fn only_staff_list_deliveries() {
    let notification = TestNotification::start().await;
    let mut client = notification.client().await;
    let request = || pb::ListDeliveriesRequest { complaint_id: ComplaintId::generate().to_string() };
    let status = client.list_deliveries(request()).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.list_deliveries(authorized(request(), "not-a-jwt")).await.expect_err("garbage token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
    let status = client.list_deliveries(authorized(request(), &notification.env.auth.channel("app"))).await.expect_err("a channel system");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let none = client.list_deliveries(authorized(request(), &notification.env.auth.staff("CS-001"))).await.expect("staff").into_inner();
    assert!(none.deliveries.is_empty());
}

#[tokio::test]
async fn a_red_complaint_alerts_the_task_group_and_a_yellow_one_nobody() {
    let notification = TestNotification::start().await;
    let triaged = |grade| {
        LifecycleEvent::Triaged(complaints_domain::events::ComplaintTriaged {
            grade,
            category: "security".into(),
            product: "debit card".into(),
            reasons: vec!["stolen card".into()],
        })
    };
    let yellow = ComplaintId::generate();
    let number = ComplaintNumber::parse("complaint_number", "T-20260101-000002").expect("number");
    publish_event(&notification.js, &yellow, &number, triaged(complaints_domain::Grade::Yellow)).await;
    let red = ComplaintId::generate();
    let number = ComplaintNumber::parse("complaint_number", "T-20260101-000003").expect("number");
    publish_event(&notification.js, &red, &number, triaged(complaints_domain::Grade::Red)).await;

    let (watched, complaint) = (&notification, &red);
    let alerts = eventually("the task group alerted", WAIT, move || async move {
        let deliveries = watched.deliveries(complaint).await;
        (deliveries.len() == 2 && deliveries.iter().all(|d| d.status == "delivered")).then_some(deliveries)
    })
    .await;
    let mut recipients: Vec<&str> = alerts.iter().map(|d| d.recipient_masked.as_str()).collect();
    recipients.sort_unstable();
    assert_eq!(recipients, ["RS-001", "RS-HEAD"], "the org directory's red_task_group");
    assert!(alerts.iter().all(|d| d.alert == "red_task_group" && d.kind == 0));
    assert!(notification.deliveries(&yellow).await.is_empty(), "a Yellow complaint calls no task group");
    // Alerts to staff are not customer notifications.
    assert_eq!(notification.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.customer_notified'").await, 0);
}
