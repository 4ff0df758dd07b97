//! `dpc diff`: what a change does to the published ports, and to whom.
//!
//! Compares two manifests — the base (built from a git ref, or the last
//! deployed `manifest.json`) and the working tree's — port version by port
//! version. A breaking change under an existing version is an error that
//! names the consumers that read the affected columns (through column
//! lineage), and only those. Pure: the caller builds both manifests.

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::load::TargetKind;
use crate::resolve::Mesh;
use crate::target::Target;
use crate::types::Assign;
use serde::Deserialize;
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    Breaking,
    NeedsBackfill,
    Compatible,
}

#[derive(Debug, Serialize)]
pub struct Change {
    pub product: String,
    pub port: String,
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub impact: Impact,
    pub what: String,
    /// Products that read what changed (breaking changes only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub consumers: Vec<String>,
}

type PortKey = (String, String, u64);

/// What the diff reads of a `manifest.json`: its ports, who reads and pins
/// them, and fingerprints of its column lineage. Parsed straight from the
/// text into these maps, skipping everything else (a 10,000-product manifest is
/// 200 MB, most of it lineage that would take gigabytes as a JSON value).
pub struct Manifest {
    /// Every port version, as its manifest entry.
    ports: BTreeMap<PortKey, Value>,
    /// Product id → target name (`bigquery` when a manifest has none).
    targets: HashMap<String, String>,
    /// (port version, column) → consumers that read it (values or filters).
    reads: BTreeMap<(PortKey, String), BTreeSet<String>>,
    /// port version → consumers that pin it.
    pins: BTreeMap<PortKey, BTreeSet<String>>,
    /// (port version, column) → fingerprints of its (sources, filters).
    lineage: HashMap<(PortKey, String), (u64, u64)>,
}

/// The parts of a manifest the diff reads (serde skips the rest).
#[derive(Deserialize)]
struct ManifestView<'a> {
    #[serde(borrow, default)]
    products: Vec<ProductView<'a>>,
    #[serde(default)]
    lineage: LineageView,
}

#[derive(Deserialize)]
struct ProductView<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    target: Option<Cow<'a, str>>,
    #[serde(default)]
    outputs: Vec<Value>,
    #[serde(borrow, default)]
    inputs: Vec<InputView<'a>>,
}

#[derive(Deserialize)]
struct InputView<'a> {
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    product: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    port: Option<Cow<'a, str>>,
    #[serde(default)]
    version: Option<u64>,
}

#[derive(Deserialize, Default)]
struct LineageView {
    #[serde(default, deserialize_with = "column_facts")]
    columns: Vec<ColumnFacts>,
}

/// One lineage column reduced, as it is read, to what the diff compares:
/// a mesh has hundreds of thousands of them.
struct ColumnFacts {
    product: String,
    port: String,
    column: String,
    /// Fingerprints of its sources and of its filters ([`fingerprint`]).
    sources: u64,
    filters: u64,
    /// The port columns it reads: (product, port, version if given, column).
    reads: Vec<(String, String, Option<u64>, String)>,
}

fn column_facts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ColumnFacts>, D::Error> {
    struct Facts;
    impl<'de> serde::de::Visitor<'de> for Facts {
        type Value = Vec<ColumnFacts>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an array of lineage columns")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(c) = seq.next_element::<ColumnView>()? {
                let reads = c
                    .sources
                    .iter()
                    .chain(&c.filters)
                    .filter_map(|r| {
                        let port = r.port.as_deref()?;
                        Some((r.product.to_string(), port.to_string(), r.version, r.column.to_string()))
                    })
                    .collect();
                out.push(ColumnFacts {
                    product: c.column.product.into_owned(),
                    port: c.column.port.as_deref().unwrap_or_default().to_string(),
                    column: c.column.column.into_owned(),
                    sources: fingerprint(&c.sources),
                    filters: fingerprint(&c.filters),
                    reads,
                });
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Facts)
}

