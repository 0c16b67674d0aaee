//! Crash safety: while 200 complaints flow, every service in turn is killed with SIGKILL and
//! restarted. Afterwards each complaint is exactly where it would be without the crashes, with no
//! duplicated events, rows or notifications.

use std::time::Duration;

use complaints_proto::v1::intake_client::IntakeClient;
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{AuthorizedChannel, Bearer};
use system_tests::{sample_complaint, wait_for, Platform, SERVICES};
use tokio::sync::watch;

const COMPLAINTS: usize = 200;
const WAIT: Duration = Duration::from_secs(180);

/// Submits `COMPLAINTS` complaints, retrying each (same request key) until intake takes it,
/// following intake to its new address after a restart.
async fn submit_all(address: watch::Receiver<String>, token: String) -> Vec<String> {
    let mut ids = Vec::with_capacity(COMPLAINTS);
    let mut client: Option<IntakeClient<AuthorizedChannel>> = None;
    for index in 0..COMPLAINTS {
        let request = sample_complaint(&format!("crash-{index}"));
        loop {
            if client.is_none() {
                let addr = address.borrow().clone();
                client = match tonic::transport::Channel::from_shared(addr) {
                    Ok(endpoint) => endpoint.connect().await.ok().map(|channel| IntakeClient::with_interceptor(channel, Bearer::new(&token))),
                    Err(_) => None,
                };
            }
            let Some(intake) = client.as_mut() else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            match intake.submit_complaint(request.clone()).await {
                Ok(response) => {
                    ids.push(response.into_inner().complaint_id);
                    break;
                }
                Err(_) => {
                    client = None;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    ids
}

async fn crash_while_flowing(backend: Backend) {
    let mut platform = Platform::start(backend).await;
    let (address_tx, address_rx) = watch::channel(platform.service("intake").addr.clone());
    let submitter = tokio::spawn(submit_all(address_rx, platform.auth.channel("app")));
    for name in SERVICES {
        tokio::time::sleep(Duration::from_millis(350)).await;
        let service = platform.service(name);
        service.kill9();
        tokio::time::sleep(Duration::from_millis(150)).await;
        service.restart();
        if name == "intake" {
            address_tx.send(service.addr.clone()).expect("submitter alive");
        }
    }
    let mut ids = submitter.await.expect("submitter");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), COMPLAINTS, "every submission registered exactly once");

    let n = i64::try_from(COMPLAINTS).expect("count");
    wait_for("every acknowledgement delivered", WAIT, || async {
        let delivered = platform.count("notification", "SELECT COUNT(*) FROM deliveries WHERE status = 'delivered'").await;
        (delivered == n).then_some(())
    })
    .await;
    wait_for("every timeline complete", WAIT, || async {
        (platform.count("analytics", "SELECT COUNT(*) FROM timeline").await >= 5 * n).then_some(())
    })
    .await;
    platform.wait_idle(WAIT).await;

    // The state every complaint reaches without a crash, exactly once.
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM complaints").await, n);
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM complaints WHERE status = 'investigating'").await, n, "intake's stage follows the automatic steps");
    assert_eq!(platform.count("routing", "SELECT COUNT(*) FROM assignments").await, n);
    assert_eq!(platform.count("investigation", "SELECT COUNT(*) FROM cases WHERE status = 'investigating'").await, n);
    assert_eq!(platform.count("approval", "SELECT COUNT(*) FROM involvements").await, n);
    assert_eq!(platform.count("notification", "SELECT COUNT(*) FROM deliveries").await, n);
    assert_eq!(platform.count("analytics", "SELECT COUNT(*) FROM timeline").await, 5 * n);
    assert_eq!(
        platform
            .count("analytics", "SELECT COUNT(*) FROM (SELECT complaint_id FROM timeline GROUP BY complaint_id HAVING COUNT(*) <> 5) AS odd")
            .await,
        0,
        "five timeline entries per complaint"
    );
    assert_eq!(platform.count("analytics", "SELECT COUNT(*) FROM complaint_summaries WHERE status = 'investigating'").await, n);

    // No event was produced twice.
    const LIFECYCLE: &str = "SELECT COUNT(*) FROM outbox WHERE subject NOT LIKE 'cms.complaint.clock%'";
    assert_eq!(platform.count("intake", LIFECYCLE).await, n);
    assert_eq!(platform.count("routing", LIFECYCLE).await, 2 * n);
    assert_eq!(platform.count("investigation", LIFECYCLE).await, n);
    assert_eq!(platform.count("notification", LIFECYCLE).await, n);
    // No clock was started twice: intake's acknowledge, first contact, statutory limit and
    // response; investigation's start and limit; the read side has each once.
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM clocks").await, 4 * n);
    assert_eq!(platform.count("intake", "SELECT COUNT(*) FROM clocks WHERE kind = 'acknowledge' AND state IN ('met', 'breached')").await, n);
    assert_eq!(platform.count("investigation", "SELECT COUNT(*) FROM clocks").await, 2 * n);
    assert_eq!(platform.count("analytics", "SELECT COUNT(*) FROM clock_view").await, 6 * n);
    for service in SERVICES {
        assert_eq!(platform.count(service, "SELECT COUNT(*) FROM outbox WHERE published_at_ms IS NULL").await, 0, "{service} outbox drained");
    }

    // One acknowledgement per complaint reached the gateway; a resend after a crash between
    // sending and recording carries the same idempotency key.
    let received = platform.sink.all();
    let mut keys: Vec<&str> = received.iter().map(|r| r.idempotency_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    assert_eq!(keys.len(), COMPLAINTS, "one delivery key per complaint");
    for id in &ids {
        assert_eq!(platform.sink.kinds_for(id).get("acknowledgement").map(Vec::len), Some(1), "complaint {id}");
    }
    eprintln!("gateway calls: {} for {} deliveries", received.len(), keys.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_each_service_on_sqlite() {
    crash_while_flowing(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_each_service_on_postgres() {
    crash_while_flowing(Backend::Postgres).await;
}
