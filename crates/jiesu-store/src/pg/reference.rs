//! Reference data and settings in PostgreSQL (the twin of `sqlite/reference.rs`).
//!
//! Text is ordered with `COLLATE "C"` (code-point order, like SQLite's binary collation), so
//! the lists come out in the same order whatever collation the database was created with.

use super::conn::{Conn, RowExt};
use super::PgStore;
use crate::{ReferenceStore, Result, StoreError};
use jiesu_domain::category::{Category, LivelihoodDomain};
use jiesu_domain::org::{FunctionalZone, Unit, UnitKind};
use std::path::Path;

impl ReferenceStore for PgStore {
    /// Replaces every unit and category in one transaction (one writer job).
    fn replace_reference(&self, units: &[Unit], categories: &[Category]) -> Result<()> {
        let units = units.to_vec();
        let cats = categories.to_vec();
        self.write(move |c: &mut Conn| {
            c.exec("DELETE FROM units", &[])?;
            c.exec("DELETE FROM categories", &[])?;
            for u in &units {
                c.exec(
                    "INSERT INTO units (code, name, kind, parent, population, zone, active) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                    &crate::pv![
                        &u.code,
                        &u.name,
                        u.kind.as_str(),
                        &u.parent,
                        u.population.map(|p| p as i64),
                        u.zone.map(zone_str),
                        u.active
                    ],
                )?;
            }
            for k in &cats {
                c.exec(
                    "INSERT INTO categories (code, name, level, parent, domain, active) VALUES (?1,?2,?3,?4,?5,?6)",
                    &crate::pv![
                        &k.code,
                        &k.name,
                        k.level,
                        &k.parent,
                        k.domain.map(|d| d.as_str()),
                        k.active
                    ],
                )?;
            }
            Ok(())
        })
    }

    fn units(&self) -> Result<Vec<Unit>> {
        self.read(|c| {
            let rows = c.query(
                "SELECT code, name, kind, parent, population, zone, active FROM units ORDER BY code COLLATE \"C\"",
                &[],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in &rows {
                let code = r.get_str(0)?;
                let kind = r.get_str(2)?;
                out.push(Unit {
                    kind: UnitKind::parse(&kind)
                        .ok_or_else(|| StoreError::Db(format!("unit {code}: bad kind {kind}")))?,
                    name: r.get_str(1)?,
                    parent: r.get_opt_str(3)?,
                    population: r.get_opt_i64(4)?.map(|p| p as u64),
                    zone: r.get_opt_str(5)?.as_deref().and_then(zone_parse),
                    active: r.get_bool(6)?,
                    code,
                });
            }
            Ok(out)
        })
    }

    fn categories(&self) -> Result<Vec<Category>> {
        self.read(|c| {
            let rows = c.query(
                "SELECT code, name, level, parent, domain, active FROM categories ORDER BY code COLLATE \"C\"",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let level = r.get_i64(2)?;
                    Ok(Category {
                        code: r.get_str(0)?,
                        name: r.get_str(1)?,
                        level: u8::try_from(level).map_err(|_| {
                            StoreError::Db(format!("column 2: {level} out of range"))
                        })?,
                        parent: r.get_opt_str(3)?,
                        domain: r.get_opt_str(4)?.and_then(|d| {
                            LivelihoodDomain::ALL.into_iter().find(|x| x.as_str() == d)
                        }),
                        active: r.get_bool(5)?,
                    })
                })
                .collect()
        })
    }

    /// How many tickets were created per category in `[from, to)` (UTC instants), most used
    /// first — the use counts of category search (`GET /api/v1/categories/search`).
    fn category_use_counts(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        to: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, i64)>> {
        self.read(move |c| {
            let rows = c.query(
                "SELECT category_code, COUNT(*) FROM tickets WHERE created_at >= ?1 AND created_at < ?2
                 GROUP BY category_code ORDER BY 2 DESC, category_code COLLATE \"C\"",
                &crate::pv![crate::time::fmt(from), crate::time::fmt(to)],
            )?;
            rows.iter()
                .map(|r| Ok((r.get_str(0)?, r.get_i64(1)?)))
                .collect()
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            c.query_opt("SELECT value FROM meta WHERE key=?1", &crate::pv![key])?
                .map(|r| r.get_str(0))
                .transpose()
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (k, v) = (key.to_string(), value.to_string());
        self.write(move |c: &mut Conn| {
            c.exec(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
                &crate::pv![k, v],
            )?;
            Ok(())
        })
    }

    /// The local data path (`<JIESU_DATA_DIR>/<database name>.pg`): the key file, classifier
    /// models, attachments and the facts cache are found beside it.
    fn path(&self) -> &Path {
        &self.path
    }
}

fn zone_str(z: FunctionalZone) -> &'static str {
    match z {
        FunctionalZone::CoreAndSubCentre => "core_and_sub_centre",
        FunctionalZone::PlainNewTowns => "plain_new_towns",
        FunctionalZone::EcologicalConservation => "ecological_conservation",
    }
}

fn zone_parse(s: &str) -> Option<FunctionalZone> {
    [
        FunctionalZone::CoreAndSubCentre,
        FunctionalZone::PlainNewTowns,
        FunctionalZone::EcologicalConservation,
    ]
    .into_iter()
    .find(|z| zone_str(*z) == s)
}
