//! Excel (xlsx) exports: any CSV table this server produces (the scorecard, the duty catalogue)
//! written as a worksheet, numbers as numbers (codes stay text), with a bold, frozen header row.

use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// Converts a CSV document (first row = header) into an xlsx workbook with one worksheet.
pub fn csv_to_xlsx(csv_text: &str, sheet: &str) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet)?;
    let bold = Format::new().set_bold();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let mut text_cols: Vec<bool> = Vec::new();
    for (r, rec) in rdr.records().enumerate() {
        let Ok(rec) = rec else { continue };
        for (c, field) in rec.iter().enumerate() {
            let (row, col) = (r as u32, c as u16);
            if r == 0 {
                let h = field.to_ascii_lowercase();
                text_cols.push(
                    h.contains("code")
                        || h.contains("prefix")
                        || h == "number"
                        || h == "id"
                        || h.ends_with("_id"),
                );
                ws.write_string_with_format(row, col, field, &bold)?;
                continue;
            }
            let text = text_cols.get(c).copied().unwrap_or(false);
            // A leading zero ("010101", a category code) would be lost as a number: keep it text.
            let leading_zero =
                field.len() > 1 && field.starts_with('0') && !field.starts_with("0.");
            match field.parse::<f64>() {
                Ok(x) if !text && !leading_zero && x.is_finite() => {
                    ws.write_number(row, col, x)?;
                }
                _ if !field.is_empty() => {
                    ws.write_string(row, col, field)?;
                }
                _ => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    wb.save_to_buffer()
}

/// Whether bytes look like an xlsx workbook (a zip archive) rather than CSV text.
pub fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Why a workbook could not be read at all.
#[derive(Debug)]
pub struct XlsxReadError(pub String);

impl std::fmt::Display for XlsxReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "无法读取 xlsx 文件 / cannot read the xlsx file: {}",
            self.0
        )
    }
}

impl std::error::Error for XlsxReadError {}

/// One cell as the text a CSV file would hold: whole numbers without ".0", dates as `YYYY-MM-DD`
/// (a date typed into Excel is stored as a serial number), errors as `#ERROR` so validation
/// reports them on their row.
fn cell_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        Data::Float(x) => x.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Data::DateTime(dt) => match dt.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => t.date().to_string(),
            Some(t) => t.to_string(),
            None => dt.as_f64().to_string(),
        },
        Data::Error(e) => format!("#ERROR {e}"),
    }
}

/// Reads the first worksheet of an xlsx workbook as CSV text, row for row: line N of the CSV is
/// row N of the sheet, so an import report's line numbers are the spreadsheet's row numbers.
/// (calamine parses the workbook; turning it into CSV lets one validator serve both formats.)
pub fn xlsx_to_csv(bytes: &[u8]) -> Result<String, XlsxReadError> {
    use calamine::{Reader, Xlsx};
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes))
        .map_err(|e: calamine::XlsxError| XlsxReadError(e.to_string()))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| XlsxReadError("the workbook has no worksheet".into()))?
        .map_err(|e| XlsxReadError(e.to_string()))?;
    let mut out = String::new();
    // Rows above the used range are blank lines, so line numbers stay the sheet's row numbers.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    for _ in 0..first_row {
        out.push('\n');
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .flexible(true)
        .from_writer(Vec::new());
    for row in range.rows() {
        let mut fields: Vec<String> = vec![String::new(); first_col as usize];
        fields.extend(row.iter().map(cell_text));
        w.write_record(&fields)
            .map_err(|e| XlsxReadError(e.to_string()))?;
    }
    let bytes = w.into_inner().map_err(|e| XlsxReadError(e.to_string()))?;
    out.push_str(&String::from_utf8_lossy(&bytes));
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_csv_table_becomes_a_workbook() {
        let x = super::csv_to_xlsx("unit_code,name,rate\n110105001,建外街道,0.9\n", "t").unwrap();
        assert_eq!(&x[..2], b"PK", "an xlsx file is a zip archive");
        assert!(x.len() > 1000);
    }

    #[test]
    fn a_workbook_reads_back_as_the_same_csv() {
        let csv = "id,effective_from,priority,category_prefix,note\nR1,2025-01-01,0,010101,第一条\nR2,2025-03-01,5,02,\n";
        let x = super::csv_to_xlsx(csv, "派单目录").unwrap();
        assert!(super::is_xlsx(&x));
        assert_eq!(super::xlsx_to_csv(&x).unwrap(), csv);
    }

    #[test]
    fn a_file_that_is_not_a_workbook_is_refused_in_words() {
        let e = super::xlsx_to_csv(b"PK\x03\x04 not really a zip").unwrap_err();
        assert!(e.to_string().contains("xlsx"), "{e}");
    }
}

/// One cell of a [`Table`].
#[derive(Debug, Clone, PartialEq)]
pub enum TableCell {
    /// Text (codes stay text).
    Text(String),
    /// A number.
    Number(f64),
    /// A share 0–1, shown as a percentage with one decimal.
    Percent(f64),
    /// Nothing.
    Empty,
}

/// A named sheet of a workbook: a header row and rows of cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// The sheet's name (at most 31 characters, none of `[]:*?/\`).
    pub name: String,
    /// Column titles.
    pub header: Vec<String>,
    /// The rows.
    pub rows: Vec<Vec<TableCell>>,
}

/// Writes several tables as the sheets of one workbook (a report's tables), each with a bold,
/// frozen header row; percentages formatted as `0.0%`.
pub fn tables_to_xlsx(tables: &[Table]) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    for t in tables {
        let ws = wb.add_worksheet();
        ws.set_name(&t.name)?;
        for (c, h) in t.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                let c = c as u16;
                match cell {
                    TableCell::Text(s) => {
                        ws.write_string(r, c, s)?;
                    }
                    TableCell::Number(x) if x.is_finite() => {
                        ws.write_number(r, c, *x)?;
                    }
                    TableCell::Percent(x) if x.is_finite() => {
                        ws.write_number_with_format(r, c, *x, &pct)?;
                    }
                    _ => {}
                }
            }
        }
        ws.set_freeze_panes(1, 0)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod table_tests {
    use super::*;

    #[test]
    fn several_tables_become_sheets_that_read_back_in_order() {
        let t = |name: &str, v: f64| Table {
            name: name.into(),
            header: vec!["code".into(), "count".into(), "share".into()],
            rows: vec![vec![
                TableCell::Text("010".into()),
                TableCell::Number(v),
                TableCell::Percent(0.5),
            ]],
        };
        let bytes = tables_to_xlsx(&[t("总体情况", 12.0), t("各区", 3.0)]).unwrap();
        assert!(is_xlsx(&bytes));
        let csv = xlsx_to_csv(&bytes).unwrap();
        assert!(
            csv.contains("010,12"),
            "first sheet first, code kept as text: {csv}"
        );
    }
}
