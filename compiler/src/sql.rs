//! Stage 3, sql: parses each port's query file with the target's dialect.
//!
//! Guarantees: a [`ParsedQuery`] holds exactly one query statement (no DML,
//! no DDL, no second statement). sqlparser's positions are converted into
//! [`Span`]s here and nowhere else.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::{FileId, SourceFile, Span};
use crate::target::Target;
use sqlparser::ast::{BinaryOperator, Expr, Query, Statement};
use sqlparser::parser::{Parser, ParserOptions};
use std::ops::ControlFlow;

#[derive(Debug)]
pub struct ParsedQuery {
    pub file: FileId,
    pub query: Box<Query>,
    /// Where the text says CORRESPONDING (read as BY NAME): byte offsets.
    pub corresponding: Vec<usize>,
}

/// Converts sqlparser's line/column spans into byte spans of one file.
pub struct SpanMap<'a> {
    pub file: FileId,
    pub source: &'a SourceFile,
}

impl SpanMap<'_> {
    pub fn span(&self, s: sqlparser::tokenizer::Span) -> Span {
        if s.start.line == 0 {
            // sqlparser leaves some composite nodes without a span.
            return Span::new(self.file, 0..0);
        }
        let start = self.source.offset(s.start.line, s.start.column);
        let end = self.source.offset(s.end.line, s.end.column).max(start);
        Span::new(self.file, start..end)
    }

    /// The span of the word at a position (for parse errors, which carry
    /// only a start position).
    fn word_at(&self, line: u64, column: u64) -> Span {
        let start = self.source.offset(line, column);
        let rest = &self.source.text[start..];
        let len = rest
            .char_indices()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
            .map_or(rest.len(), |(i, _)| i)
            .max(rest.chars().next().map_or(0, char::len_utf8));
        Span::new(self.file, start..start + len)
    }
}

pub fn parse_query(file: FileId, source: &SourceFile, target: &dyn Target) -> Result<ParsedQuery, Diagnostic> {
    let map = SpanMap { file, source };
    let options = ParserOptions::new().with_unescape(false).with_trailing_commas(false);
    let (text, corresponding) = corresponding_as_by_name(&source.text, target);
    let parsed =
        Parser::new(target.dialect()).with_options(options).try_with_sql(&text).and_then(|mut p| p.parse_statements());
    let mut statements = match parsed {
        Ok(s) => s,
        Err(e) => {
            let mut d = syntax_error(&map, &e.to_string());
            // Written for another warehouse? Say which, rather than only where.
            if let Some(other) = foreign_dialect(&source.text) {
                d.code = codes::UNSUPPORTED_SYNTAX;
                d.message = format!(
                    "this is {other} SQL, not {} SQL: {}",
                    target.display_name(),
                    d.message.trim_start_matches("SQL syntax error: ")
                );
                d.help =
                    Some(format!("rewrite it in {}'s dialect; the SQL parser stopped here", target.display_name()));
            }
            return Err(d);
        }
    };
    if statements.is_empty() {
        return Err(Diagnostic::error(codes::NOT_A_QUERY, "the query file is empty")
            .label(Span::new(file, 0..0), "no query here")
            .help("write one SELECT query that produces the port's rows"));
    }
    if statements.len() > 1 {
        let second = sqlparser::ast::Spanned::span(&statements[1]);
        return Err(Diagnostic::error(codes::NOT_A_QUERY, "the query file holds more than one statement")
            .label(map.span(second), "second statement")
            .help("keep one query per file; move shared logic into a CTE (WITH ...)"));
    }
    let statement = statements.remove(0);
    let Statement::Query(query) = statement else {
        let span = map.span(sqlparser::ast::Spanned::span(&statement));
        return Err(Diagnostic::error(codes::NOT_A_QUERY, "the query file holds a statement that is not a query")
            .label(span, "not a SELECT")
            .help("write a SELECT query; dpc generates the DDL and the load statements itself"));
    };
    if let Some(d) = find_misparse(&map, &query) {
        return Err(d);
    }
    Ok(ParsedQuery { file, query, corresponding })
}

/// GoogleSQL's `UNION ALL CORRESPONDING` is `UNION ALL BY NAME` to
/// sqlparser, which knows only the latter: the keyword is replaced by a
/// text of the same length, so every position stays where it was (and the
/// emitted SQL, spliced from the original text, keeps CORRESPONDING).
fn corresponding_as_by_name<'t>(text: &'t str, target: &dyn Target) -> (std::borrow::Cow<'t, str>, Vec<usize>) {
    use sqlparser::tokenizer::{Token, Tokenizer};
    // Tokenizing twice is not free: only where the word occurs at all.
    if find_ignore_case(text.as_bytes(), b"CORRESPONDING").is_none() {
        return (text.into(), vec![]);
    }
    let Ok(tokens) = Tokenizer::new(target.dialect(), text).tokenize_with_location() else {
        return (text.into(), vec![]);
    };
    let mut offsets = vec![];
    let file = SourceFile::new(String::new(), text.to_string());
    let mut out = text.to_string();
    let mut previous: Option<&Token> = None;
    for t in &tokens {
        if matches!(t.token, Token::Whitespace(_)) {
            continue;
        }
        let is_corresponding = matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("CORRESPONDING"));
        let after_quantifier = matches!(previous, Some(Token::Word(w)) if ["ALL", "DISTINCT"].iter().any(|k| w.value.eq_ignore_ascii_case(k)));
        if is_corresponding && after_quantifier {
            let start = file.offset(t.span.start.line, t.span.start.column);
            out.replace_range(start..start + "CORRESPONDING".len(), "BY NAME      ");
            offsets.push(start);
        }
        previous = Some(&t.token);
    }
    (out.into(), offsets)
}

