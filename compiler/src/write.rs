//! Writes artifacts to the output directory, all or nothing: everything
//! goes to a sibling staging directory first, which then replaces the old
//! output in one rename. A failure leaves the old output untouched.
//!
//! Files are written as emit hands them over ([`Staging`] is an
//! [`emit::Sink`]), so a large mesh's artifacts are never all in memory and
//! writing overlaps with emitting.
//!
//! A file whose bytes equal those of the same file in the old output is not
//! written again but hard-linked from it: a rebuild that changes a few
//! products creates a few files, and removing the old output then frees
//! only what changed. Unchanged files also keep their modification time,
//! so tools that watch the output (Airflow's DAG processor, make) see only
//! what changed.

use crate::emit::{self, Artifact};
use rayon::prelude::*;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

/// An output directory being written. Its staging directory is made with
/// the first file (a build that writes nothing creates nothing);
/// [`Staging::commit`] swaps it in; dropped uncommitted, it is removed.
pub struct Staging {
    out: PathBuf,
    staging: PathBuf,
    /// Whether there is an old output to take unchanged files from.
    reuse: bool,
    created: OnceLock<Result<(), String>>,
    files: AtomicUsize,
    /// The first I/O error, kept as such for the caller.
    error: Mutex<Option<io::Error>>,
    committed: bool,
}

impl Staging {
    pub fn new(out: &Path) -> Staging {
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "dpc".into());
        Staging {
            out: out.to_path_buf(),
            staging: parent.join(format!(".{name}.tmp-{}", std::process::id())),
            reuse: out.is_dir(),
            created: OnceLock::new(),
            files: AtomicUsize::new(0),
            error: Mutex::new(None),
            committed: false,
        }
    }

    /// Writes `artifacts` into the staging directory (their directories
    /// first, then the files in parallel).
    pub fn write(&self, artifacts: &[Artifact]) -> io::Result<()> {
        for a in artifacts {
            inside(&a.path)?;
        }
        self.create()?;
        let dirs: std::collections::BTreeSet<&str> =
            artifacts.iter().filter_map(|a| a.path.rsplit_once('/').map(|(d, _)| d)).collect();
        for d in dirs {
            std::fs::create_dir_all(self.staging.join(d))?;
        }
        artifacts.par_iter().try_for_each(|a| self.write_file(&a.path, a.contents.as_bytes()))?;
        self.files.fetch_add(artifacts.len(), Ordering::Relaxed);
        Ok(())
    }

    /// Writes one file, or links it from the old output when its bytes are
    /// the same there (falling back to writing where links fail, e.g. on a
    /// file system without them).
    fn write_file(&self, path: &str, contents: &[u8]) -> io::Result<()> {
        let staged = self.staging.join(path);
        if self.reuse {
            let old = self.out.join(path);
            if same_bytes(&old, contents) && std::fs::hard_link(&old, &staged).is_ok() {
                return Ok(());
            }
        }
        std::fs::write(staged, contents)
    }

    /// The staging directory, made once (after removing a stale one).
    fn create(&self) -> io::Result<()> {
        let made = self.created.get_or_init(|| {
            let make = || -> io::Result<()> {
                if self.staging.exists() {
                    std::fs::remove_dir_all(&self.staging)?;
                }
                std::fs::create_dir_all(&self.staging)
            };
            make().map_err(|e| e.to_string())
        });
        made.clone().map_err(io::Error::other)
    }

    /// A file already written (the manifest, for the migrations of `--base`).
    pub fn read(&self, path: &str) -> io::Result<String> {
        std::fs::read_to_string(self.staging.join(path))
    }

    /// The first error met while emit handed files over, if any.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }

    /// Replaces the output directory with what was written, in one rename;
    /// returns the number of files.
    pub fn commit(mut self) -> io::Result<usize> {
        self.create()?;
        let old = self.staging.with_file_name(
            self.staging.file_name().map(|n| n.to_string_lossy().replace(".tmp-", ".old-")).unwrap_or_default(),
        );
        if self.out.exists() {
            std::fs::rename(&self.out, &old)?;
        }
        if let Err(e) = std::fs::rename(&self.staging, &self.out) {
            // Put the old output back before reporting.
            if old.exists() {
                let _ = std::fs::rename(&old, &self.out);
            }
            return Err(e);
        }
        self.committed = true;
        if old.exists() {
            remove_tree(&old)?;
        }
        Ok(self.files.load(Ordering::Relaxed))
    }
}

impl Staging {
    /// Keeps the first I/O error for the caller; emit gets its text.
    fn failed(&self, e: io::Error) -> String {
        let message = e.to_string();
        if let Ok(mut first) = self.error.lock() {
            first.get_or_insert(e);
        }
        message
    }
}

impl emit::Sink for Staging {
    fn put(&self, artifacts: Vec<Artifact>) -> Result<(), String> {
        self.write(&artifacts).map_err(|e| self.failed(e))
    }

    fn open(&self, path: &str) -> Result<Box<dyn Write + '_>, String> {
        let open = || -> io::Result<std::fs::File> {
            inside(path)?;
            self.create()?;
            let file = self.staging.join(path);
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::File::create(file)
        };
        let file = open().map_err(|e| self.failed(e))?;
        self.files.fetch_add(1, Ordering::Relaxed);
        Ok(Box::new(StagedFile { file: io::BufWriter::with_capacity(1 << 20, file), staging: self }))
    }
}

/// A file of the staging directory written in pieces; its I/O errors are
/// kept by the staging directory like those of whole files.
struct StagedFile<'a> {
    file: io::BufWriter<std::fs::File>,
    staging: &'a Staging,
}

impl Write for StagedFile<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf).map_err(|e| io::Error::other(self.staging.failed(e)))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush().map_err(|e| io::Error::other(self.staging.failed(e)))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed && self.created.get().is_some() && self.staging.exists() {
            let _ = std::fs::remove_dir_all(&self.staging);
        }
    }
}

/// Artifact paths are built by dpc from validated names; refuse anything
/// that could leave the output directory regardless.
fn inside(path: &str) -> io::Result<()> {
    if path.split('/').any(|p| p == ".." || p.is_empty()) || path.starts_with('/') {
        return Err(io::Error::other(format!("refusing to write outside the output directory: {path}")));
    }
    Ok(())
}

/// Whether the file at `path` holds exactly `contents` (read only when
/// the sizes agree).
fn same_bytes(path: &Path, contents: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else { return false };
    if !file.metadata().is_ok_and(|m| m.len() == contents.len() as u64) {
        return false;
    }
    let mut bytes = Vec::with_capacity(contents.len());
    file.read_to_end(&mut bytes).is_ok() && bytes == contents
}

/// Removes a directory tree, its subdirectories in parallel.
fn remove_tree(dir: &Path) -> io::Result<()> {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<io::Result<_>>()?;
    entries.par_iter().try_for_each(|p| if p.is_dir() { remove_tree(p) } else { std::fs::remove_file(p) })?;
    std::fs::remove_dir(dir)
}
