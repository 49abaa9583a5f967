//! CSV export/import: exact round trip and all-or-nothing, line-numbered rejection.

mod common;
use common::*;
use jiesu_routing::bench::{synthetic_catalogue, synthetic_categories, synthetic_org};
use jiesu_routing::{Catalogue, ImportReport, PlaceScope, UnitRef};

const HEADER: &str =
    "id,effective_from,effective_to,priority,category_prefix,place,keywords,enterprise,assignments,tier,note\n";

fn import(s: &[u8]) -> Result<Catalogue, ImportReport> {
    Catalogue::from_csv(s, &org(), &cats())
}

fn lines_of(r: &ImportReport) -> Vec<(usize, Option<usize>)> {
    r.problems.iter().map(|p| (p.line, p.other_line)).collect()
}

#[test]
fn export_then_import_round_trips_exactly() {
    let mut a = with_assist(
        rule("A", "1402", street("110108010"), UnitRef::Street),
        UnitRef::DistrictDept("D02".into()),
    );
    a.keywords = vec!["路灯|灯杆".into(), "小区".into()];
    a.enterprise = Some(false);
    a.priority = -3;
    a.note = "  带逗号, \"引号\" 和\n换行的备注 ".into();
    let mut b_old = rule("B", "", PlaceScope::Any, UnitRef::District);
    b_old.effective_to = Some(day(2026, 1, 1));
    let mut b_new = rule("B", "", PlaceScope::Any, UnitRef::Ecommerce);
    b_new.effective_from = day(2026, 1, 1);
    b_new.enterprise = Some(true);
    let c = rule(
        "C",
        "020101",
        PlaceScope::Community("110108010001".into()),
        unit("EC001"),
    );
    let cat = Catalogue::new(vec![c, b_new, a, b_old]);
    let csv = cat.to_csv();
    assert!(csv.starts_with(HEADER));
    let back = import(csv.as_bytes()).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(back, cat);
    assert_eq!(back.to_csv(), csv);
}

#[test]
fn a_5000_rule_catalogue_round_trips() {
    let (o, c) = (synthetic_org(), synthetic_categories());
    let cat = synthetic_catalogue(5000, &o, &c, 1);
    assert_eq!(cat.len(), 5000);
    let csv = cat.to_csv();
    let back = Catalogue::from_csv(csv.as_bytes(), &o, &c).unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(back, cat);
    assert_eq!(back.to_csv(), csv);
}

#[test]
fn a_bad_file_is_rejected_with_every_problem_and_its_line() {
    let rows = [
        "R01,2025-01-01,,0,1402,*,,,lead:{street},7d,ok", // line 2
        "R02,2025-01-01,,0,140201,*,,,lead:NOPE,7d,unknown unit", // line 3
        "R03,2025-01-01,,0,140202,district:110108,,,lead:{district}D02,24h,", // line 4
        "R04,2025-01-01,,0,14,street:110108010,,,lead:{street},7d,overlap A", // line 5
        "R05,2025-01-01,,0,02,*,,,lead:{ecommerce},15d,", // line 6
        "R06,2025-13-45,,0,27,*,,,lead:{street},2h,bad date", // line 7
        "R07,2025-01-01,,0,2701,*,,,lead:SE003;assist:{district}D13,24h,", // line 8
        "R08,2025-06-01,,0,14,street:110108010,,,lead:CD001,7d,overlap B", // line 9
    ];
    let file = format!("{HEADER}{}\n", rows.join("\n"));
    let r = import(file.as_bytes()).unwrap_err();
    assert_eq!(
        lines_of(&r),
        vec![(3, None), (5, Some(9)), (7, None)],
        "{r}"
    );
    let text = r.to_string();
    assert!(
        text.contains("line 3 [assignments]: unknown unit code 'NOPE'"),
        "{text}"
    );
    assert!(text.contains("lines 5 and 9"), "{text}");
    assert!(text.contains("line 7 [effective_from]"), "{text}");
    assert_eq!(r.rows, 8);
}

