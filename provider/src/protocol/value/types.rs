//! cty type JSON, canonical numbers, and the error-path plumbing shared by the msgpack and
//! JSON codecs.
//!
//! Type JSON follows go-cty `cty/json.go` (`Type.MarshalJSON` / `Type.UnmarshalJSON`):
//! primitives are strings, everything else a `[kind, argument]` array; an object type may
//! carry a third element listing its optional attributes (sorted).
//!
//! Numbers are kept in the *canonical* form of [`Number`]: the representation go-cty
//! `cty/msgpack/marshal.go` would pick when writing the value — `Int` when the value is an
//! exact int64, otherwise `Float` when it is exactly a float64 (including ±Inf and integral
//! values beyond int64, e.g. 2^63), otherwise `Big` with the decimal text. Every decoder
//! produces canonical numbers, so the same number reads back as the same [`Number`] whatever
//! wire form (int, uint, float, decimal string, JSON text) carried it.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use super::{CodecError, Number, Type, Value};

/// Deepest nesting of containers / dynamic wrappers a decoder or encoder follows. Terraform
/// schemas nest a handful of levels; the limit exists so hostile input cannot overflow the
/// stack (a dynamic value's type comes from the wire, so types alone do not bound depth).
pub(super) const MAX_DEPTH: usize = 128;

// ---------------------------------------------------------------------------------------
// Type JSON
// ---------------------------------------------------------------------------------------

impl Type {
    /// cty type JSON as a `serde_json::Value` (object attributes sorted, like Go's
    /// `json.Marshal` of a map).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::Bool => J::String("bool".into()),
            Type::Number => J::String("number".into()),
            Type::String => J::String("string".into()),
            Type::Dynamic => J::String("dynamic".into()),
            Type::List(t) => J::Array(vec![J::String("list".into()), t.to_json()]),
            Type::Set(t) => J::Array(vec![J::String("set".into()), t.to_json()]),
            Type::Map(t) => J::Array(vec![J::String("map".into()), t.to_json()]),
            Type::Object { attrs, optional } => {
                let attrs: serde_json::Map<String, J> = attrs
                    .iter()
                    .map(|(k, t)| (k.clone(), t.to_json()))
                    .collect();
                let mut a = vec![J::String("object".into()), J::Object(attrs)];
                if !optional.is_empty() {
                    a.push(J::Array(optional.iter().cloned().map(J::String).collect()));
                }
                J::Array(a)
            }
            Type::Tuple(ts) => J::Array(vec![
                J::String("tuple".into()),
                J::Array(ts.iter().map(Type::to_json).collect()),
            ]),
        }
    }

    /// Compact cty type JSON bytes, e.g. `["object",{"a":"number"}]` (what Terraform puts in
    /// `Schema.Attribute.type` and in the first element of a msgpack dynamic value).
    pub fn to_json_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16);
        self.write_json(&mut out);
        out
    }

    /// Appends the compact type JSON to `out`.
    pub(super) fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Type::Bool => out.extend_from_slice(b"\"bool\""),
            Type::Number => out.extend_from_slice(b"\"number\""),
            Type::String => out.extend_from_slice(b"\"string\""),
            Type::Dynamic => out.extend_from_slice(b"\"dynamic\""),
            Type::List(t) => {
                out.extend_from_slice(b"[\"list\",");
                t.write_json(out);
                out.push(b']');
            }
            Type::Set(t) => {
                out.extend_from_slice(b"[\"set\",");
                t.write_json(out);
                out.push(b']');
            }
            Type::Map(t) => {
                out.extend_from_slice(b"[\"map\",");
                t.write_json(out);
                out.push(b']');
            }
            Type::Object { attrs, optional } => {
                out.extend_from_slice(b"[\"object\",{");
                for (i, (k, t)) in attrs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json_str(out, k);
                    out.push(b':');
                    t.write_json(out);
                }
                out.push(b'}');
                if !optional.is_empty() {
                    out.extend_from_slice(b",[");
                    for (i, k) in optional.iter().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        write_json_str(out, k);
                    }
                    out.push(b']');
                }
                out.push(b']');
            }
            Type::Tuple(ts) => {
                out.extend_from_slice(b"[\"tuple\",[");
                for (i, t) in ts.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    t.write_json(out);
                }
                out.extend_from_slice(b"]]");
            }
        }
    }

    /// Parses cty type JSON. Strict like `Type.UnmarshalJSON`: unknown kinds and extra array
    /// elements are errors. Optional attribute names must name attributes of the object.
    pub fn from_json(v: &serde_json::Value) -> Result<Type, CodecError> {
        type_from_json(v, 0)
    }

    /// Parses cty type JSON from bytes (e.g. `Schema.Attribute.type`).
    pub fn from_json_bytes(b: &[u8]) -> Result<Type, CodecError> {
        let v: serde_json::Value =
            serde_json::from_slice(b).map_err(|e| CodecError::Type(e.to_string()))?;
        type_from_json(&v, 0)
    }
}

