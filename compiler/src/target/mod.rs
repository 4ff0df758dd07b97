//! Targets: everything that differs between BigQuery and Athena lives
//! behind the [`Target`] trait (SQL dialect, type spelling and coercion
//! rules, function catalog, quoting, physical names, artifact templates).
//! The stages never ask which target they work for.

pub mod bigquery;

use crate::check::catalog::Catalog;
use crate::emit::{Artifact, EmitProduct, Physical};
use crate::load::TargetKind;
use crate::resolve::{Mesh, Product};
use crate::types::{Assign, Type, Typed};
use sqlparser::ast::{BinaryOperator, DataType};
use sqlparser::dialect::Dialect;

pub trait Target: Sync + Send {
    fn kind(&self) -> TargetKind;
    /// The target's name for people (`BigQuery`).
    fn display_name(&self) -> &'static str;
    fn dialect(&self) -> &dyn Dialect;

    /// Parses a column type as written in `product.toml`.
    fn parse_type(&self, text: &str) -> Result<Type, String>;
    /// Converts a type written in SQL (`CAST(x AS T)`).
    fn convert_type(&self, data_type: &DataType) -> Result<Type, String>;
    /// The canonical spelling (manifest, messages).
    fn type_name(&self, ty: &Type) -> String;

    /// The function catalog of the dialect.
    fn catalog(&self) -> &Catalog;
    /// Whether `AS t(a, b)` column lists on derived tables and CTEs exist.
    fn has_alias_column_lists(&self) -> bool;

    /// The common supertype of several expressions (CASE branches, UNION
    /// columns, COALESCE arguments), if there is one.
    fn supertype(&self, items: &[&Typed]) -> Option<Type>;
    /// Whether an expression converts implicitly to a type (function arguments).
    fn coerces(&self, from: &Typed, to: &Type) -> bool;
    /// The result type of an arithmetic operator, if the operands allow it.
    fn arithmetic(&self, op: &BinaryOperator, left: &Typed, right: &Typed) -> Option<Type>;
    /// Whether values of two types can be compared with `=` / `<`.
    fn comparable(&self, left: &Typed, right: &Typed, ordering: bool) -> bool;
    /// Whether a query's column type can be stored in a declared column type.
    fn assignable(&self, from: &Type, to: &Type) -> Assign;
    /// Whether a type can be a GROUP BY key / an ORDER BY key.
    fn groupable(&self, ty: &Type) -> bool;
    fn orderable(&self, ty: &Type) -> bool;

    /// Whether a string literal, as written between its quotes, is valid
    /// in the dialect (an error message if not).
    fn check_string_literal(&self, raw: &str, quote: char) -> Result<(), String>;

    /// Whether a word is reserved: a bare identifier cannot be spelled so.
    fn is_reserved(&self, word: &str) -> bool;

    /// A quoted identifier.
    fn quote_ident(&self, name: &str) -> String;
    /// A string literal with everything escaped.
    fn string_literal(&self, value: &str) -> String;

    /// The physical, fully qualified name of one of a product's tables.
    fn physical(&self, mesh: &Mesh, product: &Product, table: &str) -> Result<Physical, String>;
    /// Every artifact file of one product (DDL, jobs, checks).
    fn emit_product(&self, product: &EmitProduct) -> Result<Vec<Artifact>, String>;
    /// The statements that move a deployed table to a compatible new schema.
    fn emit_migration(&self, table: &Physical, steps: &[crate::diff::Step]) -> Result<String, String>;
}

pub fn target_for(kind: TargetKind) -> &'static dyn Target {
    match kind {
        TargetKind::Bigquery => bigquery::BigQuery::get(),
        // The Athena target comes with its own issue; until then an Athena
        // product is reported by the resolver and never reaches here.
        TargetKind::Athena => bigquery::BigQuery::get(),
    }
}
