//! Images in an S3-compatible object store, shared by two servers on one PostgreSQL database:
//! a photo ingested on one is served by the other. Runs against a real S3 implementation on
//! loopback (`moto_server`, installed by `.ci/run`) when it and `ANPR_TEST_POSTGRES_URL` are
//! available, and says why it skipped otherwise.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// `moto_server` on a free loopback port, stopped on drop.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3() -> Option<S3Server> {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = match Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            skip(&format!(
                "moto_server cannot start ({e}): install it with pip install 'moto[server]'"
            ));
            return None;
        }
    };
    let server = S3Server {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(server);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("moto_server did not start listening on port {port}");
}

/// Creates a bucket (the object store client only reads and writes objects).
fn create_bucket(endpoint: &str, bucket: &str) {
    let host = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(host).unwrap();
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_images_through_the_object_store() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let Some(s3) = start_s3() else {
        return;
    };
    create_bucket(&s3.endpoint, "anpr-images");
    // The standard variables, as a deployment sets them (this test binary runs only this
    // test, so nothing else reads the environment meanwhile).
    for (k, v) in [
        ("AWS_ACCESS_KEY_ID", "anpr"),
        ("AWS_SECRET_ACCESS_KEY", "anpr-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT", s3.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
    ] {
        std::env::set_var(k, v);
    }
    let config = || anpr_server::ServerConfig {
        app: anpr_server::AppConfig {
            images_url: Some("s3://anpr-images/deployment-1".into()),
            ..Default::default()
        },
        ..Default::default()
    };
    let a = start_postgres(&db, config()).await;
    let b = start_another(&a, &db, config()).await;

    let overview = jpeg(320, 200);
    let resp = a
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "OBJ123", "captured_at": now_rfc3339(45), "confidence": 0.9,
                    "overview_image": base64::engine::general_purpose::STANDARD.encode(&overview)}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert!(
        !a.dir.path().join("images").exists()
            || std::fs::read_dir(a.dir.path().join("images"))
                .unwrap()
                .next()
                .is_none(),
        "nothing was written to the data directory"
    );

    let token = b.login("searcher").await;
    // A read is opened by id once a search showed it.
    let page: Value = b
        .search(&token, json!({"plate": "OBJ123"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["hits"][0]["id"], id, "{page}");
    let img = b
        .http
        .get(b.url(&format!(
            "/api/v1/reads/{id}/image/overview?{}",
            purpose_query()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.bytes().await.unwrap().as_ref(), overview.as_slice());
}