fn type_from_json(v: &serde_json::Value, depth: usize) -> Result<Type, CodecError> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(CodecError::Type("type nested too deeply".into()));
    }
    let elem = |v: &J| type_from_json(v, depth + 1).map(Box::new);
    match v {
        J::String(s) => match s.as_str() {
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "dynamic" => Ok(Type::Dynamic),
            other => Err(CodecError::Type(format!(
                "invalid primitive type name {other:?}"
            ))),
        },
        J::Array(items) => {
            let Some((J::String(kind), args)) = items.split_first() else {
                return Err(CodecError::Type("invalid complex type kind name".into()));
            };
            match (kind.as_str(), args) {
                ("list", [t]) => Ok(Type::List(elem(t)?)),
                ("set", [t]) => Ok(Type::Set(elem(t)?)),
                ("map", [t]) => Ok(Type::Map(elem(t)?)),
                ("tuple", [J::Array(ts)]) => Ok(Type::Tuple(
                    ts.iter()
                        .map(|t| type_from_json(t, depth + 1))
                        .collect::<Result<_, _>>()?,
                )),
                ("object", [J::Object(m)]) | ("object", [J::Object(m), _]) => {
                    let attrs = m
                        .iter()
                        .map(|(k, t)| Ok((k.clone(), type_from_json(t, depth + 1)?)))
                        .collect::<Result<BTreeMap<_, _>, CodecError>>()?;
                    let mut optional = BTreeSet::new();
                    if let [_, opt] = args {
                        let J::Array(names) = opt else {
                            return Err(CodecError::Type(
                                "optional attributes of an object type must be an array of names"
                                    .into(),
                            ));
                        };
                        for name in names {
                            let J::String(name) = name else {
                                return Err(CodecError::Type(
                                    "optional attribute names must be strings".into(),
                                ));
                            };
                            if !attrs.contains_key(name) {
                                return Err(CodecError::Type(format!(
                                    "optional attribute {name:?} is not an attribute of the object"
                                )));
                            }
                            optional.insert(name.clone());
                        }
                    }
                    Ok(Type::Object { attrs, optional })
                }
                ("list" | "set" | "map" | "tuple" | "object", _) => Err(CodecError::Type(format!(
                    "invalid {kind} type description (wrong argument count or shape)"
                ))),
                (other, _) => Err(CodecError::Type(format!(
                    "invalid complex type kind name {other:?}"
                ))),
            }
        }
        _ => Err(CodecError::Type("invalid type description".into())),
    }
}

/// Writes `s` as a JSON string literal. Escapes `"`, `\` and control characters only (Go's
/// encoder also escapes `<>&` and U+2028/9; both forms decode to the same string).
pub(super) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => &[],
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

// ---------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------

impl Number {
    /// The canonical number for an f64: `Int` when integral and within int64 (so `-0.0` is
    /// `Int(0)`), otherwise `Float` (±Inf included). `None` for NaN, which cty rejects
    /// (`cty.NumberFloatVal` panics on NaN).
    pub fn from_f64(f: f64) -> Option<Number> {
        if f.is_nan() {
            return None;
        }
        // 2^63 is exactly representable; the range check excludes it.
        if f.fract() == 0.0
            && (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&f)
        {
            return Some(Number::Int(f as i64));
        }
        Some(Number::Float(f))
    }

    /// The canonical number for a u64 (msgpack uint64 beyond int64): `Float` when exactly
    /// representable (e.g. 2^63, as cty's marshal would re-encode it), otherwise `Big`.
    pub fn from_u64(u: u64) -> Number {
        if let Ok(i) = i64::try_from(u) {
            return Number::Int(i);
        }
        if (u >> u.trailing_zeros()) < (1u64 << 53) {
            Number::Float(u as f64)
        } else {
            Number::Big(u.to_string())
        }
    }

