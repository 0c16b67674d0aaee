//! The audit chain under concurrent writers, on SQLite and PostgreSQL: two replicas (two
//! pools) appending at once leave one unbroken chain with every entry in it.

use complaints_plumbing::audit::{append, verify, PublishedHeads};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::TestStores;

async fn concurrent_appends(backend: Backend) {
    let stores = TestStores::new(backend);
    let url = stores.url("audit");
    let first = complaints_plumbing::store::connect(&url, &[]).await.expect("store");
    let second = complaints_plumbing::store::connect(&url, &[]).await.expect("store");
    let writer = |pool: sqlx::AnyPool, replica: &'static str| async move {
        for n in 0..40 {
            append(&pool, "intake", replica, "/complaints.v1.Intake/RecordContact", &format!("{n:064}")).await.expect("append");
        }
    };
    tokio::join!(writer(first.clone(), "replica-1"), writer(second, "replica-2"));
    let verdict = verify(&first, "intake", &PublishedHeads::new()).await.expect("verify");
    assert_eq!(verdict.broken, None);
    assert_eq!(verdict.entries, 80);
    assert_eq!(verdict.head.map(|(seq, _)| seq), Some(80));
    let by_replica: Vec<(String, i64)> =
        sqlx::query_as("SELECT actor, COUNT(*) FROM audit_log GROUP BY actor ORDER BY actor").fetch_all(&first).await.expect("counts");
    assert_eq!(by_replica, [("replica-1".to_owned(), 40), ("replica-2".to_owned(), 40)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_appends_on_sqlite() {
    concurrent_appends(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_appends_on_postgres() {
    concurrent_appends(Backend::Postgres).await;
}
