//! Parquet files of flat, typed, nullable columns: the ticket-fact export
//! (`jiesu export facts --format parquet`) and the file DuckDB reads in the scoring benchmark.
//!
//! Hand-built on the parquet crate's low-level API (a schema of primitive types, one typed column
//! writer per column) rather than its arrow writer: the `arrow` feature pulls in the arrow-array,
//! -buffer, -data, -schema, -select and -ipc crates, minutes of extra build on the workspace's two
//! cores, for a job that needs seven flat column types and nothing of arrow's compute. The writer
//! is built without arrow and with snappy as its only codec.
//!
//! Every column is OPTIONAL, so a `None` is a null (definition level 0). Text columns are
//! BYTE_ARRAY with the STRING logical type and dictionary encoding (the fact columns are
//! low-cardinality codes); dates are INT32 DATE, timestamps INT64 TIMESTAMP(MILLIS, UTC).
//! Values go to the column writers in batches, with no allocation per value, and the columns of a
//! row group are encoded on all cores at once (each into its own buffer, spliced into the file in
//! schema order), so tens of millions of rows take seconds.

use std::fmt;
use std::io::Write;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ::parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use ::parquet::column::writer::{
    get_column_writer, ColumnCloseResult, ColumnWriter, ColumnWriterImpl,
};
use ::parquet::data_type::{ByteArray, ByteArrayType, DataType};
use ::parquet::errors::ParquetError as FormatError;
use ::parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use ::parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use ::parquet::schema::types::{ColumnDescPtr, SchemaDescriptor, Type};
use bytes::Bytes;

/// The most rows [`write_parquet`] puts in one row group (2^20, the parquet crate's and DuckDB's
/// usual size: big enough for good compression, small enough to read in parallel).
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// Rows handed to a column writer per call: bounds the scratch buffers, whatever the row group's
/// size.
const BATCH_ROWS: usize = 64 * 1024;

/// One column chunk encoded in a buffer of its own, with the metadata its writer closed with.
type EncodedChunk = (Bytes, ColumnCloseResult);

/// A column's type, as fixed by a writer's schema (the variants of [`ColumnData`] without data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColumnKind {
    /// 64-bit signed integers (INT64).
    Int64,
    /// 32-bit signed integers (INT32).
    Int32,
    /// Booleans (BOOLEAN).
    Bool,
    /// UTF-8 text (BYTE_ARRAY, logical type STRING, dictionary-encoded).
    Utf8,
    /// Calendar dates as days since 1970-01-01 (INT32, logical type DATE).
    Date,
    /// Instants as milliseconds since the Unix epoch, UTC (INT64, logical type
    /// TIMESTAMP(MILLIS, isAdjustedToUTC=true)).
    TimestampMillis,
    /// 64-bit floats (DOUBLE).
    Float64,
}

/// One column's values, `None` for null.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// 64-bit signed integers.
    Int64(Vec<Option<i64>>),
    /// 32-bit signed integers.
    Int32(Vec<Option<i32>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
    /// UTF-8 text.
    Utf8(Vec<Option<String>>),
    /// Days since 1970-01-01 (written with the logical type DATE).
    Date(Vec<Option<i32>>),
    /// Milliseconds since the Unix epoch, UTC (written as TIMESTAMP(MILLIS, isAdjustedToUTC=true)).
    TimestampMillis(Vec<Option<i64>>),
    /// 64-bit floats.
    Float64(Vec<Option<f64>>),
}

impl ColumnData {
    /// The kind of values this column holds.
    pub fn kind(&self) -> ColumnKind {
        match self {
            ColumnData::Int64(_) => ColumnKind::Int64,
            ColumnData::Int32(_) => ColumnKind::Int32,
            ColumnData::Bool(_) => ColumnKind::Bool,
            ColumnData::Utf8(_) => ColumnKind::Utf8,
            ColumnData::Date(_) => ColumnKind::Date,
            ColumnData::TimestampMillis(_) => ColumnKind::TimestampMillis,
            ColumnData::Float64(_) => ColumnKind::Float64,
        }
    }

