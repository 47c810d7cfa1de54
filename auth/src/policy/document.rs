//! Policy text (HCL or JSON) to one neutral tree, as HCL 1's `ast.ObjectList` is to Vault:
//! the rule compiler never sees which syntax the author used.
//!
//! Vault parses both syntaxes with HCL 1, which picks JSON when the first non-blank character
//! is `{`. We do the same, parsing HCL with `hcl-edit` (for spans, hence line numbers) and JSON
//! with `serde_json`.

use super::error::{PolicyError, TextPosition};
use super::limits::POLICY_NESTING_DEPTH_MAX;
use hcl::edit::Span as _;
use hcl::edit::expr::{Expression, ObjectKey};
use hcl::edit::structure::{Body, Structure};
use serde_json::Value;

/// One `key [labels…] = value` or `key [labels…] { … }` entry.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub key: String,
    pub labels: Vec<String>,
    /// Line of the `=`; 0 for a block, as HCL 1 reports it.
    pub assign_line: usize,
    pub value: Node,
}

#[derive(Debug, Clone)]
pub(crate) enum Node {
    Object(Vec<Item>, Option<TextPosition>),
    List(Vec<Node>, Option<TextPosition>),
    Literal(Literal, Option<TextPosition>),
}

#[derive(Debug, Clone)]
pub(crate) enum Literal {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
    Null,
}

impl Node {
    pub fn position(&self) -> Option<TextPosition> {
        match self {
            Node::Object(_, at) | Node::List(_, at) | Node::Literal(_, at) => *at,
        }
    }

    /// The Go type HCL 1 names in its decode errors.
    pub fn go_type(&self) -> &'static str {
        match self {
            Node::Object(..) => "*ast.ObjectType",
            Node::List(..) => "*ast.ListType",
            Node::Literal(..) => "*ast.LiteralType",
        }
    }

    /// The node as a JSON value, for parameter value lists.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Literal(literal, _) => match literal {
                Literal::String(text) => Value::String(text.clone()),
                Literal::Number(number) => Value::Number(number.clone()),
                Literal::Bool(flag) => Value::Bool(*flag),
                Literal::Null => Value::Null,
            },
            Node::List(nodes, _) => Value::Array(nodes.iter().map(Node::to_json).collect()),
            Node::Object(items, _) => Value::Object(
                items
                    .iter()
                    .map(|item| (item.key.clone(), item.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Parses a policy document into its top-level items.
pub(crate) fn parse_document(text: &str) -> Result<Vec<Item>, PolicyError> {
    check_nesting(text)?;
    if text.trim_start().starts_with('{') {
        return parse_json(text);
    }
    parse_hcl(text)
}

/// Refuses text nested deeper than the limit before any recursive parser sees it. Brackets in
/// strings and comments are skipped; a heredoc may over-count, which only errs on the safe side.
fn check_nesting(text: &str) -> Result<(), PolicyError> {
    let mut depth = 0usize;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => skip_string(&mut chars),
            '#' => skip_line(&mut chars),
            '/' if chars.peek() == Some(&'/') => skip_line(&mut chars),
            '/' if chars.peek() == Some(&'*') => skip_block_comment(&mut chars),
            '{' | '[' | '(' => {
                depth += 1;
                if depth > POLICY_NESTING_DEPTH_MAX {
                    return Err(PolicyError::NestingTooDeep {
                        limit: POLICY_NESTING_DEPTH_MAX,
                    });
                }
            }
            '}' | ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '"' | '\n' => return,
            _ => {}
        }
    }
}

fn skip_line(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if c == '\n' {
            return;
        }
    }
}

fn skip_block_comment(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    let mut previous = ' ';
    for c in chars.by_ref() {
        if previous == '*' && c == '/' {
            return;
        }
        previous = c;
    }
}

