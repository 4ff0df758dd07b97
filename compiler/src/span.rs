//! One span type for the whole compiler: a byte range in one source file.
//!
//! sqlparser reports line/column positions (columns in characters) and toml
//! reports byte ranges; both are converted into [`Span`] once, at the
//! boundary of the stage that calls them.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Index of a file in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span { file, start: range.start as u32, end: range.end.max(range.start) as u32 }
    }
    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
    /// The smallest span covering both (same file assumed; otherwise `self`).
    pub fn to(self, other: Span) -> Span {
        if self.file != other.file {
            return self;
        }
        Span { file: self.file, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// A source file held in memory: the mesh-relative path and its text.
#[derive(Debug)]
pub struct SourceFile {
    /// Path relative to the mesh root, with `/` separators.
    pub path: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: String, text: String) -> SourceFile {
        let line_starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        SourceFile { path, text, line_starts }
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        let col = self.text.get(start..offset).map_or(0, |s| s.chars().count());
        (line + 1, col + 1)
    }

    /// Byte offset of a 1-based line and column (in characters), clamped to the file.
    pub fn offset(&self, line: u64, column: u64) -> usize {
        let Some(&start) = self.line_starts.get((line.max(1) - 1) as usize) else {
            return self.text.len();
        };
        // The line ends before the next one starts (or at the end of the text).
        let end = self.line_starts.get(line.max(1) as usize).map_or(self.text.len(), |&next| next - 1);
        let text = &self.text[start..end];
        let chars = column.max(1) as usize - 1;
        // Columns count characters: in ASCII, they are bytes.
        let ascii = chars.min(text.len());
        if text.as_bytes()[..ascii].is_ascii() {
            return start + ascii;
        }
        start + text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
    }
}

/// Every file of the mesh that the compiler read, addressed by [`FileId`].
#[derive(Debug, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, path: String, text: String) -> FileId {
        self.files.push(SourceFile::new(path, text));
        FileId(self.files.len() as u32 - 1)
    }
    pub fn get(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }
    pub fn find(&self, path: &str) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(|i| FileId(i as u32))
    }
    pub fn iter(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(i, f)| (FileId(i as u32), f))
    }
    /// The text a span covers.
    pub fn slice(&self, span: Span) -> &str {
        self.get(span.file).text.get(span.range()).unwrap_or("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_and_offset_round_trip_with_multibyte_text() {
        let f = SourceFile::new("a.sql".into(), "SELECT 'é'\nFROM t\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        let from = f.text.find("FROM").unwrap();
        assert_eq!(f.line_col(from), (2, 1));
        assert_eq!(f.offset(2, 1), from);
        // column 10 of line 1 is the closing quote, after a 2-byte character
        assert_eq!(&f.text[f.offset(1, 10)..f.offset(1, 11)], "'");
        assert_eq!(f.offset(9, 1), f.text.len());
    }

    #[test]
    fn offset_clamps_a_column_past_the_end_of_its_line() {
        let f = SourceFile::new("a.sql".into(), "ab\r\nxé\nlast".into());
        assert_eq!(f.offset(1, 3), 2, "the carriage return is a character of the line");
        assert_eq!(f.offset(1, 9), 3, "clamped before the newline");
        assert_eq!(f.offset(2, 2), 5);
        assert_eq!(f.offset(2, 9), 7, "clamped after the 2-byte character");
        assert_eq!(f.offset(3, 3), 10);
        assert_eq!(f.offset(3, 99), f.text.len());
    }
}
