//! Stage 6, emit: from the checked mesh to the artifact files, in memory.
//!
//! Each product's files come from its target ([`Target::emit_product`]),
//! through the templates in `stdlib/templates/<target>/`; the manifest and
//! the lineage graphs are shared. Emit never sees a mesh with errors, and
//! its output depends only on its input (sorted, no clocks, no hashes).

pub mod athena;
pub mod bigquery;
pub mod graph;
pub mod ingest;
mod manifest;
pub mod orchestrate;
pub mod quality;

use crate::check::{CheckedMesh, CheckedPort, SchemaColumn};
use crate::lineage::MeshLineage;
use crate::resolve::{InputSource, Mesh, Product};
use crate::span::Sources;
use crate::target::Target;
use crate::types::Type;
use std::io::Write;

/// A target's compiled templates, kept for the process.
pub type Templates = std::sync::OnceLock<Result<minijinja::Environment<'static>, String>>;

/// Compiles a target's templates (`(name, text)`) into `cell` once.
pub fn templates(
    cell: &'static Templates,
    list: &'static [(&'static str, &'static str)],
) -> Result<&'static minijinja::Environment<'static>, String> {
    cell.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_keep_trailing_newline(true);
        for (name, text) in list {
            env.add_template(name, text).map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// One file to write, relative to the output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub path: String,
    pub contents: String,
}

/// Writes the text of one file in pieces.
pub type WriteFile<'a> = dyn Fn(&mut dyn Write) -> Result<(), String> + 'a;

/// Writes the file at a path with a [`WriteFile`]: into the sink, or into
/// memory as an artifact to keep.
pub type Streamed<'a> = dyn for<'w> Fn(&str, &'w WriteFile<'w>) -> Result<Vec<Artifact>, String> + Sync + 'a;

/// Where [`emit_mesh`] hands each product's files as soon as they are made,
/// so that a large mesh's artifacts are never all in memory at once (the
/// writer's staging directory). An error stops the emit.
pub trait Sink: Sync {
    fn put(&self, artifacts: Vec<Artifact>) -> Result<(), String>;
    /// A file to write in pieces (the manifest, the column graphs: hundreds
    /// of MB at mesh scale).
    fn open(&self, path: &str) -> Result<Box<dyn std::io::Write + '_>, String>;
}

/// A physical table name: as written in the manifest and quoted for SQL.
#[derive(Debug, Clone)]
pub struct Physical {
    pub plain: String,
    pub quoted: String,
}

/// What a target needs to emit one product.
pub struct EmitProduct<'a> {
    pub mesh: &'a Mesh,
    pub product: &'a Product,
    pub ports: &'a [CheckedPort],
    pub sources: &'a Sources,
    /// The physical table of each input (same order as the product's inputs).
    pub inputs: Vec<Physical>,
    /// The schema of each input.
    pub input_columns: Vec<Vec<SchemaColumn>>,
    /// The mesh's column lineage (classifications of the ports' columns).
    pub lineage: &'a MeshLineage,
    /// The checked custom checks of the product's inputs.
    pub input_assertions: &'a [(usize, usize, crate::check::CheckedAssertion)],
    pub id: crate::resolve::ProductId,
}

impl EmitProduct<'_> {
    /// The classification labels of one of the product's port columns.
    pub fn labels(&self, port: usize, column: &str) -> Vec<String> {
        let r = crate::lineage::ColumnRef::Port { product: self.id, port, column: column.into() };
        match self.lineage.find(&r) {
            Some(c) => c.classification.clone(),
            None => self.product.outputs[port]
                .columns
                .iter()
                .flatten()
                .find(|c| c.name.eq_ignore_ascii_case(column))
                .map(|c| c.classification.clone())
                .unwrap_or_default(),
        }
    }
}

