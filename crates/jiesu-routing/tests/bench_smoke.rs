//! The bench functions run and report their goals (no timing is asserted).

use chrono::Duration;
use jiesu_routing::bench::{bench_scheduler, bench_suggest};

#[test]
fn bench_functions_report_print_ready_figures() {
    let r = bench_suggest(300, 2_000, None);
    assert_eq!(r.figures.len(), 3);
    assert!(r.setting.contains("300 rules"), "{}", r.setting);
    assert!(r.figures[0].goal_ratio.is_some());
    assert!(r.to_string().contains("goal ≥ 50000/s"));
    let s = bench_scheduler(5_000, Duration::hours(1));
    assert_eq!(s.figures.len(), 5);
    assert!(s.to_string().contains("goal < 1 s"));
    assert!(s.setting.contains("5000 open clocks"));
}
