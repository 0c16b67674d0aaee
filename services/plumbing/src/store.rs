//! Store connection and migrations. One store per service: a SQLite file (default, WAL) or a
//! PostgreSQL database, both reached through sqlx's `Any` driver with portable SQL (`$n`
//! placeholders, `ON CONFLICT`, `BIGINT` epoch milliseconds, `TEXT`).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions, AnyRow};
use sqlx::error::BoxDynError;
use sqlx::migrate::{MigrateDatabase, Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, ConnectOptions, Executor, Row};

use crate::error::{ErrorCode, ServiceError};

/// A transaction on a service store.
pub type Tx = sqlx::Transaction<'static, Any>;

/// One migration compiled into the binary: version, description, SQL (`include_str!`).
pub type EmbeddedMigration = (i64, &'static str, &'static str);

/// Migrations of the plumbing tables (outbox, inbox); versions below 100 are reserved for them.
const PLUMBING: &[EmbeddedMigration] = &[
    (1, "outbox inbox", include_str!("../migrations/0001_outbox_inbox.sql")),
    (2, "clocks", include_str!("../migrations/0002_clocks.sql")),
    (3, "audit", include_str!("../migrations/0003_audit.sql")),
    (4, "data keys", include_str!("../migrations/0004_data_keys.sql")),
];

/// Plumbing migrations written per engine: version, description, SQLite SQL, PostgreSQL SQL.
const PLUMBING_PER_BACKEND: &[(i64, &str, &str, &str)] = &[(
    5,
    "data keys compact",
    include_str!("../migrations/0005_data_keys_compact.sqlite.sql"),
    include_str!("../migrations/0005_data_keys_compact.postgres.sql"),
)];

/// Migrations embedded with `include_str!` (sqlx's `migrate!` would need its `macros`
/// feature, which rebuilds both database drivers inside the proc-macro graph).
#[derive(Debug)]
struct Embedded(Vec<EmbeddedMigration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move {
            Ok(self
                .0
                .into_iter()
                .map(|(version, description, sql)| {
                    Migration::new(version, Cow::Borrowed(description), MigrationType::Simple, Cow::Borrowed(sql), false)
                })
                .collect())
        })
    }
}

/// What a store call can fail with. Stores never return "changed concurrently" as `false` and
/// never read a corrupt column as a default.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A concurrent command changed the record first (a guarded update found it moved on, or a
    /// unique key was taken).
    #[error("a concurrent update changed this record; read it again and retry")]
    Conflict,
    /// A stored value cannot be read back: fail loudly rather than default.
    #[error("corrupt value in {table}.{column}: {detail}")]
    Corrupt { table: &'static str, column: &'static str, detail: String },
    #[error("store: {0}")]
    Database(sqlx::Error),
    /// A clock could not be computed: no rule for it in the rule pack, or a calendar missing.
    /// A configuration fault: retried, then dead-lettered until an operator fixes the files.
    #[error("clock: {0}")]
    Clock(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if error.as_database_error().is_some_and(|e| e.is_unique_violation()) {
            return Self::Conflict;
        }
        Self::Database(error)
    }
}

impl ServiceError for StoreError {
    fn code(&self) -> ErrorCode {
        match self {
            Self::Conflict => ErrorCode::Conflict,
            Self::Corrupt { .. } | Self::Clock(_) => ErrorCode::Internal,
            Self::Database(sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed) => ErrorCode::Unavailable,
            Self::Database(_) => ErrorCode::Internal,
        }
    }
}

/// Rows written by one multi-row statement at most. sqlx's SQLite driver looks each parameter
/// up by name, which grows with the square of the parameters in a statement: a few dozen rows a
/// statement is the sweet spot (thousands made the clock scheduler four times slower).
pub const ROWS_PER_STATEMENT: usize = 64;

