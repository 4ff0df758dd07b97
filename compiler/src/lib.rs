//! dpc: a compiler for data products. See `docs/ARCHITECTURE.md`.
//!
//! The pipeline: [`load`] → [`resolve`] → [`sql`] → [`check`] → [`emit`],
//! driven by [`compile`]. Only [`load::read_tree`] and [`write`] touch the
//! disk; everything between is pure.

pub mod check;
pub mod codes;
pub mod diagnostic;
pub mod diff;
pub mod emit;
pub mod init;
pub mod lineage;
pub mod load;
pub mod resolve;
pub mod span;
pub mod sql;
pub mod target;
pub mod types;
pub mod write;

use diagnostic::Diagnostic;
use emit::Artifact;
use span::Sources;

/// A column name and its type, spelled by the target.
pub type NamedType = (String, String);

/// What a run of the compiler gives: every diagnostic, and the artifacts
/// when they were asked for and the mesh has no errors.
pub struct Compilation {
    pub sources: Sources,
    pub diagnostics: Vec<Diagnostic>,
    pub artifacts: Option<Vec<Artifact>>,
    /// Every port's query output as inferred (`domain.product.port` →
    /// columns with their type in the target's spelling), for tests and tools.
    pub inferred: Vec<(String, Option<Vec<NamedType>>)>,
    /// The resolved mesh and its column lineage (for `dpc lineage`).
    pub mesh: Option<resolve::Mesh>,
    pub lineage: lineage::MeshLineage,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Stack for the compiler's thread: SQL expressions are trees, and a
/// generated `a OR b OR ...` of thousands of terms is a deep one.
const STACK_SIZE: usize = 512 * 1024 * 1024;

/// Runs every stage over the files of a mesh (on a thread with a large
/// stack: deep SQL must give a diagnostic, never a stack overflow).
pub fn compile(tree: load::SourceTree, emit_artifacts: bool) -> Compilation {
    let worker = std::thread::Builder::new().stack_size(STACK_SIZE).spawn(move || compile_here(tree, emit_artifacts));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(compilation)) => compilation,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the compiler thread: {e}"),
    }
}

fn compile_here(tree: load::SourceTree, emit_artifacts: bool) -> Compilation {
    let (sources, raw, mut diags) = load::load_mesh(tree);
    let Some(mesh) = resolve::resolve_mesh(&raw, &mut diags) else {
        diagnostic::sort(&mut diags, &sources);
        return Compilation {
            sources,
            diagnostics: diags,
            artifacts: None,
            inferred: vec![],
            mesh: None,
            lineage: lineage::MeshLineage::default(),
        };
    };
    let queries: Vec<Vec<Option<sql::ParsedQuery>>> = mesh
        .products
        .iter()
        .map(|p| {
            p.outputs
                .iter()
                .map(|o| {
                    let file = o.query_file?;
                    sql::parse_query(file, sources.get(file), p.target()).map_err(|d| diags.push(d)).ok()
                })
                .collect()
        })
        .collect();
    let checked = check::check_mesh(&mesh, &queries, &sources, &mut diags);
    let traced = lineage::trace_mesh(&mesh, &checked, &mut diags);
    diagnostic::sort(&mut diags, &sources);
    let artifacts = if emit_artifacts && !diags.iter().any(Diagnostic::is_error) {
        match emit::emit_mesh(&mesh, &checked, &traced, &sources) {
            Ok(a) => Some(a),
            Err(e) => {
                // A template or naming bug in dpc itself, not in the mesh.
                diags.push(
                    Diagnostic::error(codes::INTERNAL, format!("internal error while emitting: {e}"))
                        .help("this is a bug in dpc; please report it with the mesh that shows it"),
                );
                None
            }
        }
    } else {
        None
    };
    let inferred = mesh
        .products
        .iter()
        .zip(&checked.ports)
        .flat_map(|(p, ports)| {
            p.outputs.iter().zip(ports).map(move |(o, c)| {
                let cols = c
                    .inferred
                    .as_ref()
                    .map(|cols| cols.iter().map(|c| (c.name.clone(), p.target().type_name(&c.ty))).collect());
                (format!("{}.{}", p.id, o.name), cols)
            })
        })
        .collect();
    Compilation { sources, diagnostics: diags, artifacts, inferred, mesh: Some(mesh), lineage: traced }
}
