use anpr_app::audit::{AuditHandle, Channel};
use anpr_domain::query::MatchMode;
use anpr_domain::{PlatePattern, Purpose, SearchQuery, TimeRange};
use anpr_ledger::Action;
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::Path;

#[derive(Args)]
pub struct SearchArgs {
    /// Who is searching: the same access policy applies as through the API, and the decision
    /// is recorded. The password is read from ANPR_PASSWORD or standard input.
    #[arg(long)]
    pub staff_id: String,
    /// Plate: exact (ABC123), wildcard (`?` one character, `*` any run: AB?12*) or, with
    /// --fuzzy, OCR-fuzzy (8 and B, 0 and O... count as the same).
    pub plate: String,
    /// OCR-fuzzy match with up to this many edits beyond confusable characters (0 to 2).
    #[arg(long)]
    pub fuzzy: Option<u8>,
    /// Reads captured at or after this RFC 3339 time, e.g. 2026-03-01T10:00:00+13:00
    /// (default: as far back as retention keeps).
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    /// Reads captured before this RFC 3339 time, e.g. 2026-03-02T10:00:00+13:00 (default: now).
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    /// Reads shown, 1 to 1000.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Purpose code of the search, one the incident's type allows (e.g. stolen_vehicle); a
    /// refusal names the purposes that fit the file.
    #[arg(long)]
    pub purpose: String,
    /// Incident file number from the incident register (e.g. 260101/1); the file must be open
    /// and in your district or assigned to you.
    #[arg(long)]
    pub file_number: String,
    /// Why the search is needed, in words: at least 20 characters and 3 different words (e.g.
    /// "vehicle seen leaving the scene").
    #[arg(long)]
    pub justification: String,
    /// Print the page as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(data: &Path, args: SearchArgs) -> anyhow::Result<()> {
    let purpose = Purpose {
        code: args.purpose,
        file_number: args.file_number,
        justification: args.justification,
    };
    let mode = args.fuzzy.map(|_| MatchMode::Fuzzy);
    let plate = PlatePattern::parse(&args.plate, mode, args.fuzzy)?;
    let query = SearchQuery {
        time: TimeRange {
            from: args.from,
            to: args.to,
        },
        limit: args.limit,
        ..SearchQuery::for_plate(plate)
    };
    query.validate()?;
    let app = super::open(data).await?;
    let user = super::sign_in(&app, &args.staff_id).await?;
    let audit = AuditHandle::for_staff(Channel::Cli, &user, Action::Search);
    let result = super::in_use(
        &app,
        &audit,
        anpr_app::search::search(&app, &user, &audit, query, Some(purpose), false),
    )
    .await?;
    for n in &result.grant.notices {
        eprintln!("note: {}", n.message);
    }
    let page = &result.page;
    if args.json {
        println!("{}", serde_json::to_string_pretty(page)?);
        return Ok(());
    }
    println!(
        "{} reads of {} plate(s); showing {}",
        page.total,
        page.plates_matched,
        page.hits.len()
    );
    for h in &page.hits {
        println!(
            "{}\t{}\t{}\t{:.2}\t{} ({}, {})",
            h.read.id,
            h.read.captured_at.format("%Y-%m-%d %H:%M:%S"),
            h.read.plate,
            h.read.confidence,
            h.site_name,
            h.network_name,
            h.district
        );
    }
    Ok(())
}
