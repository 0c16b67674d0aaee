//! The clock scheduler under load: OPEN open clocks of which DUE fall due within one minute.
//! Measures how fast the scheduler fires the due ones (one pass after another, as the running
//! scheduler does) and what an idle pass costs (look for due clocks, then ask the index for the
//! next instant) with that many open — against the same with only the due ones open.
//!
//! `cargo build --release -p system-tests --bin clock-bench && target/release/clock-bench [OPEN] [DUE] [sqlite|postgres]`
//! (defaults: 1,000,000 open, 10,000 due, SQLite).

use std::sync::Arc;
use std::time::Instant;

use complaints_domain::{ClockKind, ComplaintId, ComplaintNumber, Grade};
use complaints_plumbing::access::Access;
use complaints_plumbing::clocks::{self, ClockBook, StartClock};
use complaints_plumbing::outbox::RelayHandle;
use complaints_plumbing::scheduler::{NoWindows, Scheduler};
use complaints_plumbing::store::{self, Backend};
use complaints_plumbing::testing::{org_directory, test_clock_config, TestStores};
use complaints_plumbing::time::TimeSource;
use sqlx::AnyPool;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;

/// Opens `count` clocks starting at `started(i)`, `batch` per transaction, with progress.
async fn open_clocks(pool: &AnyPool, book: &ClockBook, label: &str, count: usize, kind: ClockKind, grade: Grade, started: impl Fn(usize) -> i64) {
    let began = Instant::now();
    let batch = 5_000;
    let mut done = 0;
    while done < count {
        let mut tx = pool.begin().await.expect("tx");
        for i in done..(done + batch).min(count) {
            let id = ComplaintId::generate();
            let number = ComplaintNumber::parse("number", &format!("B-20261127-{:06}", i % 1_000_000)).expect("number");
            let spec = StartClock {
                complaint_id: &id,
                complaint_number: &number,
                kind,
                jurisdiction: "cn",
                grade,
                owner: None,
                department: Some("retail_operations"),
                at_ms: started(i),
                traceparent: "",
            };
            clocks::start(&mut tx, book, spec).await.expect("start clock");
        }
        tx.commit().await.expect("commit");
        done = (done + batch).min(count);
        eprint!("\r{label}: {done}/{count} clocks opened ({:.0}/s)   ", done as f64 / began.elapsed().as_secs_f64());
    }
    eprintln!();
}

/// Average cost of an idle pass (nothing due): fire_due + next_fire_at.
async fn idle_pass_cost(scheduler: &Scheduler<NoWindows>, now: i64) -> f64 {
    let rounds = 2_000;
    let began = Instant::now();
    for _ in 0..rounds {
        let fired = scheduler.fire_due(now).await.expect("idle pass");
        assert_eq!(fired.due, 0, "nothing is due in an idle pass");
        scheduler.next_fire_at().await.expect("next");
    }
    began.elapsed().as_secs_f64() * 1e6 / f64::from(rounds)
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let open: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1_000_000);
    let due: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let backend = match args.next().as_deref() {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let stores = TestStores::new(backend);
    let book = ClockBook::load(&test_clock_config(&stores), None).expect("calendars and rule packs");
    let pool = store::connect(&stores.url("clockbench"), &[]).await.expect("store");
    let scheduler = Scheduler {
        producer: "intake",
        pool: pool.clone(),
        book: Arc::clone(&book),
        time: TimeSource::system(),
        access: Access::load(&org_directory()).expect("org directory"),
        relay: RelayHandle::default(),
        action: NoWindows,
    };
    let now = complaints_plumbing::now_ms();

    // DUE Red response clocks (1 hour, warning at 45 minutes) started so that their due
    // instants spread over the next minute: in an hour from "now - 1 h" … "+ 1 min".
    open_clocks(&pool, &book, "due", due, ClockKind::Response, Grade::Red, |i| now - HOUR_MS + (i as i64 * MINUTE_MS) / due as i64).await;
    // With only these open, the idle pass before anything is due (their warnings are at the
    // scheduler's "now - 15 min" … : look at a moment before the first warning).
    let before_warnings = now - 16 * MINUTE_MS;
    let idle_small = idle_pass_cost(&scheduler, before_warnings).await;

    // The rest: statutory limits (15 days) that fall due long after.
    open_clocks(&pool, &book, "not due", open - due, ClockKind::RegulatorDecision, Grade::Green, |_| now).await;
    let idle_large = idle_pass_cost(&scheduler, before_warnings).await;

    // What reading one batch of due rows costs (the scheduler's first step).
    let read = Instant::now();
    let rows = sqlx::query("SELECT * FROM clocks WHERE next_fire_at_ms IS NOT NULL AND next_fire_at_ms <= $1 ORDER BY next_fire_at_ms, clock_id LIMIT 500")
        .bind(now + MINUTE_MS + 1)
        .fetch_all(&pool)
        .await
        .expect("read");
    eprintln!("reading {} due rows: {:.1} ms", rows.len(), read.elapsed().as_secs_f64() * 1e3);

    // A minute later every due clock has passed its warning point and its due instant.
    let began = Instant::now();
    let mut warnings = 0;
    let mut breaches = 0;
    loop {
        let fired = scheduler.fire_due(now + MINUTE_MS + 1).await.expect("pass");
        warnings += fired.warnings;
        breaches += fired.breaches;
        if fired.due == 0 {
            break;
        }
        eprint!("\rfired: {breaches}/{due} clocks   ");
    }
    let elapsed = began.elapsed().as_secs_f64();
    eprintln!();
    assert_eq!(breaches, due, "every due clock breached once");
    assert_eq!(warnings, due, "every due clock warned once");
    let outbox: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&pool).await.expect("outbox");
    println!("backend: {backend:?}; open clocks: {open}; falling due within a minute: {due}");
    println!(
        "fired: {due} clocks (warning + breach each, {outbox} events through the outbox) in {elapsed:.2} s = {:.0} clocks/s",
        due as f64 / elapsed
    );
    println!("idle pass (find due + next instant): {idle_small:.0} µs with {due} open, {idle_large:.0} µs with {open} open");
}
