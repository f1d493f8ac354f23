//! The data owners' side of a camera network: its own sharing controls (set by its
//! `network_auditor`, enforced by the policy in every decision that reaches its data and in
//! the matching of running watches) and the notices that a tracking watch started to cover its
//! cameras.
//!
//! Every process keeps a copy of the controls ([`ControlsCache`]): each access decision first
//! asks the store for the controls' version (one aggregate over one row per network) and
//! reloads on a change, so a change made through any server holds for the next decision on
//! every other; the ingest path's matching uses the copy when it was confirmed within
//! [`MATCH_MAX_AGE`], so matching costs no database round trip per read.

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::{NetworkId, User};
use anpr_ledger::Action;
use anpr_policy::network::ControlsAction;
use anpr_policy::{NetworkControls, Subject};
use anpr_store::{NewWatchNotice, Store, WatchNotice};
use chrono::Utc;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How old a copy of the controls the matching of a running watch may use: a change made
/// through any process stops alerts on every process within this (plus one query).
pub const MATCH_MAX_AGE: Duration = Duration::from_millis(200);

/// Most watch notices one listing returns.
pub const MAX_NOTICES_PAGE: u32 = 500;

#[derive(Default)]
struct Copy {
    version: Option<i64>,
    checked: Option<Instant>,
    controls: Arc<Vec<NetworkControls>>,
}

/// This process's copy of every network's controls, kept fresh against the store's version.
#[derive(Default)]
pub struct ControlsCache {
    copy: RwLock<Copy>,
}

impl ControlsCache {
    /// The controls as the store holds them now: one version query, and a reload when they
    /// changed since the copy was taken.
    pub async fn fresh(&self, store: &dyn Store) -> AppResult<Arc<Vec<NetworkControls>>> {
        let version = store.network_controls_version().await?;
        {
            let mut c = self.copy.write().expect("controls lock");
            if c.version == Some(version) {
                c.checked = Some(Instant::now());
                return Ok(c.controls.clone());
            }
        }
        let controls = Arc::new(store.network_controls().await?);
        let mut c = self.copy.write().expect("controls lock");
        // A change committed between the two queries leaves the version older than the rows:
        // the next check sees another version and reloads again.
        *c = Copy {
            version: Some(version),
            checked: Some(Instant::now()),
            controls: controls.clone(),
        };
        Ok(controls)
    }

    /// The copy when confirmed within `max_age`, else [`ControlsCache::fresh`].
    pub async fn recent(
        &self,
        store: &dyn Store,
        max_age: Duration,
    ) -> AppResult<Arc<Vec<NetworkControls>>> {
        {
            let c = self.copy.read().expect("controls lock");
            if c.checked.is_some_and(|t| t.elapsed() <= max_age) {
                return Ok(c.controls.clone());
            }
        }
        self.fresh(store).await
    }
}

/// What a network auditor changes; what is left out stays as it is.
#[derive(Debug, Clone, Default)]
pub struct ControlsChange {
    pub suspended: Option<bool>,
    pub withheld_purposes: Option<Vec<String>>,
    /// `Some(None)`: no maximum look-back of the network's own.
    pub max_lookback_days: Option<Option<u32>>,
}

/// Decides (and records) whether `user` may act on `network`'s controls or notices.
pub(crate) async fn decide(
    app: &App,
    user: &User,
    network: NetworkId,
    action: ControlsAction,
) -> AppResult<()> {
    let subject = Subject::from_user(user);
    let eval = app.policy.evaluate_network_controls(
        &subject,
        user.network_id,
        network,
        action,
        &crate::access::new_request_id(),
        Utc::now(),
    );
    crate::access::enforce(app, eval).await?;
    Ok(())
}

pub(crate) async fn known_network(app: &App, network: NetworkId) -> AppResult<()> {
    if app.store.networks().await?.iter().any(|n| n.id == network) {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "there is no network {network}: check the number `anpr network list` shows"
        )))
    }
}

/// A network's controls, for its own network auditor.
pub async fn controls(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
) -> AppResult<NetworkControls> {
    audit.action(Action::NetworkControlsView);
    audit.query(serde_json::json!({ "network_id": network }));
    decide(app, user, network, ControlsAction::View).await?;
    known_network(app, network).await?;
    let all = app.network_controls.fresh(app.store.as_ref()).await?;
    Ok(anpr_policy::network::controls_of(&all, network))
}

