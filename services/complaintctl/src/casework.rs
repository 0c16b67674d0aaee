//! `complaintctl` commands for case work: work queues and search; off the main path,
//! withdrawal, out of scope and the customer's external route, reassignment and hand-over,
//! re-triage, and the re-triage corrections exported for `model train --corrections`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use complaints_proto::v1 as pb;
use complaints_proto::v1::analytics_client::AnalyticsClient;
use complaints_proto::v1::intake_client::IntakeClient;
use complaints_proto::v1::investigation_client::InvestigationClient;
use complaints_proto::v1::routing_client::RoutingClient;

use crate::{call, endpoint, rpc};

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum View {
    Mine,
    Department,
    Triage,
    All,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum CaseWork {
    /// A work queue, earliest due first: your cases, a department's, the triage desk's or all.
    Queue {
        #[arg(value_enum, default_value = "mine")]
        view: View,
        /// For `department`: which one (default: yours).
        #[arg(long)]
        department: Option<String>,
        /// Lifecycle stage, e.g. investigating (repeatable).
        #[arg(long = "status")]
        statuses: Vec<String>,
        /// green, yellow or red (repeatable).
        #[arg(long = "grade")]
        grades: Vec<String>,
        /// breached, warned, running or paused (repeatable).
        #[arg(long = "clock-state")]
        clock_states: Vec<String>,
        /// Channel of receipt, e.g. app (repeatable).
        #[arg(long = "channel")]
        channels: Vec<String>,
        #[arg(long = "product")]
        products: Vec<String>,
        #[arg(long = "jurisdiction")]
        jurisdictions: Vec<String>,
        /// RFC 3339: cases whose next clock falls due before then.
        #[arg(long)]
        due_before: Option<String>,
        /// Include closed, withdrawn, merged and archived complaints.
        #[arg(long)]
        closed: bool,
        /// Show at most this many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Find complaints by number, by the customer's ID number (compared through its protected
    /// lookup key) or by text in the summary.
    Search {
        #[arg(long, group = "by")]
        number: Option<String>,
        #[arg(long, group = "by")]
        customer_id: Option<String>,
        #[arg(long, group = "by")]
        text: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Withdraw a complaint for the customer (through their channel, or staff on their behalf);
    /// every clock stops.
    Withdraw {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Archive a closed, withdrawn or merged complaint (once its review window has passed) and
    /// export its sealed case file: NUMBER.json, NUMBER.html and NUMBER.sha256 (for
    /// `sha256sum -c`). An archived complaint is exported again without change.
    Archive {
        number: String,
        #[arg(long, default_value = "")]
        note: String,
        /// Directory for the exported files.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Mark a complaint outside the bank's remit; the customer is told and offered external
    /// routes (all of them unless --route is given, repeatable).
    OutOfScope {
        number: String,
        #[arg(long)]
        reason: String,
        /// mediation, arbitration, litigation, industry_association, regulator
        #[arg(long = "route")]
        routes: Vec<String>,
    },
    /// Record the external route the customer chose for a complaint out of scope; it closes.
    ExternalRoute {
        number: String,
        /// mediation, arbitration, litigation, industry_association, regulator or declined
        route: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Move a case to another handler (a supervisor reassigns; the handler hands over). The
    /// reason is the written record.
    Reassign {
        number: String,
        #[arg(long)]
        reason: String,
        /// Target handler; the least-loaded one without a conflict when omitted.
        #[arg(long = "to")]
        handler: Option<String>,
        /// Target department; the case's own when omitted.
        #[arg(long)]
        department: Option<String>,
    },
    /// Correct category, grade or product at the triage desk; recorded as training data.
    Retriage {
        number: String,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        category: Option<String>,
        /// green, yellow or red
        #[arg(long)]
        grade: Option<String>,
        #[arg(long)]
        product: Option<String>,
    },
    /// The customer asks the superior institution to review the decision (复核), inside the
    /// review window.
    Review {
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// The reviewer upholds the decision, or (with --type) changes it to a new resolution that
    /// goes through approval.
    DecideReview {
        number: String,
        /// The review's conclusion, told to the customer.
        #[arg(long)]
        conclusion: String,
        /// The new resolution's type (as `propose --type`); without it the decision is upheld.
        #[arg(long = "type")]
        resolution_type: Option<String>,
        /// e.g. "500.00 CNY"
        #[arg(long)]
        amount: Option<String>,
        #[arg(long, default_value = "")]
        basis: String,
        #[arg(long, default_value = "")]
        execution: String,
    },
    /// Mass incidents: list, show, the unified statement, link and unlink members, close.
    Incident {
        #[command(subcommand)]
        action: IncidentAction,
    },
    /// Export the re-triage corrections as the CSV `model train --corrections` reads.
    Corrections {
        /// Where to write the CSV; standard output when omitted.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum IncidentAction {
    /// Incidents, newest first.
    List {
        #[arg(long)]
        closed: bool,
    },
    /// One incident with its members.
    Show { incident: String },
    /// Issue the task force's one statement to every member (and later joiners).
    Statement {
        incident: String,
        #[arg(long)]
        text: String,
    },
    /// Link a complaint to the incident by hand.
    Link { incident: String, number: String },
    /// Unlink a member; its own investigation resumes.
    Unlink {
        incident: String,
        number: String,
        #[arg(long)]
        reason: String,
    },
    /// Close with the root cause and the post-incident review.
    Close {
        incident: String,
        #[arg(long)]
        root_cause: String,
        #[arg(long)]
        review: String,
    },
}

fn print_incident(incident: &pb::Incident, members: bool) {
    let current = incident.members.iter().filter(|m| m.left_at.is_empty()).count();
    println!(
        "{}  {}  {} / {}  opened {}  {current} members  task force {}",
        incident.incident_number,
        incident.status,
        incident.product,
        incident.category,
        incident.opened_at,
        incident.task_force_ids.join(", ")
    );
    if !members {
        return;
    }
    if !incident.statement.is_empty() {
        println!("statement ({} at {}): {}", incident.statement_by, incident.statement_at, incident.statement);
    }
    if !incident.root_cause.is_empty() {
        println!("root cause: {}\nreview: {}", incident.root_cause, incident.review);
    }
    for member in &incident.members {
        let left = if member.left_at.is_empty() { String::new() } else { format!("  left {}", member.left_at) };
        println!("  {}  joined {} ({}){left}", member.complaint_number, member.joined_at, member.linked_by);
    }
}

async fn incident(host: &str, action: IncidentAction, token: &str) -> anyhow::Result<()> {
    let mut routing = RoutingClient::connect(endpoint(host, "routing")).await?;
    let shown = match action {
        IncidentAction::List { closed } => {
            let list = rpc(routing.list_incidents(call(pb::ListIncidentsRequest { include_closed: closed }, token)).await)?;
            for incident in &list.incidents {
                print_incident(incident, false);
            }
            println!("({} incidents)", list.incidents.len());
            return Ok(());
        }
        IncidentAction::Show { incident } => rpc(routing.get_incident(call(pb::GetIncidentRequest { incident }, token)).await)?,
        IncidentAction::Statement { incident, text } => {
            rpc(routing.issue_statement(call(pb::IssueStatementRequest { incident, text }, token)).await)?
        }
        IncidentAction::Link { incident, number } => {
            rpc(routing.link_to_incident(call(pb::LinkToIncidentRequest { incident, complaint_number: number }, token)).await)?
        }
        IncidentAction::Unlink { incident, number, reason } => {
            let request = pb::UnlinkFromIncidentRequest { incident, complaint_number: number, reason };
            rpc(routing.unlink_from_incident(call(request, token)).await)?
        }
        IncidentAction::Close { incident, root_cause, review } => {
            rpc(routing.close_incident(call(pb::CloseIncidentRequest { incident, root_cause, review }, token)).await)?
        }
    };
    print_incident(&shown, true);
    Ok(())
}

fn channel(name: &str) -> anyhow::Result<i32> {
    complaints_domain::Channel::parse(name).map(|c| c.to_proto() as i32).with_context(|| format!("unknown channel {name}"))
}

/// Pages through a queue or search until `limit` rows are printed.
async fn print_pages<F, Fut>(limit: usize, mut fetch: F) -> anyhow::Result<()>
where
    F: FnMut(String, u32) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<pb::QueuePage>>,
{
    println!("{:<22} {:<18} {:<6} {:<9} {:<25} {:<17} {:<13} summary", "complaint", "status", "grade", "clock", "next due", "department", "handler");
    let (mut shown, mut token) = (0usize, String::new());
    loop {
        let size = u32::try_from((limit - shown).min(1000)).unwrap_or(1000);
        let page = fetch(token, size).await?;
        for item in &page.items {
            let grade = pb::Grade::try_from(item.grade).map(|g| g.as_str_name().trim_start_matches("GRADE_").to_lowercase()).unwrap_or_default();
            let summary: String = item.summary.chars().take(40).collect();
            println!(
                "{:<22} {:<18} {:<6} {:<9} {:<25} {:<17} {:<13} {summary}",
                item.complaint_number, item.status, grade, item.clock_state, item.next_due_at, item.department, item.handler_id
            );
        }
        shown += page.items.len();
        if page.next_page_token.is_empty() || page.items.is_empty() {
            println!("({shown} shown)");
            return Ok(());
        }
        if shown >= limit {
            println!("({shown} shown; more with --limit)");
            return Ok(());
        }
        token = page.next_page_token;
    }
}

fn grade(name: &str) -> anyhow::Result<i32> {
    Ok(match name {
        "green" => pb::Grade::Green,
        "yellow" => pb::Grade::Yellow,
        "red" => pb::Grade::Red,
        other => anyhow::bail!("--grade {other}: use green, yellow or red"),
    } as i32)
}

/// One CSV field, quoted when it must be.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

pub async fn run(host: &str, command: CaseWork, token: &str) -> anyhow::Result<()> {
    match command {
        CaseWork::Queue { view, department, statuses, grades, clock_states, channels, products, jurisdictions, due_before, closed, limit } => {
            let analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
            let request = pb::ListQueueRequest {
                view: match view {
                    View::Mine => pb::QueueView::Mine,
                    View::Department => pb::QueueView::Department,
                    View::Triage => pb::QueueView::Triage,
                    View::All => pb::QueueView::All,
                } as i32,
                department: department.unwrap_or_default(),
                statuses,
                grades: grades.iter().map(|g| grade(g)).collect::<anyhow::Result<_>>()?,
                clock_states,
                channels: channels.iter().map(|c| channel(c)).collect::<anyhow::Result<_>>()?,
                products,
                jurisdictions,
                due_before: due_before.unwrap_or_default(),
                include_closed: closed,
                page_size: 0,
                page_token: String::new(),
            };
            print_pages(limit, |page_token, page_size| {
                let mut analytics = analytics.clone();
                let request = pb::ListQueueRequest { page_token, page_size, ..request.clone() };
                async move { rpc(analytics.list_queue(call(request, token)).await) }
            })
            .await?;
        }
        CaseWork::Search { number, customer_id, text, limit } => {
            anyhow::ensure!(number.is_some() || customer_id.is_some() || text.is_some(), "say --number, --customer-id or --text");
            let analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
            let request = pb::SearchComplaintsRequest {
                complaint_number: number.unwrap_or_default(),
                customer_id_number: customer_id.unwrap_or_default(),
                text: text.unwrap_or_default(),
                page_size: 0,
                page_token: String::new(),
            };
            print_pages(limit, |page_token, page_size| {
                let mut analytics = analytics.clone();
                let request = pb::SearchComplaintsRequest { page_token, page_size, ..request.clone() };
                async move { rpc(analytics.search_complaints(call(request, token)).await) }
            })
            .await?;
        }
        CaseWork::Incident { action } => incident(host, action, token).await?,
        CaseWork::Review { number, reason } => {
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let view = rpc(intake.request_review(call(pb::RequestReviewRequest { complaint_number: number, reason }, token)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
        }
        CaseWork::DecideReview { number, conclusion, resolution_type, amount, basis, execution } => {
            let resolution = match resolution_type {
                Some(kind) => Some(pb::Resolution {
                    resolution_type: crate::resolution_type(&kind)?,
                    amount: amount.as_deref().map(crate::parse_money).transpose()?,
                    conclusion: conclusion.clone(),
                    basis,
                    execution_method: execution,
                }),
                None => None,
            };
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::DecideReviewRequest { complaint_number: number, upheld: resolution.is_none(), conclusion, resolution };
            let case = rpc(client.decide_review(call(request, token)).await)?;
            println!("{}: {}", case.complaint_number, case.status);
        }
        CaseWork::Withdraw { number, reason } => {
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let view = rpc(intake.withdraw_complaint(call(pb::WithdrawComplaintRequest { complaint_number: number, reason }, token)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
        }
        CaseWork::Archive { number, note, out } => archive(host, number, note, &out, token).await?,
        CaseWork::OutOfScope { number, reason, routes } => {
            let mut client = InvestigationClient::connect(endpoint(host, "investigation")).await?;
            let request = pb::MarkOutOfScopeRequest { complaint_number: number, reason, routes };
            let case = rpc(client.mark_out_of_scope(call(request, token)).await)?;
            println!("{}: {}; the customer is offered the external routes", case.complaint_number, case.status);
        }
        CaseWork::ExternalRoute { number, route, note } => {
            let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
            let request = pb::RecordExternalRouteRequest { complaint_number: number, route, note };
            let view = rpc(intake.record_external_route(call(request, token)).await)?;
            println!("{}: {}", view.complaint_number, view.status);
        }
        CaseWork::Reassign { number, reason, handler, department } => {
            let mut routing = RoutingClient::connect(endpoint(host, "routing")).await?;
            let request = pb::ReassignRequest {
                complaint_number: number,
                department: department.unwrap_or_default(),
                handler_id: handler.unwrap_or_default(),
                reason,
            };
            let assignment = rpc(routing.reassign(call(request, token)).await)?;
            println!("{}: {} / {}", assignment.complaint_number, assignment.department, assignment.handler_id);
        }
        CaseWork::Retriage { number, reason, category, grade: wanted, product } => {
            let mut routing = RoutingClient::connect(endpoint(host, "routing")).await?;
            let request = pb::RetriageRequest {
                complaint_number: number,
                category: category.unwrap_or_default(),
                grade: wanted.as_deref().map(grade).transpose()?.unwrap_or(0),
                product: product.unwrap_or_default(),
                reason,
            };
            let assignment = rpc(routing.retriage(call(request, token)).await)?;
            let grade_name = pb::Grade::try_from(assignment.grade).map(|g| g.as_str_name()).unwrap_or("?");
            println!(
                "{}: {} {} {} -> {} / {}",
                assignment.complaint_number, grade_name, assignment.category, assignment.product, assignment.department, assignment.handler_id
            );
        }
        CaseWork::Corrections { out } => {
            let mut routing = RoutingClient::connect(endpoint(host, "routing")).await?;
            let mut writer: Box<dyn Write> = match &out {
                Some(path) => Box::new(std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?),
                None => Box::new(std::io::stdout().lock()),
            };
            writeln!(writer, "complaint_number,text,product,category,grade,corrected_by,reason")?;
            let mut page_token = String::new();
            let mut count = 0usize;
            loop {
                let request = pb::ListCorrectionsRequest { page_size: 1000, page_token: page_token.clone() };
                let page = rpc(routing.list_corrections(call(request, token)).await)?;
                for c in &page.corrections {
                    let fields = [&c.complaint_number, &c.text, &c.product, &c.category, &c.grade, &c.corrected_by, &c.reason];
                    writeln!(writer, "{}", fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","))?;
                }
                count += page.corrections.len();
                if page.next_page_token.is_empty() {
                    break;
                }
                page_token = page.next_page_token;
            }
            if let Some(path) = out {
                eprintln!("{count} corrections written to {}", path.display());
            }
        }
    }
    Ok(())
}

/// Archives the complaint (unless it already is), waits for analytics to seal its case file,
/// checks the checksum and writes the three files.
async fn archive(host: &str, number: String, note: String, out: &std::path::Path, token: &str) -> anyhow::Result<()> {
    let mut intake = IntakeClient::connect(endpoint(host, "intake")).await?;
    let current = rpc(intake.get_complaint(call(pb::GetComplaintRequest { complaint_number: number.clone(), ..Default::default() }, token)).await)?;
    if current.status == "archived" {
        println!("{number} was archived before; exporting its case file again");
    } else {
        let view = rpc(intake.archive_complaint(call(pb::ArchiveComplaintRequest { complaint_number: number.clone(), note }, token)).await)?;
        println!("{}: {}", view.complaint_number, view.status);
    }
    let mut analytics = AnalyticsClient::connect(endpoint(host, "analytics")).await?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let file = loop {
        match analytics.get_case_file(call(pb::GetCaseFileRequest { complaint_number: number.clone() }, token)).await {
            Ok(file) => break file.into_inner(),
            Err(status) if status.code() == tonic::Code::NotFound && std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
            Err(status) => return rpc::<()>(Err(status)).context("the case file was not sealed within 60 s"),
        }
    };
    let computed = complaints_plumbing::sha256_hex(file.json.as_bytes());
    anyhow::ensure!(computed == file.sha256, "the case file of {number} does not match its checksum ({computed} against {})", file.sha256);
    std::fs::create_dir_all(out).with_context(|| format!("create {}", out.display()))?;
    let base = &file.complaint_number;
    for (extension, content) in [("json", file.json.as_str()), ("html", file.html.as_str()), ("sha256", &format!("{}  {base}.json\n", file.sha256))] {
        let path = out.join(format!("{base}.{extension}"));
        std::fs::write(&path, content).with_context(|| format!("write {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("sha256 {} (archived {})", file.sha256, file.archived_at);
    Ok(())
}
