//! The connection loop: HTTP/1.1 over hyper with limits that `axum::serve` lacks.
//!
//! A client must send its request head within `header_read_timeout` (a slowloris client that
//! trickles header bytes is disconnected), and a head larger than `max_header_bytes` is answered
//! `431 Request Header Fields Too Large` before any handler runs. Shutdown is graceful: the
//! listener closes, in-flight requests finish, idle connections are closed.

use crate::state::HttpConfig;
use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;

/// The network address of the client a request came from (the peer of its connection: a
/// proxy in front of the server is seen as the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub std::net::IpAddr);

/// Most header lines in one request head.
const MAX_HEADERS: usize = 100;

fn builder(config: &HttpConfig) -> auto::Builder<TokioExecutor> {
    // HTTP/1.1 only: detecting cleartext HTTP/2 means waiting, without a timeout, for the
    // first 24 bytes, so a client that connects and sends nothing would hold its connection
    // forever. Nothing here speaks HTTP/2 without TLS, which a proxy in front terminates.
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        // The read buffer bounds the request head: a longer one gets 431. Bodies stream
        // through it in chunks, so this does not limit them (`max_body_bytes` does).
        .max_buf_size(config.max_header_bytes.max(8192))
        .max_headers(MAX_HEADERS);
    builder
}

/// Tags each request with the client it came from.
fn tag<B>(
    client: ClientAddr,
) -> impl FnMut(axum::http::Request<B>) -> axum::http::Request<B> + Clone {
    move |mut request| {
        request.extensions_mut().insert(client);
        request
    }
}

/// Accepts connections on `listener` and serves `app` on each until `shutdown` resolves, then
/// stops accepting and waits for the open connections to finish their requests.
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    config: &HttpConfig,
    shutdown: impl Future<Output = ()>,
) {
    let builder = builder(config);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let client = ClientAddr(peer.ip());
        let service =
            TowerToHyperService::new(tower::ServiceExt::map_request(app.clone(), tag(client)));
        let connection = builder
            // Without upgrades (the API has no WebSockets): hyper-util's upgradeable path
            // always sniffs the protocol first, with no timeout.
            .serve_connection(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
