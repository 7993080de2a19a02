use super::*;

const HEAD: &str =
    "[target]\nurl = \"http://127.0.0.1:9/\"\n[[stages]]\nkind = \"burst\"\nrequests = 1\n";

/// The scenario `text` in a directory holding o.csv and u.jsonl.
fn parse(text: &str) -> (tempfile::TempDir, Result<crate::Scenario>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("o.csv"), "id,email\n1,a@x\n").unwrap();
    std::fs::write(dir.path().join("u.jsonl"), "{\"name\":\"a\"}\n").unwrap();
    let path = dir.path().join("s.toml");
    // Data is read by [[requests]]: one is added at the end (no line above moves).
    let text = match text.contains("[[requests]]") {
        true => text.to_string(),
        false => format!("{text}\n[[requests]]\nname = \"r\"\npath = \"/\"\n"),
    };
    let parsed = crate::parse_str(&path, &text, None);
    (dir, parsed)
}

fn rejected(text: &str) -> String {
    let (_dir, parsed) = parse(text);
    let e = parsed.unwrap_err();
    assert_eq!(e.code, crate::error::exit::BAD_INPUT);
    e.message
}

#[test]
fn one_unnamed_source() {
    let (dir, parsed) = parse(&format!("{HEAD}[data]\nfile = \"o.csv\"\n"));
    let data = parsed.unwrap().data;
    assert_eq!(
        data,
        [DataSpec {
            name: None,
            path: dir.path().join("o.csv"),
            pick: Pick::Sequential,
            seed_from: SeedFrom::None,
        }]
    );
    assert_eq!(data[0].prefix(), "data");
    let sources = open_sources(&data).unwrap();
    assert_eq!(sources[0].rows(), 1);
    let scope = scope_sources(&data, &sources);
    assert_eq!(scope[0].columns, ["id", "email"]);
    let line = preflight_line(&data[0], &sources[0]);
    assert!(
        line.starts_with("data data: ")
            && line.ends_with("o.csv — 1 rows, 2 columns, pick sequential (row k mod rows)"),
        "{line}"
    );
}

#[test]
fn named_sources_and_their_seeds() {
    let text = format!(
        "seed = 9\n{HEAD}[[data]]\nname = \"orders\"\nfile = \"o.csv\"\npick = \"random\"\n\
         [[data]]\nname = \"users\"\nfile = \"u.jsonl\"\npick = \"random\"\nseed = 4\n\
         [[data]]\nfile = \"o.csv\"\npick = \"unique\"\n"
    );
    let (_dir, parsed) = parse(&text);
    let data = parsed.unwrap().data;
    assert_eq!(data[0].pick, Pick::Random { seed: 9 });
    assert_eq!(data[0].seed_from, SeedFrom::Scenario);
    assert_eq!(data[1].pick, Pick::Random { seed: 4 });
    assert_eq!(data[1].seed_from, SeedFrom::Source);
    assert_eq!((data[2].pick, data[2].prefix()), (Pick::Unique, "data"));
    let (_dir, parsed) = parse(&format!(
        "{HEAD}[data]\nfile = \"o.csv\"\npick = \"random\"\n"
    ));
    let data = parsed.unwrap().data;
    assert_eq!(
        (data[0].pick, data[0].seed_from),
        (
            Pick::Random {
                seed: DEFAULT_DATA_SEED
            },
            SeedFrom::Default
        )
    );
}

#[test]
fn bad_keys_are_located() {
    let err = rejected(&format!("{HEAD}[data]\nfil = \"o.csv\"\n"));
    assert!(
        err.contains("s.toml:7:1:") && err.contains("did you mean `file`?"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[[data]]\nname = \"a\"\nfile = \"o.csv\"\npik = 1\n"
    ));
    assert!(
        err.contains("s.toml:9:1:") && err.contains("unknown key `pik`"),
        "{err}"
    );
    let err = rejected(&format!(
        "{HEAD}[data]\nfile = \"o.csv\"\npick = \"shuffle\"\n"
    ));
    assert!(
        err.contains("s.toml:8:8:") && err.contains("sequential, random, unique"),
        "{err}"
    );
    let err = rejected(&format!("{HEAD}[data]\nfile = \"none.csv\"\n"));
    assert!(
        err.contains("s.toml:7:8:") && err.contains("none.csv"),
        "{err}"
    );
    let err = rejected(&format!("{HEAD}[data]\nfile = \"o.txt\"\n"));
    assert!(err.contains("neither .csv nor .jsonl"), "{err}");
    let err = rejected(&format!("{HEAD}[data]\nfile = \"o.csv\"\nseed = 1\n"));
    assert!(err.contains("only read by pick = \"random\""), "{err}");
    let err = rejected(&format!(
        "{HEAD}[[data]]\nname = \"env\"\nfile = \"o.csv\"\n"
    ));
    assert!(err.contains("`env` cannot name a data source"), "{err}");
    let err = rejected(&format!(
        "{HEAD}[[data]]\nfile = \"o.csv\"\n[[data]]\nfile = \"u.jsonl\"\n"
    ));
    assert!(err.contains("only one may be `data`"), "{err}");
    let err = rejected(&format!("data = 3\n{HEAD}"));
    assert!(err.contains("[data] table"), "{err}");
}

#[test]
fn header_templates_refuse_line_breaks_in_what_they_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.csv");
    std::fs::write(&path, "id,note\n1,\"two\nlines\"\n").unwrap();
    let sources = [DataSource::open(&path).unwrap()];
    let scope = stampede_mix::Scope {
        sources: vec![SourceColumns {
            name: None,
            columns: sources[0].columns().to_vec(),
        }],
        captures: vec![],
        captures_note: None,
    };
    let header = |t: &str| Template::compile_at(t, &scope, stampede_mix::Position::Header).unwrap();
    let env = EnvValues::read(["K"], |_| Some("a\r\nb".into())).unwrap();
    let none = EnvValues::default();
    assert!(check_header_template(&header("{{data.id}}"), &sources, &none).is_ok());
    let e = check_header_template(&header("{{data.note}}"), &sources, &none).unwrap_err();
    assert!(
        e.message.contains("o.csv:2: column \"note\""),
        "{}",
        e.message
    );
    let e = check_header_template(&header("{{env.K}}"), &sources, &env).unwrap_err();
    assert!(e.message.contains("K holds a line break"), "{}", e.message);
    let t = header("{{env.STAMPEDE_SURELY_UNSET_VAR}}");
    let e = env_values([&t]).unwrap_err();
    assert!(e.contains("STAMPEDE_SURELY_UNSET_VAR is not set"), "{e}");
}

#[test]
fn template_errors_point_inside_the_string() {
    let text = "a = \"x\\\"\\u00e9{{dta.id}}\"\n";
    let table: toml::Table = toml::from_str(text).unwrap();
    assert_eq!(table["a"].as_str(), Some("x\"é{{dta.id}}"));
    #[derive(serde::Deserialize)]
    struct A {
        a: Spanned<String>,
    }
    let a: A = toml::from_str(text).unwrap();
    let e = stampede_mix::Template::compile(a.a.get_ref(), &Default::default()).unwrap_err();
    let src = Source::new(Path::new("s.toml"), text);
    let err = template_error(&src, &a.a, &e).message;
    // `dta` starts at column 17 of `a = "x\"\u00e9{{dta.id}}"`.
    assert!(
        err.starts_with("s.toml:1:17: there is no data source \"dta\""),
        "{err}"
    );
}
