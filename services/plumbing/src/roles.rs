//! Least privilege on PostgreSQL. Each service has its own database and two roles:
//!
//! - the **owner** (`<prefix>_<service>_owner`) owns the database and its schema; the service
//!   connects as it only at start, to apply its migrations and to grant the runtime role what
//!   it may do;
//! - the **runtime** role (`<prefix>_<service>`) is what the service works as: it may read and
//!   write the rows of its own tables, may not change the schema, may not connect to another
//!   service's database, and may only append to and read the audit log (no `UPDATE`,
//!   `DELETE` or `TRUNCATE` on `audit_log`).
//!
//! `complaintctl db provision` creates both roles and the database as an administrator,
//! with generated passwords written to secret files; each service reads its passwords from
//! `database_password_file` and `database_owner_password_file`, never from a URL in a
//! configuration file. On SQLite (one file per service, owned by the service's OS user) the
//! roles do not apply.

use std::path::Path;

use sqlx::{AnyConnection, AnyPool, Connection, Row};

/// The database and roles of one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRoles {
    pub database: String,
    pub owner: String,
    pub runtime: String,
}

impl ServiceRoles {
    /// `<prefix>_<service>` for the database and the runtime role, `…_owner` for the owner.
    pub fn named(prefix: &str, service: &str) -> Self {
        let base = format!("{prefix}_{service}");
        Self { database: base.clone(), owner: format!("{base}_owner"), runtime: base }
    }
}

/// Errors of provisioning and of opening a store as two roles.
#[derive(Debug, thiserror::Error)]
pub enum RoleError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error("{0}")]
    Url(String),
    #[error("cannot read the password file {path}: {error}")]
    PasswordFile { path: String, error: std::io::Error },
}

/// `name` quoted as a PostgreSQL identifier.
fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `value` quoted as a PostgreSQL string literal (role passwords cannot be bound parameters).
fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// `url` with the password read from `password_file` (trimmed), if one is given.
pub fn with_password(url: &str, password_file: Option<&Path>) -> Result<String, RoleError> {
    let Some(path) = password_file else { return Ok(url.to_owned()) };
    let password = std::fs::read_to_string(path)
        .map_err(|error| RoleError::PasswordFile { path: path.display().to_string(), error })?;
    let mut parsed = url::Url::parse(url).map_err(|e| RoleError::Url(format!("the database URL does not parse: {e}")))?;
    parsed
        .set_password(Some(password.trim()))
        .map_err(|()| RoleError::Url("the database URL cannot carry a password".into()))?;
    Ok(parsed.into())
}

/// The role a PostgreSQL URL logs in as.
pub fn user_of(url: &str) -> Result<String, RoleError> {
    let parsed = url::Url::parse(url).map_err(|e| RoleError::Url(format!("the database URL does not parse: {e}")))?;
    let user = percent_decode(parsed.username());
    if user.is_empty() {
        return Err(RoleError::Url("the runtime database URL names no user (postgres://<role>@host/database)".into()));
    }
    Ok(user)
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// `url` (of any database of the cluster) pointed at `database`.
fn on_database(url: &str, database: &str) -> Result<String, RoleError> {
    let mut parsed = url::Url::parse(url).map_err(|e| RoleError::Url(format!("the administrator URL does not parse: {e}")))?;
    parsed.set_path(&format!("/{database}"));
    Ok(parsed.into())
}

async fn role_exists(connection: &mut AnyConnection, role: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT COUNT(*) AS n FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_one(&mut *connection)
        .await?
        .try_get::<i64, _>("n")?
        > 0)
}

/// A connection that never logs its statements: `CREATE ROLE … PASSWORD` must not reach a log.
async fn quiet_connection(url: &str) -> Result<AnyConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    let options: sqlx::any::AnyConnectOptions = url.parse()?;
    options.disable_statement_logging().connect().await
}

