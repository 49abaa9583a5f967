//! Legacy import mappings (`jiesu import csv`), pure: no database, no clock, no files. A TOML
//! mapping (docs/IMPORT.md) says which of another system's columns give a ticket's key, times,
//! status, category, unit, place, channel and texts; [`prepare`] checks a whole export against
//! it — encoding, quotes, the columns it names, every date — and either rejects the file with
//! line numbers or maps every row, recording which fields fell back and why. Building the tickets
//! through the domain's commands is the crate root's work ([`crate::import`]).

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// A mapping file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The source system's name, recorded with every imported row's key.
    pub source: String,
    /// `auto` (UTF-8 with or without BOM, else GBK), `utf-8` or `gbk`.
    #[serde(default)]
    pub encoding: EncodingChoice,
    /// The column whose value identifies a row in the source system.
    pub key: String,
    pub time: TimeMap,
    pub text: TextMap,
    pub status: ValueTable<Stage>,
    pub category: ValueTable<String>,
    pub unit: ValueTable<String>,
    pub place: ValueTable<PlaceCodes>,
    pub channel: ValueTable<String>,
    /// The position's columns (WGS84 degrees), kept as the ticket's place `lat`/`lng`.
    #[serde(default)]
    pub position: Option<PositionMap>,
}

/// 位置 — the columns of a row's position (decimal degrees, WGS84).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionMap {
    pub latitude: String,
    pub longitude: String,
}

/// The file's encoding, as the mapping states it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EncodingChoice {
    #[default]
    Auto,
    #[serde(alias = "utf8")]
    Utf8,
    Gbk,
}

/// Time columns, their format and the source's time zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeMap {
    /// A chrono `strftime` format (`%m/%d/%y %H:%M`); a date-only format means midnight.
    pub format: String,
    /// The IANA zone the source's local times are in.
    pub zone: String,
    pub created: String,
    #[serde(default)]
    pub closed: Option<String>,
    #[serde(default)]
    pub due: Option<String>,
}

/// Texts: templates of `{Column}` placeholders and literal text.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextMap {
    pub title: String,
    pub text: String,
    #[serde(default)]
    pub address: Option<String>,
    /// The unit's result text of a finished row.
    #[serde(default)]
    pub result: Option<String>,
    /// The request type's wire name (`complaint`, `help` …), a template.
    pub request_type: String,
    pub requester_name: String,
    pub requester_phone: String,
}

/// A value table: a column, its values mapped, and the default for values not in the table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "T: Deserialize<'de>"))]
pub struct ValueTable<T> {
    #[serde(default)]
    pub column: Option<String>,
    /// Further columns looked up in the same `values`, in order, when `column`'s value is not
    /// there (a postcode, else the district's name).
    #[serde(default)]
    pub also: Vec<String>,
    #[serde(default = "none")]
    pub default: Option<T>,
    #[serde(default = "BTreeMap::new")]
    pub values: BTreeMap<String, T>,
}

fn none<T>() -> Option<T> {
    None
}

/// Where a source value puts a ticket in the org tree.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceCodes {
    pub district: String,
    pub street: String,
    #[serde(default)]
    pub community: Option<String>,
}

/// How far an imported history goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Taken in, not dispatched (待派).
    New,
    /// Dispatched to the mapped unit at creation.
    Dispatched,
    /// Dispatched and signed by the unit.
    Signed,
    /// Dispatched, signed, and the unit's result submitted at the closed time (结果已提交): the
    /// centre's callback, which no export records, is what closes a dispatched ticket.
    Finished,
}

/// A whole-file rejection: every problem found, each with its line.
#[derive(Debug, Clone, Serialize)]
pub struct Rejection {
    pub errors: Vec<LineError>,
}

/// One problem of a rejected file (line 0: the mapping or the file as a whole).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LineError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "the file is rejected, nothing imported:")?;
        for e in &self.errors {
            if e.line > 0 {
                writeln!(f, "  line {}: {}", e.line, e.message)?;
            } else {
                writeln!(f, "  {}", e.message)?;
            }
        }
        Ok(())
    }
}

fn reject(line: u64, message: impl Into<String>) -> Rejection {
    Rejection {
        errors: vec![LineError {
            line,
            message: message.into(),
        }],
    }
}

/// At most this many problems are listed.
const MAX_ERRORS: usize = 20;

