//! `complaintctl`: run the platform locally (`up`) and drive complaints through it by hand.

mod casework;
mod deadline;
mod identity;
mod local;
mod model;

use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use complaints_proto::v1 as pb;
use complaints_proto::v1::{
    analytics_client::AnalyticsClient, audit_client::AuditClient, approval_client::ApprovalClient, intake_client::IntakeClient,
    investigation_client::InvestigationClient, notification_client::NotificationClient,
};
use complaints_domain::Channel;
use serde::Deserialize;

#[derive(Parser)]
#[command(name = "complaintctl", version, about = "Run and drive the complaint-handling platform")]
struct Cli {
    /// Base address of the services; each uses its standard port on this host.
    #[arg(long, global = true, env = "COMPLAINTCTL_HOST", default_value = "127.0.0.1")]
    host: String,
    /// The platform's data directory (stores, logs, the development signing key).
    #[arg(long, global = true, env = "COMPLAINTCTL_DATA_DIR", default_value = ".data")]
    data_dir: PathBuf,
    /// Act as this staff id (or `channel:<name>`, `system:<name>`) with a development token
    /// signed by the key `complaintctl up` generated.
    #[arg(long = "as", global = true, value_name = "ID")]
    acting_as: Option<String>,
    /// A bearer token issued by the institution's identity provider (wins over --as).
    #[arg(long, global = true, env = "COMPLAINTCTL_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start a local nats-server if none is reachable and all six services on SQLite.
    Up(local::UpArgs),
    /// Save a development token for later commands: `login --as RO-HEAD`.
    Login {
        /// Also grant the operator role (dead-letter replay).
        #[arg(long)]
        operator: bool,
        /// Hours the token stays valid.
        #[arg(long, default_value_t = 8)]
        hours: u64,
        /// Print the token (for grpcurl) instead of only saving it.
        #[arg(long)]
        print: bool,
    },
    /// Register a complaint from flags or a JSON file.
    Submit(SubmitArgs),
    /// Show a complaint: record (masked), clocks, timeline, deliveries.
    Show { number: String },
    /// Breached clocks across the platform (and at-risk ones with --at-risk), earliest due first.
    Overdue {
        /// Also list clocks past their warning point.
        #[arg(long)]
        at_risk: bool,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// Stop the clock (stop-clock) while an appraisal runs or the customer's answer is awaited.
    StopClock {
        number: String,
        /// external_appraisal or waiting_for_customer
        #[arg(long, default_value = "external_appraisal")]
        reason: String,
        #[arg(long)]
        note: String,
    },
    /// Restart a stopped clock.
    RestartClock {
        number: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Ask for the next extension of a clock (investigation, regulator_decision, payment_services_decision).
    Extend {
        number: String,
        #[arg(long, default_value = "investigation")]
        clock: String,
        #[arg(long)]
        reason: String,
    },
    /// Approve (or --refuse) the pending extension request.
    DecideExtension {
        number: String,
        #[arg(long)]
        refuse: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Record the first contact with the customer, or the written hand-over (--handover).
    Contact {
        number: String,
        #[arg(long)]
        note: String,
        #[arg(long)]
        handover: bool,
    },
    /// Register a file as evidence (numbered, SHA-256 fixed).
    Evidence {
        number: String,
        #[arg(long)]
        file: PathBuf,
        #[arg(long)]
        kind: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Record an investigation finding.
    Finding {
        number: String,
        #[arg(long)]
        text: String,
    },
    /// Propose a resolution for approval.
    Propose(ProposeArgs),
    /// Approve the pending proposal (one signature).
    Approve {
        number: String,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Return the pending proposal for rework.
    Return {
        number: String,
        #[arg(long)]
        comment: String,
    },
    /// Record the customer's answer to the result.
    Respond {
        number: String,
        #[arg(long, conflicts_with = "object")]
        accept: bool,
        #[arg(long)]
        object: bool,
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Record the execution of the accepted remedy, or that it has nothing to execute.
    Execute {
        number: String,
        #[arg(long, required_unless_present = "nothing_to_execute", default_value = "")]
        reference: String,
        /// The accepted resolution (explanation, apology, commitment) needs nothing executed.
        #[arg(long)]
        nothing_to_execute: bool,
    },
    /// Record the satisfaction follow-up; closes the complaint.
    FollowUp {
        number: String,
        #[arg(long, value_enum)]
        satisfaction: SatisfactionArg,
        #[arg(long)]
        accepts_outcome: bool,
    },
    /// Live counts by status, grade and channel.
    Counts,
    #[command(flatten)]
    CaseWork(casework::CaseWork),
    /// Dead letters: list or replay.
    Dlq {
        #[command(subcommand)]
        action: DlqAction,
        #[arg(long, env = "CMS_NATS_URL", default_value = "nats://127.0.0.1:4222")]
        nats_url: String,
        /// The operator's NKey seed (default: the one `complaintctl up` generated, when present).
        #[arg(long, env = "CMS_NATS_NKEY_SEED_FILE")]
        nats_seed_file: Option<PathBuf>,
        /// The CA (PEM) of a broker that requires TLS.
        #[arg(long, env = "CMS_NATS_TLS_CA_FILE")]
        nats_tls_ca_file: Option<PathBuf>,
    },
    /// The services' audit trails (operators: `login --as ID --operator`).
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// The keyring of key-encryption keys for personal data at rest.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// PostgreSQL roles and databases of the six services.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Look for a customer's personal data in clear in every file of the installation: stores
    /// and their journals, the JetStream store, spooled deliveries, logs. Exit status 1 when
    /// any value is found.
    PrivacyCheck {
        #[arg(long, default_value = "")]
        id_number: String,
        #[arg(long, default_value = "")]
        phone: String,
        #[arg(long, default_value = "")]
        email: String,
        #[arg(long, default_value = "")]
        account_number: String,
        /// Directories to scan; the data directory (`--data-dir`) when none is given.
        directories: Vec<PathBuf>,
    },
    /// Compute a deadline on a jurisdiction's working-day calendar.
    Deadline(deadline::DeadlineArgs),
    /// Train or evaluate the complaint classifier on a CSV with the CFPB columns.
    Model {
        #[command(subcommand)]
        command: model::ModelCommand,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Append a new active key-encryption key to the keyring; the services re-wrap their data
    /// keys under it within `key_check_secs`, without a restart.
    Rotate {
        /// The keyring file; `<data dir>/secrets/kek.keys` by default.
        #[arg(long)]
        keyring: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// As the PostgreSQL administrator: create each service's database, its owner role (for
    /// migrations) and its runtime role (least privilege), with passwords read from
    /// `<secrets-dir>/<service>[-owner].password`, generated there when missing. Running it
    /// again changes nothing but passwords whose files changed.
    Provision {
        /// The administrator's URL, e.g. `postgres://postgres@db:5432/postgres?sslmode=verify-full&sslrootcert=ca.pem`.
        #[arg(long, required_unless_present = "passwords_only")]
        admin_url: Option<String>,
        /// File holding the administrator's password, if the URL needs one.
        #[arg(long)]
        admin_password_file: Option<PathBuf>,
        /// Names are `<prefix>_<service>` (database, runtime role) and `<prefix>_<service>_owner`.
        #[arg(long, default_value = "cms")]
        prefix: String,
        /// Where the password files are; `<data dir>/secrets/postgres` by default.
        #[arg(long)]
        secrets_dir: Option<PathBuf>,
        /// Only write the password files, the administrator's (`admin.password`, for the
        /// compose PostgreSQL container) included: on the host, before the containers start.
        #[arg(long)]
        passwords_only: bool,
    },
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recompute every link of each service's hash chain and name the first broken one;
    /// exits non-zero when any chain is broken.
    Verify {
        /// Only this service (intake, routing, investigation, approval, notification, analytics).
        #[arg(long)]
        service: Option<String>,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    List,
    Replay { sequence: u64 },
}

#[derive(Clone, Copy, ValueEnum)]
enum SatisfactionArg {
    Satisfied,
    BasicallySatisfied,
    Dissatisfied,
}

#[derive(clap::Args)]
struct SubmitArgs {
    /// JSON file with the complaint (see README); flags below are ignored when given.
    #[arg(long)]
    file: Option<PathBuf>,
    #[arg(long, default_value = "web")]
    channel: String,
    #[arg(long)]
    request_key: Option<String>,
    #[arg(long, default_value = "")]
    name: String,
    #[arg(long, default_value = "id_card")]
    id_type: String,
    #[arg(long, default_value = "")]
    id_number: String,
    #[arg(long, default_value = "")]
    phone: String,
    #[arg(long, default_value = "")]
    email: String,
    #[arg(long, default_value = "")]
    summary: String,
    #[arg(long, default_value = "")]
    description: String,
    #[arg(long, default_value = "explanation")]
    demand: String,
    /// e.g. "500.00 CNY"
    #[arg(long)]
    amount: Option<String>,
    #[arg(long, default_value = "")]
    product: String,
    #[arg(long, default_value = "")]
    staff: String,
}

#[derive(clap::Args)]
struct ProposeArgs {
    number: String,
    /// full_refund, partial_refund, compensation, fee_waiver, service_improvement,
    /// explanation_and_apology, third_party_referral
    #[arg(long = "type")]
    resolution_type: String,
    /// e.g. "500.00 CNY"
    #[arg(long)]
    amount: Option<String>,
    #[arg(long)]
    conclusion: String,
    #[arg(long)]
    basis: String,
    #[arg(long)]
    execution: String,
}

/// The JSON accepted by `submit --file`.
#[derive(Deserialize)]
struct ComplaintFile {
    request_key: Option<String>,
    channel: String,
    customer: CustomerFile,
    summary: String,
    description: String,
    demand: String,
    amount: Option<String>,
    #[serde(default)]
    product_hint: String,
    #[serde(default)]
    receiving_staff: String,
    #[serde(default)]
    received_at: String,
    #[serde(default)]
    staff_involved: Vec<String>,
    #[serde(default)]
    branch_involved: String,
    #[serde(default)]
    tags: Vec<String>,
}

#[derive(Deserialize)]
struct CustomerFile {
    name: String,
    id_type: String,
    id_number: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    account_number: String,
}

/// Parses "500.00 CNY" (or "500 CNY") into minor units.
fn parse_money(text: &str) -> anyhow::Result<pb::Money> {
    let (amount, currency) = text.trim().split_once(' ').context("amount must look like \"500.00 CNY\"")?;
    let (units, cents) = match amount.split_once('.') {
        Some((units, cents)) if cents.len() <= 2 => (units, format!("{cents:0<2}")),
        Some(_) => bail!("at most two decimals in {text}"),
        None => (amount, "00".to_owned()),
    };
    let minor_units = units.parse::<i64>()?.checked_mul(100).context("amount too large")? + cents.parse::<i64>()?;
    Ok(pb::Money { minor_units, currency: currency.trim().to_uppercase() })
}

fn channel(name: &str) -> anyhow::Result<i32> {
    Channel::parse(name).map(|c| c.to_proto() as i32).with_context(|| {
        let names: Vec<&str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown channel {name}; one of {}", names.join(", "))
    })
}

fn id_type(name: &str) -> anyhow::Result<i32> {
    Ok(match name {
        "id_card" => pb::IdDocumentType::IdCard,
        "passport" => pb::IdDocumentType::Passport,
        "business_licence" => pb::IdDocumentType::BusinessLicence,
        other => bail!("unknown id type {other}; id_card, passport or business_licence"),
    } as i32)
}

fn submit_request(args: &SubmitArgs) -> anyhow::Result<pb::SubmitComplaintRequest> {
    let file: ComplaintFile = match &args.file {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?)
            .with_context(|| format!("parsing {}", path.display()))?,
        None => ComplaintFile {
            request_key: args.request_key.clone(),
            channel: args.channel.clone(),
            customer: CustomerFile {
                name: args.name.clone(),
                id_type: args.id_type.clone(),
                id_number: args.id_number.clone(),
                phone: args.phone.clone(),
                email: args.email.clone(),
                address: String::new(),
                account_number: String::new(),
            },
            summary: args.summary.clone(),
            description: args.description.clone(),
            demand: args.demand.clone(),
            amount: args.amount.clone(),
            product_hint: args.product.clone(),
            receiving_staff: args.staff.clone(),
            received_at: String::new(),
            staff_involved: Vec::new(),
            branch_involved: String::new(),
            tags: Vec::new(),
        },
    };
    Ok(pb::SubmitComplaintRequest {
        request_key: file.request_key.unwrap_or_else(|| format!("cli-{}", uuid::Uuid::new_v4())),
        channel: channel(&file.channel)?,
        customer: Some(pb::Customer {
            name: file.customer.name,
            id_type: id_type(&file.customer.id_type)?,
            id_number: file.customer.id_number,
            phone: file.customer.phone,
            email: file.customer.email,
            address: file.customer.address,
            account_number: file.customer.account_number,
            preferred_channel: 0,
        }),
        summary: file.summary,
        description: file.description,
        demand: file.demand,
        amount_involved: file.amount.as_deref().map(parse_money).transpose()?,
        product_hint: file.product_hint,
        evidence: Vec::new(),
        receiving_staff: file.receiving_staff,
        received_at: file.received_at,
        staff_involved: file.staff_involved,
        branch_involved: file.branch_involved,
        tags: file.tags,
    })
}

fn resolution_type(name: &str) -> anyhow::Result<i32> {
    pb::ResolutionType::from_str_name(&format!("RESOLUTION_TYPE_{}", name.to_uppercase()))
        .map(|t| t as i32)
        .with_context(|| format!("unknown resolution type {name}"))
}

fn endpoint(host: &str, service: &str) -> String {
    format!("http://{host}:{}", complaints_plumbing::config::default_port(service))
}

/// `message` as a request carrying the bearer token.
fn call<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Turns a gRPC error into a one-line message with its code.
fn rpc<T>(result: Result<tonic::Response<T>, tonic::Status>) -> anyhow::Result<T> {
    result.map(tonic::Response::into_inner).map_err(|status| anyhow::anyhow!("{:?}: {}", status.code(), status.message()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let host = cli.host.as_str();
    let data_dir = cli.data_dir.as_path();
    let token = || identity::resolve(data_dir, cli.token.as_deref(), cli.acting_as.as_deref(), None);
    match cli.command {
        Command::Up(args) => local::up(args, data_dir).await,
        Command::Login { operator, hours, print } => {
            let subject = cli.acting_as.as_deref().context("say who: `complaintctl login --as RO-HEAD`")?;
            let token = identity::mint(data_dir, subject, operator, std::time::Duration::from_secs(hours * 3600))?;
            let path = identity::save(data_dir, &token)?;
            if print {
                println!("{token}");
            } else {
                println!("logged in as {subject} for {hours} h (token saved in {})", path.display());
            }
            Ok(())
        }
        Command::Model { command } => model::run(&command),
        Command::Deadline(args) => {
            println!("{}", deadline::run(&args)?);
            Ok(())
        }
        Command::Dlq { action, nats_url, nats_seed_file, nats_tls_ca_file } => {
            let generated = complaints_plumbing::broker::seed_file(&data_dir.join("secrets").join("nats"), complaints_plumbing::broker::OPERATOR);
            let seed_file = nats_seed_file.or_else(|| generated.exists().then_some(generated));
            let client = complaints_plumbing::nats::options(complaints_plumbing::broker::OPERATOR, seed_file.as_deref(), nats_tls_ca_file.as_deref())?
                .connect(&nats_url)
                .await
                .with_context(|| format!("connecting to {nats_url}"))?;
            let js = async_nats::jetstream::new(client);
            match action {
                DlqAction::List => {
                    let letters = complaints_plumbing::dlq::list(&js).await?;
                    println!("{:>6}  {:<13} {:<36} {:<32} error", "seq", "consumer", "complaint", "subject");
                    for letter in letters {
                        println!(
                            "{:>6}  {:<13} {:<36} {:<32} {}",
                            letter.sequence, letter.consumer, letter.complaint_id, letter.original_subject, letter.error
                        );
                    }
                }
                DlqAction::Replay { sequence } => {
                    let subject = complaints_plumbing::dlq::replay(&js, sequence).await?;
                    println!("replayed dead letter {sequence} on {subject}");
                }
            }
            Ok(())
        }
        Command::Submit(args) => {
            let request = submit_request(&args)?;
            // Without another identity, the complaint comes in as its channel's system would send it.
            let channel_system = format!("channel:{}", Channel::from_proto(request.channel).map(Channel::as_str).unwrap_or("web"));
            let token = identity::resolve(data_dir, cli.token.as_deref(), cli.acting_as.as_deref(), Some(&channel_system))?;
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let response = rpc(intake.submit_complaint(call(request, &token)).await)?;
            println!("{}{}", response.complaint_number, if response.duplicate { " (already registered)" } else { "" });
            Ok(())
        }
        Command::Show { number } => show(host, &number, &token()?).await,
        Command::Overdue { at_risk, limit } => overdue(host, at_risk, limit, &token()?).await,
        Command::StopClock { number, reason, note } => {
            let reason = match reason.as_str() {
                "external_appraisal" => pb::StopReason::ExternalAppraisal,
                "waiting_for_customer" => pb::StopReason::WaitingForCustomer,
                other => bail!("--reason {other}: use external_appraisal or waiting_for_customer"),
            };
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::StopClockRequest { complaint_number: number, reason: reason as i32, note };
            let case = rpc(client.stop_clock(call(request, &token()?)).await)?;
            println!("{}: clock stopped", case.complaint_number);
            Ok(())
        }
        Command::RestartClock { number, note } => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let case = rpc(client.restart_clock(call(pb::RestartClockRequest { complaint_number: number, note }, &token()?)).await)?;
            println!("{}: clock restarted", case.complaint_number);
            Ok(())
        }
        Command::Extend { number, clock, reason } => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::RequestExtensionRequest { complaint_number: number, clock, reason };
            let case = rpc(client.request_extension(call(request, &token()?)).await)?;
            println!("{}: extension requested; `complaintctl decide-extension` at the superior level decides", case.complaint_number);
            Ok(())
        }
        Command::DecideExtension { number, refuse, comment } => {
            let mut client = ApprovalClient::connect(endpoint(host, "approval")).await?;
            let request = pb::DecideExtensionRequest { complaint_number: number, approve: !refuse, comment };
            let view = rpc(client.decide_extension(call(request, &token()?)).await)?;
            println!("{}: {} clock extension {}", view.complaint_number, view.clock, view.status);
            Ok(())
        }
        Command::Contact { number, note, handover } => {
            let kind = if handover { pb::ContactKind::Handover } else { pb::ContactKind::FirstContact };
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let request = pb::RecordContactRequest { complaint_number: number, kind: kind as i32, note };
            let view = rpc(intake.record_contact(call(request, &token()?)).await)?;
            println!("{}: {} recorded", view.complaint_number, if handover { "hand-over" } else { "first contact" });
            Ok(())
        }
        Command::Evidence { number, file, kind, description } => {
            let content = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::RegisterEvidenceRequest { complaint_number: number, kind, description, content };
            let evidence = rpc(client.register_evidence(call(request, &token()?)).await)?;
            println!("evidence #{} sha256 {}", evidence.evidence_number, evidence.sha256);
            Ok(())
        }
        Command::Finding { number, text } => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::RecordFindingRequest { complaint_number: number, finding: text };
            let case = rpc(client.record_finding(call(request, &token()?)).await)?;
            println!("{}: {} findings", case.complaint_number, case.findings.len());
            Ok(())
        }
        Command::Propose(args) => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let resolution = pb::Resolution {
                resolution_type: resolution_type(&args.resolution_type)?,
                amount: args.amount.as_deref().map(parse_money).transpose()?,
                conclusion: args.conclusion,
                basis: args.basis,
                execution_method: args.execution,
            };
            let request = pb::ProposeResolutionRequest { complaint_number: args.number, resolution: Some(resolution) };
            let case = rpc(client.propose_resolution(call(request, &token()?)).await)?;
            println!("{}: {} (proposal {})", case.complaint_number, case.status, case.proposal_id);
            Ok(())
        }
        Command::Approve { number, comment } => {
            let mut client = ApprovalClient::connect(endpoint(host, "approval")).await?;
            let view = rpc(client.approve(call(pb::DecideRequest { complaint_number: number, comment }, &token()?)).await)?;
            println!("{}: {} at level {} (still to sign: {})", view.complaint_number, view.status, view.level, view.pending_roles.join(", "));
            Ok(())
        }
        Command::Return { number, comment } => {
            let mut client = ApprovalClient::connect(endpoint(host, "approval")).await?;
            let view = rpc(client.return_for_rework(call(pb::DecideRequest { complaint_number: number, comment }, &token()?)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
            Ok(())
        }
        Command::Respond { number, accept, object, comment } => {
            if accept == object {
                bail!("say --accept or --object");
            }
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let request = pb::RespondToResolutionRequest { complaint_number: number, accept, comment };
            let view = rpc(intake.respond_to_resolution(call(request, &token()?)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
            Ok(())
        }
        Command::CaseWork(command) => casework::run(host, command, &token()?).await,
        Command::Execute { number, reference, nothing_to_execute } => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::RecordExecutionRequest { complaint_number: number, reference, nothing_to_execute };
            let case = rpc(client.record_execution(call(request, &token()?)).await)?;
            println!("{}: {}", case.complaint_number, case.status);
            Ok(())
        }
        Command::FollowUp { number, satisfaction, accepts_outcome } => {
            let satisfaction = match satisfaction {
                SatisfactionArg::Satisfied => pb::Satisfaction::Satisfied,
                SatisfactionArg::BasicallySatisfied => pb::Satisfaction::BasicallySatisfied,
                SatisfactionArg::Dissatisfied => pb::Satisfaction::Dissatisfied,
            };
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let request = pb::RecordFollowUpRequest { complaint_number: number, satisfaction: satisfaction as i32, accepts_outcome };
            let view = rpc(intake.record_follow_up(call(request, &token()?)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
            Ok(())
        }
        Command::Keys { action: KeysAction::Rotate { keyring } } => {
            let keyring = keyring.unwrap_or_else(|| data_dir.join("secrets").join("kek.keys"));
            let id = complaints_plumbing::vault::rotate_keyring(&keyring)?;
            println!("{id} is the active key-encryption key in {}; the services re-wrap their data keys under it", keyring.display());
            Ok(())
        }
        Command::Db { action: DbAction::Provision { admin_url, admin_password_file, prefix, secrets_dir, passwords_only } } => {
            use complaints_plumbing::roles;
            let secrets = secrets_dir.unwrap_or_else(|| data_dir.join("secrets").join("postgres"));
            if passwords_only {
                roles::ensure_password(&secrets.join("admin.password"))?;
            }
            let admin_url = match admin_url {
                Some(url) => roles::with_password(&url, admin_password_file.as_deref())?,
                None => String::new(),
            };
            for service in local::SERVICES {
                let (owner_file, runtime_file) = roles::password_files(&secrets, service);
                let (owner_password, runtime_password) = (roles::ensure_password(&owner_file)?, roles::ensure_password(&runtime_file)?);
                if passwords_only {
                    continue;
                }
                let names = roles::ServiceRoles::named(&prefix, service);
                roles::provision(&admin_url, &names, &owner_password, &runtime_password)
                    .await
                    .with_context(|| format!("provision {service}"))?;
                println!(
                    "{service}: database {} owned by {}, runtime role {}; CMS_DATABASE_URL=postgres://{}@<host>/{} \
                     CMS_DATABASE_PASSWORD_FILE={} CMS_DATABASE_OWNER_URL=postgres://{}@<host>/{} CMS_DATABASE_OWNER_PASSWORD_FILE={}",
                    names.database,
                    names.owner,
                    names.runtime,
                    names.runtime,
                    names.database,
                    runtime_file.display(),
                    names.owner,
                    names.database,
                    owner_file.display()
                );
            }
            println!("password files in {}", secrets.display());
            Ok(())
        }
        Command::PrivacyCheck { id_number, phone, email, account_number, directories } => {
            let values = [("id_number", id_number.as_str()), ("phone", phone.as_str()), ("email", email.as_str()), ("account_number", account_number.as_str())];
            if values.iter().all(|(_, value)| value.is_empty()) {
                bail!("give at least one of --id-number, --phone, --email, --account-number");
            }
            let directories = if directories.is_empty() { vec![data_dir.to_path_buf()] } else { directories };
            let roots: Vec<&std::path::Path> = directories.iter().map(PathBuf::as_path).collect();
            let scan = complaints_plumbing::privacy::scan(&roots, &values)?;
            println!("scanned {} files, {:.1} MB", scan.files, scan.bytes as f64 / 1e6);
            for finding in &scan.findings {
                println!("CLEAR {} in {}", finding.label, finding.path.display());
            }
            if !scan.findings.is_empty() {
                bail!("personal data in clear in {} place(s)", scan.findings.len());
            }
            println!("no clear value found");
            Ok(())
        }
        Command::Audit { action: AuditAction::Verify { service } } => {
            let services: Vec<&str> = match service.as_deref() {
                Some(name) if local::SERVICES.contains(&name) => vec![name],
                Some(other) => bail!("--service {other}: use one of {}", local::SERVICES.join(", ")),
                None => local::SERVICES.to_vec(),
            };
            let token = token()?;
            let mut broken = 0;
            for name in services {
                let mut client = AuditClient::connect(endpoint(host, name)).await.with_context(|| format!("connect to {name}"))?;
                let verdict = rpc(client.verify_audit(call(pb::VerifyAuditRequest {}, &token)).await).with_context(|| format!("verify {name}"))?;
                if verdict.problem.is_empty() {
                    println!("{name}: commands intact, {} entries, head {} {}", verdict.entries, verdict.head_seq, verdict.head_hash);
                } else {
                    println!("{name}: commands BROKEN at entry {}: {}", verdict.first_broken_seq, verdict.problem);
                }
                for chain in &verdict.chains {
                    if chain.intact {
                        println!("{name}: {} intact, {} entries", chain.chain, chain.entries);
                    } else {
                        println!("{name}: {} BROKEN at {}: {}", chain.chain, chain.first_broken, chain.problem);
                    }
                }
                if !verdict.intact {
                    broken += 1;
                }
            }
            if broken > 0 {
                bail!("{broken} audit chain(s) broken");
            }
            Ok(())
        }
        Command::Counts => {
            let mut analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
            let counts = rpc(analytics.get_counts(call(pb::GetCountsRequest {}, &token()?)).await)?;
            println!("total {}", counts.total);
            for (title, entries) in [("status", counts.by_status), ("grade", counts.by_grade), ("channel", counts.by_channel)] {
                let line: Vec<String> = entries.iter().map(|e| format!("{}={}", e.key, e.count)).collect();
                println!("by {title}: {}", line.join(" "));
            }
            Ok(())
        }
    }
}

/// One clock as a line: kind, state, due instant in the jurisdiction's local time, owner.
fn clock_line(row: &pb::ClockRow) -> String {
    let Some(clock) = &row.clock else { return format!("{}: no clock", row.complaint_number) };
    let state = pb::ClockState::try_from(clock.state)
        .map(|state| state.as_str_name().trim_start_matches("CLOCK_STATE_").to_lowercase())
        .unwrap_or_else(|_| "?".into());
    let provisional = if clock.provisional { " provisional" } else { "" };
    let round = if clock.round > 1 { format!(" (round {})", clock.round) } else { String::new() };
    let owner = if clock.owner_id.is_empty() { String::new() } else { format!("  owner {}", clock.owner_id) };
    let extended = if clock.extensions > 0 { format!("  {} extension(s)", clock.extensions) } else { String::new() };
    format!(
        "{:<26} {:<9}{provisional} due {}  [{} · {} · {}]{owner}{extended}",
        format!("{}{round}", clock.kind),
        state,
        clock.due_local,
        clock.period,
        clock.jurisdiction,
        row.owner_service
    )
}

async fn overdue(host: &str, at_risk: bool, limit: u32, token: &str) -> anyhow::Result<()> {
    let mut analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
    let mut page_token = String::new();
    let mut shown = 0;
    loop {
        let page_size = (limit - shown).min(1000);
        let request = pb::ListOverdueRequest { include_at_risk: at_risk, page_size, page_token };
        let page = rpc(analytics.list_overdue(call(request, token)).await)?;
        for row in &page.clocks {
            println!("{}  {}", row.complaint_number, clock_line(row));
        }
        shown += u32::try_from(page.clocks.len()).unwrap_or(u32::MAX);
        if page.next_page_token.is_empty() || shown >= limit {
            break;
        }
        page_token = page.next_page_token;
    }
    if shown == 0 {
        println!("no {}clocks", if at_risk { "breached or at-risk " } else { "breached " });
    }
    Ok(())
}

async fn show(host: &str, number: &str, token: &str) -> anyhow::Result<()> {
    let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
    let request = pb::GetComplaintRequest { complaint_number: number.to_owned(), ..Default::default() };
    let view = rpc(intake.get_complaint(call(request, token)).await)?;
    println!("{}  status {}  customer {}  phone {}  id {}", view.complaint_number, view.status, view.customer_name_masked, view.phone_masked, view.id_number_masked);
    println!("summary: {}", view.summary);
    let mut analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
    let request = pb::ListClocksRequest { complaint_number: number.to_owned(), ..Default::default() };
    match analytics.list_clocks(call(request, token)).await {
        Ok(clocks) => {
            println!("clocks ({} rules):", view.jurisdiction);
            for row in clocks.into_inner().clocks {
                println!("  {}", clock_line(&row));
            }
        }
        Err(status) => println!("clocks: {}", status.message()),
    }
    let request = pb::GetTimelineRequest { complaint_number: number.to_owned(), ..Default::default() };
    match analytics.get_timeline(call(request, token)).await {
        Ok(timeline) => {
            let timeline = timeline.into_inner();
            println!("timeline ({}):", timeline.status);
            for entry in timeline.entries {
                println!("  {}  {:<20} {:<16} {}", entry.occurred_at, entry.stage, entry.actor, entry.detail);
            }
        }
        Err(status) => println!("timeline: {}", status.message()),
    }
    let mut notification = NotificationClient::connect(endpoint(host, "notification")).await?;
    let deliveries = rpc(notification.list_deliveries(call(pb::ListDeliveriesRequest { complaint_id: view.complaint_id }, token)).await)?;
    for delivery in deliveries.deliveries {
        let kind = if delivery.alert.is_empty() {
            pb::NotificationKind::try_from(delivery.kind).map(|k| k.as_str_name()).unwrap_or("?")
        } else {
            delivery.alert.as_str()
        };
        println!("  delivery {kind} to {} {} {}", delivery.recipient_masked, delivery.status, delivery.delivered_at);
    }
    Ok(())
}
