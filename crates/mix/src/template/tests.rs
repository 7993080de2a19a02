use proptest::prelude::*;

use super::*;

fn scope() -> Scope {
    Scope {
        sources: vec![
            SourceColumns {
                name: None,
                columns: vec!["id".into(), "email".into(), "note".into()],
            },
            SourceColumns {
                name: Some("users".into()),
                columns: vec!["name".into()],
            },
        ],
        captures: vec!["token".into()],
        captures_note: None,
    }
}

const SPANS: [(u32, u32); 3] = [(0, 2), (2, 8), (8, 13)];

fn render_at(text: &str, position: Position) -> String {
    let t = Template::compile_at(text, &scope(), position).unwrap();
    let rows = [
        Some(Row::new(b"42a@b.coa/b c", &SPANS)),
        Some(Row::new(b"Zoe", &[(0, 3)])),
    ];
    let env = [("API_KEY".to_string(), "s3cr\r\net".to_string())];
    let captured = [("token".to_string(), b"tok\nen".to_vec())];
    let ctx = Context {
        seq: 7,
        uuid: u128::MAX,
        random_seed: 99,
        timestamp_ms: 1_700_000_000_123,
        rows: &rows,
        env: &env,
        captured: &captured,
    };
    let mut out = Vec::new();
    t.render(&ctx, &mut out);
    String::from_utf8(out).unwrap()
}

fn render(text: &str) -> String {
    render_at(text, Position::Body)
}

fn error(text: &str) -> TemplateError {
    Template::compile(text, &scope()).unwrap_err()
}

#[test]
fn literal_text_stays_literal() {
    let t = Template::compile("/orders?x=1 }} {", &scope()).unwrap();
    assert_eq!(t.as_literal(), Some(&b"/orders?x=1 }} {"[..]));
    assert_eq!(
        Template::compile("", &scope()).unwrap().as_literal(),
        Some(&b""[..])
    );
    // Quoted text folds into the literal.
    let t = Template::compile("a{{\"{{\"}}b{{ \"}}\" }}", &scope()).unwrap();
    assert_eq!(t.as_literal(), Some(&b"a{{b}}"[..]));
}

#[test]
fn every_placeholder_renders() {
    assert_eq!(render("{{seq}}|{{ timestamp_ms }}"), "7|1700000000123");
    assert_eq!(
        render("{{data.id}}-{{data.email}}-{{users.name}}"),
        "42-a@b.co-Zoe"
    );
    assert_eq!(render("{{uuid}}"), "ffffffff-ffff-4fff-bfff-ffffffffffff");
    assert_eq!(render("{{env.API_KEY}}"), "s3cr\r\net");
    assert_eq!(render("{{captured.token}}"), "tok\nen");
    let n: i64 = render("{{random_int -5 5}}").parse().unwrap();
    assert!((-5..=5).contains(&n));
    assert_eq!(render("{{random_int 3 3}}"), "3");
    let full = render("{{random_int -9223372036854775808 9223372036854775807}}");
    full.parse::<i64>().unwrap();
}

#[test]
fn uuid_has_version_and_variant_bits() {
    let text = render::uuid_text(0);
    assert_eq!(&text, b"00000000-0000-4000-8000-000000000000");
}

#[test]
fn two_random_ints_of_one_template_differ() {
    let text = render("{{random_int 0 1000000000}} {{random_int 0 1000000000}}");
    let (a, b) = text.split_once(' ').unwrap();
    assert_ne!(a, b);
    // The same request (the same seed) renders the same: a retry sends what was sent.
    assert_eq!(
        text,
        render("{{random_int 0 1000000000}} {{random_int 0 1000000000}}")
    );
}

#[test]
fn paths_percent_encode_values_but_not_literal_text() {
    assert_eq!(
        render_at(
            "/u/{{data.note}}?e={{data.email}}&t={{captured.token}}",
            Position::Path
        ),
        "/u/a%2Fb%20c?e=a%40b.co&t=tok%0Aen"
    );
    assert_eq!(
        render_at("/{{uuid}}/{{seq}}", Position::Path).len(),
        1 + 36 + 2
    );
}

#[test]
fn headers_never_carry_line_breaks() {
    assert_eq!(
        render_at("Bearer {{captured.token}}", Position::Header),
        "Bearer token"
    );
    assert_eq!(render_at("{{env.API_KEY}}", Position::Header), "s3cret");
    let e = Template::compile_at("a\r\nX-Evil: 1", &scope(), Position::Header).unwrap_err();
    assert_eq!(e.span, 1..2);
    let e = Template::compile_at("a{{ \"\n\" }}", &scope(), Position::Header).unwrap_err();
    assert_eq!(e.span, 5..6);
    // A body keeps them.
    Template::compile("a\r\nb", &scope()).unwrap();
}

