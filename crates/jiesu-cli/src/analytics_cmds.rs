//! `jiesu export facts` and `jiesu report …`: the data platform from the command line. The facts
//! are read through the store's `AnalyticsStore` (every month once), the report is computed by
//! `jiesu_analytics`, and the files are written by `jiesu_io`.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_analytics::export::{self, Kind, Values, COLUMNS};
use jiesu_analytics::render;
use jiesu_analytics::report::{hotline_report, report_period, ReportContext};
use jiesu_analytics::TicketFacts;
use jiesu_io::{ColumnData, ColumnKind, ParquetWriter};
use jiesu_store::{refresh_facts, FactsState, Store};
use std::io::Write;
use std::path::{Path, PathBuf};

/// File format of `export facts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FactsFormat {
    Parquet,
    Csv,
}

/// `jiesu export facts`.
#[derive(clap::Args, Debug, Clone)]
pub struct ExportFactsArgs {
    #[arg(long)]
    pub db: PathBuf,
    /// First city day (YYYY-MM-DD) or month (YYYY-MM) included.
    #[arg(long)]
    pub from: String,
    /// First city day (YYYY-MM-DD) or month (YYYY-MM) not included.
    #[arg(long)]
    pub to: String,
    #[arg(long, value_enum, default_value_t = FactsFormat::Parquet)]
    pub format: FactsFormat,
    /// The file to write (CSV: standard output when left out).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Json,
    Html,
    Xlsx,
}

/// `jiesu report …`.
#[derive(clap::Subcommand, Debug, Clone)]
pub enum ReportCmd {
    /// 热线数据报告 — the seed's 专项报告四 regenerated from the data: 一 总体情况, 二 前十类问题,
    /// 三 承办情况 (by unit kind, district and functional zone).
    Hotline {
        #[arg(long)]
        db: PathBuf,
        /// First month, YYYY-MM (city time).
        #[arg(long)]
        from: String,
        /// Last month included, YYYY-MM.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
        format: ReportFormat,
        /// The file to write (JSON and HTML: standard output when left out).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// Every ticket's facts in the store.
pub fn load_facts(store: &dyn Store, now: DateTime<Utc>) -> Result<TicketFacts> {
    let zone = store.city_zone()?;
    let mut facts = TicketFacts::new();
    let mut state = FactsState::default();
    refresh_facts(
        store,
        &mut facts,
        &mut state,
        &zone,
        now,
        chrono::Duration::minutes(10),
        Some(&jiesu_store::fact_spill::dir_for(store.path())),
    )?;
    Ok(facts)
}

/// Names of the store's units (which include the places), and Beijing's functional zones when
/// the city's districts are Beijing's (shipped reference data; another city has none).
pub fn report_context(store: &dyn Store) -> Result<ReportContext> {
    let units = store.units()?;
    let names: std::collections::HashMap<String, String> = units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let districts = jiesu_refdata::divisions::districts();
    let mut zones: Vec<(String, Vec<String>)> = Vec::new();
    if districts.iter().all(|d| names.contains_key(&d.code)) {
        for d in districts {
            let label = d.zone.label_zh().to_string();
            match zones.iter_mut().find(|z| z.0 == label) {
                Some(z) => z.1.push(d.code.clone()),
                None => zones.push((label, vec![d.code.clone()])),
            }
        }
    }
    Ok(ReportContext { names, zones })
}

fn city_day(s: &str, what: &str) -> Result<NaiveDate> {
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d);
    }
    if let Some(m) = jiesu_analytics::LocalMonth::parse(s) {
        return Ok(m.first_day());
    }
    bail!("--{what} '{s}' is not a day (YYYY-MM-DD) or a month (YYYY-MM)")
}

/// The Parquet schema of the exported facts ([`COLUMNS`] with their Parquet kinds); also the
/// schema `bench report` writes.
pub fn parquet_schema() -> Vec<(&'static str, ColumnKind)> {
    COLUMNS
        .iter()
        .map(|(n, k)| {
            (
                *n,
                match k {
                    Kind::Int => ColumnKind::Int64,
                    Kind::Text => ColumnKind::Utf8,
                    Kind::Bool => ColumnKind::Bool,
                    Kind::Float => ColumnKind::Float64,
                    Kind::Date => ColumnKind::Date,
                },
            )
        })
        .collect()
}

fn to_column(v: Values) -> ColumnData {
    match v {
        Values::Int(v) => ColumnData::Int64(v),
        Values::Text(v) => ColumnData::Utf8(v),
        Values::Bool(v) => ColumnData::Bool(v),
        Values::Float(v) => ColumnData::Float64(v),
        Values::Date(v) => {
            let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
            ColumnData::Date(
                v.into_iter()
                    .map(|d| d.map(|d| (d - epoch).num_days() as i32))
                    .collect(),
            )
        }
    }
}

