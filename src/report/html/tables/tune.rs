//! The "Memory" section's table (`results.tune`): per size what the summary shows, the
//! row of the strategy asked for's pick marked; then each pick with why.

use std::fmt::Write as _;

use super::{list, table};
use crate::report::html::esc;
use crate::report::tune::{cells, pick_lines, picked_by, restore_lines, title, HEADERS};
use crate::results::Results;

pub fn tune(out: &mut String, r: &Results) {
    let Some(t) = &r.tune else {
        return;
    };
    let asked = t.picks.as_ref().map(|p| p.of(t.strategy));
    let rows: Vec<Vec<String>> = t
        .memories
        .iter()
        .map(|m| {
            let mut row: Vec<String> = cells(m).iter().map(|c| esc(c)).collect();
            let by = esc(&picked_by(t, m.memory));
            row.push(if asked == Some(m.memory) {
                format!("<strong class=\"asked-pick\">{by}</strong>")
            } else {
                by
            });
            row
        })
        .collect();
    let _ = writeln!(out, "<p>{}</p>", esc(&title(t)));
    let mut head = HEADERS.to_vec();
    head.push("picked by");
    table(out, "num tune", &head, &rows);
    let mut notes = pick_lines(t);
    notes.extend(restore_lines(t));
    list(out, "tune-picks", &notes);
    let _ = writeln!(
        out,
        "<p class=\"help\">{}</p></section>",
        esc(
            "*: the strategy asked for. $/M: USD per million invocations, with the init of \
             the cold starts billed and without it."
        )
    );
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tune_has_a_memory_section_with_its_chart_its_table_and_its_picks() {
        let mut r = crate::report::fixture::tuned();
        r.tune.as_mut().unwrap().original.function = "<b>orders</b>".into();
        let html = crate::report::html::render(&r);
        let memory = html.find("<section class=\"chart-section\" id=\"memory\"><h2>Memory</h2>");
        assert!(memory.is_some(), "{html}");
        assert!(html.contains("<div class=\"chart\" id=\"chart-tune\" data-points=\"0\"></div>"));
        assert!(html.contains(
            "<tr><td>1,024 MB</td><td>1000</td><td>158ms</td><td>158ms</td><td>518ms</td>\
             <td>518ms</td><td>10</td><td>$2.94</td><td>$2.85</td><td>173ms</td><td>0</td>\
             <td>0</td><td><strong class=\"asked-pick\">balanced*</strong></td></tr>"
        ));
        assert!(html.contains("<td>0</td><td>speed</td></tr>"));
        assert!(html.contains("<li>balanced (asked for) → 1,024 MB: the lowest score"));
        assert!(html.contains("<li>restored: memory back at 512 MB · 6 versions deleted</li>"));
        assert!(html.contains("<p>tune of &lt;b&gt;orders&lt;/b&gt; (us-east-1): 6 memory sizes"));
        assert!(!html.contains("<b>orders"));
        assert!(html.contains("<script type=\"application/json\" id=\"tune-data\">{\"points\":[{\"memory\":1769,\"label\":\"1,769 MB\",\"p99_ms\":100.0,\"cost\":3.17,\"picks\":[\"speed\"]}"));
        let plain = crate::report::html::render(&crate::report::fixture::passed());
        assert!(!plain.contains("id=\"memory\"") && !plain.contains("id=\"tune-data\""));
    }
}
