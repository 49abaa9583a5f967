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

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The small export with a position: a coordinate on line 2, none on line 3.
fn rows_with_position() -> String {
    let mut lines: Vec<String> = rows().lines().map(str::to_string).collect();
    lines[0].push_str(",纬度,经度");
    lines[1].push_str(",39.9289,116.4161");
    lines[2].push_str(",,");
    lines.join("\n") + "\n"
}

fn mapping_with_position() -> String {
    format!("{MAPPING}[position]\nlatitude = \"纬度\"\nlongitude = \"经度\"\n")
}

fn upload(s: &Server, tok: &str, body: &Value) -> (u16, Value) {
    let (st, _, v) = call(
        s,
        "POST",
        "/api/v1/admin/imports",
        Some(tok),
        Some(&body.to_string()),
    );
    (st, v)
}

#[test]
fn the_admin_uploads_an_export_dry_runs_it_and_imports_it_once() {
    let s = server(&[("adm1", "admin", None), ("sup1", "supervisor", None)]);
    let adm = login(&s, "adm1");
    let gbk = b64(&encoding_rs_gbk(&rows_with_position()));
    let body = serde_json::json!({"mapping": mapping_with_position(), "csv_base64": gbk,
        "file_name": "old.csv", "dry_run": true});

    // only the admin may import (the capability table: legacy-import)
    let (st, v) = upload(&s, &login(&s, "sup1"), &body);
    assert_eq!(st, 403, "{v}");

    // the dry run: the report, nothing written
    let (st, r) = upload(&s, &adm, &body);
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["dry_run"].as_bool(), r["imported"].as_u64()),
        (Some(true), Some(0))
    );
    assert_eq!(
        (r["rows"].as_u64(), r["encoding"].as_str()),
        (Some(2), Some("gbk"))
    );
    assert_eq!(
        (r["mapped_fully"].as_u64(), r["mapped_partly"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["unmapped_values"]["category"]["停车"], 1, "{r}");
    assert_eq!(r["file"], "old.csv");
    let (_, _, list) = call(&s, "GET", "/api/v1/tickets", Some(&adm), None);
    assert_eq!(list["total"], 0, "a dry run wrote: {list}");

    // the import, through the CLI's path: the histories, the position kept on the ticket
    let mut real = body.clone();
    real["dry_run"] = Value::Bool(false);
    let (st, r) = upload(&s, &adm, &real);
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["imported"], 2, "{r}");
    let first = r["ticket_ids"][0].as_i64().unwrap();
    let (_, _, t) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{first}"),
        Some(&adm),
        None,
    );
    assert_eq!(t["status"], "result_submitted", "{t}");
    assert_eq!(t["place"]["lat"], 39.9289, "{t}");
    assert_eq!(t["place"]["lng"], 116.4161, "{t}");
    let (_, _, t2) = call(
        &s,
        "GET",
        &format!("/api/v1/tickets/{}", first + 1),
        Some(&adm),
        None,
    );
    assert!(t2["place"]["lat"].is_null(), "{t2}");

    // a re-run imports nothing twice
    let (st, r) = upload(&s, &adm, &real);
    assert_eq!(st, 200, "{r}");
    assert_eq!(
        (r["imported"].as_u64(), r["already_imported"].as_u64()),
        (Some(0), Some(2))
    );
    let (_, _, list) = call(&s, "GET", "/api/v1/tickets", Some(&adm), None);
    assert_eq!(list["total"], 2, "{list}");
}

#[test]
fn an_uploaded_bad_file_is_a_problem_naming_its_line_and_imports_nothing() {
    let s = server(&[("adm1", "admin", None)]);
    let adm = login(&s, "adm1");
    // new keys, a good line 2 and a date in another format on line 3
    let bad = rows()
        .replace("A1,", "C1,")
        .replace("A2,", "C2,")
        .replace("2024-05-02 09:15", "05/02/2024 09:15");
    let mut b = b"\xEF\xBB\xBF".to_vec();
    b.extend_from_slice(bad.as_bytes());
    let body = serde_json::json!({"mapping": MAPPING, "csv_base64": b64(&b)});
    let (st, v) = upload(&s, &adm, &body);
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["code"], "import_rejected", "{v}");
    assert_eq!(v["errors"][0]["line"], 3, "{v}");
    assert!(v["detail"].as_str().unwrap().contains("line 3"), "{v}");
    assert!(v["detail_zh"].as_str().unwrap().contains("第 3 行"), "{v}");
    // a quote never closed
    let quote = rows().replace("\"小区门口乱停车，\"\"堵路\"\"\"", "\"小区门口乱停车");
    let (st, v) = upload(
        &s,
        &adm,
        &serde_json::json!({"mapping": MAPPING, "csv_base64": b64(quote.as_bytes())}),
    );
    assert_eq!((st, v["errors"][0]["line"].as_u64()), (422, Some(3)), "{v}");
    // a missing column (line 1)
    let cols = rows().replace("部门", "单位");
    let (st, v) = upload(
        &s,
        &adm,
        &serde_json::json!({"mapping": MAPPING, "csv_base64": b64(cols.as_bytes())}),
    );
    assert_eq!((st, v["errors"][0]["line"].as_u64()), (422, Some(1)), "{v}");
    // a mapping that is not one
    let (st, v) = upload(
        &s,
        &adm,
        &serde_json::json!({"mapping": "source = ", "csv_base64": b64(rows().as_bytes())}),
    );
    assert_eq!(
        (st, v["code"].as_str()),
        (422, Some("import_mapping")),
        "{v}"
    );
    let (_, _, list) = call(&s, "GET", "/api/v1/tickets", Some(&adm), None);
    assert_eq!(list["total"], 0, "a rejected file wrote: {list}");
    // a file over the upload's limit: 413, said plainly
    let big = "A".repeat(8 * 1024 * 1024 / 3 * 4 + 8);
    let (st, v) = upload(
        &s,
        &adm,
        &serde_json::json!({"example": "nyc311", "csv_base64": big}),
    );
    assert_eq!(
        (st, v["code"].as_str()),
        (413, Some("import_too_large")),
        "{v}"
    );
}

#[test]
fn the_shipped_mappings_are_offered_to_the_admin_only() {
    let s = server(&[("adm1", "admin", None), ("sup1", "supervisor", None)]);
    let (st, _, v) = call(
        &s,
        "GET",
        "/api/v1/admin/imports/examples",
        Some(&login(&s, "sup1")),
        None,
    );
    assert_eq!(st, 403, "{v}");
    let (st, _, v) = call(
        &s,
        "GET",
        "/api/v1/admin/imports/examples",
        Some(&login(&s, "adm1")),
        None,
    );
    assert_eq!(st, 200, "{v}");
    assert_eq!(v[0]["name"], "nyc311");
    let shipped = std::fs::read_to_string(nyc_mapping()).unwrap();
    assert_eq!(v[0]["mapping"], shipped.as_str());
}
