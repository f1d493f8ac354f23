//! Real-time tracking alerts: the live stream (Server-Sent Events), the list, acknowledgement,
//! and a watch's sightings (the path of the car).

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::auth::staff_actor;
use anpr_app::realtime;
use anpr_app::AppError;
use anpr_ledger::{Action, Event as LedgerEvent, Outcome, ResultDigest};
use anpr_realtime::RecvError;
use anpr_store::{Alert, AlertAudience, AlertFilter};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use tokio::sync::mpsc;
use utoipa::{IntoParams, ToSchema};

/// Alerts read from the store per query when a stream resumes.
const RESUME_PAGE: u32 = 500;

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Only alerts with a greater id.
    pub after: Option<i64>,
    /// Only the alerts of this tracking authorisation.
    pub authorisation_id: Option<i64>,
    /// At most this many (default and maximum 1,000), oldest first.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<Alert>,
}

/// The alerts the caller receives (their own tracking requests' and, for a supervisor, their
/// district's), oldest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "tracking", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = AlertList), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<AlertList>> {
    audit.action(Action::AlertList);
    audit.query(serde_json::json!({ "after": p.after, "authorisation_id": p.authorisation_id }));
    let audience = realtime::audience(&state, &staff.user).await?;
    let alerts = state
        .store
        .alerts(AlertFilter {
            audience: Some(audience),
            authorisation_id: p.authorisation_id,
            after_id: p.after,
            limit: p.limit,
        })
        .await?;
    realtime::disclose_alerts(&state, &staff.user, &alerts).await?;
    audit.disclosed(&alerts.iter().map(|a| a.read_id).collect::<Vec<_>>());
    audit.facts(anpr_app::network_uses::reach_facts(
        &staff.user.district,
        &[],
        alerts.iter().map(|a| a.network_id),
    ));
    Ok(Json(AlertList { alerts }))
}

/// Acknowledge an alert (the first acknowledgement stands). An alert that is not the caller's:
/// 404.
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "tracking", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Alert), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn ack(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
) -> ApiResult<Json<Alert>> {
    // The request's own ledger entry is the acknowledgement's record.
    audit.action(Action::AlertAck);
    audit.query(serde_json::json!({ "alert_id": id }));
    let audience = realtime::audience(&state, &staff.user).await?;
    let alert = realtime::visible_alert(&state, &audience, id).await?;
    let acked = state
        .store
        .ack_alert(alert.id, &staff.user.staff_id, chrono::Utc::now())
        .await?;
    audit.disclosed(&[acked.read_id]);
    audit.facts(anpr_app::network_uses::reach_facts(
        &staff.user.district,
        &[],
        [acked.network_id],
    ));
    Ok(Json(acked))
}

