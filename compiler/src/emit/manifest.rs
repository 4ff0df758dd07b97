//! `manifest.json`: the contract with every tool around dpc. The field
//! names and shapes of DESIGN.md are stable; fields are only ever added.

use super::{own_input_table, port_table};
use crate::check::CheckedMesh;
use crate::lineage::{ColumnLineage, ColumnRef, MeshLineage};
use crate::load::InputKind;
use crate::resolve::{InputSource, Mesh, ProductId};
use crate::span::Sources;
use serde::Serialize;

#[derive(Serialize)]
struct Manifest<'a> {
    mesh: &'a str,
    dpc_version: &'static str,
    products: Vec<ProductEntry<'a>>,
    lineage: Lineage<'a>,
}

#[derive(Serialize)]
struct ProductEntry<'a> {
    id: &'a str,
    domain: &'a str,
    name: &'a str,
    target: &'static str,
    owner: &'a str,
    description: Option<&'a str>,
    inputs: Vec<InputEntry<'a>>,
    outputs: Vec<OutputEntry<'a>>,
    /// The product's steps, in order, with their dependencies (its DAG).
    jobs: super::orchestrate::ProductJobs,
}

#[derive(Serialize)]
struct InputEntry<'a> {
    name: &'a str,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    product: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    physical: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    columns: Option<Vec<ColumnEntry>>,
    /// The tables behind an own input's `physical` view.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    stored: Vec<StoredEntry>,
}

#[derive(Serialize)]
struct StoredEntry {
    role: &'static str,
    physical: String,
    columns: Vec<ColumnEntry>,
}

#[derive(Serialize)]
struct OutputEntry<'a> {
    name: &'a str,
    version: u32,
    description: Option<&'a str>,
    materialization: &'static str,
    physical: String,
    contract: bool,
    columns: Vec<ColumnEntry>,
    job: String,
    schedule: Option<&'a str>,
    freshness: Option<&'a str>,
    unique_key: &'a [String],
    partition_by: Option<String>,
    sunset: Option<&'a str>,
    consumers: &'a [String],
    /// SHA-256 of the query text with its whitespace normalized: tells a
    /// changed query from a reformatted one.
    query_sha256: Option<String>,
}

#[derive(Serialize)]
struct ColumnEntry {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    nullable: bool,
    classification: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
}

#[derive(Serialize)]
struct Lineage<'a> {
    products: Vec<Edge<'a>>,
    columns: Vec<ColumnLineageEntry<'a>>,
}

#[derive(Serialize)]
struct ColumnLineageEntry<'a> {
    column: RefEntry<'a>,
    sources: Vec<RefEntry<'a>>,
    filters: Vec<RefEntry<'a>>,
}

/// `{"product", "port", "column"}` or `{"product", "input", "column"}`.
#[derive(Serialize)]
struct RefEntry<'a> {
    product: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    port: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a str>,
    column: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deidentified: bool,
}

fn ref_entry<'a>(mesh: &'a Mesh, r: &ColumnRef, deidentified: bool) -> RefEntry<'a> {
    match r {
        ColumnRef::Port { product, port, column } => {
            let p = &mesh.products[product.0 as usize];
            RefEntry {
                product: &p.id,
                port: Some(&p.outputs[*port].name),
                version: Some(p.outputs[*port].version),
                input: None,
                column: column.to_string(),
                deidentified,
            }
        }
        ColumnRef::Input { product, input, column } => {
            let p = &mesh.products[product.0 as usize];
            RefEntry {
                product: &p.id,
                port: None,
                version: None,
                input: Some(&p.inputs[*input].name),
                column: column.to_string(),
                deidentified,
            }
        }
    }
}

fn column_entry_of(target: &dyn crate::target::Target, c: &crate::resolve::Column) -> ColumnEntry {
    ColumnEntry {
        name: c.name.clone(),
        ty: target.type_name(&c.ty),
        nullable: !c.required,
        classification: c.classification.clone(),
        description: c.description.clone(),
    }
}

fn column_entry<'a>(mesh: &'a Mesh, c: &ColumnLineage) -> ColumnLineageEntry<'a> {
    ColumnLineageEntry {
        column: ref_entry(
            mesh,
            &ColumnRef::Port { product: c.product, port: c.port, column: c.column.as_str().into() },
            false,
        ),
        sources: c.sources.iter().map(|s| ref_entry(mesh, &s.column, s.deidentified)).collect(),
        filters: c.filters.iter().map(|f| ref_entry(mesh, f, false)).collect(),
    }
}

#[derive(Serialize)]
struct Edge<'a> {
    from: &'a str,
    to: &'a str,
}