    /// The number of rows, nulls included.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Int64(v) | ColumnData::TimestampMillis(v) => v.len(),
            ColumnData::Int32(v) | ColumnData::Date(v) => v.len(),
            ColumnData::Bool(v) => v.len(),
            ColumnData::Utf8(v) => v.len(),
            ColumnData::Float64(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A named column, as handed to [`ParquetWriter::write_row_group`] and [`write_parquet`].
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The column's name in the file's schema.
    pub name: String,
    /// Its values.
    pub data: ColumnData,
}

impl Column {
    /// A column named `name` holding `data`.
    pub fn new(name: impl Into<String>, data: ColumnData) -> Self {
        Column {
            name: name.into(),
            data,
        }
    }
}

/// Why a Parquet file could not be written. The first three are caught before anything is written,
/// so the writer can still be used; after a [`ParquetError::Format`] the file is unusable.
#[derive(Debug)]
pub enum ParquetError {
    /// The columns of one write do not all have the same number of rows.
    LengthMismatch {
        /// The column whose length differs.
        column: String,
        /// Its number of rows.
        rows: usize,
        /// The first column, whose length the others must match.
        first: String,
        /// The first column's number of rows.
        first_rows: usize,
    },
    /// A column holds another kind of values than the schema fixed for it.
    KindMismatch {
        /// The column's name.
        column: String,
        /// The kind the schema gives it.
        expected: ColumnKind,
        /// The kind it holds.
        found: ColumnKind,
    },
    /// The schema is unusable (no column, a name twice), or a write's columns are not the schema's
    /// (a different count, name or order).
    Schema(String),
    /// The parquet crate failed to encode or to write (an IO error of the writer included).
    Format(FormatError),
}

impl fmt::Display for ParquetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParquetError::LengthMismatch {
                column,
                rows,
                first,
                first_rows,
            } => write!(
                f,
                "column \"{column}\" has {rows} rows, but column \"{first}\" has {first_rows}"
            ),
            ParquetError::KindMismatch {
                column,
                expected,
                found,
            } => write!(
                f,
                "column \"{column}\" holds {found:?} values, but the schema makes it {expected:?}"
            ),
            ParquetError::Schema(msg) => write!(f, "{msg}"),
            ParquetError::Format(e) => write!(f, "cannot write the Parquet file: {e}"),
        }
    }
}

impl std::error::Error for ParquetError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ParquetError::Format(e) => Some(e),
            _ => None,
        }
    }
}

impl From<FormatError> for ParquetError {
    fn from(e: FormatError) -> Self {
        ParquetError::Format(e)
    }
}

/// A Parquet file written as it goes: the schema is fixed at creation, then row groups are written
/// one at a time (each goes out to `W` when written, so memory holds one row group's encoded
/// columns at most), and [`ParquetWriter::finish`] writes the footer.
pub struct ParquetWriter<W: Write + Send> {
    file: SerializedFileWriter<W>,
    schema: Vec<(String, ColumnKind)>,
    /// The file schema's leaf columns, in schema order.
    leaves: Vec<ColumnDescPtr>,
    props: WriterPropertiesPtr,
    /// Threads that encode a row group's columns.
    threads: usize,
}

