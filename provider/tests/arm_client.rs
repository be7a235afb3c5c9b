//! Integration tests of `defender::arm` against a real HTTP server owned by each test, on
//! `127.0.0.1:0` (DESIGN.md §5): retries, long-running operations, paging, cancellation,
//! token flows and caching, log hygiene, cloud discovery.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use defender::arm::{
    ArmClient, ArmError, AuthConfig, AzureCliCredential, ClientCredential, ClientOptions, Cloud,
    CloudError, ManagedIdentityCredential, RetryPolicy, Secret, StaticTokenCredential,
    TokenCredential, build_client,
};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
const CLIENT: &str = "00000000-0000-0000-0000-0000000000c1";
const API: &str = "2024-01-01";

// ----------------------------------------------------------------------------------------------
// The test server.

/// A request as the server saw it.
#[derive(Clone, Debug)]
struct Req {
    method: String,
    path: String,
    query: String,
    headers: HeaderMap,
    body: String,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }

    fn form_value(&self, key: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    fn query_value(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }
}

/// What the server answers.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_string(),
            delay: Duration::ZERO,
        }
    }

    fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    fn header(mut self, k: &'static str, v: impl Into<String>) -> Reply {
        self.headers.push((k, v.into()));
        self
    }

    fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    fn arm_error(status: u16, code: &str, message: &str) -> Reply {
        Reply::json(status, json!({"error": {"code": code, "message": message}}))
    }
}

type Handler = Arc<dyn Fn(&Req, &str) -> Reply + Send + Sync>;

struct ServerState {
    base: String,
    handler: Handler,
    log: Mutex<Vec<Req>>,
    served: AtomicUsize,
}

/// The server; stopped on drop.
struct Server {
    base: String,
    state: Arc<ServerState>,
    stop: CancellationToken,
    dropped: Arc<AtomicUsize>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Drops the first `drops` connections after reading the request: the client sees the
/// connection close before any answer.
struct DroppingListener {
    inner: TcpListener,
    drops: usize,
    dropped: Arc<AtomicUsize>,
}

impl axum::serve::Listener for DroppingListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Ok((mut s, a)) = self.inner.accept().await else {
                continue;
            };
            if self.drops > 0 {
                self.drops -= 1;
                let mut buf = [0u8; 4096];
                let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut buf)).await;
                drop(s);
                self.dropped.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            return (s, a);
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

async fn handle(
    State(st): State<Arc<ServerState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = Req {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    st.log.lock().unwrap().push(req.clone());
    let n = st.served.fetch_add(1, Ordering::SeqCst) + 1;
    let reply = (st.handler)(&req, &st.base);
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = (
        axum::http::StatusCode::from_u16(reply.status).unwrap(),
        reply.body,
    )
        .into_response();
    resp.headers_mut()
        .insert("x-ms-request-id", format!("rid-{n}").parse().unwrap());
    for (k, v) in reply.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

impl Server {
    async fn start(handler: impl Fn(&Req, &str) -> Reply + Send + Sync + 'static) -> Server {
        Self::start_dropping(0, handler).await
    }

    async fn start_dropping(
        drops: usize,
        handler: impl Fn(&Req, &str) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{addr}");
        let state = Arc::new(ServerState {
            base: base.clone(),
            handler: Arc::new(handler),
            log: Mutex::new(Vec::new()),
            served: AtomicUsize::new(0),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(state.clone());
        let stop = CancellationToken::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let listener = DroppingListener {
            inner: listener,
            drops,
            dropped: dropped.clone(),
        };
        let s = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(s.cancelled_owned())
                .await;
        });
        Server {
            base,
            state,
            stop,
            dropped,
        }
    }

    fn requests(&self) -> Vec<Req> {
        self.state.log.lock().unwrap().clone()
    }

    fn count(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r.path == path).count()
    }

    fn cloud(&self) -> Cloud {
        Cloud::custom("test", &self.base, &self.base, None).unwrap()
    }
}

fn fast_retry(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        jitter: 0.0,
    }
}

fn client_with(
    server: &Server,
    credential: Arc<dyn TokenCredential>,
    tweak: impl FnOnce(&mut ClientOptions),
) -> ArmClient {
    let mut o = ClientOptions::new(server.cloud(), credential);
    o.retry = fast_retry(4);
    o.poll_interval = Some(Duration::from_millis(10));
    o.user_agent_suffix = Some("Terraform/1.15.0".into());
    tweak(&mut o);
    ArmClient::new(o).unwrap()
}

