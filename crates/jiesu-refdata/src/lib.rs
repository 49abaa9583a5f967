//! # jiesu-refdata
//!
//! Reference data shipped inside the binary (every file under `data/` is `include_str!`-ed and
//! parsed on first use, then cached for the life of the process):
//!
//! - [`divisions`] — Beijing's 16 districts, 349 streets/towns (343 real ones + 6 development
//!   zones) and 7,535 communities/villages with their official 统计用区划代码, plus the 2020
//!   census population per district.
//! - [`mod@units`] — the organisation: the hotline centre (`12345`), the places above, 24 department
//!   slots in every district (`110105D01` …), 65 city departments (`CD001` …), 49 state-owned
//!   firms (`SE001` …) and 60 e-commerce and other firms (`EC001` …). [`org_tree`] builds the
//!   domain's [`OrgTree`](jiesu_domain::org::OrgTree).
//! - [`mod@categories`] — our own three-level category tree (28 level-1, 134 level-2, 350 leaves,
//!   codes `01` / `0101` / `010101`), every leaf mapped to a 七有五性 domain.
//! - [`mod@profiles`] — calibration for the demo-city generator and the duty catalogue: per level-1
//!   category its share of all requests, monthly seasonality, share answered directly, callback
//!   targets and deadline tier; per leaf its weight, who leads it (street/town, a district
//!   department slot, a city department, a state firm or an e-commerce firm) and 3–6 request
//!   templates; per district its share of district-handled volume; city-wide figures.
//! - [`mod@names`] — pools of road names, estate (小区) names, shop and company names, surnames and
//!   given-name characters for synthetic requests (no real persons).
//!
//! Everything here is validated by the crate's tests; the accessors panic only if a shipped file
//! were corrupt, which the tests rule out. See `docs/REFDATA.md` for sources, licenses and how the
//! calibration numbers were derived from Beijing's 2021 report.

pub mod categories;
pub mod divisions;
pub mod names;
pub mod profiles;
pub mod units;

pub use categories::{categories, category_tree};
pub use divisions::{is_special_zone, short_place_name};
pub use names::{pools, NamePools};
pub use profiles::{
    profiles, Aggregate, Calibration, CategoryProfile, DistrictProfile, LeadOption, LeadTarget,
    LeafProfile, Overall, Profiles, Template, PLACEHOLDERS,
};
pub use units::{org, org_tree, units, CENTRE_CODE, CENTRE_NAME};

use std::fmt;

/// A defect in a shipped data file (only reachable if a file under `data/` is edited badly; the
/// tests parse every file).
#[derive(Debug, Clone, PartialEq)]
pub struct DataError {
    /// The file, relative to `data/`.
    pub file: &'static str,
    /// 1-based line number (the header is line 1), 0 when not tied to a line.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "data/{}:{}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "data/{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for DataError {}

pub(crate) fn err(file: &'static str, line: usize, message: impl Into<String>) -> DataError {
    DataError {
        file,
        line,
        message: message.into(),
    }
}

/// Deserialises every record of a shipped CSV file (UTF-8, header row, comma-separated).
pub(crate) fn read_csv<T: serde::de::DeserializeOwned>(
    file: &'static str,
    text: &str,
) -> Result<Vec<T>, DataError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for (i, rec) in rdr.deserialize().enumerate() {
        out.push(rec.map_err(|e| err(file, i + 2, e.to_string()))?);
    }
    Ok(out)
}

/// Unwraps a parse of shipped data, naming the defect if there is one.
pub(crate) fn shipped<T>(r: Result<T, DataError>) -> T {
    r.unwrap_or_else(|e| panic!("corrupt shipped reference data: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_errors_name_file_and_line() {
        let e = err("x.csv", 3, "bad");
        assert_eq!(e.to_string(), "data/x.csv:3: bad");
        let e = err("x.csv", 0, "bad");
        assert_eq!(e.to_string(), "data/x.csv: bad");
    }

    #[test]
    fn read_csv_reports_the_failing_line() {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct R {
            a: u32,
        }
        let e = read_csv::<R>("t.csv", "a\n1\nx\n").err().unwrap();
        assert_eq!(e.line, 3);
    }
}