impl<W: Write + Send> ParquetWriter<W> {
    /// Starts a file on `w` with these columns, in this order; every column is nullable.
    /// Fails on an empty schema or a name given twice.
    pub fn new(w: W, schema: &[(&str, ColumnKind)]) -> Result<Self, ParquetError> {
        if schema.is_empty() {
            return Err(ParquetError::Schema(
                "a Parquet file needs at least one column".into(),
            ));
        }
        let mut fields = Vec::with_capacity(schema.len());
        for (i, (name, kind)) in schema.iter().enumerate() {
            if schema[..i].iter().any(|(n, _)| n == name) {
                return Err(ParquetError::Schema(format!(
                    "column \"{name}\" appears twice in the schema"
                )));
            }
            fields.push(Arc::new(field_type(name, *kind)?));
        }
        let root = Arc::new(
            Type::group_type_builder("schema")
                .with_fields(fields)
                .build()?,
        );
        let leaves = SchemaDescriptor::new(root.clone()).columns().to_vec();
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_dictionary_enabled(true)
                .build(),
        );
        let file = SerializedFileWriter::new(w, root, props.clone())?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Ok(ParquetWriter {
            file,
            schema: schema.iter().map(|(n, k)| (n.to_string(), *k)).collect(),
            leaves,
            props,
            threads: cores.min(schema.len()),
        })
    }

    /// Writes one row group: one column per schema column, in the schema's order, all of one
    /// length. A mismatch (count, name, order, kind or length) is refused, naming the column,
    /// before anything is written. A row group of no rows is skipped.
    pub fn write_row_group(&mut self, columns: &[Column]) -> Result<(), ParquetError> {
        let rows = self.check(columns)?;
        self.write_rows(columns, 0..rows)
    }

    /// Writes the footer and hands back the writer (flushed).
    pub fn finish(self) -> Result<W, ParquetError> {
        Ok(self.file.into_inner()?)
    }

    /// The number of rows of `columns`, once they are found to match the schema.
    fn check(&self, columns: &[Column]) -> Result<usize, ParquetError> {
        if columns.len() != self.schema.len() {
            let names: Vec<&str> = self.schema.iter().map(|(n, _)| n.as_str()).collect();
            return Err(ParquetError::Schema(format!(
                "the schema has {} columns ({}), but {} were given",
                self.schema.len(),
                names.join(", "),
                columns.len()
            )));
        }
        for (i, (col, (name, kind))) in columns.iter().zip(&self.schema).enumerate() {
            if col.name != *name {
                return Err(ParquetError::Schema(format!(
                    "column {} is \"{}\", but the schema has \"{name}\" there",
                    i + 1,
                    col.name
                )));
            }
            if col.data.kind() != *kind {
                return Err(ParquetError::KindMismatch {
                    column: name.clone(),
                    expected: *kind,
                    found: col.data.kind(),
                });
            }
        }
        same_length(columns)
    }

    /// Writes rows `rows` of `columns` (already checked) as one row group: the columns are encoded
    /// in parallel, each into a buffer of its own, then spliced into the file in schema order.
    fn write_rows(&mut self, columns: &[Column], rows: Range<usize>) -> Result<(), ParquetError> {
        if rows.is_empty() {
            return Ok(());
        }
        let chunks = self.encode(columns, rows)?;
        let mut group = self.file.next_row_group()?;
        for (bytes, close) in chunks {
            group.append_column(&bytes, close)?;
        }
        group.close()?;
        Ok(())
    }

    /// Encodes rows `rows` of every column, on `self.threads` threads, each taking the next
    /// column not yet taken. Returns the encoded chunks in schema order.
    fn encode(
        &self,
        columns: &[Column],
        rows: Range<usize>,
    ) -> Result<Vec<EncodedChunk>, FormatError> {
        // Borrow the parts the threads need, not `self`: the file's writer need not be `Sync`.
        let (leaves, props) = (&self.leaves, &self.props);
        let one = |i: usize| {
            encode_column(
                leaves[i].clone(),
                props.clone(),
                &columns[i].data,
                rows.clone(),
            )
        };
        if self.threads <= 1 {
            return (0..columns.len()).map(one).collect();
        }
        let next = AtomicUsize::new(0);
        let mut done: Vec<(usize, Result<EncodedChunk, FormatError>)> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..self.threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= columns.len() {
                                return mine;
                            }
                            mine.push((i, one(i)));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, chunk)| chunk).collect()
    }
}

/// Writes `columns` as a whole Parquet file on `w`, in row groups of at most [`ROW_GROUP_ROWS`]
/// rows, and hands back the writer. The schema is the columns' names and kinds, in their order.
/// Columns of different lengths are refused, naming the column, before anything is written.
pub fn write_parquet<W: Write + Send>(w: W, columns: &[Column]) -> Result<W, ParquetError> {
    let rows = same_length(columns)?;
    let schema: Vec<(&str, ColumnKind)> = columns
        .iter()
        .map(|c| (c.name.as_str(), c.data.kind()))
        .collect();
    let mut writer = ParquetWriter::new(w, &schema)?;
    for start in (0..rows).step_by(ROW_GROUP_ROWS) {
        writer.write_rows(columns, start..rows.min(start + ROW_GROUP_ROWS))?;
    }
    writer.finish()
}

/// The schema field for one column: OPTIONAL, with the physical and logical type of its kind.
fn field_type(name: &str, kind: ColumnKind) -> Result<Type, FormatError> {
    let (physical, logical) = match kind {
        ColumnKind::Int64 => (PhysicalType::INT64, None),
        ColumnKind::Int32 => (PhysicalType::INT32, None),
        ColumnKind::Bool => (PhysicalType::BOOLEAN, None),
        ColumnKind::Utf8 => (PhysicalType::BYTE_ARRAY, Some(LogicalType::String)),
        ColumnKind::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
        ColumnKind::TimestampMillis => (
            PhysicalType::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
        ),
        ColumnKind::Float64 => (PhysicalType::DOUBLE, None),
    };
    Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
}

