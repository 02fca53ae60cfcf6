//! Full-text search in the web interface: the search page (`/search`) and
//! `/api/search`, with the query language and filters of `palimpsest
//! search`, answered by the same index.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use chrono::{DateTime, Utc};

use super::{Params, Problem, ServeState, flag, html, off_runtime, param, when};
use crate::search::{DatedBy, Hit, SearchError, SearchIndex, SearchQuery};

/// Results a page asks for when it does not say.
const DEFAULT_LIMIT: usize = 20;
/// Results a page may ask for at most.
const MAX_LIMIT: usize = 200;

impl From<SearchError> for Problem {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::Archive(e) => e.into(),
            SearchError::Query(_) => Problem::new(StatusCode::BAD_REQUEST, e.to_string()),
            SearchError::Index(_) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        }
    }
}

/// The search a request asks for; `None` without a query (an empty form).
fn search_query(
    p: &HashMap<String, String>,
    now: DateTime<Utc>,
) -> Result<Option<SearchQuery>, Problem> {
    let Some(text) = param(p, "q") else {
        return Ok(None);
    };
    let dated_by = match param(p, "by") {
        None | Some("published") => DatedBy::Published,
        Some("captured") => DatedBy::Captured,
        Some(other) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                format!("`by` must be published or captured, not {other:?}"),
            ));
        }
    };
    let limit = match param(p, "limit") {
        None => DEFAULT_LIMIT,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    format!("`limit` must be a number from 1 to {MAX_LIMIT}, not {v:?}"),
                ));
            }
        },
    };
    Ok(Some(SearchQuery {
        text: text.to_string(),
        host: param(p, "host").map(str::to_string),
        language: param(p, "lang").map(str::to_string),
        since: when(p, "since", now)?,
        until: when(p, "until", now)?,
        dated_by,
        removed: flag(p, "removed")?,
        stem: flag(p, "stem")?,
        limit,
    }))
}

/// Runs `query` on the archive's index (brought up to date first), off the
/// runtime: the first search of an archive builds its index.
async fn run(s: Arc<ServeState>, query: SearchQuery) -> Result<Vec<Hit>, Problem> {
    off_runtime(move || {
        let (index, _) = SearchIndex::open(s.archive.dir(), &*s.archive)?;
        Ok(index.search(&*s.archive, &query)?)
    })
    .await
}

pub(super) async fn page(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let query = search_query(&p, s.clock.now())?;
    let hits = match &query {
        Some(q) => Some(run(s, q.clone()).await?),
        None => None,
    };
    Ok(html::search(query.as_ref(), hits.as_deref()).into_response())
}

pub(super) async fn api(
    State(s): State<Arc<ServeState>>,
    Query(p): Params,
) -> Result<Response, Problem> {
    let query = search_query(&p, s.clock.now())
        .map_err(Problem::json)?
        .ok_or_else(|| Problem::new(StatusCode::BAD_REQUEST, "missing parameter `q`").json())?;
    let hits = run(s, query).await.map_err(Problem::json)?;
    Ok(Json(serde_json::json!({ "hits": hits })).into_response())
}
