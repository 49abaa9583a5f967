//! 分析事实 — one row per ticket with every dimension the dashboards and reports group by, stored
//! as columns of small integers (dictionary codes), one [`FactPartition`] per city-local month of
//! creation. A change to a ticket rewrites only the partition of the month it was created in.
//!
//! Nothing here is personal data: the requester is a dense number standing for the keyed hash of
//! the phone (`tickets.phone_hash`), enough to count distinct and repeat requesters, never the
//! phone.

use chrono::NaiveDate;
use jiesu_domain::org::UnitKind;
use jiesu_domain::state::Status;
use jiesu_domain::ticket::{Channel, DeadlineTier, RequestType, Resolution, Satisfaction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

pub use crate::column::{Column, ColumnBytes};

/// A city-local calendar month (the partition key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LocalMonth {
    /// The year, e.g. 2026.
    pub year: i32,
    /// 1–12.
    pub month: u32,
}

impl LocalMonth {
    /// The month a city-local date falls in.
    pub fn of(d: NaiveDate) -> Self {
        use chrono::Datelike;
        LocalMonth {
            year: d.year(),
            month: d.month(),
        }
    }
    /// `YYYY-MM`.
    pub fn key(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
    /// Parses `YYYY-MM`.
    pub fn parse(s: &str) -> Option<Self> {
        let (y, m) = s.split_once('-')?;
        let (year, month) = (y.parse().ok()?, m.parse().ok()?);
        ((1..=12).contains(&month) && (1000..=9999).contains(&year) && m.len() == 2)
            .then_some(LocalMonth { year, month })
    }
    /// The next month.
    pub fn next(self) -> Self {
        if self.month == 12 {
            LocalMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            LocalMonth {
                year: self.year,
                month: self.month + 1,
            }
        }
    }
    /// The first day.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }
}

/// A dictionary of codes (unit, place or category codes): code ↔ dense `u16` id. Id 0 is "none"
/// (the empty code), so an absent value needs no option.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dict {
    codes: Vec<String>,
    #[serde(skip)]
    index: HashMap<String, u16>,
}

impl Dict {
    /// A dictionary holding only "none".
    pub fn new() -> Self {
        let mut d = Dict::default();
        d.codes.push(String::new());
        d.index.insert(String::new(), 0);
        d
    }
    /// The id of `code`, adding it if new; `None` once 65,535 codes are held.
    pub fn intern(&mut self, code: &str) -> Option<u16> {
        if let Some(&i) = self.index.get(code) {
            return Some(i);
        }
        let i = u16::try_from(self.codes.len()).ok()?;
        self.codes.push(code.to_string());
        self.index.insert(code.to_string(), i);
        Some(i)
    }
    /// The id of a known code.
    pub fn id(&self, code: &str) -> Option<u16> {
        self.index.get(code).copied()
    }
    /// The code of an id ("" for 0).
    pub fn code(&self, id: u16) -> &str {
        self.codes
            .get(usize::from(id))
            .map(String::as_str)
            .unwrap_or("")
    }
    /// How many ids (including "none").
    pub fn len(&self) -> usize {
        self.codes.len()
    }
    /// Only "none".
    pub fn is_empty(&self) -> bool {
        self.codes.len() <= 1
    }
    /// Rebuilds the code → id index after deserializing.
    pub fn reindex(&mut self) {
        self.index = self
            .codes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), i as u16))
            .collect();
    }
}

