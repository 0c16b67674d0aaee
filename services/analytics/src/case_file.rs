//! The archived case file: every event of a complaint, kept as a record while the complaint is
//! worked, sealed into one document when `archived` arrives.
//!
//! Each event is journalled as the canonical JSON of its protobuf payload (proto field names),
//! so the file carries whatever the event catalogue carries — a new event kind needs no code
//! here beyond its section. The customer's contact travels sealed for notification and is left out; the clear
//! values stay in intake's protected store. The document is JSON (`cms.case_file.v1`) with a
//! SHA-256 over its exact bytes, and an HTML rendering of the same content that names the hash.
//! Both are written once, in the transaction that applies `archived`, and never replaced.

use std::sync::LazyLock;

use complaints_domain::events::{EventKind, LifecycleEvent, SealedContact};
use complaints_plumbing::format_ms;
use complaints_plumbing::store::{StoreError, Tx};
use complaints_proto::v1 as pb;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use serde_json::{json, Map, Value};
use sqlx::Row;

use crate::store::{self, ClockRow, TimelineRow};

/// The format name inside every document; a reader refuses what it does not know.
pub const FORMAT: &str = "cms.case_file.v1";

/// The sections of a case file, in document order, and the events each gathers.
const SECTIONS: &[(&str, &[EventKind])] = &[
    ("registration", &[EventKind::Received]),
    (
        "classification_and_assignment",
        &[
            EventKind::Triaged,
            EventKind::Assigned,
            EventKind::Reassigned,
            EventKind::RepeatDetected,
            EventKind::MergedInto,
            EventKind::JoinedMassIncident,
            EventKind::LeftMassIncident,
        ],
    ),
    (
        "investigation",
        &[
            EventKind::InvestigationOpened,
            EventKind::ClockStopped,
            EventKind::ClockRestarted,
            EventKind::ExtensionRequested,
            EventKind::ExtensionDecided,
            EventKind::DeadlineExtended,
            EventKind::MarkedOutOfScope,
            EventKind::ReviewDecided,
        ],
    ),
    ("evidence_register", &[EventKind::EvidenceRegistered]),
    ("resolution", &[EventKind::ResolutionProposed, EventKind::ResolutionReturned]),
    ("approvals", &[EventKind::ResolutionApproved]),
    ("customer_feedback", &[EventKind::CustomerResponded, EventKind::ReviewRequested, EventKind::FollowUpRecorded]),
    ("execution", &[EventKind::RemedyExecuted]),
    ("notices", &[EventKind::CustomerNotified, EventKind::UnifiedStatement]),
    ("clock_alerts", &[EventKind::ClockWarning, EventKind::ClockBreached]),
    ("outcome", &[EventKind::Closed, EventKind::Withdrawn, EventKind::Archived, EventKind::CustomerErased]),
];

/// The section an event kind belongs to; `None` for clock bookkeeping (`clocks_changed`),
/// which the file shows as the final clock table instead.
fn section_of(kind: EventKind) -> Option<&'static str> {
    SECTIONS.iter().find(|(_, kinds)| kinds.contains(&kind)).map(|(name, _)| *name)
}

static ENVELOPE: LazyLock<MessageDescriptor> = LazyLock::new(|| {
    let pool = DescriptorPool::decode(complaints_proto::FILE_DESCRIPTOR_SET).expect("the descriptor set compiled into complaints-proto decodes");
    pool.get_message_by_name("complaints.v1.EventEnvelope").expect("EventEnvelope is in the descriptor set")
});

