//! What touched which camera network, from the ledger: the facts every use that reaches a
//! network's data records in its own entry ([`reach_facts`]), and the network auditor's view of
//! the police uses of its network's data built from those entries alone ([`uses`]), so that the
//! view says what the ledger commits to rather than what the store's tables say.
//!
//! The view names no plate, file number, justification or image, and no officer: each officer
//! appears as a pseudonym ([`officer_pseudonym`]), a keyed hash of their staff id under a key
//! of the month, stable within a month and unlinkable across months. Uses under files that the
//! incident register still has open are counted, not described.

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::{NetworkId, User};
use anpr_ledger::{hmac_sha256, Action, ActorKind, AuditFacts, Event, Month, OutcomeKind};
use anpr_policy::network::ControlsAction;
use anpr_policy::registers::Use;
use anpr_policy::{Authorisation, AuthorisationKind};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The file in the data directory holding the pseudonym secret of a process that has no
/// signing key (32 random bytes, hex, mode 0600); see [`deployment_secret`].
pub const PSEUDONYM_SECRET_FILE: &str = "pseudonym-secret";

/// The facts of a use that reached networks `reached` and disclosed reads of the networks in
/// `disclosed` (one item per read), by a member of staff of `district`.
pub fn reach_facts(
    district: &str,
    reached: &[NetworkId],
    disclosed: impl IntoIterator<Item = NetworkId>,
) -> AuditFacts<'static> {
    let mut reads: BTreeMap<i64, u64> = BTreeMap::new();
    for n in disclosed {
        *reads.entry(n).or_default() += 1;
    }
    let mut ids: Vec<i64> = reached
        .iter()
        .copied()
        .chain(reads.keys().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    AuditFacts::new()
        .district(district.to_string())
        .network_ids(ids)
        .network_reads(reads)
}

/// The networks whose data an authorisation covers now: a tracking watch, the networks whose
/// agreements let its district track (less those whose controls withhold its purpose); a
/// look-back, those whose agreements let its district search.
pub async fn authorisation_networks(app: &App, a: &Authorisation) -> AppResult<Vec<NetworkId>> {
    let (agreements, controls) = tokio::join!(
        app.store.network_agreements(),
        app.network_controls.fresh(app.store.as_ref())
    );
    let (agreements, controls) = (agreements?, controls?);
    let use_ = match a.kind {
        AuthorisationKind::Tracking => Use::Tracking,
        AuthorisationKind::Lookback => Use::Search,
    };
    let mut ids: Vec<NetworkId> = agreements
        .iter()
        .filter(|g| g.permits(use_, &a.district))
        .map(|g| g.network_id)
        .filter(|n| anpr_policy::network::withholding(&controls, *n, &a.purpose_code).is_none())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    Ok(ids)
}

/// Records on `audit` what an authorisation (requested or reviewed by `user`) covers.
pub async fn record_authorisation_reach(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    a: &Authorisation,
) -> AppResult<()> {
    let networks = authorisation_networks(app, a).await?;
    audit.facts(reach_facts(&user.district, &networks, []));
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Pseudonyms.

/// The pseudonym of member of staff `staff_id` in `month` (`YYYY-MM`): HMAC-SHA256 of the staff
/// id under the month's key, itself HMAC-SHA256 of the month under the deployment's secret.
/// Stable within a month; without the secret, the pseudonyms of two months cannot be linked.
pub fn officer_pseudonym(secret: &[u8], staff_id: &str, month: &str) -> String {
    let month_key = hmac_sha256(
        secret,
        format!("anpr officer pseudonym v1 {month}").as_bytes(),
    );
    let tag = hmac_sha256(&month_key, staff_id.as_bytes());
    format!("officer-{}", hex::encode(&tag[..8]))
}

/// The deployment's pseudonym secret, made on first use (32 random bytes, written to a
/// temporary file with mode 0600 and renamed, so a crash never leaves half of it).
pub fn pseudonym_secret(data_dir: &Path) -> AppResult<Vec<u8>> {
    let path = data_dir.join(PSEUDONYM_SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            return hex::decode(text.trim())
                .ok()
                .filter(|k| k.len() >= 32)
                .ok_or_else(|| {
                    AppError::internal(anyhow::anyhow!(
                        "{} does not hold the pseudonym secret (64 hex characters)",
                        path.display()
                    ))
                })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(AppError::internal(anyhow::anyhow!(
                "{}: {e}",
                path.display()
            )))
        }
    }
    use rand::RngCore;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let tmp: PathBuf = data_dir.join(format!(
        "{PSEUDONYM_SECRET_FILE}.tmp{}",
        crate::access::new_request_id()
    ));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(hex::encode(secret).as_bytes())?;
        f.sync_all()?;
        // Another process may have made one meanwhile: theirs stands.
        match std::fs::hard_link(&tmp, &path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    })();
    let _ = std::fs::remove_file(&tmp);
    written.map_err(|e| AppError::internal(anyhow::anyhow!("{}: {e}", path.display())))?;
    pseudonym_secret_existing(&path)
}

