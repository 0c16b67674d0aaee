//! Throughput bench of the running platform: complaints per second accepted by intake, and
//! complaints per second carried through the automatic part of the pipeline (received →
//! triaged → assigned → case opened → acknowledgement delivered → analytics).
//!
//! `cargo build --release --workspace --bins && target/release/pipeline-bench [COUNT] [sqlite|postgres] [CONCURRENCY] [intake-only]`
//!
//! `intake-only` stops the five other services after the warm-up, so intake's throughput is
//! measured without the pipeline competing for the machine (events wait in the stream).

use std::time::{Duration, Instant};

use complaints_proto::v1::intake_client::IntakeClient;
use complaints_plumbing::store::Backend;
use futures::StreamExt;
use system_tests::{sample_complaint, wait_for, Platform};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let count: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(2000);
    let backend = match args.next().as_deref() {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let intake_only = args.next().as_deref() == Some("intake-only");
    let mut platform = Platform::start(backend).await;
    let intake = platform.intake().await;
    // Warm up connections and statement caches.
    IntakeClient::clone(&intake).submit_complaint(sample_complaint("warm-up")).await.expect("warm-up");
    platform.wait_idle(Duration::from_secs(60)).await;
    if intake_only {
        for name in system_tests::SERVICES.into_iter().filter(|name| *name != "intake") {
            platform.service(name).kill9();
        }
    }

    let started = Instant::now();
    let accepted = futures::stream::iter(0..count)
        .map(|index| {
            let mut intake = intake.clone();
            async move { intake.submit_complaint(sample_complaint(&format!("bench-{index}"))).await.is_ok() }
        })
        .buffer_unordered(concurrency)
        .filter(|ok| futures::future::ready(*ok))
        .count()
        .await;
    let intake_elapsed = started.elapsed();
    assert_eq!(accepted, count, "every submission accepted");
    if intake_only {
        println!("backend: {backend:?}, complaints: {count}, client concurrency: {concurrency}, intake alone");
        println!("intake accepted: {:.0} complaints/s ({count} in {:.2} s)", count as f64 / intake_elapsed.as_secs_f64(), intake_elapsed.as_secs_f64());
        return;
    }

    let total = i64::try_from(count + 1).expect("count");
    wait_for("pipeline drained", Duration::from_secs(1800), || async {
        let done = platform.count("analytics", "SELECT COUNT(*) FROM timeline").await;
        (done >= 5 * total).then_some(())
    })
    .await;
    let pipeline_elapsed = started.elapsed();
    println!("backend: {backend:?}, complaints: {count}, client concurrency: {concurrency}");
    println!(
        "intake accepted: {:.0} complaints/s ({count} in {:.2} s)",
        count as f64 / intake_elapsed.as_secs_f64(),
        intake_elapsed.as_secs_f64()
    );
    println!(
        "automatic pipeline: {:.0} complaints/s end to end ({count} through all stages in {:.2} s)",
        count as f64 / pipeline_elapsed.as_secs_f64(),
        pipeline_elapsed.as_secs_f64()
    );
}
