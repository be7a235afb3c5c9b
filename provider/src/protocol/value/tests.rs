//! Codec tests: byte-exact vectors (go-cty / Terraform wire forms) and property tests.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::*;

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

fn obj(entries: &[(&str, Value)]) -> Value {
    Value::Object(
        entries
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

fn obj_ty(entries: &[(&str, Type)]) -> Type {
    Type::object(entries.iter().map(|(k, t)| ((*k).to_owned(), t.clone())))
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn int(i: i64) -> Value {
    Value::Number(Number::Int(i))
}

fn float(f: f64) -> Value {
    Value::Number(Number::Float(f))
}

fn big(t: &str) -> Value {
    Value::Number(Number::Big(t.to_owned()))
}

/// msgpack fixstr / str8 header + bytes.
fn mp_str(out: &mut Vec<u8>, v: &str) {
    if v.len() < 32 {
        out.push(0xa0 | v.len() as u8);
    } else {
        out.extend_from_slice(&[0xd9, v.len() as u8]);
    }
    out.extend_from_slice(v.as_bytes());
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[track_caller]
fn assert_mp(v: &Value, ty: &Type, bytes: &[u8]) {
    let enc = encode_msgpack(v, ty).expect("encode");
    assert_eq!(hex(&enc), hex(bytes), "encoding of {v:?}");
    assert_eq!(
        &decode_msgpack(bytes, ty).expect("decode"),
        v,
        "decoding of {}",
        hex(bytes)
    );
}

#[track_caller]
fn mp_err(bytes: &[u8], ty: &Type) -> (String, String) {
    match decode_msgpack(bytes, ty) {
        Err(CodecError::Invalid { path, message }) => (path, message),
        other => panic!("expected an error for {}, got {other:?}", hex(bytes)),
    }
}

#[track_caller]
fn json_err(text: &str, ty: &Type) -> (String, String) {
    match decode_json(text.as_bytes(), ty) {
        Err(CodecError::Invalid { path, message }) => (path, message),
        other => panic!("expected an error for {text}, got {other:?}"),
    }
}

fn json(v: &Value, ty: &Type) -> String {
    String::from_utf8(encode_json(v, ty).expect("encode_json")).expect("utf8")
}

// ---------------------------------------------------------------------------------------
// unknowns and refinements
// ---------------------------------------------------------------------------------------

#[test]
fn unknown_is_fixext1_type0() {
    for ty in [
        Type::String,
        Type::Number,
        Type::Bool,
        Type::Dynamic,
        Type::list(Type::String),
        obj_ty(&[("a", Type::String)]),
    ] {
        assert_mp(&Value::unknown(), &ty, &[0xd4, 0x00, 0x00]);
    }
}

#[test]
fn any_short_ext_is_unknown() {
    // ext8 len 0 (what tf-provider writes), fixext1 of any type code, ext8 len 1.
    for bytes in [
        &[0xc7, 0x00, 0x00][..],
        &[0xd4, 0x05, 0xff],
        &[0xc7, 0x01, 0x7f, 0x01],
    ] {
        assert_eq!(
            decode_msgpack(bytes, &Type::String).unwrap(),
            Value::unknown()
        );
        assert_eq!(
            decode_msgpack(bytes, &Type::Dynamic).unwrap(),
            Value::unknown()
        );
    }
    // Longer payloads must be type 12.
    let (_, msg) = mp_err(&[0xd5, 0x00, 0x00, 0x00], &Type::String);
    assert_eq!(msg, "unsupported extension type 0x00 with len 2");
}

#[test]
fn refined_not_null() {
    // Observed from Terraform for `note = "${unknown}-suffix"` (tfplugin6.md 4.2).
    let v = Value::Unknown(Refinements {
        not_null: true,
        ..Default::default()
    });
    assert_mp(&v, &Type::String, &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]);
    assert_mp(
        &v,
        &obj_ty(&[("a", Type::Bool)]),
        &[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2],
    );
}

#[test]
fn refined_string_prefix() {
    let v = Value::Unknown(Refinements {
        not_null: true,
        string_prefix: Some("abc".into()),
        ..Default::default()
    });
    assert_mp(
        &v,
        &Type::String,
        &[0xd7, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa3, b'a', b'b', b'c'],
    );
    // The same payload behind an ext8 header decodes the same.
    let ext8 = [
        0xc7, 0x08, 0x0c, 0x82, 0x01, 0xc2, 0x02, 0xa3, b'a', b'b', b'c',
    ];
    assert_eq!(decode_msgpack(&ext8, &Type::String).unwrap(), v);
    // Payloads of 1/2/4/8/16 bytes use fixext headers, as vmihailenco's EncodeExtHeader does.
    let v = Value::Unknown(Refinements {
        string_prefix: Some("x".into()),
        ..Default::default()
    });
    assert_mp(&v, &Type::String, &[0xd6, 0x0c, 0x81, 0x02, 0xa1, b'x']);
}

#[test]
fn refined_prefix_is_truncated_to_255_bytes_on_a_char_boundary() {
    let long = "é".repeat(200); // 400 bytes
    let v = Value::Unknown(Refinements {
        string_prefix: Some(long),
        ..Default::default()
    });
    let enc = encode_msgpack(&v, &Type::String).unwrap();
    let Value::Unknown(rf) = decode_msgpack(&enc, &Type::String).unwrap() else {
        panic!()
    };
    assert_eq!(rf.string_prefix.unwrap(), "é".repeat(127)); // 254 bytes
}

#[test]
fn refined_number_bounds() {
    let v = Value::Unknown(Refinements {
        number_lower: Some((Number::Int(0), true)),
        number_upper: Some((Number::Float(10.5), false)),
        ..Default::default()
    });
    let mut bytes = vec![
        0xc7, 0x11, 0x0c, 0x82, 0x03, 0x92, 0x00, 0xc3, 0x04, 0x92, 0xcb,
    ];
    bytes.extend_from_slice(&10.5f64.to_bits().to_be_bytes());
    bytes.push(0xc2);
    assert_mp(&v, &Type::Number, &bytes);
    // Infinite bounds carry no information: go-cty does not write them.
    let v = Value::Unknown(Refinements {
        number_lower: Some((Number::Float(f64::NEG_INFINITY), true)),
        number_upper: Some((Number::Float(f64::INFINITY), true)),
        ..Default::default()
    });
    assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), [0xd4, 0, 0]);
}

#[test]
fn refined_length_bounds() {
    let v = Value::Unknown(Refinements {
        length_lower: Some(1),
        length_upper: Some(3),
        ..Default::default()
    });
    for ty in [
        Type::list(Type::String),
        Type::set(Type::Bool),
        Type::map(Type::Number),
    ] {
        assert_mp(&v, &ty, &[0xc7, 0x05, 0x0c, 0x82, 0x05, 0x01, 0x06, 0x03]);
    }
    // A zero lower bound is no refinement (go-cty writes it only when != 0).
    let v = Value::Unknown(Refinements {
        length_lower: Some(0),
        ..Default::default()
    });
    assert_eq!(
        encode_msgpack(&v, &Type::list(Type::String)).unwrap(),
        [0xd4, 0, 0]
    );
}

#[test]
fn refinements_not_meaningful_for_the_type_are_not_written() {
    let v = Value::Unknown(Refinements {
        string_prefix: Some("x".into()),
        length_lower: Some(2),
        ..Default::default()
    });
    assert_eq!(encode_msgpack(&v, &Type::Number).unwrap(), [0xd4, 0, 0]);
    assert_eq!(encode_msgpack(&v, &Type::Bool).unwrap(), [0xd4, 0, 0]);
    // A dynamic unknown never carries refinements.
    let v = Value::Unknown(Refinements {
        not_null: true,
        ..Default::default()
    });
    assert_eq!(encode_msgpack(&v, &Type::Dynamic).unwrap(), [0xd4, 0, 0]);
}

#[test]
fn refinement_decoding_edge_cases() {
    // {1: true}: definitely null collapses to a known null.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3], &Type::String).unwrap(),
        Value::Null
    );
    // Unknown keys are skipped with their values; trailing payload bytes are ignored.
    let bytes = [
        0xc7, 0x08, 0x0c, 0x82, 0x09, 0x92, 0x01, 0x02, 0x01, 0xc2, 0xff,
    ];
    assert_eq!(
        decode_msgpack(&bytes, &Type::String).unwrap(),
        Value::Unknown(Refinements {
            not_null: true,
            ..Default::default()
        })
    );
    // Refinements of a dynamic unknown are ignored.
    assert_eq!(
        decode_msgpack(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2], &Type::Dynamic).unwrap(),
        Value::unknown()
    );
    // Type-inapplicable refinements are errors (as in go-cty).
    let (_, msg) = mp_err(&[0xc7, 0x04, 0x0c, 0x81, 0x02, 0xa1, b'x'], &Type::Number);
    assert!(
        msg.contains("string prefix refinement for non-string type"),
        "{msg}"
    );
    let (_, msg) = mp_err(&[0xc7, 0x03, 0x0c, 0x81, 0x05, 0x01], &Type::String);
    assert!(
        msg.contains("length bound refinement for non-collection type"),
        "{msg}"
    );
    let (_, msg) = mp_err(&[0xc7, 0x03, 0x0c, 0x81, 0x03, 0x01], &Type::Number);
    assert!(msg.contains("[number, bool]"), "{msg}");
    let (_, msg) = mp_err(&[0xc7, 0x02, 0x0c, 0x01, 0x02], &Type::String);
    assert!(msg.contains("not a map"), "{msg}");
    let (_, msg) = mp_err(&[0xc7, 0x03, 0x0c, 0x81, 0xa1, b'x'], &Type::String);
    assert!(msg.contains("non-integer key"), "{msg}");
    // Oversize payload.
    let mut bytes = vec![0xc8, 0x04, 0x01, 0x0c, 0x80];
    bytes.resize(bytes.len() + 1024, 0);
    let (_, msg) = mp_err(&bytes, &Type::String);
    assert_eq!(msg, "oversize unknown value refinement");
}

