//! Declarative paths: a pattern, typed operations, help. See the crate documentation.

use crate::limits::PATTERN_SEGMENTS_MAX;
use crate::{Error, ErrorKind, Operation, Reply, Request};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

type HandlerFuture = Pin<Box<dyn Future<Output = Result<Reply, Error>> + Send>>;
type Handler<B> =
    Arc<dyn Fn(Arc<B>, Request, Captures, FieldErrors) -> HandlerFuture + Send + Sync>;

/// How a field that does not convert is reported. Vault's framework validates every field
/// before the handler (`Field validation failed: error converting input for field "ttl": …`);
/// a write to a path with an existence check is validated earlier, by the existence check,
/// whose error has no prefix (`error converting input for field "ttl": …`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldErrors {
    Validated,
    ExistenceCheck,
}
type ExistenceCheck<B> = Arc<
    dyn Fn(Arc<B>, Request, Captures) -> Pin<Box<dyn Future<Output = Result<bool, Error>> + Send>>
        + Send
        + Sync,
>;

/// Named values captured from the request path by `{name}` and `{*name}` segments.
#[derive(Debug, Clone, Default)]
pub struct Captures {
    values: Vec<(&'static str, String)>,
}

impl Captures {
    /// The captured value; empty when the pattern has no such capture.
    pub fn get(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
            .unwrap_or("")
    }
}

/// What a handler receives: its typed input, the captures and the request itself.
pub struct Input<I> {
    pub fields: I,
    pub captures: Captures,
    pub request: Request,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(&'static str),
    /// `{name}`: exactly one non-empty segment.
    Capture(&'static str),
    /// `{*name}`: the rest of the path, possibly empty, slashes included.
    Rest(&'static str),
}

/// One path of a backend: `Path::new("keys/{name}").read(read_key).write(write_key)`.
pub struct Path<B> {
    pattern: &'static str,
    segments: Vec<Segment>,
    handlers: HashMap<Operation, Handler<B>>,
    existence_check: Option<ExistenceCheck<B>>,
    help: &'static str,
}

impl<B: Send + Sync + 'static> Path<B> {
    /// Panics on a malformed pattern: patterns are compile-time constants, so this is a
    /// programmer error caught by the first test that builds the table.
    pub fn new(pattern: &'static str) -> Self {
        let segments = parse_pattern(pattern);
        assert!(
            segments.len() <= PATTERN_SEGMENTS_MAX,
            "pattern {pattern} has too many segments"
        );
        Path {
            pattern,
            segments,
            handlers: HashMap::new(),
            existence_check: None,
            help: "",
        }
    }

    pub fn pattern(&self) -> &'static str {
        self.pattern
    }

    /// Registers a handler for one operation. The input struct is deserialised from the
    /// request data with the captures merged over it (captures win).
    pub fn on<I, F, Fut>(mut self, operation: Operation, handler: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        F: Fn(Arc<B>, Input<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, Error>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let boxed: Handler<B> = Arc::new(move |backend, request, captures, field_errors| {
            let handler = handler.clone();
            Box::pin(async move {
                let mut request = request;
                let fields = decode_input::<I>(&mut request, &captures, field_errors)?;
                handler(
                    backend,
                    Input {
                        fields,
                        captures,
                        request,
                    },
                )
                .await
            })
        });
        assert!(
            self.handlers.insert(operation, boxed).is_none(),
            "operation {operation:?} registered twice on {}",
            self.pattern
        );
        self
    }

    pub fn read<I, F, Fut>(self, handler: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        F: Fn(Arc<B>, Input<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, Error>> + Send + 'static,
    {
        self.on(Operation::Read, handler)
    }

    /// Registers the handler for writes (`PUT`/`POST`): both update and create.
    pub fn write<I, F, Fut>(self, handler: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        F: Fn(Arc<B>, Input<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, Error>> + Send + 'static,
    {
        self.on(Operation::Update, handler)
    }

    pub fn delete<I, F, Fut>(self, handler: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        F: Fn(Arc<B>, Input<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, Error>> + Send + 'static,
    {
        self.on(Operation::Delete, handler)
    }

    pub fn list<I, F, Fut>(self, handler: F) -> Self
    where
        I: DeserializeOwned + Send + 'static,
        F: Fn(Arc<B>, Input<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Reply, Error>> + Send + 'static,
    {
        self.on(Operation::List, handler)
    }

    /// Decides whether a write is a `create` or an `update` for the ACL check.
    pub fn exists<F, Fut>(mut self, check: F) -> Self
    where
        F: Fn(Arc<B>, Request, Captures) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<bool, Error>> + Send + 'static,
    {
        let check = Arc::new(check);
        self.existence_check = Some(Arc::new(move |backend, request, captures| {
            let check = check.clone();
            Box::pin(async move { check(backend, request, captures).await })
        }));
        self
    }

    pub fn help(mut self, text: &'static str) -> Self {
        self.help = text;
        self
    }

    fn matches(&self, path: &str) -> Option<Captures> {
        match_segments(&self.segments, path)
    }

    fn handler(&self, operation: Operation) -> Option<&Handler<B>> {
        let fallback = match operation {
            Operation::Head => Operation::Read,
            Operation::Create => Operation::Update,
            other => other,
        };
        self.handlers
            .get(&operation)
            .or_else(|| self.handlers.get(&fallback))
    }
}

/// Deserialises the typed input from the request data with the captures laid over it.
/// The data is borrowed, not copied (a body may be 32 MiB): the captures are inserted for the
/// duration of the decode and the overwritten body values put back afterwards, so handlers
/// still see the body exactly as sent.
fn decode_input<I: DeserializeOwned>(
    request: &mut Request,
    captures: &Captures,
    field_errors: FieldErrors,
) -> Result<I, Error> {
    let mut data = std::mem::take(&mut request.data);
    let overwritten: Vec<(&'static str, Option<Value>)> = captures
        .values
        .iter()
        .map(|(name, value)| {
            (
                *name,
                data.insert((*name).to_string(), Value::String(value.clone())),
            )
        })
        .collect();
    let merged = Value::Object(data);
    let decoded = serde_path_to_error::deserialize(&merged);
    let Value::Object(mut data) = merged else {
        unreachable!("built as an object above");
    };
    for (name, previous) in overwritten {
        match previous {
            Some(previous) => data.insert(name.to_string(), previous),
            None => data.remove(name),
        };
    }
    request.data = data;
    decoded.map_err(|error| {
        let field = match error.path().iter().next() {
            Some(serde_path_to_error::Segment::Map { key }) => Some(key.clone()),
            _ => None,
        };
        let reason = strip_position(error.into_inner().to_string());
        // Only type conversions are field validation errors; a deserializer's own check
        // (`unknown key type …`) is the handler's answer and keeps its text.
        let field = field.filter(|_| is_conversion_error(&reason));
        match (field, field_errors) {
            (None, _) => Error::invalid(reason),
            (Some(field), FieldErrors::ExistenceCheck) => Error::invalid(format!(
                "error converting input for field \"{field}\": {reason}"
            )),
            (Some(field), FieldErrors::Validated) => Error::invalid(format!(
                "Field validation failed: error converting input for field \"{field}\": {reason}"
            )),
        }
    })
}

/// The reasons Vault's field conversion gives (`parseutil`, `mapstructure`, as produced by
/// [`crate::loose`]), and serde's own type mismatches.
fn is_conversion_error(reason: &str) -> bool {
    const CONVERSION_REASONS: &[&str] = &[
        "cannot provide negative value ",
        "time: invalid duration ",
        "'' cannot parse value as ",
        "'' expected type ",
        "decoding failed due to the following error(s)",
        "invalid type: ",
    ];
    CONVERSION_REASONS
        .iter()
        .any(|start| reason.starts_with(start))
}

/// serde_json appends "at line 0 column 0" to errors from `from_value`; Vault's messages have no
/// positions.
fn strip_position(message: String) -> String {
    match message.rfind(" at line ") {
        Some(index) => message[..index].to_string(),
        None => message,
    }
}

fn parse_pattern(pattern: &'static str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in pattern.split('/') {
        if let Some(name) = part
            .strip_prefix("{*")
            .and_then(|rest| rest.strip_suffix('}'))
        {
            segments.push(Segment::Rest(name));
        } else if let Some(name) = part
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
        {
            segments.push(Segment::Capture(name));
        } else {
            segments.push(Segment::Literal(part));
        }
    }
    if let Some(position) = segments
        .iter()
        .position(|segment| matches!(segment, Segment::Rest(_)))
    {
        assert_eq!(
            position + 1,
            segments.len(),
            "a rest capture must be last in {pattern}"
        );
    }
    segments
}

fn match_segments(segments: &[Segment], path: &str) -> Option<Captures> {
    let mut captures = Captures::default();
    let mut rest = path;
    for (index, segment) in segments.iter().enumerate() {
        if let Segment::Rest(name) = segment {
            captures.values.push((name, rest.to_string()));
            return Some(captures);
        }
        let (part, remainder) = match rest.find('/') {
            Some(slash) => (&rest[..slash], Some(&rest[slash + 1..])),
            None => (rest, None),
        };
        match segment {
            Segment::Literal(literal) if *literal == part => {}
            Segment::Capture(name) if !part.is_empty() => {
                captures.values.push((name, part.to_string()))
            }
            _ => return None,
        }
        let is_last = index + 1 == segments.len();
        match remainder {
            // A trailing slash (list requests) is allowed after the last segment.
            Some("") if is_last => return Some(captures),
            Some(next) if !is_last => rest = next,
            None if is_last => return Some(captures),
            None if matches!(segments.get(index + 1), Some(Segment::Rest(_))) => rest = "",
            _ => return None,
        }
    }
    Some(captures)
}

/// The ordered path table of one backend. The first matching pattern wins, so specific
/// patterns come before general ones.
pub struct PathTable<B> {
    paths: Vec<Path<B>>,
}

impl<B: Send + Sync + 'static> PathTable<B> {
    pub fn new(paths: Vec<Path<B>>) -> Self {
        PathTable { paths }
    }

    fn route(&self, path: &str) -> Option<(&Path<B>, Captures)> {
        self.paths.iter().find_map(|candidate| {
            candidate
                .matches(path)
                .map(|captures| (candidate, captures))
        })
    }

    /// Whether a path is served at all (for 404 vs 405 decisions before authentication).
    pub fn has_path(&self, path: &str) -> bool {
        self.route(path).is_some()
    }

    /// Runs the request through its path's handler.
    pub async fn handle(&self, backend: Arc<B>, request: Request) -> Result<Reply, Error> {
        let Some((path, captures)) = self.route(&request.path) else {
            return Err(Error::new(
                ErrorKind::UnsupportedPath,
                "1 error occurred:\n\t* unsupported path\n\n",
            ));
        };
        let Some(handler) = path.handler(request.operation) else {
            return Err(Error::new(
                ErrorKind::UnsupportedOperation,
                "1 error occurred:\n\t* unsupported operation\n\n",
            ));
        };
        let write = matches!(request.operation, Operation::Create | Operation::Update);
        let field_errors = match (&path.existence_check, write) {
            (Some(_), true) => FieldErrors::ExistenceCheck,
            _ => FieldErrors::Validated,
        };
        handler(backend, request, captures, field_errors).await
    }

    /// Runs the path's existence check; `None` when the path has none (writes are updates).
    pub async fn exists(&self, backend: Arc<B>, request: Request) -> Result<Option<bool>, Error> {
        let Some((path, captures)) = self.route(&request.path) else {
            return Ok(None);
        };
        match &path.existence_check {
            Some(check) => check(backend, request, captures).await.map(Some),
            None => Ok(None),
        }
    }

    /// The help text of the path, for `?help=1`.
    pub fn help(&self, path: &str) -> Option<&'static str> {
        self.route(path).map(|(path, _)| path.help)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    fn check(pattern: &'static str, path: &str) -> Option<Vec<(String, String)>> {
        let segments = parse_pattern(pattern);
        match_segments(&segments, path).map(|captures| {
            captures
                .values
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect()
        })
    }

    #[test]
    fn patterns_match_literals_captures_and_rests() {
        assert_eq!(check("seal-status", "seal-status"), Some(vec![]));
        assert_eq!(check("seal-status", "seal-status/"), Some(vec![]));
        assert_eq!(check("seal-status", "seal-statusx"), None);
        assert_eq!(
            check("keys/{name}", "keys/a"),
            Some(vec![("name".into(), "a".into())])
        );
        assert_eq!(check("keys/{name}", "keys/"), None);
        assert_eq!(check("keys/{name}", "keys/a/b"), None);
        assert_eq!(
            check("mounts/{*path}", "mounts/a/b/"),
            Some(vec![("path".into(), "a/b/".into())])
        );
        assert_eq!(
            check("mounts/{*path}", "mounts"),
            Some(vec![("path".into(), "".into())])
        );
        assert_eq!(check("rekey/init", "rekey"), None);
    }

    #[derive(Deserialize)]
    struct Named {
        name: String,
        #[serde(default, deserialize_with = "crate::loose::int")]
        count: i64,
    }

    struct Backend;

    fn request(operation: Operation, path: &str, data: serde_json::Value) -> Request {
        let serde_json::Value::Object(data) = data else {
            panic!("object expected")
        };
        Request {
            operation,
            path: path.into(),
            data,
            client_token: None,
            request_id: "id".into(),
            mount: Default::default(),
            caller: None,
            wrap_ttl_seconds: None,
        }
    }

    #[test]
    fn table_routes_decodes_and_reports_unsupported() {
        let table = PathTable::new(vec![Path::new("things/{name}").write(
            |_: Arc<Backend>, input: Input<Named>| async move {
                Reply::data(
                    serde_json::json!({"name": input.fields.name, "count": input.fields.count}),
                )
            },
        )]);
        let backend = Arc::new(Backend);
        let run = |request| block_on(table.handle(backend.clone(), request));
        match run(request(
            Operation::Update,
            "things/x",
            serde_json::json!({"count": "3", "name": "ignored"}),
        )) {
            Ok(Reply::Secret(secret)) => assert_eq!(
                secret.data,
                Some(serde_json::json!({"name": "x", "count": 3}))
            ),
            other => panic!("unexpected {other:?}"),
        }
        let error = run(request(
            Operation::Update,
            "things/x",
            serde_json::json!({"count": "x"}),
        ))
        .expect_err("bad int");
        assert_eq!(error.kind(), ErrorKind::Invalid);
        assert_eq!(
            error.messages(),
            [
                "Field validation failed: error converting input for field \"count\": '' cannot parse value as 'int': strconv.ParseInt: invalid syntax"
            ]
        );
        let error =
            run(request(Operation::Read, "things/x", serde_json::json!({}))).expect_err("no read");
        assert_eq!(error.kind(), ErrorKind::UnsupportedOperation);
        let error =
            run(request(Operation::Read, "other", serde_json::json!({}))).expect_err("no path");
        assert_eq!(error.kind(), ErrorKind::UnsupportedPath);
    }

    #[derive(Deserialize)]
    struct Timed {
        #[serde(default, deserialize_with = "crate::loose::seconds")]
        ttl: u64,
    }

    #[test]
    fn field_errors_carry_vaults_prefix_and_field_name() {
        // Goal: Vault's texts for a field that does not convert: `Field validation failed: `
        // from the framework's validation, none from an existence check (writes to a path
        // with one). Method: the same bad durations through both kinds of path.
        let handler = |_: Arc<Backend>, input: Input<Timed>| async move {
            Reply::data(serde_json::json!({"ttl": input.fields.ttl}))
        };
        let table = PathTable::new(vec![
            Path::new("plain").write(handler).read(handler),
            Path::new("checked")
                .write(handler)
                .read(handler)
                .exists(|_: Arc<Backend>, _, _| async { Ok(true) }),
        ]);
        let backend = Arc::new(Backend);
        let message = |operation, path, ttl: serde_json::Value| {
            let request = request(operation, path, serde_json::json!({ "ttl": ttl }));
            match block_on(table.handle(backend.clone(), request)) {
                Err(error) => error.messages().join("|"),
                Ok(reply) => format!("ok {reply:?}"),
            }
        };
        let negative =
            "error converting input for field \"ttl\": cannot provide negative value '-3600'";
        let invalid = "error converting input for field \"ttl\": time: invalid duration \"abc\"";
        for ttl in [
            serde_json::json!("-3600"),
            serde_json::json!("-1h"),
            serde_json::json!(-3600),
        ] {
            assert_eq!(
                message(Operation::Update, "plain", ttl.clone()),
                format!("Field validation failed: {negative}")
            );
            assert_eq!(message(Operation::Update, "checked", ttl.clone()), negative);
            assert_eq!(
                message(Operation::Read, "checked", ttl),
                format!("Field validation failed: {negative}")
            );
        }
        assert_eq!(
            message(Operation::Update, "plain", serde_json::json!("abc")),
            format!("Field validation failed: {invalid}")
        );
        assert_eq!(
            message(Operation::Create, "checked", serde_json::json!("abc")),
            invalid
        );
        assert!(message(Operation::Update, "plain", serde_json::json!("-0")).starts_with("ok"));
    }

    /// A minimal executor: the framework has no runtime dependency and handlers in these
    /// tests never wait on I/O.
    fn block_on<F: Future>(future: F) -> F::Output {
        use std::task::{Context, Poll, Waker};
        let mut future = std::pin::pin!(future);
        let mut context = Context::from_waker(Waker::noop());
        for _ in 0..1000 {
            if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
                return output;
            }
        }
        panic!("future did not complete");
    }
}
