//! CSV import and export of the catalogue: one row per rule version, a header row, UTF-8.
//!
//! | column | required | content |
//! |---|---|---|
//! | `id` | yes | rule id, stable across versions |
//! | `effective_from` | yes | `YYYY-MM-DD`, first Beijing date in force |
//! | `effective_to` | no | `YYYY-MM-DD`, first date **no longer** in force (exclusive); empty = open |
//! | `priority` | no | integer, default 0 |
//! | `category_prefix` | yes | a category code of any level; `*` or empty = any category |
//! | `place` | yes | `*`, `district:CODE`, `street:CODE` or `community:CODE` |
//! | `keywords` | no | `;`-separated conditions, all must hold; `a|b` = a or b |
//! | `enterprise` | no | empty = any, `yes` = enterprise requests only, `no` = citizens only |
//! | `assignments` | yes | `lead:REF;assist:REF…`, REF = unit code, `{street}`, `{district}`, `{district}Dnn` or `{ecommerce}` |
//! | `tier` | yes | `2h`, `24h`, `7d` or `15d` |
//! | `note` | no | free text |
//!
//! Import is all or nothing: every problem of the file is reported with its line number, and a
//! file with any problem yields no catalogue.

use crate::catalogue::{valid_slot, Catalogue, PlaceScope, Rule, RuleAssignment, UnitRef};
use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::{OrgTree, UnitKind};
use jiesu_domain::ticket::{AssignmentRole, DeadlineTier};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

/// The columns, in export order.
pub const COLUMNS: [&str; 11] = [
    "id",
    "effective_from",
    "effective_to",
    "priority",
    "category_prefix",
    "place",
    "keywords",
    "enterprise",
    "assignments",
    "tier",
    "note",
];
const REQUIRED: [&str; 6] = [
    "id",
    "effective_from",
    "category_prefix",
    "place",
    "assignments",
    "tier",
];

/// One problem of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProblem {
    /// 1-based line of the file (the header is line 1); 0 for the file as a whole.
    pub line: usize,
    /// Another line involved (the other rule of an overlap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.other_line {
            Some(o) => write!(f, "lines {} and {o}", self.line)?,
            None => write!(f, "line {}", self.line)?,
        }
        if let Some(c) = &self.column {
            write!(f, " [{c}]")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a file was rejected: all its problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ImportReport {
    /// Data rows read (excluding the header).
    pub rows: usize,
    pub problems: Vec<ImportProblem>,
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "派单目录导入被拒绝，共 {} 个问题，未做任何更改 / catalogue rejected: {} problem(s) in {} row(s); nothing was changed",
            self.problems.len(),
            self.problems.len(),
            self.rows
        )?;
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImportReport {}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

fn parse_enterprise(s: &str) -> Result<Option<bool>, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "*" | "any" => Ok(None),
        "yes" | "true" | "1" | "是" | "企业" => Ok(Some(true)),
        "no" | "false" | "0" | "否" => Ok(Some(false)),
        other => Err(format!("enterprise '{other}' is not empty, yes or no")),
    }
}

fn parse_assignments(s: &str) -> Result<Vec<RuleAssignment>, String> {
    let mut out = Vec::new();
    for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (role, unit) = part
            .split_once(':')
            .ok_or_else(|| format!("'{part}' is not ROLE:UNIT (e.g. lead:{{street}})"))?;
        let role = AssignmentRole::parse(role.trim())
            .ok_or_else(|| format!("role '{}' is not lead or assist", role.trim()))?;
        let unit = UnitRef::parse_field(unit)?;
        if out.iter().any(|a: &RuleAssignment| a.unit == unit) {
            return Err(format!("unit '{}' is listed twice", unit.to_field()));
        }
        out.push(RuleAssignment { unit, role });
    }
    let leads = out
        .iter()
        .filter(|a| a.role == AssignmentRole::Lead)
        .count();
    if leads != 1 {
        return Err(format!(
            "exactly one lead unit is needed, found {leads} in '{s}'"
        ));
    }
    Ok(out)
}