fn client(server: &Server) -> ArmClient {
    client_with(
        server,
        Arc::new(StaticTokenCredential::new("static-token")),
        |_| {},
    )
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// A token endpoint answer: `tok-{n}` valid for `expires_in` seconds.
fn token_reply(n: usize, expires_in: u64) -> Reply {
    Reply::json(
        200,
        json!({"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in, "access_token": format!("tok-{n}")}),
    )
}

fn is_token_path(r: &Req) -> bool {
    r.path.ends_with("/oauth2/v2.0/token")
}

// ----------------------------------------------------------------------------------------------
// Retries.

#[tokio::test]
async fn throttled_request_waits_for_retry_after_then_succeeds() {
    let n = counter();
    let c = n.clone();
    let server = Server::start(move |_, _| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "1")
        } else {
            Reply::json(200, json!({"name": "VirtualMachines"}))
        }
    })
    .await;
    let arm = client(&server);
    let started = Instant::now();
    let r = arm.get("/subscriptions/x/pricings", API).await.unwrap();
    let took = started.elapsed();
    assert_eq!(r.body["name"], "VirtualMachines");
    assert_eq!(r.request_id.as_deref(), Some("rid-2"));
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After not honoured: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert_eq!(n.load(Ordering::SeqCst), 2);

    let reqs = server.requests();
    assert_eq!(reqs[0].query, format!("api-version={API}"));
    // One correlation id for the process, a fresh client request id per attempt.
    assert_eq!(
        reqs[0].header("x-ms-correlation-request-id"),
        reqs[1].header("x-ms-correlation-request-id")
    );
    assert_eq!(
        reqs[0].header("x-ms-correlation-request-id"),
        Some(defender::arm::process_correlation_id())
    );
    assert_ne!(
        reqs[0].header("x-ms-client-request-id"),
        reqs[1].header("x-ms-client-request-id")
    );
    assert_eq!(reqs[1].header("authorization"), Some("Bearer static-token"));
    let ua = reqs[0].header("user-agent").unwrap();
    assert_eq!(
        ua,
        format!(
            "terraform-provider-defender/{} (Terraform/1.15.0)",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[tokio::test]
async fn burst_of_503_then_success() {
    let n = counter();
    let c = n.clone();
    let server = Server::start(move |_, _| {
        if c.fetch_add(1, Ordering::SeqCst) < 3 {
            Reply::arm_error(503, "ServiceUnavailable", "busy")
        } else {
            Reply::json(200, json!({"ok": true}))
        }
    })
    .await;
    let arm = client_with(&server, Arc::new(StaticTokenCredential::new("t")), |o| {
        o.retry = fast_retry(5)
    });
    let r = arm.get("/x", API).await.unwrap();
    assert_eq!(r.body["ok"], true);
    assert_eq!(n.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn exhausted_retries_give_the_typed_error_with_request_id() {
    let server =
        Server::start(|_, _| Reply::arm_error(503, "ServiceUnavailable", "still busy")).await;
    let arm = client_with(&server, Arc::new(StaticTokenCredential::new("t")), |o| {
        o.retry = fast_retry(3)
    });
    let e = arm.get("/x", API).await.unwrap_err();
    assert_eq!(server.count("/x"), 3);
    assert_eq!(e.status(), Some(503));
    assert_eq!(e.code(), Some("ServiceUnavailable"));
    assert_eq!(e.request_id(), Some("rid-3"));
    assert!(e.is_retryable());
    assert_eq!(
        e.to_string(),
        "ServiceUnavailable: still busy (status 503, request id rid-3)"
    );
}

/// Throttling does not use up the attempts: ARM did not process the request. Ten 429s in a
/// row (the client allows 4 attempts) and the request still goes through; the operation's
/// deadline is what bounds the waiting.
#[tokio::test]
async fn throttling_does_not_use_up_the_attempts_only_the_deadline_bounds_it() {
    let n = counter();
    let c = n.clone();
    let server = Server::start(move |_, _| {
        if c.fetch_add(1, Ordering::SeqCst) < 10 {
            Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "0")
        } else {
            Reply::json(200, json!({"name": "VirtualMachines"}))
        }
    })
    .await;
    let arm = client(&server);
    let r = arm.get("/subscriptions/x/pricings", API).await.unwrap();
    assert_eq!(r.body["name"], "VirtualMachines");
    assert_eq!(n.load(Ordering::SeqCst), 11);

    // Throttled for ever: the deadline ends it, with the 429.
    let always = Server::start(|_, _| {
        Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "0")
    })
    .await;
    let arm = client(&always);
    let started = Instant::now();
    let e = arm
        .request(defender::arm::Method::GET, "/x")
        .api_version(API)
        .timeout(Duration::from_millis(800))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_throttled(), "{e}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(
        always.count("/x") > 4,
        "retried past max_attempts: {}",
        always.count("/x")
    );

    // The deadline falls while the attempt after a 429 is still waiting for its answer: the
    // error is ARM's throttling, not "no answer" (a race the loop above can also hit).
    let k = counter();
    let c = k.clone();
    let slow = Server::start(move |_, _| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "0")
        } else {
            Reply::json(200, json!({})).delay(Duration::from_secs(3))
        }
    })
    .await;
    let arm = client(&slow);
    let e = arm
        .request(defender::arm::Method::GET, "/z")
        .api_version(API)
        .timeout(Duration::from_millis(500))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_throttled(), "{e}");
    assert_eq!(slow.count("/z"), 2);

    // Other failures still stop after max_attempts (4).
    let failing = Server::start(|_, _| Reply::arm_error(503, "ServiceUnavailable", "busy")).await;
    let arm = client(&failing);
    arm.get("/y", API).await.unwrap_err();
    assert_eq!(failing.count("/y"), 4);
}

