//! BigQuery artifacts of one product: `ddl.sql`, `jobs/<port>.sql`,
//! `checks/<port>.sql`, rendered from `stdlib/templates/bigquery/`.
//! Every identifier is quoted and every string escaped here, before a
//! template sees it.

use super::{port_table, Artifact, EmitProduct};
use crate::check::SchemaColumn;
use crate::load::{Granularity, InputKind, Materialization, Strategy};
use crate::resolve::{Column, Port};
use crate::target::bigquery::BigQuery;
use crate::target::Target;
use crate::types::Type;
use minijinja::{context, Environment};
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("ddl", include_str!("../../../stdlib/templates/bigquery/ddl.sql.j2")),
    ("job_view", include_str!("../../../stdlib/templates/bigquery/job_view.sql.j2")),
    ("job_table", include_str!("../../../stdlib/templates/bigquery/job_table.sql.j2")),
    ("job_incremental", include_str!("../../../stdlib/templates/bigquery/job_incremental.sql.j2")),
    ("checks", include_str!("../../../stdlib/templates/bigquery/checks.sql.j2")),
];

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    for (name, text) in TEMPLATES {
        env.add_template(name, text).map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
}

#[derive(Serialize)]
struct DdlColumn {
    name: String,
    #[serde(rename = "type")]
    ty: String,
    not_null: bool,
    description: Option<String>,
}

#[derive(Serialize)]
struct DdlTable {
    comment: String,
    name: String,
    external: bool,
    columns: Vec<DdlColumn>,
    partition: Option<String>,
    cluster: Option<String>,
    options: Vec<String>,
}

#[derive(Serialize)]
struct Check {
    name: String,
    label: String,
    about: String,
    condition: String,
}

impl Check {
    fn new(bq: &BigQuery, name: String, about: String, condition: String) -> Check {
        Check { label: bq.string_literal(&name), name, about, condition }
    }
}

#[derive(Serialize)]
struct UniqueCheck {
    name: String,
    label: String,
    about: String,
    columns: String,
}

/// A label value: lower-case letters, digits, `_` and `-`, at most 63 characters.
fn label_value(value: &str) -> String {
    value
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c.to_ascii_lowercase() } else { '_' })
        .take(63)
        .collect()
}

