//! The browser UI: served same-origin under a strict Content-Security-Policy, signed in with an
//! HttpOnly SameSite=Strict session cookie that the API accepts like a bearer token, every
//! cookie-authenticated change guarded by the session's CSRF token; and the administrators'
//! users API the UI's admin screen uses.

mod common;

use common::*;
use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, SET_COOKIE};
use serde_json::{json, Value};

/// Signs in through the UI endpoint; returns the cookie pair, the CSRF token and the Set-Cookie.
async fn ui_sign_in(s: &TestServer, staff_id: &str) -> (String, String, String) {
    let resp = s
        .http
        .post(s.url("/api/v1/auth/session"))
        .json(&json!({"staff_id": staff_id, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let set_cookie = resp.headers()[SET_COOKIE].to_str().unwrap().to_string();
    let body: Value = resp.json().await.unwrap();
    assert!(
        body.get("token").is_none(),
        "the token never reaches the page"
    );
    assert_eq!(body["user"]["staff_id"], staff_id);
    let pair = set_cookie.split(';').next().unwrap().to_string();
    (
        pair,
        body["csrf_token"].as_str().unwrap().to_string(),
        set_cookie,
    )
}

fn ledger_events(s: &TestServer) -> Vec<Value> {
    let size = s.state.ledger.size();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect()
}

#[tokio::test]
async fn ui_pages_are_served_with_a_strict_content_security_policy() {
    let s = start().await;
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let root = no_redirect.get(s.url("/")).send().await.unwrap();
    assert!(root.status().is_redirection());
    assert_eq!(root.headers()["location"], "/ui/");

    for path in [
        "/ui/",
        "/ui/js/app.js",
        "/ui/app.css",
        "/ui/vendor/nz.geojson",
        "/ui/vendor/nz-places.json",
        "/ui/vendor/leaflet.markercluster/leaflet.markercluster.js",
    ] {
        let resp = s.http.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let csp = resp.headers()[CONTENT_SECURITY_POLICY].to_str().unwrap();
        for directive in [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp} lacks {directive}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
        assert_eq!(resp.headers()["referrer-policy"], "no-referrer");
    }
    let page = s.http.get(s.url("/ui/")).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("<script type=\"module\" src=\"/ui/js/app.js\">"));
    assert!(
        !html.contains("<script>") && !html.contains("style="),
        "no inline script or style"
    );
    // API responses are not sniffed either.
    let api = s.http.get(s.url("/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(api.status(), 401);
    assert_eq!(api.headers()["x-content-type-options"], "nosniff");
    assert_eq!(
        s.http
            .get(s.url("/ui/nope.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[tokio::test]
async fn the_session_cookie_authenticates_and_changes_need_the_csrf_token() {
    let s = start().await;
    let (cookie, csrf, set_cookie) = ui_sign_in(&s, "searcher").await;
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
        assert!(set_cookie.contains(attr), "{set_cookie} lacks {attr}");
    }
    assert!(!set_cookie.contains("Secure"), "plain http: no Secure flag");

    // Reads work with the cookie alone, and the page can recover its CSRF token after a reload.
    let me = s
        .http
        .get(s.url("/api/v1/auth/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    let session: Value = s
        .http
        .get(s.url("/api/v1/auth/session"))
        .header(COOKIE, format!("theme=dark; {cookie}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["csrf_token"], csrf.as_str());

    let search = |token: Option<&str>| {
        let mut req = s
            .http
            .post(s.url("/api/v1/searches"))
            .header(COOKIE, &cookie)
            .json(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()}));
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    // A change without the token, or with another's, is refused: another site can make the
    // browser send the cookie but cannot know the token.
    let missing = search(None).await.unwrap();
    assert_eq!(missing.status(), 403);
    let body: Value = missing.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("X-CSRF-Token"));
    let (_, other_csrf, _) = ui_sign_in(&s, "tracker").await;
    assert_eq!(search(Some(&other_csrf)).await.unwrap().status(), 403);
    assert_eq!(search(Some(&csrf)).await.unwrap().status(), 200);

    // The refusals are in the ledger as denials by the signed-in user, like any other.
    let events = ledger_events(&s);
    let denied = events
        .iter()
        .filter(|e| e["action"] == "denied" && e["query"]["path"] == "/api/v1/searches")
        .count();
    assert_eq!(denied, 2);
    assert!(events.iter().any(|e| e["action"] == "search"
        && e["actor"]["id"] == "searcher"
        && e["outcome"]["result"] == "granted"));

    // A bearer token needs no CSRF token (it is never sent by the browser on its own).
    let token = s.login("searcher").await;
    assert_eq!(
        s.search(&token, json!({"plate": STOLEN_CLEAN}))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn the_alert_stream_works_with_the_cookie() {
    let s = start().await;
    let (cookie, _, _) = ui_sign_in(&s, "tracker").await;
    let resp = s
        .http
        .get(s.url("/api/v1/alerts/stream"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
}

#[tokio::test]
async fn signing_out_needs_the_token_then_ends_the_session_and_clears_the_cookie() {
    let s = start().await;
    let (cookie, csrf, _) = ui_sign_in(&s, "searcher").await;
    let out = |token: Option<&str>| {
        let mut req = s
            .http
            .delete(s.url("/api/v1/auth/session"))
            .header(COOKIE, &cookie);
        if let Some(t) = token {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    assert_eq!(out(None).await.unwrap().status(), 403, "no forced sign-out");
    let resp = out(Some(&csrf)).await.unwrap();
    assert_eq!(resp.status(), 204);
    let cleared = resp.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("anpr_session=;") && cleared.contains("Max-Age=0"));
    let me = s
        .http
        .get(s.url("/api/v1/auth/me"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401);
}

#[tokio::test]
async fn cookies_are_secure_behind_an_https_public_url_and_failed_sign_ins_set_none() {
    let s = start_with(anpr_server::ServerConfig {
        http: anpr_server::HttpConfig {
            public_url: Some("https://anpr.example".into()),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let (_, _, set_cookie) = ui_sign_in(&s, "searcher").await;
    assert!(set_cookie.contains("; Secure"), "{set_cookie}");
    let bad = s
        .http
        .post(s.url("/api/v1/auth/session"))
        .json(&json!({"staff_id": "searcher", "password": "wrong password here"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(bad.headers().get(SET_COOKIE).is_none());
    let events = ledger_events(&s);
    assert!(events
        .iter()
        .any(|e| e["action"] == "login_failed" && e["query"]["path"] == "/api/v1/auth/session"));
    assert!(
        !events
            .iter()
            .any(|e| e.to_string().contains("wrong password here")),
        "passwords never reach the ledger"
    );
}

#[tokio::test]
async fn administrators_manage_users_through_the_api() {
    let s = start().await;
    let admin = s.login("admin").await;
    let searcher = s.login("searcher").await;
    let (status, users) = s.call("GET", "/api/v1/users", Some(&admin), None).await;
    assert_eq!(status, 200);
    assert_eq!(users.as_array().unwrap().len(), USERS.len());
    assert_eq!(
        s.call("GET", "/api/v1/users", Some(&searcher), None)
            .await
            .0,
        403
    );

    let new_user = json!({"staff_id": "S9001", "name": "New Officer", "district": "Waikato",
        "roles": ["searcher"], "password": PASSWORD});
    assert_eq!(
        s.call("POST", "/api/v1/users", Some(&searcher), Some(&new_user))
            .await
            .0,
        403
    );
    let (status, created) = s
        .call("POST", "/api/v1/users", Some(&admin), Some(&new_user))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["roles"], json!(["searcher"]));
    let officer = s.login("S9001").await;
    assert_eq!(
        s.call("POST", "/api/v1/users", Some(&admin), Some(&new_user))
            .await
            .0,
        409
    );

    // Short passwords and separation-of-duties breaches are refused and create nothing.
    let mut weak = new_user.clone();
    weak["staff_id"] = json!("S9002");
    weak["password"] = json!("short");
    let (status, body) = s
        .call("POST", "/api/v1/users", Some(&admin), Some(&weak))
        .await;
    assert_eq!(
        (status, body["error"]["field"].as_str()),
        (422, Some("password"))
    );
    let mut breach = new_user.clone();
    breach["staff_id"] = json!("S9003");
    breach["roles"] = json!(["admin", "tracker"]);
    let (status, _) = s
        .call("POST", "/api/v1/users", Some(&admin), Some(&breach))
        .await;
    assert!((400..500).contains(&status), "{status}");
    let (_, users) = s.call("GET", "/api/v1/users", Some(&admin), None).await;
    assert_eq!(users.as_array().unwrap().len(), USERS.len() + 1);

    let (status, changed) = s
        .call(
            "PUT",
            "/api/v1/users/S9001/roles",
            Some(&admin),
            Some(&json!({"roles": ["searcher", "tracker"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(changed["roles"], json!(["searcher", "tracker"]));
    let (status, _) = s
        .call(
            "PUT",
            "/api/v1/users/S9001/roles",
            Some(&admin),
            Some(&json!({"roles": ["auditor", "searcher"]})),
        )
        .await;
    assert!((400..500).contains(&status));
    assert_eq!(
        s.call(
            "PUT",
            "/api/v1/users/nobody/active",
            Some(&admin),
            Some(&json!({"active": false}))
        )
        .await
        .0,
        404
    );
    assert_eq!(
        s.call(
            "PUT",
            "/api/v1/users/admin/active",
            Some(&admin),
            Some(&json!({"active": false}))
        )
        .await
        .0,
        403,
        "nobody changes their own account"
    );

    // Disabling ends the account's sessions at once.
    assert_eq!(
        s.call("GET", "/api/v1/auth/me", Some(&officer), None)
            .await
            .0,
        200
    );
    let (status, disabled) = s
        .call(
            "PUT",
            "/api/v1/users/S9001/active",
            Some(&admin),
            Some(&json!({"active": false})),
        )
        .await;
    assert_eq!((status, disabled["active"].as_bool()), (200, Some(false)));
    assert_eq!(
        s.call("GET", "/api/v1/auth/me", Some(&officer), None)
            .await
            .0,
        401
    );

    let events = ledger_events(&s);
    assert!(events.iter().any(|e| e["action"] == "user_change"
        && e["query"]["target_staff_id"] == "S9001"
        && e["outcome"]["result"] == "granted"));
    assert!(!events.iter().any(|e| e.to_string().contains(PASSWORD)));
}

#[tokio::test]
async fn administrators_place_users_and_sites_only_in_the_deployments_districts() {
    let s = start().await;
    let admin = s.login("admin").await;
    let searcher = s.login("searcher").await;

    // Any member of staff may read the list the forms offer; it is the policy's.
    let (status, body) = s
        .call("GET", "/api/v1/districts", Some(&searcher), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["districts"].as_array().unwrap().len(), 12);
    assert!(body["districts"]
        .as_array()
        .unwrap()
        .contains(&json!("Waitematā")));
    assert_eq!(s.call("GET", "/api/v1/districts", None, None).await.0, 401);

    // A misspelt or invented district is refused, naming the ones there are.
    for typed in ["Waikatoo", "Narnia", ""] {
        let user = json!({"staff_id": "S9100", "name": "New Officer", "district": typed,
            "roles": ["searcher"], "password": PASSWORD});
        let (status, body) = s
            .call("POST", "/api/v1/users", Some(&admin), Some(&user))
            .await;
        assert_eq!(status, 422, "{typed}: {body}");
        assert_eq!(body["error"]["code"], "unknown_district", "{body}");
        assert_eq!(body["error"]["field"], "district", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("choose one of: Northland, Waitematā,") && !message.contains('`'),
            "{message}"
        );
    }
    let users = s.get_json("/api/v1/users", &admin).await;
    assert!(!users.to_string().contains("S9100"), "nothing created");
    // Case and macrons aside, a district is found and stored as the deployment spells it.
    let user = json!({"staff_id": "S9100", "name": "New Officer", "district": " waitemata ",
        "roles": ["searcher"], "password": PASSWORD});
    let (status, created) = s
        .call("POST", "/api/v1/users", Some(&admin), Some(&user))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["district"], "Waitematā");

    let site = |district: &str| {
        json!({"network_id": s.network_id, "name": format!("Site in {district}"),
            "address": "1 Main Rd", "location": {"lat": -37.78, "lon": 175.28},
            "kind": "fuel_station", "district": district})
    };
    let (status, body) = s
        .call("POST", "/api/v1/sites", Some(&admin), Some(&site("Narnia")))
        .await;
    assert_eq!(
        (status, &body["error"]["code"]),
        (422, &json!("unknown_district"))
    );
    let (status, body) = s
        .call(
            "POST",
            "/api/v1/sites",
            Some(&admin),
            Some(&site("canterbury")),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["district"], "Canterbury");
}

#[tokio::test]
async fn a_camera_heading_is_a_compass_direction() {
    let s = start().await;
    let admin = s.login("admin").await;
    let site_id = s.get_json("/api/v1/sites", &admin).await[0]["id"].clone();
    for heading in [360, 400, -5, 70000] {
        let camera =
            json!({"site_id": site_id, "name": format!("cam {heading}"), "heading_deg": heading});
        let (status, body) = s
            .call("POST", "/api/v1/cameras", Some(&admin), Some(&camera))
            .await;
        assert_eq!(status, 422, "{heading}: {body}");
        assert_eq!(body["error"]["field"], "heading_deg");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("from 0 to 359"), "{message}");
    }
    let cameras = s.get_json("/api/v1/cameras", &admin).await;
    assert_eq!(
        cameras.as_array().unwrap().len(),
        1,
        "none created: {cameras}"
    );
    let camera = json!({"site_id": site_id, "name": "north lane", "heading_deg": 359});
    let (status, body) = s
        .call("POST", "/api/v1/cameras", Some(&admin), Some(&camera))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["camera"]["heading_deg"], 359);
}

#[tokio::test]
async fn a_register_file_without_its_columns_is_refused_in_plain_words() {
    let s = start().await;
    let admin = s.login("admin").await;
    let resp = s
        .http
        .post(s.url("/api/v1/registers/incidents?source=test"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body("number,incident_type,district,opened_at\nF1,burglary,Waikato,2026-01-01T00:00:00Z\n")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "file", "{body}");
    assert_eq!(
        body["error"]["message"],
        "Line 1 lacks the column file_number: the first line of a CSV file names its columns. \
         The incident register's file needs the columns file_number, incident_type, \
         district, opened_at and may have closed_at, assigned_staff. Dates are written like \
         2026-11-28T10:00:00Z."
    );
}

#[tokio::test]
async fn administrators_are_told_when_the_disk_runs_low() {
    // Any disk is "low" when all of it must be free.
    let mut config = anpr_server::ServerConfig::default();
    config.app.disk_min_free_percent = 100;
    let s = start_with(config).await;
    // The watchdog's first look is at start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let admin = loop {
        let body = s.ui_session("admin").await;
        if !body["notices"].as_array().unwrap().is_empty() || std::time::Instant::now() > deadline {
            break body;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let notice = admin["notices"][0].as_str().unwrap_or_default();
    assert!(notice.contains("disk is nearly full"), "{admin}");
    let searcher = s.ui_session("searcher").await;
    assert_eq!(
        searcher["notices"],
        json!([]),
        "only administrators are told"
    );
    assert!(s.state.metrics.render().contains("anpr_data_disk_low 1"));
}

#[tokio::test]
async fn every_error_code_the_api_returns_has_a_message_in_the_ui() {
    let s = start().await;
    let resp = s
        .http
        .get(s.url("/ui/js/messages.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let table = resp.text().await.unwrap();
    let codes = anpr_app::AppError::CODES
        .iter()
        .copied()
        .chain(anpr_policy::RefusalKind::ALL.iter().map(|k| k.as_str()));
    for code in codes {
        assert!(
            table.contains(&format!("\n  {code}: M(")),
            "the UI's message table (crates/web/assets/js/messages.js) has no entry for {code}: \
             {table:.300}"
        );
    }
}

#[tokio::test]
async fn every_action_the_ledger_records_has_a_name_in_the_ui() {
    let s = start().await;
    let resp = s.http.get(s.url("/ui/js/actions.js")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let table = resp.text().await.unwrap();
    for action in anpr_ledger::Action::NAMED {
        let name = action.as_str();
        assert!(
            table.contains(&format!("\n  {name}: '")),
            "the UI's table of action names (crates/web/assets/js/actions.js) has no entry for \
             {name}"
        );
    }
}
