//! Nothing clear at rest or on the broker, on SQLite and PostgreSQL: after complaints are
//! submitted and worked (triaged, assigned, evidence registered, resolved, the customer told),
//! the customer's ID number, phone, e-mail and account number appear in no store file or
//! journal, no JetStream store file and no service log; on PostgreSQL in no text column of
//! any service's database. The views still show them masked, opened from the sealed store.
//! The scanner itself finds a value where one is (the gateway's copy), so a pass means absence.

use complaints_plumbing::privacy::scan;
use complaints_plumbing::store::Backend;
use complaints_proto::v1 as pb;
use sqlx::Row;
use system_tests::{complaint, customer_id, delivered, handler_of, resolve, sample_complaint, submit, timeline_line, wait_for, Platform, SERVICES, WAIT};

const PHONE: &str = "13698765432";
const EMAIL: &str = "wang.wu.privacy@example.com";
const ACCOUNT: &str = "6222998877665544332";

async fn nothing_clear(backend: Backend) {
    let platform = Platform::start(backend).await;
    let id_number = customer_id(777_777_777);
    let mut request = sample_complaint("privacy-1");
    request.customer = Some(pb::Customer {
        name: "Wang Wu".into(),
        id_type: pb::IdDocumentType::IdCard as i32,
        id_number: id_number.clone(),
        phone: PHONE.into(),
        email: EMAIL.into(),
        address: "9 Privacy Lane, Beijing".into(),
        account_number: ACCOUNT.into(),
        preferred_channel: pb::Channel::Sms as i32,
    });
    let number = submit(&platform, request).await;
    let handler = resolve(&platform, &number).await;
    let mut investigation = platform.investigation_as(&handler).await;
    // Evidence holding the account number: sealed at rest like the rest.
    let _ = investigation
        .register_evidence(pb::RegisterEvidenceRequest {
            complaint_number: number.clone(),
            kind: "statement".into(),
            description: "card statement".into(),
            content: format!("Statement of account {ACCOUNT} for {PHONE}").into_bytes(),
        })
        .await;
    let result = delivered(&platform, "the result at the gateway", |message| {
        message.body["complaint_number"] == number.as_str() && message.body["kind"] == "result"
    })
    .await;
    assert_eq!(result.body["recipient"], PHONE, "the gateway, and only the gateway, gets the phone in clear");
    platform.wait_idle(WAIT).await;

    // The views still work: opened from the sealed store, shown masked.
    let view = complaint(&platform, &number).await;
    assert_eq!(view.phone_masked, "136****5432");
    assert!(view.account_number_masked.ends_with("4332") && !view.account_number_masked.contains("62229988"), "{}", view.account_number_masked);
    assert_eq!(view.id_number_masked, complaints_domain::masking::id_number(&id_number));

    let values = [("id_number", id_number.as_str()), ("phone", PHONE), ("email", EMAIL), ("account_number", ACCOUNT)];
    // The scanner finds what is there: the gateway's copy, written out.
    let control = platform.stores.path("control");
    std::fs::create_dir_all(&control).expect("control directory");
    std::fs::write(control.join("gateway.json"), result.body.to_string()).expect("control file");
    let found = scan(&[&control], &values).expect("scan");
    assert_eq!(found.findings.len(), 1, "{found:?}");
    std::fs::remove_dir_all(&control).expect("remove the control");

    // Stores (with their WAL journals), service logs and the JetStream store.
    let stores = platform.stores.directory().to_path_buf();
    let found = scan(&[&stores, platform.nats.store_dir()], &values).expect("scan");
    assert!(found.files >= 10, "the scan read the stores and the JetStream store: {found:?}");
    let events = scan(&[platform.nats.store_dir()], &[("complaint number", number.as_str())]).expect("scan");
    assert!(!events.findings.is_empty(), "the JetStream store scanned holds the complaint's events");
    assert!(found.findings.is_empty(), "personal data in clear: {:?}", found.findings);

    if backend == Backend::Postgres {
        for service in SERVICES {
            let pool = platform.store(service).await;
            let columns = sqlx::query(
                "SELECT table_name::text, column_name::text FROM information_schema.columns \
                 WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')",
            )
            .fetch_all(&pool)
            .await
            .expect("columns");
            assert!(!columns.is_empty(), "{service} has text columns");
            for column in columns {
                let (table, name): (String, String) = (column.get(0), column.get(1));
                for (label, value) in values {
                    let hits: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM \"{table}\" WHERE \"{name}\" LIKE $1"))
                        .bind(format!("%{value}%"))
                        .fetch_one(&pool)
                        .await
                        .expect("search");
                    assert_eq!(hits, 0, "{label} in clear in {service}.{table}.{name}");
                }
            }
            pool.close().await;
        }
    }
}

