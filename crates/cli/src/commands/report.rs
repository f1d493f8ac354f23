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
    /// Recompute a published transparency report (its JSON) from a download of the ledger
    /// (`anpr ledger download`): the entries must be those its signed tree head commits to, and
    /// every figure but the integrity findings what they give. Fails, naming each difference.
    VerifyTransparency {
        /// The report's JSON (transparency-YYYY-MM.json).
        #[arg(long)]
        report: PathBuf,
        /// The ledger's entries as JSON lines, from index 0 (`anpr ledger download`).
        #[arg(long)]
        ledger: PathBuf,
        /// The deployment's public key (`ledger/ledger-signing-key.pub`), to check the head's
        /// signature too.
        #[arg(long)]
        public_key: Option<PathBuf>,
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
        ReportCommand::VerifyTransparency {
            report,
            ledger,
            public_key,
        } => verify_transparency(&report, &ledger, public_key.as_deref())?,
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

/// `anpr report verify-transparency`: reads both files and recomputes (see
/// `anpr_app::ledger_counts::verify_report`).
fn verify_transparency(report: &Path, ledger: &Path, key: Option<&Path>) -> anyhow::Result<()> {
    use std::io::BufRead;
    let text = std::fs::read(report)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the report ({e})", report.display()))?;
    let report_json: serde_json::Value = serde_json::from_slice(&text)
        .map_err(|e| anyhow::anyhow!("{}: not JSON ({e})", report.display()))?;
    let file = std::fs::File::open(ledger)
        .map_err(|e| anyhow::anyhow!("{}: cannot read the ledger ({e})", ledger.display()))?;
    let mut entries = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        entries.push(serde_json::from_str(&line).map_err(|e| {
            anyhow::anyhow!(
                "{} line {}: not a ledger entry ({e}); download it with `anpr ledger download`",
                ledger.display(),
                n + 1
            )
        })?);
    }
    let key = key.map(anpr_ledger::keys::read_public_key).transpose()?;
    match anpr_app::ledger_counts::verify_report(anpr_app::ledger_counts::VerifyInput {
        report: &report_json,
        entries: &entries,
        public_key: key.as_ref(),
    }) {
        Ok(checked) => {
            println!("verified: {checked}");
            Ok(())
        }
        Err(differences) => {
            for d in &differences {
                eprintln!("{d}");
            }
            anyhow::bail!(
                "the report does not match the ledger: {} difference(s)",
                differences.len()
            )
        }
    }
}