/// Where `word` (upper case ASCII) first occurs in `text`, in any case.
fn find_ignore_case(text: &[u8], word: &[u8]) -> Option<usize> {
    let (first, rest) = word.split_first()?;
    memchr::memchr2_iter(*first, first.to_ascii_lowercase(), text)
        .find(|&i| text.get(i + 1..i + word.len()).is_some_and(|w| w.eq_ignore_ascii_case(rest)))
}

/// The first common dialect that parses the text, if the target's did not.
fn foreign_dialect(text: &str) -> Option<&'static str> {
    use sqlparser::dialect::{DuckDbDialect, MsSqlDialect, MySqlDialect, PostgreSqlDialect, SnowflakeDialect};
    let candidates: [(&str, &dyn sqlparser::dialect::Dialect); 5] = [
        ("MySQL", &MySqlDialect {}),
        ("PostgreSQL", &PostgreSqlDialect {}),
        ("Snowflake", &SnowflakeDialect {}),
        ("SQL Server", &MsSqlDialect {}),
        ("DuckDB", &DuckDbDialect {}),
    ];
    candidates.into_iter().find(|(_, d)| Parser::parse_sql(*d, text).is_ok()).map(|(name, _)| name)
}

fn syntax_error(map: &SpanMap, message: &str) -> Diagnostic {
    let message = message.strip_prefix("sql parser error: ").unwrap_or(message);
    // "Expected: ..., found: x at Line: 3, Column: 13"
    let (text, position) = match message.rsplit_once(" at Line: ") {
        Some((text, pos)) => {
            let mut nums = pos.split(", Column: ").map(|n| n.trim().parse::<u64>().unwrap_or(1));
            (text, Some((nums.next().unwrap_or(1), nums.next().unwrap_or(1))))
        }
        None => (message, None),
    };
    let span = match position {
        Some((line, column)) => map.word_at(line, column),
        None => Span::new(map.file, map.source.text.len()..map.source.text.len()),
    };
    Diagnostic::error(codes::SQL_SYNTAX, format!("SQL syntax error: {text}"))
        .label(span, "here")
        .help("check the statement against the target's SQL reference")
}

/// sqlparser reads the typed array literal `ARRAY<INT64>[1, 2]` as the
/// comparison `(ARRAY < INT64) > [1, 2]`. The plain shape (an element type
/// that is one name) is read back by the checker ([`typed_array_literal`]);
/// any other shape would be misread, so it is rejected.
fn find_misparse(map: &SpanMap, query: &Query) -> Option<Diagnostic> {
    // The shape needs the word ARRAY with a `<` after it: most queries
    // have none, and walking every expression is not free.
    let text = map.source.text.as_bytes();
    let first_array = find_ignore_case(text, b"ARRAY")?;
    if !text[first_array..].contains(&b'<') {
        return None;
    }
    // Expressions are visited parent first: a readable literal is seen
    // before the `ARRAY < T` node inside it.
    let mut readable: Vec<*const Expr> = vec![];
    let mut found = None;
    let _ = sqlparser::ast::visit_expressions(query, |e: &Expr| {
        if let Some((_, inner)) = typed_array_literal(e) {
            readable.push(inner as *const Expr);
        }
        let misread = matches!(e, Expr::BinaryOp { left, op: BinaryOperator::Lt, .. }
            if matches!(&**left, Expr::Identifier(i) if i.value.eq_ignore_ascii_case("ARRAY") && i.quote_style.is_none()));
        if misread && !readable.contains(&(e as *const Expr)) {
            found = Some(
                Diagnostic::error(
                    codes::UNSUPPORTED_SYNTAX,
                    "this typed array literal `ARRAY<T>[...]` cannot be checked",
                )
                .label(map.span(sqlparser::ast::Spanned::span(e)), "read as a comparison by the SQL parser")
                .help("write `CAST([...] AS ARRAY<T>)` instead"),
            );
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    found
}

/// `ARRAY<T>[...]` as sqlparser reads it: the element type's name and the
/// inner `ARRAY < T` node, when the shape is the plain one.
pub fn typed_array_literal(e: &Expr) -> Option<(&sqlparser::ast::Ident, &Expr)> {
    let Expr::BinaryOp { left, op: BinaryOperator::Gt, right } = e else { return None };
    let Expr::BinaryOp { left: array, op: BinaryOperator::Lt, right: ty } = &**left else { return None };
    let is_array =
        matches!(&**array, Expr::Identifier(i) if i.value.eq_ignore_ascii_case("ARRAY") && i.quote_style.is_none());
    match (&**ty, &**right) {
        (Expr::Identifier(t), Expr::Array(_)) if is_array && t.quote_style.is_none() => Some((t, &**left)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::find_ignore_case;

    #[test]
    fn finds_a_word_in_any_case() {
        assert_eq!(find_ignore_case(b"SELECT x FROM a UNION ALL corresponding SELECT", b"CORRESPONDING"), Some(26));
        assert_eq!(find_ignore_case(b"cast(x AS Array<INT64>)", b"ARRAY"), Some(10));
        assert_eq!(find_ignore_case(b"arra", b"ARRAY"), None, "cut off at the end of the text");
        assert_eq!(find_ignore_case(b"SELECT 1", b"ARRAY"), None);
    }
}
