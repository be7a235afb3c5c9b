//! cty values as msgpack (`DynamicValue.msgpack`), following go-cty `cty/msgpack`
//! (`marshal.go`, `unmarshal.go`, `unknown.go`, `dynamic.go`) and Terraform's
//! `docs/plugin-protocol/object-wire-format.md`.
//!
//! The reader and writer are hand-rolled over a byte slice / `Vec<u8>` rather than going
//! through `rmpv::Value`: decoding straight into [`Value`] against the schema type avoids an
//! intermediate tree, borrows strings from the input until they are stored, and lets us bound
//! lengths and depth before allocating.
//!
//! Wire quirks (and where they come from):
//! * Any msgpack ext is an unknown value, whatever its type code, when the payload is at most
//!   one byte; longer payloads must be type 12 (refinements) of at most 1024 bytes
//!   (`unknown.go` `unmarshalUnknownValue`). The ext check happens before everything else, so
//!   an unknown at a dynamic position is the bare ext, not wrapped in `[type, value]`.
//! * Unrefined unknowns are written as fixext1 `d4 00 00` (`unknown.go` `unknownValBytes`);
//!   refined ones as ext 12 with a non-empty int-keyed map, never an empty map.
//! * A dynamic value is `[type JSON as bin, value]` (`dynamic.go`); the reader also accepts
//!   the type as str (vmihailenco's `DecodeBytes` accepts both).
//! * Strings may arrive as str or bin (vmihailenco's `DecodeString` accepts both).
//! * Numbers: the reader accepts every int/uint/float width or a decimal string; the writer
//!   emits int when the value is an exact int64, float64 when exactly a float64 (never
//!   float32: `marshal.go` sets `UseCompactFloats(false)`), otherwise the decimal string.
//!   Ints use the most compact marker, non-negative values as uint (`UseCompactInts(true)`).
//! * Objects carry exactly one entry per attribute, written in sorted key order
//!   (`marshal.go`). go-cty decodes a zero-length map/array as an empty object/tuple even for
//!   non-empty types; we report the count mismatch instead.
//! * Refinement maps: unknown keys are reserved for future use and must be ignored. go-cty's
//!   loop does not consume the value of an unknown key; we skip it. Trailing bytes after the
//!   map are ignored (as in go-cty), but trailing bytes after the top-level value are an error
//!   (go-cty stops reading after one value).
//! * go-cty normalises strings to NFC (`cty.StringVal`); we keep the bytes as they arrive
//!   (Terraform only sends normalised strings) and require valid UTF-8.

use std::collections::BTreeMap;

use super::types::{Fail, MAX_DEPTH, Step, implied_primitive_type, type_desc, value_desc};
use super::{CodecError, Number, Refinements, Type, Value};

const NIL: u8 = 0xc0;
const FALSE: u8 = 0xc2;
const TRUE: u8 = 0xc3;
/// `unknown.go` `unknownWithRefinementsExt`.
const EXT_REFINED: i8 = 0x0c;
/// `unknown.go`: "A refinement description greater than 1 kiB is unreasonable".
const MAX_REFINEMENT_LEN: usize = 1024;
/// `unknown.go` `marshalUnknownValue` truncates string prefixes to 255 bytes so the payload
/// stays under the decoder's limit.
const MAX_PREFIX_LEN: usize = 255;

// Refinement map keys (`unknown.go` `unknownValRefinementKey`).
const REF_NULLNESS: i128 = 1;
const REF_STRING_PREFIX: i128 = 2;
const REF_NUMBER_MIN: i128 = 3;
const REF_NUMBER_MAX: i128 = 4;
const REF_LENGTH_MIN: i128 = 5;
const REF_LENGTH_MAX: i128 = 6;