/// Byte offsets of line starts, to turn spans into 1-based line and column.
struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        Lines { starts }
    }

    fn position(&self, offset: usize) -> TextPosition {
        let line_index = match self.starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        };
        let line_start = self.starts.get(line_index).copied().unwrap_or(0);
        TextPosition {
            line: line_index + 1,
            column: offset.saturating_sub(line_start) + 1,
        }
    }

    fn at(&self, span: Option<std::ops::Range<usize>>) -> Option<TextPosition> {
        span.map(|range| self.position(range.start))
    }
}

fn parse_hcl(text: &str) -> Result<Vec<Item>, PolicyError> {
    match parse_hcl_exact(text) {
        Ok(items) => Ok(items),
        Err(error @ PolicyError::Syntax { .. }) => {
            // HCL 1 (Vault's parser) accepts a block's first item on the `{` line and its `}`
            // on a later one; HCL 2 does not. Retry with every brace on its own line; the
            // first error is the one reported if that fails too.
            let spread = spread_braces(text);
            if spread == text {
                return Err(error);
            }
            parse_hcl_exact(&spread).map_err(|_| error)
        }
        Err(error) => Err(error),
    }
}

/// Puts a newline after every `{` and before every `}`, and between two items of an object
/// value that share a line with no comma (`{ "a" = ["1"] "b" = [] }`, which HCL 1 accepts
/// and HCL 2 does not). Only outside string literals and comments; block labels
/// (`path "a" "b" {`) are never split, since only object values (a `{` after `=` or `:`, or
/// inside an object value or a list) get separators.
fn spread_braces(text: &str) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Open {
        Block,
        Object,
        List,
    }
    let mut spread = String::with_capacity(text.len() + 16);
    let mut open: Vec<Open> = Vec::new();
    // The last character outside strings, comments and whitespace on the current line.
    let mut last: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(character) = chars.next() {
        match character {
            '"' => {
                let in_object = open.last() == Some(&Open::Object);
                if in_object && last.is_some_and(ends_value) {
                    spread.push('\n');
                }
                spread.push('"');
                let mut escaped = false;
                for inner in chars.by_ref() {
                    spread.push(inner);
                    match (escaped, inner) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => {}
                    }
                }
                last = Some('"');
            }
            '#' => {
                copy_line(&mut spread, character, &mut chars);
                last = None;
            }
            '/' if chars.peek() == Some(&'/') => {
                copy_line(&mut spread, character, &mut chars);
                last = None;
            }
            '/' if chars.peek() == Some(&'*') => {
                spread.push(character);
                let mut previous = ' ';
                for inner in chars.by_ref() {
                    spread.push(inner);
                    if previous == '*' && inner == '/' {
                        break;
                    }
                    previous = inner;
                }
            }
            '{' => {
                let value = matches!(last, Some('=' | ':' | ',' | '['))
                    || (last == Some('{') && open.last() == Some(&Open::Object))
                    || open.last() == Some(&Open::List);
                open.push(match value {
                    true => Open::Object,
                    false => Open::Block,
                });
                spread.push_str("{\n");
                last = None;
            }
            '}' => {
                open.pop();
                spread.push_str("\n}");
                last = Some('}');
            }
            '[' => {
                if open.last() == Some(&Open::Object) && last.is_some_and(ends_value) {
                    spread.push('\n');
                }
                open.push(Open::List);
                spread.push('[');
                last = Some('[');
            }
            ']' => {
                open.pop();
                spread.push(']');
                last = Some(']');
            }
            '\n' => {
                spread.push('\n');
                last = None;
            }
            other if other.is_whitespace() => spread.push(other),
            other => {
                // An unquoted key (`a = 1 b = 2`) after a value.
                if (other.is_alphabetic() || other == '_')
                    && open.last() == Some(&Open::Object)
                    && last.is_some_and(|previous| matches!(previous, '"' | ']' | '}'))
                {
                    spread.push('\n');
                }
                spread.push(other);
                last = Some(other);
            }
        }
    }
    spread
}

/// Whether the character can end an object item's value.
fn ends_value(character: char) -> bool {
    matches!(character, '"' | ']' | '}') || character.is_alphanumeric()
}

