//! Investigation against the running service (in-process, real nats-server and SQLite, its own
//! signing key), playing routing, approval, notification and intake by publishing their events:
//! a case opens on assignment; only its handler or its department's head works it; a proposal
//! needs a finding and waits for one decision at a time; stale approval decisions change
//! nothing; the remedy is executed only once accepted, and is announced with the executor.

use std::time::Duration;

use base64::Engine as _;
use complaints_domain::events::{
    ComplaintAssigned, CustomerNotified, CustomerResponded, CustomerResponse, NotificationKind, Resolution, ResolutionApproved,
    ResolutionReturned, ResolutionType,
};
use complaints_domain::{ApprovalLevel, Channel, ComplaintId, ComplaintNumber, EventId, Grade, LifecycleEvent, Money, ProposalId, StaffId};
use complaints_plumbing::store::Backend;
use complaints_plumbing::testing::{authorized, eventually, publish_event, SpawnedApp, TestEnv};
use complaints_proto::v1 as pb;
use complaints_proto::v1::investigation_client::InvestigationClient;
use sha2::{Digest, Sha256};
use tonic::transport::Channel as GrpcChannel;
use tonic::Code;

const WAIT: Duration = Duration::from_secs(20);

fn staff(id: &str) -> StaffId {
    StaffId::parse("staff", id).expect("staff id")
}

fn refund() -> Resolution {
    Resolution {
        kind: ResolutionType::PartialRefund,
        amount: Some(Money { minor_units: 20_000, currency: "CNY".into() }),
        conclusion: "The second annual fee was charged in error.".into(),
        basis: "Card terms, section 4.2".into(),
        execution_method: "Credit to the card account".into(),
    }
}

/// Investigation started in-process on its own nats-server, store and key, with one complaint.
struct TestInvestigation {
    app: SpawnedApp,
    env: TestEnv,
    js: async_nats::jetstream::Context,
    id: ComplaintId,
    number: ComplaintNumber,
}

impl TestInvestigation {
    async fn start() -> Self {
        let env = TestEnv::new(Backend::Sqlite);
        let config = investigation::Config { common: env.common(investigation::SERVICE), max_evidence_bytes: 3 * 1024 * 1024 };
        let app = SpawnedApp::spawn(|token| investigation::Application::start(config, token)).await;
        let js = async_nats::jetstream::new(env.nats.connect().await);
        let number = ComplaintNumber::parse("complaint_number", "T-20260101-000001").expect("number");
        Self { app, env, js, id: ComplaintId::generate(), number }
    }

    /// Starts with the complaint assigned to RO-001 in retail operations and its case open.
    async fn with_open_case() -> Self {
        let investigation = Self::start().await;
        investigation
            .publish(LifecycleEvent::Assigned(ComplaintAssigned {
                department: "retail_operations".into(),
                handler: staff("RO-001"),
                grade: Grade::Yellow,
                category: "fees".into(),
                recused_staff: vec![],
                jurisdiction: "cn".into(),
            }))
            .await;
        investigation.status_becomes("investigating").await;
        investigation
    }

    async fn client(&self) -> InvestigationClient<GrpcChannel> {
        InvestigationClient::new(self.app.channel().await)
    }

    fn token(&self, staff_id: &str) -> String {
        self.env.auth.staff(staff_id)
    }

    async fn publish(&self, event: LifecycleEvent) -> EventId {
        publish_event(&self.js, &self.id, &self.number, event).await
    }

    async fn count(&self, sql: &str) -> i64 {
        let pool = sqlx::any::AnyPoolOptions::new().connect(&self.env.stores.url(investigation::SERVICE)).await.expect("store");
        sqlx::query_scalar(sql).fetch_one(&pool).await.expect("count")
    }

    async fn case(&self) -> Option<pb::CaseView> {
        let mut client = self.client().await;
        let request = pb::GetCaseRequest { complaint_number: self.number.to_string() };
        client.get_case(authorized(request, &self.token("RO-001"))).await.ok().map(tonic::Response::into_inner)
    }

    async fn status_becomes(&self, status: &str) -> pb::CaseView {
        let this = self;
        eventually(&format!("the case to become {status}"), WAIT, move || async move { this.case().await.filter(|case| case.status == status) })
            .await
    }

