//! Stage 5, lineage: column-level lineage across the mesh, and the
//! classifications (such as PII) that flow along it.
//!
//! Takes the resolved [`Mesh`] and the [`CheckedMesh`] (whose queries carry
//! their lineage over their own inputs); gives [`MeshLineage`]: for every
//! output column, the upstream port columns and own-input columns its
//! values come from, the columns that only filter, and its classification.
//! Reports a column that carries a label it does not declare, with the path
//! the label took, and products above their classification ceiling.

use crate::check::{CheckedMesh, CheckedPort};
use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::resolve::{Column, InputSource, Mesh, ProductId};
use crate::span::Span;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// A column of the mesh: an output port's column, or a column (or STRUCT
/// field path) of a product's own input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ColumnRef {
    Port { product: ProductId, port: usize, column: Arc<str> },
    Input { product: ProductId, input: usize, column: Arc<str> },
}

impl ColumnRef {
    /// `domain.product.port.column`, or `domain.product:input.column`.
    pub fn display(&self, mesh: &Mesh) -> String {
        match self {
            ColumnRef::Port { product, port, column } => {
                let p = &mesh.products[product.0 as usize];
                format!("{}.{}.{column}", p.id, p.outputs[*port].name)
            }
            ColumnRef::Input { product, input, column } => {
                let p = &mesh.products[product.0 as usize];
                format!("{}:{}.{column}", p.id, p.inputs[*input].name)
            }
        }
    }
}

/// A source of a column's values.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Source {
    pub column: ColumnRef,
    /// The values passed through a de-identifying function on the way.
    pub deidentified: bool,
}

#[derive(Clone, Debug)]
pub struct ColumnLineage {
    pub product: ProductId,
    pub port: usize,
    pub column: String,
    pub sources: Vec<Source>,
    /// Shared with the port's other columns that have the same filters (most
    /// of a port's columns: rows are filtered for all of them at once).
    pub filters: Arc<[ColumnRef]>,
    /// The column's labels: declared where the port has a contract, else inferred.
    pub classification: Vec<String>,
}

#[derive(Debug, Default)]
pub struct MeshLineage {
    /// In product, port and column order.
    pub columns: Vec<ColumnLineage>,
}

impl MeshLineage {
    /// The lineage of a port column (the columns are sorted by product and port).
    pub fn find(&self, r: &ColumnRef) -> Option<&ColumnLineage> {
        match r {
            ColumnRef::Port { product, port, column } => {
                // Sorted by (product, port): a binary search, then the port's few columns.
                let start = self.columns.partition_point(|c| (c.product, c.port) < (*product, *port));
                self.columns[start..]
                    .iter()
                    .take_while(|c| c.product == *product && c.port == *port)
                    .find(|c| c.column.eq_ignore_ascii_case(column))
            }
            ColumnRef::Input { .. } => None,
        }
    }
}

/// The top-level column of a path (`device` of `device.category`).
fn top(column: &str) -> &str {
    column.split('.').next().unwrap_or(column)
}

fn labels_of(columns: &[Column], name: &str) -> Vec<String> {
    columns
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(top(name)))
        .map(|c| c.classification.clone())
        .unwrap_or_default()
}

/// Effective labels of the port columns that carry any, by (product, port),
/// keyed by lower-case column name. Most ports carry none: the map stays small.
type PortLabels = BTreeMap<(ProductId, usize), BTreeMap<String, Vec<String>>>;