fn copy_line(
    spread: &mut String,
    first: char,
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
) {
    spread.push(first);
    while let Some(&next) = chars.peek() {
        if next == '\n' {
            break;
        }
        spread.push(next);
        chars.next();
    }
}

fn parse_hcl_exact(text: &str) -> Result<Vec<Item>, PolicyError> {
    let body = hcl::edit::parser::parse_body(text).map_err(|error| PolicyError::Syntax {
        at: Some(TextPosition {
            line: error.location().line(),
            column: error.location().column(),
        }),
        message: error.message().to_string(),
    })?;
    let lines = Lines::new(text);
    hcl_body_items(text, &lines, &body)
}

fn hcl_body_items(text: &str, lines: &Lines, body: &Body) -> Result<Vec<Item>, PolicyError> {
    let mut items = Vec::with_capacity(body.len());
    for structure in body.iter() {
        match structure {
            Structure::Attribute(attribute) => {
                let at = lines.at(attribute.key.span());
                items.push(Item {
                    key: attribute.key.as_str().to_string(),
                    labels: Vec::new(),
                    assign_line: at.map_or(0, |position| position.line),
                    value: hcl_node(text, lines, &attribute.value)?,
                });
            }
            Structure::Block(block) => {
                let at = lines.at(block.span());
                items.push(Item {
                    key: block.ident.as_str().to_string(),
                    labels: block
                        .labels
                        .iter()
                        .map(|label| label.as_str().to_string())
                        .collect(),
                    assign_line: 0,
                    value: Node::Object(hcl_body_items(text, lines, &block.body)?, at),
                });
            }
        }
    }
    Ok(items)
}

fn hcl_node(text: &str, lines: &Lines, expression: &Expression) -> Result<Node, PolicyError> {
    let at = lines.at(expression.span());
    let node = match expression {
        Expression::Null(_) => Node::Literal(Literal::Null, at),
        Expression::Bool(flag) => Node::Literal(Literal::Bool(*flag.value()), at),
        Expression::Number(number) => {
            let parsed = number.value().to_string().parse::<serde_json::Number>();
            match parsed {
                Ok(number) => Node::Literal(Literal::Number(number), at),
                Err(_) => return Err(unsupported(at, "invalid number")),
            }
        }
        Expression::String(string) => Node::Literal(Literal::String(string.value().clone()), at),
        // HCL 1 has no interpolation: `"${x}"` is the literal text, so take it from the source.
        Expression::StringTemplate(_) => {
            let raw = expression
                .span()
                .and_then(|range| text.get(range))
                .unwrap_or("");
            let inner = raw
                .strip_prefix('"')
                .and_then(|raw| raw.strip_suffix('"'))
                .unwrap_or(raw);
            Node::Literal(Literal::String(unescape_hcl1(inner)), at)
        }
        Expression::HeredocTemplate(heredoc) => {
            let raw = heredoc
                .template
                .span()
                .and_then(|range| text.get(range))
                .unwrap_or("");
            Node::Literal(Literal::String(raw.to_string()), at)
        }
        Expression::Array(array) => {
            let nodes: Result<Vec<Node>, PolicyError> = array
                .iter()
                .map(|element| hcl_node(text, lines, element))
                .collect();
            Node::List(nodes?, at)
        }
        Expression::Object(object) => {
            let mut items = Vec::with_capacity(object.len());
            for (key, value) in object.iter() {
                let key_at = lines.at(key.span());
                let key_text = match key {
                    ObjectKey::Ident(ident) => ident.as_str().to_string(),
                    ObjectKey::Expression(Expression::String(string)) => string.value().clone(),
                    ObjectKey::Expression(Expression::Variable(ident)) => {
                        ident.as_str().to_string()
                    }
                    ObjectKey::Expression(_) => {
                        return Err(unsupported(key_at, "unsupported object key"));
                    }
                };
                items.push(Item {
                    key: key_text,
                    labels: Vec::new(),
                    assign_line: key_at.map_or(0, |position| position.line),
                    value: hcl_node(text, lines, value.expr())?,
                });
            }
            Node::Object(items, at)
        }
        Expression::Parenthesis(inner) => hcl_node(text, lines, inner.inner())?,
        _ => {
            return Err(unsupported(
                at,
                "unsupported expression; policies take literal values",
            ));
        }
    };
    Ok(node)
}