#[derive(Serialize, ToSchema)]
pub struct Sightings {
    pub authorisation_id: i64,
    pub plate: String,
    /// How many sightings the watch had.
    pub count: usize,
    /// Every sighting since the watch began, in the order the car was seen (empty when the
    /// path is withheld).
    pub sightings: Vec<Alert>,
    /// The path is withheld: an overseer sees how many sightings, not where.
    pub path_withheld: bool,
    /// Why the path is withheld, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// The sightings of a tracking authorisation's watch since it began: the path of the car, for
/// its requester and the supervisors of its district (under the authorisation's purpose). An
/// overseer gets how many sightings there were, and the path only while an integrity case
/// about the requester is theirs to work. Anyone who may not see the authorisation: 404.
#[utoipa::path(get, path = "/api/v1/tracking/{id}/sightings", tag = "tracking", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Sightings), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn sightings(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
) -> ApiResult<Json<Sightings>> {
    audit.action(Action::SightingsView);
    audit.query(serde_json::json!({ "authorisation_id": id }));
    let w = realtime::sightings(&state, &staff.user, id, &audit).await?;
    Ok(Json(Sightings {
        authorisation_id: w.authorisation.id,
        plate: w.authorisation.plate,
        count: w.count,
        path_withheld: w.sightings.is_none(),
        sightings: w.sightings.unwrap_or_default(),
        notice: w.withheld,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StreamParams {
    /// Resume after this alert id (as the `Last-Event-ID` header, for clients that cannot set
    /// headers). Without either, only alerts raised from now on are sent.
    pub after: Option<i64>,
}

/// The live alert stream (Server-Sent Events): each event's `id` is the alert id and its
/// `data` the alert as JSON. Reconnect with `Last-Event-ID` to receive every alert missed
/// since. A client that falls behind is disconnected (it resumes the same way).
#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "tracking", security(("bearer" = [])),
    params(StreamParams, ("Last-Event-ID" = Option<i64>, Header)),
    responses((status = 200, content_type = "text/event-stream"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn stream(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    headers: HeaderMap,
    Query(p): Query<StreamParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    audit.action(Action::AlertStream);
    let last_event_id = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| AppError::invalid("Last-Event-ID", "must be an alert id"))?,
        ),
        None => p.after,
    };
    audit.query(serde_json::json!({ "last_event_id": last_event_id }));
    let audience = realtime::audience(&state, &staff.user).await?;
    // Subscribe before reading what was missed, so nothing raised in between is lost.
    let live = state.alerts.subscribe();
    let (tx, rx) = mpsc::channel(state.config.alert_client_buffer.max(1));
    // Sent at once so the response's headers go out now: a client knows it is connected.
    let _ = tx.try_send(Event::default().comment("connected"));
    tokio::spawn(feed(state, staff, audience, last_event_id, live, tx));
    let events =
        futures_util::stream::unfold(
            rx,
            |mut rx| async move { rx.recv().await.map(|e| (Ok(e), rx)) },
        );
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// Why a stream ends.
enum Stop {
    /// The client is gone, or fell behind: it resumes with `Last-Event-ID`.
    Client,
    /// A delivery could not be recorded in the ledger, so nothing more is delivered.
    Ledger,
    /// The session ended (signed out, expired, account disabled): so does the stream.
    Session,
}

/// Feeds one client: what it missed (from the store), then live alerts it may see.
async fn feed(
    state: AppState,
    staff: StaffAuth,
    audience: AlertAudience,
    resume_after: Option<i64>,
    mut live: anpr_realtime::AlertReceiver,
    tx: mpsc::Sender<Event>,
) {
    // While an officer waits for alerts, bulk camera traffic is paced (see `anpr_app::lanes`).
    let _waiting = state.ingest_lane.stream_open();
    let mut closing = state.closing.subscribe();
    let mut last = resume_after.unwrap_or(0);
    if resume_after.is_some() {
        loop {
            let page = match state
                .store
                .alerts(AlertFilter {
                    audience: Some(audience.clone()),
                    after_id: Some(last),
                    limit: Some(RESUME_PAGE),
                    ..Default::default()
                })
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(error = %e, "alert stream resume failed");
                    return;
                }
            };
            let n = page.len();
            for a in &page {
                // What was missed is sent at the client's pace: it is read from the store.
                if deliver(&state, &staff, a, &tx, true).await.is_err() {
                    return;
                }
                last = a.id;
            }
            if n < RESUME_PAGE as usize {
                break;
            }
        }
    }
    // Live alerts up to `floor` were just read from the store. Above it nothing is filtered by
    // id: two ingests may publish their alerts out of id order, and each must still arrive
    // (delivery is at least once; a client may see an alert again after a resume).
    let floor = last;
    loop {
        let alert = tokio::select! {
            _ = tx.closed() => return,
            _ = closing.wait_for(|c| *c) => return,
            r = live.recv() => r,
        };
        match alert {
            Ok(a) if a.id > floor && audience.sees(&a) => {
                match deliver(&state, &staff, &a, &tx, false).await {
                    Ok(()) => {}
                    Err(Stop::Client) => {
                        state.metrics.alert_clients_dropped.inc();
                        return;
                    }
                    Err(Stop::Ledger | Stop::Session) => return,
                }
            }
            Ok(_) => {}
            Err(RecvError::Lagged) => {
                state.metrics.alert_clients_dropped.inc();
                return;
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Records the delivery in the ledger, then hands the alert to the client's connection. The
/// entry is written first (as every disclosure is), so the ledger never misses a delivery; a
/// client dropped after the entry receives the alert again on resume, with its own entry.
async fn deliver(
    state: &AppState,
    staff: &StaffAuth,
    a: &Alert,
    tx: &mpsc::Sender<Event>,
    wait: bool,
) -> Result<(), Stop> {
    // A stream outlives the request that opened it: nothing is sent once its session is over.
    match state
        .store
        .session_user(&staff.session_hash, chrono::Utc::now())
        .await
    {
        Ok(Some(u)) if u.active => {}
        _ => return Err(Stop::Session),
    }
    let entry = LedgerEvent::new(staff_actor(&staff.user), Action::AlertDelivered)
        .query(serde_json::json!({
            "alert_id": a.id,
            "kind": a.kind.as_str(),
            "authorisation_id": a.authorisation_id,
            "plate": a.plate,
        }))
        .facts(anpr_app::network_uses::reach_facts(
            &staff.user.district,
            &[a.network_id],
            [a.network_id],
        ))
        .result(ResultDigest::of_ids(&[a.read_id]))
        .outcome(Outcome::granted());
    // Delivered, the alert's read may be opened under its authorisation's purpose: that record
    // is written while the ledger entry becomes durable, not after it (each is a commit on the
    // alert's path). Should it fail, only that view is refused later; the alert still goes.
    let (recorded, disclosed) = tokio::join!(
        anpr_app::audit::append(state, entry),
        realtime::disclose_alerts(state, &staff.user, std::slice::from_ref(a))
    );
    if let Err(e) = recorded {
        tracing::error!(error = %e, "alert delivery could not be recorded; stream ended");
        return Err(Stop::Ledger);
    }
    if let Err(e) = disclosed {
        tracing::warn!(error = %e, "an alert's disclosure could not be recorded");
    }
    let data = serde_json::to_string(a).map_err(|_| Stop::Client)?;
    let event = Event::default()
        .id(a.id.to_string())
        .event("alert")
        .data(data);
    if wait {
        tx.send(event).await.map_err(|_| Stop::Client)
    } else {
        // Live delivery never waits: a client whose buffer is full is dropped.
        tx.try_send(event).map_err(|_| Stop::Client)
    }
}
