//! Stage 4, check: types every port's query against the schemas of its
//! inputs and checks it against the port's declared contract.
//!
//! Takes the resolved [`Mesh`] and the parsed queries; gives a
//! [`CheckedMesh`]: the schema of every port (declared, or inferred where
//! there is no contract) and where each query names its inputs. Products
//! are checked in dependency order, since a port without a contract gets
//! its schema from its query. Never reads a file.

pub mod catalog;
mod contract;
mod expr;
mod query;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::resolve::{InputSource, Mesh, ProductId};
use crate::span::{Sources, Span};
use crate::sql::{ParsedQuery, SpanMap};
use crate::types::{Lineage, Type, Typed};
use std::ops::Range;

/// One column of a port's schema.
#[derive(Clone, Debug)]
pub struct SchemaColumn {
    pub name: String,
    pub ty: Type,
    pub nullable: bool,
}

impl From<&crate::resolve::Column> for SchemaColumn {
    /// A declared column: NULL allowed unless it is required.
    fn from(c: &crate::resolve::Column) -> SchemaColumn {
        SchemaColumn { name: c.name.clone(), ty: c.ty.clone(), nullable: !c.required }
    }
}

/// The checked query of one port.
#[derive(Debug, Default)]
pub struct CheckedPort {
    /// The port's schema: its contract where declared, else what the query gives.
    pub schema: Option<Vec<SchemaColumn>>,
    /// The query's own inferred output columns (None if it did not check).
    pub inferred: Option<Vec<SchemaColumn>>,
    /// Byte ranges of the query text that name an input, and which input.
    pub relations: Vec<(Range<usize>, usize)>,
    /// Per inferred column: its lineage, over the product's inputs, and the
    /// span of the SELECT item that makes it.
    pub lineage: Option<Vec<(Lineage, Span)>>,
}

#[derive(Debug)]
pub struct CheckedMesh {
    /// Per product, per output port (same order as the mesh).
    pub ports: Vec<Vec<CheckedPort>>,
}

/// An input as the query sees it: its name and columns.
#[derive(Clone, Debug)]
pub struct InputSchema {
    pub name: String,
    pub columns: Vec<SchemaColumn>,
}

/// `queries[p][o]`: the parsed query of output `o` of product `p`.
pub fn check_mesh(
    mesh: &Mesh,
    queries: &[Vec<Option<ParsedQuery>>],
    sources: &Sources,
    diags: &mut Vec<Diagnostic>,
) -> CheckedMesh {
    let mut ports: Vec<Vec<CheckedPort>> =
        mesh.products.iter().map(|p| p.outputs.iter().map(|_| CheckedPort::default()).collect()).collect();
    // Declared schemas are known before any query is checked.
    for (pi, p) in mesh.products.iter().enumerate() {
        for (oi, o) in p.outputs.iter().enumerate() {
            ports[pi][oi].schema = o.columns.as_ref().map(|cols| cols.iter().map(SchemaColumn::from).collect());
        }
    }
    let mut visited = vec![false; mesh.products.len()];
    for &ProductId(pi) in &mesh.order {
        let pi = pi as usize;
        visited[pi] = true;
        let product = &mesh.products[pi];
        let target = product.target();
        // The schema of every input, or the reason the product cannot be checked.
        let mut inputs = vec![];
        let mut missing: Option<(Span, String)> = None;
        for input in &product.inputs {
            let columns = match input.source {
                InputSource::Own => Some(input.columns.iter().map(SchemaColumn::from).collect()),
                InputSource::Port { product: up, port, .. } => ports[up.0 as usize][port].schema.clone(),
                InputSource::Unresolved => None,
            };
            match columns {
                Some(columns) => inputs.push(InputSchema { name: input.name.clone(), columns }),
                None => {
                    if missing.is_none() && input.source != InputSource::Unresolved {
                        missing = Some((input.span, input.name.clone()));
                    }
                    // Unresolved inputs were reported by resolve; their columns are unknown.
                    inputs.push(InputSchema { name: input.name.clone(), columns: vec![] });
                }
            }
        }
        if let Some((span, name)) = missing {
            diags.push(
                Diagnostic::note(
                    codes::UPSTREAM_BROKEN,
                    format!("`{}` is not checked: the schema of input `{name}` is unknown", product.id),
                )
                .label(span, "its upstream port has errors and declares no columns")
                .help("fix the upstream product, or declare the columns of its port"),
            );
            continue;
        }
        let unresolved: Vec<bool> = product.inputs.iter().map(|i| i.source == InputSource::Unresolved).collect();
        for (oi, output) in product.outputs.iter().enumerate() {
            let Some(parsed) = queries[pi][oi].as_ref() else {
                continue;
            };
            let map = SpanMap { file: parsed.file, source: sources.get(parsed.file) };
            let mut checker =
                query::Checker::new(target, &inputs, &unresolved, map, &mesh.deidentifying, &parsed.corresponding);
            let out = checker.check_port_query(&parsed.query);
            let relations = std::mem::take(&mut checker.relations);
            // A query with errors is not compared with its contract: its
            // columns would only repeat the errors as contract mismatches.
            let broken = checker.diags.iter().any(Diagnostic::is_error);
            diags.append(&mut checker.diags);
            let lineage =
                out.as_ref().filter(|_| !broken).map(|cols| cols.iter().map(|c| (c.lineage.clone(), c.span)).collect());
            let inferred = out.filter(|_| !broken).and_then(|cols| {
                contract::check_output_names(&cols, parsed.file, diags)
                    .then(|| contract::check_contract(product, output, &cols, target, sources, diags))
            });
            let entry = &mut ports[pi][oi];
            entry.relations = relations;
            entry.lineage = lineage.filter(|_| inferred.is_some());
            if entry.schema.is_none() {
                entry.schema = inferred.clone();
            }
            entry.inferred = inferred;
        }
    }
    for (pi, p) in mesh.products.iter().enumerate() {
        if !visited[pi] && !mesh.cyclic.contains(&ProductId(pi as u32)) {
            diags.push(
                Diagnostic::note(codes::UPSTREAM_BROKEN, format!("`{}` is not checked: it depends on a cycle", p.id))
                    .label(p.name_span, "downstream of a cycle")
                    .help("break the cycle reported above"),
            );
        }
    }
    CheckedMesh { ports }
}

/// Output column of a query, as the checker inferred it.
#[derive(Clone, Debug)]
pub struct OutColumn {
    pub name: Option<String>,
    pub typed: Typed,
    pub span: Span,
    pub lineage: Lineage,
}
