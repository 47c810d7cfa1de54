//! Parsing an HTTP request into the router's [`Routed`] request (REQ-01..12, HDR-01/02).

use super::response;
use crate::router::Routed;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request as HttpRequest, header};
use axum::response::Response;
use serde_json::{Map, Value};
use tresor_framework::limits::{
    REQUEST_BODY_BYTES_MAX, REQUEST_BODY_DRAIN_BYTES_MAX, REQUEST_PATH_BYTES_MAX,
};
use tresor_framework::{Error, ErrorKind, Operation, Request, loose};

pub struct Parsed {
    pub routed: Routed,
    /// `HEAD`: same status as `GET`, no body.
    pub head_only: bool,
}

/// An answer decided before routing.
pub enum Early {
    Error(Error),
    /// `GET /` and other non-API paths answered as Go's mux does.
    PlainNotFound,
}

impl Early {
    pub fn into_response(self, request_id: &str) -> Response {
        match self {
            Early::Error(error) => response::build(Err(error), request_id, false),
            Early::PlainNotFound => response::plain_not_found(),
        }
    }
}

impl From<Error> for Early {
    fn from(error: Error) -> Self {
        Early::Error(error)
    }
}

pub async fn parse(http_request: HttpRequest<Body>, request_id: &str) -> Result<Parsed, Early> {
    let (parts, body) = http_request.into_parts();
    let raw_path = parts.uri.path();
    if raw_path == "/" {
        return Err(Early::PlainNotFound);
    }
    let Some(api_path) = raw_path.strip_prefix("/v1/") else {
        return Err(Error::bare(ErrorKind::NotFound).into());
    };
    let path = clean_path(api_path)?;
    let mut query = parse_query(parts.uri.query().unwrap_or(""));
    let (operation, head_only) = operation_for(&parts.method, &mut query)?;
    let help = matches!(query.remove("help"), Some(Value::String(text)) if loose::parse_bool(&text) == Some(true));

    let patch_content_type_error = match operation {
        Operation::Patch => check_patch_content_type(&parts.headers).err(),
        _ => None,
    };
    let data = match operation {
        Operation::Update | Operation::Patch => {
            let bytes = read_body(body).await?;
            parse_body(&parts.headers, &bytes)?
        }
        _ => query,
    };
    let path = match operation {
        // A list is always of a folder (REQ-04).
        Operation::List if !path.ends_with('/') => format!("{path}/"),
        _ => path,
    };
    let wrap_ttl_seconds = wrap_ttl(&parts.headers)?;
    let request = Request {
        operation,
        path,
        data,
        client_token: client_token(&parts.headers),
        request_id: request_id.to_string(),
        mount: Default::default(),
        caller: None,
        wrap_ttl_seconds,
    };
    Ok(Parsed {
        routed: Routed {
            request,
            help,
            patch_content_type_error,
        },
        head_only,
    })
}

/// Percent-decodes the path, refuses non-printable characters and collapses `//`.
fn clean_path(api_path: &str) -> Result<String, Error> {
    if api_path.len() > REQUEST_PATH_BYTES_MAX {
        return Err(Error::invalid("path is too long"));
    }
    let decoded = percent_encoding::percent_decode_str(api_path)
        .decode_utf8()
        .map_err(|_| Error::invalid("path is not valid UTF-8"))?;
    if decoded.chars().any(|character| character.is_control()) {
        return Err(Error::invalid(
            "path cannot contain non-printable characters",
        ));
    }
    let trailing_slash = decoded.ends_with('/');
    let mut cleaned = decoded
        .split('/')
        .filter(|segment| !segment.is_empty())
        .collect::<Vec<_>>()
        .join("/");
    if trailing_slash && !cleaned.is_empty() {
        cleaned.push('/');
    }
    Ok(cleaned)
}

fn parse_query(query: &str) -> Map<String, Value> {
    let mut data = Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        data.insert(key.into_owned(), Value::String(value.into_owned()));
    }
    data
}

/// REQ-02/03: the method and `?list=` decide the operation.
fn operation_for(
    method: &Method,
    query: &mut Map<String, Value>,
) -> Result<(Operation, bool), Error> {
    let list_requested = match query.remove("list") {
        None => false,
        Some(Value::String(text)) => {
            loose::parse_bool(&text).ok_or_else(|| Error::bare(ErrorKind::Invalid))?
        }
        Some(_) => return Err(Error::bare(ErrorKind::Invalid)),
    };
    let operation = match method.as_str() {
        "GET" if list_requested => Operation::List,
        "GET" => Operation::Read,
        "HEAD" => return Ok((Operation::Head, true)),
        "POST" | "PUT" => Operation::Update,
        "DELETE" => Operation::Delete,
        "LIST" => Operation::List,
        "PATCH" => Operation::Patch,
        _ => return Err(Error::unsupported_operation()),
    };
    Ok((operation, false))
}

/// REQ-11: PATCH needs `application/merge-patch+json`.
fn check_patch_content_type(headers: &HeaderMap) -> Result<(), Error> {
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return Err(Error::invalid(
            "PATCH requires Content-Type of application/merge-patch+json",
        ));
    };
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type.eq_ignore_ascii_case("application/merge-patch+json") {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::UnsupportedMediaType,
        format!(
            "PATCH requires Content-Type of application/merge-patch+json, provided {content_type}"
        ),
    ))
}

