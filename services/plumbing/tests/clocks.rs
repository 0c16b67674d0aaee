//! Durable clocks and the scheduler on real stores (SQLite and PostgreSQL): exact due and
//! warning instants, warnings and breaches fired exactly once by two schedulers racing on one
//! store (replicas), nothing fired twice after a restart, windows expiring through the service's
//! action, stop-clock and extension moving the due instant.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::DateTime;
use complaints_domain::{ClockKind, ClockState, ComplaintId, ComplaintNumber, Grade, StaffId};
use complaints_plumbing::access::Access;
use complaints_plumbing::clocks::{self, ClockBook, Ending, StartClock, StoredClock};
use complaints_plumbing::outbox::RelayHandle;
use complaints_plumbing::scheduler::{DueAction, Fired, NoWindows, Scheduler};
use complaints_plumbing::store::{self, Backend, StoreError, Tx};
use complaints_plumbing::testing::{org_directory, test_clock_config, TestStores};
use complaints_plumbing::time::TimeSource;
use sqlx::AnyPool;

fn ms(text: &str) -> i64 {
    DateTime::parse_from_rfc3339(text).expect("instant").timestamp_millis()
}

fn complaint(n: usize) -> (ComplaintId, ComplaintNumber) {
    (
        ComplaintId::generate(),
        ComplaintNumber::parse("number", &format!("CMP-20260302-{n:06}")).expect("number"),
    )
}

async fn open(stores: &TestStores) -> AnyPool {
    store::connect(&stores.url("clocks"), &[]).await.expect("store")
}

fn scheduler<A: DueAction>(pool: &AnyPool, book: &Arc<ClockBook>, action: A) -> Scheduler<A> {
    Scheduler {
        producer: "investigation",
        pool: pool.clone(),
        book: book.clone(),
        time: TimeSource::system(),
        access: Access::load(&org_directory()).expect("org directory"),
        relay: RelayHandle::default(),
        action,
    }
}

async fn start(pool: &AnyPool, book: &ClockBook, id: &ComplaintId, number: &ComplaintNumber, kind: ClockKind, grade: Grade, at: &str) {
    let owner = StaffId::parse("owner", "RO-001").expect("staff");
    let mut tx = pool.begin().await.expect("tx");
    clocks::start(
        &mut tx,
        book,
        StartClock {
            complaint_id: id,
            complaint_number: number,
            kind,
            jurisdiction: "cn",
            grade,
            owner: Some(&owner),
            department: Some("retail_operations"),
            at_ms: ms(at),
            traceparent: "",
        },
    )
    .await
    .expect("start");
    tx.commit().await.expect("commit");
}

async fn outbox_count(pool: &AnyPool, subject: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE subject = $1").bind(subject).fetch_one(pool).await.expect("count")
}

