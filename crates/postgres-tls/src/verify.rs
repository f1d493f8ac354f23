//! How each `sslmode` checks the server's certificate, and what a failed check means to the
//! operator.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::{Error, SslMode};

/// The full check: the chain to a CA in `roots`, validity dates, and the host name.
pub(crate) fn webpki(
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, Error> {
    WebPkiServerVerifier::builder_with_provider(roots, provider)
        .build()
        .map_err(|e| Error::Tls(e.to_string()))
}

/// `require` (and `prefer`) without a CA file: the connection is encrypted, and the server
/// must hold the key of the certificate it shows, but nothing says whose certificate that is
/// (libpq's behaviour; it keeps a passive listener out, not an active one).
#[derive(Debug)]
pub(crate) struct EncryptOnly {
    provider: Arc<CryptoProvider>,
}

impl EncryptOnly {
    pub(crate) fn new(provider: Arc<CryptoProvider>) -> Self {
        EncryptOnly { provider }
    }
}

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: the full check less the host name. webpki checks the chain before the name,
/// so a certificate that only fails on its name has a valid chain to one of the CAs.
#[derive(Debug)]
pub(crate) struct ChainOnly {
    full: Arc<WebPkiServerVerifier>,
}

impl ChainOnly {
    pub(crate) fn new(full: Arc<WebPkiServerVerifier>) -> Self {
        ChainOnly { full }
    }
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.full.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.full.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.full.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.full.supported_verify_schemes()
    }
}

/// What to do about `error`, when it is TLS that failed.
pub(crate) fn hint(
    error: &tokio_postgres::Error,
    mode: SslMode,
    root_cert: Option<&Path>,
) -> Option<String> {
    let ca = || {
        root_cert.map_or_else(
            || "sslrootcert".to_string(),
            |p| format!("sslrootcert ({})", p.display()),
        )
    };
    if let Some(tls) = rustls_error(error) {
        let rustls::Error::InvalidCertificate(cert) = tls else {
            return Some(format!(
                "the TLS handshake with the database server failed (sslmode={})",
                mode.name()
            ));
        };
        return Some(match cert {
            CertificateError::UnknownIssuer | CertificateError::BadSignature => format!(
                "the database server's certificate is not signed by a CA in {}: point \
                 sslrootcert at the CA that signed it",
                ca()
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "the database server's certificate does not name the host in the database \
                 URL: connect by a name (or address) the certificate lists, or use \
                 sslmode=verify-ca to check the CA only"
                    .to_string()
            }
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. } => {
                "the database server's certificate is outside its validity dates: renew it on \
                 the server (or check this machine's clock)"
                    .to_string()
            }
            _ => format!(
                "the database server's certificate was refused (sslmode={}, {})",
                mode.name(),
                ca()
            ),
        });
    }
    if chain(error).any(|e| e.to_string() == "server does not support TLS") {
        return Some(format!(
            "the database server does not offer TLS, which sslmode={} requires: turn ssl on \
             in the server's configuration, or use sslmode=prefer or disable",
            mode.name()
        ));
    }
    None
}

/// `error` and its causes, which tokio-postgres's own message leaves out.
pub(crate) fn text(error: &tokio_postgres::Error) -> String {
    chain(error)
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(": ")
}

fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// The rustls error inside `error`. An `io::Error` shows its inner error's source, not the
/// inner error itself, so it is looked into by hand.
fn rustls_error(error: &tokio_postgres::Error) -> Option<&rustls::Error> {
    chain(error).find_map(|e| {
        e.downcast_ref::<rustls::Error>().or_else(|| {
            e.downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};

    /// A CA of its own name (CAs of one name would fail as a bad signature, not an unknown issuer).
    fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn server_cert(
        ca: &CertifiedIssuer<'static, KeyPair>,
        names: &[&str],
    ) -> CertificateDer<'static> {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let params = CertificateParams::new(names).unwrap();
        params
            .signed_by(&KeyPair::generate().unwrap(), ca)
            .unwrap()
            .der()
            .clone()
    }

    fn full(ca: &CertifiedIssuer<'static, KeyPair>) -> Arc<WebPkiServerVerifier> {
        let mut roots = RootCertStore::empty();
        roots.add(ca.der().clone()).unwrap();
        webpki(
            Arc::new(roots),
            Arc::new(rustls::crypto::ring::default_provider()),
        )
        .unwrap()
    }

    fn check(
        v: &dyn ServerCertVerifier,
        cert: &CertificateDer<'_>,
        host: &str,
    ) -> Result<(), rustls::Error> {
        let name = ServerName::try_from(host.to_string()).unwrap();
        v.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
            .map(|_| ())
    }

    #[test]
    fn verify_full_checks_the_chain_and_the_host_name() {
        let (ca, other_ca) = (ca("test CA"), ca("another CA"));
        let cert = server_cert(&ca, &["127.0.0.1", "db.example"]);
        let full = full(&ca);
        check(&*full, &cert, "127.0.0.1").unwrap();
        check(&*full, &cert, "db.example").unwrap();
        assert!(matches!(
            check(&*full, &cert, "other.example"),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
            ))
        ));
        assert_eq!(
            check(&*self::full(&other_ca), &cert, "127.0.0.1"),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        );
    }

    #[test]
    fn verify_ca_checks_the_chain_but_not_the_name() {
        let (ca, other_ca) = (ca("test CA"), ca("another CA"));
        let cert = server_cert(&ca, &["db.example"]);
        check(&ChainOnly::new(full(&ca)), &cert, "127.0.0.1").unwrap();
        assert_eq!(
            check(&ChainOnly::new(full(&other_ca)), &cert, "127.0.0.1"),
            Err(rustls::Error::InvalidCertificate(
                CertificateError::UnknownIssuer
            ))
        );
    }

    #[test]
    fn encrypt_only_takes_any_certificate() {
        let cert = server_cert(&ca("test CA"), &["db.example"]);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        check(&EncryptOnly::new(provider), &cert, "127.0.0.1").unwrap();
    }
}