// ---------------------------------------------------------------------------------------
// dynamic
// ---------------------------------------------------------------------------------------

#[test]
fn dynamic_value_as_terraform_sends_it() {
    let ty_json = br#"["object",{"a":"number","b":["tuple",["string","bool"]]}]"#;
    let mut bytes = vec![0x92, 0xc4, ty_json.len() as u8];
    bytes.extend_from_slice(ty_json);
    bytes.extend_from_slice(&[0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x92, 0xa1, b'x', 0xc3]);
    let inner_ty = obj_ty(&[
        ("a", Type::Number),
        ("b", Type::Tuple(vec![Type::String, Type::Bool])),
    ]);
    let v = Value::Dynamic(
        Box::new(inner_ty.clone()),
        Box::new(obj(&[
            ("a", int(1)),
            ("b", Value::Tuple(vec![s("x"), Value::Bool(true)])),
        ])),
    );
    assert_mp(&v, &Type::Dynamic, &bytes);
    assert_eq!(inner_ty.to_json_bytes(), ty_json);

    // The type may also arrive as str.
    let mut str_form = vec![0x92, 0xd9, ty_json.len() as u8];
    str_form.extend_from_slice(&bytes[3..]);
    assert_eq!(decode_msgpack(&str_form, &Type::Dynamic).unwrap(), v);

    // JSON form (state file / RawState).
    let text = json(&v, &Type::Dynamic);
    assert_eq!(
        text,
        r#"{"value":{"a":1,"b":["x",true]},"type":["object",{"a":"number","b":["tuple",["string","bool"]]}]}"#
    );
    assert_eq!(decode_json(text.as_bytes(), &Type::Dynamic).unwrap(), v);
}

#[test]
fn dynamic_null_and_unknown_are_not_wrapped() {
    assert_mp(&Value::Null, &Type::Dynamic, &[0xc0]);
    assert_mp(&Value::unknown(), &Type::Dynamic, &[0xd4, 0, 0]);
    // A null / unknown of a concrete type is wrapped.
    let v = Value::Dynamic(Box::new(Type::String), Box::new(Value::Null));
    assert_mp(
        &v,
        &Type::Dynamic,
        &[
            0x92, 0xc4, 0x08, b'"', b's', b't', b'r', b'i', b'n', b'g', b'"', 0xc0,
        ],
    );
    let v = Value::Dynamic(
        Box::new(Type::String),
        Box::new(Value::Unknown(Refinements {
            not_null: true,
            ..Default::default()
        })),
    );
    let mut bytes = vec![0x92, 0xc4, 0x08];
    bytes.extend_from_slice(b"\"string\"");
    bytes.extend_from_slice(&[0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2]);
    assert_mp(&v, &Type::Dynamic, &bytes);
}

#[test]
fn dynamic_errors_and_conveniences() {
    let (_, msg) = mp_err(&[0x91, 0xc0], &Type::Dynamic);
    assert_eq!(msg, "dynamic value array must have exactly two elements");
    let (_, msg) = mp_err(&[0x92, 0xc4, 0x03, b'"', b'x', b'"', 0xc0], &Type::Dynamic);
    assert!(msg.contains("invalid primitive type name"), "{msg}");
    // A bare primitive at a dynamic position gets its implied type.
    let enc = encode_msgpack(&s("hi"), &Type::Dynamic).unwrap();
    assert_eq!(
        decode_msgpack(&enc, &Type::Dynamic).unwrap(),
        Value::Dynamic(Box::new(Type::String), Box::new(s("hi")))
    );
    // Anything else must carry its type.
    assert!(encode_msgpack(&Value::List(vec![]), &Type::Dynamic).is_err());
    // A wrapped value at a static position of the same type is unwrapped.
    let wrapped = Value::Dynamic(Box::new(Type::Bool), Box::new(Value::Bool(true)));
    assert_eq!(encode_msgpack(&wrapped, &Type::Bool).unwrap(), [0xc3]);
    assert!(encode_msgpack(&wrapped, &Type::String).is_err());
}