/// A fingerprint of a set of column references, independent of their
/// order and of port versions: equal sets, equal fingerprints (and
/// different sets collide with odds of 1 in 2^64).
fn fingerprint(refs: &[RefView]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut names: Vec<(&str, &str, &str)> = refs
        .iter()
        .map(|r| (&*r.product, r.port.as_deref().or(r.input.as_deref()).unwrap_or_default(), &*r.column))
        .collect();
    names.sort_unstable();
    // DefaultHasher::new() has fixed keys: the same on every run.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    names.hash(&mut h);
    h.finish()
}

#[derive(Deserialize)]
struct ColumnView<'a> {
    #[serde(borrow)]
    column: RefView<'a>,
    #[serde(borrow, default)]
    sources: Vec<RefView<'a>>,
    #[serde(borrow, default)]
    filters: Vec<RefView<'a>>,
}

/// A column of a port (`port`, `version`) or of a product's own input (`input`).
#[derive(Deserialize)]
struct RefView<'a> {
    #[serde(borrow, default)]
    product: Cow<'a, str>,
    #[serde(borrow, default)]
    port: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    input: Option<Cow<'a, str>>,
    #[serde(default)]
    version: Option<u64>,
    #[serde(borrow, default)]
    column: Cow<'a, str>,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

impl Manifest {
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let view: ManifestView = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let mut ports = BTreeMap::new();
        let mut targets = HashMap::new();
        let mut pins: BTreeMap<PortKey, BTreeSet<String>> = BTreeMap::new();
        for p in view.products {
            for o in p.outputs {
                ports.insert((p.id.to_string(), s(&o["name"]), o["version"].as_u64().unwrap_or(0)), o);
            }
            for i in p.inputs.iter().filter(|i| i.kind.as_deref().is_none_or(|k| k == "product")) {
                let (Some(product), Some(port)) = (&i.product, &i.port) else { continue };
                let key = (product.to_string(), port.to_string(), i.version.unwrap_or(0));
                pins.entry(key).or_default().insert(p.id.to_string());
            }
            // A manifest from before targets were recorded is BigQuery's.
            targets.insert(p.id.to_string(), p.target.as_deref().unwrap_or("bigquery").to_string());
        }
        // The lowest version of each port (keys are sorted): what a lineage
        // reference without a version (older manifests) or a column's own
        // port means.
        let mut versions: HashMap<(&str, &str), u64> = HashMap::new();
        for (p, o, v) in ports.keys() {
            versions.entry((p.as_str(), o.as_str())).or_insert(*v);
        }
        let version_of = |product: &str, port: &str| versions.get(&(product, port)).copied().unwrap_or(0);
        let mut reads: BTreeMap<(PortKey, String), BTreeSet<String>> = BTreeMap::new();
        let mut lineage = HashMap::new();
        for c in view.lineage.columns {
            for (product, port, version, column) in c.reads {
                let version = version.unwrap_or_else(|| version_of(&product, &port));
                let column = column.split('.').next().unwrap_or_default().to_ascii_lowercase();
                reads.entry(((product, port, version), column)).or_default().insert(c.product.clone());
            }
            let own = (c.product.clone(), c.port.clone(), version_of(&c.product, &c.port));
            lineage.insert((own, c.column.to_ascii_lowercase()), (c.sources, c.filters));
        }
        Ok(Manifest { ports, targets, reads, pins, lineage })
    }
}

