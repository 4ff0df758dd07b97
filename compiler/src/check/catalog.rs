//! The function catalog of a dialect, read from `stdlib/<target>/functions.toml`
//! (format: `stdlib/bigquery/README.md`), and signature matching.

use crate::target::Target;
use crate::types::{Literal, Type, Typed};
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    Scalar,
    Aggregate,
    Analytic,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nulls {
    /// NULL only when an argument is NULL.
    Args,
    Never,
    Maybe,
    /// An aggregate that is NULL only over no rows (or NULL inputs): the
    /// default for aggregates. `maybe` on an aggregate means it can be NULL
    /// over rows too (`STDDEV_SAMP` of one row).
    Group,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Type(Type),
    /// A type variable, by index (`T` = 0, `U` = 1, ...).
    Var(usize),
    ArrayOf(Box<Pattern>),
    RangeOf(Box<Pattern>),
    /// A STRUCT whose field types hold variables: `STRUCT<value T, count INT64>`.
    StructOf(Vec<(Option<String>, Pattern)>),
    /// Trino's `map(K, V)` with variables.
    MapOf(Box<Pattern>, Box<Pattern>),
    /// Trino's `decimal(p,s)`: precision and scale bound from the argument
    /// (a letter) or fixed (a number): `sum(decimal(p,s)) -> decimal(38,s)`.
    Decimal(DecimalParam, DecimalParam),
    /// A lambda: its parameters' types and its result's (`function(T, U)`).
    Function(Vec<Pattern>, Box<Pattern>),
    Any,
    DatePart,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum DecimalParam {
    Var(char),
    Fixed(u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repeat {
    One,
    Optional,
    ZeroOrMore,
    OneOrMore,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub pattern: Pattern,
    pub repeat: Repeat,
    /// `=T`: no literal coercion; a literal fits only by its own type
    /// (with implicit widening), as a column would.
    pub exact: bool,
}

#[derive(Clone, Debug)]
pub struct Signature {
    pub params: Vec<Param>,
    pub returns: Pattern,
    /// The signature as written in the catalog, for messages.
    pub text: String,
}

#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub category: String,
    pub kind: FunctionKind,
    pub nulls: Nulls,
    pub deidentifying: bool,
    /// Argument positions whose values only choose a row (`max_by`'s
    /// second): lineage records them as filters, not sources.
    pub deciding: Vec<usize>,
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    functions: HashMap<String, Function>,
    /// Functions of other dialects that this one lacks, with what to write
    /// instead (`stdlib/<target>/equivalents.toml`).
    equivalents: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EquivalentsFile {
    equivalents: HashMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    functions: Vec<FunctionDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FunctionDef {
    name: String,
    category: String,
    kind: FunctionKind,
    nulls: Option<Nulls>,
    #[serde(default)]
    deidentifying: bool,
    #[serde(default)]
    deciding: Vec<usize>,
    signatures: Vec<SignatureDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignatureDef {
    args: Vec<String>,
    returns: String,
}

type ParseType<'a> = &'a dyn Fn(&str) -> Result<Type, String>;

fn parse_pattern(text: &str, parse_type: ParseType) -> Result<Pattern, String> {
    let t = text.trim();
    match t {
        "ANY" => return Ok(Pattern::Any),
        "DATEPART" => return Ok(Pattern::DatePart),
        _ => {}
    }
    if t.len() == 1 && t.chars().all(|c| c.is_ascii_uppercase()) {
        let index = if t == "T" {
            0
        } else if t == "U" {
            1
        } else {
            2 + (t.as_bytes()[0] - b'A') as usize
        };
        return Ok(Pattern::Var(index));
    }
    // Both spellings: BigQuery's `ARRAY<T>`, Trino's `array(T)`.
    let inner = |prefix: &str, close: char| {
        let lower = t.to_ascii_lowercase();
        lower.starts_with(prefix).then(|| t[prefix.len()..].strip_suffix(close)).flatten()
    };
    if let Some(inner) = inner("array<", '>').or_else(|| inner("array(", ')')) {
        let inner = parse_pattern(inner, parse_type)?;
        return Ok(match inner {
            Pattern::Type(ty) => Pattern::Type(Type::Array(Box::new(ty))),
            other => Pattern::ArrayOf(Box::new(other)),
        });
    }
    if let Some(inner) = inner("range<", '>') {
        return Ok(match parse_pattern(inner, parse_type)? {
            Pattern::Type(ty) => Pattern::Type(Type::Range(Box::new(ty))),
            other => Pattern::RangeOf(Box::new(other)),
        });
    }
    if let Some(inner) = inner("map(", ')') {
        let parts = split_top_level(inner);
        let [k, v] = parts.as_slice() else { return Err(format!("`{t}`: a map has a key and a value type")) };
        return Ok(match (parse_pattern(k, parse_type)?, parse_pattern(v, parse_type)?) {
            (Pattern::Type(k), Pattern::Type(v)) => Pattern::Type(Type::Map(Box::new(k), Box::new(v))),
            (k, v) => Pattern::MapOf(Box::new(k), Box::new(v)),
        });
    }
    if let Some(inner) = inner("function(", ')') {
        let mut parts =
            split_top_level(inner).into_iter().map(|p| parse_pattern(p, parse_type)).collect::<Result<Vec<_>, _>>()?;
        let result = parts.pop().ok_or_else(|| format!("`{t}`: a function needs a result type"))?;
        return Ok(Pattern::Function(parts, Box::new(result)));
    }
    if let Some(inner) = inner("decimal(", ')') {
        let parts = split_top_level(inner);
        let param = |p: &str| {
            let p = p.trim();
            match p.parse::<u32>() {
                Ok(n) => Some(DecimalParam::Fixed(n)),
                Err(_) if p.len() == 1 && p.chars().all(|c| c.is_ascii_lowercase()) => {
                    Some(DecimalParam::Var(p.chars().next().unwrap_or('p')))
                }
                Err(_) => None,
            }
        };
        if let [p, s] = parts.as_slice() {
            if let (Some(p), Some(s)) = (param(p), param(s)) {
                if matches!(p, DecimalParam::Var(_)) || matches!(s, DecimalParam::Var(_)) {
                    return Ok(Pattern::Decimal(p, s));
                }
            }
        }
    }
    if let Some(inner) = inner("struct<", '>').or_else(|| inner("row(", ')')) {
        let mut fields = vec![];
        for f in split_top_level(inner) {
            let f = f.trim();
            // `name TYPE` or just `TYPE`: a name is followed by a space at depth 0.
            let (name, ty) = match f.split_once(' ') {
                Some((n, ty)) if !n.contains(['<', '(']) && !ty.trim().is_empty() && !is_type_word(n) => {
                    (Some(n.to_string()), ty.trim())
                }
                _ => (None, f),
            };
            fields.push((name, parse_pattern(ty, parse_type)?));
        }
        if fields.iter().all(|(_, p)| matches!(p, Pattern::Type(_))) {
            let fs = fields
                .into_iter()
                .map(|(name, p)| crate::types::Field {
                    name,
                    ty: if let Pattern::Type(t) = p { t } else { Type::Unknown },
                })
                .collect();
            return Ok(Pattern::Type(Type::Struct(fs)));
        }
        return Ok(Pattern::StructOf(fields));
    }
    parse_type(t).map(Pattern::Type).map_err(|e| format!("`{t}`: {e}"))
}

/// Type names that take more than one word (`timestamp with time zone`,
/// `double precision`): not a field name before a type.
fn is_type_word(word: &str) -> bool {
    ["timestamp", "time", "double", "interval"].iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// Splits `a INT64, b STRUCT<x INT64, y STRING>` at the commas outside `<>`.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = vec![];
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '<' | '(' => depth += 1,
            '>' | ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

impl Catalog {
    pub fn parse(text: &str, parse_type: ParseType) -> Result<Catalog, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut functions = HashMap::new();
        for f in file.functions {
            let mut signatures = vec![];
            for s in &f.signatures {
                let mut params = vec![];
                for a in &s.args {
                    let (body, repeat) = match a.trim().chars().last() {
                        Some('?') => (&a[..a.len() - 1], Repeat::Optional),
                        Some('*') => (&a[..a.len() - 1], Repeat::ZeroOrMore),
                        Some('+') => (&a[..a.len() - 1], Repeat::OneOrMore),
                        _ => (a.as_str(), Repeat::One),
                    };
                    let (body, exact) = match body.strip_prefix('=') {
                        Some(rest) => (rest, true),
                        None => (body, false),
                    };
                    let pattern = parse_pattern(body, parse_type).map_err(|e| format!("{}: {e}", f.name))?;
                    params.push(Param { pattern, repeat, exact });
                }
                let returns = parse_pattern(&s.returns, parse_type).map_err(|e| format!("{}: {e}", f.name))?;
                let text = format!("{}({}) -> {}", f.name, s.args.join(", "), s.returns);
                signatures.push(Signature { params, returns, text });
            }
            let nulls = f.nulls.unwrap_or(if f.kind == FunctionKind::Scalar { Nulls::Args } else { Nulls::Group });
            let name = f.name.to_ascii_uppercase();
            let function = Function {
                name: name.clone(),
                category: f.category,
                kind: f.kind,
                nulls,
                deidentifying: f.deidentifying,
                deciding: f.deciding,
                signatures,
            };
            if functions.insert(name.clone(), function).is_some() {
                return Err(format!("function {name} is listed twice"));
            }
        }
        Ok(Catalog { functions, equivalents: HashMap::new() })
    }

    /// Adds the list of other dialects' functions this one lacks.
    pub fn with_equivalents(mut self, text: &str) -> Result<Catalog, String> {
        let file: EquivalentsFile = toml::from_str(text).map_err(|e| e.to_string())?;
        for name in file.equivalents.keys() {
            if self.functions.contains_key(name) {
                return Err(format!("{name} is in the catalog; it has no equivalent to suggest"));
            }
        }
        self.equivalents = file.equivalents;
        Ok(self)
    }

    /// What to write instead of another dialect's function, if this one
    /// is known to lack it.
    pub fn equivalent(&self, name: &str) -> Option<&str> {
        self.equivalents.get(&name.to_ascii_uppercase()).map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Option<&Function> {
        self.functions.get(&name.to_ascii_uppercase())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.functions.keys().map(String::as_str)
    }

    /// Every function, sorted by category and name.
    pub fn sorted(&self) -> Vec<&Function> {
        let mut all: Vec<&Function> = self.functions.values().collect();
        all.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
        all
    }
}

/// One argument of a call, as the checker saw it.
#[derive(Clone, Debug)]
pub enum Arg {
    Value(Typed),
    /// A bare date part keyword (`DAY`, `WEEK(MONDAY)`).
    DatePart,
    /// A lambda (`x -> x + 1`) with this many parameters, typed only once
    /// the signature gives its parameters' types.
    Lambda(usize),
}

#[derive(Debug)]
pub enum MatchError {
    /// No signature takes this many arguments.
    ArgumentCount,
    /// Some signature takes this many, but not of these types.
    Types,
    /// A lambda's body has the wrong type: the argument, what it must
    /// return, what it returns.
    Lambda(usize, Type, Type),
}

/// What a signature's variables are bound to while matching one call.
#[derive(Default)]
struct Bindings {
    /// Per type variable, the types of the arguments it stands for.
    vars: Vec<Vec<Typed>>,
    /// Per decimal variable (`p`, `s`), the values seen.
    decimals: Vec<(char, u32)>,
}

impl Bindings {
    fn resolve(&self, target: &dyn Target) -> Option<Resolved> {
        let mut types = vec![];
        for group in &self.vars {
            if group.is_empty() {
                types.push(None);
                continue;
            }
            let refs: Vec<&Typed> = group.iter().collect();
            types.push(Some(target.supertype(&refs)?));
        }
        Some(Resolved { types, decimals: self.decimals.clone() })
    }
}

struct Resolved {
    types: Vec<Option<Type>>,
    decimals: Vec<(char, u32)>,
}

impl Resolved {
    fn decimal(&self, p: DecimalParam) -> Option<u32> {
        match p {
            DecimalParam::Fixed(n) => Some(n),
            DecimalParam::Var(c) => self.decimals.iter().filter(|(v, _)| *v == c).map(|(_, n)| *n).max(),
        }
    }
}

impl Function {
    /// Whether the argument at this position only chooses a row.
    pub fn decides_rows(&self, index: usize) -> bool {
        self.deciding.contains(&index)
    }

    /// Whether any signature takes a date part at this argument position.
    pub fn takes_date_part(&self, index: usize) -> bool {
        self.signatures.iter().any(|s| {
            let i = index.min(s.params.len().saturating_sub(1));
            s.params.get(i).is_some_and(|p| p.pattern == Pattern::DatePart)
        })
    }

    /// The signature that accepts the arguments with the cheapest
    /// coercions (GoogleSQL's rule; the first one on a tie), and its result.
    /// Lambdas are typed (by `type_lambda`, given their parameters' types)
    /// once the other arguments have chosen the signature.
    pub fn resolve(
        &self,
        args: &[Arg],
        target: &dyn Target,
        type_lambda: &mut dyn FnMut(usize, &[Type]) -> Type,
    ) -> Result<(Type, &Signature), MatchError> {
        let mut count_fits = false;
        let mut best: Option<(u32, Vec<&Param>, Bindings, &Signature)> = None;
        for sig in &self.signatures {
            let Some(params) = expand(&sig.params, args.len()) else {
                continue;
            };
            count_fits = true;
            let mut bindings = Bindings::default();
            let fits = |p: &Param, a: &Arg| match (p.exact, &p.pattern, a) {
                (true, Pattern::Type(t), Arg::Value(v)) => target.coerces(&Typed::new(v.ty.clone(), v.nullable), t),
                _ => true,
            };
            if !params.iter().zip(args).all(|(p, a)| fits(p, a) && bind(&p.pattern, a, target, &mut bindings)) {
                continue;
            }
            if bindings.resolve(target).is_none() {
                continue;
            }
            let cost: u32 = params.iter().zip(args).map(|(p, a)| coercion_cost(&p.pattern, a)).sum();
            if best.as_ref().is_none_or(|(c, ..)| cost < *c) {
                best = Some((cost, params, bindings, sig));
            }
        }
        let Some((_, params, mut bindings, sig)) = best else {
            return Err(if count_fits { MatchError::Types } else { MatchError::ArgumentCount });
        };
        // Lambdas, left to right: each sees what the arguments before it bound.
        for (i, (p, a)) in params.iter().zip(args).enumerate() {
            let (Pattern::Function(inputs, result), Arg::Lambda(_)) = (&p.pattern, a) else { continue };
            let resolved = bindings.resolve(target).ok_or(MatchError::Types)?;
            let inputs: Vec<Type> = inputs.iter().map(|x| substitute(x, &resolved)).collect();
            let body = Typed::new(type_lambda(i, &inputs), true);
            if !bind(result, &Arg::Value(body.clone()), target, &mut bindings) {
                return Err(MatchError::Lambda(i, substitute(result, &resolved), body.ty));
            }
        }
        let resolved = bindings.resolve(target).ok_or(MatchError::Types)?;
        Ok((substitute(&sig.returns, &resolved), sig))
    }
}

/// Numeric types in order of widening (both targets' types on one scale).
fn numeric_rank(t: &Type) -> Option<u32> {
    match t {
        Type::Int8 => Some(0),
        Type::Int16 => Some(1),
        Type::Int32 => Some(2),
        Type::Int64 => Some(3),
        Type::Numeric(_) => Some(4),
        Type::BigNumeric(_) | Type::Float32 => Some(5),
        Type::Float64 => Some(6),
        _ => None,
    }
}

/// How far an argument is from a parameter type: 0 for an exact match,
/// more for each step of widening; literals coerce cheaply.
fn coercion_cost(p: &Pattern, a: &Arg) -> u32 {
    let (Pattern::Type(want), Arg::Value(v)) = (p, a) else {
        return 0;
    };
    if v.ty.unparameterized() == want.unparameterized() || v.ty.is_unknown() || v.literal == Literal::Null {
        return 0;
    }
    let steps = match (numeric_rank(&v.ty), numeric_rank(want)) {
        (Some(f), Some(t)) => t.abs_diff(f),
        _ => 1,
    };
    if v.literal == Literal::No {
        2 * steps
    } else {
        steps
    }
}

/// The parameters for a call with `n` arguments, if the signature allows `n`.
fn expand(params: &[Param], n: usize) -> Option<Vec<&Param>> {
    let required = params.iter().filter(|p| matches!(p.repeat, Repeat::One | Repeat::OneOrMore)).count();
    let optional = params.iter().filter(|p| p.repeat == Repeat::Optional).count();
    let repeating = params.iter().any(|p| matches!(p.repeat, Repeat::ZeroOrMore | Repeat::OneOrMore));
    if n < required || (!repeating && n > required + optional) {
        return None;
    }
    // Optional parameters are filled left to right, then repeats take the rest.
    let mut spare_optional = (n - required).min(optional);
    let mut extra = n - required - spare_optional;
    let mut out = vec![];
    for p in params {
        match p.repeat {
            Repeat::One => out.push(p),
            Repeat::Optional if spare_optional > 0 => {
                spare_optional -= 1;
                out.push(p);
            }
            Repeat::Optional => {}
            Repeat::OneOrMore | Repeat::ZeroOrMore => {
                if p.repeat == Repeat::OneOrMore {
                    out.push(p);
                }
                for _ in 0..extra {
                    out.push(p);
                }
                extra = 0;
            }
        }
    }
    (out.len() == n).then_some(out)
}

fn bind(pattern: &Pattern, arg: &Arg, target: &dyn Target, bindings: &mut Bindings) -> bool {
    let value = match arg {
        Arg::DatePart => return *pattern == Pattern::DatePart,
        Arg::Lambda(arity) => return matches!(pattern, Pattern::Function(inputs, _) if inputs.len() == *arity),
        Arg::Value(v) => v,
    };
    let element = |t: &Type| Arg::Value(Typed::new(t.clone(), true));
    let open = value.literal == Literal::Null || value.ty.is_unknown();
    match pattern {
        Pattern::DatePart | Pattern::Function(..) => false,
        Pattern::Any => true,
        Pattern::Type(t) => target.coerces(value, t),
        Pattern::Var(i) => {
            if bindings.vars.len() <= *i {
                bindings.vars.resize(*i + 1, vec![]);
            }
            bindings.vars[*i].push(value.clone());
            true
        }
        _ if open => true,
        Pattern::RangeOf(inner) => match &value.ty {
            Type::Range(elem) => bind(inner, &element(elem), target, bindings),
            _ => false,
        },
        Pattern::ArrayOf(inner) => match &value.ty {
            Type::Array(elem) => bind(inner, &element(elem), target, bindings),
            _ => false,
        },
        Pattern::MapOf(k, v) => match &value.ty {
            Type::Map(kt, vt) => bind(k, &element(kt), target, bindings) && bind(v, &element(vt), target, bindings),
            _ => false,
        },
        Pattern::StructOf(fields) => match &value.ty {
            Type::Struct(actual) if actual.len() == fields.len() => {
                fields.iter().zip(actual).all(|((_, p), f)| bind(p, &element(&f.ty), target, bindings))
            }
            _ => false,
        },
        Pattern::Decimal(p, s) => {
            // Integers take part as the decimals they convert to (Trino).
            let (precision, scale) = match &value.ty {
                Type::Numeric(Some(ps)) => *ps,
                Type::Numeric(None) => (38, 0),
                Type::Int8 => (3, 0),
                Type::Int16 => (5, 0),
                Type::Int32 => (10, 0),
                Type::Int64 => (19, 0),
                _ => return false,
            };
            for (param, n) in [(p, precision), (s, scale)] {
                match param {
                    DecimalParam::Var(c) => bindings.decimals.push((*c, n)),
                    DecimalParam::Fixed(f) if *f != n => return false,
                    DecimalParam::Fixed(_) => {}
                }
            }
            true
        }
    }
}

fn substitute(pattern: &Pattern, resolved: &Resolved) -> Type {
    match pattern {
        Pattern::Type(t) => t.clone(),
        Pattern::Var(i) => resolved.types.get(*i).cloned().flatten().unwrap_or(Type::Unknown),
        Pattern::ArrayOf(inner) => Type::Array(Box::new(substitute(inner, resolved))),
        Pattern::RangeOf(inner) => Type::Range(Box::new(substitute(inner, resolved))),
        Pattern::MapOf(k, v) => Type::Map(Box::new(substitute(k, resolved)), Box::new(substitute(v, resolved))),
        Pattern::StructOf(fields) => Type::Struct(
            fields
                .iter()
                .map(|(name, p)| crate::types::Field { name: name.clone(), ty: substitute(p, resolved) })
                .collect(),
        ),
        Pattern::Decimal(p, s) => match (resolved.decimal(*p), resolved.decimal(*s)) {
            (Some(p), Some(s)) => Type::Numeric(Some((p.clamp(s.max(1), 38), s.min(38)))),
            _ => Type::Numeric(None),
        },
        Pattern::Any | Pattern::DatePart | Pattern::Function(..) => Type::Unknown,
    }
}
