//! The web console: static assets compiled into the binary (no CDN, no build step), the live
//! block feed (server-sent events) and QR codes for receipt links.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::Deserialize;

use crate::api::problem;
use crate::ledger::Ledger;

/// (name, content type, bytes) of every console asset.
const ASSETS: &[(&str, &str, &str)] = &[
    ("app.js", "text/javascript; charset=utf-8", include_str!("../console/app.js")),
    ("kit.js", "text/javascript; charset=utf-8", include_str!("../console/kit.js")),
    ("verify.js", "text/javascript; charset=utf-8", include_str!("../console/verify.js")),
    ("encoding.js", "text/javascript; charset=utf-8", include_str!("../console/encoding.js")),
    ("sm.js", "text/javascript; charset=utf-8", include_str!("../console/sm.js")),
    ("i18n.js", "text/javascript; charset=utf-8", include_str!("../console/i18n.js")),
    ("state-proof.js", "text/javascript; charset=utf-8", include_str!("../console/state-proof.js")),
    ("style.css", "text/css; charset=utf-8", include_str!("../console/style.css")),
];

pub const INDEX_HTML: &str = include_str!("../console/index.html");

pub async fn index() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], INDEX_HTML)
}

pub async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, ..)| *n == name) {
        Some((_, ctype, body)) => ([(header::CONTENT_TYPE, *ctype), (header::CACHE_CONTROL, "no-cache")], *body).into_response(),
        None => problem(StatusCode::NOT_FOUND, "not-found", format!("no console asset {name:?}")),
    }
}

/// `/console/modules/{module}/{file}`: a file of a module's console page.
pub async fn module_asset(State(l): State<Arc<Ledger>>, Path((module, file)): Path<(String, String)>) -> Response {
    let found = l.executor().modules().find(|m| m.name() == module).and_then(|m| m.console().iter().find(|f| f.name == file));
    match found {
        Some(f) => ([(header::CONTENT_TYPE, f.content_type), (header::CACHE_CONTROL, "no-cache")], f.body).into_response(),
        None => problem(StatusCode::NOT_FOUND, "not-found", format!("no console file {file:?} of module {module:?}")),
    }
}

/// `/v1/events`: a `hello` event, then one `block` event per committed block (JSON), each
/// followed by its modules' events (named after the module, e.g. `governance`).
pub async fn events(State(l): State<Arc<Ledger>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = l.subscribe();
    let first = Event::default().event("hello").data(serde_json::json!({"height": l.height(), "log_size": l.log_size()}).to_string());
    // Events ready to send (a block's, then its modules'), and the feed.
    let ready = std::collections::VecDeque::from([first]);
    let stream = futures_util::stream::unfold((ready, rx), |(mut ready, mut rx)| async move {
        if let Some(ev) = ready.pop_front() {
            return Some((Ok(ev), (ready, rx)));
        }
        loop {
            match rx.recv().await {
                Ok(b) => {
                    for (module, data) in &b.module_events {
                        ready.push_back(Event::default().event(*module).data(data.to_string()));
                    }
                    let ev = Event::default().event("block").data(serde_json::to_string(&b).expect("event serialises"));
                    return Some((Ok(ev), (ready, rx)));
                }
                // A slow listener missed some blocks: carry on with the next.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Deserialize)]
pub struct QrQuery {
    text: String,
}

/// `/v1/qr?text=…`: the text as a QR code (SVG).
pub async fn qr(Query(q): Query<QrQuery>) -> Response {
    if q.text.len() > 1024 {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "too-long", "QR text is limited to 1024 bytes");
    }
    match qrcode::QrCode::with_error_correction_level(q.text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => {
            let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
            ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response()
        }
        Err(e) => problem(StatusCode::BAD_REQUEST, "bad-qr", e.to_string()),
    }
}
