//! `anpr simulate` (a year of national use with planted misuse, written to a deployment) and
//! `anpr integrity run` (the integrity rules over a deployment's audit ledger and registers:
//! findings stored, cases opened, a summary printed, and recall and precision against the
//! simulator's truth when given it).

use anpr_app::DataDir;
use anpr_integrity::{score, Expected, IntegrityConfig};
use anpr_ledger::Ledger;
use anpr_store::{ImportSource, NewUser, RegisterBatch, SqliteStore, Store};
use anpr_synth::usage::{simulate, Planted, SimConfig, Simulation};
use clap::Subcommand;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Seed of the simulated year.
    #[arg(long, default_value_t = 2017)]
    pub seed: u64,
    /// Where to write the planted truth (never inside the deployment: the rules must not see
    /// it).
    #[arg(long, default_value = "simulation-truth.json")]
    pub truth: PathBuf,
    /// A fiftieth of the national volume (quick trials).
    #[arg(long)]
    pub small: bool,
}

#[derive(Subcommand)]
pub enum IntegrityCommand {
    /// Run the integrity rules over the audit ledger; store findings and open cases.
    Run(RunArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// First ledger index to look at. Default: the whole ledger.
    #[arg(long)]
    pub since: Option<u64>,
    /// Rule settings (JSON; anything left out keeps its default).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The simulator's planted truth: print recall and precision against it.
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

/// Writes a simulated year into an empty deployment: users, registers, and the ledger entries.
pub async fn load_simulation(data: &Path, sim: &Simulation) -> anyhow::Result<()> {
    let dirs = DataDir(data.to_path_buf());
    std::fs::create_dir_all(data)?;
    let store = SqliteStore::open(dirs.database())?;
    let ledger = Ledger::open(dirs.ledger())?;
    if ledger.size() > 0 || !store.users().await?.is_empty() {
        anyhow::bail!(
            "{} is not an empty deployment; simulate into a new --data directory",
            data.display()
        );
    }
    // The simulated staff cannot sign in: their password hash matches no password.
    let users = sim
        .users
        .iter()
        .map(|u| NewUser {
            staff_id: u.staff_id.clone(),
            name: u.name.clone(),
            badge_number: None,
            district: u.district.clone(),
            roles: u
                .roles
                .iter()
                .filter_map(|r| anpr_domain::Role::parse(r))
                .collect(),
            password_hash: "!simulated".into(),
            network_id: None,
        })
        .collect();
    store.create_users(users).await?;
    let source = ImportSource {
        source: "anpr simulate".into(),
        imported_by: "cli:simulate".into(),
    };
    for batch in [
        RegisterBatch::Staff(sim.staff.clone()),
        RegisterBatch::Vehicles(sim.vehicles.clone()),
        RegisterBatch::Incidents(sim.incidents.clone()),
        RegisterBatch::Stolen(sim.stolen.clone()),
    ] {
        store.import_register(batch, source.clone()).await?;
    }
    // Events refer to stolen reports by their position in import order: check the register
    // gave them those ids.
    let expected: Vec<(String, String)> = sim
        .stolen
        .iter()
        .map(|s| (s.plate.clone(), s.file_number.clone()))
        .collect();
    let store2 = store.clone();
    let ok = tokio::task::spawn_blocking(move || {
        store2.with_registers_blocking(|view| {
            expected.iter().enumerate().all(|(k, (plate, file))| {
                view.stolen(plate)
                    .map(|v| {
                        v.iter()
                            .any(|e| e.id == k as i64 + 1 && e.record.file_number == *file)
                    })
                    .unwrap_or(false)
            })
        })
    })
    .await??;
    anyhow::ensure!(ok, "stolen reports were not given their import-order ids");
    let events = sim.events.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        for chunk in events.chunks(20_000) {
            ledger.append(chunk)?;
        }
        ledger.sign_tree_head()?;
        Ok(())
    })
    .await??;
    Ok(())
}

