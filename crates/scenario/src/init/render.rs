//! A `Draft` as scenario TOML: a header comment, `[target]`, the requests, a small stage
//! plan and a thresholds starter, each commented with what to edit.

use std::fmt::Write;

use super::Draft;

/// The scenario text. `from` names the input in the header comment.
pub fn render(draft: &Draft, from: &str) -> String {
    let mut out = String::new();
    comment(
        &mut out,
        &format!("Drafted by `stampede init` from {from}."),
    );
    for line in &draft.about {
        comment(&mut out, line);
    }
    out.push_str(
        "#\n\
         # Edit before a real test: the target URL, the path parameters (ids stand in as\n\
         # {{random_int …}}, {{uuid}} or {{seq}}; a [data] file of real ids is better — docs/scenario.md,\n\
         # \"Templates and data\"), the request bodies, the weights, the stages and the thresholds.\n\
         # Check it without sending anything: `stampede plan THIS_FILE`.\n",
    );
    if !draft.env.is_empty() {
        comment(
            &mut out,
            "Secrets are read from the environment when the scenario is loaded, by `plan` too",
        );
        comment(&mut out, "(any value does for it); never written here:");
        for (name, holds) in &draft.env {
            comment(&mut out, &format!("  {name}: {holds}"));
        }
    }
    out.push_str("\n[target]\n");
    match &draft.url {
        Some(url) => {
            let _ = writeln!(out, "url = {}", quoted(url));
        }
        None => {
            out.push_str("# EDIT: the input names no server; --url replaces this one too.\n");
            out.push_str("url = \"https://api.example.com\"\n");
        }
    }
    for r in &draft.requests {
        out.push('\n');
        for note in &r.notes {
            comment(&mut out, note);
        }
        out.push_str("[[requests]]\n");
        let _ = writeln!(out, "name = {}", quoted(&r.name));
        let _ = writeln!(out, "method = {}", quoted(&r.method));
        let _ = writeln!(out, "path = {}", quoted(&r.path));
        if !r.headers.is_empty() {
            let pairs: Vec<String> = r
                .headers
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), quoted(v)))
                .collect();
            let _ = writeln!(out, "headers = {{ {} }}", pairs.join(", "));
        }
        if let Some(body) = &r.body {
            let _ = writeln!(out, "body = {}", quoted(body));
        }
        let _ = writeln!(out, "weight = {}", r.weight.max(1));
    }
    out.push_str(STAGES_AND_THRESHOLDS);
    out
}

/// The starting load and gates: gentle, to be edited (docs/scenario.md, `[[stages]]`).
const STAGES_AND_THRESHOLDS: &str = r#"
# The load: a gentle warm-up (connections, cold starts), then a ramp to find where the API
# starts to struggle. Raise the rates and lengthen the stages for a real test.
[[stages]]
name = "warm-up"
kind = "constant"
rate = 5
duration = "30s"

[[stages]]
name = "ramp"
kind = "ramp"
from = 5
to = 50
duration = "2m"

# The gates: the run fails (exit 1) when one is passed. Set them to your service's SLO.
[thresholds]
p99 = "1s"
error_rate = "1%"
"#;

fn comment(out: &mut String, line: &str) {
    // A value from the file must not end the comment and start TOML.
    let line: String = line
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let _ = writeln!(out, "# {}", line.trim_end());
}

/// A TOML string holding exactly `s`.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML key: bare when it can be.
fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        k.to_string()
    } else {
        quoted(k)
    }
}

#[cfg(test)]
mod tests {
    use super::super::DraftRequest;
    use super::*;

    #[test]
    fn the_draft_parses_as_toml_with_its_values_intact() {
        let draft = Draft {
            about: vec!["line\nwith = \"a newline\"".into()],
            url: Some("https://h.example/v1".into()),
            requests: vec![DraftRequest {
                name: "say \"hi\"".into(),
                method: "POST".into(),
                path: "/a/{{random_int 1 1000}}".into(),
                headers: vec![("x.odd key".into(), "v'\"".into())],
                body: Some("{\"a\": \"b\\n\"}\n'''".into()),
                weight: 3,
                notes: vec!["note".into()],
            }],
            env: vec![("API_TOKEN".into(), "a token".into())],
        };
        let text = render(&draft, "x.json");
        let v: toml::Value = toml::from_str(&text).unwrap();
        let r = &v["requests"][0];
        assert_eq!(r["name"].as_str(), Some("say \"hi\""));
        assert_eq!(r["headers"]["x.odd key"].as_str(), Some("v'\""));
        assert_eq!(r["body"].as_str(), Some("{\"a\": \"b\\n\"}\n'''"));
        assert_eq!(r["weight"].as_integer(), Some(3));
        assert!(
            v.get("with").is_none(),
            "a comment's newline ended it:\n{text}"
        );
    }
}