/// The `VALUES` rows of a multi-row statement: `($first, …), (…)`, `rows` rows of `columns`
/// parameters each, numbered from `$first` on.
pub fn value_rows(rows: usize, columns: usize, first: usize) -> String {
    (0..rows)
        .map(|row| {
            let parameters: Vec<String> = (0..columns).map(|column| format!("${}", first + row * columns + column)).collect();
            format!("({})", parameters.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `Err(Conflict)` unless a guarded write changed exactly one row.
pub fn expect_one_row(result: &sqlx::any::AnyQueryResult) -> Result<(), StoreError> {
    if result.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict)
    }
}

/// Reads a JSON column; a value that does not parse is [`StoreError::Corrupt`].
pub fn json_column<T: serde::de::DeserializeOwned>(row: &AnyRow, table: &'static str, column: &'static str) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    serde_json::from_str(&text).map_err(|error| StoreError::Corrupt { table, column, detail: error.to_string() })
}

/// Reads a text column through `parse`; `None` from `parse` is [`StoreError::Corrupt`].
pub fn parsed_column<T>(row: &AnyRow, table: &'static str, column: &'static str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, StoreError> {
    let text: String = row.try_get(column)?;
    parse(&text).ok_or_else(|| StoreError::Corrupt { table, column, detail: format!("unknown value {text:?}") })
}

/// Serialises a value for a JSON column.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Database(sqlx::Error::Encode(Box::new(error))))
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database url (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("service migration version {0} is below 100, which the shared plumbing reserves")]
    ReservedVersion(i64),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the directory for {0}: {1}")]
    Directory(String, std::io::Error),
    #[error(transparent)]
    Roles(#[from] crate::roles::RoleError),
    #[error(
        "the store lacks migration {0} ({1}): run the migration step first (the service with migrate_only = true and the owner's settings)"
    )]
    NotMigrated(i64, String),
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self, OpenError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(OpenError::UnsupportedUrl(url.to_owned()))
        }
    }
}

/// Opens a service's store as its configuration says: with the password from its file, and,
/// when `database_owner_url` is set, migrated as the owner role, which then grants the
/// runtime role its rights ([`crate::roles`]); the pool returned works as the runtime role.
pub async fn open(config: &crate::config::CommonConfig, service_migrations: &[EmbeddedMigration]) -> Result<AnyPool, OpenError> {
    let backend = Backend::of_url(&config.database_url)?;
    let url = crate::roles::with_password(&config.database_url, config.database_password_file.as_deref())?;
    if !config.database_migrate {
        if config.database_owner_url.is_some() || config.migrate_only {
            return Err(OpenError::Roles(crate::roles::RoleError::Url(
                "database_migrate = false: the owner's settings and migrate_only belong to the migration step".into(),
            )));
        }
        sqlx::any::install_default_drivers();
        let pool = pool(backend, &url).await?;
        expect_migrated(&pool, backend, service_migrations).await?;
        return Ok(pool);
    }
    let Some(owner_url) = &config.database_owner_url else {
        return connect(&url, service_migrations).await;
    };
    if backend != Backend::Postgres || Backend::of_url(owner_url)? != Backend::Postgres {
        return Err(OpenError::Roles(crate::roles::RoleError::Url("database_owner_url applies to PostgreSQL only".into())));
    }
    let runtime = crate::roles::user_of(&url)?;
    let owner_url = crate::roles::with_password(owner_url, config.database_owner_password_file.as_deref())?;
    let owner = connect(&owner_url, service_migrations).await?;
    crate::roles::grant_runtime(&owner, &runtime).await?;
    owner.close().await;
    Ok(pool(Backend::Postgres, &url).await?)
}