/// Decodes a msgpack `DynamicValue` against `ty`. Empty input is null (Terraform treats an
/// empty `DynamicValue` as null). Trailing bytes after the value are an error.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut r = Reader { buf: bytes, pos: 0 };
    let v = r.value(ty, 0).map_err(Fail::into_codec)?;
    if r.pos != bytes.len() {
        return Err(CodecError::at(
            "",
            format!(
                "{} unexpected trailing bytes after the value",
                bytes.len() - r.pos
            ),
        ));
    }
    Ok(v)
}

/// Encodes `v` as msgpack against `ty`, the way go-cty's `msgpack.Marshal` would.
pub fn encode_msgpack(v: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::with_capacity(128);
    encode(&mut out, v, ty, 0).map_err(Fail::into_codec)?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Reader
// ---------------------------------------------------------------------------------------

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn eof() -> Fail {
    Fail::new("unexpected end of msgpack data")
}

fn is_ext(m: u8) -> bool {
    matches!(m, 0xc7..=0xc9 | 0xd4..=0xd8)
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self) -> Result<u8, Fail> {
        self.buf.get(self.pos).copied().ok_or_else(eof)
    }

    fn byte(&mut self) -> Result<u8, Fail> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Fail> {
        if n > self.remaining() {
            return Err(eof());
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], Fail> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    fn u8(&mut self) -> Result<u8, Fail> {
        self.byte()
    }
    fn u16(&mut self) -> Result<u16, Fail> {
        Ok(u16::from_be_bytes(self.be()?))
    }
    fn u32(&mut self) -> Result<u32, Fail> {
        Ok(u32::from_be_bytes(self.be()?))
    }
    fn u64(&mut self) -> Result<u64, Fail> {
        Ok(u64::from_be_bytes(self.be()?))
    }

    /// Array length if the next item is an array (consumed), else `None` (not consumed).
    fn array_len(&mut self) -> Result<Option<usize>, Fail> {
        let n = match self.peek()? {
            m @ 0x90..=0x9f => {
                self.pos += 1;
                usize::from(m & 0x0f)
            }
            0xdc => {
                self.pos += 1;
                usize::from(self.u16()?)
            }
            0xdd => {
                self.pos += 1;
                self.u32()? as usize
            }
            _ => return Ok(None),
        };
        Ok(Some(n))
    }

    /// Map length if the next item is a map (consumed), else `None` (not consumed).
    fn map_len(&mut self) -> Result<Option<usize>, Fail> {
        let n = match self.peek()? {
            m @ 0x80..=0x8f => {
                self.pos += 1;
                usize::from(m & 0x0f)
            }
            0xde => {
                self.pos += 1;
                usize::from(self.u16()?)
            }
            0xdf => {
                self.pos += 1;
                self.u32()? as usize
            }
            _ => return Ok(None),
        };
        Ok(Some(n))
    }

    /// Payload of a str or bin item (consumed), else `None` (not consumed).
    fn str_or_bin(&mut self) -> Result<Option<&'a [u8]>, Fail> {
        let n = match self.peek()? {
            m @ 0xa0..=0xbf => {
                self.pos += 1;
                usize::from(m & 0x1f)
            }
            0xd9 | 0xc4 => {
                self.pos += 1;
                usize::from(self.u8()?)
            }
            0xda | 0xc5 => {
                self.pos += 1;
                usize::from(self.u16()?)
            }
            0xdb | 0xc6 => {
                self.pos += 1;
                self.u32()? as usize
            }
            _ => return Ok(None),
        };
        self.take(n).map(Some)
    }

    /// A UTF-8 string from a str or bin item; `what` names the expectation for errors.
    fn text(&mut self, what: &str) -> Result<&'a str, Fail> {
        let b = self.str_or_bin()?.ok_or_else(|| Fail::new(what))?;
        std::str::from_utf8(b).map_err(|_| Fail::new("string is not valid UTF-8"))
    }

    fn bool(&mut self) -> Result<Option<bool>, Fail> {
        match self.peek()? {
            FALSE => {
                self.pos += 1;
                Ok(Some(false))
            }
            TRUE => {
                self.pos += 1;
                Ok(Some(true))
            }
            _ => Ok(None),
        }
    }

    /// Any msgpack integer (consumed), else `None` (not consumed).
    fn int(&mut self) -> Result<Option<i128>, Fail> {
        let m = self.peek()?;
        let v = match m {
            0x00..=0x7f => i128::from(m),
            0xe0..=0xff => i128::from(m as i8),
            0xcc..=0xd3 => {
                self.pos += 1;
                return Ok(Some(match m {
                    0xcc => i128::from(self.u8()?),
                    0xcd => i128::from(self.u16()?),
                    0xce => i128::from(self.u32()?),
                    0xcf => i128::from(self.u64()?),
                    0xd0 => i128::from(self.u8()? as i8),
                    0xd1 => i128::from(self.u16()? as i16),
                    0xd2 => i128::from(self.u32()? as i32),
                    _ => i128::from(self.u64()? as i64),
                }));
            }
            _ => return Ok(None),
        };
        self.pos += 1;
        Ok(Some(v))
    }

    /// A number in any of the encodings `unmarshal.go` `unmarshalPrimitive` accepts.
    fn number(&mut self) -> Result<Number, Fail> {
        let required = || Fail::new("number is required");
        match self.peek()? {
            0xcf => {
                self.pos += 1;
                Ok(Number::from_u64(self.u64()?))
            }
            0xca => {
                self.pos += 1;
                let f = f32::from_bits(self.u32()?);
                Number::from_f64(f64::from(f)).ok_or_else(|| Fail::new("number is NaN"))
            }
            0xcb => {
                self.pos += 1;
                let f = f64::from_bits(self.u64()?);
                Number::from_f64(f).ok_or_else(|| Fail::new("number is NaN"))
            }
            _ => {
                if let Some(i) = self.int()? {
                    // Every remaining int marker fits i64 (uint64 handled above).
                    return i64::try_from(i).map(Number::Int).map_err(|_| required());
                }
                let b = self.str_or_bin()?.ok_or_else(required)?;
                let s = std::str::from_utf8(b).map_err(|_| required())?;
                Number::parse_decimal(s).ok_or_else(required)
            }
        }
    }

    /// Header and payload of an ext item.
    fn ext(&mut self) -> Result<(i8, &'a [u8]), Fail> {
        let len = match self.byte()? {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => usize::from(self.u8()?),
            0xc8 => usize::from(self.u16()?),
            0xc9 => self.u32()? as usize,
            _ => return Err(Fail::new("extension code is required for unknown value")),
        };
        let code = self.byte()? as i8;
        Ok((code, self.take(len)?))
    }

    /// Skips one item of any kind.
    fn skip(&mut self, depth: usize) -> Result<(), Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::new("msgpack data nested too deeply"));
        }
        let m = self.peek()?;
        if is_ext(m) {
            self.ext()?;
            return Ok(());
        }
        if self.int()?.is_some() || self.bool()?.is_some() || self.str_or_bin()?.is_some() {
            return Ok(());
        }
        if let Some(n) = self.array_len()? {
            for _ in 0..n {
                self.skip(depth + 1)?;
            }
            return Ok(());
        }
        if let Some(n) = self.map_len()? {
            for _ in 0..n {
                self.skip(depth + 1)?;
                self.skip(depth + 1)?;
            }
            return Ok(());
        }
        self.pos += 1;
        match m {
            NIL => Ok(()),
            0xca => self.take(4).map(drop),
            0xcb => self.take(8).map(drop),
            _ => Err(Fail::new(format!("invalid msgpack marker {m:#04x}"))),
        }
    }

    /// Decodes one value of type `ty` (`unmarshal.go` `unmarshal`).
    fn value(&mut self, ty: &Type, depth: usize) -> Result<Value, Fail> {
        if depth > MAX_DEPTH {
            return Err(Fail::new("value nested too deeply"));
        }
        let m = self.peek()?;
        // Checked before the dynamic case: an unknown dynamic value is the bare ext.
        if is_ext(m) {
            return self.unknown(ty);
        }
        if m == NIL {
            self.pos += 1;
            return Ok(Value::Null);
        }
        let required = || Fail::new(format!("{} is required", type_desc(ty)));
        Ok(match ty {
            Type::Dynamic => self.dynamic(depth)?,
            Type::Bool => Value::Bool(self.bool()?.ok_or_else(required)?),
            Type::Number => Value::Number(self.number()?),
            Type::String => Value::String(self.text("string is required")?.to_owned()),
            Type::List(et) => Value::List(self.elements(et, depth, required)?),
            Type::Set(et) => Value::Set(self.elements(et, depth, required)?),
            Type::Tuple(ets) => {
                let n = self.array_len()?.ok_or_else(required)?;
                if n != ets.len() {
                    return Err(Fail::new(format!(
                        "a tuple of length {} is required ({n} given)",
                        ets.len()
                    )));
                }
                let mut items = Vec::with_capacity(n);
                for (i, et) in ets.iter().enumerate() {
                    items.push(
                        self.value(et, depth + 1)
                            .map_err(|e| e.at(Step::Index(i)))?,
                    );
                }
                Value::Tuple(items)
            }
            Type::Map(et) => {
                let n = self.map_len()?.ok_or_else(required)?;
                let mut map = BTreeMap::new();
                for _ in 0..n {
                    let key = self.text("map keys must be strings")?;
                    let v = self
                        .value(et, depth + 1)
                        .map_err(|e| e.at(Step::Key(key.to_owned())))?;
                    // Duplicate keys: last one wins, as in go-cty (`vals[key] = val`).
                    map.insert(key.to_owned(), v);
                }
                Value::Map(map)
            }
            Type::Object { attrs, .. } => {
                let n = self.map_len()?.ok_or_else(required)?;
                if n != attrs.len() {
                    return Err(Fail::new(format!(
                        "an object with {} attributes is required ({n} given)",
                        attrs.len()
                    )));
                }
                let mut obj = BTreeMap::new();
                // Terraform writes attributes in sorted order: try the next attribute of the
                // type before searching for the key.
                let mut expected = attrs.iter();
                for _ in 0..n {
                    let key = self.text("all keys must be strings")?;
                    let step = || Step::Attr(key.to_owned());
                    let aty = match expected.next() {
                        Some((name, aty)) if name == key => aty,
                        _ => attrs
                            .get(key)
                            .ok_or_else(|| Fail::new("unsupported attribute").at(step()))?,
                    };
                    let v = self.value(aty, depth + 1).map_err(|e| e.at(step()))?;
                    // With the count equal to the attribute count, a duplicate key means
                    // another attribute is missing (go-cty would silently build a value of
                    // the wrong type).
                    if obj.insert(key.to_owned(), v).is_some() {
                        return Err(Fail::new("duplicate attribute").at(step()));
                    }
                }
                // With the count equal to the attribute count, a duplicate key means another
                // attribute is missing (go-cty would silently build a value of the wrong type).
                Value::Object(obj)
            }
        })
    }

    fn elements(
        &mut self,
        et: &Type,
        depth: usize,
        required: impl Fn() -> Fail,
    ) -> Result<Vec<Value>, Fail> {
        let n = self.array_len()?.ok_or_else(required)?;
        // Every element takes at least one byte: never preallocate beyond the input.
        let mut items = Vec::with_capacity(n.min(self.remaining()));
        for i in 0..n {
            items.push(
                self.value(et, depth + 1)
                    .map_err(|e| e.at(Step::Index(i)))?,
            );
        }
        Ok(items)
    }

    /// `[type JSON, value]` (`unmarshal.go` `unmarshalDynamic`).
    fn dynamic(&mut self, depth: usize) -> Result<Value, Fail> {
        let n = self
            .array_len()?
            .ok_or_else(|| Fail::new("a dynamic value must be a [type, value] array"))?;
        if n != 2 {
            return Err(Fail::new(
                "dynamic value array must have exactly two elements",
            ));
        }
        let tj = self
            .str_or_bin()?
            .ok_or_else(|| Fail::new("dynamic value type must be bin holding type JSON"))?;
        let ty = Type::from_json_bytes(tj).map_err(|e| Fail::new(e.to_string()))?;
        let v = self.value(&ty, depth + 1)?;
        Ok(Value::Dynamic(Box::new(ty), Box::new(v)))
    }

    /// An unknown value, with refinements if ext 12 (`unknown.go` `unmarshalUnknownValue`).
    fn unknown(&mut self, ty: &Type) -> Result<Value, Fail> {
        let (code, payload) = self.ext()?;
        if payload.len() <= 1 {
            return Ok(Value::unknown());
        }
        if code != EXT_REFINED {
            return Err(Fail::new(format!(
                "unsupported extension type {code:#04x} with len {}",
                payload.len()
            )));
        }
        if payload.len() > MAX_REFINEMENT_LEN {
            return Err(Fail::new("oversize unknown value refinement"));
        }
        decode_refinements(payload, ty)
    }
}

