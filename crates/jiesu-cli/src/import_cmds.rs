//! `jiesu import csv`: another system's export as tickets with their history. The checks, the
//! mapping and the writing are `jiesu_import`'s (shared with the admin's upload in the API); here
//! the files are read and the report printed.

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use jiesu_import::{ImportError, Report};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum ImportCmd {
    /// Import a CSV export with a mapping file (docs/IMPORT.md): every row becomes a ticket with
    /// its history; rows already imported from the same source are skipped. A bad file is
    /// rejected whole, with line numbers.
    Csv {
        #[arg(long)]
        db: PathBuf,
        /// The mapping (TOML), e.g. docs/examples/nyc311-mapping.toml.
        #[arg(long)]
        mapping: PathBuf,
        /// Check and map everything, print the report, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The report as JSON.
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
}

pub fn run(cmd: ImportCmd, now: DateTime<Utc>) -> Result<()> {
    match cmd {
        ImportCmd::Csv {
            db,
            mapping,
            dry_run,
            json,
            file,
        } => {
            let text = std::fs::read_to_string(&mapping)
                .with_context(|| format!("cannot read the mapping {}", mapping.display()))?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let store = crate::open_existing(&db)?;
            let name = file.display().to_string();
            let report = match jiesu_import::run(&*store, &text, &bytes, &name, dry_run, now) {
                Ok(r) => r,
                Err(ImportError::Mapping(e)) => bail!("mapping {}: {e}", mapping.display()),
                Err(ImportError::Rejected(rej)) => bail!("{name}: {rej}"),
                Err(ImportError::Failed(e)) => return Err(e),
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            Ok(())
        }
    }
}

fn print_report(r: &Report) {
    println!(
        "{} ({}, source {}){}",
        r.file,
        r.encoding,
        r.source,
        if r.dry_run {
            " — dry run, nothing written"
        } else {
            ""
        }
    );
    println!(
        "  rows {}: already imported {}, mapped fully {}, partly {}, not {}; tickets written {}",
        r.rows, r.already_imported, r.mapped_fully, r.mapped_partly, r.not_mapped, r.imported
    );
    if let Some((a, b)) = r.ticket_ids {
        println!("  ticket ids {a}–{b}");
    }
    if !r.fallbacks.is_empty() {
        println!("  fell back (rows):");
        for (k, n) in &r.fallbacks {
            println!("    {n:>6}  {k}");
        }
    }
    for (field, values) in &r.unmapped_values {
        let mut v: Vec<(&String, &u64)> = values.iter().collect();
        v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let shown: Vec<String> = v
            .iter()
            .take(15)
            .map(|(k, n)| format!("{k:?} {n}"))
            .collect();
        let more = if v.len() > 15 {
            format!(" … {} more", v.len() - 15)
        } else {
            String::new()
        };
        println!(
            "  {field}: {} value(s) not in the table: {}{more}",
            v.len(),
            shown.join(", ")
        );
    }
    for n in r.not_mapped_rows.iter().take(50) {
        println!(
            "  line {} (key {:?}): not imported: {}",
            n.line, n.key, n.reason
        );
    }
}