async fn exact_due_instants_and_exactly_once_firing(backend: Backend) {
    let stores = TestStores::new(backend);
    let book = ClockBook::load(&test_clock_config(&stores), None).expect("rules");
    let pool = open(&stores).await;

    // Green investigation, CN, started Fri 13 Feb 2026 16:30 (the Spring Festival week follows:
    // 15–23 Feb are holidays, Sat 14 Feb a make-up working day): 3 working days are Sat 14,
    // Tue 24 and Wed 25 → due 24:00 Wed 25 Feb; 75 % = 06:00 on Wed 25.
    let (id, number) = complaint(1);
    start(&pool, &book, &id, &number, ClockKind::Investigation, Grade::Green, "2026-02-13T16:30:00+08:00").await;
    let shown = clocks::of_complaint(&pool, &id).await.expect("clocks");
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0].due_at_ms, ms("2026-02-26T00:00:00+08:00"));
    assert_eq!(shown[0].due_local, "2026-02-26T00:00:00+08:00");
    assert_eq!(shown[0].warning_at_ms, Some(ms("2026-02-25T06:00:00+08:00")));
    assert_eq!(shown[0].state, ClockState::Running);
    assert!(!shown[0].provisional);

    // 40 more complaints with the same clock; two schedulers on two pools race over them.
    for n in 2..=40 {
        let (id, number) = complaint(n);
        start(&pool, &book, &id, &number, ClockKind::Investigation, Grade::Green, "2026-02-13T16:30:00+08:00").await;
    }
    let replica_pool = open(&stores).await;
    let first = scheduler(&pool, &book, NoWindows);
    let second = scheduler(&replica_pool, &book, NoWindows);

    // Before the warning point nothing fires.
    let early = first.fire_due(ms("2026-02-25T05:59:59+08:00")).await.expect("pass");
    assert_eq!(early, Fired::default());

    // Past the warning point: 40 warnings between the two, once each. Replicas need PostgreSQL
    // (one SQLite file has one writer process): there the two race; on SQLite they take turns,
    // as a restarted process would.
    let (first, second) = (&first, &second);
    let race = |at| async move {
        match backend {
            Backend::Postgres => tokio::join!(first.fire_due(at), second.fire_due(at)),
            Backend::Sqlite => (first.fire_due(at).await, second.fire_due(at).await),
        }
    };
    let at = ms("2026-02-25T12:00:00+08:00");
    let (a, b) = race(at).await;
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.warnings + b.warnings, 40, "{a:?} {b:?}");
    assert_eq!(a.breaches + b.breaches, 0);
    assert_eq!(outbox_count(&pool, "cms.complaint.clock_warning.investigation").await, 40);
    assert_eq!(first.fire_due(at).await.expect("again"), Fired::default(), "nothing fires twice");

    // Past the due instant: 40 breaches, once each, even with a "restarted" scheduler.
    let at = ms("2026-02-26T00:00:01+08:00");
    let (a, b) = race(at).await;
    let (a, b) = (a.expect("first"), b.expect("second"));
    assert_eq!(a.breaches + b.breaches, 40, "{a:?} {b:?}");
    let restarted = scheduler(&open(&stores).await, &book, NoWindows);
    assert_eq!(restarted.fire_due(at + 86_400_000).await.expect("restarted"), Fired::default());
    assert_eq!(outbox_count(&pool, "cms.complaint.clock_breached.investigation").await, 40);
    assert_eq!(restarted.next_fire_at().await.expect("next"), None, "nothing left to fire");

    let breached = clocks::of_complaint(&pool, &id).await.expect("clocks");
    assert_eq!(breached[0].state, ClockState::Breached);
    assert_eq!(breached[0].breached_at_ms, Some(ms("2026-02-26T00:00:00+08:00")));

    // Completing it late keeps it breached; a fresh one completed in time is met.
    let mut tx = pool.begin().await.expect("tx");
    let ended = clocks::end(&mut tx, &book, &id, ClockKind::Investigation, ms("2026-02-27T10:00:00+08:00"), Ending::Completed)
        .await
        .expect("end")
        .expect("open clock");
    tx.commit().await.expect("commit");
    assert_eq!(ended.state, ClockState::Breached);
    let (id, number) = complaint(99);
    start(&pool, &book, &id, &number, ClockKind::Approval, Grade::Green, "2026-03-02T10:00:00+08:00").await;
    let mut tx = pool.begin().await.expect("tx");
    let met = clocks::end(&mut tx, &book, &id, ClockKind::Approval, ms("2026-03-02T15:00:00+08:00"), Ending::Completed)
        .await
        .expect("end")
        .expect("open clock");
    tx.commit().await.expect("commit");
    assert_eq!(met.state, ClockState::Met);
    assert_eq!(met.due_local, "2026-03-04T00:00:00+08:00", "1 working day from Mon 2 Mar ends 24:00 Tue 3 Mar");
}

#[tokio::test]
async fn exact_due_instants_and_exactly_once_firing_sqlite() {
    exact_due_instants_and_exactly_once_firing(Backend::Sqlite).await;
}

#[tokio::test]
async fn exact_due_instants_and_exactly_once_firing_postgres() {
    exact_due_instants_and_exactly_once_firing(Backend::Postgres).await;
}

/// Counts expiries, as a service's silence-as-acceptance would apply them.
struct CountExpiries(Arc<AtomicUsize>);