/// Reads the body up to the limit. Past it, the rest is read and discarded (up to a drain
/// cap) before answering 413, so the client sees the answer instead of a reset connection.
pub(super) async fn read_body(body: Body) -> Result<bytes::Bytes, Error> {
    use http_body_util::BodyExt;
    let mut body = body;
    let mut collected = bytes::BytesMut::new();
    let mut seen_bytes: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(Error::invalid("error reading request body"));
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen_bytes = seen_bytes.saturating_add(data.len());
        if seen_bytes > REQUEST_BODY_DRAIN_BYTES_MAX {
            break;
        }
        if seen_bytes <= REQUEST_BODY_BYTES_MAX {
            collected.extend_from_slice(&data);
        }
    }
    if seen_bytes > REQUEST_BODY_BYTES_MAX {
        return Err(Error::new(
            ErrorKind::OverLimit,
            "http: request body too large",
        ));
    }
    Ok(collected.freeze())
}

/// REQ-05: JSON objects (numbers kept exact), or a form when the client says so and the
/// body does not look like JSON. Repeated form keys join with commas.
fn parse_body(headers: &HeaderMap, bytes: &[u8]) -> Result<Map<String, Value>, Error> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    let Some(first) = first else {
        return Ok(Map::new());
    };
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim()
                .starts_with("application/x-www-form-urlencoded")
        });
    if is_form && *first != b'{' && *first != b'[' {
        let mut data = Map::new();
        for (key, value) in form_urlencoded::parse(bytes) {
            let joined = match data.remove(key.as_ref()) {
                Some(Value::String(previous)) => format!("{previous},{value}"),
                _ => value.into_owned(),
            };
            data.insert(key.into_owned(), Value::String(joined));
        }
        return Ok(data);
    }
    // Numbers keep the client's spelling (REQ-06): KV stores them as sent.
    match loose::json_verbatim(bytes) {
        Ok(Value::Object(data)) => Ok(data),
        Ok(Value::Null) => Ok(Map::new()),
        Ok(other) => Err(Error::invalid(format!(
            "failed to decode JSON input: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_kind(&other)
        ))),
        Err(error) => Err(Error::invalid(format!(
            "failed to decode JSON input: {}",
            strip_position(&error.to_string())
        ))),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Array(_) => "array",
        Value::String(_) => "string",
        Value::Number(_) => "number",
        Value::Bool(_) => "bool",
        Value::Null | Value::Object(_) => "object",
    }
}

fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map(|index| &message[..index])
        .unwrap_or(message)
}

/// HDR-04: `X-Vault-Wrap-TTL` as seconds or a duration; unparsable or zero is 400.
fn wrap_ttl(headers: &HeaderMap) -> Result<Option<u64>, Error> {
    let Some(value) = headers.get("x-vault-wrap-ttl") else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| Error::invalid("error parsing X-Vault-Wrap-TTL header: not valid text"))?;
    if text.trim().starts_with('-') {
        return Err(Error::invalid(
            "error parsing X-Vault-Wrap-TTL header: requested wrap ttl cannot be negative",
        ));
    }
    match loose::parse_duration_seconds(text) {
        Ok(0) => Err(Error::invalid(
            "error parsing X-Vault-Wrap-TTL header: wrap ttl must be greater than zero",
        )),
        Ok(seconds) => Ok(Some(seconds)),
        Err(error) => Err(Error::invalid(format!(
            "error parsing X-Vault-Wrap-TTL header: {error}"
        ))),
    }
}

/// HDR-01/02: `X-Vault-Token` wins; else `Authorization: Bearer <token>`.
pub(super) fn client_token(headers: &HeaderMap) -> Option<String> {
    if let Some(token) = headers
        .get("x-vault-token")
        .and_then(|value| value.to_str().ok())
    {
        return Some(token.trim().to_string()).filter(|token| !token.is_empty());
    }
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = authorization.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    Some(token.trim().to_string()).filter(|token| !token.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_cleaned() {
        assert_eq!(
            clean_path("sys//health").ok().as_deref(),
            Some("sys/health")
        );
        assert_eq!(
            clean_path("secret/metadata/").ok().as_deref(),
            Some("secret/metadata/")
        );
        assert_eq!(clean_path("a%20b").ok().as_deref(), Some("a b"));
        assert!(clean_path("a%00b").is_err());
    }

    #[test]
    fn bodies_parse_as_json_or_form() {
        let headers = HeaderMap::new();
        assert_eq!(parse_body(&headers, b"").ok(), Some(Map::new()));
        let data = parse_body(&headers, br#"{"n": 12345678901234567890123}"#).expect("json");
        assert_eq!(
            data.get("n").map(|n| n.to_string()).as_deref(),
            Some("12345678901234567890123")
        );
        assert!(parse_body(&headers, b"{bad").is_err());
        assert!(parse_body(&headers, b"[1]").is_err());
        let mut form = HeaderMap::new();
        form.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().expect("header"),
        );
        let data = parse_body(&form, b"a=1&a=2&b=x").expect("form");
        assert_eq!(data.get("a"), Some(&Value::String("1,2".into())));
    }
}
