//! Real-time tracking in the server: the watch set kept in step with the authorisations,
//! matching in the ingest path, and who receives an alert.
//!
//! The matching and fan-out themselves live in `anpr-realtime` (behind the `WatchSet` and
//! `AlertBus` traits); this module connects them to the store and the access policy.

use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::{CameraId, NetworkId, NewRead, User};
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind};
use anpr_realtime::Watch;
use anpr_store::{
    AlertAudience, AlertFilter, AlertKind, AuthorisationFilter, InsertOutcome, NewAlert,
    StoreChange,
};
use chrono::Utc;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Active tracking authorisations read per query when loading the watch set.
const LOAD_PAGE: u32 = 5000;

/// Replaces the watch set with the active tracking authorisations in the store: at start (so
/// watches survive a restart) and when sharing agreements change (they decide the networks).
pub async fn load_watches(state: &App) -> AppResult<usize> {
    let watches = active_watches(state).await?;
    let n = watches.len();
    state.watches.replace_all(watches);
    Ok(n)
}

/// Adds the active tracking authorisations another process (a second server, the CLI) started,
/// without removing anything: run with the periodic sweep. A watch this re-adds after it was
/// stopped meanwhile is caught by the check every match makes against the store.
pub async fn reconcile_watches(state: &App) -> AppResult<usize> {
    let watches = active_watches(state).await?;
    let n = watches.len();
    for w in watches {
        state.watches.upsert(w);
    }
    Ok(n)
}

pub(crate) async fn active_watches(state: &App) -> AppResult<Vec<Watch>> {
    let mut active = Vec::new();
    let mut before_id = None;
    loop {
        let page = state
            .store
            .authorisations(AuthorisationFilter {
                kind: Some(AuthorisationKind::Tracking),
                statuses: vec![AuthStatus::Active],
                before_id,
                limit: Some(LOAD_PAGE),
                ..Default::default()
            })
            .await?;
        let n = page.len();
        before_id = page.last().map(|a| a.id);
        active.extend(page);
        if n < LOAD_PAGE as usize {
            break;
        }
    }
    let agreements = state.store.network_agreements().await?;
    Ok(active
        .iter()
        .filter_map(|a| Watch::from_authorisation(a, &agreements))
        .collect())
}

/// Whether the authorisation behind a matched watch is still in force, by the store (the
/// truth, whichever process changed it): settled to now, so one due to end ends here and its
/// watch is removed. Matches are rare, so this costs a lookup or two per alert, not per read.
async fn still_active(state: &App, id: i64) -> AppResult<bool> {
    let Some(a) = state.store.authorisation(id).await? else {
        state.watches.remove(id);
        return Ok(false);
    };
    let a = crate::access::settle(state, a).await?;
    if a.status != AuthStatus::Active {
        state.watches.remove(id);
        return Ok(false);
    }
    Ok(true)
}

/// Brings the watch of one authorisation in line with its current state: an active tracking
/// authorisation watches, anything else (pending, refused, revoked, expired, stopped) does not.
pub async fn sync_watch(state: &App, a: &Authorisation) -> AppResult<()> {
    if a.kind != AuthorisationKind::Tracking {
        return Ok(());
    }
    if a.status != AuthStatus::Active {
        state.watches.remove(a.id);
        return Ok(());
    }
    let agreements = state.store.network_agreements().await?;
    match Watch::from_authorisation(a, &agreements) {
        Some(w) => {
            // The networks it now covers are told: time, purpose code and district only.
            crate::network::notify_watch(state, &w).await?;
            state.watches.upsert(w)
        }
        None => state.watches.remove(a.id),
    }
    Ok(())
}

async fn network_of(state: &App, camera: CameraId) -> AppResult<Option<NetworkId>> {
    if let Some(n) = state
        .camera_networks
        .read()
        .expect("camera network lock")
        .get(&camera)
    {
        return Ok(Some(*n));
    }
    let (sites, cameras) = (state.store.sites().await?, state.store.cameras().await?);
    let network = anpr_store::network_of(&sites, &cameras, camera);
    if let Some(n) = network {
        state
            .camera_networks
            .write()
            .expect("camera network lock")
            .insert(camera, n);
    }
    Ok(network)
}

