//! Observability at the HTTP edge: a request id per request (`x-request-id`, in the
//! tracing span and the response), request counts and latency histograms per matched
//! route, and `/metrics` in the Prometheus/OpenMetrics text format with the store's
//! queue depths, the age of the last successful sync and push, and the data
//! directory's free space.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use super::{AppState, Result};
use crate::store::{self, outbox, stats, sync_runs};

/// Labels of the per-route request metrics. Every value comes from a bounded set, so
/// no client can grow `/metrics`: the method is one of HTTP's standard ones or `other`,
/// the route is the matched route template or `unmatched`, and the status is a
/// standard code or its class (`5xx`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
    status: StatusLabel,
}

/// The `status` label: a status code with a standard reason phrase as its number,
/// anything else as its class.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct StatusLabel(StatusCode);

impl prometheus_client::encoding::EncodeLabelValue for StatusLabel {
    fn encode(
        &self,
        encoder: &mut prometheus_client::encoding::LabelValueEncoder<'_>,
    ) -> std::fmt::Result {
        use std::fmt::Write;
        let code = self.0.as_u16();
        if self.0.canonical_reason().is_some() {
            write!(encoder, "{code}")
        } else {
            write!(encoder, "{}xx", code / 100)
        }
    }
}

/// The `method` label: a standard method by name, any other as `other`.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// The process's metrics registry. One per application (not global), so tests that
/// run several applications in one process see only their own requests.
pub struct HttpMetrics {
    registry: Registry,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    outbox_depth: Gauge,
    dead_letters: Gauge,
    inbox_depth: Gauge,
    recruiterflow_age: Gauge<f64, AtomicU64>,
    supabase_age: Gauge<f64, AtomicU64>,
    uptime: Gauge<f64, AtomicU64>,
    free_bytes: Gauge,
    disk_full: Gauge,
}

/// A gauge of the registry: a count, or seconds (fractional, +Inf for never).
enum Value<'a> {
    Count(&'a Gauge),
    Seconds(&'a Gauge<f64, AtomicU64>),
}

fn latency_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

impl HttpMetrics {
    /// A fresh registry with every jobrank metric registered.
    pub fn new() -> Arc<HttpMetrics> {
        let mut registry = Registry::with_prefix("jobrank");
        let requests = Family::<RouteLabels, Counter>::default();
        let latency =
            Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> _);
        let m = HttpMetrics {
            requests: requests.clone(),
            latency: latency.clone(),
            outbox_depth: Gauge::default(),
            dead_letters: Gauge::default(),
            inbox_depth: Gauge::default(),
            recruiterflow_age: Gauge::default(),
            supabase_age: Gauge::default(),
            uptime: Gauge::default(),
            free_bytes: Gauge::default(),
            disk_full: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, matched route and status",
            requests,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by method, matched route and status",
            latency,
        );
        #[rustfmt::skip]
        let gauges = [
            ("outbox_depth", "Changes waiting to be pushed to Supabase", Value::Count(&m.outbox_depth)),
            ("outbox_dead_letters", "Changes Supabase refused permanently (need a person)", Value::Count(&m.dead_letters)),
            ("webhook_inbox_depth", "Recruiterflow webhooks received and not yet processed", Value::Count(&m.inbox_depth)),
            ("recruiterflow_last_sync_age_seconds", "Seconds since the last successful Recruiterflow sync (+Inf when never)", Value::Seconds(&m.recruiterflow_age)),
            ("supabase_last_push_age_seconds", "Seconds since the last successful Supabase push (+Inf when never)", Value::Seconds(&m.supabase_age)),
            ("uptime_seconds", "Seconds since this process started serving", Value::Seconds(&m.uptime)),
            ("data_dir_free_bytes", "Free bytes in the filesystem holding the data directory (statvfs, as df shows)", Value::Count(&m.free_bytes)),
            ("store_disk_full", "1 while the store refuses writes because the disk is full, else 0", Value::Count(&m.disk_full)),
        ];
        for (name, help, gauge) in gauges {
            match gauge {
                Value::Count(g) => registry.register(name, help, g.clone()),
                Value::Seconds(g) => registry.register(name, help, g.clone()),
            }
        }
        Arc::new(HttpMetrics { registry, ..m })
    }

    fn observe(&self, labels: RouteLabels, elapsed: Duration) {
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}

/// `/metrics`.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

/// Wraps the whole application: request ids, the tracing span per request and the
/// per-route metrics. Call it once, on the fully merged router.
pub fn instrument(app: Router, metrics: Arc<HttpMetrics>) -> Router {
    app.layer(middleware::from_fn_with_state(metrics.clone(), track))
        .layer(axum::Extension(metrics))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                let id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", id = %id, method = %req.method(), path = %loggable_path(req.uri().path()))
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// The path as logged: never the query string (it may carry keys), and the webhook
/// path token replaced, since it is a secret.
fn loggable_path(path: &str) -> &str {
    if path.starts_with("/webhooks/recruiterflow/") {
        "/webhooks/recruiterflow/[token]"
    } else {
        path
    }
}

/// Counts and times one request under its matched route (`unmatched` for 404s) and its
/// method (`other` for a made-up one), so scanners cannot grow the label set.
async fn track(State(metrics): State<Arc<HttpMetrics>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let start = Instant::now();
    let response = next.run(req).await;
    metrics.observe(
        RouteLabels {
            method,
            route,
            status: StatusLabel(response.status()),
        },
        start.elapsed(),
    );
    response
}

fn age_seconds(
    at: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> f64 {
    match at {
        Some(t) => (now - t).num_milliseconds().max(0) as f64 / 1000.0,
        None => f64::INFINITY,
    }
}

async fn metrics(
    State(state): State<AppState>,
    axum::Extension(metrics): axum::Extension<Arc<HttpMetrics>>,
) -> Result<Response> {
    let (outbox_depth, dead, inbox, rf, push) = state
        .store
        .read(|c| {
            Ok((
                outbox::pending_count(c)?,
                outbox::dead_count(c)?,
                stats::webhook_inbox_pending(c)?,
                sync_runs::latest_ok_run(c, "recruiterflow")?,
                sync_runs::latest_ok_run(c, "supabase_push")?,
            ))
        })
        .await?;
    let now = store::now();
    metrics.outbox_depth.set(outbox_depth);
    metrics.dead_letters.set(dead);
    metrics.inbox_depth.set(inbox);
    metrics.recruiterflow_age.set(age_seconds(
        rf.map(|r| r.finished_at.unwrap_or(r.started_at)),
        now,
    ));
    metrics.supabase_age.set(age_seconds(
        push.map(|r| r.finished_at.unwrap_or(r.started_at)),
        now,
    ));
    metrics.uptime.set(age_seconds(Some(state.started_at), now));
    if let Ok(free) = state.store.free_bytes() {
        metrics
            .free_bytes
            .set(i64::try_from(free).unwrap_or(i64::MAX));
    }
    metrics
        .disk_full
        .set(i64::from(state.store.disk_full().is_some()));
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &metrics.registry)?;
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}