fn body_err(msg: &str) -> Fail {
    Fail::new(format!("failed to decode msgpack extension body: {msg}"))
}

/// The refinement map of an ext-12 unknown. Canonicalised like go-cty's refinement builder
/// does: an empty prefix, a zero length lower bound and infinite number bounds carry no
/// information and are dropped; `{1: true}` (definitely null) collapses to a known null.
fn decode_refinements(payload: &[u8], ty: &Type) -> Result<Value, Fail> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let n = r.map_len()?.ok_or_else(|| body_err("not a map"))?;
    if matches!(ty, Type::Dynamic) {
        // go-cty ignores all refinements of a dynamic unknown (reserved for future use).
        return Ok(Value::unknown());
    }
    let is_collection = matches!(ty, Type::List(_) | Type::Set(_) | Type::Map(_));
    let mut rf = Refinements::default();
    let mut null = false;
    for _ in 0..n {
        let Some(key) = r.int()? else {
            return Err(body_err("non-integer key in map"));
        };
        match key {
            REF_NULLNESS => match r.bool()? {
                Some(true) => null = true,
                Some(false) => rf.not_null = true,
                None => return Err(body_err("null refinement is not boolean")),
            },
            REF_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(body_err("string prefix refinement for non-string type"));
                }
                let b = r
                    .str_or_bin()?
                    .ok_or_else(|| body_err("string prefix refinement is not string"))?;
                let s = std::str::from_utf8(b)
                    .map_err(|_| body_err("string prefix refinement is not valid UTF-8"))?;
                rf.string_prefix = (!s.is_empty()).then(|| s.to_owned());
            }
            REF_NUMBER_MIN | REF_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(body_err("numeric bound refinement for non-number type"));
                }
                let bad = || body_err("number bound refinement must be [number, bool] array");
                if r.array_len()? != Some(2) {
                    return Err(bad());
                }
                let num = r.number().map_err(|_| bad())?;
                let inclusive = r.bool()?.ok_or_else(bad)?;
                if key == REF_NUMBER_MIN {
                    let infinite = num == Number::Float(f64::NEG_INFINITY);
                    rf.number_lower = (!infinite).then_some((num, inclusive));
                } else {
                    let infinite = num == Number::Float(f64::INFINITY);
                    rf.number_upper = (!infinite).then_some((num, inclusive));
                }
            }
            REF_LENGTH_MIN | REF_LENGTH_MAX => {
                if !is_collection {
                    return Err(body_err("length bound refinement for non-collection type"));
                }
                let bound = r
                    .int()?
                    .and_then(|i| u64::try_from(i).ok())
                    .ok_or_else(|| {
                        body_err("length bound refinement must be a non-negative integer")
                    })?;
                if key == REF_LENGTH_MIN {
                    rf.length_lower = (bound != 0).then_some(bound);
                } else {
                    rf.length_upper = Some(bound);
                }
            }
            // Unknown keys are reserved for future refinements: skip their values.
            _ => r.skip(0)?,
        }
    }
    // Trailing bytes after the map are deliberately ignored (`unknown.go`).
    if null {
        return Ok(Value::Null);
    }
    Ok(Value::Unknown(rf))
}