#[tokio::test]
async fn retry_after_past_the_deadline_returns_the_last_error_at_once() {
    let server = Server::start(|_, _| {
        Reply::arm_error(429, "TooManyRequests", "later").header("retry-after", "60")
    })
    .await;
    let arm = client(&server);
    let started = Instant::now();
    let e = arm
        .request(defender::arm::Method::GET, "/x")
        .api_version(API)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap_err();
    assert!(e.is_throttled(), "{e}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.count("/x"), 1);
}

#[tokio::test]
async fn conflict_is_retried_only_when_the_caller_asks() {
    let n = counter();
    let c = n.clone();
    let server = Server::start(move |_, _| {
        if c.fetch_add(1, Ordering::SeqCst).is_multiple_of(2) {
            Reply::arm_error(409, "Conflict", "Another update operation is in progress")
        } else {
            Reply::json(200, json!({"properties": {"pricingTier": "Standard"}}))
        }
    })
    .await;
    let arm = client(&server);
    let body = json!({"properties": {"pricingTier": "Standard"}});
    let e = arm.put("/p", API, &body).await.unwrap_err();
    assert!(e.is_conflict());
    assert_eq!(
        e.to_string(),
        "Conflict: Another update operation is in progress (status 409, request id rid-1)"
    );
    // Request 2 succeeds; 3 conflicts again and is retried into 4.
    let _ = arm.put("/p", API, &body).await.unwrap();
    let r = arm
        .request(defender::arm::Method::PUT, "/p")
        .api_version(API)
        .json(&body)
        .retry_on(|e| e.is_conflict())
        .operation("updating Pricing \"VirtualMachines\"")
        .send()
        .await
        .unwrap();
    assert_eq!(r.body["properties"]["pricingTier"], "Standard");
    assert_eq!(n.load(Ordering::SeqCst), 4);
    let put = &server.requests()[3];
    assert_eq!(put.header("content-type"), Some("application/json"));
    assert_eq!(serde_json::from_str::<Value>(&put.body).unwrap(), body);
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let server = Server::start_dropping(1, |_, _| Reply::json(200, json!({"ok": 1}))).await;
    let arm = client(&server);
    let r = arm.get("/x", API).await.unwrap();
    assert_eq!(r.body["ok"], 1);
    assert_eq!(server.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(server.count("/x"), 1);
}

#[tokio::test]
async fn unreachable_host_is_a_transport_error_after_retries() {
    // Bind and close a port so nothing listens there.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    let mut o = ClientOptions::new(
        Cloud::custom("gone", &base, &base, None).unwrap(),
        Arc::new(StaticTokenCredential::new("t")),
    );
    o.retry = fast_retry(2);
    let arm = ArmClient::new(o).unwrap();
    let e = arm.get("/x", API).await.unwrap_err();
    assert!(matches!(e, ArmError::Transport { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with(&format!("GET {base}/x?api-version=")),
        "{e}"
    );
}

// ----------------------------------------------------------------------------------------------
// Long-running operations.

#[tokio::test]
async fn lro_azure_async_operation_success() {
    let polls = counter();
    let p = polls.clone();
    let server = Server::start(move |r, base| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", "/ws") => Reply::json(
            201,
            json!({"properties": {"provisioningState": "Creating"}}),
        )
        .header(
            "azure-asyncoperation",
            format!("{base}/operations/op1?api-version={API}"),
        )
        .header("retry-after", "0"),
        ("GET", "/operations/op1") => {
            if p.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(200, json!({"status": "InProgress"}))
            } else {
                Reply::json(200, json!({"status": "Succeeded"}))
            }
        }
        ("GET", "/ws") => Reply::json(
            200,
            json!({"id": "/ws", "properties": {"provisioningState": "Succeeded"}}),
        ),
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let r = arm
        .put("/ws", API, &json!({"location": "westeurope"}))
        .await
        .unwrap();
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    assert_eq!(server.count("/ws"), 2);
}

#[tokio::test]
async fn lro_azure_async_operation_failed() {
    let server = Server::start(move |r, base| match (r.method.as_str(), r.path.as_str()) {
        ("PUT", "/ws") => Reply::empty(202)
            .header("azure-asyncoperation", format!("{base}/operations/op2"))
            .header("retry-after", "0"),
        ("GET", "/operations/op2") => Reply::json(
            200,
            json!({"status": "Failed", "error": {"code": "QuotaExceeded", "message": "no room in westeurope"}}),
        ),
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let e = arm.put("/ws", API, &json!({})).await.unwrap_err();
    assert!(matches!(e, ArmError::OperationFailed { .. }), "{e:?}");
    assert_eq!(e.code(), Some("QuotaExceeded"));
    assert_eq!(
        e.to_string(),
        "QuotaExceeded: no room in westeurope (long-running operation Failed, request id rid-1)"
    );
}

#[tokio::test]
async fn lro_location_success_for_delete_and_post() {
    let polls = counter();
    let p = polls.clone();
    let server = Server::start(move |r, base| match (r.method.as_str(), r.path.as_str()) {
        ("DELETE", "/ws") => Reply::empty(202)
            .header("location", format!("{base}/locations/del1"))
            .header("retry-after", "0"),
        ("GET", "/locations/del1") => {
            if p.fetch_add(1, Ordering::SeqCst) < 2 {
                Reply::empty(202)
            } else {
                Reply::empty(204)
            }
        }
        ("POST", "/ws/listKeys") => {
            Reply::empty(202).header("location", format!("{base}/locations/post1"))
        }
        ("GET", "/locations/post1") => Reply::json(200, json!({"primary": "k"})),
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let deleted = arm.delete("/ws", API).await.unwrap();
    assert!(deleted.is_some());
    assert_eq!(polls.load(Ordering::SeqCst), 3);
    let r = arm.post("/ws/listKeys", API, None).await.unwrap();
    assert_eq!(r.body["primary"], "k");
    let post = server
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.header("content-length"), Some("0"));
}

#[tokio::test]
async fn lro_location_failed() {
    let server = Server::start(move |r, base| match (r.method.as_str(), r.path.as_str()) {
        ("DELETE", "/ws") => Reply::empty(202).header("location", format!("{base}/locations/del2")),
        ("GET", "/locations/del2") => {
            Reply::arm_error(400, "WorkspaceDeletionFailed", "the workspace is locked")
        }
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let e = arm.delete("/ws", API).await.unwrap_err();
    assert_eq!(e.code(), Some("WorkspaceDeletionFailed"));
    assert_eq!(e.status(), Some(400));
}

#[tokio::test]
async fn lro_provisioning_state_polling() {
    let gets = counter();
    let g = gets.clone();
    let server = Server::start(move |r, _| match r.method.as_str() {
        "PUT" => Reply::json(
            201,
            json!({"properties": {"provisioningState": "Accepted"}}),
        ),
        _ => {
            if g.fetch_add(1, Ordering::SeqCst) == 0 {
                Reply::json(
                    200,
                    json!({"properties": {"provisioningState": "Creating"}}),
                )
            } else {
                Reply::json(
                    200,
                    json!({"properties": {"provisioningState": "Succeeded", "x": 1}}),
                )
            }
        }
    })
    .await;
    let arm = client(&server);
    let r = arm.put("/thing", API, &json!({})).await.unwrap();
    assert_eq!(r.body["properties"]["x"], 1);
    assert_eq!(gets.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn lro_url_on_another_host_is_refused() {
    let server = Server::start(move |r, _| match r.method.as_str() {
        "PUT" => Reply::empty(202)
            .header("azure-asyncoperation", "http://attacker.example/op")
            .header("retry-after", "0"),
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let e = arm.put("/x", API, &json!({})).await.unwrap_err();
    assert!(matches!(e, ArmError::BadResponse { .. }), "{e:?}");
    assert!(e.to_string().contains("refusing to follow"), "{e}");
}

#[tokio::test]
async fn delete_of_missing_resource_is_none() {
    let server = Server::start(|r, _| match r.path.as_str() {
        "/gone" => Reply::arm_error(404, "ResourceNotFound", "not found"),
        "/nothing" => Reply::empty(204),
        _ => Reply::arm_error(
            404,
            "SubscriptionNotFound",
            "The subscription 'x' could not be found.",
        ),
    })
    .await;
    let arm = client(&server);
    assert!(arm.delete("/gone", API).await.unwrap().is_none());
    assert!(arm.delete("/nothing", API).await.unwrap().is_none());
    let e = arm.delete("/sub", API).await.unwrap_err();
    assert!(e.is_not_found());
    let e = arm.get("/gone", API).await.unwrap_err();
    assert!(e.is_not_found() && !e.is_retryable());
}

// ----------------------------------------------------------------------------------------------
// Paging.

#[tokio::test]
async fn list_follows_next_link_across_pages_including_an_empty_one() {
    let server = Server::start(move |r, base| match r.query_value("page").as_deref() {
        None => Reply::json(
            200,
            json!({"value": [{"name": "a"}, {"name": "b"}], "nextLink": format!("{base}/items?page=2&api-version={API}")}),
        ),
        // Some RPs drop api-version from nextLink; the client puts it back.
        Some("2") => Reply::json(
            200,
            json!({"value": [], "nextLink": format!("{base}/items?page=3")}),
        ),
        Some("3") => Reply::json(200, json!({"value": [{"name": "c"}], "nextLink": null})),
        _ => Reply::empty(500),
    })
    .await;
    let arm = client(&server);
    let items = arm
        .list("/items", API, &[("$filter", "name in (a,b,c)")])
        .await
        .unwrap();
    let names: Vec<&str> = items.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(
        reqs[0].query_value("$filter").as_deref(),
        Some("name in (a,b,c)")
    );
    assert_eq!(reqs[2].query_value("api-version").as_deref(), Some(API));
}

#[tokio::test]
async fn list_detects_a_paging_loop() {
    let server = Server::start(move |_, base| {
        Reply::json(
            200,
            json!({"value": [1], "nextLink": format!("{base}/items?api-version={API}&page=loop")}),
        )
    })
    .await;
    let arm = client(&server);
    let e = arm.list("/items", API, &[]).await.unwrap_err();
    assert!(e.to_string().contains("paging loop"), "{e}");
    assert!(server.requests().len() <= 3);
}

// ----------------------------------------------------------------------------------------------
// Cancellation.

#[tokio::test]
async fn cancellation_returns_promptly() {
    let server =
        Server::start(|_, _| Reply::json(200, json!({})).delay(Duration::from_secs(20))).await;
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let arm = client_with(
        &server,
        Arc::new(StaticTokenCredential::new("t")),
        move |o| o.cancel = c,
    );
    let stopper = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        stopper.cancel();
    });
    let started = Instant::now();
    let e = arm.get("/slow", API).await.unwrap_err();
    assert!(e.is_cancelled(), "{e:?}");
    assert_eq!(e.to_string(), "cancelled: the provider is stopping");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Already cancelled: fails before sending.
    assert!(arm.get("/slow", API).await.unwrap_err().is_cancelled());
    assert_eq!(server.count("/slow"), 1);
}

#[tokio::test]
async fn slow_answers_hit_the_operation_deadline() {
    let server =
        Server::start(|_, _| Reply::json(200, json!({})).delay(Duration::from_secs(20))).await;
    let arm = client_with(&server, Arc::new(StaticTokenCredential::new("t")), |o| {
        o.retry = fast_retry(1)
    });
    let e = arm
        .request(defender::arm::Method::GET, "/slow")
        .api_version(API)
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, ArmError::Timeout { .. }), "{e:?}");
    assert!(e.to_string().contains("no answer within"), "{e}");
}

// ----------------------------------------------------------------------------------------------
// Tokens.

#[tokio::test]
async fn client_secret_token_is_cached_and_refreshed_when_expired() {
    let tokens = counter();
    let expires_in = Arc::new(AtomicUsize::new(3600));
    let (t, e) = (tokens.clone(), expires_in.clone());
    let server = Server::start(move |r, _| {
        if is_token_path(r) {
            let n = t.fetch_add(1, Ordering::SeqCst) + 1;
            token_reply(n, e.load(Ordering::SeqCst) as u64)
        } else {
            Reply::json(200, json!({"auth": r.header("authorization")}))
        }
    })
    .await;
    let cloud = server.cloud();
    let cred = Arc::new(ClientCredential::secret(
        &cloud,
        TENANT,
        CLIENT,
        Secret::new("s3cret"),
    ));
    let arm = client_with(&server, cred, |_| {});
    for _ in 0..3 {
        let r = arm.get("/x", API).await.unwrap();
        assert_eq!(r.body["auth"], "Bearer tok-1");
    }
    assert_eq!(tokens.load(Ordering::SeqCst), 1);

    let token_req = server.requests().into_iter().find(is_token_path).unwrap();
    assert_eq!(token_req.method, "POST");
    assert_eq!(token_req.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert_eq!(
        token_req.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(token_req.form_value("client_id").as_deref(), Some(CLIENT));
    assert_eq!(
        token_req.form_value("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        token_req.form_value("client_secret").as_deref(),
        Some("s3cret")
    );
    assert_eq!(
        token_req.form_value("scope"),
        Some(format!("{}/.default", server.base))
    );

    // A credential whose tokens live 1 s: reused within half their life, then refreshed.
    expires_in.store(1, Ordering::SeqCst);
    let cred = Arc::new(ClientCredential::secret(
        &cloud,
        TENANT,
        CLIENT,
        Secret::new("s3cret"),
    ));
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer tok-2"
    );
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer tok-2"
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer tok-3"
    );
    assert_eq!(tokens.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn entra_errors_are_typed_and_name_the_flow() {
    let server = Server::start(|r, _| {
        if is_token_path(r) {
            Reply::json(
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\r\nTrace ID: t1\r\nCorrelation ID: c1", "error_codes": [7000215], "trace_id": "t1", "correlation_id": "c1"}),
            )
        } else {
            Reply::json(200, json!({}))
        }
    })
    .await;
    let cloud = server.cloud();
    let cred = Arc::new(ClientCredential::secret(
        &cloud,
        TENANT,
        CLIENT,
        Secret::new("bad"),
    ));
    let arm = client_with(&server, cred, |_| {});
    let e = arm.get("/x", API).await.unwrap_err();
    let ArmError::Auth(auth) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(auth.entra_error(), Some("invalid_client"));
    assert_eq!(
        e.to_string(),
        format!(
            "acquiring token with client secret for client \"{CLIENT}\" in tenant \"{TENANT}\": invalid_client: AADSTS7000215: Invalid client secret provided. Trace ID: t1 Correlation ID: c1"
        )
    );
    // Not retried: a 401 from Entra will not get better.
    assert_eq!(
        server
            .requests()
            .iter()
            .filter(|r| is_token_path(r))
            .count(),
        1
    );
    assert_eq!(server.count("/x"), 0);
}

#[tokio::test]
async fn auxiliary_tenant_tokens_are_sent() {
    let server = Server::start(|r, _| {
        if is_token_path(r) {
            let tenant = r.path.split('/').nth(1).unwrap_or_default().to_owned();
            Reply::json(
                200,
                json!({"access_token": format!("tok-{tenant}"), "expires_in": 3600}),
            )
        } else {
            Reply::json(
                200,
                json!({"aux": r.header("x-ms-authorization-auxiliary")}),
            )
        }
    })
    .await;
    let cloud = server.cloud();
    let cred = Arc::new(
        ClientCredential::secret(&cloud, TENANT, CLIENT, Secret::new("s"))
            .with_auxiliary_tenants(vec!["a.example.com".into(), "b.example.com".into()]),
    );
    let arm = client_with(&server, cred, |_| {});
    let r = arm.get("/x", API).await.unwrap();
    assert_eq!(
        r.body["aux"],
        "Bearer tok-a.example.com, Bearer tok-b.example.com"
    );
}

#[tokio::test]
async fn oidc_token_file_is_reread_at_each_acquisition() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "jwt-one\n").unwrap();
    let server = Server::start(|r, _| {
        if is_token_path(r) {
            let a = r.form_value("client_assertion").unwrap_or_default();
            Reply::json(
                200,
                json!({"access_token": format!("for-{a}"), "expires_in": 1}),
            )
        } else {
            Reply::json(200, json!({"auth": r.header("authorization")}))
        }
    })
    .await;
    let auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        use_oidc: Some(true),
        oidc_token_file_path: Some(path.display().to_string()),
        ..Default::default()
    };
    let cred = auth.credential(&server.cloud()).unwrap();
    assert_eq!(cred.flow(), "OIDC token file");
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer for-jwt-one"
    );
    std::fs::write(&path, "jwt-two").unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer for-jwt-two"
    );
    let tok = server.requests().into_iter().find(is_token_path).unwrap();
    assert_eq!(
        tok.form_value("client_assertion_type").as_deref(),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    assert_eq!(tok.form_value("client_secret"), None);
}

#[tokio::test]
async fn github_actions_oidc_request_flow() {
    let server = Server::start(|r, _| {
        if r.path == "/gh/idtoken" {
            if r.header("authorization") != Some("Bearer gh-request-token")
                || r.query_value("audience").as_deref() != Some("api://AzureADTokenExchange")
                || r.query_value("run").as_deref() != Some("7")
            {
                return Reply::json(401, json!({"message": "bad request token"}));
            }
            Reply::json(200, json!({"count": 1, "value": "gh-jwt"}))
        } else if is_token_path(r) {
            let a = r.form_value("client_assertion").unwrap_or_default();
            Reply::json(
                200,
                json!({"access_token": format!("for-{a}"), "expires_in": 3600}),
            )
        } else {
            Reply::json(200, json!({"auth": r.header("authorization")}))
        }
    })
    .await;
    let auth = AuthConfig::default().with_defaults_from(|k| {
        let v = match k {
            "ARM_SUBSCRIPTION_ID" => SUB.to_owned(),
            "ARM_TENANT_ID" => TENANT.to_owned(),
            "ARM_CLIENT_ID" => CLIENT.to_owned(),
            "ARM_USE_OIDC" => "true".to_owned(),
            "ACTIONS_ID_TOKEN_REQUEST_URL" => format!("{}/gh/idtoken?run=7", server.base),
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN" => "gh-request-token".to_owned(),
            _ => return None,
        };
        Some(v)
    });
    assert!(auth.validate().is_empty(), "{:?}", auth.validate());
    let cred = auth.credential(&server.cloud()).unwrap();
    assert_eq!(cred.flow(), "GitHub Actions OIDC");
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer for-gh-jwt"
    );
}

#[tokio::test]
async fn managed_identity_flow_against_imds_protocol() {
    let server = Server::start(|r, base| {
        if r.path == "/metadata/identity/oauth2/token" {
            if r.header("metadata") != Some("true")
                || r.query_value("api-version").as_deref() != Some("2018-02-01")
                || r.query_value("resource") != Some(format!("{base}/"))
                || r.query_value("client_id").as_deref() != Some(CLIENT)
            {
                return Reply::json(400, json!({"error": "invalid_request", "error_description": "bad IMDS request"}));
            }
            // IMDS sends numbers as strings.
            Reply::json(
                200,
                json!({"access_token": "mi-token", "refresh_token": "", "expires_in": "3599", "expires_on": "4102444800", "not_before": "1506480273", "resource": base, "token_type": "Bearer"}),
            )
        } else {
            Reply::json(200, json!({"auth": r.header("authorization")}))
        }
    })
    .await;
    let cred = Arc::new(
        ManagedIdentityCredential::new()
            .with_endpoint(&format!("{}/metadata/identity/oauth2/token", server.base))
            .unwrap()
            .with_client_id(CLIENT),
    );
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer mi-token"
    );
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer mi-token"
    );
    assert_eq!(server.count("/metadata/identity/oauth2/token"), 1);

    // Through AuthConfig: use_msi + msi_endpoint.
    let auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        client_id: Some(CLIENT.into()),
        use_msi: Some(true),
        msi_endpoint: Some(format!("{}/metadata/identity/oauth2/token", server.base)),
        ..Default::default()
    };
    let cred = auth.credential(&server.cloud()).unwrap();
    assert_eq!(cred.flow(), "managed identity");
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer mi-token"
    );
}

/// A self-signed RSA certificate as a password-protected PKCS#12 bundle, plus the
/// certificate's DER and the key's public part (to verify signatures).
fn test_pfx(password: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    // rcgen signs with ring (the provider's backend), which cannot generate RSA keys.
    use aws_lc_rs::encoding::AsDer;
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let pkcs8: aws_lc_rs::encoding::Pkcs8V1Der = rsa.as_der().unwrap();
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8.as_ref()),
        &rcgen::PKCS_RSA_SHA256,
    )
    .unwrap();
    let params = rcgen::CertificateParams::new(vec!["defender-test".into()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let cert_der = cert.der().to_vec();
    let mut ks = p12_keystore::KeyStore::new();
    ks.add_entry(
        "defender-test",
        p12_keystore::KeyStoreEntry::PrivateKeyChain(p12_keystore::PrivateKeyChain::new(
            vec![1u8, 2, 3, 4],
            p12_keystore::PrivateKey::from_der(&key.serialize_der()).unwrap(),
            [p12_keystore::Certificate::from_der(&cert_der).unwrap()],
        )),
    );
    let pfx = ks.writer(password).write().unwrap();
    (pfx, cert_der, key.public_key_raw().to_vec())
}

/// Checks a client assertion the way Entra ID does; returns an error text when it is wrong.
fn check_assertion(
    jwt: &str,
    cert_der: &[u8],
    public_key: &[u8],
    token_url: &str,
) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    if parts.len() != 3 {
        return Err("not a JWS".into());
    }
    let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string());
    let header: Value = serde_json::from_slice(&decode(parts[0])?).map_err(|e| e.to_string())?;
    let claims: Value = serde_json::from_slice(&decode(parts[1])?).map_err(|e| e.to_string())?;
    let sha1 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
    if header["alg"] != "RS256" || header["x5t"] != URL_SAFE_NO_PAD.encode(sha1.as_ref()) {
        return Err(format!("bad header {header}"));
    }
    if claims["aud"] != token_url || claims["iss"] != CLIENT || claims["sub"] != CLIENT {
        return Err(format!("bad claims {claims}"));
    }
    let (nbf, exp) = (
        claims["nbf"].as_u64().unwrap_or(0),
        claims["exp"].as_u64().unwrap_or(0),
    );
    if exp <= nbf || exp - nbf > 600 || claims["jti"].as_str().unwrap_or("").is_empty() {
        return Err(format!("bad lifetime {claims}"));
    }
    let key = aws_lc_rs::signature::UnparsedPublicKey::new(
        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key,
    );
    key.verify(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &decode(parts[2])?,
    )
    .map_err(|_| "bad signature".to_owned())
}

