//! The locked-down broker: one NATS user per service, authenticated by an NKey (a seed file
//! generated at set-up, never in the repository), allowed to publish only the subjects the
//! event catalogue names it the producer of, its own dead letters and audit heads, and to use
//! JetStream only through its own durable consumer (plus reading the audit stream). Replies come
//! to an inbox prefix of its own. The operator user (dead-letter replay, set-up, tests) is
//! unrestricted. [`server_authorization`] writes the `authorization` block of nats-server's
//! configuration from the same rules the services connect by.

use std::path::{Path, PathBuf};

use complaints_domain::events::EventKind;

use crate::events::{AUDIT_STREAM, AUDIT_SUBJECT_PREFIX, DEAD_LETTER_STREAM, DEAD_LETTER_SUBJECT_PREFIX, EVENTS_STREAM};

/// The six services, each a broker user.
pub const SERVICES: [&str; 6] = ["intake", "routing", "investigation", "approval", "notification", "analytics"];

/// The unrestricted broker user of operators.
pub const OPERATOR: &str = "operator";

/// The inbox prefix of `user`'s request replies (`_INBOX_<user>`), so no user can read
/// another's replies.
pub fn inbox_prefix(user: &str) -> String {
    format!("_INBOX_{user}")
}

/// What a broker user may publish and subscribe to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
}

