//! `anpr witness ...`: an overseer's witness of the audit ledger (`anpr-witness`). It needs no
//! data directory of the platform's and never opens one.

use std::path::PathBuf;
use std::sync::Arc;

use anpr_ledger::note::NoteVerifier;
use anpr_witness::Witness;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum WitnessCommand {
    /// Create the witness's key (mode 0600) and name in DIR, and print its verifier key.
    Init {
        #[arg(long, env = "ANPR_WITNESS_DIR")]
        dir: PathBuf,
        /// The name its cosignatures are made under (e.g. `oversight.example/w1`); fixed at
        /// creation.
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the witness's verifier key, for the server's `--witness` and the readers'
    /// `--witness-key`.
    Key {
        #[arg(long, env = "ANPR_WITNESS_DIR")]
        dir: PathBuf,
    },
    /// Serve `POST /add-checkpoint` (C2SP tlog-witness) for the logs given with `--log`.
    Serve {
        #[arg(long, env = "ANPR_WITNESS_DIR")]
        dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: String,
        /// A log's checkpoint verifier key, as `anpr serve` logs it at start (repeat for
        /// several logs).
        #[arg(long = "log", required = true, value_parser = parse_log_key)]
        logs: Vec<NoteVerifier>,
        #[arg(long)]
        name: Option<String>,
    },
}

fn parse_log_key(s: &str) -> Result<NoteVerifier, String> {
    let v = NoteVerifier::parse(s).map_err(|e| e.to_string())?;
    if v.kind != anpr_ledger::note::TYPE_ED25519 {
        return Err(format!(
            "{s}: that is a witness's key, not a log's; give the key `anpr serve` logs at start"
        ));
    }
    Ok(v)
}

fn open(dir: PathBuf, name: Option<String>, logs: Vec<NoteVerifier>) -> anyhow::Result<Witness> {
    Witness::open(&dir, name.as_deref(), logs)
        .map_err(|e| anyhow::anyhow!("cannot open the witness in {}: {e}", dir.display()))
}

pub async fn run(cmd: WitnessCommand) -> anyhow::Result<()> {
    match cmd {
        WitnessCommand::Init { dir, name } => {
            println!("{}", open(dir, name, Vec::new())?.verifier());
            Ok(())
        }
        WitnessCommand::Key { dir } => {
            if !dir.join(anpr_witness::KEY_FILE).exists() {
                anyhow::bail!(
                    "{} holds no witness: create one with `anpr witness init --dir {}`",
                    dir.display(),
                    dir.display()
                );
            }
            println!("{}", open(dir, None, Vec::new())?.verifier());
            Ok(())
        }
        WitnessCommand::Serve {
            dir,
            listen,
            logs,
            name,
        } => {
            let witness = Arc::new(open(dir, name, logs)?);
            let listener = tokio::net::TcpListener::bind(&listen)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
            println!(
                "witness {} listening on http://{}/ (its key: {})",
                witness.verifier().name,
                listener.local_addr()?,
                witness.verifier()
            );
            anpr_witness::service::serve(listener, witness).await?;
            Ok(())
        }
    }
}
