//! Expressions: names, literals, operators, CASE, CAST, subqueries and
//! function calls against the catalog, with GROUP BY validity.

use super::catalog::{Arg, FunctionKind, MatchError, Nulls};
use super::query::{canonical, field_lineage, Checker, Clause, Ctx, Scope, ScopeCol, ScopeRel};
use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::types::{Field, Lineage, Literal, Origin, Type, Typed};
use sqlparser::ast::{
    AccessExpr, BinaryOperator as B, CastKind, DateTimeField, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArguments, Ident, InTarget, LambdaFunction, OneOrManyWithParens, Subscript, UnaryOperator, Value,
};

/// Deeper expressions are reported instead of typed (the stack is large,
/// but not unbounded).
const MAX_DEPTH: usize = 20_000;

/// Date parts that functions such as DATE_TRUNC take as bare keywords.
const DATE_PARTS: &[&str] = &[
    "MICROSECOND",
    "MILLISECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "DAYOFWEEK",
    "DAYOFYEAR",
    "WEEK",
    "ISOWEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "ISOYEAR",
    "DATE",
    "DATETIME",
    "TIME",
];

fn is_date_part(e: &Expr) -> bool {
    match e {
        Expr::Identifier(i) => i.quote_style.is_none() && DATE_PARTS.contains(&i.value.to_ascii_uppercase().as_str()),
        // WEEK(MONDAY)
        Expr::Function(f) => f.name.to_string().eq_ignore_ascii_case("WEEK"),
        _ => false,
    }
}