fn columns(port: &Value) -> Vec<&Value> {
    port["columns"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

fn labels(col: &Value) -> BTreeSet<String> {
    col["classification"].as_array().into_iter().flatten().map(s).collect()
}

/// Every change from `base` to `head`; `today` (YYYY-MM-DD) decides sunsets.
pub fn diff_manifests(b: &Manifest, h: &Manifest, today: &str) -> Vec<Change> {
    // Which types widen safely is the product's target's business.
    let target_of = |product: &str| -> &'static dyn Target {
        let name = h.targets.get(product).map(String::as_str);
        crate::target::all()
            .into_iter()
            .find(|t| Some(t.kind().name()) == name)
            .unwrap_or_else(|| crate::target::target_for(TargetKind::Bigquery))
    };
    let mut changes = vec![];
    let readers = |key: &PortKey, column: &str| -> Vec<String> {
        b.reads
            .get(&(key.clone(), column.to_ascii_lowercase()))
            .map(|r| r.iter().cloned().collect())
            .unwrap_or_default()
    };
    let all_pins =
        |key: &PortKey| -> Vec<String> { b.pins.get(key).map(|r| r.iter().cloned().collect()).unwrap_or_default() };
    let mut push = |key: &PortKey, column: Option<&str>, impact: Impact, what: String, consumers: Vec<String>| {
        changes.push(Change {
            product: key.0.clone(),
            port: key.1.clone(),
            version: key.2,
            column: column.map(str::to_string),
            impact,
            what,
            consumers: if impact == Impact::Breaking { consumers } else { vec![] },
        })
    };
    for (key, old) in &b.ports {
        let Some(new) = h.ports.get(key) else {
            let sunset = old["sunset"].as_str();
            if sunset.is_some_and(|d| d < today) {
                push(key, None, Impact::Compatible, format!("version {} removed after its sunset", key.2), vec![]);
            } else {
                let why = sunset.map_or(String::new(), |d| format!(" before its sunset ({d})"));
                push(key, None, Impact::Breaking, format!("port version removed{why}"), all_pins(key));
            }
            continue;
        };
        let (oc, nc) = (columns(old), columns(new));
        let mut rows_changed = false;
        let find = |cols: &[&'_ Value], name: &str| cols.iter().position(|c| s(&c["name"]).eq_ignore_ascii_case(name));
        for c in &oc {
            let name = s(&c["name"]);
            let Some(j) = find(&nc, &name) else {
                push(key, Some(&name), Impact::Breaking, "column removed (or renamed)".into(), readers(key, &name));
                continue;
            };
            let n = nc[j];
            let (ot, nt) = (s(&c["type"]), s(&n["type"]));
            if !ot.eq_ignore_ascii_case(&nt) {
                let target = target_of(&key.0);
                let widened = match (target.parse_type(&ot), target.parse_type(&nt)) {
                    (Ok(a), Ok(b)) => target.assignable(&a, &b) == Assign::Yes,
                    _ => false,
                };
                if widened {
                    push(key, Some(&name), Impact::Compatible, format!("type widened from {ot} to {nt}"), vec![]);
                } else {
                    push(
                        key,
                        Some(&name),
                        Impact::Breaking,
                        format!("type changed from {ot} to {nt}"),
                        readers(key, &name),
                    );
                }
            }
            if c["nullable"] == true && n["nullable"] == false {
                push(key, Some(&name), Impact::Breaking, "nullable column made required".into(), readers(key, &name));
            }
            let (ol, nl) = (labels(c), labels(n));
            for gone in ol.difference(&nl) {
                push(
                    key,
                    Some(&name),
                    Impact::Breaking,
                    format!("classification `{gone}` removed"),
                    readers(key, &name),
                );
            }
            for added in nl.difference(&ol) {
                push(key, Some(&name), Impact::Compatible, format!("classification `{added}` added"), vec![]);
            }
            if c["description"] != n["description"] {
                push(key, Some(&name), Impact::Compatible, "description changed".into(), vec![]);
            }
            let lin = |side: &Manifest| side.lineage.get(&(key.clone(), name.to_ascii_lowercase())).copied();
            if let (Some((os, of)), Some((ns, nf))) = (lin(b), lin(h)) {
                rows_changed |= of != nf;
                if os != ns {
                    push(
                        key,
                        Some(&name),
                        Impact::NeedsBackfill,
                        "values change: it is computed from other columns".into(),
                        vec![],
                    );
                }
            }
        }
        let first_new = nc.iter().position(|c| find(&oc, &s(&c["name"])).is_none()).unwrap_or(nc.len());
        for (j, n) in nc.iter().enumerate().filter(|(_, c)| find(&oc, &s(&c["name"])).is_none()) {
            let name = s(&n["name"]);
            let at_end = nc[first_new..].iter().all(|c| find(&oc, &s(&c["name"])).is_none());
            match (at_end && j >= first_new, n["nullable"] == true) {
                (true, true) => push(key, Some(&name), Impact::Compatible, "column added at the end".into(), vec![]),
                (true, false) => {
                    push(key, Some(&name), Impact::Breaking, "required column added".into(), all_pins(key))
                }
                _ => push(
                    key,
                    Some(&name),
                    Impact::Breaking,
                    "column added between existing columns".into(),
                    all_pins(key),
                ),
            }
        }
        for (field, what) in [("unique_key", "unique key"), ("partition_by", "partitioning")] {
            if old[field] != new[field] {
                push(key, None, Impact::Breaking, format!("{what} changed"), all_pins(key));
            }
        }
        if rows_changed {
            push(
                key,
                None,
                Impact::NeedsBackfill,
                "rows change: the filters, joins or grouping changed".into(),
                vec![],
            );
        } else if old["query_sha256"] != new["query_sha256"] {
            push(key, None, Impact::NeedsBackfill, "query changed".into(), vec![]);
        }
        if old["sunset"] != new["sunset"] {
            let what =
                new["sunset"].as_str().map_or("sunset date removed".to_string(), |d| format!("sunset set to {d}"));
            push(key, None, Impact::Compatible, what, vec![]);
        }
        if old["description"] != new["description"] {
            push(key, None, Impact::Compatible, "description changed".into(), vec![]);
        }
    }
    for key in h.ports.keys().filter(|k| !b.ports.contains_key(*k)) {
        let what = if b.ports.keys().any(|k| k.0 == key.0 && k.1 == key.1) { "new version" } else { "new port" };
        push(key, None, Impact::Compatible, what.into(), vec![]);
    }
    changes.sort_by(|a, b| {
        (&a.product, &a.port, a.version, a.impact, &a.column)
            .cmp(&(&b.product, &b.port, b.version, b.impact, &b.column))
    });
    changes
}

/// Diagnostics for the changes, with spans in the working tree's mesh:
/// errors for breaking changes, warnings for backfills and for consumers
/// still on a version that is being retired.
pub fn diagnose(changes: &[Change], head: &Mesh, today: &str) -> Vec<Diagnostic> {
    let mut out = vec![];
    for c in changes.iter().filter(|c| c.impact != Impact::Compatible) {
        let product = head.products.iter().find(|p| p.id == c.product);
        let port = product.and_then(|p| p.outputs.iter().find(|o| o.name == c.port));
        let column = port.and_then(|o| {
            o.columns.iter().flatten().find(|x| c.column.as_deref().is_some_and(|n| x.name.eq_ignore_ascii_case(n)))
        });
        let span = column.map(|x| x.span).or(port.map(|o| o.span)).or(product.map(|p| p.name_span));
        let subject = match &c.column {
            Some(col) => format!("`{}.{}` v{}: column `{col}`", c.product, c.port, c.version),
            None => format!("`{}.{}` v{}", c.product, c.port, c.version),
        };
        let mut d = match c.impact {
            Impact::Breaking => {
                let who = if c.consumers.is_empty() {
                    "no consumer reads it".to_string()
                } else {
                    format!("it breaks {}", c.consumers.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", "))
                };
                Diagnostic::error(codes::BREAKING_CHANGE, format!("breaking change to {subject}: {}; {who}", c.what)).help(format!(
                    "publish the change as version {} ([outputs.{}] with `version = {}`) and keep version {} with a `sunset` date until its consumers move",
                    c.version + 1,
                    c.port,
                    c.version + 1,
                    c.version
                ))
            }
            _ => Diagnostic::warning(codes::NEEDS_BACKFILL, format!("{subject} needs a backfill: {}", c.what))
                .help("rebuild the port's history after the deploy so old and new rows agree"),
        };
        if let Some(span) = span {
            d = d.label(span, c.what.clone());
        }
        out.push(d);
    }
    // Consumers of versions with a sunset date.
    for p in &head.products {
        for input in &p.inputs {
            let crate::resolve::InputSource::Port { product, port, .. } = input.source else { continue };
            let up = &head.products[product.0 as usize];
            let o = &up.outputs[port];
            let Some(sunset) = &o.sunset else { continue };
            let newer =
                up.outputs.iter().filter(|x| x.name == o.name && x.version > o.version).map(|x| x.version).max();
            let when = if sunset.as_str() < today { "was retired on" } else { "is retired after" };
            out.push(
                Diagnostic::warning(
                    codes::SUNSET_PENDING,
                    format!("`{}` reads `{}.{}` v{}, which {when} {sunset}", p.id, up.id, o.name, o.version),
                )
                .label(input.span, format!("pinned to version {}", o.version))
                .help(match newer {
                    Some(v) => format!("move to version {v}: `version = {v}`, and adapt the query to its columns"),
                    None => "ask the producer which version replaces it".to_string(),
                }),
            );
        }
    }
    out
}

/// The changes as a Markdown summary for a pull-request comment.
pub fn markdown(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "### dpc diff\n\nNo change to any published port.\n".into();
    }
    let mut out = String::from("### dpc diff\n\n| port | version | column | impact | change | consumers affected |\n|---|---|---|---|---|---|\n");
    for c in changes {
        let impact = match c.impact {
            Impact::Breaking => "❌ breaking",
            Impact::NeedsBackfill => "⚠️ needs backfill",
            Impact::Compatible => "✅ compatible",
        };
        out.push_str(&format!(
            "| `{}.{}` | {} | {} | {impact} | {} | {} |\n",
            c.product,
            c.port,
            c.version,
            c.column.as_deref().map_or(String::new(), |x| format!("`{x}`")),
            c.what.replace('|', "\\|"),
            c.consumers.iter().map(|x| format!("`{x}`")).collect::<Vec<_>>().join(", ")
        ));
    }
    out
}

