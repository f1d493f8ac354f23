//! `anpr bench access`: the cost of one access-policy decision with a national-size motor
//! vehicle register.
//!
//! 1. Loads N synthetic motor-vehicle rows (default 5 million; deterministic: plate `i` belongs
//!    to person `P<i>` at address `A<i/2>`), 10,000 staff (each owning one of those vehicles,
//!    so every officer has an own and a household car), one declared associate each, 100,000
//!    incidents in 12 districts and 50,000 stolen reports, through the store's import.
//! 2. Times decisions on exact-plate searches by random officers under random open files of
//!    their district: gathering the register facts (indexed point lookups on the reader
//!    connection) plus evaluating every rule, as the server does before touching data. One in
//!    ten is an officer's own car (refused). Recording the decision (one insert into `decisions`) and the
//!    trip through the async store interface are measured separately.

use super::figure;
use super::stats::Samples;
use anpr_app::App as AppState;
use anpr_domain::{PlatePattern, Purpose, Role, TimeRange};
use anpr_policy::access::{DataAction, DataRequest, Target};
use anpr_policy::config::RateLimits;
use anpr_policy::registers::{
    gather, AssociateRecord, IncidentRecord, StaffRecord, StolenRecord, StolenStatus, VehicleRecord,
};
use anpr_policy::{DecisionRecorder, Policy, PolicyConfig, RefusalKind, Subject};
use anpr_store::{FactsRequest, ImportSource, RegisterBatch, SqliteStore, Store};
use anpr_synth::places::DISTRICTS;
use chrono::{Duration, Utc};
use clap::Args;
use rand::{Rng, SeedableRng};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args)]
pub struct AccessArgs {
    /// Motor vehicle register rows.
    #[arg(long, default_value_t = 5_000_000)]
    vehicles: u64,
    /// Decisions timed.
    #[arg(long, default_value_t = 20_000)]
    decisions: usize,
    /// Directory for the deployment (default: a temporary one under the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the deployment afterwards.
    #[arg(long)]
    keep: bool,
}

const INCIDENT_TYPES: [&str; 4] = ["vehicle_theft", "homicide", "burglary", "missing_person"];
const STAFF: u64 = 10_000;
const INCIDENTS: u64 = 100_000;
const STOLEN: u64 = 50_000;

/// Plate `i`: three letters and three digits, a bijection on 0..17,576,000.
pub fn plate(i: u64) -> String {
    let l = i / 1000;
    let c = |n: u64| (b'A' + (n % 26) as u8) as char;
    format!("{}{}{}{:03}", c(l / 676), c(l / 26), c(l), i % 1000)
}

/// The vehicle officer `j` owns (their household's is the one next to it).
fn own_vehicle(j: u64, n: u64) -> u64 {
    ((j * 7919 * 2) % n) & !1
}

async fn import(store: &SqliteStore, batch: RegisterBatch, what: &str) -> anyhow::Result<()> {
    store
        .import_register(
            batch,
            ImportSource {
                source: format!("bench: synthetic {what}"),
                imported_by: "bench".into(),
            },
        )
        .await?;
    Ok(())
}

pub async fn run(args: AccessArgs) -> anyhow::Result<()> {
    let n = args.vehicles.clamp(1000, 17_576_000);
    let mut tmp = None;
    let dir = match &args.dir {
        Some(d) => d.clone(),
        None => {
            let t = tempfile::Builder::new()
                .prefix("anpr-bench-access-")
                .tempdir_in(".")?;
            let path = t.path().to_path_buf();
            tmp = Some(t);
            path
        }
    };
    std::fs::create_dir_all(&dir)?;
    eprintln!(
        "bench access: {n} vehicle register rows in {}",
        dir.display()
    );
    let store = SqliteStore::open(dir.join("anpr.sqlite"))?;

    // 1. Registers (kept from an earlier run of the same size in the same --dir: the data are
    // deterministic).
    if store
        .register_count(anpr_store::RegisterKind::Vehicles)
        .await?
        == n
    {
        eprintln!("reusing the registers already in {}", dir.display());
    } else {
        load_registers(&store, n).await?;
    }
    measure(&store, n, args.decisions).await?;
    if args.keep {
        if let Some(t) = tmp.take() {
            eprintln!("--keep: the deployment stays in {}", t.keep().display());
        }
    }
    Ok(())
}

