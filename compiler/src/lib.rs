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

pub use check::cache::CheckCache;
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
    /// Sorted by path; empty with [`compile_into`] (they went to the sink).
    pub artifacts: Option<Vec<Artifact>>,
    /// Every port's query output as inferred (`domain.product.port` →
    /// columns with their type in the target's spelling), for tests and tools.
    pub inferred: Vec<(String, Option<Vec<NamedType>>)>,
    /// The resolved mesh and its column lineage (for `dpc lineage`).
    pub mesh: Option<resolve::Mesh>,
    pub lineage: lineage::MeshLineage,
    /// How long each stage took, in order (`dpc check --timings`).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

impl Compilation {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Stack for the compiler's thread: SQL expressions are trees, and a
/// generated `a OR b OR ...` of thousands of terms is a deep one.
const STACK_SIZE: usize = 512 * 1024 * 1024;

/// Runs every stage over the files of a mesh, on every core (threads with
/// a large stack: deep SQL must give a diagnostic, never a stack overflow).
pub fn compile(tree: load::SourceTree, emit_artifacts: bool) -> Compilation {
    compile_with_threads(tree, emit_artifacts, 0, None)
}

/// [`compile`] on `threads` threads (0: one per core), taking what it can
/// from `cache` and keeping every product's result in it. The output is
/// the same whatever the number of threads, with or without the cache.
pub fn compile_with_threads(
    tree: load::SourceTree,
    emit_artifacts: bool,
    threads: usize,
    cache: Option<&CheckCache>,
) -> Compilation {
    let emit = if emit_artifacts { Emit::InMemory } else { Emit::Nothing };
    on_threads(threads, || compile_here(tree, emit, cache))
}

/// [`compile_with_threads`] that hands each artifact to `sink` as soon as
/// it is made (`dpc build`: straight to the staging directory) instead of
/// keeping them. Nothing reaches the sink when the mesh has errors.
pub fn compile_into(
    tree: load::SourceTree,
    threads: usize,
    cache: Option<&CheckCache>,
    sink: &dyn emit::Sink,
) -> Compilation {
    on_threads(threads, || compile_here(tree, Emit::Into(sink), cache))
}

/// What to do with the artifacts of a mesh without errors.
#[derive(Clone, Copy)]
enum Emit<'a> {
    Nothing,
    InMemory,
    Into(&'a dyn emit::Sink),
}

fn on_threads(threads: usize, run: impl FnOnce() -> Compilation + Send) -> Compilation {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).stack_size(STACK_SIZE).build();
    match pool {
        Ok(pool) => pool.install(run),
        Err(e) => panic!("cannot start the compiler's threads: {e}"),
    }
}

/// Times the stages of one run.
struct Stopwatch {
    last: std::time::Instant,
    laps: Vec<(&'static str, std::time::Duration)>,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch { last: std::time::Instant::now(), laps: vec![] }
    }
    /// One lap shared by two stages, in proportion to their work.
    fn split(&mut self, first: &'static str, second: &'static str, a: std::time::Duration, b: std::time::Duration) {
        let now = std::time::Instant::now();
        let wall = now - self.last;
        let share = a.as_secs_f64() / (a + b).as_secs_f64().max(f64::MIN_POSITIVE);
        let first_part = wall.mul_f64(share.clamp(0.0, 1.0));
        self.laps.push((first, first_part));
        self.laps.push((second, wall - first_part));
        self.last = now;
    }

    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.laps.push((stage, now - self.last));
        self.last = now;
    }
}

fn compile_here(tree: load::SourceTree, emit: Emit, cache: Option<&CheckCache>) -> Compilation {
    let mut clock = Stopwatch::new();
    let (sources, raw, mut diags) = load::load_mesh(tree);
    clock.lap("load");
    let resolved = resolve::resolve_mesh(&raw, &mut diags);
    // The mesh holds all it needs: the parsed TOML goes before the SQL comes.
    drop(raw);
    clock.lap("resolve");
    let Some(mesh) = resolved else {
        diagnostic::sort(&mut diags, &sources);
        return Compilation {
            sources,
            diagnostics: diags,
            artifacts: None,
            inferred: vec![],
            mesh: None,
            lineage: lineage::MeshLineage::default(),
            timings: clock.laps,
        };
    };
    let mut checked = check::check_mesh(&mesh, &sources, cache, &mut diags);
    // Parsing and checking run together, product by product: their wall
    // time is split by the thread time each took.
    clock.split("parse", "check", checked.parse_time, checked.check_time);
    let traced = lineage::trace_mesh(&mesh, &mut checked, &mut diags);
    diagnostic::sort(&mut diags, &sources);
    clock.lap("lineage");
    let sink = match emit {
        Emit::Nothing => None,
        Emit::InMemory => Some(None),
        Emit::Into(sink) => Some(Some(sink)),
    };
    let artifacts = if let Some(sink) = sink.filter(|_| !diags.iter().any(Diagnostic::is_error)) {
        match emit::emit_mesh(&mesh, &checked, &traced, &sources, sink) {
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
    clock.lap("emit");
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
    Compilation {
        sources,
        diagnostics: diags,
        artifacts,
        inferred,
        mesh: Some(mesh),
        lineage: traced,
        timings: clock.laps,
    }
}