/// One row, mapped.
#[derive(Debug, Clone)]
pub struct MappedRow {
    pub line: u64,
    pub key: String,
    pub created: DateTime<Utc>,
    pub closed: Option<DateTime<Utc>>,
    pub due: Option<DateTime<Utc>>,
    pub stage: Stage,
    pub category: String,
    pub unit: Option<String>,
    pub place: PlaceCodes,
    pub address: Option<String>,
    /// (latitude, longitude) when the mapping names the columns and both hold a coordinate.
    pub position: Option<(f64, f64)>,
    pub channel: String,
    pub request_type: String,
    pub title: String,
    pub text: String,
    pub result: Option<String>,
    pub requester_name: String,
    pub requester_phone: String,
    /// (field, reason) of every value that fell back.
    pub fallbacks: Vec<(String, String)>,
    /// (field, source value) of every value no table maps.
    pub unmapped: Vec<(String, String)>,
}

/// A row that is not imported.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct NotMapped {
    pub line: u64,
    pub key: String,
    pub reason: String,
}

/// A file checked and mapped.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub encoding: &'static str,
    pub rows: Vec<MappedRow>,
    pub not_mapped: Vec<NotMapped>,
}

impl Mapping {
    /// Reads a mapping and checks what can be checked without the file.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| e.to_string())?;
        if m.source.trim().is_empty() {
            return Err("`source` must name the source system".into());
        }
        m.time
            .zone
            .parse::<chrono_tz::Tz>()
            .map_err(|_| format!("time.zone: unknown IANA time zone {:?}", m.time.zone))?;
        if m.status.column.is_none() && m.status.default.is_none() {
            return Err("status: give a column or a default stage".into());
        }
        if m.category.default.is_none() && m.category.column.is_none() {
            return Err("category: give a column or a default code".into());
        }
        Ok(m)
    }

    /// Every column the mapping reads: key, time columns, table columns, template placeholders.
    pub fn columns(&self) -> Vec<String> {
        let mut c = vec![self.key.clone(), self.time.created.clone()];
        c.extend(self.time.closed.clone());
        c.extend(self.time.due.clone());
        c.extend(self.status.column.clone());
        c.extend(self.category.column.clone());
        c.extend(self.unit.column.clone());
        c.extend(self.place.column.clone());
        c.extend(self.channel.column.clone());
        if let Some(p) = &self.position {
            c.push(p.latitude.clone());
            c.push(p.longitude.clone());
        }
        for t in [
            &self.status.also,
            &self.category.also,
            &self.unit.also,
            &self.place.also,
            &self.channel.also,
        ] {
            c.extend(t.iter().cloned());
        }
        let t = &self.text;
        for tpl in [
            Some(&t.title),
            Some(&t.text),
            t.address.as_ref(),
            t.result.as_ref(),
            Some(&t.request_type),
            Some(&t.requester_name),
            Some(&t.requester_phone),
        ]
        .into_iter()
        .flatten()
        {
            c.extend(placeholders(tpl));
        }
        let mut seen = std::collections::HashSet::new();
        c.retain(|x| seen.insert(x.clone()));
        c
    }
}

/// The `{Column}` names of a template (`{{` and `}}` are literal braces).
pub fn placeholders(tpl: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = tpl.replace("{{", "").replace("}}", "");
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else { break };
        out.push(rest[i + 1..i + j].to_string());
        rest = rest[i + j + 1..].to_string();
    }
    out
}

/// Fills a template from a row; whitespace runs become one space, and separators left dangling by
/// empty values (`: `, `, `) are trimmed from both ends.
pub fn render(tpl: &str, get: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut chars = tpl.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let name: String = chars.by_ref().take_while(|c| *c != '}').collect();
                out.push_str(get(&name).trim());
            }
            c => out.push(c),
        }
    }
    let mut joined = out.split_whitespace().collect::<Vec<_>>().join(" ");
    // separators around an empty value: "a, , b" → "a, b", "a: . b" → "a. b"
    for (from, to) in [
        (", ,", ","),
        (" ,", ","),
        (": .", "."),
        (". .", "."),
        (" .", "."),
    ] {
        while joined.contains(from) {
            joined = joined.replace(from, to);
        }
    }
    joined
        .trim_matches(|c: char| c.is_whitespace() || ",;:-—|/".contains(c))
        .to_string()
}

