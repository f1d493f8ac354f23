//! `anpr report usage|transparency|subject-access`: the same library functions as the reports
//! API (`anpr_app::reports`), each use recorded in the audit ledger before its output is
//! written.

use anpr_app::audit::{AuditHandle, Channel};
use anpr_app::App as AppState;
use anpr_ledger::{Action, Event};
use anpr_reports::{transparency, usage, Month};
use clap::Subcommand;
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum ReportCommand {
    /// Counts of use per month, optionally by district, purpose or network.
    Usage {
        /// Start: YYYY-MM, YYYY-MM-DD or an RFC 3339 time.
        #[arg(long)]
        from: String,
        /// End: YYYY-MM or YYYY-MM-DD (included) or an RFC 3339 time (excluded).
        #[arg(long)]
        to: String,
        /// month, district, purpose or network.
        #[arg(long, default_value = "month")]
        by: String,
        /// csv or json.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// The public transparency report of one month, as HTML and JSON files.
    Transparency {
        /// The month: YYYY-MM.
        #[arg(long)]
        month: String,
        /// Directory the files are written to.
        #[arg(long, default_value = ".")]
        out: PathBuf,
    },
    /// Answer a subject access request: the sightings of a plate still held (up to the
    /// near-live window) and the queries that touched it (roles privacy_officer or admin, never
    /// for a vehicle connected to the requester; the password is read from ANPR_PASSWORD or
    /// standard input).
    SubjectAccess {
        #[arg(long)]
        staff_id: String,
        #[arg(long)]
        plate: String,
        /// The request's own reference number (required).
        #[arg(long)]
        reference: Option<String>,
        /// How the person's identity was checked (required): passport, driver_licence,
        /// firearms_licence, kiwi_access_card, realme_verified_identity (as configured).
        #[arg(long)]
        identity_method: Option<String>,
        /// The staff id of whoever checked the person's identity (required).
        #[arg(long)]
        identity_checked_by: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

use super::operator;

async fn record(state: &AppState, event: Event) -> anyhow::Result<()> {
    anpr_app::audit::append(state, event).await?;
    Ok(())
}

pub async fn run(data: &Path, cmd: ReportCommand) -> anyhow::Result<()> {
    let api = |e: anpr_app::AppError| anyhow::anyhow!("{e}");
    match cmd {
        ReportCommand::Usage {
            from,
            to,
            by,
            format,
        } => {
            if !matches!(format.as_str(), "csv" | "json") {
                anyhow::bail!("--format: expected csv or json, got {format:?}");
            }
            let q = anpr_reports::usage::parse_query(Some(&from), Some(&to), Some(&by))
                .map_err(|e| anyhow::anyhow!("--{e}"))?;
            let state = super::open(data).await?;
            record(
                &state,
                Event::new(operator(), Action::ReportUsage)
                    .query(json!({ "from": from, "to": to, "by": by, "format": format })),
            )
            .await?;
            let report = anpr_app::reports::usage_national(&state, q)
                .await
                .map_err(api)?;
            if format == "csv" {
                print!("{}", usage::to_csv(&report));
            } else {
                println!("{}", serde_json::to_string_pretty(&report)?);
            }
        }
        ReportCommand::Transparency { month, out } => {
            let m = Month::parse("month", &month).map_err(|e| anyhow::anyhow!("--{e}"))?;
            let state = super::open(data).await?;
            record(
                &state,
                Event::new(operator(), Action::ReportTransparency).query(json!({ "month": month })),
            )
            .await?;
            let report = anpr_app::reports::transparency(&state, m, chrono::Utc::now())
                .await
                .map_err(api)?;
            std::fs::create_dir_all(&out)?;
            let html = out.join(format!("transparency-{m}.html"));
            let json = out.join(format!("transparency-{m}.json"));
            std::fs::write(&html, transparency::to_html(&report))?;
            std::fs::write(&json, serde_json::to_vec_pretty(&report)?)?;
            println!("{}\n{}", html.display(), json.display());
        }
        ReportCommand::SubjectAccess {
            staff_id,
            plate,
            reference,
            identity_method,
            identity_checked_by,
            json,
        } => {
            let state = super::open(data).await?;
            let user = super::sign_in(&state, &staff_id).await?;
            // Granted or refused, in the ledger before anything is shown.
            let audit = AuditHandle::for_staff(Channel::Cli, &user, Action::SubjectAccess);
            let ask = anpr_app::reports::SubjectAccessAsk {
                plate,
                reference,
                identity_checked: match (identity_method, identity_checked_by) {
                    (None, None) => None,
                    (method, by) => Some(anpr_policy::IdentityCheck {
                        method: method.unwrap_or_default(),
                        by: by.unwrap_or_default(),
                    }),
                },
            };
            let report = super::in_use(
                &state,
                &audit,
                anpr_app::reports::subject_access(&state, &user, &audit, ask),
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print!("{}", anpr_reports::subject::to_text(&report));
            }
        }
    }
    Ok(())
}