impl EmitProduct<'_> {
    /// The port's query with every input name replaced by its physical
    /// table; comments and layout are kept.
    pub fn rewritten_query(&self, port: usize) -> String {
        let Some(file) = self.product.outputs[port].query_file else {
            return String::new();
        };
        self.rewrite(file, &self.ports[port].relations, None)
    }

    /// A query file with every relation replaced by its physical table:
    /// the inputs by index, and `this` (a checked port) as index
    /// `inputs.len()`. Comments and layout are kept.
    pub fn rewrite(
        &self,
        file: crate::span::FileId,
        relations: &[(std::ops::Range<usize>, usize)],
        this: Option<&str>,
    ) -> String {
        let mut text = self.sources.get(file).text.clone();
        let mut relations = relations.to_vec();
        relations.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
        for (range, input) in relations {
            let name = self.inputs.get(input).map(|p| p.quoted.as_str()).or(this);
            if let (Some(name), Some(_)) = (name, text.get(range.clone())) {
                text.replace_range(range, name);
            }
        }
        let trimmed = text.trim_end();
        trimmed.strip_suffix(';').unwrap_or(trimmed).trim_end().to_string()
    }

    /// The rewritten query and columns of a port's custom check (by index).
    pub fn port_assertion(&self, port: usize, table: &str, check: usize) -> Option<(String, Vec<(String, Type)>)> {
        let (_, a) = self.ports[port].assertions.iter().find(|(i, _)| *i == check)?;
        self.assertion(&self.product.outputs[port].checks[check].rule, a, Some(table))
    }

    /// The rewritten query and columns of an input's custom check (by index).
    pub fn input_assertion(&self, input: usize, check: usize) -> Option<(String, Vec<(String, Type)>)> {
        let (_, _, a) = self.input_assertions.iter().find(|(ii, i, _)| *ii == input && *i == check)?;
        self.assertion(&self.product.inputs[input].checks[check].rule, a, None)
    }

    /// The quality checks of a port, over its table (quoted).
    pub fn port_checks(&self, target: &dyn Target, port: usize, table: &str) -> Vec<quality::CheckQuery> {
        let o = &self.product.outputs[port];
        let columns: Vec<(String, Type)> =
            self.ports[port].schema.iter().flatten().map(|c| (c.name.clone(), c.ty.clone())).collect();
        let subject = quality::Subject {
            table,
            columns: &columns,
            declared: o.columns.as_deref().unwrap_or_default(),
            unique_key: &o.unique_key,
            freshness: o.freshness.as_ref(),
            freshness_table: None,
            checks: &o.checks,
        };
        quality::checks(target, &subject, &|c| self.port_assertion(port, table, c))
    }

    fn assertion(
        &self,
        rule: &crate::resolve::TableRule,
        a: &crate::check::CheckedAssertion,
        this: Option<&str>,
    ) -> Option<(String, Vec<(String, Type)>)> {
        let crate::resolve::TableRule::Query(Some(file)) = rule else {
            return None;
        };
        let columns = a.columns.iter().map(|c| (c.name.clone(), c.ty.clone())).collect();
        Some((self.rewrite(*file, &a.relations, this), columns))
    }
}

/// The checks file (`checks/<stem>.sql`) and the gate (`gates/<stem>.sql`)
/// of a port or an input, through the target's `checks` and `gate`
/// templates; nothing where there are no checks, and no gate where no
/// check is an error.
pub fn check_artifacts(
    env: &minijinja::Environment,
    target: &dyn Target,
    dir: &str,
    stem: &str,
    product_file: &str,
    subject: &str,
    checks: &[quality::CheckQuery],
) -> Result<Vec<Artifact>, String> {
    if checks.is_empty() {
        return Ok(vec![]);
    }
    let render = |name: &str, ctx: minijinja::Value| -> Result<String, String> {
        env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| format!("template {name}: {e}"))
    };
    let mut out = vec![Artifact {
        path: format!("{dir}/checks/{stem}.sql"),
        contents: render("checks", minijinja::context! { product_file, subject, checks })?,
    }];
    if let Some(gate) = quality::gate(target, subject, checks) {
        out.push(Artifact {
            path: format!("{dir}/gates/{stem}.sql"),
            contents: render("gate", minijinja::context! { product_file, subject, gate })?,
        });
    }
    Ok(out)
}

/// The physical table of a product's own (non-product) input.
pub fn own_input_table(input: &crate::resolve::Input) -> String {
    format!("{}__{}", input.kind.name(), input.name)
}

/// The physical table of a port version: `<port>_v<version>`.
pub fn port_table(port: &crate::resolve::Port) -> String {
    format!("{}_v{}", port.name, port.version)
}