    /// Parses decimal text the way `cty.ParseNumberVal` (Go `big.ParseFloat`, base 10) reads
    /// it: optional sign, digits with an optional fraction, optional exponent, or `Inf`.
    /// Returns the canonical number, `None` if `s` is not a number. A `Big` result holds the
    /// canonical spelling (JSON number syntax, no redundant zeros, exponent only for large or
    /// tiny magnitudes: `007.30` → `7.3`, `1E400` → `1e400`), so equal numbers compare equal.
    pub fn parse_decimal(s: &str) -> Option<Number> {
        // Fast path: plain small integers (the common case on every RPC).
        let b = s.as_bytes();
        let digits = b.strip_prefix(b"-").unwrap_or(b);
        if !digits.is_empty() && digits.len() <= 18 && digits.iter().all(u8::is_ascii_digit) {
            return s.parse::<i64>().ok().map(Number::Int);
        }
        let d = Decimal::parse(s)?;
        Some(d.canonical().unwrap_or_else(|| {
            let mut text = Vec::with_capacity(s.len());
            write_decimal(&mut text, d.neg, &d.digits, d.exp);
            Number::Big(String::from_utf8_lossy(&text).into_owned())
        }))
    }

    /// The canonical form of this number (`None` for NaN or a `Big` that is not a number).
    pub fn canonical(&self) -> Option<Number> {
        match self {
            Number::Int(i) => Some(Number::Int(*i)),
            Number::Float(f) => Number::from_f64(*f),
            Number::Big(s) => Number::parse_decimal(s),
        }
    }

    /// Exact decimal text of the number (a float prints every digit of its binary value,
    /// e.g. `0.1f64` → `0.1000000000000000055511151231257827021181583404541015625`; large or
    /// tiny magnitudes use an exponent). Infinities print as `+Inf` / `-Inf` (Go's spelling).
    pub fn to_decimal_string(&self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Big(s) => s.clone(),
            Number::Float(f) if f.is_nan() => "NaN".into(),
            Number::Float(f) if f.is_infinite() => {
                if *f > 0.0 {
                    "+Inf".into()
                } else {
                    "-Inf".into()
                }
            }
            Number::Float(f) => {
                let mut out = Vec::new();
                write_f64_exact(&mut out, *f);
                String::from_utf8(out).unwrap_or_default()
            }
        }
    }
}

/// Largest decimal magnitude (digits before the point) accepted, see [`Decimal::parse`].
const MAX_DECIMAL_EXP: i64 = 600_000_000;

/// A parsed decimal: value = (-1)^neg × digits × 10^exp, `digits` without leading or trailing
/// zeros (empty for zero).
pub(super) struct Decimal<'a> {
    neg: bool,
    inf: bool,
    digits: Cow<'a, [u8]>,
    exp: i64,
}

impl<'a> Decimal<'a> {
    pub(super) fn parse(s: &'a str) -> Option<Decimal<'a>> {
        let b = s.as_bytes();
        let (neg, rest) = match b.first() {
            Some(b'-') => (true, &b[1..]),
            Some(b'+') => (false, &b[1..]),
            _ => (false, b),
        };
        if rest == b"Inf" || rest == b"inf" {
            return Some(Decimal {
                neg,
                inf: true,
                digits: Cow::Borrowed(&[]),
                exp: 0,
            });
        }
        let int_len = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (int_part, mut rest) = rest.split_at(int_len);
        let mut frac_part: &[u8] = &[];
        if let Some(r) = rest.strip_prefix(b".") {
            let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
            (frac_part, rest) = r.split_at(n);
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return None;
        }
        let mut exp: i64 = 0;
        if let Some(r) = rest.strip_prefix(b"e").or_else(|| rest.strip_prefix(b"E")) {
            let (eneg, r) = match r.first() {
                Some(b'-') => (true, &r[1..]),
                Some(b'+') => (false, &r[1..]),
                _ => (false, r),
            };
            if r.is_empty() || !r.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // Saturating; out-of-range exponents are rejected below.
            for &c in r {
                exp = (exp * 10 + i64::from(c - b'0')).min(1 << 40);
            }
            if eneg {
                exp = -exp;
            }
            rest = &[];
        }
        if !rest.is_empty() {
            return None;
        }
        // frac_part.len() <= s.len(), so no overflow.
        exp -= frac_part.len() as i64;
        let digits: Cow<'a, [u8]> = if frac_part.is_empty() {
            Cow::Borrowed(int_part)
        } else if int_part.iter().all(|&c| c == b'0') {
            Cow::Borrowed(frac_part)
        } else {
            Cow::Owned([int_part, frac_part].concat())
        };
        let lead = digits.iter().take_while(|&&c| c == b'0').count();
        let trail = digits[lead..]
            .iter()
            .rev()
            .take_while(|&&c| c == b'0')
            .count();
        let end = digits.len() - trail;
        let digits = match digits {
            Cow::Borrowed(d) => Cow::Borrowed(&d[lead..end]),
            Cow::Owned(d) => Cow::Owned(d[lead..end].to_vec()),
        };
        let exp = if digits.is_empty() {
            0
        } else {
            exp + trail as i64
        };
        // Go's big.Float has a 32-bit binary exponent: `big.ParseFloat` (hence Terraform)
        // rejects magnitudes beyond about 10^±646456993.
        if (digits.len() as i64 + exp).abs() > MAX_DECIMAL_EXP {
            return None;
        }
        Some(Decimal {
            neg,
            inf: false,
            digits,
            exp,
        })
    }

