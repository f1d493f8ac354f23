//! TLS to PostgreSQL as the database URL says. The test turns TLS on at the local server with a
//! certificate from a CA it makes, opens the store, its change feed and the ledger with
//! `sslmode=verify-full` and with `require`, and checks in `pg_stat_ssl` that their connections
//! are encrypted; a URL without `sslmode` stays plaintext, and a server certificate from another
//! CA, or for another host under `verify-full`, is refused with a message that says so.
//!
//! It changes the server's configuration (`ALTER SYSTEM`, then a reload), so it needs a
//! superuser and the server's data directory on this machine. The settings are put back when
//! it ends, panics included; the certificate files stay under the data directory, so that a
//! server restarted while the settings point at them (the test killed) still starts. Other
//! tests' plaintext connections are unaffected: pg_hba's `host` lines accept both.

mod common;

use anpr_store::{PgStore, Store, StoreChange};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::Receiver;

/// Where under the server's data directory its test certificate and key are kept.
const SERVER_TLS_DIR: &str = "anpr-test-tls";
/// Serialises this test between processes (two checkouts testing on one server).
const TEST_LOCK: i64 = 0x616e_7072_7115;
/// The channel of the store's change feed (`anpr-store`'s `changes::CHANNEL`).
const CHANGES_CHANNEL: &str = "anpr_changes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_encrypted_and_checked_as_the_url_says() {
    let Some(db) = common::PgDatabase::create().await else {
        return;
    };
    let admin_url = std::env::var("ANPR_TEST_POSTGRES_URL").unwrap();
    let config: tokio_postgres::Config = db.url.parse().unwrap();
    let Some(tokio_postgres::config::Host::Tcp(host)) = config.get_hosts().first() else {
        return common::skip("ANPR_TEST_POSTGRES_URL names no TCP host (TLS needs one)");
    };
    let ca = TestCa::new("anpr test CA");
    let (cert, key) = ca.server_cert(&[host.as_str(), "localhost", "127.0.0.1"]);
    let _server = match ServerTls::enable(&admin_url, &cert, &key).await {
        Ok(server) => server,
        Err(why) => return common::skip(&why),
    };
    let files = tempfile::tempdir().unwrap();
    let ca_file = files.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();
    let other_ca_file = files.path().join("other-ca.pem");
    std::fs::write(&other_ca_file, TestCa::new("another CA").pem()).unwrap();
    let checker = plain(&db.url).await;

    // A URL that says nothing stays plaintext, though the server offers TLS.
    let store = PgStore::connect(&with_query(&db.url, "application_name=anpr_plain"))
        .await
        .unwrap();
    let plain_conns = encryption(&checker, "anpr_plain").await;
    assert!(
        !plain_conns.is_empty() && plain_conns.iter().all(|(ssl, _)| !ssl),
        "{plain_conns:?}"
    );
    drop(store);

    let verify_full = format!("sslmode=verify-full&sslrootcert={}", ca_file.display());
    for (name, tls) in [
        ("verify_full", verify_full.as_str()),
        ("require", "sslmode=require"),
    ] {
        let (store_app, ledger_app) = (format!("anpr_{name}"), format!("anpr_{name}_ledger"));
        let url = with_query(&db.url, &format!("{tls}&application_name={store_app}"));
        let store = PgStore::connect(&url).await.unwrap_or_else(|e| {
            panic!("{tls}: {e} (did the server load the test's certificate? see its log)")
        });
        let mut feed = store.changes().await.unwrap().expect("a change feed");
        assert_eq!(next_change(&mut feed).await, StoreChange::Resync);
        checker
            .execute("SELECT pg_notify($1, 'alerts')", &[&CHANGES_CHANNEL])
            .await
            .unwrap();
        assert_eq!(next_change(&mut feed).await, StoreChange::Alerts, "{tls}");

        let ledger_url = with_query(&db.url, &format!("{tls}&application_name={ledger_app}"));
        let ledger = open_ledger(&ledger_url, files.path().join(name))
            .await
            .unwrap_or_else(|e| panic!("{tls}: {e}"));

        let store_conns = encryption(&checker, &store_app).await;
        assert!(
            store_conns.iter().all(|(ssl, _)| *ssl)
                && store_conns
                    .iter()
                    .any(|(_, query)| query == &format!("LISTEN {CHANGES_CHANNEL}")),
            "{tls}: the pool's and the feed's connections: {store_conns:?}"
        );
        let ledger_conns = encryption(&checker, &ledger_app).await;
        assert!(
            !ledger_conns.is_empty() && ledger_conns.iter().all(|(ssl, _)| *ssl),
            "{tls}: the ledger's connections: {ledger_conns:?}"
        );
        drop((ledger, feed, store));
    }

    // prefer takes TLS when the server offers it.
    let url = with_query(&db.url, "sslmode=prefer&application_name=anpr_prefer");
    let store = PgStore::connect(&url).await.unwrap();
    let prefer_conns = encryption(&checker, "anpr_prefer").await;
    assert!(
        !prefer_conns.is_empty() && prefer_conns.iter().all(|(ssl, _)| *ssl),
        "{prefer_conns:?}"
    );
    drop(store);

    // A certificate signed by another CA than sslrootcert's is refused, by each component.
    let url = with_query(
        &db.url,
        &format!(
            "sslmode=verify-full&sslrootcert={}",
            other_ca_file.display()
        ),
    );
    let store_error = PgStore::connect(&url)
        .await
        .err()
        .expect("refused")
        .to_string();
    let ledger_error = open_ledger(&url, files.path().join("refused"))
        .await
        .err()
        .expect("refused");
    for error in [store_error, ledger_error] {
        assert!(
            error.contains("not signed by a CA in sslrootcert")
                && error.contains(&other_ca_file.display().to_string()),
            "{error}"
        );
    }

    // A name the certificate does not list: verify-full refuses, verify-ca checks the CA only.
    let server_addr: String = checker
        .query_one("SELECT host(inet_server_addr())", &[])
        .await
        .unwrap()
        .get(0);
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("postgres");
    let other_name = |mode: &str| {
        format!(
            "postgres://{user}@db.invalid:{port}/{}?hostaddr={server_addr}&sslmode={mode}\
             &sslrootcert={}&application_name=anpr_{}",
            db.name,
            ca_file.display(),
            mode.replace('-', "_")
        )
    };
    let error = PgStore::connect(&other_name("verify-full"))
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("does not name the host"), "{error}");
    let store = PgStore::connect(&other_name("verify-ca")).await.unwrap();
    let ca_only_conns = encryption(&checker, "anpr_verify_ca").await;
    assert!(
        !ca_only_conns.is_empty() && ca_only_conns.iter().all(|(ssl, _)| *ssl),
        "{ca_only_conns:?}"
    );
    drop(store);
}

