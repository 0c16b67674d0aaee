//! The authenticated caller.

use std::collections::BTreeSet;

/// Role that marks a customer-facing channel (web, app, branch system...).
pub const ROLE_CHANNEL: &str = "channel";
/// Role that marks an internal system / service account.
pub const ROLE_SYSTEM: &str = "system";
/// Role of staff allowed to operate the platform.
pub const ROLE_OPERATOR: &str = "operator";

/// Who is calling, as established from a verified token.
///
/// `id` is the token's `sub` (a staff, channel or system id — not personal
/// data); `roles` come from the configured roles claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The token subject (`sub`), never empty.
    pub id: String,
    /// The roles granted by the token (may be empty).
    pub roles: BTreeSet<String>,
}

/// The broad category of an [`Actor`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// A member of staff (any actor that is neither a channel nor a system).
    Staff,
    /// A customer-facing channel (role `channel`).
    Channel,
    /// An internal system (role `system`).
    System,
}

impl Actor {
    /// Builds an actor from an id and roles.
    pub fn new<I, R>(id: impl Into<String>, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        Actor {
            id: id.into(),
            roles: roles.into_iter().map(Into::into).collect(),
        }
    }

    /// `Channel` if the actor has role `channel`, else `System` if it has role
    /// `system`, else `Staff`. (`channel` wins if both are present.)
    pub fn kind(&self) -> ActorKind {
        if self.has_role(ROLE_CHANNEL) {
            ActorKind::Channel
        } else if self.has_role(ROLE_SYSTEM) {
            ActorKind::System
        } else {
            ActorKind::Staff
        }
    }

    /// Whether the actor holds `role` (exact, case-sensitive match).
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.contains(role)
    }

    /// Whether the actor holds the `operator` role.
    pub fn is_operator(&self) -> bool {
        self.has_role(ROLE_OPERATOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(Actor::new("a", ["operator"]).kind(), ActorKind::Staff);
        assert_eq!(
            Actor::new("a", Vec::<String>::new()).kind(),
            ActorKind::Staff
        );
        assert_eq!(Actor::new("a", ["channel"]).kind(), ActorKind::Channel);
        assert_eq!(Actor::new("a", ["system"]).kind(), ActorKind::System);
        assert_eq!(
            Actor::new("a", ["system", "channel"]).kind(),
            ActorKind::Channel
        );
        assert!(Actor::new("a", ["operator"]).is_operator());
        assert!(!Actor::new("a", ["Operator"]).is_operator());
    }
}
