//! Inbox: the processed-event table that makes every consumer idempotent. A consumer claims an
//! event id inside the transaction that applies the event; a redelivery finds the claim and
//! changes nothing.

use crate::store::Tx;

/// Claims `event_id` for `consumer` inside `tx`. Returns `false` when it was processed before,
/// in which case the caller must not apply the event again.
pub async fn claim(tx: &mut Tx, consumer: &str, event_id: &str, subject: &str) -> Result<bool, sqlx::Error> {
    let result = sqlx::query(
        "INSERT INTO inbox (consumer, event_id, subject, processed_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (consumer, event_id) DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .bind(subject)
    .bind(crate::now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}