#[test]
fn secrets_and_reads_are_listed() {
    let t = Template::compile(
        "{{env.A}}{{data.email}}{{captured.token}}{{env.B}}",
        &scope(),
    )
    .unwrap();
    assert!(t.has_secret());
    assert_eq!(t.env_names().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(t.columns().collect::<Vec<_>>(), [(0, 1)]);
    assert_eq!(t.captured_names().collect::<Vec<_>>(), ["token"]);
    assert!(!Template::compile("{{uuid}}", &scope())
        .unwrap()
        .has_secret());
}

#[test]
fn errors_point_inside_the_text_and_name_what_exists() {
    let e = error("/x/{{uuid");
    assert_eq!(e.span, 3..9);
    assert!(e.message.contains("never closed"), "{e:?}");

    let e = error("{{ uuidd }}");
    assert_eq!(e.span, 3..8);
    assert!(e.message.contains("did you mean {{uuid}}"), "{e:?}");
    assert!(e.expected.contains("{{random_int A B}}"), "{e:?}");

    let e = error("{{random_int 5 1}}");
    assert!(e.message.contains("above"), "{e:?}");
    assert_eq!(e.span, 13..16);
    assert!(error("{{random_int 1}}").message.contains("two bounds"));
    assert!(error("{{random_int 1 x}}")
        .message
        .contains("not a whole number"));
    assert!(error("{{random_int 1 2 3}}").message.contains("3 given"));

    let e = error("{{data.emial}}");
    assert_eq!(e.span, 7..12);
    assert!(e.message.contains("did you mean {{data.email}}"), "{e:?}");
    assert_eq!(e.expected, "one of its columns: id, email, note");

    let e = error("{{usres.name}}");
    assert_eq!(e.span, 2..7);
    assert!(e.message.contains("did you mean \"users\""), "{e:?}");
    assert!(e.expected.contains("sources here: data, users"), "{e:?}");

    let e = error("{{captured.tokn}}");
    assert!(
        e.message.contains("did you mean {{captured.token}}"),
        "{e:?}"
    );
    assert_eq!(e.expected, "one of: token");

    assert!(error("{{env.A-B}}")
        .message
        .contains("not an environment variable"));
    assert!(error("{{}}").message.contains("empty"));
    assert!(error("{{seq 1}}").message.contains("takes no arguments"));
    assert!(error("{{\"abc}}").message.contains("closing"));
    assert!(error("{{\"a\" x}}").message.contains("followed by }}"));
}

#[test]
fn no_scope_names_nothing() {
    let e = Template::compile("{{captured.x}}", &Scope::default()).unwrap_err();
    assert_eq!(e.expected, "no earlier step captures anything here");
    let e = Template::compile("{{data.x}}", &Scope::default()).unwrap_err();
    assert!(e.message.contains("no data source \"data\""), "{e:?}");
}

/// Pieces that make templates interesting to break.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{{".to_string()),
        Just("}}".to_string()),
        Just("\"".to_string()),
        Just(" ".to_string()),
        Just(".".to_string()),
        Just("\r\n".to_string()),
        Just("{{uuid}}".to_string()),
        Just("{{ random_int -3 9 }}".to_string()),
        Just("random_int".to_string()),
        Just("data.email".to_string()),
        Just("users.".to_string()),
        Just("captured.token".to_string()),
        Just("env.K".to_string()),
        Just("é".to_string()),
        "[a-z0-9 {}.\"é-]{0,6}",
        any::<String>().prop_map(|s| s.chars().take(4).collect()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_templates_never_panic_and_spans_stay_inside(
        pieces in prop::collection::vec(piece(), 0..12),
        position in prop_oneof![Just(Position::Path), Just(Position::Header), Just(Position::Body)],
    ) {
        let text: String = pieces.concat();
        match Template::compile_at(&text, &scope(), position) {
            Ok(t) => {
                let mut out = Vec::new();
                let ctx = Context {
                    seq: 1, uuid: 2, random_seed: 3, timestamp_ms: 4,
                    rows: &[], env: &[], captured: &[],
                };
                t.render(&ctx, &mut out);
                if position == Position::Header {
                    prop_assert!(!out.iter().any(|b| matches!(b, b'\r' | b'\n' | 0)));
                }
            }
            Err(e) => {
                prop_assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?} in {text:?}");
                prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
                prop_assert!(!e.message.is_empty() && !e.expected.is_empty());
            }
        }
    }
}

/// Valid templates, each then cut, spliced and duplicated at random places.
const VALID: &[&str] = &[
    "/orders/{{data.id}}?e={{ data.email }}&n={{random_int -3 9}}",
    "{\"id\": \"{{uuid}}\", \"seq\": {{seq}}, \"at\": {{timestamp_ms}}, \"u\": \"{{users.name}}\"}",
    "Bearer {{captured.token}} {{env.API_KEY}} {{\"{{\"}}literal}}",
];

fn char_floor(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn mutated_templates_never_panic_and_spans_stay_inside(
        which in 0..VALID.len(),
        edits in prop::collection::vec((0usize..200, 0usize..8, piece(), 0u8..3), 1..5),
        position in prop_oneof![Just(Position::Path), Just(Position::Header), Just(Position::Body)],
    ) {
        let mut text = VALID[which].to_string();
        for (at, len, insert, kind) in edits {
            let start = char_floor(&text, at);
            let end = char_floor(&text, start + len);
            match kind {
                0 => text.replace_range(start..end, ""),
                1 => text.insert_str(start, &insert),
                _ => {
                    let copy = text[start..end].to_string();
                    text.insert_str(end, &copy);
                }
            }
        }
        if let Err(e) = Template::compile_at(&text, &scope(), position) {
            prop_assert!(e.span.start <= e.span.end && e.span.end <= text.len(), "{e:?} in {text:?}");
            prop_assert!(text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end));
        }
    }
}

#[test]
fn the_mutation_seeds_are_valid() {
    for text in VALID {
        Template::compile(text, &scope()).unwrap();
    }
}

#[test]
fn random_ints_of_different_templates_draw_apart() {
    let path = render_at("/{{random_int 0 1000000000}}", Position::Path);
    let body = render("{{random_int 0 1000000000}}");
    assert_ne!(&path[1..], body);
}

#[test]
fn a_paths_literal_spaces_and_line_ends_are_encoded_once_when_compiled() {
    let t = Template::compile_at("/a b/c\r\n", &scope(), Position::Path).unwrap();
    assert_eq!(t.as_literal(), Some(&b"/a%20b/c%0D%0A"[..]));
    assert_eq!(render_at("/a b/{{seq}}", Position::Path), "/a%20b/7");
    // A body keeps them.
    assert_eq!(render_at("a b", Position::Body), "a b");
}