/// `url` with `query` added to its query string.
fn with_query(url: &str, query: &str) -> String {
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}{query}")
}

/// A plaintext connection.
async fn plain(url: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    client
}

/// Whether each connection of `application` is encrypted, with its last statement.
async fn encryption(checker: &tokio_postgres::Client, application: &str) -> Vec<(bool, String)> {
    checker
        .query(
            "SELECT s.ssl, a.query FROM pg_stat_activity a JOIN pg_stat_ssl s ON s.pid = a.pid
             WHERE a.application_name = $1",
            &[&application],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

async fn next_change(feed: &mut Receiver<StoreChange>) -> StoreChange {
    tokio::time::timeout(Duration::from_secs(10), feed.recv())
        .await
        .expect("a change within 10 s")
        .expect("the feed is open")
}

async fn open_ledger(url: &str, dir: PathBuf) -> Result<anpr_ledger::store::PgStore, String> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || anpr_ledger::store::PgStore::open(&url, &dir))
        .await
        .unwrap()
        .map_err(|e| e.to_string())
}

/// A certificate authority made for the test.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// Each CA has a name of its own: CAs of one name would be told apart by their signatures,
    /// and the refusal would read as a bad signature rather than an unknown CA.
    fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for `names` (host names or addresses) and its key, in PEM.
    fn server_cert(&self, names: &[&str]) -> (String, String) {
        let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        names.sort();
        names.dedup();
        let key = KeyPair::generate().unwrap();
        let cert = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// TLS turned on at the server for the test; dropping it puts the settings back.
struct ServerTls {
    admin_url: String,
    /// Holds `TEST_LOCK` until the settings are back.
    _admin: tokio_postgres::Client,
    /// The statements that put the settings back as they were.
    restore: Vec<String>,
}

const SETTINGS: &str = "('ssl', 'ssl_cert_file', 'ssl_key_file')";

impl ServerTls {
    /// Serves TLS with `cert` and `key`; `Err` says which prerequisite this machine lacks.
    async fn enable(admin_url: &str, cert: &str, key: &str) -> Result<ServerTls, String> {
        let admin = plain(admin_url).await;
        admin
            .execute("SELECT pg_advisory_lock($1)", &[&TEST_LOCK])
            .await
            .unwrap();
        let superuser: bool = admin
            .query_one(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if !superuser {
            return Err(
                "ANPR_TEST_POSTGRES_URL's user is not a superuser (ALTER SYSTEM needs one)".into(),
            );
        }
        let data_dir: String = admin
            .query_one("SHOW data_directory", &[])
            .await
            .unwrap()
            .get(0);
        let owner = std::fs::metadata(&data_dir).map_err(|e| {
            format!("the server's data directory {data_dir} is not reachable here ({e}): the test needs the server on this machine")
        })?;
        let dir = Path::new(&data_dir).join(SERVER_TLS_DIR);
        let restore = restore_statements(&admin, &dir).await;
        let (cert_file, key_file) = write_server_files(&dir, owner.uid(), owner.gid(), cert, key)
            .map_err(|e| {
            format!(
                "cannot write the server's certificate into {} ({e}): run the test as root \
                     or as the server's user",
                dir.display()
            )
        })?;
        let server = ServerTls {
            admin_url: admin_url.to_string(),
            _admin: admin,
            restore,
        };
        // ALTER SYSTEM runs outside a transaction: one statement per query.
        for sql in [
            format!("ALTER SYSTEM SET ssl_cert_file = {}", literal(&cert_file)),
            format!("ALTER SYSTEM SET ssl_key_file = {}", literal(&key_file)),
            "ALTER SYSTEM SET ssl = on".to_string(),
            "SELECT pg_reload_conf()".to_string(),
        ] {
            server._admin.batch_execute(&sql).await.unwrap();
        }
        server.wait_for_reload(&cert_file).await;
        Ok(server)
    }

    /// The reload is asynchronous; a new connection sees the new settings once the server has
    /// read them (and has loaded the certificate, which it does in the same step).
    async fn wait_for_reload(&self, cert_file: &str) {
        for _ in 0..100 {
            let fresh = plain(&self.admin_url).await;
            let now: String = fresh
                .query_one("SHOW ssl_cert_file", &[])
                .await
                .unwrap()
                .get(0);
            if now == cert_file {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not take the new ssl_cert_file within 10 s");
    }
}

impl Drop for ServerTls {
    fn drop(&mut self) {
        let (url, mut statements) = (self.admin_url.clone(), self.restore.clone());
        statements.push("SELECT pg_reload_conf()".into());
        let restored = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(async {
                    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                        .await
                        .map_err(|e| e.to_string())?;
                    tokio::spawn(conn);
                    for sql in &statements {
                        client.batch_execute(sql).await.map_err(|e| e.to_string())?;
                    }
                    Ok::<_, String>(())
                })
        })
        .join();
        // No panic here: this may run while a failed test unwinds.
        if !matches!(restored, Ok(Ok(()))) {
            eprintln!(
                "could not put the server's TLS settings back ({restored:?}); run as superuser: {}",
                self.restore.join("; ")
            );
        }
    }
}

/// What puts `ssl`, `ssl_cert_file` and `ssl_key_file` back: their `ALTER SYSTEM` values, if
/// any, else a reset. Settings that point into `dir` are this test's, left by a run that was
/// killed, and are reset.
async fn restore_statements(admin: &tokio_postgres::Client, dir: &Path) -> Vec<String> {
    let rows = admin
        .query(
            &format!("SELECT name, setting, sourcefile FROM pg_settings WHERE name IN {SETTINGS}"),
            &[],
        )
        .await
        .unwrap();
    let ours = dir.to_string_lossy();
    let leftover = rows
        .iter()
        .any(|r| r.get::<_, String>(1).starts_with(ours.as_ref()));
    rows.iter()
        .map(|r| {
            let (name, setting, file): (String, String, Option<String>) =
                (r.get(0), r.get(1), r.get(2));
            let altered = file.is_some_and(|f| f.ends_with("postgresql.auto.conf"));
            if altered && !leftover {
                format!("ALTER SYSTEM SET {name} = {}", literal(&setting))
            } else {
                format!("ALTER SYSTEM RESET {name}")
            }
        })
        .collect()
}

/// Writes the server's certificate and key into `dir`, owned by the server's user (PostgreSQL
/// refuses a key that others may read); the paths written.
fn write_server_files(
    dir: &Path,
    uid: u32,
    gid: u32,
    cert: &str,
    key: &str,
) -> std::io::Result<(String, String)> {
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))?;
    let mut written = Vec::new();
    for (name, pem) in [("server.crt", cert), ("server.key", key)] {
        // Renamed into place, so that a reload elsewhere never reads half a file.
        let tmp = dir.join(format!("{name}.tmp"));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(pem.as_bytes())?;
        file.sync_all()?;
        std::os::unix::fs::chown(&tmp, Some(uid), Some(gid))?;
        let path = dir.join(name);
        std::fs::rename(&tmp, &path)?;
        written.push(path.to_string_lossy().into_owned());
    }
    let key_file = written.pop().expect("two files");
    let cert_file = written.pop().expect("two files");
    Ok((cert_file, key_file))
}

/// `s` as an SQL string literal (ALTER SYSTEM takes no parameters).
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}
