//! Building and running the application: the same code path for `main` and for the tests.

use crate::accounts::{Accounts, SessionPolicy, SignInThrottle};
use crate::classify::Classifier;
use crate::config::Settings;
use crate::gate::PublicGate;
use crate::health::{DatabaseHealth, Part};
use crate::ingest::{self, IngestWorker};
use crate::lookup::ShareLookup;
use crate::metrics::{Metrics, RequestLabels, method_label};
use crate::privacy::DailySalt;
use crate::routes;
use crate::state::AppState;
use crate::store::{self, Invalidation, Notice};
use crate::telemetry::{RequestSpan, record_answer, tag_server_error};
use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpMessage, HttpServer, web};
use anyhow::Context;
use secrecy::ExposeSecret;
use std::borrow::Cow;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing_actix_web::TracingLogger;

/// In-flight requests get this long after SIGTERM; then the visit queue drains. Together they
/// stay within the 5 s a container orchestrator usually allows before SIGKILL.
const REQUEST_GRACE: u64 = 2;
const DRAIN_DEADLINE: Duration = Duration::from_secs(3);
/// Webhook messages being sent at SIGTERM get this long, while the queue drains; one cut off
/// is sent again later, under the same id.
const WEBHOOK_DEADLINE: Duration = Duration::from_secs(2);

pub struct Application {
    port: u16,
    setup_url: Option<String>,
    base_url: String,
    server: Server,
    ingest: IngestWorker,
    webhooks: crate::webhooks::WebhookWorker,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        if std::env::var_os("SHARETRAIL_TRUST_PROXY").is_some() {
            tracing::warn!(
                "SHARETRAIL_TRUST_PROXY is no longer read: name the proxies to trust in SHARETRAIL_TRUSTED_PROXIES"
            );
        }
        let database = &settings.database;
        let store = store::connect(database.database_url.expose_secret(), database.database_connections)
            .await
            .context("could not open the database")?;
        store.migrate().await.context("could not migrate the database")?;
        let metrics = Arc::new(Metrics::new());
        let health = Arc::new(DatabaseHealth::default());
        let lookup = Arc::new(
            ShareLookup::load(store.clone(), metrics.clone(), health.clone(), settings.cache_capacity)
                .await
                .context("could not load the existing codes")?,
        );
        let (remote, feed_health) = (lookup.clone(), health.clone());
        store
            .listen_for_invalidations(Arc::new(move |notice| match notice {
                Notice::Changed(change) => remote.apply(change),
                Notice::Lost => feed_health.failed(Part::Notifications, "the LISTEN connection was lost"),
                // Whatever changed meanwhile went unheard: every answer is checked again.
                Notice::Restored => {
                    feed_health.answered(Part::Notifications);
                    remote.apply(Invalidation::Everything);
                }
            }))
            .await
            .context("could not listen for cache invalidations")?;
        let salt = Arc::new(
            DailySalt::load(store.as_ref())
                .await
                .context("could not load the visitor salt")?,
        );
        salt.keep_fresh(store.clone());
        let classifier = Arc::new(Classifier::from_vendored_data().context("could not load the bot lists")?);
        let (ingest, worker) = ingest::start(
            store.clone(),
            lookup.clone(),
            metrics.clone(),
            health.clone(),
            settings.visit_queue,
            settings.visit_batch,
            Duration::from_millis(settings.visit_flush_ms),
            ingest::FoldPolicy::default(),
        );

        let minter = crate::mint::Minter::start(
            store.clone(),
            lookup.clone(),
            metrics.clone(),
            health.clone(),
            Duration::from_secs(settings.reservation_seconds.max(1)),
        );