    /// `Int` / `Float` when the value is exactly one of those; `None` means `Big`.
    fn canonical(&self) -> Option<Number> {
        if self.inf {
            return Some(Number::Float(if self.neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            }));
        }
        if self.digits.is_empty() {
            return Some(Number::Int(0));
        }
        let len = self.digits.len() as i64;
        if self.exp >= 0 && len + self.exp <= 19 {
            let mut v: i128 = 0;
            for &c in self.digits.iter() {
                v = v * 10 + i128::from(c - b'0');
            }
            for _ in 0..self.exp {
                v *= 10;
            }
            if self.neg {
                v = -v;
            }
            if let Ok(i) = i64::try_from(v) {
                return Some(Number::Int(i));
            }
        }
        // Exactly a float64? Every finite f64 has at most 767 significant decimal digits and
        // lies within 10^-1074 .. 10^309; outside that it cannot be exact.
        if len > 800 || self.exp < -1100 || len + self.exp > 310 {
            return None;
        }
        let text = format!("{}e{}", std::str::from_utf8(&self.digits).ok()?, self.exp);
        let f: f64 = text.parse().ok()?;
        if !f.is_finite() || f == 0.0 {
            return None;
        }
        let (d2, e2) = exact_decimal(f);
        if d2.as_slice() == &*self.digits && e2 == self.exp {
            Some(Number::Float(if self.neg { -f } else { f }))
        } else {
            None
        }
    }

    /// Writes the number as JSON number text. `None` for infinities (not representable).
    pub(super) fn write_json(&self, out: &mut Vec<u8>) -> Option<()> {
        if self.inf {
            return None;
        }
        write_decimal(out, self.neg, &self.digits, self.exp);
        Some(())
    }
}

/// True if `s` is already in JSON number syntax (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`).
pub(super) fn is_json_number(s: &str) -> bool {
    json_number_len(s.as_bytes()) == Some(s.len())
}

/// Length of the JSON number at the start of `b`, if `b` starts with one.
pub(super) fn json_number_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    let digits = |i: &mut usize| {
        let s = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - s
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return None;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return None;
        }
    }
    Some(i)
}

/// Writes the exact value of a finite f64 as JSON number text.
pub(super) fn write_f64_exact(out: &mut Vec<u8>, f: f64) {
    if f == 0.0 {
        out.push(b'0');
        return;
    }
    let (digits, exp) = exact_decimal(f.abs());
    write_decimal(out, f < 0.0, &digits, exp);
}

/// Writes digits × 10^exp as JSON number text: plain notation for moderate exponents,
/// scientific (`d.ddde±x`) otherwise, so huge exponents never expand into huge output.
fn write_decimal(out: &mut Vec<u8>, neg: bool, digits: &[u8], exp: i64) {
    if digits.is_empty() {
        out.push(b'0');
        return;
    }
    if neg {
        out.push(b'-');
    }
    let len = digits.len() as i64;
    let point = len + exp; // digits before the decimal point
    if (0..=21).contains(&exp) {
        out.extend_from_slice(digits);
        out.resize(out.len() + exp as usize, b'0');
    } else if exp < 0 && point > 0 {
        let (int, frac) = digits.split_at(point as usize);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    } else if exp < 0 && point > -21 {
        out.extend_from_slice(b"0.");
        out.resize(out.len() + (-point) as usize, b'0');
        out.extend_from_slice(digits);
    } else {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.extend_from_slice((point - 1).to_string().as_bytes());
    }
}