#[tokio::test]
async fn client_certificate_flow_signs_a_valid_assertion() {
    let (pfx, cert_der, public_key) = test_pfx("pfx-password");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sp.pfx");
    std::fs::write(&path, &pfx).unwrap();
    let verdicts = Arc::new(Mutex::new(Vec::new()));
    let v = verdicts.clone();
    let server = Server::start(move |r, base| {
        if is_token_path(r) {
            let url = format!("{base}{}", r.path);
            let verdict = check_assertion(
                &r.form_value("client_assertion").unwrap_or_default(),
                &cert_der,
                &public_key,
                &url,
            );
            v.lock().unwrap().push(verdict.clone());
            match verdict {
                Ok(()) => Reply::json(
                    200,
                    json!({"access_token": "cert-token", "expires_in": 3600}),
                ),
                Err(e) => Reply::json(
                    401,
                    json!({"error": "invalid_client", "error_description": e}),
                ),
            }
        } else {
            Reply::json(200, json!({"auth": r.header("authorization")}))
        }
    })
    .await;
    let auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        client_certificate_path: Some(path.display().to_string()),
        client_certificate_password: Some("pfx-password".into()),
        ..Default::default()
    };
    let cred = auth.credential(&server.cloud()).unwrap();
    assert_eq!(cred.flow(), "client certificate");
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer cert-token"
    );

    // The same bundle as base64 content (`client_certificate`).
    let auth = AuthConfig {
        client_certificate_path: None,
        client_certificate: Some(STANDARD.encode(&pfx)),
        ..auth
    };
    let arm = client_with(&server, auth.credential(&server.cloud()).unwrap(), |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer cert-token"
    );
    assert_eq!(*verdicts.lock().unwrap(), vec![Ok(()), Ok(())]);

    // A wrong password is an error naming the flow and the attribute.
    let bad = AuthConfig {
        client_certificate_password: Some("wrong".into()),
        ..auth
    };
    let arm = client_with(&server, bad.credential(&server.cloud()).unwrap(), |_| {});
    let e = arm.get("/x", API).await.unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "acquiring token with client certificate for client \"{CLIENT}\" in tenant \"{TENANT}\": client_certificate: reading the PKCS#12 bundle"
        )),
        "{e}"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn azure_cli_flow_runs_az_and_parses_expires_on() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let args_file = dir.path().join("args");
    let az = dir.path().join("az");
    let mut f = std::fs::File::create(&az).unwrap();
    writeln!(
        f,
        "#!/bin/sh\necho \"$@\" > '{}'\necho '{{\"accessToken\":\"cli-token\",\"expiresOn\":\"2099-01-01 00:00:00.000000\",\"expires_on\":4070908800,\"subscription\":\"{SUB}\",\"tenant\":\"{TENANT}\",\"tokenType\":\"Bearer\"}}'",
        args_file.display()
    )
    .unwrap();
    drop(f);
    std::fs::set_permissions(&az, std::fs::Permissions::from_mode(0o755)).unwrap();
    let server =
        Server::start(|r, _| Reply::json(200, json!({"auth": r.header("authorization")}))).await;
    let cred = Arc::new(
        AzureCliCredential::new()
            .with_tenant(TENANT)
            .with_program(&az),
    );
    let arm = client_with(&server, cred, |_| {});
    assert_eq!(
        arm.get("/x", API).await.unwrap().body["auth"],
        "Bearer cli-token"
    );
    let args = std::fs::read_to_string(&args_file).unwrap();
    assert_eq!(
        args.trim(),
        format!(
            "account get-access-token --resource {}/ -o json --tenant {TENANT}",
            server.base
        )
    );

    let missing = Arc::new(AzureCliCredential::new().with_program(dir.path().join("no-az")));
    let arm = client_with(&server, missing, |_| {});
    let e = arm.get("/x", API).await.unwrap_err().to_string();
    assert!(
        e.starts_with("acquiring token with Azure CLI: the Azure CLI"),
        "{e}"
    );
}

