//! Stage 4, check: types every port's query against the schemas of its
//! inputs and checks it against the port's declared contract.
//!
//! Takes the resolved [`Mesh`] and the parsed queries; gives a
//! [`CheckedMesh`]: the schema of every port (declared, or inferred where
//! there is no contract) and where each query names its inputs. Products
//! are checked in dependency order, since a port without a contract gets
//! its schema from its query. Never reads a file.

pub mod cache;
pub mod catalog;
mod contract;
mod expr;
mod query;

use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::resolve::{InputSource, Mesh, ProductId};
use crate::span::{Sources, Span};
use crate::sql::SpanMap;
use crate::types::{Lineage, Origin, Type, Typed};
use cache::CheckCache;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One column of a port's schema.
#[derive(Clone, Debug, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct CheckedPort {
    /// The port's schema: its contract where declared, else what the query gives.
    pub schema: Option<Vec<SchemaColumn>>,
    /// The query's own inferred output columns (None if it did not check).
    pub inferred: Option<Vec<SchemaColumn>>,
    /// Byte ranges of the query text that name an input, and which input.
    pub relations: Vec<(Range<usize>, usize)>,
    /// Per inferred column: its lineage, over the product's inputs, and the
    /// span of the SELECT item that makes it.
    pub lineage: Option<Vec<(ColumnOrigins, Span)>>,
    /// The custom checks of the port that checked, by check index.
    pub assertions: Vec<(usize, CheckedAssertion)>,
}

/// A checked port column's lineage: sorted, without duplicates and compact,
/// for a mesh keeps hundreds of thousands of them (a set would keep a tree
/// node each).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ColumnOrigins {
    pub sources: Box<[Origin]>,
    pub filters: Box<[Origin]>,
}

impl From<Lineage> for ColumnOrigins {
    fn from(lineage: Lineage) -> Self {
        ColumnOrigins { sources: lineage.sources.into_iter().collect(), filters: lineage.filters.into_iter().collect() }
    }
}

/// The checked query of a custom quality check. Its relations name the
/// product's inputs by index, and the port it checks as index
/// `inputs.len()`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckedAssertion {
    pub relations: Vec<(Range<usize>, usize)>,
    pub columns: Vec<SchemaColumn>,
}

#[derive(Debug)]
pub struct CheckedMesh {
    /// Per product, per output port (same order as the mesh).
    pub ports: Vec<Vec<CheckedPort>>,
    /// Per product, the custom checks of its inputs that checked:
    /// (input index, check index, query).
    pub input_assertions: Vec<Vec<(usize, usize, CheckedAssertion)>>,
    /// Thread time spent parsing queries, and checking them.
    pub parse_time: Duration,
    pub check_time: Duration,
}

/// An input as the query sees it: its name and columns.
#[derive(Clone, Debug)]
pub struct InputSchema {
    pub name: String,
    pub columns: Vec<SchemaColumn>,
}

/// Parses and checks every product's queries. A product's queries are
/// parsed where it is checked, so that no more than a few syntax trees
/// are alive at a time (a mesh's trees would take gigabytes). With a
/// `cache`, a product whose check would read what it read before takes
/// that run's result instead, and every result is kept in it.
pub fn check_mesh(
    mesh: &Mesh,
    sources: &Sources,
    cache: Option<&CheckCache>,
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
    // Every product runs as soon as the upstream ports it needs are known:
    // declared ones at once, inferred ones when their product is checked.
    let results = schedule(mesh, sources, cache, &ports);
    let mut visited = vec![false; mesh.products.len()];
    let mut input_assertions = vec![vec![]; mesh.products.len()];
    let (mut parse_time, mut check_time) = (Duration::ZERO, Duration::ZERO);
    for (pi, result) in results.into_iter().enumerate() {
        let Some((checked, inputs_checked, mut d, [parse, check])) = result.into_inner() else { continue };
        input_assertions[pi] = inputs_checked;
        parse_time += parse;
        check_time += check;
        visited[pi] = true;
        diags.append(&mut d);
        for (oi, entry) in checked.into_iter().enumerate() {
            let port = &mut ports[pi][oi];
            port.relations = entry.relations;
            port.lineage = entry.lineage;
            port.assertions = entry.assertions;
            if port.schema.is_none() {
                port.schema = entry.inferred.clone();
            }
            port.inferred = entry.inferred;
        }
    }
    for (pi, p) in mesh.products.iter().enumerate() {
        if visited[pi] {
            continue;
        }
        // Not checked (a cycle): its syntax errors are reported all the same.
        syntax_errors(p, sources, diags);
        if !mesh.cyclic.contains(&ProductId(pi as u32)) {
            diags.push(
                Diagnostic::note(codes::UPSTREAM_BROKEN, format!("`{}` is not checked: it depends on a cycle", p.id))
                    .label(p.name_span, "downstream of a cycle")
                    .help("break the cycle reported above"),
            );
        }
    }
    CheckedMesh { ports, input_assertions, parse_time, check_time }
}

