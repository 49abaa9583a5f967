//! The columnar fact table: one row per assignment of the tickets first dispatched in a range,
//! built from the store's [`AssignmentFact`] stream. Codes are dictionary-encoded, times are i64
//! epoch **milliseconds** (the store keeps millisecond precision; seconds would misjudge a
//! response 0.4 s after its deadline), enums are u8 (0 = none).
//!
//! The table can be written to and read from a compact binary file (`.jfacts`): a JSON header
//! (dictionaries, column directory, the range and the database fingerprint it was built at)
//! followed by one little-endian array per column. A reader loads only the columns it needs, so
//! the monthly scorecard reads about 60 bytes per assignment. [`load_facts`] keeps such a file per
//! range beside the database and rebuilds it when the database has changed.

use chrono::{DateTime, Utc};
use jiesu_domain::state::AssignmentState;
use jiesu_domain::ticket::{
    AssignmentRole, DeadlineTier, ExemptReason, RequestType, Resolution, Satisfaction,
};
use jiesu_store::prelude::*;
use jiesu_store::AssignmentFact;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The "no time" value of a time column.
pub const NO_TIME: i64 = i64::MIN;
/// `exempt` value of an exemption reason this build does not know.
pub const EXEMPT_UNKNOWN: u8 = 255;

const MAGIC: &[u8; 8] = b"JSFACTS1";
const FORMAT_VERSION: u32 = 1;

/// Why facts could not be built, read or written.
#[derive(Debug, thiserror::Error)]
pub enum FactError {
    #[error("fact row of ticket {ticket}: {message}")]
    Row { ticket: i64, message: String },
    #[error("fact file {path}: {message}")]
    File { path: String, message: String },
    #[error(transparent)]
    Store(#[from] jiesu_store::StoreError),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// A string dictionary: codes ↔ dense u32 ids.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dict {
    values: Vec<String>,
    index: HashMap<String, u32>,
}

impl Dict {
    pub fn from_values(values: Vec<String>) -> Dict {
        let index = values
            .iter()
            .enumerate()
            .map(|(i, v)| (v.clone(), i as u32))
            .collect();
        Dict { values, index }
    }
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.values.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
    pub fn get(&self, id: u32) -> &str {
        &self.values[id as usize]
    }
    pub fn lookup(&self, s: &str) -> Option<u32> {
        self.index.get(s).copied()
    }
    pub fn len(&self) -> usize {
        self.values.len()
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    pub fn values(&self) -> &[String] {
        &self.values
    }
}

/// Encodes an enum as its 1-based position in `ALL` (0 = none or unknown).
fn code_of<T: Copy + PartialEq>(all: &[T], v: Option<T>) -> u8 {
    v.and_then(|v| all.iter().position(|x| *x == v))
        .map_or(0, |i| i as u8 + 1)
}

/// Decodes an enum code.
pub fn decode<T: Copy>(all: &[T], code: u8) -> Option<T> {
    (code as usize)
        .checked_sub(1)
        .and_then(|i| all.get(i).copied())
}

pub mod codes {
    //! The u8 codes of the enum columns: 1-based positions in each enum's `ALL`, 0 = none.
    pub const LEAD: u8 = 1;
    pub const ASSIST: u8 = 2;
    pub const RESOLVED: u8 = 1;
    pub const PARTLY: u8 = 2;
    pub const UNRESOLVED: u8 = 3;
    pub const SATISFIED: u8 = 1;
    pub const BASIC: u8 = 2;
    pub const UNSATISFIED: u8 = 3;
    /// `AssignmentState::Returned`.
    pub const RETURNED: u8 = 5;
    pub const CONTACTED_NONE: u8 = 0;
    pub const CONTACTED_FALSE: u8 = 1;
    pub const CONTACTED_TRUE: u8 = 2;
}

/// One row per assignment, stored by column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FactTable {
    /// `[from, to)` of the first dispatches the table holds, epoch ms (`i64::MIN..i64::MAX` when
    /// built from arbitrary rows).
    pub from_ms: i64,
    pub to_ms: i64,
    /// Unit, district and street codes.
    pub codes: Dict,
    /// Category codes.
    pub categories: Dict,
    pub ticket_id: Vec<i64>,
    /// 1 on exactly one row of each ticket (counts tickets, not assignments).
    pub ticket_first: Vec<u8>,
    pub unit: Vec<u32>,
    /// [`codes::LEAD`] / [`codes::ASSIST`].
    pub role: Vec<u8>,
    /// `RequestType::ALL` position + 1.
    pub request_type: Vec<u8>,
    pub category: Vec<u32>,
    pub district: Vec<u32>,
    pub street: Vec<u32>,
    /// `DeadlineTier::ALL` position + 1.
    pub tier: Vec<u8>,
    /// `AssignmentState::ALL` position + 1.
    pub state: Vec<u8>,
    /// Handling round (0 first; +1 on each 重办).
    pub round: Vec<u16>,
    pub first_dispatched_at: Vec<i64>,
    pub responded_at: Vec<i64>,
    pub respond_deadline: Vec<i64>,
    /// `CONTACTED_*`.
    pub contacted: Vec<u8>,
    pub resolution: Vec<u8>,
    pub satisfaction: Vec<u8>,
    /// `ExemptReason::ALL` position + 1, [`EXEMPT_UNKNOWN`], 0 = not exempted.
    pub exempt: Vec<u8>,
    /// Loaded on request ([`Columns::full`]): ticket numbers, and the other three clocks.
    pub number: Option<Vec<String>>,
    pub dispatched_at: Option<Vec<i64>>,
    pub finished_at: Option<Vec<i64>>,
    pub finish_deadline: Option<Vec<i64>>,
}

/// Which optional columns to read from a fact file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Columns {
    pub number: bool,
    pub other_times: bool,
}

