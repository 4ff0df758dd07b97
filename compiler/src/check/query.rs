//! Queries: scopes, FROM (tables, CTEs, derived tables, joins, UNNEST),
//! SELECT lists with stars, grouping, and set operations.

use super::{InputSchema, OutColumn};
use crate::codes;
use crate::diagnostic::{did_you_mean, Diagnostic};
use crate::span::Span;
use crate::sql::SpanMap;
use crate::target::Target;
use crate::types::{Field, Lineage, Literal, Origin, Type, Typed};
use sqlparser::ast::{
    Expr, GroupByExpr, Ident, JoinConstraint, JoinOperator, ObjectNamePart, OrderByKind, Query, Select, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Spanned, TableFactor, TableWithJoins,
    WildcardAdditionalOptions,
};
use std::collections::BTreeSet;
use std::ops::Range;

/// A relation's output: what a table, CTE or subquery gives to FROM.
#[derive(Clone, Debug)]
pub(super) struct Rel {
    pub columns: Vec<OutColumn>,
    /// The columns are not known (an upstream error, an unsupported table
    /// function): any name resolves, to an unknown type, without error.
    pub opaque: bool,
    /// Columns that decide which rows the relation has (WHERE, JOIN ON,
    /// GROUP BY, QUALIFY of the query that made it).
    pub filters: BTreeSet<Origin>,
    /// An UNNEST of STRUCTs: its alias names the element, its columns are fields.
    pub value_table: bool,
}

impl Rel {
    pub fn unknown() -> Rel {
        Rel { columns: vec![], opaque: true, filters: BTreeSet::new(), value_table: false }
    }
}

#[derive(Debug)]
pub(super) struct ScopeRel {
    pub alias: Option<String>,
    pub opaque: bool,
    pub value_table: bool,
}

#[derive(Clone, Debug)]
pub(super) struct ScopeCol {
    pub name: Option<String>,
    pub typed: Typed,
    /// The relation it comes from (None: a merged `USING` column).
    pub rel: Option<usize>,
    /// Part of `SELECT *`.
    pub star: bool,
    /// Reachable by its bare name (USING hides the two sides' copies).
    pub unqualified: bool,
    pub lineage: Lineage,
}

/// The names visible to an expression: the FROM clause of one SELECT, and
/// the enclosing SELECTs for correlated subqueries.
#[derive(Debug)]
pub(super) struct Scope<'s> {
    pub rels: Vec<ScopeRel>,
    pub cols: Vec<ScopeCol>,
    pub parent: Option<&'s Scope<'s>>,
}

impl<'s> Scope<'s> {
    pub fn new(parent: Option<&'s Scope<'s>>) -> Scope<'s> {
        Scope { rels: vec![], cols: vec![], parent }
    }
    pub fn rel(&self, name: &str) -> Option<usize> {
        self.rels.iter().position(|r| r.alias.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(name)))
    }
    pub fn opaque(&self) -> bool {
        self.rels.iter().any(|r| r.opaque)
    }
}

/// The GROUP BY keys of a grouped SELECT.
#[derive(Debug, Default)]
pub(super) struct Grouping {
    /// Key expressions, as canonical text.
    pub keys: Vec<String>,
    /// Keys that are plain columns of the local scope.
    pub cols: Vec<usize>,
    /// ROLLUP, CUBE or GROUPING SETS: a subtotal row has NULL in the keys
    /// it rolls up.
    pub rolled_up: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Clause {
    Select,
    Where,
    On,
    GroupBy,
    Having,
    Qualify,
    OrderBy,
    Other,
}

#[derive(Clone, Copy)]
pub(super) struct Ctx<'g> {
    pub clause: Clause,
    pub grouping: Option<&'g Grouping>,
    pub in_aggregate: bool,
    /// Whether the SELECT has GROUP BY (aggregates over no groups may be NULL).
    pub grouped_by_keys: bool,
    /// SELECT-list aliases that HAVING and QUALIFY may name.
    pub aliases: &'g [OutColumn],
}

impl Ctx<'_> {
    pub fn plain(clause: Clause) -> Ctx<'static> {
        Ctx { clause, grouping: None, in_aggregate: false, grouped_by_keys: false, aliases: &[] }
    }
}

pub(crate) struct Checker<'a> {
    pub target: &'a dyn Target,
    inputs: &'a [InputSchema],
    unresolved: &'a [bool],
    pub map: SpanMap<'a>,
    pub diags: Vec<Diagnostic>,
    pub relations: Vec<(Range<usize>, usize)>,
    ctes: Vec<(String, Rel)>,
    /// How deep the expression being typed is nested.
    pub depth: usize,
    /// Whether the too-deep error was reported (once per query).
    pub too_deep: bool,
    /// The lineage of what is being typed: every column read lands here.
    reads: Lineage,
    /// Functions the mesh declares de-identifying, beyond the catalog's.
    deidentifying: &'a BTreeSet<String>,
    /// Byte offsets where the query says CORRESPONDING (parsed as BY NAME).
    corresponding: &'a [usize],
    /// The named windows (`WINDOW w AS (...)`) of the SELECT being typed, with their keys' lineage.
    pub windows: Vec<(String, Lineage)>,
}

pub(super) fn canonical(e: &Expr) -> String {
    e.to_string().to_ascii_lowercase()
}

fn ident_name(parts: &[ObjectNamePart]) -> Vec<&Ident> {
    parts.iter().filter_map(|p| p.as_ident()).collect()
}

