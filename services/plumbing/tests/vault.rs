//! Envelope encryption on SQLite and PostgreSQL: fields open only in their place and unaltered;
//! a keyring rotation re-wraps every data key, after which the old key-encryption key can go;
//! erasing a customer (crypto-shredding) leaves their fields unreadable and everyone else's
//! readable; a key created in a transaction that rolls back is never used again. On
//! PostgreSQL, with two replicas, a registration and an erasure of one customer are ordered by
//! the key row: the shred waits for the registration, and a registration after a shred gets a
//! new key.

use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{test_keyring, TestStores};
use complaints_plumbing::vault::{rotate_keyring, Opened, Vault, VaultError};

async fn open(vault: &Vault, place: &str, sealed: &str) -> Opened {
    vault.open_field(place, sealed).await.expect("opens")
}

async fn sealing_rotation_and_erasure(backend: Backend) {
    let stores = TestStores::new(backend);
    let pool = complaints_plumbing::store::connect(&stores.url("vault"), &[]).await.expect("store");
    let keyring = test_keyring(&stores);
    let vault = Vault::open(pool.clone(), &keyring).expect("vault");

    // Sealed in place: clear text never stored, opens only where it was sealed, unaltered.
    let alice = vault.key_for("customer-alice").await.expect("alice's key");
    let bob = vault.key_for("customer-bob").await.expect("bob's key");
    let phone = alice.seal("complaints.phone:c1", "13812345678");
    assert!(phone.starts_with("enc:v1:") && !phone.contains("13812345678"), "{phone}");
    assert_ne!(phone, alice.seal("complaints.phone:c1", "13812345678"), "a fresh nonce each time");
    assert_eq!(alice.seal("complaints.email:c1", ""), "", "empty stays empty");
    assert_eq!(open(&vault, "complaints.phone:c1", &phone).await, Opened::Clear("13812345678".into()));
    assert!(matches!(vault.open_field("complaints.phone:c2", &phone).await, Err(VaultError::Tampered { .. })), "moved to another row");
    let mut altered = phone.clone();
    altered.replace_range(altered.len() - 4.., "AAAA");
    assert!(matches!(vault.open_field("complaints.phone:c1", &altered).await, Err(VaultError::Tampered { .. })), "altered");
    assert_eq!(open(&vault, "x", "written before encryption").await, Opened::Clear("written before encryption".into()));
    let bobs = bob.seal("complaints.phone:c2", "13900001111");
    assert_eq!(vault.key_for("customer-alice").await.expect("again").seal("p", "x").split(':').nth(2), phone.split(':').nth(2), "one key per customer");

    // Rotation: a new key-encryption key; every data key re-wrapped under it; the old one can
    // then leave the keyring and a fresh process still opens every field.
    let before = vault.active_kek();
    let after = rotate_keyring(&keyring).expect("rotate");
    assert_ne!(before, after);
    assert!(vault.reload_if_changed().expect("reload"), "the new key is noticed");
    assert_eq!(vault.active_kek(), after);
    assert_eq!(vault.rewrap_all().await.expect("rewrap"), 2, "both data keys move");
    assert_eq!(vault.wrapped_under().await.expect("status"), vec![(after.clone(), 2)]);
    let text = std::fs::read_to_string(&keyring).expect("keyring");
    let without_old: String = text.lines().filter(|line| !line.starts_with(&before)).map(|line| format!("{line}\n")).collect();
    std::fs::write(&keyring, without_old).expect("drop the old key");
    let fresh = Vault::open(pool.clone(), &keyring).expect("a fresh process");
    assert_eq!(open(&fresh, "complaints.phone:c1", &phone).await, Opened::Clear("13812345678".into()));
    assert_eq!(open(&fresh, "complaints.phone:c2", &bobs).await, Opened::Clear("13900001111".into()));

    // Erasure: Alice's key destroyed; her field reads as erased, Bob's still opens; Alice
    // complaining again gets a new key.
    assert_eq!(fresh.shred("customer-alice").await.expect("shred"), 1);
    assert_eq!(fresh.shred("customer-alice").await.expect("again"), 0, "idempotent");
    assert_eq!(open(&fresh, "complaints.phone:c1", &phone).await, Opened::Erased);
    assert_eq!(open(&fresh, "complaints.phone:c2", &bobs).await, Opened::Clear("13900001111".into()));
    let wrapped: Vec<String> = sqlx::query_scalar("SELECT wrapped FROM data_keys WHERE key_ref = 'customer-alice'").fetch_all(&pool).await.expect("rows");
    assert_eq!(wrapped, [""], "nothing of the key is left");
    let again = fresh.key_for("customer-alice").await.expect("a new key").seal("complaints.phone:c3", "13812345678");
    assert_ne!(again.split(':').nth(2), phone.split(':').nth(2));
    assert_eq!(open(&fresh, "complaints.phone:c3", &again).await, Opened::Clear("13812345678".into()));

    // A key created inside a transaction that rolls back is not remembered.
    let mut tx = pool.begin().await.expect("tx");
    let lost = fresh.key_in(&mut tx, "customer-carol").await.expect("created in tx");
    let lost_field = lost.seal("p", "gone");
    tx.rollback().await.expect("rollback");
    let kept = fresh.key_for("customer-carol").await.expect("created again").seal("p", "kept");
    assert_ne!(kept.split(':').nth(2), lost_field.split(':').nth(2), "the rolled-back key is not reused");
    assert!(matches!(fresh.open_field("p", &lost_field).await, Err(VaultError::UnknownKey { .. })));
}