fn pseudonym_secret_existing(path: &Path) -> AppResult<Vec<u8>> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| hex::decode(t.trim()).ok())
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("{} cannot be read", path.display())))
}

/// The deployment's pseudonym secret: derived from the ledger's private signing key where this
/// process holds it (so every server of a deployment derives the same), else the secret file in
/// the data directory ([`pseudonym_secret`]).
pub fn deployment_secret(app: &App) -> AppResult<Vec<u8>> {
    match app.ledger.derived_secret("officer pseudonyms v1") {
        Some(s) => Ok(s.to_vec()),
        None => pseudonym_secret(&app.data_dir),
    }
}

/// The pseudonym of `staff_id` for a use at `at`, under this deployment's secret: the one
/// function every view that names an officer to a network calls.
pub fn pseudonym(app: &App, staff_id: &str, at: DateTime<Utc>) -> AppResult<String> {
    Ok(officer_pseudonym(
        &deployment_secret(app)?,
        staff_id,
        &month_of(at),
    ))
}

// ---------------------------------------------------------------------------------------------
// The network auditor's view.

/// A month as a user writes it, `YYYY-MM`: the ledger's months, which slices and statements
/// are cut by.
pub fn parse_month(text: &str) -> AppResult<Month> {
    text.trim().parse().map_err(|e| match e {
        anpr_ledger::Error::InvalidArgument(m) => AppError::invalid("month", m),
        other => other.into(),
    })
}

/// The month (`YYYY-MM`) of a time.
pub fn month_of(at: DateTime<Utc>) -> String {
    Month::of(at).to_string()
}

/// What kind of police use an entry is, for a network's view; `None` for entries that are no
/// use of its data (administration, the network's own auditor, ...).
pub fn use_kind(action: &Action) -> Option<&'static str> {
    Some(match action {
        Action::Search => "search",
        Action::ReadView => "read_view",
        Action::ImageView => "image_view",
        Action::Export => "export",
        Action::TrackingRequest
        | Action::TrackingApproval
        | Action::TrackingRefusal
        | Action::TrackingRevocation => "tracking_watch",
        Action::AlertDelivered | Action::AlertList | Action::AlertAck | Action::SightingsView => {
            "alert"
        }
        Action::LookbackRequest
        | Action::LookbackApproval
        | Action::LookbackRefusal
        | Action::LookbackRevocation => "lookback",
        _ => return None,
    })
}

/// One police use that touched the network's data, as its auditor sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NetworkUse {
    /// The ledger entry's index (its inclusion can be proved against a signed tree head).
    pub entry: u64,
    pub at: DateTime<Utc>,
    /// `search`, `read_view`, `image_view`, `export`, `tracking_watch`, `alert`, `lookback`.
    pub kind: String,
    /// The ledger action (e.g. `tracking_approval`).
    pub action: String,
    pub purpose_code: Option<String>,
    /// The acting officer's district.
    pub district: Option<String>,
    /// `granted`, `refused`, `pending` or `error`.
    pub outcome: String,
    /// How many of the network's reads the use disclosed.
    pub reads_disclosed: u64,
    /// The officer's pseudonym for the month of the use.
    pub officer: String,
    /// The tracking or look-back authorisation a watch, alert or approval belongs to (its number
    /// only), so a watch's alerts can be told apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorisation_id: Option<i64>,
}

/// A count of uses and of the reads they disclosed, under one key (a month, purpose, district
/// or kind).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct UseTally {
    pub key: String,
    pub uses: u64,
    pub reads_disclosed: u64,
}

/// The police uses that touched one network's data, from the ledger.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NetworkUses {
    pub network_id: NetworkId,
    /// The month asked for (`YYYY-MM`); absent: every month.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    /// The ledger entries read: indexes below this one.
    pub ledger_size: u64,
    /// Uses described, oldest first (the uses under files still open are not among them).
    pub uses: Vec<NetworkUse>,
    /// Uses under files the incident register still has open: counted in the totals, not
    /// described.
    pub open_file_uses: u64,
    pub total_uses: u64,
    pub total_reads_disclosed: u64,
    pub by_month: Vec<UseTally>,
    pub by_purpose: Vec<UseTally>,
    pub by_district: Vec<UseTally>,
    pub by_kind: Vec<UseTally>,
}