// ----------------------------------------------------------------------------------------------
// Logs.

/// A `MakeWriter` appending to a shared buffer.
#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Buf {
    type Writer = Buf;
    fn make_writer(&'a self) -> Buf {
        self.clone()
    }
}

/// Runs in a process of its own: `tracing` caches each callsite's interest process-wide, and a
/// callsite first hit by a concurrent test on another thread (no subscriber there) could be
/// cached as disabled, dropping this test's TRACE lines (seen once in four runs).
#[tokio::test]
async fn secrets_and_authorization_never_reach_the_logs_even_at_trace() {
    const ALONE: &str = "ARM_CLIENT_TEST_LOGS_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "secrets_and_authorization_never_reach_the_logs_even_at_trace",
                "--test-threads=1",
            ])
            .env(ALONE, "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let buf = Buf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(buf.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let n = counter();
    let c = n.clone();
    let server = Server::start(move |r, _| {
        if is_token_path(r) {
            Reply::json(
                200,
                json!({"access_token": "tok-SECRET-VALUE", "expires_in": 3600}),
            )
        } else if c.fetch_add(1, Ordering::SeqCst) == 0 {
            Reply::arm_error(429, "TooManyRequests", "wait").header("retry-after", "0")
        } else {
            Reply::json(
                200,
                json!({"properties": {"pricingTier": "Standard"}, "access_token": "echoed-SECRET"}),
            )
        }
    })
    .await;
    let cloud = server.cloud();
    let cred = Arc::new(ClientCredential::secret(
        &cloud,
        TENANT,
        CLIENT,
        Secret::new("client-SECRET-value"),
    ));
    let arm = client_with(&server, cred, |_| {});
    arm.put(
        "/p",
        API,
        &json!({"properties": {"pricingTier": "Standard"}, "client_secret": "body-SECRET"}),
    )
    .await
    .unwrap();
    let auth = AuthConfig {
        client_secret: Some("config-SECRET".into()),
        oidc_request_token: Some("req-SECRET".into()),
        ..Default::default()
    };
    tracing::debug!(config = ?auth, "configured");

    let logs = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("ARM response body"),
        "TRACE was not captured:\n{logs}"
    );
    assert!(logs.contains("ARM request body"), "{logs}");
    assert!(logs.contains("retrying ARM request"), "{logs}");
    // The token request was rid-1; the throttled PUT is rid-2.
    assert!(logs.contains("request_id=\"rid-2\""), "{logs}");
    assert!(logs.contains("wait_ms=0"), "{logs}");
    for needle in ["SECRET", "Bearer", "authorization: ", "Authorization: "] {
        assert!(
            !logs.contains(needle),
            "{needle:?} leaked into the logs:\n{logs}"
        );
    }
}