/// Matches the reads of one ingest (all from one camera) against the active watches, stores
/// an alert for each match and publishes it. Runs after the reads are durable and before the
/// ingest is acknowledged, so an acknowledged read has been matched and its alerts are stored.
/// A retried upload (a duplicate) was matched when first stored and is not matched again.
pub async fn match_ingest(
    state: &App,
    camera: CameraId,
    reads: &[NewRead],
    outcomes: &[InsertOutcome],
) -> AppResult<usize> {
    if state.watches.is_empty() {
        return Ok(0);
    }
    let Some(network) = network_of(state, camera).await? else {
        return Ok(0);
    };
    // The network's own controls, from this process's copy (confirmed within 200 ms): while it
    // suspends sharing no watch alerts on its cameras, and a watch under a purpose it does not
    // share for never does. Its reads are stored all the same.
    let controls = state
        .network_controls
        .recent(state.store.as_ref(), crate::network::MATCH_MAX_AGE)
        .await?;
    let owner = anpr_policy::network::controls_of(&controls, network);
    if owner.suspended {
        return Ok(0);
    }
    let now = Utc::now();
    let mut found = Vec::new();
    for (read, outcome) in reads.iter().zip(outcomes).filter(|(_, o)| !o.duplicate) {
        for w in state
            .watches
            .matches(read.plate.as_str(), network, read.captured_at, now)
            .into_iter()
            .filter(|w| owner.withholds(&w.purpose_code).is_none())
        {
            found.push(NewAlert {
                kind: AlertKind::Watch,
                authorisation_id: w.authorisation_id,
                requester_user_id: w.requester_user_id,
                district: w.district.clone(),
                plate: w.plate.clone(),
                read_id: outcome.id,
            });
        }
    }
    if found.is_empty() {
        return Ok(0);
    }
    let mut checked: Vec<(i64, bool)> = Vec::new();
    let mut confirmed = Vec::with_capacity(found.len());
    for alert in found {
        let ok = match checked.iter().find(|(id, _)| *id == alert.authorisation_id) {
            Some((_, ok)) => *ok,
            None => {
                let ok = still_active(state, alert.authorisation_id).await?;
                checked.push((alert.authorisation_id, ok));
                ok
            }
        };
        if ok {
            confirmed.push(alert);
        }
    }
    let found = confirmed;
    if found.is_empty() {
        return Ok(0);
    }
    let stored = state.store.insert_alerts(found, now).await?;
    let n = stored.len();
    publish(state, stored);
    Ok(n)
}

/// Who receives which alerts, as the policy decides (`Policy::evaluate_alert_audience`, the
/// decision recorded): every user the alerts of their own tracking requests, a supervisor (who
/// may approve) those of their district, a network's own staff its hot-list alerts. Nobody
/// else — not even overseers, who see the authorisations but are not told where a car is.
pub async fn audience(state: &App, user: &User) -> AppResult<AlertAudience> {
    crate::access::alert_audience(state, user).await
}

/// Records that `alerts` were shown to `user` (delivered on the stream, listed, a watch's
/// path), each under its tracking authorisation's purpose and file, so that they may open
/// their reads. Hot-list alerts rest on no authorisation and disclose no read to open.
pub async fn disclose_alerts(
    state: &App,
    user: &User,
    alerts: &[anpr_store::Alert],
) -> AppResult<()> {
    let mut ids: Vec<i64> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::Watch)
        .map(|a| a.authorisation_id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let now = Utc::now();
    for id in ids {
        let Some(a) = state.store.authorisation(id).await? else {
            continue;
        };
        let reads: Vec<i64> = alerts
            .iter()
            .filter(|x| x.kind == AlertKind::Watch && x.authorisation_id == id)
            .map(|x| x.read_id)
            .collect();
        disclose_under(state, user, &a, &reads, now).await?;
    }
    Ok(())
}

async fn disclose_under(
    state: &App,
    user: &User,
    a: &Authorisation,
    reads: &[i64],
    at: chrono::DateTime<Utc>,
) -> AppResult<()> {
    let purpose = anpr_domain::Purpose {
        code: a.purpose_code.clone(),
        file_number: a.file_number.clone(),
        justification: a.justification.clone(),
    };
    crate::access::record_shown(
        state,
        user.id,
        &purpose,
        reads,
        anpr_policy::DisclosedBy::Alert,
        at,
    )
    .await
}