impl<'a> Checker<'a> {
    pub fn new(
        target: &'a dyn Target,
        inputs: &'a [InputSchema],
        unresolved: &'a [bool],
        map: SpanMap<'a>,
        deidentifying: &'a BTreeSet<String>,
        corresponding: &'a [usize],
    ) -> Checker<'a> {
        Checker {
            corresponding,
            deidentifying,
            target,
            inputs,
            unresolved,
            map,
            diags: vec![],
            relations: vec![],
            ctes: vec![],
            depth: 0,
            too_deep: false,
            reads: Lineage::default(),
            windows: vec![],
        }
    }

    pub fn span_of(&self, node: &impl Spanned) -> Span {
        self.map.span(node.span())
    }

    pub fn id_span(&self, ident: &Ident) -> Span {
        self.map.span(ident.span)
    }

    /// Runs `f` and gives the lineage of what it read, apart from what the
    /// caller is reading.
    pub fn collect<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> (T, Lineage) {
        let outer = std::mem::take(&mut self.reads);
        let value = f(self);
        (value, std::mem::replace(&mut self.reads, outer))
    }

    pub fn is_deidentifying(&self, name: &str) -> bool {
        self.deidentifying.contains(name)
    }

    /// Adds lineage to what is being read.
    pub fn read(&mut self, lineage: Lineage) {
        self.reads.absorb(lineage);
    }

    /// Adds lineage that only decides rows (a subquery's filters, a window's keys).
    pub fn read_as_filter(&mut self, lineage: Lineage) {
        let all = lineage.into_filters();
        self.reads.filters.extend(all);
    }

    /// A bare identifier that the target reserves (sqlparser may accept it).
    pub fn check_ident(&mut self, id: &Ident) {
        if id.quote_style.is_none() && self.target.is_reserved(&id.value) {
            let quoted = self.target.quote_ident(&id.value);
            self.error(
                Diagnostic::error(
                    codes::UNSUPPORTED_SYNTAX,
                    format!("`{}` is a reserved keyword in {}", id.value, self.target.display_name()),
                )
                .label(self.id_span(id), "reserved keyword used as a name")
                .help(format!("quote it: {quoted}")),
            );
        }
    }

    pub fn error(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// The whole query of a port; None when its columns cannot be known.
    pub fn check_port_query(&mut self, q: &Query) -> Option<Vec<OutColumn>> {
        let rel = self.check_query(q, None);
        if rel.opaque {
            return None;
        }
        let mut columns = rel.columns;
        for c in &mut columns {
            c.lineage.filters.extend(rel.filters.iter().cloned());
        }
        Some(columns)
    }

    pub fn check_query(&mut self, q: &Query, parent: Option<&Scope>) -> Rel {
        let depth = self.ctes.len();
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                if !cte.alias.columns.is_empty() && !self.target.syntax().alias_column_lists {
                    self.column_list_error(self.id_span(&cte.alias.name));
                }
                self.check_ident(&cte.alias.name);
                let name = cte.alias.name.value.clone();
                let rel = if with.recursive && references(&cte.query, &name) {
                    self.check_recursive_cte(&name, cte, parent)
                } else {
                    let mut rel = self.check_query(&cte.query, parent);
                    rename_columns(&mut rel, &cte.alias.columns);
                    rel
                };
                self.ctes.push((name, rel));
            }
        }
        let order_by = q.order_by.as_ref().and_then(|o| match &o.kind {
            OrderByKind::Expressions(e) => Some(e.as_slice()),
            OrderByKind::All(_) => None,
        });
        let rel = self.check_set_expr(&q.body, parent, order_by);
        if let Some(sqlparser::ast::LimitClause::LimitOffset { limit, offset, .. }) = &q.limit_clause {
            let scope = Scope::new(parent);
            for e in limit.iter().chain(offset.iter().map(|o| &o.value)) {
                let t = self.type_expr(e, &scope, Ctx::plain(Clause::Other));
                if !t.ty.is_unknown() && !t.ty.is_integer() {
                    self.error(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("LIMIT and OFFSET take an integer, not {}", self.target.type_name(&t.ty)),
                        )
                        .label(self.span_of(e), "not an integer")
                        .help("write an integer literal"),
                    );
                }
            }
        }
        self.ctes.truncate(depth);
        rel
    }

    /// `WITH RECURSIVE r AS (base UNION ALL step)`: the base gives the
    /// columns; the step, which reads `r`, must fit them.
    fn check_recursive_cte(&mut self, name: &str, cte: &sqlparser::ast::Cte, parent: Option<&Scope>) -> Rel {
        let SetExpr::SetOperation { left, op: op @ SetOperator::Union, right, .. } = &*cte.query.body else {
            self.error(
                Diagnostic::error(
                    codes::UNSUPPORTED_SYNTAX,
                    format!("recursive CTE `{name}` is not `base UNION ALL step`"),
                )
                .label(self.id_span(&cte.alias.name), "recursive")
                .help("write a recursive CTE as a non-recursive SELECT, UNION ALL, and a SELECT that reads the CTE"),
            );
            return Rel::unknown();
        };
        let mut base = self.check_set_expr(left, parent, None);
        rename_columns(&mut base, &cte.alias.columns);
        self.ctes.push((name.to_string(), base.clone()));
        let step = self.check_set_expr(right, parent, None);
        self.ctes.pop();
        let span = self.span_of(&*cte.query);
        let mut rel = self.unify_set_operation(op, base, step, span);
        rename_columns(&mut rel, &cte.alias.columns);
        rel
    }

    fn check_set_expr(
        &mut self,
        body: &SetExpr,
        parent: Option<&Scope>,
        order_by: Option<&[sqlparser::ast::OrderByExpr]>,
    ) -> Rel {
        match body {
            SetExpr::Select(sel) => self.check_select(sel, parent, order_by),
            SetExpr::Query(q) => {
                let rel = self.check_query(q, parent);
                self.check_output_order_by(&rel, order_by, parent);
                rel
            }
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                let l = self.check_set_expr(left, parent, None);
                let r = self.check_set_expr(right, parent, None);
                let span = self.span_of(body);
                let by_name = matches!(
                    set_quantifier,
                    SetQuantifier::ByName | SetQuantifier::AllByName | SetQuantifier::DistinctByName
                );
                // CORRESPONDING keeps the columns both branches have; BY NAME needs them all.
                let (lspan, rspan) = (self.span_of(&**left), self.span_of(&**right));
                let corresponding =
                    self.corresponding.iter().any(|&o| o >= lspan.end as usize && o <= rspan.start as usize);
                let (l, r) = if by_name { self.match_by_name(l, r, corresponding) } else { (l, r) };
                let bare = matches!(set_quantifier, SetQuantifier::None | SetQuantifier::ByName);
                if bare && !self.target.syntax().bare_set_operations {
                    let op_name = op.to_string().to_ascii_uppercase();
                    self.error(
                        Diagnostic::error(
                            codes::UNSUPPORTED_SYNTAX,
                            format!("BigQuery needs `{op_name} ALL` or `{op_name} DISTINCT`"),
                        )
                        .label(self.span_of(&**right), format!("bare {op_name}"))
                        .help(format!(
                            "write `{op_name} DISTINCT` to remove duplicates, or `{op_name} ALL` to keep them"
                        )),
                    );
                }
                let rel = self.unify_set_operation(op, l, r, span);
                self.check_output_order_by(&rel, order_by, parent);
                rel
            }
            SetExpr::Values(values) => {
                let scope = Scope::new(parent);
                let mut columns: Vec<OutColumn> = vec![];
                for row in &values.rows {
                    for (i, e) in row.iter().enumerate() {
                        let (t, lineage) = self.collect(|c| c.type_expr(e, &scope, Ctx::plain(Clause::Other)));
                        if i >= columns.len() {
                            columns.push(OutColumn { name: None, typed: t, span: self.span_of(e), lineage });
                        }
                    }
                }
                Rel { columns, opaque: false, filters: BTreeSet::new(), value_table: false }
            }
            other => {
                self.error(
                    Diagnostic::error(codes::NOT_A_QUERY, "a data-changing statement inside a query")
                        .label(self.span_of(other), "not a SELECT")
                        .help("a port's query only reads; dpc generates the statements that write"),
                );
                Rel::unknown()
            }
        }
    }

    /// Set operations by name: the right branch's columns in the left
    /// branch's order. `CORRESPONDING` keeps the names both have; `BY NAME`
    /// needs the same names on both sides.
    fn match_by_name(&mut self, mut l: Rel, mut r: Rel, corresponding: bool) -> (Rel, Rel) {
        if l.opaque || r.opaque {
            return (l, r);
        }
        let find = |cols: &[OutColumn], name: &str| {
            cols.iter().position(|x| x.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        };
        if corresponding {
            l.columns.retain(|c| find(&r.columns, c.name.as_deref().unwrap_or_default()).is_some());
        } else {
            for (this, other, which, of) in [(&l, &r, "first", "second"), (&r, &l, "second", "first")] {
                for c in this
                    .columns
                    .iter()
                    .filter(|c| find(&other.columns, c.name.as_deref().unwrap_or_default()).is_none())
                {
                    let name = c.name.as_deref().unwrap_or("?");
                    self.error(
                        Diagnostic::error(
                            codes::SET_OPERATION_MISMATCH,
                            format!("column `{name}` of the {which} branch is not in the {of}"),
                        )
                        .label(c.span, "no column of this name on the other side")
                        .help("BY NAME needs the same column names on both sides; CORRESPONDING keeps only the common ones"),
                    );
                }
            }
            l.columns.retain(|c| find(&r.columns, c.name.as_deref().unwrap_or_default()).is_some());
        }
        let ordered: Vec<OutColumn> = l
            .columns
            .iter()
            .filter_map(|c| find(&r.columns, c.name.as_deref().unwrap_or_default()).map(|i| r.columns[i].clone()))
            .collect();
        r.columns = ordered;
        (l, r)
    }

    fn unify_set_operation(&mut self, op: &SetOperator, l: Rel, r: Rel, span: Span) -> Rel {
        if l.opaque || r.opaque {
            return Rel { columns: l.columns, opaque: true, filters: l.filters, value_table: false };
        }
        if l.columns.len() != r.columns.len() {
            self.error(
                Diagnostic::error(
                    codes::SET_OPERATION_MISMATCH,
                    format!("the branches of {op} have {} and {} columns", l.columns.len(), r.columns.len()),
                )
                .label(span, "branches of different width")
                .help("select the same number of columns in every branch"),
            );
            return Rel { columns: l.columns, opaque: false, filters: l.filters, value_table: false };
        }
        let mut filters = l.filters.clone();
        filters.extend(r.filters.iter().cloned());
        let mut columns = vec![];
        for (a, b) in l.columns.iter().zip(&r.columns) {
            let ty = match self.target.supertype(&[&a.typed, &b.typed]) {
                Some(t) => t,
                None => {
                    self.error(
                        Diagnostic::error(
                            codes::SET_OPERATION_MISMATCH,
                            format!(
                                "column {} of {op} is {} in one branch and {} in the other",
                                a.name.as_deref().unwrap_or("?"),
                                self.target.type_name(&a.typed.ty),
                                self.target.type_name(&b.typed.ty)
                            ),
                        )
                        .label(b.span, self.target.type_name(&b.typed.ty))
                        .label(a.span, self.target.type_name(&a.typed.ty))
                        .help("CAST one side so that both branches have the same type"),
                    );
                    Type::Unknown
                }
            };
            let literal = if a.typed.literal == b.typed.literal { a.typed.literal } else { Literal::No };
            let typed = Typed { ty, nullable: a.typed.nullable || b.typed.nullable, literal };
            let mut lineage = a.lineage.clone();
            if matches!(op, SetOperator::Union) {
                lineage.absorb(b.lineage.clone());
            } else {
                // EXCEPT and INTERSECT keep the left rows: the right only decides which.
                filters.extend(b.lineage.clone().into_filters());
            }
            columns.push(OutColumn { name: a.name.clone(), typed, span: a.span, lineage });
        }
        Rel { columns, opaque: false, filters, value_table: false }
    }

    /// ORDER BY after a set operation: names and ordinals of output columns.
    fn check_output_order_by(
        &mut self,
        rel: &Rel,
        order_by: Option<&[sqlparser::ast::OrderByExpr]>,
        parent: Option<&Scope>,
    ) {
        let Some(items) = order_by else { return };
        let scope = Self::scope_of(rel, parent);
        for item in items {
            if ordinal(&item.expr).is_some() {
                continue;
            }
            self.type_expr(&item.expr, &scope, Ctx::plain(Clause::OrderBy));
        }
    }

    fn column_list_error(&mut self, at: Span) {
        self.error(
            Diagnostic::error(codes::COLUMN_LIST_ALIAS, "BigQuery has no column lists on table aliases")
                .label(at, "column list here")
                .help("name the columns inside the subquery instead: `SELECT a AS x, b AS y`"),
        );
    }

    // ------------------------------------------------------------------ FROM

    fn build_from<'p>(&mut self, from: &[TableWithJoins], parent: Option<&'p Scope<'p>>) -> Scope<'p> {
        let mut scope = Scope::new(parent);
        for twj in from {
            // A comma is a cross join; later items may refer to earlier ones (UNNEST).
            self.add_factor(&mut scope, &twj.relation, JoinKind::Cross);
            for join in &twj.joins {
                let (kind, constraint) = match &join.join_operator {
                    JoinOperator::Join(c) | JoinOperator::Inner(c) => (JoinKind::Inner, Some(c)),
                    JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (JoinKind::Left, Some(c)),
                    JoinOperator::Right(c) | JoinOperator::RightOuter(c) => (JoinKind::Right, Some(c)),
                    JoinOperator::FullOuter(c) => (JoinKind::Full, Some(c)),
                    JoinOperator::CrossJoin(c) => (JoinKind::Cross, Some(c)),
                    other => {
                        self.error(
                            Diagnostic::error(
                                codes::UNSUPPORTED_SYNTAX,
                                "this kind of join does not exist in BigQuery",
                            )
                            .label(self.span_of(&join.relation), format!("{:?} join", std::mem::discriminant(other)))
                            .help("use [INNER | LEFT | RIGHT | FULL] JOIN ... ON, or CROSS JOIN"),
                        );
                        (JoinKind::Inner, None)
                    }
                };
                let left_cols = scope.cols.len();
                let left_rels = scope.rels.len();
                self.add_factor(&mut scope, &join.relation, kind);
                match constraint {
                    Some(JoinConstraint::On(e)) => {
                        let t = self.type_expr(e, &scope, Ctx::plain(Clause::On));
                        self.expect_bool(&t, e, "JOIN ... ON");
                    }
                    Some(JoinConstraint::Using(names)) => {
                        let names: Vec<Ident> =
                            names.iter().flat_map(|n| ident_name(&n.0).into_iter().cloned()).collect();
                        self.merge_using(&mut scope, &names, left_cols, left_rels, kind);
                    }
                    Some(JoinConstraint::Natural) => {
                        self.error(
                            Diagnostic::error(codes::UNSUPPORTED_SYNTAX, "BigQuery has no NATURAL JOIN")
                                .label(self.span_of(&join.relation), "natural join")
                                .help("name the join columns: JOIN ... USING (col)"),
                        );
                    }
                    _ => {}
                }
            }
        }
        scope
    }

    fn merge_using(&mut self, scope: &mut Scope, names: &[Ident], left_cols: usize, left_rels: usize, kind: JoinKind) {
        let mut merged = vec![];
        for name in names {
            let find = |cols: &[ScopeCol], range: Range<usize>| -> Vec<usize> {
                range
                    .filter(|&i| {
                        cols[i].unqualified
                            && cols[i].name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&name.value))
                    })
                    .collect()
            };
            let left = find(&scope.cols, 0..left_cols);
            let right = find(&scope.cols, left_cols..scope.cols.len());
            let opaque_left = scope.rels[..left_rels].iter().any(|r| r.opaque);
            let opaque_right = scope.rels[left_rels..].iter().any(|r| r.opaque);
            let (l, r) = match (left.as_slice(), right.as_slice()) {
                ([l], [r]) => (*l, *r),
                _ => {
                    let side = if left.len() != 1 && !opaque_left { "left" } else { "right" };
                    let count = if side == "left" { left.len() } else { right.len() };
                    if (side == "left" && opaque_left) || (side == "right" && opaque_right) {
                        continue;
                    }
                    let (code, what) = if count == 0 {
                        (codes::UNKNOWN_COLUMN, "is not a column of")
                    } else {
                        (codes::AMBIGUOUS_COLUMN, "is ambiguous on")
                    };
                    self.error(
                        Diagnostic::error(
                            code,
                            format!("USING column `{}` {what} the {side} side of the join", name.value),
                        )
                        .label(self.id_span(name), "USING column")
                        .help("USING needs a column of that name on each side; use JOIN ... ON otherwise"),
                    );
                    continue;
                }
            };
            let (a, b) = (scope.cols[l].typed.clone(), scope.cols[r].typed.clone());
            let Some(ty) = self.target.supertype(&[&a, &b]) else {
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "USING column `{}` is {} on the left and {} on the right",
                            name.value,
                            self.target.type_name(&a.ty),
                            self.target.type_name(&b.ty)
                        ),
                    )
                    .label(self.id_span(name), "compared here")
                    .help("join with ON and CAST one side"),
                );
                continue;
            };
            let nullable = match kind {
                JoinKind::Full => a.nullable && b.nullable,
                JoinKind::Right => b.nullable,
                _ => a.nullable,
            };
            for i in [l, r] {
                scope.cols[i].star = false;
                scope.cols[i].unqualified = false;
            }
            let mut lineage = scope.cols[l].lineage.clone();
            lineage.absorb(scope.cols[r].lineage.clone());
            merged.push(ScopeCol {
                name: scope.cols[l].name.clone(),
                typed: Typed::new(ty, nullable),
                rel: None,
                star: true,
                unqualified: true,
                lineage,
            });
        }
        // Merged columns come first in `SELECT *`, as in GoogleSQL.
        let rest = std::mem::take(&mut scope.cols);
        scope.cols = merged.into_iter().chain(rest).collect();
    }

    fn add_factor(&mut self, scope: &mut Scope, factor: &TableFactor, kind: JoinKind) {
        let (alias, rel) = self.check_factor(scope, factor);
        if let Some(a) = &alias {
            self.check_ident(a);
        }
        let rel_index = scope.rels.len();
        if let Some(a) = &alias {
            if scope.rel(&a.value).is_some() {
                self.error(
                    Diagnostic::error(codes::DUPLICATE_ALIAS, format!("`{}` names two tables in this FROM", a.value))
                        .label(self.id_span(a), "second use of the name")
                        .help("give one of them another alias: `... AS other_name`"),
                );
            }
        }
        // Outer joins make the other side nullable.
        if matches!(kind, JoinKind::Right | JoinKind::Full) {
            scope.cols.iter_mut().for_each(|c| c.typed.nullable = true);
        }
        let nullable = matches!(kind, JoinKind::Left | JoinKind::Full);
        scope.rels.push(ScopeRel { alias: alias.map(|a| a.value), opaque: rel.opaque, value_table: rel.value_table });
        // The item's own filters decide the rows of the SELECT that reads it.
        self.read_as_filter(Lineage { sources: BTreeSet::new(), filters: rel.filters });
        for c in rel.columns {
            let mut typed = c.typed;
            typed.nullable |= nullable;
            typed.literal = Literal::No;
            scope.cols.push(ScopeCol {
                name: c.name,
                typed,
                rel: Some(rel_index),
                star: true,
                unqualified: true,
                lineage: c.lineage,
            });
        }
    }

    /// A FROM item: its alias (explicit or implied) and its columns.
    fn check_factor(&mut self, scope: &Scope, factor: &TableFactor) -> (Option<Ident>, Rel) {
        match factor {
            TableFactor::Table { name, alias, args: None, .. } => {
                if let Some(a) = alias {
                    if !a.columns.is_empty() && !self.target.syntax().alias_column_lists {
                        self.column_list_error(self.id_span(&a.name));
                    }
                }
                let parts = ident_name(&name.0);
                let implied = parts.last().map(|i| (*i).clone());
                let alias_ident = alias.as_ref().map(|a| a.name.clone()).or(implied);
                // `FROM t, t.items`: an array of an earlier FROM item, unnested (BigQuery).
                let implicit_unnest = self.target.syntax().implicit_unnest;
                if implicit_unnest && parts.len() >= 2 && scope.rel(&parts[0].value).is_some() {
                    let path = Expr::CompoundIdentifier(parts.iter().map(|i| (*i).clone()).collect());
                    let (typed, lineage) = self.collect(|c| c.type_expr(&path, scope, Ctx::plain(Clause::Other)));
                    let alias = alias.as_ref().map(|a| a.name.clone()).or_else(|| parts.last().map(|i| (*i).clone()));
                    return (alias.clone(), self.unnest_rel(&typed, lineage, alias.as_ref(), None, self.span_of(name)));
                }
                let mut rel = self.table_rel(name);
                if let Some(a) = alias {
                    rename_columns(&mut rel, &a.columns);
                }
                (alias_ident, rel)
            }
            TableFactor::Derived { subquery, alias, .. } => {
                if let Some(a) = alias {
                    if !a.columns.is_empty() && !self.target.syntax().alias_column_lists {
                        self.column_list_error(self.id_span(&a.name));
                    }
                }
                let mut rel = self.check_query(subquery, None);
                if let Some(a) = alias {
                    rename_columns(&mut rel, &a.columns);
                }
                (alias.as_ref().map(|a| a.name.clone()), rel)
            }
            TableFactor::UNNEST { alias, array_exprs, with_offset, with_offset_alias, with_ordinality, .. } => {
                let arrays: Vec<&Expr> = array_exprs.iter().collect();
                let offset = with_offset.then(|| with_offset_alias.clone().map_or("offset".to_string(), |a| a.value));
                self.unnest_factor(scope, factor, &arrays, alias.as_ref(), offset, *with_ordinality)
            }
            // Outside BigQuery's dialect sqlparser reads UNNEST as a table function.
            TableFactor::Table { name, alias, args: Some(args), with_ordinality, .. } if matches!(name.0.as_slice(), [ObjectNamePart::Identifier(i)] if i.quote_style.is_none() && i.value.eq_ignore_ascii_case("UNNEST")) =>
            {
                let arrays: Vec<&Expr> = args
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        sqlparser::ast::FunctionArg::Unnamed(sqlparser::ast::FunctionArgExpr::Expr(x)) => Some(x),
                        _ => None,
                    })
                    .collect();
                self.unnest_factor(scope, factor, &arrays, alias.as_ref(), None, *with_ordinality)
            }
            TableFactor::NestedJoin { table_with_joins, alias } => {
                let (inner, rows) = self.collect(|c| c.build_from(std::slice::from_ref(table_with_joins), None));
                let columns = inner
                    .cols
                    .iter()
                    .filter(|c| c.star)
                    .map(|c| OutColumn {
                        name: c.name.clone(),
                        typed: c.typed.clone(),
                        span: Span::new(self.map.file, 0..0),
                        lineage: c.lineage.clone(),
                    })
                    .collect();
                let rel = Rel { columns, opaque: inner.opaque(), filters: rows.into_filters(), value_table: false };
                (alias.as_ref().map(|a| a.name.clone()), rel)
            }
            TableFactor::Pivot { table, aggregate_functions, value_column, value_source, alias, .. } => {
                let (_, source) = self.check_factor(scope, table);
                let rel = self.pivot_rel(source, aggregate_functions, value_column, value_source, factor);
                (alias.as_ref().map(|a| a.name.clone()), rel)
            }
            TableFactor::Unpivot { table, value, name, columns, alias, .. } => {
                let (_, source) = self.check_factor(scope, table);
                let rel = self.unpivot_rel(source, value, name, columns);
                (alias.as_ref().map(|a| a.name.clone()), rel)
            }
            other => {
                self.error(
                    Diagnostic::warning(codes::NOT_CHECKED, "this FROM item is not type-checked yet")
                        .label(self.span_of(other), "columns unknown")
                        .help("its columns are treated as unknown"),
                );
                let alias = match other {
                    TableFactor::Table { alias, .. }
                    | TableFactor::Function { alias, .. }
                    | TableFactor::TableFunction { alias, .. } => alias.as_ref().map(|a| a.name.clone()),
                    _ => None,
                };
                (alias, Rel::unknown())
            }
        }
    }

    /// A scope over one relation's columns (the source of PIVOT/UNPIVOT, the
    /// output of a set operation for its ORDER BY).
    fn scope_of<'p>(rel: &Rel, parent: Option<&'p Scope<'p>>) -> Scope<'p> {
        let mut scope = Scope::new(parent);
        scope.rels.push(ScopeRel { alias: None, opaque: rel.opaque, value_table: false });
        for c in &rel.columns {
            scope.cols.push(ScopeCol {
                name: c.name.clone(),
                typed: c.typed.clone(),
                rel: Some(0),
                star: true,
                unqualified: true,
                lineage: c.lineage.clone(),
            });
        }
        scope
    }

    /// `PIVOT (agg(x) [AS a] FOR col IN (v [AS n], ...))`: the source's other
    /// columns group; each value (and aggregate) becomes a column.
    fn pivot_rel(
        &mut self,
        source: Rel,
        aggregates: &[sqlparser::ast::ExprWithAlias],
        value_column: &[Expr],
        values: &sqlparser::ast::PivotValueSource,
        factor: &TableFactor,
    ) -> Rel {
        if source.opaque {
            return Rel::unknown();
        }
        let scope = Self::scope_of(&source, None);
        let ctx = Ctx::plain(Clause::Select);
        let typed: Vec<(Typed, Lineage, Option<String>)> = aggregates
            .iter()
            .map(|a| {
                let (t, l) = self.collect(|c| c.type_expr(&a.expr, &scope, ctx));
                (t, l, a.alias.as_ref().map(|i| i.value.clone()))
            })
            .collect();
        let ((), pivot_keys) = self.collect(|c| {
            for v in value_column {
                c.type_expr(v, &scope, Ctx::plain(Clause::GroupBy));
            }
        });
        // Columns read by the aggregates or the FOR clause do not group.
        let mut used: BTreeSet<String> = BTreeSet::new();
        for e in aggregates.iter().map(|a| &a.expr).chain(value_column) {
            let _ = sqlparser::ast::visit_expressions(e, |x: &Expr| {
                match x {
                    Expr::Identifier(i) => {
                        used.insert(i.value.to_ascii_lowercase());
                    }
                    Expr::CompoundIdentifier(p) => {
                        if let Some(i) = p.last() {
                            used.insert(i.value.to_ascii_lowercase());
                        }
                    }
                    _ => {}
                }
                std::ops::ControlFlow::<()>::Continue(())
            });
        }
        let mut columns: Vec<OutColumn> = source
            .columns
            .iter()
            .filter(|c| c.name.as_deref().is_none_or(|n| !used.contains(&n.to_ascii_lowercase())))
            .cloned()
            .collect();
        let group_keys: Lineage = columns.iter().fold(Lineage::default(), |mut l, c| {
            l.absorb(c.lineage.clone());
            l
        });
        let sqlparser::ast::PivotValueSource::List(list) = values else {
            self.error(
                Diagnostic::warning(codes::NOT_CHECKED, "PIVOT over ANY or a subquery is not type-checked yet")
                    .label(self.span_of(factor), "columns unknown")
                    .help("list the pivot values: `FOR col IN ('a', 'b')`"),
            );
            return Rel::unknown();
        };
        let span = self.span_of(factor);
        for v in list {
            let value_name = match (&v.alias, &v.expr) {
                (Some(a), _) => a.value.clone(),
                (None, Expr::Value(x)) => match &x.value {
                    sqlparser::ast::Value::SingleQuotedString(s) | sqlparser::ast::Value::DoubleQuotedString(s) => {
                        s.clone()
                    }
                    other => format!("_{other}"),
                },
                (None, other) => other.to_string(),
            };
            for (t, l, agg_alias) in &typed {
                // GoogleSQL names a pivot column `<aggregate alias>_<value>`, or `<value>`.
                let name = agg_alias.as_ref().map_or_else(|| value_name.clone(), |a| format!("{a}_{value_name}"));
                let mut lineage = l.clone();
                lineage.filters.extend(pivot_keys.clone().into_filters());
                lineage.filters.extend(group_keys.clone().into_filters());
                columns.push(OutColumn { name: Some(name), typed: Typed::new(t.ty.clone(), true), span, lineage });
            }
        }
        Rel { columns, opaque: false, filters: source.filters, value_table: false }
    }

    /// `UNPIVOT (value FOR name IN (c1, c2, ...))`: the listed columns become
    /// rows of a name column and a value column.
    fn unpivot_rel(
        &mut self,
        source: Rel,
        value: &Expr,
        name: &Ident,
        listed: &[sqlparser::ast::ExprWithAlias],
    ) -> Rel {
        if source.opaque {
            return Rel::unknown();
        }
        let scope = Self::scope_of(&source, None);
        let mut values = vec![];
        let mut lineage = Lineage::default();
        let mut names = BTreeSet::new();
        for c in listed {
            let (t, l) = self.collect(|ch| ch.type_expr(&c.expr, &scope, Ctx::plain(Clause::Select)));
            if let Expr::Identifier(i) = &c.expr {
                names.insert(i.value.to_ascii_lowercase());
            }
            lineage.absorb(l);
            values.push(t);
        }
        let refs: Vec<&Typed> = values.iter().collect();
        let ty = match self.target.supertype(&refs) {
            Some(t) => t,
            None => {
                let types: Vec<String> = values.iter().map(|t| self.target.type_name(&t.ty)).collect();
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("UNPIVOT columns have no common type: {}", types.join(", ")),
                    )
                    .label(self.id_span(name), "unpivoted here")
                    .help("CAST the columns to one type in a subquery first"),
                );
                Type::Unknown
            }
        };
        let mut columns: Vec<OutColumn> = source
            .columns
            .iter()
            .filter(|c| c.name.as_deref().is_none_or(|n| !names.contains(&n.to_ascii_lowercase())))
            .cloned()
            .collect();
        let value_name = match value {
            Expr::Identifier(i) => Some(i.value.clone()),
            _ => None,
        };
        let span = self.id_span(name);
        columns.push(OutColumn { name: value_name, typed: Typed::new(ty, true), span, lineage: lineage.clone() });
        let label = Lineage { sources: BTreeSet::new(), filters: lineage.into_filters() };
        columns.push(OutColumn {
            name: Some(name.value.clone()),
            typed: Typed::new(Type::STRING, false),
            span,
            lineage: label,
        });
        Rel { columns, opaque: false, filters: source.filters, value_table: false }
    }

    /// `UNNEST(arrays...)` in FROM, with its alias, BigQuery's WITH OFFSET
    /// and Trino's WITH ORDINALITY.
    fn unnest_factor(
        &mut self,
        scope: &Scope,
        factor: &TableFactor,
        arrays: &[&Expr],
        alias: Option<&sqlparser::ast::TableAlias>,
        offset: Option<String>,
        with_ordinality: bool,
    ) -> (Option<Ident>, Rel) {
        let span = self.span_of(factor);
        let arrays: Vec<(Typed, Lineage)> =
            arrays.iter().map(|e| self.collect(|c| c.type_expr(e, scope, Ctx::plain(Clause::Other)))).collect();
        let alias_ident = alias.as_ref().map(|a| a.name.clone());
        if !self.target.syntax().unnest_alias_is_relation {
            // BigQuery: one array; the alias names its element.
            let rel = match arrays.as_slice() {
                [(t, lineage)] => self.unnest_rel(t, lineage.clone(), alias_ident.as_ref(), offset, span),
                _ => Rel::unknown(),
            };
            return (alias_ident, rel);
        }
        // Trino: the arrays are zipped side by side, rows expand into
        // their fields, maps into key and value; the alias names the
        // relation and its column list names the columns.
        let mut rel = Rel { columns: vec![], opaque: false, filters: BTreeSet::new(), value_table: false };
        let mut positions = Lineage::default();
        for (t, lineage) in arrays {
            positions.filters.extend(lineage.clone().into_filters());
            let part = self.unnest_rel(&t, lineage, None, None, span);
            rel.opaque |= part.opaque;
            rel.columns.extend(part.columns);
        }
        if with_ordinality {
            // The ordinality is a position: it depends on the order, not the values.
            rel.columns.push(OutColumn {
                name: Some("ordinality".into()),
                typed: Typed::new(Type::Int64, false),
                span,
                lineage: positions,
            });
        }
        if let Some(a) = alias {
            if !a.columns.is_empty() && a.columns.len() != rel.columns.len() && !rel.opaque {
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!(
                            "this UNNEST gives {} column{}, but its alias names {}",
                            rel.columns.len(),
                            if rel.columns.len() == 1 { "" } else { "s" },
                            a.columns.len()
                        ),
                    )
                    .label(self.id_span(&a.name), "column names here")
                    .help("name every column: one per array (or per row field, or key and value of a map), plus one for WITH ORDINALITY"),
                );
            }
            rename_columns(&mut rel, &a.columns);
        }
        (alias_ident, rel)
    }

    fn unnest_rel(
        &mut self,
        array: &Typed,
        lineage: Lineage,
        alias: Option<&Ident>,
        offset: Option<String>,
        span: Span,
    ) -> Rel {
        let elem = match &array.ty {
            Type::Array(e) => (**e).clone(),
            Type::Map(..) if self.target.syntax().unnest_alias_is_relation => array.ty.clone(),
            Type::Unknown => return Rel::unknown(),
            other => {
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("UNNEST needs an ARRAY, not {}", self.target.type_name(other)),
                    )
                    .label(span, "not an array")
                    .help("UNNEST an ARRAY column or expression"),
                );
                return Rel::unknown();
            }
        };
        let value_table = matches!(elem, Type::Struct(_));
        let mut columns = vec![];
        match &elem {
            // A STRUCT element is a value table: its fields are the columns, and
            // the alias alone names the whole element.
            Type::Struct(fields) => {
                for f in fields {
                    let lineage = f.name.as_deref().map_or_else(|| lineage.clone(), |n| field_lineage(&lineage, n));
                    columns.push(OutColumn {
                        name: f.name.clone(),
                        typed: Typed::new(f.ty.clone(), true),
                        span,
                        lineage,
                    });
                }
            }
            // A map (Trino) gives its key and its value.
            Type::Map(k, v) => {
                for ty in [k, v] {
                    columns.push(OutColumn {
                        name: None,
                        typed: Typed::new((**ty).clone(), true),
                        span,
                        lineage: lineage.clone(),
                    });
                }
            }
            _ => columns.push(OutColumn {
                name: alias.map(|a| a.value.clone()),
                typed: Typed::new(elem, true),
                span,
                lineage: lineage.clone(),
            }),
        }
        if let Some(o) = offset {
            // The offset is a position: it depends on the array's order, not its values.
            let position = Lineage { sources: BTreeSet::new(), filters: lineage.clone().into_filters() };
            columns.push(OutColumn { name: Some(o), typed: Typed::new(Type::Int64, false), span, lineage: position });
        }
        Rel { columns, opaque: false, filters: BTreeSet::new(), value_table }
    }

    /// A table name: a CTE in scope, or one of the product's inputs.
    fn table_rel(&mut self, name: &sqlparser::ast::ObjectName) -> Rel {
        let parts = ident_name(&name.0);
        let span = self.span_of(name);
        if let [single] = parts.as_slice() {
            if let Some((_, rel)) = self.ctes.iter().rev().find(|(n, _)| n.eq_ignore_ascii_case(&single.value)) {
                return rel.clone();
            }
            if let Some(i) = self.inputs.iter().position(|inp| inp.name.eq_ignore_ascii_case(&single.value)) {
                self.relations.push((span.range(), i));
                if self.unresolved[i] {
                    return Rel::unknown();
                }
                let columns = self.inputs[i]
                    .columns
                    .iter()
                    .map(|c| OutColumn {
                        name: Some(c.name.clone()),
                        typed: Typed::new(self.target.value_type(&c.ty), c.nullable),
                        span,
                        lineage: Lineage {
                            sources: BTreeSet::from([Origin {
                                input: i as u32,
                                column: c.name.clone(),
                                deidentified: false,
                            }]),
                            filters: BTreeSet::new(),
                        },
                    })
                    .collect();
                return Rel { columns, opaque: false, filters: BTreeSet::new(), value_table: false };
            }
        }
        let written = parts.iter().map(|p| p.value.as_str()).collect::<Vec<_>>().join(".");
        let candidates: Vec<&str> =
            self.inputs.iter().map(|i| i.name.as_str()).chain(self.ctes.iter().map(|(n, _)| n.as_str())).collect();
        let last = parts.last().map_or("", |p| p.value.as_str());
        let help = match did_you_mean(last, candidates.iter().copied()) {
            Some(m) => m,
            None if parts.len() > 1 => {
                "name tables by the product's input names; declare the table as an input in product.toml".to_string()
            }
            None => {
                format!("declare `{written}` as an input in product.toml, or name one of: {}", candidates.join(", "))
            }
        };
        self.error(
            Diagnostic::error(codes::UNKNOWN_TABLE, format!("unknown table `{written}`"))
                .label(span, "not an input of this product or a CTE")
                .help(help),
        );
        Rel::unknown()
    }

    // ---------------------------------------------------------------- SELECT

    /// Syntax that sqlparser accepts from other dialects.
    pub(super) fn foreign_syntax(&mut self, at: Span, what: &str, instead: &str) {
        self.error(
            Diagnostic::error(codes::UNSUPPORTED_SYNTAX, format!("{what} is not {} SQL", self.target.display_name()))
                .label(at, "from another SQL dialect")
                .help(instead.to_string()),
        );
    }

    fn check_select(
        &mut self,
        sel: &Select,
        parent: Option<&Scope>,
        order_by: Option<&[sqlparser::ast::OrderByExpr]>,
    ) -> Rel {
        if let Some(top) = &sel.top {
            let at = top.quantity.as_ref().map_or(self.map.span(sel.select_token.0.span), |q| match q {
                sqlparser::ast::TopQuantity::Expr(e) => self.span_of(e),
                sqlparser::ast::TopQuantity::Constant(_) => self.map.span(sel.select_token.0.span),
            });
            self.foreign_syntax(at, "SELECT TOP", "write `LIMIT n` after the query instead");
        }
        // Everything read outside the SELECT items (FROM items' own filters,
        // ON, WHERE, GROUP BY, HAVING, QUALIFY, ORDER BY) decides rows.
        let ((mut columns, opaque), rows) = self.collect(|c| c.check_select_body(sel, parent, order_by));
        use sqlparser::ast::ValueTableMode as V;
        match sel.value_table_mode {
            // One column: the row as a STRUCT, or the only column's value.
            Some(V::AsStruct | V::DistinctAsStruct) if !columns.is_empty() => {
                let fields = columns.iter().map(|c| Field { name: c.name.clone(), ty: c.typed.ty.clone() }).collect();
                let mut lineage = Lineage::default();
                columns.iter().for_each(|c| lineage.absorb(c.lineage.clone()));
                let span = columns[0].span;
                columns = vec![OutColumn { name: None, typed: Typed::new(Type::Struct(fields), false), span, lineage }];
            }
            Some(V::AsValue | V::DistinctAsValue) => columns.truncate(1),
            _ => {}
        }
        Rel { columns, opaque, filters: rows.into_filters(), value_table: false }
    }

    fn check_select_body(
        &mut self,
        sel: &Select,
        parent: Option<&Scope>,
        order_by: Option<&[sqlparser::ast::OrderByExpr]>,
    ) -> (Vec<OutColumn>, bool) {
        let scope = self.build_from(&sel.from, parent);
        if let Some(w) = &sel.selection {
            let t = self.type_expr(w, &scope, Ctx::plain(Clause::Where));
            self.expect_bool(&t, w, "WHERE");
        }
        let (group_exprs, group_all) = match &sel.group_by {
            GroupByExpr::All(_) => (vec![], true),
            GroupByExpr::Expressions(e, _) => (e.iter().collect::<Vec<_>>(), false),
        };
        let has_aggregate = sel.projection.iter().any(|item| match item {
            SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => self.contains_aggregate(e),
            _ => false,
        }) || sel.having.as_ref().is_some_and(|h| self.contains_aggregate(h))
            || order_by.is_some_and(|o| o.iter().any(|i| self.contains_aggregate(&i.expr)));
        let grouped = has_aggregate || !group_exprs.is_empty() || group_all;
        let mut grouping = Grouping::default();
        if grouped {
            self.build_grouping(sel, &scope, &group_exprs, group_all, &mut grouping);
        }
        let ctx = Ctx {
            clause: Clause::Select,
            grouping: grouped.then_some(&grouping),
            in_aggregate: false,
            grouped_by_keys: !group_exprs.is_empty() || group_all,
            aliases: &[],
        };
        // Named windows: their keys decide the rows only of the columns that use them.
        let outer_windows = std::mem::take(&mut self.windows);
        for w in &sel.named_window {
            if let sqlparser::ast::NamedWindowExpr::WindowSpec(spec) = &w.1 {
                let ((), keys) = self.collect(|c| {
                    for e in spec.partition_by.iter().chain(spec.order_by.iter().map(|o| &o.expr)) {
                        c.type_expr(e, &scope, ctx);
                    }
                });
                self.windows.push((w.0.value.clone(), keys));
            }
        }
        let columns = self.select_list(sel, &scope, ctx);
        self.windows = outer_windows;
        if let Some(h) = &sel.having {
            let t = self.type_expr(h, &scope, Ctx { clause: Clause::Having, aliases: &columns, ..ctx });
            self.expect_bool(&t, h, "HAVING");
        }
        if let Some(q) = &sel.qualify {
            if !self.target.syntax().qualify {
                self.foreign_syntax(
                    self.span_of(q),
                    "QUALIFY",
                    "compute the window function in a subquery and filter on it in the outer WHERE",
                );
            }
            let t = self.type_expr(q, &scope, Ctx { clause: Clause::Qualify, aliases: &columns, ..ctx });
            self.expect_bool(&t, q, "QUALIFY");
        }
        if let Some(items) = order_by {
            for item in items {
                let e = &item.expr;
                if ordinal(e).is_some() {
                    continue;
                }
                // An output alias, else an expression over FROM.
                if let Expr::Identifier(id) = e {
                    if let Some(c) =
                        columns.iter().find(|c| c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&id.value)))
                    {
                        if !self.target.orderable(&c.typed.ty) {
                            let ty = self.target.type_name(&c.typed.ty);
                            self.error(
                                Diagnostic::error(
                                    codes::TYPE_MISMATCH,
                                    format!("cannot ORDER BY a value of type {ty}"),
                                )
                                .label(self.span_of(e), "not orderable")
                                .help("order by a field or a scalar derived from it"),
                            );
                        }
                        continue;
                    }
                }
                let t = self.type_expr(e, &scope, Ctx { clause: Clause::OrderBy, ..ctx });
                if !self.target.orderable(&t.ty) {
                    self.error(
                        Diagnostic::error(
                            codes::TYPE_MISMATCH,
                            format!("cannot ORDER BY a value of type {}", self.target.type_name(&t.ty)),
                        )
                        .label(self.span_of(e), "not orderable")
                        .help("order by a field or a scalar derived from it"),
                    );
                }
            }
        }
        (
            columns,
            scope.opaque()
                && sel
                    .projection
                    .iter()
                    .any(|i| matches!(i, SelectItem::Wildcard(_) | SelectItem::QualifiedWildcard(..))),
        )
    }

    fn build_grouping(&mut self, sel: &Select, scope: &Scope, exprs: &[&Expr], all: bool, grouping: &mut Grouping) {
        let select_exprs: Vec<(Option<&str>, &Expr)> = sel
            .projection
            .iter()
            .filter_map(|i| match i {
                SelectItem::UnnamedExpr(e) => Some((None, e)),
                SelectItem::ExprWithAlias { expr, alias } => Some((Some(alias.value.as_str()), expr)),
                _ => None,
            })
            .collect();
        let mut keys: Vec<&Expr> = vec![];
        if all {
            keys.extend(select_exprs.iter().filter(|(_, e)| !self.contains_aggregate(e)).map(|(_, e)| *e));
        }
        let mut flat: Vec<&Expr> = vec![];
        for e in exprs {
            match e {
                Expr::Rollup(sets) | Expr::Cube(sets) | Expr::GroupingSets(sets) => {
                    grouping.rolled_up = true;
                    flat.extend(sets.iter().flatten())
                }
                e => flat.push(e),
            }
        }
        for e in flat {
            if let Some(n) = ordinal(e) {
                match select_exprs.get(n.wrapping_sub(1)) {
                    Some((_, se)) => keys.push(se),
                    None => self.error(
                        Diagnostic::error(
                            codes::UNKNOWN_COLUMN,
                            format!("GROUP BY {n} is out of range: the SELECT list has {} columns", select_exprs.len()),
                        )
                        .label(self.span_of(e), "no such column")
                        .help("GROUP BY ordinals count SELECT items from 1"),
                    ),
                }
                continue;
            }
            // A SELECT alias takes precedence over a FROM column of that name.
            if let Expr::Identifier(id) = e {
                if let Some((_, se)) =
                    select_exprs.iter().find(|(a, _)| a.is_some_and(|a| a.eq_ignore_ascii_case(&id.value)))
                {
                    keys.push(se);
                    continue;
                }
            }
            keys.push(e);
        }
        for k in keys {
            let t = self.type_expr(k, scope, Ctx::plain(Clause::GroupBy));
            if !self.target.groupable(&t.ty) {
                self.error(
                    Diagnostic::error(
                        codes::TYPE_MISMATCH,
                        format!("cannot GROUP BY a value of type {}", self.target.type_name(&t.ty)),
                    )
                    .label(self.span_of(k), "not groupable")
                    .help("group by a scalar field, or TO_JSON_STRING(...) of the value"),
                );
            }
            grouping.keys.push(canonical(k));
            if let Some(i) = self.local_column(k, scope) {
                grouping.cols.push(i);
            }
        }
    }

    /// The local scope column a plain column reference points at.
    pub(super) fn local_column(&self, e: &Expr, scope: &Scope) -> Option<usize> {
        match e {
            Expr::Identifier(id) => {
                let found: Vec<usize> = (0..scope.cols.len())
                    .filter(|&i| {
                        scope.cols[i].unqualified
                            && scope.cols[i].name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(&id.value))
                    })
                    .collect();
                (found.len() == 1).then(|| found[0])
            }
            Expr::CompoundIdentifier(parts) if parts.len() == 2 => {
                let rel = scope.rel(&parts[0].value)?;
                let name = &parts[1].value;
                scope
                    .cols
                    .iter()
                    .position(|c| c.rel == Some(rel) && c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
            }
            Expr::Nested(inner) => self.local_column(inner, scope),
            _ => None,
        }
    }

    fn select_list(&mut self, sel: &Select, scope: &Scope, ctx: Ctx) -> Vec<OutColumn> {
        let mut out = vec![];
        for item in &sel.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let (typed, lineage) = self.collect(|c| c.type_expr(e, scope, ctx));
                    out.push(OutColumn { name: implicit_name(e), typed, span: self.span_of(e), lineage });
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    self.check_ident(alias);
                    let (typed, lineage) = self.collect(|c| c.type_expr(expr, scope, ctx));
                    let span = self.span_of(expr).to(self.id_span(alias));
                    out.push(OutColumn { name: Some(alias.value.clone()), typed, span, lineage });
                }
                SelectItem::ExprWithAliases { expr, .. } => {
                    let (typed, lineage) = self.collect(|c| c.type_expr(expr, scope, ctx));
                    out.push(OutColumn { name: None, typed, span: self.span_of(expr), lineage });
                }
                SelectItem::Wildcard(opts) => {
                    let span = self.map.span(opts.wildcard_token.0.span);
                    if scope.rels.is_empty() {
                        self.error(
                            Diagnostic::error(codes::UNKNOWN_COLUMN, "SELECT * without FROM")
                                .label(span, "nothing to expand")
                                .help("add a FROM clause"),
                        );
                        continue;
                    }
                    let cols: Vec<usize> = (0..scope.cols.len()).filter(|&i| scope.cols[i].star).collect();
                    self.expand_star(scope, &cols, opts, span, ctx, &mut out);
                }
                SelectItem::QualifiedWildcard(kind, opts) => {
                    let span = self.span_of(item);
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(name) => {
                            let parts = ident_name(&name.0);
                            if let [single] = parts.as_slice() {
                                if let Some(r) = scope.rel(&single.value) {
                                    let cols: Vec<usize> =
                                        (0..scope.cols.len()).filter(|&i| scope.cols[i].rel == Some(r)).collect();
                                    if scope.rels[r].opaque {
                                        continue;
                                    }
                                    self.expand_star(scope, &cols, opts, span, ctx, &mut out);
                                    continue;
                                }
                            }
                            // `s.*` on a STRUCT column expands its fields.
                            let path = Expr::CompoundIdentifier(parts.iter().map(|i| (*i).clone()).collect());
                            let target = match parts.as_slice() {
                                [single] => Expr::Identifier((*single).clone()),
                                _ => path,
                            };
                            let (t, lineage) = self.collect(|c| c.type_expr(&target, scope, ctx));
                            self.expand_struct(&t, lineage, span, &mut out);
                        }
                        SelectItemQualifiedWildcardKind::Expr(e) => {
                            let (t, lineage) = self.collect(|c| c.type_expr(e, scope, ctx));
                            self.expand_struct(&t, lineage, span, &mut out);
                        }
                    }
                }
            }
        }
        out
    }

    fn expand_struct(&mut self, t: &Typed, lineage: Lineage, span: Span, out: &mut Vec<OutColumn>) {
        match &t.ty {
            Type::Struct(fields) => {
                for f in fields {
                    let lineage = match &f.name {
                        Some(n) => field_lineage(&lineage, n),
                        None => lineage.clone(),
                    };
                    out.push(OutColumn { name: f.name.clone(), typed: Typed::new(f.ty.clone(), true), span, lineage });
                }
            }
            Type::Unknown => {}
            other => self.error(
                Diagnostic::error(
                    codes::TYPE_MISMATCH,
                    format!("`.*` needs a table or a STRUCT, not {}", self.target.type_name(other)),
                )
                .label(span, "cannot expand")
                .help("expand a table alias or a STRUCT column"),
            ),
        }
    }

    fn expand_star(
        &mut self,
        scope: &Scope,
        cols: &[usize],
        opts: &WildcardAdditionalOptions,
        span: Span,
        ctx: Ctx,
        out: &mut Vec<OutColumn>,
    ) {
        let mut excluded: Vec<&Ident> = vec![];
        if let Some(except) = &opts.opt_except {
            excluded.push(&except.first_element);
            excluded.extend(except.additional_elements.iter());
        }
        if let Some(sqlparser::ast::ExcludeSelectItem::Multiple(names)) = &opts.opt_exclude {
            excluded.extend(names.iter().filter_map(|n| n.0.last().and_then(|p| p.as_ident())));
        }
        if let Some(sqlparser::ast::ExcludeSelectItem::Single(name)) = &opts.opt_exclude {
            excluded.extend(name.0.last().and_then(|p| p.as_ident()));
        }
        let has = |name: &str| {
            cols.iter().any(|&i| scope.cols[i].name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)))
        };
        let any_opaque = scope.opaque();
        for e in &excluded {
            if !has(&e.value) && !any_opaque {
                let names: Vec<&str> = cols.iter().filter_map(|&i| scope.cols[i].name.as_deref()).collect();
                let mut d = Diagnostic::error(
                    codes::UNKNOWN_COLUMN,
                    format!("EXCEPT names `{}`, which `*` does not produce", e.value),
                )
                .label(self.id_span(e), "not a column here");
                if let Some(m) = did_you_mean(&e.value, names.iter().copied()) {
                    d = d.help(m);
                }
                self.error(d);
            }
        }
        let mut replaced: Vec<(String, Typed, Span, Lineage)> = vec![];
        if let Some(rep) = &opts.opt_replace {
            for r in &rep.items {
                let (t, lineage) = self.collect(|c| c.type_expr(&r.expr, scope, ctx));
                if !has(&r.column_name.value) && !any_opaque {
                    self.error(
                        Diagnostic::error(
                            codes::UNKNOWN_COLUMN,
                            format!("REPLACE names `{}`, which `*` does not produce", r.column_name.value),
                        )
                        .label(self.id_span(&r.column_name), "not a column here")
                        .help("REPLACE only replaces columns that `*` selects"),
                    );
                }
                replaced.push((r.column_name.value.clone(), t, self.span_of(&r.expr), lineage));
            }
        }
        for &i in cols {
            let c = &scope.cols[i];
            let name = c.name.clone();
            if name.as_deref().is_some_and(|n| excluded.iter().any(|e| e.value.eq_ignore_ascii_case(n))) {
                continue;
            }
            if let Some((_, t, s, l)) =
                replaced.iter().find(|(n, _, _, _)| name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
            {
                out.push(OutColumn { name, typed: t.clone(), span: *s, lineage: l.clone() });
                continue;
            }
            if let Some(g) = ctx.grouping {
                if !g.cols.contains(&i) {
                    self.error(
                        Diagnostic::error(
                            codes::NOT_GROUPED,
                            format!(
                                "`*` selects `{}`, which is neither grouped nor aggregated",
                                name.as_deref().unwrap_or("?")
                            ),
                        )
                        .label(span, "expands to ungrouped columns")
                        .help("list the grouped columns instead of `*`"),
                    );
                    return;
                }
            }
            out.push(OutColumn { name, typed: c.typed.clone(), span, lineage: c.lineage.clone() });
        }
    }

    pub(super) fn expect_bool(&mut self, t: &Typed, e: &Expr, clause: &str) {
        if !matches!(t.ty, Type::Bool | Type::Unknown) && t.literal != Literal::Null {
            self.error(
                Diagnostic::error(
                    codes::EXPECTED_BOOL,
                    format!("{clause} needs a BOOL condition, not {}", self.target.type_name(&t.ty)),
                )
                .label(self.span_of(e), format!("this is {}", self.target.type_name(&t.ty)))
                .help("compare the value with something: `x = ...`, `x IS NOT NULL`"),
            );
        }
    }

    /// Whether an expression calls an aggregate function outside any
    /// subquery and outside OVER.
    pub(super) fn contains_aggregate(&self, e: &Expr) -> bool {
        struct Finder<'c> {
            catalog: &'c super::catalog::Catalog,
            depth: usize,
        }
        impl sqlparser::ast::Visitor for Finder<'_> {
            type Break = ();
            fn pre_visit_query(&mut self, _: &Query) -> std::ops::ControlFlow<()> {
                self.depth += 1;
                std::ops::ControlFlow::Continue(())
            }
            fn post_visit_query(&mut self, _: &Query) -> std::ops::ControlFlow<()> {
                self.depth -= 1;
                std::ops::ControlFlow::Continue(())
            }
            fn pre_visit_expr(&mut self, x: &Expr) -> std::ops::ControlFlow<()> {
                if let Expr::Function(f) = x {
                    let agg = self
                        .catalog
                        .get(&f.name.to_string())
                        .is_some_and(|d| d.kind == super::catalog::FunctionKind::Aggregate);
                    if agg && f.over.is_none() && self.depth == 0 {
                        return std::ops::ControlFlow::Break(());
                    }
                }
                std::ops::ControlFlow::Continue(())
            }
        }
        use sqlparser::ast::Visit;
        e.visit(&mut Finder { catalog: self.target.catalog(), depth: 0 }).is_break()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JoinKind {
    Inner,
    Left,
    Right,
    Full,
    Cross,
}

