//! 报告排版 — turns a [`HotlineReport`] into what people read and download: a printable HTML
//! document laid out like the seed's 专项报告四 ([`hotline_html`]) and one table per sheet for the
//! spreadsheet writer ([`hotline_sheets`]). Pure string building: no IO, no clock, no template
//! engine, no script in the output.
//!
//! Numbers follow Chinese report conventions: exact counts with thousands separators in tables,
//! `万件` with one decimal in prose from ten thousand up, shares as percentages with one decimal.
//! Every string that comes from data is HTML-escaped where it is written (`escape`).
//!
//! Charts are inline SVG drawn by the small functions at the end of this file (bars, lines, a
//! sparkline, with round-number axes). They are hand-written on purpose: the Rust SVG charting
//! crates (plotters and the like) bring a font stack and a deep dependency tree, and are not worth
//! their build time for three chart shapes; hand-written SVG needs no script and prints crisply.

use crate::facts::LocalMonth;
use crate::report::{AreaHandling, CategoryMix, HotlineReport, MonthFigures, Named, TopCategory};
use jiesu_domain::ticket::Channel;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Appends formatted text to a `String` (writing to a `String` cannot fail).
macro_rules! put {
    ($out:expr, $($arg:tt)*) => {{
        let _ = write!($out, $($arg)*);
    }};
}

// ---------------------------------------------------------------------------------------------
// Numbers and words
// ---------------------------------------------------------------------------------------------

/// `12345` → `12,345`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A signed integer with thousands separators.
fn thousands_i64(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n.unsigned_abs())
    }
}

/// A count in prose: `9,876件` below ten thousand, `1.2万件` from there on (one decimal, rounded
/// half up).
pub(crate) fn amount(n: u64, unit: &str) -> String {
    if n < 10_000 {
        format!("{}{unit}", thousands(n))
    } else {
        let tenths = n / 1_000 + u64::from(n % 1_000 >= 500);
        format!("{}.{}万{unit}", thousands(tenths / 10), tenths % 10)
    }
}

/// A ratio as a percentage with one decimal: `0.9213` → `92.1%`; `—` when it is not a number.
fn percent(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let v = (x * 1000.0).round() / 10.0;
    // `+ 0.0` turns a rounded `-0.0` into `0.0`
    format!("{:.1}%", v + 0.0)
}

/// [`percent`], or `—` when there is no value.
fn opt_percent(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), percent)
}

/// `+12.3%` growth in words: `增长了12.3%` / `下降了4.0%`.
fn change_zh(g: f64) -> String {
    if g < 0.0 {
        format!("下降了{}", percent(-g))
    } else {
        format!("增长了{}", percent(g))
    }
}

/// `2021-03` → `2021年3月` (anything else unchanged).
fn month_zh(key: &str) -> String {
    LocalMonth::parse(key).map_or_else(|| key.to_string(), |m| format!("{}年{}月", m.year, m.month))
}

/// `2021-03` → `3月` (anything else unchanged).
fn month_of_year(key: &str) -> String {
    LocalMonth::parse(key).map_or_else(|| key.to_string(), |m| format!("{}月", m.month))
}

/// The year of a `YYYY-MM` key.
fn year_of(key: &str) -> &str {
    key.get(..4).unwrap_or(key)
}

/// The report's period in words: `2019年1月至2021年11月`.
fn period_zh(r: &HotlineReport) -> String {
    if r.from == r.to {
        month_zh(&r.from)
    } else {
        format!("{}至{}", month_zh(&r.from), month_zh(&r.to))
    }
}

/// Chinese numerals for headings: 1 → 一, 12 → 十二, 40 → 四十 (digits from 100 on).
pub(crate) fn zh_number(n: usize) -> String {
    const DIGITS: [&str; 10] = ["零", "一", "二", "三", "四", "五", "六", "七", "八", "九"];
    let unit = |d: usize| if d == 0 { "" } else { DIGITS[d] };
    match n {
        0..=9 => DIGITS[n].to_string(),
        10..=19 => format!("十{}", unit(n % 10)),
        20..=99 => format!("{}十{}", DIGITS[n / 10], unit(n % 10)),
        _ => n.to_string(),
    }
}

/// Items joined the Chinese way: `甲、乙、丙`.
fn list_zh<S: AsRef<str>>(items: &[S]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join("、")
}

/// `住房（9.0万件）、市场管理（6.0万件）`.
fn named_counts(items: &[Named]) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|n| format!("{}（{}）", n.name, amount(n.count, "件")))
        .collect();
    list_zh(&parts)
}

/// A channel's Chinese label from its wire name.
fn channel_label(wire: &str) -> String {
    match Channel::parse(wire) {
        Some(c) => c.label_zh().to_string(),
        None if wire.is_empty() => "未知".to_string(),
        None => wire.to_string(),
    }
}

/// Escapes text for HTML element content and (quoted) attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tables shared by the HTML and the spreadsheet
// ---------------------------------------------------------------------------------------------

/// One table of the report, for the spreadsheet writer: a sheet per table, header first.
#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    /// The sheet's name: at most 31 characters, none of `[]:*?/\` (Excel's rules).
    pub name: String,
    /// Column titles.
    pub header: Vec<String>,
    /// Rows, each as long as the header.
    pub rows: Vec<Vec<Cell>>,
}

/// One cell of a [`Sheet`]. An empty cell is an empty [`Cell::Text`].
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (names, month keys, lists).
    Text(String),
    /// A whole number (counts, years).
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A ratio to be shown as a percentage: `0.921` is 92.1 %.
    Percent(f64),
}

impl Cell {
    fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    fn empty() -> Cell {
        Cell::Text(String::new())
    }
    fn count(n: u64) -> Cell {
        Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
    fn opt_percent(x: Option<f64>) -> Cell {
        x.map_or_else(Cell::empty, Cell::Percent)
    }
    /// The cell as a `<td>`.
    fn td(&self) -> String {
        match self {
            Cell::Text(s) => format!("<td>{}</td>", escape(s)),
            Cell::Int(n) => format!(r#"<td class="num">{}</td>"#, thousands_i64(*n)),
            Cell::Float(x) if x.is_finite() => format!(r#"<td class="num">{x:.2}</td>"#),
            Cell::Float(_) => r#"<td class="num">—</td>"#.to_string(),
            Cell::Percent(x) => format!(r#"<td class="num">{}</td>"#, percent(*x)),
        }
    }
}

/// A sheet name Excel accepts: forbidden characters replaced by `_`, cut to 31 characters, never
/// empty.
fn sheet_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .take(31)
        .collect();
    if clean.trim().is_empty() {
        "Sheet".to_string()
    } else {
        clean
    }
}

fn sheet(name: &str, header: &[&str], rows: Vec<Vec<Cell>>) -> Sheet {
    Sheet {
        name: sheet_name(name),
        header: header.iter().map(|h| (*h).to_string()).collect(),
        rows,
    }
}

/// The channels seen in the months, in the domain's order (unknown wire names last).
fn channel_order(months: &[MonthFigures]) -> Vec<String> {
    let mut keys: Vec<&String> = months.iter().flat_map(|m| m.channels.keys()).collect();
    keys.sort_by_key(|k| {
        let pos = Channel::parse(k)
            .and_then(|c| Channel::ALL.iter().position(|a| *a == c))
            .unwrap_or(usize::MAX);
        (pos, k.as_str())
    });
    keys.dedup();
    keys.into_iter().cloned().collect()
}

/// Per year (`YYYY`): the total and the count per channel, summed from the months.
fn channels_by_year(months: &[MonthFigures]) -> BTreeMap<String, (u64, BTreeMap<String, u64>)> {
    let mut years: BTreeMap<String, (u64, BTreeMap<String, u64>)> = BTreeMap::new();
    for m in months {
        let e = years.entry(year_of(&m.month).to_string()).or_default();
        e.0 += m.total;
        for (ch, n) in &m.channels {
            *e.1.entry(ch.clone()).or_default() += n;
        }
    }
    years
}

fn share(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 / of as f64
    }
}

fn years_sheet(r: &HotlineReport) -> Sheet {
    let o = &r.overview;
    let mut rows: Vec<Vec<Cell>> = o
        .years
        .iter()
        .map(|y| {
            vec![
                Cell::text(y.year.to_string()),
                Cell::Int(i64::from(y.months)),
                Cell::count(y.total),
                Cell::count(y.phone),
                Cell::Percent(share(y.phone, y.total)),
                Cell::count(y.online),
                Cell::Percent(y.online_share),
                Cell::count(y.requesters),
                Cell::count(y.new_requesters),
                Cell::Percent(y.new_requester_share),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::text("合计"),
        Cell::Int(o.years.iter().map(|y| i64::from(y.months)).sum()),
        Cell::count(o.total),
        Cell::count(o.phone),
        Cell::Percent(o.phone_share),
        Cell::count(o.online),
        Cell::Percent(o.online_share),
        Cell::count(o.requesters),
        Cell::empty(),
        Cell::empty(),
    ]);
    sheet(
        "总体情况",
        &[
            "年份",
            "月数",
            "受理量",
            "电话",
            "电话占比",
            "网络",
            "网络占比",
            "来电号码",
            "新增号码",
            "新增号码占比",
        ],
        rows,
    )
}

fn months_sheet(r: &HotlineReport) -> Sheet {
    let months = &r.overview.months;
    let channels = channel_order(months);
    let labels: Vec<String> = channels.iter().map(|c| channel_label(c)).collect();
    let mut header: Vec<&str> = vec!["月份", "受理量"];
    header.extend(labels.iter().map(String::as_str));
    header.extend(["解决率", "满意率"]);
    let rows = months
        .iter()
        .map(|m| {
            let mut row = vec![Cell::text(&m.month), Cell::count(m.total)];
            row.extend(
                channels
                    .iter()
                    .map(|c| Cell::count(m.channels.get(c).copied().unwrap_or(0))),
            );
            row.push(Cell::opt_percent(m.resolution_rate));
            row.push(Cell::opt_percent(m.satisfaction_rate));
            row
        })
        .collect();
    sheet("月度", &header, rows)
}

fn top20_rows(top20: &[CategoryMix], with_code: bool) -> Vec<Vec<Cell>> {
    top20
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut row = vec![Cell::count(i as u64 + 1)];
            if with_code {
                row.push(Cell::text(&c.code));
            }
            row.extend([
                Cell::text(&c.name),
                Cell::count(c.count),
                Cell::Percent(c.share),
                Cell::Percent(c.answered_directly_share),
            ]);
            row
        })
        .collect()
}

fn top10_sheet(r: &HotlineReport) -> Sheet {
    let mut rows = Vec::new();
    for c in &r.top_categories {
        let lead = |rows: &mut Vec<Vec<Cell>>, sub: [Cell; 5]| {
            let mut row = vec![
                Cell::count(u64::from(c.rank)),
                Cell::text(&c.code),
                Cell::text(&c.name),
                Cell::count(c.count),
                c.peak_month.as_deref().map_or_else(Cell::empty, Cell::text),
            ];
            row.extend(sub);
            rows.push(row);
        };
        if c.sub_categories.is_empty() {
            lead(
                &mut rows,
                [
                    Cell::empty(),
                    Cell::empty(),
                    Cell::empty(),
                    Cell::empty(),
                    Cell::empty(),
                ],
            );
        }
        for (i, s) in c.sub_categories.iter().enumerate() {
            lead(
                &mut rows,
                [
                    Cell::count(i as u64 + 1),
                    Cell::text(&s.code),
                    Cell::text(&s.name),
                    Cell::count(s.count),
                    Cell::Percent(s.share),
                ],
            );
        }
    }
    sheet(
        "前十类问题",
        &[
            "排名",
            "类别编码",
            "类别",
            "受理量",
            "高峰月份",
            "子类排名",
            "子类编码",
            "子类",
            "子类受理量",
            "占本类比例",
        ],
        rows,
    )
}

fn top10_monthly_sheet(r: &HotlineReport) -> Sheet {
    let mut header = vec!["月份"];
    header.extend(r.top_categories.iter().map(|c| c.name.as_str()));
    let rows = r
        .overview
        .months
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let mut row = vec![Cell::text(&m.month)];
            row.extend(
                r.top_categories
                    .iter()
                    .map(|c| Cell::count(c.monthly.get(i).copied().unwrap_or(0))),
            );
            row
        })
        .collect();
    sheet("前十类问题月度", &header, rows)
}