fn parse_keywords(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    for k in s.split(';').map(str::trim).filter(|k| !k.is_empty()) {
        let alts: Vec<&str> = k.split('|').map(str::trim).collect();
        if alts.iter().any(|a| a.is_empty()) {
            return Err(format!("keyword '{k}' has an empty alternative"));
        }
        out.push(alts.join("|"));
    }
    Ok(out)
}

impl Catalogue {
    /// The catalogue as CSV (header + one row per rule version, canonical order, no BOM).
    pub fn to_csv(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        let _ = w.write_record(COLUMNS);
        for r in self.rules() {
            let _ = w.write_record(crate::edit::RuleFields::of(r).values());
        }
        let bytes = w.into_inner().unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Parses and validates a CSV file against the org tree and category tree. Rejects the whole
    /// file with every problem (line-numbered) if anything is wrong: unknown columns or missing
    /// required ones, wrong field counts, invalid UTF-8, bad dates/tiers/places/assignments,
    /// unknown category, place or unit codes, department slots no district has, overlapping
    /// versions or overlapping rules (same scope and priority, dates overlap).
    pub fn from_csv(
        bytes: &[u8],
        org: &OrgTree,
        categories: &CategoryTree,
    ) -> Result<Catalogue, ImportReport> {
        let mut report = ImportReport::default();
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(bytes);
        // Physical line of a byte offset (the csv crate does not count newlines inside quotes).
        let newlines: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i)
            .collect();
        // (A record's position may point at the previous record's line terminator: skip it.)
        let line_at = |byte: u64| {
            let mut b = byte as usize;
            while b < bytes.len() && (bytes[b] == b'\r' || bytes[b] == b'\n') {
                b += 1;
            }
            1 + newlines.partition_point(|&i| i < b)
        };
        let mut records = rdr.byte_records();
        let problem = |r: &mut ImportReport, line: usize, col: Option<&str>, msg: String| {
            r.problems.push(ImportProblem {
                line,
                other_line: None,
                column: col.map(Into::into),
                message: msg,
            })
        };
        // Header.
        let header = match records.next() {
            None => {
                problem(
                    &mut report,
                    1,
                    None,
                    "empty file: a header row is required".into(),
                );
                return Err(report);
            }
            Some(Err(e)) => {
                problem(&mut report, 1, None, format!("unreadable header: {e}"));
                return Err(report);
            }
            Some(Ok(h)) => h,
        };
        let mut cols: Vec<Option<usize>> = Vec::new(); // field index → COLUMNS index
        let mut header_ok = true;
        for (i, f) in header.iter().enumerate() {
            let name = match std::str::from_utf8(f) {
                Ok(s) => s.trim().to_ascii_lowercase(),
                Err(_) => {
                    problem(
                        &mut report,
                        1,
                        None,
                        format!("header field {} is not valid UTF-8", i + 1),
                    );
                    header_ok = false;
                    cols.push(None);
                    continue;
                }
            };
            match COLUMNS.iter().position(|c| *c == name) {
                Some(p) if cols.contains(&Some(p)) => {
                    problem(
                        &mut report,
                        1,
                        Some(&name),
                        format!("column '{name}' appears twice"),
                    );
                    header_ok = false;
                    cols.push(None);
                }
                Some(p) => cols.push(Some(p)),
                None => {
                    problem(
                        &mut report,
                        1,
                        None,
                        format!("unknown column '{name}' (columns: {})", COLUMNS.join(", ")),
                    );
                    header_ok = false;
                    cols.push(None);
                }
            }
        }
        for req in REQUIRED {
            let p = COLUMNS.iter().position(|c| *c == req);
            if !cols.contains(&p) {
                problem(
                    &mut report,
                    1,
                    Some(req),
                    format!("required column '{req}' is missing"),
                );
                header_ok = false;
            }
        }
        if !header_ok {
            // Without the right columns every row would be wrong: report the header only.
            return Err(report);
        }
        let width = cols.len();
        let mut rules: Vec<(usize, Rule)> = Vec::new();
        for rec in records {
            let rec = match rec {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| line_at(p.byte()));
                    problem(&mut report, line, None, format!("unreadable row: {e}"));
                    continue;
                }
            };
            let line = rec.position().map_or(0, |p| line_at(p.byte()));
            if rec.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                continue; // blank line
            }
            report.rows += 1;
            if rec.len() != width {
                problem(
                    &mut report,
                    line,
                    None,
                    format!("{} fields, the header has {width}", rec.len()),
                );
                continue;
            }
            let mut f: [String; 11] = Default::default();
            let mut utf8_ok = true;
            for (i, raw) in rec.iter().enumerate() {
                let Some(ci) = cols[i] else { continue };
                match std::str::from_utf8(raw) {
                    Ok(s) => f[ci] = s.to_string(),
                    Err(_) => {
                        problem(
                            &mut report,
                            line,
                            Some(COLUMNS[ci]),
                            "not valid UTF-8 (save the file as UTF-8)".into(),
                        );
                        utf8_ok = false;
                    }
                }
            }
            if !utf8_ok {
                continue;
            }
            let before = report.problems.len();
            let mut err = |col: &str, msg: String| problem(&mut report, line, Some(col), msg);
            let id = f[0].trim().to_string();
            if id.is_empty() || id.contains(char::is_whitespace) {
                err("id", format!("rule id '{id}' is empty or contains spaces"));
            }
            let from = parse_date(&f[1]).map_err(|m| err("effective_from", m)).ok();
            let to = if f[2].trim().is_empty() {
                Some(None)
            } else {
                parse_date(&f[2])
                    .map(Some)
                    .map_err(|m| err("effective_to", m))
                    .ok()
            };
            if let (Some(a), Some(Some(b))) = (from, to) {
                if b <= a {
                    err(
                        "effective_to",
                        format!("effective_to {b} is not after effective_from {a}"),
                    );
                }
            }
            let priority = if f[3].trim().is_empty() {
                Some(0)
            } else {
                f[3].trim()
                    .parse::<i32>()
                    .map_err(|_| {
                        err(
                            "priority",
                            format!("priority '{}' is not an integer", f[3].trim()),
                        )
                    })
                    .ok()
            };
            let prefix = match f[4].trim() {
                "*" | "" => String::new(),
                p => p.to_string(),
            };
            if !prefix.is_empty() && categories.get(&prefix).is_none() {
                err(
                    "category_prefix",
                    format!("unknown category code '{prefix}'"),
                );
            }
            let place = PlaceScope::parse_field(&f[5])
                .map_err(|m| err("place", m))
                .ok();
            if let Some(p) = &place {
                if let (Some(code), Some(kind)) = (p.code(), p.unit_kind()) {
                    match org.get(code) {
                        None => err("place", format!("unknown place code '{code}'")),
                        Some(u) if u.kind != kind => err(
                            "place",
                            format!("'{code}' is a {}, not a {}", u.kind.as_str(), kind.as_str()),
                        ),
                        _ => {}
                    }
                }
            }
            let keywords = parse_keywords(&f[6]).map_err(|m| err("keywords", m)).ok();
            let enterprise = parse_enterprise(&f[7])
                .map_err(|m| err("enterprise", m))
                .ok();
            let assignments = parse_assignments(&f[8])
                .map_err(|m| err("assignments", m))
                .ok();
            if let (Some(asg), Some(place)) = (&assignments, &place) {
                for a in asg {
                    if let Err(m) = check_ref(&a.unit, place, org) {
                        err("assignments", m);
                    }
                }
            }
            let tier = DeadlineTier::parse(f[9].trim())
                .ok_or_else(|| {
                    err(
                        "tier",
                        format!(
                            "tier '{}' is not one of {}",
                            f[9].trim(),
                            DeadlineTier::names()
                        ),
                    )
                })
                .ok();
            if report.problems.len() != before {
                continue;
            }
            let (
                Some(from),
                Some(to),
                Some(priority),
                Some(place),
                Some(keywords),
                Some(enterprise),
                Some(assignments),
                Some(tier),
            ) = (
                from,
                to,
                priority,
                place,
                keywords,
                enterprise,
                assignments,
                tier,
            )
            else {
                continue;
            };
            rules.push((
                line,
                Rule {
                    id,
                    effective_from: from,
                    effective_to: to,
                    priority,
                    category_prefix: prefix,
                    place,
                    keywords,
                    enterprise,
                    assignments,
                    tier,
                    note: std::mem::take(&mut f[10]),
                },
            ));
        }
        // Cross-row checks on the rows that parsed.
        let lines: Vec<usize> = {
            let mut v: Vec<(String, NaiveDate, usize)> = rules
                .iter()
                .map(|(l, r)| (r.id.clone(), r.effective_from, *l))
                .collect();
            v.sort();
            v.into_iter().map(|x| x.2).collect()
        };
        let mut seen = HashSet::new();
        for (l, r) in &rules {
            if !seen.insert((r.id.clone(), r.effective_from)) {
                problem(
                    &mut report,
                    *l,
                    Some("id"),
                    format!("rule {} version {} appears twice", r.id, r.effective_from),
                );
            }
        }
        let cat = Catalogue::new(rules.into_iter().map(|(_, r)| r).collect());
        for (a, b, msg) in cat.structural_problems() {
            let (la, lb) = (lines[a], b.map(|b| lines[b]));
            let (la, lb) = match lb {
                Some(lb) if lb < la => (lb, Some(la)),
                x => (la, x),
            };
            if msg.contains("overlap") || lb.is_some() {
                report.problems.push(ImportProblem {
                    line: la,
                    other_line: lb,
                    column: None,
                    message: msg,
                });
            }
        }
        if report.problems.is_empty() {
            Ok(cat)
        } else {
            report.problems.sort_by_key(|p| (p.line, p.other_line));
            report.problems.dedup();
            Err(report)
        }
    }
}

