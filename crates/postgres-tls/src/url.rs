//! Taking the TLS settings out of a database URL: tokio-postgres knows `sslmode` only up to
//! `require` and refuses `sslrootcert`, so they are read here and the rest of the URL is handed
//! on unchanged.

use crate::Error;
use percent_encoding::percent_decode_str;

/// The TLS settings of a URL, percent-decoded.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsParams {
    pub mode: Option<String>,
    pub root_cert: Option<String>,
}

const PREFIXES: [&str; 2] = ["postgres://", "postgresql://"];

/// Keys read here; other `ssl*` keys are refused, except those tokio-postgres implements.
const OURS: [&str; 2] = ["sslmode", "sslrootcert"];
const TOKIO_POSTGRES_SSL_KEYS: [&str; 1] = ["sslnegotiation"];

/// `url` without its TLS settings, and the settings (the last of a repeated key wins).
pub(crate) fn split_tls_params(url: &str) -> Result<(String, TlsParams), Error> {
    if !PREFIXES.iter().any(|p| url.starts_with(p)) {
        return Err(Error::NotAUrl);
    }
    let Some(query_at) = query_start(url) else {
        return Ok((url.to_string(), TlsParams::default()));
    };
    let (head, query) = (&url[..query_at], &url[query_at + 1..]);
    let mut params = TlsParams::default();
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        match key.as_str() {
            "sslmode" => params.mode = Some(decode(raw_value)?),
            "sslrootcert" => params.root_cert = Some(decode(raw_value)?),
            k if k.starts_with("ssl")
                && !OURS.contains(&k)
                && !TOKIO_POSTGRES_SSL_KEYS.contains(&k) =>
            {
                return Err(Error::Unsupported { key });
            }
            // Anything else, malformed pairs included, is tokio-postgres's to read or refuse.
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{}", kept.join("&"))
    };
    Ok((rest, params))
}

/// Where the query string starts, found as tokio-postgres (and libpq) find it: user info runs to
/// the first `@`, so a `?` in a password is not the query.
fn query_start(url: &str) -> Option<usize> {
    let after_credentials = url.find('@').map_or(0, |at| at + 1);
    url[after_credentials..]
        .find('?')
        .map(|q| after_credentials + q)
}

fn decode(s: &str) -> Result<String, Error> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Error::Unsupported {
            key: format!("{s:?} (not UTF-8 once percent-decoded)"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (String, TlsParams) {
        split_tls_params(url).unwrap()
    }

    #[test]
    fn a_url_without_tls_settings_is_unchanged() {
        let url = "postgres://anpr:secret@db.example:5433/anpr?application_name=x";
        assert_eq!(split(url), (url.to_string(), TlsParams::default()));
        let bare = "postgresql://localhost";
        assert_eq!(split(bare), (bare.to_string(), TlsParams::default()));
    }

    #[test]
    fn tls_settings_are_taken_out_and_decoded() {
        let (rest, params) = split(
            "postgres://u@h/db?application_name=a&sslmode=verify-full\
             &sslrootcert=%2Fetc%2Fanpr%2Fca%20bundle.pem&connect_timeout=5",
        );
        assert_eq!(
            rest,
            "postgres://u@h/db?application_name=a&connect_timeout=5"
        );
        assert_eq!(params.mode.as_deref(), Some("verify-full"));
        assert_eq!(params.root_cert.as_deref(), Some("/etc/anpr/ca bundle.pem"));
    }

    #[test]
    fn only_tls_settings_leave_no_query() {
        let (rest, params) = split("postgres://h/db?sslmode=require");
        assert_eq!(rest, "postgres://h/db");
        assert_eq!(params.mode.as_deref(), Some("require"));
    }

    #[test]
    fn a_question_mark_in_the_password_is_not_the_query() {
        let (rest, params) = split("postgres://u:pa?ss@h/db?sslmode=require");
        assert_eq!(rest, "postgres://u:pa?ss@h/db");
        assert_eq!(params.mode.as_deref(), Some("require"));
    }

    #[test]
    fn the_last_of_a_repeated_key_wins() {
        let (_, params) = split("postgres://h/db?sslmode=disable&sslmode=require");
        assert_eq!(params.mode.as_deref(), Some("require"));
    }

    #[test]
    fn client_certificates_are_refused_by_name() {
        let err = split_tls_params("postgres://h/db?sslcert=/c.pem").unwrap_err();
        assert!(
            err.to_string().contains("sslcert is not supported"),
            "{err}"
        );
        // tokio-postgres implements this one itself.
        let (rest, _) = split("postgres://h/db?sslnegotiation=direct");
        assert!(rest.ends_with("?sslnegotiation=direct"));
    }

    #[test]
    fn a_key_value_string_is_not_a_url() {
        let err = split_tls_params("host=h sslmode=require").unwrap_err();
        assert!(err.to_string().contains("postgres://"), "{err}");
    }
}