/// Rows of ranked units: rank, (code), name, count, share.
fn named_rows(items: &[Named], with_code: bool) -> Vec<Vec<Cell>> {
    items
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut row = vec![Cell::count(i as u64 + 1)];
            if with_code {
                row.push(Cell::text(&n.code));
            }
            row.extend([
                Cell::text(&n.name),
                Cell::count(n.count),
                Cell::Percent(n.share),
            ]);
            row
        })
        .collect()
}

fn named_sheet(name: &str, rank: &str, what: &str, items: &[Named]) -> Sheet {
    sheet(
        name,
        &[rank, "编码", what, "承办量", "占比"],
        named_rows(items, true),
    )
}

fn unit_kind_rows(items: &[Named]) -> Vec<Vec<Cell>> {
    items
        .iter()
        .map(|n| {
            vec![
                Cell::text(&n.name),
                Cell::count(n.count),
                Cell::Percent(n.share),
            ]
        })
        .collect()
}

/// Rows of districts or zones: (code), name, count, share, the split, the top five and the trends.
fn area_rows(areas: &[AreaHandling], with_code: bool, with_details: bool) -> Vec<Vec<Cell>> {
    areas
        .iter()
        .map(|a| {
            let mut row = Vec::new();
            if with_code {
                row.push(Cell::text(&a.code));
            }
            row.extend([
                Cell::text(&a.name),
                Cell::count(a.count),
                Cell::Percent(a.share),
                Cell::count(a.district_departments),
                Cell::count(a.streets),
                Cell::Percent(a.street_share),
            ]);
            if with_details {
                let top: Vec<String> = a
                    .top_categories
                    .iter()
                    .map(|n| format!("{}（{}）", n.name, thousands(n.count)))
                    .collect();
                row.extend([
                    Cell::text(list_zh(&top)),
                    Cell::text(list_zh(&a.rising)),
                    Cell::text(list_zh(&a.falling)),
                ]);
            }
            row
        })
        .collect()
}

/// The header of [`area_rows`] with details, after the name columns `first`.
fn area_header<'a>(first: &[&'a str]) -> Vec<&'a str> {
    let mut v = first.to_vec();
    v.extend([
        "承办量",
        "占比",
        "区级部门",
        "街乡镇",
        "街乡镇占比",
        "前五类问题",
        "占比上升",
        "占比下降",
    ]);
    v
}

