//! Approval against the running service (in-process, real nats-server and SQLite, its own
//! signing key), playing intake, routing and investigation by publishing their events: the
//! authorisation matrix — who may sign at which amount (department head below 1,000 CNY, the
//! branch vice president in charge up to 10,000 CNY, head-office risk and legal then the senior
//! executive above), never the proposer, never an approver named in the complaint, never another
//! line, never without a valid token — and the decisions announced once.

use std::time::Duration;

use base64::Engine as _;
use complaints_domain::events::{ComplaintAssigned, ComplaintReceived, SealedContact, Resolution, ResolutionProposed, ResolutionType};
use complaints_domain::{ApprovalLevel, Channel, ComplaintId, ComplaintNumber, Grade, LifecycleEvent, Money, ProposalId, StaffId};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, SpawnedApp, TestAuth, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::approval_client::ApprovalClient;
use tonic::transport::Channel as GrpcChannel;
use tonic::{Code, Status};

const WAIT: Duration = Duration::from_secs(20);

fn staff(id: &str) -> StaffId {
    StaffId::parse("staff", id).expect("staff id")
}

fn compensation(yuan: i64) -> Resolution {
    Resolution {
        kind: ResolutionType::Compensation,
        amount: Some(Money { minor_units: yuan * 100, currency: "CNY".into() }),
        conclusion: "The transfer was delayed by the bank.".into(),
        basis: "Service charter, section 2".into(),
        execution_method: "Credit to the customer's account".into(),
    }
}

/// One complaint awaiting approval.
struct Proposed {
    id: ComplaintId,
    number: String,
    proposal_id: ProposalId,
}

/// Approval started in-process on its own nats-server, store and key.
struct TestApproval {
    app: SpawnedApp,
    env: TestEnv,
    js: async_nats::jetstream::Context,
}

impl TestApproval {
    async fn start() -> Self {
        let env = TestEnv::new(Backend::Sqlite);
        let config = approval::Config { common: env.common(approval::SERVICE), approval_bands: Default::default() };
        let app = SpawnedApp::spawn(|token| approval::Application::start(config, token)).await;
        let js = async_nats::jetstream::new(env.nats.connect().await);
        Self { app, env, js }
    }

    async fn client(&self) -> ApprovalClient<GrpcChannel> {
        ApprovalClient::new(self.app.channel().await)
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(approval::SERVICE)).await.expect("store");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count")
    }

    /// Plays intake (received, naming `involved`), routing (assigned to retail operations) and
    /// investigation (a compensation of `yuan` CNY proposed by `proposer`); waits until approval
    /// knows all three.
    async fn propose(&self, serial: u32, involved: &[&str], yuan: i64, proposer: &str) -> Proposed {
        let id = ComplaintId::generate();
        let number = ComplaintNumber::parse("complaint_number", &format!("T-20260101-{serial:06}")).expect("number");
        let received = ComplaintReceived {
            channel: Channel::App,
            summary: "Transfer delayed".into(),
            description: "A transfer made on Monday arrived on Friday.".into(),
            demand: "compensation".into(),
            amount_involved: Some(Money { minor_units: yuan * 100, currency: "CNY".into() }),
            product_hint: "payments".into(),
            contact: SealedContact::default(),
            receiving_staff: None,
            staff_involved: involved.iter().map(|s| staff(s)).collect(),
            branch_involved: String::new(),
            tags: vec![],
            received_at_ms: complaints_plumbing::now_ms(),
            jurisdiction: "cn".into(),
            reply_due: None,
            customer_key: String::new(),
        };
        publish_event(&self.js, &id, &number, LifecycleEvent::Received(received)).await;
        let handler = staff("RO-001");
        let assigned = ComplaintAssigned {
            department: "retail_operations".into(),
            handler,
            grade: Grade::Yellow,
            category: "service".into(),
            recused_staff: vec![],
            jurisdiction: "cn".into(),
        };
        publish_event(&self.js, &id, &number, LifecycleEvent::Assigned(assigned)).await;
        let proposal_id = ProposalId::generate();
        let proposed = ResolutionProposed { proposal_id: proposal_id.clone(), resolution: compensation(yuan), proposed_by: staff(proposer), department: "retail_operations".into() };
        publish_event(&self.js, &id, &number, LifecycleEvent::ResolutionProposed(proposed)).await;
        let facts = format!(
            "SELECT COUNT(*) FROM involvements i JOIN approvals a ON a.complaint_id = i.complaint_id WHERE i.complaint_id = '{id}'"
        );
        let (this, facts) = (self, facts.as_str());
        eventually("approval to know the complaint and its proposal", WAIT, move || async move {
            (this.count(facts).await == 1).then_some(())
        })
        .await;
        Proposed { id, number: number.to_string(), proposal_id }
    }

    async fn view(&self, proposed: &Proposed) -> pb::ApprovalView {
        let request = pb::GetApprovalRequest { complaint_number: proposed.number.clone() };
        self.client().await.get_approval(authorized(request, &self.env.auth.staff("CS-001"))).await.expect("view").into_inner()
    }

    async fn approve_with(&self, proposed: &Proposed, token: &str) -> Result<pb::ApprovalView, Status> {
        let request = pb::DecideRequest { complaint_number: proposed.number.clone(), comment: String::new() };
        self.client().await.approve(authorized(request, token)).await.map(tonic::Response::into_inner)
    }

    async fn approve(&self, proposed: &Proposed, approver: &str) -> Result<pb::ApprovalView, Status> {
        self.approve_with(proposed, &self.env.auth.staff(approver)).await
    }

    /// The `resolution_approved` events approval wrote for `proposed`.
    async fn approvals_announced(&self, proposed: &Proposed) -> Vec<complaints_domain::events::ResolutionApproved> {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(approval::SERVICE)).await.expect("store");
        let payloads: Vec<String> =
            sqlx::query_scalar("SELECT payload FROM outbox WHERE subject = 'cms.complaint.resolution_approved' AND complaint_id = $1")
                .bind(proposed.id.as_str())
                .fetch_all(&pool)
                .await
                .expect("outbox");
        payloads
            .iter()
            .map(|payload| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(payload).expect("base64");
                match complaints_plumbing::events::decode(&bytes).expect("a valid event from approval").event {
                    LifecycleEvent::ResolutionApproved(approved) => approved,
                    other => panic!("not a resolution_approved event: {other:?}"),
                }
            })
            .collect()
    }
}

