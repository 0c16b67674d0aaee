//! Least privilege on PostgreSQL (SQLite has no roles): two services provisioned with an
//! owner and a runtime role each, passwords from files, the store migrated as the owner and
//! worked as the runtime role over TLS. The runtime role appends to and reads the audit log
//! but cannot alter, delete or truncate it, cannot change the schema, cannot read the
//! migration history and cannot connect to the other service's database.

use complaints_plumbing::config::CommonConfig;
use complaints_plumbing::roles::{provision, ServiceRoles};
use complaints_plumbing::service::{Migrated, Service};
use tokio_util::sync::CancellationToken;
use complaints_plumbing::testing::postgres_base_url;
use sqlx::{AnyConnection, Connection, Row};

/// The test server's URL as `user` on `database`, with `query`.
fn url_as(user: &str, database: &str, query: &str) -> String {
    let mut url = url::Url::parse(&postgres_base_url()).expect("CMS_TEST_POSTGRES_URL");
    url.set_username(user).expect("user");
    url.set_password(None).expect("no password");
    url.set_path(&format!("/{database}"));
    url.set_query((!query.is_empty()).then_some(query));
    url.into()
}

fn denied(result: Result<sqlx::any::AnyQueryResult, sqlx::Error>, what: &str) {
    let error = result.expect_err(what);
    let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
    assert_eq!(code.as_deref(), Some("42501"), "{what}: insufficient_privilege expected, got {error}");
}

#[tokio::test]
async fn runtime_role_has_only_what_it_needs() {
    sqlx::any::install_default_drivers();
    let run = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
    let prefix = format!("cms_roles_{run}");
    let admin = url_as(url::Url::parse(&postgres_base_url()).expect("url").username(), "postgres", "");
    let secrets = tempfile::tempdir().expect("secrets directory");
    let mut configs = Vec::new();
    for service in ["intake", "routing"] {
        let roles = ServiceRoles::named(&prefix, service);
        let (owner_password, runtime_password) = (uuid::Uuid::new_v4().simple().to_string(), uuid::Uuid::new_v4().simple().to_string());
        provision(&admin, &roles, &owner_password, &runtime_password).await.expect("provision");
        // Provisioning again only sets the passwords.
        provision(&admin, &roles, &owner_password, &runtime_password).await.expect("provision again");
        let owner_file = secrets.path().join(format!("{service}-owner.password"));
        let runtime_file = secrets.path().join(format!("{service}.password"));
        std::fs::write(&owner_file, format!("{owner_password}\n")).expect("write");
        std::fs::write(&runtime_file, &runtime_password).expect("write");
        let mut config = CommonConfig::defaults_for(service);
        config.database_url = url_as(&roles.runtime, &roles.database, "sslmode=require");
        config.database_password_file = Some(runtime_file);
        config.database_owner_url = Some(url_as(&roles.owner, &roles.database, "sslmode=require"));
        config.database_owner_password_file = Some(owner_file);
        configs.push((roles, config));
    }
    let (intake, intake_config) = &configs[0];
    let (routing, _) = &configs[1];

    // The deployment's migration step alone holds the owner's password; the service itself
    // runs with the runtime role only and refuses a schema the step has not migrated.
    let mut runtime_only = intake_config.clone();
    (runtime_only.database_owner_url, runtime_only.database_owner_password_file, runtime_only.database_migrate) = (None, None, false);
    let early = complaints_plumbing::store::open(&runtime_only, &[]).await.expect_err("not migrated yet");
    assert!(early.to_string().contains("migration step"), "{early}");
    let step = CommonConfig { migrate_only: true, ..intake_config.clone() };
    let done = Service::start("intake", &step, &[], CancellationToken::new()).await.err().expect("migrate_only ends the start");
    assert!(done.is::<Migrated>(), "{done}");
    let pool = complaints_plumbing::store::open(&runtime_only, &[]).await.expect("the runtime role alone, on a migrated schema");
    let row = sqlx::query("SELECT CAST(current_user AS TEXT) AS who, (SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS tls")
        .fetch_one(&pool)
        .await
        .expect("who");
    assert_eq!(row.try_get::<String, _>("who").expect("who"), intake.runtime, "the service works as its runtime role");
    assert!(row.try_get::<bool, _>("tls").expect("tls"), "sslmode=require: the connection is encrypted");

    let entry = complaints_plumbing::audit::append(&pool, "intake", "CS-HEAD", "/cms.v1.Intake/SubmitComplaint", &"0".repeat(64))
        .await
        .expect("the runtime role appends to the audit log");
    let read: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log").fetch_one(&pool).await.expect("read").try_get("n").expect("n");
    assert_eq!(read, 1);
    denied(sqlx::query("UPDATE audit_log SET actor = 'someone else' WHERE seq = $1").bind(entry.seq).execute(&pool).await, "update audit_log");
    denied(sqlx::query("DELETE FROM audit_log").execute(&pool).await, "delete from audit_log");
    denied(sqlx::query("TRUNCATE audit_log").execute(&pool).await, "truncate audit_log");
    denied(sqlx::query("CREATE TABLE smuggled (x TEXT)").execute(&pool).await, "create a table");
    denied(sqlx::query("ALTER TABLE outbox ADD COLUMN smuggled TEXT").execute(&pool).await, "alter a table");
    denied(sqlx::query("DELETE FROM _sqlx_migrations").execute(&pool).await, "rewrite the migration history");
    // Its ordinary tables are its own to work.
    sqlx::query("DELETE FROM inbox WHERE consumer = 'nobody'").execute(&pool).await.expect("the runtime role works its tables");

    let runtime_password = std::fs::read_to_string(intake_config.database_password_file.as_ref().expect("file")).expect("read");
    let mut other = url::Url::parse(&url_as(&intake.runtime, &routing.database, "")).expect("url");
    other.set_password(Some(&runtime_password)).expect("password");
    let refused = AnyConnection::connect(other.as_str()).await.expect_err("intake's role cannot reach routing's database");
    assert!(refused.to_string().contains("permission denied"), "{refused}");
    // (Whether a wrong password is refused is the server's pg_hba policy; the test server trusts
    // loopback, so passwords are carried here but not checked.)

    // Migrating at start as the owner (database_owner_url in the service) works too; a
    // restart applies the grants again.
    pool.close().await;
    let again = complaints_plumbing::store::open(intake_config, &[]).await.expect("reopen");
    denied(sqlx::query("DELETE FROM audit_log").execute(&again).await, "delete after a restart");
    again.close().await;

    let mut cleanup = AnyConnection::connect(&admin).await.expect("admin");
    for (roles, _) in &configs {
        for sql in [
            format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", roles.database),
            format!("DROP ROLE IF EXISTS \"{}\"", roles.runtime),
            format!("DROP ROLE IF EXISTS \"{}\"", roles.owner),
        ] {
            sqlx::query(&sql).execute(&mut cleanup).await.expect("clean up");
        }
    }
}

#[test]
fn owner_url_is_for_postgres_only() {
    let mut config = CommonConfig::defaults_for("intake");
    config.database_url = "sqlite::memory:".into();
    config.database_owner_url = Some("postgres://owner@127.0.0.1/x".into());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let error = runtime.block_on(complaints_plumbing::store::open(&config, &[])).expect_err("refused");
    assert!(error.to_string().contains("PostgreSQL only"), "{error}");
}