fn unsupported(at: Option<TextPosition>, message: &str) -> PolicyError {
    PolicyError::Syntax {
        at,
        message: message.to_string(),
    }
}

/// HCL 1 string escapes: `\\`, `\"`, `\n`, `\t`, `\r`; anything else is kept as written.
fn unescape_hcl1(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => text.push('\n'),
            Some('t') => text.push('\t'),
            Some('r') => text.push('\r'),
            Some(other @ ('\\' | '"')) => text.push(other),
            Some(other) => {
                text.push('\\');
                text.push(other);
            }
            None => text.push('\\'),
        }
    }
    text
}

/// JSON policies. HCL 1 flattens `{"path": {"a": {…}, "b": {…}}}` (or a list of such objects)
/// into one `path` item per key; we do the same. JSON values carry no position (`At -`), but
/// unknown-key errors name the line of the key's first appearance, as HCL 1 does.
fn parse_json(text: &str) -> Result<Vec<Item>, PolicyError> {
    let value: Value = serde_json::from_str(text).map_err(|error| PolicyError::Syntax {
        at: Some(TextPosition {
            line: error.line(),
            column: error.column(),
        }),
        message: error.to_string(),
    })?;
    let Value::Object(root) = value else {
        return Err(PolicyError::NoRootObject);
    };
    let mut items = Vec::with_capacity(root.len());
    for (key, value) in root {
        let assign_line = json_key_line(text, &key);
        match (key.as_str(), value) {
            ("path", Value::Object(paths)) => {
                items.extend(
                    paths
                        .into_iter()
                        .map(|(path, rules)| json_labeled(text, &key, path, rules)),
                );
            }
            ("path", Value::Array(objects)) if objects.iter().all(Value::is_object) => {
                for object in objects {
                    let Value::Object(paths) = object else {
                        continue;
                    };
                    items.extend(
                        paths
                            .into_iter()
                            .map(|(path, rules)| json_labeled(text, &key, path, rules)),
                    );
                }
            }
            (_, value) => items.push(Item {
                key,
                labels: Vec::new(),
                assign_line,
                value: json_node(text, value),
            }),
        }
    }
    Ok(items)
}

fn json_labeled(text: &str, key: &str, label: String, value: Value) -> Item {
    Item {
        key: key.to_string(),
        assign_line: json_key_line(text, &label),
        labels: vec![label],
        value: json_node(text, value),
    }
}

fn json_node(text: &str, value: Value) -> Node {
    match value {
        Value::Null => Node::Literal(Literal::Null, None),
        Value::Bool(flag) => Node::Literal(Literal::Bool(flag), None),
        Value::Number(number) => Node::Literal(Literal::Number(number), None),
        Value::String(string) => Node::Literal(Literal::String(string), None),
        Value::Array(values) => Node::List(
            values
                .into_iter()
                .map(|value| json_node(text, value))
                .collect(),
            None,
        ),
        Value::Object(map) => Node::Object(
            map.into_iter()
                .map(|(key, value)| Item {
                    assign_line: json_key_line(text, &key),
                    key,
                    labels: Vec::new(),
                    value: json_node(text, value),
                })
                .collect(),
            None,
        ),
    }
}

