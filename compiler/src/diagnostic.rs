//! Diagnostics are data: a code, a severity, a message, labelled spans and a
//! help line. Each stage builds them from its own error cases; rendering
//! (miette's graphical report, or JSON) happens only at the edge.

use crate::codes::Code;
use crate::span::{Sources, Span};
use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The first label is the primary one.
    pub labels: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, severity: Severity::Error, message: message.into(), labels: vec![], help: None }
    }
    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::error(code, message) }
    }
    pub fn note(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Note, ..Diagnostic::error(code, message) }
    }
    pub fn label(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into() });
        self
    }
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.first().map(|l| l.span)
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| format!("did you mean `{c}`?"))
}

/// Sorts diagnostics into a stable order: by file, position, then code.
pub fn sort(diags: &mut [Diagnostic], sources: &Sources) {
    diags.sort_by(|a, b| {
        let key = |d: &Diagnostic| {
            d.primary_span().map(|s| (sources.get(s.file).path.clone(), s.start, s.end)).unwrap_or_default()
        };
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code)).then_with(|| a.message.cmp(&b.message))
    });
}

// ---------------------------------------------------------------- rendering

/// A diagnostic bound to its sources, as miette wants it. Labels in another
/// file than the primary one become related reports with their own source.
struct Report<'a> {
    code: Code,
    severity: Severity,
    message: String,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Report<'a>>,
    /// A label in another file, shown under the main report.
    is_related: bool,
    _sources: &'a Sources,
}

impl<'a> Report<'a> {
    fn new(d: &Diagnostic, sources: &'a Sources) -> Report<'a> {
        let primary = d.primary_span().map(|s| s.file);
        let mut labels = vec![];
        let mut related: Vec<Report<'a>> = vec![];
        for (i, l) in d.labels.iter().enumerate() {
            let ls = LabeledSpan::new_with_span(Some(l.message.clone()), l.span.range());
            let ls = if i == 0 {
                LabeledSpan::new_primary_with_span(ls.label().map(String::from), l.span.range())
            } else {
                ls
            };
            if Some(l.span.file) == primary {
                labels.push(ls);
            } else if let Some(r) = related
                .iter_mut()
                .find(|r| r.source.as_ref().map(|s| s.name()) == Some(sources.get(l.span.file).path.as_str()))
            {
                r.labels.push(ls);
            } else {
                let f = sources.get(l.span.file);
                related.push(Report {
                    code: d.code,
                    severity: Severity::Note,
                    message: l.message.clone(),
                    help: None,
                    source: Some(NamedSource::new(f.path.clone(), f.text.clone())),
                    labels: vec![ls],
                    related: vec![],
                    is_related: true,
                    _sources: sources,
                });
            }
        }
        let source = primary.map(|f| {
            let f = sources.get(f);
            NamedSource::new(f.path.clone(), f.text.clone())
        });
        Report {
            code: d.code,
            severity: d.severity,
            message: d.message.clone(),
            help: d.help.clone(),
            source,
            labels,
            related,
            is_related: false,
            _sources: sources,
        }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.is_related).then(|| Box::new(self.code.0) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty()).then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = _>>)
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn miette::Diagnostic> + 'b>> {
        (!self.related.is_empty())
            .then(|| Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic)) as Box<dyn Iterator<Item = _>>)
    }
}

/// Renders diagnostics as miette's graphical reports (with colour or without).
pub fn render_human(diags: &[Diagnostic], sources: &Sources, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100).with_links(false);
    let mut out = String::new();
    for d in diags {
        let report = Report::new(d, sources);
        // Writing into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct JsonLabel<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    code: &'a str,
    severity: Severity,
    message: &'a str,
    file: Option<&'a str>,
    line: Option<usize>,
    column: Option<usize>,
    labels: Vec<JsonLabel<'a>>,
    help: Option<&'a str>,
}