/// Every artifact of the mesh, sorted by path; with a `sink`, none: each
/// file goes there as soon as it is made.
pub fn emit_mesh(
    mesh: &Mesh,
    checked: &CheckedMesh,
    lineage: &MeshLineage,
    sources: &Sources,
    sink: Option<&dyn Sink>,
) -> Result<Vec<Artifact>, String> {
    use rayon::prelude::*;
    // With a sink, files go there as soon as they are made (and their
    // memory with them); without, they are kept.
    let keep = |files: Vec<Artifact>| -> Result<Vec<Artifact>, String> {
        match sink {
            Some(sink) => sink.put(files).map(|()| vec![]),
            None => Ok(files),
        }
    };
    // A large file is written in pieces: into the sink's file, or into
    // memory to be kept.
    let streamed = |path: &str, write: &WriteFile| -> Result<Vec<Artifact>, String> {
        match sink {
            Some(sink) => {
                let mut out = sink.open(path)?;
                write(&mut out)?;
                out.flush().map_err(|e| e.to_string())?;
                Ok(vec![])
            }
            None => {
                let mut text = vec![];
                write(&mut text)?;
                let contents = String::from_utf8(text).map_err(|e| e.to_string())?;
                Ok(vec![Artifact { path: path.into(), contents }])
            }
        }
    };
    // Products render in parallel; the order of the result is the mesh's.
    // Each product gives the paths of its files, and the files kept. The
    // lineage graphs need nothing of them: they are made alongside.
    type Emitted = Result<(Vec<String>, Vec<Artifact>), String>;
    let (per_product, graphs) = rayon::join(
        || -> Vec<Emitted> {
            mesh.products
                .par_iter()
                .enumerate()
                .map(|(pi, product)| {
                    let target = product.target();
                    let (inputs, input_columns) = input_tables(mesh, checked, product, target)?;
                    let id = crate::resolve::ProductId(pi as u32);
                    let ep = EmitProduct {
                        mesh,
                        product,
                        ports: &checked.ports[pi],
                        sources,
                        inputs,
                        input_columns,
                        lineage,
                        id,
                        input_assertions: &checked.input_assertions[pi],
                    };
                    let artifacts = target.emit_product(&ep)?;
                    let paths = artifacts.iter().map(|a| a.path.clone()).collect();
                    Ok((paths, keep(artifacts)?))
                })
                .collect()
        },
        || {
            let columns = graph::columns(mesh, lineage, &streamed)?;
            let mut graphs = keep(vec![
                Artifact { path: "lineage.dot".into(), contents: lineage_dot(mesh) },
                Artifact { path: "lineage.mmd".into(), contents: lineage_mermaid(mesh) },
            ])?;
            graphs.extend(columns);
            Ok::<_, String>(graphs)
        },
    );
    let mut paths = vec![];
    let mut artifacts = vec![];
    for product in per_product {
        let (p, a) = product?;
        paths.extend(p);
        artifacts.extend(a);
    }
    let files: std::collections::BTreeSet<&str> = paths.iter().map(String::as_str).collect();
    let has = |path: &str| files.contains(path);
    // The jobs (in the DAGs and the manifest) are made of the files that exist.
    let (dags, manifest) = rayon::join(
        || keep(orchestrate::airflow_dags(mesh, &has)),
        || streamed("manifest.json", &|out| manifest::manifest(mesh, checked, lineage, sources, &has, out)),
    );
    artifacts.extend(dags?.into_iter().chain(manifest?).chain(graphs?));
    artifacts.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(artifacts)
}

fn input_tables(
    mesh: &Mesh,
    checked: &CheckedMesh,
    product: &Product,
    target: &dyn Target,
) -> Result<(Vec<Physical>, Vec<Vec<SchemaColumn>>), String> {
    let mut names = vec![];
    let mut columns = vec![];
    for input in &product.inputs {
        match input.source {
            InputSource::Port { product: up, port, .. } => {
                let upstream = &mesh.products[up.0 as usize];
                names.push(target.physical(mesh, upstream, &port_table(&upstream.outputs[port]))?);
                columns.push(checked.ports[up.0 as usize][port].schema.clone().unwrap_or_default());
            }
            _ => {
                names.push(target.physical(mesh, product, &own_input_table(input))?);
                columns.push(input.columns.iter().map(SchemaColumn::from).collect());
            }
        }
    }
    Ok((names, columns))
}

fn lineage_dot(mesh: &Mesh) -> String {
    let mut out =
        String::from("// Generated by dpc: the product graph.\ndigraph mesh {\n  rankdir=LR;\n  node [shape=box];\n");
    for p in &mesh.products {
        out.push_str(&format!("  \"{}\";\n", p.id));
    }
    for (a, b) in &mesh.edges {
        out.push_str(&format!("  \"{}\" -> \"{}\";\n", mesh.products[a.0 as usize].id, mesh.products[b.0 as usize].id));
    }
    out.push_str("}\n");
    out
}

fn lineage_mermaid(mesh: &Mesh) -> String {
    let node = |i: usize| format!("p{i}");
    let mut out = String::from("%% Generated by dpc: the product graph.\nflowchart LR\n");
    for (i, p) in mesh.products.iter().enumerate() {
        out.push_str(&format!("  {}[\"{}\"]\n", node(i), p.id));
    }
    for (a, b) in &mesh.edges {
        out.push_str(&format!("  {} --> {}\n", node(a.0 as usize), node(b.0 as usize)));
    }
    out
}