/// The line where `"key"` first appears in the text, or 1.
fn json_key_line(text: &str, key: &str) -> usize {
    let quoted = serde_json::to_string(key).unwrap_or_default();
    match text.find(&quoted) {
        Some(offset) => text[..offset].matches('\n').count() + 1,
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Goal: the tree keeps keys, labels and the line numbers HCL 1 would report.
    /// Method: parse small documents and describe the top level as `key[labels]@line`.
    fn check(text: &str, expected: &[&str]) {
        let items = parse_document(text).expect("document parses");
        let described: Vec<String> = items
            .iter()
            .map(|item| format!("{}{:?}@{}", item.key, item.labels, item.assign_line))
            .collect();
        assert_eq!(described, expected, "{text}");
    }

    #[test]
    fn document_keeps_keys_labels_and_lines() {
        check("path \"a\" {}\n\nfoo = 1\n", &["path[\"a\"]@0", "foo[]@3"]);
        check("path \"a\" \"b\" {}", &["path[\"a\", \"b\"]@0"]);
        check(
            "{\"path\": {\"a\": {}, \"b\": {}}}",
            &["path[\"a\"]@1", "path[\"b\"]@1"],
        );
        check(
            "{\"path\": [{\"a\": {}}, {\"b\": {}}]}",
            &["path[\"a\"]@1", "path[\"b\"]@1"],
        );
        check(
            "{\n\"name\": \"x\",\n\"path\": {\n\"a\": {}}}",
            &["name[]@2", "path[\"a\"]@4"],
        );
    }

    #[test]
    fn document_template_strings_are_literal_as_in_hcl1() {
        let items = parse_document("path \"a/x\" { c = \"${y}\\\"\" }").expect("document parses");
        let Some(Node::Object(inner, _)) = items.first().map(|item| &item.value) else {
            panic!("object")
        };
        // FIXME(hcl1): HCL 2 refuses a template in a block label (`path "a/${x}" {`), which HCL 1
        // reads literally.
        assert!(parse_document("path \"a/${x}\" {}").is_err());
        match &inner[0].value {
            Node::Literal(Literal::String(text), _) => assert_eq!(text, "${y}\""),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn document_nesting_over_limit_is_refused() {
        let deep = format!(
            "a = {}1{}",
            "[".repeat(POLICY_NESTING_DEPTH_MAX + 1),
            "]".repeat(POLICY_NESTING_DEPTH_MAX + 1)
        );
        assert_eq!(
            parse_document(&deep).err(),
            Some(PolicyError::NestingTooDeep {
                limit: POLICY_NESTING_DEPTH_MAX
            })
        );
        let ok = format!(
            "a = {}1{}",
            "[".repeat(POLICY_NESTING_DEPTH_MAX),
            "]".repeat(POLICY_NESTING_DEPTH_MAX)
        );
        assert!(parse_document(&ok).is_ok());
    }

    #[test]
    fn document_object_items_without_separators_parse_as_in_hcl1() {
        // Goal: HCL 1 accepts `{ "a" = ["1"] "b" = [] }`; HCL 2 needs a separator. Method:
        // the parsed tree equals the one of the same document with newlines.
        let bare = "path \"x\" {\n capabilities = [\"update\"]\n allowed_parameters = { \"a\" = [\"1\"] \"b\" = [] c = [\"2\"] }\n}";
        let newlines = "path \"x\" {\n capabilities = [\"update\"]\n allowed_parameters = {\n\"a\" = [\"1\"]\n\"b\" = []\nc = [\"2\"]\n}\n}";
        let describe = |text: &str| format!("{:?}", parse_document(text).expect("parses"));
        let strip = |described: String| {
            described
                .split("line: ")
                .flat_map(|part| part.split("column: "))
                .map(|part| part.trim_start_matches(char::is_numeric).to_string())
                .collect::<String>()
        };
        assert_eq!(strip(describe(bare)), strip(describe(newlines)));
        // Labels and strings are untouched; a `#` comment quote does not open a string.
        check(
            "# it's \"x\ny = { \"k\" = \"} \\\" {\" \"j\" = \"v\" }\npath \"a\" \"b\" { c = 1 }",
            &["y[]@2", "path[\"a\", \"b\"]@0"],
        );
        // Two values in a list still need their comma, as in HCL 1.
        assert!(parse_document("a = [\"1\" \"2\"]").is_err());
    }
}