impl DueAction for CountExpiries {
    async fn expired<'a>(&'a self, _tx: &'a mut Tx, clock: &'a StoredClock) -> Result<(), StoreError> {
        assert_eq!(clock.kind, ClockKind::ObjectionWindow);
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test]
async fn a_window_expires_once_and_stop_clock_and_extension_move_the_due_instant() {
    let stores = TestStores::new(Backend::Sqlite);
    let book = ClockBook::load(&test_clock_config(&stores), None).expect("rules");
    let pool = open(&stores).await;
    let expiries = Arc::new(AtomicUsize::new(0));
    let scheduler = scheduler(&pool, &book, CountExpiries(expiries.clone()));

    // Objection window: 3 working days from Thu 30 Apr 2026 (1–5 May holidays, Sat 9 May a
    // make-up day): Wed 6, Thu 7, Fri 8 May → ends 24:00 Fri 8 May; no warning point.
    let (id, number) = complaint(1);
    start(&pool, &book, &id, &number, ClockKind::ObjectionWindow, Grade::Green, "2026-04-30T15:00:00+08:00").await;
    let window = &clocks::of_complaint(&pool, &id).await.expect("clocks")[0];
    assert_eq!(window.due_local, "2026-05-09T00:00:00+08:00");
    assert_eq!(window.warning_at_ms, None);
    assert_eq!(scheduler.fire_due(ms("2026-05-08T23:59:59+08:00")).await.expect("pass").expired, 0);
    let fired = scheduler.fire_due(ms("2026-05-09T00:00:00+08:00")).await.expect("pass");
    assert_eq!((fired.expired, fired.breaches, fired.warnings), (1, 0, 0));
    assert_eq!(scheduler.fire_due(ms("2026-05-20T00:00:00+08:00")).await.expect("pass").expired, 0);
    assert_eq!(expiries.load(Ordering::SeqCst), 1);
    assert_eq!(clocks::of_complaint(&pool, &id).await.expect("clocks")[0].state, ClockState::Expired);

    // Investigation, Yellow, 2 working days from Mon 2 Mar 2026 10:00 → 24:00 Wed 4 Mar.
    // Paused for an appraisal Tue 3 Mar 10:00 – Thu 5 Mar 10:00: Tue counts 10/24 of a day,
    // Wed nothing, Thu 14/24, Fri the second day → 24:00 Fri 6 Mar.
    let (id, number) = complaint(2);
    start(&pool, &book, &id, &number, ClockKind::Investigation, Grade::Yellow, "2026-03-02T10:00:00+08:00").await;
    assert_eq!(clocks::of_complaint(&pool, &id).await.expect("clocks")[0].due_local, "2026-03-05T00:00:00+08:00");
    let mut tx = pool.begin().await.expect("tx");
    let paused = clocks::pause(&mut tx, &book, &id, ClockKind::Investigation, ms("2026-03-03T10:00:00+08:00"))
        .await
        .expect("pause")
        .expect("open");
    assert_eq!(paused.state, ClockState::Paused);
    let resumed = clocks::resume(&mut tx, &book, &id, ClockKind::Investigation, ms("2026-03-05T10:00:00+08:00"))
        .await
        .expect("resume")
        .expect("open");
    tx.commit().await.expect("commit");
    assert_eq!(resumed.state, ClockState::Running);
    let after_pause = resumed.due_at_ms;
    assert_eq!(resumed.due_local, "2026-03-07T00:00:00+08:00");
    // The Yellow rule allows one extension of 1 working day.
    let mut tx = pool.begin().await.expect("tx");
    let extended = clocks::extend(&mut tx, &book, &id, ClockKind::Investigation, None, ms("2026-03-05T11:00:00+08:00"), "expert opinion")
        .await
        .expect("extend")
        .expect("open");
    let refused = clocks::extend(&mut tx, &book, &id, ClockKind::Investigation, None, ms("2026-03-05T11:00:00+08:00"), "again").await;
    tx.commit().await.expect("commit");
    assert_eq!(extended.extensions, 1);
    assert_eq!(extended.period, "3 working days");
    assert!(extended.due_at_ms > after_pause);
    assert_eq!(extended.due_local, "2026-03-10T00:00:00+08:00", "one more working day: Mon 9 Mar");
    assert!(matches!(refused, Err(StoreError::Clock(_))), "no second extension in the Yellow rule: {refused:?}");
}