/// Decodes the file: UTF-8 (a BOM removed) or GBK, as the mapping says or detected.
pub fn decode(bytes: &[u8], choice: EncodingChoice) -> Result<(String, &'static str), Rejection> {
    let line_of = |upto: usize| 1 + bytes[..upto].iter().filter(|b| **b == b'\n').count() as u64;
    let mut utf8_error = None;
    if choice != EncodingChoice::Gbk {
        let (body, bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
            Some(b) => (b, true),
            None => (bytes, false),
        };
        match std::str::from_utf8(body) {
            Ok(s) => return Ok((s.to_string(), if bom { "utf-8-bom" } else { "utf-8" })),
            Err(e) => {
                let at = e.valid_up_to() + if bom { 3 } else { 0 };
                if choice == EncodingChoice::Utf8 || bom {
                    return Err(reject(
                        line_of(at),
                        format!("not UTF-8 (byte {} is invalid)", at + 1),
                    ));
                }
                utf8_error = Some(at);
            }
        }
    }
    if let Some(s) = encoding_rs::GBK.decode_without_bom_handling_and_without_replacement(bytes) {
        return Ok((s.into_owned(), "gbk"));
    }
    if let Some(at) = utf8_error {
        // neither: the file reads as UTF-8 up to here
        return Err(reject(
            line_of(at),
            format!("neither UTF-8 (byte {} is invalid) nor GBK", at + 1),
        ));
    }
    // the first line that is not GBK
    for (i, l) in bytes.split(|b| *b == b'\n').enumerate() {
        if encoding_rs::GBK
            .decode_without_bom_handling_and_without_replacement(l)
            .is_none()
        {
            return Err(reject(i as u64 + 1, "not GBK"));
        }
    }
    Err(reject(0, "the file is not GBK"))
}

/// An unterminated quoted field (RFC 4180: a quote opens a field only at its start): the line
/// where it opened. Written by hand because the `csv` crate accepts one silently (the field runs to
/// the end of the file, swallowing every later row) and a swallowed file must be rejected.
pub fn unterminated_quote(text: &str) -> Option<u64> {
    let mut line = 1u64;
    let mut in_quote = false;
    let mut opened = 0;
    let mut at_field_start = true;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quote {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    in_quote = false;
                }
            } else if c == '\n' {
                line += 1;
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quote = true;
                opened = line;
                at_field_start = false;
            }
            ',' => at_field_start = true,
            '\n' => {
                line += 1;
                at_field_start = true;
            }
            '\r' => {}
            _ => at_field_start = false,
        }
    }
    in_quote.then_some(opened)
}

/// Parses a local time of the source.
pub fn parse_time(value: &str, format: &str, tz: chrono_tz::Tz) -> Result<DateTime<Utc>, String> {
    let naive = NaiveDateTime::parse_from_str(value, format)
        .or_else(|_| {
            NaiveDate::parse_from_str(value, format).map(|d| d.and_time(Default::default()))
        })
        .map_err(|_| format!("{value:?} does not match the format {format:?}"))?;
    tz.from_local_datetime(&naive)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{value:?} does not exist in {tz} (a clock change)"))
}

