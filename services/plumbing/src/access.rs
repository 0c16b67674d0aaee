//! Authorisation: who may do what, from the caller's verified [`Actor`] and the organisation
//! directory. The actor always comes from the token, never from a request body; staff must be
//! in the directory, and their organisational roles (handler, department head, approvers) come
//! from it.

use std::path::Path;
use std::sync::Arc;

use complaints_domain::org::{OrgDirectory, Staff};
use complaints_domain::{Channel, StaffId};

use crate::auth::{Actor, ActorKind};
use crate::error::{ErrorCode, ServiceError};

/// Roles that supervise the cases of their own department.
pub const SUPERVISING_ROLES: [&str; 2] = ["supervisor", "department_head"];

/// The caller may not do this; the message says why (no secrets, no personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("permission denied: {0}")]
pub struct Denied(pub String);

impl ServiceError for Denied {
    fn code(&self) -> ErrorCode {
        ErrorCode::PermissionDenied
    }
}

/// The organisation directory as an authorisation source; cheap to clone.
#[derive(Clone)]
pub struct Access {
    org: Arc<OrgDirectory>,
}

impl Access {
    pub fn new(org: OrgDirectory) -> Self {
        Self { org: Arc::new(org) }
    }

    pub fn load(path: &Path) -> anyhow::Result<Self> {
        Ok(Self::new(OrgDirectory::load(path)?))
    }

    pub fn org(&self) -> &OrgDirectory {
        &self.org
    }

    /// The member of staff behind `actor`: a staff token whose subject the directory knows.
    pub fn staff(&self, actor: &Actor) -> Result<&Staff, Denied> {
        if actor.kind() != ActorKind::Staff {
            return Err(Denied(format!("{} is not a member of staff", actor.id)));
        }
        self.org.staff(&actor.id).ok_or_else(|| Denied(format!("{} is not in the organisation directory", actor.id)))
    }

    /// The channel a channel system speaks for: role `channel` and subject `channel:<name>`.
    pub fn channel(actor: &Actor) -> Result<Channel, Denied> {
        if actor.kind() != ActorKind::Channel {
            return Err(Denied(format!("{} is not a channel system", actor.id)));
        }
        actor
            .id
            .strip_prefix("channel:")
            .and_then(Channel::parse)
            .ok_or_else(|| Denied(format!("{} names no known channel (expected channel:<name>)", actor.id)))
    }

    /// The assigned `handler` of a case in `department`, or a supervisor or head of that
    /// department, acting on the case.
    pub fn case_worker(&self, actor: &Actor, handler: &StaffId, department: &str) -> Result<&Staff, Denied> {
        let staff = self.staff(actor)?;
        if handler == staff.id.as_str() {
            return Ok(staff);
        }
        if staff.department == department && SUPERVISING_ROLES.iter().any(|role| staff.has_role(role)) {
            return Ok(staff);
        }
        Err(Denied(format!(
            "{} is neither the assigned handler ({handler}) nor a supervisor of {department}",
            staff.id
        )))
    }

    /// A member of staff holding a supervising role in any department (records functions such
    /// as archiving).
    pub fn supervisor(&self, actor: &Actor) -> Result<&Staff, Denied> {
        let staff = self.staff(actor)?;
        if SUPERVISING_ROLES.iter().any(|role| staff.has_role(role)) {
            Ok(staff)
        } else {
            Err(Denied(format!("{} holds no supervising role ({})", staff.id, SUPERVISING_ROLES.join(", "))))
        }
    }

    /// A member of staff holding `role` (e.g. `head_office_risk_legal` for legal holds and
    /// erasure).
    pub fn with_role(&self, actor: &Actor, role: &str) -> Result<&Staff, Denied> {
        let staff = self.staff(actor)?;
        if staff.has_role(role) {
            Ok(staff)
        } else {
            Err(Denied(format!("{} does not hold the role {role}", staff.id)))
        }
    }

    /// Any member of staff in the directory (read access to cases).
    pub fn any_staff(&self, actor: &Actor) -> Result<(), Denied> {
        self.staff(actor).map(|_| ())
    }

    /// An operator of the platform (dead letters, replays).
    pub fn operator(actor: &Actor) -> Result<(), Denied> {
        if actor.is_operator() {
            Ok(())
        } else {
            Err(Denied(format!("{} is not an operator", actor.id)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = r#"
        [[department]]
        id = "cards"
        name = "Cards"
        [[department]]
        id = "loans"
        name = "Loans"
        [[staff]]
        id = "H1"
        name = "Handler"
        department = "cards"
        roles = ["handler"]
        [[staff]]
        id = "H2"
        name = "Other handler"
        department = "cards"
        roles = ["handler"]
        [[staff]]
        id = "HEAD"
        name = "Head"
        department = "cards"
        roles = ["department_head"]
        [[staff]]
        id = "LHEAD"
        name = "Loans head"
        department = "loans"
        roles = ["department_head"]
    "#;

    fn access() -> Access {
        Access::new(OrgDirectory::parse(ORG, "test").expect("directory"))
    }

    fn staff(id: &str) -> Actor {
        Actor::new(id, ["staff"])
    }

    #[test]
    fn the_handler_and_the_department_head_work_a_case_nobody_else() {
        let access = access();
        let handler = StaffId::parse("handler", "H1").expect("id");
        assert!(access.case_worker(&staff("H1"), &handler, "cards").is_ok());
        assert!(access.case_worker(&staff("HEAD"), &handler, "cards").is_ok());
        assert!(access.case_worker(&staff("H2"), &handler, "cards").is_err(), "another handler");
        assert!(access.case_worker(&staff("LHEAD"), &handler, "cards").is_err(), "another department's head");
        assert!(access.case_worker(&staff("NOBODY"), &handler, "cards").is_err(), "unknown staff");
        assert!(access.case_worker(&Actor::new("H1", ["channel"]), &handler, "cards").is_err(), "a channel named like staff");
    }

    #[test]
    fn channel_systems_speak_for_one_named_channel() {
        assert_eq!(Access::channel(&Actor::new("channel:app", ["channel"])), Ok(Channel::App));
        assert!(Access::channel(&Actor::new("channel:fax", ["channel"])).is_err());
        assert!(Access::channel(&Actor::new("channel:app", ["staff"])).is_err());
    }
}
