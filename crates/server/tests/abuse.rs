//! Abuse at the edge of the server: clients that send their request head slowly or never,
//! oversized heads, decompression bombs through the API, session tokens (random, expiring,
//! revoked), and password guessing (throttled and recorded in the ledger).

mod common;

use anpr_server::ServerConfig;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn quick_timeouts() -> ServerConfig {
    ServerConfig {
        http: anpr_server::HttpConfig {
            header_read_timeout: Duration::from_secs(1),
            ..Default::default()
        },
        ..ServerConfig::default()
    }
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(conn: &mut TcpStream, within: Duration) -> String {
    let mut out = Vec::new();
    tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match conn.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await
    .expect("the server closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn a_slowloris_client_is_cut_off() {
    let s = start_with(quick_timeouts()).await;
    // A header byte every 200 ms: each write is "activity", yet the head is never done.
    let mut conn = connect(&s).await;
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    let started = Instant::now();
    let mut cut = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if conn.write_all(b"a").await.is_err() {
            cut = true;
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(Ok(0)) =
            tokio::time::timeout(Duration::from_millis(1), conn.read(&mut probe)).await
        {
            cut = true;
            break;
        }
    }
    let took = started.elapsed();
    assert!(cut, "the slow client was never disconnected");
    assert!(
        took < Duration::from_secs(4),
        "disconnected after {took:?}, the timeout is 1 s"
    );

    // One that connects and sends nothing is closed as well.
    let mut idle = connect(&s).await;
    let started = Instant::now();
    read_to_close(&mut idle, Duration::from_secs(5)).await;
    assert!(started.elapsed() >= Duration::from_millis(900));

    // Meanwhile everybody else is served.
    let resp = s.http.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn an_oversized_request_head_gets_431() {
    let s = start().await;
    let token = s.login("searcher").await;
    // One 64 KiB header: twice the limit.
    let resp = s
        .http
        .get(s.url("/api/v1/auth/me"))
        .bearer_auth(&token)
        .header("X-Padding", "a".repeat(64 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 431);
    // Too many header lines.
    let mut conn = connect(&s).await;
    let mut head = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for i in 0..150 {
        head.push_str(&format!("X-H{i}: v\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut conn, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    // A normal head with a few KiB of headers is fine.
    let resp = s
        .http
        .get(s.url("/api/v1/auth/me"))
        .bearer_auth(&token)
        .header("X-Padding", "a".repeat(4 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn graceful_shutdown_still_finishes_requests() {
    let s = start().await;
    let token = s.login("searcher").await;
    // Keep a connection open and idle; shutting down must not wait for it forever.
    let _idle = connect(&s).await;
    let base = s.base.clone();
    let http = s.http.clone();
    let started = Instant::now();
    drop(s);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        http.get(format!("{base}/api/v1/auth/me"))
            .bearer_auth(&token)
            .send()
            .await
            .is_err(),
        "the listener is closed after shutdown"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A real PNG (a few hundred bytes) that would decode to `w`x`h` pixels: a valid IHDR and an
/// IDAT of deflated zero rows, as a decompression bomb is.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit greyscale
    chunk(&mut out, b"IHDR", &ihdr);
    // A zlib stream with one fixed-Huffman block: the decoder would have to inflate
    // gigabytes before noticing the rows are short.
    chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01],
    );
    chunk(&mut out, b"IEND", &[]);
    out
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_at_the_api() {
    use base64::Engine;
    let s = start().await;
    let bomb = png_bomb(50_000, 50_000);
    assert!(bomb.len() < 100);
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bomb);
    let started = Instant::now();
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "BMB123", "captured_at": now_rfc3339(1), "confidence": 0.9,
                    "plate_image": b64}),
        )
        .await;
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("plate_image") && message.contains("50000x50000"),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "it was not decoded"
    );
    assert_eq!(s.read_count().await, 0, "nothing stored");
}

#[tokio::test]
async fn session_tokens_are_random_expire_and_are_revoked() {
    use base64::Engine;
    let s = start().await;
    let mut seen = std::collections::HashSet::new();
    for _ in 0..8 {
        let t = s.login("searcher").await;
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&t)
            .expect("a token is base64url");
        assert_eq!(raw.len(), 32, "256 bits");
        assert!(seen.insert(t), "tokens never repeat");
    }
    // The store keeps only the token's hash: the token itself is nowhere in the database.
    let token = s.login("searcher").await;
    let db = std::fs::read(s.dir.path().join("anpr.sqlite")).unwrap();
    let wal = std::fs::read(s.dir.path().join("anpr.sqlite-wal")).unwrap_or_default();
    for file in [&db, &wal] {
        assert!(
            !file.windows(token.len()).any(|w| w == token.as_bytes()),
            "the raw token is stored"
        );
    }

    // A session past its expiry is refused, though never revoked.
    let user = s
        .state
        .store
        .user_credentials("searcher")
        .await
        .unwrap()
        .unwrap()
        .user;
    let expired = "expired-session-token-for-the-test-0123456789";
    s.state
        .store
        .create_session(
            &anpr_app::auth::sha256_hex(expired),
            user.id,
            chrono::Utc::now() - chrono::Duration::seconds(1),
        )
        .await
        .unwrap();
    let (status, body) = s.call("GET", "/api/v1/auth/me", Some(expired), None).await;
    assert_eq!(status, 401, "{body}");
    let (status, _) = s.call("GET", "/api/v1/auth/me", Some(&token), None).await;
    assert_eq!(status, 200);

    // Sign-out revokes at once; the user's other sessions carry on.
    let other = s.login("searcher").await;
    let (status, _) = s
        .call("POST", "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = s.call("GET", "/api/v1/auth/me", Some(&token), None).await;
    assert_eq!(status, 401);
    let (status, _) = s.call("GET", "/api/v1/auth/me", Some(&other), None).await;
    assert_eq!(status, 200);

    // Disabling the account ends every session it has.
    s.state
        .store
        .set_user_active("searcher", false)
        .await
        .unwrap();
    let (status, _) = s.call("GET", "/api/v1/auth/me", Some(&other), None).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn password_guessing_is_throttled_and_recorded() {
    let s = start().await;
    let login = |password: &'static str| {
        s.http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"staff_id": "tracker", "password": password}))
            .send()
    };
    for _ in 0..5 {
        assert_eq!(login("guess").await.unwrap().status(), 401);
    }
    // Locked: even the right password is refused, and so are further guesses.
    for password in [PASSWORD, "guess"] {
        let resp = login(password).await.unwrap();
        assert_eq!(resp.status(), 429);
        assert!(resp.headers().contains_key("retry-after"));
    }
    // Every attempt is in the ledger as a failed sign-in of that staff id, the lock-out too.
    let auditor = s.login("auditor").await;
    let head = s.get_json("/api/v1/ledger/tree-head", &auditor).await;
    let size = head["size"].as_u64().unwrap();
    let entries = s
        .get_json(format!("/api/v1/ledger/entries?from=0&to={size}"), &auditor)
        .await;
    let failed: Vec<Value> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<Value>(e["body"].as_str().unwrap()).unwrap())
        .filter(|e| e["action"] == "login_failed" && e["actor"]["id"] == "tracker")
        .collect();
    assert_eq!(failed.len(), 7, "{failed:#?}");
    let locked = failed
        .iter()
        .filter(|e| e["query"]["status"] == 429)
        .count();
    assert_eq!(locked, 2);
    assert!(
        failed.iter().all(|e| e["outcome"]["result"] == "refused"),
        "{failed:#?}"
    );
}