/// A watch's sightings as the caller may see them.
#[derive(Debug, Clone)]
pub struct WatchSightings {
    pub authorisation: Authorisation,
    /// How many sightings the watch had.
    pub count: usize,
    /// Every sighting since the watch began, in the order the car was seen; `None` when the
    /// path is withheld (an overseer without an integrity case that gives a reason).
    pub sightings: Option<Vec<anpr_store::Alert>>,
    /// Why the path is withheld, when it is.
    pub withheld: Option<String>,
}

/// The sightings of tracking authorisation `id`, for those who may see the authorisation
/// (otherwise "not found"): decided by the policy (the path to its requester and district
/// supervisors under its purpose, counts to overseers) and recorded before anything is read.
pub async fn sightings(
    state: &App,
    user: &User,
    id: i64,
    audit: &crate::audit::AuditHandle,
) -> AppResult<WatchSightings> {
    let a = crate::access::get_authorisation(state, user, AuthorisationKind::Tracking, id).await?;
    let (grant, _) = crate::access::authorise_sightings(state, user, &a).await?;
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .alerts(AlertFilter {
                authorisation_id: Some(a.id),
                after_id: after,
                ..Default::default()
            })
            .await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        all.extend(page);
    }
    let count = all.len();
    let mut networks: Vec<NetworkId> = all.iter().map(|s| s.network_id).collect();
    networks.sort_unstable();
    networks.dedup();
    if !grant.path {
        audit.disclosed(&[]);
        audit.facts(crate::network_uses::reach_facts(
            &user.district,
            &networks,
            [],
        ));
        return Ok(WatchSightings {
            withheld: Some(anpr_policy::Policy::path_withheld_message(&a)),
            authorisation: a,
            count,
            sightings: None,
        });
    }
    all.sort_by_key(|s| (s.captured_at, s.id));
    let reads: Vec<i64> = all.iter().map(|s| s.read_id).collect();
    disclose_under(state, user, &a, &reads, Utc::now()).await?;
    audit.disclosed(&reads);
    audit.facts(crate::network_uses::reach_facts(
        &user.district,
        &networks,
        all.iter().map(|s| s.network_id),
    ));
    Ok(WatchSightings {
        authorisation: a,
        count,
        sightings: Some(all),
        withheld: None,
    })
}

/// The alert `id`, if `audience` may see it; otherwise "not found" (whether it exists is not
/// revealed).
pub async fn visible_alert(
    state: &App,
    audience: &AlertAudience,
    id: i64,
) -> AppResult<anpr_store::Alert> {
    state
        .store
        .alert(id)
        .await?
        .filter(|a| audience.sees(a))
        .ok_or_else(|| AppError::NotFound(format!("alert {id}")))
}

/// Replaces the in-memory hot list with the stored one: at start, after a load, and with the
/// periodic sweep (a load by another process).
pub async fn load_hot_list(state: &App) -> AppResult<usize> {
    let plates = state.store.hot_list_plates().await?;
    let n = plates.len();
    state.hot_list.replace(plates);
    Ok(n)
}

/// Whether the network's agreement lets its own staff receive hot-list alerts.
async fn hot_list_allowed(state: &App, network: NetworkId) -> AppResult<bool> {
    Ok(state
        .store
        .network_agreements()
        .await?
        .iter()
        .any(|a| a.network_id == network && a.hot_list_alerts))
}

