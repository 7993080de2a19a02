use super::*;
use crate::report::fixture::{passed, tuned};

#[test]
fn the_summary_has_the_table_and_the_picks_the_asked_one_first() {
    let r = tuned();
    let lines = lines(&r);
    assert_eq!(
        lines[0],
        "tune of orders-fn (us-east-1): 6 memory sizes under load · strategy balanced, \
         balance 0.5 · found at 512 MB"
    );
    assert!(lines[1]
        .trim_start()
        .starts_with("memory invocations duration p50"));
    // 1,769 MB: 100 ms; init 300 ms; $0.20 + 0.1 × 1.7275 × 16.6667 = $3.08 without init,
    // with 10 inits of 300 ms in 1,000: + 0.3 × 1.7275 × 16.6667 / 100 = $3.17.
    let row: Vec<&str> = lines[6].split_whitespace().collect();
    assert_eq!(
        row,
        [
            "1,769", "MB", "1000", "100ms", "100ms", "300ms", "300ms", "10", "$3.17", "$3.08",
            "115ms", "0", "0", "speed"
        ]
    );
    assert!(lines[5].ends_with("0  balanced*"), "{}", lines[5]);
    assert!(lines[2].ends_with("0  cost"), "{}", lines[2]);
    assert!(
        lines[8].starts_with("  balanced (asked for) → 1,024 MB: the lowest score at balance 0.5")
    );
    assert!(lines[9].starts_with("  cost → 128 MB: $2.63 per million"));
    assert!(lines[10].starts_with("  speed → 1,769 MB: p99 100ms, the fastest"));
    assert_eq!(
        lines[11],
        "  restored: memory back at 512 MB · 6 versions deleted"
    );
    assert_eq!(lines.len(), 12);
    // In the summary, after the run's own.
    let summary = crate::report::summary::render(&r);
    assert!(summary.contains(&lines[8]), "{summary}");
}

#[test]
fn a_speed_tune_lists_speed_first_and_a_tune_with_nothing_to_pick_says_why() {
    let mut r = tuned();
    let t = r.tune.as_mut().unwrap();
    t.strategy = Strategy::Speed;
    assert_eq!(picked_by(t, 1769), "speed*");
    assert_eq!(picked_by(t, 1024), "balanced");
    let picks = pick_lines(t);
    assert!(
        picks[0].starts_with("speed (asked for) → 1,769 MB"),
        "{picks:?}"
    );
    assert!(title(t).contains("strategy speed · found"), "no balance");
    for m in &mut t.memories {
        m.throttles = 3 * m.invocations;
    }
    t.picks = crate::tune::pick::picks(&t.memories, 0.5);
    let picks = pick_lines(t);
    assert_eq!(picks[0], "no size picked: none ran enough to judge");
    assert_eq!(picks.len(), 7, "{picks:?}");
    assert!(picks[1].starts_with("128 MB: 75% of its requests throttled"));
    assert!(lines(&passed()).is_empty());
    assert!(markdown(&passed()).is_empty());
}

#[test]
fn the_markdown_has_a_table_row_per_size_and_the_picks() {
    let mut r = tuned();
    r.tune.as_mut().unwrap().original.function = "orders|<b>fn</b>".into();
    let md = markdown(&r);
    assert!(md.starts_with("### Memory: tune of orders|&lt;b&gt;fn&lt;/b&gt; (us-east-1)"));
    assert!(md.contains(
        "| 1,769 MB | 1000 | 100ms | 100ms | 300ms | 300ms | 10 | $3.17 | $3.08 | 115ms | 0 | 0 | speed |"
    ));
    assert!(md.contains("| 1,024 MB | 1000 | 158ms |"));
    assert!(md.contains("- balanced (asked for) → 1,024 MB: the lowest score"));
    let report = crate::report::markdown::render(&r);
    assert!(report.contains("### Memory: "), "in the Markdown report");
}