/// One ticket's facts as the store reads them (the builder's input). Times are city-local.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFact {
    /// The ticket id (kept for drill-down to the tickets behind a figure).
    pub ticket_id: i64,
    /// City-local date and hour of creation.
    pub created_date: NaiveDate,
    /// 0–23.
    pub created_hour: u8,
    /// 受理渠道
    pub channel: Channel,
    /// 诉求类型
    pub request_type: RequestType,
    /// The leaf category code (its ancestors come from the category tree).
    pub category_code: String,
    /// 区 / 街道 / 社区 codes ("" when absent).
    pub district_code: String,
    /// 街道乡镇
    pub street_code: String,
    /// 社区村
    pub community_code: String,
    /// 主办单位 — the lead unit ("" when not dispatched) and its kind.
    pub lead_unit: String,
    /// The lead unit's kind, if dispatched.
    pub lead_unit_kind: Option<UnitKind>,
    /// The lead assignment's deadline tier, if dispatched.
    pub tier: Option<DeadlineTier>,
    /// The ticket's status.
    pub status: Status,
    /// 派单 — dispatched to at least one unit.
    pub dispatched: bool,
    /// 直接答复 — answered by the centre (knowledge base) without dispatch.
    pub answered_directly: bool,
    /// 企业诉求
    pub enterprise: bool,
    /// 超期 — a lead assignment finished after, or still open past, its deadline.
    pub overdue: bool,
    /// 退单 — returned by a unit at least once.
    pub returned: bool,
    /// 重办 — reopened at least once (round > 0).
    pub reopened: bool,
    /// 响应 — the lead unit contacted the requester before its respond deadline.
    pub responded_in_time: bool,
    /// 回访: contacted? (`None` when no callback yet).
    pub contacted: Option<bool>,
    /// 回访: resolved?
    pub resolution: Option<Resolution>,
    /// 回访: satisfied?
    pub satisfaction: Option<Satisfaction>,
    /// Seconds from first dispatch to the lead's 签收 / 响应 / 办结 (`None`: not yet, or not dispatched).
    pub secs_to_sign: Option<u32>,
    /// See `secs_to_sign`.
    pub secs_to_respond: Option<u32>,
    /// See `secs_to_sign`.
    pub secs_to_finish: Option<u32>,
    /// The requester: the keyed phone hash as stored (`None`: no phone). Mapped to a dense id.
    pub requester_hash: Option<Vec<u8>>,
}

/// Flag bits of [`FactPartition::flags`].
pub mod flag {
    /// 派单
    pub const DISPATCHED: u8 = 1;
    /// 直接答复
    pub const ANSWERED_DIRECTLY: u8 = 2;
    /// 企业诉求
    pub const ENTERPRISE: u8 = 4;
    /// 超期
    pub const OVERDUE: u8 = 8;
    /// 退单
    pub const RETURNED: u8 = 16;
    /// 重办
    pub const REOPENED: u8 = 32;
    /// 按时响应
    pub const RESPONDED_IN_TIME: u8 = 64;
}

/// "No value" in the duration columns.
pub const NO_DURATION: u32 = u32::MAX;

/// Runs `$body` with `$c` bound to each column of partition `$p` in turn (`ref`: shared, `mut`:
/// mutable), in the order [`FactPartition::layout`] writes them.
macro_rules! for_each_column {
    ($kind:tt $p:expr, |$c:ident| $body:expr) => {
        for_each_column!(@cols $kind $p, $c, $body, ticket_id, day, hour, channel, request_type,
            tier, status, flags, callback, category, street, district, community, lead_unit,
            secs_to_sign, secs_to_respond, secs_to_finish, requester)
    };
    (@cols $kind:tt $p:expr, $c:ident, $body:expr, $($col:ident),*) => {{
        $(for_each_column!(@one $kind $p, $col, $c, $body);)*
    }};
    (@one ref $p:expr, $col:ident, $c:ident, $body:expr) => {{
        let $c = &$p.$col;
        $body;
    }};
    (@one mut $p:expr, $col:ident, $c:ident, $body:expr) => {{
        let $c = &mut $p.$col;
        $body;
    }};
}

