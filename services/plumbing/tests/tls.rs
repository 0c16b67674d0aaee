//! TLS to the broker: against a nats-server that requires TLS, a service connects with the
//! CA it is configured with (`nats_tls_ca_file`) and works its streams; a client that does not
//! trust that CA, or trusts another, gets no connection.

use complaints_plumbing::events::{EVENTS_STREAM, EVENT_SUBJECT_PREFIX};
use complaints_plumbing::service::Plumbing;
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{test_tls_files, NatsServer, TestEnv};

#[tokio::test]
async fn services_reach_a_tls_broker_only_through_its_ca() {
    let env = TestEnv { nats: NatsServer::start_tls(), ..TestEnv::new(Backend::Sqlite) };
    let config = env.common("intake");
    assert_eq!(config.nats_tls_ca_file.as_deref(), env.nats.tls_ca(), "the service is configured with the broker's CA");
    let plumbing = Plumbing::connect("intake", &config, &[]).await.expect("intake connects over TLS and ensures its streams");
    let info = plumbing.nats.server_info();
    assert!(info.tls_required, "the broker requires TLS: {info:?}");

    // The operator publishes into the event stream over TLS and JetStream stores it.
    let operator = async_nats::jetstream::new(env.nats.connect().await);
    let subject = format!("{EVENT_SUBJECT_PREFIX}tls-test");
    let ack = operator.publish(subject, "{}".into()).await.expect("publish").await.expect("stored");
    assert_eq!(ack.stream, EVENTS_STREAM);

    let seed = env.nats.seed_file("intake");
    let untrusting = complaints_plumbing::nats::options("intake", Some(&seed), None).expect("options").connect(env.nats.url()).await;
    assert!(untrusting.is_err(), "a client that does not trust the broker's CA gets no connection");
    let other = tempfile::tempdir().expect("directory");
    let stranger = test_tls_files(other.path());
    let misled = complaints_plumbing::nats::options("intake", Some(&seed), Some(&stranger.ca)).expect("options").connect(env.nats.url()).await;
    assert!(misled.is_err(), "a certificate from another CA is refused");
    let missing = complaints_plumbing::nats::options("intake", Some(&seed), Some(&other.path().join("absent.pem")));
    assert!(missing.expect_err("no such CA file").to_string().contains("absent.pem"));
}
