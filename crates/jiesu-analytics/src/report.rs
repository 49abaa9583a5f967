//! 热线数据报告 — the seed's 专项报告四 ("北京 12345 市民服务热线数据报告") regenerated from the facts,
//! section by section: 一 总体情况 ([`Overview`]), 二 前十类问题 ([`TopCategory`]), 三 承办情况
//! ([`Handling`]). Pure: the caller gives the facts, the category tree, names and the city's
//! functional zones; [`crate::render`] turns the result into HTML.

use crate::facts::{flag, FactPartition, LocalMonth, TicketFacts};
#[cfg(test)]
use crate::query::Filter;
use crate::query::{Dim, Engine, Grouped, MeasureHist, Measures, QueryError};
use chrono::NaiveDate;
use jiesu_domain::category::CategoryTree;
use jiesu_domain::org::UnitKind;
use jiesu_domain::ticket::Channel;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// What a report needs besides the facts.
#[derive(Debug, Clone, Default)]
pub struct ReportContext {
    /// Names of places and units by code.
    pub names: HashMap<String, String>,
    /// The city's functional zones (功能区): name and the district codes in it, in order.
    pub zones: Vec<(String, Vec<String>)>,
}

impl ReportContext {
    fn name(&self, code: &str) -> String {
        self.names
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_string())
    }
}

/// A code with its name and a count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Named {
    /// The code.
    pub code: String,
    /// The name.
    pub name: String,
    /// Tickets.
    pub count: u64,
    /// Share of the total it is part of (0–1).
    pub share: f64,
}

/// One year's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct YearFigures {
    /// The year.
    pub year: i32,
    /// Requests taken in (counted months only: a partial year says so in `months`).
    pub total: u64,
    /// Months with data in the period.
    pub months: u32,
    /// By phone.
    pub phone: u64,
    /// By every other channel (网络渠道).
    pub online: u64,
    /// Share of the online channels.
    pub online_share: f64,
    /// Distinct requesters (by the keyed phone hash).
    pub requesters: u64,
    /// Requesters not seen in any earlier year of the period (the first year: all).
    pub new_requesters: u64,
    /// `new_requesters / requesters`.
    pub new_requester_share: f64,
}

/// One month's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct MonthFigures {
    /// `YYYY-MM`.
    pub month: String,
    /// Requests.
    pub total: u64,
    /// By channel (wire name → count).
    pub channels: BTreeMap<String, u64>,
    /// 解决率 of the month's callbacks.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
}

/// 一、总体情况
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Overview {
    /// Requests taken in.
    pub total: u64,
    /// By phone, and its share.
    pub phone: u64,
    /// Share of phone.
    pub phone_share: f64,
    /// Online channels.
    pub online: u64,
    /// Share of online channels.
    pub online_share: f64,
    /// 派单
    pub dispatched: u64,
    /// Share dispatched.
    pub dispatched_share: f64,
    /// 解答咨询 (answered directly)
    pub answered_directly: u64,
    /// Share answered directly.
    pub answered_directly_share: f64,
    /// Per year.
    pub years: Vec<YearFigures>,
    /// Growth of the yearly total from the first to the last year (ratio), comparing full years
    /// or the same months of each.
    pub growth: Option<f64>,
    /// Per month.
    pub months: Vec<MonthFigures>,
    /// The lowest and the highest month.
    pub lowest_month: Option<String>,
    /// The highest month.
    pub highest_month: Option<String>,
    /// Distinct requesters over the whole period.
    pub requesters: u64,
    /// Requesters who made requests in every year of the period.
    pub requesters_every_year: u64,
    /// 解决率 and 满意率 over the period.
    pub resolution_rate: Option<f64>,
    /// 满意率 over the period.
    pub satisfaction_rate: Option<f64>,
    /// 表扬 (praise) requests.
    pub praise: u64,
    /// The 20 biggest top-level categories: volume and the share of consultations in them.
    pub top20: Vec<CategoryMix>,
}

/// A category's volume and mix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CategoryMix {
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Requests.
    pub count: u64,
    /// Share of all requests.
    pub share: f64,
    /// Share answered directly (咨询 answered by the centre).
    pub answered_directly_share: f64,
}

/// 二、前十类问题: one of the ten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TopCategory {
    /// Rank, 1–10.
    pub rank: u32,
    /// Code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Requests.
    pub count: u64,
    /// Per month of the period.
    pub monthly: Vec<u64>,
    /// The busiest month.
    pub peak_month: Option<String>,
    /// Share of each calendar month (1–12) in the category's volume, over the period.
    pub seasonality: Vec<f64>,
    /// The five biggest sub-categories.
    pub sub_categories: Vec<Named>,
}

/// A group of handling units (a district, a functional zone).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AreaHandling {
    /// Code (district code, or the zone's name).
    pub code: String,
    /// Name.
    pub name: String,
    /// Dispatched requests handled in it.
    pub count: u64,
    /// Share of all districts' handled volume.
    pub share: f64,
    /// Handled by district departments (区级部门).
    pub district_departments: u64,
    /// Handled by streets and towns (街乡镇).
    pub streets: u64,
    /// Share of streets and towns.
    pub street_share: f64,
    /// The five biggest top-level categories handled.
    pub top_categories: Vec<Named>,
    /// Categories whose share of the area's volume rose most from the first to the last year.
    pub rising: Vec<String>,
    /// … and fell most.
    pub falling: Vec<String>,
}

