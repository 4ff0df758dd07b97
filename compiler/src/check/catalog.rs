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
    Any,
    DatePart,
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
    pub signatures: Vec<Signature>,
}

#[derive(Debug, Default)]
pub struct Catalog {
    functions: HashMap<String, Function>,
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
    if let Some(inner) = t.strip_prefix("ARRAY<").and_then(|r| r.strip_suffix('>')) {
        let inner = parse_pattern(inner, parse_type)?;
        return Ok(match inner {
            Pattern::Type(ty) => Pattern::Type(Type::Array(Box::new(ty))),
            other => Pattern::ArrayOf(Box::new(other)),
        });
    }
    if let Some(inner) = t.strip_prefix("RANGE<").and_then(|r| r.strip_suffix('>')) {
        return Ok(match parse_pattern(inner, parse_type)? {
            Pattern::Type(ty) => Pattern::Type(Type::Range(Box::new(ty))),
            other => Pattern::RangeOf(Box::new(other)),
        });
    }
    if let Some(inner) = t.strip_prefix("STRUCT<").and_then(|r| r.strip_suffix('>')) {
        let mut fields = vec![];
        for f in split_top_level(inner) {
            let f = f.trim();
            // `name TYPE` or just `TYPE`: a name is followed by a space at depth 0.
            let (name, ty) = match f.split_once(' ') {
                Some((n, ty)) if !n.contains('<') && !ty.trim().is_empty() => (Some(n.to_string()), ty.trim()),
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
            let nulls = f.nulls.unwrap_or(if f.kind == FunctionKind::Scalar { Nulls::Args } else { Nulls::Maybe });
            let name = f.name.to_ascii_uppercase();
            let function = Function {
                name: name.clone(),
                category: f.category,
                kind: f.kind,
                nulls,
                deidentifying: f.deidentifying,
                signatures,
            };
            if functions.insert(name.clone(), function).is_some() {
                return Err(format!("function {name} is listed twice"));
            }
        }
        Ok(Catalog { functions })
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
}

#[derive(Debug)]
pub enum MatchError {
    /// No signature takes this many arguments.
    ArgumentCount,
    /// Some signature takes this many, but not of these types.
    Types,
}

impl Function {
    /// Whether any signature takes a date part at this argument position.
    pub fn takes_date_part(&self, index: usize) -> bool {
        self.signatures.iter().any(|s| {
            let i = index.min(s.params.len().saturating_sub(1));
            s.params.get(i).is_some_and(|p| p.pattern == Pattern::DatePart)
        })
    }

    /// The signature that accepts the arguments with the cheapest
    /// coercions (GoogleSQL's rule; the first one on a tie), and its result.
    pub fn resolve(&self, args: &[Arg], target: &dyn Target) -> Result<(Type, &Signature), MatchError> {
        let mut count_fits = false;
        let mut best: Option<(u32, Type, &Signature)> = None;
        for sig in &self.signatures {
            let Some(params) = expand(&sig.params, args.len()) else {
                continue;
            };
            count_fits = true;
            let mut bindings: Vec<Vec<Typed>> = vec![];
            let fits = |p: &Param, a: &Arg| match (p.exact, &p.pattern, a) {
                (true, Pattern::Type(t), Arg::Value(v)) => target.coerces(&Typed::new(v.ty.clone(), v.nullable), t),
                _ => true,
            };
            if !params.iter().zip(args).all(|(p, a)| fits(p, a) && bind(&p.pattern, a, target, &mut bindings)) {
                continue;
            }
            let mut resolved: Vec<Option<Type>> = vec![];
            let mut all_bound = true;
            for group in &bindings {
                if group.is_empty() {
                    resolved.push(None);
                    continue;
                }
                let refs: Vec<&Typed> = group.iter().collect();
                match target.supertype(&refs) {
                    Some(t) => resolved.push(Some(t)),
                    None => {
                        all_bound = false;
                        break;
                    }
                }
            }
            if !all_bound {
                continue;
            }
            let cost: u32 = params.iter().zip(args).map(|(p, a)| coercion_cost(&p.pattern, a)).sum();
            if best.as_ref().is_none_or(|(c, _, _)| cost < *c) {
                best = Some((cost, substitute(&sig.returns, &resolved), sig));
            }
        }
        match best {
            Some((_, ty, sig)) => Ok((ty, sig)),
            None => Err(if count_fits { MatchError::Types } else { MatchError::ArgumentCount }),
        }
    }
}

/// How far an argument is from a parameter type: 0 for an exact match,
/// more for each step of widening; literals coerce cheaply.
fn coercion_cost(p: &Pattern, a: &Arg) -> u32 {
    let (Pattern::Type(want), Arg::Value(v)) = (p, a) else {
        return 0;
    };
    let rank = |t: &Type| match t {
        Type::Int64 => Some(0u32),
        Type::Numeric(_) => Some(1),
        Type::BigNumeric(_) => Some(2),
        Type::Float64 => Some(3),
        _ => None,
    };
    if v.ty.unparameterized() == want.unparameterized() || v.ty.is_unknown() || v.literal == Literal::Null {
        return 0;
    }
    let steps = match (rank(&v.ty), rank(want)) {
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

fn bind(pattern: &Pattern, arg: &Arg, target: &dyn Target, bindings: &mut Vec<Vec<Typed>>) -> bool {
    let value = match arg {
        Arg::DatePart => return *pattern == Pattern::DatePart,
        Arg::Value(v) => v,
    };
    match pattern {
        Pattern::DatePart => false,
        Pattern::Any => true,
        Pattern::Type(t) => target.coerces(value, t),
        Pattern::Var(i) => {
            if bindings.len() <= *i {
                bindings.resize(*i + 1, vec![]);
            }
            bindings[*i].push(value.clone());
            true
        }
        Pattern::RangeOf(inner) => match (&value.ty, value.literal) {
            (_, Literal::Null) | (Type::Unknown, _) => true,
            (Type::Range(elem), _) => bind(inner, &Arg::Value(Typed::new((**elem).clone(), true)), target, bindings),
            _ => false,
        },
        Pattern::StructOf(fields) => match &value.ty {
            Type::Unknown => true,
            Type::Struct(actual) if actual.len() == fields.len() => fields
                .iter()
                .zip(actual)
                .all(|((_, p), f)| bind(p, &Arg::Value(Typed::new(f.ty.clone(), true)), target, bindings)),
            _ => value.literal == Literal::Null,
        },
        Pattern::ArrayOf(inner) => match (&value.ty, value.literal) {
            (_, Literal::Null) | (Type::Unknown, _) => true,
            (Type::Array(elem), _) => bind(inner, &Arg::Value(Typed::new((**elem).clone(), true)), target, bindings),
            _ => false,
        },
    }
}

fn substitute(pattern: &Pattern, resolved: &[Option<Type>]) -> Type {
    match pattern {
        Pattern::Type(t) => t.clone(),
        Pattern::Var(i) => resolved.get(*i).cloned().flatten().unwrap_or(Type::Unknown),
        Pattern::ArrayOf(inner) => Type::Array(Box::new(substitute(inner, resolved))),
        Pattern::RangeOf(inner) => Type::Range(Box::new(substitute(inner, resolved))),
        Pattern::StructOf(fields) => Type::Struct(
            fields
                .iter()
                .map(|(name, p)| crate::types::Field { name: name.clone(), ty: substitute(p, resolved) })
                .collect(),
        ),
        Pattern::Any | Pattern::DatePart => Type::Unknown,
    }
}