#[test]
fn many_kinds_of_problems_are_all_reported() {
    let rows = [
        "R01,2025-01-01,2024-01-01,0,1402,*,,,lead:{street},7d,", // 2: ends before start
        "R02,2025-01-01,,x,99,*,,,lead:{street},7d,",             // 3: priority, unknown category
        "R03,2025-01-01,,0,1402,street:110108,,,lead:{street},7d,", // 4: place of wrong kind
        "R04,2025-01-01,,0,1402,town:1,,,lead:{street},7d,",      // 5: bad place level
        "R05,2025-01-01,,0,1402,*,,maybe,lead:{street},1d,",      // 6: enterprise, tier
        "R06,2025-01-01,,0,1402,*,,,assist:{street},7d,",         // 7: no lead
        "R07,2025-01-01,,0,1402,*,,,lead:{district}D77,7d,",      // 8: slot nobody has
        "R08,2025-01-01,,0,1402,*,,,lead:C,7d,",                  // 9: centre not dispatchable
        "R09,2025-01-01,,0,1402,*",                               // 10: field count
        "R10,2025-01-01,,0,1402,*,,,lead:{street},7d,",           // 11: ok
        "R10,2025-01-01,,0,1402,*,a,,lead:{street},7d,",          // 12: duplicate version
    ];
    let file = format!("{HEADER}{}\n", rows.join("\n"));
    let r = import(file.as_bytes()).unwrap_err();
    let lines: Vec<usize> = r.problems.iter().map(|p| p.line).collect();
    for l in [2, 3, 4, 5, 6, 7, 8, 9, 10, 11] {
        assert!(lines.contains(&l), "line {l} missing from\n{r}");
    }
    assert!(r
        .problems
        .iter()
        .any(|p| p.line == 3 && p.column.as_deref() == Some("priority")));
    assert!(r
        .problems
        .iter()
        .any(|p| p.line == 3 && p.column.as_deref() == Some("category_prefix")));
    assert!(r
        .problems
        .iter()
        .any(|p| p.line == 6 && p.column.as_deref() == Some("tier")));
}

#[test]
fn a_missing_column_is_reported_on_line_1() {
    let file = "id,effective_from,category_prefix,place,tier\nR1,2025-01-01,1402,*,7d\n";
    let r = import(file.as_bytes()).unwrap_err();
    assert_eq!(r.problems.len(), 1, "{r}");
    assert_eq!(r.problems[0].line, 1);
    assert!(r.problems[0].message.contains("assignments"));
    // Unknown columns too.
    let file = format!("{}extra\n", HEADER.trim_end().to_string() + ",");
    let r = import(file.as_bytes()).unwrap_err();
    assert!(
        r.problems[0].message.contains("unknown column 'extra'"),
        "{r}"
    );
}

#[test]
fn the_acceptance_bad_file_is_rejected() {
    let r = import(b"not,a,catalogue\n1,2\n").unwrap_err();
    assert!(r.problems.iter().all(|p| p.line == 1));
    assert!(!r.problems.is_empty());
    assert!(import(b"").is_err());
}

#[test]
fn invalid_utf8_is_reported_with_its_line() {
    let mut file = HEADER.as_bytes().to_vec();
    file.extend_from_slice("R1,2025-01-01,,0,1402,*,,,lead:{street},7d,好\n".as_bytes());
    file.extend_from_slice(b"R2,2025-01-01,,0,140201,*,,,lead:{street},7d,\xB7\xBE\xCF\xDF\n"); // GBK
    file.extend_from_slice(b"R3,2025-01-01,,0,27,*,\xff,,lead:{street},7d,\n");
    let r = import(&file).unwrap_err();
    assert_eq!(lines_of(&r), vec![(3, None), (4, None)], "{r}");
    assert!(r.problems[0].message.contains("UTF-8"));
}

#[test]
fn bom_crlf_and_quoted_newlines_are_handled() {
    let mut file = b"\xEF\xBB\xBF".to_vec();
    file.extend_from_slice(HEADER.replace('\n', "\r\n").as_bytes());
    file.extend_from_slice(b"R1,2025-01-01,,0,1402,*,,,lead:{street},7d,\"two\r\nlines\"\r\n");
    file.extend_from_slice(b"R2,2025-01-01,,0,1402,*,,,lead:NOPE,7d,\r\n");
    let r = import(&file).unwrap_err();
    // R2 starts on line 4 because R1's note spans lines 2–3.
    assert_eq!(lines_of(&r), vec![(4, None)], "{r}");
    // Columns may come in any order, optional ones may be left out.
    let file = "tier,assignments,place,category_prefix,effective_from,id\n7d,lead:{street},*,1402,2025-01-01,R1\n";
    let cat = import(file.as_bytes()).unwrap();
    assert_eq!(cat.rules()[0].id, "R1");
    assert_eq!(cat.rules()[0].priority, 0);
}
