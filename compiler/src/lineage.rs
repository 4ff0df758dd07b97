//! Stage 5, lineage: column-level lineage across the mesh, and the
//! classifications (such as PII) that flow along it.
//!
//! Takes the resolved [`Mesh`] and the [`CheckedMesh`] (whose queries carry
//! their lineage over their own inputs); gives [`MeshLineage`]: for every
//! output column, the upstream port columns and own-input columns its
//! values come from, the columns that only filter, and its classification.
//! Reports a column that carries a label it does not declare, with the path
//! the label took, and products above their classification ceiling.

use crate::check::CheckedMesh;
use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::resolve::{Column, InputSource, Mesh, ProductId};
use crate::span::Span;
use std::collections::{BTreeMap, BTreeSet};

/// A column of the mesh: an output port's column, or a column (or STRUCT
/// field path) of a product's own input.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ColumnRef {
    Port { product: ProductId, port: usize, column: String },
    Input { product: ProductId, input: usize, column: String },
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
    pub filters: Vec<ColumnRef>,
    /// The column's labels: declared where the port has a contract, else inferred.
    pub classification: Vec<String>,
}

#[derive(Debug, Default)]
pub struct MeshLineage {
    /// In product, port and column order.
    pub columns: Vec<ColumnLineage>,
}

impl MeshLineage {
    pub fn find(&self, r: &ColumnRef) -> Option<&ColumnLineage> {
        match r {
            ColumnRef::Port { product, port, column } => self
                .columns
                .iter()
                .find(|c| c.product == *product && c.port == *port && c.column.eq_ignore_ascii_case(column)),
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

pub fn trace_mesh(mesh: &Mesh, checked: &CheckedMesh, diags: &mut Vec<Diagnostic>) -> MeshLineage {
    check_labels(mesh, diags);
    let mut lineage = MeshLineage::default();
    // Effective labels of every port column, filled in dependency order.
    let mut port_labels: BTreeMap<(ProductId, usize, String), Vec<String>> = BTreeMap::new();
    for &pid in &mesh.order {
        let product = &mesh.products[pid.0 as usize];
        for (oi, port) in product.outputs.iter().enumerate() {
            let c = &checked.ports[pid.0 as usize][oi];
            let (Some(schema), Some(cols)) = (&c.inferred, &c.lineage) else {
                // Not checked: the contract, if any, is all that is known.
                for d in port.columns.iter().flatten() {
                    port_labels.insert((pid, oi, d.name.to_ascii_lowercase()), d.classification.clone());
                }
                continue;
            };
            for (col, (lin, span)) in schema.iter().zip(cols) {
                let resolve = |o: &crate::types::Origin| -> Option<ColumnRef> {
                    match product.inputs.get(o.input as usize)?.source {
                        InputSource::Port { product: up, port, .. } => {
                            Some(ColumnRef::Port { product: up, port, column: o.column.clone() })
                        }
                        InputSource::Own => {
                            Some(ColumnRef::Input { product: pid, input: o.input as usize, column: o.column.clone() })
                        }
                        InputSource::Unresolved => None,
                    }
                };
                let mut sources: Vec<Source> = lin
                    .sources
                    .iter()
                    .filter_map(|o| resolve(o).map(|column| Source { column, deidentified: o.deidentified }))
                    .collect();
                sources.sort();
                sources.dedup();
                let filters: BTreeSet<ColumnRef> = lin.filters.iter().filter_map(resolve).collect();
                // Labels flow from every source that was not de-identified.
                let mut inferred = BTreeSet::new();
                for s in sources.iter().filter(|s| !s.deidentified) {
                    inferred.extend(source_labels(mesh, &port_labels, &s.column));
                }
                let declared =
                    port.columns.as_ref().and_then(|cols| cols.iter().find(|d| d.name.eq_ignore_ascii_case(&col.name)));
                let classification: Vec<String> = match declared {
                    Some(d) => {
                        for label in inferred.iter().filter(|l| !d.classification.contains(l)) {
                            let path = label_path(mesh, &lineage, &port_labels, &sources, label);
                            diags.push(
                                Diagnostic::error(
                                    codes::CLASSIFICATION_UNDECLARED,
                                    format!(
                                        "column `{}` of port `{}.{}` carries `{label}` but does not declare it",
                                        col.name, product.id, port.name
                                    ),
                                )
                                .label(*span, format!("`{label}` flows in here"))
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
                port_labels.insert((pid, oi, col.name.to_ascii_lowercase()), classification.clone());
                lineage.columns.push(ColumnLineage {
                    product: pid,
                    port: oi,
                    column: col.name.clone(),
                    sources,
                    filters: filters.into_iter().collect(),
                    classification,
                });
            }
        }
    }
    check_ceilings(mesh, &port_labels, diags);
    lineage.columns.sort_by_key(|c| (c.product, c.port));
    lineage
}

fn source_labels(
    mesh: &Mesh,
    port_labels: &BTreeMap<(ProductId, usize, String), Vec<String>>,
    r: &ColumnRef,
) -> Vec<String> {
    match r {
        ColumnRef::Port { product, port, column } => {
            port_labels.get(&(*product, *port, top(column).to_ascii_lowercase())).cloned().unwrap_or_default()
        }
        ColumnRef::Input { product, input, column } => {
            labels_of(&mesh.products[product.0 as usize].inputs[*input].columns, column)
        }
    }
}

/// The way a label took to a column, source by source, back to where it
/// was first declared.
fn label_path(
    mesh: &Mesh,
    lineage: &MeshLineage,
    port_labels: &BTreeMap<(ProductId, usize, String), Vec<String>>,
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
        match lineage.find(&next.column) {
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
fn check_ceilings(
    mesh: &Mesh,
    port_labels: &BTreeMap<(ProductId, usize, String), Vec<String>>,
    diags: &mut Vec<Diagnostic>,
) {
    for ((pid, oi, column), labels) in port_labels {
        let product = &mesh.products[pid.0 as usize];
        let Some((ceiling, at)) = &product.ceiling else { continue };
        for label in labels.iter().filter(|l| !ceiling.contains(l)) {
            let port = &product.outputs[*oi];
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