/// The report's tables, one [`Sheet`] each, in the report's order: 总体情况 (per year, with a
/// 合计 row), 月度, 前二十类, 前十类问题 (a row per sub-category), 前十类问题月度, 单位类型, 各区,
/// 街乡镇前二十, 街乡镇后二十, 市属机构, 国有企业, 功能区. Counts are [`Cell::Int`], shares
/// [`Cell::Percent`]; a missing rate is an empty [`Cell::Text`].
pub fn hotline_sheets(r: &HotlineReport) -> Vec<Sheet> {
    let h = &r.handling;
    vec![
        years_sheet(r),
        months_sheet(r),
        sheet(
            "前二十类",
            &["排名", "类别编码", "类别", "受理量", "占比", "解答咨询占比"],
            top20_rows(&r.overview.top20, true),
        ),
        top10_sheet(r),
        top10_monthly_sheet(r),
        sheet(
            "单位类型",
            &["单位类型", "承办量", "占比"],
            unit_kind_rows(&h.by_unit_kind),
        ),
        sheet(
            "各区",
            &area_header(&["编码", "区"]),
            area_rows(&h.districts, true, true),
        ),
        named_sheet("街乡镇前二十", "排名", "街乡镇", &h.top_streets),
        named_sheet("街乡镇后二十", "序号", "街乡镇", &h.bottom_streets),
        named_sheet("市属机构", "排名", "市属机构", &h.top_city_departments),
        named_sheet("国有企业", "排名", "国有企业", &h.top_state_enterprises),
        sheet(
            "功能区",
            &area_header(&["功能区"]),
            area_rows(&h.zones, false, true),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// The HTML document
// ---------------------------------------------------------------------------------------------

/// Print styles: A4 pages, a page break before each section, tables and figures kept whole.
const STYLE: &str = r#"
@page { size: A4; margin: 18mm 16mm 20mm; }
* { -webkit-print-color-adjust: exact; print-color-adjust: exact; box-sizing: border-box; }
html { color: #222; background: #fff; }
body { margin: 0 auto; max-width: 178mm; padding: 10mm 0 20mm; font-size: 11pt; line-height: 1.75;
  font-family: "Noto Serif CJK SC", "Source Han Serif SC", "Songti SC", "SimSun", serif; }
h1, h2, h3, h4, caption, figcaption, th, .period {
  font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; }
header.cover { text-align: center; padding-top: 50mm; }
h1 { font-size: 22pt; line-height: 1.4; margin: 0 0 8mm; }
.period { font-size: 13pt; margin: 0 0 30mm; text-align: center; text-indent: 0; }
header.cover p.lead { text-align: justify; }
h2 { font-size: 16pt; margin: 0 0 4mm; }
h3 { font-size: 13pt; margin: 6mm 0 2mm; }
h4 { font-size: 11.5pt; margin: 4mm 0 1mm; }
h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
p { margin: 0.4em 0; text-indent: 2em; text-align: justify; }
p.note { text-indent: 0; font-size: 9pt; color: #555; }
section.chapter { break-before: page; page-break-before: always; }
figure { margin: 3mm 0 5mm; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figcaption { font-size: 10pt; font-weight: bold; margin-top: 1mm; }
svg.chart { max-width: 100%; height: auto; }
svg.sparkline { vertical-align: middle; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 5mm; font-size: 9.5pt; line-height: 1.45; }
caption { caption-side: top; font-weight: bold; font-size: 10pt; margin-bottom: 1mm; }
thead { display: table-header-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { border: 1px solid #999; padding: 1mm 2mm; vertical-align: top; }
th { background: #eef2f7; font-weight: bold; text-align: center; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.empty { text-align: center; color: #777; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 6mm; }
article.area { break-inside: avoid; page-break-inside: avoid; }
footer.colophon { margin-top: 12mm; font-size: 9pt; color: #666; text-align: center; }
@media print { body { max-width: none; padding: 0; } }
"#;

/// Chart sizes in px (A4 content is about 660 px wide at 96 dpi).
const CHART_W: u32 = 640;
const CHART_H: u32 = 240;

/// A document being written: every method escapes the text it is given.
struct Doc {
    out: String,
}

impl Doc {
    fn raw(&mut self, html: &str) {
        self.out.push_str(html);
    }
    /// `<tag>text</tag>`, the text escaped.
    fn tag(&mut self, tag: &str, text: &str) {
        put!(self.out, "<{tag}>{}</{tag}>\n", escape(text));
    }
    /// A paragraph, unless the text is empty.
    fn p(&mut self, text: &str) {
        if !text.is_empty() {
            self.tag("p", text);
        }
    }
    fn note(&mut self, text: &str) {
        if !text.is_empty() {
            put!(self.out, "<p class=\"note\">{}</p>\n", escape(text));
        }
    }
    /// A chart (already-built SVG) with its caption.
    fn figure(&mut self, caption: &str, svg: &str) {
        put!(
            self.out,
            "<figure>\n{svg}<figcaption>{}</figcaption>\n</figure>\n",
            escape(caption)
        );
    }
    fn table<S: AsRef<str>>(&mut self, caption: &str, header: &[S], rows: &[Vec<Cell>]) {
        put!(
            self.out,
            "<table>\n<caption>{}</caption>\n<thead><tr>",
            escape(caption)
        );
        for h in header {
            put!(self.out, "<th>{}</th>", escape(h.as_ref()));
        }
        self.out.push_str("</tr></thead>\n<tbody>\n");
        if rows.is_empty() {
            put!(
                self.out,
                "<tr><td class=\"empty\" colspan=\"{}\">无数据</td></tr>\n",
                header.len().max(1)
            );
        }
        for row in rows {
            self.out.push_str("<tr>");
            for c in row {
                self.out.push_str(&c.td());
            }
            self.out.push_str("</tr>\n");
        }
        self.out.push_str("</tbody>\n</table>\n");
    }
}

/// The hotline report as one printable, self-contained HTML5 document in Chinese, laid out like
/// the seed's 专项报告四: a cover with `title` and the period, then 一、总体情况, 二、群众反映前十类问题
/// 情况 and 三、群众诉求办理情况, each starting on a new A4 page. Charts are inline SVG; the only
/// styling is one `<style>` block; there is no script and no external resource, so the file can
/// be mailed, archived or printed to PDF as it is. All text from the report is escaped.
pub fn hotline_html(r: &HotlineReport, title: &str) -> String {
    let title = if title.trim().is_empty() {
        "12345 市民服务热线数据报告"
    } else {
        title
    };
    let mut doc = Doc {
        out: String::with_capacity(64 * 1024),
    };
    put!(
        doc.out,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"Jiesu\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
    cover(&mut doc, r, title);
    overview(&mut doc, r);
    top_categories(&mut doc, r);
    handling(&mut doc, r);
    doc.raw("<footer class=\"colophon\">本报告由接诉即办平台根据工单数据自动生成。</footer>\n</body>\n</html>\n");
    doc.out
}

fn cover(doc: &mut Doc, r: &HotlineReport, title: &str) {
    doc.raw("<header class=\"cover\">\n");
    doc.tag("h1", title);
    put!(
        doc.out,
        "<p class=\"period\">统计期间：{}</p>\n",
        escape(&period_zh(r))
    );
    put!(
        doc.out,
        "<p class=\"lead\">{}</p>\n",
        escape(&format!(
            "本报告对{}的 12345 市民服务热线数据进行分析，呈现诉求受理的规律性特点、群众反映的热点问题及诉求办理情况。",
            period_zh(r)
        ))
    );
    doc.raw("</header>\n");
}

fn overview(doc: &mut Doc, r: &HotlineReport) {
    let o = &r.overview;
    doc.raw("<section class=\"chapter\" id=\"overview\">\n");
    doc.tag("h2", "一、总体情况");
    doc.p(&format!(
        "{}，12345 热线共受理群众反映{}，其中，电话反映{}，占比{}，网络反映{}，占比{}。诉求派单{}，占比{}，解答咨询{}，占比{}。",
        period_zh(r),
        amount(o.total, "件"),
        amount(o.phone, "件"),
        percent(o.phone_share),
        amount(o.online, "件"),
        percent(o.online_share),
        amount(o.dispatched, "件"),
        percent(o.dispatched_share),
        amount(o.answered_directly, "件"),
        percent(o.answered_directly_share),
    ));

    // (一) volume by year and by month
    doc.tag("h3", "（一）受理总量");
    match (o.years.first(), o.years.last()) {
        (Some(a), Some(b)) if a.year != b.year => {
            let growth = match o.growth {
                Some(g) if a.months == b.months => format!("，{}", change_zh(g)),
                Some(g) => format!("，按月均受理量计算{}", change_zh(g)),
                None => String::new(),
            };
            doc.p(&format!(
                "受理总量从{}年的{}到{}年的{}{growth}。",
                a.year,
                amount(a.total, "件"),
                b.year,
                amount(b.total, "件"),
            ));
        }
        (Some(a), _) => doc.p(&format!("{}年受理{}。", a.year, amount(a.total, "件"))),
        _ => doc.p("统计期间内没有受理数据。"),
    }
    let year_labels: Vec<String> = o.years.iter().map(|y| format!("{}年", y.year)).collect();
    let year_totals: Vec<f64> = o.years.iter().map(|y| y.total as f64).collect();
    doc.figure(
        "各年受理总量",
        &svg_bars("各年受理总量", &year_labels, &year_totals, CHART_W, 200),
    );
    let years: Vec<Vec<Cell>> = years_sheet(r)
        .rows
        .into_iter()
        .map(|mut row| {
            row.truncate(7);
            row
        })
        .collect();
    doc.table(
        "各年受理情况",
        &[
            "年份",
            "月数",
            "受理量",
            "电话",
            "电话占比",
            "网络",
            "网络占比",
        ],
        &years,
    );
    let partial: Vec<String> = o
        .years
        .iter()
        .filter(|y| y.months < 12)
        .map(|y| format!("{}年数据为{}个月", y.year, y.months))
        .collect();
    if !partial.is_empty() {
        doc.note(&format!("注：{}。", partial.join("，")));
    }

    doc.p(&monthly_extremes(
        o.months.as_slice(),
        o.lowest_month.as_deref(),
        o.highest_month.as_deref(),
    ));
    let month_labels: Vec<String> = o.months.iter().map(|m| m.month.clone()).collect();
    let month_totals: Vec<f64> = o.months.iter().map(|m| m.total as f64).collect();
    doc.figure(
        "各月受理量",
        &svg_bars("各月受理量", &month_labels, &month_totals, CHART_W, CHART_H),
    );

    // (二) channels
    doc.tag("h3", "（二）受理渠道");
    let mut text = format!(
        "电话渠道为热线受理主渠道，受理量占比为{}。",
        percent(o.phone_share)
    );
    if let (Some(a), Some(b)) = (o.years.first(), o.years.last()) {
        if a.year != b.year {
            put!(
                text,
                "网络渠道受理占比由{}年的{}变为{}年的{}。",
                a.year,
                percent(a.online_share),
                b.year,
                percent(b.online_share)
            );
        }
    }
    let channels = channel_order(&o.months);
    let by_year = channels_by_year(&o.months);
    let mut online: BTreeMap<&str, u64> = BTreeMap::new();
    for (_, per) in by_year.values() {
        for (ch, n) in per {
            if ch != Channel::Phone.as_str() {
                *online.entry(ch.as_str()).or_default() += n;
            }
        }
    }
    if let Some((ch, n)) = online.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0))) {
        if *n > 0 {
            put!(
                text,
                "网络渠道中，{}受理量最多，为{}，占网络渠道受理量的{}。",
                channel_label(ch),
                amount(*n, "件"),
                percent(share(*n, o.online))
            );
        }
    }
    doc.p(&text);
    let mut header = vec!["年份".to_string(), "受理量".to_string()];
    header.extend(channels.iter().map(|c| format!("{}占比", channel_label(c))));
    let rows: Vec<Vec<Cell>> = by_year
        .iter()
        .map(|(y, (total, per))| {
            let mut row = vec![Cell::text(format!("{y}年")), Cell::count(*total)];
            row.extend(
                channels
                    .iter()
                    .map(|c| Cell::Percent(share(per.get(c).copied().unwrap_or(0), *total))),
            );
            row
        })
        .collect();
    doc.table("各年受理渠道构成", &header, &rows);

    // (三) requesters and their verdicts
    doc.tag("h3", "（三）社会影响和群众评价");
    let mut text = format!(
        "统计期间内共有{}来电号码反映诉求",
        amount(o.requesters, "个")
    );
    if o.years.len() > 1 {
        let per: Vec<String> = o
            .years
            .iter()
            .map(|y| format!("{}年{}", y.year, amount(y.requesters, "个")))
            .collect();
        put!(
            text,
            "，其中{}；{}号码在每一年都有反映",
            list_zh(&per),
            amount(o.requesters_every_year, "个")
        );
        let new: Vec<String> = o
            .years
            .iter()
            .skip(1)
            .map(|y| {
                format!(
                    "{}年新增号码比例为{}",
                    y.year,
                    percent(y.new_requester_share)
                )
            })
            .collect();
        put!(text, "。{}", new.join("，"));
    }
    text.push('。');
    doc.p(&text);
    let rows: Vec<Vec<Cell>> = o
        .years
        .iter()
        .map(|y| {
            vec![
                Cell::text(format!("{}年", y.year)),
                Cell::count(y.requesters),
                Cell::count(y.new_requesters),
                Cell::Percent(y.new_requester_share),
            ]
        })
        .collect();
    doc.table(
        "各年来电号码",
        &["年份", "来电号码", "新增号码", "新增号码占比"],
        &rows,
    );

    let mut text = format!(
        "回访结果显示，统计期间内解决率为{}，满意率为{}",
        opt_percent(o.resolution_rate),
        opt_percent(o.satisfaction_rate)
    );
    let rated: Vec<&MonthFigures> = o
        .months
        .iter()
        .filter(|m| m.resolution_rate.is_some())
        .collect();
    if let (Some(a), Some(b)) = (rated.first(), rated.last()) {
        if a.month != b.month {
            put!(
                text,
                "。解决率从{}的{}变为{}的{}，满意率从{}变为{}",
                month_zh(&a.month),
                opt_percent(a.resolution_rate),
                month_zh(&b.month),
                opt_percent(b.resolution_rate),
                opt_percent(a.satisfaction_rate),
                opt_percent(b.satisfaction_rate)
            );
        }
    }
    put!(
        text,
        "。统计期间内共收到群众表扬{}。",
        amount(o.praise, "件")
    );
    doc.p(&text);
    let lines = [
        Line {
            name: "解决率",
            values: o.months.iter().map(|m| m.resolution_rate).collect(),
            color: "#3b6ea5",
        },
        Line {
            name: "满意率",
            values: o.months.iter().map(|m| m.satisfaction_rate).collect(),
            color: "#d9822b",
        },
    ];
    doc.figure(
        "群众回访解决率、满意率每月变化情况",
        &svg_lines(
            "群众回访解决率、满意率每月变化情况",
            &month_labels,
            &lines,
            true,
            CHART_W,
            CHART_H,
        ),
    );

    // (四) what people ask about
    doc.tag("h3", "（四）群众反映问题结构");
    let mut text = String::new();
    if !o.top20.is_empty() {
        let names: Vec<&str> = o.top20.iter().take(5).map(|c| c.name.as_str()).collect();
        text = format!(
            "群众反映最集中的前二十类问题占受理总量的{}，其中居前五位的是{}。",
            percent(o.top20.iter().map(|c| c.share).sum()),
            list_zh(&names)
        );
    }
    let mut by_mix: Vec<&CategoryMix> = o.top20.iter().collect();
    by_mix.sort_by(|a, b| {
        b.answered_directly_share
            .total_cmp(&a.answered_directly_share)
            .then(b.count.cmp(&a.count))
    });
    let k = (by_mix.len() / 2).min(5);
    if k > 0 {
        let consult: Vec<&str> = by_mix[..k].iter().map(|c| c.name.as_str()).collect();
        let dispatch: Vec<&str> = by_mix[by_mix.len() - k..]
            .iter()
            .rev()
            .map(|c| c.name.as_str())
            .collect();
        put!(
            text,
            "{}等问题的咨询量占比较高，{}等问题的诉求量（派单）占比较高。",
            list_zh(&consult),
            list_zh(&dispatch)
        );
    }
    doc.p(&text);
    doc.table(
        "群众反映集中的前二十类问题",
        &["排名", "问题类别", "受理量", "占比", "解答咨询占比"],
        &top20_rows(&o.top20, false),
    );
    doc.raw("</section>\n");
}

/// Per year, the lowest and highest month; then the period's, named by the report.
fn monthly_extremes(
    months: &[MonthFigures],
    lowest: Option<&str>,
    highest: Option<&str>,
) -> String {
    let mut per_year: BTreeMap<&str, Vec<&MonthFigures>> = BTreeMap::new();
    for m in months.iter().filter(|m| m.total > 0) {
        per_year.entry(year_of(&m.month)).or_default().push(m);
    }
    let mut parts = Vec::new();
    for (year, ms) in &per_year {
        if ms.len() < 2 {
            continue;
        }
        let (Some(lo), Some(hi)) = (
            ms.iter().min_by_key(|m| m.total),
            ms.iter().max_by_key(|m| m.total),
        ) else {
            continue;
        };
        parts.push(format!(
            "{year}年{}和{}为年度受理量最低点和最高点，分别为{}和{}",
            month_of_year(&lo.month),
            month_of_year(&hi.month),
            amount(lo.total, "件"),
            amount(hi.total, "件")
        ));
    }
    let total_of = |key: &str| {
        months
            .iter()
            .find(|m| m.month == key)
            .map_or(0, |m| m.total)
    };
    let mut text = if parts.is_empty() {
        String::new()
    } else {
        format!("从月度受理情况看，{}。", parts.join("；"))
    };
    if let (Some(lo), Some(hi)) = (lowest, highest) {
        put!(
            text,
            "统计期间内受理量最低的月份为{}（{}），最高的月份为{}（{}）。",
            month_zh(lo),
            amount(total_of(lo), "件"),
            month_zh(hi),
            amount(total_of(hi), "件")
        );
    }
    text
}

fn top_categories(doc: &mut Doc, r: &HotlineReport) {
    doc.raw("<section class=\"chapter\" id=\"top-categories\">\n");
    doc.tag("h2", "二、群众反映前十类问题情况");
    if r.top_categories.is_empty() {
        doc.p("统计期间内没有分类数据。");
    } else if let [only] = r.top_categories.as_slice() {
        doc.p(&format!("统计期间内群众反映最多的问题是{}。", only.name));
    } else {
        let names: Vec<&str> = r.top_categories.iter().map(|c| c.name.as_str()).collect();
        doc.p(&format!(
            "统计期间内群众反映的前{}类问题分别是{}。",
            zh_number(names.len()),
            list_zh(&names)
        ));
    }
    let labels: Vec<String> = r.overview.months.iter().map(|m| m.month.clone()).collect();
    for (i, c) in r.top_categories.iter().enumerate() {
        top_category(doc, r, &labels, i + 1, c);
    }
    doc.raw("</section>\n");
}

fn top_category(
    doc: &mut Doc,
    r: &HotlineReport,
    labels: &[String],
    ordinal: usize,
    c: &TopCategory,
) {
    doc.raw("<article class=\"category\">\n");
    doc.tag("h3", &format!("（{}）{}", zh_number(ordinal), c.name));
    let mut text = format!(
        "统计期间内{}类问题共受理{}，占受理总量的{}。",
        c.name,
        amount(c.count, "件"),
        percent(share(c.count, r.overview.total))
    );
    if let Some(peak) = &c.peak_month {
        let n = labels
            .iter()
            .position(|l| l == peak)
            .and_then(|i| c.monthly.get(i))
            .copied()
            .unwrap_or(0);
        put!(
            text,
            "受理量最高的月份为{}（{}）。",
            month_zh(peak),
            amount(n, "件")
        );
    }
    doc.p(&text);
    let values: Vec<f64> = c.monthly.iter().map(|&n| n as f64).collect();
    let caption = format!("{}各月受理量", c.name);
    doc.figure(&caption, &svg_bars(&caption, labels, &values, CHART_W, 200));

    let mut season: Vec<(usize, f64)> = c
        .seasonality
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, s)| s.is_finite() && *s > 0.0)
        .collect();
    if !season.is_empty() {
        season.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        season.truncate(3);
        let months: Vec<String> = season.iter().map(|(m, _)| format!("{}月", m + 1)).collect();
        let shares: Vec<String> = season.iter().map(|(_, s)| percent(*s)).collect();
        doc.p(&format!(
            "从自然月分布看，{}类问题在{}反映相对集中，分别占全年受理量的{}。",
            c.name,
            list_zh(&months),
            list_zh(&shares)
        ));
        let month_names: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
        let caption = format!("{}各自然月受理量占比", c.name);
        doc.figure(
            &caption,
            &svg_sparkline(&caption, &month_names, &c.seasonality, 260, 56),
        );
    }

    if !c.sub_categories.is_empty() {
        doc.p(&format!(
            "{}类问题主要反映在{}等方面。",
            c.name,
            named_counts(&c.sub_categories)
        ));
        let rows: Vec<Vec<Cell>> = c
            .sub_categories
            .iter()
            .map(|s| {
                vec![
                    Cell::text(&s.name),
                    Cell::count(s.count),
                    Cell::Percent(s.share),
                ]
            })
            .collect();
        doc.table(
            &format!("{}主要反映问题", c.name),
            &["子类", "受理量", "占本类比例"],
            &rows,
        );
    }
    doc.raw("</article>\n");
}

fn handling(doc: &mut Doc, r: &HotlineReport) {
    let h = &r.handling;
    doc.raw("<section class=\"chapter\" id=\"handling\">\n");
    doc.tag("h2", "三、群众诉求办理情况");
    doc.p(&format!(
        "统计期间内派单诉求{}，由{}个街乡镇及区级部门、市属机构、国有企业等单位承办。",
        amount(h.dispatched, "件"),
        thousands(h.streets_handling)
    ));

    doc.tag("h3", "（一）各类单位承办情况");
    if !h.by_unit_kind.is_empty() {
        let parts: Vec<String> = h
            .by_unit_kind
            .iter()
            .map(|n| format!("{}承办占比{}", n.name, percent(n.share)))
            .collect();
        doc.p(&format!("其中，{}。", parts.join("，")));
    }
    doc.table(
        "各类单位承办情况",
        &["单位类型", "承办量", "占比"],
        &unit_kind_rows(&h.by_unit_kind),
    );

    doc.tag("h4", "1. 各区承办情况");
    let most = h
        .districts
        .iter()
        .max_by(|a, b| a.count.cmp(&b.count).then(b.code.cmp(&a.code)));
    let least = h
        .districts
        .iter()
        .min_by(|a, b| a.count.cmp(&b.count).then(a.code.cmp(&b.code)));
    if let (Some(most), Some(least)) = (most, least) {
        let mut text = format!(
            "各区承办量最多的是{}，共办理诉求{}，占各区承办总量的{}。",
            most.name,
            amount(most.count, "件"),
            percent(most.share)
        );
        if least.code != most.code {
            put!(
                text,
                "承办量最少的是{}，共办理诉求{}，占各区承办总量的{}。",
                least.name,
                amount(least.count, "件"),
                percent(least.share)
            );
        }
        doc.p(&text);
    }
    let labels: Vec<String> = h.districts.iter().map(|d| d.name.clone()).collect();
    let values: Vec<f64> = h.districts.iter().map(|d| d.count as f64).collect();
    doc.figure(
        "各区承办量",
        &svg_bars("各区承办量", &labels, &values, CHART_W, 220),
    );
    doc.table(
        "各区承办情况",
        &["区", "承办量", "占比", "区级部门", "街乡镇", "街乡镇占比"],
        &area_rows(&h.districts, false, false),
    );

    doc.tag("h4", "2. 街乡镇承办情况");
    let mut text = format!(
        "统计期间内共有{}个街乡镇承办诉求。",
        thousands(h.streets_handling)
    );
    if let Some(top) = h.top_streets.first() {
        put!(
            text,
            "承办量最多的是{}，共办理诉求{}",
            top.name,
            amount(top.count, "件")
        );
    }
    if let Some(bottom) = h.bottom_streets.first() {
        put!(
            text,
            "；承办量最少的是{}，共办理诉求{}",
            bottom.name,
            amount(bottom.count, "件")
        );
    }
    if !h.top_streets.is_empty() {
        text.push('。');
    }
    doc.p(&text);
    let street_header = ["排名", "街乡镇", "承办量", "占比"];
    doc.raw("<div class=\"pair\">\n<div>\n");
    doc.table(
        "承办量最多的前二十位街乡镇",
        &street_header,
        &named_rows(&h.top_streets, false),
    );
    doc.raw("</div>\n<div>\n");
    doc.table(
        "承办量最少的前二十位街乡镇",
        &["序号", "街乡镇", "承办量", "占比"],
        &named_rows(&h.bottom_streets, false),
    );
    doc.raw("</div>\n</div>\n");
    doc.note("注：占比为占全部街乡镇承办量的比例。");

    for (heading, what, items) in [
        ("3. 市属机构承办情况", "市属机构", &h.top_city_departments),
        ("4. 国有企业承办情况", "国有企业", &h.top_state_enterprises),
    ] {
        doc.tag("h4", heading);
        let mut text = String::new();
        if let Some(first) = items.first() {
            text = format!(
                "{what}中承办量最多的是{}，共办理诉求{}",
                first.name,
                amount(first.count, "件")
            );
            if let Some(second) = items.get(1) {
                put!(
                    text,
                    "；其次是{}，共办理诉求{}",
                    second.name,
                    amount(second.count, "件")
                );
            }
            text.push('。');
        }
        doc.p(&text);
        doc.table(
            &format!("承办量最多的前十位{what}"),
            &["排名", what, "承办量", "占比"],
            &named_rows(items, false),
        );
    }

    doc.tag("h3", "（二）各区承办情况");
    if h.districts.is_empty() {
        doc.p("统计期间内没有各区承办数据。");
    }
    for (i, d) in h.districts.iter().enumerate() {
        area(doc, i + 1, d, "占全市各区承办量的");
    }

    doc.tag("h3", "（三）功能区承办情况");
    if h.zones.is_empty() {
        doc.p("本市未设置功能区。");
    } else {
        doc.table(
            "各功能区承办情况",
            &[
                "功能区",
                "承办量",
                "占比",
                "区级部门",
                "街乡镇",
                "街乡镇占比",
            ],
            &area_rows(&h.zones, false, false),
        );
    }
    for (i, z) in h.zones.iter().enumerate() {
        area(doc, i + 1, z, "占全市各区总量的");
    }
    doc.raw("</section>\n");
}

/// One district's or zone's paragraph: volume, the split between district departments and
/// streets, the top five and the trends.
fn area(doc: &mut Doc, ordinal: usize, a: &AreaHandling, share_of: &str) {
    doc.raw("<article class=\"area\">\n");
    doc.tag("h4", &format!("{ordinal}. {}", a.name));
    let mut text = format!(
        "{}共承办诉求{}，{share_of}{}。其中，区级部门承办{}，占比{}，街乡镇承办{}，占比{}。",
        a.name,
        amount(a.count, "件"),
        percent(a.share),
        amount(a.district_departments, "件"),
        percent(share(a.district_departments, a.count)),
        amount(a.streets, "件"),
        percent(a.street_share),
    );
    match a.top_categories.len() {
        0 => {}
        1 => put!(
            text,
            "承办最多的问题是{}。",
            named_counts(&a.top_categories)
        ),
        n => put!(
            text,
            "承办前{}类问题分别是{}。",
            zh_number(n),
            named_counts(&a.top_categories)
        ),
    }
    doc.p(&text);
    let mut trend = Vec::new();
    if !a.falling.is_empty() {
        trend.push(format!(
            "{}等问题的承办量占比呈下降趋势",
            list_zh(&a.falling)
        ));
    }
    if !a.rising.is_empty() {
        trend.push(format!(
            "{}等问题的承办量占比呈上升趋势",
            list_zh(&a.rising)
        ));
    }
    if !trend.is_empty() {
        doc.p(&format!(
            "从承办量变化情况看，{}{}。",
            a.name,
            trend.join("；")
        ));
    }
    doc.raw("</article>\n");
}

// ---------------------------------------------------------------------------------------------
// Charts: inline SVG
// ---------------------------------------------------------------------------------------------

const FONT_PX: f64 = 11.0;
const INK: &str = "#333";
const AXIS_INK: &str = "#888";
const GRID_INK: &str = "#e3e3e3";
const BAR_FILL: &str = "#3b6ea5";

/// A y axis from `lo` to `hi` in round steps of `step` (1, 2, 2.5 or 5 × 10ⁿ); always `hi > lo`,
/// never NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Axis {
    lo: f64,
    hi: f64,
    step: f64,
}

/// A round step near `raw`: 1, 2, 2.5 or 5 × 10ⁿ.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    let norm = raw / magnitude;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 2.5 {
        2.5
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * magnitude
}

impl Axis {
    /// About five round steps covering `min..=max`; whole steps when `integer`; never below zero
    /// when the data is not.
    fn new(min: f64, max: f64, integer: bool) -> Axis {
        let finite = |x: f64| if x.is_finite() { x } else { 0.0 };
        let (mut min, mut max) = (finite(min), finite(max));
        if min > max {
            std::mem::swap(&mut min, &mut max);
        }
        let non_negative = min >= 0.0;
        if max == min {
            let pad = if max == 0.0 { 0.5 } else { max.abs() * 0.05 };
            min -= pad;
            max += pad;
        }
        let mut step = nice_step((max - min) / 5.0);
        if integer {
            step = step.max(1.0);
        }
        let mut lo = (min / step + 1e-9).floor() * step;
        if non_negative {
            lo = lo.max(0.0);
        }
        let mut hi = (max / step - 1e-9).ceil() * step;
        if hi <= lo {
            hi = lo + step;
        }
        Axis { lo, hi, step }
    }
    /// The tick values, lowest first.
    fn ticks(&self) -> impl Iterator<Item = f64> + '_ {
        let n = (((self.hi - self.lo) / self.step).round() as usize).min(50);
        (0..=n).map(move |k| self.lo + k as f64 * self.step)
    }
    /// The pixel row of `v` between `top` (the axis' `hi`) and `bottom` (its `lo`).
    fn y(&self, v: f64, top: f64, bottom: f64) -> f64 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        bottom - t * (bottom - top)
    }
    /// A tick's label: `80%` / `12.5%` for shares, `500` / `20万` / `2.5万` for counts.
    fn label(&self, v: f64, shares: bool) -> String {
        if shares {
            let decimals = usize::from(((self.step * 100.0).fract()).abs() > 1e-6);
            format!("{:.*}%", decimals, v * 100.0 + 0.0)
        } else if v.abs() >= 10_000.0 {
            let wan = v / 10_000.0;
            if (wan - wan.round()).abs() < 1e-9 {
                format!("{}万", thousands_i64(wan.round() as i64))
            } else {
                format!("{wan:.1}万")
            }
        } else if (v - v.round()).abs() < 1e-9 {
            thousands_i64(v.round() as i64)
        } else {
            format!("{v:.1}")
        }
    }
}

/// The plot area inside a chart, with one slot per category along x.
struct Frame {
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    slot: f64,
}

impl Frame {
    fn new(width: u32, height: u32, top: f64, categories: usize) -> Frame {
        let width = f64::from(width.max(160));
        let height = f64::from(height.max(80));
        let (left, right, bottom) = (48.0, width - 10.0, height - 22.0);
        Frame {
            width,
            height,
            left,
            right,
            top,
            bottom,
            slot: (right - left) / categories.max(1) as f64,
        }
    }
    /// The centre of category `i`'s slot.
    fn x(&self, i: usize) -> f64 {
        self.left + (i as f64 + 0.5) * self.slot
    }
}

/// Roughly how wide `s` is when set at `px`: CJK characters a full em, the rest about half.
pub(crate) fn text_width(s: &str, px: f64) -> f64 {
    s.chars()
        .map(|c| if c.is_ascii() { 0.6 } else { 1.0 })
        .sum::<f64>()
        * px
}

/// Label every n-th category so that the labels do not overlap.
fn label_every(labels: &[String], slot: f64) -> usize {
    let widest = labels
        .iter()
        .map(|l| text_width(l, FONT_PX))
        .fold(0.0, f64::max);
    if slot <= 0.0 {
        return labels.len().max(1);
    }
    ((widest + 6.0) / slot).ceil().max(1.0) as usize
}

/// Opens an `<svg>` that screen readers announce as one image named `caption`.
fn svg_open(out: &mut String, class: &str, caption: &str, width: f64, height: f64) {
    put!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"{class}\" role=\"img\" aria-label=\"{}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\" width=\"{width:.0}\" height=\"{height:.0}\" \
         font-size=\"{FONT_PX}\" font-family=\"sans-serif\">\n",
        escape(caption)
    );
}

/// Horizontal grid lines with the tick labels on the left, and the x axis line.
fn draw_y_axis(out: &mut String, f: &Frame, axis: &Axis, shares: bool) {
    for v in axis.ticks() {
        let y = axis.y(v, f.top, f.bottom);
        put!(
            out,
            "<line x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{GRID_INK}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\n",
            f.left,
            f.right,
            f.left - 4.0,
            y + 3.5,
            escape(&axis.label(v, shares))
        );
    }
    put!(
        out,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{AXIS_INK}\"/>\n",
        f.left,
        f.bottom,
        f.right,
        f.bottom
    );
}

/// Category labels under the x axis, every n-th so that they do not overlap, with a tick mark.
fn draw_x_labels(out: &mut String, f: &Frame, labels: &[String]) {
    let every = label_every(labels, f.slot);
    for (i, label) in labels.iter().enumerate().filter(|(i, _)| i % every == 0) {
        let x = f.x(i);
        put!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{AXIS_INK}\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{INK}\">{}</text>\n",
            f.bottom,
            f.bottom + 4.0,
            f.bottom + 15.0,
            escape(label)
        );
    }
}