// ----------------------------------------------------------------------------------------------
// Clouds.

#[tokio::test]
async fn http_is_refused_for_a_non_loopback_metadata_host() {
    let e = Cloud::discover("http://management.example.com")
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            CloudError::InvalidEndpoint {
                attribute: "metadata_host",
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        e.to_string().contains("only allowed for loopback hosts"),
        "{e}"
    );
    let auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        metadata_host: Some("http://10.1.2.3:8080".into()),
        ..Default::default()
    };
    let problems = auth.validate();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].attribute, "metadata_host");
    let e = build_client(&auth, "1.15.0", CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.attribute(), Some("metadata_host"));
}

#[tokio::test]
async fn metadata_discovery_then_calls_through_the_discovered_cloud() {
    let server = Server::start(|r, base| {
        if r.path == "/metadata/endpoints" {
            assert_eq!(r.query, "api-version=2022-09-01");
            Reply::json(
                200,
                json!({
                    "name": "DefenderEmulator",
                    "resourceManager": format!("{base}/"),
                    "authentication": {"loginEndpoint": format!("{base}/"), "audiences": [format!("{base}/")], "tenant": "common", "identityProvider": "AAD"},
                    "suffixes": {"storage": "core.windows.net"}
                }),
            )
        } else if is_token_path(r) {
            Reply::json(200, json!({"access_token": "emu-token", "expires_in": 3600}))
        } else {
            Reply::json(200, json!({"auth": r.header("authorization"), "path": r.path}))
        }
    })
    .await;
    let host = server.base.trim_start_matches("http://").to_owned();
    let cloud = Cloud::discover(&host).await.unwrap();
    assert_eq!(cloud.name, "DefenderEmulator");
    assert_eq!(cloud.resource_manager.as_str(), format!("{}/", server.base));
    assert_eq!(cloud.scope(), format!("{}/.default", server.base));

    let auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        tenant_id: Some(TENANT.into()),
        client_id: Some(CLIENT.into()),
        client_secret: Some("s".into()),
        metadata_host: Some(host),
        ..Default::default()
    };
    let arm = build_client(&auth, "1.15.0", CancellationToken::new())
        .await
        .unwrap();
    let path = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings/default"
    );
    let r = arm.get(&path, "2017-08-01-preview").await.unwrap();
    assert_eq!(r.body["auth"], "Bearer emu-token");
    assert_eq!(r.body["path"], path);
    assert!(arm.user_agent().ends_with("(Terraform/1.15.0)"));
}