/// What the parallel check shares: the mesh, and each product's result
/// once it is known.
struct Schedule<'m> {
    mesh: &'m Mesh,
    sources: &'m Sources,
    cache: Option<(&'m CheckCache, cache::Key)>,
    /// Declared port schemas (the rest come from `results`).
    declared: &'m [Vec<CheckedPort>],
    results: Vec<OnceLock<ProductResult>>,
    /// Per product, how many upstream products it still waits for.
    waiting: Vec<AtomicUsize>,
    /// Per product, the products that wait for it.
    dependents: Vec<Vec<usize>>,
}

/// Checks every product of the dependency order, in parallel: a product
/// waits only for upstream products whose port it reads without a
/// declared schema. Products outside the order (cycles) get no result.
fn schedule(
    mesh: &Mesh,
    sources: &Sources,
    cache: Option<&CheckCache>,
    declared: &[Vec<CheckedPort>],
) -> Vec<OnceLock<ProductResult>> {
    let n = mesh.products.len();
    let ordered: Vec<bool> = {
        let mut v = vec![false; n];
        mesh.order.iter().for_each(|p| v[p.0 as usize] = true);
        v
    };
    let mut dependents: Vec<Vec<usize>> = vec![vec![]; n];
    let mut waiting = vec![0; n];
    for &ProductId(pi) in &mesh.order {
        let pi = pi as usize;
        let mut ups: Vec<usize> = mesh.products[pi]
            .inputs
            .iter()
            .filter_map(|input| match input.source {
                InputSource::Port { product: up, port, .. }
                    if ordered[up.0 as usize] && mesh.products[up.0 as usize].outputs[port].columns.is_none() =>
                {
                    Some(up.0 as usize)
                }
                _ => None,
            })
            .collect();
        ups.sort_unstable();
        ups.dedup();
        waiting[pi] = ups.len();
        for up in ups {
            dependents[up].push(pi);
        }
    }
    let roots: Vec<usize> = mesh.order.iter().map(|p| p.0 as usize).filter(|&p| waiting[p] == 0).collect();
    let shared = Schedule {
        mesh,
        sources,
        cache: cache.map(|c| (c, cache::mesh_settings(sources))),
        declared,
        results: (0..n).map(|_| OnceLock::new()).collect(),
        waiting: waiting.into_iter().map(AtomicUsize::new).collect(),
        dependents,
    };
    let shared_ref = &shared;
    rayon::scope(|scope| {
        for pi in roots {
            scope.spawn(move |scope| run(scope, shared_ref, pi));
        }
    });
    shared.results
}