/// Whether a unit reference can exist: concrete codes must be dispatchable units; department
/// slots must exist in the rule's district (or in some district for rules not tied to one).
fn check_ref(r: &UnitRef, place: &PlaceScope, org: &OrgTree) -> Result<(), String> {
    match r {
        UnitRef::Unit(c) => match org.get(c) {
            None => Err(format!("unknown unit code '{c}'")),
            Some(u) if !u.kind.dispatchable() => Err(format!(
                "unit '{c}' is a {} and cannot receive tickets",
                u.kind.as_str()
            )),
            Some(_) => Ok(()),
        },
        UnitRef::DistrictDept(slot) => {
            if !valid_slot(slot) {
                return Err(format!("bad department slot '{slot}'"));
            }
            let district = place.code().and_then(|c| org.district_of(c));
            let exists = |d: &str| {
                org.get(&format!("{d}{slot}")).is_some()
                    || org.children(d).any(|u| {
                        u.kind == UnitKind::DistrictDepartment && u.code.ends_with(slot.as_str())
                    })
            };
            match district {
                Some(d) if !exists(&d.code) => Err(format!(
                    "district {} has no department in slot {slot}",
                    d.code
                )),
                Some(_) => Ok(()),
                None if org.of_kind(UnitKind::District).any(|d| exists(&d.code)) => Ok(()),
                None => Err(format!("no district has a department in slot {slot}")),
            }
        }
        UnitRef::Street => match place {
            PlaceScope::District(d) if org.children(d).all(|u| u.kind != UnitKind::StreetTown) => {
                Err(format!("district {d} has no street/town for {{street}}"))
            }
            _ => Ok(()),
        },
        UnitRef::District | UnitRef::Ecommerce => Ok(()),
    }
}
