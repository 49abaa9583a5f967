//! The Parquet writer, checked by reading its files back with the parquet crate's own reader.

use bytes::Bytes;
use jiesu_io::{
    write_parquet, Column, ColumnData, ColumnKind, ParquetError, ParquetWriter, ROW_GROUP_ROWS,
};
use parquet::basic::{Compression, Encoding, LogicalType, Repetition, TimeUnit};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

const SCHEMA: [(&str, ColumnKind); 7] = [
    ("ticket_id", ColumnKind::Int64),
    ("tier", ColumnKind::Int32),
    ("satisfied", ColumnKind::Bool),
    ("category_code", ColumnKind::Utf8),
    ("opened_on", ColumnKind::Date),
    ("closed_at", ColumnKind::TimestampMillis),
    ("score", ColumnKind::Float64),
];

/// One row group of every kind; `rows` rows, roughly every third value of each column null.
fn every_kind(rows: usize, seed: i64) -> Vec<Column> {
    let null_every = |col: usize, i: usize| (i + col) % 3 == 0;
    let ints: Vec<Option<i64>> = (0..rows)
        .map(|i| (!null_every(0, i)).then(|| seed * 1_000_000 + i as i64))
        .collect();
    let mut extremes = ints.clone();
    if rows >= 3 {
        extremes[1] = Some(i64::MIN);
        extremes[2] = Some(i64::MAX);
    }
    vec![
        Column::new("ticket_id", ColumnData::Int64(extremes)),
        Column::new(
            "tier",
            ColumnData::Int32(
                (0..rows)
                    .map(|i| (!null_every(1, i)).then_some(i as i32 % 4 - 1))
                    .collect(),
            ),
        ),
        Column::new(
            "satisfied",
            ColumnData::Bool(
                (0..rows)
                    .map(|i| (!null_every(2, i)).then_some(i % 2 == 0))
                    .collect(),
            ),
        ),
        Column::new(
            "category_code",
            ColumnData::Utf8(
                (0..rows)
                    .map(|i| {
                        (!null_every(3, i)).then(|| match i % 4 {
                            0 => "010101".to_string(),
                            1 => "市容环境/占道经营".to_string(),
                            2 => String::new(),
                            _ => format!("{seed}-{}", i % 7),
                        })
                    })
                    .collect(),
            ),
        ),
        Column::new(
            "opened_on",
            ColumnData::Date(
                (0..rows)
                    // 2025-01-01 is day 20089; a date before 1970 too.
                    .map(|i| {
                        (!null_every(4, i)).then_some(20089 + i as i32 - 30_000 * (i % 2) as i32)
                    })
                    .collect(),
            ),
        ),
        Column::new(
            "closed_at",
            ColumnData::TimestampMillis(
                (0..rows)
                    .map(|i| (!null_every(5, i)).then_some(1_735_660_800_123 + i as i64 * 61_001))
                    .collect(),
            ),
        ),
        Column::new(
            "score",
            ColumnData::Float64(
                (0..rows)
                    .map(|i| {
                        (!null_every(6, i)).then_some(match i % 5 {
                            0 => f64::NAN,
                            1 => f64::NEG_INFINITY,
                            2 => -0.0,
                            _ => i as f64 / 3.0,
                        })
                    })
                    .collect(),
            ),
        ),
    ]
}

/// What the parquet crate's row reader should give for row `i` of `data`.
fn expected(data: &ColumnData, i: usize) -> Field {
    match data {
        ColumnData::Int64(v) => v[i].map_or(Field::Null, Field::Long),
        ColumnData::Int32(v) => v[i].map_or(Field::Null, Field::Int),
        ColumnData::Bool(v) => v[i].map_or(Field::Null, Field::Bool),
        ColumnData::Utf8(v) => v[i].clone().map_or(Field::Null, Field::Str),
        ColumnData::Date(v) => v[i].map_or(Field::Null, Field::Date),
        ColumnData::TimestampMillis(v) => v[i].map_or(Field::Null, Field::TimestampMillis),
        ColumnData::Float64(v) => v[i].map_or(Field::Null, Field::Double),
    }
}

