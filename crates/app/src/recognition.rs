//! Server-side plate recognition: a read that arrives with an image but no plate text is read
//! by the server, as if the camera had sent the text.
//!
//! Recognition costs 0.2-1 s of CPU per photo, so it never runs on the async runtime: a fixed
//! pool of threads (one per core by default) takes jobs from a bounded queue. Each photo is
//! admitted against the process's decode budget ([`crate::decoding`]) from its header before
//! it is queued, and holds its room until its thread is done with it. When the budget stays
//! full or the queue is full the request is refused with 503 and `Retry-After` rather than
//! piling up memory and latency: a camera retries, and a burst never starves the rest of the
//! API.

use crate::decoding::DecodePermit;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_recognition::decode::decode_cost;
use anpr_recognition::{PlateResult, Recogniser, RecognitionError};
use base64::Engine;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Jobs that may wait for a worker before requests are refused.
pub const DEFAULT_QUEUE: usize = 32;

/// The message of the refusal when no models are loaded.
pub const NO_MODELS: &str = "read has no plate text and this server has no recognition models; \
     run `anpr models install` on the server";

type Reply = oneshot::Sender<Result<Vec<PlateResult>, RecognitionError>>;

struct Job {
    image: Vec<u8>,
    /// The photo's room in the decode budget, returned when the job is dropped: after its
    /// thread is done with it, or unrun when the queue refuses it.
    _room: DecodePermit,
    reply: Reply,
}

/// Why a photo was not recognised by the pool.
#[derive(Debug)]
pub enum PoolError {
    /// Every worker is busy and the queue is full.
    Full,
    /// A worker died (a bug in the recogniser); the job's result is lost.
    Lost,
    Recognition(RecognitionError),
}

/// A bounded pool of recognition threads sharing one [`Recogniser`].
pub struct RecognitionPool {
    sender: SyncSender<Job>,
    workers: usize,
    queue: usize,
    /// Photos a worker has started to decode.
    started: Arc<AtomicU64>,
}

impl RecognitionPool {
    /// Starts `workers` threads (at least one) with room for `queue` waiting jobs. The threads
    /// end when the pool is dropped.
    pub fn start(recogniser: Arc<Recogniser>, workers: usize, queue: usize) -> RecognitionPool {
        let workers = workers.max(1);
        let (sender, receiver) = sync_channel::<Job>(queue);
        let receiver = Arc::new(Mutex::new(receiver));
        let started = Arc::new(AtomicU64::new(0));
        for i in 0..workers {
            let receiver = receiver.clone();
            let recogniser = recogniser.clone();
            let started = started.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("recognise-{i}"))
                .spawn(move || loop {
                    // The lock is held only while waiting for a job, never while working.
                    let job = match receiver.lock() {
                        Ok(r) => r.recv(),
                        Err(poisoned) => poisoned.into_inner().recv(),
                    };
                    let Ok(Job {
                        image,
                        _room: room,
                        reply,
                    }) = job
                    else {
                        return;
                    };
                    started.fetch_add(1, Ordering::Relaxed);
                    // A panic inside the recogniser must not take a worker (and the pool's
                    // capacity) with it; the request then fails with 500.
                    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                        recogniser.recognise_bytes(&image)
                    }));
                    // The decoded pixels are gone: the room is returned before the answer, so
                    // a camera that hears back finds it free.
                    drop(image);
                    drop(room);
                    match result {
                        Ok(result) => {
                            let _ = reply.send(result);
                        }
                        Err(_) => {
                            tracing::error!("recogniser panicked on an image");
                            drop(reply);
                        }
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a recognition worker");
            }
        }
        RecognitionPool {
            sender,
            workers,
            queue,
            started,
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// How many photos the workers have started to decode since the pool started.
    pub fn started(&self) -> u64 {
        self.started.load(Ordering::Relaxed)
    }

    /// Recognises the plates in an encoded photo, best first, holding `room` in the decode
    /// budget until a worker is done with it; refuses at once when the queue is full.
    pub async fn recognise(
        &self,
        image: Vec<u8>,
        room: DecodePermit,
    ) -> Result<Vec<PlateResult>, PoolError> {
        let (reply, result) = oneshot::channel();
        let job = Job {
            image,
            _room: room,
            reply,
        };
        match self.sender.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(PoolError::Full),
            Err(TrySendError::Disconnected(_)) => return Err(PoolError::Lost),
        }
        match result.await {
            Ok(Ok(plates)) => Ok(plates),
            Ok(Err(e)) => Err(PoolError::Recognition(e)),
            Err(_) => Err(PoolError::Lost),
        }
    }
}

/// Where a read's photo is.
struct Pending {
    /// `None` for a single read object, `Some(i)` for `reads[i]` of a batch.
    index: Option<usize>,
    /// The request field the photo came in (for error messages).
    field: String,
    image: Vec<u8>,
}