/// Signs in as `staff_id` with `password`: the status, the body and the `Retry-After` header.
async fn sign_in(s: &TestServer, staff_id: &str, password: &str) -> (u16, Value, Option<u64>) {
    let resp = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"staff_id": staff_id, "password": password}))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    (status, resp.json().await.unwrap(), retry)
}

#[tokio::test]
async fn known_and_unknown_staff_ids_answer_alike_and_a_pause_says_how_long() {
    let s = start().await;
    for attempt in 1..=7 {
        let known = sign_in(&s, "tracker", "guess").await;
        let unknown = sign_in(&s, "no-such-officer", "guess").await;
        assert_eq!(known.0, unknown.0, "attempt {attempt}");
        assert_eq!(
            known.1, unknown.1,
            "attempt {attempt}: {known:?} / {unknown:?}"
        );
        let message = known.1["error"]["message"].as_str().unwrap().to_string();
        match attempt {
            1 | 2 => assert_eq!(known.0, 401, "{message}"),
            3 | 4 => {
                assert_eq!(known.0, 401);
                assert!(message.contains("more failed attempt"), "{message}");
            }
            5 => {
                assert_eq!(known.0, 401);
                assert!(message.contains("paused for 1 minute"), "{message}");
            }
            _ => {
                assert_eq!(known.0, 429);
                assert!(message.contains("paused for 1 more minute"), "{message}");
                assert!(message.contains("this staff id"), "{message}");
                let wait = known.2.expect("a pause says when to retry");
                assert!((1..=60).contains(&wait), "{wait}");
            }
        }
    }
    // Paused means paused: the right password waits too, and says so.
    let (status, body, _) = sign_in(&s, "tracker", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
}

#[tokio::test]
async fn one_client_cannot_guess_across_many_staff_ids() {
    let s = start().await;
    for i in 0..20 {
        let (status, body, _) = sign_in(&s, &format!("officer-{i}"), "guess").await;
        assert_eq!(status, 401, "{i}: {body}");
    }
    let (status, body, retry) = sign_in(&s, "officer-20", "guess").await;
    assert_eq!(status, 429, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("network address"), "{message}");
    assert!(retry.is_some());
    // The address is paused for every id, a real one with its right password included.
    let (status, _, _) = sign_in(&s, "searcher", PASSWORD).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn the_command_line_and_the_api_count_failures_together() {
    let s = start().await;
    // What `anpr` does at the command line: the same check, without a network address.
    for _ in 0..5 {
        let audit = anpr_app::audit::AuditHandle::default();
        let e = anpr_app::auth::verify_password(&s.state, &audit, "tracker", "guess", None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "unauthenticated");
    }
    let (status, body, _) = sign_in(&s, "tracker", PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    // And a success clears the count for the next time.
    let s = start().await;
    for _ in 0..4 {
        assert_eq!(sign_in(&s, "tracker", "guess").await.0, 401);
    }
    s.login("tracker").await;
    for _ in 0..4 {
        assert_eq!(sign_in(&s, "tracker", "guess").await.0, 401);
    }
    assert_eq!(sign_in(&s, "tracker", PASSWORD).await.0, 200);
}

#[tokio::test]
async fn a_disabled_account_is_told_so_only_with_its_right_password() {
    let s = start().await;
    s.state
        .store
        .set_user_active("tracker", false)
        .await
        .unwrap();
    let (status, body, _) = sign_in(&s, "tracker", PASSWORD).await;
    assert_eq!(status, 401, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("account is disabled"), "{message}");
    assert!(message.contains("ask an administrator"), "{message}");
    // A wrong password learns nothing: the same answer as for an id that does not exist.
    let wrong = sign_in(&s, "tracker", "guess").await;
    let unknown = sign_in(&s, "no-such-officer", "guess").await;
    assert_eq!((wrong.0, &wrong.1), (unknown.0, &unknown.1));
    assert!(
        wrong.1["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("wrong staff id or password"),
        "{wrong:?}"
    );
    // The command line's sign-in says the same.
    let audit = anpr_app::audit::AuditHandle::default();
    let e = anpr_app::auth::verify_password(&s.state, &audit, "tracker", PASSWORD, None)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("account is disabled"), "{e}");
    // It counts as a failed attempt, so it cannot test passwords past the throttle.
    for _ in 0..3 {
        sign_in(&s, "tracker", PASSWORD).await;
    }
    assert_eq!(sign_in(&s, "tracker", PASSWORD).await.0, 429);
}