fn denied(result: Result<pb::ApprovalView, Status>, who: &str, reason: &str) {
    let status = result.expect_err(who);
    assert_eq!(status.code(), Code::PermissionDenied, "{who}: {status:?}");
    assert!(status.message().contains(reason), "{who}: expected {reason:?} in {:?}", status.message());
}

fn unauthenticated(result: Result<pb::ApprovalView, Status>, what: &str) {
    let status = result.expect_err(what);
    assert_eq!(status.code(), Code::Unauthenticated, "{what}: {status:?}");
}

#[tokio::test]
async fn nobody_signs_outside_their_authority() {
    let approval = TestApproval::start().await;
    let small = approval.propose(1, &[], 500, "RO-001").await;
    let medium_naming_the_vp = approval.propose(2, &["BVP-BJ"], 5_000, "RO-001").await;
    let medium = approval.propose(3, &[], 5_000, "RO-001").await;
    let small_by_the_head = approval.propose(4, &[], 500, "RO-HEAD").await;
    assert_eq!(approval.view(&small).await.level, "department_head");
    assert_eq!(approval.view(&medium).await.level, "branch_vice_president");

    denied(approval.approve(&small, "RO-002").await, "a handler", "does not hold the role department_head");
    denied(approval.approve(&medium, "RO-HEAD").await, "a department head above their level", "does not hold the role branch_vice_president");
    denied(approval.approve(&medium_naming_the_vp, "BVP-BJ").await, "an approver named in the complaint", "recused");
    denied(approval.approve(&small, "RO-001").await, "the proposer, a handler", "the proposer may not approve");
    denied(approval.approve(&small_by_the_head, "RO-HEAD").await, "the proposer, a department head", "the proposer may not approve");
    denied(approval.approve(&small, "DB-HEAD").await, "the head of another department", "only for the line in charge of retail_operations");
    denied(approval.approve(&small, "NOBODY").await, "staff unknown to the directory", "not in the organisation directory");
    denied(approval.approve_with(&small, &approval.env.auth.channel("app")).await, "a channel system", "is not a member of staff");

    let mut client = approval.client().await;
    let request = pb::DecideRequest { complaint_number: small.number.clone(), comment: String::new() };
    unauthenticated(client.approve(request).await.map(tonic::Response::into_inner), "no token");
    unauthenticated(approval.approve_with(&small, &TestAuth::new().staff("RO-HEAD")).await, "a token signed by another key");
    let expired = {
        let mut claims = approval.env.auth.signer.claims("RO-HEAD", &["staff"], Duration::from_secs(60));
        claims["exp"] = serde_json::json!(complaints_plumbing::now_ms() / 1000 - 3600);
        approval.env.auth.signer.mint_with(claims).expect("mint")
    };
    unauthenticated(approval.approve_with(&small, &expired).await, "an expired token");

    for proposed in [&small, &medium_naming_the_vp, &medium, &small_by_the_head] {
        let view = approval.view(proposed).await;
        assert_eq!(view.status, "pending", "{}", proposed.number);
        assert!(view.approvers.is_empty(), "{}", proposed.number);
        assert_eq!(view.proposal_id, proposed.proposal_id.to_string());
    }
    assert_eq!(approval.count("SELECT COUNT(*) FROM signatures").await, 0);
    assert_eq!(approval.count("SELECT COUNT(*) FROM outbox WHERE subject NOT LIKE 'cms.complaint.clock%'").await, 0);
    // Each proposal started its approval clock (1 working day), still running.
    assert_eq!(approval.count("SELECT COUNT(*) FROM clocks WHERE kind = 'approval' AND state = 'running'").await, 4);
}

