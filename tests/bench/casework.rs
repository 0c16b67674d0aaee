//! Case work at scale, on the stores themselves:
//!
//! - **Detection**: the repeat and mass screening of a new complaint (the customer's series
//!   through the protected-key index; the band keys inside the mass window; the assignment
//!   and its bands written) with HISTORY complaints already in routing's store, against the
//!   same with a small history. Reports mean, median and 99th percentile per complaint.
//! - **Queues**: analytics' work-queue queries (department view, my cases, a clock-state
//!   filter, due-before, a deep cursor page, search by customer) with HISTORY open cases.
//!
//! `cargo build --release -p system-tests --bin casework-bench && target/release/casework-bench [HISTORY] [sqlite|postgres]`
//! (defaults: 1,000,000, SQLite).

use std::time::Instant;

use complaints_domain::{ComplaintId, ComplaintNumber, Grade, StaffId};
use complaints_plumbing::store::{self, value_rows, Backend, ROWS_PER_STATEMENT};
use complaints_plumbing::testing::TestStores;
use rand::{Rng, SeedableRng};
use routing::config::DetectionConfig;
use routing::detection;
use routing::screening::{self, Candidate, Mass};
use routing::store::Assignment;
use sqlx::AnyPool;

const DAY_MS: i64 = 24 * 3_600_000;
const PRODUCTS: [&str; 9] =
    ["deposits", "loans", "mortgages", "credit_cards", "credit_reporting", "debt_collection", "payments", "wealth_management", "other"];
const DEPARTMENTS: [&str; 5] = ["customer_service", "retail_operations", "digital_banking", "risk_security", "head_office"];
const STATES: [&str; 4] = ["running", "warned", "breached", "paused"];

fn random_signature(rng: &mut impl Rng) -> [u32; detection::SIGNATURE_LEN] {
    let mut signature = [0u32; detection::SIGNATURE_LEN];
    rng.fill(&mut signature[..]);
    signature
}

/// Writes `count` historical assignments (received over two years before `now`), the ones
/// inside the mass window with their bands, in multi-row statements, with progress.
async fn seed_routing(pool: &AnyPool, count: usize, now: i64, rng: &mut impl Rng) {
    let began = Instant::now();
    let window = DetectionConfig::default().mass_window_minutes * 60_000;
    let mut done = 0;
    while done < count {
        let mut tx = pool.begin().await.expect("tx");
        let mut bands: Vec<(String, String, i64)> = Vec::new();
        for _ in 0..20 {
            let rows = ROWS_PER_STATEMENT.min(count - done);
            if rows == 0 {
                break;
            }
            let sql = format!(
                "INSERT INTO assignments (complaint_id, complaint_number, grade, category, product, department, handler_id, reasons, \
                 recused, assigned_at_ms, open_case, complaint_text, customer_key, received_at_ms, channel, signature) VALUES {}",
                value_rows(rows, 16, 1)
            );
            let mut query = sqlx::query(&sql);
            for i in done..done + rows {
                let received = now - rng.gen_range(0..730 * DAY_MS);
                let signature = random_signature(rng);
                let id = ComplaintId::generate().to_string();
                if received >= now - window {
                    for key in detection::band_keys(PRODUCTS[i % 9], &signature) {
                        bands.push((key, id.clone(), received));
                    }
                }
                query = query
                    .bind(id)
                    .bind(format!("B-20261127-{:06}", i % 1_000_000))
                    .bind("green")
                    .bind("fees")
                    .bind(PRODUCTS[i % 9])
                    .bind(DEPARTMENTS[i % 5])
                    .bind(format!("H-{:03}", i % 50))
                    .bind("[]")
                    .bind("[]")
                    .bind(received)
                    .bind(i64::from(rng.gen_bool(0.3)))
                    .bind("")
                    // About one customer in ten has a second complaint.
                    .bind(format!("{:064x}", rng.gen_range(0..(count as u64 * 9 / 10).max(1))))
                    .bind(received)
                    .bind("app")
                    .bind(detection::encode(&signature));
            }
            query.execute(&mut *tx).await.expect("seed assignments");
            done += rows;
        }
        for chunk in bands.chunks(ROWS_PER_STATEMENT) {
            let sql = format!("INSERT INTO similarity_bands (band_key, complaint_id, received_at_ms) VALUES {}", value_rows(chunk.len(), 3, 1));
            let mut query = sqlx::query(&sql);
            for (key, id, received) in chunk {
                query = query.bind(key).bind(id).bind(*received);
            }
            query.execute(&mut *tx).await.expect("seed bands");
        }
        tx.commit().await.expect("commit");
        eprint!("\rrouting history: {done}/{count} complaints ({:.0}/s)   ", done as f64 / began.elapsed().as_secs_f64());
    }
    eprintln!();
}