// ---------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------

fn write_uint(out: &mut Vec<u8>, u: u64) {
    if u <= 0x7f {
        out.push(u as u8);
    } else if let Ok(u) = u8::try_from(u) {
        out.extend_from_slice(&[0xcc, u]);
    } else if let Ok(u) = u16::try_from(u) {
        out.push(0xcd);
        out.extend_from_slice(&u.to_be_bytes());
    } else if let Ok(u) = u32::try_from(u) {
        out.push(0xce);
        out.extend_from_slice(&u.to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

fn write_int(out: &mut Vec<u8>, i: i64) {
    if let Ok(u) = u64::try_from(i) {
        write_uint(out, u);
    } else if i >= -32 {
        out.push(i as i8 as u8);
    } else if let Ok(i) = i8::try_from(i) {
        out.extend_from_slice(&[0xd0, i as u8]);
    } else if let Ok(i) = i16::try_from(i) {
        out.push(0xd1);
        out.extend_from_slice(&i.to_be_bytes());
    } else if let Ok(i) = i32::try_from(i) {
        out.push(0xd2);
        out.extend_from_slice(&i.to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn len32(n: usize) -> Result<u32, Fail> {
    u32::try_from(n).map_err(|_| Fail::new("too long for msgpack (more than 2^32-1 items)"))
}

/// Writes a str/bin/array/map header: `fix` is the fix-marker base (`None` for bin) with
/// its capacity, then the 8/16/32-bit markers.
fn write_len(
    out: &mut Vec<u8>,
    n: usize,
    fix: Option<(u8, usize)>,
    m8: Option<u8>,
    m16: u8,
    m32: u8,
) -> Result<(), Fail> {
    let n = len32(n)?;
    match fix {
        Some((base, cap)) if (n as usize) < cap => out.push(base | n as u8),
        _ => match (m8, u8::try_from(n), u16::try_from(n)) {
            (Some(m8), Ok(n8), _) => out.extend_from_slice(&[m8, n8]),
            (_, _, Ok(n16)) => {
                out.push(m16);
                out.extend_from_slice(&n16.to_be_bytes());
            }
            _ => {
                out.push(m32);
                out.extend_from_slice(&n.to_be_bytes());
            }
        },
    }
    Ok(())
}

fn write_str(out: &mut Vec<u8>, s: &str) -> Result<(), Fail> {
    write_len(out, s.len(), Some((0xa0, 32)), Some(0xd9), 0xda, 0xdb)?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_array_len(out: &mut Vec<u8>, n: usize) -> Result<(), Fail> {
    write_len(out, n, Some((0x90, 16)), None, 0xdc, 0xdd)
}

fn write_map_len(out: &mut Vec<u8>, n: usize) -> Result<(), Fail> {
    write_len(out, n, Some((0x80, 16)), None, 0xde, 0xdf)
}

fn write_f64(out: &mut Vec<u8>, f: f64) {
    out.push(0xcb);
    out.extend_from_slice(&f.to_bits().to_be_bytes());
}

/// A number as `marshal.go` writes it: int if exactly int64, float64 if exactly float64
/// (±Inf included), else the decimal string.
fn write_number(out: &mut Vec<u8>, n: &Number) -> Result<(), Fail> {
    let canonical;
    let n = match n {
        Number::Int(_) => n,
        Number::Float(f) => {
            canonical = Number::from_f64(*f).ok_or_else(|| Fail::new("NaN is not a number"))?;
            &canonical
        }
        Number::Big(s) => {
            canonical = Number::parse_decimal(s)
                .ok_or_else(|| Fail::new(format!("{s:?} is not a number")))?;
            &canonical
        }
    };
    match n {
        Number::Int(i) => write_int(out, *i),
        Number::Float(f) => write_f64(out, *f),
        Number::Big(s) => write_str(out, s)?,
    }
    Ok(())
}

/// `[bin(type JSON), ...]` header of a dynamic value (`dynamic.go`). The JSON is written in
/// place behind a bin8 header, which is widened afterwards in the rare case it is too long.
fn write_dynamic_header(out: &mut Vec<u8>, ty: &Type) -> Result<(), Fail> {
    out.push(0x92);
    let header = out.len();
    out.extend_from_slice(&[0xc4, 0]);
    ty.write_json(out);
    let n = out.len() - header - 2;
    if let Ok(n8) = u8::try_from(n) {
        out[header + 1] = n8;
    } else if let Ok(n16) = u16::try_from(n) {
        let [a, b] = n16.to_be_bytes();
        out.splice(header..header + 2, [0xc5, a, b]);
    } else {
        let [a, b, c, d] = len32(n)?.to_be_bytes();
        out.splice(header..header + 2, [0xc6, a, b, c, d]);
    }
    Ok(())
}

/// An unknown value (`unknown.go` `marshalUnknownValue`). Only refinements meaningful for
/// `ty` are written (go-cty derives them from the value's range, which only has the ones its
/// type allows); a dynamic unknown never carries refinements.
fn write_unknown(out: &mut Vec<u8>, rf: &Refinements, ty: &Type) -> Result<(), Fail> {
    let mut body = Vec::new();
    let mut entries = 0;
    if !matches!(ty, Type::Dynamic) && rf.not_null {
        entries += 1;
        write_int(&mut body, REF_NULLNESS as i64);
        body.push(FALSE);
    }
    match ty {
        Type::String => {
            if let Some(prefix) = rf.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                let mut end = prefix.len().min(MAX_PREFIX_LEN);
                while !prefix.is_char_boundary(end) {
                    end -= 1;
                }
                if end > 0 {
                    entries += 1;
                    write_int(&mut body, REF_STRING_PREFIX as i64);
                    write_str(&mut body, &prefix[..end])?;
                }
            }
        }
        Type::Number => {
            let bounds = [
                (REF_NUMBER_MIN, &rf.number_lower, f64::NEG_INFINITY),
                (REF_NUMBER_MAX, &rf.number_upper, f64::INFINITY),
            ];
            for (key, bound, unbounded) in bounds {
                if let Some((n, inclusive)) = bound
                    && *n != Number::Float(unbounded)
                {
                    entries += 1;
                    write_int(&mut body, key as i64);
                    body.push(0x92);
                    write_number(&mut body, n)?;
                    body.push(if *inclusive { TRUE } else { FALSE });
                }
            }
        }
        Type::List(_) | Type::Set(_) | Type::Map(_) => {
            if let Some(lower) = rf.length_lower.filter(|l| *l != 0) {
                entries += 1;
                write_int(&mut body, REF_LENGTH_MIN as i64);
                write_uint(&mut body, lower);
            }
            if let Some(upper) = rf.length_upper {
                entries += 1;
                write_int(&mut body, REF_LENGTH_MAX as i64);
                write_uint(&mut body, upper);
            }
        }
        _ => {}
    }
    if entries == 0 {
        out.extend_from_slice(&[0xd4, 0, 0]);
        return Ok(());
    }
    let mut map_header = Vec::with_capacity(1);
    write_map_len(&mut map_header, entries)?;
    let len = map_header.len() + body.len();
    if len > MAX_REFINEMENT_LEN {
        return Err(Fail::new(format!(
            "unknown value refinements take {len} bytes, more than Terraform accepts ({MAX_REFINEMENT_LEN})"
        )));
    }
    match len {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        // len <= 1024 here.
        _ => match u8::try_from(len) {
            Ok(n) => out.extend_from_slice(&[0xc7, n]),
            Err(_) => {
                out.push(0xc8);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            }
        },
    }
    out.push(EXT_REFINED as u8);
    out.extend_from_slice(&map_header);
    out.extend_from_slice(&body);
    Ok(())
}

fn encode(out: &mut Vec<u8>, v: &Value, ty: &Type, depth: usize) -> Result<(), Fail> {
    if depth > MAX_DEPTH {
        return Err(Fail::new("value nested too deeply"));
    }
    if let Type::Dynamic = ty {
        return match v {
            Value::Null => {
                out.push(NIL);
                Ok(())
            }
            Value::Unknown(_) => {
                out.extend_from_slice(&[0xd4, 0, 0]);
                Ok(())
            }
            Value::Dynamic(t, inner) => {
                write_dynamic_header(out, t)?;
                encode(out, inner, t, depth + 1)
            }
            other => {
                let t = implied_primitive_type(other).ok_or_else(|| {
                    Fail::new(format!(
                        "{} at a dynamic position must be a Value::Dynamic carrying its type",
                        value_desc(other)
                    ))
                })?;
                write_dynamic_header(out, &t)?;
                encode(out, other, &t, depth + 1)
            }
        };
    }
    match (v, ty) {
        (Value::Null, _) => out.push(NIL),
        (Value::Unknown(rf), _) => write_unknown(out, rf, ty)?,
        // A wrapped value at a position of its own (static) type: the wrapper is redundant.
        (Value::Dynamic(t, inner), _) if **t == *ty => encode(out, inner, ty, depth)?,
        (Value::Bool(b), Type::Bool) => out.push(if *b { TRUE } else { FALSE }),
        (Value::Number(n), Type::Number) => write_number(out, n)?,
        (Value::String(s), Type::String) => write_str(out, s)?,
        (Value::List(items), Type::List(et)) | (Value::Set(items), Type::Set(et)) => {
            write_array_len(out, items.len())?;
            for (i, item) in items.iter().enumerate() {
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Index(i)))?;
            }
        }
        (Value::Tuple(items), Type::Tuple(ets)) => {
            if items.len() != ets.len() {
                return Err(Fail::new(format!(
                    "a tuple of length {} is required ({} given)",
                    ets.len(),
                    items.len()
                )));
            }
            write_array_len(out, items.len())?;
            for (i, (item, et)) in items.iter().zip(ets).enumerate() {
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Index(i)))?;
            }
        }
        (Value::Map(map), Type::Map(et)) => {
            write_map_len(out, map.len())?;
            for (k, item) in map {
                write_str(out, k)?;
                encode(out, item, et, depth + 1).map_err(|e| e.at(Step::Key(k.clone())))?;
            }
        }
        (Value::Object(obj), Type::Object { attrs, .. }) => {
            if obj.len() != attrs.len()
                && let Some(extra) = obj.keys().find(|k| !attrs.contains_key(*k))
            {
                return Err(Fail::new("unsupported attribute").at(Step::Attr(extra.clone())));
            }
            write_map_len(out, attrs.len())?;
            for (name, aty) in attrs {
                let step = || Step::Attr(name.clone());
                let item = obj
                    .get(name)
                    .ok_or_else(|| Fail::new("missing attribute").at(step()))?;
                write_str(out, name)?;
                encode(out, item, aty, depth + 1).map_err(|e| e.at(step()))?;
            }
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
