//! Writes artifacts to the output directory, all or nothing: everything
//! goes to a sibling temporary directory first, which then replaces the
//! old output in one rename. A failure leaves the old output untouched.

use crate::emit::Artifact;
use rayon::prelude::*;
use std::io;
use std::path::{Path, PathBuf};

pub fn write_artifacts(out: &Path, artifacts: &[Artifact]) -> io::Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dpc".into());
    let staging = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let result = (|| {
        if staging.exists() {
            std::fs::remove_dir_all(&staging)?;
        }
        for a in artifacts {
            // Artifact paths are built by dpc from validated names; refuse
            // anything that could leave the output directory regardless.
            if a.path.split('/').any(|p| p == ".." || p.is_empty()) || a.path.starts_with('/') {
                return Err(io::Error::other(format!("refusing to write outside the output directory: {}", a.path)));
            }
        }
        // Directories first, then the files in parallel (a large mesh has
        // tens of thousands of them).
        let dirs: std::collections::BTreeSet<&str> =
            artifacts.iter().filter_map(|a| a.path.rsplit_once('/').map(|(d, _)| d)).collect();
        std::fs::create_dir_all(&staging)?;
        for d in dirs {
            std::fs::create_dir_all(staging.join(d))?;
        }
        artifacts.par_iter().try_for_each(|a| std::fs::write(staging.join(&a.path), &a.contents))?;
        if out.exists() {
            std::fs::rename(out, &old)?;
        }
        if let Err(e) = std::fs::rename(&staging, out) {
            // Put the old output back before reporting.
            if old.exists() {
                let _ = std::fs::rename(&old, out);
            }
            return Err(e);
        }
        if old.exists() {
            remove_tree(&old)?;
        }
        Ok(())
    })();
    if result.is_err() && staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

/// Removes a directory tree, its subdirectories in parallel.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<io::Result<_>>()?;
    entries.par_iter().try_for_each(|p| if p.is_dir() { remove_tree(p) } else { std::fs::remove_file(p) })?;
    std::fs::remove_dir(dir)
}