/// Checks the whole file against the mapping and maps every row; rejects the file on any problem
/// of the file itself (encoding, quotes, columns, record lengths, dates).
pub fn prepare(m: &Mapping, bytes: &[u8]) -> Result<Prepared, Rejection> {
    let (text, encoding) = decode(bytes, m.encoding)?;
    if let Some(line) = unterminated_quote(&text) {
        return Err(reject(line, "a quoted field opened here is never closed"));
    }
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = rdr
        .headers()
        .map_err(|e| reject(1, format!("cannot read the header: {e}")))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let idx: HashMap<&str, usize> = header
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i))
        .collect();
    let missing: Vec<String> = m
        .columns()
        .into_iter()
        .filter(|c| !idx.contains_key(c.as_str()))
        .collect();
    if !missing.is_empty() {
        return Err(reject(
            1,
            format!(
                "the header lacks the column(s) the mapping names: {}",
                missing.join(", ")
            ),
        ));
    }
    let tz: chrono_tz::Tz = m.time.zone.parse().expect("checked by from_toml");
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut not_mapped = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                errors.push(LineError {
                    line,
                    message: match e.kind() {
                        csv::ErrorKind::UnequalLengths {
                            expected_len, len, ..
                        } => format!("{len} fields, the header has {expected_len}"),
                        _ => e.to_string(),
                    },
                });
                if errors.len() >= MAX_ERRORS {
                    break;
                }
                continue;
            }
        };
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let get = |c: &str| -> String {
            idx.get(c)
                .and_then(|i| rec.get(*i))
                .unwrap_or("")
                .trim()
                .to_string()
        };
        // dates first: a date in another format rejects the file
        let mut time = |col: &Option<String>| -> Option<DateTime<Utc>> {
            let c = col.as_deref()?;
            let v = get(c);
            if v.is_empty() {
                return None;
            }
            match parse_time(&v, &m.time.format, tz) {
                Ok(t) => Some(t),
                Err(e) => {
                    errors.push(LineError {
                        line,
                        message: format!("{c}: {e}"),
                    });
                    None
                }
            }
        };
        let created = time(&Some(m.time.created.clone()));
        let closed = time(&m.time.closed);
        let due = time(&m.time.due);
        if errors.len() >= MAX_ERRORS {
            break;
        }
        if !errors.is_empty() {
            continue;
        }
        let key = get(&m.key);
        let not = |reason: String| NotMapped {
            line,
            key: key.clone(),
            reason,
        };
        if key.is_empty() {
            not_mapped.push(not(format!("{}: empty key", m.key)));
            continue;
        }
        if let Some(first) = seen.get(&key) {
            not_mapped.push(not(format!("key {key} repeats line {first}")));
            continue;
        }
        seen.insert(key.clone(), line);
        let Some(created) = created else {
            not_mapped.push(not(format!("{}: empty", m.time.created)));
            continue;
        };
        match map_row(m, &get) {
            Ok(mut r) => {
                r.line = line;
                r.key = key;
                r.created = created;
                r.due = due;
                if let Some(c) = closed {
                    if c < created {
                        r.fallbacks.push((
                            "closed".into(),
                            "closed before created: created time used".into(),
                        ));
                    }
                    r.closed = Some(c.max(created));
                }
                if r.stage == Stage::Finished && r.closed.is_none() {
                    r.stage = Stage::Signed;
                    r.fallbacks.push((
                        "status".into(),
                        "finished without a closed time: kept as signed".into(),
                    ));
                }
                if r.stage != Stage::Finished && r.closed.is_some() {
                    r.fallbacks.push((
                        "closed".into(),
                        "closed time of a row whose status is not finished: ignored".into(),
                    ));
                    r.closed = None;
                }
                if let Some(d) = r.due {
                    if d <= created {
                        r.fallbacks.push((
                            "due".into(),
                            "due date not after creation: the policy's deadline used".into(),
                        ));
                        r.due = None;
                    }
                }
                rows.push(r);
            }
            Err(reason) => not_mapped.push(not(reason)),
        }
    }
    if !errors.is_empty() {
        return Err(Rejection { errors });
    }
    Ok(Prepared {
        encoding,
        rows,
        not_mapped,
    })
}

/// Looks a value up in a table: the mapped value, else the default with a fallback reason.
fn lookup<T: Clone>(
    field: &str,
    t: &ValueTable<T>,
    get: &dyn Fn(&str) -> String,
    fallbacks: &mut Vec<(String, String)>,
    unmapped: &mut Vec<(String, String)>,
) -> Option<T> {
    let Some(col) = &t.column else {
        return t.default.clone();
    };
    let v = get(col);
    if let Some(x) = t.values.get(&v) {
        return Some(x.clone());
    }
    for c in &t.also {
        if let Some(x) = t.values.get(&get(c)) {
            return Some(x.clone());
        }
    }
    unmapped.push((field.to_string(), v.clone()));
    let shown = if v.is_empty() {
        "empty".to_string()
    } else {
        format!("{v:?}")
    };
    if t.default.is_some() {
        fallbacks.push((
            field.to_string(),
            format!("{col} {shown} not in the table: default used"),
        ));
    }
    t.default.clone()
}