/// One JSON document: `{"diagnostics": [...], "errors": N, "warnings": N}`.
pub fn render_json(diags: &[Diagnostic], sources: &Sources) -> String {
    let list: Vec<JsonDiagnostic> = diags
        .iter()
        .map(|d| {
            let labels: Vec<JsonLabel> = d
                .labels
                .iter()
                .map(|l| {
                    let f = sources.get(l.span.file);
                    let (line, column) = f.line_col(l.span.start as usize);
                    let (end_line, end_column) = f.line_col(l.span.end as usize);
                    JsonLabel { file: &f.path, line, column, end_line, end_column, message: &l.message }
                })
                .collect();
            JsonDiagnostic {
                code: d.code.0,
                severity: d.severity,
                message: &d.message,
                file: labels.first().map(|l| l.file),
                line: labels.first().map(|l| l.line),
                column: labels.first().map(|l| l.column),
                labels,
                help: d.help.as_deref(),
            }
        })
        .collect();
    let count = |s| diags.iter().filter(|d| d.severity == s).count();
    let doc = serde_json::json!({
        "diagnostics": list,
        "errors": count(Severity::Error),
        "warnings": count(Severity::Warning),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// GitHub Actions workflow commands: `::error file=...,line=...::message`.
/// `prefix` is the mesh root's path in the repository (`""` or `mesh/`):
/// annotations name files from the repository root.
pub fn render_github(diags: &[Diagnostic], sources: &Sources, prefix: &str) -> String {
    // The workflow-command escapes: data and property values differ.
    let data = |s: &str| s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    let prop = |s: &str| data(s).replace(':', "%3A").replace(',', "%2C");
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = vec![format!("title={}", prop(d.code.0))];
        if let Some(span) = d.primary_span() {
            let f = sources.get(span.file);
            let (line, col) = f.line_col(span.start as usize);
            let (end_line, end_col) = f.line_col(span.end as usize);
            props.insert(
                0,
                format!(
                    "file={},line={line},col={col},endLine={end_line},endColumn={end_col}",
                    prop(&format!("{prefix}{}", f.path))
                ),
            );
        }
        let help = d.help.as_ref().map_or(String::new(), |h| format!("\n{h}"));
        out.push_str(&format!("::{level} {}::{}\n", props.join(","), data(&format!("{}{help}", d.message))));
    }
    out
}

/// SARIF 2.1.0, the format code-scanning tools read: one run, a rule per
/// code used (with its explanation), a result per diagnostic.
pub fn render_sarif(diags: &[Diagnostic], sources: &Sources, prefix: &str) -> String {
    let location = |l: &Label| {
        let f = sources.get(l.span.file);
        let (line, col) = f.line_col(l.span.start as usize);
        let (end_line, end_col) = f.line_col(l.span.end as usize);
        serde_json::json!({
            "physicalLocation": {
                "artifactLocation": { "uri": format!("{prefix}{}", f.path) },
                "region": { "startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col }
            },
            "message": { "text": l.message }
        })
    };
    let mut used: Vec<&str> = diags.iter().map(|d| d.code.0).collect();
    used.sort_unstable();
    used.dedup();
    let rules: Vec<serde_json::Value> = used
        .iter()
        .map(|code| {
            let info = crate::codes::lookup(code);
            serde_json::json!({
                "id": code,
                "shortDescription": { "text": info.map_or("", |i| i.title) },
                "help": { "text": info.map_or("", |i| i.explanation), "markdown": info.map_or("", |i| i.explanation) }
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let level = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            let text = match &d.help {
                Some(h) => format!("{}\n{h}", d.message),
                None => d.message.clone(),
            };
            let rule_index = used.iter().position(|c| *c == d.code.0).unwrap_or(0);
            serde_json::json!({
                "ruleId": d.code.0,
                "ruleIndex": rule_index,
                "level": level,
                "message": { "text": text },
                "locations": d.labels.first().map(location).into_iter().collect::<Vec<_>>(),
                "relatedLocations": d.labels.iter().skip(1).enumerate().map(|(i, l)| {
                    let mut loc = location(l);
                    loc["id"] = serde_json::json!(i + 1);
                    loc
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "dpc", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results
        }]
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}