fn csv_cell(v: &Values, i: usize) -> String {
    match v {
        Values::Int(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
        Values::Text(v) => v[i].clone().unwrap_or_default(),
        Values::Bool(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
        Values::Float(v) => v[i].map(|x| format!("{x:.4}")).unwrap_or_default(),
        Values::Date(v) => v[i].map(|x| x.to_string()).unwrap_or_default(),
    }
}

/// Runs `jiesu export facts`; returns the rows written.
pub fn run_export_facts(a: &ExportFactsArgs, now: DateTime<Utc>) -> Result<u64> {
    let (from, to) = (city_day(&a.from, "from")?, city_day(&a.to, "to")?);
    if from >= to {
        bail!("--to ({}) must be after --from ({})", a.to, a.from);
    }
    if a.format == FactsFormat::Parquet && a.out.is_none() {
        bail!("a Parquet export needs --out FILE (it is binary)");
    }
    let store = crate::open_existing(&a.db)?;
    let t0 = std::time::Instant::now();
    let facts = load_facts(&*store, now)?;
    let tree = jiesu_domain::category::CategoryTree::new(store.categories()?);
    let engine = export::engine(&facts, &tree);
    let months = export::months_in(&facts, from, to);
    let mut rows = 0u64;
    match a.format {
        FactsFormat::Parquet => {
            let path = a.out.as_ref().expect("checked above");
            let file = std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?;
            let schema = parquet_schema();
            let mut w = ParquetWriter::new(std::io::BufWriter::new(file), &schema)?;
            for m in months {
                if let Some(cols) = export::month_columns(&engine, m, from, to)? {
                    let cols: Vec<jiesu_io::Column> = COLUMNS
                        .iter()
                        .zip(cols)
                        .map(|((n, _), v)| jiesu_io::Column::new(*n, to_column(v)))
                        .collect();
                    rows += cols[0].data.len() as u64;
                    w.write_row_group(&cols)?;
                }
            }
            w.finish()?.flush()?;
        }
        FactsFormat::Csv => {
            let mut out: Box<dyn Write> = match &a.out {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record(COLUMNS.iter().map(|c| c.0))?;
            for m in months {
                if let Some(cols) = export::month_columns(&engine, m, from, to)? {
                    let n = match &cols[0] {
                        Values::Int(v) => v.len(),
                        _ => 0,
                    };
                    for i in 0..n {
                        w.write_record(cols.iter().map(|c| csv_cell(c, i)))?;
                    }
                    rows += n as u64;
                }
            }
            w.flush()?;
        }
    }
    eprintln!(
        "exported {rows} ticket facts ({} columns, no personal data) in {:.1} s",
        COLUMNS.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(rows)
}

/// Runs `jiesu export open-data` (the same file as `GET /api/v1/public/open-data`).
pub fn run_export_open_data(a: &ExportFactsArgs, now: DateTime<Utc>) -> Result<()> {
    let (from, to) = (city_day(&a.from, "from")?, city_day(&a.to, "to")?);
    if from >= to {
        bail!("--to ({}) must be after --from ({})", a.to, a.from);
    }
    if a.format == FactsFormat::Parquet && a.out.is_none() {
        bail!("a Parquet export needs --out FILE (it is binary)");
    }
    let store = crate::open_existing(&a.db)?;
    let facts = load_facts(&*store, now)?;
    let tree = jiesu_domain::category::CategoryTree::new(store.categories()?);
    let format = match a.format {
        FactsFormat::Parquet => "parquet",
        FactsFormat::Csv => "csv",
    };
    let (bytes, f) = jiesu_http::dept::open_data_file(&facts, &tree, from, to, format)
        .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
    write_out(a.out.as_deref(), &bytes)?;
    eprintln!(
        "open data: {} rows; {} shown at the street, {} at the district, {} left out (fewer than {} alike)",
        f.rows,
        f.coarsened_to_street,
        f.coarsened_to_district,
        f.suppressed,
        jiesu_analytics::dept_export::OPEN_DATA_K
    );
    Ok(())
}

/// Runs `jiesu report …`.
pub fn run_report(cmd: ReportCmd, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        ReportCmd::Hotline {
            db,
            from,
            to,
            format,
            out,
        } => {
            let (f, t) = report_period(&from, &to).map_err(anyhow::Error::msg)?;
            if format == ReportFormat::Xlsx && out.is_none() {
                bail!("an xlsx report needs --out FILE (it is binary)");
            }
            let store = crate::open_existing(&db)?;
            let t0 = std::time::Instant::now();
            let facts = load_facts(&*store, now)?;
            let read = t0.elapsed();
            let tree = jiesu_domain::category::CategoryTree::new(store.categories()?);
            let ctx = report_context(&*store)?;
            let r = hotline_report(&facts, &tree, &ctx, f, t)?;
            let title = format!("12345 热线数据报告（{} 至 {}）", r.from, r.to);
            let bytes = match format {
                ReportFormat::Json => serde_json::to_vec_pretty(&r)?,
                ReportFormat::Html => render::hotline_html(&r, &title).into_bytes(),
                ReportFormat::Xlsx => jiesu_io::xlsx::tables_to_xlsx(&sheets(&r))?,
            };
            write_out(out.as_deref(), &bytes)?;
            eprintln!(
                "hotline report {}…{}: {} requests; facts read in {:.1} s, report in {:.2} s",
                r.from,
                r.to,
                r.overview.total,
                read.as_secs_f64(),
                (t0.elapsed() - read).as_secs_f64()
            );
            Ok(())
        }
    }
}

/// The report's tables as workbook sheets.
pub fn sheets(r: &jiesu_analytics::report::HotlineReport) -> Vec<jiesu_io::xlsx::Table> {
    jiesu_http::reports::tables(render::hotline_sheets(r))
}

fn write_out(out: Option<&Path>, bytes: &[u8]) -> Result<()> {
    match out {
        Some(p) => {
            std::fs::write(p, bytes).with_context(|| format!("cannot write {}", p.display()))
        }
        None => {
            let mut o = std::io::stdout().lock();
            o.write_all(bytes)?;
            o.flush()?;
            Ok(())
        }
    }
}