async fn load_registers(store: &SqliteStore, n: u64) -> anyhow::Result<()> {
    let now = Utc::now();
    let bar = indicatif::ProgressBar::new(n);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "vehicle register {bar:40} {pos}/{len} ({per_sec}, eta {eta})",
    )?);
    let started = Instant::now();
    let chunk = 50_000u64;
    let mut i = 0;
    while i < n {
        let rows: Vec<VehicleRecord> = (i..(i + chunk).min(n))
            .map(|k| VehicleRecord {
                plate: plate(k),
                owner_person_id: format!("P{k}"),
                owner_address_id: format!("A{}", k / 2),
                make: None,
                model: None,
                colour: None,
            })
            .collect();
        import(store, RegisterBatch::Vehicles(rows), "vehicles").await?;
        i += chunk;
        bar.set_position(i.min(n));
    }
    bar.finish_and_clear();
    figure(
        "register_import_rows_per_s",
        n as f64 / started.elapsed().as_secs_f64(),
        "rows/s",
    );
    let staff: Vec<StaffRecord> = (0..STAFF)
        .map(|j| {
            let own = own_vehicle(j, n);
            StaffRecord {
                staff_id: format!("S{j}"),
                person_id: format!("P{own}"),
                home_address_id: format!("A{}", own / 2),
                team: Some(format!("T{}", j % 500)),
            }
        })
        .collect();
    import(store, RegisterBatch::Staff(staff), "staff").await?;
    let associates: Vec<AssociateRecord> = (0..STAFF)
        .map(|j| AssociateRecord {
            staff_id: format!("S{j}"),
            person_id: format!("P{}", (j * 104_729) % n),
            relationship: None,
        })
        .collect();
    import(store, RegisterBatch::Associates(associates), "associates").await?;
    let incidents: Vec<IncidentRecord> = (0..INCIDENTS)
        .map(|k| IncidentRecord {
            file_number: format!("F{k}"),
            incident_type: INCIDENT_TYPES[((k / 12) % 4) as usize].into(),
            district: DISTRICTS[(k % 12) as usize].into(),
            opened_at: now - Duration::days(5),
            closed_at: None,
            assigned_staff: vec![],
        })
        .collect();
    import(store, RegisterBatch::Incidents(incidents), "incidents").await?;
    let stolen: Vec<StolenRecord> = (0..STOLEN)
        .map(|k| StolenRecord {
            plate: plate((k * 97) % n),
            file_number: format!("F{}", k * 48 % INCIDENTS),
            reported_at: now - Duration::days(2),
            complainant_person_id: format!("P{}", (k * 97) % n),
            recorded_by_staff_id: format!("S{}", k % STAFF),
            status: StolenStatus::Active,
            cancelled_at: None,
        })
        .collect();
    import(store, RegisterBatch::Stolen(stolen), "stolen reports").await?;
    store.create_network("Bench network A", 60).await?;
    store.create_network("Bench network B", 60).await?;
    Ok(())
}