/// 三、承办情况
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Handling {
    /// Dispatched requests.
    pub dispatched: u64,
    /// By the lead unit's kind.
    pub by_unit_kind: Vec<Named>,
    /// By district.
    pub districts: Vec<AreaHandling>,
    /// The 20 streets/towns with the most requests handled.
    pub top_streets: Vec<Named>,
    /// The 20 with the fewest (among those that handled any).
    pub bottom_streets: Vec<Named>,
    /// Streets/towns that handled any.
    pub streets_handling: u64,
    /// The ten city departments with the most.
    pub top_city_departments: Vec<Named>,
    /// The ten state enterprises with the most.
    pub top_state_enterprises: Vec<Named>,
    /// By functional zone.
    pub zones: Vec<AreaHandling>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct HotlineReport {
    /// First month (`YYYY-MM`).
    pub from: String,
    /// Last month, included.
    pub to: String,
    /// 一 总体情况
    pub overview: Overview,
    /// 二 前十类问题
    pub top_categories: Vec<TopCategory>,
    /// 三 承办情况
    pub handling: Handling,
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn months_between(from: LocalMonth, to: LocalMonth) -> Vec<LocalMonth> {
    let mut v = Vec::new();
    let mut m = from;
    while m <= to {
        v.push(m);
        m = m.next();
    }
    v
}

fn count_of(g: &Grouped) -> HashMap<Vec<String>, Measures> {
    g.rows.iter().map(|r| (r.key.clone(), r.measures)).collect()
}

/// Builds the hotline report for the months `from`..=`to`.
pub fn hotline_report(
    facts: &TicketFacts,
    tree: &CategoryTree,
    ctx: &ReportContext,
    from: LocalMonth,
    to: LocalMonth,
) -> Result<HotlineReport, QueryError> {
    let engine = Engine::new(facts, tree);
    // every grouping the report needs, from one pass over the period's partitions
    let groups = Groups::fused(&engine, from, to);
    Ok(report_from(&engine, ctx, from, to, &groups))
}

/// The report assembled from its groupings.
fn report_from(
    engine: &Engine,
    ctx: &ReportContext,
    from: LocalMonth,
    to: LocalMonth,
    groups: &Groups,
) -> HotlineReport {
    let tree = engine.tree();
    let months = months_between(from, to);
    let cat_name = |code: &str| {
        tree.get(code)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| code.to_string())
    };
    let (by_month_channel, by_month_l2) = (&groups.by_month_channel, &groups.by_month_l2);
    let total = by_month_channel.total;
    let phone_code = Channel::Phone.as_str();

    let mut month_rows: BTreeMap<String, MonthFigures> = months
        .iter()
        .map(|m| {
            (
                m.key(),
                MonthFigures {
                    month: m.key(),
                    total: 0,
                    channels: BTreeMap::new(),
                    resolution_rate: None,
                    satisfaction_rate: None,
                },
            )
        })
        .collect();
    let mut month_measures: BTreeMap<String, Measures> = BTreeMap::new();
    let mut phone = 0;
    let mut year_phone: BTreeMap<i32, (u64, u64)> = BTreeMap::new();
    for r in &by_month_channel.rows {
        let (m, ch) = (&r.key[0], &r.key[1]);
        if let Some(row) = month_rows.get_mut(m) {
            row.total += r.measures.count;
            *row.channels.entry(ch.clone()).or_default() += r.measures.count;
        }
        month_measures
            .entry(m.clone())
            .or_default()
            .merge(&r.measures);
        let year: i32 = m[..4].parse().unwrap_or(0);
        let e = year_phone.entry(year).or_default();
        e.0 += r.measures.count;
        if ch == phone_code {
            phone += r.measures.count;
            e.1 += r.measures.count;
        }
    }
    for (m, ms) in &month_measures {
        if let Some(row) = month_rows.get_mut(m) {
            row.resolution_rate = ms.resolution_rate();
            row.satisfaction_rate = ms.satisfaction_rate();
        }
    }
    let month_list: Vec<MonthFigures> = month_rows.into_values().collect();
    let with_data: Vec<&MonthFigures> = month_list.iter().filter(|m| m.total > 0).collect();
    let lowest_month = with_data
        .iter()
        .min_by_key(|m| m.total)
        .map(|m| m.month.clone());
    let highest_month = with_data
        .iter()
        .max_by_key(|m| m.total)
        .map(|m| m.month.clone());

    // requesters per year: distinct, new, every year (one pass over the requester column)
    let years: Vec<i32> = year_phone.keys().copied().collect();
    debug_assert_eq!(years, groups.years);
    let (req_total, req_by_year, req_new, req_every) = groups.requesters.clone();

    let mut year_rows = Vec::new();
    for (i, (&y, &(t, ph))) in year_phone.iter().enumerate() {
        let nmonths = months.iter().filter(|m| m.year == y).count() as u32;
        year_rows.push(YearFigures {
            year: y,
            total: t,
            months: nmonths,
            phone: ph,
            online: t - ph,
            online_share: share(t - ph, t),
            requesters: req_by_year[i],
            new_requesters: req_new[i],
            new_requester_share: share(req_new[i], req_by_year[i]),
        });
    }
    let growth = match (year_rows.first(), year_rows.last()) {
        (Some(a), Some(b)) if a.year != b.year && a.total > 0 => {
            // compare per-month averages when the years are not equally covered
            let ra = a.total as f64 / f64::from(a.months.max(1));
            let rb = b.total as f64 / f64::from(b.months.max(1));
            Some(rb / ra - 1.0)
        }
        _ => None,
    };

    // categories: level 1 from level 2 via the tree
    let parent_l1 = |l2: &str| -> String {
        tree.path(l2)
            .find(|c| c.level == 1)
            .map(|c| c.code.clone())
            .unwrap_or_default()
    };
    let mut l1_total: HashMap<String, Measures> = HashMap::new();
    let mut l1_month: HashMap<(String, String), u64> = HashMap::new();
    let mut l2_total: HashMap<String, u64> = HashMap::new();
    for r in &by_month_l2.rows {
        let (m, l2) = (&r.key[0], &r.key[1]);
        let l1 = parent_l1(l2);
        l1_total.entry(l1.clone()).or_default().merge(&r.measures);
        *l1_month.entry((l1, m.clone())).or_default() += r.measures.count;
        *l2_total.entry(l2.clone()).or_default() += r.measures.count;
    }
    let mut l1_sorted: Vec<(String, Measures)> = l1_total
        .into_iter()
        .filter(|(c, _)| !c.is_empty())
        .collect();
    l1_sorted.sort_by(|a, b| b.1.count.cmp(&a.1.count).then(a.0.cmp(&b.0)));
    let top20 = l1_sorted
        .iter()
        .take(20)
        .map(|(c, ms)| CategoryMix {
            code: c.clone(),
            name: cat_name(c),
            count: ms.count,
            share: share(ms.count, total.count),
            answered_directly_share: share(ms.answered_directly, ms.count),
        })
        .collect();

    let top_categories = l1_sorted
        .iter()
        .take(10)
        .enumerate()
        .map(|(i, (c, ms))| {
            let monthly: Vec<u64> = months
                .iter()
                .map(|m| l1_month.get(&(c.clone(), m.key())).copied().unwrap_or(0))
                .collect();
            let peak_month = months
                .iter()
                .zip(&monthly)
                .filter(|(_, &n)| n > 0)
                .max_by_key(|(_, &n)| n)
                .map(|(m, _)| m.key());
            let mut season = [0u64; 12];
            for (m, n) in months.iter().zip(&monthly) {
                season[(m.month - 1) as usize] += n;
            }
            let seasonality = season.iter().map(|&n| share(n, ms.count)).collect();
            let mut subs: Vec<(&String, &u64)> = l2_total
                .iter()
                .filter(|(l2, _)| parent_l1(l2) == *c)
                .collect();
            subs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            TopCategory {
                rank: i as u32 + 1,
                code: c.clone(),
                name: cat_name(c),
                count: ms.count,
                monthly,
                peak_month,
                seasonality,
                sub_categories: subs
                    .into_iter()
                    .take(5)
                    .map(|(code, &n)| Named {
                        code: code.clone(),
                        name: cat_name(code),
                        count: n,
                        share: share(n, ms.count),
                    })
                    .collect(),
            }
        })
        .collect();

    let overview = Overview {
        total: total.count,
        phone,
        phone_share: share(phone, total.count),
        online: total.count - phone,
        online_share: share(total.count - phone, total.count),
        dispatched: total.dispatched,
        dispatched_share: share(total.dispatched, total.count),
        answered_directly: total.answered_directly,
        answered_directly_share: share(total.answered_directly, total.count),
        years: year_rows,
        growth,
        months: month_list,
        lowest_month,
        highest_month,
        requesters: req_total,
        requesters_every_year: req_every,
        resolution_rate: total.resolution_rate(),
        satisfaction_rate: total.satisfaction_rate(),
        praise: total.praise,
        top20,
    };

    let handling = handling(engine, ctx, groups, &cat_name);
    HotlineReport {
        from: from.key(),
        to: to.key(),
        overview,
        top_categories,
        handling,
    }
}

/// Requesters: distinct over the period, distinct per year, new per year, in every year.
type Requesters = (u64, Vec<u64>, Vec<u64>, u64);

/// [`Requesters`] among the requester ids `ids` in the partitions `parts` (per requester a bit per
/// year index, up to 32 years). Disjoint id ranges add up.
fn requesters_in(
    parts: &[(LocalMonth, &FactPartition)],
    years: &[i32],
    ids: std::ops::Range<u32>,
) -> Requesters {
    let (lo, len) = (ids.start, ids.end.saturating_sub(ids.start));
    let mut bits = vec![0u32; len as usize];
    for (m, p) in parts {
        let Some(yi) = years.iter().position(|y| *y == m.year) else {
            continue;
        };
        let bit = 1u32 << yi.min(31);
        for &r in &p.requester {
            // id 0 (no phone) is below every range: it wraps around to a huge offset
            let k = r.wrapping_sub(lo);
            if k < len {
                bits[k as usize] |= bit;
            }
        }
    }
    let n = years.len().min(32);
    let mut per_year = vec![0u64; n];
    let mut new = vec![0u64; n];
    let all = if n == 0 { 0 } else { (1u64 << n) - 1 } as u32;
    let (mut total, mut every) = (0u64, 0u64);
    for &b in &bits {
        if b == 0 {
            continue;
        }
        total += 1;
        if n > 0 && b == all {
            every += 1;
        }
        let first = b.trailing_zeros() as usize;
        for (i, py) in per_year.iter_mut().enumerate() {
            if b & (1 << i) != 0 {
                *py += 1;
            }
        }
        if first < n {
            new[first] += 1;
        }
    }
    (total, per_year, new, every)
}

/// The groupings the report is assembled from, as [`Engine::group`] would answer them (only the
/// measures the report reads are summed where noted).
struct Groups {
    /// Years with data in the period, in order.
    years: Vec<i32>,
    /// `[Month, Channel]` over the period, every measure.
    by_month_channel: Grouped,
    /// `[Month, CategoryL2]`: count and answered directly.
    by_month_l2: Grouped,
    /// See [`Requesters`].
    requesters: Requesters,
    /// Dispatched, `[Unit]`: count.
    by_unit: Grouped,
    /// Dispatched, `[UnitKind]`: count.
    by_kind: Grouped,
    /// Dispatched, `[District, UnitKind]`: count.
    by_district_kind: Grouped,
    /// Dispatched, `[District, CategoryL1]`: count.
    by_district_cat: Grouped,
    /// Dispatched in the first year, `[District, CategoryL1]` (when the period spans two years or
    /// more): count.
    first_year: Option<Grouped>,
    /// … in the last year.
    last_year: Option<Grouped>,
}

/// What one partition adds to [`Groups`].
struct PartCounts {
    month: LocalMonth,
    /// Channel keys seen, and their histograms.
    channels: Vec<(u32, MeasureHist)>,
    /// Per category id: rows and rows answered directly.
    categories: Vec<[u64; 2]>,
    /// Dispatched rows per lead unit id.
    units: Vec<u64>,
    /// District ids seen among dispatched rows, in order of first sight.
    districts: Vec<u16>,
    /// Per seen district, 256 unit-kind keys.
    district_kind: Vec<u64>,
    /// Per seen district, a count per level-1 key.
    district_l1: Vec<u64>,
}

/// Counts one partition (every row: the report's periods are whole months).
fn count_partition(engine: &Engine, month: LocalMonth, p: &FactPartition) -> PartCounts {
    let facts = engine.facts;
    let cat = &engine.catalog;
    let levels = cat.levels.len();
    let mut c = PartCounts {
        month,
        channels: Vec::new(),
        categories: vec![[0; 2]; facts.categories.len()],
        units: vec![0; facts.units.len()],
        districts: Vec::new(),
        district_kind: Vec::new(),
        district_l1: Vec::new(),
    };
    let mut channel_slot = [u32::MAX; 256];
    let mut district_slot = vec![u32::MAX; facts.places.len()];
    for i in 0..p.len() {
        let ch = usize::from(p.channel[i]);
        let mut k = channel_slot[ch];
        if k == u32::MAX {
            k = c.channels.len() as u32;
            channel_slot[ch] = k;
            c.channels.push((ch as u32, MeasureHist::default()));
        }
        c.channels[k as usize].1.add_row(p, i);
        let category = usize::from(p.category[i]);
        let f = p.flags[i];
        let row = &mut c.categories[category];
        row[0] += 1;
        row[1] += u64::from(f & flag::ANSWERED_DIRECTLY != 0);
        if f & flag::DISPATCHED != 0 {
            let unit = usize::from(p.lead_unit[i]);
            c.units[unit] += 1;
            let d = usize::from(p.district[i]);
            let mut k = district_slot[d];
            if k == u32::MAX {
                k = c.districts.len() as u32;
                district_slot[d] = k;
                c.districts.push(d as u16);
                c.district_kind.resize(c.district_kind.len() + 256, 0);
                c.district_l1.resize(c.district_l1.len() + levels, 0);
            }
            let k = k as usize;
            c.district_kind[k * 256 + usize::from(facts.unit_kind[unit])] += 1;
            c.district_l1[k * levels + usize::from(cat.l1[category])] += 1;
        }
    }
    c
}

impl Groups {
    /// Every grouping from one pass over the partitions of `from`..=`to`, on every core: the
    /// partitions are counted in parallel, and so are the requester bits (each thread owning a
    /// range of requester ids).
    fn fused(engine: &Engine, from: LocalMonth, to: LocalMonth) -> Groups {
        let facts = engine.facts;
        let parts: Vec<(LocalMonth, &FactPartition)> = if from <= to {
            facts
                .partitions
                .range(from..=to)
                .map(|(m, p)| (*m, p))
                .collect()
        } else {
            Vec::new()
        };
        let mut years: Vec<i32> = parts
            .iter()
            .filter(|(_, p)| !p.is_empty())
            .map(|(m, _)| m.year)
            .collect();
        years.dedup();
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 16);
        // requester ids 1..=count in one range per thread
        let ids = facts.requester_count.saturating_add(1);
        let step = ids.div_ceil(threads as u32).max(1);
        let ranges: Vec<std::ops::Range<u32>> = (0..threads as u32)
            .map(|t| (1 + t * step).min(ids)..(1 + (t + 1) * step).min(ids))
            .filter(|r| !r.is_empty())
            .collect();
        enum Out {
            Requesters(Requesters),
            Part(Box<PartCounts>),
        }
        let tasks = ranges.len() + parts.len();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let outs: Vec<Out> = std::thread::scope(|s| {
            let work = || {
                let mut mine = Vec::new();
                loop {
                    let t = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if t >= tasks {
                        return mine;
                    }
                    mine.push(match ranges.get(t) {
                        Some(r) => Out::Requesters(requesters_in(&parts, &years, r.clone())),
                        None => {
                            let (m, p) = parts[t - ranges.len()];
                            let counted = count_partition(engine, m, p);
                            // a month read in place lets its pages go once counted, so the
                            // pass never holds the whole history (`FactPartition::release`)
                            p.release();
                            Out::Part(Box::new(counted))
                        }
                    });
                }
            };
            let workers: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
            let mut all = work();
            for w in workers {
                all.extend(w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            all
        });
        let n = years.len().min(32);
        let mut requesters: Requesters = (0, vec![0; n], vec![0; n], 0);
        let mut counts: Vec<Box<PartCounts>> = Vec::with_capacity(parts.len());
        for o in outs {
            match o {
                Out::Requesters((t, py, new, every)) => {
                    requesters.0 += t;
                    requesters.3 += every;
                    for (a, b) in requesters.1.iter_mut().zip(py) {
                        *a += b;
                    }
                    for (a, b) in requesters.2.iter_mut().zip(new) {
                        *a += b;
                    }
                }
                Out::Part(c) => counts.push(c),
            }
        }
        counts.sort_by_key(|c| c.month);
        Groups::assemble(engine, years, requesters, &counts, parts.len())
    }

    /// The groupings from the partitions' counts.
    fn assemble(
        engine: &Engine,
        years: Vec<i32>,
        requesters: Requesters,
        counts: &[Box<PartCounts>],
        months: usize,
    ) -> Groups {
        let facts = engine.facts;
        let cat = &engine.catalog;
        let levels = cat.levels.len();
        let month_key = |m: LocalMonth| (m.year as u32) * 12 + (m.month - 1);
        let mut month_channel = Vec::new();
        let mut month_l2 = Vec::new();
        let mut units = vec![0u64; facts.units.len()];
        let mut district_kind: BTreeMap<(u16, u32), u64> = BTreeMap::new();
        let mut district_l1: BTreeMap<(u16, u32), u64> = BTreeMap::new();
        let (first, last) = match (years.first(), years.last()) {
            (Some(&a), Some(&b)) if a != b => (Some(a), Some(b)),
            _ => (None, None),
        };
        let mut first_l1: BTreeMap<(u16, u32), u64> = BTreeMap::new();
        let mut last_l1: BTreeMap<(u16, u32), u64> = BTreeMap::new();
        for c in counts {
            let mk = month_key(c.month);
            for (ch, h) in &c.channels {
                month_channel.push((vec![mk, *ch], h.measures()));
            }
            let mut l2 = vec![Measures::default(); levels];
            for (id, [n, direct]) in c.categories.iter().enumerate() {
                let g = &mut l2[usize::from(cat.l2[id])];
                g.count += n;
                g.answered_directly += direct;
            }
            for (k, ms) in l2.into_iter().enumerate() {
                if ms.count > 0 {
                    month_l2.push((vec![mk, k as u32], ms));
                }
            }
            for (a, b) in units.iter_mut().zip(&c.units) {
                *a += b;
            }
            for (slot, &d) in c.districts.iter().enumerate() {
                for (kind, &n) in c.district_kind[slot * 256..(slot + 1) * 256]
                    .iter()
                    .enumerate()
                {
                    if n > 0 {
                        *district_kind.entry((d, kind as u32)).or_default() += n;
                    }
                }
                for (l1, &n) in c.district_l1[slot * levels..(slot + 1) * levels]
                    .iter()
                    .enumerate()
                {
                    if n > 0 {
                        *district_l1.entry((d, l1 as u32)).or_default() += n;
                        if Some(c.month.year) == first {
                            *first_l1.entry((d, l1 as u32)).or_default() += n;
                        }
                        if Some(c.month.year) == last {
                            *last_l1.entry((d, l1 as u32)).or_default() += n;
                        }
                    }
                }
            }
        }
        let count = |n: u64| Measures {
            count: n,
            dispatched: n,
            ..Measures::default()
        };
        let mut kinds = vec![0u64; 256];
        let mut by_unit = Vec::new();
        for (u, &n) in units.iter().enumerate() {
            if n > 0 {
                by_unit.push((vec![u as u32], count(n)));
                kinds[usize::from(facts.unit_kind[u])] += n;
            }
        }
        let by_kind = kinds
            .iter()
            .enumerate()
            .filter(|(_, &n)| n > 0)
            .map(|(k, &n)| (vec![k as u32], count(n)))
            .collect();
        let pairs = |m: BTreeMap<(u16, u32), u64>| -> Vec<(Vec<u32>, Measures)> {
            m.into_iter()
                .map(|((d, k), n)| (vec![u32::from(d), k], count(n)))
                .collect()
        };
        let district_cat = [Dim::District, Dim::CategoryL1];
        Groups {
            by_month_channel: engine.grouped(&[Dim::Month, Dim::Channel], month_channel, months),
            by_month_l2: engine.grouped(&[Dim::Month, Dim::CategoryL2], month_l2, months),
            requesters,
            by_unit: engine.grouped(&[Dim::Unit], by_unit, months),
            by_kind: engine.grouped(&[Dim::UnitKind], by_kind, months),
            by_district_kind: engine.grouped(
                &[Dim::District, Dim::UnitKind],
                pairs(district_kind),
                months,
            ),
            by_district_cat: engine.grouped(&district_cat, pairs(district_l1), months),
            first_year: first.map(|_| engine.grouped(&district_cat, pairs(first_l1), months)),
            last_year: last.map(|_| engine.grouped(&district_cat, pairs(last_l1), months)),
            years,
        }
    }

    /// The same groupings asked of the engine one by one (the straightforward way, one pass each):
    /// the reference the fused pass is tested against.
    #[cfg(test)]
    fn by_engine(engine: &Engine, from: LocalMonth, to: LocalMonth) -> Groups {
        let period = Filter {
            from: Some(from.first_day()),
            to: Some(to.next().first_day()),
            ..Filter::default()
        };
        let by_month_channel = engine.group(&[Dim::Month, Dim::Channel], &period).unwrap();
        let by_month_l2 = engine
            .group(&[Dim::Month, Dim::CategoryL2], &period)
            .unwrap();
        let mut years: Vec<i32> = by_month_channel
            .rows
            .iter()
            .map(|r| r.key[0][..4].parse().unwrap())
            .collect();
        years.dedup();
        let parts: Vec<(LocalMonth, &FactPartition)> = engine
            .facts
            .partitions
            .range(from..=to)
            .map(|(m, p)| (*m, p))
            .collect();
        let requesters = requesters_in(
            &parts,
            &years,
            1..engine.facts.requester_count.saturating_add(1),
        );
        let mut dispatched = period.clone();
        dispatched.eq.push((Dim::Dispatched, "true".into()));
        let district_cat = [Dim::District, Dim::CategoryL1];
        let year = |y: i32| {
            let mut f = dispatched.clone();
            f.eq.push((Dim::Year, format!("{y:04}")));
            engine.group(&district_cat, &f).unwrap()
        };
        let (first_year, last_year) = match (years.first(), years.last()) {
            (Some(&a), Some(&b)) if a != b => (Some(year(a)), Some(year(b))),
            _ => (None, None),
        };
        Groups {
            by_unit: engine.group(&[Dim::Unit], &dispatched).unwrap(),
            by_kind: engine.group(&[Dim::UnitKind], &dispatched).unwrap(),
            by_district_kind: engine
                .group(&[Dim::District, Dim::UnitKind], &dispatched)
                .unwrap(),
            by_district_cat: engine.group(&district_cat, &dispatched).unwrap(),
            first_year,
            last_year,
            by_month_channel,
            by_month_l2,
            requesters,
            years,
        }
    }
}

fn named(code: &str, ctx: &ReportContext, count: u64, of: u64) -> Named {
    Named {
        code: code.to_string(),
        name: ctx.name(code),
        count,
        share: share(count, of),
    }
}

fn handling(
    engine: &Engine,
    ctx: &ReportContext,
    groups: &Groups,
    cat_name: &dyn Fn(&str) -> String,
) -> Handling {
    let (by_unit, by_kind) = (&groups.by_unit, &groups.by_kind);
    let total = by_unit.total.count;
    let facts = engine.facts;
    let kind_of = |code: &str| -> Option<UnitKind> {
        let id = facts.units.id(code)?;
        let k = *facts.unit_kind.get(usize::from(id))?;
        (k > 0).then(|| UnitKind::ALL[usize::from(k - 1)])
    };
    let by_unit_kind = by_kind
        .rows
        .iter()
        .map(|r| {
            let code = &r.key[0];
            Named {
                code: code.clone(),
                name: UnitKind::parse(code)
                    .map(|k| k.label_zh().to_string())
                    .unwrap_or_else(|| code.clone()),
                count: r.measures.count,
                share: share(r.measures.count, total),
            }
        })
        .collect();
    let units_of = |kind: UnitKind| -> Vec<(&String, u64)> {
        by_unit
            .rows
            .iter()
            .filter(|r| kind_of(&r.key[0]) == Some(kind))
            .map(|r| (&r.key[0], r.measures.count))
            .collect()
    };
    let streets = units_of(UnitKind::StreetTown);
    let street_total: u64 = streets.iter().map(|s| s.1).sum();
    let top_streets = streets
        .iter()
        .take(20)
        .map(|(c, n)| named(c, ctx, *n, street_total))
        .collect();
    let mut bottom: Vec<_> = streets
        .iter()
        .rev()
        .take(20)
        .map(|(c, n)| named(c, ctx, *n, street_total))
        .collect();
    bottom.sort_by(|a, b| a.count.cmp(&b.count).then(a.code.cmp(&b.code)));
    let top_of = |kind| -> Vec<Named> {
        let v = units_of(kind);
        let t: u64 = v.iter().map(|s| s.1).sum();
        v.into_iter()
            .take(10)
            .map(|(c, n)| named(c, ctx, n, t))
            .collect()
    };

    // districts: tickets dispatched to district-level units (区级部门) and streets, by the ticket's
    // district
    let (by_district_kind, by_district_cat) = (&groups.by_district_kind, &groups.by_district_cat);
    let local_kinds = [
        UnitKind::District.as_str(),
        UnitKind::DistrictDepartment.as_str(),
        UnitKind::StreetTown.as_str(),
        UnitKind::Community.as_str(),
    ];
    let mut district_counts: BTreeMap<String, (u64, u64, u64)> = BTreeMap::new();
    for r in &by_district_kind.rows {
        let (d, k) = (&r.key[0], r.key[1].as_str());
        if d.is_empty() || !local_kinds.contains(&k) {
            continue;
        }
        let e = district_counts.entry(d.clone()).or_default();
        e.0 += r.measures.count;
        if k == UnitKind::StreetTown.as_str() || k == UnitKind::Community.as_str() {
            e.2 += r.measures.count;
        } else {
            e.1 += r.measures.count;
        }
    }
    let district_total: u64 = district_counts.values().map(|v| v.0).sum();
    let cats = count_of(by_district_cat);
    // category shares per district in the first and the last year, for risers and fallers
    let first_year = groups.first_year.as_ref().map(count_of);
    let last_year = groups.last_year.as_ref().map(count_of);
    let area = |code: &str, name: String, members: &[String]| -> AreaHandling {
        let (mut n, mut dd, mut st) = (0, 0, 0);
        for m in members {
            if let Some(&(a, b, c)) = district_counts.get(m) {
                n += a;
                dd += b;
                st += c;
            }
        }
        let mut by_cat: HashMap<&str, u64> = HashMap::new();
        for (k, ms) in &cats {
            if members.contains(&k[0]) && !k[1].is_empty() {
                *by_cat.entry(k[1].as_str()).or_default() += ms.count;
            }
        }
        let mut top: Vec<(&str, u64)> = by_cat.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let (rising, falling) = match (&first_year, &last_year) {
            (Some(a), Some(b)) => trend(a, b, members, cat_name),
            _ => (Vec::new(), Vec::new()),
        };
        AreaHandling {
            code: code.to_string(),
            name,
            count: n,
            share: share(n, district_total),
            district_departments: dd,
            streets: st,
            street_share: share(st, n),
            top_categories: top
                .into_iter()
                .take(5)
                .map(|(c, k)| Named {
                    code: c.to_string(),
                    name: cat_name(c),
                    count: k,
                    share: share(k, n),
                })
                .collect(),
            rising,
            falling,
        }
    };
    let mut districts: Vec<AreaHandling> = district_counts
        .keys()
        .map(|d| area(d, ctx.name(d), std::slice::from_ref(d)))
        .collect();
    districts.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    let zones = ctx
        .zones
        .iter()
        .map(|(name, members)| area(name, name.clone(), members))
        .collect();
    Handling {
        dispatched: total,
        by_unit_kind,
        districts,
        top_streets,
        bottom_streets: bottom,
        streets_handling: streets.len() as u64,
        top_city_departments: top_of(UnitKind::CityDepartment),
        top_state_enterprises: top_of(UnitKind::StateEnterprise),
        zones,
    }
}

/// The three categories whose share of `members`' volume rose most and fell most from `a` to `b`.
fn trend(
    a: &HashMap<Vec<String>, Measures>,
    b: &HashMap<Vec<String>, Measures>,
    members: &[String],
    cat_name: &dyn Fn(&str) -> String,
) -> (Vec<String>, Vec<String>) {
    let shares = |g: &HashMap<Vec<String>, Measures>| {
        let mut by: HashMap<String, u64> = HashMap::new();
        let mut t = 0;
        for (k, ms) in g {
            if members.contains(&k[0]) && !k[1].is_empty() {
                *by.entry(k[1].clone()).or_default() += ms.count;
                t += ms.count;
            }
        }
        by.into_iter()
            .map(move |(c, n)| (c, share(n, t)))
            .collect::<HashMap<_, _>>()
    };
    let (sa, sb) = (shares(a), shares(b));
    let mut cats: Vec<&String> = sa.keys().chain(sb.keys()).collect();
    cats.sort();
    cats.dedup();
    let mut delta: Vec<(f64, &String)> = cats
        .into_iter()
        .map(|c| (sb.get(c).unwrap_or(&0.0) - sa.get(c).unwrap_or(&0.0), c))
        .collect();
    delta.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(y.1)));
    let rising = delta
        .iter()
        .filter(|d| d.0 > 0.0)
        .take(3)
        .map(|d| cat_name(d.1))
        .collect();
    let falling = delta
        .iter()
        .rev()
        .filter(|d| d.0 < 0.0)
        .take(3)
        .map(|d| cat_name(d.1))
        .collect();
    (rising, falling)
}