/// "No data" in the middle of an empty chart.
fn draw_no_data(out: &mut String, f: &Frame) {
    put!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{AXIS_INK}\">无数据</text>\n",
        (f.left + f.right) / 2.0,
        (f.top + f.bottom) / 2.0
    );
}

/// A bar chart of counts, one bar per label (a missing value is 0), each bar titled with its
/// label and count for hover.
fn svg_bars(caption: &str, labels: &[String], values: &[f64], width: u32, height: u32) -> String {
    let f = Frame::new(width, height, 12.0, labels.len());
    let value = |i: usize| {
        values
            .get(i)
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(0.0)
    };
    let max = (0..labels.len()).map(value).fold(0.0, f64::max);
    let axis = Axis::new(0.0, max, true);
    let mut out = String::new();
    svg_open(&mut out, "chart", caption, f.width, f.height);
    draw_y_axis(&mut out, &f, &axis, false);
    if labels.is_empty() {
        draw_no_data(&mut out, &f);
    }
    // 70 % of the slot, but no wider than a thumb when there are only a few bars
    let bar = (f.slot * 0.7).min(56.0);
    for (i, label) in labels.iter().enumerate() {
        let v = value(i);
        let y = axis.y(v, f.top, f.bottom);
        put!(
            out,
            "<rect x=\"{:.1}\" y=\"{y:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" fill=\"{BAR_FILL}\">\
             <title>{}：{}</title></rect>\n",
            f.x(i) - bar / 2.0,
            f.bottom - y,
            escape(label),
            thousands(v.round() as u64)
        );
    }
    draw_x_labels(&mut out, &f, labels);
    out.push_str("</svg>\n");
    out
}

