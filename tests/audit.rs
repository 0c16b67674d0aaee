//! The audit trail in the running services, on SQLite and PostgreSQL: every command is in its
//! service's hash chain with who, what, when and the payload's hash; reads are not; the chain
//! verifies; its head reaches the long-retention audit stream; an entry altered directly in the
//! database, an altered entry whose own hash was recomputed, a chain rewritten to its end, a
//! truncated chain and a removed entry are each found and named; only operators verify.

use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use sqlx::Row;
use system_tests::{handler_of, sample_complaint, submit, wait_for, Platform, SERVICES, WAIT};

async fn verdict(platform: &Platform, service: &str) -> pb::AuditVerdict {
    platform.audit(service, true).await.verify_audit(pb::VerifyAuditRequest {}).await.expect("verify").into_inner()
}

async fn audit(backend: Backend) {
    let mut platform = Platform::start(backend).await;
    let number = submit(&platform, sample_complaint("audit-1")).await;
    let handler = handler_of(&platform, &number).await;
    let mut staff = platform.intake_as(&handler).await;
    for note in ["called the customer", "confirmed the process", "sent the summary"] {
        staff
            .record_contact(pb::RecordContactRequest { complaint_number: number.clone(), kind: pb::ContactKind::FirstContact as i32, note: note.into() })
            .await
            .expect("contact");
    }
    staff.get_complaint(pb::GetComplaintRequest { complaint_number: number.clone(), ..Default::default() }).await.expect("read");
    let mut investigation = platform.investigation_as(&handler).await;
    for (description, content) in [("statement page", &b"statement of 2026-10"[..]), ("call recording", &b"recording bytes"[..])] {
        investigation
            .register_evidence(pb::RegisterEvidenceRequest {
                complaint_number: number.clone(),
                kind: "document".into(),
                description: description.into(),
                content: content.to_vec(),
            })
            .await
            .expect("evidence");
    }

    // Only operators verify.
    let denied = platform.audit("intake", false).await.verify_audit(pb::VerifyAuditRequest {}).await.expect_err("not an operator");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);

    for service in SERVICES {
        let verdict = verdict(&platform, service).await;
        assert!(verdict.intact, "{service}: {verdict:?}");
        assert_eq!(verdict.service, service);
    }

    // Who, what, when and the payload's hash; reads are not commands.
    let store = platform.store("intake").await;
    let rows = sqlx::query("SELECT seq, actor, method, payload_sha256, hash FROM audit_log ORDER BY seq").fetch_all(&store).await.expect("trail");
    let entries: Vec<(i64, String, String, String)> = rows
        .iter()
        .map(|row| (row.get("seq"), row.get("actor"), row.get("method"), row.get("payload_sha256")))
        .collect();
    assert_eq!(entries.len(), 4, "{entries:?}");
    assert_eq!((entries[0].1.as_str(), entries[0].2.as_str()), ("channel:app", "/complaints.v1.Intake/SubmitComplaint"));
    for (seq, actor, method, payload) in &entries[1..] {
        assert_eq!((actor.as_str(), method.as_str()), (handler.as_str(), "/complaints.v1.Intake/RecordContact"), "entry {seq}");
        assert!(payload.len() == 64 && payload.chars().all(|c| c.is_ascii_hexdigit()), "{payload}");
    }
    assert_ne!(entries[1].3, entries[2].3, "different notes, different payload hashes");
    let intact = verdict(&platform, "intake").await;
    assert_eq!((intact.entries, intact.head_seq), (4, 4));
    assert_eq!(intact.head_hash, rows[3].get::<String, _>("hash"));

    // The head reaches the long-retention audit stream.
    let js = async_nats::jetstream::new(platform.nats.connect().await);
    let js = &js;
    wait_for("head of entry 4 published", WAIT, || async move {
        let heads = complaints_plumbing::audit::published_heads(js, "intake").await.ok()?;
        heads.contains_key(&4).then_some(())
    })
    .await;

    // The forger's entry: one whose own head did not happen to be published between the
    // commands (the head publisher ticks every second; a published head would name it first).
    let heads = complaints_plumbing::audit::published_heads(js, "intake").await.expect("heads");
    let target = (2..4).find(|seq| !heads.contains_key(seq)).expect("an entry without its own published head");
    let first_published_after = (target + 1..=4).find(|seq| heads.contains_key(seq)).expect("the head of entry 4");

    // Altered in the database: the entry is named.
    sqlx::query("UPDATE audit_log SET actor = 'RO-HEAD' WHERE seq = $1").bind(target).execute(&store).await.expect("tamper");
    let broken = verdict(&platform, "intake").await;
    assert!(!broken.intact);
    assert_eq!(i64::try_from(broken.first_broken_seq).ok(), Some(target), "{broken:?}");
    assert!(broken.problem.contains("does not match its hash"), "{}", broken.problem);

    // The forger recomputes that entry's own hash: the next entry no longer links to it.
    rehash(&store, target..=target).await;
    let relinked = verdict(&platform, "intake").await;
    assert_eq!(i64::try_from(relinked.first_broken_seq).ok(), Some(target + 1), "{relinked:?}");
    assert!(relinked.problem.contains("does not link"), "{}", relinked.problem);

    // The forger rewrites the chain to its end: every link recomputes, the published head does not.
    rehash(&store, target + 1..=4).await;
    let rewritten = verdict(&platform, "intake").await;
    assert_eq!(i64::try_from(rewritten.first_broken_seq).ok(), Some(first_published_after), "{rewritten:?}");
    assert!(rewritten.problem.contains("published to the audit stream"), "{}", rewritten.problem);

    // The forger drops the last entry too: the published head names what is missing.
    sqlx::query("DELETE FROM audit_log WHERE seq = 4").execute(&store).await.expect("truncate");
    let truncated = verdict(&platform, "intake").await;
    assert_eq!(truncated.first_broken_seq, 4, "{truncated:?}");
    assert!(truncated.problem.contains("entries from 4 on are missing"), "{}", truncated.problem);

    // Removed from the middle: the gap is named.
    sqlx::query("DELETE FROM audit_log WHERE seq = 2").execute(&store).await.expect("remove");
    let gap = verdict(&platform, "intake").await;
    assert_eq!(gap.first_broken_seq, 2, "{gap:?}");
    assert!(gap.problem.contains("entry 2 is missing"), "{}", gap.problem);

    evidence_chain(&mut platform, &number).await;

    // New commands still append (to the head as it stands) and other services are untouched.
    platform.intake().await.submit_complaint(sample_complaint("audit-2")).await.expect("submit");
    assert!(!verdict(&platform, "intake").await.intact);
    assert!(verdict(&platform, "routing").await.intact);
}

