//! cty values as JSON: `DynamicValue.json` and `UpgradeResourceState`'s `RawState.json`,
//! following go-cty `cty/json` (`marshal.go`, `unmarshal.go`) and Terraform's
//! `docs/plugin-protocol/object-wire-format.md`.
//!
//! The decoder is a small schema-directed JSON parser of our own: serde_json without its
//! `arbitrary_precision` feature (not enabled in this workspace) rounds numbers to f64, while
//! Terraform numbers are arbitrary precision. Number text goes to [`Number::parse_decimal`]
//! untouched.
//!
//! Wire quirks (and where they come from):
//! * A dynamic value is `{"value": V, "type": T}`, keys in any order (`unmarshal.go`
//!   `unmarshalDynamic`); `null` at a dynamic position is a plain null.
//! * Like go-cty, primitives convert leniently (`unmarshalPrimitive` runs `convert.Convert`):
//!   a string is accepted for a number (`"12"`) or bool (`"true"`, `"1"`, `"false"`, `"0"`),
//!   and a number or bool for a string (its literal text).
//! * Unknown values cannot be represented: encoding one is an error (`marshal.go`).
//! * Objects: go-cty fills attributes missing from the JSON with null but rejects unknown
//!   ones. [`decode_json`] is strict both ways (Terraform always writes every attribute);
//!   [`decode_state_json`] fills missing ones with null and drops unknown ones, because
//!   stored state was written by an older schema.
//! * Lone UTF-16 surrogates in `\u` escapes become U+FFFD, as Go's `encoding/json` does.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write as _;

use super::types::{
    Decimal, Fail, MAX_DEPTH, Step, implied_primitive_type, is_json_number, json_number_len,
    type_desc, value_desc, write_f64_exact, write_json_str,
};
use super::{CodecError, Number, Type, Value};

/// Decodes a JSON `DynamicValue` against `ty`. Every object attribute of the type must be
/// present and no others. Empty input is null.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode(bytes, ty, false)
}

/// Decodes `UpgradeResourceState.raw_state.json` against the *current* schema type:
/// attributes missing from the JSON become null, attributes the type does not have are
/// dropped (also unknown keys next to `"value"`/`"type"` of a dynamic value). Everything else
/// (numbers kept exact, dynamic `{"value","type"}`) is as in [`decode_json`].
pub fn decode_state_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    decode(bytes, ty, true)
}

/// Encodes `v` as JSON against `ty` (go-cty `json.Marshal`). Fails on unknown values.
pub fn encode_json(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(128);
    encode(&mut out, v, ty, 0).map_err(Fail::into_codec)?;
    Ok(out)
}

fn decode(bytes: &[u8], ty: &Type, tolerant: bool) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut p = Parser {
        b: bytes,
        pos: 0,
        tolerant,
    };
    let v = p.value(ty, 0).map_err(Fail::into_codec)?;
    p.ws();
    if p.pos != bytes.len() {
        return Err(CodecError::at("", "unexpected data after the JSON value"));
    }
    Ok(v)
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

struct Parser<'a> {
    b: &'a [u8],
    pos: usize,
    /// State-upgrade mode (see [`decode_state_json`]).
    tolerant: bool,
}