/// Exact decimal expansion of a positive finite non-zero f64: (digits, exp) with
/// value = digits × 10^exp and no leading/trailing zeros in `digits`.
fn exact_decimal(f: f64) -> (Vec<u8>, i64) {
    let bits = f.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i64;
    let frac = bits & ((1u64 << 52) - 1);
    let (mut mant, mut e2) = if biased == 0 {
        (frac, -1074)
    } else {
        (frac | (1u64 << 52), biased - 1075)
    };
    if mant == 0 {
        return (Vec::new(), 0);
    }
    let tz = mant.trailing_zeros();
    mant >>= tz;
    e2 += i64::from(tz);
    // value = mant × 2^e2 = mant × 5^-e2 × 10^e2 for e2 < 0.
    let mut big = BigDec::from_u64(mant);
    let mut exp = 0;
    if e2 >= 0 {
        big.mul_pow(2, 29, e2 as u32);
    } else {
        big.mul_pow(5, 13, (-e2) as u32);
        exp = e2;
    }
    let mut digits = big.digits();
    while digits.last() == Some(&b'0') {
        digits.pop();
        exp += 1;
    }
    (digits, exp)
}

/// Minimal base-10^9 big unsigned integer (little-endian limbs), only what
/// [`exact_decimal`] needs.
struct BigDec(Vec<u32>);

impl BigDec {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut v: u64) -> BigDec {
        let mut limbs = Vec::with_capacity(90);
        while v > 0 {
            limbs.push((v % Self::BASE) as u32);
            v /= Self::BASE;
        }
        BigDec(limbs)
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry: u64 = 0;
        for limb in &mut self.0 {
            let p = u64::from(*limb) * u64::from(m) + carry;
            *limb = (p % Self::BASE) as u32;
            carry = p / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    /// Multiplies by base^n, `chunk` powers at a time (base^chunk must fit in a u32).
    fn mul_pow(&mut self, base: u32, chunk: u32, mut n: u32) {
        while n > 0 {
            let k = n.min(chunk);
            self.mul_small(base.pow(k));
            n -= k;
        }
    }

    fn digits(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.0.len() * 9);
        if let Some((top, rest)) = self.0.split_last() {
            out.extend_from_slice(top.to_string().as_bytes());
            for limb in rest.iter().rev() {
                out.extend_from_slice(format!("{limb:09}").as_bytes());
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------
// Error paths
// ---------------------------------------------------------------------------------------

/// One step of an error path.
pub(super) enum Step {
    /// Object attribute: `.name`.
    Attr(String),
    /// Map key: `["key"]`.
    Key(String),
    /// List / set / tuple index: `[3]`.
    Index(usize),
}

/// An error under construction: the path is collected while the error unwinds (innermost
/// step first), so the happy path never builds paths.
pub(super) struct Fail {
    rev_steps: Vec<Step>,
    msg: String,
}

impl Fail {
    pub(super) fn new(msg: impl Into<String>) -> Fail {
        Fail {
            rev_steps: Vec::new(),
            msg: msg.into(),
        }
    }

    pub(super) fn at(mut self, step: Step) -> Fail {
        self.rev_steps.push(step);
        self
    }

    pub(super) fn into_codec(self) -> CodecError {
        let mut path = Vec::new();
        for step in self.rev_steps.iter().rev() {
            match step {
                Step::Attr(name) => {
                    path.push(b'.');
                    path.extend_from_slice(name.as_bytes());
                }
                Step::Key(key) => {
                    path.push(b'[');
                    write_json_str(&mut path, key);
                    path.push(b']');
                }
                Step::Index(i) => {
                    path.push(b'[');
                    path.extend_from_slice(i.to_string().as_bytes());
                    path.push(b']');
                }
            }
        }
        CodecError::at(&String::from_utf8_lossy(&path), self.msg)
    }
}

/// "a list", "bool", ... for error messages (cty's wording: "a list is required").
pub(super) fn type_desc(ty: &Type) -> &'static str {
    match ty {
        Type::Bool => "bool",
        Type::Number => "number",
        Type::String => "string",
        Type::Dynamic => "a dynamic value",
        Type::List(_) => "a list",
        Type::Set(_) => "a set",
        Type::Map(_) => "a map",
        Type::Object { .. } => "an object",
        Type::Tuple(_) => "a tuple",
    }
}

/// What kind of [`Value`] was found, for encode error messages.
pub(super) fn value_desc(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Unknown(_) => "an unknown value",
        Value::Bool(_) => "a bool",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Tuple(_) => "a tuple",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
        Value::Dynamic(..) => "a dynamic value",
    }
}

/// The type of a primitive value, for a known value placed at a dynamic position without a
/// [`Value::Dynamic`] wrapper (anything else must carry its type).
pub(super) fn implied_primitive_type(v: &Value) -> Option<Type> {
    match v {
        Value::Bool(_) => Some(Type::Bool),
        Value::Number(_) => Some(Type::Number),
        Value::String(_) => Some(Type::String),
        _ => None,
    }
}