pub async fn simulate_cmd(data: &Path, args: SimulateArgs) -> anyhow::Result<()> {
    if args.truth.starts_with(data) {
        anyhow::bail!(
            "write the truth outside the deployment ({}), where the rules never read",
            data.display()
        );
    }
    let cfg = if args.small {
        SimConfig::small(args.seed)
    } else {
        SimConfig::national(args.seed)
    };
    let started = Instant::now();
    let sim = tokio::task::spawn_blocking(move || simulate(&cfg)).await?;
    let searches = sim
        .events
        .iter()
        .filter(|e| e.action == anpr_ledger::Action::Search)
        .count();
    load_simulation(data, &sim).await?;
    std::fs::write(&args.truth, serde_json::to_vec_pretty(&sim.truth)?)?;
    let with = |role: &str| sim.users.iter().filter(|u| u.roles.contains(&role)).count();
    // Officers: who search and supervise nobody (a third of the supervisors search too).
    let officers = |role: &str| {
        sim.users
            .iter()
            .filter(|u| u.roles.contains(&role) && !u.roles.contains(&"supervisor"))
            .count()
    };
    println!(
        "simulated {} staff who search ({} may track), {} supervisors, {} administrators and {} \
         privacy officers; {} uses ({} searches), {} incidents, {} stolen reports; {} planted \
         cases written to {} ({:.1} s)",
        officers("searcher"),
        officers("tracker"),
        with("supervisor"),
        with("admin"),
        with("privacy_officer"),
        sim.events.len(),
        searches,
        sim.incidents.len(),
        sim.stolen.len(),
        sim.truth.len(),
        args.truth.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn districts(store: &SqliteStore) -> anyhow::Result<HashMap<String, String>> {
    Ok(store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.staff_id, u.district))
        .collect())
}

pub fn read_truth(path: &Path) -> anyhow::Result<Vec<Expected>> {
    let planted: Vec<Planted> = serde_json::from_slice(
        &std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
    )?;
    Ok(planted
        .into_iter()
        .map(|p| Expected {
            rule: p.rule,
            staff_id: p.staff_id,
            key: p.key,
            class: p.note,
        })
        .collect())
}

pub fn load_config(path: Option<&Path>) -> anyhow::Result<IntegrityConfig> {
    match path {
        None => Ok(IntegrityConfig::default()),
        Some(p) => Ok(IntegrityConfig::from_json(
            &std::fs::read_to_string(p)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", p.display()))?,
        )?),
    }
}

pub async fn run(data: &Path, cmd: IntegrityCommand) -> anyhow::Result<()> {
    let IntegrityCommand::Run(args) = cmd;
    let state = super::open(data).await?;
    let cfg = load_config(args.config.as_deref())?;
    let from = args.since.unwrap_or(0);
    let (findings, report) = anpr_app::monitor::run(&state, cfg, Some(from))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "integrity run over ledger entries {}..={}: {} uses in {:.2} s",
        report.from_index,
        report
            .to_index
            .map_or("(none)".to_string(), |l| l.to_string()),
        report.uses,
        report.seconds
    );
    for (rule, n) in &report.findings {
        println!("  {rule:<28} {n}");
    }
    println!(
        "cases opened: {}, findings updated: {}",
        report.cases_opened, report.findings_updated
    );
    if let Some(path) = args.truth {
        let s = score(&findings, &read_truth(&path)?);
        println!(
            "against the planted truth: recall {:.4} ({} of {} planted cases found), precision {:.4} \
             ({} of {} findings planted)",
            s.recall,
            s.planted - s.missed.len(),
            s.planted,
            s.precision,
            s.findings - s.unexpected.len(),
            s.findings
        );
        print!("{}", s.tables());
        for m in &s.missed {
            println!(
                "  missed: {} {} {} ({})",
                m.rule, m.staff_id, m.key, m.class
            );
        }
    }
    Ok(())
}
