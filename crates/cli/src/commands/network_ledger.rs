//! `anpr network slice | statement | verify-slice | verify-statement`: a network's checkable
//! record of police use of its data. Fetching signs in as the network's auditor; verifying
//! needs only the files and the deployment's public key.

use std::path::Path;

use anpr_app::App;
use anpr_ledger::{Action, NetworkSlice, SignedStatement};

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the {what} {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        anyhow::anyhow!(
            "{} is not a {what} (as `anpr network {}` writes it): {e}",
            path.display(),
            if what == "slice" {
                "slice"
            } else {
                "statement"
            }
        )
    })
}

fn write_out(out: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match out {
        Some(p) => std::fs::write(p, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", p.display())),
        None => {
            println!("{text}");
            Ok(())
        }
    }
}

/// Fetches network `id`'s slice for `month` as its auditor `staff_id` and writes it as JSON.
pub async fn slice(
    app: &App,
    id: i64,
    staff_id: &str,
    month: &str,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let slice = super::as_staff(
        app,
        staff_id,
        Action::NetworkLedgerSlice,
        |audit, user| async move {
            anpr_app::network_ledger::ledger_slice(app, &audit, &user, id, month).await
        },
    )
    .await?;
    write_out(out, &serde_json::to_string_pretty(&slice)?)?;
    eprintln!(
        "network {id}, {month}: {} entries below the signed tree head of size {} (its counter: {})",
        slice.entries.len(),
        slice.head.size,
        slice.head.network_count(id).unwrap_or(0)
    );
    Ok(())
}

/// Fetches network `id`'s signed statement for `month` as JSON or HTML.
pub async fn statement(
    app: &App,
    id: i64,
    staff_id: &str,
    month: &str,
    html: bool,
    out: Option<&Path>,
) -> anyhow::Result<()> {
    let s = super::as_staff(
        app,
        staff_id,
        Action::NetworkStatement,
        |audit, user| async move {
            anpr_app::network_ledger::statement(app, &audit, &user, id, month).await
        },
    )
    .await?;
    let text = if html {
        anpr_app::network_ledger::statement_html(&s)
    } else {
        serde_json::to_string_pretty(&s)?
    };
    write_out(out, &text)
}

/// Checks a slice file against the deployment's public key.
pub fn verify_slice(slice: &Path, public_key: &Path) -> anyhow::Result<()> {
    let key = anpr_ledger::keys::read_public_key(public_key)?;
    let slice: NetworkSlice = read_json(slice, "slice")?;
    let v = anpr_ledger::verify_slice(&slice, &[key])?;
    println!(
        "slice OK: network {}, all {} entries that touched it below the signed tree head of size {} \
         are present and verify; {} in {}, {} of them described, {} counted only",
        v.network_id,
        v.total,
        v.head_size,
        v.in_month,
        slice
            .month
            .map(|m| m.to_string())
            .unwrap_or_else(|| "the whole log".into()),
        v.described,
        v.in_month - v.described
    );
    Ok(())
}

/// Recomputes a statement from its slice and checks both against the public key.
pub fn verify_statement(statement: &Path, slice: &Path, public_key: &Path) -> anyhow::Result<()> {
    let key = anpr_ledger::keys::read_public_key(public_key)?;
    let s: SignedStatement = read_json(statement, "statement")?;
    let slice: NetworkSlice = read_json(slice, "slice")?;
    anpr_ledger::verify_statement(&s, &slice, &[key])?;
    println!(
        "statement OK: network {}, {}: {} uses ({} described, {} counted only), {} reads \
         disclosed, recomputed from the slice at the signed tree head of size {}",
        s.statement.network_id,
        s.statement.month,
        s.statement.counts.uses,
        s.statement.counts.described,
        s.statement.counts.counted_only,
        s.statement.counts.reads_disclosed,
        s.statement.head.size
    );
    Ok(())
}
