//! Between cty values and serde models (through `serde_json::Value`).
//!
//! Unknown values have no place in a model: they become `null` (so `None`), and callers that
//! care ask the raw value whether a path is unknown.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value as Json};

use crate::protocol::value::{Number, Type, Value};

/// Converts a cty value of type `ty` to JSON; unknowns become null.
pub fn value_to_json(v: &Value, ty: &Type) -> Json {
    match v {
        Value::Null | Value::Unknown(_) => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Number(n) => number_to_json(n),
        Value::String(s) => Json::String(s.clone()),
        Value::List(items) | Value::Set(items) => {
            let et = match ty {
                Type::List(t) | Type::Set(t) => t.as_ref(),
                _ => &Type::Dynamic,
            };
            Json::Array(items.iter().map(|i| value_to_json(i, et)).collect())
        }
        Value::Tuple(items) => {
            let tys: &[Type] = match ty {
                Type::Tuple(ts) => ts,
                _ => &[],
            };
            Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| value_to_json(v, tys.get(i).unwrap_or(&Type::Dynamic)))
                    .collect(),
            )
        }
        Value::Map(m) => {
            let et = match ty {
                Type::Map(t) => t.as_ref(),
                _ => &Type::Dynamic,
            };
            Json::Object(
                m.iter()
                    .map(|(k, v)| (k.clone(), value_to_json(v, et)))
                    .collect(),
            )
        }
        Value::Object(m) => {
            let attrs = match ty {
                Type::Object { attrs, .. } => Some(attrs),
                _ => None,
            };
            Json::Object(
                m.iter()
                    .map(|(k, v)| {
                        let at = attrs.and_then(|a| a.get(k)).unwrap_or(&Type::Dynamic);
                        (k.clone(), value_to_json(v, at))
                    })
                    .collect(),
            )
        }
        Value::Dynamic(t, v) => value_to_json(v, t),
    }
}

fn number_to_json(n: &Number) -> Json {
    match n {
        Number::Int(i) => Json::from(*i),
        Number::Float(f) => serde_json::Number::from_f64(*f)
            .map(Json::Number)
            .unwrap_or(Json::Null),
        Number::Big(s) => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .unwrap_or(Json::Null),
    }
}

fn json_number(n: &serde_json::Number) -> Number {
    if let Some(i) = n.as_i64() {
        Number::Int(i)
    } else if let Some(u) = n.as_u64() {
        Number::Big(u.to_string())
    } else {
        Number::Float(n.as_f64().unwrap_or(0.0))
    }
}

/// Error converting JSON into a value of a given type.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{path}: {message}")]
pub struct ConvertError {
    pub path: String,
    pub message: String,
}

/// Converts JSON to a cty value of type `ty`. Objects get every attribute of the type
/// (missing ones null); JSON at dynamic positions gets an inferred type.
pub fn json_to_value(j: &Json, ty: &Type) -> Result<Value, ConvertError> {
    json_to_value_at(j, ty, &mut String::new())
}