#[test]
fn long_dynamic_type_json_widens_the_bin_header() {
    let attrs: Vec<(String, Type)> = (0..40)
        .map(|i| (format!("attribute_{i:02}"), Type::String))
        .collect();
    let ty = Type::object(attrs.clone());
    let v = Value::Object(
        attrs
            .iter()
            .map(|(k, _)| (k.clone(), Value::Null))
            .collect(),
    );
    let enc = encode_msgpack(
        &Value::Dynamic(Box::new(ty.clone()), Box::new(v.clone())),
        &Type::Dynamic,
    )
    .unwrap();
    let tj = ty.to_json_bytes();
    assert!(tj.len() > 255);
    assert_eq!(
        enc[..4],
        [0x92, 0xc5, (tj.len() >> 8) as u8, tj.len() as u8]
    );
    assert_eq!(&enc[4..4 + tj.len()], tj.as_slice());
    assert_eq!(
        decode_msgpack(&enc, &Type::Dynamic).unwrap(),
        Value::Dynamic(Box::new(ty), Box::new(v))
    );
}

// ---------------------------------------------------------------------------------------
// numbers
// ---------------------------------------------------------------------------------------

#[test]
fn msgpack_number_edge_cases() {
    let n = Type::Number;
    // Compact ints, non-negative as uint (vmihailenco UseCompactInts).
    assert_mp(&int(0), &n, &[0x00]);
    assert_mp(&int(127), &n, &[0x7f]);
    assert_mp(&int(200), &n, &[0xcc, 0xc8]);
    assert_mp(&int(65536), &n, &[0xce, 0x00, 0x01, 0x00, 0x00]);
    assert_mp(&int(-1), &n, &[0xff]);
    assert_mp(&int(-32), &n, &[0xe0]);
    assert_mp(&int(-33), &n, &[0xd0, 0xdf]);
    assert_mp(
        &int(i64::MAX),
        &n,
        &[0xcf, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    );
    assert_mp(&int(i64::MIN), &n, &[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0]);
    // Other int widths decode too.
    assert_eq!(decode_msgpack(&[0xd1, 0x00, 0x05], &n).unwrap(), int(5));
    assert_eq!(decode_msgpack(&[0xcd, 0x00, 0x05], &n).unwrap(), int(5));

    // 2^63 is beyond int64 but exactly a float64: go-cty's marshal writes it as float64, so
    // that is its canonical form (no precision is lost).
    let two63 = [0xcf, 0x80, 0, 0, 0, 0, 0, 0, 0];
    let v = decode_msgpack(&two63, &n).unwrap();
    assert_eq!(v, float(9_223_372_036_854_775_808.0));
    let mut f = vec![0xcb];
    f.extend_from_slice(&9_223_372_036_854_775_808f64.to_bits().to_be_bytes());
    assert_mp(&v, &n, &f);
    let Value::Number(num) = &v else { panic!() };
    assert_eq!(num.to_decimal_string(), "9223372036854775808");
    // 2^64-1 is neither: decimal string.
    let max = [0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
    let v = decode_msgpack(&max, &n).unwrap();
    assert_eq!(v, big("18446744073709551615"));
    let mut str_form = vec![0xb4];
    str_form.extend_from_slice(b"18446744073709551615");
    assert_mp(&v, &n, &str_form);

    // -0.5 is a float64; integral floats become ints (go-cty: Int64 exact → int).
    let mut half = vec![0xcb];
    half.extend_from_slice(&(-0.5f64).to_bits().to_be_bytes());
    assert_mp(&float(-0.5), &n, &half);
    let mut one = vec![0xcb];
    one.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
    assert_eq!(decode_msgpack(&one, &n).unwrap(), int(1));
    assert_eq!(encode_msgpack(&float(1.0), &n).unwrap(), [0x01]);
    assert_eq!(encode_msgpack(&float(-0.0), &n).unwrap(), [0x00]);
    // float32 is widened, written back as float64 (UseCompactFloats(false)).
    assert_eq!(
        decode_msgpack(&[0xca, 0x3f, 0xc0, 0, 0], &n).unwrap(),
        float(1.5)
    );
    // Infinity is a float64; NaN is rejected.
    let mut inf = vec![0xcb];
    inf.extend_from_slice(&f64::INFINITY.to_bits().to_be_bytes());
    assert_mp(&float(f64::INFINITY), &n, &inf);
    let mut nan = vec![0xcb];
    nan.extend_from_slice(&f64::NAN.to_bits().to_be_bytes());
    assert!(decode_msgpack(&nan, &n).is_err());
    assert!(encode_msgpack(&float(f64::NAN), &n).is_err());

    // Decimal strings: 1e400 stays text; exact ints / floats become Int / Float.
    assert_mp(&big("1e400"), &n, &[0xa5, b'1', b'e', b'4', b'0', b'0']);
    assert_mp(&big("0.1"), &n, &[0xa3, b'0', b'.', b'1']);
    assert_eq!(decode_msgpack(&[0xa2, b'1', b'2'], &n).unwrap(), int(12));
    assert_eq!(
        decode_msgpack(&[0xa3, b'0', b'.', b'5'], &n).unwrap(),
        float(0.5)
    );
    assert_eq!(encode_msgpack(&big("12.000"), &n).unwrap(), [0x0c]);
    let (_, msg) = mp_err(&[0xa3, b'a', b'b', b'c'], &n);
    assert_eq!(msg, "number is required");
    assert!(encode_msgpack(&big("twelve"), &n).is_err());
}

#[test]
fn number_parsing_and_printing() {
    let p = |t: &str| Number::parse_decimal(t);
    assert_eq!(p("0"), Some(Number::Int(0)));
    assert_eq!(p("-0.0"), Some(Number::Int(0)));
    assert_eq!(p("+17"), Some(Number::Int(17)));
    assert_eq!(p("1.5e3"), Some(Number::Int(1500)));
    assert_eq!(p("-9223372036854775808"), Some(Number::Int(i64::MIN)));
    assert_eq!(p("9223372036854775807"), Some(Number::Int(i64::MAX)));
    assert_eq!(
        p("9223372036854775808"),
        Some(Number::Float(9_223_372_036_854_775_808.0))
    );
    assert_eq!(
        p("9223372036854775809"),
        Some(Number::Big("9223372036854775809".into()))
    );
    assert_eq!(p(".5"), Some(Number::Float(0.5)));
    assert_eq!(p("5e-1"), Some(Number::Float(0.5)));
    assert_eq!(p("0.1"), Some(Number::Big("0.1".into())));
    assert_eq!(
        p("0.1000000000000000055511151231257827021181583404541015625"),
        Some(Number::Float(0.1))
    );
    assert_eq!(p("1e400"), Some(Number::Big("1e400".into())));
    assert_eq!(p("1e-400"), Some(Number::Big("1e-400".into())));
    // Big numbers are spelled canonically.
    assert_eq!(p("+007.30"), Some(Number::Big("7.3".into())));
    assert_eq!(p("-.000123e-20"), Some(Number::Big("-1.23e-24".into())));
    assert_eq!(p("1E400"), Some(Number::Big("1e400".into())));
    assert_eq!(
        p("1230000000000000000001"),
        Some(Number::Big("1230000000000000000001".into()))
    );
    assert_eq!(
        p("12300000000000000000000000"),
        Some(Number::Big("1.23e25".into()))
    );
    assert_eq!(p("1.2300e40"), Some(Number::Big("1.23e40".into())));
    assert_eq!(p("1e500000000"), Some(Number::Big("1e500000000".into())));
    assert_eq!(p("1e99999999999999999999999"), None);
    assert_eq!(p("1e-99999999999999999999999"), None);
    assert_eq!(p("-Inf"), Some(Number::Float(f64::NEG_INFINITY)));
    for bad in [
        "", "-", ".", "e5", "1e", "1e+", "0x10", "1_000", " 1", "1 ", "NaN", "infinity", "--1",
    ] {
        assert_eq!(p(bad), None, "{bad:?}");
    }
    // Smallest subnormal and largest finite are exact.
    assert_eq!(
        p(&Number::Float(f64::MIN_POSITIVE * f64::EPSILON).to_decimal_string()),
        Some(Number::Float(5e-324))
    );
    assert_eq!(
        p(&Number::Float(f64::MAX).to_decimal_string()),
        Some(Number::Float(f64::MAX))
    );
    assert_eq!(
        Number::Float(0.1).to_decimal_string(),
        "0.1000000000000000055511151231257827021181583404541015625"
    );
    assert_eq!(Number::Float(1e22).to_decimal_string(), "1e22");
    assert_eq!(
        Number::Float(-2.5e-10).to_decimal_string(),
        "-0.000000000250000000000000015570397864444964104724267173196494695730507373809814453125"
    );
    assert_eq!(
        Number::Float(1e300).to_decimal_string(),
        "1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160"
    );
    let tiny = Number::Float(1e-30).to_decimal_string();
    assert!(
        tiny.starts_with("1.00000000000000008333642") && tiny.ends_with("890625e-30"),
        "{tiny}"
    );
    assert_eq!(
        Number::from_u64(u64::MAX),
        Number::Big("18446744073709551615".into())
    );
    assert_eq!(
        Number::from_u64(1 << 63),
        Number::Float(9_223_372_036_854_775_808.0)
    );
    assert_eq!(Number::from_f64(f64::NAN), None);
    assert_eq!(
        Number::Big("2.50".into()).canonical(),
        Some(Number::Float(2.5))
    );
}

#[test]
fn json_numbers_keep_full_precision() {
    let n = Type::Number;
    let d = |t: &str| decode_json(t.as_bytes(), &n).unwrap();
    assert_eq!(d("12345678901234567890123"), big("12345678901234567890123"));
    assert_eq!(d("0.1"), big("0.1"));
    assert_eq!(d("0.5"), float(0.5));
    assert_eq!(d("1e400"), big("1e400"));
    assert_eq!(d("-0"), int(0));
    assert_eq!(d("1.0"), int(1));
    assert_eq!(d("9223372036854775808"), float(9_223_372_036_854_775_808.0));
    // go-cty converts number strings.
    assert_eq!(d(r#""42""#), int(42));
    assert_eq!(
        json(&big("12345678901234567890123"), &n),
        "12345678901234567890123"
    );
    assert_eq!(
        json(&float(0.1), &n),
        "0.1000000000000000055511151231257827021181583404541015625"
    );
    assert_eq!(
        json(&float(9_223_372_036_854_775_808.0), &n),
        "9223372036854775808"
    );
    assert_eq!(json(&float(1e300), &n).parse::<f64>().unwrap(), 1e300);
    assert_eq!(d(&json(&float(1e300), &n)), float(1e300));
    assert_eq!(d(&json(&float(5e-324), &n)), float(5e-324));
    // Non-JSON decimal text is re-spelled; infinities cannot be written.
    assert_eq!(json(&big("+.5e1"), &n), "5");
    assert_eq!(json(&big("1E400"), &n), "1E400");
    assert!(encode_json(&float(f64::INFINITY), &n).is_err());
    for bad in ["01", "1.", ".5", "+1", "1e", "-", "NaN"] {
        assert!(decode_json(bad.as_bytes(), &n).is_err(), "{bad}");
    }
}

// ---------------------------------------------------------------------------------------
// objects, collections, paths
// ---------------------------------------------------------------------------------------

fn nested_ty() -> Type {
    let setting = obj_ty(&[("key", Type::String), ("value", Type::String)]);
    let extension = obj_ty(&[("enabled", Type::Bool), ("settings", Type::list(setting))]);
    obj_ty(&[("extensions", Type::map(extension)), ("name", Type::String)])
}

fn nested_bytes(enabled: &[u8]) -> Vec<u8> {
    let mut b = vec![0x82];
    mp_str(&mut b, "extensions");
    b.push(0x81);
    mp_str(&mut b, "x");
    b.push(0x82);
    mp_str(&mut b, "enabled");
    b.extend_from_slice(enabled);
    mp_str(&mut b, "settings");
    b.extend_from_slice(&[0x91, 0x82]);
    mp_str(&mut b, "key");
    mp_str(&mut b, "k");
    mp_str(&mut b, "value");
    b.push(0xc0);
    mp_str(&mut b, "name");
    mp_str(&mut b, "n");
    b
}

fn nested_value() -> Value {
    let setting = obj(&[("key", s("k")), ("value", Value::Null)]);
    let ext = obj(&[
        ("enabled", Value::Bool(true)),
        ("settings", Value::List(vec![setting])),
    ]);
    obj(&[
        (
            "extensions",
            Value::Map(BTreeMap::from([("x".to_owned(), ext)])),
        ),
        ("name", s("n")),
    ])
}

#[test]
fn nested_object_with_list_of_objects() {
    assert_mp(&nested_value(), &nested_ty(), &nested_bytes(&[0xc3]));
    let text = json(&nested_value(), &nested_ty());
    assert_eq!(
        text,
        r#"{"extensions":{"x":{"enabled":true,"settings":[{"key":"k","value":null}]}},"name":"n"}"#
    );
    assert_eq!(
        decode_json(text.as_bytes(), &nested_ty()).unwrap(),
        nested_value()
    );
}

#[test]
fn errors_name_the_path() {
    let (path, msg) = mp_err(&nested_bytes(&[0xa3, b'y', b'e', b's']), &nested_ty());
    assert_eq!(
        (path.as_str(), msg.as_str()),
        (r#".extensions["x"].enabled"#, "bool is required")
    );
    let err = decode_msgpack(&nested_bytes(&[0x01]), &nested_ty()).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#".extensions["x"].enabled: bool is required"#
    );

    let (path, msg) = json_err(
        r#"{"extensions":{"x":{"enabled":true,"settings":[{"key":5,"value":[]}]}},"name":"n"}"#,
        &nested_ty(),
    );
    assert_eq!(path, r#".extensions["x"].settings[0].value"#);
    assert_eq!(msg, "string is required");

    let mut v = nested_value();
    if let Some(Value::Map(m)) = v.attr_mut("extensions")
        && let Some(Value::Object(ext)) = m.get_mut("x")
    {
        ext.remove("enabled");
    }
    for err in [
        encode_msgpack(&v, &nested_ty()),
        encode_json(&v, &nested_ty()),
    ] {
        assert_eq!(
            err.unwrap_err(),
            CodecError::Invalid {
                path: r#".extensions["x"].enabled"#.into(),
                message: "missing attribute".into()
            }
        );
    }
    // Root errors report ".".
    let (path, msg) = mp_err(&[0xc3], &Type::String);
    assert_eq!((path.as_str(), msg.as_str()), (".", "string is required"));
}

#[test]
fn objects_need_exactly_their_attributes() {
    let ty = obj_ty(&[("a", Type::String), ("b", Type::String)]);
    let (_, msg) = mp_err(&[0x81, 0xa1, b'a', 0xc0], &ty);
    assert_eq!(msg, "an object with 2 attributes is required (1 given)");
    // go-cty would take an empty map as an empty object; we report the count.
    let (_, msg) = mp_err(&[0x80], &ty);
    assert_eq!(msg, "an object with 2 attributes is required (0 given)");
    let (path, msg) = mp_err(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'z', 0xc0], &ty);
    assert_eq!(
        (path.as_str(), msg.as_str()),
        (".z", "unsupported attribute")
    );
    let (path, msg) = mp_err(&[0x82, 0xa1, b'a', 0xc0, 0xa1, b'a', 0xc0], &ty);
    assert_eq!((path.as_str(), msg.as_str()), (".a", "duplicate attribute"));
    let extra = obj(&[("a", Value::Null), ("b", Value::Null), ("c", Value::Null)]);
    assert_eq!(
        encode_msgpack(&extra, &ty).unwrap_err().to_string(),
        ".c: unsupported attribute"
    );
    // Keys are written sorted, whole-object null is nil.
    assert_mp(
        &obj(&[("b", s("2")), ("a", s("1"))]),
        &ty,
        &[0x82, 0xa1, b'a', 0xa1, b'1', 0xa1, b'b', 0xa1, b'2'],
    );
    assert_mp(&Value::Null, &ty, &[0xc0]);
    assert_mp(&obj(&[]), &obj_ty(&[]), &[0x80]);
}

#[test]
fn collections_and_tuples() {
    assert_mp(&Value::List(vec![]), &Type::list(Type::String), &[0x90]);
    assert_mp(&Value::Set(vec![]), &Type::set(nested_ty()), &[0x90]);
    assert_mp(
        &Value::Map(BTreeMap::new()),
        &Type::map(Type::Bool),
        &[0x80],
    );
    // Set order is kept as it arrived.
    assert_mp(
        &Value::Set(vec![s("b"), s("a")]),
        &Type::set(Type::String),
        &[0x92, 0xa1, b'b', 0xa1, b'a'],
    );
    let tup = Type::Tuple(vec![Type::String, Type::Number]);
    assert_mp(
        &Value::Tuple(vec![s("a"), int(1)]),
        &tup,
        &[0x92, 0xa1, b'a', 0x01],
    );
    let (_, msg) = mp_err(&[0x91, 0xa1, b'a'], &tup);
    assert_eq!(msg, "a tuple of length 2 is required (1 given)");
    assert!(encode_msgpack(&Value::Tuple(vec![s("a")]), &tup).is_err());
    assert!(encode_msgpack(&Value::List(vec![s("a")]), &Type::set(Type::String)).is_err());
    // Map keys: last duplicate wins (go-cty: vals[key] = val).
    let v = decode_msgpack(
        &[0x82, 0xa1, b'k', 0x01, 0xa1, b'k', 0x02],
        &Type::map(Type::Number),
    )
    .unwrap();
    assert_eq!(v, Value::Map(BTreeMap::from([("k".to_owned(), int(2))])));
    // 16-bit array / map headers.
    let many = Value::List((0..20).map(int).collect());
    let enc = encode_msgpack(&many, &Type::list(Type::Number)).unwrap();
    assert_eq!(enc[..3], [0xdc, 0x00, 20]);
    assert_eq!(
        decode_msgpack(&enc, &Type::list(Type::Number)).unwrap(),
        many
    );
}

#[test]
fn strings() {
    let st = Type::String;
    assert_mp(&s(""), &st, &[0xa0]);
    let s31 = "x".repeat(31);
    let s32 = "x".repeat(32);
    let s256 = "x".repeat(256);
    assert_eq!(encode_msgpack(&s(&s31), &st).unwrap()[0], 0xbf);
    assert_eq!(encode_msgpack(&s(&s32), &st).unwrap()[..2], [0xd9, 32]);
    assert_eq!(
        encode_msgpack(&s(&s256), &st).unwrap()[..3],
        [0xda, 0x01, 0x00]
    );
    for t in [s31, s32, s256] {
        let enc = encode_msgpack(&s(&t), &st).unwrap();
        assert_eq!(decode_msgpack(&enc, &st).unwrap(), s(&t));
    }
    // bin is accepted for strings (vmihailenco DecodeString).
    assert_eq!(
        decode_msgpack(&[0xc4, 0x02, b'h', b'i'], &st).unwrap(),
        s("hi")
    );
    let (_, msg) = mp_err(&[0xa2, 0xff, 0xfe], &st);
    assert_eq!(msg, "string is not valid UTF-8");
}

#[test]
fn framing() {
    assert_eq!(decode_msgpack(&[], &nested_ty()).unwrap(), Value::Null);
    assert_eq!(decode_json(b"", &nested_ty()).unwrap(), Value::Null);
    let (_, msg) = mp_err(&[0xc3, 0xc3], &Type::Bool);
    assert!(msg.contains("trailing"), "{msg}");
    let (_, msg) = mp_err(&[0x92, 0xc3], &Type::list(Type::Bool));
    assert_eq!(msg, "unexpected end of msgpack data");
    // A huge declared length does not preallocate.
    let (_, msg) = mp_err(&[0xdd, 0xff, 0xff, 0xff, 0xff], &Type::list(Type::Bool));
    assert_eq!(msg, "unexpected end of msgpack data");
    assert!(decode_json(b"true x", &Type::Bool).is_err());
    assert_eq!(
        decode_json(b" \n true \t", &Type::Bool).unwrap(),
        Value::Bool(true)
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Nested dynamic values: the type comes from the wire, so types alone do not bound depth.
    let mut bytes = Vec::new();
    for _ in 0..10_000 {
        bytes.extend_from_slice(&[0x92, 0xc4, 0x09]);
        bytes.extend_from_slice(b"\"dynamic\"");
    }
    bytes.push(0xc0);
    let (_, msg) = mp_err(&bytes, &Type::Dynamic);
    assert_eq!(msg, "value nested too deeply");

    let mut text = String::new();
    for _ in 0..10_000 {
        text.push_str(r#"{"type":"dynamic","value":"#);
    }
    assert!(decode_json(text.as_bytes(), &Type::Dynamic).is_err());
    let deep_array = "[".repeat(100_000);
    assert!(decode_json(deep_array.as_bytes(), &Type::Dynamic).is_err());
    assert!(
        decode_state_json(
            format!(r#"{{"gone":{deep_array}}}"#).as_bytes(),
            &obj_ty(&[])
        )
        .is_err()
    );

    // Deep skip inside a refinement payload (unknown key).
    let mut payload = vec![0x81, 0x09];
    payload.extend(std::iter::repeat_n(0x91, 1000));
    payload.push(0xc0);
    let mut bytes = vec![0xc8];
    bytes.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    bytes.push(0x0c);
    bytes.extend_from_slice(&payload);
    assert!(decode_msgpack(&bytes, &Type::String).is_err());

    // A deep type from the program is fine up to the limit.
    let mut ty = Type::Bool;
    let mut v = Value::Bool(true);
    for _ in 0..100 {
        ty = Type::list(ty);
        v = Value::List(vec![v]);
    }
    let enc = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(decode_msgpack(&enc, &ty).unwrap(), v);
    for _ in 0..100 {
        ty = Type::list(ty);
        v = Value::List(vec![v]);
    }
    assert!(encode_msgpack(&v, &ty).is_err());
}

// ---------------------------------------------------------------------------------------
// type JSON
// ---------------------------------------------------------------------------------------

#[test]
fn type_json() {
    let cases: &[(&str, Type)] = &[
        (r#""string""#, Type::String),
        (r#""number""#, Type::Number),
        (r#""bool""#, Type::Bool),
        (r#""dynamic""#, Type::Dynamic),
        (r#"["list","string"]"#, Type::list(Type::String)),
        (
            r#"["set",["map","bool"]]"#,
            Type::set(Type::map(Type::Bool)),
        ),
        (r#"["tuple",[]]"#, Type::Tuple(vec![])),
        (
            r#"["tuple",["string","dynamic"]]"#,
            Type::Tuple(vec![Type::String, Type::Dynamic]),
        ),
        (r#"["object",{}]"#, obj_ty(&[])),
        (
            r#"["object",{"a\"b":"number","z":["list","bool"]}]"#,
            obj_ty(&[("z", Type::list(Type::Bool)), ("a\"b", Type::Number)]),
        ),
        (
            r#"["object",{"a":"number","b":"string"},["a","b"]]"#,
            Type::Object {
                attrs: [
                    ("a".to_owned(), Type::Number),
                    ("b".to_owned(), Type::String),
                ]
                .into(),
                optional: BTreeSet::from(["a".to_owned(), "b".to_owned()]),
            },
        ),
    ];
    for (text, ty) in cases {
        assert_eq!(String::from_utf8(ty.to_json_bytes()).unwrap(), *text);
        assert_eq!(serde_json::to_string(&ty.to_json()).unwrap(), *text);
        assert_eq!(&Type::from_json_bytes(text.as_bytes()).unwrap(), ty);
    }
    // Whitespace and attribute order do not matter when reading.
    assert_eq!(
        Type::from_json_bytes(br#" [ "object" , { "z" : "bool", "a" : "string" } ] "#).unwrap(),
        obj_ty(&[("a", Type::String), ("z", Type::Bool)])
    );
    for bad in [
        r#""str""#,
        r#"5"#,
        r#"null"#,
        r#"[]"#,
        r#"["list"]"#,
        r#"["list","string","x"]"#,
        r#"["lisst","string"]"#,
        r#"["object",["a"]]"#,
        r#"["object",{"a":"string"},["b"]]"#,
        r#"["object",{"a":"string"},"a"]"#,
        r#"["object",{"a":"string"},["a"],[]]"#,
        r#"["tuple","string"]"#,
        r#"["map","string"] x"#,
    ] {
        assert!(
            matches!(
                Type::from_json_bytes(bad.as_bytes()),
                Err(CodecError::Type(_))
            ),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// JSON specifics
// ---------------------------------------------------------------------------------------

#[test]
fn state_json_is_schema_tolerant() {
    // As stored by Terraform (tfplugin6.md 4.3), written by an older schema.
    let raw = br#"{
        "id": "abc",
        "removed": {"deep": [1, 2, {"x": null}]},
        "dyn": {"value": {"a": 1, "b": ["x", true]}, "type": ["object", {"a": "number", "b": ["tuple", ["string", "bool"]]}]},
        "block": [{"k": "v", "old": 1}]
    }"#;
    let ty = obj_ty(&[
        ("id", Type::String),
        ("dyn", Type::Dynamic),
        ("added", Type::list(Type::String)),
        (
            "block",
            Type::list(obj_ty(&[("k", Type::String), ("new", Type::Bool)])),
        ),
    ]);
    let v = decode_state_json(raw, &ty).unwrap();
    let dyn_ty = obj_ty(&[
        ("a", Type::Number),
        ("b", Type::Tuple(vec![Type::String, Type::Bool])),
    ]);
    assert_eq!(
        v,
        obj(&[
            ("id", s("abc")),
            (
                "dyn",
                Value::Dynamic(
                    Box::new(dyn_ty),
                    Box::new(obj(&[
                        ("a", int(1)),
                        ("b", Value::Tuple(vec![s("x"), Value::Bool(true)]))
                    ]))
                )
            ),
            ("added", Value::Null),
            (
                "block",
                Value::List(vec![obj(&[("k", s("v")), ("new", Value::Null)])])
            ),
        ])
    );
    // The result is a complete value of the current type.
    let enc = encode_msgpack(&v, &ty).unwrap();
    assert_eq!(decode_msgpack(&enc, &ty).unwrap(), v);

    // decode_json is strict.
    let (path, msg) = json_err(std::str::from_utf8(raw).unwrap(), &ty);
    assert_eq!(
        (path.as_str(), msg.as_str()),
        (".removed", "unsupported attribute")
    );
    let (path, msg) = json_err(r#"{"id":"x","dyn":null,"block":[]}"#, &ty);
    assert_eq!(
        (path.as_str(), msg.as_str()),
        (".added", "missing attribute")
    );
    // Extra keys beside value/type: strict error, tolerated in state.
    let d = br#"{"type":"string","x":1,"value":"v"}"#;
    assert!(decode_json(d, &Type::Dynamic).is_err());
    assert_eq!(
        decode_state_json(d, &Type::Dynamic).unwrap(),
        Value::Dynamic(Box::new(Type::String), Box::new(s("v")))
    );
}

#[test]
fn json_dynamic_forms() {
    let t = Type::Dynamic;
    assert_eq!(decode_json(b"null", &t).unwrap(), Value::Null);
    // "type" before "value".
    assert_eq!(
        decode_json(br#"{"type":["list","number"],"value":[1,2.5]}"#, &t).unwrap(),
        Value::Dynamic(
            Box::new(Type::list(Type::Number)),
            Box::new(Value::List(vec![int(1), float(2.5)]))
        )
    );
    assert_eq!(
        decode_json(br#"{"value":null,"type":"bool"}"#, &t).unwrap(),
        Value::Dynamic(Box::new(Type::Bool), Box::new(Value::Null))
    );
    assert!(
        decode_json(br#"{"value":1}"#, &t)
            .unwrap_err()
            .to_string()
            .contains("missing type")
    );
    assert!(
        decode_json(br#"{"type":"bool"}"#, &t)
            .unwrap_err()
            .to_string()
            .contains("missing value")
    );
    assert!(decode_json(br#"{"type":"bool","value":"x"}"#, &t).is_err());
    assert!(decode_json(b"5", &t).is_err());
    assert!(encode_json(&Value::unknown(), &t).is_err());
    assert_eq!(json(&Value::Null, &t), "null");
    assert_eq!(json(&int(3), &t), r#"{"value":3,"type":"number"}"#);
}

#[test]
fn json_primitive_conversions_like_cty() {
    assert_eq!(
        decode_json(br#""true""#, &Type::Bool).unwrap(),
        Value::Bool(true)
    );
    assert_eq!(
        decode_json(br#""0""#, &Type::Bool).unwrap(),
        Value::Bool(false)
    );
    assert!(decode_json(br#""yes""#, &Type::Bool).is_err());
    let (_, msg) = json_err(r#""True""#, &Type::Bool);
    assert_eq!(
        msg,
        r#"a bool is required; to convert from string, use lowercase "true""#
    );
    assert_eq!(decode_json(b"1.50", &Type::String).unwrap(), s("1.50"));
    assert_eq!(decode_json(b"false", &Type::String).unwrap(), s("false"));
    assert!(decode_json(br#""x""#, &Type::Number).is_err());
    assert!(decode_json(b"[]", &Type::String).is_err());
}

#[test]
fn json_strings_and_syntax() {
    let st = Type::String;
    assert_eq!(
        decode_json(br#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00""#, &st).unwrap(),
        s("a\"\\/\u{8}\u{c}\n\r\té😀")
    );
    // Lone surrogates become U+FFFD (Go's encoding/json).
    assert_eq!(
        decode_json(br#""\ud800x\udc00""#, &st).unwrap(),
        s("\u{fffd}x\u{fffd}")
    );
    assert_eq!(
        decode_json(br#""\ud800\u0041""#, &st).unwrap(),
        s("\u{fffd}A")
    );
    for bad in [
        &br#""abc"#[..],
        b"\"a\x01\"",
        br#""\x""#,
        br#""\u12""#,
        b"\"\xff\"",
        b"[1,]",
        b"{\"a\":1,}",
        b"tru",
        b"nul",
    ] {
        for ty in [&st, &Type::list(Type::Number), &Type::map(Type::Number)] {
            assert!(
                decode_json(bad, ty).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
    let text = json(&s("q\"\\\n\u{1}é"), &st);
    assert_eq!(text, r#""q\"\\\n\u0001é""#);
    assert_eq!(
        serde_json::from_str::<String>(&text).unwrap(),
        "q\"\\\n\u{1}é"
    );
    // Tuples.
    let tup = Type::Tuple(vec![Type::String, Type::Bool]);
    assert!(
        decode_json(br#"["a"]"#, &tup)
            .unwrap_err()
            .to_string()
            .contains("not enough")
    );
    assert!(
        decode_json(br#"["a",true,1]"#, &tup)
            .unwrap_err()
            .to_string()
            .contains("too many")
    );
}

// ---------------------------------------------------------------------------------------
// property tests
// ---------------------------------------------------------------------------------------

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![4 => "[a-z_]{1,8}", 1 => "\\PC{0,4}"]
}

fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Bool),
        Just(Type::Number),
        Just(Type::String),
        Just(Type::Dynamic),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(Type::list),
            inner.clone().prop_map(Type::set),
            inner.clone().prop_map(Type::map),
            prop::collection::vec((attr_name(), inner.clone(), any::<bool>()), 0..4).prop_map(
                |attrs| {
                    let optional = attrs.iter().filter(|a| a.2).map(|a| a.0.clone()).collect();
                    let attrs = attrs.into_iter().map(|(k, t, _)| (k, t)).collect();
                    Type::Object { attrs, optional }
                }
            ),
            prop::collection::vec(inner, 0..4).prop_map(Type::Tuple),
        ]
    })
}

/// Decimal text that is canonically `Big` (neither an exact int64 nor an exact float64)
/// and already JSON number syntax.
fn arb_big() -> impl Strategy<Value = String> {
    prop_oneof![
        // Odd integers beyond 2^64: not a float64 (those are even beyond 2^53).
        "-?[1-9][0-9]{19,30}[1379]",
        // Fractions not ending in 5: no binary fraction has such a decimal expansion.
        "-?(0|[1-9][0-9]{0,4})\\.[0-9]{0,20}[1-46-9]",
        // Out of float64 range.
        "-?[1-9](\\.[0-9]{1,5})?e(4[0-9]{2}|-[4-9][0-9]{2})",
    ]
    .prop_filter("canonical big", |t| {
        Number::parse_decimal(t) == Some(Number::Big(t.clone()))
    })
}

fn arb_number(allow_inf: bool) -> BoxedStrategy<Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::Int),
        (-1000i64..1000).prop_map(Number::Int),
        any::<f64>().prop_filter_map("NaN / inf", move |f| {
            (allow_inf || f.is_finite())
                .then(|| Number::from_f64(f))
                .flatten()
        }),
        (-1e6f64..1e6).prop_filter_map("nan", Number::from_f64),
        arb_big().prop_map(Number::Big),
    ]
    .boxed()
}

fn arb_refinements(ty: &Type) -> BoxedStrategy<Refinements> {
    let not_null = any::<bool>();
    match ty {
        Type::Dynamic => Just(Refinements::default()).boxed(),
        Type::String => (not_null, prop::option::of("\\PC{1,10}"))
            .prop_map(|(not_null, string_prefix)| Refinements {
                not_null,
                string_prefix,
                ..Default::default()
            })
            .boxed(),
        Type::Number => {
            let bound = prop::option::of((arb_number(false), any::<bool>()));
            (not_null, bound.clone(), bound)
                .prop_map(|(not_null, number_lower, number_upper)| Refinements {
                    not_null,
                    number_lower,
                    number_upper,
                    ..Default::default()
                })
                .boxed()
        }
        Type::List(_) | Type::Set(_) | Type::Map(_) => (
            not_null,
            prop::option::of(1u64..100),
            prop::option::of(0u64..100),
        )
            .prop_map(|(not_null, length_lower, length_upper)| Refinements {
                not_null,
                length_lower,
                length_upper,
                ..Default::default()
            })
            .boxed(),
        _ => not_null
            .prop_map(|not_null| Refinements {
                not_null,
                ..Default::default()
            })
            .boxed(),
    }
}

/// Values of type `ty`. `known`: no unknowns anywhere and no infinities (JSON-encodable).
/// `budget` bounds how many dynamic values nest inside each other.
fn arb_value(ty: &Type, known: bool, budget: u32) -> BoxedStrategy<Value> {
    let ty_owned = ty.clone();
    let known_value: BoxedStrategy<Value> = match ty {
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::Number => arb_number(!known).prop_map(Value::Number).boxed(),
        Type::String => any::<String>().prop_map(Value::String).boxed(),
        Type::List(et) => prop::collection::vec(arb_value(et, known, budget), 0..4)
            .prop_map(Value::List)
            .boxed(),
        Type::Set(et) => prop::collection::vec(arb_value(et, known, budget), 0..4)
            .prop_map(Value::Set)
            .boxed(),
        Type::Map(et) => {
            prop::collection::btree_map("\\PC{0,6}", arb_value(et, known, budget), 0..4)
                .prop_map(Value::Map)
                .boxed()
        }
        Type::Tuple(ets) => ets
            .iter()
            .map(|t| arb_value(t, known, budget))
            .collect::<Vec<_>>()
            .prop_map(Value::Tuple)
            .boxed(),
        Type::Object { attrs, .. } => attrs
            .iter()
            .map(|(k, t)| {
                let k = k.clone();
                arb_value(t, known, budget).prop_map(move |v| (k.clone(), v))
            })
            .collect::<Vec<_>>()
            .prop_map(|entries| Value::Object(entries.into_iter().collect()))
            .boxed(),
        Type::Dynamic if budget == 0 => Just(Value::Null).boxed(),
        Type::Dynamic => arb_type()
            .prop_filter("concrete type", |t| *t != Type::Dynamic)
            .prop_flat_map(move |t| {
                arb_value(&t, known, budget - 1)
                    .prop_map(move |v| Value::Dynamic(Box::new(t.clone()), Box::new(v)))
            })
            .boxed(),
    };
    if known {
        prop_oneof![1 => Just(Value::Null), 6 => known_value].boxed()
    } else {
        prop_oneof![
            1 => Just(Value::Null),
            1 => arb_refinements(&ty_owned).prop_map(Value::Unknown),
            6 => known_value,
        ]
        .boxed()
    }
}

fn arb_typed_value(known: bool) -> impl Strategy<Value = (Type, Value)> {
    arb_type().prop_flat_map(move |ty| {
        let v = arb_value(&ty, known, 2);
        (Just(ty), v)
    })
}

/// Mutates bytes: flip, insert, delete, truncate.
fn mutate(mut b: Vec<u8>, ops: &[(u8, usize, u8)]) -> Vec<u8> {
    for &(op, at, byte) in ops {
        let at = if b.is_empty() { 0 } else { at % b.len() };
        match op % 4 {
            0 if !b.is_empty() => b[at] = byte,
            1 => b.insert(at, byte),
            2 if !b.is_empty() => {
                b.remove(at);
            }
            3 => b.truncate(at),
            _ => {}
        }
    }
    b
}

/// `cases` unless `PROPTEST_CASES` is set. Failures are not persisted to a regressions file
/// (it would land outside this module's directory); proptest prints the failing input.
fn config(cases: u32) -> ProptestConfig {
    let mut config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = cases;
    }
    config
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn msgpack_round_trip((ty, v) in arb_typed_value(false)) {
        let enc = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Well-formed msgpack for a generic reader, and nothing after the value.
        let mut rd = enc.as_slice();
        rmpv::decode::read_value(&mut rd).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(rd.is_empty());
        prop_assert_eq!(decode_msgpack(&enc, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?, v);
    }

    #[test]
    fn json_round_trip((ty, v) in arb_typed_value(true)) {
        prop_assert!(v.is_wholly_known());
        let enc = encode_json(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        // Valid JSON for a generic parser (IgnoredAny: serde_json cannot hold 1e400 in a Value).
        serde_json::from_slice::<serde::de::IgnoredAny>(&enc)
            .map_err(|e| TestCaseError::fail(format!("{e}: {}", String::from_utf8_lossy(&enc))))?;
        prop_assert_eq!(&decode_json(&enc, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?, &v);
        prop_assert_eq!(decode_state_json(&enc, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?, v);
    }

    #[test]
    fn type_json_round_trip(ty in arb_type()) {
        let bytes = ty.to_json_bytes();
        prop_assert_eq!(serde_json::to_vec(&ty.to_json()).unwrap(), bytes.clone());
        prop_assert_eq!(Type::from_json_bytes(&bytes).unwrap(), ty);
    }

    #[test]
    fn float_text_round_trip(f in any::<f64>()) {
        if let Some(n) = Number::from_f64(f) {
            let text = n.to_decimal_string();
            prop_assert_eq!(Number::parse_decimal(&text), Some(n));
        }
    }

    #[test]
    fn int_text_round_trip(i in any::<i64>()) {
        prop_assert_eq!(Number::parse_decimal(&i.to_string()), Some(Number::Int(i)));
    }
}

proptest! {
    #![proptest_config(config(2048))]

    /// Arbitrary bytes never panic; whatever decodes re-encodes and decodes to itself.
    #[test]
    fn msgpack_decode_arbitrary_bytes(ty in arb_type(), bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        check_msgpack_stable(&bytes, &ty)?;
    }

    /// Mutated valid encodings (reach deeper than random bytes).
    #[test]
    fn msgpack_decode_mutated(
        (ty, v) in arb_typed_value(false),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        let enc = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_msgpack_stable(&mutate(enc, &ops), &ty)?;
    }

    #[test]
    fn json_decode_arbitrary_text(ty in arb_type(), text in "[\\[\\]{}\",:0-9a-z.eE+\\-\\\\ ]{0,48}") {
        check_json_stable(text.as_bytes(), &ty)?;
    }

    #[test]
    fn json_decode_mutated(
        (ty, v) in arb_typed_value(true),
        ops in prop::collection::vec((any::<u8>(), any::<usize>(), any::<u8>()), 1..4),
    ) {
        let enc = encode_json(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_json_stable(&mutate(enc, &ops), &ty)?;
    }

    #[test]
    fn type_json_arbitrary_text(text in "[\\[\\]{}\",:a-z ]{0,40}") {
        let _ = Type::from_json_bytes(text.as_bytes());
    }
}

fn check_msgpack_stable(bytes: &[u8], ty: &Type) -> Result<(), TestCaseError> {
    if let Ok(v) = decode_msgpack(bytes, ty) {
        let enc = encode_msgpack(&v, ty)
            .map_err(|e| TestCaseError::fail(format!("re-encode of {v:?}: {e}")))?;
        prop_assert_eq!(
            &decode_msgpack(&enc, ty).map_err(|e| TestCaseError::fail(e.to_string()))?,
            &v
        );
        // Wholly known, finite values also survive JSON.
        if let Ok(enc) = encode_json(&v, ty) {
            prop_assert_eq!(
                decode_json(&enc, ty).map_err(|e| TestCaseError::fail(e.to_string()))?,
                v
            );
        }
    }
    Ok(())
}

fn check_json_stable(bytes: &[u8], ty: &Type) -> Result<(), TestCaseError> {
    for tolerant in [false, true] {
        let decoded = if tolerant {
            decode_state_json(bytes, ty)
        } else {
            decode_json(bytes, ty)
        };
        let Ok(v) = decoded else { continue };
        // Whatever JSON decodes is a valid value of the type: msgpack takes it.
        let enc = encode_msgpack(&v, ty)
            .map_err(|e| TestCaseError::fail(format!("msgpack encode of {v:?}: {e}")))?;
        prop_assert_eq!(
            &decode_msgpack(&enc, ty).map_err(|e| TestCaseError::fail(e.to_string()))?,
            &v
        );
        // JSON re-encodes unless it holds an infinity (which JSON cannot spell).
        if let Ok(enc) = encode_json(&v, ty) {
            prop_assert_eq!(
                decode_json(&enc, ty).map_err(|e| TestCaseError::fail(e.to_string()))?,
                v
            );
        }
    }
    Ok(())
}
