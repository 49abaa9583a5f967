//! `jiesu catalogue …`, `jiesu whatif`, `jiesu bench route`.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::OrgTree;
use jiesu_routing::Catalogue;
use jiesu_store::Store;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum CatalogueCmd {
    /// Write the published catalogue as CSV (or xlsx when --out ends with .xlsx).
    Export {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a catalogue file (CSV or xlsx) and store it as a draft (or, with --publish, put it
    /// in force). A file with any problem is rejected whole, with a line-numbered report (for
    /// xlsx, the line is the spreadsheet row).
    Import {
        #[arg(long)]
        db: PathBuf,
        file: PathBuf,
        /// Publish at once instead of storing a draft.
        #[arg(long)]
        publish: bool,
    },
    /// List conflicts, gaps (category × street with no unit) and rules pointing at retired units.
    Lint {
        #[arg(long)]
        db: PathBuf,
    },
}

/// The demo city's catalogue (see `jiesu_demo::catalogue`).
pub fn demo_catalogue(org: &OrgTree, cats: &CategoryTree) -> Catalogue {
    jiesu_demo::catalogue::demo_catalogue(org, cats)
}

fn trees(store: &dyn Store) -> Result<(OrgTree, CategoryTree)> {
    Ok((
        OrgTree::new(store.units()?),
        CategoryTree::new(store.categories()?),
    ))
}

fn published(store: &dyn Store, org: &OrgTree, cats: &CategoryTree) -> Result<Catalogue> {
    let v = store
        .catalogue("published")?
        .context("this database has no published duty catalogue (import one with `jiesu catalogue import --publish`)")?;
    Catalogue::from_csv(v.csv.as_bytes(), org, cats)
        .map_err(|r| anyhow::anyhow!("the stored catalogue does not load: {r}"))
}

pub fn run_catalogue(cmd: CatalogueCmd, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    match cmd {
        CatalogueCmd::Export { db, out } => {
            let store = crate::open_existing(&db)?;
            let (org, cats) = trees(&*store)?;
            let cat = published(&*store, &org, &cats)?;
            let bytes = if out
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
            {
                jiesu_io::xlsx::csv_to_xlsx(&cat.to_csv(), "派单目录")
                    .map_err(|e| anyhow::anyhow!("cannot write xlsx: {e}"))?
            } else {
                cat.to_csv().into_bytes()
            };
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            println!("wrote {} rules to {}", cat.len(), out.display());
            Ok(())
        }
        CatalogueCmd::Import { db, file, publish } => {
            let store = crate::open_existing(&db)?;
            let (org, cats) = trees(&*store)?;
            let mut bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            // An xlsx workbook (by content, whatever its name) is read as CSV, row N = line N.
            if jiesu_io::xlsx::is_xlsx(&bytes) {
                bytes = jiesu_io::xlsx::xlsx_to_csv(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?
                    .into_bytes();
            }
            let cat = match Catalogue::from_csv(&bytes, &org, &cats) {
                Ok(c) => c,
                Err(report) => bail!("{report}"),
            };
            let status = if publish { "published" } else { "draft" };
            let v = store.save_catalogue(
                status,
                &cat.to_csv(),
                cat.len(),
                "cli",
                Some(&format!("imported from {}", file.display())),
                now,
            )?;
            println!("imported {} rules as {status} version {v}", cat.len());
            let lint = jiesu_routing::lint(&cat, &org, &cats, now, store.city_zone()?);
            println!("{lint}");
            Ok(())
        }
        CatalogueCmd::Lint { db } => {
            let store = crate::open_existing(&db)?;
            let (org, cats) = trees(&*store)?;
            let cat = published(&*store, &org, &cats)?;
            println!(
                "{}",
                jiesu_routing::lint(&cat, &org, &cats, now, store.city_zone()?)
            );
            Ok(())
        }
    }
}

/// `jiesu whatif --db PATH --catalogue DRAFT.csv [--months N]`
pub fn whatif(
    db: &std::path::Path,
    draft: &std::path::Path,
    months: u32,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let store = crate::open_existing(db)?;
    let (org, cats) = trees(&*store)?;
    let current = published(&*store, &org, &cats)?;
    let bytes = std::fs::read(draft).with_context(|| format!("cannot read {}", draft.display()))?;
    let draft = Catalogue::from_csv(&bytes, &org, &cats).map_err(|r| anyhow::anyhow!("{r}"))?;
    // the dispatched tickets of the window, read through the store and replayed by the routing
    // crate, as the server's what-if does
    let tickets = store.lead_tickets(jiesu_routing::whatif_since(now, months.max(1)), now)?;
    let rep =
        jiesu_routing::whatif_tickets(&current, &draft, tickets, &org, now, store.city_zone()?);
    println!("{rep}");
    Ok(())
}

/// `jiesu bench route`: suggestions per second over a 5,000-rule catalogue (one core) and one
/// scheduler pass over 1 million open clocks.
pub fn bench_route(rules: usize, queries: usize, open: usize) -> Result<()> {
    let org = jiesu_refdata::org_tree();
    let cats = jiesu_refdata::category_tree();
    println!(
        "{}",
        jiesu_routing::bench::bench_suggest(rules, queries, Some((&org, &cats)))
    );
    println!(
        "{}",
        jiesu_routing::bench::bench_scheduler(open, chrono::Duration::hours(1))
    );
    Ok(())
}