pub fn trace_mesh(mesh: &Mesh, checked: &mut CheckedMesh, diags: &mut Vec<Diagnostic>) -> MeshLineage {
    check_labels(mesh, diags);
    // Where each column comes from needs only the product's own query:
    // every product at once. Each port's lineage from the checker is
    // consumed here (what it gives is the mesh lineage), so that a mesh
    // never holds both.
    let mut traced: Vec<(Vec<ColumnLineage>, Vec<Span>)> = {
        use rayon::prelude::*;
        checked.ports.par_iter_mut().enumerate().map(|(pi, ports)| trace_product(mesh, ports, pi)).collect()
    };
    // Labels flow downstream: in dependency order.
    let mut port_labels = PortLabels::new();
    let mut classified: Vec<Vec<ColumnLineage>> = vec![vec![]; traced.len()];
    for &pid in &mesh.order {
        let product = &mesh.products[pid.0 as usize];
        let (mut columns, spans) = std::mem::take(&mut traced[pid.0 as usize]);
        for (oi, port) in product.outputs.iter().enumerate() {
            let c = &checked.ports[pid.0 as usize][oi];
            if c.inferred.is_none() || c.lineage.is_none() {
                // Not checked: the contract, if any, is all that is known.
                for d in port.columns.iter().flatten() {
                    set_labels(&mut port_labels, pid, oi, &d.name, d.classification.clone());
                }
            }
        }
        for (col, &span) in columns.iter_mut().zip(&spans) {
            let port = &product.outputs[col.port];
            // Labels flow from every source that was not de-identified.
            let mut inferred = BTreeSet::new();
            for s in col.sources.iter().filter(|s| !s.deidentified) {
                inferred.extend(source_labels(mesh, &port_labels, &s.column));
            }
            let declared =
                port.columns.as_ref().and_then(|cols| cols.iter().find(|d| d.name.eq_ignore_ascii_case(&col.column)));
            col.classification = match declared {
                Some(d) => {
                    for label in inferred.iter().filter(|l| !d.classification.contains(l)) {
                        let path = label_path(mesh, &classified, &port_labels, &col.sources, label);
                        diags.push(
                            Diagnostic::error(
                                codes::CLASSIFICATION_UNDECLARED,
                                format!(
                                    "column `{}` of port `{}.{}` carries `{label}` but does not declare it",
                                    col.column, product.id, port.name
                                ),
                            )
                            .label(span, format!("`{label}` flows in here"))
                            .label(d.span, format!("declare `classification = \"{label}\"` here"))
                            .help(format!(
                                "the `{label}` comes from {}; declare it, or remove it with a de-identifying function such as TO_HEX(SHA256(...))",
                                path.join(" ← ")
                            )),
                        );
                    }
                    d.classification.clone()
                }
                None => inferred.into_iter().collect(),
            };
            set_labels(&mut port_labels, pid, col.port, &col.column, col.classification.clone());
        }
        classified[pid.0 as usize] = columns;
    }
    check_ceilings(mesh, &port_labels, diags);
    // Product by product, each in port order: sorted by (product, port).
    MeshLineage { columns: classified.into_iter().flatten().collect() }
}

fn set_labels(port_labels: &mut PortLabels, product: ProductId, port: usize, column: &str, labels: Vec<String>) {
    if !labels.is_empty() {
        port_labels.entry((product, port)).or_default().insert(column.to_ascii_lowercase(), labels);
    }
}

/// The sources and filters of every output column of one product, as mesh
/// columns (classifications come later, in dependency order), with the span
/// of the SELECT item that makes each.
fn trace_product(mesh: &Mesh, ports: &mut [CheckedPort], pi: usize) -> (Vec<ColumnLineage>, Vec<Span>) {
    let product = &mesh.products[pi];
    let pid = ProductId(pi as u32);
    // A product's columns name the same few input columns over and over:
    // each name is allocated once and shared.
    let mut names: HashMap<String, Arc<str>> = HashMap::new();
    let mut resolve = |o: &crate::types::Origin| -> Option<ColumnRef> {
        let source = product.inputs.get(o.input as usize)?.source;
        let column = match names.get(o.column.as_str()) {
            Some(name) => name.clone(),
            None => names.entry(o.column.to_string()).or_insert_with(|| Arc::from(o.column.as_str())).clone(),
        };
        match source {
            InputSource::Port { product: up, port, .. } => Some(ColumnRef::Port { product: up, port, column }),
            InputSource::Own => Some(ColumnRef::Input { product: pid, input: o.input as usize, column }),
            InputSource::Unresolved => None,
        }
    };
    let (mut out, mut spans): (Vec<ColumnLineage>, _) = (vec![], vec![]);
    for (oi, c) in ports.iter_mut().enumerate() {
        // Taken, not cloned: `Some` stays (empty), as a mark that it checked.
        let (Some(schema), Some(cols)) = (&c.inferred, &mut c.lineage) else { continue };
        for (col, (lin, span)) in schema.iter().zip(std::mem::take(cols)) {
            let mut sources: Vec<Source> = lin
                .sources
                .iter()
                .filter_map(|o| resolve(o).map(|column| Source { column, deidentified: o.deidentified }))
                .collect();
            sources.sort();
            sources.dedup();
            let mut filters: Vec<ColumnRef> = lin.filters.iter().filter_map(&mut resolve).collect();
            filters.sort();
            filters.dedup();
            let filters = match out.last() {
                Some(last) if last.port == oi && *last.filters == *filters => last.filters.clone(),
                _ => filters.into(),
            };
            out.push(ColumnLineage {
                product: pid,
                port: oi,
                column: col.name.clone(),
                sources,
                filters,
                classification: vec![],
            });
            spans.push(span);
        }
    }
    (out, spans)
}

