//! The cty value model: what Terraform sends and expects in `DynamicValue`s.
//!
//! Every value is encoded against a type implied by the schema (cty's type JSON:
//! `"string"`, `["list","string"]`, `["object",{...}]`, ...). Decoding and encoding are
//! therefore always given the [`Type`]; a value of dynamic type carries its own concrete type
//! in [`Value::Dynamic`].

mod json;
mod msgpack;
#[cfg(test)]
mod tests;
mod types;

use std::collections::{BTreeMap, BTreeSet};

pub use json::{decode_json, decode_state_json, encode_json};
pub use msgpack::{decode_msgpack, encode_msgpack};

/// A cty type.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Bool,
    Number,
    String,
    /// `"dynamic"`: the concrete type travels with the value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    /// An object type; `optional` lists attributes marked optional in a type constraint
    /// (third element of the type JSON). It does not change the wire shape.
    Object {
        attrs: BTreeMap<String, Type>,
        optional: BTreeSet<String>,
    },
    Tuple(Vec<Type>),
}

/// A cty number. Terraform numbers are arbitrary precision; the wire carries int64, float64,
/// or the decimal text when neither is exact.
#[derive(Clone, Debug, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
    /// Decimal text of a number neither int64 nor float64 can hold exactly.
    Big(String),
}

/// Refinements Terraform may attach to an unknown value (msgpack ext type 12).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// The value is known to be non-null once it becomes known.
    pub not_null: bool,
    /// Known prefix of a string value.
    pub string_prefix: Option<String>,
    /// Lower bound of a number: (bound, inclusive).
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of a number: (bound, inclusive).
    pub number_upper: Option<(Number, bool)>,
    /// Lower bound of a collection's length.
    pub length_lower: Option<u64>,
    /// Upper bound of a collection's length.
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A cty value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Set elements in the order they arrived (cty sets have no defined order).
    Set(Vec<Value>),
    Tuple(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// Objects always carry every attribute of their type (nulls included).
    Object(BTreeMap<String, Value>),
    /// A value at a position of dynamic type, with its concrete type.
    Dynamic(Box<Type>, Box<Value>),
}

/// Errors from decoding or encoding values.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CodecError {
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("invalid type JSON: {0}")]
    Type(String),
}

impl CodecError {
    pub(crate) fn at(path: &str, message: impl Into<String>) -> Self {
        CodecError::Invalid {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.to_string()
            },
            message: message.into(),
        }
    }
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => {
                v.iter().all(Value::is_wholly_known)
            }
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_wholly_known),
            Value::Dynamic(_, v) => v.is_wholly_known(),
            _ => true,
        }
    }

    /// An object attribute (None for non-objects or missing attributes).
    pub fn attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            Value::Dynamic(_, v) => v.attr(name),
            _ => None,
        }
    }

    pub fn attr_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(m) => m.get_mut(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The null value of every attribute of an object type.
    pub fn null_object(ty: &Type) -> Value {
        match ty {
            Type::Object { attrs, .. } => {
                Value::Object(attrs.keys().map(|k| (k.clone(), Value::Null)).collect())
            }
            _ => Value::Null,
        }
    }
}

impl Type {
    pub fn list(t: Type) -> Type {
        Type::List(Box::new(t))
    }
    pub fn set(t: Type) -> Type {
        Type::Set(Box::new(t))
    }
    pub fn map(t: Type) -> Type {
        Type::Map(Box::new(t))
    }
    pub fn object(attrs: impl IntoIterator<Item = (String, Type)>) -> Type {
        Type::Object {
            attrs: attrs.into_iter().collect(),
            optional: BTreeSet::new(),
        }
    }
}
