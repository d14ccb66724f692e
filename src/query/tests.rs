use super::*;

struct E<'a> {
    source: &'a str,
    kind: &'a str,
    level: Option<Level>,
    summary: &'a str,
    data: Option<&'a str>,
}

impl Record for E<'_> {
    fn source(&self) -> &str {
        self.source
    }
    fn kind(&self) -> &str {
        self.kind
    }
    fn level(&self) -> Option<Level> {
        self.level
    }
    fn summary(&self) -> &str {
        self.summary
    }
    fn data(&self) -> Option<&str> {
        self.data
    }
}

fn e(level: Level, kind: &str, summary: &str, data: &str) -> E<'static> {
    E {
        source: "room",
        kind: Box::leak(kind.to_string().into_boxed_str()),
        level: Some(level),
        summary: Box::leak(summary.to_string().into_boxed_str()),
        data: Some(Box::leak(data.to_string().into_boxed_str())),
    }
}

fn m(q: &str, r: &E) -> bool {
    Query::parse(q, false)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .matches(r)
}

#[test]
fn words_phrases_and_regexes_search_every_field() {
    let r = e(
        Level::Warn,
        "indexer",
        "Upstream timed out",
        r#"{"msg":"retry","attempt":3}"#,
    );
    assert!(m("timed", &r));
    assert!(m("TIMED", &r), "case is ignored by default");
    assert!(!Query::parse("TIMED", true).unwrap().matches(&r));
    assert!(m("\"timed out\"", &r));
    assert!(!m("\"out timed\"", &r));
    assert!(m("/time.?d? out/", &r));
    assert!(m("indexer", &r), "kind");
    assert!(m("room", &r), "source");
    assert!(m("warn", &r), "level label");
    assert!(m("retry", &r), "data");
    assert!(!m("nothing-like-this", &r));
}

#[test]
fn levels_are_ordered() {
    let w = e(Level::Warn, "k", "s", "{}");
    let i = e(Level::Info, "k", "s", "{}");
    let x = e(Level::Error, "k", "s", "{}");
    assert!(m("level>=warn", &w) && m("level>=warn", &x) && !m("level>=warn", &i));
    assert!(m("level<warn", &i) && !m("level<warn", &w));
    assert!(m("level=warning", &w) && m("level!=info", &w));
    assert!(m("lvl:err", &x));
    assert!(m("level~/^(warn|error)$/", &x));
}

#[test]
fn fields_and_json_paths() {
    let r = e(
        Level::Info,
        "otel.log",
        "hello",
        r#"{"user":{"id":42,"name":"Ana"},"msg":"connection timeout","tags":["a","b"],"ratio":"0.5"}"#,
    );
    assert!(m("data.user.id=42", &r));
    assert!(m("data.user.id=42.0", &r), "numbers compare as numbers");
    assert!(m("data.user.id>40 data.user.id<=42", &r));
    assert!(!m("data.user.id>42", &r));
    assert!(m("data.user.name=ana", &r));
    assert!(
        !Query::parse("data.user.name=ana", true)
            .unwrap()
            .matches(&r)
    );
    assert!(m("data.msg~timeout", &r));
    assert!(m("data.msg~/time.?out/", &r));
    assert!(m("data.tags[1]=b", &r));
    assert!(
        m("data.ratio<1", &r),
        "a string holding a number compares as a number"
    );
    assert!(m("data.missing!=1", &r), "absent is not equal");
    assert!(!m("data.missing=1", &r));
    assert!(m("data~connection", &r), "data alone is its JSON text");
    assert!(m("kind=otel.log source=room msg:hel", &r));
    assert!(m("type:otel", &r));
    assert!(
        m("action.user.id=42", &r),
        "action.* is the same on the timeline"
    );
    assert!(
        m("data.msg=/conn.*out/", &r),
        "= with a regex matches the whole value"
    );
    assert!(!m("data.msg=/conn/", &r));
}

#[test]
fn boolean_operators_and_parentheses() {
    let r = e(Level::Error, "a", "alpha beta", "{}");
    assert!(m("alpha beta", &r));
    assert!(m("alpha and beta", &r));
    assert!(m("alpha && beta", &r));
    assert!(!m("alpha gamma", &r));
    assert!(m("alpha or gamma", &r));
    assert!(m("gamma || beta", &r));
    assert!(!m("not alpha", &r));
    assert!(!m("!alpha", &r));
    assert!(!m("-alpha", &r));
    assert!(m("not gamma", &r));
    assert!(m("(gamma or alpha) and not delta", &r));
    assert!(
        !m("gamma or alpha and delta", &r),
        "and binds tighter than or"
    );
    assert!(m("level>=warn and data.x!=1 and (alpha or zeta)", &r));
    assert!(m("a-b or alpha", &r), "a dash inside a word is part of it");
}