    /// Waits until the consumer has processed event `event_id` (its inbox claim committed).
    async fn processed(&self, event_id: &EventId) {
        let sql = format!("SELECT COUNT(*) FROM inbox WHERE event_id = '{event_id}'");
        let (this, sql) = (self, sql.as_str());
        eventually("the event to be processed", WAIT, move || async move { (this.count(sql).await == 1).then_some(()) }).await;
    }

    fn evidence(&self, content: &[u8]) -> pb::RegisterEvidenceRequest {
        pb::RegisterEvidenceRequest {
            complaint_number: self.number.to_string(),
            kind: "statement".into(),
            description: "Card statement for March".into(),
            content: content.to_vec(),
        }
    }

    fn proposal(&self) -> pb::ProposeResolutionRequest {
        pb::ProposeResolutionRequest { complaint_number: self.number.to_string(), resolution: Some(pb::Resolution::from(&refund())) }
    }

    fn execution(&self) -> pb::RecordExecutionRequest {
        pb::RecordExecutionRequest { complaint_number: self.number.to_string(), reference: "TX-42".into(), nothing_to_execute: false }
    }
}

#[tokio::test]
async fn a_case_opens_on_assignment_and_only_its_workers_register_evidence() {
    let investigation = TestInvestigation::with_open_case().await;
    let case = investigation.case().await.expect("case");
    assert_eq!(case.complaint_id, investigation.id.to_string());
    assert_eq!(case.handler_id, "RO-001");
    assert_eq!(case.department, "retail_operations");
    assert!(case.evidence.is_empty() && case.findings.is_empty() && case.proposal_id.is_empty());
    let mut client = investigation.client().await;

    let content = b"statement: annual fee 2 x 300.00 CNY";
    let evidence = client
        .register_evidence(authorized(investigation.evidence(content), &investigation.token("RO-001")))
        .await
        .expect("the handler registers evidence")
        .into_inner();
    assert_eq!(evidence.evidence_number, 1);
    assert_eq!(evidence.sha256, hex::encode(Sha256::digest(content)));
    assert_eq!(evidence.registered_by, "RO-001");
    assert_eq!(evidence.kind, "statement");

    let status = client
        .register_evidence(authorized(investigation.evidence(b"other"), &investigation.token("RO-002")))
        .await
        .expect_err("another handler");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client
        .register_evidence(authorized(investigation.evidence(b"other"), &investigation.token("CS-HEAD")))
        .await
        .expect_err("the head of another department");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let status = client.register_evidence(investigation.evidence(b"other")).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");

    let by_head = client
        .register_evidence(authorized(investigation.evidence(b"second"), &investigation.token("RO-HEAD")))
        .await
        .expect("the head of the case's department registers evidence")
        .into_inner();
    assert_eq!(by_head.evidence_number, 2);
    assert_eq!(by_head.registered_by, "RO-HEAD");

    assert_eq!(investigation.count("SELECT COUNT(*) FROM evidence").await, 2);
    assert_eq!(investigation.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.evidence_registered'").await, 2);
    assert_eq!(investigation.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.investigation_opened'").await, 1);
    let case = investigation.case().await.expect("case");
    let numbers: Vec<u32> = case.evidence.iter().map(|e| e.evidence_number).collect();
    assert_eq!(numbers, [1, 2]);
}

#[tokio::test]
async fn a_resolution_needs_a_finding_and_follows_the_approval_decisions_to_execution() {
    let investigation = TestInvestigation::with_open_case().await;
    let mut client = investigation.client().await;
    let handler = investigation.token("RO-001");

    let status = client.propose_resolution(authorized(investigation.proposal(), &handler)).await.expect_err("no finding yet");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("finding"), "{}", status.message());

    let finding = pb::RecordFindingRequest { complaint_number: investigation.number.to_string(), finding: "Fee taken twice on 3 March".into() };
    client.record_finding(authorized(finding, &handler)).await.expect("finding recorded");
    let proposed = client.propose_resolution(authorized(investigation.proposal(), &handler)).await.expect("proposed").into_inner();
    assert_eq!(proposed.status, "awaiting_approval");
    assert_eq!(proposed.proposed_resolution, Some(pb::Resolution::from(&refund())));
    let first = ProposalId::parse("proposal_id", &proposed.proposal_id).expect("proposal id");

    let status = client.propose_resolution(authorized(investigation.proposal(), &handler)).await.expect_err("one proposal at a time");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    // Approval returns it: back to investigating; a new proposal replaces it.
    investigation
        .publish(LifecycleEvent::ResolutionReturned(ResolutionReturned {
            proposal_id: first.clone(),
            returned_by: staff("RO-HEAD"),
            reason: "attach the statement".into(),
        }))
        .await;
    investigation.status_becomes("investigating").await;
    let again = client.propose_resolution(authorized(investigation.proposal(), &handler)).await.expect("proposed again").into_inner();
    assert_eq!(again.status, "awaiting_approval");
    assert_ne!(again.proposal_id, first.to_string());
    let second = ProposalId::parse("proposal_id", &again.proposal_id).expect("proposal id");

    // An approval of the returned proposal is stale: nothing moves.
    let approve = |proposal_id: ProposalId| {
        LifecycleEvent::ResolutionApproved(ResolutionApproved {
            proposal_id,
            resolution: refund(),
            approval_level: ApprovalLevel::DepartmentHead,
            approvers: vec![staff("RO-HEAD")],
        })
    };
    let stale = investigation.publish(approve(first)).await;
    investigation.processed(&stale).await;
    let case = investigation.case().await.expect("case");
    assert_eq!(case.status, "awaiting_approval", "a decision on an old proposal changes nothing");
    assert_eq!(case.proposal_id, second.to_string());

    let status = client.record_execution(authorized(investigation.execution(), &handler)).await.expect_err("not accepted yet");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    investigation.publish(approve(second)).await;
    investigation.status_becomes("approved").await;
    let status = client.record_execution(authorized(investigation.execution(), &handler)).await.expect_err("approved is not accepted");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    investigation
        .publish(LifecycleEvent::CustomerNotified(CustomerNotified { delivery_id: "D-1".into(), kind: NotificationKind::Result, channel: Channel::Sms }))
        .await;
    investigation
        .publish(LifecycleEvent::CustomerResponded(CustomerResponded {
            response: CustomerResponse::Accepted,
            comment: String::new(),
            recorded_by: "channel:app".into(),
            by_silence: false,
        }))
        .await;
    investigation.status_becomes("accepted").await;

    let status =
        client.record_execution(authorized(investigation.execution(), &investigation.token("RO-002"))).await.expect_err("another handler");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let executed = client.record_execution(authorized(investigation.execution(), &handler)).await.expect("executed").into_inner();
    assert_eq!(executed.status, "awaiting_follow_up");
    assert_eq!(investigation.count("SELECT COUNT(*) FROM executions WHERE executed_by = 'RO-001' AND reference = 'TX-42'").await, 1);
    assert_eq!(investigation.count("SELECT COUNT(*) FROM executions").await, 1);
    assert_eq!(investigation.count("SELECT COUNT(*) FROM outbox WHERE subject = 'cms.complaint.remedy_executed'").await, 1);

    // The announcement names the executor and the approved amount.
    let pool = sqlx::any::AnyPoolOptions::new().connect(&investigation.env.stores.url(investigation::SERVICE)).await.expect("store");
    let payload: String = sqlx::query_scalar("SELECT payload FROM outbox WHERE subject = 'cms.complaint.remedy_executed'")
        .fetch_one(&pool)
        .await
        .expect("outbox row");
    let bytes = base64::engine::general_purpose::STANDARD.decode(payload).expect("base64");
    let envelope = complaints_plumbing::events::decode(&bytes).expect("a valid event from investigation");
    let LifecycleEvent::RemedyExecuted(remedy) = envelope.event else { panic!("not a remedy_executed event: {:?}", envelope.event) };
    assert_eq!(remedy.executed_by, staff("RO-001"));
    assert_eq!(remedy.reference, "TX-42");
    assert_eq!(remedy.amount, refund().amount);
    assert_eq!(envelope.meta.complaint_id, investigation.id);
}