/// Times decisions on the loaded registers.
async fn measure(store: &SqliteStore, n: u64, args_decisions: usize) -> anyhow::Result<()> {
    let policy = Policy::new(PolicyConfig {
        rate_limits: RateLimits::unlimited(),
        ..Default::default()
    })?;
    let purpose_of = |file: String| Purpose {
        code: "stolen_vehicle".into(),
        file_number: file,
        justification: "Vehicle seen near the scene; checking its movements".into(),
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let pick = |rng: &mut rand::rngs::StdRng| {
        let j = rng.gen_range(0..STAFF);
        let subject = Subject {
            user_id: j as i64 + 1,
            staff_id: format!("S{j}"),
            district: DISTRICTS[(j % 12) as usize].into(),
            roles: vec![Role::Searcher, Role::Tracker],
            active: true,
        };
        // An open vehicle-theft file of the officer's district.
        let m = rng.gen_range(0..INCIDENTS / 48);
        let file = format!("F{}", m * 48 + j % 12);
        let own = rng.gen_range(0..10) == 0;
        let p = if own {
            plate(own_vehicle(j, n))
        } else {
            plate(rng.gen_range(0..n))
        };
        (subject, purpose_of(file), p, own)
    };
    let evaluate = |view: &dyn anpr_policy::RegisterView,
                    subject: &Subject,
                    purpose: &Purpose,
                    pattern: &PlatePattern| {
        let req = DataRequest {
            subject,
            action: DataAction::Search,
            purpose: Some(purpose),
            target: Target::Pattern(pattern),
            time: TimeRange::default(),
            network_ids: &[],
            request_id: "bench",
            now: Utc::now(),
        };
        let started = Instant::now();
        let facts = gather(view, &req.facts_query()).expect("register lookups");
        let gathered = started.elapsed();
        (gathered, policy.evaluate_data_access(&req, &facts))
    };
    // Warm up the page cache and the prepared statements.
    for _ in 0..(args_decisions / 10).max(100) {
        let (s, p, plate, _) = pick(&mut rng);
        let pattern = PlatePattern::parse(&plate, None, None)?;
        store.with_registers_blocking(|v| {
            let _ = evaluate(v, &s, &p, &pattern);
        })?;
    }
    let mut samples = Samples::new();
    let mut lookups = Samples::new();
    let (mut allowed, mut own_refused, mut unexpected) = (0u64, 0u64, 0u64);
    let mut decisions = Vec::new();
    for k in 0..args_decisions {
        let (s, p, plate, own) = pick(&mut rng);
        let pattern = PlatePattern::parse(&plate, None, None)?;
        let (elapsed, gathered, eval) = store.with_registers_blocking(|v| {
            let started = Instant::now();
            let (gathered, eval) = evaluate(v, &s, &p, &pattern);
            (started.elapsed(), gathered, eval)
        })?;
        samples.push(elapsed);
        lookups.push(gathered);
        match (eval.peek(), own) {
            (Ok(_), false) => allowed += 1,
            (Err(e), true) if e.kind() == Some(RefusalKind::OwnVehicle) => own_refused += 1,
            _ => unexpected += 1,
        }
        if k < 1000 {
            decisions.push(eval.decision);
        }
    }
    if unexpected > 0 || allowed == 0 || own_refused == 0 {
        anyhow::bail!(
            "the decisions are not what the registers say: {allowed} allowed, {own_refused} own \
             vehicles refused, {unexpected} unexpected"
        );
    }
    figure(
        "policy_decision_p50_us",
        samples.percentile_ms(50.0) * 1000.0,
        "us",
    );
    figure(
        "policy_decision_p99_us",
        samples.percentile_ms(99.0) * 1000.0,
        "us",
    );
    figure(
        "policy_register_lookups_p50_us",
        lookups.percentile_ms(50.0) * 1000.0,
        "us",
    );

    // The same through the async store interface (a hop to the blocking pool), as the server
    // gathers facts.
    let mut via_store = Samples::new();
    for _ in 0..args_decisions.min(5000) {
        let (s, p, plate, _) = pick(&mut rng);
        let pattern = PlatePattern::parse(&plate, None, None)?;
        let started = Instant::now();
        let req = DataRequest {
            subject: &s,
            action: DataAction::Search,
            purpose: Some(&p),
            target: Target::Pattern(&pattern),
            time: TimeRange::default(),
            network_ids: &[],
            request_id: "bench",
            now: Utc::now(),
        };
        let facts = store
            .access_facts(FactsRequest::from_query(&req.facts_query()))
            .await?;
        let _ = policy.evaluate_data_access(&req, &facts);
        via_store.push(started.elapsed());
    }
    figure(
        "policy_decision_via_store_p50_us",
        via_store.percentile_ms(50.0) * 1000.0,
        "us",
    );

    // Recording a decision: one insert into the decisions table.
    let mut record = Samples::new();
    for d in &decisions {
        let started = Instant::now();
        store.record(d)?;
        record.push(started.elapsed());
    }
    figure(
        "policy_record_p50_us",
        record.percentile_ms(50.0) * 1000.0,
        "us",
    );
    Ok(())
}

/// Puts a benchmark's searcher and their file into the registers (for `bench core`).
pub async fn seed_bench_searcher(
    state: &AppState,
    staff_id: &str,
    file: &str,
    district: &str,
) -> anyhow::Result<()> {
    let source = || ImportSource {
        source: "bench".into(),
        imported_by: "bench".into(),
    };
    let staff = RegisterBatch::Staff(vec![StaffRecord {
        staff_id: staff_id.into(),
        person_id: format!("P-{staff_id}"),
        home_address_id: format!("A-{staff_id}"),
        team: None,
    }]);
    let incident = RegisterBatch::Incidents(vec![IncidentRecord {
        file_number: file.into(),
        incident_type: "homicide".into(),
        district: district.into(),
        opened_at: Utc::now() - Duration::days(1),
        closed_at: None,
        assigned_staff: vec![],
    }]);
    state.store.import_register(staff, source()).await?;
    state.store.import_register(incident, source()).await?;
    Ok(())
}

/// A policy file without rate limits, for benchmarks that search thousands of times.
pub fn unlimited_policy_file(dir: &Path) -> anyhow::Result<String> {
    let config = PolicyConfig {
        rate_limits: RateLimits::unlimited(),
        ..Default::default()
    };
    let path = dir.join("bench-policy.json");
    std::fs::write(&path, serde_json::to_string_pretty(&config)?)?;
    Ok(path.to_string_lossy().into_owned())
}