// ----------------------------------------------------------------------------------------------
// Against the project's ARM emulator (the other side of the wire).

#[tokio::test]
async fn end_to_end_against_the_emulator_with_secret_and_certificate() {
    let (pfx, cert_der, _) = test_pfx("pw");
    const CERT_CLIENT: &str = "00000000-0000-0000-0000-0000000000c2";
    let emulator = arm_emulator::Emulator::start(
        arm_emulator::Config::default()
            .with_subscription(SUB)
            .with_client(arm_emulator::ClientRegistration::with_secret(
                CLIENT,
                "emu-secret",
            ))
            .with_client(arm_emulator::ClientRegistration {
                client_id: CERT_CLIENT.into(),
                secret: None,
                certificates: vec![cert_der],
            }),
    )
    .await
    .unwrap();
    let host = emulator.base_url().trim_start_matches("http://").to_owned();
    let path = format!(
        "/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings/default"
    );
    const AP: &str = "2017-08-01-preview";

    let secret_auth = AuthConfig {
        subscription_id: Some(SUB.into()),
        tenant_id: Some(arm_emulator::config::DEFAULT_TENANT_ID.into()),
        client_id: Some(CLIENT.into()),
        client_secret: Some("emu-secret".into()),
        metadata_host: Some(host.clone()),
        ..Default::default()
    };
    let arm = build_client(&secret_auth, "1.15.0", CancellationToken::new())
        .await
        .unwrap();
    let put = arm
        .put(&path, AP, &json!({"properties": {"autoProvision": "Off"}}))
        .await
        .unwrap();
    assert_eq!(put.body["properties"]["autoProvision"], "Off");
    assert!(put.request_id.is_some());

    let wrong = AuthConfig {
        client_secret: Some("not-the-secret".into()),
        ..secret_auth.clone()
    };
    let arm_wrong = build_client(&wrong, "1.15.0", CancellationToken::new())
        .await
        .unwrap();
    let e = arm_wrong.get(&path, AP).await.unwrap_err();
    assert!(matches!(e, ArmError::Auth(_)), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("acquiring token with client secret for client"),
        "{e}"
    );

    let dir = tempfile::tempdir().unwrap();
    let pfx_path = dir.path().join("c.pfx");
    std::fs::write(&pfx_path, &pfx).unwrap();
    let cert_auth = AuthConfig {
        client_id: Some(CERT_CLIENT.into()),
        client_secret: None,
        client_certificate_path: Some(pfx_path.display().to_string()),
        client_certificate_password: Some("pw".into()),
        ..secret_auth
    };
    let arm = build_client(&cert_auth, "1.15.0", CancellationToken::new())
        .await
        .unwrap();
    let got = arm.get(&path, AP).await.unwrap();
    assert_eq!(got.body["properties"]["autoProvision"], "Off");
    let all = arm
        .list(
            &format!("/subscriptions/{SUB}/providers/Microsoft.Security/autoProvisioningSettings"),
            AP,
            &[],
        )
        .await
        .unwrap();
    assert!(all.iter().any(|v| v["name"] == "default"), "{all:?}");
}