#[test]
fn the_issue_example() {
    let q = Query::parse("level>=warn and data.msg~/time.?out/", false).unwrap();
    assert!(q.matches(&e(Level::Warn, "k", "s", r#"{"msg":"upstream timeout"}"#)));
    assert!(!q.matches(&e(Level::Error, "k", "s", r#"{"msg":"timed out"}"#)));
    assert!(q.matches(&e(Level::Error, "k", "s", r#"{"msg":"time-out"}"#)));
    assert!(!q.matches(&e(Level::Info, "k", "s", r#"{"msg":"timeout"}"#)));
}

#[test]
fn errors_say_where() {
    for (q, pos, words) in [
        ("(alpha", 6, "missing ')'"),
        ("alpha)", 5, "unbalanced ')'"),
        ("\"open", 0, "unterminated"),
        ("/(/", 0, "bad /regex/"),
        ("level>=loud", 7, "unknown level"),
        ("a and", 5, "ends where a term"),
        ("or a", 0, "needs a term"),
        ("data.a[x]=1", 0, "not an index"),
        ("data..a=1", 0, "empty key"),
        ("()", 0, "empty parentheses"),
        ("", 0, "empty query"),
        ("level=", 6, "value is missing"),
        ("//", 0, "empty /regex/"),
        ("not", 3, "ends where a term"),
    ] {
        let e = Query::parse(q, false).expect_err(q);
        assert_eq!(e.pos, pos, "{q}: {e}");
        assert!(e.message.contains(words), "{q}: {e}");
    }
}

#[test]
fn highlights_cover_positive_terms_only() {
    let q = Query::parse("time /o+/ not alpha msg~beta", false).unwrap();
    let h = q.highlights("Time is alpha beta foo");
    assert_eq!(h, vec![(0, 4), (14, 18), (20, 22)]);
    assert!(
        Query::parse("level>=warn", false)
            .unwrap()
            .highlights("warn")
            .is_empty()
    );
}

/// Any input parses or errors; nothing panics (a deterministic property
/// test over generated queries made of the language's pieces and noise).
#[test]
fn any_input_parses_or_errors() {
    let pieces = [
        "a", "b", "\"", "/", "(", ")", "!", "-", "&&", "||", "and", "or", "not", "level", ">=",
        "<", "=", "~", ":", "data", ".", "[", "]", "0", "x.y", "\\", " ", "é", "\u{1b}", "*", "+",
        "?", "{", "}", "warn", "42",
    ];
    let r = e(Level::Warn, "k", "summary", r#"{"x":{"y":[1,2]}}"#);
    let mut rng = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
    let mut parsed = 0;
    for _ in 0..5_000 {
        let seed = rng.u64(..);
        let n = (seed % 12) as usize;
        let mut q = String::new();
        let mut s = seed;
        for _ in 0..n {
            q.push_str(pieces[(s % pieces.len() as u64) as usize]);
            s /= pieces.len() as u64;
            if s == 0 {
                s = seed.rotate_left(17);
            }
        }
        for cs in [false, true] {
            if let Ok(query) = Query::parse(&q, cs) {
                parsed += 1;
                let _ = query.matches(&r);
                let _ = query.highlights("summary with x and y");
            }
        }
    }
    assert!(parsed > 250, "{parsed}");
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn piece() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,6}",
            Just("\"".to_string()),
            Just("/".to_string()),
            Just("(".to_string()),
            Just(")".to_string()),
            Just("!".to_string()),
            Just("-".to_string()),
            Just(" and ".to_string()),
            Just(" or ".to_string()),
            Just("not ".to_string()),
            Just("level>=".to_string()),
            Just("data.a.b[0]".to_string()),
            "[=~:<>!]{1,2}",
            "[0-9]{1,3}",
            " +",
            "\\PC{1,3}",
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any text parses or gives an error inside the text; nothing panics.
        #[test]
        fn any_text_parses_or_errors(q in "\\PC{0,60}", cs in any::<bool>()) {
            match Query::parse(&q, cs) {
                Ok(query) => {
                    let r = e(Level::Info, "k", "some summary", r#"{"a":{"b":[1]}}"#);
                    let _ = query.matches(&r);
                    let _ = query.highlights(&q);
                }
                Err(err) => prop_assert!(err.pos <= q.len(), "{err}"),
            }
        }

        /// Queries built from the language's own pieces.
        #[test]
        fn language_shaped_text_parses_or_errors(parts in proptest::collection::vec(piece(), 0..12)) {
            let q: String = parts.concat();
            match Query::parse(&q, false) {
                Ok(query) => {
                    let r = e(Level::Warn, "kind", "summary text", r#"{"a":{"b":[5]}}"#);
                    let _ = query.matches(&r);
                }
                Err(err) => prop_assert!(err.pos <= q.len(), "{err}"),
            }
        }
    }
}

#[test]
fn review_findings_stay_fixed() {
    let with = |data: &str| e(Level::Info, "k", "C:\\Users\\ana", data);
    // Ordering never matches a value that is not a number.
    for d in [
        r#"{"took_ms":null}"#,
        r#"{"took_ms":true}"#,
        r#"{"took_ms":"slow"}"#,
        r#"{"took_ms":{"a":1}}"#,
        r#"{"took_ms":"Infinity"}"#,
    ] {
        assert!(!m("data.took_ms>1000", &with(d)), "{d}");
        assert!(m("data.took_ms!=1000", &with(d)), "{d}");
    }
    assert!(m("data.took_ms>1000", &with(r#"{"took_ms":1500}"#)));
    assert!(m("data.took_ms>1000", &with(r#"{"took_ms":"1500"}"#)));
    // Quoted values are text; big integers stay exact; inf/nan are words.
    assert!(!m(r#"data.v="1.10""#, &with(r#"{"v":"1.1"}"#)));
    assert!(m(r#"data.zip="02134""#, &with(r#"{"zip":"02134"}"#)));
    assert!(!m(r#"data.zip="02134""#, &with(r#"{"zip":"2134"}"#)));
    assert!(!m(
        "data.id=12345678901234567",
        &with(r#"{"id":12345678901234568}"#)
    ));
    assert!(m(
        "data.id!=12345678901234567",
        &with(r#"{"id":12345678901234568}"#)
    ));
    assert!(m(
        "data.id=12345678901234567",
        &with(r#"{"id":12345678901234567}"#)
    ));
    assert!(m("data.name=inf", &with(r#"{"name":"inf"}"#)));
    assert!(m("data.name=NaN", &with(r#"{"name":"NaN"}"#)));
    // Entries without a level are not equal to any level.
    let no_level = E {
        source: "app",
        kind: "ADD",
        level: None,
        summary: "ADD",
        data: Some("{}"),
    };
    assert!(m("level!=error", &no_level));
    assert!(!m("level=error", &no_level));
    // Backslashes in phrases are kept unless they escape " or \.
    assert!(m(r#""C:\Users""#, &with("{}")));
    assert!(m(r#""say \"hi\"""#, &with(r#"{"m":"say \"hi\""}"#)));
    // Word search sees the data unescaped.
    assert!(m("Zoë", &with(r#"{"n":"Zo\u00eb"}"#)));
    // Non-ASCII keys.
    assert!(m("data.é=1", &with(r#"{"é":1}"#)));
    // A stray ']' in a path is an error.
    assert!(Query::parse("data.a]=1", false).is_err());
}

/// Found by the `query` fuzz target: `a -` parsed (the `-` a word) but
/// `(a -)` did not (the `-` before `)` taken for a `not`).
#[test]
fn a_dash_before_a_parenthesis_is_a_word() {
    let r = e(Level::Info, "k", "range 1 - 2", "{}");
    for q in ["-", "a -", "(-)", "(a -)", "not (range -)"] {
        assert!(Query::parse(q, false).is_ok(), "{q}");
    }
    assert!(m("(range -)", &r));
    assert!(!m("not (range -)", &r));
    assert!(!m("(-range)", &r), "-word is still a not");
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for q in [
        "(".repeat(10_000) + "a",
        "!".repeat(100_000) + "a",
        "not ".repeat(5_000) + "a",
    ] {
        let e = Query::parse(&q, false).expect_err("too deep");
        assert!(e.message.contains("nested more than"), "{e}");
    }
    let ok = "(".repeat(30) + "a" + &")".repeat(30);
    assert!(Query::parse(&ok, false).is_ok());
}

#[test]
fn error_columns_count_characters() {
    let e = Query::parse("éé level>=loud", false).unwrap_err();
    assert_eq!(e.column, 11, "{e}");
    assert_eq!(
        e.to_string(),
        "at column 11: unknown level \"loud\" (trace, debug, info, warn, error)"
    );
}
