//! The `dpc` command line: the only place that prints or exits.

use clap::{Parser, Subcommand, ValueEnum};
use dpc::diff::Manifest;
use dpc::emit::Artifact;
use dpc::lineage::{render_graph, render_tree, Direction};
use dpc::{codes, diagnostic, load, CheckCache, Compilation};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "dpc",
    version,
    about = "A compiler for data products: check a data mesh and build its BigQuery artifacts."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    /// GitHub Actions workflow annotations.
    Github,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
    /// A summary for a pull-request comment (`dpc diff`).
    Markdown,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum LineageFormat {
    Text,
    Json,
    Dot,
    Mermaid,
}

#[derive(clap::Args)]
struct MeshArgs {
    /// The mesh directory (default: the nearest directory with a dpc.toml, from the current one up).
    #[arg(long, short = 'C', value_name = "DIR")]
    path: Option<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
    /// Print how long each stage took, and the peak memory, to stderr.
    #[arg(long)]
    timings: bool,
    /// Threads to check on (default: one per core); the output is the same for any number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Check every product again: neither read nor write the check cache (target/dpc-cache).
    #[arg(long)]
    no_cache: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Check every product of the mesh and report all errors.
    Check(MeshArgs),
    /// Check the mesh and write its artifacts (DDL, jobs, checks, manifest).
    Build {
        #[command(flatten)]
        mesh: MeshArgs,
        /// Output directory (default: target/dpc under the mesh root).
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Also write migrations (ALTER TABLE) from this git revision's schemas; breaking changes fail.
        #[arg(long, value_name = "REF")]
        base: Option<String>,
        /// Also write migrations from the schemas of this deployed manifest.json.
        #[arg(long, value_name = "FILE", conflicts_with = "base")]
        base_manifest: Option<PathBuf>,
    },
    /// Compare the mesh with a base: what changed in each published port, and whom it breaks.
    Diff {
        #[command(flatten)]
        mesh: MeshArgs,
        /// A git revision to compare with (read through git; the working tree is not touched).
        #[arg(long, value_name = "REF", required_unless_present = "base_manifest")]
        base: Option<String>,
        /// A manifest.json from an earlier build to compare with.
        #[arg(long, value_name = "FILE", conflicts_with = "base")]
        base_manifest: Option<PathBuf>,
        /// Today's date for sunsets (default: the system's, UTC).
        #[arg(long, value_name = "YYYY-MM-DD")]
        today: Option<String>,
    },
    /// Show where a column's values come from (or where they go), across products.
    Lineage {
        /// `domain.product`, `domain.product.port` or `domain.product.port.column`.
        selector: String,
        /// Where the values come from (the default).
        #[arg(long, conflicts_with = "downstream")]
        upstream: bool,
        /// Which columns use the values.
        #[arg(long)]
        downstream: bool,
        /// How many levels to follow (default: all).
        #[arg(long, value_name = "N")]
        depth: Option<usize>,
        /// Also follow columns that only filter rows (WHERE, JOIN ON, GROUP BY, ...).
        #[arg(long)]
        filters: bool,
        /// The mesh directory (default: the nearest directory with a dpc.toml).
        #[arg(long, short = 'C', value_name = "DIR")]
        path: Option<PathBuf>,
        /// Output: a tree, or JSON, DOT or Mermaid for tools.
        #[arg(long, value_enum, default_value = "text")]
        format: LineageFormat,
        /// Check every product again: neither read nor write the check cache (target/dpc-cache).
        #[arg(long)]
        no_cache: bool,
    },
    /// Explain a diagnostic code, or list every code.
    Explain {
        /// A code such as DPC0302.
        code: Option<String>,
        /// List every code with its title.
        #[arg(long)]
        list: bool,
        /// List the functions of the BigQuery catalog and their count.
        #[arg(long)]
        functions: bool,
    },
    /// Create a new mesh with one product that checks clean.
    Init {
        /// Where to create it (default: the current directory).
        dir: Option<PathBuf>,
        /// The mesh name (default: the directory's name).
        #[arg(long)]
        name: Option<String>,
        /// The warehouse of its products.
        #[arg(long, value_parser = ["bigquery", "athena"], default_value = "bigquery")]
        target: String,
    },
}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => run(&args, None, false, None),
        Command::Build { mesh, out, base, base_manifest } => {
            let base = (base.is_some() || base_manifest.is_some()).then_some((base, base_manifest));
            run(&mesh, out, true, base)
        }
        Command::Diff { mesh, base, base_manifest, today } => diff(&mesh, base, base_manifest, today),
        Command::Lineage { selector, upstream: _, downstream, depth, filters, path, format, no_cache } => {
            let direction = if downstream { Direction::Downstream } else { Direction::Upstream };
            lineage(&selector, direction, depth, filters, path, no_cache, format)
        }
        Command::Explain { code, list, functions } => explain(code, list, functions),
        Command::Init { dir, name, target } => {
            init(dir, name, if target == "athena" { load::TargetKind::Athena } else { load::TargetKind::Bigquery })
        }
    }
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

