//! Prometheus metrics of a service, in the OpenMetrics text format (which Prometheus scrapes) on `GET /metrics` at
//! `metrics_addr` (empty: not served). Today: the calendars' remaining coverage (operators are
//! warned 90 days ahead) and the clocks the scheduler fired.

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CalendarLabel {
    pub calendar: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FiredLabel {
    /// `warning`, `breach` or `expired`.
    pub event: String,
    pub kind: String,
}

/// The metric families a service updates; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Days from today to the last date a calendar has data for (negative: past it).
    pub calendar_days_left: Family<CalendarLabel, Gauge>,
    /// 1 when a calendar's data ends within the warning period (`clocks.coverage_warning_days`).
    pub calendar_coverage_ending: Family<CalendarLabel, Gauge>,
    /// Clock warnings, breaches and window expiries fired by this service's scheduler.
    pub clocks_fired: Family<FiredLabel, Counter>,
}

impl Metrics {
    pub fn new(service: &str) -> Self {
        let mut registry = Registry::with_prefix_and_labels("cms", [("service".into(), service.to_owned().into())].into_iter());
        let calendar_days_left = Family::<CalendarLabel, Gauge>::default();
        let calendar_coverage_ending = Family::<CalendarLabel, Gauge>::default();
        let clocks_fired = Family::<FiredLabel, Counter>::default();
        registry.register("calendar_days_left", "Days until the calendar's published data ends", calendar_days_left.clone());
        registry.register(
            "calendar_coverage_ending",
            "1 when the calendar's data ends within the warning period: add the next year's file",
            calendar_coverage_ending.clone(),
        );
        registry.register("clocks_fired", "Clock warnings, breaches and window expiries fired", clocks_fired.clone());
        Self { registry: Arc::new(registry), calendar_days_left, calendar_coverage_ending, clocks_fired }
    }

    /// The metrics in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "metrics could not be encoded");
        }
        text
    }

    /// Binds `addr` (empty: no metrics endpoint); the task serves until `token` is cancelled.
    pub async fn bind(&self, addr: &str) -> anyhow::Result<Option<(SocketAddr, futures::future::BoxFuture<'static, anyhow::Result<()>>)>> {
        if addr.trim().is_empty() {
            return Ok(None);
        }
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot bind metrics_addr {addr}: {e}"))?;
        let local = listener.local_addr()?;
        let metrics = self.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let metrics = metrics.clone();
                async move { ([(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], metrics.render()) }
            }),
        );
        let serve = async move {
            axum::serve(listener, app).await?;
            Ok(())
        };
        Ok(Some((local, Box::pin(serve))))
    }
}

/// Runs a bound metrics endpoint until `token` is cancelled.
pub async fn serve(serving: futures::future::BoxFuture<'static, anyhow::Result<()>>, token: CancellationToken) -> anyhow::Result<()> {
    tokio::select! {
        result = serving => result,
        _ = token.cancelled() => Ok(()),
    }
}
