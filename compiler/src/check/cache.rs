//! The check cache: what checking each product gave in an earlier run, so
//! that a product whose files and input schemas have not changed is neither
//! parsed nor checked again (parsing is most of a check's time).
//!
//! A product's entry is keyed by a SHA-256 of everything its check reads:
//! the format of the cache, `dpc.toml`, the product's own files (its
//! `product.toml` and every query it names, path and text) and the schema
//! of each of its inputs as the check sees it (so an upstream change that
//! alters a schema reaches every product downstream, and one that does not
//! invalidates nothing). The build of dpc that wrote the cache is checked
//! before any entry is used: another build discards it whole.
//!
//! Pure: the CLI reads the bytes and writes them back
//! ([`CheckCache::from_bytes`], [`CheckCache::to_bytes`]).

use super::{CheckedAssertion, CheckedPort, ProductResult, SchemaColumn};
use crate::diagnostic::Diagnostic;
use crate::resolve::{InputSource, Product};
use crate::span::{FileId, Sources, Span};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

/// Bumped whenever what an entry holds, or what a key covers, changes.
const FORMAT: u32 = 1;

/// A SHA-256 of what a product's check reads.
pub type Key = [u8; 32];

/// The entries of the previous run, and those of this one as they are made.
pub struct CheckCache {
    previous: HashMap<Key, Vec<u8>>,
    /// This run's entries: new ones serialized, reused ones by key only.
    current: Mutex<Vec<(Key, Option<Vec<u8>>)>>,
}

/// What one product's check gave, with its spans' files named by their
/// position in the product's own files (file ids change between runs).
#[derive(Serialize, Deserialize)]
struct Entry {
    /// The file ids the spans use, in the order of [`own_files`].
    files: Vec<FileId>,
    ports: Vec<CheckedPort>,
    input_assertions: Vec<(usize, usize, CheckedAssertion)>,
    diagnostics: Vec<Diagnostic>,
}

impl CheckCache {
    /// An empty cache: every product is checked, and its result kept.
    pub fn empty() -> CheckCache {
        CheckCache { previous: HashMap::new(), current: Mutex::new(vec![]) }
    }

    /// The cache that [`CheckCache::to_bytes`] gave, if `build` (the dpc
    /// that reads it) is the one that wrote it; else an empty one.
    pub fn from_bytes(bytes: &[u8], build: &str) -> CheckCache {
        let read = || -> Option<HashMap<Key, Vec<u8>>> {
            let (format, rest) = postcard::take_from_bytes::<u32>(bytes).ok()?;
            let (writer, rest) = postcard::take_from_bytes::<&str>(rest).ok()?;
            if format != FORMAT || writer != build {
                return None;
            }
            let entries: Vec<(Key, Vec<u8>)> = postcard::from_bytes(rest).ok()?;
            Some(entries.into_iter().collect())
        };
        CheckCache { previous: read().unwrap_or_default(), current: Mutex::new(vec![]) }
    }

    /// This run's entries (every product it checked or found), for the next run.
    pub fn to_bytes(&self, build: &str) -> Vec<u8> {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let mut entries: Vec<(&Key, &[u8])> = current
            .iter()
            .filter_map(|(key, bytes)| {
                Some((key, bytes.as_deref().or_else(|| self.previous.get(key).map(Vec::as_slice))?))
            })
            .collect();
        // One entry per key (`dpc diff` checks most products twice).
        entries.sort_unstable_by_key(|(key, _)| *key);
        entries.dedup_by_key(|(key, _)| *key);
        let mut out = postcard::to_stdvec(&FORMAT).unwrap_or_default();
        out.extend(postcard::to_stdvec(build).unwrap_or_default());
        out.extend(postcard::to_stdvec(&entries).unwrap_or_default());
        out
    }

    /// How many products this run took from the cache, and how many it checked.
    pub fn counts(&self) -> (usize, usize) {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let reused = current.iter().filter(|(_, bytes)| bytes.is_none()).count();
        (reused, current.len() - reused)
    }