fn source_labels(mesh: &Mesh, port_labels: &PortLabels, r: &ColumnRef) -> Vec<String> {
    match r {
        ColumnRef::Port { product, port, column } => port_labels
            .get(&(*product, *port))
            .and_then(|columns| columns.get(&top(column).to_ascii_lowercase()))
            .cloned()
            .unwrap_or_default(),
        ColumnRef::Input { product, input, column } => {
            labels_of(&mesh.products[product.0 as usize].inputs[*input].columns, column)
        }
    }
}

/// The way a label took to a column, source by source, back to where it
/// was first declared (through the upstream products classified so far).
fn label_path(
    mesh: &Mesh,
    classified: &[Vec<ColumnLineage>],
    port_labels: &PortLabels,
    sources: &[Source],
    label: &str,
) -> Vec<String> {
    let mut path = vec![];
    let mut current: Vec<Source> = sources.to_vec();
    // The lineage is a DAG: the walk ends, but keep it bounded all the same.
    for _ in 0..64 {
        let Some(next) = current
            .iter()
            .find(|s| !s.deidentified && source_labels(mesh, port_labels, &s.column).iter().any(|l| l == label))
        else {
            break;
        };
        path.push(format!("`{}`", next.column.display(mesh)));
        let up = match &next.column {
            ColumnRef::Port { product, port, column } => {
                classified[product.0 as usize].iter().find(|c| c.port == *port && c.column.eq_ignore_ascii_case(column))
            }
            ColumnRef::Input { .. } => None,
        };
        match up {
            Some(up) => current = up.sources.clone(),
            None => break,
        }
    }
    path
}

/// Every label used must be one the mesh defines.
fn check_labels(mesh: &Mesh, diags: &mut Vec<Diagnostic>) {
    for p in &mesh.products {
        let columns =
            p.inputs.iter().flat_map(|i| &i.columns).chain(p.outputs.iter().flat_map(|o| o.columns.iter().flatten()));
        for c in columns {
            for label in c.classification.iter().filter(|l| !mesh.labels.contains(l)) {
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_CLASSIFICATION,
                    format!("`{label}` is not a classification of this mesh"),
                )
                .label(c.span, format!("column `{}` is labelled `{label}`", c.name));
                if let Some(at) = mesh.labels_span {
                    d = d.label(at, "the mesh's labels");
                }
                d = match did_you_mean(label, mesh.labels.iter().map(String::as_str)) {
                    Some(m) => d.help(m),
                    None => d.help(format!(
                        "use one of: {}, or add it to `labels` in [classifications] in dpc.toml",
                        mesh.labels.join(", ")
                    )),
                };
                diags.push(d);
            }
        }
    }
}

/// A product with `classification_ceiling` publishes nothing above it.
fn check_ceilings(mesh: &Mesh, port_labels: &PortLabels, diags: &mut Vec<Diagnostic>) {
    let labelled =
        port_labels.iter().flat_map(|(&(pid, oi), columns)| columns.iter().map(move |(c, l)| (pid, oi, c, l)));
    for (pid, oi, column, labels) in labelled {
        let product = &mesh.products[pid.0 as usize];
        let Some((ceiling, at)) = &product.ceiling else { continue };
        for label in labels.iter().filter(|l| !ceiling.contains(l)) {
            let port = &product.outputs[oi];
            let column_span: Span = port
                .columns
                .iter()
                .flatten()
                .find(|c| c.name.eq_ignore_ascii_case(column))
                .map_or(port.span, |c| c.span);
            diags.push(
                Diagnostic::error(
                    codes::CLASSIFICATION_CEILING,
                    format!("`{}` publishes `{label}` data, above its classification ceiling", product.id),
                )
                .label(column_span, format!("`{}.{column}` is `{label}`", port.name))
                .label(*at, "the product's ceiling")
                .help(format!(
                    "drop the column, remove the `{label}` with a de-identifying function such as TO_HEX(SHA256(...)), or raise the ceiling"
                )),
            );
        }
    }
}

/// One column in a lineage walk, with what it comes from (upstream) or
/// what uses it (downstream).
#[derive(Debug, serde::Serialize)]
pub struct Node {
    pub column: String,
    pub classification: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deidentified: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub filter: bool,
    pub children: Vec<Node>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Upstream,
    Downstream,
}

