use anpr_domain::{GeoPoint, SiteKind, DEFAULT_RETENTION_DAYS};
use anpr_ledger::Action;
use anpr_store::{NewCamera, NewSite};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum NetworkCommand {
    /// Register a camera network.
    Add {
        /// The network's name, as staff will see it (e.g. "Auror retail").
        name: String,
        /// Days its reads are kept before `anpr purge` deletes them (a whole number).
        #[arg(long, default_value_t = DEFAULT_RETENTION_DAYS)]
        retention_days: u32,
    },
    /// List networks with their sharing agreements and police contacts.
    List,
    /// Set whom the network's own staff (network operators) call at the police about a vehicle
    /// of interest; shown in each of its hot-list alerts beside the site's address.
    PoliceContact {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// One line: a name or desk and a phone number (e.g. "Hamilton Police, 07 858 6200");
        /// an empty text clears it.
        contact: String,
    },
    /// Show or change a network's own sharing controls, as its network auditor (signed in:
    /// password from `ANPR_PASSWORD` or standard input). Without a change, prints them. Police
    /// roles, administrators included, cannot change them.
    Controls {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// The network auditor's staff id.
        #[arg(long)]
        staff_id: String,
        /// Suspend sharing: no new search or watch reaches the network's data (within a second,
        /// on every server).
        #[arg(long, conflicts_with = "resume")]
        suspend: bool,
        /// Resume sharing.
        #[arg(long)]
        resume: bool,
        /// A purpose code the network does not share for (e.g. road_policing); repeat for
        /// several. Replaces the list.
        #[arg(long = "withhold-purpose", conflicts_with = "share_all_purposes")]
        withhold_purpose: Vec<String>,
        /// Share for every purpose again (empties the list of withheld purposes).
        #[arg(long)]
        share_all_purposes: bool,
        /// Days back the network's reads may be searched (1 to 3650).
        #[arg(long, conflicts_with = "no_max_lookback")]
        max_lookback_days: Option<u32>,
        /// No maximum look-back of the network's own.
        #[arg(long)]
        no_max_lookback: bool,
    },
    /// List the notices of tracking watches that started to cover a network's cameras (time,
    /// purpose code, district), as its network auditor (signed in as for `controls`).
    WatchNotices {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// The network auditor's staff id.
        #[arg(long)]
        staff_id: String,
        /// At most this many, newest first (1 to 500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
    /// List the police uses that touched a network's data (from the audit ledger: time, kind,
    /// purpose code, district, outcome, reads disclosed, a pseudonymous officer id) and their
    /// counts by month, purpose and district, as its network auditor. No plate, file number or
    /// justification; uses under files still open are counted, not described.
    Uses {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// The network auditor's staff id.
        #[arg(long)]
        staff_id: String,
        /// The month, YYYY-MM (UTC); left out: every month.
        #[arg(long)]
        month: Option<String>,
        /// Print the whole view as JSON (as `GET /api/v1/networks/{id}/uses` answers).
        #[arg(long)]
        json: bool,
    },
    /// Fetch a network's ledger slice for a month, as its network auditor (signed in as for
    /// `controls`): every ledger entry that touched the network below the newest signed tree
    /// head, redacted, with inclusion proofs. Check it with `verify-slice`.
    Slice {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// The network auditor's staff id.
        #[arg(long)]
        staff_id: String,
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        month: String,
        /// Write the JSON here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Fetch a network's signed monthly statement (counts by action, purpose, district and
    /// outcome, reads disclosed) as its network auditor. Check it with `verify-statement`.
    Statement {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// The network auditor's staff id.
        #[arg(long)]
        staff_id: String,
        /// The month, YYYY-MM (UTC).
        #[arg(long)]
        month: String,
        /// One self-contained HTML page instead of JSON.
        #[arg(long)]
        html: bool,
        /// Write it here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check a slice file: the signed tree head, every entry's fields and inclusion proof, and
    /// that it holds as many entries as the head's signed counter for the network. Needs no
    /// data directory.
    VerifySlice {
        /// The slice, as `anpr network slice` writes it.
        slice: PathBuf,
        /// The deployment's public key (`ledger/ledger-signing-key.pub`), obtained out of band.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Recompute a statement from its slice and check both: fails when a count differs (and
    /// names it). Needs no data directory.
    VerifyStatement {
        /// The statement (JSON), as `anpr network statement` writes it.
        statement: PathBuf,
        /// The slice of the same network and month at the same head.
        #[arg(long)]
        slice: PathBuf,
        /// The deployment's public key (`ledger/ledger-signing-key.pub`), obtained out of band.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Replace a network's sharing agreement: which districts (or agencies) may search its
    /// reads and which may track on them (`*` for all).
    Share {
        /// The network's number, as `anpr network list` shows it.
        id: i64,
        /// Comma-separated districts that may run historical search (e.g.
        /// `Southern,Canterbury`; `*` for all; empty for none).
        #[arg(long, value_delimiter = ',', default_value = "")]
        search: Vec<String>,
        /// Comma-separated districts that may run real-time tracking (same form as --search).
        #[arg(long, value_delimiter = ',', default_value = "")]
        tracking: Vec<String>,
    },
}

#[derive(Subcommand)]
pub enum SiteCommand {
    /// Register a site of a network.
    Add {
        /// The network's number, as `anpr network list` shows it.
        #[arg(long)]
        network: i64,
        /// The site's name, as staff will see it in results (e.g. "Fuel stop Frankton").
        #[arg(long)]
        name: String,
        /// What the site is: fuel_station, supermarket, mall, retail, car_park or other.
        #[arg(long, default_value = "other")]
        kind: String,
        /// Street address, free text (optional).
        #[arg(long, default_value = "")]
        address: String,
        /// Latitude in decimal degrees, -90 to 90 (south is negative, e.g. -45.02).
        #[arg(long, allow_hyphen_values = true)]
        lat: f64,
        /// Longitude in decimal degrees, -180 to 180 (west is negative, e.g. 168.73).
        #[arg(long, allow_hyphen_values = true)]
        lon: f64,
        /// The police district the site is in: one of the deployment's (the policy's
        /// `districts`; by default New Zealand Police's twelve, e.g. Southern).
        #[arg(long)]
        district: String,
    },
    /// List sites.
    List,
}

#[derive(Subcommand)]
pub enum CameraCommand {
    /// Register a camera; prints its API key once.
    Add {
        /// The site's number, as `anpr site list` shows it.
        #[arg(long)]
        site: i64,
        /// The camera's name within its site (e.g. "pump 1", "exit lane").
        #[arg(long)]
        name: String,
        /// The compass direction the camera faces, in whole degrees from north, 0 to 359
        /// (e.g. 90 for east); optional.
        #[arg(long, allow_hyphen_values = true)]
        heading: Option<i64>,
    },
    /// List cameras.
    List,
    /// Give a camera a new API key (printed once). The key it replaces keeps working for the
    /// overlap, so the camera can be re-keyed without losing reads; any older key ends now.
    RotateKey {
        /// The camera's number, as `anpr camera list` shows it.
        id: i64,
        /// How long the replaced key keeps working: `24h` (the default), `30m`, `0s` (ends it
        /// now); at most a week.
        #[arg(long, value_parser = humantime::parse_duration)]
        overlap: Option<std::time::Duration>,
    },
    /// Revoke every API key of a camera: they stop working at once, on every server.
    Revoke {
        /// The camera's number, as `anpr camera list` shows it.
        id: i64,
    },
}

pub async fn network(data: &Path, cmd: NetworkCommand) -> anyhow::Result<()> {
    // Checking files needs no data directory.
    match &cmd {
        NetworkCommand::VerifySlice { slice, public_key } => {
            return super::network_ledger::verify_slice(slice, public_key);
        }
        NetworkCommand::VerifyStatement {
            statement,
            slice,
            public_key,
        } => return super::network_ledger::verify_statement(statement, slice, public_key),
        _ => {}
    }
    let state = super::open(data).await?;
    match cmd {
        NetworkCommand::VerifySlice { .. } | NetworkCommand::VerifyStatement { .. } => {}
        NetworkCommand::Slice {
            id,
            staff_id,
            month,
            out,
        } => {
            super::network_ledger::slice(&state, id, &staff_id, &month, out.as_deref()).await?;
        }
        NetworkCommand::Statement {
            id,
            staff_id,
            month,
            html,
            out,
        } => {
            super::network_ledger::statement(&state, id, &staff_id, &month, html, out.as_deref())
                .await?;
        }
        NetworkCommand::Add {
            name,
            retention_days,
        } => {
            let query = serde_json::json!({ "network": name, "retention_days": retention_days });
            let n = super::ledgered(
                &state,
                super::operator(),
                Action::CatalogChange,
                query,
                async { Ok(state.store.create_network(&name, retention_days).await?) },
            )
            .await?;
            println!(
                "network {} {:?} (retention {} days)",
                n.id, n.name, n.retention_days
            );
        }
        NetworkCommand::List => {
            let agreements = state.store.network_agreements().await?;
            for n in state.store.networks().await? {
                let a = agreements.iter().find(|a| a.network_id == n.id);
                let list = |v: Option<&Vec<String>>| match v {
                    Some(v) if !v.is_empty() => v.join(","),
                    _ => "none".into(),
                };
                println!(
                    "{}\t{}\tretention {} days\tsearch: {}\ttracking: {}\tpolice contact: {}",
                    n.id,
                    n.name,
                    n.retention_days,
                    list(a.map(|a| &a.search)),
                    list(a.map(|a| &a.tracking)),
                    n.police_contact.as_deref().unwrap_or("none")
                );
            }
        }
        NetworkCommand::PoliceContact { id, contact } => {
            let app = &state;
            let network =
                super::as_administrator(app, Action::CatalogChange, |audit, by| async move {
                    anpr_app::catalog::set_police_contact(app, &audit, &by, id, Some(contact)).await
                })
                .await?;
            match network.police_contact {
                Some(c) => println!("network {id}: its operators call {c}"),
                None => println!("network {id}: no police contact (its alerts say to ask you)"),
            }
        }
        NetworkCommand::Controls {
            id,
            staff_id,
            suspend,
            resume,
            withhold_purpose,
            share_all_purposes,
            max_lookback_days,
            no_max_lookback,
        } => {
            let change = anpr_app::network::ControlsChange {
                suspended: (suspend || resume).then_some(suspend),
                withheld_purposes: if share_all_purposes {
                    Some(vec![])
                } else {
                    (!withhold_purpose.is_empty()).then_some(withhold_purpose)
                },
                max_lookback_days: if no_max_lookback {
                    Some(None)
                } else {
                    max_lookback_days.map(Some)
                },
            };
            let changing = change.suspended.is_some()
                || change.withheld_purposes.is_some()
                || change.max_lookback_days.is_some();
            let user = super::sign_in(&state, &staff_id).await?;
            let app = &state;
            let action = if changing {
                Action::NetworkControlsChange
            } else {
                Action::NetworkControlsView
            };
            let audit = anpr_app::audit::AuditHandle::for_staff(
                anpr_app::audit::Channel::Cli,
                &user,
                action,
            );
            let c = if changing {
                super::in_use(
                    app,
                    &audit,
                    anpr_app::network::set_controls(app, &audit, &user, id, change),
                )
                .await?
            } else {
                super::in_use(
                    app,
                    &audit,
                    anpr_app::network::controls(app, &audit, &user, id),
                )
                .await?
            };
            println!(
                "network {id}: sharing {}; purposes withheld: {}; maximum look-back: {}",
                if c.suspended { "SUSPENDED" } else { "on" },
                if c.withheld_purposes.is_empty() {
                    "none".into()
                } else {
                    c.withheld_purposes.join(",")
                },
                match c.max_lookback_days {
                    Some(d) => format!("{d} days"),
                    None => "none of its own".into(),
                }
            );
        }
        NetworkCommand::WatchNotices {
            id,
            staff_id,
            limit,
        } => {
            let app = &state;
            let notices = super::as_staff(
                app,
                &staff_id,
                Action::NetworkWatchNotices,
                |audit, user| async move {
                    anpr_app::network::watch_notices(app, &audit, &user, id, None, Some(limit))
                        .await
                },
            )
            .await?;
            if notices.is_empty() {
                println!("network {id}: no tracking watch has covered its cameras");
            }
            for n in notices {
                println!(
                    "{}	{}	purpose {}	{} district",
                    n.id,
                    n.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    n.purpose_code,
                    n.district
                );
            }
        }
        NetworkCommand::Uses {
            id,
            staff_id,
            month,
            json,
        } => {
            let app = &state;
            let view = super::as_staff(
                app,
                &staff_id,
                Action::NetworkUses,
                |audit, user| async move {
                    anpr_app::network_uses::uses(app, &audit, &user, id, month.as_deref()).await
                },
            )
            .await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&view)?);
                return Ok(());
            }
            println!(
                "network {id}: {} uses ({} under files still open, not described), {} reads \
                 disclosed; ledger entries 0..{}",
                view.total_uses, view.open_file_uses, view.total_reads_disclosed, view.ledger_size
            );
            for u in &view.uses {
                println!(
                    "{}\t{}\t{}\tpurpose {}\t{} district\t{}\t{} reads\t{}",
                    u.entry,
                    u.at.format("%Y-%m-%d %H:%M:%S UTC"),
                    u.kind,
                    u.purpose_code.as_deref().unwrap_or("-"),
                    u.district.as_deref().unwrap_or("-"),
                    u.outcome,
                    u.reads_disclosed,
                    u.officer
                );
            }
            for (name, tallies) in [
                ("month", &view.by_month),
                ("purpose", &view.by_purpose),
                ("district", &view.by_district),
            ] {
                for t in tallies {
                    println!(
                        "by {name}\t{}\t{} uses\t{} reads",
                        t.key, t.uses, t.reads_disclosed
                    );
                }
            }
        }
        NetworkCommand::Share {
            id,
            search,
            tracking,
        } => {
            let clean = |v: Vec<String>| -> Vec<String> {
                v.into_iter().filter(|s| !s.trim().is_empty()).collect()
            };
            let a = state
                .store
                .set_network_agreement(anpr_policy::registers::NetworkAgreement {
                    network_id: id,
                    search: clean(search),
                    tracking: clean(tracking),
                    hot_list_alerts: false,
                })
                .await?;
            println!(
                "network {id}: search by {}; tracking by {}",
                if a.search.is_empty() {
                    "none".into()
                } else {
                    a.search.join(",")
                },
                if a.tracking.is_empty() {
                    "none".into()
                } else {
                    a.tracking.join(",")
                }
            );
        }
    }
    Ok(())
}

pub async fn site(data: &Path, cmd: SiteCommand) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    match cmd {
        SiteCommand::Add {
            network,
            name,
            kind,
            address,
            lat,
            lon,
            district,
        } => {
            let kind = SiteKind::parse(&kind).ok_or_else(|| {
                anyhow::anyhow!(
                    "unknown site kind {kind:?}: use fuel_station, supermarket, mall, retail, car_park or other"
                )
            })?;
            let new_site = NewSite {
                network_id: network,
                name,
                kind,
                address,
                location: GeoPoint::new(lat, lon)?,
                district,
            };
            let query = serde_json::json!({ "site": new_site.name, "network_id": network });
            let site = super::ledgered(
                &state,
                super::operator(),
                Action::CatalogChange,
                query,
                anpr_app::catalog::create_site(&state, new_site),
            )
            .await?;
            println!("site {} {:?}", site.id, site.name);
        }
        SiteCommand::List => {
            for s in state.store.sites().await? {
                println!(
                    "{}\tnetwork {}\t{}\t{}\t{:.5},{:.5}\t{}",
                    s.id,
                    s.network_id,
                    s.kind.as_str(),
                    s.name,
                    s.location.lat,
                    s.location.lon,
                    s.district
                );
            }
        }
    }
    Ok(())
}

pub async fn camera(data: &Path, cmd: CameraCommand) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    match cmd {
        CameraCommand::Add {
            site,
            name,
            heading,
        } => {
            let query =
                serde_json::json!({ "camera": name, "site_id": site, "heading_deg": heading });
            let (camera, key) = super::ledgered(
                &state,
                super::operator(),
                Action::CatalogChange,
                query,
                async {
                    let heading_deg = anpr_app::catalog::camera_heading(heading)?;
                    let camera = NewCamera {
                        site_id: site,
                        name,
                        heading_deg,
                    };
                    anpr_app::catalog::provision_camera(&state, camera).await
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "camera {} {:?} at site {}",
                camera.id, camera.name, camera.site_id
            );
            println!("API key (shown once, store it in the camera now): {key}");
        }
        CameraCommand::RotateKey { id, overlap } => {
            let overlap_seconds = overlap.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
            let app = &state;
            let rotated =
                super::as_administrator(app, Action::CameraKeyChange, |audit, by| async move {
                    anpr_app::catalog::rotate_camera_key(app, &audit, &by, id, overlap_seconds)
                        .await
                })
                .await?;
            println!(
                "API key (shown once, store it in the camera now): {}",
                rotated.api_key
            );
            match rotated.previous_key_expires_at {
                Some(end) => println!(
                    "camera {id}'s previous key works until {}",
                    end.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ),
                None => println!("camera {id} had no working key"),
            }
        }
        CameraCommand::Revoke { id } => {
            let app = &state;
            let revoked =
                super::as_administrator(app, Action::CameraKeyChange, |audit, by| async move {
                    anpr_app::catalog::revoke_camera_keys(app, &audit, &by, id).await
                })
                .await?;
            println!(
                "camera {id}: {} key(s) revoked; it sends nothing more until `anpr camera \
                 rotate-key {id}` gives it a new one",
                revoked.revoked
            );
        }
        CameraCommand::List => {
            for c in state.store.cameras().await? {
                println!(
                    "{}\tsite {}\t{}\tactive={}",
                    c.id, c.site_id, c.name, c.active
                );
            }
        }
    }
    Ok(())
}