/// Applies an alias column list (`AS t(a, b)`), reported where the target
/// has none, so that the names the user meant resolve.
fn rename_columns(rel: &mut Rel, names: &[sqlparser::ast::TableAliasColumnDef]) {
    for (c, n) in rel.columns.iter_mut().zip(names) {
        c.name = Some(n.name.value.clone());
    }
}

/// The lineage of a STRUCT field: where the struct is one column read as
/// is, the field is named (`device.category`); otherwise the struct's.
pub(super) fn field_lineage(lineage: &Lineage, field: &str) -> Lineage {
    let mut out = lineage.clone();
    if lineage.sources.len() == 1 {
        out.sources =
            lineage.sources.iter().map(|o| Origin { column: format!("{}.{field}", o.column), ..o.clone() }).collect();
    }
    out
}

/// `GROUP BY 2`: the SELECT item number, for integer literals.
pub(super) fn ordinal(e: &Expr) -> Option<usize> {
    match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::Number(n, _) => n.parse().ok(),
            _ => None,
        },
        _ => None,
    }
}

/// The name GoogleSQL gives an unaliased SELECT item.
fn implicit_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(i.value.clone()),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| i.value.clone()),
        Expr::CompoundFieldAccess { access_chain, .. } => match access_chain.last() {
            Some(sqlparser::ast::AccessExpr::Dot(Expr::Identifier(i))) => Some(i.value.clone()),
            _ => None,
        },
        Expr::Nested(inner) => implicit_name(inner),
        _ => None,
    }
}

/// Whether a query mentions a table name (for recursive CTEs).
fn references(q: &Query, name: &str) -> bool {
    let mut found = false;
    let _ = sqlparser::ast::visit_relations(q, |r| {
        if r.0.len() == 1 && r.0[0].as_ident().is_some_and(|i| i.value.eq_ignore_ascii_case(name)) {
            found = true;
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    found
}