/// Changes a network's controls, for its own network auditor; in force for the next decision
/// on every process.
pub async fn set_controls(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
    change: ControlsChange,
) -> AppResult<NetworkControls> {
    audit.action(Action::NetworkControlsChange);
    audit.query(serde_json::json!({
        "network_id": network,
        "suspended": change.suspended,
        "withheld_purposes": change.withheld_purposes,
        "max_lookback_days": change.max_lookback_days,
    }));
    decide(app, user, network, ControlsAction::Change).await?;
    known_network(app, network).await?;
    let all = app.network_controls.fresh(app.store.as_ref()).await?;
    let mut c = anpr_policy::network::controls_of(&all, network);
    if let Some(s) = change.suspended {
        c.suspended = s;
    }
    if let Some(p) = change.withheld_purposes {
        let known: Vec<&str> = app
            .policy
            .config()
            .purposes
            .iter()
            .map(|p| p.code.as_str())
            .collect();
        if let Some(bad) = p.iter().find(|p| !known.contains(&p.trim())) {
            return Err(AppError::invalid(
                "withheld_purposes",
                format!(
                    "there is no purpose {}; choose among: {}",
                    bad.trim().chars().take(64).collect::<String>(),
                    known.join(", ")
                ),
            ));
        }
        c.withheld_purposes = p;
    }
    if let Some(d) = change.max_lookback_days {
        c.max_lookback_days = d;
    }
    c.updated_at = Some(Utc::now());
    c.updated_by = Some(user.staff_id.clone());
    let stored = app.store.set_network_controls(c).await?;
    // This process sees its own change at once; the others at their next decision.
    app.network_controls.fresh(app.store.as_ref()).await?;
    if !stored.suspended {
        notify_running_watches(app, network).await?;
    }
    tracing::info!(network, by = %user.staff_id, suspended = stored.suspended, "network controls changed");
    Ok(stored)
}

/// The notices that tracking watches started to cover a network's cameras, newest first: for
/// its own network auditor. Each says when, under which purpose code and in which district;
/// nothing names the vehicle, the file or the officer.
pub async fn watch_notices(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
    before_id: Option<i64>,
    limit: Option<u32>,
) -> AppResult<Vec<WatchNotice>> {
    audit.action(Action::NetworkWatchNotices);
    audit.query(serde_json::json!({ "network_id": network, "before_id": before_id }));
    decide(app, user, network, ControlsAction::Notices).await?;
    known_network(app, network).await?;
    let limit = limit.unwrap_or(100).clamp(1, MAX_NOTICES_PAGE);
    Ok(app.store.watch_notices(network, before_id, limit).await?)
}

/// Notices to the networks a watch now covers (its agreements' networks less those whose
/// controls withhold its purpose): one per watch and network, kept however often the watch is
/// synced.
pub(crate) async fn notify_watch(app: &App, w: &anpr_realtime::Watch) -> AppResult<()> {
    let controls = app.network_controls.fresh(app.store.as_ref()).await?;
    app.store
        .add_watch_notices(notices_for(w, &controls, Utc::now()))
        .await?;
    Ok(())
}

fn notices_for(
    w: &anpr_realtime::Watch,
    controls: &[NetworkControls],
    now: chrono::DateTime<Utc>,
) -> Vec<NewWatchNotice> {
    w.networks
        .iter()
        .filter(|n| anpr_policy::network::withholding(controls, **n, &w.purpose_code).is_none())
        .map(|n| NewWatchNotice {
            network_id: *n,
            authorisation_id: w.authorisation_id,
            at: now,
            purpose_code: w.purpose_code.clone(),
            district: w.district.clone(),
        })
        .collect()
}

/// After a network resumes sharing or withholds fewer purposes, the running watches that now
/// cover its cameras for the first time are noticed to it (a watch it was told of before is
/// not told again).
async fn notify_running_watches(app: &App, network: NetworkId) -> AppResult<()> {
    let controls = app.network_controls.fresh(app.store.as_ref()).await?;
    let now = Utc::now();
    let notices: Vec<NewWatchNotice> = crate::realtime::active_watches(app)
        .await?
        .iter()
        .flat_map(|w| notices_for(w, &controls, now))
        .filter(|n| n.network_id == network)
        .collect();
    app.store.add_watch_notices(notices).await?;
    Ok(())
}