/// One entry that touched the network, as read from the ledger.
struct Touch {
    index: u64,
    at: DateTime<Utc>,
    action: Action,
    kind: &'static str,
    staff_id: String,
    purpose: Option<String>,
    file_number: Option<String>,
    district: Option<String>,
    outcome: OutcomeKind,
    reads: u64,
    authorisation_id: Option<i64>,
}

/// The entries of the ledger (below `size`) that are police uses touching `network` within
/// `[from, to)`.
///
/// A use that states no file of its own (an alert, an approval) is under the file of the
/// authorisation it belongs to, as that authorisation's request entry recorded it.
fn touches(
    ledger: &anpr_ledger::Ledger,
    network: NetworkId,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    size: u64,
) -> AppResult<Vec<Touch>> {
    let mut out = Vec::new();
    let mut files: HashMap<i64, String> = HashMap::new();
    ledger.each_entry(0, size, |index, body| {
        let event = Event::decode(body)?;
        if matches!(
            event.action,
            Action::TrackingRequest | Action::LookbackRequest
        ) {
            if let (Some(id), Some(f)) = (event.audit_facts().authorisation_id, &event.file_number)
            {
                files.insert(id, f.clone());
            }
        }
        if event.actor.kind != ActorKind::Staff
            || from.is_some_and(|f| event.time < f)
            || to.is_some_and(|t| event.time >= t)
        {
            return Ok(());
        }
        let Some(kind) = use_kind(&event.action) else {
            return Ok(());
        };
        let facts = event.audit_facts();
        if !facts
            .network_ids
            .as_ref()
            .is_some_and(|ids| ids.contains(&network))
        {
            return Ok(());
        }
        // Only a use that was carried out disclosed anything (an image view may name its
        // read and still fail for want of the image).
        let reads = facts
            .network_reads
            .as_ref()
            .and_then(|r| r.get(&network).copied())
            .filter(|_| event.outcome.result == OutcomeKind::Granted)
            .unwrap_or(0);
        let district = facts.district.as_ref().map(|d| d.to_string());
        let authorisation_id = facts.authorisation_id;
        out.push(Touch {
            index,
            at: event.time,
            kind,
            staff_id: event.actor.id.clone(),
            purpose: event.purpose.clone(),
            file_number: event.file_number.clone().filter(|f| !f.trim().is_empty()),
            district,
            outcome: event.outcome.result,
            reads,
            authorisation_id,
            action: event.action,
        });
        AppResult::Ok(())
    })?;
    for t in out.iter_mut().filter(|t| t.file_number.is_none()) {
        t.file_number = t.authorisation_id.and_then(|id| files.get(&id).cloned());
    }
    Ok(out)
}

/// Which files the incident register still has open, one lookup per file: the uses under
/// them are counted, not described, in every view a network is given.
#[derive(Default)]
pub(crate) struct OpenFiles(HashMap<String, bool>);

impl OpenFiles {
    /// Whether `file_number` is open (an incident with no closing time, or one still ahead).
    pub(crate) async fn check(&mut self, app: &App, file_number: &str) -> AppResult<bool> {
        if let Some(&open) = self.0.get(file_number) {
            return Ok(open);
        }
        let facts = app
            .store
            .access_facts(anpr_store::FactsRequest {
                file_number: Some(file_number.to_string()),
                ..Default::default()
            })
            .await?;
        let now = Utc::now();
        let open = facts
            .incident
            .is_some_and(|i| i.closed_at.is_none_or(|c| c > now));
        self.0.insert(file_number.to_string(), open);
        Ok(open)
    }

    /// Whether `file_number` was found open by [`OpenFiles::check`].
    pub(crate) fn known_open(&self, file_number: &str) -> bool {
        self.0.get(file_number).copied().unwrap_or(false)
    }
}

fn outcome_name(o: OutcomeKind) -> &'static str {
    match o {
        OutcomeKind::Granted => "granted",
        OutcomeKind::Refused => "refused",
        OutcomeKind::Error => "error",
        OutcomeKind::Pending => "pending",
    }
}

fn tally(map: &mut BTreeMap<String, UseTally>, key: &str, reads: u64) {
    let t = map.entry(key.to_string()).or_insert_with(|| UseTally {
        key: key.to_string(),
        ..Default::default()
    });
    t.uses += 1;
    t.reads_disclosed += reads;
}

