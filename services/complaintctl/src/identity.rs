//! Who `complaintctl` calls the services as. A bank's own token (`--token` /
//! `COMPLAINTCTL_TOKEN`, issued by its OIDC provider) wins; otherwise a token minted for
//! `--as <id>` with the development key that `complaintctl up` generated under its data
//! directory; otherwise the token saved by `complaintctl login`. Tokens are never printed,
//! except by `login --print` on request.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use complaints_plumbing::auth::DevSigner;

/// Issuer and audience of the development tokens `complaintctl up` configures.
pub const DEV_ISSUER: &str = "https://complaintctl.local/dev";
pub const DEV_AUDIENCE: &str = "complaints";

/// Where the development key and the saved token live, under the data directory.
pub fn auth_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("auth")
}

fn token_file(data_dir: &Path) -> PathBuf {
    auth_dir(data_dir).join("token")
}

/// The roles a development token carries for `subject`: `channel:<name>` is a channel system,
/// `system:<name>` a system account, anything else a member of staff (plus `operator` on request).
pub fn roles_for(subject: &str, operator: bool) -> Vec<&'static str> {
    let mut roles = if subject.starts_with("channel:") {
        vec!["channel"]
    } else if subject.starts_with("system:") {
        vec!["system"]
    } else {
        vec!["staff"]
    };
    if operator {
        roles.push("operator");
    }
    roles
}

/// A development token for `subject`, valid for `ttl`, signed with the key under `data_dir`.
pub fn mint(data_dir: &Path, subject: &str, operator: bool, ttl: Duration) -> anyhow::Result<String> {
    let signer = DevSigner::load(&auth_dir(data_dir)).with_context(|| {
        format!(
            "no development signing key under {}: start the platform with `complaintctl up` first, or pass --token",
            auth_dir(data_dir).display()
        )
    })?;
    Ok(signer.mint(subject, &roles_for(subject, operator), ttl)?)
}

/// Saves a token for later commands (file mode 0600).
pub fn save(data_dir: &Path, token: &str) -> anyhow::Result<PathBuf> {
    let path = token_file(data_dir);
    std::fs::create_dir_all(auth_dir(data_dir))?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, token)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&temporary, &path)?;
    Ok(path)
}

/// The token a command runs with (see the module documentation for the order).
pub fn resolve(data_dir: &Path, token: Option<&str>, acting_as: Option<&str>, fallback_subject: Option<&str>) -> anyhow::Result<String> {
    if let Some(token) = token.filter(|t| !t.trim().is_empty()) {
        return Ok(token.trim().to_owned());
    }
    if let Some(subject) = acting_as {
        return mint(data_dir, subject, false, Duration::from_secs(600));
    }
    if let Ok(saved) = std::fs::read_to_string(token_file(data_dir)) {
        if !saved.trim().is_empty() {
            return Ok(saved.trim().to_owned());
        }
    }
    if let Some(subject) = fallback_subject {
        return mint(data_dir, subject, false, Duration::from_secs(600));
    }
    anyhow::bail!("no identity: run `complaintctl login --as <staff id>`, pass --as <id>, or pass --token")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_subject_convention() {
        assert_eq!(roles_for("channel:app", false), vec!["channel"]);
        assert_eq!(roles_for("RO-HEAD", true), vec!["staff", "operator"]);
        assert_eq!(roles_for("system:feed", false), vec!["system"]);
    }
}
