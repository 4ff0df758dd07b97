//! The contract check: a port's query against the columns it declares.

use super::{OutColumn, SchemaColumn};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::resolve::{Port, Product};
use crate::span::{FileId, Sources, Span};
use crate::target::Target;
use crate::types::Assign;

/// Every output column needs a unique name. Returns whether all do.
pub(super) fn check_output_names(cols: &[OutColumn], _file: FileId, diags: &mut Vec<Diagnostic>) -> bool {
    let mut ok = true;
    for (i, c) in cols.iter().enumerate() {
        match &c.name {
            None => {
                ok = false;
                diags.push(
                    Diagnostic::error(codes::UNNAMED_COLUMN, format!("output column {} has no name", i + 1))
                        .label(c.span, "unnamed expression")
                        .help("add an alias: `<expression> AS column_name`"),
                );
            }
            Some(n) => {
                if let Some(prev) =
                    cols[..i].iter().find(|p| p.name.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(n)))
                {
                    ok = false;
                    diags.push(
                        Diagnostic::error(
                            codes::DUPLICATE_OUTPUT_COLUMN,
                            format!("the query outputs two columns named `{n}`"),
                        )
                        .label(c.span, "second column of that name")
                        .label(prev.span, "first one here")
                        .help("give one of them another alias: `... AS other_name`"),
                    );
                }
            }
        }
    }
    ok
}

