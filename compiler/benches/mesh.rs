//! The mesh-scale benchmark: `cargo bench --bench mesh` (or
//! `scripts/bench.sh`). For synthetic meshes of 100, 1,000 and 10,000
//! products (`DPC_BENCH_SIZES=100,1000` to choose) it times the parse-only
//! floor (sqlparser alone over the same SQL files, on one thread and on
//! every core), `dpc check` and `dpc build` per stage, with peak memory,
//! and prints one markdown table and the budgets of the performance issue.
//!
//! `dpc` runs as a separate process (the release binary of this crate), so
//! its peak memory is its own; each figure is the best of three runs.
//! `dpc check` and `dpc build` run without a check cache to read (as on a
//! fresh CI checkout; they write one); `dpc check` runs once more with the
//! cache an earlier check left (nothing changed: the case of a second run,
//! or of a pull request over a cached main for the products it leaves alone).
//! `dpc build` writes into a new, empty directory each run; one more run
//! replaces such an output (a rebuild: unchanged files are carried over,
//! and the old output is removed, shown apart as the write stage).

#[path = "meshgen/mod.rs"]
mod meshgen;

use rayon::prelude::*;
use sqlparser::dialect::BigQueryDialect;
use sqlparser::parser::{Parser, ParserOptions};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 3;

/// The floor parses with dpc's allocator: a program that only parsed would
/// choose it too, and with the system allocator sqlparser is about a
/// quarter slower here, which would flatter dpc's ratio.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One `dpc` run: its stages and peak memory, from `--timings`.
#[derive(Clone, Default)]
struct Run {
    stages: Vec<(String, f64)>,
    total_ms: f64,
    peak_mib: f64,
}

fn main() {
    let sizes: Vec<usize> = std::env::var("DPC_BENCH_SIZES")
        .unwrap_or_else(|_| "100,1000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dpc = PathBuf::from(env!("CARGO_BIN_EXE_dpc"));
    let base = std::env::temp_dir().join("dpc-bench");
    let mut rows = vec![];
    let mut written = vec![];
    for &n in &sizes {
        let dir = base.join(format!("mesh-{n}"));
        let files = meshgen::mesh(&meshgen::Options { products: n, seed: 42 });
        write_mesh(&dir, &files);
        let sql: Vec<&str> = files.iter().filter(|(p, _)| p.ends_with(".sql")).map(|(_, t)| t.as_str()).collect();
        let bytes: usize = sql.iter().map(|t| t.len()).sum();
        let floor1 = best(|| parse_floor(&sql, 1));
        let floor_n = best(|| parse_floor(&sql, threads));
        let cache = dir.join("target").join("dpc-cache");
        let check = best_run(|| {
            let _ = std::fs::remove_dir_all(&cache);
            dpc_run(&dpc, &dir, &["check"])
        });
        let cached = best_run(|| dpc_run(&dpc, &dir, &["check"]));
        let outs: Vec<PathBuf> = (0..=RUNS).map(|k| base.join(format!("out-{n}-{k}"))).collect();
        // Leftovers of an earlier run (normally none: they go at the end).
        outs.iter().chain([&base.join(format!("out-{n}"))]).for_each(|d| drop(std::fs::remove_dir_all(d)));
        let mut fresh = outs.iter();
        let build = best_run(|| {
            let out = fresh.next().expect("a directory per run");
            let _ = std::fs::remove_dir_all(&cache);
            dpc_run(&dpc, &dir, &["build", "--out", out.to_str().unwrap_or_default()])
        });
        let _ = std::fs::remove_dir_all(&cache);
        let rebuild = dpc_run(&dpc, &dir, &["build", "--out", outs[0].to_str().unwrap_or_default()]);
        rows.push(Row { n, bytes, floor1, floor_n, check, cached, build, rebuild });
        written.extend(outs);
    }
    // Removed only now: removing files keeps a disk busy after the call returns.
    written.iter().for_each(|d| drop(std::fs::remove_dir_all(d)));
    println!("\n## dpc at mesh scale ({threads} threads; best of {RUNS} runs)\n");
    println!("| products | SQL | parse floor, 1 thread | parse floor, {threads} threads | dpc check | check / floor | dpc check, cached | dpc build | build / floor | rebuild (of which write) | peak memory (check / build) |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for Row { n, bytes, floor1: f1, floor_n: fnn, check, cached, build, rebuild } in &rows {
        let f1ms = f1.as_secs_f64() * 1000.0;
        let write = rebuild.stages.iter().find(|(s, _)| s == "write").map_or(0.0, |(_, v)| *v);
        println!(
            "| {n} | {:.1} MB | {} | {} | {} | {:.2}x | {} | {} | {:.2}x | {} ({}) | {:.0} / {:.0} MiB |",
            *bytes as f64 / 1e6,
            ms(f1.as_secs_f64() * 1000.0),
            ms(fnn.as_secs_f64() * 1000.0),
            ms(check.total_ms),
            check.total_ms / f1ms,
            ms(cached.total_ms),
            ms(build.total_ms),
            build.total_ms / f1ms,
            ms(rebuild.total_ms),
            ms(write),
            check.peak_mib,
            build.peak_mib,
        );
    }
    let runs: [(&str, Pick); 3] = [
        ("`dpc check`", |r| &r.check),
        ("`dpc check` with the cache of an earlier check", |r| &r.cached),
        ("`dpc build`", |r| &r.build),
    ];
    for (what, run) in runs {
        println!("\nPer stage (ms), {what}:\n");
        if let Some(first) = rows.first() {
            let names: Vec<String> = run(first).stages.iter().map(|(s, _)| s.clone()).collect();
            println!("| products | {} | total |", names.join(" | "));
            println!("| ---: |{} ---: |", " ---: |".repeat(names.len()));
        }
        for r in &rows {
            let cells: Vec<String> = run(r).stages.iter().map(|(_, v)| format!("{v:.0}")).collect();
            println!("| {} | {} | {:.0} |", r.n, cells.join(" | "), run(r).total_ms);
        }
    }
    budgets(&rows);
}

fn ms(v: f64) -> String {
    if v >= 1000.0 {
        format!("{:.2} s", v / 1000.0)
    } else {
        format!("{v:.0} ms")
    }
}

/// Which run of a row a table shows.
type Pick = fn(&Row) -> &Run;

/// One mesh size's measurements.
struct Row {
    n: usize,
    /// Bytes of SQL.
    bytes: usize,
    floor1: Duration,
    floor_n: Duration,
    check: Run,
    cached: Run,
    build: Run,
    rebuild: Run,
}

/// The budgets of the performance issue, checked on the largest mesh.
fn budgets(rows: &[Row]) {
    let Some(Row { n, floor1, check, cached, build, .. }) = rows.iter().max_by_key(|r| r.n) else { return };
    let f1 = floor1.as_secs_f64() * 1000.0;
    println!("\nBudgets at {n} products:");
    let verdict = |ok: bool| if ok { "ok" } else { "OVER" };
    let c = check.total_ms / f1;
    println!("- dpc check within 1.5x of the one-thread parse floor: {c:.2}x {}", verdict(c <= 1.5));
    println!("- dpc check under 2 s: {} {}", ms(check.total_ms), verdict(check.total_ms < 2000.0));
    println!(
        "- dpc check under 2 s with the cache of an earlier check: {} {}",
        ms(cached.total_ms),
        verdict(cached.total_ms < 2000.0)
    );
    let b = build.total_ms / f1;
    println!("- dpc build within 2x of the floor: {b:.2}x {}", verdict(b <= 2.0));
    let peak = check.peak_mib.max(cached.peak_mib).max(build.peak_mib);
    println!("- peak memory under 1 GiB: {peak:.0} MiB {}", verdict(peak < 1024.0));
    if let Some(Row { n: m, check: small, .. }) = rows.iter().find(|r| r.n * 10 == *n) {
        let growth = check.total_ms / small.total_ms;
        println!("- linear: check at {n} is {growth:.1}x check at {m} (at most 11x) {}", verdict(growth <= 11.0));
    }
}

/// Writes the mesh over what an earlier run left: files that already hold
/// their text stay, stale ones go. Removing and creating some 40,000 files
/// right before the timed builds would slow this disk for minutes (ext4
/// without a journal makes a new file skip every recently freed inode).
fn write_mesh(dir: &Path, files: &[(String, String)]) {
    let wanted: std::collections::HashSet<PathBuf> = files.iter().map(|(p, _)| dir.join(p)).collect();
    let stale = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_entry(|e| e.path() != dir.join("target"))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && !wanted.contains(e.path()));
    stale.for_each(|e| drop(std::fs::remove_file(e.path())));
    for (path, text) in files {
        let p = dir.join(path);
        if std::fs::read(&p).is_ok_and(|old| old == text.as_bytes()) {
            continue;
        }
        std::fs::create_dir_all(p.parent().expect("a file has a directory")).expect("create the mesh's directories");
        std::fs::write(&p, text).expect("write a mesh file");
    }
}

