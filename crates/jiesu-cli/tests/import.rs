//! `jiesu import csv` against the real binary: the shipped NYC 311 mapping on the shared sample
//! (skipped visibly without it), encodings, whole-file rejections with line numbers, dry runs,
//! and the imported histories through the API.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn nyc_mapping() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/nyc311-mapping.toml")
}

fn tickets(db: &Path) -> u64 {
    let out = ok(&["stats", "--db", db.to_str().unwrap(), "--json"]);
    let v: Value = serde_json::from_str(&out).unwrap();
    v["tickets"].as_u64().unwrap()
}

fn import_json(db: &Path, mapping: &Path, file: &Path, extra: &[&str]) -> Value {
    let mut a = vec![
        "import",
        "csv",
        "--db",
        db.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        "--json",
    ];
    a.extend(extra);
    a.push(file.to_str().unwrap());
    serde_json::from_str(&ok(&a)).unwrap()
}

/// (success, stderr) of an import expected to fail.
fn import_err(db: &Path, mapping: &Path, file: &Path) -> String {
    let o = jiesu(&[
        "import",
        "csv",
        "--db",
        db.to_str().unwrap(),
        "--mapping",
        mapping.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "the import was accepted");
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn new_city(dir: &Path) -> PathBuf {
    let db = test_db(dir);
    ok(&["init", "--db", db.to_str().unwrap()]);
    db
}

#[test]
fn the_nyc_sample_imports_every_row_once() {
    let Some(csv) = jiesu_text::data::shared_test_file(
        jiesu_text::data::shared_data_dir().join("nyc311_sample_20181021/nyc311_2018-10-21.csv"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = new_city(dir.path());
    let m = nyc_mapping();
    let dry = import_json(&db, &m, &csv, &["--dry-run"]);
    assert_eq!(dry["imported"], 0);
    assert_eq!(tickets(&db), 0, "a dry run wrote");

    let r = import_json(&db, &m, &csv, &[]);
    assert_eq!(r["rows"], 6765, "{r}");
    assert_eq!(r["imported"], 6765);
    assert_eq!(r["not_mapped"], 0, "{}", r["not_mapped_rows"]);
    assert_eq!(r["mapped_fully"], 6372);
    assert_eq!(r["mapped_partly"], 393);
    assert_eq!(r["encoding"], "utf-8");
    let fb = &r["fallbacks"];
    assert_eq!(
        fb["channel: Open Data Channel Type \"UNKNOWN\" not in the table: default used"],
        252
    );
    assert_eq!(
        fb["place: Borough \"Unspecified\" not in the table: default used"],
        46
    );
    assert_eq!(
        fb["status: finished without a closed time: kept as signed"],
        2
    );
    assert_eq!(
        r["unmapped_values"]["category"]["HPD Literature Request"],
        8
    );
    // the dry run said the same
    for k in ["mapped_fully", "mapped_partly", "not_mapped", "fallbacks"] {
        assert_eq!(dry[k], r[k], "{k}");
    }
    assert_eq!(tickets(&db), 6765);
    if !on_postgres() {
        // the imported histories are chained like any other (the offline verifier is SQLite's)
        ok(&["verify", "--db", db.to_str().unwrap()]);
    }

    let again = import_json(&db, &m, &csv, &[]);
    assert_eq!(again["already_imported"], 6765);
    assert_eq!(again["imported"], 0);
    assert_eq!(tickets(&db), 6765);

    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "a,b\n\"broken\n").unwrap();
    let e = import_err(&db, &m, &bad);
    assert!(e.contains("line 2"), "{e}");
    assert_eq!(tickets(&db), 6765);
}

/// A small export of a Chinese office: its own columns and values.
const MAPPING: &str = r#"
source = "district-hotline"
key = "编号"
[time]
format = "%Y-%m-%d %H:%M"
zone = "Asia/Shanghai"
created = "受理时间"
closed = "办结时间"
[text]
title = "{类别}：{内容}"
text = "{内容}"
address = "{地址}"
result = "{办理结果}"
request_type = "complaint"
requester_name = "{姓名}"
requester_phone = "{电话}"
[status]
column = "状态"
default = "dispatched"
values = { "已办结" = "finished", "待派" = "new" }
[category]
column = "类别"
default = "0705"
values = { "噪音" = "1301" }
[unit]
column = "部门"
values = { "环保局" = "CD010", "交通委" = "CD013" }
[place]
column = "区"
default = { district = "110105", street = "110105001" }
values = { "东城" = { district = "110101", street = "110101001" } }
[channel]
default = "phone"
"#;

const HEAD: &str = "编号,受理时间,办结时间,状态,类别,内容,地址,办理结果,姓名,电话,部门,区\n";

fn rows() -> String {
    format!(
        "{HEAD}A1,2024-05-01 08:00,2024-05-01 17:30,已办结,噪音,夜间施工噪音扰民,某路1号,已责令停工整改,王先生,13812345678,环保局,东城\n\
         A2,2024-05-02 09:15,,处理中,停车,\"小区门口乱停车，\"\"堵路\"\"\",,,李女士,010-65123456,交通委,西城\n"
    )
}

fn small(dir: &Path) -> (PathBuf, PathBuf) {
    let m = dir.join("mapping.toml");
    std::fs::write(&m, MAPPING).unwrap();
    (new_city(dir), m)
}

#[test]
fn gbk_and_bom_files_import() {
    let dir = tempfile::tempdir().unwrap();
    let (db, m) = small(dir.path());
    let gbk = dir.path().join("gbk.csv");
    std::fs::write(&gbk, encoding_rs_gbk(&rows())).unwrap();
    let r = import_json(&db, &m, &gbk, &[]);
    assert_eq!(r["encoding"], "gbk");
    assert_eq!(r["imported"], 2, "{r}");
    assert_eq!(r["mapped_fully"], 1);
    assert_eq!(r["mapped_partly"], 1);
    assert_eq!(r["unmapped_values"]["category"]["停车"], 1);
    assert_eq!(tickets(&db), 2);

    // the same rows with a BOM, under new keys
    let bom = dir.path().join("bom.csv");
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(
        rows()
            .replace("A1,", "B1,")
            .replace("A2,", "B2,")
            .as_bytes(),
    );
    std::fs::write(&bom, b).unwrap();
    let r = import_json(&db, &m, &bom, &[]);
    assert_eq!(r["encoding"], "utf-8-bom");
    assert_eq!(r["imported"], 2, "{r}");
    assert_eq!(tickets(&db), 4);
    // and the GBK file again: nothing twice
    let r = import_json(&db, &m, &gbk, &[]);
    assert_eq!(
        (r["imported"].as_u64(), r["already_imported"].as_u64()),
        (Some(0), Some(2))
    );
}

/// GBK bytes of a text (the test's own encoder: the binary decodes with encoding_rs).
fn encoding_rs_gbk(s: &str) -> Vec<u8> {
    let (b, _, bad) = encoding_rs::GBK.encode(s);
    assert!(!bad);
    b.into_owned()
}

#[test]
fn bad_files_are_rejected_whole_with_line_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (db, m) = small(dir.path());
    // a quote opened on line 3 never closes
    let quote = dir.path().join("quote.csv");
    let broken = rows().replace("\"小区门口乱停车，\"\"堵路\"\"\"", "\"小区门口乱停车");
    std::fs::write(&quote, broken).unwrap();
    let e = import_err(&db, &m, &quote);
    assert!(e.contains("line 3") && e.contains("never closed"), "{e}");
    // a date in another format on line 3: the good line 2 is not imported either
    let date = dir.path().join("date.csv");
    std::fs::write(
        &date,
        rows().replace("2024-05-02 09:15", "05/02/2024 09:15"),
    )
    .unwrap();
    let e = import_err(&db, &m, &date);
    assert!(e.contains("line 3") && e.contains("受理时间"), "{e}");
    // a column the mapping names is missing
    let cols = dir.path().join("cols.csv");
    std::fs::write(&cols, rows().replace("部门", "单位")).unwrap();
    let e = import_err(&db, &m, &cols);
    assert!(e.contains("line 1") && e.contains("部门"), "{e}");
    // bytes that are neither UTF-8 nor GBK, on line 3
    let enc = dir.path().join("enc.csv");
    let mut b = rows().into_bytes();
    let at = b.iter().rposition(|c| *c == b'A').unwrap();
    b[at] = 0xFF;
    std::fs::write(&enc, b).unwrap();
    let e = import_err(&db, &m, &enc);
    assert!(e.contains("line 3"), "{e}");
    assert_eq!(tickets(&db), 0, "a rejected file changed the database");
}

#[test]
fn a_dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (db, m) = small(dir.path());
    let f = dir.path().join("a.csv");
    std::fs::write(&f, rows()).unwrap();
    let r = import_json(&db, &m, &f, &["--dry-run"]);
    assert_eq!(
        (r["dry_run"].as_bool(), r["imported"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(r["mapped_fully"], 1);
    assert_eq!(tickets(&db), 0);
    // the printed report says the same
    let text = ok(&[
        "import",
        "csv",
        "--db",
        db.to_str().unwrap(),
        "--mapping",
        m.to_str().unwrap(),
        "--dry-run",
        f.to_str().unwrap(),
    ]);
    assert!(text.contains("dry run, nothing written"), "{text}");
    assert!(
        text.contains(
            "rows 2: already imported 0, mapped fully 1, partly 1, not 0; tickets written 0"
        ),
        "{text}"
    );
    assert!(
        text.contains("category: 1 value(s) not in the table: \"停车\" 1"),
        "{text}"
    );
    // and the rows are still new afterwards
    assert_eq!(import_json(&db, &m, &f, &[])["imported"], 2);
    assert_eq!(tickets(&db), 2);
}

#[test]
fn rows_the_city_refuses_are_reported_with_their_lines_and_the_rest_imported() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = small(dir.path());
    // a unit code that is not in this city's org tree, and a phone the intake refuses
    let m = dir.path().join("m2.toml");
    std::fs::write(&m, MAPPING.replace("\"CD013\"", "\"ZZ999\"")).unwrap();
    let f = dir.path().join("a.csv");
    let extra = "A3,2024-05-03 10:00,,待派,噪音,楼上噪音,,,赵先生,12345,环保局,东城\n";
    std::fs::write(&f, rows() + extra).unwrap();
    let r = import_json(&db, &m, &f, &[]);
    assert_eq!(r["imported"], 1, "{r}");
    assert_eq!(r["not_mapped"], 2);
    let rows = r["not_mapped_rows"].as_array().unwrap();
    assert_eq!(rows[0]["line"], 3);
    assert_eq!(rows[0]["key"], "A2");
    assert!(rows[0]["reason"].as_str().unwrap().contains("ZZ999"), "{r}");
    assert_eq!(rows[1]["line"], 4);
    assert!(rows[1]["reason"].as_str().unwrap().contains("phone"), "{r}");
    assert_eq!(tickets(&db), 1);
}

#[test]
fn imported_tickets_show_their_history_through_the_api() {
    let s = server_with(
        |db| {
            let dir = db.parent().unwrap_or(Path::new("."));
            let dir = if on_postgres() {
                std::env::temp_dir()
            } else {
                dir.to_path_buf()
            };
            ok(&["init", "--db", db.to_str().unwrap()]);
            let m = dir.join(format!("mapping-{}.toml", std::process::id()));
            std::fs::write(&m, MAPPING).unwrap();
            let f = dir.join(format!("rows-{}.csv", std::process::id()));
            std::fs::write(&f, rows()).unwrap();
            let r = import_json(db, &m, &f, &[]);
            assert_eq!(r["imported"], 2, "{r}");
        },
        &[("sup1", "supervisor", None)],
    );
    let tok = login(&s, "sup1");
    let (st, _, t) = call(&s, "GET", "/api/v1/tickets/1", Some(&tok), None);
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["title"], "噪音：夜间施工噪音扰民");
    assert_eq!(t["category_code"], "1301");
    assert_eq!(t["place"]["district_code"], "110101");
    assert_eq!(t["created_at"], "2024-05-01T00:00:00Z");
    // dispatched to the mapped unit, finished with the source's result at its closed time;
    // the centre's callback (回访) is what closes it
    assert_eq!(t["status"], "result_submitted", "{t}");
    let a = &t["assignments"][0];
    assert_eq!(a["unit_code"], "CD010");
    assert_eq!(a["state"], "finished");
    assert_eq!(a["finished_at"], "2024-05-01T09:30:00Z");
    assert_eq!(t["result_text"], "已责令停工整改");

    let (_, _, t2) = call(&s, "GET", "/api/v1/tickets/2", Some(&tok), None);
    assert_eq!(t2["status"], "dispatched", "{t2}");
    assert_eq!(t2["assignments"][0]["unit_code"], "CD013");
    assert_eq!(t2["category_code"], "0705");
    assert_eq!(t2["text"], "小区门口乱停车，\"堵路\"");
}
