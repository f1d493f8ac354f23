//! `anpr demo`: a deployment with synthetic networks, sites in real New Zealand towns, cameras,
//! users for every role and a few days of reads with rendered plate images. Idempotent: a data
//! directory that already holds the demo is served as it is.

use crate::seed::{self, ImagePlan};
use anpr_domain::Role;
use anpr_store::NewUser;
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

/// Demo users: (staff id, name, district, roles). Every role has one.
const DEMO_USERS: &[(&str, &str, &str, &[Role])] = &[
    ("S1001", "Aroha Searcher", "Waikato", &[Role::Searcher]),
    (
        "S1002",
        "Ben Tracker",
        "Waikato",
        &[Role::Searcher, Role::Tracker],
    ),
    ("S1003", "Carmen Supervisor", "Waikato", &[Role::Supervisor]),
    ("S1004", "Dev Integrity", "Wellington", &[Role::Integrity]),
    ("S1005", "Eli Auditor", "Wellington", &[Role::Auditor]),
    ("S1006", "Fern Admin", "Wellington", &[Role::Admin]),
];
const DEMO_PASSWORD: &str = "demo-password-2026";
const CREDENTIALS_FILE: &str = "DEMO-CREDENTIALS.txt";

pub async fn run(data: &Path, args: DemoArgs) -> anyhow::Result<()> {
    let state = anpr_server::AppState::open_embedded(data, args.serve.config())?;
    let credentials_path = data.join(CREDENTIALS_FILE);
    if state.store.networks().await?.is_empty() {
        seed_demo(&state, &args, &credentials_path).await?;
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
    if args.no_serve {
        return Ok(());
    }
    super::serve::serve_state(state, &args.serve.listen, None).await
}

async fn seed_demo(
    state: &anpr_server::AppState,
    args: &DemoArgs,
    credentials_path: &Path,
) -> anyhow::Result<()> {
    let catalog = demo_catalog();
    let seeded = seed::seed_catalog(state, &catalog).await?;
    let hash = anpr_server::auth::hash_secret(DEMO_PASSWORD)?;
    for (staff_id, name, district, roles) in DEMO_USERS {
        state
            .store
            .create_user(NewUser {
                staff_id: staff_id.to_string(),
                name: name.to_string(),
                district: district.to_string(),
                roles: roles.to_vec(),
                password_hash: hash.clone(),
            })
            .await?;
    }

    let population = plate_population((args.reads / 10).clamp(100, 200_000) as usize, DEMO_SEED);
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
    text.push_str(&format!(
        "  staff password for every user: {DEMO_PASSWORD}\n"
    ));
    for (staff_id, name, _, roles) in DEMO_USERS {
        let roles: Vec<_> = roles.iter().map(|r| r.as_str()).collect();
        text.push_str(&format!(
            "  {staff_id}  {name:<18} roles: {}\n",
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