impl MeshLineage {
    /// The port columns a selector names: `domain.product`, `domain.product.port`
    /// or `domain.product.port.column` (a column may be a STRUCT path).
    pub fn select(&self, mesh: &Mesh, selector: &str) -> Result<Vec<ColumnRef>, String> {
        let parts: Vec<&str> = selector.splitn(4, '.').collect();
        let [domain, name, rest @ ..] = parts.as_slice() else {
            return Err(format!("`{selector}` is not `domain.product[.port[.column]]`"));
        };
        let id = format!("{domain}.{name}");
        let Some(pi) = mesh.products.iter().position(|p| p.id == id) else {
            let ids: Vec<&str> = mesh.products.iter().map(|p| p.id.as_str()).collect();
            let hint = did_you_mean(&id, ids.iter().copied()).unwrap_or_default();
            return Err(format!("no product `{id}` in this mesh {hint}").trim_end().to_string());
        };
        let product = ProductId(pi as u32);
        let p = &mesh.products[pi];
        let columns: Vec<ColumnRef> = self
            .columns
            .iter()
            .filter(|c| c.product == product)
            .filter(|c| rest.first().is_none_or(|port| p.outputs[c.port].name == *port))
            .filter(|c| rest.get(1).is_none_or(|col| c.column.eq_ignore_ascii_case(col)))
            .map(|c| ColumnRef::Port { product, port: c.port, column: c.column.as_str().into() })
            .collect();
        if columns.is_empty() {
            return Err(format!("`{selector}` names no checked output column"));
        }
        Ok(columns)
    }

    /// The lineage tree of a column, `depth` levels deep (None: all).
    pub fn walk(
        &self,
        mesh: &Mesh,
        root: &ColumnRef,
        direction: Direction,
        depth: Option<usize>,
        filters: bool,
    ) -> Node {
        self.walk_from(mesh, root, direction, depth, filters, false, false, &mut vec![])
    }

    #[allow(clippy::too_many_arguments)]
    fn walk_from(
        &self,
        mesh: &Mesh,
        at: &ColumnRef,
        direction: Direction,
        depth: Option<usize>,
        filters: bool,
        deidentified: bool,
        filter: bool,
        path: &mut Vec<ColumnRef>,
    ) -> Node {
        let classification = match at {
            ColumnRef::Port { .. } => self.find(at).map(|c| c.classification.clone()).unwrap_or_default(),
            ColumnRef::Input { product, input, column } => {
                labels_of(&mesh.products[product.0 as usize].inputs[*input].columns, column)
            }
        };
        let mut node = Node { column: at.display(mesh), classification, deidentified, filter, children: vec![] };
        if depth == Some(0) || path.contains(at) {
            return node;
        }
        let next: Vec<(ColumnRef, bool, bool)> = match direction {
            Direction::Upstream => self
                .find(at)
                .map(|c| {
                    let values = c.sources.iter().map(|s| (s.column.clone(), s.deidentified, false));
                    let rows = c.filters.iter().filter(|_| filters).map(|f| (f.clone(), false, true));
                    values.chain(rows).collect()
                })
                .unwrap_or_default(),
            Direction::Downstream => self
                .columns
                .iter()
                .flat_map(|c| {
                    let me = ColumnRef::Port { product: c.product, port: c.port, column: c.column.as_str().into() };
                    let by_value = c
                        .sources
                        .iter()
                        .find(|s| same_column(&s.column, at))
                        .map(|s| (me.clone(), s.deidentified, false));
                    let by_filter =
                        (filters && c.filters.iter().any(|f| same_column(f, at))).then(|| (me.clone(), false, true));
                    by_value.or(by_filter)
                })
                .collect(),
        };
        path.push(at.clone());
        for (column, deid, filt) in next {
            node.children.push(self.walk_from(
                mesh,
                &column,
                direction,
                depth.map(|d| d - 1),
                filters,
                deid,
                filt,
                path,
            ));
        }
        path.pop();
        node
    }
}

/// Whether a source names a column, or a STRUCT field inside it.
fn same_column(source: &ColumnRef, column: &ColumnRef) -> bool {
    match (source, column) {
        (ColumnRef::Port { product: a, port: p, column: c }, ColumnRef::Port { product: b, port: q, column: d }) => {
            a == b && p == q && (c.eq_ignore_ascii_case(d) || top(c).eq_ignore_ascii_case(d))
        }
        _ => source == column,
    }
}