/// The changes as plain text, one line each.
pub fn text(changes: &[Change]) -> String {
    let mut out = String::new();
    for c in changes {
        let column = c.column.as_deref().map_or(String::new(), |x| format!(" column `{x}`"));
        let who = if c.consumers.is_empty() { String::new() } else { format!(" (breaks {})", c.consumers.join(", ")) };
        let impact = match c.impact {
            Impact::Breaking => "breaking",
            Impact::NeedsBackfill => "backfill",
            Impact::Compatible => "compatible",
        };
        out.push_str(&format!("{impact:<10} {}.{} v{}{column}: {}{who}\n", c.product, c.port, c.version, c.what));
    }
    if changes.is_empty() {
        out.push_str("no change to any published port\n");
    }
    out
}

/// One step that moves a deployed table to the new schema without
/// re-creating it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    AddColumn { name: String, ty: String, description: Option<String> },
    WidenColumn { name: String, ty: String },
    ColumnDescription { name: String, description: Option<String> },
    TableDescription { description: Option<String> },
}

/// The migrations of every table port version whose changes are all
/// compatible: `(product, port key entry, version) → steps`, in order.
pub fn migrations(b: &Manifest, h: &Manifest, changes: &[Change]) -> Vec<(String, String, u64, Vec<Step>)> {
    let breaking: BTreeSet<(&str, &str, u64)> = changes
        .iter()
        .filter(|c| c.impact == Impact::Breaking)
        .map(|c| (c.product.as_str(), c.port.as_str(), c.version))
        .collect();
    let mut out = vec![];
    for (key, new) in &h.ports {
        let Some(old) = b.ports.get(key) else { continue };
        if breaking.contains(&(key.0.as_str(), key.1.as_str(), key.2)) || new["materialization"] == "view" {
            continue;
        }
        let (oc, nc) = (columns(old), columns(new));
        let mut steps = vec![];
        for n in &nc {
            let name = s(&n["name"]);
            let description = n["description"].as_str().map(str::to_string);
            match oc.iter().find(|o| s(&o["name"]).eq_ignore_ascii_case(&name)) {
                None => steps.push(Step::AddColumn { name, ty: s(&n["type"]), description }),
                Some(o) => {
                    if !s(&o["type"]).eq_ignore_ascii_case(&s(&n["type"])) {
                        steps.push(Step::WidenColumn { name: name.clone(), ty: s(&n["type"]) });
                    }
                    if o["description"] != n["description"] {
                        steps.push(Step::ColumnDescription { name, description });
                    }
                }
            }
        }
        if old["description"] != new["description"] {
            steps.push(Step::TableDescription { description: new["description"].as_str().map(str::to_string) });
        }
        if !steps.is_empty() {
            let entry = s(&new["job"]).rsplit('/').next().unwrap_or_default().trim_end_matches(".sql").to_string();
            out.push((key.0.clone(), entry, key.2, steps));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A manifest as an older dpc wrote it: no targets, no input kinds, no
    /// versions in lineage references; and fields the diff does not read.
    const OLD: &str = r#"{
      "mesh": "m", "unknown": [1, 2],
      "products": [
        {"id": "a.up", "outputs": [{"name": "o", "version": 1, "columns": [{"name": "x", "type": "INT64"}]},
                                    {"name": "o", "version": 2, "columns": []}]},
        {"id": "b.down", "inputs": [{"name": "o", "product": "a.up", "port": "o", "version": 1, "columns": []}],
         "outputs": [{"name": "d", "version": 1, "columns": [{"name": "y", "type": "INT64"}]}]}
      ],
      "lineage": {"products": [{"from": "a.up", "to": "b.down"}], "columns": [
        {"column": {"product": "b.down", "port": "d", "column": "y"},
         "sources": [{"product": "a.up", "port": "o", "column": "x"}],
         "filters": [{"product": "a.up", "port": "o", "column": "x"}, {"product": "b.down", "input": "o", "column": "x"}]}
      ]}
    }"#;

    #[test]
    fn reads_an_older_manifest_and_resolves_unversioned_references_to_the_first_version() {
        let m = Manifest::parse(OLD).unwrap();
        assert_eq!(m.targets["a.up"], "bigquery");
        let up: PortKey = ("a.up".into(), "o".into(), 1);
        assert_eq!(m.reads[&(up.clone(), "x".into())], BTreeSet::from(["b.down".to_string()]));
        assert_eq!(m.pins[&up], BTreeSet::from(["b.down".to_string()]));
        assert!(m.lineage.contains_key(&(("b.down".into(), "d".into(), 1), "y".into())));
        assert_eq!(m.ports.len(), 3);
    }

    #[test]
    fn a_fingerprint_ignores_order_and_versions_but_not_columns() {
        fn parse(text: &str) -> Vec<RefView<'_>> {
            serde_json::from_str(text).unwrap()
        }
        let a = parse(
            r#"[{"product": "p", "port": "o", "version": 1, "column": "x"}, {"product": "p", "input": "i", "column": "y"}]"#,
        );
        let b =
            parse(r#"[{"product": "p", "input": "i", "column": "y"}, {"product": "p", "port": "o", "column": "x"}]"#);
        let c =
            parse(r#"[{"product": "p", "input": "i", "column": "y"}, {"product": "p", "port": "o", "column": "z"}]"#);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn a_manifest_that_is_not_json_is_an_error() {
        assert!(Manifest::parse("{\"products\": [").is_err());
        assert!(Manifest::parse("{\"lineage\": {\"columns\": 3}}").is_err());
    }
}