/// The permissions of `service`, derived from the event catalogue.
pub fn permissions(service: &str) -> Permissions {
    let mut publish: Vec<String> = EventKind::ALL
        .into_iter()
        .filter(|kind| kind.catalogued_producers().contains(&service))
        .map(|kind| crate::events::subject(kind, service))
        .collect();
    publish.push(format!("{DEAD_LETTER_SUBJECT_PREFIX}{service}"));
    publish.push(format!("{AUDIT_SUBJECT_PREFIX}{service}"));
    // The topology every service ensures at start-up.
    for stream in [EVENTS_STREAM, DEAD_LETTER_STREAM, AUDIT_STREAM] {
        for operation in ["INFO", "CREATE", "UPDATE"] {
            publish.push(format!("$JS.API.STREAM.{operation}.{stream}"));
        }
    }
    // Its own durable consumer on the event stream, and nothing else of that stream.
    publish.extend([
        format!("$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.{service}"),
        format!("$JS.API.CONSUMER.CREATE.{EVENTS_STREAM}.{service}.>"),
        format!("$JS.API.CONSUMER.DURABLE.CREATE.{EVENTS_STREAM}.{service}"),
        format!("$JS.API.CONSUMER.INFO.{EVENTS_STREAM}.{service}"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{service}"),
        format!("$JS.ACK.{EVENTS_STREAM}.{service}.>"),
    ]);
    // Reading the published audit heads (verification).
    publish.extend([
        format!("$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}"),
        format!("$JS.API.CONSUMER.CREATE.{AUDIT_STREAM}.>"),
        format!("$JS.API.CONSUMER.INFO.{AUDIT_STREAM}.>"),
        format!("$JS.API.CONSUMER.DELETE.{AUDIT_STREAM}.>"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{AUDIT_STREAM}.>"),
        format!("$JS.API.STREAM.MSG.GET.{AUDIT_STREAM}"),
        format!("$JS.API.DIRECT.GET.{AUDIT_STREAM}.>"),
        format!("$JS.ACK.{AUDIT_STREAM}.>"),
    ]);
    Permissions { publish, subscribe: vec![format!("{}.>", inbox_prefix(service))] }
}

/// One user of the broker's configuration.
pub struct BrokerUser {
    /// The NKey public key (`U…`).
    pub public_key: String,
    /// `None`: unrestricted (the operator).
    pub permissions: Option<Permissions>,
}

fn quoted(items: &[String]) -> String {
    items.iter().map(|item| format!("\"{item}\"")).collect::<Vec<_>>().join(", ")
}

/// The `authorization { users = [...] }` block of nats-server's configuration.
pub fn server_authorization(users: &[BrokerUser]) -> String {
    let mut block = String::from("authorization {\n  users = [\n");
    for user in users {
        match &user.permissions {
            Some(permissions) => block.push_str(&format!(
                "    {{ nkey: \"{}\", permissions: {{ publish: {{ allow: [{}] }}, subscribe: {{ allow: [{}] }} }} }}\n",
                user.public_key,
                quoted(&permissions.publish),
                quoted(&permissions.subscribe)
            )),
            None => block.push_str(&format!("    {{ nkey: \"{}\" }}\n", user.public_key)),
        }
    }
    block.push_str("  ]\n}\n");
    block
}

/// The broker's TLS certificate and key (PEM files): with them, every client must use TLS.
#[derive(Debug, Clone)]
pub struct ServerTls {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// A nats-server configuration listening on `listen` (`host:port`; port -1: the server picks
/// one), with JetStream storing in `store_dir`, locked down to the users whose seeds
/// [`ensure_users`] keeps in `users_dir`, and with `tls` TLS only.
pub fn server_config(listen: &str, store_dir: &Path, users_dir: &Path, tls: Option<&ServerTls>) -> anyhow::Result<String> {
    let authorization = ensure_users(users_dir)?;
    let tls = tls
        .map(|tls| format!("tls {{\n  cert_file: \"{}\"\n  key_file: \"{}\"\n}}\n", tls.cert_file.display(), tls.key_file.display()))
        .unwrap_or_default();
    Ok(format!("listen: \"{listen}\"\njetstream {{\n  store_dir: \"{}\"\n}}\n{tls}{authorization}", store_dir.display()))
}

/// The seed file of `user` in `directory`.
pub fn seed_file(directory: &Path, user: &str) -> PathBuf {
    directory.join(format!("{user}.nk"))
}

/// Makes sure every service and the operator have an NKey seed in `directory` (generated once,
/// readable by the owner only) and returns the broker's `authorization` block for them, also
/// written to `directory/authorization.conf` (public keys and permissions only, no secrets).
pub fn ensure_users(directory: &Path) -> anyhow::Result<String> {
    std::fs::create_dir_all(directory)?;
    let mut users = Vec::new();
    for user in SERVICES.into_iter().chain([OPERATOR]) {
        let path = seed_file(directory, user);
        let seed = match std::fs::read_to_string(&path) {
            Ok(seed) => seed.trim().to_owned(),
            Err(_) => {
                let seed = nkeys::KeyPair::new_user().seed().map_err(|e| anyhow::anyhow!("generating an NKey: {e}"))?;
                crate::write_private(&path, &seed)?;
                seed
            }
        };
        let pair = nkeys::KeyPair::from_seed(&seed).map_err(|e| anyhow::anyhow!("{}: not an NKey seed: {e}", path.display()))?;
        let permissions = (user != OPERATOR).then(|| permissions(user));
        users.push(BrokerUser { public_key: pair.public_key(), permissions });
    }
    let authorization = server_authorization(&users);
    // For a broker configured elsewhere (docker-compose includes it).
    std::fs::write(directory.join("authorization.conf"), &authorization)?;
    Ok(authorization)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_publishes_only_what_it_produces() {
        let routing = permissions("routing");
        assert!(routing.publish.contains(&"cms.complaint.triaged".to_owned()));
        assert!(!routing.publish.iter().any(|s| s == "cms.complaint.resolution_approved" || s == "cms.complaint.received"));
        assert!(routing.publish.contains(&"cms.dlq.routing".to_owned()));
        assert!(!routing.publish.iter().any(|s| s.contains("CONSUMER.CREATE.CMS_EVENTS.intake")));
        let intake = permissions("intake");
        assert!(intake.publish.contains(&"cms.complaint.clock_breached.intake".to_owned()));
        assert!(!intake.publish.contains(&"cms.complaint.clock_breached.approval".to_owned()));
        assert_eq!(intake.subscribe, ["_INBOX_intake.>"]);
    }

    #[test]
    fn the_authorization_block_lists_every_user() {
        let block = server_authorization(&[
            BrokerUser { public_key: "UA".into(), permissions: Some(permissions("approval")) },
            BrokerUser { public_key: "UO".into(), permissions: None },
        ]);
        assert!(block.contains("nkey: \"UA\", permissions: { publish: { allow: [\"cms.complaint.resolution_approved\""), "{block}");
        assert!(block.contains("{ nkey: \"UO\" }"), "{block}");
    }
}