/// Compares the inferred columns with the declared ones; returns the
/// port's inferred schema.
pub(super) fn check_contract(
    product: &Product,
    port: &Port,
    cols: &[OutColumn],
    target: &dyn Target,
    sources: &Sources,
    diags: &mut Vec<Diagnostic>,
) -> Vec<SchemaColumn> {
    let inferred: Vec<SchemaColumn> = cols
        .iter()
        .map(|c| SchemaColumn {
            name: c.name.clone().unwrap_or_default(),
            ty: c.typed.ty.clone(),
            nullable: c.typed.nullable,
        })
        .collect();
    let query_span = cols.first().map(|c| Span::new(c.span.file, 0..0));
    if port.materialization != crate::load::Materialization::View {
        // The port's table must hold every column: declared, or inferred where none is.
        let stored: Vec<(&str, &crate::types::Type, Span)> = match &port.columns {
            Some(declared) => declared.iter().map(|d| (d.name.as_str(), &d.ty, d.span)).collect(),
            None => cols.iter().map(|c| (c.name.as_deref().unwrap_or_default(), &c.typed.ty, c.span)).collect(),
        };
        for (name, ty, span) in stored {
            if ty.has_unknown() {
                continue;
            }
            if let Err(e) = target.storable(ty, crate::target::Table::Output) {
                diags.push(
                    Diagnostic::error(codes::INVALID_TYPE, format!("column `{name}` cannot be stored: {e}"))
                        .label(span, format!("{} in the port's table", target.type_name(ty)))
                        .help("CAST it to a type the table can hold, or make the port a view"),
                );
            }
        }
    }
    let Some(declared) = &port.columns else {
        let mut d = Diagnostic::warning(
            codes::NO_CONTRACT,
            format!("port `{}.{}` declares no columns: it has no contract", product.id, port.name),
        )
        .label(port.span, "no [columns] for this port");
        let example: Vec<String> = inferred
            .iter()
            .take(3)
            .map(|c| format!("{} = {{ type = \"{}\" }}", c.name, type_hint(target, &c.ty)))
            .collect();
        d = d.help(format!(
            "declare the columns consumers may rely on in [outputs.{}.columns], e.g. {}",
            port.name,
            example.join(", ")
        ));
        diags.push(d);
        return inferred;
    };
    let _ = (query_span, sources);
    let find = |name: &str| cols.iter().position(|c| c.name.as_deref().is_some_and(|n| n.eq_ignore_ascii_case(name)));
    // Missing and extra columns first; order and types only where both exist.
    for d in declared {
        if find(&d.name).is_none() {
            let mut diag = Diagnostic::error(
                codes::CONTRACT_MISSING_COLUMN,
                format!("declared column `{}` is not produced by the query of `{}`", d.name, port.name),
            )
            .label(d.span, "declared here");
            if let Some(c) = cols.last() {
                diag = diag.label(c.span, "the query's last column");
            }
            diags.push(diag.help(format!(
                "select a column named `{}`, or remove it from the contract (a breaking change for consumers)",
                d.name
            )));
        }
    }
    for c in cols {
        let name = c.name.as_deref().unwrap_or_default();
        if !declared.iter().any(|d| d.name.eq_ignore_ascii_case(name)) {
            diags.push(
                Diagnostic::error(
                    codes::CONTRACT_EXTRA_COLUMN,
                    format!("the query produces `{name}`, which port `{}` does not declare", port.name),
                )
                .label(c.span, "not in the contract")
                .label(port.span, "the port's contract")
                .help(format!(
                    "declare it: `{name} = {{ type = \"{}\" }}`, or drop it from the SELECT list",
                    type_hint(target, &c.typed.ty)
                )),
            );
        }
    }
    let common_declared: Vec<&str> =
        declared.iter().filter(|d| find(&d.name).is_some()).map(|d| d.name.as_str()).collect();
    let common_query: Vec<&str> = cols
        .iter()
        .filter_map(|c| c.name.as_deref())
        .filter(|n| declared.iter().any(|d| d.name.eq_ignore_ascii_case(n)))
        .collect();
    let same_order = common_declared.iter().zip(&common_query).all(|(a, b)| a.eq_ignore_ascii_case(b));
    if !same_order {
        if let Some((d, q)) = common_declared.iter().zip(&common_query).find(|(a, b)| !a.eq_ignore_ascii_case(b)) {
            let col = &cols[find(q).unwrap_or(0)];
            let decl = declared.iter().find(|x| x.name == *d).map_or(port.span, |x| x.span);
            diags.push(
                Diagnostic::error(
                    codes::CONTRACT_COLUMN_ORDER,
                    format!("the query produces `{q}` where the contract declares `{d}`"),
                )
                .label(col.span, format!("`{q}` here"))
                .label(decl, format!("`{d}` declared at this position"))
                .help("select the columns in the declared order (column order is part of the contract)"),
            );
        }
    }
    for d in declared {
        let Some(i) = find(&d.name) else { continue };
        let c = &cols[i];
        let (got, want) = (target.type_name(&c.typed.ty), target.type_name(&d.ty));
        let mismatch = match target.assignable(&c.typed.ty, &d.ty) {
            Assign::Yes => None,
            Assign::Lossy => Some((
                Diagnostic::warning(
                    codes::CONTRACT_PRECISION,
                    format!("column `{}` is {got} but declared {want}: values may be rounded or rejected", d.name),
                ),
                format!("CAST it in the query, e.g. `CAST(... AS {want})`, to make the rounding explicit"),
            )),
            Assign::No => Some((
                Diagnostic::error(codes::CONTRACT_TYPE, format!("column `{}` is {got} but declared {want}", d.name)),
                format!("CAST the value to {want} in the query, or change the declared type (a breaking change for consumers)"),
            )),
        };
        if let Some((diag, help)) = mismatch {
            diags.push(
                diag.label(c.span, format!("inferred {got}")).label(d.span, format!("declared {want}")).help(help),
            );
        }
        if d.required && c.typed.nullable && !c.typed.ty.has_unknown() {
            diags.push(
                Diagnostic::warning(codes::CONTRACT_NULLABLE, format!("required column `{}` may be NULL", d.name))
                    .label(c.span, "can be NULL")
                    .label(d.span, "declared required")
                    .help("wrap it in COALESCE or IFNULL, or filter NULLs out; the post-load check fails on NULLs"),
            );
        }
    }
    inferred
}

/// A type to suggest in a help line: the inferred one, or a placeholder
/// where the checker could not infer it.
fn type_hint(target: &dyn Target, ty: &crate::types::Type) -> String {
    if ty.has_unknown() {
        "<its type>".to_string()
    } else {
        target.type_name(ty)
    }
}