#[tokio::test]
async fn sealing_rotation_and_erasure_on_sqlite() {
    sealing_rotation_and_erasure(Backend::Sqlite).await;
}

#[tokio::test]
async fn sealing_rotation_and_erasure_on_postgres() {
    sealing_rotation_and_erasure(Backend::Postgres).await;
}

/// Waits until some other session of this database waits for a lock.
async fn until_one_waits_for_a_lock(pool: &sqlx::AnyPool) {
    for _ in 0..200 {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
        .fetch_one(pool)
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no session came to wait for the key row within 10 s");
}

/// Two replicas (two vaults over one database): a registration holding a customer's key
/// (the cached path and the read path) makes the other replica's shred wait until it commits;
/// a shred holding the row makes a registration wait, then take a new key.
#[tokio::test]
async fn registration_and_erasure_ordered_by_the_key_row_on_postgres() {
    let stores = TestStores::new(Backend::Postgres);
    let pool = complaints_plumbing::store::connect(&stores.url("vault"), &[]).await.expect("store");
    let keyring = test_keyring(&stores);
    let registering = Vault::open(pool.clone(), &keyring).expect("replica a");
    let erasing = Vault::open(pool.clone(), &keyring).expect("replica b");

    for (customer, cached) in [("customer-dave", true), ("customer-erin", false)] {
        let first = registering.key_for(customer).await.expect("first complaint's key");
        let reader = if cached { registering.clone() } else { Vault::open(pool.clone(), &keyring).expect("replica c") };
        let mut registration = pool.begin().await.expect("tx");
        let held = reader.key_in(&mut registration, customer).await.expect("the live key");
        assert_eq!(held.key_id(), first.key_id());
        let erasure = {
            let (pool, erasing, customer) = (pool.clone(), erasing.clone(), customer.to_owned());
            tokio::spawn(async move {
                let mut tx = pool.begin().await.expect("tx");
                let shredded = erasing.shred_in(&mut tx, &customer).await.expect("shred");
                tx.commit().await.expect("commit");
                shredded
            })
        };
        until_one_waits_for_a_lock(&pool).await;
        assert!(!erasure.is_finished(), "{customer}: the shred waits for the registration");
        registration.commit().await.expect("the registration commits");
        assert_eq!(erasure.await.expect("erasure"), 1, "{customer}: then the shred goes on");
    }

    // The shred first: replica a still has Frank's key cached, waits, then makes a new one.
    let old = registering.key_for("customer-frank").await.expect("frank's key");
    let mut erasure = pool.begin().await.expect("tx");
    assert_eq!(erasing.shred_in(&mut erasure, "customer-frank").await.expect("shred"), 1);
    let registration = {
        let (pool, registering) = (pool.clone(), registering.clone());
        tokio::spawn(async move {
            let mut tx = pool.begin().await.expect("tx");
            let key = registering.key_in(&mut tx, "customer-frank").await.expect("a key");
            tx.commit().await.expect("commit");
            key.key_id().to_owned()
        })
    };
    until_one_waits_for_a_lock(&pool).await;
    erasure.commit().await.expect("the erasure commits");
    let new = registration.await.expect("registration");
    assert_ne!(new, old.key_id(), "a key shredded meanwhile is never used");
}