/// The facts of the tickets created in one city month, as columns (one entry per ticket, ordered
/// by ticket id). Enum columns hold the enum's `ALL` position + 1 (0 = none). Codes are ids of the
/// shared dictionaries in [`TicketFacts`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FactPartition {
    /// The month.
    pub month: Option<LocalMonth>,
    /// Opaque: the store's generation of this month when read (compare for equality).
    pub generation: i64,
    /// Ticket ids.
    pub ticket_id: Column<i64>,
    /// Day of the month, 1–31 (city-local).
    pub day: Column<u8>,
    /// Hour, 0–23 (city-local).
    pub hour: Column<u8>,
    /// `Channel::ALL` position + 1.
    pub channel: Column<u8>,
    /// `RequestType::ALL` position + 1.
    pub request_type: Column<u8>,
    /// Leaf category id in [`TicketFacts::categories`].
    pub category: Column<u16>,
    /// Street id in [`TicketFacts::places`] (its district via [`TicketFacts::place_parent`]).
    pub street: Column<u16>,
    /// District id in [`TicketFacts::places`] (for tickets with a district but no street too).
    pub district: Column<u16>,
    /// Community id in [`TicketFacts::places`].
    pub community: Column<u16>,
    /// Lead unit id in [`TicketFacts::units`] (0: not dispatched).
    pub lead_unit: Column<u16>,
    /// `DeadlineTier::ALL` position + 1.
    pub tier: Column<u8>,
    /// `Status::ALL` position + 1.
    pub status: Column<u8>,
    /// [`flag`] bits.
    pub flags: Column<u8>,
    /// Callback: bits 0–1 contacted (0 none, 1 yes, 2 no), bits 2–4 `Resolution::ALL` position + 1,
    /// bits 5–7 `Satisfaction::ALL` position + 1.
    pub callback: Column<u8>,
    /// Seconds to the lead's 签收 / 响应 / 办结 from first dispatch ([`NO_DURATION`]: none).
    pub secs_to_sign: Column<u32>,
    /// See `secs_to_sign`.
    pub secs_to_respond: Column<u32>,
    /// See `secs_to_sign`.
    pub secs_to_finish: Column<u32>,
    /// Dense requester id (0: no phone), the same across partitions of one [`TicketFacts`].
    pub requester: Column<u32>,
    /// The partition's sums by place and category, made on first use (never stored).
    #[serde(skip)]
    pub cube: CubeSlot,
}

/// Where a partition keeps its cube (预聚合, `query::cube`): derived from the rows, so it is not
/// serialized, compared or copied (a clone starts without one).
#[derive(Default)]
pub struct CubeSlot(pub(crate) std::sync::Mutex<Option<std::sync::Arc<crate::query::cube::Cube>>>);

impl Clone for CubeSlot {
    fn clone(&self) -> Self {
        CubeSlot::default()
    }
}

impl PartialEq for CubeSlot {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for CubeSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CubeSlot")
    }
}

impl FactPartition {
    /// Rows held.
    pub fn len(&self) -> usize {
        self.ticket_id.len()
    }
    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.ticket_id.is_empty()
    }
    /// Bytes of this process's heap held by the columns (for memory reports; 0 for columns read
    /// in place).
    pub fn heap_bytes(&self) -> usize {
        let mut n = 0;
        for_each_column!(ref self, |c| n += c.heap_bytes());
        n
    }

    /// The columns' bytes, each with the offset where [`FactPartition::share`] expects it: the
    /// columns in a fixed order, each starting at a multiple of 8. Write them into a buffer of
    /// [`FactPartition::layout_len`] bytes (zeros between).
    #[allow(unused_assignments)] // the advance past the last column is not read
    pub fn layout(&self) -> Vec<(usize, &[u8])> {
        let mut out = Vec::with_capacity(18);
        let mut at = 0;
        for_each_column!(ref self, |c| {
            let b = c.raw_bytes();
            out.push((at, b));
            at = (at + b.len()).div_ceil(8) * 8;
        });
        out
    }

    /// The length of the buffer [`FactPartition::layout`] fills.
    pub fn layout_len(&self) -> usize {
        self.layout()
            .last()
            .map(|(at, b)| at + b.len())
            .unwrap_or(0)
    }

    /// Reads every column in place from `bytes`, which hold [`FactPartition::layout`] as written
    /// (checked value by value, so a short or different buffer changes nothing); the columns'
    /// own vectors are freed.
    pub fn share(&mut self, bytes: Arc<dyn ColumnBytes>) -> Result<(), FactError> {
        let buf = bytes.bytes();
        if buf.as_ptr() as usize % 8 != 0 {
            return Err(FactError::Layout(
                "the bytes do not start at a multiple of 8",
            ));
        }
        let mut offsets = Vec::with_capacity(18);
        for (at, b) in self.layout() {
            if buf.get(at..at + b.len()) != Some(b) {
                return Err(FactError::Layout("the bytes differ from the columns"));
            }
            offsets.push(at);
        }
        let mut offsets = offsets.into_iter();
        for_each_column!(mut self, |c| {
            *c = Column::Shared {
                bytes: bytes.clone(),
                offset: offsets.next().unwrap_or_default(),
                len: c.len(),
                _t: PhantomData,
            };
        });
        Ok(())
    }

    /// Lets the memory of columns read in place go until their next use
    /// ([`ColumnBytes::release`]); columns in their own vectors stay.
    pub fn release(&self) {
        if let Some(b) = self.ticket_id.shared() {
            b.release();
        }
    }
}