fn percentiles(mut samples: Vec<f64>) -> (f64, f64, f64) {
    samples.sort_by(f64::total_cmp);
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    (mean, at(0.5), at(0.99))
}

/// Screens and files `rounds` new complaints, one transaction each; milliseconds per complaint
/// for the screening lookups alone and for the whole transaction (lookups, writes, commit).
async fn screen_new(pool: &AnyPool, rounds: usize, now: i64, rng: &mut impl Rng) -> ((f64, f64, f64), (f64, f64, f64)) {
    let config = DetectionConfig::default();
    let mut samples = Vec::with_capacity(rounds);
    let mut lookups = Vec::with_capacity(rounds);
    for i in 0..rounds {
        let signature = random_signature(rng);
        let customer = format!("{:064x}", rng.gen_range(0..1_000_000u64));
        let product = PRODUCTS[i % 9];
        let id = ComplaintId::generate();
        let number = ComplaintNumber::parse("number", &format!("N-20261127-{:06}", i)).expect("number");
        let began = Instant::now();
        let mut tx = pool.begin().await.expect("tx");
        let candidate = Candidate {
            customer_key: &customer,
            product,
            category: "fees",
            channel: "app",
            received_at_ms: now,
            signature: Some(&signature),
        };
        let repeat = screening::repeat(&mut tx, &config, &candidate).await.expect("repeat");
        let keys = detection::band_keys(product, &signature);
        let mass = screening::mass(&mut tx, &config, &candidate, &keys).await.expect("mass");
        assert!(matches!(mass, Mass::None), "random texts form no incident");
        lookups.push(began.elapsed().as_secs_f64() * 1000.0);
        let assignment = Assignment {
            complaint_id: id.clone(),
            complaint_number: number,
            grade: Grade::Green,
            category: "fees".into(),
            product: product.into(),
            department: "retail_operations".into(),
            handler: StaffId::parse("handler", "RO-001").expect("id"),
            reasons: vec![],
            recused: vec![],
            open: true,
            text: String::new(),
            staff_involved: vec![],
            branch_involved: String::new(),
            tags: vec![],
            co_reviewers: vec![],
            jurisdiction: "cn".into(),
            customer_key: customer.clone(),
            received_at_ms: now,
            channel: "app".into(),
            signature: detection::encode(&signature),
            series_count: i64::from(repeat.count),
            incident_id: String::new(),
        };
        routing::store::insert(&mut tx, &assignment).await.expect("insert");
        routing::store::file_bands(&mut tx, &id, now, &keys, now - config.mass_window_minutes * 60_000).await.expect("bands");
        for (earlier, similarity) in &repeat.earlier {
            routing::store::link_repeat(&mut tx, &id, earlier, *similarity).await.expect("link");
        }
        tx.commit().await.expect("commit");
        samples.push(began.elapsed().as_secs_f64() * 1000.0);
    }
    (percentiles(lookups), percentiles(samples))
}

async fn detection_bench(backend: Backend, history: usize) {
    let now = complaints_plumbing::now_ms();
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    for (label, size) in [("small history", 10_000usize.min(history)), ("full history", history)] {
        let stores = TestStores::new(backend);
        let pool = store::connect(&stores.url("routing"), routing::MIGRATIONS).await.expect("store");
        seed_routing(&pool, size, now, &mut rng).await;
        if backend == Backend::Postgres {
            // A store in service has statistics (autovacuum); a freshly bulk-loaded one not yet.
            for table in ["assignments", "similarity_bands"] {
                sqlx::query(&format!("ANALYZE {table}")).execute(&pool).await.expect("analyze");
            }
        }
        // Warm-up, then measure.
        screen_new(&pool, 100, now, &mut rng).await;
        let ((mean, p50, p99), (all_mean, all_p50, all_p99)) = screen_new(&pool, 2_000, now, &mut rng).await;
        println!("detection, {label} ({size} complaints): screening mean {mean:.3} ms, median {p50:.3} ms, p99 {p99:.3} ms per new complaint");
        println!(
            "  with the assignment and bands written and committed: mean {all_mean:.3} ms, median {all_p50:.3} ms, p99 {all_p99:.3} ms"
        );
    }
}

