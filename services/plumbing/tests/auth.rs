//! End-to-end tests of the auth module with keys generated at test time:
//! token verification (EdDSA, RS256, ES256), rejections, the tower layer
//! (directly and behind a real tonic server), and key rotation for JWKS
//! files and URLs.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use complaints_plumbing::auth::{actor, Actor, ActorKind, AuthConfig, AuthError, AuthLayer, DevSigner, Verifier};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::body::Body;
use tower::{Layer, ServiceExt};

const ISS: &str = "https://sso.bank.example/realms/complaints";
const AUD: &str = "complaints-api";
const HOUR: Duration = Duration::from_secs(3600);

// ---------------------------------------------------------------- helpers

/// A unique scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "auth-test-{tag}-{}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst),
            now()
        ));
        std::fs::create_dir_all(&path).expect("test value");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("test value")
        .as_secs()
}

fn signer(tmp: &TempDir, sub: &str) -> DevSigner {
    DevSigner::generate(&tmp.path().join(sub), ISS, AUD).expect("test value")
}

/// Replaces `path` atomically (write temp file, rename), as operators should.
fn replace_file(path: &Path, contents: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, contents).expect("test value");
    std::fs::rename(&tmp, path).expect("test value");
}

fn jwks_of(signers: &[&DevSigner]) -> String {
    let keys: Vec<Value> = signers
        .iter()
        .flat_map(|s| {
            let doc: Value =
                serde_json::from_slice(&std::fs::read(s.jwks_path()).expect("test value")).expect("test value");
            doc["keys"].as_array().expect("test value").clone()
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn sign(alg: Algorithm, kid: &str, claims: &Value, key: &EncodingKey) -> String {
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, key).expect("test value")
}

// ---------------------------------------------------------- verification

#[tokio::test]
async fn eddsa_dev_token_verifies() {
    let tmp = TempDir::new("eddsa");
    let s = signer(&tmp, "k");
    let verifier = Verifier::from_config(&s.config()).await.expect("test value");

    let token = s
        .mint("staff-42", &["operator", "investigator"], HOUR)
        .expect("test value");
    let actor = verifier.verify(&token).await.expect("test value");
    assert_eq!(actor.id, "staff-42");
    assert_eq!(
        actor.roles.iter().map(String::as_str).collect::<Vec<_>>(),
        ["investigator", "operator"]
    );
    assert!(actor.is_operator());
    assert!(actor.has_role("investigator"));
    assert_eq!(actor.kind(), ActorKind::Staff);

    // No roles claim at all = no roles.
    let mut claims = s.claims("sys-1", &[], HOUR);
    claims.as_object_mut().expect("test value").remove("roles");
    let actor = verifier
        .verify(&s.mint_with(claims).expect("test value"))
        .await
        .expect("test value");
    assert!(actor.roles.is_empty());

    // Channel and system actors.
    let t = s.mint("web", &["channel"], HOUR).expect("test value");
    assert_eq!(
        verifier.verify(&t).await.expect("test value").kind(),
        ActorKind::Channel
    );
    let t = s.mint("batch", &["system"], HOUR).expect("test value");
    assert_eq!(verifier.verify(&t).await.expect("test value").kind(), ActorKind::System);

    // An `exp` just past but within the leeway (30 s) is still accepted.
    let mut claims = s.claims("staff-1", &[], HOUR);
    claims["exp"] = json!(now() - 5);
    assert!(verifier.verify(&s.mint_with(claims).expect("test value")).await.is_ok());
}

#[tokio::test]
async fn dev_signer_files_load_and_ensure() {
    let tmp = TempDir::new("files");
    let dir = tmp.path().join("dev");
    let s = DevSigner::generate(&dir, ISS, AUD).expect("test value");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("dev-signing-key.pem"))
            .expect("test value")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let pem = std::fs::read_to_string(dir.join("dev-signing-key.pem")).expect("test value");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let jwks: Value = serde_json::from_slice(&std::fs::read(s.jwks_path()).expect("test value")).expect("test value");
    let jwk = &jwks["keys"][0];
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], s.kid());
    assert!(
        jwk.get("d").is_none(),
        "private key must not be in the JWKS"
    );

    let loaded = DevSigner::load(&dir).expect("test value");
    assert_eq!(loaded.kid(), s.kid());
    assert_eq!(loaded.issuer(), ISS);
    assert_eq!(loaded.audience(), AUD);
    let ensured = DevSigner::ensure(&dir, ISS, AUD).expect("test value");
    assert_eq!(ensured.kid(), s.kid());

    let verifier = Verifier::from_config(&s.config()).await.expect("test value");
    let t = loaded.mint("staff-1", &[], HOUR).expect("test value");
    assert_eq!(verifier.verify(&t).await.expect("test value").id, "staff-1");

    // ensure() on an empty dir generates; load() on an empty dir fails.
    let fresh = tmp.path().join("fresh");
    assert!(DevSigner::load(&fresh).is_err());
    let generated = DevSigner::ensure(&fresh, ISS, AUD).expect("test value");
    assert_ne!(generated.kid(), s.kid());

    // A JWKS that does not match the private key is refused.
    std::fs::copy(generated.jwks_path(), s.jwks_path()).expect("test value");
    assert!(DevSigner::load(&dir).is_err());

    assert!(s.mint_with(json!("not an object")).is_err());
}