fn json_to_value_at(j: &Json, ty: &Type, path: &mut String) -> Result<Value, ConvertError> {
    let err = |path: &str, m: String| ConvertError {
        path: path.to_string(),
        message: m,
    };
    if j.is_null() {
        return Ok(Value::Null);
    }
    Ok(match (ty, j) {
        (Type::Dynamic, _) => {
            let t = infer_type(j);
            Value::Dynamic(
                Box::new(t.clone()),
                Box::new(json_to_value_at(j, &t, path)?),
            )
        }
        (Type::Bool, Json::Bool(b)) => Value::Bool(*b),
        (Type::Number, Json::Number(n)) => Value::Number(json_number(n)),
        (Type::String, Json::String(s)) => Value::String(s.clone()),
        // cty converts primitives to string where HCL would.
        (Type::String, Json::Bool(b)) => Value::String(b.to_string()),
        (Type::String, Json::Number(n)) => Value::String(n.to_string()),
        (Type::List(et) | Type::Set(et), Json::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(json_to_value_at(item, et, path)?);
                path.truncate(len);
            }
            if matches!(ty, Type::Set(_)) {
                Value::Set(out)
            } else {
                Value::List(out)
            }
        }
        (Type::Tuple(ts), Json::Array(items)) => {
            if ts.len() != items.len() {
                return Err(err(
                    path,
                    format!("tuple of {} elements required", ts.len()),
                ));
            }
            let mut out = Vec::with_capacity(items.len());
            for (item, t) in items.iter().zip(ts) {
                out.push(json_to_value_at(item, t, path)?);
            }
            Value::Tuple(out)
        }
        (Type::Map(et), Json::Object(m)) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), json_to_value_at(v, et, path)?);
                path.truncate(len);
            }
            Value::Map(out)
        }
        (Type::Object { attrs, .. }, Json::Object(m)) => {
            let mut out = BTreeMap::new();
            for (name, at) in attrs {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                let v = match m.get(name) {
                    Some(v) => json_to_value_at(v, at, path)?,
                    None => Value::Null,
                };
                path.truncate(len);
                out.insert(name.clone(), v);
            }
            Value::Object(out)
        }
        (t, j) => {
            return Err(err(
                path,
                format!("expected {}, got {}", t.to_json(), kind(j)),
            ));
        }
    })
}

fn kind(j: &Json) -> &'static str {
    match j {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// The cty type HCL would give a JSON value (objects, tuples, primitives).
pub fn infer_type(j: &Json) -> Type {
    match j {
        Json::Null => Type::Dynamic,
        Json::Bool(_) => Type::Bool,
        Json::Number(_) => Type::Number,
        Json::String(_) => Type::String,
        Json::Array(items) => Type::Tuple(items.iter().map(infer_type).collect()),
        Json::Object(m) => Type::object(m.iter().map(|(k, v)| (k.clone(), infer_type(v)))),
    }
}

/// Decodes a model from a cty value (unknowns read as `None`).
pub fn from_value<M: DeserializeOwned>(v: &Value, ty: &Type) -> Result<M, ConvertError> {
    serde_json::from_value(value_to_json(v, ty)).map_err(|e| ConvertError {
        path: ".".into(),
        message: e.to_string(),
    })
}

/// Encodes a model as a cty value of type `ty` (every attribute present, nulls included).
pub fn to_value<M: Serialize>(m: &M, ty: &Type) -> Result<Value, ConvertError> {
    let j = serde_json::to_value(m).map_err(|e| ConvertError {
        path: ".".into(),
        message: e.to_string(),
    })?;
    json_to_value(&j, ty)
}

/// Drops null entries from a JSON object (handy for building ARM bodies from models).
pub fn without_nulls(mut m: Map<String, Json>) -> Map<String, Json> {
    m.retain(|_, v| !v.is_null());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value::Refinements;

    #[test]
    fn unknowns_become_null_and_objects_are_complete() {
        let ty = Type::object([
            ("a".to_string(), Type::String),
            ("b".to_string(), Type::Bool),
            ("c".to_string(), Type::Dynamic),
        ]);
        let v = Value::Object(BTreeMap::from([
            ("a".to_string(), Value::Unknown(Refinements::default())),
            ("b".to_string(), Value::Bool(true)),
            ("c".to_string(), Value::Null),
        ]));
        let j = value_to_json(&v, &ty);
        assert_eq!(j, serde_json::json!({"a": null, "b": true, "c": null}));
        let back =
            json_to_value(&serde_json::json!({"b": false, "c": {"x": [1, "y"]}}), &ty).unwrap();
        assert_eq!(back.attr("a"), Some(&Value::Null));
        match back.attr("c").unwrap() {
            Value::Dynamic(t, _) => assert_eq!(
                t.to_json(),
                serde_json::json!(["object", {"x": ["tuple", ["number", "string"]]}])
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn type_mismatch_names_the_path() {
        let ty = Type::object([("m".to_string(), Type::map(Type::Bool))]);
        let e = json_to_value(&serde_json::json!({"m": {"k": "x"}}), &ty).unwrap_err();
        assert_eq!(e.path, ".m[\"k\"]");
    }
}
