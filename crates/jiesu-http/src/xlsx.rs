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
                text_cols
                    .push(h.contains("code") || h == "number" || h == "id" || h.ends_with("_id"));
                ws.write_string_with_format(row, col, field, &bold)?;
                continue;
            }
            let text = text_cols.get(c).copied().unwrap_or(false);
            match field.parse::<f64>() {
                Ok(x) if !text && x.is_finite() => {
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_csv_table_becomes_a_workbook() {
        let x = super::csv_to_xlsx("unit_code,name,rate\n110105001,建外街道,0.9\n", "t").unwrap();
        assert_eq!(&x[..2], b"PK", "an xlsx file is a zip archive");
        assert!(x.len() > 1000);
    }
}