/// A fact that cannot be stored.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FactError {
    /// More distinct codes of one kind than a `u16` holds.
    #[error("more than 65,535 distinct {0} codes")]
    TooManyCodes(&'static str),
    /// Bytes that do not hold a partition's columns as [`FactPartition::layout`] wrote them.
    #[error("shared fact columns: {0}")]
    Layout(&'static str),
    /// A fact pushed into the partition of another month.
    #[error("ticket {ticket} was created in {got}, not in the partition's month {want}")]
    WrongMonth {
        /// The ticket.
        ticket: i64,
        /// Its month.
        got: String,
        /// The partition's.
        want: String,
    },
}

fn pos<T: PartialEq>(all: &[T], v: &T) -> u8 {
    all.iter()
        .position(|x| x == v)
        .map(|p| p as u8 + 1)
        .unwrap_or(0)
}

/// Requester hashes → dense ids, in about 12 bytes a requester (a Beijing-scale history has
/// millions: a map of byte vectors took ~90 bytes each). A hash is keyed by its first 64 bits —
/// it is a keyed hash of the phone, so two requesters share a key with a probability of about
/// n² / 2⁶⁵ (≈ 10⁻⁶ for 7 million). The keys are kept sorted beside their ids; new ones wait in a
/// small map and are merged in place when it grows past an eighth of the sorted ones.
#[derive(Debug, Clone, Default)]
struct RequesterIds {
    /// Sorted keys.
    keys: Vec<u64>,
    /// `keys[i]`'s id.
    ids: Vec<u32>,
    /// Keys not merged yet.
    recent: HashMap<u64, u32>,
}

impl RequesterIds {
    /// Fewest keys waiting before a merge.
    const MERGE_AT: usize = 1 << 16;

    /// A requester hash's key: its first 64 bits (shorter hashes padded with zeros).
    fn key(h: &[u8]) -> u64 {
        let mut b = [0u8; 8];
        let n = h.len().min(8);
        b[..n].copy_from_slice(&h[..n]);
        u64::from_le_bytes(b)
    }

    /// The id of `key`, given `next` if it has none yet.
    fn id(&mut self, key: u64, next: u32) -> u32 {
        if let Ok(i) = self.keys.binary_search(&key) {
            return self.ids[i];
        }
        let id = *self.recent.entry(key).or_insert(next);
        if self.recent.len() >= Self::MERGE_AT.max(self.keys.len() / 8) {
            self.merge();
        }
        id
    }

    /// Moves the waiting keys into the sorted ones, merging from the back in place.
    fn merge(&mut self) {
        let mut add: Vec<(u64, u32)> = self.recent.drain().collect();
        add.sort_unstable_by_key(|p| p.0);
        let old = self.keys.len();
        self.keys.reserve_exact(add.len());
        self.ids.reserve_exact(add.len());
        self.keys.resize(old + add.len(), 0);
        self.ids.resize(old + add.len(), 0);
        let (mut i, mut j, mut out) = (old, add.len(), old + add.len());
        while j > 0 {
            out -= 1;
            if i > 0 && self.keys[i - 1] > add[j - 1].0 {
                i -= 1;
                self.keys[out] = self.keys[i];
                self.ids[out] = self.ids[i];
            } else {
                j -= 1;
                (self.keys[out], self.ids[out]) = add[j];
            }
        }
        self.recent = HashMap::new();
    }

    /// Every (key, id), sorted.
    fn pairs(&self) -> Vec<(u64, u32)> {
        let mut v: Vec<(u64, u32)> = self
            .keys
            .iter()
            .copied()
            .zip(self.ids.iter().copied())
            .collect();
        v.extend(self.recent.iter().map(|(k, i)| (*k, *i)));
        v.sort_unstable();
        v
    }
}

impl PartialEq for RequesterIds {
    fn eq(&self, other: &Self) -> bool {
        self.pairs() == other.pairs()
    }
}

/// Every partition read, with the dictionaries they share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketFacts {
    /// Category codes (leaves and, once the tree is applied, their ancestors).
    pub categories: Dict,
    /// District, street and community codes.
    pub places: Dict,
    /// Unit codes.
    pub units: Dict,
    /// Per unit id: `UnitKind::ALL` position + 1 (0 unknown).
    pub unit_kind: Vec<u8>,
    /// Per place id: the id of its parent place (a community's street, a street's district; 0).
    pub place_parent: Vec<u16>,
    /// Requester hash → dense id (ids start at 1).
    #[serde(skip)]
    requesters: RequesterIds,
    /// How many distinct requesters have an id.
    pub requester_count: u32,
    /// The partitions, by month.
    pub partitions: std::collections::BTreeMap<LocalMonth, FactPartition>,
}

