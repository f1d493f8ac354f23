//! A camera network's checkable record of police use of its data: its ledger slice (every
//! entry that touched it, redacted to what its auditor may see, with inclusion proofs against a
//! signed head whose counters say how many there are) and its signed monthly statement counted
//! from that slice. For the network's own `network_auditor` only; every fetch is recorded.
//!
//! The ledger does the proving (`anpr_ledger::slice`, `anpr_ledger::statement`); this module
//! decides who may ask, picks the signed head, withholds what the network may not see yet and
//! renders the statement as HTML.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::network::{decide, known_network};
use crate::network_uses::{
    deployment_secret, month_of as month_name, officer_pseudonym, parse_month, OpenFiles,
};
use crate::App;
use anpr_domain::{NetworkId, User};
use anpr_ledger::{
    Action, ActorKind, Event, Month, NetworkSlice, NetworkStatement, SignedStatement, TreeHead,
};
use anpr_policy::network::ControlsAction;
use anpr_reports::escape;

/// What the ledger said, in the caller's terms: a refusal of the question is the caller's to
/// fix, anything else is the ledger's.
fn ledger_error(e: anpr_ledger::Error) -> AppError {
    match e {
        anpr_ledger::Error::InvalidArgument(m) => AppError::Conflict(m),
        other => other.into(),
    }
}

/// The newest signed head with per-network counters (the server signs one a minute while the
/// log grows); one is signed now when there is none yet (a log from before counters).
fn counted_head(ledger: &anpr_ledger::Ledger) -> anpr_ledger::Result<TreeHead> {
    match ledger.latest_counted_head()? {
        Some(h) => Ok(h),
        None => ledger.sign_tree_head(),
    }
}

/// The network's slice for `month` as its auditor is given it (see [`for_the_auditor`]).
async fn build_slice(app: &App, network: NetworkId, month: Month) -> AppResult<NetworkSlice> {
    let ledger = app.ledger.clone();
    let mut slice = tokio::task::spawn_blocking(move || {
        let head = counted_head(&ledger)?;
        ledger.network_slice(network, &head, Some(month))
    })
    .await?
    .map_err(ledger_error)?;
    for_the_auditor(app, &mut slice).await?;
    Ok(slice)
}

/// The full entries at `indexes`, decoded.
fn events_at(ledger: &anpr_ledger::Ledger, indexes: Vec<u64>) -> AppResult<Vec<(u64, Event)>> {
    let mut out = Vec::with_capacity(indexes.len());
    for i in indexes {
        ledger.each_entry(i, i + 1, |index, body| {
            out.push((index, Event::decode(body)?));
            AppResult::Ok(())
        })?;
    }
    Ok(out)
}

/// Withholds from a slice what the network may not see yet, as the uses view does: a use of
/// the month under a file the incident register still has open (its own, or its
/// authorisation's) is reduced to its time and networks, counted and not described. The others
/// carry the officer's pseudonym for the month as the annotation `officer` (outside the proofs,
/// like every annotation), the same one the uses view shows.
async fn for_the_auditor(app: &App, slice: &mut NetworkSlice) -> AppResult<()> {
    let described: Vec<u64> = slice
        .in_month()
        .filter(|e| e.described())
        .map(|e| e.index)
        .collect();
    let ledger = app.ledger.clone();
    let events = tokio::task::spawn_blocking(move || events_at(&ledger, described)).await??;
    let secret = deployment_secret(app)?;
    let mut open = OpenFiles::default();
    let mut authorisation_files: HashMap<i64, Option<String>> = HashMap::new();
    let (mut withheld, mut officers) = (HashSet::new(), HashMap::new());
    for (index, event) in events {
        let file = match event.file_number.clone().filter(|f| !f.trim().is_empty()) {
            Some(f) => Some(f),
            None => match event.audit_facts().authorisation_id {
                None => None,
                Some(id) => match authorisation_files.get(&id) {
                    Some(file) => file.clone(),
                    None => {
                        let file = app.store.authorisation(id).await?.map(|a| a.file_number);
                        authorisation_files.insert(id, file.clone());
                        file
                    }
                },
            },
        };
        if let Some(f) = file {
            if open.check(app, &f).await? {
                withheld.insert(index);
                continue;
            }
        }
        if event.actor.kind == ActorKind::Staff {
            let month = month_name(event.time);
            officers.insert(index, officer_pseudonym(&secret, &event.actor.id, &month));
        }
    }
    for e in &mut slice.entries {
        if withheld.contains(&e.index) {
            e.reduce_to_counted().map_err(ledger_error)?;
        } else if let Some(p) = officers.remove(&e.index) {
            e.annotations
                .insert("officer".into(), serde_json::Value::String(p));
        }
    }
    Ok(())
}

