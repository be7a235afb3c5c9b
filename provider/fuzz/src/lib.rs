//! Helpers shared by the fuzz targets: derive a cty [`Type`] from the first input bytes, so
//! one input drives both the schema and the encoded value.

use std::collections::{BTreeMap, BTreeSet};

use defender::protocol::value::{Type, Value, decode_msgpack, encode_json, encode_msgpack};

/// Nesting of the derived type (values nest further through dynamic positions).
const MAX_TYPE_DEPTH: u32 = 4;

/// Splits `data` into a type (read from its leading bytes) and the remaining bytes.
pub fn split_type(data: &[u8]) -> (Type, &[u8]) {
    let mut rest = data;
    let ty = next_type(&mut rest, 0);
    (ty, rest)
}

fn leaf(b: u8) -> Type {
    match b % 4 {
        0 => Type::Bool,
        1 => Type::Number,
        2 => Type::String,
        _ => Type::Dynamic,
    }
}

fn next_type(rest: &mut &[u8], depth: u32) -> Type {
    let Some((&b, tail)) = rest.split_first() else {
        return Type::String;
    };
    *rest = tail;
    if depth >= MAX_TYPE_DEPTH {
        return leaf(b);
    }
    let count = usize::from(b / 9 % 4);
    match b % 9 {
        0..=3 => leaf(b),
        4 => Type::List(Box::new(next_type(rest, depth + 1))),
        5 => Type::Set(Box::new(next_type(rest, depth + 1))),
        6 => Type::Map(Box::new(next_type(rest, depth + 1))),
        7 => {
            let attrs: BTreeMap<String, Type> = (0..count)
                .map(|i| {
                    (
                        ["a", "b", "c", "d"][i].to_owned(),
                        next_type(rest, depth + 1),
                    )
                })
                .collect();
            Type::Object {
                attrs,
                optional: BTreeSet::new(),
            }
        }
        _ => Type::Tuple((0..count).map(|_| next_type(rest, depth + 1)).collect()),
    }
}

/// Whatever a decoder accepted must be a valid value of the type: it re-encodes as msgpack
/// and decodes to itself, and (when wholly known and finite) the same through JSON.
pub fn check_decoded(v: &Value, ty: &Type) {
    let enc = match encode_msgpack(v, ty) {
        Ok(enc) => enc,
        Err(e) => panic!("decoded value does not re-encode: {e}: {v:?}"),
    };
    match decode_msgpack(&enc, ty) {
        Ok(back) => assert_eq!(&back, v, "msgpack round trip changed the value"),
        Err(e) => panic!("re-encoded value does not decode: {e}: {v:?}"),
    }
    if let Ok(json) = encode_json(v, ty) {
        match defender::protocol::value::decode_json(&json, ty) {
            Ok(back) => assert_eq!(&back, v, "JSON round trip changed the value"),
            Err(e) => panic!("JSON-encoded value does not decode: {e}: {v:?}"),
        }
    }
}
