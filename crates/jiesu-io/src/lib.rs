//! # jiesu-io
//!
//! File formats beside CSV, kept out of the HTTP crate so the server and the CLI share them:
//!
//! - [`xlsx`] — any CSV table as an Excel worksheet, and an uploaded workbook back as CSV (row N
//!   of the sheet = line N, so import reports name spreadsheet rows).
//! - [`parquet`] — typed, nullable columns written as a Parquet file, row group by row group
//!   (the ticket-fact export, and the file DuckDB reads in the scoring benchmark).

pub mod parquet;
pub mod xlsx;

pub use crate::parquet::{
    write_parquet, Column, ColumnData, ColumnKind, ParquetError, ParquetWriter, ROW_GROUP_ROWS,
};
