//! TLS for the platform's PostgreSQL connections, chosen by the database URL the way libpq
//! users expect: `sslmode` and `sslrootcert` in the URL's query string.
//!
//! | `sslmode`        | encrypted              | server certificate checked                   |
//! |------------------|------------------------|----------------------------------------------|
//! | (none), disable  | no                     | —                                            |
//! | prefer           | if the server offers it| against `sslrootcert` if given, else not     |
//! | require          | yes                    | against `sslrootcert` if given, else not     |
//! | verify-ca        | yes                    | chain against `sslrootcert`                  |
//! | verify-full      | yes                    | chain against `sslrootcert`, and the host name|
//!
//! Plaintext is the default when the URL says nothing (libpq's default is `prefer`; here a
//! deployment opts in). `sslrootcert` is a PEM file of one or more CA certificates. TLS is
//! rustls with the ring provider, adapted to tokio-postgres by `tokio-postgres-rustls`.
//!
//! The store's pool, its change feed and the ledger all connect through a [`PgTarget`], so
//! they read a URL alike.

mod error;
mod url;
mod verify;

pub use error::Error;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS connector every connection uses (with `sslmode=disable` it is never called).
pub type Tls = MakeRustlsConnect;
/// A connection's stream, encrypted or not.
pub type TlsStream = <Tls as MakeTlsConnect<tokio_postgres::Socket>>::Stream;
/// A connection made by [`PgTarget::connect`], to be polled (spawned) by the caller.
pub type Connection = tokio_postgres::Connection<tokio_postgres::Socket, TlsStream>;

/// The `sslmode`s understood, as libpq names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub const NAMES: &'static str = "disable, prefer, require, verify-ca, verify-full";

    fn parse(value: &str) -> Result<SslMode, Error> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(Error::UnknownMode {
                    given: other.to_string(),
                })
            }
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A PostgreSQL database to connect to, and how to secure the connection.
#[derive(Clone)]
pub struct PgTarget {
    config: tokio_postgres::Config,
    tls: Tls,
    mode: SslMode,
    root_cert: Option<PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgTarget")
            .field("config", &self.config)
            .field("mode", &self.mode)
            .field("root_cert", &self.root_cert)
            .finish()
    }
}

impl std::str::FromStr for PgTarget {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self, Error> {
        PgTarget::parse(url)
    }
}

