//! Writes artifacts to the output directory, all or nothing: everything
//! goes to a sibling temporary directory first, which then replaces the
//! old output in one rename. A failure leaves the old output untouched.

use crate::emit::Artifact;
use std::io;
use std::path::Path;

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
            let path = staging.join(&a.path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, &a.contents)?;
        }
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
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    })();
    if result.is_err() && staging.exists() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}
