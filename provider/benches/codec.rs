//! Microbenchmarks of the value codec (issue 6, item 5): msgpack and JSON, both directions,
//! on the value type of `defender_policy_assignment` (the largest schema) filled with values.
//!
//! `cargo bench -p terraform-provider-defender --features bench --bench codec`

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use defender::protocol::value::{
    Number, Type, Value, decode_json, decode_msgpack, encode_json, encode_msgpack,
};

/// A value of `ty` with every attribute set (two elements per collection), so that every
/// codec path is taken.
fn filled(ty: &Type, depth: usize) -> Value {
    match ty {
        Type::Bool => Value::Bool(true),
        Type::Number => Value::Number(Number::Int(42)),
        Type::String => Value::String("/subscriptions/20ff7fc3-e762-44dd-bd96-b71116dcdc23".into()),
        Type::Dynamic => Value::Dynamic(
            Box::new(Type::String),
            Box::new(Value::String("dynamic".into())),
        ),
        _ if depth > 4 => Value::Null,
        Type::List(t) => Value::List((0..2).map(|_| filled(t, depth + 1)).collect()),
        Type::Set(t) => Value::Set(
            (0..2)
                .map(|i| match filled(t, depth + 1) {
                    // Set elements must differ.
                    Value::String(s) => Value::String(format!("{s}/{i}")),
                    Value::Number(_) => Value::Number(Number::Int(i)),
                    v => v,
                })
                .collect(),
        ),
        Type::Map(t) => Value::Map(
            ["a", "b"]
                .iter()
                .map(|k| (k.to_string(), filled(t, depth + 1)))
                .collect(),
        ),
        Type::Object { attrs, .. } => Value::Object(
            attrs
                .iter()
                .map(|(k, t)| (k.clone(), filled(t, depth + 1)))
                .collect::<BTreeMap<_, _>>(),
        ),
        Type::Tuple(ts) => Value::Tuple(ts.iter().map(|t| filled(t, depth + 1)).collect()),
    }
}

fn codec(c: &mut Criterion) {
    let registry = defender::resources::registry();
    let ty = registry.resources["defender_policy_assignment"]
        .value_type()
        .clone();
    let value = filled(&ty, 0);
    let msgpack = encode_msgpack(&value, &ty).expect("encodes");
    let json = encode_json(&value, &ty).expect("encodes");
    // Both directions agree, or the benchmark measures an error path.
    assert_eq!(decode_msgpack(&msgpack, &ty).unwrap(), value);
    assert_eq!(decode_json(&json, &ty).unwrap(), value);

    let mut g = c.benchmark_group("codec/defender_policy_assignment");
    g.bench_function("encode_msgpack", |b| {
        b.iter(|| encode_msgpack(black_box(&value), &ty).unwrap())
    });
    g.bench_function("decode_msgpack", |b| {
        b.iter(|| decode_msgpack(black_box(&msgpack), &ty).unwrap())
    });
    g.bench_function("encode_json", |b| {
        b.iter(|| encode_json(black_box(&value), &ty).unwrap())
    });
    g.bench_function("decode_json", |b| {
        b.iter(|| decode_json(black_box(&json), &ty).unwrap())
    });
    g.finish();
}

criterion_group!(benches, codec);
criterion_main!(benches);