/// Opens the store at `url`, creating the SQLite file or PostgreSQL database if missing, and
/// applies the plumbing migrations followed by `service_migrations` (versions ≥ 100).
///
/// SQLite runs in WAL mode with `synchronous=FULL` and a single connection, so a committed
/// transaction survives a `kill -9` and writers never deadlock.
pub async fn connect(url: &str, service_migrations: &[EmbeddedMigration]) -> Result<AnyPool, OpenError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    let url = match backend {
        Backend::Sqlite => sqlite_url_with_create(url)?,
        Backend::Postgres => url.to_owned(),
    };
    if backend == Backend::Postgres && !Any::database_exists(&url).await? {
        // Two replicas may race here; losing the race is fine.
        if let Err(error) = Any::create_database(&url).await {
            if !Any::database_exists(&url).await? {
                return Err(error.into());
            }
        }
    }
    let pool = pool(backend, &url).await?;
    migrate(&pool, backend, service_migrations).await?;
    Ok(pool)
}

async fn pool(backend: Backend, url: &str) -> Result<AnyPool, sqlx::Error> {
    let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
    Ok(match backend {
        Backend::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(1)
                // A file has no connection to lose: skip the ping sqlx sends before every use.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        connection.execute("PRAGMA journal_mode=WAL").await?;
                        connection.execute("PRAGMA synchronous=FULL").await?;
                        connection.execute("PRAGMA busy_timeout=10000").await?;
                        connection.execute("PRAGMA foreign_keys=ON").await?;
                        Ok(())
                    })
                })
                .connect_with(options)
                .await?
        }
        Backend::Postgres => {
            AnyPoolOptions::new()
                .max_connections(8)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(options)
                .await?
        }
    })
}

/// Every migration of a service's store on `backend`, plumbing's first.
fn all_migrations(backend: Backend, service_migrations: &[EmbeddedMigration]) -> Result<Vec<EmbeddedMigration>, OpenError> {
    if let Some((low, _, _)) = service_migrations.iter().find(|(version, _, _)| *version < 100) {
        return Err(OpenError::ReservedVersion(*low));
    }
    let per_backend = PLUMBING_PER_BACKEND.iter().map(|&(version, description, sqlite, postgres)| {
        (version, description, if backend == Backend::Sqlite { sqlite } else { postgres })
    });
    Ok(PLUMBING.iter().copied().chain(per_backend).chain(service_migrations.iter().copied()).collect())
}

/// Refuses a store whose schema lacks a migration this build has (the migration step has not
/// run, or ran an older build).
async fn expect_migrated(pool: &AnyPool, backend: Backend, service_migrations: &[EmbeddedMigration]) -> Result<(), OpenError> {
    let rows = match sqlx::query("SELECT version FROM _sqlx_migrations WHERE success").fetch_all(pool).await {
        Ok(rows) => rows,
        // No history at all: nothing was ever migrated.
        Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P01") || error.message().contains("no such table") => Vec::new(),
        Err(error) => return Err(error.into()),
    };
    let applied: Vec<i64> = rows.iter().map(|row| row.try_get(0)).collect::<Result<_, _>>()?;
    match all_migrations(backend, service_migrations)?.into_iter().find(|(version, _, _)| !applied.contains(version)) {
        None => Ok(()),
        Some((version, description, _)) => Err(OpenError::NotMigrated(version, description.to_owned())),
    }
}

async fn migrate(pool: &AnyPool, backend: Backend, service_migrations: &[EmbeddedMigration]) -> Result<(), OpenError> {
    let all = all_migrations(backend, service_migrations)?;
    Migrator::new(Embedded(all)).await?.run(pool).await?;
    Ok(())
}

/// Adds `mode=rwc` to a SQLite URL and creates its parent directory.
fn sqlite_url_with_create(url: &str) -> Result<String, OpenError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if path != ":memory:" && !path.is_empty() {
        if let Some(parent) = std::path::Path::new(path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| OpenError::Directory(path.to_owned(), e))?;
            }
        }
    }
    if url.contains("mode=") {
        Ok(url.to_owned())
    } else if url.contains('?') {
        Ok(format!("{url}&mode=rwc"))
    } else {
        Ok(format!("{url}?mode=rwc"))
    }
}
