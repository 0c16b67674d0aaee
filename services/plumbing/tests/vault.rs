//! Envelope encryption on SQLite and PostgreSQL: fields open only in their place and unaltered;
//! a keyring rotation re-wraps every data key, after which the old key-encryption key can go;
//! erasing a customer (crypto-shredding) leaves their fields unreadable and everyone else's
//! readable; a key created in a transaction that rolls back is never used again.

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