/// The police uses that touched `network`'s data (in `month`, or every month), for the
/// network's own auditor only (anyone else is refused, and the refusal recorded): read from the
/// ledger entries, each use's own facts.
pub async fn uses(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
    month: Option<&str>,
) -> AppResult<NetworkUses> {
    audit.action(Action::NetworkUses);
    audit.query(serde_json::json!({ "network_id": network, "month": month }));
    let month = month.map(parse_month).transpose()?;
    crate::network::decide(app, user, network, ControlsAction::Uses).await?;
    crate::network::known_network(app, network).await?;
    let ledger = app.ledger.clone();
    let size = ledger.size();
    let (from, to) = (month.map(|m| m.start()), month.map(|m| m.end()));
    let found = tokio::task::spawn_blocking(move || touches(&ledger, network, from, to, size))
        .await
        .map_err(AppError::internal)??;
    let mut open = OpenFiles::default();
    for f in found.iter().filter_map(|t| t.file_number.as_ref()) {
        open.check(app, f).await?;
    }
    let secret = deployment_secret(app)?;
    let mut described = Vec::new();
    let mut open_file_uses = 0;
    let (mut by_month, mut by_purpose, mut by_district, mut by_kind) = Default::default();
    let mut total_reads = 0;
    for t in &found {
        let month = month_of(t.at);
        tally(&mut by_month, &month, t.reads);
        tally(
            &mut by_purpose,
            t.purpose.as_deref().unwrap_or("(none)"),
            t.reads,
        );
        tally(
            &mut by_district,
            t.district.as_deref().unwrap_or("(not recorded)"),
            t.reads,
        );
        tally(&mut by_kind, t.kind, t.reads);
        total_reads += t.reads;
        if t.file_number.as_ref().is_some_and(|f| open.known_open(f)) {
            open_file_uses += 1;
            continue;
        }
        described.push(NetworkUse {
            entry: t.index,
            at: t.at,
            kind: t.kind.to_string(),
            action: t.action.as_str().to_string(),
            purpose_code: t.purpose.clone(),
            district: t.district.clone(),
            outcome: outcome_name(t.outcome).to_string(),
            reads_disclosed: t.reads,
            officer: officer_pseudonym(&secret, &t.staff_id, &month),
            authorisation_id: t.authorisation_id,
        });
    }
    let values = |m: BTreeMap<String, UseTally>| m.into_values().collect::<Vec<_>>();
    Ok(NetworkUses {
        network_id: network,
        month: month.map(|m| m.to_string()),
        ledger_size: size,
        total_uses: found.len() as u64,
        total_reads_disclosed: total_reads,
        uses: described,
        open_file_uses,
        by_month: values(by_month),
        by_purpose: values(by_purpose),
        by_district: values(by_district),
        by_kind: values(by_kind),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2.
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        let tag = hmac_sha256(
            &[0xaa; 131],
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(tag),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn pseudonyms_are_stable_within_a_month_and_differ_across_months() {
        let secret = [7u8; 32];
        let a = officer_pseudonym(&secret, "S1001", "2026-03");
        assert_eq!(a, officer_pseudonym(&secret, "S1001", "2026-03"));
        assert_ne!(a, officer_pseudonym(&secret, "S1001", "2026-04"));
        assert_ne!(a, officer_pseudonym(&secret, "S1002", "2026-03"));
        assert_ne!(a, officer_pseudonym(&[8u8; 32], "S1001", "2026-03"));
        assert!(!a.contains("S1001"));
    }

    #[test]
    fn the_secret_is_made_once_and_kept_private() {
        let dir = tempfile::tempdir().unwrap();
        let s = pseudonym_secret(dir.path()).unwrap();
        assert_eq!(s.len(), 32);
        assert_eq!(pseudonym_secret(dir.path()).unwrap(), s);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(PSEUDONYM_SECRET_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0);
    }

    #[test]
    fn months_parse_and_bound() {
        let m = parse_month(" 2026-12").unwrap();
        assert_eq!(m.to_string(), "2026-12");
        assert_eq!(m.end(), parse_month("2027-01").unwrap().start());
        for bad in ["2026-13", "26-01", "2026-1", "x", "2026-00", ""] {
            assert!(parse_month(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reach_facts_count_reads_per_network() {
        let f = reach_facts("Waikato", &[2, 1], [3, 1, 1]);
        assert_eq!(f.network_ids, Some(vec![1, 2, 3]));
        assert_eq!(f.network_reads, Some(BTreeMap::from([(1, 2), (3, 1)])));
        assert_eq!(f.district.as_deref(), Some("Waikato"));
    }
}
