//! `POST /api/read`: a command refused the archive's lock (`history`,
//! `export`, `verify`…) runs here, on the archive this process holds, and
//! its output is the response. A short answer is sent whole, with how the
//! command ended in a header; an export is streamed as it is written,
//! through a small bounded channel, so it never sits whole in memory and
//! a slow reader slows the export rather than filling memory.

use std::io::{self, Write};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use tokio::sync::mpsc;

use super::{Problem, ServeState};
use crate::commands::Outcome;
use crate::commands::read::{OUTCOME_HEADER, PROBLEMS};
use crate::query::Reading;

/// Bytes gathered before a chunk of an export is sent.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the export and the connection.
const CHUNKS_IN_FLIGHT: usize = 8;

type Chunk = Result<Bytes, io::Error>;

/// Runs a reading command (`palimpsest history …` and the like, sent by a
/// command refused the archive's lock) on the archive this process holds,
/// and answers with exactly the text the command prints.
pub(crate) async fn api_read(
    State(s): State<Arc<ServeState>>,
    body: Result<Json<Reading>, JsonRejection>,
) -> Response {
    let reading = match body {
        Ok(Json(reading)) => reading,
        Err(e) => {
            return Problem::new(
                e.status(),
                format!("expected a reading command as JSON: {}", e.body_text()),
            )
            .json()
            .into_response();
        }
    };
    if matches!(reading, Reading::Export(_)) {
        return streamed(s, reading).await;
    }
    let (archive, print) = (s.archive.clone(), s.print_reading);
    let ran = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        print(&reading, &archive, &mut out).map(|outcome| (outcome, out))
    })
    .await;
    match ran {
        Ok(Ok((outcome, out))) => {
            let mut response = text(StatusCode::OK, out);
            if outcome == Outcome::Problems {
                response
                    .headers_mut()
                    .insert(OUTCOME_HEADER, header::HeaderValue::from_static(PROBLEMS));
            }
            response
        }
        Ok(Err(e)) => text(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{e:#}").into_bytes(),
        ),
        Err(_) => failed(),
    }
}

fn text(status: StatusCode, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

fn failed() -> Response {
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the command failed in the serving process",
    )
}

/// Runs `reading` on a blocking thread, its output streamed as the body. An
/// error before the first byte is a 422 with the message; one after it
/// breaks the body off, which the asking process reports.
async fn streamed(s: Arc<ServeState>, reading: Reading) -> Response {
    let (tx, mut rx) = mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let (archive, print) = (s.archive.clone(), s.print_reading);
    tokio::task::spawn_blocking(move || {
        let mut out = BodyWriter {
            buf: Vec::with_capacity(CHUNK),
            tx,
        };
        let ran = print(&reading, &archive, &mut out);
        let ran = ran.and_then(|_| out.flush().map_err(anyhow::Error::from));
        if let Err(e) = ran {
            let _ = out
                .tx
                .blocking_send(Err(io::Error::other(format!("{e:#}"))));
        }
    });
    let first = match rx.recv().await {
        None => return text(StatusCode::OK, Vec::new()),
        Some(Err(e)) => return text(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()),
        Some(Ok(chunk)) => chunk,
    };
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let body = futures_util::StreamExt::chain(futures_util::stream::iter([Ok(first)]), rest);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        Body::from_stream(body),
    )
        .into_response()
}

/// A writer whose bytes go, in chunks, to a response being sent.
struct BodyWriter {
    buf: Vec<u8>,
    tx: mpsc::Sender<Chunk>,
}

impl BodyWriter {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the asking process went away"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_export_waits_for_its_reader_and_stops_when_it_goes_away() {
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        let writer = std::thread::spawn(move || {
            let mut out = BodyWriter {
                buf: Vec::new(),
                tx,
            };
            let mut written = 0usize;
            // 64 MiB offered; nobody reads.
            for _ in 0..4096 {
                if out.write_all(&[b'x'; 16 * 1024]).is_err() {
                    return (written, true);
                }
                written += 16 * 1024;
            }
            (written, false)
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        drop(rx);
        let (written, refused) = writer.join().unwrap();
        assert!(refused, "the writer is told the reader went away");
        // What the channel holds, one chunk being gathered, one write.
        let bound = (CHUNKS_IN_FLIGHT + 2) * CHUNK;
        assert!(
            written <= bound,
            "{written} bytes taken without a reader (bound {bound})"
        );
    }
}