/// Erasure by crypto-shredding: refused to anyone but head office risk & legal, while the
/// record retention runs and while a legal hold stands; then the customer's data read as
/// erased everywhere (intake's view, notification's deliveries, search by ID number finds
/// nothing), another customer's stay readable, and every audit chain still verifies.
async fn erasure(backend: Backend) {
    let platform = Platform::start(backend).await;
    let erased = sample_complaint("erase-1");
    let id_number = erased.customer.as_ref().map(|c| c.id_number.clone()).unwrap_or_default();
    let number = submit(&platform, erased).await;
    let kept = submit(&platform, sample_complaint("erase-2")).await;
    let handler = handler_of(&platform, &number).await;
    platform
        .investigation_as(&handler)
        .await
        .register_evidence(pb::RegisterEvidenceRequest {
            complaint_number: number.clone(),
            kind: "statement".into(),
            description: "card statement".into(),
            content: format!("Statement of account {ACCOUNT}").into_bytes(),
        })
        .await
        .expect("evidence");
    let mut intake = platform.intake().await;
    intake
        .withdraw_complaint(pb::WithdrawComplaintRequest { complaint_number: number.clone(), reason: "settled at the branch".into() })
        .await
        .expect("withdraw");
    delivered(&platform, "the withdrawal notice", |m| m.body["complaint_number"] == number.as_str() && m.body["kind"] == "withdrawal").await;
    platform.wait_idle(WAIT).await;

    let erase = || pb::EraseCustomerRequest { id_number: id_number.clone(), reason: "the customer's request".into() };
    let denied = platform.intake_as("CS-HEAD").await.erase_customer(erase()).await.expect_err("not legal");
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    let mut legal = platform.intake_as("HO-RISK").await;
    let early = legal.erase_customer(erase()).await.expect_err("within the retention");
    assert_eq!(early.code(), tonic::Code::FailedPrecondition, "{early:?}");
    assert!(early.message().contains("kept until"), "{}", early.message());
    let hold = |on: bool| pb::SetLegalHoldRequest { complaint_number: number.clone(), hold: on, reason: "litigation 2027-17".into() };
    let view = legal.set_legal_hold(hold(true)).await.expect("hold").into_inner();
    assert!(view.legal_hold.contains("litigation 2027-17"), "{view:?}");
    // Three years and a bit later: the hold still keeps the data.
    platform.shift_time(1100 * 24 * 3600 * 1000);
    // The services re-read the test clock's offset after at most 100 ms.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let held = legal.erase_customer(erase()).await.expect_err("under legal hold");
    assert!(held.code() == tonic::Code::FailedPrecondition && held.message().contains("legal hold"), "{held:?}");
    legal.set_legal_hold(hold(false)).await.expect("lift");
    let done = legal.erase_customer(erase()).await.expect("erased").into_inner();
    assert_eq!(done.complaint_numbers, std::slice::from_ref(&number));
    assert_eq!(legal.erase_customer(erase()).await.expect_err("nothing left").code(), tonic::Code::NotFound);

    let view = complaint(&platform, &number).await;
    assert!(view.erased && view.phone_masked == "[erased]" && view.id_number_masked == "[erased]", "{view:?}");
    assert_eq!(view.status, "withdrawn", "the record stays");
    assert_ne!(complaint(&platform, &kept).await.phone_masked, "[erased]", "another customer's data stay");
    platform.wait_idle(WAIT).await;
    let deliveries = platform
        .notification()
        .await
        .list_deliveries(pb::ListDeliveriesRequest { complaint_id: number.clone() })
        .await
        .expect("deliveries")
        .into_inner()
        .deliveries;
    assert!(!deliveries.is_empty() && deliveries.iter().all(|d| d.recipient_masked == "[erased]"), "{deliveries:?}");
    let found = platform
        .analytics()
        .await
        .search_complaints(pb::SearchComplaintsRequest { customer_id_number: id_number.clone(), ..Default::default() })
        .await
        .expect("search")
        .into_inner()
        .items;
    assert!(found.is_empty(), "search by ID number finds nothing: {found:?}");
    for service in SERVICES {
        let verdict = platform.audit(service, true).await.verify_audit(pb::VerifyAuditRequest {}).await.expect("verify").into_inner();
        assert!(verdict.intact, "{service}: {verdict:?}");
    }
    let shredded = platform.count("investigation", "SELECT COUNT(*) FROM data_keys WHERE shredded_at_ms IS NOT NULL").await;
    assert_eq!(shredded, 1, "the case's evidence key destroyed");
}