/// The event's payload as canonical JSON (proto field names, 64-bit integers as numbers), with
/// the customer's contact (sealed for notification) left out.
pub fn record_of(event: &LifecycleEvent) -> Result<Value, StoreError> {
    let masked;
    let event = match event {
        LifecycleEvent::Received(received) => {
            let mut copy = received.clone();
            // Sealed for notification: meaningless here, and no business of the case file.
            copy.contact = SealedContact::default();
            masked = LifecycleEvent::Received(copy);
            &masked
        }
        other => other,
    };
    let envelope = pb::EventEnvelope { payload: Some(event.into()), ..Default::default() };
    let corrupt = |detail: String| StoreError::Corrupt { table: "case_journal", column: "record", detail };
    let dynamic = DynamicMessage::decode(ENVELOPE.clone(), envelope.encode_to_vec().as_slice()).map_err(|e| corrupt(e.to_string()))?;
    let options = SerializeOptions::new().use_proto_field_name(true).stringify_64_bit_integers(false);
    let value = dynamic.serialize_with_options(serde_json::value::Serializer, &options).map_err(|e| corrupt(e.to_string()))?;
    // `{"received": {...}}`: the payload is the one member.
    Ok(match value {
        Value::Object(members) => members.into_iter().next().map(|(_, payload)| payload).unwrap_or(Value::Null),
        other => other,
    })
}

/// One journalled event.
pub struct JournalEntry<'a> {
    pub event_id: &'a str,
    pub complaint_id: &'a str,
    pub occurred_at_ms: i64,
    pub kind: EventKind,
    pub producer: &'a str,
}