/// The mesh root (from `-C` or the current directory up) and its files.
/// The mesh at (or above) `path`, and its check cache (unless `no_cache`)
/// read meanwhile.
fn read_mesh_and_cache(
    path: &Option<PathBuf>,
    no_cache: bool,
) -> Result<(PathBuf, load::SourceTree, Option<CacheFile>), ExitCode> {
    let root = mesh_root(path)?;
    let (tree, cache) = std::thread::scope(|s| {
        let cache = s.spawn(|| (!no_cache).then(|| CacheFile::open(&root)));
        let tree = load::read_tree(&root).map_err(|e| usage_error(&e.to_string()));
        (tree, cache.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    Ok((root, tree?, cache))
}

/// The mesh root: the nearest directory with a dpc.toml, from `path` (or
/// the current directory) up.
fn mesh_root(path: &Option<PathBuf>) -> Result<PathBuf, ExitCode> {
    let start = match path {
        Some(p) => p.clone(),
        None => std::env::current_dir().map_err(|e| usage_error(&format!("cannot read the current directory: {e}")))?,
    };
    let Some(root) = load::find_root(&start) else {
        return Err(usage_error(&format!(
            "no dpc.toml in {} or any parent directory (run `dpc init` to create a mesh)",
            start.display()
        )));
    };
    Ok(root)
}

fn lineage(
    selector: &str,
    direction: Direction,
    depth: Option<usize>,
    filters: bool,
    path: Option<PathBuf>,
    no_cache: bool,
    format: LineageFormat,
) -> ExitCode {
    let (root, tree, cache) = match read_mesh_and_cache(&path, no_cache) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let c = dpc::compile_with_threads(tree, false, 0, cache.as_ref().map(|c| &c.cache));
    if let Some(cache) = cache {
        cache.save();
    }
    if c.has_errors() {
        report(&c, Format::Human, &root);
        eprintln!("error: lineage needs a mesh without errors");
        return ExitCode::from(1);
    }
    let Some(mesh) = &c.mesh else { return ExitCode::from(1) };
    let roots = match c.lineage.select(mesh, selector) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let trees: Vec<_> = roots.iter().map(|r| c.lineage.walk(mesh, r, direction, depth, filters)).collect();
    match format {
        LineageFormat::Text => trees.iter().for_each(|t| print!("{}", render_tree(t))),
        LineageFormat::Json => println!("{}", serde_json::to_string_pretty(&trees).unwrap_or_default()),
        LineageFormat::Dot => print!("{}", render_graph(&trees, direction, false)),
        LineageFormat::Mermaid => print!("{}", render_graph(&trees, direction, true)),
    }
    ExitCode::SUCCESS
}

/// The manifest of a mesh without errors, or the exit code after reporting them.
fn manifest_of(
    root: &Path,
    tree: load::SourceTree,
    args: &MeshArgs,
    cache: Option<&CheckCache>,
    what: &str,
) -> Result<(Compilation, Manifest), ExitCode> {
    let (threads, format) = (args.threads, args.format);
    let sink = ManifestOnly::default();
    let c = dpc::compile_into(tree, threads, cache, &sink);
    if c.has_errors() {
        report(&c, format, root);
        eprintln!("error: {what} has errors; fix them before comparing");
        return Err(ExitCode::from(1));
    }
    let text = sink.0.into_inner().unwrap_or_else(|e| e.into_inner());
    let text = String::from_utf8(text).map_err(|e| usage_error(&format!("manifest: {e}")))?;
    let manifest = Manifest::parse(&text).map_err(|e| usage_error(&format!("manifest: {e}")))?;
    Ok((c, manifest))
}

/// A sink that keeps only the manifest (what `dpc diff` compares) and lets
/// every other artifact go as soon as it is made.
#[derive(Default)]
struct ManifestOnly(std::sync::Mutex<Vec<u8>>);

impl dpc::emit::Sink for ManifestOnly {
    fn put(&self, _: Vec<Artifact>) -> Result<(), String> {
        Ok(())
    }

    fn open(&self, path: &str) -> Result<Box<dyn std::io::Write + '_>, String> {
        Ok(if path == "manifest.json" { Box::new(Keep(&self.0)) } else { Box::new(std::io::sink()) })
    }
}

struct Keep<'a>(&'a std::sync::Mutex<Vec<u8>>);

impl std::io::Write for Keep<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn diff(args: &MeshArgs, base: Option<String>, base_manifest: Option<PathBuf>, today: Option<String>) -> ExitCode {
    // The base at a revision is mostly the same products as the head: the
    // cache serves both.
    let (root, tree, cache) = match read_mesh_and_cache(&args.path, args.no_cache) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let cache_ref = cache.as_ref().map(|c| &c.cache);
    // A deployed manifest is read while the mesh compiles; a base revision
    // compiles after it (two compilations at once would double the memory).
    let (head, base_manifest) = if base_manifest.is_some() {
        std::thread::scope(|s| {
            let base = s.spawn(|| read_base(&root, base, base_manifest, args, None));
            let head = manifest_of(&root, tree, args, cache_ref, "the mesh");
            (head, base.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        })
    } else {
        let head = manifest_of(&root, tree, args, cache_ref, "the mesh");
        let base = match &head {
            Ok(_) => read_base(&root, base, base_manifest, args, cache_ref),
            Err(_) => Err(ExitCode::from(1)),
        };
        (head, base)
    };
    if let Some(cache) = cache {
        cache.save();
    }
    let ((head, head_manifest), base_manifest) = match (head, base_manifest) {
        (Ok(head), Ok(base)) => (head, base),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let today = today.unwrap_or_else(today_utc);
    let changes = dpc::diff::diff_manifests(&base_manifest, &head_manifest, &today);
    let Some(mesh) = &head.mesh else { return ExitCode::from(1) };
    let mut diags = dpc::diff::diagnose(&changes, mesh, &today);
    diagnostic::sort(&mut diags, &head.sources);
    let shown = Compilation { diagnostics: diags, ..head };
    match args.format {
        Format::Json => {
            let diagnostics: serde_json::Value =
                serde_json::from_str(&diagnostic::render_json(&shown.diagnostics, &shown.sources)).unwrap_or_default();
            let doc = serde_json::json!({ "changes": changes, "diagnostics": diagnostics["diagnostics"] });
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Markdown => print!("{}", dpc::diff::markdown(&changes)),
        Format::Github => {
            print!("{}", diagnostic::render_github(&shown.diagnostics, &shown.sources, &repo_prefix(&root)))
        }
        Format::Sarif => {
            print!("{}", diagnostic::render_sarif(&shown.diagnostics, &shown.sources, &repo_prefix(&root)))
        }
        Format::Human => {
            print!("{}", dpc::diff::text(&changes));
            report(&shown, Format::Human, &root);
        }
    }
    if shown.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// The base's manifest: a deployed manifest.json, or the mesh at a git revision.
fn read_base(
    root: &Path,
    rev: Option<String>,
    file: Option<PathBuf>,
    args: &MeshArgs,
    cache: Option<&CheckCache>,
) -> Result<Manifest, ExitCode> {
    match (rev, file) {
        (_, Some(file)) => match std::fs::read_to_string(&file).map(|t| Manifest::parse(&t)) {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(usage_error(&format!("{} is not a manifest: {e}", file.display()))),
            Err(e) => Err(usage_error(&format!("cannot read {}: {e}", file.display()))),
        },
        (Some(rev), None) => {
            let tree = load::read_tree_at(root, &rev).map_err(|e| usage_error(&e.to_string()))?;
            manifest_of(root, tree, args, cache, &format!("the mesh at {rev}")).map(|(_, v)| v)
        }
        (None, None) => Err(usage_error("name a base: --base REF or --base-manifest FILE")),
    }
}

/// Migration artifacts for the compatible changes from the base to the
/// `head` manifest; the breaking ones become errors of the compilation.
fn migrations(c: &mut Compilation, head: &str, base: &Manifest) -> Result<Vec<Artifact>, String> {
    let Some(mesh) = &c.mesh else { return Ok(vec![]) };
    let head = Manifest::parse(head)?;
    let today = today_utc();
    let changes = dpc::diff::diff_manifests(base, &head, &today);
    let breaking: Vec<_> = dpc::diff::diagnose(&changes, mesh, &today).into_iter().filter(|d| d.is_error()).collect();
    if !breaking.is_empty() {
        c.diagnostics.extend(breaking);
        return Ok(vec![]);
    }
    let mut extra = vec![];
    for (product, entry, _, steps) in dpc::diff::migrations(base, &head, &changes) {
        let Some(p) = mesh.products.iter().find(|p| p.id == product) else { continue };
        let Some(port) = p.outputs.iter().find(|o| o.key == entry) else { continue };
        let target = p.target();
        let table = target.physical(mesh, p, &dpc::emit::port_table(port))?;
        let path = format!("{}/{}__{}/migrations/{}.sql", target.kind().name(), p.domain, p.name, port.key);
        extra.push(Artifact { path, contents: target.emit_migration(&table, &steps)? });
    }
    Ok(extra)
}

/// The mesh root's path inside its git repository (`""` at the top, or
/// outside any repository), for annotations that name files from there.
fn repo_prefix(root: &Path) -> String {
    std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-parse", "--show-prefix"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Today's date in UTC, as YYYY-MM-DD.
fn today_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // Days to a civil date (Howard Hinnant's algorithm): too small for a dependency.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

type Base = (Option<String>, Option<PathBuf>);

fn run(args: &MeshArgs, out: Option<PathBuf>, build: bool, base: Option<Base>) -> ExitCode {
    let started = std::time::Instant::now();
    let (root, tree, cache) = match read_mesh_and_cache(&args.path, args.no_cache) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let read = started.elapsed();
    let cache_ref = cache.as_ref().map(|c| &c.cache);
    let base = match base {
        Some((rev, file)) => match read_base(&root, rev, file, args, cache_ref) {
            Ok(v) => Some(v),
            Err(code) => return code,
        },
        None => None,
    };
    // A build writes each product's files as they are made, into a staging
    // directory that replaces the output only once all is well.
    let out = out.unwrap_or_else(|| root.join("target").join("dpc"));
    let staging = build.then(|| dpc::write::Staging::new(&out));
    let mut compilation = match &staging {
        Some(staging) => dpc::compile_into(tree, args.threads, cache_ref, staging),
        None => dpc::compile_with_threads(tree, false, args.threads, cache_ref),
    };
    compilation.timings.insert(0, ("read", read));
    let reuse = cache.as_ref().map(|c| c.cache.counts());
    if let Some(e) = staging.as_ref().and_then(|s| s.take_error()) {
        return usage_error(&format!("cannot write {}: {e}", out.display()));
    }
    let mut extra = vec![];
    if let (Some(base), Some(staging)) = (&base, &staging) {
        if !compilation.has_errors() {
            let head = staging.read("manifest.json").map_err(|e| e.to_string());
            match head.and_then(|head| migrations(&mut compilation, &head, base)) {
                Ok(files) => extra = files,
                Err(e) => return usage_error(&format!("migrations: {e}")),
            }
        }
    }
    // The cache is written while the diagnostics are.
    std::thread::scope(|s| {
        if let Some(cache) = cache {
            s.spawn(|| cache.save());
        }
        report(&compilation, args.format, &root);
    });
    if compilation.has_errors() {
        if args.timings {
            print_timings(&compilation.timings, started.elapsed(), reuse);
        }
        return ExitCode::from(1);
    }
    if let Some(staging) = staging {
        let writing = std::time::Instant::now();
        let written = staging.write(&extra).and_then(|()| staging.commit());
        let files = match written {
            Ok(files) => files,
            Err(e) => return usage_error(&format!("cannot write {}: {e}", out.display())),
        };
        compilation.timings.push(("write", writing.elapsed()));
        if args.format == Format::Human {
            eprintln!("wrote {files} files to {}", display_relative(&out));
        }
    }
    if args.timings {
        print_timings(&compilation.timings, started.elapsed(), reuse);
    }
    ExitCode::SUCCESS
}

/// The check cache of a mesh, in `target/dpc-cache/` under its root (none
/// with `--no-cache`). A cache is only a speed-up: one that cannot be read
/// is empty, one that cannot be written is not.
struct CacheFile {
    path: PathBuf,
    /// Which dpc wrote it: a rebuilt dpc checks everything again.
    build: String,
    cache: CheckCache,
}

impl CacheFile {
    fn open(root: &Path) -> CacheFile {
        let path = root.join("target").join("dpc-cache").join("check");
        let exe = std::env::current_exe().and_then(std::fs::metadata);
        let stamp = exe.map(|m| (m.len(), m.modified().ok())).ok();
        let build = format!("dpc {} {stamp:?}", env!("CARGO_PKG_VERSION"));
        let cache = match std::fs::read(&path) {
            Ok(bytes) => CheckCache::from_bytes(&bytes, &build),
            Err(_) => CheckCache::empty(),
        };
        CacheFile { path, build, cache }
    }

    /// Writes this run's entries, if they changed, whole or not at all
    /// (another dpc may be reading the file).
    fn save(self) {
        let Some(dir) = self.path.parent().filter(|_| self.cache.changed()) else { return };
        let partial = dir.join(format!(".check.tmp-{}", std::process::id()));
        let written = std::fs::create_dir_all(dir)
            .and_then(|()| std::fs::write(&partial, self.cache.to_bytes(&self.build)))
            .and_then(|()| std::fs::rename(&partial, &self.path));
        if written.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
    }
}

/// `--timings`: one line per stage, the total, the products the check
/// cache served, and the peak memory, in a form scripts can read (`stage
/// <name> <milliseconds>`).
fn print_timings(timings: &[(&str, std::time::Duration)], total: std::time::Duration, reuse: Option<(usize, usize)>) {
    for (stage, d) in timings {
        eprintln!("stage {stage:<8} {:>9.1} ms", d.as_secs_f64() * 1000.0);
    }
    eprintln!("stage {:<8} {:>9.1} ms", "total", total.as_secs_f64() * 1000.0);
    if let Some((reused, checked)) = reuse {
        eprintln!("cache: {reused} products reused, {checked} checked");
    }
    if let Some(kib) = peak_memory_kib() {
        eprintln!("peak memory {:.1} MiB", kib as f64 / 1024.0);
    }
}

/// The process's peak resident memory (Linux: VmHWM), if the system says.
fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn display_relative(p: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| p.strip_prefix(d).ok().map(|r| r.display().to_string()))
        .unwrap_or_else(|| p.display().to_string())
}

/// Prints diagnostics; `root` places file names for GitHub and SARIF.
fn report(c: &Compilation, format: Format, root: &Path) {
    match format {
        Format::Json => print!("{}", diagnostic::render_json(&c.diagnostics, &c.sources)),
        Format::Github => print!("{}", diagnostic::render_github(&c.diagnostics, &c.sources, &repo_prefix(root))),
        Format::Sarif => print!("{}", diagnostic::render_sarif(&c.diagnostics, &c.sources, &repo_prefix(root))),
        Format::Human | Format::Markdown => {
            let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            eprint!("{}", diagnostic::render_human(&c.diagnostics, &c.sources, color));
            let errors = c.diagnostics.iter().filter(|d| d.is_error()).count();
            let warnings = c.diagnostics.iter().filter(|d| d.severity == diagnostic::Severity::Warning).count();
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            if errors > 0 {
                eprintln!("error: {}, {}", plural(errors, "error"), plural(warnings, "warning"));
            } else {
                eprintln!("ok: no errors, {}", plural(warnings, "warning"));
            }
        }
    }
}

fn explain(code: Option<String>, list: bool, functions: bool) -> ExitCode {
    if functions {
        let target = dpc::target::target_for(load::TargetKind::Bigquery);
        let all = target.catalog().sorted();
        let signatures: usize = all.iter().map(|f| f.signatures.len()).sum();
        for f in &all {
            println!("{:<14} {:<10} {}", f.category, format!("{:?}", f.kind).to_lowercase(), f.name);
        }
        println!(
            "{} BigQuery functions, {} signatures (missing ones: stdlib/bigquery/MISSING.md)",
            all.len(),
            signatures
        );
        return ExitCode::SUCCESS;
    }
    if list || code.is_none() {
        for c in codes::ALL {
            println!("{}  {}", c.code, c.title);
        }
        return ExitCode::SUCCESS;
    }
    let code = code.unwrap_or_default();
    match codes::lookup(&code) {
        Some(info) => {
            print!("{}", info.explanation);
            ExitCode::SUCCESS
        }
        None => usage_error(&format!("no diagnostic code `{code}` (see `dpc explain --list`)")),
    }
}

fn init(dir: Option<PathBuf>, name: Option<String>, target: load::TargetKind) -> ExitCode {
    let dir = match dir {
        Some(d) => d,
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => return usage_error(&format!("cannot read the current directory: {e}")),
        },
    };
    if dir.join(load::MESH_FILE).exists() {
        return usage_error(&format!("{} already has a dpc.toml", dir.display()));
    }
    let name = name.unwrap_or_else(|| {
        let base = std::fs::canonicalize(&dir)
            .ok()
            .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let cleaned: String =
            base.to_ascii_lowercase().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let cleaned = cleaned.trim_matches('_').replace("__", "_");
        if cleaned.starts_with(|c: char| c.is_ascii_lowercase()) {
            cleaned
        } else {
            "mesh".to_string()
        }
    });
    if let Err(e) = dpc::resolve::check_name(&name, "mesh", false) {
        return usage_error(&e);
    }
    for (path, contents) in dpc::init::scaffold(&name, target) {
        let p = dir.join(&path);
        if let Some(parent) = p.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                return usage_error(&format!("cannot create {}: {e}", parent.display()));
            }
        }
        if let Err(e) = std::fs::write(&p, contents) {
            return usage_error(&format!("cannot write {}: {e}", p.display()));
        }
        println!("created {}", p.display());
    }
    println!("next: cd {} && dpc check && dpc build", dir.display());
    ExitCode::SUCCESS
}

// The compiler allocates many small AST nodes on several threads; glibc's
// per-thread arenas grow by mprotect calls that cost more than the parsing.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `purge_delay` option (the v3 `mi_option_e` of mimalloc.h has
/// no Rust name in libmimalloc-sys).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// By default mimalloc hands freed memory back to the OS after 10 ms, and
/// the next allocations fault it in again as fresh zeroed (huge) pages: on
/// a 10,000-product mesh that is ~20,000 page faults and a fifth of the
/// CPU time of `dpc check`. dpc lives seconds: it keeps what it freed
/// (~750 faults; the peak memory barely moves).
fn keep_freed_memory() {
    // SAFETY: options are not thread safe; this runs first in main, before
    // dpc starts any thread.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}
