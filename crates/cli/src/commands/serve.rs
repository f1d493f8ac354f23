use anpr_server::{AppState, ServerConfig};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 10)]
    pub max_body_mib: usize,
    /// Minutes between retention purges.
    #[arg(long, default_value_t = 60)]
    pub purge_every_minutes: u64,
    /// Bearer token that Prometheus may use at /metrics.
    #[arg(long, env = "ANPR_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// Access-policy settings (JSON: purposes and their incident types, training plates,
    /// windows, durations, rate limits); absent fields keep their defaults.
    #[arg(long, env = "ANPR_POLICY")]
    pub policy: Option<PathBuf>,
}

impl ServeArgs {
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let policy = match &self.policy {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
                anpr_policy::PolicyConfig::from_json(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
            }
            None => anpr_policy::PolicyConfig::default(),
        };
        Ok(ServerConfig {
            max_body_bytes: self.max_body_mib * 1024 * 1024,
            purge_interval: std::time::Duration::from_secs(self.purge_every_minutes.max(1) * 60),
            metrics_token: self.metrics_token.clone(),
            policy,
            ..ServerConfig::default()
        })
    }
}

pub async fn run(data: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let state = super::open_with(data, args.config()?).await?;
    serve_state(state, &args.listen, None).await
}

/// Binds and serves until Ctrl-C, printing the URL once listening.
pub async fn serve_state(
    state: AppState,
    listen: &str,
    banner: Option<String>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    println!("anpr listening on http://{addr}/ (OpenAPI at http://{addr}/api/openapi.json)");
    if let Some(b) = banner {
        println!("{b}");
    }
    anpr_server::serve(state, listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