/// Journals an event's record (once: the event id is the key). Clock bookkeeping is not
/// journalled: the case file shows the final clock table instead.
pub async fn journal(tx: &mut Tx, entry: &JournalEntry<'_>, event: &LifecycleEvent) -> Result<(), StoreError> {
    if section_of(entry.kind).is_none() {
        return Ok(());
    }
    let record = record_of(event)?;
    sqlx::query(
        "INSERT INTO case_journal (event_id, complaint_id, occurred_at_ms, kind, producer, record) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(entry.event_id)
    .bind(entry.complaint_id)
    .bind(entry.occurred_at_ms)
    .bind(entry.kind.as_str())
    .bind(entry.producer)
    .bind(record.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A sealed case file.
pub struct CaseFile {
    pub complaint_number: String,
    pub sha256: String,
    pub json: String,
    pub html: String,
    pub archived_at_ms: i64,
}

/// Builds and stores the case file of `complaint_id` from its journal, clocks and timeline. A
/// complaint has one case file: a second `archived` (there is none in the lifecycle) would
/// change nothing.
pub async fn seal(tx: &mut Tx, complaint_id: &str, complaint_number: &str, archived_at_ms: i64) -> Result<CaseFile, StoreError> {
    let rows = sqlx::query("SELECT event_id, occurred_at_ms, kind, producer, record FROM case_journal WHERE complaint_id = $1 ORDER BY occurred_at_ms, event_id")
        .bind(complaint_id)
        .fetch_all(&mut **tx)
        .await?;
    let mut sections: Map<String, Value> = SECTIONS.iter().map(|(name, _)| ((*name).to_owned(), Value::Array(Vec::new()))).collect();
    let mut archived_by = String::new();
    for row in &rows {
        let kind_name: String = row.try_get("kind")?;
        let kind = EventKind::parse(&kind_name).ok_or_else(|| StoreError::Corrupt {
            table: "case_journal",
            column: "kind",
            detail: format!("unknown event kind {kind_name:?}"),
        })?;
        let record: String = row.try_get("record")?;
        let data: Value = serde_json::from_str(&record)
            .map_err(|e| StoreError::Corrupt { table: "case_journal", column: "record", detail: e.to_string() })?;
        if kind == EventKind::Archived {
            archived_by = data.get("archived_by").and_then(Value::as_str).unwrap_or_default().to_owned();
        }
        let Some(section) = section_of(kind) else { continue };
        let at: i64 = row.try_get("occurred_at_ms")?;
        let entry = json!({
            "event_id": row.try_get::<String, _>("event_id")?,
            "kind": kind.as_str(),
            "at": format_ms(at),
            "producer": row.try_get::<String, _>("producer")?,
            "data": data,
        });
        if let Some(Value::Array(entries)) = sections.get_mut(section) {
            entries.push(entry);
        }
    }
    let clocks = store::clocks_of(&mut **tx, complaint_id).await?;
    let timeline = store::timeline(&mut **tx, complaint_id).await?;
    let document = json!({
        "format": FORMAT,
        "complaint_id": complaint_id,
        "complaint_number": complaint_number,
        "archived_at": format_ms(archived_at_ms),
        "archived_by": archived_by,
        "event_count": rows.len(),
        "sections": sections,
        "clocks": clocks.iter().map(clock_json).collect::<Vec<_>>(),
        "timeline": timeline.iter().map(timeline_json).collect::<Vec<_>>(),
    });
    let json = serde_json::to_string_pretty(&document)
        .map_err(|e| StoreError::Corrupt { table: "case_files", column: "document", detail: e.to_string() })?;
    let sha256 = complaints_plumbing::sha256_hex(json.as_bytes());
    let html = render_html(&document, &sha256);
    sqlx::query(
        "INSERT INTO case_files (complaint_id, complaint_number, sha256, document, html, archived_at_ms) VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (complaint_id) DO NOTHING",
    )
    .bind(complaint_id)
    .bind(complaint_number)
    .bind(&sha256)
    .bind(&json)
    .bind(&html)
    .bind(archived_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(CaseFile { complaint_number: complaint_number.to_owned(), sha256, json, html, archived_at_ms })
}

/// The sealed case file of a complaint (by id or number), if it is archived.
pub async fn find(pool: &sqlx::AnyPool, key: &str) -> Result<Option<CaseFile>, StoreError> {
    let row = sqlx::query(
        "SELECT complaint_number, sha256, document, html, archived_at_ms FROM case_files WHERE complaint_id = $1 OR complaint_number = $1",
    )
    .bind(key)
    .fetch_optional(pool)
    .await?;
    row.map(|r| -> Result<CaseFile, StoreError> {
        Ok(CaseFile {
            complaint_number: r.try_get("complaint_number")?,
            sha256: r.try_get("sha256")?,
            json: r.try_get("document")?,
            html: r.try_get("html")?,
            archived_at_ms: r.try_get("archived_at_ms")?,
        })
    })
    .transpose()
}

fn clock_json(row: &ClockRow) -> Value {
    let clock = &row.clock;
    let at = |ms: Option<i64>| ms.map(format_ms);
    json!({
        "kind": clock.kind.as_str(),
        "round": clock.round,
        "state": clock.state.as_str(),
        "owner_service": row.producer,
        "jurisdiction": clock.jurisdiction,
        "calendar": clock.calendar,
        "period": clock.period,
        "started_at": format_ms(clock.started_at_ms),
        "due_local": clock.due_local,
        "provisional": clock.provisional,
        "ended_at": at(clock.ended_at_ms),
        "warned_at": at(clock.warned_at_ms),
        "breached_at": at(clock.breached_at_ms),
        "extensions": clock.extensions,
        "basis": clock.basis,
    })
}

fn timeline_json(row: &TimelineRow) -> Value {
    json!({
        "at": format_ms(row.occurred_at_ms),
        "stage": row.stage,
        "actor": row.actor,
        "detail": row.detail,
        "producer": row.producer,
        "event_id": row.event_id,
        "trace_id": row.trace_id,
    })
}

/// Escapes text for HTML element content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A JSON value as a line of text: strings bare, anything else compact JSON.
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn heading(name: &str) -> String {
    let mut words = name.replace('_', " ");
    if let Some(first) = words.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    words
}

/// The human-readable rendering: a header, one table per section, the clocks and the
/// timeline, and the SHA-256 of the JSON document it renders.
pub fn render_html(document: &Value, sha256: &str) -> String {
    let field = |name: &str| escape(&plain(&document[name]));
    let mut html = String::new();
    html.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    html.push_str(&format!("<title>Case file {}</title>\n", field("complaint_number")));
    html.push_str(
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;width:100%;margin-bottom:1.5em}\
         th,td{border:1px solid #999;padding:4px;text-align:left;vertical-align:top}th{background:#eee}\
         code{word-break:break-all}</style>\n</head>\n<body>\n",
    );
    html.push_str(&format!("<h1>Case file {}</h1>\n", field("complaint_number")));
    html.push_str("<table>\n");
    for (label, name) in [("Complaint id", "complaint_id"), ("Archived at", "archived_at"), ("Archived by", "archived_by"), ("Format", "format"), ("Events", "event_count")] {
        html.push_str(&format!("<tr><th>{label}</th><td>{}</td></tr>\n", field(name)));
    }
    html.push_str(&format!("<tr><th>SHA-256 of the JSON document</th><td><code id=\"sha256\">{}</code></td></tr>\n</table>\n", escape(sha256)));
    for (name, _) in SECTIONS {
        html.push_str(&format!("<h2 id=\"{name}\">{}</h2>\n", heading(name)));
        let entries = document["sections"][*name].as_array().cloned().unwrap_or_default();
        if entries.is_empty() {
            html.push_str("<p>None.</p>\n");
            continue;
        }
        html.push_str("<table>\n<tr><th>At</th><th>Event</th><th>By</th><th>Record</th></tr>\n");
        for entry in &entries {
            let mut record = String::new();
            if let Value::Object(members) = &entry["data"] {
                for (key, value) in members {
                    record.push_str(&format!("<div><b>{}</b>: {}</div>", escape(key), escape(&plain(value))));
                }
            }
            html.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{record}</td></tr>\n",
                escape(&plain(&entry["at"])),
                escape(&plain(&entry["kind"])),
                escape(&plain(&entry["producer"])),
            ));
        }
        html.push_str("</table>\n");
    }
    html.push_str("<h2 id=\"clocks\">Clocks</h2>\n<table>\n<tr><th>Clock</th><th>State</th><th>Period</th><th>Started</th><th>Due (local)</th><th>Ended</th><th>Breached</th></tr>\n");
    for clock in document["clocks"].as_array().into_iter().flatten() {
        html.push_str("<tr>");
        for name in ["kind", "state", "period", "started_at", "due_local", "ended_at", "breached_at"] {
            html.push_str(&format!("<td>{}</td>", escape(&plain(&clock[name]))));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table>\n<h2 id=\"timeline\">Timeline</h2>\n<table>\n<tr><th>At</th><th>Stage</th><th>Actor</th><th>Detail</th></tr>\n");
    for line in document["timeline"].as_array().into_iter().flatten() {
        html.push_str("<tr>");
        for name in ["at", "stage", "actor", "detail"] {
            html.push_str(&format!("<td>{}</td>", escape(&plain(&line[name]))));
        }
        html.push_str("</tr>\n");
    }
    html.push_str(&format!(
        "</table>\n<p>This page renders the JSON case file whose SHA-256 is <code>{}</code>; \
         verify the JSON with <code>sha256sum</code>.</p>\n</body>\n</html>\n",
        escape(sha256)
    ));
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use complaints_domain::events::EventKind;

    #[test]
    fn every_kind_but_clock_bookkeeping_has_one_section() {
        for kind in EventKind::ALL {
            let sections = SECTIONS.iter().filter(|(_, kinds)| kinds.contains(&kind)).count();
            let expected = usize::from(kind != EventKind::ClocksChanged);
            assert_eq!(sections, expected, "{}", kind.as_str());
        }
    }

    #[test]
    fn html_escapes_what_it_renders() {
        assert_eq!(escape("<b>\"A&B's\"</b>"), "&lt;b&gt;&quot;A&amp;B&#39;s&quot;&lt;/b&gt;");
        let document = json!({"complaint_number": "<script>", "sections": {}, "clocks": [], "timeline": []});
        let html = render_html(&document, "ab");
        assert!(html.contains("Case file &lt;script&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn headings_read_as_words() {
        assert_eq!(heading("customer_feedback"), "Customer feedback");
    }
}
