//! Store connection and migrations. One store per service: a SQLite file (default, WAL) or a
//! PostgreSQL database, both reached through sqlx's `Any` driver with portable SQL (`$n`
//! placeholders, `ON CONFLICT`, `BIGINT` epoch milliseconds, `TEXT`).

use std::borrow::Cow;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::{MigrateDatabase, Migrator};
use sqlx::{Any, AnyPool, ConnectOptions, Executor};

/// A transaction on a service store.
pub type Tx = sqlx::Transaction<'static, Any>;

/// Migrations of the plumbing tables (outbox, inbox); versions below 100 are reserved for them.
static PLUMBING: Migrator = sqlx::migrate!("./migrations");

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
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
}

/// Which engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }
}

/// Opens the store at `url`, creating the SQLite file or PostgreSQL database if missing, and
/// applies the plumbing migrations followed by `service_migrations` (versions ≥ 100).
///
/// SQLite runs in WAL mode with `synchronous=FULL` and a single connection, so a committed
/// transaction survives a `kill -9` and writers never deadlock.
pub async fn connect(url: &str, service_migrations: &Migrator) -> Result<AnyPool, StoreError> {
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
    let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
    let pool = match backend {
        Backend::Sqlite => {
            AnyPoolOptions::new()
                .max_connections(1)
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
    };
    migrate(&pool, service_migrations).await?;
    Ok(pool)
}

async fn migrate(pool: &AnyPool, service_migrations: &Migrator) -> Result<(), StoreError> {
    if let Some(low) = service_migrations.iter().find(|m| m.version < 100) {
        return Err(StoreError::ReservedVersion(low.version));
    }
    let mut all: Vec<_> = PLUMBING.iter().cloned().collect();
    all.extend(service_migrations.iter().cloned());
    let combined = Migrator {
        migrations: Cow::Owned(all),
        ..Migrator::DEFAULT
    };
    combined.run(pool).await?;
    Ok(())
}

/// Adds `mode=rwc` to a SQLite URL and creates its parent directory.
fn sqlite_url_with_create(url: &str) -> Result<String, StoreError> {
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
                    .map_err(|e| StoreError::Directory(path.to_owned(), e))?;
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