/// The evidence register is a chain too: items from before the chain are sealed at start;
/// altered content, and content and hash altered together, are each named.
async fn evidence_chain(platform: &mut Platform, number: &str) {
    let evidence = |verdict: &pb::AuditVerdict| verdict.chains.iter().find(|c| c.chain == "evidence").cloned().expect("evidence chain");
    let intact = verdict(platform, "investigation").await;
    assert!(intact.intact, "{intact:?}");
    assert_eq!(evidence(&intact).entries, 2);
    let store = platform.store("investigation").await;
    // As a store from before the chain: sealed once at the next start, the same hashes.
    let hashes = "SELECT chain_hash FROM evidence ORDER BY evidence_number";
    let before: Vec<String> = sqlx::query_scalar(hashes).fetch_all(&store).await.expect("hashes");
    sqlx::query("UPDATE evidence SET chain_hash = ''").execute(&store).await.expect("unchain");
    assert!(!verdict(platform, "investigation").await.intact);
    platform.service("investigation").restart();
    let resealed = verdict(platform, "investigation").await;
    assert!(resealed.intact, "{resealed:?}");
    assert_eq!(sqlx::query_scalar::<_, String>(hashes).fetch_all(&store).await.expect("hashes"), before);

    let forged = b"statement of 2026-11";
    sqlx::query("UPDATE evidence SET content = $1 WHERE evidence_number = 1")
        .bind(base64::Engine::encode(&base64::engine::general_purpose::STANDARD, forged))
        .execute(&store)
        .await
        .expect("tamper content");
    let broken = verdict(platform, "investigation").await;
    assert!(!broken.intact);
    assert_eq!(evidence(&broken).first_broken, format!("{number} evidence #1"), "{broken:?}");
    assert!(evidence(&broken).problem.contains("content does not match"), "{broken:?}");
    sqlx::query("UPDATE evidence SET sha256 = $1 WHERE evidence_number = 1")
        .bind(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(forged)))
        .execute(&store)
        .await
        .expect("tamper hash");
    let rehashed = verdict(platform, "investigation").await;
    assert_eq!(evidence(&rehashed).first_broken, format!("{number} evidence #1"), "{rehashed:?}");
    assert!(evidence(&rehashed).problem.contains("chain hash"), "{rehashed:?}");
}

/// Recomputes the hashes of the entries in `seqs` from their (altered) content, each linking to
/// the entry before it, as a forger with write access to the store would.
async fn rehash(store: &sqlx::AnyPool, seqs: std::ops::RangeInclusive<i64>) {
    for seq in seqs {
        let prev: String = sqlx::query_scalar("SELECT hash FROM audit_log WHERE seq = $1").bind(seq - 1).fetch_one(store).await.expect("prev");
        let row = sqlx::query("SELECT recorded_at_ms, actor, method, payload_sha256 FROM audit_log WHERE seq = $1").bind(seq).fetch_one(store).await.expect("row");
        let hash = complaints_plumbing::audit::entry_hash(&prev, seq, row.get("recorded_at_ms"), row.get("actor"), row.get("method"), row.get("payload_sha256"));
        sqlx::query("UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3").bind(&prev).bind(&hash).bind(seq).execute(store).await.expect("rehash");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_on_sqlite() {
    audit(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn audit_on_postgres() {
    audit(Backend::Postgres).await;
}
