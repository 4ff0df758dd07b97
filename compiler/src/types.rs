//! SQL types, independent of how a target spells them. A target parses its
//! own spelling into [`Type`] and prints [`Type`] back in its canonical form.

use serde::{Deserialize, Serialize};

/// A column or expression type. `Unknown` is the type of anything the
/// checker could not type (an unknown function, an upstream error); it is
/// compatible with everything so that one problem never cascades.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Type {
    Bool,
    /// Trino's `tinyint`, `smallint` and `integer` (BigQuery has only INT64).
    Int8,
    Int16,
    Int32,
    Int64,
    /// Trino's `real`.
    Float32,
    Float64,
    /// Precision and scale, when declared (`NUMERIC(12, 2)`).
    Numeric(Option<(u32, u32)>),
    BigNumeric(Option<(u32, u32)>),
    /// Maximum length, when declared (`STRING(10)`).
    String(Option<u64>),
    Bytes(Option<u64>),
    /// Trino's fixed-length `char(n)`.
    Char(Option<u64>),
    Date,
    /// A date and time without time zone: BigQuery's DATETIME, Trino's `timestamp`.
    Datetime,
    Time,
    /// An instant: BigQuery's TIMESTAMP, Trino's `timestamp with time zone`.
    Timestamp,
    Interval,
    Json,
    Geography,
    Range(Box<Type>),
    Array(Box<Type>),
    /// Trino's `map(K, V)`.
    Map(Box<Type>, Box<Type>),
    /// BigQuery's STRUCT, Trino's `row`.
    Struct(Vec<Field>),
    /// A type only functions use, equal only to itself (Trino's `uuid`,
    /// `ipaddress`, `hyperloglog`, `geometry`, ...), by its lower-case name.
    Named(String),
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Field {
    pub name: Option<String>,
    pub ty: Type,
}

impl Type {
    pub const STRING: Type = Type::String(None);
    pub const NUMERIC: Type = Type::Numeric(None);
    pub const BIGNUMERIC: Type = Type::BigNumeric(None);

    /// The type without its parameters (precision, scale, length), at every
    /// level: the type of a value read from a column.
    pub fn unparameterized(&self) -> Type {
        match self {
            Type::Numeric(_) => Type::NUMERIC,
            Type::BigNumeric(_) => Type::BIGNUMERIC,
            Type::String(_) => Type::STRING,
            Type::Bytes(_) => Type::Bytes(None),
            Type::Char(_) => Type::Char(None),
            Type::Map(k, v) => Type::Map(Box::new(k.unparameterized()), Box::new(v.unparameterized())),
            Type::Range(t) => Type::Range(Box::new(t.unparameterized())),
            Type::Array(t) => Type::Array(Box::new(t.unparameterized())),
            Type::Struct(fs) => {
                Type::Struct(fs.iter().map(|f| Field { name: f.name.clone(), ty: f.ty.unparameterized() }).collect())
            }
            t => t.clone(),
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Type::Unknown)
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            Type::Int8
                | Type::Int16
                | Type::Int32
                | Type::Int64
                | Type::Float32
                | Type::Float64
                | Type::Numeric(_)
                | Type::BigNumeric(_)
                | Type::Unknown
        )
    }

    pub fn is_integer(&self) -> bool {
        matches!(self, Type::Int8 | Type::Int16 | Type::Int32 | Type::Int64)
    }

    /// Whether the type contains `Unknown` anywhere.
    pub fn has_unknown(&self) -> bool {
        match self {
            Type::Unknown => true,
            Type::Array(t) | Type::Range(t) => t.has_unknown(),
            Type::Map(k, v) => k.has_unknown() || v.has_unknown(),
            Type::Struct(fs) => fs.iter().any(|f| f.ty.has_unknown()),
            _ => false,
        }
    }

    pub fn field(&self, name: &str) -> Option<(usize, &Field)> {
        match self {
            Type::Struct(fs) => {
                fs.iter().enumerate().find(|(_, f)| f.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }
            _ => None,
        }
    }
}

/// What kind of literal an expression is, if it is one: literals coerce
/// more freely than other expressions (`1` can be NUMERIC, `'2024-01-01'`
/// can be a DATE).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Literal {
    No,
    Null,
    Int,
    Float,
    String,
}

/// The type of an expression, with what the checker knows about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub ty: Type,
    /// False only where the checker can prove the value is never NULL.
    pub nullable: bool,
    pub literal: Literal,
}

impl Typed {
    pub fn new(ty: Type, nullable: bool) -> Typed {
        Typed { ty, nullable, literal: Literal::No }
    }
    pub fn unknown() -> Typed {
        Typed::new(Type::Unknown, true)
    }
    pub fn lit(ty: Type, literal: Literal) -> Typed {
        Typed { ty, nullable: literal == Literal::Null, literal }
    }
}

/// Whether a value of one type can be stored in a column of another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assign {
    Yes,
    /// Allowed, but the value may lose precision or length.
    Lossy,
    No,
}

/// Where values come from: a column (or a STRUCT field path, `device.category`)
/// of one of the product's inputs, by input index.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Origin {
    pub input: u32,
    pub column: String,
    /// The value went through a de-identifying function (a hash): the
    /// lineage stays, the classification does not.
    pub deidentified: bool,
}

/// The column lineage of an expression or output column: the columns whose
/// values flow into it, and the columns that only decide which rows there
/// are or how they are ordered.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    pub sources: std::collections::BTreeSet<Origin>,
    pub filters: std::collections::BTreeSet<Origin>,
}

impl Lineage {
    pub fn absorb(&mut self, other: Lineage) {
        self.sources.extend(other.sources);
        self.filters.extend(other.filters);
    }
    /// Everything, as row-deciding influence.
    pub fn into_filters(self) -> std::collections::BTreeSet<Origin> {
        let mut all = self.filters;
        all.extend(self.sources);
        all
    }
}
