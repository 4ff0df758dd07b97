//! `dpc init`: the files of a new mesh with one product that checks clean.

use crate::load::TargetKind;

/// Mesh-relative paths and contents of a new mesh named `mesh`.
pub fn scaffold(mesh: &str, target: TargetKind) -> Vec<(String, String)> {
    if target == TargetKind::Athena {
        return athena(mesh);
    }
    let dpc = format!(
        r#"# The mesh: settings shared by every product in this repository.
[mesh]
name = "{mesh}"
default_target = "bigquery"

[targets.bigquery]
project = "my-gcp-project"     # the GCP project that holds the product datasets
location = "EU"
"#
    );
    let product = r#"name = "orders"
domain = "sales"
owner = "sales-team@example.com"
description = "Orders placed in the web shop."

# The team's own data, exported nightly from its database.
[inputs.shop_orders]
kind = "export"
columns.order_id    = { type = "STRING", required = true }
columns.customer_id = { type = "STRING", required = true }
columns.amount      = { type = "NUMERIC" }
columns.ordered_at  = { type = "TIMESTAMP", required = true }

[outputs.orders]
version = 1
description = "One row per order."
query = "orders.sql"
materialization = "table"
partition_by = "ordered_on"
schedule = "0 3 * * *"
freshness = "26h"

[outputs.orders.columns]
order_id    = { type = "STRING", required = true, unique = true, description = "The shop's order id." }
customer_id = { type = "STRING", required = true }
amount      = { type = "NUMERIC", description = "Order total in EUR." }
ordered_on  = { type = "DATE", required = true }
"#;
    let query = r#"-- One row per order; the date of the order is the partition.
SELECT
  order_id,
  customer_id,
  amount,
  DATE(ordered_at) AS ordered_on
FROM shop_orders
"#;
    vec![
        ("dpc.toml".into(), dpc),
        ("products/sales/orders/product.toml".into(), product.into()),
        ("products/sales/orders/orders.sql".into(), query.into()),
    ]
}

/// The same mesh on Athena: Trino types and SQL.
fn athena(mesh: &str) -> Vec<(String, String)> {
    let dpc = format!(
        r#"# The mesh: settings shared by every product in this repository.
[mesh]
name = "{mesh}"
default_target = "athena"

[targets.athena]
bucket = "s3://my-data-products"   # tables live under <bucket>/<domain>/<product>/<table>/
workgroup = "primary"
"#
    );
    let product = r#"name = "orders"
domain = "sales"
owner = "sales-team@example.com"
description = "Orders placed in the web shop."

# The team's own data, exported nightly from its database.
[inputs.shop_orders]
kind = "export"
columns.order_id    = { type = "varchar", required = true }
columns.customer_id = { type = "varchar", required = true }
columns.amount      = { type = "decimal(12,2)" }
columns.ordered_at  = { type = "timestamp", required = true }

[outputs.orders]
version = 1
description = "One row per order."
query = "orders.sql"
materialization = "table"
partition_by = "ordered_on"
schedule = "0 3 * * *"
freshness = "26h"

[outputs.orders.columns]
order_id    = { type = "varchar", required = true, unique = true, description = "The shop's order id." }
customer_id = { type = "varchar", required = true }
amount      = { type = "decimal(12,2)", description = "Order total in EUR." }
ordered_on  = { type = "date", required = true }
"#;
    let query = r#"-- One row per order; the date of the order is the partition.
SELECT
  order_id,
  customer_id,
  amount,
  CAST(ordered_at AS date) AS ordered_on
FROM shop_orders
"#;
    vec![
        ("dpc.toml".into(), dpc),
        ("products/sales/orders/product.toml".into(), product.into()),
        ("products/sales/orders/orders.sql".into(), query.into()),
    ]
}
