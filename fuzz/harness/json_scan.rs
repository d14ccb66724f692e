//! The JSON scanner (`roomtap::scan`, the hot paths' reader) against
//! serde_json on arbitrary text: it accepts exactly what serde accepts;
//! the fields it walks are serde's (same keys unescaped, same value texts,
//! in order); strings unescape as serde unescapes them, and a span says it
//! holds escapes exactly when it does.

use std::borrow::Cow;
use std::fmt;

use roomtap::scan::{fields, plain_str, rest_is_ws, string_end, string_value, value, value_end};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let b = text.as_bytes();
    let serde_ok = serde_json::from_str::<&RawValue>(text).is_ok();
    let end = value_end(b, 0);
    let scan_ok = end.is_some_and(|e| rest_is_ws(text, e));
    assert_eq!(scan_ok, serde_ok, "accept/reject: scanner {end:?}");

    // `value` agrees with `value_end`; a string literal reads as serde's.
    let span = value(b, 0);
    assert_eq!(span.map(|s| s.end), end, "value vs value_end");
    if let Some(span) = span {
        if span.of(text).starts_with('"') {
            string_literal(text, span);
            assert_eq!(string_end(b, 0), Some((span.end, span.escaped)));
        } else {
            assert!(!span.escaped);
        }
    }

    // An object: walked field by field, as serde reads its fields.
    let mut walked = Vec::new();
    let obj_end = fields(text, 0, |k, v| walked.push((k.to_string(), v)));
    if let Some(e) = obj_end {
        assert_eq!(Some(e), end, "fields vs value_end");
    }
    match (obj_end, serde_json::from_str::<Pairs<'_>>(text)) {
        (Some(e), Ok(Pairs(pairs))) if rest_is_ws(text, e) => {
            assert_eq!(walked.len(), pairs.len(), "field count");
            for ((k, v), (k2, v2)) in walked.iter().zip(&pairs) {
                assert_eq!(k, k2, "key");
                assert_eq!(v.of(text), v2.get(), "value of {k}");
                if v.of(text).starts_with('"') {
                    string_literal(text, *v);
                }
            }
        }
        (Some(e), Err(err)) if rest_is_ws(text, e) => {
            panic!("the scanner walked an object serde refuses: {err}")
        }
        (None, Ok(_)) => panic!("serde read an object the scanner refuses"),
        _ => {}
    }
}

/// A string literal's span: unescaped as serde unescapes it. (serde skips
/// a string whose `\u` escapes are lone surrogates, as the scanner does,
/// but will not make a `String` of it: then neither may the scanner.)
fn string_literal(text: &str, span: roomtap::scan::Span) {
    let lit = span.of(text);
    let want = serde_json::from_str::<String>(lit).ok();
    assert_eq!(span.escaped, lit.contains('\\'), "escaped flag of {lit}");
    assert_eq!(
        string_value(text, span).as_deref(),
        want.as_deref(),
        "unescape"
    );
    assert_eq!(plain_str(text, span).is_some(), !span.escaped);
}

/// An object's fields as serde reads them: every pair, in order, the
/// values as raw text.
struct Pairs<'a>(Vec<(String, &'a RawValue)>);

impl<'de> Deserialize<'de> for Pairs<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pairs<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Pairs<'de>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    out.push((k.into_owned(), m.next_value::<&'de RawValue>()?));
                }
                Ok(Pairs(out))
            }
        }
        d.deserialize_map(V)
    }
}