/// Exact equality, floats bit for bit (so NaN equals NaN and -0.0 differs from 0.0).
fn same(a: &Field, b: &Field) -> bool {
    match (a, b) {
        (Field::Double(x), Field::Double(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Reads every row of a file and compares it, value for value, with the groups written.
fn assert_reads_back(file: Vec<u8>, groups: &[Vec<Column>]) -> SerializedFileReader<Bytes> {
    let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
    let mut rows = reader.get_row_iter(None).unwrap();
    for (g, group) in groups.iter().enumerate() {
        for i in 0..group[0].data.len() {
            let row = rows.next().expect("a row per row written").unwrap();
            let got: Vec<(&String, &Field)> = row.get_column_iter().collect();
            assert_eq!(got.len(), group.len());
            for ((name, field), col) in got.into_iter().zip(group) {
                assert_eq!(name, &col.name);
                let want = expected(&col.data, i);
                assert!(
                    same(field, &want),
                    "row group {g}, row {i}, column {name}: read {field:?}, wrote {want:?}"
                );
            }
        }
    }
    assert!(rows.next().is_none(), "no more rows than written");
    reader
}

#[test]
fn every_kind_round_trips_with_nulls_across_row_groups() {
    let groups = [every_kind(1000, 1), every_kind(77, 2)];
    let mut w = ParquetWriter::new(Vec::new(), &SCHEMA).unwrap();
    for g in &groups {
        w.write_row_group(g).unwrap();
    }
    let file = w.finish().unwrap();
    assert_eq!(&file[..4], b"PAR1");

    let reader = assert_reads_back(file, &groups);
    let meta = reader.metadata();
    assert_eq!(meta.num_row_groups(), 2);
    assert_eq!(meta.row_group(0).num_rows(), 1000);
    assert_eq!(meta.row_group(1).num_rows(), 77);
    assert_eq!(meta.file_metadata().num_rows(), 1077);
}

#[test]
fn the_schema_carries_nullable_columns_with_logical_types() {
    let file = write_parquet(Vec::new(), &every_kind(10, 1)).unwrap();
    let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let logical: Vec<Option<LogicalType>> = (0..schema.num_columns())
        .map(|i| schema.column(i).logical_type_ref().cloned())
        .collect();
    assert_eq!(
        logical,
        [
            None,
            None,
            None,
            Some(LogicalType::String),
            Some(LogicalType::Date),
            Some(LogicalType::timestamp(true, TimeUnit::MILLIS)),
            None,
        ]
    );
    assert_eq!(schema.num_columns(), SCHEMA.len());
    for (c, (name, _)) in schema.columns().iter().zip(SCHEMA) {
        assert_eq!(c.name(), name);
        assert_eq!(
            c.self_type().get_basic_info().repetition(),
            Repetition::OPTIONAL
        );
        assert_eq!(c.max_def_level(), 1);
    }
}

#[test]
fn text_columns_are_dictionary_encoded_and_every_column_snappy_compressed() {
    let file = write_parquet(Vec::new(), &every_kind(5000, 1)).unwrap();
    let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
    let group = reader.metadata().row_group(0);
    for i in 0..group.num_columns() {
        assert_eq!(group.column(i).compression(), Compression::SNAPPY);
    }
    let text = group.column(3);
    assert_eq!(text.column_descr().name(), "category_code");
    assert!(
        text.dictionary_page_offset().is_some()
            && text
                .encodings()
                .any(|e| matches!(e, Encoding::RLE_DICTIONARY | Encoding::PLAIN_DICTIONARY)),
        "encodings {:?}",
        text.encodings().collect::<Vec<_>>()
    );
}

#[test]
fn write_parquet_splits_into_row_groups_of_at_most_2_pow_20_rows() {
    let rows = ROW_GROUP_ROWS + 3;
    let ids: Vec<Option<i32>> = (0..rows as i32)
        .map(|i| (i % 10 != 0).then_some(i))
        .collect();
    let table = [Column::new("id", ColumnData::Int32(ids.clone()))];
    let file = write_parquet(Vec::new(), &table).unwrap();
    let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
    let meta = reader.metadata();
    assert_eq!(meta.num_row_groups(), 2);
    assert_eq!(meta.row_group(0).num_rows(), ROW_GROUP_ROWS as i64);
    assert_eq!(meta.row_group(1).num_rows(), 3);
    let back: Vec<Option<i32>> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| match r.unwrap().get_column_iter().next().unwrap().1 {
            Field::Int(x) => Some(*x),
            Field::Null => None,
            f => panic!("{f:?}"),
        })
        .collect();
    assert!(back == ids, "the values read back are the values written");
}

#[test]
fn an_empty_table_is_a_valid_file_without_row_groups() {
    let table = [
        Column::new("a", ColumnData::Utf8(vec![])),
        Column::new("b", ColumnData::Date(vec![])),
    ];
    let file = write_parquet(Vec::new(), &table).unwrap();
    let reader = SerializedFileReader::new(Bytes::from(file)).unwrap();
    assert_eq!(reader.metadata().num_row_groups(), 0);
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
    assert_eq!(
        reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .num_columns(),
        2
    );
}

#[test]
fn mismatched_lengths_are_refused_naming_the_column() {
    let table = [
        Column::new("ticket_id", ColumnData::Int64(vec![Some(1), Some(2), None])),
        Column::new("unit_code", ColumnData::Utf8(vec![Some("a".into()), None])),
    ];
    let e = write_parquet(Vec::new(), &table).unwrap_err();
    assert!(
        matches!(e, ParquetError::LengthMismatch { ref column, rows: 2, .. } if column == "unit_code")
    );
    assert_eq!(
        e.to_string(),
        "column \"unit_code\" has 2 rows, but column \"ticket_id\" has 3"
    );

    let mut w = ParquetWriter::new(
        Vec::new(),
        &[
            ("ticket_id", ColumnKind::Int64),
            ("unit_code", ColumnKind::Utf8),
        ],
    )
    .unwrap();
    let e = w.write_row_group(&table).unwrap_err();
    assert!(e.to_string().contains("\"unit_code\""), "{e}");
}

#[test]
fn a_kind_other_than_the_schema_is_refused_naming_the_column_and_the_writer_goes_on() {
    let mut w = ParquetWriter::new(
        Vec::new(),
        &[
            ("id", ColumnKind::Int64),
            ("closed_at", ColumnKind::TimestampMillis),
        ],
    )
    .unwrap();
    let wrong = [
        Column::new("id", ColumnData::Int64(vec![Some(1)])),
        Column::new("closed_at", ColumnData::Int64(vec![Some(5)])),
    ];
    let e = w.write_row_group(&wrong).unwrap_err();
    assert_eq!(
        e.to_string(),
        "column \"closed_at\" holds Int64 values, but the schema makes it TimestampMillis"
    );

    let right = vec![
        Column::new("id", ColumnData::Int64(vec![Some(1), None])),
        Column::new(
            "closed_at",
            ColumnData::TimestampMillis(vec![None, Some(5)]),
        ),
    ];
    w.write_row_group(&right).unwrap();
    assert_reads_back(w.finish().unwrap(), &[right]);
}

#[test]
fn columns_other_than_the_schema_are_refused_naming_them() {
    let mut w = ParquetWriter::new(
        Vec::new(),
        &[("a", ColumnKind::Bool), ("b", ColumnKind::Bool)],
    )
    .unwrap();
    let swapped = [
        Column::new("b", ColumnData::Bool(vec![None])),
        Column::new("a", ColumnData::Bool(vec![None])),
    ];
    let e = w.write_row_group(&swapped).unwrap_err();
    assert_eq!(
        e.to_string(),
        "column 1 is \"b\", but the schema has \"a\" there"
    );

    let e = w.write_row_group(&swapped[..1]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the schema has 2 columns (a, b), but 1 were given"
    );
}

#[test]
fn a_schema_without_columns_or_with_a_name_twice_is_refused() {
    let e = ParquetWriter::new(Vec::new(), &[]).err().unwrap();
    assert!(matches!(e, ParquetError::Schema(_)), "{e}");
    let e = ParquetWriter::new(
        Vec::new(),
        &[("a", ColumnKind::Int32), ("a", ColumnKind::Utf8)],
    )
    .err()
    .unwrap();
    assert_eq!(e.to_string(), "column \"a\" appears twice in the schema");
}

/// The write speed in release mode, by hand:
/// `cargo test --release -p jiesu-io --test parquet -- --ignored --nocapture`.
/// Ten million rows of ten fact-like columns (ids, codes, dates, timestamps, flags, a float),
/// written into memory; `JIESU_PARQUET_BENCH_OUT=path` also saves the file (to read with DuckDB).
#[test]
#[ignore = "a timing, run by hand in release mode"]
fn ten_million_rows_of_ten_columns_write_in_seconds() {
    let rows = 10_000_000usize;
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut cols: [Vec<u64>; 8] = Default::default();
    for c in cols.iter_mut() {
        c.reserve(rows);
    }
    for _ in 0..rows {
        for c in cols.iter_mut() {
            c.push(rnd());
        }
    }
    let units: Vec<String> = (0..3000).map(|u| format!("1101{u:05}")).collect();
    let cats: Vec<String> = (0..400)
        .map(|c| format!("{:02}{:02}{:02}", c / 100, c / 10 % 10, c % 10))
        .collect();
    let cities = ["110000", "310000", "440100", "440300"];
    let t0 = 1_735_660_800_000i64;
    let table = vec![
        Column::new(
            "ticket_id",
            ColumnData::Int64((0..rows as i64).map(Some).collect()),
        ),
        Column::new(
            "city",
            ColumnData::Utf8(
                cols[0]
                    .iter()
                    .map(|r| Some(cities[*r as usize % 4].to_string()))
                    .collect(),
            ),
        ),
        Column::new(
            "unit_code",
            ColumnData::Utf8(
                cols[1]
                    .iter()
                    .map(|r| Some(units[*r as usize % units.len()].clone()))
                    .collect(),
            ),
        ),
        Column::new(
            "category_code",
            ColumnData::Utf8(
                cols[2]
                    .iter()
                    .map(|r| (r % 50 != 0).then(|| cats[*r as usize % cats.len()].clone()))
                    .collect(),
            ),
        ),
        Column::new(
            "opened_on",
            ColumnData::Date(
                cols[3]
                    .iter()
                    .map(|r| Some(20089 + (r % 31) as i32))
                    .collect(),
            ),
        ),
        Column::new(
            "opened_at",
            ColumnData::TimestampMillis((0..rows).map(|i| Some(t0 + i as i64 * 260)).collect()),
        ),
        Column::new(
            "closed_at",
            ColumnData::TimestampMillis(
                cols[4]
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        (r % 10 != 0).then_some(t0 + i as i64 * 260 + (r % 864_000_000) as i64)
                    })
                    .collect(),
            ),
        ),
        Column::new(
            "tier",
            ColumnData::Int32(cols[5].iter().map(|r| Some((r % 3) as i32)).collect()),
        ),
        Column::new(
            "satisfied",
            ColumnData::Bool(
                cols[6]
                    .iter()
                    .map(|r| (r % 4 != 0).then_some(r % 5 != 0))
                    .collect(),
            ),
        ),
        Column::new(
            "hours",
            ColumnData::Float64(
                cols[7]
                    .iter()
                    .map(|r| (r % 10 != 0).then_some((r % 100_000) as f64 / 100.0))
                    .collect(),
            ),
        ),
    ];
    drop(cols);
    let start = std::time::Instant::now();
    let file = write_parquet(Vec::with_capacity(512 << 20), &table).unwrap();
    let took = start.elapsed();
    println!(
        "wrote {rows} rows x {} columns in {:.2} s: {:.1} MB, {} row groups",
        table.len(),
        took.as_secs_f64(),
        file.len() as f64 / 1e6,
        rows.div_ceil(ROW_GROUP_ROWS)
    );
    if let Ok(path) = std::env::var("JIESU_PARQUET_BENCH_OUT") {
        std::fs::write(path, &file).unwrap();
    }
}
