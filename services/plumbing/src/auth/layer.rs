//! The tower layer that authenticates every RPC.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::AUTHORIZATION;
use http::HeaderMap;

use super::{Actor, AuthError, Verifier};

/// Path prefixes that pass without a token: gRPC health checks and server
/// reflection.
pub const EXEMPT_PATH_PREFIXES: &[&str] = &["/grpc.health.v1.Health/", "/grpc.reflection."];

/// Whether `path` is exempt from authentication: it starts with one of
/// [`EXEMPT_PATH_PREFIXES`] and has the plain gRPC shape `/Service/Method`
/// (exactly two `/`, no segment starting with `.`, no `%`), so path tricks
/// cannot smuggle another method through the exemption.
pub fn is_exempt_path(path: &str) -> bool {
    EXEMPT_PATH_PREFIXES.iter().any(|p| path.starts_with(p))
        && path.bytes().filter(|b| *b == b'/').count() == 2
        && !path.contains("/.")
        && !path.contains('%')
}

/// The handler-side accessor: the [`Actor`] that [`AuthLayer`] put into the
/// request, or `UNAUTHENTICATED` if there is none (e.g. the service was
/// mounted without the layer, or the method is exempt).
pub fn actor<T>(request: &tonic::Request<T>) -> Result<&Actor, tonic::Status> {
    request
        .extensions()
        .get::<Actor>()
        .ok_or_else(|| tonic::Status::unauthenticated("not authenticated"))
}

/// Tower layer enforcing bearer-token authentication; see [`AuthService`].
///
/// Use with `tonic::transport::Server::builder().layer(AuthLayer::new(verifier))`.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    verifier: Verifier,
}

impl AuthLayer {
    /// A layer verifying tokens with `verifier`.
    pub fn new(verifier: Verifier) -> Self {
        AuthLayer { verifier }
    }
}

impl<S> tower_layer::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            verifier: self.verifier.clone(),
        }
    }
}

/// Service produced by [`AuthLayer`].
///
/// * Paths for which [`is_exempt_path`] holds go straight to the inner service.
/// * Otherwise the request needs exactly one `authorization: Bearer <jwt>`
///   header whose token [`Verifier::verify`] accepts. On success the
///   `authorization` header is removed (so nothing downstream can log it),
///   the [`Actor`] is inserted into the request extensions and the inner
///   service is called. On failure the inner service is *not* called and the
///   response is a trailers-only gRPC error with status `UNAUTHENTICATED`
///   (16) and the client-safe reason; the reason (never the token) is logged
///   at debug.
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    verifier: Verifier,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'static>>;

impl<S, B, ResBody> tower_service::Service<http::Request<B>> for AuthService<S>
where
    S: tower_service::Service<http::Request<B>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = http::Response<ResBody>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        // Use the service that was driven to readiness; leave a fresh clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);

        if is_exempt_path(request.uri().path()) {
            return Box::pin(inner.call(request));
        }
        let verifier = self.verifier.clone();
        let token = bearer_token(request.headers());
        Box::pin(async move {
            let outcome = match token {
                Ok(token) => verifier.verify(&token).await,
                Err(e) => Err(e),
            };
            match outcome {
                Ok(actor) => {
                    tracing::trace!(actor = %actor.id, path = request.uri().path(), "authenticated");
                    request.headers_mut().remove(AUTHORIZATION);
                    request.extensions_mut().insert(actor);
                    inner.call(request).await
                }
                Err(e) => {
                    tracing::debug!(reason = %e, path = request.uri().path(), "rejected unauthenticated request");
                    Ok(tonic::Status::from(e).into_http())
                }
            }
        })
    }
}

/// Extracts the token from the single `authorization: Bearer <token>` header.
fn bearer_token(headers: &HeaderMap) -> Result<String, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Err(AuthError::MissingToken);
    };
    if values.next().is_some() {
        return Err(AuthError::MalformedHeader);
    }
    let value = value.to_str().map_err(|_| AuthError::MalformedHeader)?;
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return Err(if value.trim().eq_ignore_ascii_case("bearer") {
            AuthError::MissingToken
        } else {
            AuthError::MalformedHeader
        });
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::MalformedHeader);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    if token.contains(char::is_whitespace) {
        return Err(AuthError::MalformedHeader);
    }
    Ok(token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exempt_paths() {
        assert!(is_exempt_path("/grpc.health.v1.Health/Check"));
        assert!(is_exempt_path("/grpc.health.v1.Health/Watch"));
        assert!(is_exempt_path(
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ));
        assert!(is_exempt_path(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        ));
        assert!(!is_exempt_path("/complaints.v1.Intake/Submit"));
        assert!(!is_exempt_path(
            "/grpc.health.v1.Health/../complaints.v1.Intake/Submit"
        ));
        assert!(!is_exempt_path("/grpc.health.v1.Health/%2e%2e"));
        assert!(!is_exempt_path("/grpc.health.v1.HealthX/Check"));
        assert!(!is_exempt_path("grpc.health.v1.Health/Check"));
    }

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(AUTHORIZATION, v.parse().expect("test value"));
        }
        h
    }

    #[test]
    fn bearer_parsing() {
        assert!(matches!(
            bearer_token(&headers(&[])),
            Err(AuthError::MissingToken)
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer"])),
            Err(AuthError::MissingToken)
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer   "])),
            Err(AuthError::MissingToken)
        ));
        assert!(matches!(
            bearer_token(&headers(&["Basic abc"])),
            Err(AuthError::MalformedHeader)
        ));
        assert!(matches!(
            bearer_token(&headers(&["abc"])),
            Err(AuthError::MalformedHeader)
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a b"])),
            Err(AuthError::MalformedHeader)
        ));
        assert!(matches!(
            bearer_token(&headers(&["Bearer a", "Bearer b"])),
            Err(AuthError::MalformedHeader)
        ));
        assert_eq!(bearer_token(&headers(&["Bearer a.b.c"])).expect("test value"), "a.b.c");
        assert_eq!(
            bearer_token(&headers(&["bearer  a.b.c "])).expect("test value"),
            "a.b.c"
        );
    }
}
