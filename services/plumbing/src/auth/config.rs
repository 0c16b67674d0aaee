//! Authentication settings.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::AuthError;

/// Largest accepted clock-skew allowance, in seconds.
pub const MAX_LEEWAY_SECONDS: u64 = 300;
/// Smallest accepted JWKS URL refresh interval, in seconds.
pub const MIN_REFRESH_SECONDS: u64 = 10;

/// Which tokens to accept and where their verification keys come from.
///
/// Deserialises with defaults for every missing field and rejects unknown
/// fields (a typo must not silently weaken authentication). The defaults are
/// *not* usable as is: `issuer`, `audience` and one key source must be set;
/// [`AuthConfig::validate`] says which key is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Expected `iss` claim, exactly as the provider writes it
    /// (e.g. `https://sso.bank.example/realms/complaints`).
    pub issuer: String,
    /// Audience this service accepts; the token's `aud` must contain it.
    pub audience: String,
    /// Path of a JWKS (`{"keys":[...]}`) file. Exclusive with `jwks_url`.
    /// Reloaded when a token names an unknown `kid` and the file changed.
    pub jwks_file: Option<PathBuf>,
    /// `https://` URL of the provider's JWKS. Exclusive with `jwks_file`.
    /// Plain `http://` is accepted only for loopback hosts (tests, sidecars).
    pub jwks_url: Option<String>,
    /// Clock-skew allowance for `exp` / `nbf`, seconds (default 30, max 300).
    pub leeway_seconds: u64,
    /// Claim holding the roles array (default `roles`). A dotted path such as
    /// `realm_access.roles` (Keycloak) walks nested objects; a top-level claim
    /// whose name is exactly this string (e.g. `https://bank.example/roles`)
    /// takes precedence.
    pub roles_claim: String,
    /// How often a JWKS URL is refetched in the background, seconds
    /// (default 300, min 10).
    pub refresh_seconds: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            issuer: String::new(),
            audience: String::new(),
            jwks_file: None,
            jwks_url: None,
            leeway_seconds: 30,
            roles_claim: "roles".to_owned(),
            refresh_seconds: 300,
        }
    }
}

impl AuthConfig {
    /// Checks the settings; the error's `key` names the offending field.
    ///
    /// Rules: `issuer` and `audience` non-blank; exactly one of `jwks_file` /
    /// `jwks_url`; the URL is `https://` (or `http://` to a loopback host);
    /// `leeway_seconds` ≤ 300; `roles_claim` non-blank without empty path
    /// segments; `refresh_seconds` ≥ 10.
    pub fn validate(&self) -> Result<(), AuthError> {
        if self.issuer.trim().is_empty() {
            return Err(AuthError::config("issuer", "must not be empty"));
        }
        if self.audience.trim().is_empty() {
            return Err(AuthError::config("audience", "must not be empty"));
        }
        match (&self.jwks_file, &self.jwks_url) {
            (Some(_), Some(_)) => {
                return Err(AuthError::config(
                    "jwks_file/jwks_url",
                    "set exactly one of jwks_file or jwks_url, not both",
                ))
            }
            (None, None) => {
                return Err(AuthError::config(
                    "jwks_file/jwks_url",
                    "set exactly one of jwks_file or jwks_url",
                ))
            }
            (Some(path), None) => {
                if path.as_os_str().is_empty() {
                    return Err(AuthError::config("jwks_file", "must not be empty"));
                }
            }
            (None, Some(url)) => check_url(url)?,
        }
        if self.leeway_seconds > MAX_LEEWAY_SECONDS {
            return Err(AuthError::config(
                "leeway_seconds",
                format!("must be at most {MAX_LEEWAY_SECONDS}"),
            ));
        }
        if self.roles_claim.trim().is_empty() {
            return Err(AuthError::config("roles_claim", "must not be empty"));
        }
        if self.roles_claim.split('.').any(str::is_empty) {
            return Err(AuthError::config(
                "roles_claim",
                "dotted path must not have empty segments",
            ));
        }
        if self.refresh_seconds < MIN_REFRESH_SECONDS {
            return Err(AuthError::config(
                "refresh_seconds",
                format!("must be at least {MIN_REFRESH_SECONDS}"),
            ));
        }
        Ok(())
    }
}

fn check_url(url: &str) -> Result<(), AuthError> {
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| AuthError::config("jwks_url", format!("not a valid URL: {e}")))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err(AuthError::config(
            "jwks_url",
            "must use https (plain http only for loopback hosts)",
        )),
        other => Err(AuthError::config(
            "jwks_url",
            format!("unsupported scheme `{other}`"),
        )),
    }
}

/// Whether the URL points at this machine (`localhost`, 127.0.0.0/8, `[::1]`).
pub(crate) fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> AuthConfig {
        AuthConfig {
            issuer: "https://sso.example".into(),
            audience: "complaints".into(),
            jwks_file: Some("/etc/jwks.json".into()),
            ..AuthConfig::default()
        }
    }

    fn key_of(cfg: &AuthConfig) -> &'static str {
        match cfg.validate() {
            Err(AuthError::Config { key, .. }) => key,
            other => panic!("expected config error, got {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let d = AuthConfig::default();
        assert_eq!(d.leeway_seconds, 30);
        assert_eq!(d.roles_claim, "roles");
        assert_eq!(d.refresh_seconds, 300);
        assert!(base().validate().is_ok());
        let parsed: AuthConfig =
            serde_json::from_str(r#"{"issuer":"i","audience":"a","jwks_url":"https://x/jwks"}"#)
                .expect("test value");
        assert_eq!(parsed.leeway_seconds, 30);
        assert!(parsed.validate().is_ok());
        assert!(serde_json::from_str::<AuthConfig>(r#"{"isuer":"i"}"#).is_err());
    }

    #[test]
    fn errors_name_the_key() {
        assert_eq!(key_of(&AuthConfig::default()), "issuer");
        assert_eq!(
            key_of(&AuthConfig {
                audience: " ".into(),
                ..base()
            }),
            "audience"
        );
        assert_eq!(
            key_of(&AuthConfig {
                jwks_file: None,
                ..base()
            }),
            "jwks_file/jwks_url"
        );
        assert_eq!(
            key_of(&AuthConfig {
                jwks_url: Some("https://x".into()),
                ..base()
            }),
            "jwks_file/jwks_url"
        );
        let url = |u: &str| AuthConfig {
            jwks_file: None,
            jwks_url: Some(u.into()),
            ..base()
        };
        assert_eq!(key_of(&url("http://sso.example/jwks")), "jwks_url");
        assert_eq!(key_of(&url("not a url")), "jwks_url");
        assert!(url("http://127.0.0.1:8080/jwks").validate().is_ok());
        assert!(url("http://localhost/jwks").validate().is_ok());
        assert!(url("http://[::1]/jwks").validate().is_ok());
        assert_eq!(
            key_of(&AuthConfig {
                leeway_seconds: 301,
                ..base()
            }),
            "leeway_seconds"
        );
        assert_eq!(
            key_of(&AuthConfig {
                roles_claim: "a..b".into(),
                ..base()
            }),
            "roles_claim"
        );
        assert_eq!(
            key_of(&AuthConfig {
                refresh_seconds: 0,
                ..base()
            }),
            "refresh_seconds"
        );
    }
}
