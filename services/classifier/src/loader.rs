//! The classifier's only I/O: reading CFPB-format CSV files and reading/writing artifacts.

use std::fs;
use std::io::BufReader;
use std::path::Path;

use chrono::NaiveDate;

use super::classifier::ModelArtifact;
use super::dataset::CfpbRecord;
use super::ClassifyError;

const COLUMNS: [&str; 10] = [
    "Complaint ID",
    "Product",
    "Sub-product",
    "Issue",
    "Sub-issue",
    "Consumer complaint narrative",
    "Tags",
    "Submitted via",
    "Date received",
    "Date sent to company",
];

fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(text, "%m/%d/%Y"))
        .ok()
}

/// Reads every row of a CSV with the CFPB column names (any column order, extra columns
/// ignored). Rows with a wrong field count are an error, not silently skipped.
pub fn read_cfpb_csv(path: impl AsRef<Path>) -> Result<Vec<CfpbRecord>, ClassifyError> {
    let path = path.as_ref();
    let shown = || path.display().to_string();
    let file = fs::File::open(path).map_err(|source| ClassifyError::Io {
        path: shown(),
        source,
    })?;
    let mut reader = csv::Reader::from_reader(BufReader::new(file));
    let headers = reader
        .headers()
        .map_err(|source| ClassifyError::Csv {
            path: shown(),
            source,
        })?
        .clone();
    let mut index = [0usize; COLUMNS.len()];
    for (slot, column) in index.iter_mut().zip(COLUMNS) {
        *slot = headers
            .iter()
            .position(|header| header.trim().trim_start_matches('\u{feff}') == column)
            .ok_or(ClassifyError::MissingColumn {
                path: shown(),
                column,
            })?;
    }
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|source| ClassifyError::Csv {
            path: shown(),
            source,
        })?;
        let field = |i: usize| row.get(index[i]).unwrap_or("").to_string();
        records.push(CfpbRecord {
            complaint_id: field(0),
            product: field(1),
            sub_product: field(2),
            issue: field(3),
            sub_issue: field(4),
            narrative: field(5),
            tags: field(6)
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect(),
            submitted_via: field(7),
            date_received: parse_date(&field(8)),
            date_sent_to_company: parse_date(&field(9)),
        });
    }
    Ok(records)
}

/// Writes an artifact as JSON, creating parent directories; the write goes to a temporary file
/// renamed into place so a reader never sees half an artifact.
pub fn write_artifact(
    path: impl AsRef<Path>,
    artifact: &ModelArtifact,
) -> Result<(), ClassifyError> {
    let path = path.as_ref();
    let io = |source| ClassifyError::Io {
        path: path.display().to_string(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io)?;
    }
    let json = serde_json::to_vec(artifact).map_err(|error| ClassifyError::Artifact {
        path: path.display().to_string(),
        reason: error.to_string(),
    })?;
    let temporary = path.with_extension("json.tmp");
    fs::write(&temporary, json).map_err(io)?;
    fs::rename(&temporary, path).map_err(io)
}

/// Reads an artifact; a missing file is `ClassifyError::Io` with kind `NotFound`.
pub fn read_artifact(path: impl AsRef<Path>) -> Result<ModelArtifact, ClassifyError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| ClassifyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|error| ClassifyError::Artifact {
        path: path.display().to_string(),
        reason: error.to_string(),
    })
}