#[tokio::test]
async fn the_department_head_and_the_vice_president_in_charge_approve_their_levels() {
    let approval = TestApproval::start().await;
    let small = approval.propose(1, &[], 500, "RO-001").await;
    let medium = approval.propose(2, &[], 5_000, "RO-001").await;

    let approved = approval.approve(&small, "RO-HEAD").await.expect("the head of retail operations approves 500 CNY");
    assert_eq!(approved.status, "approved");
    assert_eq!(approved.level, "department_head");
    assert_eq!(approved.approvers, ["RO-HEAD"]);
    assert!(approved.pending_roles.is_empty());
    let announced = approval.approvals_announced(&small).await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].proposal_id, small.proposal_id);
    assert_eq!(announced[0].approval_level, ApprovalLevel::DepartmentHead);
    assert_eq!(announced[0].approvers, [staff("RO-HEAD")]);
    assert_eq!(announced[0].resolution, compensation(500));

    let again = approval.approve(&small, "RO-HEAD").await.expect_err("already approved");
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");

    let approved = approval.approve(&medium, "BVP-BJ").await.expect("the vice president in charge approves 5,000 CNY");
    assert_eq!(approved.status, "approved");
    assert_eq!(approved.level, "branch_vice_president");
    assert_eq!(approved.approvers, ["BVP-BJ"]);
    let announced = approval.approvals_announced(&medium).await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].approval_level, ApprovalLevel::BranchVicePresident);
    assert_eq!(announced[0].approvers, [staff("BVP-BJ")]);
    assert_eq!(approval.count("SELECT COUNT(*) FROM outbox WHERE subject NOT LIKE 'cms.complaint.clock%'").await, 2);
    // Both decisions met their approval clocks.
    assert_eq!(approval.count("SELECT COUNT(*) FROM clocks WHERE kind = 'approval' AND state = 'met'").await, 2);
}

#[tokio::test]
async fn head_office_needs_risk_and_legal_first_then_the_senior_executive() {
    let approval = TestApproval::start().await;
    let large = approval.propose(1, &[], 50_000, "RO-001").await;
    let view = approval.view(&large).await;
    assert_eq!(view.level, "head_office");
    assert_eq!(view.pending_roles, ["head_office_risk_legal", "senior_executive"]);

    denied(approval.approve(&large, "HO-EXEC").await, "the senior executive before risk and legal", "head_office_risk_legal");
    let first = approval.approve(&large, "HO-RISK").await.expect("risk and legal signs first");
    assert_eq!(first.status, "pending");
    assert_eq!(first.pending_roles, ["senior_executive"]);
    assert_eq!(first.approvers, ["HO-RISK"]);
    assert!(approval.approvals_announced(&large).await.is_empty(), "one signature of two announces nothing");
    denied(approval.approve(&large, "HO-RISK").await, "risk and legal signing twice", "already signed");
    denied(approval.approve(&large, "BVP-SH").await, "a vice president at head-office level", "senior_executive");

    let approved = approval.approve(&large, "HO-EXEC").await.expect("the senior executive signs second");
    assert_eq!(approved.status, "approved");
    assert_eq!(approved.approvers, ["HO-RISK", "HO-EXEC"]);
    assert!(approved.pending_roles.is_empty());
    let announced = approval.approvals_announced(&large).await;
    assert_eq!(announced.len(), 1);
    assert_eq!(announced[0].approval_level, ApprovalLevel::HeadOffice);
    assert_eq!(announced[0].approvers, [staff("HO-RISK"), staff("HO-EXEC")]);
    assert_eq!(approval.count("SELECT COUNT(*) FROM signatures").await, 2);
}

#[tokio::test]
async fn returning_for_rework_needs_a_comment_and_ends_the_proposal() {
    let approval = TestApproval::start().await;
    let small = approval.propose(1, &[], 500, "RO-001").await;
    let mut client = approval.client().await;
    let head = approval.env.auth.staff("RO-HEAD");

    let request = pb::DecideRequest { complaint_number: small.number.clone(), comment: "  ".into() };
    let status = client.return_for_rework(authorized(request, &head)).await.expect_err("no comment");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().starts_with("comment:"), "{}", status.message());

    let request = pb::DecideRequest { complaint_number: small.number.clone(), comment: "attach the statement".into() };
    let status = client.return_for_rework(authorized(request.clone(), &approval.env.auth.staff("RO-002"))).await.expect_err("a handler");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let returned = client.return_for_rework(authorized(request, &head)).await.expect("returned").into_inner();
    assert_eq!(returned.status, "returned");
    assert_eq!(approval.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.resolution_returned'").await, 1);

    let status = approval.approve(&small, "RO-HEAD").await.expect_err("a returned proposal is decided");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(approval.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.resolution_approved'").await, 0);
}