#[tokio::test]
async fn keycloak_realm_access_roles() {
    let tmp = TempDir::new("realm");
    let s = signer(&tmp, "k");
    let cfg = AuthConfig {
        roles_claim: "realm_access.roles".into(),
        ..s.config()
    };
    let verifier = Verifier::from_config(&cfg).await.expect("test value");
    let mut claims = s.claims("channel-web", &[], HOUR);
    claims["realm_access"] = json!({ "roles": ["channel", "offline_access"] });
    claims["roles"] = json!(["operator"]); // not the configured claim: ignored
    let actor = verifier
        .verify(&s.mint_with(claims).expect("test value"))
        .await
        .expect("test value");
    assert_eq!(actor.kind(), ActorKind::Channel);
    assert!(actor.has_role("offline_access"));
    assert!(!actor.is_operator());
}

#[tokio::test]
async fn rs256_and_es256_verify() {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use p256::pkcs8::EncodePrivateKey;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;

    let mut rng = rand::rngs::OsRng;
    let rsa_key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("test value");
    let rsa_signing = EncodingKey::from_rsa_der(rsa_key.to_pkcs1_der().expect("test value").as_bytes());
    let ec_key = p256::SecretKey::random(&mut rng);
    let ec_signing = EncodingKey::from_ec_der(ec_key.to_pkcs8_der().expect("test value").as_bytes());
    let point = ec_key.public_key().to_encoded_point(false);

    let jwks = json!({ "keys": [
        // Keycloak-style RSA key with alg.
        { "kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig",
          "n": b64(&rsa_key.n().to_bytes_be()), "e": b64(&rsa_key.e().to_bytes_be()) },
        // EC key without alg: inferred from the curve.
        { "kty": "EC", "kid": "ec-1", "crv": "P-256",
          "x": b64(point.x().expect("test value")), "y": b64(point.y().expect("test value")) },
        // An encryption key published alongside is ignored.
        { "kty": "RSA", "kid": "enc-1", "alg": "RSA-OAEP", "use": "enc",
          "n": b64(&rsa_key.n().to_bytes_be()), "e": b64(&rsa_key.e().to_bytes_be()) }
    ]});
    let tmp = TempDir::new("rsa-ec");
    let path = tmp.path().join("jwks.json");
    std::fs::write(&path, jwks.to_string()).expect("test value");
    let cfg = AuthConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        jwks_file: Some(path),
        ..AuthConfig::default()
    };
    let verifier = Verifier::from_config(&cfg).await.expect("test value");
    let claims = |sub: &str| {
        json!({ "iss": ISS, "aud": [AUD, "other"], "sub": sub, "exp": now() + 600,
                "nbf": now() - 5, "roles": ["system"] })
    };

    let t = sign(
        Algorithm::RS256,
        "rsa-1",
        &claims("rsa-client"),
        &rsa_signing,
    );
    let actor = verifier.verify(&t).await.expect("test value");
    assert_eq!(actor.id, "rsa-client");
    assert_eq!(actor.kind(), ActorKind::System);

    let t = sign(Algorithm::ES256, "ec-1", &claims("ec-client"), &ec_signing);
    assert_eq!(verifier.verify(&t).await.expect("test value").id, "ec-client");

    // Algorithm must match the key chosen by kid.
    let t = sign(Algorithm::RS256, "ec-1", &claims("x"), &rsa_signing);
    assert!(matches!(
        verifier.verify(&t).await,
        Err(AuthError::AlgorithmNotAllowed)
    ));
    // RS384 / PS256 are not on the allow-list even with a valid RSA key.
    let t = sign(Algorithm::PS256, "rsa-1", &claims("x"), &rsa_signing);
    assert!(matches!(
        verifier.verify(&t).await,
        Err(AuthError::AlgorithmNotAllowed)
    ));
    // The encryption key's kid is not a signing key.
    let t = sign(Algorithm::RS256, "enc-1", &claims("x"), &rsa_signing);
    assert!(matches!(
        verifier.verify(&t).await,
        Err(AuthError::UnknownKey)
    ));
}

