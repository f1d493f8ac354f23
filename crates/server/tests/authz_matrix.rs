//! The authorisation matrix, generated from the API itself: every operation of the OpenAPI
//! document (which must list every route the router serves, so a new endpoint cannot be
//! forgotten) against every principal — no credentials, a camera key, and a session of each
//! test user — is allowed or refused exactly as `anpr_policy::permissions` says: no
//! credentials get 401; a principal whose roles do not grant the operation's permission gets
//! 401 (wrong kind of credential) or 403 `missing_permission`; one whose roles grant it gets
//! the endpoint's own answer, which for an object owned by someone else is what the object
//! rules say (404 when its existence must not be revealed, 409 when already decided).

mod common;

use anpr_domain::Role;
use anpr_policy::permissions::grants;
use anpr_policy::Permission;
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};

/// Served by the router but deliberately outside the API document: no data, no identity.
const UNDOCUMENTED: &[(&str, &str)] = &[("GET", "/api/openapi.json"), ("GET", "/healthz")];

/// Every `(method, path)` the router in `src/lib.rs` serves, read from its source: the router
/// is built by one chain of `.route(path, method(handler)...)` calls.
fn router_operations() -> BTreeSet<(String, String)> {
    let src = include_str!("../src/lib.rs");
    // The one merged router is the browser UI's (`anpr-web`): embedded static files, outside
    // `/api`, serving no data (every piece of data the pages show comes through the API).
    let ui = include_str!("../../web/src/lib.rs");
    assert!(
        !src.contains(".nest(")
            && src.matches(".merge(").count() == 1
            && src.contains(".merge(ui)"),
        "the router now nests or merges other routers: teach router_operations to read them"
    );
    assert!(
        !ui.contains(".nest(") && !ui.contains(".merge(") && !ui.contains("\"/api"),
        "the UI router must serve no API route"
    );
    let mut ops = BTreeSet::new();
    let mut rest = src;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let open = rest.find('"').unwrap();
        let close = open + 1 + rest[open + 1..].find('"').unwrap();
        let path = &rest[open + 1..close];
        // The methods are the calls up to this `.route(`'s closing parenthesis.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let args = &rest[..end];
        for method in ["get", "post", "put", "delete", "patch"] {
            let needle = format!("{method}(");
            let found = args.match_indices(&needle).any(|(i, _)| {
                i == 0
                    || !args.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && args.as_bytes()[i - 1] != b'_'
            });
            if found {
                ops.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    ops
}

fn document_operations() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(anpr_server::openapi::document()).unwrap();
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

#[test]
fn the_api_document_lists_every_route_the_router_serves() {
    let router = router_operations();
    let doc = document_operations();
    assert!(router.len() > 30, "read the router: {router:?}");
    let undocumented: BTreeSet<(String, String)> = UNDOCUMENTED
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = router
        .difference(&doc)
        .filter(|op| !undocumented.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    let phantom: Vec<_> = doc.difference(&router).collect();
    assert!(phantom.is_empty(), "documented but not routed: {phantom:?}");
}

/// Who may call an operation.
#[derive(Clone, Copy, Debug)]
enum Need {
    /// Anyone, without credentials.
    Public,
    /// A camera's API key.
    Camera,
    /// Any signed-in member of staff.
    Staff,
    /// A member of staff whose roles grant one of these.
    Any(&'static [Permission]),
    /// The requester of the authorisation (the `tracker` user), or one of these.
    OwnerOr(&'static [Permission]),
}

/// Who may see authorisations and alerts at all (own, district's or everyone's).
const ACTIVITY: &[Permission] = &[
    Permission::ViewAllActivity,
    Permission::ViewDistrictActivity,
    Permission::RequestTracking,
    Permission::RequestLookback,
];

struct Case {
    method: &'static str,
    /// The operation's path as documented.
    template: &'static str,
    path: String,
    body: Option<Value>,
    need: Need,
    /// What a principal the permission allows gets.
    granted: u16,
    /// Principals allowed by permission whose answer differs, because of who owns the object
    /// or because an earlier principal already acted on it.
    except: &'static [(&'static str, u16)],
}

/// Test users (see `common::USERS`), then the two principals that are not staff.
fn principals() -> Vec<(&'static str, Option<&'static [Role]>)> {
    let mut p: Vec<(&'static str, Option<&'static [Role]>)> = vec![("none", None)];
    p.extend(USERS.iter().map(|(id, roles, _)| (*id, Some(*roles))));
    p.push(("camera", Some(&[Role::Camera][..])));
    p
}

async fn seed(s: &TestServer) -> i64 {
    let b64 = base64_jpeg();
    let reads = json!({"reads": [
        {"plate": "ABC123", "captured_at": now_rfc3339(300), "confidence": 0.8, "plate_image": b64},
        {"plate": "ZZZ999", "captured_at": now_rfc3339(200), "confidence": 0.8},
    ]});
    let resp = s.ingest("/api/v1/reads:batch", &reads).await;
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    v["reads"][0]["id"].as_i64().unwrap()
}

fn base64_jpeg() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(jpeg(64, 32))
}

#[tokio::test]
async fn every_operation_for_every_principal_as_the_policy_says() {
    // Every operation is also tried without credentials, far more than the flood guard's
    // default allows one address in a minute.
    let mut config = anpr_server::ServerConfig::default();
    config.http.unauthenticated_per_minute = u32::MAX;
    let s = start_with(config).await;
    let read_id = seed(&s).await;
    let mut tokens: HashMap<&str, String> = HashMap::new();
    for (id, _, _) in USERS {
        tokens.insert(id, s.login(id).await);
    }
    tokens.insert("camera", s.camera_key.clone());

    // Objects owned by the tracker: an active authorisation (stolen basis), two pending ones
    // (homicide), and the searcher's pending look-back.
    let tracker = tokens["tracker"].clone();
    let track = |plate: &str, p: Value| json!({"plate": plate, "purpose": p});
    let (st, active) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track(STOLEN_CLEAN, purpose())),
        )
        .await;
    assert_eq!((st, &active["status"]), (201, &json!("active")), "{active}");
    let homicide = purpose_of("serious_crime", HOMICIDE_FILE);
    let (_, pend1) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track("ABC123", homicide.clone())),
        )
        .await;
    let (_, pend2) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track("ZZZ999", homicide)),
        )
        .await;
    assert_eq!(pend2["status"], "pending", "{pend2}");
    let lookback =
        json!({"plate": "ABC123", "from": now_rfc3339(100 * 24 * 60), "purpose": purpose()});
    let (st, look) = s
        .call(
            "POST",
            "/api/v1/lookback",
            Some(&tokens["searcher"]),
            Some(&lookback),
        )
        .await;
    assert_eq!(st, 201, "{look}");
    // A read is opened by id only once shown: those who may view reads searched first.
    for who in ["searcher", "tracker"] {
        let page: Value = s
            .search(&tokens[who], json!({"plate": "ABC123"}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["hits"][0]["id"], read_id, "{page}");
    }
    let id = |v: &Value| v["id"].as_i64().unwrap();
    // A camera whose keys the matrix rotates and revokes (the test camera keeps its key).
    let sites = s.state.store.sites().await.unwrap();
    let (spare_camera, _) = anpr_app::catalog::provision_camera(
        &s.state,
        anpr_store::NewCamera {
            site_id: sites[0].id,
            name: "spare".into(),
            heading_deg: None,
        },
    )
    .await
    .unwrap();
    let reason = json!({"reason": "Checked the file and the report"});
    let pq = purpose_query();
    use Need::*;
    use Permission as P;
    let case = |method, template, path: String, body: Option<Value>, need, granted| Case {
        method,
        template,
        path,
        body,
        need,
        granted,
        except: &[],
    };
    let cases = vec![
        case(
            "POST",
            "/api/v1/auth/login",
            "/api/v1/auth/login".into(),
            Some(json!({"staff_id": "searcher", "password": PASSWORD})),
            Public,
            200,
        ),
        // Signs out a session opened for the purpose (see below), not the principal's own.
        case(
            "POST",
            "/api/v1/auth/logout",
            "/api/v1/auth/logout".into(),
            None,
            Staff,
            204,
        ),
        case(
            "GET",
            "/api/v1/auth/me",
            "/api/v1/auth/me".into(),
            None,
            Staff,
            200,
        ),
        case(
            "POST",
            "/api/v1/auth/session",
            "/api/v1/auth/session".into(),
            Some(json!({"staff_id": "searcher", "password": PASSWORD})),
            Public,
            200,
        ),
        case(
            "GET",
            "/api/v1/auth/session",
            "/api/v1/auth/session".into(),
            None,
            Staff,
            200,
        ),
        // Like logout: ends a session opened for the purpose.
        case(
            "DELETE",
            "/api/v1/auth/session",
            "/api/v1/auth/session".into(),
            None,
            Staff,
            204,
        ),
        case(
            "POST",
            "/api/v1/hot-list",
            "/api/v1/hot-list".into(),
            None,
            Any(&[P::AdministerRegisters]),
            200,
        ),
        case(
            "GET",
            "/api/v1/hot-list",
            "/api/v1/hot-list".into(),
            None,
            Any(&[P::AdministerRegisters]),
            200,
        ),
        case(
            "GET",
            "/api/v1/reports/usage",
            "/api/v1/reports/usage?from=2026-01&to=2026-12&by=month".into(),
            None,
            Any(&[P::ViewReports]),
            200,
        ),
        case(
            "GET",
            "/api/v1/reports/transparency",
            "/api/v1/reports/transparency?month=2026-10".into(),
            None,
            Any(&[P::ViewReports]),
            200,
        ),
        case(
            "POST",
            "/api/v1/reports/subject-access",
            "/api/v1/reports/subject-access".into(),
            Some(json!({"plate": "ABC123", "reference": "SAR-2026-1",
                        "identity_checked": {"method": "passport", "by": "privacy"}})),
            Any(&[P::SubjectAccess]),
            200,
        ),
        case(
            "GET",
            "/api/v1/users",
            "/api/v1/users".into(),
            None,
            Any(&[P::Administer]),
            200,
        ),
        case(
            "POST",
            "/api/v1/users",
            "/api/v1/users".into(),
            None,
            Any(&[P::Administer]),
            201,
        ),
        case(
            "PUT",
            "/api/v1/users/{staff_id}/roles",
            "/api/v1/users/auditor/roles".into(),
            Some(json!({"roles": ["auditor"]})),
            Any(&[P::Administer]),
            200,
        ),
        case(
            "PUT",
            "/api/v1/users/{staff_id}/active",
            "/api/v1/users/auditor/active".into(),
            Some(json!({"active": true})),
            Any(&[P::Administer]),
            200,
        ),
        case(
            "POST",
            "/api/v1/integrity/runs",
            "/api/v1/integrity/runs".into(),
            Some(json!({})),
            Any(&[P::ReviewIntegrity]),
            200,
        ),
        case(
            "GET",
            "/api/v1/integrity/cases",
            "/api/v1/integrity/cases".into(),
            None,
            Any(&[P::ReviewIntegrity, P::ApproveRequests]),
            200,
        ),
        // Nobody's case: not found for whoever may review (its existence is never revealed).
        case(
            "GET",
            "/api/v1/integrity/cases/{id}",
            "/api/v1/integrity/cases/999999".into(),
            None,
            Any(&[P::ReviewIntegrity, P::ApproveRequests]),
            404,
        ),
        case(
            "POST",
            "/api/v1/integrity/cases/{id}/assign",
            "/api/v1/integrity/cases/999999/assign".into(),
            Some(json!({"to": "integrity"})),
            Any(&[P::ReviewIntegrity, P::ApproveRequests]),
            404,
        ),
        case(
            "POST",
            "/api/v1/integrity/cases/{id}/request-explanation",
            "/api/v1/integrity/cases/999999/request-explanation".into(),
            Some(json!({"question": "Why was this plate searched?"})),
            Any(&[P::ReviewIntegrity, P::ApproveRequests]),
            404,
        ),
        case(
            "POST",
            "/api/v1/integrity/cases/{id}/close",
            "/api/v1/integrity/cases/999999/close".into(),
            Some(json!({"outcome": "explained", "note": "Checked with the file"})),
            Any(&[P::ReviewIntegrity, P::ApproveRequests]),
            404,
        ),
        case(
            "GET",
            "/api/v1/integrity/my-cases",
            "/api/v1/integrity/my-cases".into(),
            None,
            Staff,
            200,
        ),
        case(
            "POST",
            "/api/v1/integrity/my-cases/{id}/explanation",
            "/api/v1/integrity/my-cases/999999/explanation".into(),
            Some(json!({"text": "I was testing the system"})),
            Staff,
            404,
        ),
        case(
            "POST",
            "/api/v1/reads",
            "/api/v1/reads".into(),
            Some(json!({"plate": "MTX001", "captured_at": now_rfc3339(5), "confidence": 0.9})),
            Camera,
            201,
        ),
        case(
            "POST",
            "/api/v1/reads:batch",
            "/api/v1/reads:batch".into(),
            Some(
                json!({"reads": [{"plate": "MTX002", "captured_at": now_rfc3339(5), "confidence": 0.9}]}),
            ),
            Camera,
            201,
        ),
        case(
            "GET",
            "/api/v1/reads/{id}",
            format!("/api/v1/reads/{read_id}?{pq}"),
            None,
            Any(&[P::ViewReads]),
            200,
        ),
        case(
            "GET",
            "/api/v1/reads/{id}/image/{kind}",
            format!("/api/v1/reads/{read_id}/image/plate?{pq}"),
            None,
            Any(&[P::ViewReads]),
            200,
        ),
        case(
            "PUT",
            "/api/v1/reads/{id}/legal-hold",
            format!("/api/v1/reads/{read_id}/legal-hold"),
            Some(json!({"hold": true, "reason": "court file 123", "purpose": purpose()})),
            Any(&[P::PlaceLegalHold]),
            204,
        ),
        case(
            "POST",
            "/api/v1/searches",
            "/api/v1/searches".into(),
            Some(json!({"plate": "ABC123", "purpose": purpose()})),
            Any(&[P::SearchHistory]),
            200,
        ),
        case(
            "POST",
            "/api/v1/tracking",
            "/api/v1/tracking".into(),
            Some(track(STOLEN_ODD, purpose())),
            Any(&[P::RequestTracking]),
            201,
        ),
        case(
            "GET",
            "/api/v1/tracking",
            "/api/v1/tracking".into(),
            None,
            Any(ACTIVITY),
            200,
        ),
        Case {
            // The tracker's authorisation: the searcher, of the same district but with no
            // view of its activity, is not told it exists.
            except: &[("searcher", 404)],
            ..case(
                "GET",
                "/api/v1/tracking/{id}",
                format!("/api/v1/tracking/{}", id(&active)),
                None,
                Any(ACTIVITY),
                200,
            )
        },
        Case {
            except: &[("searcher", 404)],
            ..case(
                "GET",
                "/api/v1/tracking/{id}/sightings",
                format!("/api/v1/tracking/{}/sightings", id(&active)),
                None,
                Any(ACTIVITY),
                200,
            )
        },
        Case {
            // The second supervisor finds it already decided.
            except: &[("supervisor2", 409)],
            ..case(
                "POST",
                "/api/v1/tracking/{id}/{action}",
                format!("/api/v1/tracking/{}/approve", id(&pend1)),
                Some(reason.clone()),
                Any(&[P::ApproveRequests]),
                200,
            )
        },
        Case {
            except: &[("supervisor2", 409)],
            ..case(
                "POST",
                "/api/v1/tracking/{id}/{action}",
                format!("/api/v1/tracking/{}/refuse", id(&pend2)),
                Some(reason.clone()),
                Any(&[P::ApproveRequests]),
                200,
            )
        },
        Case {
            // The requester withdraws it; the supervisors then find nothing left to revoke.
            except: &[("supervisor", 409), ("supervisor2", 409)],
            ..case(
                "POST",
                "/api/v1/tracking/{id}/{action}",
                format!("/api/v1/tracking/{}/revoke", id(&active)),
                Some(reason.clone()),
                OwnerOr(&[P::ApproveRequests]),
                200,
            )
        },
        case(
            "POST",
            "/api/v1/lookback",
            "/api/v1/lookback".into(),
            Some(lookback.clone()),
            Any(&[P::RequestLookback]),
            201,
        ),
        case(
            "GET",
            "/api/v1/lookback",
            "/api/v1/lookback".into(),
            None,
            Any(ACTIVITY),
            200,
        ),
        Case {
            except: &[("supervisor2", 409)],
            ..case(
                "POST",
                "/api/v1/lookback/{id}/{action}",
                format!("/api/v1/lookback/{}/approve", id(&look)),
                Some(reason.clone()),
                Any(&[P::ApproveRequests]),
                200,
            )
        },
        case(
            "GET",
            "/api/v1/alerts",
            "/api/v1/alerts".into(),
            None,
            Any(ACTIVITY),
            200,
        ),
        case(
            "GET",
            "/api/v1/alerts/stream",
            "/api/v1/alerts/stream".into(),
            None,
            Any(ACTIVITY),
            200,
        ),
        // Nobody's alert: not found, whoever asks (its existence is never revealed).
        case(
            "POST",
            "/api/v1/alerts/{id}/ack",
            "/api/v1/alerts/999999/ack".into(),
            None,
            Any(ACTIVITY),
            404,
        ),
        case(
            "POST",
            "/api/v1/registers/{kind}",
            "/api/v1/registers/vehicles?source=matrix".into(),
            Some(json!([{"plate": "MTX123", "owner_person_id": "P-m", "owner_address_id": "A-m"}])),
            Any(&[P::AdministerRegisters]),
            200,
        ),
        case(
            "GET",
            "/api/v1/registers",
            "/api/v1/registers".into(),
            None,
            Any(&[P::AdministerRegisters]),
            200,
        ),
        case(
            "GET",
            "/api/v1/files",
            "/api/v1/files".into(),
            None,
            Any(&[P::SearchHistory, P::RequestTracking]),
            200,
        ),
        case(
            "GET",
            "/api/v1/agreements",
            "/api/v1/agreements".into(),
            None,
            Any(&[P::ViewAllActivity, P::Administer]),
            200,
        ),
        case(
            "PUT",
            "/api/v1/networks/{id}/agreement",
            format!("/api/v1/networks/{}/agreement", s.network_id),
            Some(json!({"search": ["*"], "tracking": ["*"]})),
            Any(&[P::Administer]),
            200,
        ),
        case(
            "POST",
            "/api/v1/networks",
            "/api/v1/networks".into(),
            Some(json!({"name": "Net", "retention_days": 30})),
            Any(&[P::Administer]),
            201,
        ),
        case(
            "GET",
            "/api/v1/networks",
            "/api/v1/networks".into(),
            None,
            Staff,
            200,
        ),
        case(
            "PUT",
            "/api/v1/networks/{id}/police-contact",
            format!("/api/v1/networks/{}/police-contact", s.network_id),
            Some(json!({"police_contact": "Hamilton Police, 07 555 0100"})),
            Any(&[P::Administer]),
            200,
        ),
        // A network's own controls and notices: its network auditor's alone (no test user
        // holds that role, so every staff principal is refused; tests/network_controls.rs
        // covers the auditor).
        case(
            "GET",
            "/api/v1/networks/{id}/controls",
            format!("/api/v1/networks/{}/controls", s.network_id),
            None,
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "PUT",
            "/api/v1/networks/{id}/controls",
            format!("/api/v1/networks/{}/controls", s.network_id),
            Some(json!({"suspended": true})),
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "GET",
            "/api/v1/networks/{id}/watch-notices",
            format!("/api/v1/networks/{}/watch-notices", s.network_id),
            None,
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "GET",
            "/api/v1/networks/{id}/uses",
            format!("/api/v1/networks/{}/uses", s.network_id),
            None,
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "GET",
            "/api/v1/networks/{id}/ledger-slice",
            format!(
                "/api/v1/networks/{}/ledger-slice?month={}",
                s.network_id,
                chrono::Utc::now().format("%Y-%m")
            ),
            None,
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "GET",
            "/api/v1/networks/{id}/statement",
            format!(
                "/api/v1/networks/{}/statement?month={}",
                s.network_id,
                chrono::Utc::now().format("%Y-%m")
            ),
            None,
            Any(&[P::ControlNetworkSharing]),
            200,
        ),
        case(
            "GET",
            "/api/v1/districts",
            "/api/v1/districts".into(),
            None,
            Staff,
            200,
        ),
        case(
            "POST",
            "/api/v1/sites",
            "/api/v1/sites".into(),
            Some(json!({"network_id": s.network_id, "name": "Matrix site",
                         "address": "1 Victoria St, Hamilton", "location": {"lat": -37.78, "lon": 175.28}, "kind": "fuel_station",
                         "district": "Waikato"})),
            Any(&[P::Administer]),
            201,
        ),
        case(
            "GET",
            "/api/v1/sites",
            "/api/v1/sites".into(),
            None,
            Staff,
            200,
        ),
        case(
            "POST",
            "/api/v1/cameras",
            "/api/v1/cameras".into(),
            None,
            Any(&[P::Administer]),
            201,
        ),
        case(
            "GET",
            "/api/v1/cameras",
            "/api/v1/cameras".into(),
            None,
            Any(&[P::Administer]),
            200,
        ),
        case(
            "POST",
            "/api/v1/cameras/{id}/keys",
            format!("/api/v1/cameras/{}/keys", spare_camera.id),
            Some(json!({"overlap_seconds": 60})),
            Any(&[P::Administer]),
            201,
        ),
        case(
            "DELETE",
            "/api/v1/cameras/{id}/keys",
            format!("/api/v1/cameras/{}/keys", spare_camera.id),
            None,
            Any(&[P::Administer]),
            200,
        ),
        case(
            "GET",
            "/metrics",
            "/metrics".into(),
            None,
            Any(&[P::ReadMetrics]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/tree-head",
            "/api/v1/ledger/tree-head".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/tree-heads",
            "/api/v1/ledger/tree-heads".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/checkpoint",
            "/api/v1/ledger/checkpoint".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/entries",
            "/api/v1/ledger/entries?from=0&to=1".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/search",
            "/api/v1/ledger/search?action=login&limit=5".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/proof/inclusion",
            "/api/v1/ledger/proof/inclusion?index=0&size=2".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/v1/ledger/proof/consistency",
            "/api/v1/ledger/proof/consistency?from=1&to=2".into(),
            None,
            Any(&[P::ReadLedger]),
            200,
        ),
        case(
            "GET",
            "/api/openapi.json",
            "/api/openapi.json".into(),
            None,
            Public,
            200,
        ),
        case("GET", "/healthz", "/healthz".into(), None, Public, 200),
    ];

    // The table covers every operation the router serves.
    let covered: BTreeSet<(String, String)> = cases
        .iter()
        .map(|c| (c.method.to_string(), c.template.to_string()))
        .collect();
    let missing: Vec<_> = router_operations().difference(&covered).cloned().collect();
    assert!(
        missing.is_empty(),
        "operations without a row in the matrix: {missing:?}"
    );

    let site_id = {
        let sites = s.get_json("/api/v1/sites", &tokens["admin"]).await;
        sites[0]["id"].as_i64().unwrap()
    };
    let mut checked = 0;
    for case in &cases {
        for (who, roles) in principals() {
            let allowed = match (case.need, roles) {
                (Public, _) => true,
                (_, None) => false,
                (Camera, Some(r)) => r.contains(&Role::Camera),
                (_, Some(r)) if r.contains(&Role::Camera) => false,
                (Staff, Some(_)) => true,
                (Any(perms), Some(r)) => perms.iter().any(|p| grants(r, *p)),
                (OwnerOr(perms), Some(r)) => {
                    who == "tracker" || perms.iter().any(|p| grants(r, *p))
                }
            };
            let mut body = case.body.clone();
            let mut token = tokens.get(who).cloned();
            match case.template {
                "/api/v1/networks" if case.method == "POST" => {
                    body = Some(json!({"name": format!("Net-{who}"), "retention_days": 30}));
                }
                "/api/v1/cameras" if case.method == "POST" => {
                    body = Some(json!({"site_id": site_id, "name": format!("cam-{who}")}));
                }
                "/api/v1/users" if case.method == "POST" => {
                    body = Some(
                        json!({"staff_id": format!("new-{who}"), "name": "New member",
                        "district": "Waikato", "roles": ["searcher"],
                        "password": "a long enough password"}),
                    );
                }
                // Sign-out ends a session opened for the purpose, not the principal's own.
                "/api/v1/auth/logout" | "/api/v1/auth/session"
                    if (case.method == "DELETE" || case.template == "/api/v1/auth/logout")
                        && roles.is_some_and(|r| !r.contains(&Role::Camera)) =>
                {
                    token = Some(s.login(who).await);
                }
                _ => {}
            }
            let (status, resp) = if case.template == "/api/v1/alerts/stream" {
                // A granted stream never ends: the status and the first bytes suffice.
                let mut req = s.http.get(s.url(&case.path));
                if let Some(t) = &token {
                    req = req.bearer_auth(t);
                }
                let r = req.send().await.unwrap();
                let status = r.status().as_u16();
                let body = if status == 200 {
                    Value::Null
                } else {
                    r.json().await.unwrap()
                };
                (status, body)
            } else {
                s.call(case.method, &case.path, token.as_deref(), body.as_ref())
                    .await
            };
            let what = format!("{} {} as {who}: {status} {resp}", case.method, case.path);
            if allowed {
                let expect = case
                    .except
                    .iter()
                    .find(|(w, _)| *w == who)
                    .map(|(_, st)| *st)
                    .unwrap_or(case.granted);
                assert_eq!(status, expect, "{what}");
            } else if roles.is_none()
                || matches!(case.need, Camera)
                || roles.is_some_and(|r| r.contains(&Role::Camera))
            {
                // No credentials, or the wrong kind: not authenticated for this operation.
                assert_eq!(status, 401, "{what}");
            } else {
                assert_eq!(status, 403, "{what}");
                assert_eq!(resp["error"]["code"], "missing_permission", "{what}");
                let perms: Vec<&str> = match case.need {
                    Any(p) | OwnerOr(p) => p.iter().map(|p| p.describe()).collect(),
                    _ => vec![],
                };
                let msg = resp["error"]["message"].as_str().unwrap_or_default();
                assert!(
                    perms.iter().any(|p| msg.contains(p)),
                    "the refusal says in words what the permission allows: {what}"
                );
            }
            checked += 1;
        }
    }
    eprintln!("authorisation matrix: {checked} (operation, principal) cells checked");
}