/// Erasure at the end of the retention, by intake's sweep: a closed customer's data are erased
/// once their complaint has outlived the retention, a held one's and an open one's are kept,
/// and the erasure is told on the timeline as the retention's.
async fn erasure_at_end_of_retention(backend: Backend) {
    let platform = Platform::start_with(backend, &[("CMS_ERASE_AFTER_RETENTION", "true"), ("CMS_ERASURE_SWEEP_SECS", "1")]).await;
    let intake = platform.intake().await;
    let mut closed = Vec::new();
    for key in ["retention-1", "retention-2"] {
        let number = submit(&platform, sample_complaint(key)).await;
        handler_of(&platform, &number).await;
        // The pipeline may still be moving the complaint on: ABORTED asks the caller to retry.
        let request = pb::WithdrawComplaintRequest { complaint_number: number.clone(), reason: "settled at the branch".into() };
        wait_for("the withdrawal", WAIT, || {
            let (mut intake, request) = (intake.clone(), request.clone());
            async move {
                match intake.withdraw_complaint(request).await {
                    Ok(_) => Some(()),
                    Err(status) if status.code() == tonic::Code::Aborted => None,
                    Err(status) => panic!("withdraw: {status:?}"),
                }
            }
        })
        .await;
        closed.push(number);
    }
    let [expired, held] = <[String; 2]>::try_from(closed).expect("two");
    let open = submit(&platform, sample_complaint("retention-3")).await;
    let hold = pb::SetLegalHoldRequest { complaint_number: held.clone(), hold: true, reason: "litigation 2027-18".into() };
    platform.intake_as("HO-RISK").await.set_legal_hold(hold).await.expect("hold");
    platform.wait_idle(WAIT).await;
    // A year on, nothing is erased yet.
    platform.shift_time(365 * 24 * 3600 * 1000);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(!complaint(&platform, &expired).await.erased, "within the retention");

    platform.shift_time(1100 * 24 * 3600 * 1000);
    wait_for("the sweep erases the customer past the retention", WAIT, || async {
        complaint(&platform, &expired).await.erased.then_some(())
    })
    .await;
    // Another sweep passes; the held and the open customer are kept.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert!(!complaint(&platform, &held).await.erased, "under legal hold");
    assert!(!complaint(&platform, &open).await.erased, "still open");
    assert_eq!(complaint(&platform, &expired).await.phone_masked, "[erased]");
    let (_, actor, _) = timeline_line(&platform, &expired, "customer_erased", "retention").await;
    assert_eq!(actor, "system:retention");
    platform.wait_idle(WAIT).await;
    for service in SERVICES {
        let verdict = platform.audit(service, true).await.verify_audit(pb::VerifyAuditRequest {}).await.expect("verify").into_inner();
        assert!(verdict.intact, "{service}: {verdict:?}");
    }
}

#[tokio::test]
async fn erasure_at_end_of_retention_on_sqlite() {
    erasure_at_end_of_retention(Backend::Sqlite).await;
}

#[tokio::test]
async fn erasure_at_end_of_retention_on_postgres() {
    erasure_at_end_of_retention(Backend::Postgres).await;
}

#[tokio::test]
async fn erasure_on_sqlite() {
    erasure(Backend::Sqlite).await;
}

#[tokio::test]
async fn erasure_on_postgres() {
    erasure(Backend::Postgres).await;
}

#[tokio::test]
async fn nothing_clear_on_sqlite() {
    nothing_clear(Backend::Sqlite).await;
}

#[tokio::test]
async fn nothing_clear_on_postgres() {
    nothing_clear(Backend::Postgres).await;
}
