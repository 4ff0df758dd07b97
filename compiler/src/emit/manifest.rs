//! `manifest.json`: the contract with every tool around dpc. The field
//! names and shapes of DESIGN.md are stable; fields are only ever added.

use super::{own_input_table, port_table};
use crate::check::CheckedMesh;
use crate::lineage::{ColumnLineage, ColumnRef, MeshLineage};
use crate::load::InputKind;
use crate::resolve::{InputSource, Mesh, ProductId};
use crate::span::Sources;
use serde::Serialize;
use std::io::Write;

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
    column: &'a str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    deidentified: bool,
}

/// `{"product", "port", "version", "column"}` of a port column.
fn port_ref<'a>(mesh: &'a Mesh, product: ProductId, port: usize, column: &'a str, deidentified: bool) -> RefEntry<'a> {
    let p = &mesh.products[product.0 as usize];
    RefEntry {
        product: &p.id,
        port: Some(&p.outputs[port].name),
        version: Some(p.outputs[port].version),
        input: None,
        column,
        deidentified,
    }
}

fn ref_entry<'a>(mesh: &'a Mesh, r: &'a ColumnRef, deidentified: bool) -> RefEntry<'a> {
    match r {
        ColumnRef::Port { product, port, column } => port_ref(mesh, *product, *port, column, deidentified),
        ColumnRef::Input { product, input, column } => {
            let p = &mesh.products[product.0 as usize];
            RefEntry {
                product: &p.id,
                port: None,
                version: None,
                input: Some(&p.inputs[*input].name),
                column,
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

fn column_entry<'a>(mesh: &'a Mesh, c: &'a ColumnLineage) -> ColumnLineageEntry<'a> {
    ColumnLineageEntry {
        column: port_ref(mesh, c.product, c.port, &c.column, false),
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

/// A product's entry: its inputs and ports with their physical tables and
/// columns, and its jobs.
fn product_entry<'a>(
    mesh: &'a Mesh,
    pi: usize,
    checked: &CheckedMesh,
    lineage: &MeshLineage,
    sources: &Sources,
    has: &(dyn Fn(&str) -> bool + Sync),
) -> Result<ProductEntry<'a>, String> {
    let p = &mesh.products[pi];
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
    Ok(ProductEntry {
        id: &p.id,
        domain: &p.domain,
        name: &p.name,
        target: p.target.name(),
        owner: &p.owner,
        description: p.description.as_deref(),
        inputs,
        outputs,
        jobs: super::orchestrate::product_jobs(mesh, p, has),
    })
}

/// `value` as serde_json's pretty printer lays it out `depth` levels deep
/// (its first line unindented: it follows a key or an array's indent).
fn pretty_at(value: &impl Serialize, depth: usize) -> Result<String, String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    // A JSON string never holds a raw newline: every newline is layout.
    Ok(text.replace('\n', &format!("\n{}", "  ".repeat(depth))))
}

/// Writes a JSON array of `count` items opened `depth` levels deep, laid
/// out as serde_json's pretty printer does; `item(i)` is item `i` laid out
/// for `depth + 1`. Items are made in parallel, a batch at a time: only one
/// batch is held in memory.
fn push_array(
    out: &mut dyn Write,
    depth: usize,
    count: usize,
    item: impl Fn(usize) -> Result<String, String> + Sync,
) -> Result<(), String> {
    use rayon::prelude::*;
    const BATCH: usize = 512;
    if count == 0 {
        return put(out, "[]");
    }
    let indent = "  ".repeat(depth + 1);
    put(out, "[")?;
    let mut chunk = String::new();
    for start in (0..count).step_by(BATCH) {
        let end = (start + BATCH).min(count);
        let items = (start..end).into_par_iter().map(&item).collect::<Result<Vec<_>, String>>()?;
        chunk.clear();
        for (i, text) in items.iter().enumerate() {
            chunk.push_str(if start + i == 0 { "\n" } else { ",\n" });
            chunk.push_str(&indent);
            chunk.push_str(text);
        }
        put(out, &chunk)?;
    }
    put(out, &format!("\n{}]", "  ".repeat(depth)))
}

fn put(out: &mut dyn Write, text: &str) -> Result<(), String> {
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// The manifest as pretty JSON, except that each column's lineage is one
/// line: a mesh has hundreds of thousands of them. Products and lineage
/// lines are serialized in parallel and joined in the mesh's order.
///
/// `{"mesh", "dpc_version", "products": [...], "lineage": {"products":
/// [{"from", "to"}], "columns": [{"column", "sources", "filters"}]}}`
pub fn manifest(
    mesh: &Mesh,
    checked: &CheckedMesh,
    lineage: &MeshLineage,
    sources: &Sources,
    has: &(dyn Fn(&str) -> bool + Sync),
    out: &mut dyn Write,
) -> Result<(), String> {
    let edges: Vec<Edge> = mesh
        .edges
        .iter()
        .map(|(a, b)| Edge { from: &mesh.products[a.0 as usize].id, to: &mesh.products[b.0 as usize].id })
        .collect();
    let json = |s: &str| serde_json::to_string(s).map_err(|e| e.to_string());
    put(out, &format!("{{\n  \"mesh\": {},\n", json(&mesh.name)?))?;
    put(out, &format!("  \"dpc_version\": {},\n", json(env!("CARGO_PKG_VERSION"))?))?;
    put(out, "  \"products\": ")?;
    push_array(out, 1, mesh.products.len(), |pi| {
        pretty_at(&product_entry(mesh, pi, checked, lineage, sources, has)?, 2)
    })?;
    put(out, &format!(",\n  \"lineage\": {{\n    \"products\": {},\n", pretty_at(&edges, 2)?))?;
    put(out, "    \"columns\": ")?;
    push_array(out, 2, lineage.columns.len(), |i| {
        serde_json::to_string(&column_entry(mesh, &lineage.columns[i])).map_err(|e| e.to_string())
    })?;
    // The caller flushes (emit's `streamed`, like every file written in pieces).
    put(out, "\n  }\n}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde_json's pretty printer gives for `items` nested `depth` deep.
    fn serde_layout(items: &[serde_json::Value], depth: usize) -> String {
        let mut value = serde_json::json!(items);
        for _ in 0..depth {
            value = serde_json::json!({ "k": value });
        }
        let text = serde_json::to_string_pretty(&value).unwrap();
        let start = text.rfind("\"k\": ").map_or(0, |i| i + 5);
        // Cut the closing braces of the wrapping objects.
        let mut inner = text[start..].to_string();
        for d in 0..depth {
            let close = format!("\n{}}}", "  ".repeat(d));
            inner = inner.strip_suffix(&close).unwrap().to_string();
        }
        inner
    }

    #[test]
    fn arrays_in_batches_lay_out_as_serde_json_does() {
        for count in [0usize, 1, 511, 512, 513, 1300] {
            let items: Vec<serde_json::Value> =
                (0..count).map(|i| serde_json::json!({ "i": i, "tags": ["a", i.to_string()] })).collect();
            for depth in [1, 2] {
                let mut out = vec![];
                push_array(&mut out, depth, count, |i| pretty_at(&items[i], depth + 1)).unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    serde_layout(&items, depth),
                    "{count} items at depth {depth}"
                );
            }
        }
    }

    #[test]
    fn an_item_error_stops_the_array() {
        let mut out = vec![];
        let failed = push_array(&mut out, 1, 700, |i| if i == 600 { Err("bad".into()) } else { Ok(i.to_string()) });
        assert_eq!(failed, Err("bad".to_string()));
    }
}
