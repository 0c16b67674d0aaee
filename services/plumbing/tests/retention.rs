//! Pruning on SQLite and PostgreSQL: published outbox rows and inbox claims past the policy go,
//! recent ones and unpublished outbox rows stay; a policy that would forget a claim while its
//! event can be redelivered is refused.

use complaints_plumbing::retention::{prune, Pruned, RetentionConfig};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::TestStores;
use sqlx::AnyPool;

const DAY_MS: i64 = 24 * 3600 * 1000;

async fn outbox_row(pool: &AnyPool, id: &str, published_at_ms: Option<i64>) {
    sqlx::query(
        "INSERT INTO outbox (event_id, subject, complaint_id, payload, traceparent, tracestate, created_at_ms, published_at_ms) \
         VALUES ($1, 'cms.complaint.received', 'c', '', '', '', 0, $2)",
    )
    .bind(id)
    .bind(published_at_ms)
    .execute(pool)
    .await
    .expect("outbox row");
}

async fn inbox_row(pool: &AnyPool, id: &str, processed_at_ms: i64) {
    sqlx::query("INSERT INTO inbox (consumer, event_id, subject, processed_at_ms) VALUES ('routing', $1, 'cms.complaint.received', $2)")
        .bind(id)
        .bind(processed_at_ms)
        .execute(pool)
        .await
        .expect("inbox row");
}

async fn ids(pool: &AnyPool, sql: &str) -> Vec<String> {
    sqlx::query_scalar(sql).fetch_all(pool).await.expect("ids")
}

async fn pruning(backend: Backend) {
    let stores = TestStores::new(backend);
    let pool = complaints_plumbing::store::connect(&stores.url("retention"), &[]).await.expect("store");
    let now = 100 * DAY_MS;
    outbox_row(&pool, "published-old", Some(now - 8 * DAY_MS)).await;
    outbox_row(&pool, "published-recent", Some(now - 6 * DAY_MS)).await;
    outbox_row(&pool, "unpublished-old", None).await;
    let mut tx = pool.begin().await.expect("tx");
    for n in 0..2500 {
        sqlx::query(
            "INSERT INTO outbox (event_id, subject, complaint_id, payload, traceparent, tracestate, created_at_ms, published_at_ms) \
             VALUES ($1, 'cms.complaint.received', 'c', '', '', '', 0, $2)",
        )
        .bind(format!("bulk-{n:05}"))
        .bind(now - 30 * DAY_MS)
        .execute(&mut *tx)
        .await
        .expect("bulk row");
    }
    tx.commit().await.expect("commit");
    inbox_row(&pool, "claimed-old", now - 38 * DAY_MS).await;
    inbox_row(&pool, "claimed-recent", now - 36 * DAY_MS).await;

    let pruned = prune(&pool, &RetentionConfig::default(), now).await.expect("prune");
    assert_eq!(pruned, Pruned { outbox: 2501, inbox: 1 }, "past several batches");
    assert_eq!(ids(&pool, "SELECT event_id FROM outbox ORDER BY event_id").await, ["published-recent", "unpublished-old"]);
    assert_eq!(ids(&pool, "SELECT event_id FROM inbox ORDER BY event_id").await, ["claimed-recent"]);
    assert_eq!(prune(&pool, &RetentionConfig::default(), now).await.expect("again"), Pruned::default());
}

#[tokio::test]
async fn pruning_on_sqlite() {
    pruning(Backend::Sqlite).await;
}

#[tokio::test]
async fn pruning_on_postgres() {
    pruning(Backend::Postgres).await;
}

#[test]
fn claims_outlive_the_event_stream() {
    let policy = RetentionConfig { inbox_days: 30, ..RetentionConfig::default() };
    let refused = policy.check(30).expect_err("claims would go before their events");
    assert!(refused.to_string().contains("retention.inbox_days (30) must exceed stream_max_age_days (30)"), "{refused}");
    assert!(RetentionConfig::default().check(30).is_ok());
}
