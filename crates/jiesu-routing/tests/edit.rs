//! Editing the catalogue one rule at a time: the same checks as a file row, overlaps named by
//! rule, and nothing changed on a refused edit.

mod common;
use chrono::NaiveDate;
use common::{cats, org};
use jiesu_routing::edit::{apply_edit, RuleEdit, RuleFields, RuleKey};
use jiesu_routing::Catalogue;

fn fields(id: &str, prefix: &str, place: &str, lead: &str) -> RuleFields {
    RuleFields {
        id: id.into(),
        effective_from: "2025-01-01".into(),
        category_prefix: prefix.into(),
        place: place.into(),
        assignments: format!("lead:{lead}"),
        tier: "7d".into(),
        ..Default::default()
    }
}

fn upsert(f: RuleFields) -> RuleEdit {
    RuleEdit::Upsert {
        rule: Box::new(f),
        replaces: None,
    }
}

#[test]
fn a_rule_is_added_changed_and_removed() {
    let (org, cats) = (org(), cats());
    let base = Catalogue::new(vec![]);
    let c = apply_edit(
        &base,
        &upsert(fields("L1", "140201", "*", "CD001")),
        &org,
        &cats,
    )
    .unwrap();
    assert_eq!(c.len(), 1);
    let mut f = fields("L1", "140201", "*", "{street}");
    f.tier = "24h".into();
    let c = apply_edit(&c, &upsert(f), &org, &cats).unwrap();
    assert_eq!(c.len(), 1, "same id and date: the version is replaced");
    assert_eq!(c.rules()[0].tier.as_str(), "24h");
    let key = RuleKey {
        id: "L1".into(),
        effective_from: NaiveDate::from_ymd_opt(2025, 1, 1).unwrap(),
    };
    let c = apply_edit(&c, &RuleEdit::Remove { key: key.clone() }, &org, &cats).unwrap();
    assert!(c.is_empty());
    let e = apply_edit(&c, &RuleEdit::Remove { key }, &org, &cats).unwrap_err();
    assert!(e[0].message.contains("no version"), "{e:?}");
}

#[test]
fn a_bad_field_is_reported_by_rule_and_column_like_a_file_row() {
    let (org, cats) = (org(), cats());
    let base = Catalogue::new(vec![]);
    let mut f = fields("L2", "999999", "street:110105001", "CD001");
    f.tier = "9d".into();
    let e = apply_edit(&base, &upsert(f), &org, &cats).unwrap_err();
    assert!(e.iter().all(|p| p.rule.as_deref() == Some("L2")), "{e:?}");
    assert!(
        e.iter().any(|p| p.column.as_deref() == Some("tier")),
        "{e:?}"
    );
    assert!(
        e.iter()
            .any(|p| p.column.as_deref() == Some("category_prefix")),
        "{e:?}"
    );
}

#[test]
fn an_overlap_with_another_rule_names_both_and_changes_nothing() {
    let (org, cats) = (org(), cats());
    let base = apply_edit(
        &Catalogue::new(vec![]),
        &upsert(fields("A", "1402", "*", "CD001")),
        &org,
        &cats,
    )
    .unwrap();
    let e = apply_edit(
        &base,
        &upsert(fields("B", "1402", "*", "{street}")),
        &org,
        &cats,
    )
    .unwrap_err();
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(e[0].rule.as_deref(), Some("A"));
    assert_eq!(e[0].other_rule.as_deref(), Some("B"));
    assert_eq!(base.len(), 1);
}

#[test]
fn replacing_a_version_that_is_gone_is_refused() {
    let (org, cats) = (org(), cats());
    let e = apply_edit(
        &Catalogue::new(vec![]),
        &RuleEdit::Upsert {
            rule: Box::new(fields("A", "1402", "*", "CD001")),
            replaces: Some(RuleKey {
                id: "A".into(),
                effective_from: NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
            }),
        },
        &org,
        &cats,
    )
    .unwrap_err();
    assert!(e[0].message.contains("reload"), "{e:?}");
}