#[tokio::test]
async fn bad_tokens_are_rejected() {
    let tmp = TempDir::new("bad");
    let s = signer(&tmp, "k");
    let stranger = signer(&tmp, "stranger");
    let verifier = Verifier::from_config(&s.config()).await.expect("test value");
    let base = || s.claims("staff-1", &["operator"], HOUR);
    let with = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut c = base();
        f(c.as_object_mut().expect("test value"));
        s.mint_with(c).expect("test value")
    };

    let header_none =
        b64(format!(r#"{{"alg":"none","typ":"JWT","kid":"{}"}}"#, s.kid()).as_bytes());
    let payload = b64(base().to_string().as_bytes());
    let alg_none = format!("{header_none}.{payload}.");
    // HS256 "signed" with the public key bytes (classic algorithm confusion).
    let jwks: Value = serde_json::from_slice(&std::fs::read(s.jwks_path()).expect("test value")).expect("test value");
    let public_x = URL_SAFE_NO_PAD
        .decode(jwks["keys"][0]["x"].as_str().expect("test value"))
        .expect("test value");
    let hs256 = sign(
        Algorithm::HS256,
        s.kid(),
        &base(),
        &EncodingKey::from_secret(&public_x),
    );
    let good = s.mint("staff-1", &[], HOUR).expect("test value");
    let (head, rest) = good.split_once('.').expect("test value");
    let sig = rest.split_once('.').expect("test value").1;
    let tampered = format!(
        "{head}.{}.{sig}",
        b64(s
            .claims("admin", &["operator"], HOUR)
            .to_string()
            .as_bytes())
    );
    let no_kid = {
        let mut parts = good.splitn(2, '.');
        let _ = parts.next();
        format!(
            "{}.{}",
            b64(br#"{"alg":"EdDSA","typ":"JWT"}"#),
            parts.next().expect("test value")
        )
    };

    type Case = (&'static str, String, fn(&AuthError) -> bool);
    let cases: Vec<Case> = vec![
        (
            "expired",
            with(&|c| {
                c.insert("exp".into(), json!(now() - 120));
            }),
            |e| matches!(e, AuthError::Expired),
        ),
        (
            "unknown key",
            stranger.mint("staff-1", &[], HOUR).expect("test value"),
            |e| matches!(e, AuthError::UnknownKey),
        ),
        (
            "wrong issuer",
            with(&|c| {
                c.insert("iss".into(), json!("https://evil.example"));
            }),
            |e| matches!(e, AuthError::InvalidIssuer),
        ),
        (
            "issuer array",
            with(&|c| {
                c.insert("iss".into(), json!([ISS, "x"]));
            }),
            |e| matches!(e, AuthError::InvalidIssuer),
        ),
        (
            "wrong audience",
            with(&|c| {
                c.insert("aud".into(), json!("another-api"));
            }),
            |e| matches!(e, AuthError::InvalidAudience),
        ),
        ("alg none", alg_none, |e| {
            matches!(e, AuthError::AlgorithmNotAllowed)
        }),
        ("hs256", hs256, |e| {
            matches!(e, AuthError::AlgorithmNotAllowed)
        }),
        ("garbage", "definitely not a jwt".into(), |e| {
            matches!(e, AuthError::MalformedToken)
        }),
        ("garbage dots", "a.b.c".into(), |e| {
            matches!(e, AuthError::MalformedToken)
        }),
        ("empty", String::new(), |e| {
            matches!(e, AuthError::MissingToken)
        }),
        ("only dots", "..".into(), |e| {
            matches!(e, AuthError::MalformedToken)
        }),
        ("five parts (JWE)", "a.b.c.d.e".into(), |e| {
            matches!(e, AuthError::MalformedToken)
        }),
        (
            "header not object",
            format!("{}.e30.AAAA", b64(b"[1,2]")),
            |e| matches!(e, AuthError::MalformedToken),
        ),
        (
            "numeric kid",
            format!("{}.e30.AAAA", b64(br#"{"alg":"EdDSA","kid":7}"#)),
            |e| matches!(e, AuthError::MalformedToken),
        ),
        (
            "crit header",
            format!(
                "{}.e30.AAAA",
                b64(format!(r#"{{"alg":"EdDSA","kid":"{}","crit":["b64"]}}"#, s.kid()).as_bytes())
            ),
            |e| matches!(e, AuthError::MalformedToken),
        ),
        (
            "short signature",
            format!("{}.AAAA", good.rsplit_once('.').expect("test value").0),
            |e| matches!(e, AuthError::InvalidSignature),
        ),
        (
            "payload not json",
            format!("{head}.{}.{sig}", b64(b"nope")),
            |e| matches!(e, AuthError::InvalidSignature | AuthError::MalformedToken),
        ),
        ("huge", "a".repeat(20_000), |e| {
            matches!(e, AuthError::MalformedToken)
        }),
        (
            "missing sub",
            with(&|c| {
                c.remove("sub");
            }),
            |e| matches!(e, AuthError::MissingClaim("sub")),
        ),
        (
            "empty sub",
            with(&|c| {
                c.insert("sub".into(), json!(""));
            }),
            |e| matches!(e, AuthError::InvalidClaim("sub")),
        ),
        (
            "numeric sub",
            with(&|c| {
                c.insert("sub".into(), json!(42));
            }),
            |e| matches!(e, AuthError::MissingClaim("sub")),
        ),
        (
            "missing exp",
            with(&|c| {
                c.remove("exp");
            }),
            |e| matches!(e, AuthError::MissingClaim("exp")),
        ),
        (
            "string exp",
            with(&|c| {
                c.insert("exp".into(), json!("tomorrow"));
            }),
            |e| {
                matches!(
                    e,
                    AuthError::InvalidClaim("exp") | AuthError::MissingClaim("exp")
                )
            },
        ),
        (
            "missing aud",
            with(&|c| {
                c.remove("aud");
            }),
            |e| matches!(e, AuthError::MissingClaim("aud")),
        ),
        (
            "future nbf",
            with(&|c| {
                c.insert("nbf".into(), json!(now() + 600));
            }),
            |e| matches!(e, AuthError::NotYetValid),
        ),
        (
            "roles not array",
            with(&|c| {
                c.insert("roles".into(), json!("operator"));
            }),
            |e| matches!(e, AuthError::InvalidClaim("roles")),
        ),
        (
            "roles not strings",
            with(&|c| {
                c.insert("roles".into(), json!(["a", 1]));
            }),
            |e| matches!(e, AuthError::InvalidClaim("roles")),
        ),
        ("tampered payload", tampered, |e| {
            matches!(e, AuthError::InvalidSignature)
        }),
        ("no kid", no_kid, |e| matches!(e, AuthError::MissingKeyId)),
    ];
    for (name, token, expected) in cases {
        let err = match verifier.verify(&token).await {
            Ok(actor) => panic!("{name}: accepted as {actor:?}"),
            Err(e) => e,
        };
        assert!(expected(&err), "{name}: unexpected error {err:?}");
        assert!(err.is_credential_error(), "{name}");
        let msg = err.to_string();
        if token.len() > 3 {
            assert!(!msg.contains(&token), "{name}: message echoes the token");
            for part in token.split('.').filter(|p| p.len() > 3) {
                assert!(
                    !msg.contains(part),
                    "{name}: message echoes part of the token"
                );
            }
        }
    }
}

#[tokio::test]
async fn config_errors() {
    let err = Verifier::from_config(&AuthConfig::default())
        .await
        .expect_err("must fail");
    assert!(
        matches!(err, AuthError::Config { key: "issuer", .. }),
        "{err}"
    );
    assert!(err.to_string().contains("issuer"));
    let cfg = AuthConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        jwks_file: Some("/nonexistent/jwks.json".into()),
        ..AuthConfig::default()
    };
    let err = Verifier::from_config(&cfg).await.expect_err("must fail");
    assert!(matches!(err, AuthError::Io { .. }), "{err}");
    assert!(!err.is_credential_error());
    let status = tonic::Status::from(err);
    assert_eq!(status.code(), tonic::Code::Internal);
    assert!(!status.message().contains("nonexistent"));
}

// ------------------------------------------------------------ tower layer

fn grpc_request(path: &str, auth: Option<&str>) -> http::Request<Body> {
    let mut builder = http::Request::builder()
        .method("POST")
        .uri(path)
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    if let Some(auth) = auth {
        builder = builder.header("authorization", auth);
    }
    builder.body(Body::default()).expect("test value")
}

fn grpc_status<B>(response: &http::Response<B>) -> &str {
    response
        .headers()
        .get("grpc-status")
        .map(|v| v.to_str().expect("test value"))
        .unwrap_or("<none>")
}

/// What the protected service answers: grpc-status 0 and the actor it saw.
fn probe_response(request: &http::Request<Body>) -> http::Response<Body> {
    assert!(
        request.headers().get("authorization").is_none(),
        "the token must not reach the service"
    );
    let mut response = http::Response::new(Body::default());
    let headers = response.headers_mut();
    headers.insert("content-type", "application/grpc".parse().expect("test value"));
    headers.insert("grpc-status", "0".parse().expect("test value"));
    let seen = request
        .extensions()
        .get::<Actor>()
        .map(|a| a.id.clone())
        .unwrap_or_else(|| "<anonymous>".into());
    headers.insert("x-actor", seen.parse().expect("test value"));
    response
}

#[tokio::test]
async fn layer_oneshot() {
    let tmp = TempDir::new("layer");
    let s = signer(&tmp, "k");
    let other = signer(&tmp, "other");
    let verifier = Verifier::from_config(&s.config()).await.expect("test value");
    let calls = Arc::new(AtomicUsize::new(0));
    let inner = {
        let calls = calls.clone();
        tower::service_fn(move |request: http::Request<Body>| {
            calls.fetch_add(1, Ordering::SeqCst);
            let response = probe_response(&request);
            async move { Ok::<_, Infallible>(response) }
        })
    };
    let svc = AuthLayer::new(verifier).layer(inner);
    let call = |path: &str, auth: Option<String>| {
        let svc = svc.clone();
        let request = grpc_request(path, auth.as_deref());
        async move { svc.oneshot(request).await.expect("test value") }
    };
    let good = s.mint("staff-7", &["operator"], HOUR).expect("test value");
    let api = "/complaints.v1.Intake/Submit";

    let r = call(api, None).await;
    assert_eq!(grpc_status(&r), "16");
    assert_eq!(r.headers()["grpc-message"], "missing%20bearer%20token");
    let r = call(api, Some("Bearer not.a.token".into())).await;
    assert_eq!(grpc_status(&r), "16");
    let r = call(
        api,
        Some(format!("Bearer {}", other.mint("x", &[], HOUR).expect("test value"))),
    )
    .await;
    assert_eq!(grpc_status(&r), "16");
    let r = call(api, Some(format!("Basic {good}"))).await;
    assert_eq!(grpc_status(&r), "16");
    let expired = s
        .mint_with({
            let mut c = s.claims("staff-7", &[], HOUR);
            c["exp"] = json!(now() - 3600);
            c
        })
        .expect("test value");
    let r = call(api, Some(format!("Bearer {expired}"))).await;
    assert_eq!(grpc_status(&r), "16");
    assert_eq!(r.headers()["grpc-message"], "token%20expired");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "inner service must not run"
    );

    let r = call(api, Some(format!("Bearer {good}"))).await;
    assert_eq!(grpc_status(&r), "0");
    assert_eq!(r.headers()["x-actor"], "staff-7");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Health and reflection pass without a token (and without an actor).
    let r = call("/grpc.health.v1.Health/Check", None).await;
    assert_eq!(grpc_status(&r), "0");
    assert_eq!(r.headers()["x-actor"], "<anonymous>");
    let r = call(
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        None,
    )
    .await;
    assert_eq!(grpc_status(&r), "0");
    // ...but not path tricks starting with the health prefix.
    let r = call(
        "/grpc.health.v1.Health/../complaints.v1.Intake/Submit",
        None,
    )
    .await;
    assert_eq!(grpc_status(&r), "16");
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[test]
fn actor_accessor() {
    let request = tonic::Request::new(());
    let status = actor(&request).expect_err("must fail");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(());
    request
        .extensions_mut()
        .insert(Actor::new("staff-1", ["operator"]));
    assert_eq!(actor(&request).expect("test value").id, "staff-1");
}

// ------------------------------------------------------ real tonic server

macro_rules! probe_service {
    ($ty:ident, $name:literal) => {
        #[derive(Clone)]
        struct $ty;

        impl tonic::server::NamedService for $ty {
            const NAME: &'static str = $name;
        }

        impl tower::Service<http::Request<Body>> for $ty {
            type Response = http::Response<Body>;
            type Error = Infallible;
            type Future = std::future::Ready<Result<Self::Response, Infallible>>;

            fn poll_ready(
                &mut self,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Result<(), Infallible>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn call(&mut self, request: http::Request<Body>) -> Self::Future {
                // What a generated handler does: convert to tonic::Request
                // and read the actor from its extensions.
                let (parts, body) = request.into_parts();
                let tonic_request =
                    tonic::Request::from_http(http::Request::from_parts(parts.clone(), ()));
                let mut response = probe_response(&http::Request::from_parts(parts, body));
                let via_tonic = actor(&tonic_request)
                    .map(|a| a.id.clone())
                    .unwrap_or_else(|_| "<anonymous>".into());
                response
                    .headers_mut()
                    .insert("x-tonic-actor", via_tonic.parse().expect("test value"));
                std::future::ready(Ok(response))
            }
        }
    };
}

probe_service!(ProbeApi, "complaints.v1.Probe");
probe_service!(ProbeHealth, "grpc.health.v1.Health");

#[tokio::test]
async fn layer_in_real_tonic_server() {
    let tmp = TempDir::new("server");
    let s = signer(&tmp, "k");
    let verifier = Verifier::from_config(&s.config()).await.expect("test value");

    let incoming =
        tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().expect("test value")).expect("test value");
    let addr = incoming.local_addr().expect("test value");
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(AuthLayer::new(verifier))
            .add_service(ProbeApi)
            .add_service(ProbeHealth)
            .serve_with_incoming_shutdown(incoming, async {
                let _ = stop_rx.await;
            }),
    );

    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("test value")
        .connect()
        .await
        .expect("test value");
    let call = |path: &'static str, auth: Option<String>| {
        let channel = channel.clone();
        async move {
            channel
                .oneshot(grpc_request(path, auth.as_deref()))
                .await
                .expect("test value")
        }
    };
    let api = "/complaints.v1.Probe/Call";

    let r = call(api, None).await;
    assert_eq!(grpc_status(&r), "16");
    let r = call(api, Some("Bearer garbage".into())).await;
    assert_eq!(grpc_status(&r), "16");
    let token = s.mint("channel-app", &["channel"], HOUR).expect("test value");
    let r = call(api, Some(format!("Bearer {token}"))).await;
    assert_eq!(grpc_status(&r), "0");
    assert_eq!(r.headers()["x-actor"], "channel-app");
    assert_eq!(r.headers()["x-tonic-actor"], "channel-app");
    let r = call("/grpc.health.v1.Health/Check", None).await;
    assert_eq!(grpc_status(&r), "0");
    assert_eq!(r.headers()["x-actor"], "<anonymous>");

    let _ = stop_tx.send(());
    server.await.expect("test value").expect("test value");
}

// ----------------------------------------------------------- key rotation

#[tokio::test]
async fn jwks_file_rotation() {
    let tmp = TempDir::new("rotate-file");
    let old = signer(&tmp, "old");
    let new = signer(&tmp, "new");
    let third = signer(&tmp, "third");
    // The service reads a JWKS file of its own, initially with the old key.
    let jwks = tmp.path().join("service-jwks.json");
    std::fs::write(&jwks, jwks_of(&[&old])).expect("test value");
    let cfg = AuthConfig {
        jwks_file: Some(jwks.clone()),
        ..old.config()
    };
    let verifier = Verifier::from_config(&cfg).await.expect("test value");
    let old_token = old.mint("staff-1", &[], HOUR).expect("test value");
    let new_token = new.mint("staff-2", &[], HOUR).expect("test value");
    let third_token = third.mint("staff-3", &[], HOUR).expect("test value");

    assert!(verifier.verify(&old_token).await.is_ok());
    assert!(matches!(
        verifier.verify(&new_token).await,
        Err(AuthError::UnknownKey)
    ));

    // Rotation, step 1: publish old + new (in place, same inode).
    std::fs::write(&jwks, jwks_of(&[&old, &new])).expect("test value");
    assert_eq!(verifier.verify(&new_token).await.expect("test value").id, "staff-2");
    assert!(verifier.verify(&old_token).await.is_ok());

    // A broken file (half-written rotation) keeps the current keys.
    replace_file(&jwks, b"{ not json");
    assert!(verifier.verify(&old_token).await.is_ok());
    assert!(matches!(
        verifier.verify(&third_token).await,
        Err(AuthError::UnknownKey)
    ));

    // Step 2: retire the old key (atomic replace).
    replace_file(&jwks, jwks_of(&[&new, &third]).as_bytes());
    assert_eq!(verifier.verify(&third_token).await.expect("test value").id, "staff-3");
    assert!(verifier.verify(&new_token).await.is_ok());
    assert!(matches!(
        verifier.verify(&old_token).await,
        Err(AuthError::UnknownKey)
    ));
}

/// A tiny HTTP/1.1 server answering every request with the current JWKS.
struct JwksServer {
    url: String,
    body: Arc<Mutex<(u16, String)>>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("test value");
        let url = format!(
            "http://{}/realms/complaints/certs",
            listener.local_addr().expect("test value")
        );
        let body = Arc::new(Mutex::new((200u16, body)));
        let hits = Arc::new(AtomicUsize::new(0));
        let (b, h) = (body.clone(), hits.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let (b, h) = (b.clone(), h.clone());
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16384 {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    h.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = b.lock().expect("test value").clone();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        JwksServer {
            url,
            body,
            hits,
            task,
        }
    }

    fn set(&self, status: u16, body: String) {
        *self.body.lock().expect("test value") = (status, body);
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn jwks_url_fetch_and_refetch_on_unknown_kid() {
    let tmp = TempDir::new("rotate-url");
    let a = signer(&tmp, "a");
    let b = signer(&tmp, "b");
    let c = signer(&tmp, "c");
    let server = JwksServer::start(jwks_of(&[&a])).await;
    let cfg = AuthConfig {
        issuer: ISS.into(),
        audience: AUD.into(),
        jwks_url: Some(server.url.clone()),
        ..AuthConfig::default()
    };
    let verifier = Verifier::from_config(&cfg).await.expect("test value");
    assert_eq!(server.hits(), 1);

    assert_eq!(
        verifier
            .verify(&a.mint("staff-a", &[], HOUR).expect("test value"))
            .await
            .expect("test value")
            .id,
        "staff-a"
    );
    assert_eq!(server.hits(), 1, "known kid: no fetch");

    // The provider rotates to b: the unknown kid triggers one refetch.
    server.set(200, jwks_of(&[&b]));
    assert_eq!(
        verifier
            .verify(&b.mint("staff-b", &[], HOUR).expect("test value"))
            .await
            .expect("test value")
            .id,
        "staff-b"
    );
    assert_eq!(server.hits(), 2);

    // Within 30 s no further refetch, however many unknown kids arrive.
    server.set(200, jwks_of(&[&c]));
    let c_token = c.mint("staff-c", &[], HOUR).expect("test value");
    for _ in 0..3 {
        assert!(matches!(
            verifier.verify(&c_token).await,
            Err(AuthError::UnknownKey)
        ));
    }
    assert!(matches!(
        verifier
            .verify(&a.mint("staff-a", &[], HOUR).expect("test value"))
            .await,
        Err(AuthError::UnknownKey)
    ));
    assert_eq!(server.hits(), 2);

    // A provider that is down at start-up: the service must not start.
    server.set(500, "oops".into());
    let err = Verifier::from_config(&cfg).await.expect_err("must fail");
    assert!(matches!(err, AuthError::Keys(_)), "{err}");
}
