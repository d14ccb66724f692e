//! User messages described by a TOML schema, as legume's `BaseMessage`
//! subclasses declare them: a type id (20 and up), a name, and fields in
//! declaration order (the order on the wire).
//!
//! ```toml
//! [[message]]
//! id = 20
//! name = "Chat"
//! fields = [
//!   { name = "sender", type = "string 8" },   # exactly N bytes, NUL-padded
//!   { name = "text",   type = "varstring" },  # u16 length + UTF-8 bytes
//!   { name = "seq",    type = "int" },        # i32
//! ]
//! ```
//!
//! Field types: `int` (i32), `short` (u16), `float` (f64), `bool` (i8),
//! `uchar` (u8), `string N`, `varstring`; all big-endian.

use std::collections::BTreeMap;

use super::{HEADER, MTU, USER_BASE};

/// A field's type on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// i32.
    Int,
    /// u16.
    Short,
    /// f64.
    Float,
    /// i8 (legume writes 0 or 1).
    Bool,
    /// u8.
    UChar,
    /// Exactly N bytes, NUL-padded (NULs stripped on read).
    Str(usize),
    /// u16 length, then that many bytes of UTF-8.
    VarStr,
}

impl FieldType {
    /// `"int"`, `"string 8"`… as the schema writes it.
    pub fn parse(s: &str) -> Result<FieldType, String> {
        let s = s.trim();
        Ok(match s {
            "int" => FieldType::Int,
            "short" => FieldType::Short,
            "float" => FieldType::Float,
            "bool" => FieldType::Bool,
            "uchar" => FieldType::UChar,
            "varstring" => FieldType::VarStr,
            _ => {
                let n = s
                    .strip_prefix("string")
                    .map(str::trim)
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| {
                        format!(
                            "{s:?} is not a field type (int, short, float, bool, uchar, \"string N\", varstring)"
                        )
                    })?;
                if n == 0 || n > MTU - HEADER {
                    return Err(format!(
                        "\"string {n}\": N must be 1 to {} (a message fits one datagram)",
                        MTU - HEADER
                    ));
                }
                FieldType::Str(n)
            }
        })
    }

    /// Bytes it takes when its size is fixed (a varstring's is not).
    pub fn fixed_size(self) -> Option<usize> {
        Some(match self {
            FieldType::Int => 4,
            FieldType::Short => 2,
            FieldType::Float => 8,
            FieldType::Bool | FieldType::UChar => 1,
            FieldType::Str(n) => n,
            FieldType::VarStr => return None,
        })
    }

    /// The least it takes (a varstring's length prefix).
    pub fn min_size(self) -> usize {
        self.fixed_size().unwrap_or(2)
    }
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldType::Int => f.write_str("int"),
            FieldType::Short => f.write_str("short"),
            FieldType::Float => f.write_str("float"),
            FieldType::Bool => f.write_str("bool"),
            FieldType::UChar => f.write_str("uchar"),
            FieldType::Str(n) => write!(f, "string {n}"),
            FieldType::VarStr => f.write_str("varstring"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageDef {
    pub id: u8,
    pub name: String,
    pub fields: Vec<FieldDef>,
}

impl MessageDef {
    /// Its fields, `name type` each, for a usage line.
    pub fn signature(&self) -> String {
        let f: Vec<String> = self
            .fields
            .iter()
            .map(|f| format!("{}={}", f.name, f.ty))
            .collect();
        format!("{} {}", self.name, f.join(" "))
    }
}

/// The messages a run knows, by type id and by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    by_id: BTreeMap<u8, MessageDef>,
}