/// SHA-256 (hex) of a query with comments kept and whitespace runs folded.
fn query_fingerprint(sql: &str) -> String {
    use sha2::{Digest, Sha256};
    let folded = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    Sha256::digest(folded.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

pub fn manifest(
    mesh: &Mesh,
    checked: &CheckedMesh,
    lineage: &MeshLineage,
    sources: &Sources,
    has: &dyn Fn(&str) -> bool,
) -> Result<String, String> {
    let mut products = vec![];
    for (pi, p) in mesh.products.iter().enumerate() {
        let target = p.target();
        let mut inputs = vec![];
        for input in &p.inputs {
            let entry = match input.source {
                InputSource::Port { product, port, version } => {
                    let up = &mesh.products[product.0 as usize];
                    InputEntry {
                        name: &input.name,
                        kind: InputKind::Product.name(),
                        product: Some(&up.id),
                        port: Some(&up.outputs[port].name),
                        version: Some(version),
                        physical: Some(target.physical(mesh, up, &port_table(&up.outputs[port]))?.plain),
                        columns: None,
                        stored: vec![],
                    }
                }
                _ => InputEntry {
                    name: &input.name,
                    kind: input.kind.name(),
                    product: None,
                    port: None,
                    version: None,
                    physical: Some(target.physical(mesh, p, &own_input_table(input))?.plain),
                    columns: Some(input.columns.iter().map(|c| column_entry_of(target, c)).collect()),
                    stored: super::ingest::stored_tables(target, input)
                        .into_iter()
                        .map(|(role, table, columns)| {
                            Ok(StoredEntry {
                                role,
                                physical: target.physical(mesh, p, &table)?.plain,
                                columns: columns.iter().map(|c| column_entry_of(target, c)).collect(),
                            })
                        })
                        .collect::<Result<_, String>>()?,
                },
            };
            inputs.push(entry);
        }
        let mut outputs = vec![];
        for (oi, o) in p.outputs.iter().enumerate() {
            let schema = checked.ports[pi][oi].schema.clone().unwrap_or_default();
            let columns = schema
                .iter()
                .map(|c| {
                    let declared =
                        o.columns.as_ref().and_then(|cols| cols.iter().find(|d| d.name.eq_ignore_ascii_case(&c.name)));
                    ColumnEntry {
                        name: c.name.clone(),
                        ty: target.type_name(&c.ty),
                        nullable: c.nullable,
                        classification: lineage
                            .find(&ColumnRef::Port {
                                product: ProductId(pi as u32),
                                port: oi,
                                column: c.name.as_str().into(),
                            })
                            .map(|l| l.classification.clone())
                            .or_else(|| declared.map(|d| d.classification.clone()))
                            .unwrap_or_default(),
                        description: declared.and_then(|d| d.description.clone()),
                    }
                })
                .collect();
            outputs.push(OutputEntry {
                name: &o.name,
                version: o.version,
                description: o.description.as_deref(),
                materialization: o.materialization.name(),
                physical: target.physical(mesh, p, &port_table(o))?.plain,
                contract: o.columns.is_some(),
                columns,
                job: format!("{}/{}__{}/jobs/{}.sql", target.kind().name(), p.domain, p.name, o.key),
                schedule: o.schedule.as_deref(),
                freshness: o.freshness.as_ref().map(|f| f.text.as_str()),
                unique_key: &o.unique_key,
                partition_by: o.partition.as_ref().map(|p| match p.granularity {
                    Some(g) => format!("{}:{}", p.column, g.name().to_ascii_lowercase()),
                    None => p.column.clone(),
                }),
                sunset: o.sunset.as_deref(),
                consumers: &o.consumers,
                query_sha256: o.query_file.map(|f| query_fingerprint(&sources.get(f).text)),
            });
        }
        products.push(ProductEntry {
            id: &p.id,
            domain: &p.domain,
            name: &p.name,
            target: p.target.name(),
            owner: &p.owner,
            description: p.description.as_deref(),
            inputs,
            outputs,
            jobs: super::orchestrate::product_jobs(mesh, p, has),
        });
    }
    let edges = mesh
        .edges
        .iter()
        .map(|(a, b)| Edge { from: &mesh.products[a.0 as usize].id, to: &mesh.products[b.0 as usize].id })
        .collect();
    let manifest = Manifest {
        mesh: &mesh.name,
        dpc_version: env!("CARGO_PKG_VERSION"),
        products,
        lineage: Lineage { products: edges, columns: vec![] },
    };
    // Pretty JSON, except that each column's lineage is one line: a mesh has
    // hundreds of thousands of them, and pretty-printed they were most of
    // the bytes (and of the build's time).
    let mut out = serde_json::to_string_pretty(&manifest).map_err(|e| e.to_string())?;
    let tail = "\"columns\": []\n  }\n}";
    if !out.ends_with(tail) || lineage.columns.is_empty() {
        return Ok(out + "\n");
    }
    out.truncate(out.len() - tail.len());
    use rayon::prelude::*;
    let lines: Vec<String> = lineage
        .columns
        .par_iter()
        .map(|c| serde_json::to_string(&column_entry(mesh, c)).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    out.push_str("\"columns\": [\n      ");
    out.push_str(&lines.join(",\n      "));
    out.push_str("\n    ]\n  }\n}\n");
    Ok(out)
}