/// The months `from`..=`to` parsed, checked and clamped to what a report may span (120 months).
pub fn report_period(from: &str, to: &str) -> Result<(LocalMonth, LocalMonth), String> {
    let f = LocalMonth::parse(from)
        .ok_or_else(|| format!("--from '{from}' is not a month like 2021-01"))?;
    let t =
        LocalMonth::parse(to).ok_or_else(|| format!("--to '{to}' is not a month like 2021-11"))?;
    if t < f {
        return Err(format!("--to {to} is before --from {from}"));
    }
    if months_between(f, t).len() > 120 {
        return Err("a report spans at most 120 months".into());
    }
    Ok((f, t))
}

/// The first day of a month, for callers that need a date.
pub fn month_start(m: LocalMonth) -> NaiveDate {
    m.first_day()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::TicketFact;
    use crate::synth::{synthesize, SynthOptions, SynthProfile, SynthUnit};
    use jiesu_domain::category::Category;
    use jiesu_domain::state::Status;
    use jiesu_domain::ticket::{DeadlineTier, RequestType, Resolution, Satisfaction};

    fn tree() -> CategoryTree {
        let mut cats = Vec::new();
        let cat = |code: &str, level: u8, parent: Option<&str>| Category {
            code: code.into(),
            name: format!("类{code}"),
            level,
            parent: parent.map(str::to_string),
            domain: None,
            active: true,
        };
        for a in 1..=12 {
            let l1 = format!("{a:02}");
            cats.push(cat(&l1, 1, None));
            for b in 1..=6 {
                let l2 = format!("{l1}{b:02}");
                cats.push(cat(&l2, 2, Some(&l1)));
                cats.push(cat(&format!("{l2}01"), 3, Some(&l2)));
            }
        }
        CategoryTree::new(cats)
    }

    fn units() -> Vec<SynthUnit> {
        let unit = |code: String, kind, district: Option<&str>, parent: Option<String>| SynthUnit {
            code,
            kind,
            district: district.map(str::to_string),
            parent,
        };
        let mut v = Vec::new();
        for d in ["110101", "110102", "110105", "110108"] {
            v.push(unit(d.into(), UnitKind::District, Some(d), None));
            for s in 1..=30 {
                let st = format!("{d}{s:03}");
                v.push(unit(
                    st.clone(),
                    UnitKind::StreetTown,
                    Some(d),
                    Some(d.into()),
                ));
                v.push(unit(
                    format!("{st}001"),
                    UnitKind::Community,
                    Some(d),
                    Some(st),
                ));
            }
            for slot in 1..=4 {
                v.push(unit(
                    format!("{d}D{slot:02}"),
                    UnitKind::DistrictDepartment,
                    Some(d),
                    Some(d.into()),
                ));
            }
        }
        for (prefix, kind) in [
            ("CD", UnitKind::CityDepartment),
            ("SE", UnitKind::StateEnterprise),
            ("EC", UnitKind::Ecommerce),
        ] {
            for i in 1..=12 {
                v.push(unit(format!("{prefix}{i:03}"), kind, None, None));
            }
        }
        v
    }

    /// Synthesised facts plus a few odd ones pushed by hand: no place, dispatched without a lead
    /// unit, a category the tree does not know, no requester.
    fn facts(tree: &CategoryTree) -> TicketFacts {
        let opts = SynthOptions {
            scale: 0.0004,
            ..SynthOptions::default()
        };
        let mut f = synthesize(&opts, &SynthProfile::default(), tree, &units()).unwrap();
        let month = LocalMonth {
            year: 2020,
            month: 6,
        };
        let odd =
            |id: i64, category: &str, district: &str, unit: &str, dispatched: bool| TicketFact {
                ticket_id: id,
                created_date: NaiveDate::from_ymd_opt(2020, 6, 30).unwrap(),
                created_hour: 23,
                channel: Channel::Weibo,
                request_type: RequestType::Praise,
                category_code: category.into(),
                district_code: district.into(),
                street_code: String::new(),
                community_code: String::new(),
                lead_unit: unit.into(),
                lead_unit_kind: (!unit.is_empty()).then_some(UnitKind::Other),
                tier: Some(DeadlineTier::H24),
                status: Status::InProgress,
                dispatched,
                answered_directly: !dispatched,
                enterprise: true,
                overdue: true,
                returned: true,
                reopened: true,
                responded_in_time: false,
                contacted: Some(true),
                resolution: Some(Resolution::Partly),
                satisfaction: Some(Satisfaction::Basic),
                secs_to_sign: None,
                secs_to_respond: None,
                secs_to_finish: None,
                requester_hash: None,
            };
        f.push(month, &odd(900_000_001, "", "", "", true)).unwrap();
        f.push(month, &odd(900_000_002, "99", "110199", "X01", true))
            .unwrap();
        f.push(month, &odd(900_000_003, "0101", "110101", "", false))
            .unwrap();
        f
    }

    fn same_counts(a: &Grouped, b: &Grouped) {
        let key_counts = |g: &Grouped| -> Vec<(Vec<String>, u64)> {
            g.rows
                .iter()
                .map(|r| (r.key.clone(), r.measures.count))
                .collect()
        };
        assert_eq!(key_counts(a), key_counts(b), "{:?}", a.by);
        assert_eq!(a.total.count, b.total.count);
        assert_eq!(a.months, b.months);
    }

    #[test]
    fn the_fused_pass_gives_the_engines_groupings_and_the_same_report() {
        let tree = tree();
        let f = facts(&tree);
        let engine = Engine::new(&f, &tree);
        let ctx = ReportContext {
            names: HashMap::new(),
            zones: vec![("核心区".into(), vec!["110101".into(), "110102".into()])],
        };
        let m = |y, m| LocalMonth { year: y, month: m };
        for (from, to) in [
            (m(2019, 1), m(2021, 12)),
            (m(2020, 3), m(2021, 2)),
            (m(2020, 6), m(2020, 6)),
            (m(2018, 1), m(2018, 12)),
        ] {
            let fused = Groups::fused(&engine, from, to);
            let reference = Groups::by_engine(&engine, from, to);
            assert_eq!(fused.years, reference.years);
            assert_eq!(fused.requesters, reference.requesters);
            assert_eq!(
                fused.by_month_channel, reference.by_month_channel,
                "every measure"
            );
            for (a, b) in [
                (&fused.by_month_l2, &reference.by_month_l2),
                (&fused.by_unit, &reference.by_unit),
                (&fused.by_kind, &reference.by_kind),
                (&fused.by_district_kind, &reference.by_district_kind),
                (&fused.by_district_cat, &reference.by_district_cat),
            ] {
                same_counts(a, b);
            }
            for (a, b) in fused
                .by_month_l2
                .rows
                .iter()
                .zip(&reference.by_month_l2.rows)
            {
                assert_eq!(a.measures.answered_directly, b.measures.answered_directly);
            }
            assert_eq!(
                fused.first_year.is_some(),
                from.year != to.year && from.year >= 2019
            );
            for (a, b) in [
                (&fused.first_year, &reference.first_year),
                (&fused.last_year, &reference.last_year),
            ] {
                match (a, b) {
                    (Some(a), Some(b)) => same_counts(a, b),
                    (None, None) => {}
                    _ => panic!("one side has a year the other has not"),
                }
            }
            let ours = report_from(&engine, &ctx, from, to, &fused);
            assert_eq!(ours, report_from(&engine, &ctx, from, to, &reference));
            assert_eq!(ours, hotline_report(&f, &tree, &ctx, from, to).unwrap());
        }
    }

    #[test]
    fn measure_histograms_sum_like_the_rows() {
        let tree = tree();
        let f = facts(&tree);
        let engine = Engine::new(&f, &tree);
        let all = engine.group(&[Dim::Channel], &Filter::default()).unwrap();
        let mut h = MeasureHist::default();
        for p in f.partitions.values() {
            let mut one = MeasureHist::default();
            for i in 0..p.len() {
                one.add_row(p, i);
            }
            h.merge(&one);
        }
        assert_eq!(h.measures(), all.total);
        assert!(all.total.praise > 0 && all.total.open > 0 && all.total.partly > 0);
    }
}
