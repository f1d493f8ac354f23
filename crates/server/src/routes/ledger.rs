//! The audit ledger, for auditors and outside overseers: signed tree heads, RFC 9162 proofs,
//! and the entries themselves.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::AppError;
use anpr_ledger::Action;
use anpr_ledger::{ConsistencyProof, InclusionProof, StoredEntry, TreeHead};
use anpr_policy::Permission;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::{Deserialize, Serialize};

/// Who may read the ledger: auditors (and overseers given that role) and the integrity unit
/// (the policy's tier table).
const READERS: Permission = Permission::ReadLedger;

fn ledger_error(e: anpr_ledger::Error) -> ApiError {
    use anpr_ledger::Error as E;
    match e {
        E::InvalidArgument(m) => ApiError(AppError::invalid("query", m)),
        E::Altered(p) => ApiError(AppError::Unavailable(format!(
            "the audit ledger's stored entries differ from what was appended ({p}), so no tree \
             head is signed over them; tell the integrity unit"
        ))),
        other => ApiError(AppError::internal(other)),
    }
}

async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&anpr_ledger::Ledger) -> anpr_ledger::Result<T> + Send + 'static,
) -> ApiResult<T> {
    let ledger = state.ledger.clone();
    // Several servers may append to one ledger: answer for all of it.
    tokio::task::spawn_blocking(move || ledger.refresh().and_then(|_| f(&ledger)))
        .await
        .map_err(AppError::internal)?
        .map_err(ledger_error)
}

/// A signed tree head with its checkpoint: the same size and root as a C2SP signed note,
/// signed by the log's key and carrying the witnesses' cosignatures received so far.
#[derive(Serialize, Deserialize)]
pub struct HeadWithCheckpoint {
    #[serde(flatten)]
    pub head: TreeHead,
    /// The checkpoint note (absent only for a head this server cannot sign a checkpoint of).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// The latest signed head (a fresh one is signed if entries arrived since the last).
fn latest_head(l: &anpr_ledger::Ledger) -> anpr_ledger::Result<TreeHead> {
    // Once a check found the ledger altered, the ledger signs nothing more (Error::Altered).
    match l.latest_tree_head()? {
        Some(h) if h.size == l.size() => Ok(h),
        _ => l.sign_tree_head(),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct TreeHeadParams {
    /// The newest head cosigned by at least this many of the server's witnesses, instead of
    /// the latest head.
    pub cosigned: Option<usize>,
}

/// The latest signed tree head (a fresh one is signed if entries arrived since the last).
#[utoipa::path(get, path = "/api/v1/ledger/tree-head", tag = "ledger", security(("bearer" = [])),
    params(TreeHeadParams),
    responses((status = 200, description = "signed tree head: size, root_hash, timestamp, key_id, signature (hex), and checkpoint (C2SP signed note with the witnesses' cosignatures)"),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn tree_head(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<TreeHeadParams>,
) -> ApiResult<Json<HeadWithCheckpoint>> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    if let Some(k) = p.cosigned.filter(|k| *k > 0) {
        let found = blocking(&state, move |l| l.latest_cosigned(k)).await?;
        let (head, note) = found.ok_or_else(|| {
            ApiError(AppError::NotFound(format!(
                "no tree head is cosigned by {k} witness(es) yet: the server pushes each new \
                 head to its witnesses within seconds, so try again; if this persists, check \
                 the server's --witness settings and its log"
            )))
        })?;
        return Ok(Json(HeadWithCheckpoint {
            head,
            checkpoint: Some(note.to_string()),
        }));
    }
    let answer = blocking(&state, move |l| {
        let head = latest_head(l)?;
        let checkpoint = l.checkpoint(head.size)?.map(|n| n.to_string());
        Ok(HeadWithCheckpoint { head, checkpoint })
    })
    .await?;
    Ok(Json(answer))
}

/// The latest signed tree head as a C2SP checkpoint (`text/plain` signed note): the log's
/// signature and the cosignatures of the witnesses that vouched for it.
#[utoipa::path(get, path = "/api/v1/ledger/checkpoint", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, description = "signed note: origin, size, base64 root; log signature and witness cosignatures"),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn checkpoint(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<impl IntoResponse> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    let note = blocking(&state, move |l| {
        let head = latest_head(l)?;
        l.checkpoint(head.size)?.ok_or_else(|| {
            anpr_ledger::Error::InvalidArgument(
                "the latest tree head has no checkpoint: this server holds no signing key".into(),
            )
        })
    })
    .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        note.to_string(),
    ))
}