/// Raises a "vehicle of interest" alert for each fresh read of one ingest whose plate is on
/// the hot list, if the camera's network lets its own staff receive them. The in-memory list
/// only narrows the reads to candidates (a hash lookup each); a hit is confirmed against the
/// stored list and the stolen register, so a report cancelled since the list was loaded
/// raises nothing. Runs before the ingest is acknowledged, like watch matching.
pub async fn match_hot_list(
    state: &App,
    camera: CameraId,
    reads: &[NewRead],
    outcomes: &[InsertOutcome],
) -> AppResult<usize> {
    let fresh = reads.iter().zip(outcomes).filter(|(_, o)| !o.duplicate);
    let candidates: Vec<(&str, i64)> = {
        let fresh: Vec<(&str, i64)> = fresh.map(|(r, o)| (r.plate.as_str(), o.id)).collect();
        let hits = state.hot_list.hits(fresh.iter().map(|(p, _)| *p));
        fresh
            .into_iter()
            .filter(|(p, _)| hits.contains(p))
            .collect()
    };
    if candidates.is_empty() {
        return Ok(0);
    }
    let Some(network) = network_of(state, camera).await? else {
        return Ok(0);
    };
    if !hot_list_allowed(state, network).await? {
        return Ok(0);
    }
    let mut plates: Vec<String> = candidates.iter().map(|(p, _)| p.to_string()).collect();
    plates.sort();
    plates.dedup();
    let confirmed = state.store.hot_list_confirm(plates).await?;
    let alerts: Vec<NewAlert> = candidates
        .into_iter()
        .filter(|(p, _)| confirmed.iter().any(|c| c == p))
        .map(|(plate, read_id)| NewAlert {
            kind: AlertKind::HotList,
            authorisation_id: 0,
            requester_user_id: 0,
            district: String::new(),
            plate: plate.to_string(),
            read_id,
        })
        .collect();
    if alerts.is_empty() {
        return Ok(0);
    }
    let stored = state.store.insert_alerts(alerts, Utc::now()).await?;
    let n = stored.len();
    publish(state, stored);
    Ok(n)
}

/// Delivers stored alerts to this process's streams, unless the change relay does.
fn publish(state: &App, stored: Vec<anpr_store::Alert>) {
    if state.alert_relay.load(Ordering::Acquire) {
        return;
    }
    for a in stored {
        state.alerts.publish(Arc::new(a));
    }
}

/// Alerts fetched per query while catching up.
const RELAY_PAGE: u32 = 1000;

/// Acts on what other processes change, when the store is shared (`Store::changes`): stored
/// alerts are delivered from here — every process's, this one's included, in id order —,
/// watches and the hot list follow the authorisations, agreements and registers at once
/// instead of at the next sweep, and cameras' verified keys are forgotten when their keys or
/// active flag change. `None` when the store has no feed (SQLite, one process).
pub async fn spawn_change_relay(
    state: &App,
) -> anyhow::Result<Option<tokio::task::JoinHandle<()>>> {
    let Some(mut changes) = state.store.changes().await? else {
        return Ok(None);
    };
    // Older alerts reach a client from the store when it resumes with `Last-Event-ID`.
    let mut delivered = state.store.latest_alert_id().await?;
    state.alert_relay.store(true, Ordering::Release);
    state.camera_keys.set_fed(true);
    let state = state.clone();
    Ok(Some(tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            if let Err(e) = apply_change(&state, change, &mut delivered).await {
                tracing::warn!(error = %e, ?change, "change from another process not applied");
            }
        }
    })))
}

async fn apply_change(state: &App, change: StoreChange, delivered: &mut i64) -> AppResult<()> {
    match change {
        StoreChange::Alerts => deliver_alerts(state, delivered).await,
        StoreChange::Authorisation(id) => match state.store.authorisation(id).await? {
            Some(a) => sync_watch(state, &a).await,
            None => Ok(()),
        },
        StoreChange::Watches => load_watches(state).await.map(drop),
        StoreChange::HotList => load_hot_list(state).await.map(drop),
        StoreChange::CameraAccess(camera) => {
            state.camera_keys.forget_camera(camera);
            Ok(())
        }
        StoreChange::Resync => {
            state.camera_keys.forget_all();
            load_watches(state).await?;
            load_hot_list(state).await?;
            deliver_alerts(state, delivered).await
        }
    }
}

/// Publishes every stored alert after `delivered`. Alert ids commit in id order (see the
/// store), so nothing below the last one delivered can still appear.
async fn deliver_alerts(state: &App, delivered: &mut i64) -> AppResult<()> {
    loop {
        let page = state
            .store
            .alerts(AlertFilter {
                after_id: Some(*delivered),
                limit: Some(RELAY_PAGE),
                ..Default::default()
            })
            .await?;
        let n = page.len();
        for a in page {
            *delivered = a.id;
            state.alerts.publish(Arc::new(a));
        }
        if n < RELAY_PAGE as usize {
            return Ok(());
        }
    }
}