    /// Whether this run's entries differ from the previous run's (if not,
    /// there is nothing to write back).
    pub fn changed(&self) -> bool {
        let current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if current.iter().any(|(_, bytes)| bytes.is_some()) {
            return true;
        }
        // All reused: changed only if some earlier entries went unused.
        let mut reused: Vec<&Key> = current.iter().map(|(key, _)| key).collect();
        reused.sort_unstable();
        reused.dedup();
        reused.len() != self.previous.len()
    }

    /// The earlier result for `key`, if there is one whose spans all fall
    /// in the product's own files; remembered for the next run.
    pub(super) fn get(&self, key: &Key, files: &[FileId]) -> Option<ProductResult> {
        let entry: Entry = postcard::from_bytes(self.previous.get(key)?).ok()?;
        let Entry { files: then, mut ports, input_assertions, mut diagnostics } = entry;
        if then.len() != files.len() {
            return None;
        }
        let mut all_own = true;
        let mut remap = |span: &mut Span| match then.iter().position(|f| *f == span.file) {
            Some(i) => span.file = files[i],
            None => all_own = false,
        };
        for port in &mut ports {
            port.lineage.iter_mut().flatten().for_each(|(_, span)| remap(span));
        }
        diagnostics.iter_mut().flat_map(|d| &mut d.labels).for_each(|l| remap(&mut l.span));
        if !all_own {
            return None;
        }
        self.remember(*key, None);
        Some((ports, input_assertions, diagnostics, [Duration::ZERO; 2]))
    }

    /// Keeps a product's fresh result for the next run.
    pub(super) fn put(&self, key: Key, files: &[FileId], result: &ProductResult) {
        // Serialized from references: the result itself goes on to the mesh.
        #[derive(Serialize)]
        struct EntryRef<'a> {
            files: &'a [FileId],
            ports: &'a [CheckedPort],
            input_assertions: &'a [(usize, usize, CheckedAssertion)],
            diagnostics: &'a [Diagnostic],
        }
        let (ports, input_assertions, diagnostics, _) = result;
        let entry = EntryRef { files, ports, input_assertions, diagnostics };
        if let Ok(bytes) = postcard::to_stdvec(&entry) {
            self.remember(key, Some(bytes));
        }
    }

    fn remember(&self, key: Key, bytes: Option<Vec<u8>>) {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).push((key, bytes));
    }
}

/// The files a product's check reads: its `product.toml`, then the query
/// of each port and of each custom check, each once.
pub(super) fn own_files(product: &Product) -> Vec<FileId> {
    let mut files = vec![product.file];
    for file in super::query_files(product) {
        if !files.contains(&file) {
            files.push(file);
        }
    }
    files
}

/// The hash of `dpc.toml` (the mesh's settings every product is checked with).
pub(super) fn mesh_settings(sources: &Sources) -> Key {
    let mut hasher = Sha256::new();
    if let Some(file) = sources.find(crate::load::MESH_FILE) {
        hasher.update(sources.get(file).text.as_bytes());
    }
    hasher.finalize().into()
}

/// The key of a product's check: see the module's comment.
pub(super) fn key(
    settings: &Key,
    product: &Product,
    files: &[FileId],
    inputs: &[Option<Vec<SchemaColumn>>],
    sources: &Sources,
) -> Key {
    let mut hasher = ShaHasher(Sha256::new());
    FORMAT.hash(&mut hasher);
    settings.hash(&mut hasher);
    for &file in files {
        let source = sources.get(file);
        source.path.hash(&mut hasher);
        source.text.hash(&mut hasher);
    }
    for (input, columns) in product.inputs.iter().zip(inputs) {
        let source = match input.source {
            InputSource::Port { .. } => 0u8,
            InputSource::Own => 1,
            InputSource::Unresolved => 2,
        };
        (source, columns).hash(&mut hasher);
    }
    hasher.0.finalize().into()
}

/// Feeds `Hash` values to SHA-256 (the standard hashers are 64-bit).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// Unused: the key is the SHA-256 digest.
    fn finish(&self) -> u64 {
        0
    }
}