fn eof() -> Fail {
    Fail::new("unexpected end of JSON input")
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Next non-whitespace byte (not consumed).
    fn peek(&mut self) -> Result<u8, Fail> {
        self.ws();
        self.b.get(self.pos).copied().ok_or_else(eof)
    }

    fn unexpected(&self) -> Fail {
        match self.b.get(self.pos) {
            Some(c) if c.is_ascii_graphic() => {
                Fail::new(format!("invalid character {:?} in JSON", *c as char))
            }
            Some(c) => Fail::new(format!("invalid byte {c:#04x} in JSON")),
            None => eof(),
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), Fail> {
        if self.peek()? != c {
            return Err(self.unexpected());
        }
        self.pos += 1;
        Ok(())
    }

    fn literal(&mut self, lit: &[u8]) -> Result<(), Fail> {
        if self.b[self.pos..].starts_with(lit) {
            self.pos += lit.len();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    /// JSON number text (validated against the JSON grammar).
    fn number_text(&mut self) -> Result<&'a str, Fail> {
        let start = self.pos;
        let n = json_number_len(&self.b[start..]).ok_or_else(|| self.unexpected())?;
        self.pos += n;
        // The grammar only admits ASCII.
        std::str::from_utf8(&self.b[start..self.pos]).map_err(|_| self.unexpected())
    }

    /// A JSON string (the cursor is at the opening quote). Borrowed when free of escapes.
    fn string(&mut self) -> Result<Cow<'a, str>, Fail> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.b.get(self.pos) {
                None => return Err(Fail::new("unterminated JSON string")),
                Some(b'"') => {
                    let s = std::str::from_utf8(&self.b[start..self.pos])
                        .map_err(|_| Fail::new("JSON string is not valid UTF-8"))?;
                    self.pos += 1;
                    return Ok(Cow::Borrowed(s));
                }
                Some(b'\\') => break,
                Some(0..=0x1f) => return Err(Fail::new("control character in JSON string")),
                Some(_) => self.pos += 1,
            }
        }
        let mut buf = self.b[start..self.pos].to_vec();
        loop {
            let Some(&c) = self.b.get(self.pos) else {
                return Err(Fail::new("unterminated JSON string"));
            };
            self.pos += 1;
            match c {
                b'"' => {
                    return String::from_utf8(buf)
                        .map(Cow::Owned)
                        .map_err(|_| Fail::new("JSON string is not valid UTF-8"));
                }
                b'\\' => {
                    let Some(&e) = self.b.get(self.pos) else {
                        return Err(Fail::new("unterminated JSON string"));
                    };
                    self.pos += 1;
                    let simple = match e {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            let ch = self.unicode_escape()?;
                            let mut tmp = [0u8; 4];
                            buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                            continue;
                        }
                        _ => return Err(Fail::new("invalid escape in JSON string")),
                    };
                    buf.push(simple);
                }
                0..=0x1f => return Err(Fail::new("control character in JSON string")),
                _ => buf.push(c),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, Fail> {
        let bad = || Fail::new("invalid \\u escape in JSON string");
        let h = self.b.get(self.pos..self.pos + 4).ok_or_else(bad)?;
        let mut v = 0;
        for &c in h {
            v = v * 16 + (c as char).to_digit(16).ok_or_else(bad)?;
        }
        self.pos += 4;
        Ok(v)
    }

    /// The character of a `\uXXXX` escape (after the `u`), joining surrogate pairs.
    fn unicode_escape(&mut self) -> Result<char, Fail> {
        let hi = self.hex4()?;
        if (0xd800..0xdc00).contains(&hi) && self.b[self.pos..].starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let lo = self.hex4()?;
            if (0xdc00..0xe000).contains(&lo) {
                let c = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
                return Ok(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            // Not a low surrogate: leave it to be decoded on its own.
            self.pos = save;
        }
        Ok(char::from_u32(hi).unwrap_or(char::REPLACEMENT_CHARACTER))
    }

    /// Parses `[a, b, ...]`, calling `f` with the element index at each element.
    fn array(
        &mut self,
        mut f: impl FnMut(&mut Self, usize) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        self.expect(b'[')?;
        if self.peek()? == b']' {
            self.pos += 1;
            return Ok(());
        }
        let mut i = 0;
        loop {
            f(self, i)?;
            i += 1;
            match self.peek()? {
                b',' => self.pos += 1,
                b']' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Parses `{"k": v, ...}`, calling `f` with each key once the cursor is at its value.
    fn object(
        &mut self,
        mut f: impl FnMut(&mut Self, Cow<'a, str>) -> Result<(), Fail>,
    ) -> Result<(), Fail> {
        self.expect(b'{')?;
        if self.peek()? == b'}' {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek()? != b'"' {
                return Err(self.unexpected());
            }
            let key = self.string()?;
            self.expect(b':')?;
            f(self, key)?;
            match self.peek()? {
                b',' => self.pos += 1,
                b'}' => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// Skips one JSON value (validating it).
    fn skip(&mut self, depth: usize) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::new("JSON nested too deeply"));
        }
        match self.peek()? {
            b'{' => self.object(|p, _| p.skip(depth + 1)),
            b'[' => self.array(|p, _| p.skip(depth + 1)),
            b'"' => self.string().map(drop),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number_text().map(drop),
        }
    }

    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::new("value nested too deeply"));
        }
        let c = self.peek()?;
        if c == b'n' {
            self.literal(b"null")?;
            return Ok(Value::Null);
        }
        let required = || Fail::new(format!("{} is required", type_desc(ty)));
        Ok(match ty {
            Type::Dynamic => self.dynamic(depth)?,
            Type::Bool => match c {
                b't' => {
                    self.literal(b"true")?;
                    Value::Bool(true)
                }
                b'f' => {
                    self.literal(b"false")?;
                    Value::Bool(false)
                }
                // go-cty converts strings ("true"/"1", "false"/"0").
                // go-cty `convert/conversion_primitive.go`: exactly these four spellings.
                b'"' => match &*self.string()? {
                    "true" | "1" => Value::Bool(true),
                    "false" | "0" => Value::Bool(false),
                    other => {
                        let lower = other.to_ascii_lowercase();
                        return Err(Fail::new(if lower == "true" || lower == "false" {
                            format!(
                                "a bool is required; to convert from string, use lowercase {lower:?}"
                            )
                        } else {
                            "a bool is required".to_owned()
                        }));
                    }
                },
                _ => return Err(required()),
            },
            Type::Number => {
                let n = match c {
                    b'"' => Number::parse_decimal(&self.string()?),
                    b'-' | b'0'..=b'9' => Number::parse_decimal(self.number_text()?),
                    _ => return Err(required()),
                };
                Value::Number(n.ok_or_else(|| Fail::new("a number is required"))?)
            }
            Type::String => Value::String(match c {
                b'"' => self.string()?.into_owned(),
                b'-' | b'0'..=b'9' => self.number_text()?.to_owned(),
                b't' => {
                    self.literal(b"true")?;
                    "true".into()
                }
                b'f' => {
                    self.literal(b"false")?;
                    "false".into()
                }
                _ => return Err(required()),
            }),
            Type::List(et) | Type::Set(et) => {
                if c != b'[' {
                    return Err(required());
                }
                let mut items = Vec::new();
                self.array(|p, i| {
                    items.push(p.value(et, depth + 1).map_err(|e| e.at(Step::Index(i)))?);
                    Ok(())
                })?;
                if matches!(ty, Type::Set(_)) {
                    Value::Set(items)
                } else {
                    Value::List(items)
                }
            }
            Type::Tuple(ets) => {
                if c != b'[' {
                    return Err(required());
                }
                let mut items = Vec::with_capacity(ets.len());
                self.array(|p, i| {
                    let et = ets.get(i).ok_or_else(|| {
                        Fail::new(format!("too many tuple elements (need {})", ets.len()))
                    })?;
                    items.push(p.value(et, depth + 1).map_err(|e| e.at(Step::Index(i)))?);
                    Ok(())
                })?;
                if items.len() != ets.len() {
                    return Err(Fail::new(format!(
                        "not enough tuple elements (need {})",
                        ets.len()
                    )));
                }
                Value::Tuple(items)
            }
            Type::Map(et) => {
                if c != b'{' {
                    return Err(required());
                }
                let mut map = BTreeMap::new();
                self.object(|p, key| {
                    let v = p
                        .value(et, depth + 1)
                        .map_err(|e| e.at(Step::Key(key.to_string())))?;
                    // Duplicate keys: last one wins (go-cty: `vals[k] = el`).
                    map.insert(key.into_owned(), v);
                    Ok(())
                })?;
                Value::Map(map)
            }
            Type::Object { attrs, .. } => {
                if c != b'{' {
                    return Err(required());
                }
                let mut obj = BTreeMap::new();
                let tolerant = self.tolerant;
                self.object(|p, key| {
                    match attrs.get(&*key) {
                        Some(aty) => {
                            let v = p
                                .value(aty, depth + 1)
                                .map_err(|e| e.at(Step::Attr(key.to_string())))?;
                            // Duplicate keys: last one wins (go-cty: `vals[k] = el`).
                            obj.insert(key.into_owned(), v);
                        }
                        // An attribute the current schema no longer has.
                        None if tolerant => p.skip(depth + 1)?,
                        None => {
                            return Err(
                                Fail::new("unsupported attribute").at(Step::Attr(key.into_owned()))
                            );
                        }
                    }
                    Ok(())
                })?;
                if obj.len() != attrs.len() {
                    for name in attrs.keys() {
                        if !obj.contains_key(name) {
                            if !tolerant {
                                return Err(
                                    Fail::new("missing attribute").at(Step::Attr(name.clone()))
                                );
                            }
                            obj.insert(name.clone(), Value::Null);
                        }
                    }
                }
                Value::Object(obj)
            }
        })
    }

    /// `{"value": V, "type": T}`: `V` is decoded once `T` is known.
    fn dynamic(&mut self, depth: usize) -> Result<Value, Fail> {
        if self.peek()? != b'{' {
            return Err(Fail::new(
                "a dynamic value must be an object with \"value\" and \"type\"",
            ));
        }
        let mut ty = None;
        let mut value_at = None;
        let tolerant = self.tolerant;
        self.object(|p, key| {
            match &*key {
                "type" => {
                    p.ws();
                    let start = p.pos;
                    p.skip(depth + 1)?;
                    let t = Type::from_json_bytes(&p.b[start..p.pos]).map_err(|e| {
                        Fail::new(format!("failed to decode type for dynamic value: {e}"))
                    })?;
                    ty = Some(t);
                }
                "value" => {
                    p.ws();
                    value_at = Some(p.pos);
                    p.skip(depth + 1)?;
                }
                _ if tolerant => p.skip(depth + 1)?,
                other => {
                    return Err(Fail::new(format!(
                        "invalid key {other:?} in dynamically-typed value"
                    )));
                }
            }
            Ok(())
        })?;
        let ty = ty.ok_or_else(|| Fail::new("missing type in dynamically-typed value"))?;
        let at = value_at.ok_or_else(|| Fail::new("missing value in dynamically-typed value"))?;
        let end = self.pos;
        self.pos = at;
        let v = self.value(&ty, depth + 1)?;
        self.pos = end;
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

/// Number text with full precision: ints as integers, floats as their exact decimal value
/// (go-cty writes `big.Float.Text('f', -1)`, the shortest text that round-trips at the
/// float's precision — which, read back at 512 bits, is a different number), big numbers as
/// their decimal text.
fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), Fail> {
    match n {
        // Writing to a Vec cannot fail.
        Number::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Number::Float(f) if f.is_finite() => write_f64_exact(out, *f),
        Number::Float(f) => {
            return Err(Fail::new(format!("{f} cannot be represented in JSON")));
        }
        Number::Big(s) if is_json_number(s) => out.extend_from_slice(s.as_bytes()),
        Number::Big(s) => Decimal::parse(s)
            .and_then(|d| d.write_json(out))
            .ok_or_else(|| Fail::new(format!("{s:?} cannot be represented as a JSON number")))?,
    }
    Ok(())
}

fn encode(out: &mut Vec<u8>, v: &Value, ty: &Type, depth: usize) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new("value nested too deeply"));
    }
    if let Type::Dynamic = ty {
        // `marshal.go` `marshalDynamic` writes the value first, then the type.
        let (t, inner): (Cow<'_, Type>, &Value) = match v {
            Value::Null => {
                out.extend_from_slice(b"null");
                return Ok(());
            }
            Value::Unknown(_) => return Err(Fail::new("value is not known")),
            Value::Dynamic(t, inner) => (Cow::Borrowed(&**t), &**inner),
            other => match implied_primitive_type(other) {
                Some(t) => (Cow::Owned(t), other),
                None => {
                    return Err(Fail::new(format!(
                        "{} at a dynamic position must be a Value::Dynamic carrying its type",
                        value_desc(other)
                    )));
                }
            },
        };
        out.extend_from_slice(b"{\"value\":");
        encode(out, inner, &t, depth + 1)?;
        out.extend_from_slice(b",\"type\":");
        t.write_json(out);
        out.push(b'}');
        return Ok(());
    }
    match (v, ty) {
        (Value::Null, _) => out.extend_from_slice(b"null"),
        (Value::Unknown(_), _) => return Err(Fail::new("value is not known")),
        (Value::Dynamic(t, inner), _) if **t == *ty => encode(out, inner, ty, depth)?,
        (Value::Bool(b), Type::Bool) => {
            out.extend_from_slice(if *b { b"true" } else { b"false" });
        }
        (Value::Number(n), Type::Number) => write_number(out, n)?,
        (Value::String(s), Type::String) => write_json_str(out, s),
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Value::Tuple(items), Type::Tuple(ets)) => {
            if items.len() != ets.len() {
                return Err(Fail::new(format!(
                    "a tuple of length {} is required ({} given)",
                    ets.len(),
                    items.len()
                )));
            }
            out.push(b'[');
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Index(i)))?;
            }
            out.push(b']');
        }
        (Value::Map(map), Type::Map(et)) => {
            out.push(b'{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json_str(out, k);
                out.push(b':');
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Key(k.clone())))?;
            }
            out.push(b'}');
        }
        (Value::Object(obj), Type::Object { attrs, .. }) => {
            if obj.len() != attrs.len()
                && let Some(extra) = obj.keys().find(|k| !attrs.contains_key(*k))
            {
                return Err(Fail::new("unsupported attribute").at(Step::Attr(extra.clone())));
            }
            out.push(b'{');
            for (i, (name, aty)) in attrs.iter().enumerate() {
                let step = || Step::Attr(name.clone());
                let item = obj
                    .get(name)
                    .ok_or_else(|| Fail::new("missing attribute").at(step()))?;
                if i > 0 {
                    out.push(b',');
                }
                write_json_str(out, name);
                out.push(b':');
                encode(out, item, aty, depth + 1).map_err(|e| e.at(step()))?;
            }
            out.push(b'}');
        }
        (v, ty) => {
            return Err(Fail::new(format!(
                "{} is required, found {}",
                type_desc(ty),
                value_desc(v)
            )));
        }
    }
    Ok(())
}