/// A tree as indented text.
pub fn render_tree(node: &Node) -> String {
    fn line(node: &Node, prefix: &str, last: bool, root: bool, out: &mut String) {
        let mut tags = vec![];
        if !node.classification.is_empty() {
            tags.push(node.classification.join(", "));
        }
        if node.deidentified {
            tags.push("de-identified".to_string());
        }
        if node.filter {
            tags.push("filter".to_string());
        }
        let tags = if tags.is_empty() { String::new() } else { format!("  [{}]", tags.join("; ")) };
        let branch = if root {
            ""
        } else if last {
            "└── "
        } else {
            "├── "
        };
        out.push_str(&format!("{prefix}{branch}{}{tags}\n", node.column));
        let child_prefix =
            if root { String::new() } else { format!("{prefix}{}", if last { "    " } else { "│   " }) };
        for (i, c) in node.children.iter().enumerate() {
            line(c, &child_prefix, i + 1 == node.children.len(), false, out);
        }
    }
    let mut out = String::new();
    line(node, "", true, true, &mut out);
    out
}

/// The edges of trees, for DOT or Mermaid.
fn tree_edges<'n>(node: &'n Node, out: &mut Vec<(&'n str, &'n str, bool)>, direction: Direction) {
    for c in &node.children {
        match direction {
            Direction::Upstream => out.push((&c.column, &node.column, c.filter)),
            Direction::Downstream => out.push((&node.column, &c.column, c.filter)),
        }
        tree_edges(c, out, direction);
    }
}

pub fn render_graph(trees: &[Node], direction: Direction, mermaid: bool) -> String {
    let mut edges = vec![];
    trees.iter().for_each(|t| tree_edges(t, &mut edges, direction));
    edges.sort();
    edges.dedup();
    let mut names: Vec<&str> =
        trees.iter().map(|t| t.column.as_str()).chain(edges.iter().flat_map(|e| [e.0, e.1])).collect();
    names.sort();
    names.dedup();
    let id = |n: &str| names.iter().position(|x| *x == n).unwrap_or(0);
    let edges: Vec<(usize, usize, bool)> = edges.iter().map(|(a, b, f)| (id(a), id(b), *f)).collect();
    let mut out = vec![];
    // Writing to memory cannot fail, and the text is UTF-8.
    let _ = render_columns(&mut out, None, "lineage", &names, &edges, mermaid);
    String::from_utf8_lossy(&out).into_owned()
}

/// A column graph as DOT or Mermaid. `names` are the nodes (a node's id is
/// its index); `edges` go from a source to a column, `true` where the source
/// only filters (dashed). `header` is a comment line to open with.
pub fn render_columns(
    out: &mut dyn std::io::Write,
    header: Option<&str>,
    graph: &str,
    names: &[&str],
    edges: &[(usize, usize, bool)],
    mermaid: bool,
) -> Result<(), String> {
    use std::fmt::Write;
    // Lines go through a buffer written out a megabyte at a time: a large
    // mesh's graph is tens of megabytes. Writing to a String cannot fail:
    // the results of `write!` are ignored.
    const CHUNK: usize = 1 << 20;
    let mut buf = String::with_capacity(CHUNK + 4096);
    let mut flush = |buf: &mut String, force: bool| -> Result<(), String> {
        if force || buf.len() >= CHUNK {
            out.write_all(buf.as_bytes()).map_err(|e| e.to_string())?;
            buf.clear();
        }
        Ok(())
    };
    if mermaid {
        if let Some(h) = header {
            let _ = writeln!(buf, "%% {h}");
        }
        buf.push_str("flowchart LR\n");
        for (i, n) in names.iter().enumerate() {
            let _ = writeln!(buf, "  c{i}[\"{}\"]", n.replace('"', "#quot;"));
            flush(&mut buf, false)?;
        }
        for (a, b, f) in edges {
            let _ = writeln!(buf, "  c{a} {} c{b}", if *f { "-.->" } else { "-->" });
            flush(&mut buf, false)?;
        }
    } else {
        if let Some(h) = header {
            let _ = writeln!(buf, "// {h}");
        }
        let _ = write!(buf, "digraph {graph} {{\n  rankdir=LR;\n  node [shape=box];\n");
        for (i, n) in names.iter().enumerate() {
            let _ = writeln!(buf, "  c{i} [label=\"{}\"];", n.replace('\\', "\\\\").replace('"', "\\\""));
            flush(&mut buf, false)?;
        }
        for (a, b, f) in edges {
            let _ = writeln!(buf, "  c{a} -> c{b}{};", if *f { " [style=dashed]" } else { "" });
            flush(&mut buf, false)?;
        }
        buf.push_str("}\n");
    }
    flush(&mut buf, true)
}
