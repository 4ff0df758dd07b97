//! `dpc init`: the files of a new mesh with one product that checks clean.

use crate::load::TargetKind;

/// Mesh-relative paths and contents of a new mesh named `mesh`, whose
/// products run on `target`.
pub fn scaffold(mesh: &str, target: TargetKind) -> Vec<(String, String)> {
    // The target's settings, its spelling of the four types the product
    // uses, and how its SQL takes the date of a timestamp.
    let (settings, string, numeric, timestamp, date, to_date) = match target {
        TargetKind::Bigquery => (
            "[targets.bigquery]\nproject = \"my-gcp-project\"     # the GCP project that holds the product datasets\nlocation = \"EU\"\n",
            "STRING",
            "NUMERIC",
            "TIMESTAMP",
            "DATE",
            "DATE(ordered_at)",
        ),
        TargetKind::Athena => (
            "[targets.athena]\nbucket = \"s3://my-data-products\"   # tables live under <bucket>/<domain>/<product>/<table>/\nworkgroup = \"primary\"\n",
            "varchar",
            "decimal(12,2)",
            "timestamp",
            "date",
            "CAST(ordered_at AS date)",
        ),
    };
    let dpc = format!(
        "# The mesh: settings shared by every product in this repository.\n[mesh]\nname = \"{mesh}\"\ndefault_target = \"{}\"\n\n{settings}",
        target.name()
    );
    let product = format!(
        r#"name = "orders"
domain = "sales"
owner = "sales-team@example.com"
description = "Orders placed in the web shop."

# The team's own data, exported nightly from its database.
[inputs.shop_orders]
kind = "export"
columns.order_id    = {{ type = "{string}", required = true }}
columns.customer_id = {{ type = "{string}", required = true }}
columns.amount      = {{ type = "{numeric}" }}
columns.ordered_at  = {{ type = "{timestamp}", required = true }}

[outputs.orders]
version = 1
description = "One row per order."
query = "orders.sql"
materialization = "table"
partition_by = "ordered_on"
schedule = "0 3 * * *"
freshness = "26h"

[outputs.orders.columns]
order_id    = {{ type = "{string}", required = true, unique = true, description = "The shop's order id." }}
customer_id = {{ type = "{string}", required = true }}
amount      = {{ type = "{numeric}", description = "Order total in EUR." }}
ordered_on  = {{ type = "{date}", required = true }}
"#
    );
    let query = format!(
        "-- One row per order; the date of the order is the partition.\nSELECT\n  order_id,\n  customer_id,\n  amount,\n  {to_date} AS ordered_on\nFROM shop_orders\n"
    );
    vec![
        (".gitignore".into(), "# What dpc writes: the build's output and the check cache.\n/target/\n".into()),
        ("dpc.toml".into(), dpc),
        ("products/sales/orders/product.toml".into(), product),
        ("products/sales/orders/orders.sql".into(), query),
    ]
}