/// Reads our own JSON `metadata` (a read object or `{"reads": [...]}`) and fills in the
/// plate, confidence and (when absent) plate box of every read that has an overview photo but
/// no plate text, by recognising the photo. `parts` are the image parts of a multipart upload
/// (name, bytes); empty for a JSON body.
///
/// Returns the rewritten metadata, or `None` when no read needed recognition (the caller then
/// parses the request as it came, and its errors stand).
pub async fn fill_in_plates(
    state: &App,
    metadata: &[u8],
    parts: &[(&str, &[u8])],
) -> AppResult<Option<Vec<u8>>> {
    let Ok(mut root) = serde_json::from_slice::<Value>(metadata) else {
        return Ok(None);
    };
    let pending = pending_reads(&root, parts)?;
    if pending.is_empty() {
        return Ok(None);
    }
    let Some(pool) = state.recognition.clone() else {
        return Err(AppError::Invalid {
            field: Some(field_of(pending[0].index, "plate")),
            message: NO_MODELS.into(),
        });
    };
    let limits = state.ingest_limits().await?;
    for p in pending {
        // The same size and format checks as every stored image, before any pixel is decoded.
        anpr_ingest::validate_image(p.image.clone(), &limits.image)
            .map_err(|e| AppError::from(e.with_field(&p.field)))?;
        let cost = decode_cost(&p.image).map_err(|e| AppError::invalid(&p.field, e.to_string()))?;
        let room = match state.decode_budget.admit(&cost, &p.field).await {
            Ok(room) => room,
            Err(e) => {
                if matches!(e, AppError::DecodeBusy { .. }) {
                    state.metrics.decode_busy.inc();
                }
                return Err(e);
            }
        };
        let started = std::time::Instant::now();
        let plates = match pool.recognise(p.image, room).await {
            Ok(plates) => plates,
            Err(PoolError::Full) => {
                return Err(AppError::Unavailable(
                    "the recognition queue is full; retry later".into(),
                ))
            }
            Err(PoolError::Lost) => {
                return Err(AppError::internal(anyhow::anyhow!(
                    "recognition worker failed"
                )))
            }
            Err(PoolError::Recognition(
                e @ (RecognitionError::Decode(_) | RecognitionError::TooLarge { .. }),
            )) => return Err(AppError::invalid(&p.field, e.to_string())),
            Err(PoolError::Recognition(e)) => return Err(AppError::internal(e)),
        };
        let Some(best) = plates.into_iter().next() else {
            return Err(AppError::invalid(
                &p.field,
                "no plate was found in the photo, and the read has no plate text",
            ));
        };
        tracing::debug!(plate = %best.plate, confidence = best.confidence,
            ms = started.elapsed().as_millis() as u64, "recognised a plate on the server");
        let read = match p.index {
            None => Some(&mut root),
            Some(i) => root.get_mut("reads").and_then(|r| r.get_mut(i)),
        };
        let Some(Value::Object(read)) = read else {
            continue;
        };
        read.insert("plate".into(), Value::String(best.plate));
        let confidence = f64::from(best.confidence / 100.0).clamp(0.0, 1.0);
        read.insert("confidence".into(), serde_json::json!(confidence));
        if read.get("plate_box").is_none_or(Value::is_null) {
            let b = best.plate_box;
            read.insert(
                "plate_box".into(),
                serde_json::json!({"x": b.x, "y": b.y, "width": b.width, "height": b.height}),
            );
        }
    }
    serde_json::to_vec(&root)
        .map(Some)
        .map_err(AppError::internal)
}

fn field_of(index: Option<usize>, name: &str) -> String {
    match index {
        None => name.to_string(),
        Some(i) => format!("reads[{i}].{name}"),
    }
}

/// The reads in `root` without plate text that have a photo to read it from.
fn pending_reads(root: &Value, parts: &[(&str, &[u8])]) -> AppResult<Vec<Pending>> {
    let Value::Object(obj) = root else {
        return Ok(Vec::new());
    };
    // Other vendors' formats always carry their own plate text.
    if ["data_type", "data", "results"]
        .iter()
        .any(|k| obj.contains_key(*k))
    {
        return Ok(Vec::new());
    }
    let reads: Vec<(Option<usize>, &Value)> = match obj.get("reads") {
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, r)| (Some(i), r))
            .collect(),
        Some(_) => return Ok(Vec::new()),
        None => vec![(None, root)],
    };
    let part = |name: &str| parts.iter().find(|(n, _)| *n == name).map(|(_, b)| *b);
    let mut pending = Vec::new();
    for (index, read) in reads {
        let has_plate = match read.get("plate") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        };
        if has_plate {
            continue;
        }
        let field = field_of(index, "overview_image");
        let inline = read
            .get("overview_image")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let image = if let Some(text) = inline {
            let data = match text.strip_prefix("data:") {
                Some(url) => url.split_once(";base64,").map_or(text, |(_, d)| d),
                None => text,
            };
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map_err(|e| AppError::invalid(&field, format!("is not valid base64: {e}")))?
        } else if let Some(bytes) = part(&field).or_else(|| part("upload")) {
            bytes.to_vec()
        } else {
            continue;
        };
        if image.is_empty() {
            continue;
        }
        pending.push(Pending {
            index,
            field,
            image,
        });
    }
    Ok(pending)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_reads_without_plate_text() {
        let root: Value = serde_json::from_str(
            r#"{"reads":[{"plate":"ABC123"},{"plate":" "},{"captured_at":"x"},{"plate":null}]}"#,
        )
        .unwrap();
        let img: &[u8] = b"jpeg";
        let parts = [
            ("reads[1].overview_image", img),
            ("reads[3].overview_image", img),
        ];
        let p = pending_reads(&root, &parts).unwrap();
        let idx: Vec<_> = p.iter().map(|p| p.index).collect();
        // reads[2] has no photo: it is left to the parser, which refuses it.
        assert_eq!(idx, vec![Some(1), Some(3)]);
        let single: Value = serde_json::from_str(r#"{"captured_at":"x"}"#).unwrap();
        assert_eq!(pending_reads(&single, &[("upload", img)]).unwrap().len(), 1);
        let vendor: Value = serde_json::from_str(r#"{"data_type":"alpr_group"}"#).unwrap();
        assert!(pending_reads(&vendor, &[("upload", img)])
            .unwrap()
            .is_empty());
        let bad: Value = serde_json::from_str(r#"{"overview_image":"@@@"}"#).unwrap();
        assert!(pending_reads(&bad, &[]).is_err());
    }
}