impl Checker<'_> {
    pub(super) fn type_expr(&mut self, e: &Expr, scope: &Scope, ctx: Ctx) -> Typed {
        if self.depth >= MAX_DEPTH {
            if !self.too_deep {
                self.too_deep = true;
                self.error(
                    Diagnostic::error(
                        codes::UNSUPPORTED_SYNTAX,
                        format!("expression nested more than {MAX_DEPTH} levels deep"),
                    )
                    .label(self.span_of(e), "too deep")
                    .help("split the expression, e.g. `x IN (...)` instead of a long chain of `x = ... OR x = ...`"),
                );
            }
            return Typed::unknown();
        }
        self.depth += 1;
        let t = self.type_expr_inner(e, scope, ctx);
        self.depth -= 1;
        t
    }

    fn type_expr_inner(&mut self, e: &Expr, scope: &Scope, ctx: Ctx) -> Typed {
        // In a grouped SELECT, an expression equal to a GROUP BY key is fine
        // whatever columns it reads.
        if let Some(g) = ctx.grouping {
            if !ctx.in_aggregate && !matches!(e, Expr::Identifier(_) | Expr::Value(_)) && g.keys.contains(&canonical(e))
            {
                let mut t = self.type_expr(e, scope, Ctx { grouping: None, ..ctx });
                t.nullable |= g.rolled_up;
                return t;
            }
        }
        match e {
            Expr::Identifier(id) => self.type_name(std::slice::from_ref(id), e, scope, ctx),
            Expr::CompoundIdentifier(parts) => self.type_name(parts, e, scope, ctx),
            Expr::Nested(inner) => {
                let mut t = self.type_expr(inner, scope, ctx);
                t.literal = if t.literal == Literal::Null { Literal::Null } else { t.literal };
                t
            }
            Expr::Value(v) => {
                let quoted = match &v.value {
                    Value::SingleQuotedString(s) => Some((s, '\'')),
                    Value::DoubleQuotedString(s) => Some((s, '"')),
                    _ => None,
                };
                if let Some((raw, quote)) = quoted {
                    if let Err(msg) = self.target.check_string_literal(raw, quote) {
                        self.error(
                            Diagnostic::error(codes::UNSUPPORTED_SYNTAX, "a string literal the target does not accept")
                                .label(self.map.span(v.span), msg)
                                .help("escape quotes with a backslash, or use the other quote character: \"it's\""),
                        );
                    }
                }
                self.target.literal(&v.value)
            }
            Expr::TypedString(ts) => match self.target.convert_type(&ts.data_type) {
                Ok(ty) => Typed::new(ty, false),
                Err(msg) => {
                    self.error(Diagnostic::error(codes::INVALID_TYPE, msg).label(self.span_of(e), "invalid type"));
                    Typed::unknown()
                }
            },
            Expr::Interval(i) => {
                self.type_expr(&i.value, scope, ctx);
                Typed::new(Type::Interval, false)
            }
            Expr::BinaryOp { left, op, right } => self.type_binary(e, left, op, right, scope, ctx),
            Expr::UnaryOp { op, expr } => {
                let t = self.type_expr(expr, scope, ctx);
                match op {
                    UnaryOperator::Not => {
                        self.expect_bool(&t, expr, "NOT");
                        Typed::new(Type::Bool, t.nullable)
                    }
                    UnaryOperator::Minus | UnaryOperator::Plus => {
                        if !t.ty.is_numeric() && t.ty != Type::Interval && t.literal != Literal::Null {
                            self.mismatch(e, &format!("`{op}` needs a number, not {}", self.target.type_name(&t.ty)));
                            return Typed::unknown();
                        }
                        t
                    }
                    _ => Typed::new(t.ty, t.nullable),
                }
            }
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                self.type_expr(x, scope, ctx);
                Typed::new(Type::Bool, false)
            }
            Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x) => {
                let t = self.type_expr(x, scope, ctx);
                self.expect_bool(&t, x, "IS TRUE/FALSE");
                Typed::new(Type::Bool, false)
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                let (l, r) = (self.type_expr(a, scope, ctx), self.type_expr(b, scope, ctx));
                self.compare(e, &l, &r, false);
                Typed::new(Type::Bool, false)
            }
            Expr::In { expr, target: InTarget::List(list), .. } => {
                let l = self.type_expr(expr, scope, ctx);
                let mut nullable = l.nullable;
                for item in list {
                    let r = self.type_expr(item, scope, ctx);
                    nullable |= r.nullable;
                    self.compare(item, &l, &r, false);
                }
                Typed::new(Type::Bool, nullable)
            }
            Expr::In { expr, target: InTarget::Subquery(subquery), .. } => {
                let l = self.type_expr(expr, scope, ctx);
                let rel = self.subquery(subquery, scope, false);
                if let Some(r) = self.single_column(&rel, e) {
                    self.compare(e, &l, &r, false);
                }
                Typed::new(Type::Bool, true)
            }
            Expr::In { expr, target: InTarget::Unnest(array_expr), .. } => {
                let l = self.type_expr(expr, scope, ctx);
                let a = self.type_expr(array_expr, scope, ctx);
                match &a.ty {
                    Type::Array(elem) => self.compare(e, &l, &Typed::new((**elem).clone(), true), false),
                    Type::Unknown => {}
                    other => self.mismatch(
                        array_expr,
                        &format!("IN UNNEST needs an ARRAY, not {}", self.target.type_name(other)),
                    ),
                }
                Typed::new(Type::Bool, true)
            }
            Expr::Between { expr, low, high, .. } => {
                let x = self.type_expr(expr, scope, ctx);
                let lo = self.type_expr(low, scope, ctx);
                let hi = self.type_expr(high, scope, ctx);
                self.compare(low, &x, &lo, true);
                self.compare(high, &x, &hi, true);
                Typed::new(Type::Bool, x.nullable || lo.nullable || hi.nullable)
            }
            Expr::ILike { .. } => {
                self.foreign_syntax(self.span_of(e), "ILIKE", "write `LOWER(x) LIKE LOWER(pattern)`");
                Typed::new(Type::Bool, true)
            }
            Expr::Like { expr, pattern, escape_char, .. } => {
                let x = self.type_expr(expr, scope, ctx);
                let p = self.type_expr(pattern, scope, ctx);
                if let Some(esc) = escape_char {
                    self.type_expr(esc, scope, ctx);
                }
                for (t, at) in [(&x, expr), (&p, pattern)] {
                    if !matches!(t.ty, Type::String(_) | Type::Bytes(_) | Type::Unknown) && t.literal != Literal::Null {
                        self.mismatch(at, &format!("LIKE needs STRING or BYTES, not {}", self.target.type_name(&t.ty)));
                    }
                }
                Typed::new(Type::Bool, x.nullable || p.nullable)
            }
            Expr::Cast { kind, expr, data_type, .. } => {
                if *kind == CastKind::DoubleColon {
                    self.foreign_syntax(self.span_of(e), "the `::` cast", "write `CAST(x AS type)`");
                }
                let from = self.type_expr(expr, scope, ctx);
                let to = match self.target.convert_type(data_type) {
                    Ok(t) => t,
                    Err(msg) => {
                        self.error(
                            Diagnostic::error(codes::INVALID_TYPE, msg).label(self.span_of(e), "invalid type in CAST"),
                        );
                        return Typed::unknown();
                    }
                };
                if !self.target.castable(&from.ty, &to) && from.literal != Literal::Null {
                    self.error(
                        Diagnostic::error(
                            codes::INVALID_CAST,
                            format!(
                                "cannot cast {} to {}",
                                self.target.type_name(&from.ty),
                                self.target.type_name(&to)
                            ),
                        )
                        .label(self.span_of(e), "invalid cast")
                        .help("convert in steps, or use a function such as FORMAT or PARSE_DATE"),
                    );
                }
                let safe = matches!(kind, CastKind::SafeCast | CastKind::TryCast);
                // The parameters stay: CAST(x AS NUMERIC(12, 2)) fits a NUMERIC(12, 2) column.
                Typed::new(to, from.nullable || safe)
            }
            Expr::Extract { field, expr, .. } => {
                let t = self.type_expr(expr, scope, ctx);
                if !matches!(
                    t.ty,
                    Type::Date | Type::Datetime | Type::Time | Type::Timestamp | Type::Interval | Type::Unknown
                ) {
                    self.mismatch(
                        expr,
                        &format!("EXTRACT needs a date or time value, not {}", self.target.type_name(&t.ty)),
                    );
                }
                let time_part = matches!(
                    field,
                    DateTimeField::Hour
                        | DateTimeField::Minute
                        | DateTimeField::Second
                        | DateTimeField::Millisecond
                        | DateTimeField::Microsecond
                        | DateTimeField::Time
                );
                let date_part = !time_part && !matches!(field, DateTimeField::Datetime);
                let allowed = match t.ty {
                    Type::Date => date_part && !matches!(field, DateTimeField::Date),
                    Type::Time => time_part && !matches!(field, DateTimeField::Time),
                    _ => true,
                };
                if !allowed {
                    self.error(
                        Diagnostic::error(
                            codes::NO_MATCHING_SIGNATURE,
                            format!("EXTRACT from {} has no {field} part", self.target.type_name(&t.ty)),
                        )
                        .label(self.span_of(e), "no such part")
                        .help("extract a part the value has, or CAST it to DATETIME or TIMESTAMP first"),
                    );
                    return Typed::unknown();
                }
                let ty = match field {
                    DateTimeField::Date => Type::Date,
                    DateTimeField::Datetime => Type::Datetime,
                    DateTimeField::Time => Type::Time,
                    _ => Type::Int64,
                };
                Typed::new(ty, t.nullable)
            }
            Expr::Substring { expr, substring_from, substring_for, .. } => {
                // sqlparser gives SUBSTR/SUBSTRING a node of its own; type it
                // as the catalog's SUBSTR all the same.
                let args: Vec<Arg> = std::iter::once(&**expr)
                    .chain(substring_from.iter().map(|b| &**b))
                    .chain(substring_for.iter().map(|b| &**b))
                    .map(|x| Arg::Value(self.type_expr(x, scope, ctx)))
                    .collect();
                match self.target.catalog().get("SUBSTR") {
                    Some(def) => {
                        let resolved = def.resolve(&args, self.target, &mut |_, _| Type::Unknown);
                        self.apply_call("SUBSTR", def, &args, resolved, e, false, false, ctx)
                    }
                    None => Typed::unknown(),
                }
            }
            Expr::Trim { expr, trim_what, trim_characters, .. } => {
                let t = self.type_expr(expr, scope, ctx);
                for x in trim_what.iter().map(|b| &**b).chain(trim_characters.iter().flatten()) {
                    self.type_expr(x, scope, ctx);
                }
                Typed::new(self.target.value_type(&t.ty), t.nullable)
            }
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => {
                // A node of its own to sqlparser; typed as the catalog's function.
                let name = if matches!(e, Expr::Ceil { .. }) { "CEIL" } else { "FLOOR" };
                let args = [Arg::Value(self.type_expr(expr, scope, ctx))];
                match self.target.catalog().get(name) {
                    Some(def) => {
                        let resolved = def.resolve(&args, self.target, &mut |_, _| Type::Unknown);
                        self.apply_call(name, def, &args, resolved, e, false, false, ctx)
                    }
                    None => Typed::unknown(),
                }
            }
            Expr::Position { expr, r#in } => {
                let a = self.type_expr(expr, scope, ctx);
                let b = self.type_expr(r#in, scope, ctx);
                Typed::new(Type::Int64, a.nullable || b.nullable)
            }
            Expr::Case { operand, conditions, else_result, .. } => {
                let op = operand.as_ref().map(|o| (self.type_expr(o, scope, ctx), o));
                let mut results = vec![];
                for w in conditions {
                    let c = self.type_expr(&w.condition, scope, ctx);
                    match &op {
                        Some((o, _)) => self.compare(&w.condition, o, &c, false),
                        None => self.expect_bool(&c, &w.condition, "CASE WHEN"),
                    }
                    results.push((self.type_expr(&w.result, scope, ctx), &w.result));
                }
                match else_result {
                    Some(x) => results.push((self.type_expr(x, scope, ctx), x)),
                    None => results.push((Typed::lit(Type::Int64, Literal::Null), e)),
                }
                self.unify(e, &results, "CASE")
            }
            Expr::Exists { subquery, .. } => {
                // Whether rows exist: everything the subquery reads only decides.
                self.subquery(subquery, scope, false);
                Typed::new(Type::Bool, false)
            }
            Expr::Subquery(q) => {
                let rel = self.subquery(q, scope, true);
                match self.single_column(&rel, e) {
                    Some(t) => Typed::new(t.ty, true),
                    None => Typed::unknown(),
                }
            }
            Expr::Tuple(items) => {
                let fields = items.iter().map(|x| Field { name: None, ty: self.type_expr(x, scope, ctx).ty }).collect();
                Typed::new(Type::Struct(fields), false)
            }
            Expr::Struct { values, fields } => {
                let mut out = vec![];
                for (i, v) in values.iter().enumerate() {
                    let (name, inner) = match v {
                        Expr::Named { expr, name } => (Some(name.value.clone()), &**expr),
                        other => (None, other),
                    };
                    let t = self.type_expr(inner, scope, ctx);
                    let declared = fields.get(i).and_then(|f| self.target.convert_type(&f.field_type).ok());
                    let name = fields
                        .get(i)
                        .and_then(|f| f.field_name.as_ref().map(|n| n.value.clone()))
                        .or(name)
                        .or_else(|| implicit_field_name(inner));
                    out.push(Field { name, ty: declared.unwrap_or(t.ty) });
                }
                Typed::new(Type::Struct(out), false)
            }
            Expr::Array(arr) => {
                let items: Vec<(Typed, &Expr)> = arr.elem.iter().map(|x| (self.type_expr(x, scope, ctx), x)).collect();
                if items.is_empty() {
                    return Typed::new(Type::Array(Box::new(Type::Unknown)), false);
                }
                let t = self.unify(e, &items, "ARRAY");
                Typed::new(Type::Array(Box::new(t.ty)), false)
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                // `r.tags[OFFSET(0)]`: the name is `r.tags`, then a subscript
                // (typing `r` alone would read the whole row of `r`).
                let mut parts: Vec<Ident> = match &**root {
                    Expr::Identifier(i) => vec![i.clone()],
                    Expr::CompoundIdentifier(p) => p.clone(),
                    _ => vec![],
                };
                let mut rest = &access_chain[..];
                if !parts.is_empty() {
                    while let Some((AccessExpr::Dot(Expr::Identifier(field)), tail)) = rest.split_first() {
                        parts.push(field.clone());
                        rest = tail;
                    }
                }
                let mut t = if parts.is_empty() {
                    self.type_expr(root, scope, ctx)
                } else {
                    self.type_name(&parts, e, scope, ctx)
                };
                for access in rest {
                    t = self.access(e, t, access, scope, ctx);
                }
                t
            }
            Expr::Function(f) => self.type_function(e, f, scope, ctx),
            Expr::AtTimeZone { timestamp, time_zone } => {
                let t = self.type_expr(timestamp, scope, ctx);
                self.type_expr(time_zone, scope, ctx);
                Typed::new(Type::Timestamp, t.nullable)
            }
            Expr::Named { expr, .. } => self.type_expr(expr, scope, ctx),
            other => {
                self.error(
                    Diagnostic::warning(codes::NOT_CHECKED, "this expression is not type-checked yet")
                        .label(self.span_of(other), "type unknown")
                        .help("its type is treated as unknown; declare the column's type in the port's contract"),
                );
                Typed::unknown()
            }
        }
    }

    /// A subquery in an expression, and its lineage: with `values`, its one
    /// column's values flow into the expression (a scalar or ARRAY subquery)
    /// and the rest decides rows; without, everything it reads only decides
    /// (EXISTS, IN).
    fn subquery(&mut self, q: &sqlparser::ast::Query, scope: &Scope, values: bool) -> super::query::Rel {
        let (rel, stray) = self.collect(|c| c.check_query(q, Some(scope)));
        self.read_as_filter(stray);
        self.read_as_filter(Lineage { sources: Default::default(), filters: rel.filters.clone() });
        match (values, rel.columns.as_slice()) {
            (true, [only]) => self.read(only.lineage.clone()),
            (true, _) => {} // several columns: reported by the caller
            (false, columns) => columns.iter().for_each(|c| self.read_as_filter(c.lineage.clone())),
        }
        rel
    }

    fn mismatch(&mut self, at: &Expr, message: &str) {
        self.error(
            Diagnostic::error(codes::TYPE_MISMATCH, message.to_string())
                .label(self.span_of(at), "wrong type")
                .help("CAST the value to the type the operation expects"),
        );
    }

    fn compare(&mut self, at: &Expr, l: &Typed, r: &Typed, ordering: bool) {
        if !self.target.comparable(l, r, ordering) {
            let (lt, rt) = (self.target.type_name(&l.ty), self.target.type_name(&r.ty));
            self.error(
                Diagnostic::error(codes::TYPE_MISMATCH, format!("cannot compare {lt} with {rt}"))
                    .label(self.span_of(at), format!("{lt} compared with {rt}"))
                    .help(format!("CAST one side, e.g. `CAST(... AS {lt})`")),
            );
        }
    }

    fn unify(&mut self, at: &Expr, items: &[(Typed, &Expr)], what: &str) -> Typed {
        let refs: Vec<&Typed> = items.iter().map(|(t, _)| t).collect();
        let nullable = items.iter().any(|(t, _)| t.nullable);
        match self.target.supertype(&refs) {
            Some(ty) => {
                let literal = if items.iter().all(|(t, _)| t.literal == items[0].0.literal) {
                    items[0].0.literal
                } else {
                    Literal::No
                };
                Typed { ty, nullable, literal: if literal == Literal::Null { Literal::Null } else { Literal::No } }
            }
            None => {
                let types: Vec<String> = items.iter().map(|(t, _)| self.target.type_name(&t.ty)).collect();
                let mut d = Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("the values of {what} have no common type: {}", types.join(", ")),
                )
                .label(self.span_of(at), "mixed types");
                for (t, x) in items.iter().take(4) {
                    d = d.label(self.span_of(*x), self.target.type_name(&t.ty));
                }
                self.error(d.help("CAST the values to one type"));
                Typed::unknown()
            }
        }
    }

    fn single_column(&mut self, rel: &super::query::Rel, at: &Expr) -> Option<Typed> {
        if rel.opaque {
            return None;
        }
        if rel.columns.len() != 1 {
            self.error(
                Diagnostic::error(
                    codes::SUBQUERY_SHAPE,
                    format!("this subquery returns {} columns where one is expected", rel.columns.len()),
                )
                .label(self.span_of(at), "expected one column")
                .help("select exactly one column, or wrap several in STRUCT(...)"),
            );
            return None;
        }
        Some(rel.columns[0].typed.clone())
    }

    fn type_binary(&mut self, e: &Expr, left: &Expr, op: &B, right: &Expr, scope: &Scope, ctx: Ctx) -> Typed {
        if let (Some((name, _)), Expr::Array(array)) = (crate::sql::typed_array_literal(e), right) {
            return self.typed_array(name, array, scope, ctx);
        }
        let l = self.type_expr(left, scope, ctx);
        let r = self.type_expr(right, scope, ctx);
        let nullable = l.nullable || r.nullable;
        match op {
            B::Plus | B::Minus | B::Multiply | B::Divide | B::Modulo => match self.target.arithmetic(op, &l, &r) {
                Some(ty) => {
                    let literal = match (l.literal, r.literal) {
                        (Literal::Int, Literal::Int) => Literal::Int,
                        _ => Literal::No,
                    };
                    Typed { ty, nullable, literal }
                }
                None => {
                    let (lt, rt) = (self.target.type_name(&l.ty), self.target.type_name(&r.ty));
                    self.error(
                        Diagnostic::error(codes::TYPE_MISMATCH, format!("no operator {op} for {lt} and {rt}"))
                            .label(self.span_of(e), format!("{lt} {op} {rt}"))
                            .label(self.span_of(left), lt.clone())
                            .label(self.span_of(right), rt.clone())
                            .help(if [&l.ty, &r.ty].iter().any(|t| matches!(t, Type::Date | Type::Datetime | Type::Timestamp | Type::Time)) {
                                "add or subtract time with an INTERVAL (`ts - INTERVAL 30 DAY`) or DATE_ADD / TIMESTAMP_SUB"
                            } else {
                                "CAST the operands to numbers of one type"
                            }),
                    );
                    Typed::unknown()
                }
            },
            B::Eq | B::NotEq => {
                self.compare(e, &l, &r, false);
                Typed::new(Type::Bool, nullable)
            }
            B::Lt | B::LtEq | B::Gt | B::GtEq => {
                self.compare(e, &l, &r, true);
                Typed::new(Type::Bool, nullable)
            }
            B::And | B::Or => {
                self.expect_bool(&l, left, &format!("{op}"));
                self.expect_bool(&r, right, &format!("{op}"));
                Typed::new(Type::Bool, nullable)
            }
            B::StringConcat => {
                let ty = match (&l.ty, &r.ty) {
                    (Type::Bytes(_), _) | (_, Type::Bytes(_)) => Type::Bytes(None),
                    (Type::Array(_), _) => l.ty.clone(),
                    _ => Type::STRING,
                };
                Typed::new(ty, nullable)
            }
            B::BitwiseAnd | B::BitwiseOr | B::BitwiseXor | B::PGBitwiseShiftLeft | B::PGBitwiseShiftRight => {
                Typed::new(if l.ty.is_unknown() { Type::Unknown } else { l.ty.unparameterized() }, nullable)
            }
            other => {
                self.error(
                    Diagnostic::warning(codes::NOT_CHECKED, format!("operator {other} is not type-checked yet"))
                        .label(self.span_of(e), "type unknown")
                        .help("its type is treated as unknown"),
                );
                Typed::unknown()
            }
        }
    }

    /// `ARRAY<T>[...]`: every element must coerce to T.
    fn typed_array(&mut self, name: &Ident, array: &sqlparser::ast::Array, scope: &Scope, ctx: Ctx) -> Typed {
        let elem = match self.target.parse_type(&name.value) {
            Ok(t) => t,
            Err(msg) => {
                self.error(
                    Diagnostic::error(codes::INVALID_TYPE, msg).label(self.id_span(name), "invalid element type"),
                );
                return Typed::unknown();
            }
        };
        for x in &array.elem {
            let t = self.type_expr(x, scope, ctx);
            if !self.target.coerces(&t, &elem) {
                let (got, want) = (self.target.type_name(&t.ty), self.target.type_name(&elem));
                self.mismatch(x, &format!("an element of ARRAY<{want}> is {got}"));
            }
        }
        Typed::new(Type::Array(Box::new(elem.unparameterized())), false)
    }

    fn access(&mut self, e: &Expr, t: Typed, access: &AccessExpr, scope: &Scope, ctx: Ctx) -> Typed {
        match access {
            AccessExpr::Dot(Expr::Identifier(field)) => self.field(t, field),
            AccessExpr::Subscript(Subscript::Index { index }) => {
                // arr[OFFSET(i)], arr[SAFE_ORDINAL(i)], arr[i], json['key']
                let (inner, safe) = match index {
                    Expr::Function(f) => {
                        let name = f.name.to_string().to_ascii_uppercase();
                        let arg = match &f.args {
                            FunctionArguments::List(l) if l.args.len() == 1 => match &l.args[0] {
                                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                                _ => None,
                            },
                            _ => None,
                        };
                        match (name.as_str(), arg) {
                            ("OFFSET" | "ORDINAL", Some(x)) => (x, false),
                            ("SAFE_OFFSET" | "SAFE_ORDINAL", Some(x)) => (x, true),
                            _ => (index, false),
                        }
                    }
                    other => (other, false),
                };
                let it = self.type_expr(inner, scope, ctx);
                match &t.ty {
                    Type::Array(elem) => {
                        if !it.ty.is_integer() && !it.ty.is_unknown() && it.literal != Literal::Null {
                            self.mismatch(
                                inner,
                                &format!("an array subscript is an integer, not {}", self.target.type_name(&it.ty)),
                            );
                        }
                        Typed::new((**elem).clone(), true)
                    }
                    Type::Map(key, value) => {
                        if !self.target.coerces(&it, key) {
                            let (got, want) = (self.target.type_name(&it.ty), self.target.type_name(key));
                            self.mismatch(inner, &format!("the keys of this map are {want}, not {got}"));
                        }
                        Typed::new((**value).clone(), true)
                    }
                    Type::Json => Typed::new(Type::Json, true),
                    Type::Unknown => Typed::unknown(),
                    other => {
                        self.mismatch(e, &format!("cannot subscript a value of type {}", self.target.type_name(other)));
                        let _ = safe;
                        Typed::unknown()
                    }
                }
            }
            _ => {
                self.error(
                    Diagnostic::warning(codes::NOT_CHECKED, "this field access is not type-checked yet")
                        .label(self.span_of(e), "type unknown")
                        .help("its type is treated as unknown"),
                );
                Typed::unknown()
            }
        }
    }

    fn field(&mut self, t: Typed, field: &Ident) -> Typed {
        match &t.ty {
            Type::Struct(fields) => match t.ty.field(&field.value) {
                Some((_, f)) => Typed::new(f.ty.clone(), true),
                None => {
                    let names: Vec<&str> = fields.iter().filter_map(|f| f.name.as_deref()).collect();
                    let mut d =
                        Diagnostic::error(codes::UNKNOWN_FIELD, format!("STRUCT has no field `{}`", field.value))
                            .label(self.id_span(field), format!("not a field of {}", self.target.type_name(&t.ty)));
                    if let Some(m) = did_you_mean(&field.value, names.iter().copied()) {
                        d = d.help(m);
                    } else {
                        d = d.help(format!("its fields are: {}", names.join(", ")));
                    }
                    self.error(d);
                    Typed::unknown()
                }
            },
            Type::Json => Typed::new(Type::Json, true),
            Type::Unknown => Typed::unknown(),
            other => {
                self.error(
                    Diagnostic::error(
                        codes::UNKNOWN_FIELD,
                        format!(
                            "`.{}` on a value of type {}, which has no fields",
                            field.value,
                            self.target.type_name(other)
                        ),
                    )
                    .label(self.id_span(field), "no such field")
                    .help("only STRUCT (and JSON) values have fields"),
                );
                Typed::unknown()
            }
        }
    }

    /// A (possibly qualified) name: `col`, `t.col`, `col.field`, `t.col.field`.
    fn type_name(&mut self, parts: &[Ident], e: &Expr, scope: &Scope, ctx: Ctx) -> Typed {
        parts.iter().for_each(|p| self.check_ident(p));
        let mut level: Option<&Scope> = Some(scope);
        let mut depth = 0;
        while let Some(s) = level {
            // `alias.col...`
            if parts.len() >= 2 {
                if let Some(r) = s.rel(&parts[0].value) {
                    if s.rels[r].opaque {
                        return Typed::unknown();
                    }
                    let col = s.cols.iter().position(|c| {
                        c.rel == Some(r) && c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&parts[1].value))
                    });
                    let Some(ci) = col else {
                        if s.rels[r].value_table {
                            // `item.category` on an UNNEST of STRUCTs: a field of the element.
                            let fields = s
                                .cols
                                .iter()
                                .filter(|c| c.rel == Some(r))
                                .map(|c| Field { name: c.name.clone(), ty: c.typed.ty.clone() });
                            let element = Typed::new(Type::Struct(fields.collect()), false);
                            return parts[1..].iter().fold(element, |t, f| self.field(t, f));
                        }
                        let names: Vec<&str> =
                            s.cols.iter().filter(|c| c.rel == Some(r)).filter_map(|c| c.name.as_deref()).collect();
                        let mut d = Diagnostic::error(
                            codes::UNKNOWN_COLUMN,
                            format!("`{}` has no column `{}`", parts[0].value, parts[1].value),
                        )
                        .label(self.id_span(&parts[1]), "unknown column");
                        d = match did_you_mean(&parts[1].value, names.iter().copied()) {
                            Some(m) => d.help(m),
                            None => d.help(format!("the columns of `{}` are: {}", parts[0].value, names.join(", "))),
                        };
                        self.error(d);
                        return Typed::unknown();
                    };
                    let t = self.column(s, ci, depth, &parts[1], &parts[2..], ctx);
                    return parts[2..].iter().fold(t, |t, f| self.field(t, f));
                }
            }
            let matches: Vec<usize> = (0..s.cols.len())
                .filter(|&i| {
                    s.cols[i].unqualified
                        && s.cols[i].name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&parts[0].value))
                })
                .collect();
            match matches.as_slice() {
                [ci] => {
                    let t = self.column(s, *ci, depth, &parts[0], &parts[1..], ctx);
                    return parts[1..].iter().fold(t, |t, f| self.field(t, f));
                }
                [_, ..] => {
                    let owners: Vec<String> = matches
                        .iter()
                        .filter_map(|&i| s.cols[i].rel.and_then(|r| s.rels[r].alias.clone()))
                        .map(|a| format!("`{a}.{}`", parts[0].value))
                        .collect();
                    self.error(
                        Diagnostic::error(codes::AMBIGUOUS_COLUMN, format!("column `{}` is ambiguous", parts[0].value))
                            .label(self.id_span(&parts[0]), "found in more than one table")
                            .help(if owners.is_empty() {
                                "qualify the column with its table alias".to_string()
                            } else {
                                format!("qualify it: {}", owners.join(" or "))
                            }),
                    );
                    return Typed::unknown();
                }
                [] => {}
            }
            // A SELECT-list alias (HAVING, QUALIFY).
            if depth == 0 {
                if let Some(c) = ctx
                    .aliases
                    .iter()
                    .find(|c| c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&parts[0].value)))
                {
                    let (t, lineage) = (c.typed.clone(), c.lineage.clone());
                    self.read(lineage);
                    return parts[1..].iter().fold(t, |t, f| self.field(t, f));
                }
            }
            // A table alias alone: the row as a STRUCT.
            if parts.len() == 1 {
                if let Some(r) = s.rel(&parts[0].value) {
                    let fields = s
                        .cols
                        .iter()
                        .filter(|c| c.rel == Some(r))
                        .map(|c| Field { name: c.name.clone(), ty: c.typed.ty.clone() })
                        .collect();
                    let row: Vec<Lineage> =
                        s.cols.iter().filter(|c| c.rel == Some(r)).map(|c| c.lineage.clone()).collect();
                    row.into_iter().for_each(|l| self.read(l));
                    return Typed::new(if s.rels[r].opaque { Type::Unknown } else { Type::Struct(fields) }, false);
                }
            }
            if s.opaque() {
                return Typed::unknown();
            }
            level = s.parent;
            depth += 1;
        }
        let visible: Vec<&str> = {
            let mut v = vec![];
            let mut l = Some(scope);
            while let Some(s) = l {
                v.extend(s.cols.iter().filter(|c| c.unqualified).filter_map(|c| c.name.as_deref()));
                v.extend(s.rels.iter().filter_map(|r| r.alias.as_deref()));
                l = s.parent;
            }
            v
        };
        let name = &parts[0].value;
        let mut d = Diagnostic::error(codes::UNKNOWN_COLUMN, format!("unknown column `{name}`")).label(
            self.id_span(&parts[0]),
            if scope.rels.is_empty() { "no FROM clause to read it from" } else { "not a column of any table in FROM" },
        );
        d = match did_you_mean(name, visible.iter().copied()) {
            Some(m) => d.help(m),
            None if is_date_part(e) => {
                d.help("a date part such as DAY is written bare only where a function takes one")
            }
            None => d.help("check the spelling, or select the column in the subquery or CTE it comes from"),
        };
        self.error(d);
        Typed::unknown()
    }

    /// A column read (with the STRUCT fields read from it, for lineage),
    /// with the GROUP BY check for the local scope.
    fn column(&mut self, s: &Scope, ci: usize, depth: usize, at: &Ident, fields: &[Ident], ctx: Ctx) -> Typed {
        let lineage = fields.iter().fold(s.cols[ci].lineage.clone(), |l, f| field_lineage(&l, &f.value));
        self.read(lineage);
        if depth == 0 {
            if let Some(g) = ctx.grouping {
                if !ctx.in_aggregate && !g.cols.contains(&ci) && !g.keys.contains(&at.value.to_ascii_lowercase()) {
                    self.error(
                        Diagnostic::error(
                            codes::NOT_GROUPED,
                            format!("column `{}` is neither grouped nor aggregated", at.value),
                        )
                        .label(self.id_span(at), "not in GROUP BY")
                        .help(format!(
                            "add `{}` to GROUP BY, or aggregate it, e.g. `ANY_VALUE({})`",
                            at.value, at.value
                        )),
                    );
                    return Typed::new(s.cols[ci].typed.ty.clone(), true);
                }
                if g.rolled_up && !ctx.in_aggregate {
                    // A key that a subtotal row rolls up is NULL there.
                    return Typed::new(s.cols[ci].typed.ty.clone(), true);
                }
            }
        }
        s.cols[ci].typed.clone()
    }

    fn type_function(&mut self, e: &Expr, f: &Function, scope: &Scope, ctx: Ctx) -> Typed {
        let parts: Vec<String> =
            f.name.0.iter().filter_map(|p| p.as_ident()).map(|i| i.value.to_ascii_uppercase()).collect();
        let (safe, name) = match parts.split_first() {
            Some((first, rest)) if first == "SAFE" && !rest.is_empty() => (true, rest.join(".")),
            _ => (false, parts.join(".")),
        };
        let span = self.span_of(&f.name);
        let arg_list: Vec<&FunctionArg> = match &f.args {
            FunctionArguments::List(l) => l.args.iter().collect(),
            _ => vec![],
        };
        // ARRAY(SELECT ...)
        if let FunctionArguments::Subquery(q) = &f.args {
            // As a scalar subquery: its column's values flow, the rest decides rows.
            let rel = self.subquery(q, scope, true);
            if name == "ARRAY" {
                return match self.single_column(&rel, e) {
                    Some(t) => Typed::new(Type::Array(Box::new(t.ty)), false),
                    None => Typed::unknown(),
                };
            }
        }
        // Trino's `ROW(a, b)`: fields of any types, so no catalog signature.
        if name == "ROW" && self.target.syntax().row_constructor && f.over.is_none() {
            let mut fields = vec![];
            for a in &arg_list {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) = a {
                    fields.push(Field { name: None, ty: self.type_expr(x, scope, ctx).ty });
                }
            }
            // A row is never NULL itself, whatever its fields are.
            return Typed::new(Type::Struct(fields), false);
        }
        let catalog = self.target.catalog();
        let Some(def) = catalog.get(&name) else {
            // Another dialect's function that this one is known to lack
            // (SAFE_DIVIDE in Trino, cardinality in BigQuery) is an error,
            // not a gap in the catalog.
            let d = match catalog.equivalent(&name) {
                Some(instead) => {
                    let other = crate::target::all()
                        .into_iter()
                        .find(|t| t.kind() != self.target.kind() && t.catalog().get(&name).is_some())
                        .map_or("another SQL dialect's".to_string(), |t| {
                            let article =
                                if t.display_name().starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" };
                            format!("{article} {}", t.display_name())
                        });
                    Diagnostic::error(
                        codes::FOREIGN_FUNCTION,
                        format!(
                            "`{}` is {other} function; {} has no such function",
                            f.name,
                            self.target.display_name()
                        ),
                    )
                    .label(span, format!("no such function in {}", self.target.display_name()))
                    .help(format!("write {instead}"))
                }
                None => {
                    let d = Diagnostic::warning(codes::UNKNOWN_FUNCTION, format!("unknown function `{name}`"))
                        .label(span, "not in the function catalog");
                    match did_you_mean(&name, catalog.names()) {
                        Some(m) => d.help(format!("{m} (if `{name}` is right, its result type is unknown to dpc)")),
                        None => d.help("its result type is unknown; declare the column's type in the port's contract"),
                    }
                }
            };
            self.error(d);
            let lenient = Ctx { grouping: None, in_aggregate: true, ..ctx };
            for a in &arg_list {
                if let FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                | FunctionArg::Named { arg: FunctionArgExpr::Expr(x), .. } = a
                {
                    if !is_date_part(x) {
                        self.type_expr(x, scope, lenient);
                    }
                }
            }
            return Typed::unknown();
        };
        let windowed = f.over.is_some();
        let is_aggregate = def.kind == FunctionKind::Aggregate && !windowed;
        if def.kind == FunctionKind::Analytic && !windowed {
            self.error(
                Diagnostic::error(
                    codes::WINDOW_REQUIRED,
                    format!("`{name}` is an analytic function and needs OVER (...)"),
                )
                .label(span, "no OVER clause")
                .help(format!("add a window: `{name}(...) OVER (PARTITION BY ... ORDER BY ...)`")),
            );
        }
        if is_aggregate {
            let where_ = match ctx.clause {
                Clause::Where => Some("WHERE"),
                Clause::On => Some("JOIN ... ON"),
                Clause::GroupBy => Some("GROUP BY"),
                Clause::Other => Some("this place"),
                _ if ctx.in_aggregate => Some("another aggregate"),
                _ => None,
            };
            if let Some(w) = where_ {
                self.error(
                    Diagnostic::error(codes::AGGREGATE_NOT_ALLOWED, format!("aggregate function `{name}` in {w}"))
                        .label(span, "aggregate here")
                        .help(if ctx.clause == Clause::Where {
                            "filter on aggregates with HAVING, after GROUP BY"
                        } else {
                            "aggregate in the SELECT list or HAVING"
                        }),
                );
            }
        }
        if windowed && !matches!(ctx.clause, Clause::Select | Clause::Qualify | Clause::OrderBy) {
            self.error(
                Diagnostic::error(
                    codes::WINDOW_NOT_ALLOWED,
                    format!("window function `{name}` in {}", clause_name(ctx.clause)),
                )
                .label(span, "window function here")
                .help("compute it in the SELECT list of a subquery and filter outside, or use QUALIFY"),
            );
        }
        let arg_ctx = if is_aggregate { Ctx { in_aggregate: true, ..ctx } } else { ctx };
        let mut args = vec![];
        let mut count_star = false;
        if let FunctionArguments::List(l) = &f.args {
            for clause in &l.clauses {
                if let sqlparser::ast::FunctionArgumentClause::Having(bound) = clause {
                    // `HAVING MAX y` chooses the row: y only decides.
                    let (_, choice) = self.collect(|c| c.type_expr(&bound.1, scope, arg_ctx));
                    self.read_as_filter(choice);
                }
                if let sqlparser::ast::FunctionArgumentClause::OrderBy(items) = clause {
                    // The order inside an aggregate only orders.
                    let ((), order) = self.collect(|c| {
                        for o in items {
                            c.type_expr(&o.expr, scope, arg_ctx);
                        }
                    });
                    self.read_as_filter(order);
                }
            }
        }
        // `FILTER (WHERE ...)` and `WITHIN GROUP (ORDER BY ...)` only decide
        // which rows are aggregated, and in which order.
        if let Some(filter) = &f.filter {
            let (t, decides) = self.collect(|c| c.type_expr(filter, scope, arg_ctx));
            self.expect_bool(&t, filter, "FILTER (WHERE ...)");
            self.read_as_filter(decides);
        }
        if !f.within_group.is_empty() {
            let ((), order) = self.collect(|c| {
                for o in &f.within_group {
                    c.type_expr(&o.expr, scope, arg_ctx);
                }
            });
            self.read_as_filter(order);
        }
        let mut lambdas: Vec<Option<&Expr>> = vec![];
        let mut deciding = Lineage::default();
        let ((), mut values) = self.collect(|c| {
            for (i, a) in arg_list.iter().enumerate() {
                let x = match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x))
                    | FunctionArg::Named { arg: FunctionArgExpr::Expr(x), .. } => x,
                    FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => {
                        count_star = true;
                        continue;
                    }
                    _ => continue,
                };
                if let Expr::Lambda(l) = x {
                    let arity = match &l.params {
                        OneOrManyWithParens::One(_) => 1,
                        OneOrManyWithParens::Many(ps) => ps.len(),
                    };
                    args.push(Arg::Lambda(arity));
                    lambdas.push(Some(x));
                    continue;
                }
                lambdas.push(None);
                if def.takes_date_part(i) && is_date_part(x) {
                    args.push(Arg::DatePart);
                } else if def.decides_rows(args.len()) {
                    // `max_by(x, y)`: y only chooses the row whose x is taken.
                    let (t, read) = c.collect(|c| c.type_expr(x, scope, arg_ctx));
                    deciding.absorb(read);
                    args.push(Arg::Value(t));
                } else {
                    args.push(Arg::Value(c.type_expr(x, scope, arg_ctx)));
                }
            }
        });
        if def.deidentifying || self.is_deidentifying(&name) {
            // A hash keeps the lineage but not the classification.
            values.sources = values.sources.into_iter().map(|o| Origin { deidentified: true, ..o }).collect();
        }
        self.read(values);
        self.read_as_filter(deciding);
        let named = match &f.over {
            Some(sqlparser::ast::WindowType::NamedWindow(w)) => Some(w),
            Some(sqlparser::ast::WindowType::WindowSpec(spec)) => spec.window_name.as_ref(),
            None => None,
        };
        if let Some(w) = named {
            let keys = self.windows.iter().find(|(n, _)| n.eq_ignore_ascii_case(&w.value)).map(|(_, l)| l.clone());
            if let Some(keys) = keys {
                self.read_as_filter(keys);
            }
        }
        if let Some(sqlparser::ast::WindowType::WindowSpec(spec)) = &f.over {
            // A window's partition and order decide which rows a value sees.
            let ((), window) = self.collect(|c| {
                for x in spec.partition_by.iter().chain(spec.order_by.iter().map(|o| &o.expr)) {
                    c.type_expr(x, scope, ctx);
                }
            });
            self.read_as_filter(window);
        }
        if count_star {
            return Typed::new(Type::Int64, false);
        }
        if name == "CONCAT" && self.target.syntax().concat_casts_to_string {
            // GoogleSQL's CONCAT takes any value that casts to STRING.
            for a in &mut args {
                if let Arg::Value(t) = a {
                    if !matches!(t.ty, Type::String(_) | Type::Bytes(_) | Type::Unknown)
                        && self.target.castable(&t.ty, &Type::STRING)
                    {
                        *t = Typed::new(Type::STRING, t.nullable);
                    }
                }
            }
        }
        // Lambdas are typed once the other arguments chose the signature;
        // what their bodies read flows into the call's value.
        let mut lambda_reads = Lineage::default();
        let resolved = def.resolve(&args, self.target, &mut |i, params| {
            let Some(Expr::Lambda(lambda)) = lambdas.get(i).copied().flatten() else { return Type::Unknown };
            let (t, read) = self.collect(|c| c.type_lambda(lambda, params, scope, arg_ctx));
            lambda_reads.absorb(read);
            t
        });
        self.read(lambda_reads);
        self.apply_call(&name, def, &args, resolved, e, safe, windowed, ctx)
    }

    /// A lambda's body, with its parameters bound to the types the
    /// signature gives them.
    fn type_lambda(&mut self, lambda: &LambdaFunction, params: &[Type], scope: &Scope, ctx: Ctx) -> Type {
        let names: Vec<&Ident> = match &lambda.params {
            OneOrManyWithParens::One(p) => vec![&p.name],
            OneOrManyWithParens::Many(ps) => ps.iter().map(|p| &p.name).collect(),
        };
        let mut inner = Scope::new(Some(scope));
        inner.rels.push(ScopeRel { alias: None, opaque: false, value_table: false });
        for (name, ty) in names.iter().zip(params) {
            inner.cols.push(ScopeCol {
                name: Some(name.value.clone()),
                typed: Typed::new(ty.clone(), true),
                rel: Some(0),
                star: false,
                unqualified: true,
                lineage: Lineage::default(),
            });
        }
        // GROUP BY validity is checked on the call, not inside the lambda.
        self.type_expr(&lambda.body, &inner, Ctx { grouping: None, ..ctx }).ty
    }

    /// Matches a call's arguments against the catalog's signatures; reports
    /// a mismatch; gives the result type and whether it may be NULL.
    #[allow(clippy::too_many_arguments)]
    fn apply_call(
        &mut self,
        name: &str,
        def: &super::catalog::Function,
        args: &[Arg],
        resolved: Result<(Type, &super::catalog::Signature), MatchError>,
        e: &Expr,
        safe: bool,
        windowed: bool,
        ctx: Ctx,
    ) -> Typed {
        let ty = match resolved {
            Ok((ty, _)) => ty,
            Err(MatchError::Lambda(i, want, got)) => {
                let (want, got) = (self.target.type_name(&want), self.target.type_name(&got));
                // sqlparser gives a lambda no span: point at its body.
                let at = match &e {
                    Expr::Function(f) => match &f.args {
                        FunctionArguments::List(l) => match l.args.get(i) {
                            Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Lambda(lambda)))) => {
                                Some(self.span_of(&*lambda.body))
                            }
                            Some(a) => Some(self.span_of(a)),
                            None => None,
                        },
                        _ => None,
                    },
                    _ => None,
                };
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("the lambda passed to `{name}` must return {want}, but returns {got}"),
                    )
                    .label(at.unwrap_or_else(|| self.span_of(e)), format!("returns {got}"))
                    .help(format!("make the lambda's body a {want} expression")),
                );
                return Typed::unknown();
            }
            Err(err) => {
                let given: Vec<String> = args
                    .iter()
                    .map(|a| match a {
                        Arg::DatePart => "DATEPART".to_string(),
                        Arg::Lambda(n) => format!("lambda of {n}"),
                        Arg::Value(t) => self.target.type_name(&t.ty),
                    })
                    .collect();
                let candidates: Vec<&str> = def.signatures.iter().map(|s| s.text.as_str()).collect();
                let (code, message) = match err {
                    MatchError::ArgumentCount => (
                        codes::WRONG_ARGUMENT_COUNT,
                        format!(
                            "`{name}` does not take {} argument{}",
                            args.len(),
                            if args.len() == 1 { "" } else { "s" }
                        ),
                    ),
                    MatchError::Types | MatchError::Lambda(..) => {
                        (codes::NO_MATCHING_SIGNATURE, format!("no signature of `{name}` takes ({})", given.join(", ")))
                    }
                };
                self.error(
                    Diagnostic::error(code, message)
                        .label(self.span_of(e), format!("called with ({})", given.join(", ")))
                        .help(format!(
                            "the signatures are: {}",
                            candidates.iter().take(6).copied().collect::<Vec<_>>().join("; ")
                        )),
                );
                return Typed::unknown();
            }
        };
        let values: Vec<&Typed> =
            args.iter().filter_map(|a| if let Arg::Value(t) = a { Some(t) } else { None }).collect();
        let any_null = values.iter().any(|t| t.nullable);
        let all_null = !values.is_empty() && values.iter().all(|t| t.nullable);
        let nullable = safe
            || match (def.nulls, def.kind) {
                (Nulls::Never, _) => false,
                (Nulls::Args, _) => match name {
                    "COALESCE" | "IFNULL" => all_null,
                    "IF" => values.iter().skip(1).any(|t| t.nullable),
                    _ => any_null,
                },
                (Nulls::Group, FunctionKind::Aggregate) if !windowed => any_null || !ctx.grouped_by_keys,
                (Nulls::Group | Nulls::Maybe, _) => true,
            };
        Typed::new(ty, nullable)
    }
}

fn clause_name(c: Clause) -> &'static str {
    match c {
        Clause::Where => "WHERE",
        Clause::On => "JOIN ... ON",
        Clause::GroupBy => "GROUP BY",
        Clause::Having => "HAVING",
        _ => "this place",
    }
}

fn implicit_field_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(p) => p.last().map(|i| i.value.clone()),
        _ => None,
    }
}
