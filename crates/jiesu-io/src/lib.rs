//! # jiesu-io
//!
//! File formats beside CSV, kept out of the HTTP crate so the server and the CLI share them:
//!
//! - [`xlsx`] — any CSV table as an Excel worksheet, and an uploaded workbook back as CSV (row N
//!   of the sheet = line N, so import reports name spreadsheet rows).

pub mod xlsx;
