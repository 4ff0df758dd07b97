//! Writes a synthetic mesh for benchmarks:
//!
//! ```sh
//! cargo run --release --example meshgen -- --products 1000 --seed 42 --out DIR [--format dpc|dbt|sql] [--force]
//! ```
//!
//! `dpc` (the default) writes a dpc mesh, `dbt` the same queries as a dbt
//! project, `sql` as plain SQL files with a `schema.json` for sqlglot.

#[path = "../benches/meshgen/mod.rs"]
mod meshgen;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str =
    "usage: meshgen --out DIR [--products N (default 1000)] [--seed S (default 42)] [--format dpc|dbt|sql] [--force]";

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("meshgen: {e}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    let mut products = 1000usize;
    let mut seed = 42u64;
    let mut out: Option<PathBuf> = None;
    let mut format = "dpc".to_string();
    let mut force = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--products" => {
                products = value("--products")?.parse().map_err(|e| format!("--products: {e}"))?;
            }
            "--seed" => seed = value("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--format" => format = value("--format")?,
            "--force" => force = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    let out = out.ok_or("--out is required")?;
    if products == 0 {
        return Err("--products must be at least 1".to_string());
    }
    let options = meshgen::Options { products, seed };
    let started = Instant::now();
    let files = match format.as_str() {
        "dpc" => meshgen::mesh(&options),
        "dbt" => meshgen::dbt_project(&options),
        "sql" => meshgen::plain_sql(&options),
        other => return Err(format!("unknown format `{other}` (dpc, dbt or sql)")),
    };
    let generated = started.elapsed();
    if out.exists() {
        let non_empty = std::fs::read_dir(&out).map_err(|e| format!("{}: {e}", out.display()))?.next().is_some();
        if non_empty && !force {
            return Err(format!("{} exists and is not empty (pass --force to replace it)", out.display()));
        }
        if non_empty {
            std::fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
        }
    }
    let started = Instant::now();
    let (mut bytes, mut sql_bytes, mut sql_files) = (0usize, 0usize, 0usize);
    for (path, contents) in &files {
        let path = out.join(path);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        std::fs::write(&path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
        bytes += contents.len();
        if path.extension().is_some_and(|e| e == "sql") {
            sql_bytes += contents.len();
            sql_files += 1;
        }
    }
    eprintln!(
        "meshgen: {products} products (seed {seed}, format {format}): {} files, {bytes} bytes, {sql_files} SQL files with {sql_bytes} bytes; generated in {:.3}s, written in {:.3}s",
        files.len(),
        generated.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