/// Copies the shipped calendars and rule packs into a directory the test may change.
fn copy_rules(stores: &TestStores) -> complaints_plumbing::config::ClockConfig {
    let shipped = test_clock_config(stores);
    let mut config = shipped.clone();
    for (from, name) in [(&shipped.calendars_dir, "calendars"), (&shipped.rule_packs_dir, "rule-packs")] {
        let to = stores.path(name);
        std::fs::create_dir_all(&to).expect("directory");
        for entry in std::fs::read_dir(from).expect("read shipped files") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    config.calendars_dir = stores.path("calendars");
    config.rule_packs_dir = stores.path("rule-packs");
    config
}

#[tokio::test]
async fn a_clock_past_the_calendar_is_provisional_until_the_year_is_added_then_recomputed() {
    let stores = TestStores::new(Backend::Sqlite);
    let config = copy_rules(&stores);
    let book = ClockBook::load(&config, None).expect("rules");
    let pool = open(&stores).await;

    // CN regulator decision, 15 days from Fri 18 Dec 2026: Sat 2 Jan 2027, which no published
    // calendar covers. On the weekly pattern alone it is a rest day → 24:00 Mon 4 Jan, provisional.
    let (id, number) = complaint(1);
    start(&pool, &book, &id, &number, ClockKind::RegulatorDecision, Grade::Green, "2026-12-18T10:00:00+08:00").await;
    let clock = &clocks::of_complaint(&pool, &id).await.expect("clocks")[0];
    assert!(clock.provisional);
    assert_eq!(clock.due_local, "2027-01-05T00:00:00+08:00");

    // The operator adds China's 2027 calendar (here, for the test, with 1 and 4 Jan as
    // holidays). Without a restart the book reloads and the open clock is recomputed.
    let cn = std::fs::read_to_string(stores.path("calendars/cn.toml")).expect("cn");
    let cn = cn.replace("last_year = 2026", "last_year = 2027").replace(
        "holidays = [",
        "holidays = [\n  { date = 2027-01-01, name = \"New Year's Day\" },\n  { date = 2027-01-04, name = \"test holiday\" },",
    );
    std::fs::write(stores.path("calendars/cn.toml"), cn).expect("write");
    assert!(book.reload_if_changed(), "the changed file is picked up");
    let moved = clocks::recompute_open(&pool, &book, "intake", 100).await.expect("recompute");
    assert_eq!(moved, 1);
    let clock = &clocks::of_complaint(&pool, &id).await.expect("clocks")[0];
    assert!(!clock.provisional, "2027 is data now");
    // Sat 2 Jan is a rest day, Mon 4 Jan the (test) holiday → 24:00 Tue 5 Jan.
    assert_eq!(clock.due_local, "2027-01-06T00:00:00+08:00");
    assert_eq!(outbox_count(&pool, "cms.complaint.clocks_changed.intake").await, 1, "the recomputation is announced");
    assert!(!book.reload_if_changed(), "nothing changed since");
}

/// Every clock of SPEC §4–5 as the shipped rule packs define it, started through the store,
/// against due instants derived by hand.
#[tokio::test]
async fn every_clock_of_the_rule_packs_falls_due_where_the_calendar_says() {
    let stores = TestStores::new(Backend::Sqlite);
    let book = ClockBook::load(&test_clock_config(&stores), None).expect("rules");
    let pool = open(&stores).await;
    // (jurisdiction, grade, clock, start, due in local time)
    let cases: &[(&str, Grade, ClockKind, &str, &str)] = &[
        // CN, Thu 30 Apr 2026 15:00: May Day holidays 1–5 May, Sat 9 May a make-up working day.
        ("cn", Grade::Green, ClockKind::Acknowledge, "2026-04-30T15:00:00+08:00", "2026-04-30T16:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::FirstContact, "2026-04-30T15:00:00+08:00", "2026-05-01T15:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::Handover, "2026-04-30T15:00:00+08:00", "2026-05-01T15:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::InvestigationStart, "2026-04-30T15:00:00+08:00", "2026-05-01T15:00:00+08:00"),
        // Red: the 1-hour target; Yellow 2 working days (6, 7 May); Green 4 (6, 7, 8, Sat 9).
        ("cn", Grade::Red, ClockKind::Response, "2026-04-30T15:00:00+08:00", "2026-04-30T16:00:00+08:00"),
        ("cn", Grade::Yellow, ClockKind::Response, "2026-04-30T15:00:00+08:00", "2026-05-08T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::Response, "2026-04-30T15:00:00+08:00", "2026-05-10T00:00:00+08:00"),
        ("cn", Grade::Red, ClockKind::Investigation, "2026-04-30T15:00:00+08:00", "2026-05-07T00:00:00+08:00"),
        ("cn", Grade::Yellow, ClockKind::Investigation, "2026-04-30T15:00:00+08:00", "2026-05-08T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::Investigation, "2026-04-30T15:00:00+08:00", "2026-05-09T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::Approval, "2026-04-30T15:00:00+08:00", "2026-05-07T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::ObjectionWindow, "2026-04-30T15:00:00+08:00", "2026-05-09T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::Execution, "2026-04-30T15:00:00+08:00", "2026-05-09T00:00:00+08:00"),
        // 1 week: Thu 7 May, a working day.
        ("cn", Grade::Green, ClockKind::FollowUp, "2026-04-30T15:00:00+08:00", "2026-05-08T00:00:00+08:00"),
        // 15 days: Fri 15 May.
        ("cn", Grade::Green, ClockKind::RegulatorDecision, "2026-04-30T15:00:00+08:00", "2026-05-16T00:00:00+08:00"),
        // 30 days: Sat 30 May, not a working day → Mon 1 June.
        ("cn", Grade::Green, ClockKind::ReviewWindow, "2026-04-30T15:00:00+08:00", "2026-06-02T00:00:00+08:00"),
        ("cn", Grade::Green, ClockKind::ReviewDecision, "2026-04-30T15:00:00+08:00", "2026-06-02T00:00:00+08:00"),
        // England & Wales, Thu 2 Apr 2026 11:00 BST: Good Friday 3 Apr, Easter Monday 6 Apr.
        ("gb", Grade::Green, ClockKind::SummaryResolution, "2026-04-02T11:00:00+01:00", "2026-04-10T00:00:00+01:00"),
        // 8 weeks: Thu 28 May.
        ("gb", Grade::Green, ClockKind::RegulatorDecision, "2026-04-02T11:00:00+01:00", "2026-05-29T00:00:00+01:00"),
        // 15 business days: 7–10, 13–17, 20–24, 27 April.
        ("gb", Grade::Green, ClockKind::PaymentServicesDecision, "2026-04-02T11:00:00+01:00", "2026-04-28T00:00:00+01:00"),
        // US federal, Thu 2 Jul 2026 10:00 EDT: Independence Day observed Fri 3 Jul.
        ("us", Grade::Green, ClockKind::RegulatorDecision, "2026-07-02T10:00:00-04:00", "2026-07-18T00:00:00-04:00"),
        ("us", Grade::Green, ClockKind::Approval, "2026-07-02T10:00:00-04:00", "2026-07-07T00:00:00-04:00"),
        // EU (TARGET), Thu 24 Dec 2026 10:00 CET: 25 Dec closed, 26 Dec a Saturday; 15 business
        // days: 28–31 Dec (4), 1 Jan closed, 4–8 (9), 11–15 (14), Mon 18 Jan (15).
        ("eu", Grade::Green, ClockKind::PaymentServicesDecision, "2026-12-24T10:00:00+01:00", "2027-01-19T00:00:00+01:00"),
    ];
    for (n, (jurisdiction, grade, kind, start, due)) in cases.iter().enumerate() {
        let (id, number) = complaint(n);
        let mut tx = pool.begin().await.expect("tx");
        let started = clocks::start(
            &mut tx,
            &book,
            StartClock {
                complaint_id: &id,
                complaint_number: &number,
                kind: *kind,
                jurisdiction,
                grade: *grade,
                owner: None,
                department: Some("retail_operations"),
                at_ms: ms(start),
                traceparent: "",
            },
        )
        .await
        .unwrap_or_else(|error| panic!("{jurisdiction} {grade} {kind}: {error}"));
        tx.commit().await.expect("commit");
        let clock = started.last().expect("started");
        assert_eq!(clock.due_local, *due, "{jurisdiction} {grade} {kind} from {start}");
        assert!(!clock.provisional, "{jurisdiction} {kind}");
        assert_eq!(clock.warning_at_ms.is_none(), kind.is_window(), "windows have no warning point: {kind}");
    }
}
