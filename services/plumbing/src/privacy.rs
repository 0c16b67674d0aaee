//! The clear-data check: looks for given personal values (an ID number, a phone number, an
//! e-mail address, an account number) byte for byte in every file under some directories —
//! stores and their journals, the JetStream store, spool directories, logs. Used by the system
//! test and by `complaintctl privacy-check`, which anyone can run against an installation.

use std::path::{Path, PathBuf};

/// One clear value found in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    /// What was found (`phone`, `id_number`, …), never the value itself.
    pub label: String,
}

/// What a scan looked at and found.
#[derive(Debug, Default)]
pub struct Scan {
    pub files: usize,
    pub bytes: u64,
    pub findings: Vec<Finding>,
}

/// Scans every regular file under `roots` (recursively; symbolic links are not followed) for
/// each `(label, value)`; empty values are skipped.
pub fn scan(roots: &[&Path], values: &[(&str, &str)]) -> std::io::Result<Scan> {
    let finders: Vec<(&str, memchr::memmem::Finder<'_>)> =
        values.iter().filter(|(_, value)| !value.is_empty()).map(|(label, value)| (*label, memchr::memmem::Finder::new(value.as_bytes()))).collect();
    let mut result = Scan::default();
    let mut pending: Vec<PathBuf> = roots.iter().map(|root| root.to_path_buf()).collect();
    while let Some(path) = pending.pop() {
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            // A file removed while the platform runs (a compacted journal) is no finding.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&path)? {
                pending.push(entry?.path());
            }
            continue;
        }
        if !metadata.is_file() {
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        result.files += 1;
        result.bytes += bytes.len() as u64;
        for (label, finder) in &finders {
            if finder.find(&bytes).is_some() {
                result.findings.push(Finding { path: path.clone(), label: (*label).to_owned() });
            }
        }
    }
    result.findings.sort_by(|a, b| (&a.path, &a.label).cmp(&(&b.path, &b.label)));
    Ok(result)
}