        let listener =
            TcpListener::bind(settings.listen).with_context(|| format!("could not listen on {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let base_url = match &settings.base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}:{port}", settings.listen.ip()),
        };
        let geoip = match &settings.geoip_db {
            Some(path) => Some(Arc::new(crate::geo::GeoIp::open(path)?)),
            None => None,
        };
        let gate = Arc::new(PublicGate::new(
            settings.public_rate_per_ip,
            settings.public_rate_per_site,
        ));
        gate.keep_tidy();
        let accounts = Arc::new(Accounts::new(
            SessionPolicy {
                idle: Duration::from_secs(settings.session_idle_minutes.max(1) * 60),
                absolute: Duration::from_secs(settings.session_max_hours.max(1) * 3600),
                secure: base_url.starts_with("https://"),
            },
            SignInThrottle::new(settings.signin_rate_per_account, settings.signin_rate_per_ip),
        ));
        let mut setup_url = None;
        if store.count_users().await.context("could not count users")? == 0 {
            let url = format!("{base_url}/app/setup?token={}", accounts.open_setup());
            tracing::warn!(
                setup_url = %url,
                "no account exists yet: open the setup URL to create the first admin (it works once)"
            );
            setup_url = Some(url);
        }
        keep_sessions_tidy(store.clone(), accounts.clone());
        let demo_site_key = match settings.demo_enabled() {
            true => Some(
                routes::snippet::prepare_demo_site(store.as_ref(), &base_url)
                    .await
                    .context("could not prepare the demo site")?
                    .public_key,
            ),
            false => None,
        };
        let webhooks = crate::webhooks::start(store.clone(), health.clone(), &settings.webhooks, &base_url)
            .context("could not start the webhook dispatcher")?;
        let state = web::Data::new(AppState {
            store,
            lookup,
            classifier,
            ingest,
            minter,
            health,
            salt,
            metrics,
            base_url: base_url.clone(),
            trusted_proxies: settings.trusted_proxies.clone(),
            geoip,
            gate,
            api_keys: crate::gate::ActiveKeys::default(),
            qr: crate::render::QrRenderer::default(),
            demo_site_key,
            metrics_token: settings.metrics_token.clone(),
            accounts,
            webhook_guard: crate::webhooks::AddressGuard::new(settings.webhooks.webhook_allow_private),
        });
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(front_door))
                .wrap(TracingLogger::<RequestSpan>::new())
                // Outermost: a redirect is answered before the request span is made.
                .wrap(from_fn(redirect_door))
                .configure(routes::configure)
        })
        .shutdown_timeout(REQUEST_GRACE);
        if let Some(workers) = settings.workers {
            server = server.workers(workers);
        }
        let server = server.listen(listener)?.run();
        Ok(Application {
            port,
            setup_url,
            base_url,
            server,
            ingest: worker,
            webhooks,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The one-time link that creates the first admin, while no account exists.
    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until SIGTERM/SIGINT, then stores every visit still queued before returning.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        tracing::info!(url = %self.base_url, "sharetrail is listening");
        let served = self.server.await;
        // Side by side: the drain's deadline bounds both.
        tokio::join!(
            self.ingest.shutdown(DRAIN_DEADLINE),
            self.webhooks.shutdown(WEBHOOK_DEADLINE)
        );
        tracing::info!("sharetrail stopped");
        Ok(served?)
    }
}

/// Deletes expired sessions and idle throttle state every few minutes.
fn keep_sessions_tidy(store: Arc<dyn store::Store>, accounts: Arc<Accounts>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(300));
        loop {
            tick.tick().await;
            accounts.throttle.tidy();
            accounts.link_passwords.tidy();
            let now = crate::clock::now_ms();
            let policy = accounts.policy;
            let purged = store
                .purge_sessions(
                    now - policy.idle.as_millis() as i64,
                    now - policy.absolute.as_millis() as i64,
                )
                .await;
            if let Err(err) = purged {
                tracing::warn!(error = %crate::telemetry::cause_chain(&err), "could not purge expired sessions");
            }
        }
    });
}

/// The way in of a short-code redirect, most of the traffic: answered here, outside the
/// request span and without walking the route table (a dozen patterns tried and refused before
/// the fallback, a tenth of a redirect's time in the application). The span and its request id
/// cost as much again as the rest of a cached redirect (`docs/BENCHMARKS.md`), so a redirect has
/// none: it is counted by method and status under the route `/{code}`, never the code, and the
/// access log (`sharetrail::requests` at debug) has a line for it with the same fields.
async fn redirect_door<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let Some(code) = routes::redirect::short_code_path(req.request()) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let started = Instant::now();
    let method = method_label(req.method());
    let (request, _) = req.into_parts();
    // Borrowed from the request, not extracted: every clone of the shared state's `Arc` writes
    // a reference count that all workers write.
    let response = match request.app_data::<web::Data<AppState>>() {
        Some(state) => {
            let response = routes::redirect::redirect(&request, &code, state).await;
            state
                .metrics
                .http_requests
                .count_redirect(method, response.status().as_u16());
            response
        }
        None => crate::web::unavailable_page(),
    };
    tracing::debug!(
        target: crate::telemetry::REQUESTS,
        method,
        route = crate::metrics::REDIRECT_ROUTE,
        status = response.status().as_u16(),
        latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "answered"
    );
    Ok(ServiceResponse::new(request, response).map_into_right_body())
}

/// Every other request's way in, inside its span (see `telemetry::RequestSpan`): routed, counted
/// by route (never the raw path) and status, and the span gets the same route, the status and
/// the latency.
async fn front_door<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let span = tracing::Span::current();
    let method = method_label(req.method());
    let (request, mut response) = next.call(req).await?.into_parts();
    let status = response.status();
    // The fallback marks the requests it answers: finding any other route's pattern walks every
    // route again.
    let fallback = request.extensions().contains::<routes::redirect::ShortCodeRoute>();
    let route = match fallback {
        true => Cow::Borrowed(crate::metrics::REDIRECT_ROUTE),
        false => request
            .match_pattern()
            .map_or(Cow::Borrowed(crate::metrics::REDIRECT_ROUTE), Cow::Owned),
    };
    record_answer(&span, &route, status, started.elapsed());
    tag_server_error(&request, status, response.headers_mut());
    if let Some(state) = request.app_data::<web::Data<AppState>>() {
        let metrics = &state.metrics.http_requests;
        match fallback {
            true => metrics.count_redirect(method, status.as_u16()),
            false => metrics.count(RequestLabels {
                route,
                method,
                status: status.as_u16(),
            }),
        }
    }
    Ok(ServiceResponse::new(request, response))
}
