use super::*;
use crate::report::fixture;

#[test]
fn a_failed_run_says_why_with_its_tables() {
    let r = fixture::failed();
    let md = render(&r);
    // Aborted, which wins over its failed threshold and quota check (the one verdict).
    assert!(md.starts_with("## checkout | api — ❌ aborted\n"), "{md}");
    assert!(md.contains("**Why it failed:**"), "{md}");
    assert!(
        md.contains("- threshold stage ramp: throttle_rate ≤ 1% failed: observed 12.5%"),
        "{md}"
    );
    assert!(md.contains("- the quota check failed"), "{md}");
    assert!(md.contains("aborted at 7 s: throttle_rate"), "{md}");
    assert!(
        md.contains("| ❌ | throttle_rate | stage ramp | 1% | 12.5% |"),
        "{md}"
    );
    assert!(md.contains("| ✅ | p99 | all | 800ms | 120ms |"), "{md}");
    assert!(
        md.contains("| ramp \\| fast | ramp |"),
        "a pipe is escaped: {md}"
    );
    assert!(md.contains("api_gateway 30"), "{md}");
    assert!(md.contains("| suspected Lambda throttles | 4 |"), "{md}");
    assert!(md.contains("5 other 5xx"), "{md}");
    assert!(md.contains("### Quota check — ❌ fail"), "{md}");
    assert!(md.contains("1. raise it"), "{md}");
    assert!(!md.contains('<'), "no HTML: {md}");
    // Every table row has the columns of its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cols = |l: &str| l.replace("\\|", "").matches('|').count();
        let mut lines = table.lines();
        let n = cols(lines.next().unwrap());
        for l in lines {
            assert_eq!(cols(l), n, "{l}");
        }
    }
}

#[test]
fn html_in_a_name_is_shown_not_rendered() {
    let attack = "<img src=x onerror=alert(1)>";
    let mut r = fixture::failed();
    r.name = Some(attack.into());
    r.stages[0].name = format!("`a`{attack}");
    let md = render(&r);
    assert!(
        md.starts_with("## &lt;img src=x onerror=alert(1)&gt; — ❌ aborted\n"),
        "{md}"
    );
    assert!(
        md.contains("| `a`&lt;img src=x onerror=alert(1)&gt; |"),
        "{md}"
    );
    assert!(!md.contains("<img"), "no raw HTML anywhere: {md}");
    // An unclosed backtick opens no code span; a closed one keeps its text as is.
    assert_eq!(no_html("`<b>"), "`&lt;b&gt;");
    assert_eq!(no_html("run `a<b` then <i>"), "run `a<b` then &lt;i&gt;");
    assert_eq!(no_html("``x`<b>``"), "``x`<b>``");
    assert_eq!(no_html("\\`<b>`"), "\\`&lt;b&gt;`");
    assert_eq!(no_html("café <é>"), "café &lt;é&gt;");
}

#[test]
fn a_mix_has_a_table_of_its_requests_after_the_stages() {
    let md = render(&fixture::mixed());
    let stages = md.find("### Stages").unwrap();
    let requests = md.find("### Requests\n").expect(&md);
    assert!(stages < requests, "{md}");
    assert!(
        md.contains("| create order | 30 | 25 | 0 | 5 | 16.7% | 30.0ms | 120ms | 3.0 |"),
        "{md}"
    );
    assert!(
        md.contains("| get order | 70 | 60 | 10 | 0 | 0.0% | 10.0ms | 40.0ms | 7.0 |"),
        "{md}"
    );
    // One stage: its requests are the run's, no second table.
    assert!(!md.contains("### Requests by stage"), "{md}");
    let mut two = fixture::mixed();
    let mut second = two.stages[0].clone();
    second.name = "peak".into();
    two.stages.push(second);
    let md = render(&two);
    assert!(
        md.contains("| peak | get order | 70 | 60 | 10 | 0 | 40.0ms |"),
        "{md}"
    );
    // Without [[requests]], neither table.
    let md = render(&fixture::passed());
    assert!(!md.contains("### Requests"), "{md}");
}

#[test]
fn many_requests_by_stage_are_left_to_the_results_file() {
    let mut r = fixture::mixed();
    let one = r.by_request.clone().unwrap()["get order"].clone();
    let many: std::collections::BTreeMap<String, _> =
        (0..40).map(|i| (format!("r{i}"), one.clone())).collect();
    r.stages[0].by_request = Some(many.clone());
    let mut second = r.stages[0].clone();
    second.name = "peak".into();
    r.stages.push(second);
    let md = render(&r);
    assert!(md.contains("80 rows (2 stages × their requests)"), "{md}");
    assert!(!md.contains("| peak | r0 |"), "{md}");
}

#[test]
fn a_passing_run_says_pass() {
    let md = render(&fixture::passed());
    assert!(md.contains("— ✅ pass"), "{md}");
    assert!(!md.contains("Why it failed"), "{md}");
}

#[test]
fn within_a_size_whole_sections_go_and_a_line_says_which() {
    let r = fixture::failed();
    let full = render(&r);
    assert_eq!(render_within(&r, full.len()), full);
    let heading_len = heading(&r).len();
    let small = render_within(&r, heading_len + 400);
    assert!(small.len() <= heading_len + 400, "{}", small.len());
    assert!(small.starts_with(&heading(&r)), "{small}");
    assert!(
        small.contains("_Left out to stay within the size limit: "),
        "{small}"
    );
    assert!(small.contains("the stages"), "{small}");
    let tiny = render_within(&r, 10);
    assert!(tiny.len() <= 10);
}

#[test]
fn how_connections_went_is_in_the_summary_table() {
    let mut r = fixture::failed();
    assert!(
        !render(&r).contains("| addresses |"),
        "one address says nothing"
    );
    r.totals.goaways = 3;
    r.totals.stale_connection_resends = 12;
    let served = |requests, refused| stampede_results::AddressServed {
        requests,
        answered: requests,
        connections: 2,
        refused,
    };
    r.addresses.insert("127.0.0.1:443".into(), served(300, 0));
    r.addresses.insert("127.0.0.2:443".into(), served(100, 1));
    let md = render(&r);
    assert!(md.contains("| HTTP/2 GOAWAYs | 3 |"), "{md}");
    assert!(md.contains("| sent again, not processed | 12 ("), "{md}");
    assert!(
        md.contains("| addresses | addresses (attempts each served): 127.0.0.1:443 300 (75%) · 127.0.0.2:443 100 (25%) · connects refused"),
        "{md}"
    );
}