/// sqlparser alone over every query, as dpc parses them, on `threads` threads.
fn parse_floor(sql: &[&str], threads: usize) -> Duration {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
    let started = Instant::now();
    let parsed: usize = pool.install(|| {
        sql.par_iter()
            .map(|text| {
                let options = ParserOptions::new().with_unescape(false);
                let statements = Parser::new(&BigQueryDialect {})
                    .with_options(options)
                    .try_with_sql(text)
                    .and_then(|mut p| p.parse_statements())
                    .map_or(0, |s| s.len());
                std::hint::black_box(statements)
            })
            .sum()
    });
    assert_eq!(parsed, sql.len(), "every generated query parses");
    started.elapsed()
}

fn best(mut f: impl FnMut() -> Duration) -> Duration {
    (0..RUNS).map(|_| f()).min().unwrap_or_default()
}

fn best_run(mut f: impl FnMut() -> Run) -> Run {
    let runs: Vec<Run> = (0..RUNS).map(|_| f()).collect();
    let peak = runs.iter().map(|r| r.peak_mib).fold(0.0, f64::max);
    let mut fastest = runs.into_iter().min_by(|a, b| a.total_ms.total_cmp(&b.total_ms)).unwrap_or_default();
    fastest.peak_mib = peak;
    fastest
}

fn dpc_run(dpc: &Path, mesh: &Path, args: &[&str]) -> Run {
    let output = Command::new(dpc).args(args).arg("-C").arg(mesh).arg("--timings").output().expect("run dpc");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "dpc {args:?} failed on {}:\n{stderr}", mesh.display());
    let mut run = Run::default();
    for line in stderr.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["stage", "total", v, "ms"] => run.total_ms = v.parse().unwrap_or(0.0),
            ["stage", name, v, "ms"] => run.stages.push((name.to_string(), v.parse().unwrap_or(0.0))),
            ["peak", "memory", v, "MiB"] => run.peak_mib = v.parse().unwrap_or(0.0),
            _ => {}
        }
    }
    run
}