/// Messages one schema may describe (type ids 20–255).
const MAX_MESSAGES: usize = 236;
/// Fields one message may have.
const MAX_FIELDS: usize = 256;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    message: Vec<MessageToml>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageToml {
    id: i64,
    name: String,
    #[serde(default)]
    fields: Vec<FieldToml>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldToml {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

impl Schema {
    /// A schema from its TOML text; the error names the message and field.
    pub fn parse(text: &str) -> Result<Schema, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string().trim_end().to_string())?;
        if file.message.len() > MAX_MESSAGES {
            return Err(format!(
                "{} messages: a schema describes at most {MAX_MESSAGES} (type ids {USER_BASE}-255)",
                file.message.len()
            ));
        }
        let mut by_id = BTreeMap::new();
        let mut names = std::collections::HashSet::new();
        for (i, m) in file.message.into_iter().enumerate() {
            let at = format!("[[message]] #{} ({:?})", i + 1, m.name);
            let id = u8::try_from(m.id)
                .ok()
                .filter(|&id| id >= USER_BASE)
                .ok_or_else(|| {
                    format!(
                        "{at}: id {} is not a user message type ({USER_BASE}-255; 2-10 are legume's own)",
                        m.id
                    )
                })?;
            if m.name.is_empty()
                || !m
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(format!("{at}: a name is letters, digits and _"));
            }
            if !names.insert(m.name.clone()) {
                return Err(format!("{at}: the name {} is used twice", m.name));
            }
            if m.fields.len() > MAX_FIELDS {
                return Err(format!("{at}: more than {MAX_FIELDS} fields"));
            }
            let mut fields = Vec::with_capacity(m.fields.len());
            let mut seen = std::collections::HashSet::new();
            for f in m.fields {
                if f.name.is_empty()
                    || !f
                        .name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(format!(
                        "{at}: field {:?}: a name is letters, digits and _",
                        f.name
                    ));
                }
                if !seen.insert(f.name.clone()) {
                    return Err(format!("{at}: field {} is declared twice", f.name));
                }
                let ty = FieldType::parse(&f.ty).map_err(|e| format!("{at}: field {}: {e}", f.name))?;
                fields.push(FieldDef { name: f.name, ty });
            }
            let least: usize = fields.iter().map(|f| f.ty.min_size()).sum();
            if HEADER + least > MTU {
                return Err(format!(
                    "{at}: takes at least {} bytes with its header, over the {MTU}-byte datagram",
                    HEADER + least
                ));
            }
            let def = MessageDef {
                id,
                name: m.name,
                fields,
            };
            if let Some(old) = by_id.insert(id, def) {
                return Err(format!("{at}: id {id} is already {}", old.name));
            }
        }
        Ok(Schema { by_id })
    }

    pub fn get(&self, id: u8) -> Option<&MessageDef> {
        self.by_id.get(&id)
    }

    pub fn named(&self, name: &str) -> Option<&MessageDef> {
        self.by_id.values().find(|m| m.name == name)
    }

    pub fn messages(&self) -> impl Iterator<Item = &MessageDef> {
        self.by_id.values()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The research captures' Chat and Pos.
    pub const CHAT: &str = include_str!("../../../../tests/fixtures/legume/captures.toml");

    #[test]
    fn the_issues_format_reads() {
        let s = Schema::parse(CHAT).unwrap();
        let chat = s.get(20).unwrap();
        assert_eq!(chat.name, "Chat");
        assert_eq!(
            chat.fields.iter().map(|f| f.ty).collect::<Vec<_>>(),
            [
                FieldType::Str(8),
                FieldType::VarStr,
                FieldType::Int,
                FieldType::Float,
                FieldType::Bool,
                FieldType::Short,
                FieldType::UChar
            ]
        );
        assert_eq!(s.named("Chat").unwrap().id, 20);
        assert!(chat.signature().starts_with("Chat sender=string 8 text=varstring"));
    }

    #[test]
    fn what_is_wrong_is_named() {
        let bad = |t: &str| Schema::parse(t).unwrap_err();
        assert!(bad("[[message]]\nid = 9\nname = \"A\"").contains("id 9 is not a user message type"));
        assert!(bad("[[message]]\nid = 300\nname = \"A\"").contains("id 300"));
        assert!(
            bad("[[message]]\nid = 20\nname = \"A\"\n[[message]]\nid = 20\nname = \"B\"")
                .contains("id 20 is already A")
        );
        assert!(
            bad("[[message]]\nid = 20\nname = \"A\"\n[[message]]\nid = 21\nname = \"A\"")
                .contains("used twice")
        );
        let e = bad("[[message]]\nid = 20\nname = \"A\"\nfields = [{ name = \"n\", type = \"long\" }]");
        assert!(e.contains("field n") && e.contains("\"long\" is not a field type"), "{e}");
        assert!(
            bad("[[message]]\nid = 20\nname = \"A\"\nfields = [{ name = \"n\", type = \"string 0\" }]")
                .contains("N must be 1 to 1394")
        );
        assert!(
            bad("[[message]]\nid = 20\nname = \"A\"\nfields = [{ name = \"n\", type = \"string 1000\" }, { name = \"m\", type = \"string 1000\" }]")
                .contains("over the 1400-byte datagram")
        );
        // Unknown keys and TOML errors come with their line.
        let e = bad("[[message]]\nid = 20\nname = \"A\"\ncolour = 1");
        assert!(e.contains("colour") && e.contains("line 4"), "{e}");
        assert!(bad("[[message]\n").contains("line 1"));
    }
}
