//! Reference data and settings in SQLite.

use super::*;
use jiesu_domain::category::{Category, LivelihoodDomain};
use jiesu_domain::org::{FunctionalZone, Unit, UnitKind};

impl ReferenceStore for SqliteStore {
    fn replace_reference(&self, units: &[Unit], categories: &[Category]) -> Result<()> {
        let units = units.to_vec();
        let cats = categories.to_vec();
        self.write(move |c| {
            c.execute("DELETE FROM units", [])?;
            c.execute("DELETE FROM categories", [])?;
            let mut s = c.prepare_cached(
                "INSERT INTO units (code, name, kind, parent, population, zone, active) VALUES (?1,?2,?3,?4,?5,?6,?7)",
            )?;
            for u in &units {
                s.execute(params![
                    u.code,
                    u.name,
                    kind_str(u.kind),
                    u.parent,
                    u.population.map(|p| p as i64),
                    u.zone.map(zone_str),
                    u.active
                ])?;
            }
            let mut s = c.prepare_cached(
                "INSERT INTO categories (code, name, level, parent, domain, active) VALUES (?1,?2,?3,?4,?5,?6)",
            )?;
            for k in &cats {
                s.execute(params![
                    k.code,
                    k.name,
                    k.level,
                    k.parent,
                    k.domain.map(|d| d.as_str()),
                    k.active
                ])?;
            }
            Ok(())
        })
    }

    fn units(&self) -> Result<Vec<Unit>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT code, name, kind, parent, population, zone, active FROM units ORDER BY code",
            )?;
            let rows = s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, bool>(6)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (code, name, kind, parent, pop, zone, active) = row?;
                out.push(Unit {
                    kind: UnitKind::parse(&kind)
                        .ok_or_else(|| StoreError::Db(format!("unit {code}: bad kind {kind}")))?,
                    code,
                    name,
                    parent,
                    population: pop.map(|p| p as u64),
                    zone: zone.as_deref().and_then(zone_parse),
                    active,
                });
            }
            Ok(out)
        })
    }

    fn categories(&self) -> Result<Vec<Category>> {
        self.read(|c| {
            let mut s = c.prepare(
                "SELECT code, name, level, parent, domain, active FROM categories ORDER BY code",
            )?;
            let rows = s.query_map([], |r| {
                Ok(Category {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    level: r.get(2)?,
                    parent: r.get(3)?,
                    domain: r
                        .get::<_, Option<String>>(4)?
                        .and_then(|d| LivelihoodDomain::ALL.into_iter().find(|x| x.as_str() == d)),
                    active: r.get(5)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
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
            let mut s = c.prepare(
                "SELECT category_code, COUNT(*) FROM tickets WHERE created_at >= ?1 AND created_at < ?2
                 GROUP BY category_code ORDER BY 2 DESC, 1",
            )?;
            let rows = s.query_map(params![crate::time::fmt(from), crate::time::fmt(to)], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        let key = key.to_string();
        self.read(move |c| {
            Ok(
                c.query_row("SELECT value FROM meta WHERE key=?1", [key], |r| r.get(0))
                    .optional()?,
            )
        })
    }

    fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (k, v) = (key.to_string(), value.to_string());
        self.write(move |c| {
            c.execute(
                "INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                params![k, v],
            )?;
            Ok(())
        })
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

fn kind_str(k: UnitKind) -> &'static str {
    k.as_str()
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
