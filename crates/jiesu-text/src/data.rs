//! Reading labelled texts from CSV files, with errors that name the file, line and column.

use std::path::{Path, PathBuf};

use crate::error::{Result, TextError};

/// Reads `(text, label)` pairs from a CSV file with a header row. The text is the named columns
/// joined with a space; the label is the named column, trimmed. Refuses (with the line number) an
/// empty file, a missing column, a row with the wrong number of fields, a cell that is not UTF-8
/// and an empty label.
pub fn read_labelled_csv(
    path: &Path,
    text_columns: &[String],
    label_column: &str,
) -> Result<Vec<(String, String)>> {
    let err = |message: String| TextError::Data {
        path: path.to_owned(),
        message,
    };
    if text_columns.is_empty() {
        return Err(err("no text column given".into()));
    }
    let file = std::fs::File::open(path).map_err(|source| TextError::Io {
        action: "open",
        path: path.to_owned(),
        source,
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(std::io::BufReader::new(file));
    let headers = rdr
        .byte_headers()
        .map_err(|e| err(format!("cannot read the header row: {e}")))?
        .clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        return Err(err("the file is empty (no header row)".into()));
    }
    let names: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = String::from_utf8_lossy(h).into_owned();
            let h = if i == 0 {
                h.trim_start_matches('\u{feff}').to_owned()
            } else {
                h
            };
            h.trim().to_owned()
        })
        .collect();
    let find = |want: &str| -> Result<usize> {
        names.iter().position(|n| n == want.trim()).ok_or_else(|| {
            err(format!(
                "no column named {want:?}; the columns are: {}",
                names.join(", ")
            ))
        })
    };
    let text_idx: Vec<usize> = text_columns
        .iter()
        .map(|c| find(c))
        .collect::<Result<_>>()?;
    let label_idx = find(label_column)?;

    let mut out = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        match rdr.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                return Err(match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => err(format!(
                        "line {line}: {len} fields where the header has {expected_len}"
                    )),
                    _ => err(format!("line {line}: {e}")),
                });
            }
        }
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let cell = |i: usize, col: &str| -> Result<&str> {
            std::str::from_utf8(&record[i]).map_err(|e| {
                err(format!(
                    "line {line}, column {col:?}: not valid UTF-8 (byte {} of the cell); \
                     save the file as UTF-8",
                    e.valid_up_to() + 1
                ))
            })
        };
        let mut text = String::new();
        for (&i, col) in text_idx.iter().zip(text_columns) {
            let v = cell(i, col)?;
            if !text.is_empty() && !v.is_empty() {
                text.push(' ');
            }
            text.push_str(v);
        }
        let label = cell(label_idx, label_column)?.trim();
        if label.is_empty() {
            return Err(err(format!(
                "line {line}: the label column {label_column:?} is empty"
            )));
        }
        out.push((text, label.to_owned()));
    }
    if out.is_empty() {
        return Err(err("the file has a header row but no data rows".into()));
    }
    Ok(out)
}

/// Splits `"title,detail"` into column names.
pub fn split_columns(spec: &str) -> Vec<String> {
    spec.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The shared data directory: `$JIESU_SHARED_DATA`, else `<workspace root>/../shared/data`
/// (the workspace root is looked for upwards from the current directory, then from this crate's
/// source directory).
pub fn shared_data_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("JIESU_SHARED_DATA") {
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    let from_cwd = std::env::current_dir()
        .ok()
        .and_then(|d| workspace_root(&d));
    let root = from_cwd
        .or_else(|| workspace_root(Path::new(env!("CARGO_MANIFEST_DIR"))))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."));
    root.join("..").join("shared").join("data")
}

fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|d| {
        let toml = std::fs::read_to_string(d.join("Cargo.toml")).ok()?;
        toml.contains("[workspace]").then(|| d.to_owned())
    })
}

/// The variable that turns a missing shared data file into a failure instead of a skip. `.ci/run`
/// sets it, so CI never skips the tests that read licensed third-party data.
pub const REQUIRE_SHARED_DATA_VAR: &str = "JIESU_REQUIRE_SHARED_DATA";

/// A data file that tests may read but the repository may not ship (its licence allows test use
/// only). `Some(path)` when it exists. When it is absent: prints one visible line
/// (`skipped: needs …`) and returns `None`, so the caller returns early — unless
/// [`REQUIRE_SHARED_DATA_VAR`] is set (CI), where it panics naming the file.
pub fn shared_test_file(path: PathBuf) -> Option<PathBuf> {
    if path.exists() {
        return Some(path);
    }
    let strict =
        std::env::var_os(REQUIRE_SHARED_DATA_VAR).is_some_and(|v| !v.is_empty() && v != "0");
    if strict {
        panic!(
            "test data {} is missing and {REQUIRE_SHARED_DATA_VAR} is set: put the shared data \
             beside the workspace or set JIESU_SHARED_DATA",
            path.display()
        );
    }
    eprintln!(
        "skipped: needs {}, set JIESU_SHARED_DATA to the shared data folder",
        path.display()
    );
    None
}

/// The labelled TipDM training file (`train_tokenized.csv`) under [`shared_data_dir`].
pub fn tipdm_train_file() -> PathBuf {
    shared_data_dir()
        .join("tipdm2020_gov_messages_labelled")
        .join("train_tokenized.csv")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("jiesu-text-data-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    fn cols(s: &str) -> Vec<String> {
        split_columns(s)
    }

    #[test]
    fn reads_and_joins_columns() {
        let p = write(
            "ok.csv",
            "\u{feff}id,title,detail,label\n1,停水,三天了,城乡建设\n2,\"学校, 收费\",,教育文体\n"
                .as_bytes(),
        );
        let rows = read_labelled_csv(&p, &cols("title,detail"), "label").unwrap();
        assert_eq!(
            rows,
            vec![
                ("停水 三天了".to_string(), "城乡建设".to_string()),
                ("学校, 收费".to_string(), "教育文体".to_string())
            ]
        );
    }

    #[test]
    fn clear_errors() {
        let msg =
            |p: &Path, t: &str, l: &str| read_labelled_csv(p, &cols(t), l).unwrap_err().to_string();
        let empty = write("empty.csv", b"");
        assert!(
            msg(&empty, "text", "label").contains("empty"),
            "{}",
            msg(&empty, "text", "label")
        );
        let header_only = write("header.csv", b"text,label\n");
        assert!(msg(&header_only, "text", "label").contains("no data rows"));
        let ok = write("ok2.csv", "text,label\n停水,城乡建设\n".as_bytes());
        let m = msg(&ok, "body", "label");
        assert!(
            m.contains("no column named \"body\"") && m.contains("text, label"),
            "{m}"
        );
        let nolabel = write(
            "nolabel.csv",
            "text,label\n停水,城乡建设\n停电, \n".as_bytes(),
        );
        let m = msg(&nolabel, "text", "label");
        assert!(m.contains("line 3") && m.contains("empty"), "{m}");
        let mut bad = b"text,label\n\xe5\x81\x9c,ok\n".to_vec();
        bad.extend_from_slice(b"\xff\xfe,x\n");
        let bad = write("bad.csv", &bad);
        let m = msg(&bad, "text", "label");
        assert!(m.contains("line 3") && m.contains("UTF-8"), "{m}");
        let ragged = write("ragged.csv", b"text,label\na,b,c\n");
        let m = msg(&ragged, "text", "label");
        assert!(m.contains("line 2") && m.contains("3 fields"), "{m}");
        let missing = std::env::temp_dir().join("jiesu-no-such-file.csv");
        assert!(msg(&missing, "text", "label").contains("cannot open"));
    }
}
