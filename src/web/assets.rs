//! Static files (`static/`), embedded in the binary at compile time and served at
//! content-hashed URLs (`/static/app.1a2b3c4d5e6f.css`) with a one-year immutable
//! cache: a changed file gets a new URL, so browsers never hold a stale copy.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

use super::{AppState, Result, WebError};

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// Hashed name -> original name, and original name -> URL.
struct Index {
    by_hashed: HashMap<String, String>,
    urls: HashMap<String, &'static str>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut by_hashed = HashMap::new();
        let mut urls = HashMap::new();
        for name in Static::iter() {
            let Some(file) = Static::get(&name) else {
                continue;
            };
            let hash = hex::encode(&file.metadata.sha256_hash()[..6]);
            let hashed = match name.rsplit_once('.') {
                // "htmx.min.js" -> "htmx.min.<hash>.js"
                Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
                None => format!("{name}.{hash}"),
            };
            let url: &'static str = Box::leak(format!("/static/{hashed}").into_boxed_str());
            urls.insert(name.to_string(), url);
            by_hashed.insert(hashed, name.to_string());
        }
        Index { by_hashed, urls }
    })
}

/// The content-hashed URL of a static file, e.g. `url("app.css")`. An unknown name
/// gives a URL that answers 404 (templates only name files that exist).
pub fn url(name: &str) -> &'static str {
    index().urls.get(name).copied().unwrap_or("/static/missing")
}

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{file}", get(serve))
}

/// Serves a static file by its hashed name, cached for a year.
async fn serve(Path(file): Path<String>) -> Result<Response> {
    let name = index()
        .by_hashed
        .get(&file)
        .ok_or_else(|| WebError::NotFound(format!("static file {file}")))?;
    let f = Static::get(name).ok_or_else(|| WebError::NotFound(format!("static file {file}")))?;
    let mime = f.metadata.mimetype();
    let mime = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_string()
    };
    let mut res = f.data.into_owned().into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&mime)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    Ok(res)
}