pub fn emit_product(bq: &BigQuery, p: &EmitProduct) -> Result<Vec<Artifact>, String> {
    let env = environment()?;
    let product = p.product;
    let mesh = p.mesh;
    let dir = format!("bigquery/{}__{}", product.domain, product.name);
    let product_file = p.sources.get(product.file).path.clone();
    let q = |s: &str| bq.quote_ident(s);
    let lit = |s: &str| bq.string_literal(s);
    let labels = |extra: &[(&str, String)]| -> String {
        let mut all = vec![
            ("managed_by", "dpc".to_string()),
            ("domain", product.domain.clone()),
            ("product", product.name.clone()),
            ("owner", product.owner.clone()),
        ];
        all.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        all.iter().map(|(k, v)| format!("({}, {})", lit(k), lit(&label_value(v)))).collect::<Vec<_>>().join(", ")
    };
    let dataset_physical = bq.physical(mesh, product, "_")?;
    let dataset = dataset_physical.quoted.rsplit_once('.').map_or(String::new(), |(d, _)| d.to_string());
    let description = product.description.clone().unwrap_or_else(|| format!("Data product {}.", product.id));

    let mut tables = vec![];
    // Landing tables of the product's own inputs.
    for (i, input) in product.inputs.iter().enumerate() {
        if input.kind == InputKind::Product {
            continue;
        }
        let columns = declared_columns(bq, &input.columns);
        let about = input
            .description
            .clone()
            .unwrap_or_else(|| format!("{} input `{}` of {}", input.kind.name(), input.name, product.id));
        let options = vec![
            format!("description = {}", lit(&about)),
            format!("labels = [{}]", labels(&[("input", input.name.clone())])),
        ];
        // File drops become external tables with the ingestion issue; until
        // then every own input lands in a table the team loads itself.
        let external = false;
        tables.push(DdlTable {
            comment: format!("-- Landing table of the {} input `{}`.", input.kind.name(), input.name),
            name: p.inputs[i].quoted.clone(),
            external,
            columns,
            partition: None,
            cluster: None,
            options,
        });
    }
    let mut artifacts = vec![];
    let env_render = |name: &str, ctx: minijinja::Value| -> Result<String, String> {
        env.get_template(name).and_then(|t| t.render(ctx)).map_err(|e| format!("template {name}: {e}"))
    };
    for (oi, port) in product.outputs.iter().enumerate() {
        let table = bq.physical(mesh, product, &port_table(port))?;
        let schema = p.ports[oi].schema.clone().unwrap_or_default();
        let port_id = format!("{}.{}", product.id, port.name);
        let mut extra = vec![("port", port.name.clone()), ("version", format!("v{}", port.version))];
        // A label per classification the port's columns carry, so that
        // catalogs can find sensitive tables.
        let classes: std::collections::BTreeSet<String> = schema.iter().flat_map(|c| p.labels(oi, &c.name)).collect();
        let class_keys: Vec<String> = classes.iter().map(|c| format!("contains_{}", label_value(c))).collect();
        extra.extend(class_keys.iter().map(|k| (k.as_str(), "true".to_string())));
        let port_labels = labels(&extra);
        let port_description =
            port.description.clone().unwrap_or_else(|| format!("Output port {port_id}, version {}.", port.version));
        if port.materialization != Materialization::View {
            let columns = match &port.columns {
                Some(cols) => declared_columns(bq, cols),
                None => schema
                    .iter()
                    .map(|c| DdlColumn { name: q(&c.name), ty: bq.type_ddl(&c.ty), not_null: false, description: None })
                    .collect(),
            };
            tables.push(DdlTable {
                comment: format!(
                    "-- Output port `{}`, version {} ({}).",
                    port.name,
                    port.version,
                    port.materialization.name()
                ),
                name: table.quoted.clone(),
                external: false,
                columns,
                partition: partition_expr(bq, port, &schema),
                cluster: (!port.cluster_by.is_empty())
                    .then(|| port.cluster_by.iter().map(|c| q(c)).collect::<Vec<_>>().join(", ")),
                options: vec![format!("description = {}", lit(&port_description)), format!("labels = [{port_labels}]")],
            });
        }
        let query = p.rewritten_query(oi);
        let query_file = port.query_file.map(|f| p.sources.get(f).path.clone()).unwrap_or_default();
        let inferred = p.ports[oi].inferred.clone().unwrap_or_default();
        let select: Vec<String> = schema.iter().map(|c| select_item(bq, c, &inferred)).collect();
        let column_list = schema.iter().map(|c| q(&c.name)).collect::<Vec<_>>().join(", ");
        let job = match port.materialization {
            Materialization::View => env_render(
                "job_view",
                context! { query_file, port_id, table => table.quoted, description => lit(&port_description), labels => port_labels, query },
            )?,
            Materialization::Table => env_render(
                "job_table",
                context! { query_file, port_id, table => table.quoted, column_list, select, query },
            )?,
            Materialization::Incremental => {
                let keys: Vec<&SchemaColumn> = port
                    .unique_key
                    .iter()
                    .filter_map(|k| schema.iter().find(|c| c.name.eq_ignore_ascii_case(k)))
                    .collect();
                let on = keys
                    .iter()
                    .map(|k| {
                        let (t, s) = (format!("target.{}", q(&k.name)), format!("source.{}", q(&k.name)));
                        if k.nullable {
                            format!("({t} = {s} OR ({t} IS NULL AND {s} IS NULL))")
                        } else {
                            format!("{t} = {s}")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("\n  AND ");
                let updates: Vec<String> = schema
                    .iter()
                    .filter(|c| !port.unique_key.iter().any(|k| k.eq_ignore_ascii_case(&c.name)))
                    .map(|c| format!("{} = source.{}", q(&c.name), q(&c.name)))
                    .collect();
                let source_list =
                    schema.iter().map(|c| format!("source.{}", q(&c.name))).collect::<Vec<_>>().join(", ");
                let key_list = port.unique_key.join(", ");
                env_render(
                    "job_incremental",
                    context! {
                        query_file, port_id, table => table.quoted, column_list, select, query, on, updates, source_list, key_list,
                        append => port.strategy == Strategy::Append,
                    },
                )?
            }
        };
        artifacts.push(Artifact { path: format!("{dir}/jobs/{}.sql", port.key), contents: job });
        if port.materialization != Materialization::View {
            let schema_json = table_schema(bq, p, oi, &schema, mesh);
            artifacts.push(Artifact { path: format!("{dir}/schema/{}.json", port.key), contents: schema_json });
        }
        if let Some(checks) = checks(bq, &env, port, &port_id, &table.quoted, &product_file)? {
            artifacts.push(Artifact { path: format!("{dir}/checks/{}.sql", port.key), contents: checks });
        }
    }
    let ddl = env_render(
        "ddl",
        context! {
            product_file, product_id => product.id.clone(), dataset,
            location => mesh.bigquery.as_ref().and_then(|b| b.location.as_deref()).map(lit),
            description => lit(&description), labels => labels(&[]), tables,
        },
    )?;
    artifacts.push(Artifact { path: format!("{dir}/ddl.sql"), contents: ddl });
    Ok(artifacts)
}

/// The table's schema in the JSON form that `bq update --schema` and
/// Terraform take, with each classified column's policy tags.
fn table_schema(
    bq: &BigQuery,
    p: &EmitProduct,
    port: usize,
    schema: &[SchemaColumn],
    mesh: &crate::resolve::Mesh,
) -> String {
    let tags = mesh.bigquery.as_ref().map(|b| &b.policy_tags);
    let declared = p.product.outputs[port].columns.as_ref();
    let fields: Vec<serde_json::Value> = schema
        .iter()
        .map(|c| {
            let d = declared.and_then(|cols| cols.iter().find(|x| x.name.eq_ignore_ascii_case(&c.name)));
            let mut f =
                json_field(bq, &c.name, &c.ty, d.is_some_and(|d| d.required), d.and_then(|d| d.description.as_deref()));
            let names: Vec<String> =
                p.labels(port, &c.name).iter().filter_map(|l| tags.and_then(|t| t.get(l)).cloned()).collect();
            if !names.is_empty() {
                f["policyTags"] = serde_json::json!({ "names": names });
            }
            f
        })
        .collect();
    serde_json::to_string_pretty(&fields).unwrap_or_default() + "\n"
}

/// One field of a BigQuery JSON schema.
fn json_field(bq: &BigQuery, name: &str, ty: &Type, required: bool, description: Option<&str>) -> serde_json::Value {
    let (elem, mode) = match ty {
        Type::Array(e) => (&**e, "REPEATED"),
        t => (t, if required { "REQUIRED" } else { "NULLABLE" }),
    };
    let mut f = serde_json::json!({ "name": name, "type": "", "mode": mode });
    let type_name = match elem {
        Type::Int64 => "INTEGER".to_string(),
        Type::Float64 => "FLOAT".to_string(),
        Type::Bool => "BOOLEAN".to_string(),
        Type::Struct(fields) => {
            let sub: Vec<serde_json::Value> = fields
                .iter()
                .enumerate()
                .map(|(i, fl)| {
                    json_field(bq, fl.name.as_deref().unwrap_or(&format!("_field_{}", i + 1)), &fl.ty, false, None)
                })
                .collect();
            f["fields"] = serde_json::Value::Array(sub);
            "RECORD".to_string()
        }
        Type::Numeric(Some((p, s))) | Type::BigNumeric(Some((p, s))) => {
            f["precision"] = serde_json::json!(p.to_string());
            f["scale"] = serde_json::json!(s.to_string());
            bq.type_name(&elem.unparameterized())
        }
        Type::String(Some(n)) | Type::Bytes(Some(n)) => {
            f["maxLength"] = serde_json::json!(n.to_string());
            bq.type_name(&elem.unparameterized())
        }
        t => bq.type_name(t),
    };
    f["type"] = serde_json::json!(type_name);
    if let Some(d) = description {
        f["description"] = serde_json::json!(d);
    }
    f
}

fn declared_columns(bq: &BigQuery, cols: &[Column]) -> Vec<DdlColumn> {
    cols.iter()
        .map(|c| DdlColumn {
            name: bq.quote_ident(&c.name),
            ty: bq.type_ddl(&c.ty),
            // BigQuery has no NOT NULL arrays (an empty array stands for none).
            not_null: c.required && !matches!(c.ty, Type::Array(_)),
            description: c.description.as_deref().map(|d| bq.string_literal(d)),
        })
        .collect()
}

/// The SELECT item that feeds a column: a CAST where the query's type is
/// not exactly the column's (a parameterized or wider declared type).
fn select_item(bq: &BigQuery, c: &SchemaColumn, inferred: &[SchemaColumn]) -> String {
    let name = bq.quote_ident(&c.name);
    let from = inferred.iter().find(|i| i.name.eq_ignore_ascii_case(&c.name));
    match from {
        Some(i) if i.ty != c.ty && !c.ty.has_unknown() => {
            format!("CAST({name} AS {}) AS {name}", bq.type_ddl(&c.ty))
        }
        _ => name,
    }
}

fn partition_expr(bq: &BigQuery, port: &Port, schema: &[SchemaColumn]) -> Option<String> {
    let part = port.partition.as_ref()?;
    let col = schema.iter().find(|c| c.name.eq_ignore_ascii_case(&part.column))?;
    let name = bq.quote_ident(&col.name);
    let g = part.granularity;
    Some(match (&col.ty, g) {
        (Type::Date, None | Some(Granularity::Day)) => name,
        (Type::Date, Some(g)) => format!("DATE_TRUNC({name}, {})", g.name()),
        (Type::Timestamp, g) => format!("TIMESTAMP_TRUNC({name}, {})", g.unwrap_or(Granularity::Day).name()),
        (Type::Datetime, g) => format!("DATETIME_TRUNC({name}, {})", g.unwrap_or(Granularity::Day).name()),
        _ => name,
    })
}

fn checks(
    bq: &BigQuery,
    env: &Environment,
    port: &Port,
    port_id: &str,
    table: &str,
    product_file: &str,
) -> Result<Option<String>, String> {
    let Some(cols) = &port.columns else {
        return Ok(None);
    };
    let q = |s: &str| bq.quote_ident(s);
    let lit = |s: &str| bq.string_literal(s);
    let mut list = vec![];
    let mut unique = vec![];
    for c in cols {
        if c.required {
            list.push(Check::new(
                bq,
                format!("{}_not_null", c.name),
                format!("`{}` is required", c.name),
                format!("{} IS NULL", q(&c.name)),
            ));
        }
        if !c.accepted_values.is_empty() {
            let values: Vec<String> = c
                .accepted_values
                .iter()
                .map(|v| match v {
                    toml::Value::String(s) => lit(s),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string().to_ascii_uppercase(),
                    other => lit(&other.to_string()),
                })
                .collect();
            list.push(Check::new(
                bq,
                format!("{}_accepted_values", c.name),
                format!("`{}` is one of the accepted values", c.name),
                format!("{} NOT IN ({})", q(&c.name), values.join(", ")),
            ));
        }
        if c.unique {
            let name = format!("{}_unique", c.name);
            unique.push(UniqueCheck {
                label: lit(&name),
                name,
                about: format!("`{}` is unique", c.name),
                columns: q(&c.name),
            });
        }
    }
    // A one-column key already checked as a `unique` column needs no second check.
    let key_checked =
        port.unique_key.len() == 1 && cols.iter().any(|c| c.unique && c.name.eq_ignore_ascii_case(&port.unique_key[0]));
    if !port.unique_key.is_empty() && !key_checked {
        let name = format!("unique_key_{}", port.unique_key.join("_"));
        unique.push(UniqueCheck {
            label: lit(&name),
            name,
            about: format!("the unique key ({}) has no duplicates", port.unique_key.join(", ")),
            columns: port.unique_key.iter().map(|k| q(k)).collect::<Vec<_>>().join(", "),
        });
    }
    if list.is_empty() && unique.is_empty() {
        return Ok(None);
    }
    env.get_template("checks")
        .and_then(|t| t.render(context! { product_file, port_id, table, checks => list, unique }))
        .map(Some)
        .map_err(|e| format!("template checks: {e}"))
}
