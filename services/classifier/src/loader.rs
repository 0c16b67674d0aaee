//! The classifier's only I/O: reading CFPB-format CSV files and staff corrections, and
//! reading/writing artifacts.

use std::fs;
use std::io::BufReader;
use std::path::Path;

use chrono::NaiveDate;

use super::classifier::{ModelArtifact, ARTIFACT_FORMAT_VERSION};
use super::dataset::{CfpbRecord, Correction};
use super::grading::Grade;
use super::taxonomy::{IssueCategory, ProductLine};
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

/// Opens a CSV and finds each of `columns` in its header (any order, a BOM tolerated): the
/// reader and, per column, its position.
fn open_csv<const N: usize>(path: &Path, columns: &[&'static str; N]) -> Result<(csv::Reader<BufReader<fs::File>>, [usize; N]), ClassifyError> {
    let shown = || path.display().to_string();
    let file = fs::File::open(path).map_err(|source| ClassifyError::Io { path: shown(), source })?;
    let mut reader = csv::Reader::from_reader(BufReader::new(file));
    let headers = reader.headers().map_err(|source| ClassifyError::Csv { path: shown(), source })?.clone();
    let mut index = [0usize; N];
    for (slot, column) in index.iter_mut().zip(columns) {
        *slot = headers
            .iter()
            .position(|header| header.trim().trim_start_matches('\u{feff}') == *column)
            .ok_or(ClassifyError::MissingColumn { path: shown(), column })?;
    }
    Ok((reader, index))
}

/// Reads every row of a CSV with the CFPB column names (any column order, extra columns
/// ignored). Rows with a wrong field count are an error, not silently skipped.
pub fn read_cfpb_csv(path: impl AsRef<Path>) -> Result<Vec<CfpbRecord>, ClassifyError> {
    let path = path.as_ref();
    let shown = || path.display().to_string();
    let (mut reader, index) = open_csv(path, &COLUMNS)?;
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

/// Header of a corrections CSV, in this order (`complaintctl casework corrections` writes it).
pub const CORRECTION_COLUMNS: [&str; 7] = [
    "complaint_number",
    "text",
    "product",
    "category",
    "grade",
    "corrected_by",
    "reason",
];

/// Reads staff corrections: a CSV with the [`CORRECTION_COLUMNS`] header (any column order,
/// extra columns ignored). `product` and `category` are the classifier's own names
/// (`credit_cards`, `security` …) and `grade` is `red`, `yellow` or `green`
/// (case-insensitive); empty means not corrected. Every row is validated: an empty
/// `complaint_number` or `text`, or an unknown name, is [`ClassifyError::InvalidRow`] naming
/// the file, the line and the field. Rows come back in file order (the export lists corrections
/// oldest first; training keeps the last correction of each complaint).
pub fn read_corrections(path: impl AsRef<Path>) -> Result<Vec<Correction>, ClassifyError> {
    let path = path.as_ref();
    let shown = || path.display().to_string();
    let (mut reader, index) = open_csv(path, &CORRECTION_COLUMNS)?;
    let mut corrections = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|source| ClassifyError::Csv {
            path: shown(),
            source,
        })?;
        let line = row.position().map_or(0, |position| position.line());
        let invalid = |field: &'static str, reason: String| ClassifyError::InvalidRow {
            path: shown(),
            line,
            field,
            reason,
        };
        let field = |i: usize| row.get(index[i]).unwrap_or("").trim();
        let required = |i: usize| {
            let value = field(i);
            if value.is_empty() {
                Err(invalid(CORRECTION_COLUMNS[i], "is empty".to_string()))
            } else {
                Ok(value.to_string())
            }
        };
        let complaint_number = required(0)?;
        let text = required(1)?;
        let product = match field(2) {
            "" => None,
            name => Some(ProductLine::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = ProductLine::ALL.iter().map(|p| p.as_str()).collect();
                invalid(
                    "product",
                    format!(
                        "unknown product {name:?}, expected one of {}",
                        known.join(", ")
                    ),
                )
            })?),
        };
        let category = match field(3) {
            "" => None,
            name => Some(IssueCategory::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = IssueCategory::ALL.iter().map(|c| c.as_str()).collect();
                invalid(
                    "category",
                    format!(
                        "unknown category {name:?}, expected one of {}",
                        known.join(", ")
                    ),
                )
            })?),
        };
        let grade = match field(4) {
            "" => None,
            name => Some(Grade::parse(&name.to_lowercase()).ok_or_else(|| {
                invalid(
                    "grade",
                    format!("unknown grade {name:?}, expected red, yellow or green"),
                )
            })?),
        };
        corrections.push(Correction {
            complaint_number,
            text,
            product,
            category,
            grade,
            corrected_by: field(5).to_string(),
            reason: field(6).to_string(),
        });
    }
    Ok(corrections)
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

/// Reads an artifact; a missing file is `ClassifyError::Io` with kind `NotFound`. The format
/// version is checked before the rest is parsed, so an artifact from an older or newer release
/// is [`ClassifyError::Artifact`] saying so, not a parse error about some field.
pub fn read_artifact(path: impl AsRef<Path>) -> Result<ModelArtifact, ClassifyError> {
    #[derive(serde::Deserialize)]
    struct Header {
        format_version: u32,
    }
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|source| ClassifyError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let artifact_error = |reason: String| ClassifyError::Artifact {
        path: path.display().to_string(),
        reason,
    };
    let header: Header =
        serde_json::from_slice(&bytes).map_err(|error| artifact_error(error.to_string()))?;
    if header.format_version != ARTIFACT_FORMAT_VERSION {
        return Err(artifact_error(format!(
            "format version {} (this release reads {ARTIFACT_FORMAT_VERSION}); retrain with `complaintctl model train`",
            header.format_version
        )));
    }
    serde_json::from_slice(&bytes).map_err(|error| artifact_error(error.to_string()))
}