/// Creates the roles (or sets their passwords) and the database of one service, as the
/// administrator at `admin_url`. Running it again changes only the passwords.
pub async fn provision(admin_url: &str, roles: &ServiceRoles, owner_password: &str, runtime_password: &str) -> Result<(), RoleError> {
    sqlx::any::install_default_drivers();
    let mut admin = quiet_connection(admin_url).await?;
    for (role, password) in [(&roles.owner, owner_password), (&roles.runtime, runtime_password)] {
        let verb = if role_exists(&mut admin, role).await? { "ALTER" } else { "CREATE" };
        // NOINHERIT and no other membership: the runtime role has only what is granted to it.
        let sql = format!("{verb} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD {}", ident(role), literal(password));
        sqlx::query(&sql).execute(&mut admin).await?;
    }
    let exists: i64 = sqlx::query("SELECT COUNT(*) AS n FROM pg_database WHERE datname = $1")
        .bind(&roles.database)
        .fetch_one(&mut admin)
        .await?
        .try_get("n")?;
    if exists == 0 {
        sqlx::query(&format!("CREATE DATABASE {} OWNER {}", ident(&roles.database), ident(&roles.owner))).execute(&mut admin).await?;
    }
    for sql in [
        format!("ALTER DATABASE {} OWNER TO {}", ident(&roles.database), ident(&roles.owner)),
        format!("REVOKE ALL ON DATABASE {} FROM PUBLIC", ident(&roles.database)),
        format!("GRANT CONNECT ON DATABASE {} TO {}", ident(&roles.database), ident(&roles.runtime)),
    ] {
        sqlx::query(&sql).execute(&mut admin).await?;
    }
    admin.close().await?;
    let mut database = quiet_connection(&on_database(admin_url, &roles.database)?).await?;
    for sql in [
        format!("ALTER SCHEMA public OWNER TO {}", ident(&roles.owner)),
        "REVOKE ALL ON SCHEMA public FROM PUBLIC".to_owned(),
        format!("GRANT USAGE ON SCHEMA public TO {}", ident(&roles.runtime)),
    ] {
        sqlx::query(&sql).execute(&mut database).await?;
    }
    database.close().await?;
    Ok(())
}

/// The password in `path`, generated there first (32 random bytes, hex; readable by the owner
/// only) when the file is missing.
pub fn ensure_password(path: &Path) -> anyhow::Result<String> {
    if !path.exists() {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut secret = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut secret);
        crate::write_private(path, &hex::encode(secret))?;
    }
    Ok(std::fs::read_to_string(path)?.trim().to_owned())
}

/// The password files of `service` in `directory`: `(owner, runtime)`.
pub fn password_files(directory: &Path, service: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    (directory.join(format!("{service}-owner.password")), directory.join(format!("{service}.password")))
}

/// Tables the runtime role may only read and append to.
pub const APPEND_ONLY: &[&str] = &["audit_log"];

/// As the owner, after migrating: grants `runtime` the rows of every table, except that
/// [`APPEND_ONLY`] tables are never updated, deleted or truncated and the migration
/// history is only read. Applied at every start, so a table a migration
/// adds is covered.
pub async fn grant_runtime(owner: &AnyPool, runtime: &str) -> Result<(), sqlx::Error> {
    let role = ident(runtime);
    let mut statements = vec![
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}"),
        // The history is read (a service that does not migrate checks the schema is current)
        // but never written.
        format!("REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON _sqlx_migrations FROM {role}"),
    ];
    statements.extend(APPEND_ONLY.iter().map(|table| format!("REVOKE UPDATE, DELETE, TRUNCATE ON {} FROM {role}", ident(table))));
    let mut tx = owner.begin().await?;
    // Replicas starting together would otherwise race on the catalogue rows of the grants
    // ("tuple concurrently updated"): one grants at a time.
    sqlx::query("SELECT pg_advisory_xact_lock(7215004711)").execute(&mut *tx).await?;
    for sql in statements {
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_quotes_and_urls() {
        let roles = ServiceRoles::named("cms", "intake");
        assert_eq!((roles.database.as_str(), roles.owner.as_str(), roles.runtime.as_str()), ("cms_intake", "cms_intake_owner", "cms_intake"));
        assert_eq!(ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(user_of("postgres://cms_intake@db:5432/cms_intake").expect("user"), "cms_intake");
        assert!(user_of("postgres://db/cms").is_err());
        assert_eq!(on_database("postgres://postgres@h:5432/postgres?sslmode=require", "x").expect("url"), "postgres://postgres@h:5432/x?sslmode=require");
    }

    #[test]
    fn password_from_a_file() {
        let directory = tempfile::tempdir().expect("dir");
        let file = directory.path().join("pw");
        std::fs::write(&file, "p@ss:/word\n").expect("write");
        let url = with_password("postgres://cms_intake@db:5432/cms_intake?sslmode=verify-full", Some(&file)).expect("url");
        assert_eq!(url, "postgres://cms_intake:p%40ss%3A%2Fword@db:5432/cms_intake?sslmode=verify-full");
        assert_eq!(with_password("sqlite://x.db", None).expect("unchanged"), "sqlite://x.db");
        let missing = with_password("postgres://a@b/c", Some(&directory.path().join("none"))).expect_err("missing");
        assert!(missing.to_string().contains("none"), "{missing}");
    }
}