/// Network `network`'s slice for `month` (`YYYY-MM`): every entry that touched the network
/// below the newest signed head, those of the month opened to the auditor's fields.
pub async fn ledger_slice(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
    month: &str,
) -> AppResult<NetworkSlice> {
    audit.action(Action::NetworkLedgerSlice);
    audit.query(serde_json::json!({ "network_id": network, "month": month }));
    decide(app, user, network, ControlsAction::Ledger).await?;
    let month = parse_month(month)?;
    known_network(app, network).await?;
    build_slice(app, network, month).await
}

/// Network `network`'s signed statement for `month`, counted from its slice at the newest
/// signed head.
pub async fn statement(
    app: &App,
    audit: &AuditHandle,
    user: &User,
    network: NetworkId,
    month: &str,
) -> AppResult<SignedStatement> {
    audit.action(Action::NetworkStatement);
    audit.query(serde_json::json!({ "network_id": network, "month": month }));
    decide(app, user, network, ControlsAction::Ledger).await?;
    let month = parse_month(month)?;
    known_network(app, network).await?;
    let slice = build_slice(app, network, month).await?;
    let statement = NetworkStatement::from_slice(&slice).map_err(ledger_error)?;
    app.ledger.sign_statement(statement).map_err(ledger_error)
}

/// The statement as one HTML page, in the style of the transparency report: no script, no
/// external style, font or image.
pub fn statement_html(s: &SignedStatement) -> String {
    let st = &s.statement;
    let c = &st.counts;
    let title = format!(
        "Police use of network {}'s data, {}",
        st.network_id, st.month
    );
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{style}</style></head><body><h1>{t}</h1>\
         <p>Every use of the network's data by police in {m} recorded in the audit ledger, counted \
         from the network's ledger slice at the signed tree head below. The network can recompute \
         these counts from its slice with <code>anpr network verify-statement</code>. Uses under \
         files still open are counted, not described.</p>\
         <table><tbody><tr><th>Uses</th><td>{u}</td></tr><tr><th>Described</th><td>{d}</td></tr>\
         <tr><th>Counted only (files still open)</th><td>{o}</td></tr>\
         <tr><th>Reads of the network disclosed</th><td>{r}</td></tr></tbody></table>",
        t = escape(&title),
        style = anpr_reports::transparency::STYLE,
        m = escape(&st.month.to_string()),
        u = c.uses,
        d = c.described,
        o = c.counted_only,
        r = c.reads_disclosed,
    );
    for (heading, counts) in [
        ("By action", &c.by_action),
        ("By purpose", &c.by_purpose),
        ("By district", &c.by_district),
        ("By outcome", &c.by_outcome),
    ] {
        let _ = write!(
            h,
            "<h2>{heading}</h2><table><thead><tr><th></th><th>Uses</th></tr></thead><tbody>"
        );
        for (k, n) in counts {
            let _ = write!(h, "<tr><td>{}</td><td>{n}</td></tr>", escape(k));
        }
        h.push_str("</tbody></table>");
    }
    let head = &st.head;
    let _ = writeln!(
        h,
        "<h2>Tree head</h2><p><small>size {size}, root {root}, signed {ts} by key {key}; \
         entries that touched the network below it: {count}. Statement signed by key {skey}: \
         {sig}</small></p></body></html>",
        size = head.size,
        root = hex::encode(head.root_hash),
        ts = escape(&head.timestamp),
        key = escape(&head.key_id),
        count = head.network_count(st.network_id).unwrap_or(0),
        skey = escape(&s.key_id),
        sig = escape(&s.signature),
    );
    h
}