impl PgTarget {
    /// Reads a `postgres://` URL: the TLS settings are taken out of its query string (and a CA
    /// file read now, so that a wrong path fails at start), the rest is tokio-postgres's.
    pub fn parse(url: &str) -> Result<PgTarget, Error> {
        let (rest, params) = url::split_tls_params(url)?;
        let mut config: tokio_postgres::Config =
            rest.parse().map_err(|e| Error::Url(verify::text(&e)))?;
        let mode = match (params.mode.as_deref(), &params.root_cert) {
            (Some(mode), _) => SslMode::parse(mode)?,
            (None, None) => SslMode::Disable,
            (None, Some(_)) => return Err(Error::RootCertWithoutMode),
        };
        let root_cert = params.root_cert.map(PathBuf::from);
        config.ssl_mode(match mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            _ => tokio_postgres::config::SslMode::Require,
        });
        let tls = client_config(mode, root_cert.as_deref())?;
        Ok(PgTarget {
            config,
            tls: MakeRustlsConnect::new(tls),
            mode,
            root_cert,
        })
    }

    /// A plaintext target (`sslmode=disable`) at `config`.
    pub fn plaintext(mut config: tokio_postgres::Config) -> PgTarget {
        config.ssl_mode(tokio_postgres::config::SslMode::Disable);
        let tls = client_config(SslMode::Disable, None).expect("no file to read");
        PgTarget {
            config,
            tls: MakeRustlsConnect::new(tls),
            mode: SslMode::Disable,
            root_cert: None,
        }
    }

    pub fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The configuration to change (another database name, say); the TLS settings stay.
    pub fn config_mut(&mut self) -> &mut tokio_postgres::Config {
        &mut self.config
    }

    pub fn mode(&self) -> SslMode {
        self.mode
    }

    /// The connector, for a pool that makes the connections itself.
    pub fn tls(&self) -> Tls {
        self.tls.clone()
    }

    pub async fn connect(
        &self,
    ) -> Result<(tokio_postgres::Client, Connection), tokio_postgres::Error> {
        self.config.connect(self.tls.clone()).await
    }

    /// `error`, with what to do about it when TLS is what failed.
    pub fn explain(&self, error: &tokio_postgres::Error) -> String {
        match verify::hint(error, self.mode, self.root_cert.as_deref()) {
            Some(hint) => format!("{hint} ({})", verify::text(error)),
            None => verify::text(error),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The rustls configuration of `mode`: which verifier checks the server's certificate.
fn client_config(mode: SslMode, root_cert: Option<&Path>) -> Result<ClientConfig, Error> {
    let provider = provider();
    let roots = match (mode, root_cert) {
        (SslMode::Disable, _) | (_, None) => None,
        (_, Some(path)) => Some(Arc::new(load_roots(path)?)),
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            return Err(Error::RootCertMissing { mode: mode.name() })
        }
        (SslMode::Disable, _) | (_, None) => Arc::new(verify::EncryptOnly::new(provider.clone())),
        (SslMode::VerifyFull, Some(roots)) => verify::webpki(roots, provider.clone())?,
        // libpq checks the chain, not the name, when require or prefer is given a CA file.
        (_, Some(roots)) => Arc::new(verify::ChainOnly::new(verify::webpki(
            roots,
            provider.clone(),
        )?)),
    };
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// The CA certificates in the PEM file at `path`.
fn load_roots(path: &Path) -> Result<RootCertStore, Error> {
    let bad = |reason: String| Error::RootCert {
        path: path.to_path_buf(),
        reason,
    };
    let pem = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("it is not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(bad(
            "it holds no certificate (-----BEGIN CERTIFICATE-----)".into()
        ));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| bad(format!("a certificate in it is not valid: {e}")))?;
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(url: &str) -> String {
        PgTarget::parse(url).unwrap_err().to_string()
    }

    #[test]
    fn plaintext_is_the_default() {
        let target = PgTarget::parse("postgres://postgres@127.0.0.1:5432/anpr").unwrap();
        assert_eq!(target.mode(), SslMode::Disable);
        assert_eq!(
            target.config().get_ssl_mode(),
            tokio_postgres::config::SslMode::Disable
        );
        assert_eq!(target.config().get_dbname(), Some("anpr"));
    }

    #[test]
    fn each_mode_sets_what_tokio_postgres_negotiates() {
        use tokio_postgres::config::SslMode as Negotiate;
        for (mode, expected) in [
            ("disable", Negotiate::Disable),
            ("prefer", Negotiate::Prefer),
            ("require", Negotiate::Require),
        ] {
            let target = PgTarget::parse(&format!("postgres://h/db?sslmode={mode}")).unwrap();
            assert_eq!(target.mode().name(), mode);
            assert_eq!(target.config().get_ssl_mode(), expected);
        }
    }

    #[test]
    fn a_wrong_mode_names_the_right_ones() {
        let e = err("postgres://h/db?sslmode=verify_full");
        assert!(e.contains("sslmode=verify_full is not a TLS mode"), "{e}");
        assert!(e.contains(SslMode::NAMES), "{e}");
        let e = err("postgres://h/db?sslmode=allow");
        assert!(e.contains("sslmode=allow"), "{e}");
    }

    #[test]
    fn verifying_modes_need_a_ca_file() {
        for mode in ["verify-ca", "verify-full"] {
            let e = err(&format!("postgres://h/db?sslmode={mode}"));
            assert!(e.contains("needs sslrootcert=FILE"), "{e}");
        }
        let e = err("postgres://h/db?sslrootcert=/ca.pem");
        assert!(e.contains("add sslmode=verify-full"), "{e}");
    }

    #[test]
    fn an_unreadable_or_empty_ca_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = err(&format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}",
            missing.display()
        ));
        assert!(
            e.contains(&format!("sslrootcert={}", missing.display())),
            "{e}"
        );
        assert!(e.contains("cannot read it"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = err(&format!(
            "postgres://h/db?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        ));
        assert!(e.contains("holds no certificate"), "{e}");
    }

    #[test]
    fn a_ca_file_is_read_at_parse_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        let path = dir.path().join("ca bundle.pem");
        std::fs::write(&path, ca.pem()).unwrap();
        let url = format!(
            "postgres://h/db?sslmode=verify-full&sslrootcert={}&application_name=anpr",
            path.display().to_string().replace(' ', "%20")
        );
        let target = PgTarget::parse(&url).unwrap();
        assert_eq!(target.mode(), SslMode::VerifyFull);
        assert_eq!(
            target.config().get_ssl_mode(),
            tokio_postgres::config::SslMode::Require
        );
        assert_eq!(target.config().get_application_name(), Some("anpr"));
    }

    #[test]
    fn tokio_postgres_errors_still_reach_the_operator() {
        let e = err("postgres://h/db?no_such_option=1");
        assert!(e.starts_with("database URL:"), "{e}");
        assert!(e.contains("no_such_option"), "{e}");
    }
}