fn run<'s>(scope: &rayon::Scope<'s>, shared: &'s Schedule<'s>, pi: usize) {
    let schema = |up: usize, port: usize| -> Option<Vec<SchemaColumn>> {
        shared.declared[up][port]
            .schema
            .clone()
            .or_else(|| shared.results[up].get().and_then(|r| r.0[port].inferred.clone()))
    };
    let product = &shared.mesh.products[pi];
    let inputs: Vec<Option<Vec<SchemaColumn>>> = product
        .inputs
        .iter()
        .map(|input| match input.source {
            InputSource::Own => Some(input.columns.iter().map(SchemaColumn::from).collect()),
            InputSource::Port { product: up, port, .. } => schema(up.0 as usize, port),
            InputSource::Unresolved => None,
        })
        .collect();
    let result = match shared.cache {
        Some((cache, settings)) => {
            let files = cache::own_files(product);
            let key = cache::key(&settings, product, &files, &inputs, shared.sources);
            cache.get(&key, &files).unwrap_or_else(|| {
                let result = check_product(shared.mesh, pi, inputs, shared.sources);
                cache.put(key, &files, &result);
                result
            })
        }
        None => check_product(shared.mesh, pi, inputs, shared.sources),
    };
    let _ = shared.results[pi].set(result);
    for &d in &shared.dependents[pi] {
        if shared.waiting[d].fetch_sub(1, Ordering::AcqRel) == 1 {
            scope.spawn(move |scope| run(scope, shared, d));
        }
    }
}

/// Parses the queries of a product that is not checked, for their syntax errors.
fn syntax_errors(product: &crate::resolve::Product, sources: &Sources, diags: &mut Vec<Diagnostic>) {
    for file in query_files(product) {
        if let Err(d) = crate::sql::parse_query(file, sources.get(file), product.target()) {
            diags.push(d);
        }
    }
}

/// The query files of a product: each port's, then each custom check's.
fn query_files(product: &crate::resolve::Product) -> impl Iterator<Item = crate::span::FileId> + '_ {
    let checks = product.outputs.iter().flat_map(|o| &o.checks).chain(product.inputs.iter().flat_map(|i| &i.checks));
    let assertions = checks.filter_map(|c| match c.rule {
        crate::resolve::TableRule::Query(file) => file,
        _ => None,
    });
    product.outputs.iter().filter_map(|o| o.query_file).chain(assertions)
}

/// What checking one product gives: its ports, its diagnostics, and the
/// thread time spent parsing and checking.
type ProductResult = (Vec<CheckedPort>, Vec<(usize, usize, CheckedAssertion)>, Vec<Diagnostic>, [Duration; 2]);