impl TicketFacts {
    /// No facts yet.
    pub fn new() -> Self {
        TicketFacts {
            categories: Dict::new(),
            places: Dict::new(),
            units: Dict::new(),
            unit_kind: vec![0],
            place_parent: vec![0],
            ..TicketFacts::default()
        }
    }

    /// All rows of every partition.
    pub fn len(&self) -> usize {
        self.partitions.values().map(FactPartition::len).sum()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Lets the memory of every partition's columns read in place go until their next use
    /// ([`FactPartition::release`]).
    pub fn release(&self) {
        self.partitions.values().for_each(FactPartition::release);
    }

    /// Bytes of this process's heap held by the partitions' columns.
    pub fn heap_bytes(&self) -> usize {
        self.partitions
            .values()
            .map(FactPartition::heap_bytes)
            .sum()
    }

    fn place(&mut self, code: &str, parent: u16) -> Result<u16, FactError> {
        let id = self
            .places
            .intern(code)
            .ok_or(FactError::TooManyCodes("place"))?;
        if usize::from(id) == self.place_parent.len() {
            self.place_parent.push(parent);
        } else if parent != 0 {
            self.place_parent[usize::from(id)] = parent;
        }
        Ok(id)
    }

    /// Appends one ticket's facts to the partition `month` (made if absent). The ticket must have
    /// been created in that month.
    pub fn push(&mut self, month: LocalMonth, f: &TicketFact) -> Result<(), FactError> {
        if LocalMonth::of(f.created_date) != month {
            return Err(FactError::WrongMonth {
                ticket: f.ticket_id,
                got: LocalMonth::of(f.created_date).key(),
                want: month.key(),
            });
        }
        let category = self
            .categories
            .intern(&f.category_code)
            .ok_or(FactError::TooManyCodes("category"))?;
        let district = self.place(&f.district_code, 0)?;
        let street = self.place(&f.street_code, district)?;
        let community = self.place(&f.community_code, street)?;
        let lead_unit = self
            .units
            .intern(&f.lead_unit)
            .ok_or(FactError::TooManyCodes("unit"))?;
        if usize::from(lead_unit) == self.unit_kind.len() {
            self.unit_kind.push(
                f.lead_unit_kind
                    .map(|k| pos(&UnitKind::ALL, &k))
                    .unwrap_or(0),
            );
        }
        let requester = match &f.requester_hash {
            None => 0,
            Some(h) => {
                let next = self.requester_count + 1;
                let id = self.requesters.id(RequesterIds::key(h), next);
                if id == next {
                    self.requester_count = next;
                }
                id
            }
        };
        let p = self
            .partitions
            .entry(month)
            .or_insert_with(|| FactPartition {
                month: Some(month),
                ..FactPartition::default()
            });
        use chrono::Datelike;
        p.ticket_id.push(f.ticket_id);
        p.day.push(f.created_date.day() as u8);
        p.hour.push(f.created_hour);
        p.channel.push(pos(Channel::ALL, &f.channel));
        p.request_type.push(pos(RequestType::ALL, &f.request_type));
        p.category.push(category);
        p.street.push(street);
        p.district.push(district);
        p.community.push(community);
        p.lead_unit.push(lead_unit);
        p.tier
            .push(f.tier.map(|t| pos(DeadlineTier::ALL, &t)).unwrap_or(0));
        p.status.push(pos(Status::ALL, &f.status));
        let mut flags = 0;
        for (on, bit) in [
            (f.dispatched, flag::DISPATCHED),
            (f.answered_directly, flag::ANSWERED_DIRECTLY),
            (f.enterprise, flag::ENTERPRISE),
            (f.overdue, flag::OVERDUE),
            (f.returned, flag::RETURNED),
            (f.reopened, flag::REOPENED),
            (f.responded_in_time, flag::RESPONDED_IN_TIME),
        ] {
            if on {
                flags |= bit;
            }
        }
        p.flags.push(flags);
        let contacted = match f.contacted {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        let res = f.resolution.map(|r| pos(Resolution::ALL, &r)).unwrap_or(0);
        let sat = f
            .satisfaction
            .map(|s| pos(Satisfaction::ALL, &s))
            .unwrap_or(0);
        p.callback.push(contacted | (res << 2) | (sat << 5));
        p.secs_to_sign.push(f.secs_to_sign.unwrap_or(NO_DURATION));
        p.secs_to_respond
            .push(f.secs_to_respond.unwrap_or(NO_DURATION));
        p.secs_to_finish
            .push(f.secs_to_finish.unwrap_or(NO_DURATION));
        p.requester.push(requester);
        Ok(())
    }

    /// Replaces one month's partition with a freshly read one (the incremental path: a change
    /// rewrites only its month). `fresh` must share this table's dictionaries — build it with
    /// [`TicketFacts::rebuild_month`].
    pub fn replace_partition(&mut self, p: FactPartition) {
        if let Some(m) = p.month {
            self.partitions.insert(m, p);
        }
    }

    /// Starts rebuilding `month`: drops its partition so pushes refill it, keeping the
    /// dictionaries (ids stay valid for the other months).
    pub fn rebuild_month(&mut self, month: LocalMonth, generation: i64) {
        self.partitions.insert(
            month,
            FactPartition {
                month: Some(month),
                generation,
                ..FactPartition::default()
            },
        );
    }

    /// Decodes the callback byte: (contacted, resolution, satisfaction).
    pub fn callback(b: u8) -> (Option<bool>, Option<Resolution>, Option<Satisfaction>) {
        let contacted = match b & 3 {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        };
        let r = (b >> 2) & 7;
        let s = (b >> 5) & 7;
        let resolution = (r > 0)
            .then(|| Resolution::ALL.get(usize::from(r - 1)).copied())
            .flatten();
        let satisfaction = (s > 0)
            .then(|| Satisfaction::ALL.get(usize::from(s - 1)).copied())
            .flatten();
        (contacted, resolution, satisfaction)
    }

    /// Rebuilds the dictionaries' indexes after deserializing (requester ids are not kept: a
    /// table read back can be queried but not extended with new requesters).
    pub fn reindex(&mut self) {
        self.categories.reindex();
        self.places.reindex();
        self.units.reindex();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: i64, d: &str) -> TicketFact {
        TicketFact {
            ticket_id: id,
            created_date: NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap(),
            created_hour: 9,
            channel: Channel::Phone,
            request_type: RequestType::ALL[0],
            category_code: "A01".into(),
            district_code: "110105".into(),
            street_code: "110105001".into(),
            community_code: String::new(),
            lead_unit: "110105001".into(),
            lead_unit_kind: Some(UnitKind::StreetTown),
            tier: Some(DeadlineTier::ALL[0]),
            status: Status::ALL[0],
            dispatched: true,
            answered_directly: false,
            enterprise: false,
            overdue: true,
            returned: false,
            reopened: false,
            responded_in_time: true,
            contacted: Some(true),
            resolution: Some(Resolution::ALL[0]),
            satisfaction: Some(Satisfaction::ALL[1]),
            secs_to_sign: Some(60),
            secs_to_respond: None,
            secs_to_finish: None,
            requester_hash: Some(vec![1, 2, 3]),
        }
    }

    #[test]
    fn requester_ids_are_dense_and_stable_across_merges_as_a_plain_map_gives_them() {
        let mut ids = RequesterIds::default();
        let mut want: HashMap<u64, u32> = HashMap::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..400_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // about one key in three comes back (repeat requesters)
            let key = if x % 3 == 0 { x % 50_000 } else { x };
            let next = want.len() as u32 + 1;
            let w = *want.entry(key).or_insert(next);
            assert_eq!(ids.id(key, next), w, "key {key}");
        }
        assert!(
            ids.keys.len() > RequesterIds::MERGE_AT,
            "merged several times"
        );
        assert!(
            ids.keys.windows(2).all(|w| w[0] < w[1]),
            "sorted, no duplicates"
        );
        let mut all: Vec<(u64, u32)> = want.into_iter().collect();
        all.sort_unstable();
        assert_eq!(ids.pairs(), all);
        assert_eq!(RequesterIds::key(&[1, 2, 3]), 0x03_02_01);
        assert_eq!(RequesterIds::key(&[7; 32]), u64::from_le_bytes([7; 8]));
    }

    #[test]
    fn a_fact_lands_in_its_month_and_round_trips_its_callback_and_places() {
        let mut t = TicketFacts::new();
        let m = LocalMonth::parse("2026-11").unwrap();
        t.push(m, &fact(1, "2026-11-30")).unwrap();
        t.push(m, &fact(2, "2026-11-01")).unwrap();
        assert!(matches!(
            t.push(m, &fact(3, "2026-12-01")),
            Err(FactError::WrongMonth { .. })
        ));
        let p = &t.partitions[&m];
        assert_eq!(p.len(), 2);
        assert_eq!(p.requester, vec![1, 1], "one requester, one dense id");
        let (c, r, s) = TicketFacts::callback(p.callback[0]);
        assert_eq!(
            (c, r, s),
            (
                Some(true),
                Some(Resolution::ALL[0]),
                Some(Satisfaction::ALL[1])
            )
        );
        let street = p.street[0];
        assert_eq!(t.places.code(street), "110105001");
        assert_eq!(t.places.code(t.place_parent[usize::from(street)]), "110105");
        assert_eq!(p.flags[0] & flag::OVERDUE, flag::OVERDUE);
        assert_eq!(p.secs_to_respond[0], NO_DURATION);
    }

    #[test]
    fn month_keys_parse_and_step() {
        let m = LocalMonth::parse("2026-12").unwrap();
        assert_eq!(m.next().key(), "2027-01");
        assert!(LocalMonth::parse("2026-13").is_none());
        assert!(LocalMonth::parse("2026-1").is_none());
    }
}