/// One column chunk: rows `rows` of `data` encoded by the parquet crate's typed column writer into
/// a buffer of its own (page offsets relative to the buffer, as `append_column` expects).
fn encode_column(
    leaf: ColumnDescPtr,
    props: WriterPropertiesPtr,
    data: &ColumnData,
    rows: Range<usize>,
) -> Result<EncodedChunk, FormatError> {
    let mut sink = TrackedWrite::new(Vec::new());
    let mut writer = get_column_writer(leaf, props, Box::new(SerializedPageWriter::new(&mut sink)));
    let mut levels = Vec::with_capacity(rows.len().min(BATCH_ROWS));
    match (&mut writer, data) {
        (ColumnWriter::Int64ColumnWriter(w), ColumnData::Int64(v))
        | (ColumnWriter::Int64ColumnWriter(w), ColumnData::TimestampMillis(v)) => {
            write_copied(w, &v[rows], &mut levels)?
        }
        (ColumnWriter::Int32ColumnWriter(w), ColumnData::Int32(v))
        | (ColumnWriter::Int32ColumnWriter(w), ColumnData::Date(v)) => {
            write_copied(w, &v[rows], &mut levels)?
        }
        (ColumnWriter::BoolColumnWriter(w), ColumnData::Bool(v)) => {
            write_copied(w, &v[rows], &mut levels)?
        }
        (ColumnWriter::DoubleColumnWriter(w), ColumnData::Float64(v)) => {
            write_copied(w, &v[rows], &mut levels)?
        }
        (ColumnWriter::ByteArrayColumnWriter(w), ColumnData::Utf8(v)) => {
            write_strings(w, &v[rows], &mut levels)?
        }
        // The writer was chosen by the schema, which `check` compared every column's kind with.
        _ => unreachable!("a column's kind is checked against the schema"),
    }
    let close = writer.close()?;
    Ok((Bytes::from(sink.into_inner()?), close))
}

/// The common number of rows of `columns`, or the first column whose length differs.
fn same_length(columns: &[Column]) -> Result<usize, ParquetError> {
    let Some(first) = columns.first() else {
        return Ok(0);
    };
    let first_rows = first.data.len();
    match columns.iter().find(|c| c.data.len() != first_rows) {
        Some(c) => Err(ParquetError::LengthMismatch {
            column: c.name.clone(),
            rows: c.data.len(),
            first: first.name.clone(),
            first_rows,
        }),
        None => Ok(first_rows),
    }
}

/// Writes fixed-width values: per batch, the non-null values packed in one buffer and one
/// definition level per row (1 = value, 0 = null).
fn write_copied<T: DataType>(
    w: &mut ColumnWriterImpl<'_, T>,
    data: &[Option<T::T>],
    levels: &mut Vec<i16>,
) -> Result<(), FormatError>
where
    T::T: Copy,
{
    let mut values: Vec<T::T> = Vec::with_capacity(data.len().min(BATCH_ROWS));
    for batch in data.chunks(BATCH_ROWS) {
        values.clear();
        values.extend(batch.iter().flatten().copied());
        levels.clear();
        levels.extend(batch.iter().map(|v| i16::from(v.is_some())));
        w.write_batch(&values, Some(levels), None)?;
    }
    Ok(())
}

/// Writes text: per batch, the non-null strings' bytes are copied into one buffer and each value
/// is a slice of it (a reference count, not an allocation), with one definition level per row.
fn write_strings(
    w: &mut ColumnWriterImpl<'_, ByteArrayType>,
    data: &[Option<String>],
    levels: &mut Vec<i16>,
) -> Result<(), FormatError> {
    let mut values: Vec<ByteArray> = Vec::with_capacity(data.len().min(BATCH_ROWS));
    for batch in data.chunks(BATCH_ROWS) {
        let total: usize = batch.iter().flatten().map(String::len).sum();
        let mut bytes = Vec::with_capacity(total);
        for s in batch.iter().flatten() {
            bytes.extend_from_slice(s.as_bytes());
        }
        let buffer = ByteArray::from(bytes);
        values.clear();
        let mut at = 0;
        for s in batch.iter().flatten() {
            values.push(buffer.slice(at, s.len()));
            at += s.len();
        }
        levels.clear();
        levels.extend(batch.iter().map(|v| i16::from(v.is_some())));
        w.write_batch(&values, Some(levels), None)?;
    }
    Ok(())
}