/// One series of a line chart.
struct Line<'a> {
    /// The name, in the legend and the hover titles.
    name: &'a str,
    /// One value per category; `None` leaves a gap.
    values: Vec<Option<f64>>,
    /// A CSS colour.
    color: &'a str,
}

/// A line chart: one line per series over the labels, gaps where a value is missing, a dot per
/// value titled for hover, a legend on top; `shares` for values 0–1 shown as percentages.
fn svg_lines(
    caption: &str,
    labels: &[String],
    series: &[Line<'_>],
    shares: bool,
    width: u32,
    height: u32,
) -> String {
    let f = Frame::new(width, height, 26.0, labels.len());
    let finite = |s: &Line<'_>| -> Vec<f64> {
        s.values
            .iter()
            .take(labels.len())
            .flatten()
            .copied()
            .filter(|v| v.is_finite())
            .collect()
    };
    let all: Vec<f64> = series.iter().flat_map(finite).collect();
    let (min, max) = if all.is_empty() {
        (0.0, if shares { 1.0 } else { 0.0 })
    } else {
        (
            all.iter().copied().fold(f64::INFINITY, f64::min),
            all.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let axis = Axis::new(min, max, !shares);
    let mut out = String::new();
    svg_open(&mut out, "chart", caption, f.width, f.height);
    draw_y_axis(&mut out, &f, &axis, shares);
    if all.is_empty() {
        draw_no_data(&mut out, &f);
    }
    let mut legend_x = f.left;
    for s in series {
        let color = escape(s.color);
        put!(
            out,
            "<rect x=\"{legend_x:.1}\" y=\"6\" width=\"14\" height=\"4\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"12\" fill=\"{INK}\">{}</text>\n",
            legend_x + 18.0,
            escape(s.name)
        );
        legend_x += 30.0 + text_width(s.name, FONT_PX);

        let point = |i: usize| -> Option<(f64, f64, f64)> {
            let v = s
                .values
                .get(i)
                .copied()
                .flatten()
                .filter(|v| v.is_finite())?;
            Some((f.x(i), axis.y(v, f.top, f.bottom), v))
        };
        let mut path = String::new();
        let mut pen_down = false;
        for i in 0..labels.len() {
            match point(i) {
                Some((x, y, _)) => {
                    put!(path, "{}{x:.1},{y:.1} ", if pen_down { "L" } else { "M" });
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        if !path.is_empty() {
            put!(
                out,
                "<path d=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\"/>\n",
                path.trim_end()
            );
        }
        for (i, label) in labels.iter().enumerate() {
            if let Some((x, y, v)) = point(i) {
                let shown = if shares {
                    percent(v)
                } else {
                    axis.label(v, false)
                };
                put!(
                    out,
                    "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"2.5\" fill=\"{color}\">\
                     <title>{} {}：{}</title></circle>\n",
                    escape(s.name),
                    escape(label),
                    escape(&shown)
                );
            }
        }
    }
    draw_x_labels(&mut out, &f, labels);
    out.push_str("</svg>\n");
    out
}

/// A small line without axes for shares (0–1) over a few categories (the twelve calendar months),
/// the highest marked, each point titled for hover, the first and last labels under the ends.
fn svg_sparkline(
    caption: &str,
    labels: &[String],
    values: &[f64],
    width: u32,
    height: u32,
) -> String {
    let (w, h) = (f64::from(width.max(60)), f64::from(height.max(30)));
    let (pad, bottom) = (6.0, h - 14.0);
    let n = labels.len();
    let value = |i: usize| {
        values
            .get(i)
            .copied()
            .filter(|v| v.is_finite() && *v > 0.0)
            .unwrap_or(0.0)
    };
    let max = (0..n).map(value).fold(0.0, f64::max);
    let scale = if max > 0.0 { max } else { 1.0 };
    let step = (w - 2.0 * pad) / (n.max(2) - 1) as f64;
    let at = |i: usize| {
        (
            pad + i as f64 * step,
            bottom - value(i) / scale * (bottom - pad),
        )
    };
    let peak = (0..n)
        .filter(|&i| value(i) > 0.0)
        .max_by(|&a, &b| value(a).total_cmp(&value(b)).then(b.cmp(&a)));

    let mut out = String::new();
    svg_open(&mut out, "sparkline", caption, w, h);
    put!(
        out,
        "<line x1=\"{pad:.1}\" y1=\"{bottom:.1}\" x2=\"{:.1}\" y2=\"{bottom:.1}\" stroke=\"{GRID_INK}\"/>\n",
        w - pad
    );
    let points: Vec<String> = (0..n)
        .map(|i| {
            let (x, y) = at(i);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if n > 1 {
        put!(
            out,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{BAR_FILL}\" stroke-width=\"1.5\"/>\n",
            points.join(" ")
        );
    }
    for (i, label) in labels.iter().enumerate() {
        let (x, y) = at(i);
        let (r, fill) = if Some(i) == peak {
            (3.0, "#c0392b")
        } else {
            (1.8, BAR_FILL)
        };
        put!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{r}\" fill=\"{fill}\"><title>{}：{}</title></circle>\n",
            escape(label),
            percent(value(i))
        );
    }
    if let (Some(first), Some(last)) = (labels.first(), labels.last()) {
        put!(
            out,
            "<text x=\"{pad:.1}\" y=\"{:.1}\" font-size=\"9\" fill=\"{INK}\">{}</text>\n",
            h - 3.0,
            escape(first)
        );
        if n > 1 {
            put!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"9\" text-anchor=\"end\" fill=\"{INK}\">{}</text>\n",
                w - pad,
                h - 3.0,
                escape(last)
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Handling, Overview, YearFigures};

    fn named(code: &str, name: &str, count: u64, share: f64) -> Named {
        Named {
            code: code.into(),
            name: name.into(),
            count,
            share,
        }
    }

    fn area_of(code: &str, name: &str, count: u64) -> AreaHandling {
        AreaHandling {
            code: code.into(),
            name: name.into(),
            count,
            share: 0.5,
            district_departments: count / 2,
            streets: count - count / 2,
            street_share: 0.5,
            top_categories: vec![named("01", "住房", count / 3, 0.33)],
            rising: vec!["教育".into()],
            falling: vec!["市容环卫".into()],
        }
    }

    fn month(key: &str, total: u64, rate: Option<f64>) -> MonthFigures {
        MonthFigures {
            month: key.into(),
            total,
            channels: BTreeMap::from([
                ("phone".to_string(), total - total / 10),
                ("wechat".to_string(), total / 10),
            ]),
            resolution_rate: rate,
            satisfaction_rate: rate.map(|r| r + 0.05),
        }
    }

    /// A report over 2020-11..=2021-02 with every field filled; the first category's name is
    /// hostile HTML.
    fn sample() -> HotlineReport {
        let months = vec![
            month("2020-11", 3_000, Some(0.80)),
            month("2020-12", 3_345, Some(0.82)),
            month("2021-01", 2_500, None),
            month("2021-02", 3_500, Some(0.85)),
        ];
        let year = |year: i32, total: u64, requesters: u64, new: u64| YearFigures {
            year,
            total,
            months: 2,
            phone: total - total / 10,
            online: total / 10,
            online_share: 0.1,
            requesters,
            new_requesters: new,
            new_requester_share: share(new, requesters),
        };
        let streets: Vec<Named> = (1..=20)
            .map(|i| named(&format!("s{i}"), &format!("街道{i}"), 1_000 - i * 10, 0.01))
            .collect();
        HotlineReport {
            from: "2020-11".into(),
            to: "2021-02".into(),
            overview: Overview {
                total: 12_345,
                phone: 11_111,
                phone_share: 0.9,
                online: 1_234,
                online_share: 0.1,
                dispatched: 5_000,
                dispatched_share: 0.405,
                answered_directly: 7_345,
                answered_directly_share: 0.595,
                years: vec![
                    year(2020, 6_345, 4_000, 4_000),
                    year(2021, 6_000, 3_900, 2_000),
                ],
                growth: Some(-0.0544),
                months,
                lowest_month: Some("2021-01".into()),
                highest_month: Some("2021-02".into()),
                requesters: 6_000,
                requesters_every_year: 1_900,
                resolution_rate: Some(0.83),
                satisfaction_rate: Some(0.88),
                praise: 42,
                top20: vec![
                    CategoryMix {
                        code: "99".into(),
                        name: "<script>alert(1)</script>".into(),
                        count: 6_000,
                        share: 0.486,
                        answered_directly_share: 0.9,
                    },
                    CategoryMix {
                        code: "01".into(),
                        name: "住房".into(),
                        count: 4_000,
                        share: 0.324,
                        answered_directly_share: 0.2,
                    },
                ],
            },
            top_categories: vec![
                TopCategory {
                    rank: 1,
                    code: "99".into(),
                    name: "<script>alert(1)</script>".into(),
                    count: 6_000,
                    monthly: vec![1_000, 2_000, 1_500, 1_500],
                    peak_month: Some("2020-12".into()),
                    seasonality: vec![0.0, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.4, 0.35],
                    sub_categories: vec![
                        named("9901", "进出京政策", 4_000, 0.67),
                        named("9902", "健康宝", 2_000, 0.33),
                    ],
                },
                TopCategory {
                    rank: 2,
                    code: "01".into(),
                    name: "住房".into(),
                    count: 4_000,
                    monthly: vec![1_000, 1_000, 1_000, 1_000],
                    peak_month: Some("2020-11".into()),
                    seasonality: vec![
                        0.25, 0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.25, 0.25,
                    ],
                    sub_categories: vec![],
                },
            ],
            handling: Handling {
                dispatched: 5_000,
                by_unit_kind: vec![
                    named("district_department", "区级部门", 3_000, 0.6),
                    named("street_town", "街道乡镇", 2_000, 0.4),
                ],
                districts: vec![
                    area_of("110105", "朝阳区", 3_000),
                    area_of("110101", "东城区", 2_000),
                ],
                top_streets: streets.clone(),
                bottom_streets: streets.into_iter().rev().collect(),
                streets_handling: 25,
                top_city_departments: vec![
                    named("jgj", "市交管局", 300, 0.6),
                    named("kfq", "经开区管委会", 200, 0.4),
                ],
                top_state_enterprises: vec![named("rl", "热力集团", 100, 1.0)],
                zones: vec![area_of("中心城区", "中心城区", 5_000)],
            },
        }
    }

    /// A report with no data at all: zeros, no rates, empty lists.
    fn empty() -> HotlineReport {
        let mut r = sample();
        r.overview = Overview {
            total: 0,
            phone: 0,
            phone_share: 0.0,
            online: 0,
            online_share: 0.0,
            dispatched: 0,
            dispatched_share: 0.0,
            answered_directly: 0,
            answered_directly_share: 0.0,
            years: vec![],
            growth: None,
            months: vec![month("2021-01", 0, None)],
            lowest_month: None,
            highest_month: None,
            requesters: 0,
            requesters_every_year: 0,
            resolution_rate: None,
            satisfaction_rate: None,
            praise: 0,
            top20: vec![],
        };
        r.top_categories = vec![];
        r.handling = Handling {
            dispatched: 0,
            by_unit_kind: vec![],
            districts: vec![],
            top_streets: vec![],
            bottom_streets: vec![],
            streets_handling: 0,
            top_city_departments: vec![],
            top_state_enterprises: vec![],
            zones: vec![],
        };
        r
    }

    #[test]
    fn html_is_a_complete_chinese_document_with_the_three_sections() {
        let html = hotline_html(&sample(), "测试热线数据报告");
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<html lang=\"zh-CN\">"));
        assert!(html.trim_end().ends_with("</html>"));
        assert!(html.contains("<title>测试热线数据报告</title>"));
        for heading in [
            "<h2>一、总体情况</h2>",
            "<h2>二、群众反映前十类问题情况</h2>",
            "<h2>三、群众诉求办理情况</h2>",
        ] {
            assert!(html.contains(heading), "missing {heading}");
        }
        assert_eq!(html.matches("<section class=\"chapter\"").count(), 3);
        assert!(html.contains("<svg"));
        assert!(html.contains("role=\"img\""));
        assert!(html.contains("2020年11月至2021年2月"));
    }

    #[test]
    fn html_is_self_contained_with_one_style_block_and_no_script() {
        let html = hotline_html(&sample(), "报告");
        assert_eq!(html.matches("<style>").count(), 1);
        assert!(html.contains("@page"));
        assert!(html.contains("break-before: page"));
        assert!(!html.to_lowercase().contains("<script"));
        for external in ["<link", "src=", "url(", "@import", "href="] {
            assert!(!html.contains(external), "found {external}");
        }
    }

    #[test]
    fn category_names_and_the_title_are_escaped() {
        let html = hotline_html(&sample(), "<b>\"报告\"</b>");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<title>&lt;b&gt;&quot;报告&quot;&lt;/b&gt;</title>"));
        assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
    }

    #[test]
    fn counts_get_thousands_separators_and_wan_in_prose() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(amount(9_999, "件"), "9,999件");
        assert_eq!(amount(10_000, "件"), "1.0万件");
        assert_eq!(amount(12_345, "件"), "1.2万件");
        assert_eq!(amount(15_000, "个"), "1.5万个");
        assert_eq!(amount(31_340_000, "件"), "3,134.0万件");
        let html = hotline_html(&sample(), "报告");
        assert!(html.contains("共受理群众反映1.2万件"));
        assert!(html.contains("<td class=\"num\">12,345</td>"));
    }

    #[test]
    fn shares_are_percentages_with_one_decimal() {
        assert_eq!(percent(0.9213), "92.1%");
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(-0.00001), "0.0%");
        assert_eq!(percent(f64::NAN), "—");
        assert_eq!(opt_percent(None), "—");
        assert_eq!(change_zh(0.918), "增长了91.8%");
        assert_eq!(change_zh(-0.0544), "下降了5.4%");
    }

    #[test]
    fn months_and_ordinals_read_as_chinese() {
        assert_eq!(month_zh("2021-03"), "2021年3月");
        assert_eq!(month_zh("bad"), "bad");
        assert_eq!(month_of_year("2021-11"), "11月");
        assert_eq!(zh_number(1), "一");
        assert_eq!(zh_number(10), "十");
        assert_eq!(zh_number(12), "十二");
        assert_eq!(zh_number(20), "二十");
        assert_eq!(zh_number(35), "三十五");
    }

    #[test]
    fn charts_of_zero_or_missing_data_have_no_nan_or_infinity() {
        let labels: Vec<String> = (1..=12).map(|m| format!("{m}月")).collect();
        let charts = [
            svg_bars("零", &labels, &[0.0; 12], CHART_W, CHART_H),
            svg_bars("空", &[], &[], CHART_W, CHART_H),
            svg_bars(
                "怪",
                &labels,
                &[f64::NAN, f64::INFINITY, -3.0],
                CHART_W,
                CHART_H,
            ),
            svg_lines(
                "零",
                &labels,
                &[Line {
                    name: "解决率",
                    values: vec![Some(0.0); 12],
                    color: "#000",
                }],
                true,
                640,
                240,
            ),
            svg_lines(
                "缺",
                &labels,
                &[Line {
                    name: "解决率",
                    values: vec![None; 12],
                    color: "#000",
                }],
                true,
                640,
                240,
            ),
            svg_lines("空", &[], &[], false, 640, 240),
            svg_lines(
                "一",
                &labels[..1],
                &[Line {
                    name: "x",
                    values: vec![Some(0.5)],
                    color: "#000",
                }],
                true,
                640,
                240,
            ),
            svg_sparkline("零", &labels, &[0.0; 12], 260, 56),
            svg_sparkline("一", &labels[..1], &[0.3], 260, 56),
        ];
        for svg in &charts {
            assert!(!svg.contains("NaN"), "{svg}");
            assert!(!svg.contains("inf"), "{svg}");
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        }
        let html = hotline_html(&empty(), "空报告");
        assert!(!html.contains("NaN"));
        assert!(html.contains("无数据"));
    }

    #[test]
    fn charts_are_accessible_images_with_a_title_per_bar_and_point() {
        let labels: Vec<String> = vec!["2021-01".into(), "2021-02".into()];
        let bars = svg_bars(
            "各月<受理量>",
            &labels,
            &[12_345.0, 500.0],
            CHART_W,
            CHART_H,
        );
        assert!(bars.contains("role=\"img\" aria-label=\"各月&lt;受理量&gt;\""));
        assert!(bars.contains("<title>2021-01：12,345</title>"));
        assert_eq!(bars.matches("<rect").count(), 2);
        let lines = svg_lines(
            "解决率",
            &labels,
            &[Line {
                name: "解决率",
                values: vec![Some(0.851), None],
                color: "#3b6ea5",
            }],
            true,
            CHART_W,
            CHART_H,
        );
        assert!(lines.contains("<title>解决率 2021-01：85.1%</title>"));
        assert_eq!(lines.matches("<circle").count(), 1);
    }

    #[test]
    fn axis_ticks_are_round_numbers_covering_the_data() {
        let a = Axis::new(0.0, 1_234.0, true);
        assert_eq!((a.lo, a.hi, a.step), (0.0, 1_250.0, 250.0));
        assert_eq!(a.ticks().count(), 6);
        assert_eq!(a.label(1_000.0, false), "1,000");
        let big = Axis::new(0.0, 1_450_000.0, true);
        assert_eq!(big.step, 500_000.0);
        assert_eq!(big.label(500_000.0, false), "50万");
        let p = Axis::new(0.53, 0.91, false);
        assert!(p.lo <= 0.53 && p.hi >= 0.91 && p.lo >= 0.0);
        assert_eq!(p.label(0.6, true), "60%");
        let zero = Axis::new(0.0, 0.0, true);
        assert!(zero.hi > zero.lo && zero.lo == 0.0);
        for step in [a.step, big.step, p.step] {
            let norm = step / 10f64.powf(step.log10().floor());
            assert!(
                [1.0, 2.0, 2.5, 5.0].iter().any(|n| (norm - n).abs() < 1e-9),
                "{step}"
            );
        }
    }

    #[test]
    fn crowded_category_labels_are_thinned() {
        let labels: Vec<String> = (0..36)
            .map(|i| format!("20{:02}-{:02}", 19 + i / 12, i % 12 + 1))
            .collect();
        let f = Frame::new(CHART_W, CHART_H, 12.0, labels.len());
        let every = label_every(&labels, f.slot);
        assert!(every > 1);
        assert!(f.slot * every as f64 >= text_width(&labels[0], FONT_PX));
        let svg = svg_bars("月", &labels, &[1.0; 36], CHART_W, CHART_H);
        assert_eq!(
            svg.matches("text-anchor=\"middle\"").count(),
            36_usize.div_ceil(every)
        );
        assert_eq!(label_every(&labels[..3], f.slot * 12.0), 1);
    }

    #[test]
    fn sheets_have_the_expected_names_and_row_counts() {
        let r = sample();
        let sheets = hotline_sheets(&r);
        let names: Vec<&str> = sheets.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "总体情况",
                "月度",
                "前二十类",
                "前十类问题",
                "前十类问题月度",
                "单位类型",
                "各区",
                "街乡镇前二十",
                "街乡镇后二十",
                "市属机构",
                "国有企业",
                "功能区"
            ]
        );
        let rows: Vec<usize> = sheets.iter().map(|s| s.rows.len()).collect();
        // 2 years + 合计; 4 months; 2 of the top 20; 2 sub-categories + 1 category without;
        // 4 months; 2 unit kinds; 2 districts; 20 + 20 streets; 2 departments; 1 enterprise; 1 zone
        assert_eq!(rows, [3, 4, 2, 3, 4, 2, 2, 20, 20, 2, 1, 1]);
        for s in &sheets {
            assert!(
                s.name.chars().count() <= 31
                    && !s.name.contains(['[', ']', ':', '*', '?', '/', '\\'])
            );
            assert!(
                s.rows.iter().all(|row| row.len() == s.header.len()),
                "ragged sheet {}",
                s.name
            );
        }
        let months = &sheets[1];
        assert_eq!(
            months.header,
            ["月份", "受理量", "电话", "微信", "解决率", "满意率"]
        );
        assert_eq!(months.rows[2][4], Cell::Text(String::new()));
        assert_eq!(months.rows[0][1], Cell::Int(3_000));
        assert_eq!(sheets[0].rows[2][0], Cell::text("合计"));
        assert_eq!(sheets[0].rows[2][2], Cell::Int(12_345));
    }

    #[test]
    fn sheets_of_an_empty_report_keep_their_headers() {
        let sheets = hotline_sheets(&empty());
        assert_eq!(sheets.len(), 12);
        assert!(sheets.iter().all(|s| !s.header.is_empty()));
        assert_eq!(sheets[0].rows.len(), 1, "only the 合计 row");
    }

    #[test]
    fn sheet_names_are_made_valid_for_excel() {
        assert_eq!(sheet_name("a/b[c]:d*e?f\\g"), "a_b_c__d_e_f_g");
        assert_eq!(sheet_name(&"长".repeat(40)).chars().count(), 31);
        assert_eq!(sheet_name(""), "Sheet");
    }
}