impl Columns {
    /// Only what scoring reads.
    pub fn scoring() -> Columns {
        Columns::default()
    }
    /// Every column.
    pub fn full() -> Columns {
        Columns {
            number: true,
            other_times: true,
        }
    }
}

/// Parses a stored RFC 3339 time to epoch ms; fast path for the store's fixed-width
/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z`.
pub fn parse_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let fast =
        (b.len() == 24 && b[19] == b'.' && b[23] == b'Z') || (b.len() == 20 && b[19] == b'Z');
    if fast && b[4] == b'-' && b[7] == b'-' && b[10] == b'T' && b[13] == b':' && b[16] == b':' {
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let mut v = 0i64;
            for &c in &b[r] {
                if !c.is_ascii_digit() {
                    return None;
                }
                v = v * 10 + (c - b'0') as i64;
            }
            Some(v)
        };
        let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
        let ms = if b.len() == 24 { num(20..23)? } else { 0 };
        if (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && se < 61 {
            let days = days_from_civil(y, mo as u32, d as u32);
            return Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + ms);
        }
    }
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats epoch ms as the store does (`2026-11-28T02:28:04.123Z`); empty for [`NO_TIME`].
pub fn fmt_ms(ms: i64) -> String {
    if ms == NO_TIME {
        return String::new();
    }
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Builds a [`FactTable`] row by row.
#[derive(Debug, Default)]
pub struct FactTableBuilder {
    t: FactTable,
    seen: HashSet<i64>,
}

impl FactTableBuilder {
    /// A builder for rows whose first dispatch lies in `[from, to)`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        Self::with_range_ms(from.timestamp_millis(), to.timestamp_millis())
    }

    /// A builder for rows of any time.
    pub fn unbounded() -> Self {
        Self::with_range_ms(i64::MIN, i64::MAX)
    }

    fn with_range_ms(from_ms: i64, to_ms: i64) -> Self {
        FactTableBuilder {
            t: FactTable {
                from_ms,
                to_ms,
                number: Some(vec![]),
                dispatched_at: Some(vec![]),
                finished_at: Some(vec![]),
                finish_deadline: Some(vec![]),
                ..FactTable::default()
            },
            seen: HashSet::new(),
        }
    }

    /// Appends one assignment fact. Rows with no first dispatch are refused (they cannot belong to
    /// any period).
    pub fn push(&mut self, f: &AssignmentFact) -> Result<(), FactError> {
        let bad = |m: String| FactError::Row {
            ticket: f.ticket_id,
            message: m,
        };
        let time = |s: &str, what: &str| {
            parse_ms(s).ok_or_else(|| bad(format!("{what} '{s}' is not an RFC 3339 time")))
        };
        let opt_time = |s: &Option<String>, what: &str| match s {
            Some(s) if !s.is_empty() => time(s, what),
            _ => Ok(NO_TIME),
        };
        let first = match &f.first_dispatched_at {
            Some(s) if !s.is_empty() => time(s, "first_dispatched_at")?,
            _ => return Err(bad("no first_dispatched_at".into())),
        };
        let t = &mut self.t;
        t.ticket_id.push(f.ticket_id);
        t.ticket_first.push(self.seen.insert(f.ticket_id) as u8);
        t.unit.push(t.codes.intern(&f.unit_code));
        t.role
            .push(code_of(AssignmentRole::ALL, AssignmentRole::parse(&f.role)));
        t.request_type.push(code_of(
            RequestType::ALL,
            RequestType::parse(&f.request_type),
        ));
        t.category.push(t.categories.intern(&f.category_code));
        t.district.push(t.codes.intern(&f.district_code));
        t.street.push(t.codes.intern(&f.street_code));
        t.tier
            .push(code_of(DeadlineTier::ALL, DeadlineTier::parse(&f.tier)));
        t.state.push(code_of(
            AssignmentState::ALL,
            AssignmentState::parse(&f.state),
        ));
        t.round.push(f.round.min(u16::MAX as u32) as u16);
        t.first_dispatched_at.push(first);
        t.responded_at
            .push(opt_time(&f.responded_at, "responded_at")?);
        t.respond_deadline
            .push(time(&f.respond_deadline, "respond_deadline")?);
        t.contacted.push(match f.contacted {
            None => codes::CONTACTED_NONE,
            Some(false) => codes::CONTACTED_FALSE,
            Some(true) => codes::CONTACTED_TRUE,
        });
        t.resolution.push(code_of(
            Resolution::ALL,
            f.resolution.as_deref().and_then(Resolution::parse),
        ));
        t.satisfaction.push(code_of(
            Satisfaction::ALL,
            f.satisfaction.as_deref().and_then(Satisfaction::parse),
        ));
        t.exempt.push(match f.exempt_reason.as_deref() {
            None | Some("") => 0,
            Some(r) => match ExemptReason::parse(r) {
                Some(r) => code_of(ExemptReason::ALL, Some(r)),
                None => EXEMPT_UNKNOWN,
            },
        });
        let dispatched = time(&f.dispatched_at, "dispatched_at")?;
        let finished = opt_time(&f.finished_at, "finished_at")?;
        let finish_deadline = time(&f.finish_deadline, "finish_deadline")?;
        if let Some(v) = t.number.as_mut() {
            v.push(f.number.clone());
        }
        if let Some(v) = t.dispatched_at.as_mut() {
            v.push(dispatched);
        }
        if let Some(v) = t.finished_at.as_mut() {
            v.push(finished);
        }
        if let Some(v) = t.finish_deadline.as_mut() {
            v.push(finish_deadline);
        }
        Ok(())
    }

    pub fn finish(self) -> FactTable {
        self.t
    }
}

impl FactTable {
    /// Builds a table from rows (any order, any time).
    pub fn from_facts<'a>(
        rows: impl IntoIterator<Item = &'a AssignmentFact>,
    ) -> Result<FactTable, FactError> {
        let mut b = FactTableBuilder::unbounded();
        for r in rows {
            b.push(r)?;
        }
        Ok(b.finish())
    }

    /// Reads the facts of tickets first dispatched in `[from, to)` from a store.
    pub fn from_store(
        store: &dyn Store,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<FactTable, FactError> {
        let mut b = FactTableBuilder::new(from, to);
        let mut err = None;
        let r = store.for_each_fact(from, to, &mut |f| {
            if let Err(e) = b.push(&f) {
                err = Some(e);
                return Err(jiesu_store::StoreError::Db(
                    "stopped at a bad fact row".into(),
                ));
            }
            Ok(())
        });
        if let Some(e) = err {
            return Err(e);
        }
        r?;
        Ok(b.finish())
    }

    pub fn len(&self) -> usize {
        self.unit.len()
    }
    pub fn is_empty(&self) -> bool {
        self.unit.is_empty()
    }

    /// Whether the table holds every ticket first dispatched in `[from, to)` (epoch ms).
    pub fn covers(&self, from_ms: i64, to_ms: i64) -> bool {
        self.from_ms <= from_ms && to_ms <= self.to_ms
    }

    /// Row `i` back as an [`AssignmentFact`] (numbers and the optional clocks empty when not
    /// loaded).
    pub fn fact(&self, i: usize) -> AssignmentFact {
        let s = |ms: i64| (ms != NO_TIME).then(|| fmt_ms(ms));
        AssignmentFact {
            ticket_id: self.ticket_id[i],
            number: self
                .number
                .as_ref()
                .map(|v| v[i].clone())
                .unwrap_or_default(),
            unit_code: self.codes.get(self.unit[i]).to_string(),
            role: decode(AssignmentRole::ALL, self.role[i])
                .map_or("", |r| r.as_str())
                .to_string(),
            request_type: decode(RequestType::ALL, self.request_type[i])
                .map_or("", |r| r.as_str())
                .to_string(),
            category_code: self.categories.get(self.category[i]).to_string(),
            district_code: self.codes.get(self.district[i]).to_string(),
            street_code: self.codes.get(self.street[i]).to_string(),
            tier: decode(DeadlineTier::ALL, self.tier[i])
                .map_or("", |r| r.as_str())
                .to_string(),
            state: decode(AssignmentState::ALL, self.state[i])
                .map_or("", |r| r.as_str())
                .to_string(),
            round: self.round[i] as u32,
            first_dispatched_at: s(self.first_dispatched_at[i]),
            dispatched_at: self
                .dispatched_at
                .as_ref()
                .map(|v| fmt_ms(v[i]))
                .unwrap_or_default(),
            responded_at: s(self.responded_at[i]),
            respond_deadline: fmt_ms(self.respond_deadline[i]),
            finished_at: self.finished_at.as_ref().and_then(|v| s(v[i])),
            finish_deadline: self
                .finish_deadline
                .as_ref()
                .map(|v| fmt_ms(v[i]))
                .unwrap_or_default(),
            contacted: match self.contacted[i] {
                codes::CONTACTED_TRUE => Some(true),
                codes::CONTACTED_FALSE => Some(false),
                _ => None,
            },
            resolution: decode(Resolution::ALL, self.resolution[i]).map(|r| r.as_str().to_string()),
            satisfaction: decode(Satisfaction::ALL, self.satisfaction[i])
                .map(|r| r.as_str().to_string()),
            exempt_reason: match self.exempt[i] {
                0 => None,
                EXEMPT_UNKNOWN => Some("unknown".into()),
                c => decode(ExemptReason::ALL, c).map(|r| r.as_str().to_string()),
            },
        }
    }

    /// Writes the table as a `.jfacts` file (atomically: a temporary file renamed into place).
    pub fn write_file(&self, path: &Path, fingerprint: &str) -> Result<u64, FactError> {
        let ferr = |m: String| FactError::File {
            path: path.display().to_string(),
            message: m,
        };
        let mut blobs: Vec<(&'static str, &'static str, Vec<u8>)> = vec![
            ("ticket_id", "i64", le_i64(&self.ticket_id)),
            ("ticket_first", "u8", self.ticket_first.clone()),
            ("unit", "u32", le_u32(&self.unit)),
            ("role", "u8", self.role.clone()),
            ("request_type", "u8", self.request_type.clone()),
            ("category", "u32", le_u32(&self.category)),
            ("district", "u32", le_u32(&self.district)),
            ("street", "u32", le_u32(&self.street)),
            ("tier", "u8", self.tier.clone()),
            ("state", "u8", self.state.clone()),
            (
                "round",
                "u16",
                self.round.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
            (
                "first_dispatched_at",
                "i64",
                le_i64(&self.first_dispatched_at),
            ),
            ("responded_at", "i64", le_i64(&self.responded_at)),
            ("respond_deadline", "i64", le_i64(&self.respond_deadline)),
            ("contacted", "u8", self.contacted.clone()),
            ("resolution", "u8", self.resolution.clone()),
            ("satisfaction", "u8", self.satisfaction.clone()),
            ("exempt", "u8", self.exempt.clone()),
        ];
        if let (Some(d), Some(f), Some(fd)) = (
            &self.dispatched_at,
            &self.finished_at,
            &self.finish_deadline,
        ) {
            blobs.push(("dispatched_at", "i64", le_i64(d)));
            blobs.push(("finished_at", "i64", le_i64(f)));
            blobs.push(("finish_deadline", "i64", le_i64(fd)));
        }
        if let Some(numbers) = &self.number {
            let mut offsets = Vec::with_capacity(numbers.len() + 1);
            let mut bytes = Vec::new();
            offsets.push(0u32);
            for n in numbers {
                bytes.extend_from_slice(n.as_bytes());
                offsets.push(bytes.len() as u32);
            }
            blobs.push(("number_offsets", "u32", le_u32(&offsets)));
            blobs.push(("number_bytes", "u8", bytes));
        }
        let mut columns = Vec::new();
        let mut offset = 0u64;
        for (name, elem, b) in &blobs {
            columns.push(ColumnEntry {
                name: name.to_string(),
                elem: elem.to_string(),
                offset,
                bytes: b.len() as u64,
            });
            offset += (b.len() as u64).div_ceil(8) * 8;
        }
        let header = FileHeader {
            version: FORMAT_VERSION,
            rows: self.len() as u64,
            from_ms: self.from_ms,
            to_ms: self.to_ms,
            fingerprint: fingerprint.to_string(),
            codes: self.codes.values().to_vec(),
            categories: self.categories.values().to_vec(),
            columns,
        };
        let head = serde_json::to_vec(&header).map_err(|e| ferr(e.to_string()))?;
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<u64> {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
            w.write_all(MAGIC)?;
            w.write_all(&(head.len() as u32).to_le_bytes())?;
            w.write_all(&head)?;
            let pre = 12 + head.len() as u64;
            let pad = pre.div_ceil(8) * 8 - pre;
            w.write_all(&vec![0u8; pad as usize])?;
            let mut total = pre + pad;
            for (_, _, b) in &blobs {
                w.write_all(b)?;
                let p = (b.len() as u64).div_ceil(8) * 8 - b.len() as u64;
                w.write_all(&vec![0u8; p as usize])?;
                total += b.len() as u64 + p;
            }
            w.flush()?;
            w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
            Ok(total)
        };
        match write() {
            Ok(n) => {
                std::fs::rename(&tmp, path)
                    .map_err(|e| ferr(format!("cannot rename into place: {e}")))?;
                Ok(n)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&tmp);
                Err(ferr(e.to_string()))
            }
        }
    }

    /// Reads the header of a `.jfacts` file.
    pub fn read_header(path: &Path) -> Result<FileHeader, FactError> {
        let mut f = std::fs::File::open(path)?;
        Ok(read_head(&mut f, path)?.0)
    }

    /// Reads a `.jfacts` file, loading the scoring columns and the optional ones asked for.
    pub fn read_file(path: &Path, cols: Columns) -> Result<(FactTable, FileHeader), FactError> {
        let mut f = std::fs::File::open(path)?;
        let (header, data_start) = read_head(&mut f, path)?;
        let ferr = |m: String| FactError::File {
            path: path.display().to_string(),
            message: m,
        };
        let rows = header.rows as usize;
        let dir: HashMap<&str, &ColumnEntry> = header
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c))
            .collect();
        let mut reader = ColumnReader {
            f: &mut f,
            dir,
            data_start,
            path,
        };
        let mut t = FactTable {
            from_ms: header.from_ms,
            to_ms: header.to_ms,
            codes: Dict::from_values(header.codes.clone()),
            categories: Dict::from_values(header.categories.clone()),
            ticket_id: reader.column("ticket_id", rows)?,
            ticket_first: reader.column("ticket_first", rows)?,
            unit: reader.column("unit", rows)?,
            role: reader.column("role", rows)?,
            request_type: reader.column("request_type", rows)?,
            category: reader.column("category", rows)?,
            district: reader.column("district", rows)?,
            street: reader.column("street", rows)?,
            tier: reader.column("tier", rows)?,
            state: reader.column("state", rows)?,
            round: reader.column("round", rows)?,
            first_dispatched_at: reader.column("first_dispatched_at", rows)?,
            responded_at: reader.column("responded_at", rows)?,
            respond_deadline: reader.column("respond_deadline", rows)?,
            contacted: reader.column("contacted", rows)?,
            resolution: reader.column("resolution", rows)?,
            satisfaction: reader.column("satisfaction", rows)?,
            exempt: reader.column("exempt", rows)?,
            number: None,
            dispatched_at: None,
            finished_at: None,
            finish_deadline: None,
        };
        if cols.other_times {
            t.dispatched_at = Some(reader.column("dispatched_at", rows)?);
            t.finished_at = Some(reader.column("finished_at", rows)?);
            t.finish_deadline = Some(reader.column("finish_deadline", rows)?);
        }
        if cols.number {
            let offsets: Vec<u32> = reader.column("number_offsets", rows + 1)?;
            let len = offsets.last().copied().unwrap_or(0) as usize;
            let bytes: Vec<u8> = reader.column("number_bytes", len)?;
            let mut v = Vec::with_capacity(rows);
            for w in offsets.windows(2) {
                let s = bytes
                    .get(w[0] as usize..w[1] as usize)
                    .ok_or_else(|| ferr("number offsets out of range".into()))?;
                v.push(
                    String::from_utf8(s.to_vec())
                        .map_err(|_| ferr("a ticket number is not UTF-8".into()))?,
                );
            }
            t.number = Some(v);
        }
        let n_codes = t.codes.len() as u32;
        let n_cats = t.categories.len() as u32;
        if t.unit
            .iter()
            .chain(&t.district)
            .chain(&t.street)
            .any(|&c| c >= n_codes)
            || t.category.iter().any(|&c| c >= n_cats)
        {
            return Err(ferr(
                "a dictionary id is out of range (corrupt file)".into(),
            ));
        }
        Ok((t, header))
    }
}

fn read_head(f: &mut std::fs::File, path: &Path) -> Result<(FileHeader, u64), FactError> {
    let ferr = |m: String| FactError::File {
        path: path.display().to_string(),
        message: m,
    };
    let mut pre = [0u8; 12];
    f.read_exact(&mut pre)
        .map_err(|_| ferr("too short to be a fact file".into()))?;
    if &pre[..8] != MAGIC {
        return Err(ferr("not a jiesu fact file (bad magic)".into()));
    }
    let n = u32::from_le_bytes([pre[8], pre[9], pre[10], pre[11]]) as usize;
    if n > 256 << 20 {
        return Err(ferr("header too large".into()));
    }
    let mut head = vec![0u8; n];
    f.read_exact(&mut head)?;
    let header: FileHeader =
        serde_json::from_slice(&head).map_err(|e| ferr(format!("bad header: {e}")))?;
    if header.version != FORMAT_VERSION {
        return Err(ferr(format!(
            "format version {} (this build reads {FORMAT_VERSION})",
            header.version
        )));
    }
    let start = (12 + n as u64).div_ceil(8) * 8;
    Ok((header, start))
}

fn le_i64(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
fn le_u32(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
/// A fixed-width column element: plain old data, any bit pattern valid.
trait Plain: Copy + Default {
    const WIDTH: usize;
    fn to_native(self) -> Self;
}

macro_rules! plain {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            const WIDTH: usize = std::mem::size_of::<$t>();
            fn to_native(self) -> Self {
                <$t>::from_le(self)
            }
        }
    )*};
}
plain!(u8, u16, u32, i64);

/// Reads columns of a `.jfacts` file straight into typed vectors.
struct ColumnReader<'a> {
    f: &'a mut std::fs::File,
    dir: HashMap<&'a str, &'a ColumnEntry>,
    data_start: u64,
    path: &'a Path,
}

impl ColumnReader<'_> {
    fn column<T: Plain>(&mut self, name: &str, len: usize) -> Result<Vec<T>, FactError> {
        let ferr = |m: String| FactError::File {
            path: self.path.display().to_string(),
            message: m,
        };
        let c = self
            .dir
            .get(name)
            .ok_or_else(|| ferr(format!("no column {name}")))?;
        if c.bytes as usize != len * T::WIDTH {
            return Err(ferr(format!(
                "column {name} has {} bytes, expected {}",
                c.bytes,
                len * T::WIDTH
            )));
        }
        self.f.seek(SeekFrom::Start(self.data_start + c.offset))?;
        let mut v = vec![T::default(); len];
        // SAFETY: `T` is one of u8/u16/u32/i64 (the sealed `Plain` impls): every bit pattern is a
        // valid value, there is no padding, and the byte view covers exactly the vector's
        // initialised elements; it is dropped before `v` is used again.
        let bytes =
            unsafe { std::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, len * T::WIDTH) };
        self.f.read_exact(bytes)?;
        if cfg!(target_endian = "big") {
            for x in &mut v {
                *x = x.to_native();
            }
        }
        Ok(v)
    }
}

/// The JSON header of a `.jfacts` file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FileHeader {
    pub version: u32,
    pub rows: u64,
    pub from_ms: i64,
    pub to_ms: i64,
    /// The database state the facts were read at ([`db_fingerprint`]).
    /// (No build time: the fingerprint says which state the file holds, and the scoring crate
    /// does not read the machine's clock.)
    pub fingerprint: String,
    pub codes: Vec<String>,
    pub categories: Vec<String>,
    pub columns: Vec<ColumnEntry>,
}

/// One column's place in the file (offset from the start of the data area).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnEntry {
    pub name: String,
    pub elem: String,
    pub offset: u64,
    pub bytes: u64,
}

/// The database's state as far as facts are concerned: the last event written (the event log is
/// append-only, so any change to any ticket moves it). Cheap: one lookup at the end of the log.
pub fn db_fingerprint(store: &dyn Store) -> Result<String, FactError> {
    Ok(store.fact_fingerprint()?)
}

/// The fact-file cache directory of a database: `<db>.facts/`.
pub fn cache_dir(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".facts");
    PathBuf::from(s)
}

/// The cache file of a range: `<db>.facts/<from>_<to>.jfacts` (UTC, compact).
pub fn cache_file(db: &Path, from: DateTime<Utc>, to: DateTime<Utc>) -> PathBuf {
    let f = |t: DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
    cache_dir(db).join(format!("{}_{}.jfacts", f(from), f(to)))
}

/// How [`load_facts`] may use the fact-file cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Read a fresh cache file, else read the database and (try to) write the file.
    Use,
    /// Always read the database; do not touch the cache.
    Bypass,
    /// Read the database and rewrite the cache file.
    Refresh,
}

/// Where loaded facts came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FactSource {
    /// A fresh cache file.
    Cache(PathBuf),
    /// The database (and the cache file written, if any).
    Database { written: Option<PathBuf> },
}

/// Loads the facts of tickets first dispatched in `[from, to)`: from the cache file beside the
/// database when it was built at the database's current state, else from the database.
pub fn load_facts(
    store: &dyn Store,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cols: Columns,
    mode: CacheMode,
) -> Result<(FactTable, FactSource), FactError> {
    let db = store.path().to_path_buf();
    let file = cache_file(&db, from, to);
    let fp = db_fingerprint(store)?;
    if mode == CacheMode::Use && file.exists() {
        if let Ok((t, h)) = FactTable::read_file(&file, cols) {
            if h.fingerprint == fp
                && t.from_ms == from.timestamp_millis()
                && t.to_ms == to.timestamp_millis()
            {
                return Ok((t, FactSource::Cache(file)));
            }
        }
    }
    let t = FactTable::from_store(store, from, to)?;
    let mut written = None;
    if mode != CacheMode::Bypass {
        let ok =
            std::fs::create_dir_all(cache_dir(&db)).is_ok() && t.write_file(&file, &fp).is_ok();
        if ok {
            written = Some(file);
        }
    }
    Ok((t, FactSource::Database { written }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_time_parse_agrees_with_chrono() {
        for s in [
            "2026-11-28T02:28:04.123Z",
            "2020-02-29T23:59:59.999Z",
            "1999-12-31T00:00:00Z",
            "2026-01-01T00:00:00.000Z",
        ] {
            let want = DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
            assert_eq!(parse_ms(s), Some(want), "{s}");
        }
        assert_eq!(
            parse_ms("2026-11-28T10:28:04.123+08:00"),
            parse_ms("2026-11-28T02:28:04.123Z")
        );
        assert_eq!(parse_ms("nonsense"), None);
        assert_eq!(
            fmt_ms(parse_ms("2026-11-28T02:28:04.123Z").unwrap()),
            "2026-11-28T02:28:04.123Z"
        );
    }
}