async fn seed_analytics(pool: &AnyPool, count: usize, now: i64, rng: &mut impl Rng) {
    let began = Instant::now();
    let mut done = 0;
    while done < count {
        let mut tx = pool.begin().await.expect("tx");
        for _ in 0..20 {
            let rows = ROWS_PER_STATEMENT.min(count - done);
            if rows == 0 {
                break;
            }
            let sql = format!(
                "INSERT INTO complaint_summaries (complaint_id, complaint_number, status, status_rank, status_at_ms, grade, channel, \
                 received_at_ms, handler_id, department, product, category, jurisdiction, summary, customer_key, next_due_at_ms, \
                 clock_state, open_case) VALUES {}",
                value_rows(rows, 18, 1)
            );
            let mut query = sqlx::query(&sql);
            for i in done..done + rows {
                query = query
                    .bind(ComplaintId::generate().to_string())
                    .bind(format!("Q-20261127-{:07}", i))
                    .bind("investigating")
                    .bind(50_i64)
                    .bind(now)
                    .bind(["green", "yellow", "red"][i % 3])
                    .bind("app")
                    .bind(now - rng.gen_range(0..90 * DAY_MS))
                    .bind(format!("H-{:03}", i % 500))
                    .bind(DEPARTMENTS[i % 5])
                    .bind(PRODUCTS[i % 9])
                    .bind("fees")
                    .bind("cn")
                    .bind(format!("complaint {i} about a card fee"))
                    .bind(format!("{:064x}", i as u64 * 7919))
                    .bind(now + rng.gen_range(-5 * DAY_MS..30 * DAY_MS))
                    .bind(STATES[i % 4])
                    .bind(1_i64);
            }
            query.execute(&mut *tx).await.expect("seed summaries");
            done += rows;
        }
        tx.commit().await.expect("commit");
        eprint!("\ranalytics: {done}/{count} open cases ({:.0}/s)   ", done as f64 / began.elapsed().as_secs_f64());
    }
    eprintln!();
}

async fn time_queries(pool: &AnyPool, label: &str, filter: &analytics::store::QueueFilter, pages: usize) {
    let mut samples = Vec::new();
    for _ in 0..50 {
        let began = Instant::now();
        let mut after = None;
        for _ in 0..pages {
            let rows = analytics::store::queue(pool, filter, after.clone(), 51).await.expect("queue");
            after = rows.get(49).map(|row| (row.next_due_at_ms, row.complaint_id.clone()));
            if after.is_none() {
                break;
            }
        }
        samples.push(began.elapsed().as_secs_f64() * 1000.0 / pages as f64);
    }
    let (mean, p50, p99) = percentiles(samples);
    println!("queue {label}: mean {mean:.3} ms, median {p50:.3} ms, p99 {p99:.3} ms per page of 50");
}

async fn queue_bench(backend: Backend, open: usize) {
    use analytics::store::QueueFilter;
    let now = complaints_plumbing::now_ms();
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let stores = TestStores::new(backend);
    let pool = store::connect(&stores.url("analytics"), analytics::MIGRATIONS).await.expect("store");
    seed_analytics(&pool, open, now, &mut rng).await;
    if backend == Backend::Postgres {
        sqlx::query("ANALYZE complaint_summaries").execute(&pool).await.expect("analyze");
    }
    let department = QueueFilter { department: Some("retail_operations".into()), ..QueueFilter::default() };
    time_queries(&pool, "department, first page", &department, 1).await;
    time_queries(&pool, "department, 20 pages deep (per page)", &department, 20).await;
    time_queries(&pool, "my cases", &QueueFilter { handler: Some("H-007".into()), ..QueueFilter::default() }, 1).await;
    let breached = QueueFilter { department: Some("retail_operations".into()), clock_states: vec!["breached".into()], ..QueueFilter::default() };
    time_queries(&pool, "department, breached only", &breached, 1).await;
    time_queries(&pool, "all, due before tomorrow", &QueueFilter { due_before_ms: Some(now + DAY_MS), ..QueueFilter::default() }, 1).await;
    time_queries(&pool, "all, red and yellow", &QueueFilter { grades: vec!["red".into(), "yellow".into()], ..QueueFilter::default() }, 1).await;
    let customer = QueueFilter { customer_key: Some(format!("{:064x}", 12_345u64 * 7919)), include_closed: true, ..QueueFilter::default() };
    time_queries(&pool, "search by customer", &customer, 1).await;
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let history: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let backend = match args.get(2).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    println!("casework-bench on {backend:?}, {history} complaints");
    detection_bench(backend, history).await;
    queue_bench(backend, history).await;
}