/// Every signed tree head, oldest first.
#[utoipa::path(get, path = "/api/v1/ledger/tree-heads", tag = "ledger", security(("bearer" = [])),
    responses((status = 200, description = "all signed tree heads"), (status = 403, body = crate::error::ErrorBody)))]
pub async fn tree_heads(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<Vec<TreeHead>>> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    Ok(Json(blocking(&state, |l| l.tree_heads()).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct InclusionParams {
    pub index: u64,
    pub size: u64,
}

/// RFC 9162 inclusion proof of entry `index` in the tree of `size` entries.
#[utoipa::path(get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger", security(("bearer" = [])),
    params(InclusionParams),
    responses((status = 200, description = "inclusion proof (hex hashes)"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn inclusion(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<InclusionParams>,
) -> ApiResult<Json<InclusionProof>> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    Ok(Json(
        blocking(&state, move |l| l.inclusion_proof(p.index, p.size)).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ConsistencyParams {
    pub from: u64,
    pub to: u64,
}

/// RFC 9162 consistency proof between the trees of `from` and `to` entries.
#[utoipa::path(get, path = "/api/v1/ledger/proof/consistency", tag = "ledger", security(("bearer" = [])),
    params(ConsistencyParams),
    responses((status = 200, description = "consistency proof (hex hashes)"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn consistency(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<ConsistencyParams>,
) -> ApiResult<Json<ConsistencyProof>> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    Ok(Json(
        blocking(&state, move |l| l.consistency_proof(p.from, p.to)).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct EntriesParams {
    pub from: u64,
    pub to: u64,
}

/// Entries `from` (inclusive) to `to` (exclusive), at most 10,000 per call.
#[utoipa::path(get, path = "/api/v1/ledger/entries", tag = "ledger", security(("bearer" = [])),
    params(EntriesParams),
    responses((status = 200, description = "entries: index, leaf_hash (hex), body (canonical JSON)"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn entries(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<EntriesParams>,
) -> ApiResult<Json<Vec<StoredEntry>>> {
    audit.action(Action::LedgerRead);
    staff.require_permission(READERS)?;
    Ok(Json(
        blocking(&state, move |l| l.entries(p.from, p.to)).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SearchParams {
    /// Who acted: a staff id, camera id or `system` (letter case ignored).
    pub actor: Option<String>,
    /// What was done: an action's snake_case name (`search`, `image_view`, ...).
    pub action: Option<String>,
    /// Entries at or after this instant (RFC 3339).
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Entries before this instant (RFC 3339).
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only entries with an index below this one: the `next_before` of the previous answer.
    pub before: Option<u64>,
    /// How many matches at most (1 to 200; 25 when not given).
    pub limit: Option<usize>,
}

/// The entries one search found, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct FoundEntriesBody {
    /// index, leaf_hash (hex), body (canonical JSON), as `/api/v1/ledger/entries` gives them.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<StoredEntry>,
    /// Where to go on (`before`) when older entries may match too; absent when the search
    /// reached the start of the log or of the time range.
    pub next_before: Option<u64>,
    /// How many entries the search looked at.
    pub scanned: u64,
}

/// Entries by who acted, what was done and when, newest first. One call looks at up to
/// 100,000 entries; `next_before` says where the next one goes on.
#[utoipa::path(get, path = "/api/v1/ledger/search", tag = "ledger", security(("bearer" = [])),
    params(SearchParams),
    responses((status = 200, body = FoundEntriesBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn search(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<SearchParams>,
) -> ApiResult<Json<FoundEntriesBody>> {
    audit.action(Action::LedgerRead);
    audit.query(serde_json::json!({
        "actor": p.actor, "action": p.action, "since": p.since, "until": p.until,
        "before": p.before, "limit": p.limit,
    }));
    staff.require_permission(READERS)?;
    let blank_is_none = |s: Option<String>| s.filter(|s| !s.trim().is_empty());
    // A name no action has would match nothing: said, rather than answered with no entries.
    let action = match blank_is_none(p.action) {
        Some(name) => Some(Action::named(name.trim()).ok_or_else(|| {
            anpr_app::AppError::invalid(
                "action",
                format!("no action is called {name:?}: give one of the names entries carry, e.g. search, image_view or tracking_request"),
            )
        })?),
        None => None,
    };
    let filter = anpr_ledger::EntryFilter {
        actor: blank_is_none(p.actor),
        action,
        from: p.since,
        to: p.until,
        before: p.before,
        limit: p.limit.unwrap_or(25),
    };
    let found = blocking(&state, move |l| l.find_entries(&filter)).await?;
    Ok(Json(FoundEntriesBody {
        entries: found.entries,
        next_before: found.next_before,
        scanned: found.scanned,
    }))
}
