use std::path::PathBuf;

/// What is wrong with a database URL's connection settings; each says how to put it right.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "database URL: sslmode={given} is not a TLS mode: use one of {}",
        crate::SslMode::NAMES
    )]
    UnknownMode { given: String },

    #[error(
        "database URL: sslmode={mode} checks the server's certificate, so it needs \
         sslrootcert=FILE, a PEM file of the CA certificate(s) that signed it (or use \
         sslmode=require to encrypt without the check)"
    )]
    RootCertMissing { mode: &'static str },

    #[error(
        "database URL: sslrootcert is given without sslmode: add sslmode=verify-full (or \
         verify-ca, or require) to connect with TLS"
    )]
    RootCertWithoutMode,

    #[error(
        "database URL: sslrootcert={}: {reason}; give a readable PEM file of the CA \
         certificate(s) that signed the database server's certificate",
        path.display()
    )]
    RootCert { path: PathBuf, reason: String },

    #[error(
        "database URL: {key} is not supported; the TLS settings understood are sslmode and \
         sslrootcert (client certificates are not)"
    )]
    Unsupported { key: String },

    #[error("database URL: it must start with postgres:// or postgresql://")]
    NotAUrl,

    #[error("database URL: {0}")]
    Url(String),

    /// The TLS library refused its configuration (a build without a usable cipher suite).
    #[error("TLS configuration: {0}")]
    Tls(String),
}