// ----------------------------------------------------------------------------------------------
// POST safety and rejected tokens (issue 7).

#[tokio::test]
async fn post_action_is_not_resent_after_a_dropped_connection() {
    // The connection closes after the request was written: the action may have run.
    let server = Server::start_dropping(1, |_, _| Reply::json(200, json!({"ok": 1}))).await;
    let arm = client(&server);
    let e = arm
        .post(
            "/subscriptions/s/providers/Microsoft.Foo/bar/x/regenerateKey",
            API,
            None,
        )
        .await
        .unwrap_err();
    assert!(matches!(e, ArmError::Transport { .. }), "{e:?}");
    assert_eq!(server.dropped.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 0, "sent once, never again");
}

#[tokio::test]
async fn idempotent_post_actions_are_retried() {
    // listDeployments and cancel are safe to send twice; so is any POST the caller marks.
    let server = Server::start_dropping(3, |_, _| Reply::json(200, json!({"ok": 1}))).await;
    let arm = client(&server);
    arm.post("/r/x/listDeployments", API, None).await.unwrap();
    arm.post("/r/x/cancel", API, None).await.unwrap();
    arm.request(defender::arm::Method::POST, "/r/x/doIt")
        .api_version(API)
        .idempotent(true)
        .send()
        .await
        .unwrap();
    assert_eq!(server.dropped.load(Ordering::SeqCst), 3);
    assert!(defender::arm::client::post_is_idempotent(
        "/a/b/listKeys?x=1"
    ));
    assert!(!defender::arm::client::post_is_idempotent("/a/b/deploy"));
}

#[tokio::test]
async fn post_is_retried_after_429_and_not_after_500() {
    let n = counter();
    let c = n.clone();
    let server = Server::start(move |r, _| {
        let k = c.fetch_add(1, Ordering::SeqCst);
        match (r.path.as_str(), k) {
            ("/throttled", 0) => {
                Reply::arm_error(429, "TooManyRequests", "slow down").header("retry-after", "0")
            }
            ("/throttled", _) => Reply::json(200, json!({"ok": 1})),
            _ => Reply::arm_error(500, "InternalServerError", "boom"),
        }
    })
    .await;
    let arm = client(&server);
    arm.post("/throttled", API, None).await.unwrap();
    assert_eq!(server.count("/throttled"), 2);
    let e = arm.post("/fails", API, None).await.unwrap_err();
    assert_eq!(e.status(), Some(500));
    assert_eq!(
        server.count("/fails"),
        1,
        "a 500 POST may have run: not resent"
    );
    // The same 500 on a PUT is retried.
    let _ = arm.put("/fails", API, &json!({})).await.unwrap_err();
    assert_eq!(server.count("/fails"), 5);
}

#[tokio::test]
async fn expired_token_rejected_by_arm_is_refetched_once() {
    let tokens = counter();
    let t = tokens.clone();
    let server = Server::start(move |r, _| {
        if is_token_path(r) {
            let n = t.fetch_add(1, Ordering::SeqCst) + 1;
            return token_reply(n, 3600);
        }
        // ARM considers tok-1 expired (its clock is ahead of ours); tok-2 is fine.
        if r.header("authorization") == Some("Bearer tok-1") || r.path == "/never" {
            return Reply::arm_error(
                401,
                "ExpiredAuthenticationToken",
                "The access token expiry UTC time is earlier than current UTC time.",
            )
            .header(
                "www-authenticate",
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\"",
            );
        }
        Reply::json(200, json!({"auth": r.header("authorization")}))
    })
    .await;
    let cloud = server.cloud();
    let cred = Arc::new(ClientCredential::secret(
        &cloud,
        TENANT,
        CLIENT,
        Secret::new("s3cret"),
    ));
    let arm = client_with(&server, cred, |_| {});
    let r = arm.get("/x", API).await.unwrap();
    assert_eq!(r.body["auth"], "Bearer tok-2");
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    // Cached from now on.
    arm.get("/x", API).await.unwrap();
    assert_eq!(tokens.load(Ordering::SeqCst), 2);
    // A token ARM never accepts: one refresh, then the 401 (no retry loop).
    let e = arm.get("/never", API).await.unwrap_err();
    assert_eq!(e.status(), Some(401));
    assert_eq!(e.code(), Some("ExpiredAuthenticationToken"));
    assert_eq!(server.count("/never"), 2);
    assert_eq!(tokens.load(Ordering::SeqCst), 3);
}