/// Checks one product's queries against the schemas of its inputs (None:
/// unknown); what it found for each of its ports.
fn check_product(
    mesh: &Mesh,
    pi: usize,
    input_schemas: Vec<Option<Vec<SchemaColumn>>>,
    sources: &Sources,
) -> ProductResult {
    let started = Instant::now();
    let mut diags = vec![];
    let mut parse_time = Duration::ZERO;
    let product = &mesh.products[pi];
    let mut out: Vec<CheckedPort> = product.outputs.iter().map(|_| CheckedPort::default()).collect();
    let target = product.target();
    // The schema of every input, or the reason the product cannot be checked.
    let mut inputs = vec![];
    let mut missing: Option<(Span, String)> = None;
    for (input, columns) in product.inputs.iter().zip(input_schemas) {
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
        // Its queries are still parsed: a syntax error is reported anyway.
        syntax_errors(product, sources, &mut diags);
        return (out, vec![], diags, [Duration::ZERO, started.elapsed()]);
    }
    let unresolved: Vec<bool> = product.inputs.iter().map(|i| i.source == InputSource::Unresolved).collect();
    for (oi, output) in product.outputs.iter().enumerate() {
        let Some(file) = output.query_file else {
            continue;
        };
        let parsing = Instant::now();
        let parsed = crate::sql::parse_query(file, sources.get(file), target);
        parse_time += parsing.elapsed();
        let parsed = match parsed {
            Ok(p) => p,
            Err(d) => {
                diags.push(d);
                continue;
            }
        };
        let map = SpanMap { file: parsed.file, source: sources.get(parsed.file) };
        let mut checker =
            query::Checker::new(target, &inputs, &unresolved, map, &mesh.deidentifying, &parsed.corresponding);
        let mut cols = checker.check_port_query(&parsed.query);
        let relations = std::mem::take(&mut checker.relations);
        // A query with errors is not compared with its contract: its
        // columns would only repeat the errors as contract mismatches.
        let broken = checker.diags.iter().any(Diagnostic::is_error);
        diags.append(&mut checker.diags);
        // The contract check needs no lineage: move it out rather than copy it.
        let lineage = cols
            .as_mut()
            .filter(|_| !broken)
            .map(|cols| cols.iter_mut().map(|c| (std::mem::take(&mut c.lineage).into(), c.span)).collect());
        let inferred = cols.filter(|_| !broken).and_then(|cols| {
            contract::check_output_names(&cols, parsed.file, &mut diags)
                .then(|| contract::check_contract(product, output, &cols, target, sources, &mut diags))
        });
        let entry = &mut out[oi];
        entry.relations = relations;
        entry.lineage = lineage.filter(|_| inferred.is_some());
        entry.inferred = inferred;
    }
    // Custom checks: a port's see the product's inputs and the port itself
    // (by its name, before an input of the same name); an input's see the inputs.
    let mut input_checked = vec![];
    let mut check_assertion = |file: crate::span::FileId, scope: &[InputSchema], diags: &mut Vec<Diagnostic>| {
        let parsing = Instant::now();
        let parsed = crate::sql::parse_query(file, sources.get(file), target);
        parse_time += parsing.elapsed();
        let parsed = parsed.map_err(|d| diags.push(d)).ok()?;
        let map = SpanMap { file: parsed.file, source: sources.get(parsed.file) };
        let mut flags = unresolved.clone();
        flags.resize(scope.len(), false);
        let mut checker = query::Checker::new(target, scope, &flags, map, &mesh.deidentifying, &parsed.corresponding);
        let cols = checker.check_port_query(&parsed.query);
        let broken = checker.diags.iter().any(Diagnostic::is_error);
        diags.append(&mut checker.diags);
        let cols = cols.filter(|_| !broken)?;
        contract::check_output_names(&cols, parsed.file, diags).then(|| CheckedAssertion {
            relations: std::mem::take(&mut checker.relations),
            columns: cols
                .iter()
                .map(|c| SchemaColumn {
                    name: c.name.clone().unwrap_or_default(),
                    ty: c.typed.ty.clone(),
                    nullable: c.typed.nullable,
                })
                .collect(),
        })
    };
    for (oi, output) in product.outputs.iter().enumerate() {
        let Some(schema) = output
            .columns
            .as_ref()
            .map(|c| c.iter().map(SchemaColumn::from).collect())
            .or_else(|| out[oi].inferred.clone())
        else {
            continue;
        };
        let mut scope = inputs.clone();
        scope.iter_mut().filter(|i| i.name.eq_ignore_ascii_case(&output.name)).for_each(|i| i.name.clear());
        scope.push(InputSchema { name: output.name.clone(), columns: schema });
        for (ci, check) in output.checks.iter().enumerate() {
            if let crate::resolve::TableRule::Query(Some(file)) = check.rule {
                if let Some(a) = check_assertion(file, &scope, &mut diags) {
                    out[oi].assertions.push((ci, a));
                }
            }
        }
    }
    for (ii, input) in product.inputs.iter().enumerate() {
        for (ci, check) in input.checks.iter().enumerate() {
            if let crate::resolve::TableRule::Query(Some(file)) = check.rule {
                if let Some(a) = check_assertion(file, &inputs, &mut diags) {
                    input_checked.push((ii, ci, a));
                }
            }
        }
    }
    (out, input_checked, diags, [parse_time, started.elapsed().saturating_sub(parse_time)])
}

/// Output column of a query, as the checker inferred it.
#[derive(Clone, Debug)]
pub struct OutColumn {
    pub name: Option<String>,
    pub typed: Typed,
    pub span: Span,
    pub lineage: Lineage,
}
