//! The witness over HTTP, as `tlog-witness` specifies: `POST /add-checkpoint` answers the
//! cosignature line(s) (200) or a refusal with its status (400, 403, 404, 409 with the size
//! as `text/x.tlog.size`, 422), and `GET /<origin hash>/checkpoint` the latest cosigned
//! checkpoint of a log.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::error::{Error, Refusal};
use crate::state::origin_hash;
use crate::Witness;

/// Largest request body: 63 proof lines and a checkpoint with a few dozen signatures.
const MAX_BODY: usize = 64 * 1024;

/// The witness's routes.
pub fn router(witness: Arc<Witness>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(witness)
}

/// Serves the witness on `listener` until the process ends.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
) -> std::io::Result<()> {
    axum::serve(listener, router(witness)).await
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: String) -> Response {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let decided = tokio::task::spawn_blocking(move || w.add_checkpoint(&body, now)).await;
    match decided {
        Ok(Ok(lines)) => text(StatusCode::OK, "text/plain; charset=utf-8", lines),
        Ok(Err(Error::Refused(Refusal::Conflict(size)))) => text(
            StatusCode::CONFLICT,
            "text/x.tlog.size",
            format!("{size}\n"),
        ),
        Ok(Err(Error::Refused(r))) => {
            if let Refusal::Inconsistent(_) = r {
                // Possible evidence of a log rewriting its history: worth an operator's look.
                tracing::warn!("refused a checkpoint: {r}");
            }
            let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::BAD_REQUEST);
            text(status, "text/plain; charset=utf-8", format!("{r}\n"))
        }
        Ok(Err(e)) => {
            tracing::error!("cannot record a cosigned checkpoint: {e}");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain; charset=utf-8",
                "the witness could not record the checkpoint; its operator must look at its log\n"
                    .into(),
            )
        }
        Err(e) => {
            tracing::error!("add-checkpoint task failed: {e}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn checkpoint(State(w): State<Arc<Witness>>, Path(hash): Path<String>) -> Response {
    let found = w
        .logs()
        .iter()
        .find(|l| origin_hash(&l.name) == hash)
        .and_then(|l| w.latest(&l.name));
    match found {
        Some(note) => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            note.to_string(),
        ),
        None => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "this witness has cosigned no checkpoint of that log\n".into(),
        ),
    }
}