fn map_row(m: &Mapping, get: &dyn Fn(&str) -> String) -> Result<MappedRow, String> {
    let mut fb = Vec::new();
    let mut unmapped = Vec::new();
    let unmapped = &mut unmapped;
    let stage = lookup("status", &m.status, get, &mut fb, unmapped)
        .ok_or_else(|| "status: value not in the table and no default".to_string())?;
    let category = lookup("category", &m.category, get, &mut fb, unmapped)
        .ok_or_else(|| "category: value not in the table and no default".to_string())?;
    let unit = lookup("unit", &m.unit, get, &mut fb, unmapped);
    let stage = match (stage, &unit) {
        (s, None) if s != Stage::New => {
            fb.push((
                "unit".into(),
                "no unit for the value and no default: not dispatched".into(),
            ));
            Stage::New
        }
        (s, _) => s,
    };
    let place = lookup("place", &m.place, get, &mut fb, unmapped)
        .ok_or_else(|| "place: value not in the table and no default".to_string())?;
    let channel = lookup("channel", &m.channel, get, &mut fb, unmapped)
        .ok_or_else(|| "channel: value not in the table and no default".to_string())?;
    let t = &m.text;
    let mut title = render(&t.title, get);
    if title.is_empty() {
        title = format!("{} {}", m.source, get(&m.key));
        fb.push(("title".into(), "empty: source and key used".into()));
    }
    if title.chars().count() > jiesu_domain::ticket::MAX_TITLE_CHARS {
        title = title
            .chars()
            .take(jiesu_domain::ticket::MAX_TITLE_CHARS)
            .collect();
        fb.push(("title".into(), "too long: cut".into()));
    }
    let mut text = render(&t.text, get);
    if text.is_empty() {
        text = title.clone();
        fb.push(("text".into(), "empty: the title used".into()));
    }
    if text.chars().count() > jiesu_domain::ticket::MAX_TEXT_CHARS {
        text = text
            .chars()
            .take(jiesu_domain::ticket::MAX_TEXT_CHARS)
            .collect();
        fb.push(("text".into(), "too long: cut".into()));
    }
    let address = t
        .address
        .as_ref()
        .map(|a| render(a, get))
        .filter(|a| !a.is_empty());
    let result = t
        .result
        .as_ref()
        .map(|a| render(a, get))
        .filter(|a| !a.is_empty());
    let position = m.position.as_ref().and_then(|p| {
        let (a, b) = (get(&p.latitude), get(&p.longitude));
        if a.is_empty() && b.is_empty() {
            return None; // no position recorded: nothing falls back
        }
        match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(lat), Ok(lng))
                if (-90.0..=90.0).contains(&lat)
                    && (-180.0..=180.0).contains(&lng)
                    && lat.is_finite()
                    && lng.is_finite() =>
            {
                Some((lat, lng))
            }
            _ => {
                fb.push((
                    "position".into(),
                    "not a latitude/longitude pair: left out".into(),
                ));
                None
            }
        }
    });
    Ok(MappedRow {
        line: 0,
        key: String::new(),
        created: DateTime::<Utc>::MIN_UTC,
        closed: None,
        due: None,
        stage,
        category,
        unit,
        place,
        address,
        position,
        channel,
        request_type: render(&t.request_type, get),
        title,
        text,
        result,
        requester_name: render(&t.requester_name, get),
        requester_phone: render(&t.requester_phone, get),
        fallbacks: fb,
        unmapped: std::mem::take(unmapped),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"
source = "test"
key = "id"
[time]
format = "%Y-%m-%d %H:%M"
zone = "Asia/Shanghai"
created = "created"
closed = "closed"
[text]
title = "{kind}: {what}"
text = "{what}"
address = "{addr}"
request_type = "complaint"
requester_name = "市民"
requester_phone = "01012345678"
[status]
column = "status"
default = "dispatched"
values = { "办结" = "finished", "待派" = "new" }
[category]
column = "kind"
default = "0705"
values = { "噪音" = "1301" }
[unit]
column = "dept"
values = { "环保" = "CD010" }
[place]
column = "district"
default = { district = "110105", street = "110105001" }
values = { "东城" = { district = "110101", street = "110101001" } }
[channel]
default = "phone"
"#;

    fn m() -> Mapping {
        Mapping::from_toml(MAPPING).unwrap()
    }

    const HEAD: &str = "id,created,closed,status,kind,what,addr,dept,district\n";

    #[test]
    fn templates_fill_and_trim_dangling_separators() {
        let get = |c: &str| match c {
            "a" => "Noise".to_string(),
            _ => String::new(),
        };
        assert_eq!(render("{a}: {b}", &get), "Noise");
        assert_eq!(render("{b}: {a}", &get), "Noise");
        assert_eq!(render("{{x}} {a}", &get), "{x} Noise");
        assert_eq!(render("{a}: {b}. {b}. End", &get), "Noise. End");
        assert_eq!(render("{b}, {a} {b}, {b}", &get), "Noise");
        assert_eq!(placeholders("{a} and {b c}"), vec!["a", "b c"]);
    }

    #[test]
    fn maps_rows_and_records_fallbacks() {
        let csv = format!(
            "{HEAD}1,2024-05-01 08:00,2024-05-01 10:00,办结,噪音,夜间施工,某路1号,环保,东城\n\
             2,2024-05-01 09:00,,处理中,其他,问题,,交通,西城\n"
        );
        let p = prepare(&m(), csv.as_bytes()).unwrap();
        assert_eq!(p.encoding, "utf-8");
        assert_eq!(p.rows.len(), 2);
        let a = &p.rows[0];
        assert_eq!((a.line, a.key.as_str()), (2, "1"));
        assert_eq!(a.stage, Stage::Finished);
        assert_eq!(a.category, "1301");
        assert_eq!(a.unit.as_deref(), Some("CD010"));
        assert_eq!(a.place.district, "110101");
        assert_eq!(a.title, "噪音: 夜间施工");
        assert_eq!(a.created.to_rfc3339(), "2024-05-01T00:00:00+00:00");
        assert!(a.fallbacks.is_empty(), "{:?}", a.fallbacks);
        let b = &p.rows[1];
        // status unmapped → default (dispatched) but no unit → new; category, place default
        assert_eq!(b.stage, Stage::New);
        assert_eq!(b.category, "0705");
        let fields: Vec<&str> = b.fallbacks.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(fields, vec!["status", "category", "unit", "place"]);
        assert!(b.unmapped.contains(&("category".into(), "其他".into())));
    }

    #[test]
    fn further_columns_are_tried_in_order() {
        let text = MAPPING.replace(
            "column = \"district\"\n",
            "column = \"addr\"\nalso = [\"district\"]\n",
        );
        let mut mp = Mapping::from_toml(&text).unwrap();
        mp.place.values.insert(
            "100010".into(),
            PlaceCodes {
                district: "110101".into(),
                street: "110101002".into(),
                community: None,
            },
        );
        let csv = format!(
            "{HEAD}1,2024-05-01 08:00,,,噪音,x,100010,环保,西城\n\
             2,2024-05-01 08:00,,,噪音,x,999999,环保,东城\n\
             3,2024-05-01 08:00,,,噪音,x,999999,环保,西城\n"
        );
        let p = prepare(&mp, csv.as_bytes()).unwrap();
        assert_eq!(p.rows[0].place.street, "110101002");
        assert_eq!(p.rows[1].place.street, "110101001");
        assert!(!p.rows[1].fallbacks.iter().any(|f| f.0 == "place"));
        assert_eq!(p.rows[2].place.district, "110105");
        assert!(p.rows[2]
            .unmapped
            .contains(&("place".to_string(), "999999".to_string())));
        // a further column the header lacks rejects the file
        let e = prepare(&mp, b"id,created,closed,status,kind,what,addr,dept\n").unwrap_err();
        assert!(e.errors[0].message.contains("district"), "{e}");
    }

    #[test]
    fn a_mapped_position_is_kept_and_a_bad_one_falls_back() {
        let text = format!("{MAPPING}\n[position]\nlatitude = \"lat\"\nlongitude = \"lng\"\n");
        let mp = Mapping::from_toml(&text).unwrap();
        let head = HEAD.replace('\n', ",lat,lng\n");
        let csv = format!(
            "{head}1,2024-05-01 08:00,,,噪音,x,,环保,东城,39.92,116.44\n\
             2,2024-05-01 08:00,,,噪音,x,,环保,东城,,\n\
             3,2024-05-01 08:00,,,噪音,x,,环保,东城,north,116.44\n\
             4,2024-05-01 08:00,,,噪音,x,,环保,东城,95,116.44\n"
        );
        let p = prepare(&mp, csv.as_bytes()).unwrap();
        assert_eq!(p.rows[0].position, Some((39.92, 116.44)));
        assert!(!p.rows[0].fallbacks.iter().any(|f| f.0 == "position"));
        // no position recorded: none, and nothing fell back
        assert_eq!(p.rows[1].position, None);
        assert!(!p.rows[1].fallbacks.iter().any(|f| f.0 == "position"));
        for r in &p.rows[2..] {
            assert_eq!(r.position, None);
            assert!(r.fallbacks.iter().any(|f| f.0 == "position"), "{r:?}");
        }
        // the header must have the position's columns
        let e = prepare(&mp, HEAD.as_bytes()).unwrap_err();
        assert!(e.errors[0].message.contains("lat"), "{e}");
    }

    #[test]
    fn repeated_and_empty_keys_are_not_mapped() {
        let csv = format!(
            "{HEAD}1,2024-05-01 08:00,,办结,噪音,x,,环保,东城\n1,2024-05-01 08:00,,,,y,,,\n,2024-05-01 08:00,,,,z,,,\n"
        );
        let p = prepare(&m(), csv.as_bytes()).unwrap();
        assert_eq!(p.rows.len(), 1);
        // finished without a closed time → signed
        assert_eq!(p.rows[0].stage, Stage::Signed);
        assert_eq!(p.not_mapped.len(), 2);
        assert_eq!(p.not_mapped[0].line, 3);
        assert!(p.not_mapped[0].reason.contains("repeats line 2"));
        assert_eq!(p.not_mapped[1].line, 4);
    }

    #[test]
    fn bad_files_are_rejected_with_lines() {
        let bad_date = format!("{HEAD}1,2024-05-01 08:00,,,,x,,,\n2,05/01/2024,,,,y,,,\n");
        let e = prepare(&m(), bad_date.as_bytes()).unwrap_err();
        assert_eq!(e.errors[0].line, 3);
        assert!(e.errors[0].message.contains("created"));
        let quote = format!("{HEAD}1,2024-05-01 08:00,,,,\"x,,,\n2,2024-05-01 08:00,,,,y,,,\n");
        let e = prepare(&m(), quote.as_bytes()).unwrap_err();
        assert_eq!(e.errors[0].line, 2);
        assert!(e.errors[0].message.contains("never closed"));
        let e = prepare(&m(), b"a,b\n\"broken\n").unwrap_err();
        assert_eq!(e.errors[0].line, 2);
        let e = prepare(&m(), b"id,created\n1,2024-05-01 08:00\n").unwrap_err();
        assert!(e.errors[0].message.contains("status"), "{e}");
        let short = format!("{HEAD}1,2024-05-01 08:00\n");
        assert_eq!(
            prepare(&m(), short.as_bytes()).unwrap_err().errors[0].line,
            2
        );
    }

    #[test]
    fn encodings_utf8_bom_and_gbk() {
        let csv = format!("{HEAD}1,2024-05-01 08:00,,,噪音,夜间施工,,环保,东城\n");
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(csv.as_bytes());
        let p = prepare(&m(), &bom).unwrap();
        assert_eq!(p.encoding, "utf-8-bom");
        assert_eq!(p.rows[0].category, "1301");
        let (gbk, _, _) = encoding_rs::GBK.encode(&csv);
        let p = prepare(&m(), &gbk).unwrap();
        assert_eq!(p.encoding, "gbk");
        assert_eq!(p.rows[0].title, "噪音: 夜间施工");
        let mut mu = m();
        mu.encoding = EncodingChoice::Utf8;
        let e = prepare(&mu, &gbk).unwrap_err();
        assert_eq!(e.errors[0].line, 2);
        // a lone 0xFF is neither
        let e = prepare(&m(), b"id\n\xFF\n").unwrap_err();
        assert_eq!(e.errors[0].line, 2);
    }

    #[test]
    fn source_zone_applies() {
        let ny: chrono_tz::Tz = "America/New_York".parse().unwrap();
        let t = parse_time("10/21/18 0:59", "%m/%d/%y %H:%M", ny).unwrap();
        assert_eq!(t.to_rfc3339(), "2018-10-21T04:59:00+00:00");
        assert!(parse_time("2018-10-21", "%m/%d/%y %H:%M", ny).is_err());
        let d = parse_time("2018-10-21", "%Y-%m-%d", ny).unwrap();
        assert_eq!(d.to_rfc3339(), "2018-10-21T04:00:00+00:00");
    }
}
