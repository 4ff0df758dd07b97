//! Synthetic data meshes for benchmarks ("Performance at mesh scale").
//!
//! [`mesh`] writes a BigQuery mesh of any size that `dpc check` accepts
//! without errors: source products that read their own exports (some with
//! nested columns), and products that read one to three upstream ports of
//! earlier products (a DAG), with realistic analytics SQL: CTEs, joins,
//! GROUP BY, CASE, CAST, window functions, QUALIFY, date functions, UNNEST
//! and STRUCT fields. Every declared column is typed exactly as dpc infers
//! it, and is `required` only where dpc proves it non-NULL. About one port
//! in ten declares no columns (`CONTRACT_PERCENT`): dpc warns about each
//! (DPC0356), and about nothing else.
//!
//! [`dbt_project`] and [`plain_sql`] write the same queries as a dbt project
//! and as plain SQL with a `schema.json` for sqlglot, so that tools can be
//! compared on the same work.
//!
//! Deterministic: the same (products, seed) gives the same bytes, and the
//! first N products of a mesh of M > N products are the mesh of N. Std only.
#![allow(dead_code)]

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::rc::Rc;

pub struct Options {
    pub products: usize,
    pub seed: u64,
}

/// Every file of the mesh: (mesh-relative path, contents), deterministic for (products, seed).
pub fn mesh(o: &Options) -> Vec<(String, String)> {
    let products = plan(o);
    let mut files = Vec::with_capacity(products.len() * 3 + 1);
    files.push(("dpc.toml".to_string(), dpc_toml(o)));
    for p in &products {
        let dir = format!("products/{}/{}", p.domain, p.name);
        files.push((format!("{dir}/product.toml"), product_toml(p, &products)));
        for port in &p.ports {
            let sql = render(&port.sql, |i| p.inputs[i].name.clone());
            files.push((format!("{dir}/{}.sql", port.name), sql));
        }
    }
    files
}

/// The same mesh as a dbt project: `dbt_project.yml`, one model per port
/// (`models/<domain>/<product>__<port>.sql`, with `ref` and `source`), and
/// one `models/<domain>/schema.yml` per domain with its sources and models.
pub fn dbt_project(o: &Options) -> Vec<(String, String)> {
    let products = plan(o);
    let mut files = Vec::with_capacity(products.len() * 2 + 1);
    files.push(("dbt_project.yml".to_string(), DBT_PROJECT.to_string()));
    let mut start = 0;
    while start < products.len() {
        let domain = &products[start].domain;
        let end = start + products[start..].iter().take_while(|p| &p.domain == domain).count();
        let mut yml = String::from("version: 2\n");
        let mut sources = String::new();
        let mut models = String::new();
        for p in &products[start..end] {
            let exports: Vec<(&String, &Export)> = p
                .inputs
                .iter()
                .filter_map(|i| match &i.source {
                    Source::Export(e) => Some((&i.name, e)),
                    Source::Port { .. } => None,
                })
                .collect();
            if !exports.is_empty() {
                let _ = write!(
                    sources,
                    "  - name: {d}_{n}\n    schema: {d}__{n}__exports\n    description: \"Exports landed by {d}.{n}.\"\n    tables:\n",
                    d = p.domain,
                    n = p.name
                );
            }
            for (name, export) in exports {
                let _ = writeln!(
                    sources,
                    "      - name: {name}\n        description: \"{}\"\n        columns:",
                    export.description
                );
                for c in &export.cols {
                    let _ =
                        writeln!(sources, "          - name: {}\n            data_type: \"{}\"", c.name, c.ty.sql());
                    if !c.null {
                        sources.push_str("            data_tests:\n              - not_null\n");
                    }
                }
            }
            for port in &p.ports {
                let _ =
                    writeln!(models, "  - name: {}__{}\n    description: \"{}\"", p.name, port.name, port.description);
                if port.declared {
                    models.push_str("    config:\n      contract:\n        enforced: true\n    columns:\n");
                    for c in &port.cols {
                        let _ = writeln!(models, "      - name: {}\n        data_type: \"{}\"", c.name, c.ty.sql());
                        let unique = &*c.name == "id" && port.unique_id;
                        if !c.null || unique {
                            models.push_str("        data_tests:\n");
                            if !c.null {
                                models.push_str("          - not_null\n");
                            }
                            if unique {
                                models.push_str("          - unique\n");
                            }
                        }
                    }
                }
            }
        }
        if !sources.is_empty() {
            yml.push_str("\nsources:\n");
            yml.push_str(&sources);
        }
        yml.push_str("\nmodels:\n");
        yml.push_str(&models);
        files.push((format!("models/{domain}/schema.yml"), yml));
        for p in &products[start..end] {
            for port in &p.ports {
                let mut sql = dbt_config(port);
                sql.push_str(&render(&port.sql, |i| match &p.inputs[i].source {
                    Source::Export(_) => format!("{{{{ source('{}_{}', '{}') }}}}", p.domain, p.name, p.inputs[i].name),
                    Source::Port { product, port } => {
                        let up = &products[*product];
                        format!("{{{{ ref('{}__{}') }}}}", up.name, up.ports[*port].name)
                    }
                }));
                files.push((format!("models/{}/{}__{}.sql", p.domain, p.name, port.name), sql));
            }
        }
        start = end;
    }
    files
}

/// The same queries as plain BigQuery SQL, one file per port
/// (`queries/<domain>/<domain>_<product>_<port>.sql`, reading flat table
/// names), and `schema.json` with the columns of every table they read
/// (every export and every port): `{"table": {"column": "TYPE", ...}, ...}`.
pub fn plain_sql(o: &Options) -> Vec<(String, String)> {
    let products = plan(o);
    let mut files = Vec::with_capacity(products.len() * 2 + 1);
    let mut schema = String::from("{\n");
    let mut first = true;
    let mut table = |schema: &mut String, name: String, cols: &[Col]| {
        if !first {
            schema.push_str(",\n");
        }
        first = false;
        let _ = write!(schema, "  \"{name}\": {{");
        for (k, c) in cols.iter().enumerate() {
            let _ = write!(schema, "{}\"{}\": \"{}\"", if k == 0 { "" } else { ", " }, c.name, c.ty.sql());
        }
        schema.push('}');
    };
    for p in &products {
        for input in &p.inputs {
            if let Source::Export(e) = &input.source {
                table(&mut schema, format!("{}_{}_{}", p.domain, p.name, input.name), &e.cols);
            }
        }
        for port in &p.ports {
            table(&mut schema, format!("{}_{}_{}", p.domain, p.name, port.name), &port.cols);
            let sql = render(&port.sql, |i| match &p.inputs[i].source {
                Source::Export(_) => format!("{}_{}_{}", p.domain, p.name, p.inputs[i].name),
                Source::Port { product, port } => {
                    let up = &products[*product];
                    format!("{}_{}_{}", up.domain, up.name, up.ports[*port].name)
                }
            });
            files.push((format!("queries/{d}/{d}_{}_{}.sql", p.name, port.name, d = p.domain), sql));
        }
    }
    schema.push_str("\n}\n");
    files.push(("schema.json".to_string(), schema));
    files
}

// ---------------------------------------------------------------------------
// Knobs and vocabulary

/// Products per domain.
const DOMAIN_SIZE: usize = 25;
/// Share of products that read only their own exports.
const SOURCE_PERCENT: usize = 10;
/// Share of ports that declare their columns (the others get dpc's DPC0356 warning).
const CONTRACT_PERCENT: usize = 90;
/// Share of source products whose export has nested columns.
const NESTED_PERCENT: usize = 20;
/// Share of a derived product's inputs taken from its own domain (the
/// recent products: the graph gets depth); the others from any earlier one.
const SAME_DOMAIN_PERCENT: usize = 50;

/// The columns every port starts with, in this order.
const CORE: [(&str, Ty); 7] = [
    ("id", Ty::Str),
    ("customer_id", Ty::Str),
    ("event_date", Ty::Date),
    ("status", Ty::Str),
    ("amount", Ty::Num),
    ("quantity", Ty::Int),
    ("updated_at", Ty::Ts),
];

/// Columns of a main export that the core columns are cleaned from.
const RAW_CORE: [&str; 10] = [
    "id",
    "customer_ref",
    "status_code",
    "amount_minor",
    "unit_count",
    "booked_on",
    "created_at",
    "updated_at",
    "is_test",
    "email",
];

const NOUNS: &[(&str, &str)] = &[
    ("orders", "order"),
    ("payments", "payment"),
    ("refunds", "refund"),
    ("sessions", "session"),
    ("page_views", "page_view"),
    ("shipments", "shipment"),
    ("deliveries", "delivery"),
    ("returns", "return"),
    ("invoices", "invoice"),
    ("subscriptions", "subscription"),
    ("accounts", "account"),
    ("listings", "listing"),
    ("stock_levels", "stock_level"),
    ("stock_moves", "stock_move"),
    ("tickets", "ticket"),
    ("campaigns", "campaign"),
    ("clicks", "click"),
    ("impressions", "impression"),
    ("leads", "lead"),
    ("contracts", "contract"),
    ("claims", "claim"),
    ("policies", "policy"),
    ("transactions", "transaction"),
    ("transfers", "transfer"),
    ("loans", "loan"),
    ("devices", "device"),
    ("bookings", "booking"),
    ("trips", "trip"),
    ("reviews", "review"),
    ("visits", "visit"),
    ("appointments", "appointment"),
    ("enrollments", "enrollment"),
    ("quotes", "quote"),
    ("carts", "cart"),
    ("messages", "message"),
    ("calls", "call"),
    ("meter_readings", "meter_reading"),
    ("work_orders", "work_order"),
    ("purchase_orders", "purchase_order"),
    ("receipts", "receipt"),
];

/// Words that name derived metrics (`<word>_<suffix>`).
const WORDS: &[&str] = &[
    "revenue",
    "margin",
    "basket",
    "visit",
    "churn",
    "tenure",
    "loyalty",
    "risk",
    "engagement",
    "conversion",
    "retention",
    "fulfilment",
    "delivery",
    "payment",
    "refund",
    "discount",
    "traffic",
    "session",
    "cart",
    "checkout",
    "support",
    "review",
    "stock",
    "supply",
    "demand",
    "forecast",
    "budget",
    "cost",
    "profit",
    "lead",
    "campaign",
    "email",
    "push",
    "app",
    "web",
    "store",
    "region",
    "market",
    "partner",
    "vendor",
    "seller",
    "buyer",
    "member",
    "plan",
    "usage",
    "quota",
    "billing",
    "claim",
    "fraud",
    "credit",
    "transfer",
    "balance",
    "fee",
    "tax",
    "shipping",
    "service",
    "account",
    "contract",
    "growth",
    "activity",
    "quality",
    "priority",
    "capacity",
    "backlog",
];

/// Extra columns of exports, by type.
const POOL: &[(&str, Ty)] = &[
    ("channel", Ty::Str),
    ("region", Ty::Str),
    ("country_code", Ty::Str),
    ("device_type", Ty::Str),
    ("plan_code", Ty::Str),
    ("tier", Ty::Str),
    ("currency", Ty::Str),
    ("category", Ty::Str),
    ("brand", Ty::Str),
    ("warehouse", Ty::Str),
    ("carrier", Ty::Str),
    ("language", Ty::Str),
    ("source_system", Ty::Str),
    ("attempts", Ty::Int),
    ("retries", Ty::Int),
    ("visit_count", Ty::Int),
    ("points", Ty::Int),
    ("page_count", Ty::Int),
    ("duration_s", Ty::Int),
    ("priority", Ty::Int),
    ("line_count", Ty::Int),
    ("discount", Ty::Num),
    ("tax", Ty::Num),
    ("fee", Ty::Num),
    ("shipping_fee", Ty::Num),
    ("net_value", Ty::Num),
    ("cost", Ty::Num),
    ("margin", Ty::Num),
    ("balance", Ty::Num),
    ("score", Ty::Float),
    ("rating", Ty::Float),
    ("latitude", Ty::Float),
    ("longitude", Ty::Float),
    ("probability", Ty::Float),
    ("weight_kg", Ty::Float),
    ("is_priority", Ty::Bool),
    ("has_voucher", Ty::Bool),
    ("is_returning", Ty::Bool),
    ("is_mobile", Ty::Bool),
    ("opted_in", Ty::Bool),
    ("due_on", Ty::Date),
    ("valid_from", Ty::Date),
    ("valid_to", Ty::Date),
    ("first_seen_on", Ty::Date),
    ("shipped_at", Ty::Ts),
    ("confirmed_at", Ty::Ts),
    ("closed_at", Ty::Ts),
    ("last_login_at", Ty::Ts),
];

const STATUSES: &[&str] = &["new", "active", "pending", "closed", "cancelled"];
const STATUS_CODES: &[(&str, &str)] = &[
    ("N", "new"),
    ("NEW", "new"),
    ("A", "active"),
    ("OPEN", "active"),
    ("P", "pending"),
    ("C", "closed"),
    ("DONE", "closed"),
    ("X", "cancelled"),
    ("CXL", "cancelled"),
];
const LABELS: &[&str] = &["web", "app", "store", "partner", "api", "phone", "email", "marketplace"];
const TAGS: &[&str] = &["vip", "promo", "b2b", "gift", "test", "fragile", "express", "repeat"];
const GRAINS: &[(&str, &str)] =
    &[("DAY", "daily"), ("WEEK(MONDAY)", "weekly"), ("MONTH", "monthly"), ("QUARTER", "quarterly")];

const CLUSTERS: &[&[&str]] = &[&["customer_id"], &["status"], &["customer_id", "status"]];

const DBT_PROJECT: &str = "name: synthetic\nversion: \"1.0.0\"\nconfig-version: 2\nprofile: synthetic\n\nmodel-paths: [\"models\"]\n\nmodels:\n  synthetic:\n    +materialized: view\n";

// ---------------------------------------------------------------------------
// The plan: products, their inputs and ports, with the SQL of each port

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        ((self.next() >> 11) % n as u64) as usize
    }
    /// lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Str,
    Int,
    Num,
    Float,
    Bool,
    Date,
    Ts,
    /// ARRAY<STRING>
    Tags,
    /// STRUCT<a STRING, b INT64>
    Attrs,
    /// ARRAY<STRUCT<sku STRING, qty INT64, price NUMERIC>>
    Items,
}

impl Ty {
    fn sql(self) -> &'static str {
        match self {
            Ty::Str => "STRING",
            Ty::Int => "INT64",
            Ty::Num => "NUMERIC",
            Ty::Float => "FLOAT64",
            Ty::Bool => "BOOL",
            Ty::Date => "DATE",
            Ty::Ts => "TIMESTAMP",
            Ty::Tags => "ARRAY<STRING>",
            Ty::Attrs => "STRUCT<a STRING, b INT64>",
            Ty::Items => "ARRAY<STRUCT<sku STRING, qty INT64, price NUMERIC>>",
        }
    }
    fn nested(self) -> bool {
        matches!(self, Ty::Tags | Ty::Attrs | Ty::Items)
    }
}

/// A column: its name, type, and whether dpc may see it NULL.
#[derive(Clone, Debug)]
struct Col {
    name: Rc<str>,
    ty: Ty,
    null: bool,
}

fn col(name: &str, ty: Ty, null: bool) -> Col {
    Col { name: Rc::from(name), ty, null }
}

struct Export {
    cols: Vec<Col>,
    /// The column with classification "pii", if any.
    pii: Option<String>,
    description: String,
}

enum Source {
    Export(Export),
    Port { product: usize, port: usize },
}

struct Input {
    name: String,
    source: Source,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mat {
    View,
    Table,
    Incremental,
}

struct Port {
    name: String,
    description: String,
    cols: Vec<Col>,
    declared: bool,
    unique_id: bool,
    mat: Mat,
    partition: bool,
    cluster: Vec<&'static str>,
    schedule: Option<String>,
    /// With table references as markers (see `tref`).
    sql: String,
}

struct Product {
    domain: String,
    name: String,
    description: String,
    inputs: Vec<Input>,
    ports: Vec<Port>,
}

fn plan(o: &Options) -> Vec<Product> {
    let mut products: Vec<Product> = Vec::with_capacity(o.products);
    for i in 0..o.products {
        let mut rng = Rng::new(o.seed, i as u64);
        let p = if i == 0 || rng.chance(SOURCE_PERCENT) {
            source_product(&mut rng, i)
        } else {
            derived_product(&mut rng, i, &products)
        };
        products.push(p);
    }
    products
}

fn domain_of(i: usize) -> String {
    format!("d{:03}", i / DOMAIN_SIZE)
}

/// How a query sees one of its product's inputs.
struct In {
    /// Index in the product's inputs.
    idx: usize,
    name: String,
    kind: Kind,
    cols: Vec<Col>,
    /// The main export has a PII e-mail column (only ever read hashed).
    email: bool,
    /// An events export: the column holding the id of the record.
    key: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Raw,
    Events,
    Port,
}

impl In {
    /// Columns to pass through: not core, not PII.
    fn extras(&self) -> Vec<Col> {
        match self.kind {
            Kind::Port => self.cols[CORE.len()..].to_vec(),
            _ => self.cols.iter().filter(|c| !RAW_CORE.contains(&&*c.name)).cloned().collect(),
        }
    }
    /// Columns that metrics may read: all but PII.
    fn readable(&self) -> Vec<Col> {
        self.cols.iter().filter(|c| &*c.name != "email").cloned().collect()
    }
}

fn source_product(rng: &mut Rng, i: usize) -> Product {
    let (noun, one) = *rng.pick(NOUNS);
    let domain = domain_of(i);
    let name = format!("p{i:05}");
    let mut cols = vec![
        col("id", Ty::Str, false),
        col("customer_ref", Ty::Str, !rng.chance(70)),
        col("status_code", Ty::Str, rng.chance(50)),
        col("amount_minor", Ty::Int, !rng.chance(60)),
        col("unit_count", Ty::Int, true),
        col("booked_on", Ty::Date, true),
        col("created_at", Ty::Ts, false),
        col("updated_at", Ty::Ts, rng.chance(50)),
        col("is_test", Ty::Bool, true),
    ];
    let email = rng.chance(30);
    if email {
        cols.push(col("email", Ty::Str, true));
    }
    let mut pool: Vec<usize> = (0..POOL.len()).collect();
    for _ in 0..rng.range(3, 8) {
        let k = pool.remove(rng.below(pool.len()));
        cols.push(col(POOL[k].0, POOL[k].1, !rng.chance(40)));
    }
    if rng.chance(NESTED_PERCENT) {
        let which = rng.range(1, 7);
        if which & 1 != 0 {
            cols.push(col("tags", Ty::Tags, rng.chance(50)));
        }
        if which & 2 != 0 {
            cols.push(col("attrs", Ty::Attrs, true));
        }
        if which & 4 != 0 {
            cols.push(col("items", Ty::Items, rng.chance(50)));
        }
    }
    let main_name = format!("raw_{noun}");
    let mut ins = vec![In { idx: 0, name: main_name.clone(), kind: Kind::Raw, cols, email, key: String::new() }];
    if rng.chance(50) {
        let key = format!("{one}_id");
        let mut ecols = vec![
            col("event_id", Ty::Str, false),
            col(&key, Ty::Str, false),
            col("event_type", Ty::Str, rng.chance(50)),
            col("event_time", Ty::Ts, false),
            col("value", Ty::Num, true),
        ];
        if rng.chance(50) {
            ecols.push(col("payload_bytes", Ty::Int, true));
        }
        ins.push(In { idx: 1, name: format!("raw_{one}_events"), kind: Kind::Events, cols: ecols, email: false, key });
    }
    let inputs = ins
        .iter()
        .map(|x| Input {
            name: x.name.clone(),
            source: Source::Export(Export {
                cols: x.cols.clone(),
                pii: x.email.then(|| "email".to_string()),
                description: match x.kind {
                    Kind::Events => format!("Nightly export of the {one} service's event log: one row per event."),
                    _ => format!("Nightly export of the {one} service's {noun} table."),
                },
            }),
        })
        .collect();
    let mut ports = vec![];
    let prim = &ins[0];
    let others: Vec<&In> = ins[1..].iter().collect();
    let q = enrich(rng, prim, &others, &ins);
    ports.push(finish_port(rng, noun.to_string(), format!("One row per {one}, cleaned from the {noun} export."), q));
    if rng.chance(40) {
        let (q, grain) = rollup(rng, prim, &[], &ins);
        ports.push(finish_port(rng, format!("{noun}_{grain}"), format!("{noun} per customer, {grain}."), q));
    }
    Product {
        description: format!("{noun} as the {one} service records them (synthetic source product {i})."),
        domain,
        name,
        inputs,
        ports,
    }
}

fn derived_product(rng: &mut Rng, i: usize, done: &[Product]) -> Product {
    let (noun, one) = *rng.pick(NOUNS);
    let domain = domain_of(i);
    let name = format!("p{i:05}");
    let n = match rng.below(100) {
        0..=39 => 1,
        40..=74 => 2,
        _ => 3,
    };
    let dom_start = i / DOMAIN_SIZE * DOMAIN_SIZE;
    let mut picked: Vec<(usize, usize)> = vec![];
    for _ in 0..n {
        for _ in 0..10 {
            let j = if i > dom_start && rng.chance(SAME_DOMAIN_PERCENT) {
                dom_start + rng.below(i - dom_start)
            } else {
                rng.below(i)
            };
            let port = rng.below(done[j].ports.len());
            if !picked.contains(&(j, port)) {
                picked.push((j, port));
                break;
            }
        }
    }
    let mut ins: Vec<In> = vec![];
    let mut inputs = vec![];
    for (k, &(j, port)) in picked.iter().enumerate() {
        let up = &done[j];
        let p = &up.ports[port];
        let mut iname = p.name.clone();
        if ins.iter().any(|x| x.name == iname) {
            iname = format!("{}_{}", p.name, up.name);
        }
        ins.push(In {
            idx: k,
            name: iname.clone(),
            kind: Kind::Port,
            cols: p.cols.clone(),
            email: false,
            key: String::new(),
        });
        inputs.push(Input { name: iname, source: Source::Port { product: j, port } });
    }
    let prim = &ins[0];
    let others: Vec<&In> = ins[1..].iter().collect();
    let mut ports = vec![];
    let kind = rng.below(100);
    let first_is_rollup = kind >= 75;
    if first_is_rollup {
        let (q, grain) = rollup(rng, prim, &others, &ins);
        ports.push(finish_port(rng, format!("{noun}_{grain}"), format!("{noun} per customer, {grain}."), q));
    } else if kind >= 55 {
        let q = latest(rng, prim, &others, &ins);
        ports.push(finish_port(rng, format!("{noun}_current"), format!("The latest {one} of each customer."), q));
    } else {
        let q = enrich(rng, prim, &others, &ins);
        ports.push(finish_port(rng, noun.to_string(), format!("One row per {one}, enriched from its inputs."), q));
    }
    if rng.chance(40) {
        if first_is_rollup {
            let q = enrich(rng, prim, &others, &ins);
            ports.push(finish_port(rng, noun.to_string(), format!("One row per {one}, enriched from its inputs."), q));
        } else {
            let (q, grain) = rollup(rng, prim, &others, &ins);
            ports.push(finish_port(rng, format!("{noun}_{grain}"), format!("{noun} per customer, {grain}."), q));
        }
    }
    // A product runs on one schedule (else DPC0109): its first stored port's.
    if let Some(first) = ports.iter().find_map(|p| p.schedule.clone()) {
        ports.iter_mut().filter(|p| p.schedule.is_some()).for_each(|p| p.schedule = Some(first.clone()));
    }
    let from: Vec<String> =
        picked.iter().map(|&(j, p)| format!("{}.{}.{}", done[j].domain, done[j].name, done[j].ports[p].name)).collect();
    Product {
        description: format!("{noun} built from {} (synthetic product {i}).", from.join(", ")),
        domain,
        name,
        inputs,
        ports,
    }
}

struct Query {
    sql: String,
    cols: Vec<Col>,
    unique_id: bool,
}

fn finish_port(rng: &mut Rng, name: String, description: String, q: Query) -> Port {
    let declared = rng.chance(CONTRACT_PERCENT);
    let mat = match rng.below(100) {
        0..=44 => Mat::Table,
        45..=69 => Mat::View,
        _ => Mat::Incremental,
    };
    let stored = mat != Mat::View;
    // Draw the same numbers whether or not the port is declared.
    let (partition, cluster, clusters) = (rng.chance(70), rng.chance(60), rng.pick(CLUSTERS));
    let partition = stored && declared && partition;
    let cluster = if stored && declared && cluster { clusters.to_vec() } else { vec![] };
    let schedule = stored.then(|| format!("{} {} * * *", rng.below(60), rng.range(1, 8)));
    Port {
        name,
        description,
        cols: q.cols,
        declared,
        unique_id: q.unique_id,
        mat,
        partition,
        cluster,
        schedule,
        sql: q.sql,
    }
}

// ---------------------------------------------------------------------------
// Query building

/// A table reference in a query, rendered per output format.
fn tref(idx: usize) -> String {
    format!("\u{1}{idx}\u{2}")
}

fn render(sql: &str, mut name: impl FnMut(usize) -> String) -> String {
    let mut out = String::with_capacity(sql.len() + 64);
    let mut rest = sql;
    while let Some(start) = rest.find('\u{1}') {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('\u{2}').expect("a closed table marker");
        let idx: usize = rest[start + 1..end].parse().expect("an input index");
        out.push_str(&name(idx));
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// A value: SQL text, type, and whether dpc may see it NULL.
struct V {
    sql: String,
    ty: Ty,
    null: bool,
}

fn v(sql: impl Into<String>, ty: Ty, null: bool) -> V {
    V { sql: sql.into(), ty, null }
}

/// The output names of one query (compared as written: all lower case).
#[derive(Default)]
struct Names(BTreeSet<String>);

impl Names {
    fn reserve(&mut self, name: &str) -> bool {
        self.0.insert(name.to_string())
    }
    fn unique(&mut self, base: &str) -> String {
        if self.reserve(base) {
            return base.to_string();
        }
        let mut k = 2;
        loop {
            let n = format!("{base}_{k}");
            if self.reserve(&n) {
                return n;
            }
            k += 1;
        }
    }
    /// `<word>_<suffix>`.
    fn fresh(&mut self, rng: &mut Rng, suffix: &str) -> String {
        for _ in 0..6 {
            let n = format!("{}_{suffix}", rng.pick(WORDS));
            if self.reserve(&n) {
                return n;
            }
        }
        let n = format!("{}_{suffix}", rng.pick(WORDS));
        self.unique(&n)
    }
    /// `<prefix>_<word>`: is_..., has_...
    fn flag(&mut self, rng: &mut Rng, prefix: &str) -> String {
        for _ in 0..6 {
            let n = format!("{prefix}_{}", rng.pick(WORDS));
            if self.reserve(&n) {
                return n;
            }
        }
        let n = format!("{prefix}_{}", rng.pick(WORDS));
        self.unique(&n)
    }
}

/// A SELECT list.
#[derive(Default)]
struct Sel {
    items: Vec<(String, Col)>,
}

impl Sel {
    /// Adds a value, unless the list already has the same expression.
    fn add(&mut self, x: V, name: &str) {
        if !self.items.iter().any(|(sql, _)| *sql == x.sql) {
            self.items.push((x.sql, col(name, x.ty, x.null)));
        }
    }
    /// `alias.column`, keeping its name.
    fn pass(&mut self, alias: &str, c: &Col) {
        let mut sql = String::with_capacity(alias.len() + 1 + c.name.len());
        sql.push_str(alias);
        sql.push('.');
        sql.push_str(&c.name);
        self.items.push((sql, c.clone()));
    }
    fn cols(&self) -> Vec<Col> {
        self.items.iter().map(|(_, c)| c.clone()).collect()
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// One SELECT, its lines indented by `ind`.
struct Block<'a> {
    sel: &'a Sel,
    from: Vec<String>,
    wheres: Vec<String>,
    group: Vec<String>,
    having: Option<String>,
    qualify: Option<String>,
}

impl<'a> Block<'a> {
    fn new(sel: &'a Sel, from: String) -> Block<'a> {
        Block { sel, from: vec![from], wheres: vec![], group: vec![], having: None, qualify: None }
    }
    fn render(&self, out: &mut String, ind: &str) {
        let line = |out: &mut String, parts: &[&str]| {
            out.push_str(ind);
            parts.iter().for_each(|p| out.push_str(p));
            out.push('\n');
        };
        line(out, &["SELECT"]);
        let n = self.sel.items.len();
        for (k, (sql, c)) in self.sel.items.iter().enumerate() {
            let sep = if k + 1 < n { "," } else { "" };
            let bare = &*c.name == "*"
                || **sql == *c.name
                || sql.rsplit_once('.').is_some_and(|(a, b)| b == &*c.name && is_ident(a));
            // Continuation lines are written relative to the item.
            let sql: Cow<str> = if sql.contains('\n') {
                Cow::Owned(sql.replace('\n', &format!("\n{ind}")))
            } else {
                Cow::Borrowed(sql)
            };
            if bare {
                line(out, &["  ", &sql, sep]);
            } else {
                line(out, &["  ", &sql, " AS ", &c.name, sep]);
            }
        }
        for (k, f) in self.from.iter().enumerate() {
            line(out, &[if k == 0 { "FROM " } else { "" }, f]);
        }
        for (k, w) in self.wheres.iter().enumerate() {
            line(out, &[if k == 0 { "WHERE " } else { "  AND " }, w]);
        }
        if !self.group.is_empty() {
            line(out, &["GROUP BY ", &self.group.join(", ")]);
        }
        if let Some(h) = &self.having {
            line(out, &["HAVING ", h]);
        }
        if let Some(q) = &self.qualify {
            line(out, &["QUALIFY ", q]);
        }
    }
}

/// A query of CTEs and a final SELECT.
struct Builder {
    comment: Vec<String>,
    ctes: Vec<(String, String)>,
    taken: Vec<String>,
}

impl Builder {
    fn new(ins: &[In], comment: Vec<String>) -> Builder {
        Builder { comment, ctes: vec![], taken: ins.iter().map(|i| i.name.clone()).collect() }
    }
    /// A CTE name that no input and no other CTE has.
    fn name(&mut self, base: &str) -> String {
        let mut n = base.to_string();
        let mut k = 2;
        while self.taken.contains(&n) {
            n = format!("{base}_{k}");
            k += 1;
        }
        self.taken.push(n.clone());
        n
    }
    fn cte(&mut self, name: String, b: &Block) {
        let mut body = String::with_capacity(1024);
        b.render(&mut body, "  ");
        self.ctes.push((name, body));
    }
    fn finish(self, last: &Block) -> String {
        let mut out =
            String::with_capacity(self.ctes.iter().map(|(n, b)| n.len() + b.len() + 16).sum::<usize>() + 2048);
        for c in &self.comment {
            let _ = writeln!(out, "-- {c}");
        }
        for (k, (name, body)) in self.ctes.iter().enumerate() {
            let _ = write!(out, "{}{name} AS (\n{body})", if k == 0 { "WITH " } else { "" });
            out.push_str(if k + 1 < self.ctes.len() { ",\n\n" } else { "\n\n" });
        }
        last.render(&mut out, "");
        out
    }
}

/// The core columns read from an input, as values (cleaned for an export).
fn core_values(rng: &mut Rng, inp: &In, a: &str) -> Vec<V> {
    let null = |n: &str| inp.cols.iter().find(|c| &*c.name == n).is_none_or(|c| c.null);
    match inp.kind {
        Kind::Port => inp.cols[..CORE.len()].iter().map(|c| v(format!("{a}.{}", c.name), c.ty, c.null)).collect(),
        _ => {
            let customer = if rng.chance(50) {
                format!("LOWER(TRIM({a}.customer_ref))")
            } else {
                format!("TRIM({a}.customer_ref)")
            };
            let mut arms: Vec<(&str, &str)> = vec![];
            for _ in 0..rng.range(3, 6) {
                let arm = *rng.pick(STATUS_CODES);
                if !arms.iter().any(|(c, _)| *c == arm.0) {
                    arms.push(arm);
                }
            }
            let mut status = format!("CASE UPPER(TRIM({a}.status_code))");
            for (code, s) in arms {
                let _ = write!(status, "\n    WHEN '{code}' THEN '{s}'");
            }
            let _ = write!(status, "\n    ELSE '{}'\n  END", rng.pick(&["pending", "new", "unknown"]));
            let quantity = if rng.chance(50) {
                format!("COALESCE({a}.unit_count, 0)")
            } else {
                format!("IFNULL({a}.unit_count, 1)")
            };
            vec![
                v(format!("{a}.id"), Ty::Str, null("id")),
                v(customer, Ty::Str, null("customer_ref")),
                v(
                    format!("COALESCE({a}.booked_on, DATE({a}.created_at))"),
                    Ty::Date,
                    null("booked_on") && null("created_at"),
                ),
                v(status, Ty::Str, false),
                v(format!("CAST({a}.amount_minor AS NUMERIC) / 100"), Ty::Num, null("amount_minor")),
                v(quantity, Ty::Int, false),
                v(
                    format!("COALESCE({a}.updated_at, {a}.created_at)"),
                    Ty::Ts,
                    null("updated_at") && null("created_at"),
                ),
            ]
        }
    }
}

/// A row filter on a port's core columns.
fn port_filter(rng: &mut Rng, a: &str) -> String {
    match rng.below(8) {
        0 => format!("{a}.status != 'cancelled'"),
        1 => {
            let s1 = rng.pick(STATUSES);
            let s2 = rng.pick(STATUSES);
            if s1 == s2 {
                format!("{a}.status = '{s1}'")
            } else {
                format!("{a}.status IN ('{s1}', '{s2}')")
            }
        }
        2 => format!("{a}.event_date >= DATE '{}-01-01'", rng.range(2018, 2023)),
        3 => format!("{a}.event_date >= DATE_SUB(CURRENT_DATE(), INTERVAL {} DAY)", rng.pick(&[90, 180, 365, 730])),
        4 => format!("{a}.amount > 0"),
        5 => format!("{a}.quantity BETWEEN 1 AND {}", rng.pick(&[10, 100, 1000])),
        6 => format!("{a}.customer_id IS NOT NULL"),
        _ => format!("{a}.updated_at >= TIMESTAMP '{}-01-01 00:00:00+00'", rng.range(2018, 2023)),
    }
}

fn raw_filters(rng: &mut Rng, a: &str) -> Vec<String> {
    let mut w = vec![format!("NOT COALESCE({a}.is_test, FALSE)")];
    if rng.chance(50) {
        w.push(format!("{a}.created_at >= TIMESTAMP '{}-01-01 00:00:00+00'", rng.range(2015, 2020)));
    }
    w
}

/// A row-level value computed from one column of `cols` (read as `a.col`).
fn row_metric(rng: &mut Rng, a: &str, c: &Col, names: &mut Names) -> (V, String) {
    let x = format!("{a}.{}", c.name);
    let n = c.null;
    let k = rng.pick(&[2, 3, 5, 10, 12, 100]);
    match c.ty {
        Ty::Str => match rng.below(6) {
            0 => (v(format!("COALESCE({x}, 'unknown')"), Ty::Str, false), names.fresh(rng, "label")),
            1 => (v(format!("UPPER(TRIM({x}))"), Ty::Str, n), names.fresh(rng, "code")),
            2 => (v(format!("LENGTH({x})"), Ty::Int, n), names.fresh(rng, "length")),
            3 => (v(format!("{x} IS NOT NULL"), Ty::Bool, false), names.flag(rng, "has")),
            4 => {
                let (l1, l2, l3) = (rng.pick(LABELS), rng.pick(LABELS), rng.pick(LABELS));
                let sql = format!(
                    "CASE\n    WHEN {x} IN ('{l1}', '{l2}') THEN 'direct'\n    WHEN {x} LIKE '{}%' THEN 'assisted'\n    ELSE 'other'\n  END",
                    &l3[..1]
                );
                (v(sql, Ty::Str, false), names.fresh(rng, "segment"))
            }
            _ => (v(format!("SUBSTR({x}, 1, {})", rng.range(2, 5)), Ty::Str, n), names.fresh(rng, "prefix")),
        },
        Ty::Int => match rng.below(7) {
            0 => (v(format!("COALESCE({x}, 0)"), Ty::Int, false), names.fresh(rng, "total")),
            1 => (v(format!("{x} * {k}"), Ty::Int, n), names.fresh(rng, "units")),
            2 => (v(format!("IF({x} > {k}, 'high', 'low')"), Ty::Str, false), names.fresh(rng, "band")),
            3 => (v(format!("SAFE_DIVIDE({x}, {k})"), Ty::Float, true), names.fresh(rng, "ratio")),
            4 => (v(format!("CAST({x} AS STRING)"), Ty::Str, n), names.fresh(rng, "key")),
            5 => (
                v(format!("CAST({x} AS NUMERIC) * NUMERIC '{}.{:02}'", rng.below(3), rng.below(100)), Ty::Num, n),
                names.fresh(rng, "value"),
            ),
            _ => (v(format!("{x} >= {k}"), Ty::Bool, n), names.flag(rng, "is")),
        },
        Ty::Num => match rng.below(7) {
            0 => {
                (v(format!("ROUND({x} * NUMERIC '1.{:02}', 2)", rng.below(100)), Ty::Num, n), names.fresh(rng, "gross"))
            }
            1 => (v(format!("COALESCE({x}, 0)"), Ty::Num, false), names.fresh(rng, "amount")),
            2 => (v(format!("CAST({x} AS FLOAT64)"), Ty::Float, n), names.fresh(rng, "estimate")),
            3 => {
                let sql = format!(
                    "CASE\n    WHEN {x} >= {} THEN 'large'\n    WHEN {x} >= {} THEN 'medium'\n    ELSE 'small'\n  END",
                    rng.pick(&[500, 1000, 5000]),
                    rng.pick(&[50, 100, 250])
                );
                (v(sql, Ty::Str, false), names.fresh(rng, "tier"))
            }
            4 => (v(format!("ABS({x})"), Ty::Num, n), names.fresh(rng, "magnitude")),
            5 => (v(format!("CAST(ROUND({x}) AS INT64)"), Ty::Int, n), names.fresh(rng, "whole")),
            _ => {
                (v(format!("ROUND({x} / NUMERIC '1.{:02}', 2)", rng.range(1, 25)), Ty::Num, n), names.fresh(rng, "net"))
            }
        },
        Ty::Float => match rng.below(5) {
            0 => (v(format!("ROUND({x}, 3)"), Ty::Float, n), names.fresh(rng, "score")),
            1 => (v(format!("{x} * 100"), Ty::Float, n), names.fresh(rng, "pct")),
            2 => (v(format!("{x} > 0.5"), Ty::Bool, n), names.flag(rng, "is")),
            3 => (v(format!("COALESCE({x}, 0.0)"), Ty::Float, false), names.fresh(rng, "level")),
            _ => (v(format!("LEAST({x}, 1.0)"), Ty::Float, n), names.fresh(rng, "capped")),
        },
        Ty::Bool => match rng.below(4) {
            0 => (v(format!("IF({x}, 1, 0)"), Ty::Int, n), names.fresh(rng, "flag")),
            1 => (v(format!("COALESCE({x}, FALSE)"), Ty::Bool, false), names.flag(rng, "is")),
            2 => (v(format!("NOT {x}"), Ty::Bool, n), names.flag(rng, "is")),
            _ => (v(format!("CASE WHEN {x} THEN 'yes' ELSE 'no' END"), Ty::Str, false), names.fresh(rng, "answer")),
        },
        Ty::Date => match rng.below(7) {
            0 => (v(format!("DATE_TRUNC({x}, MONTH)"), Ty::Date, n), names.fresh(rng, "month")),
            1 => (v(format!("DATE_TRUNC({x}, WEEK(MONDAY))"), Ty::Date, n), names.fresh(rng, "week")),
            2 => (v(format!("EXTRACT(YEAR FROM {x})"), Ty::Int, n), names.fresh(rng, "year")),
            3 => (v(format!("DATE_DIFF(CURRENT_DATE(), {x}, DAY)"), Ty::Int, n), names.fresh(rng, "age_days")),
            4 => (v(format!("FORMAT_DATE('%Y-%m', {x})"), Ty::Str, n), names.fresh(rng, "period")),
            5 => (v(format!("DATE_ADD({x}, INTERVAL {k} DAY)"), Ty::Date, n), names.fresh(rng, "due_on")),
            _ => (v(format!("EXTRACT(DAYOFWEEK FROM {x})"), Ty::Int, n), names.fresh(rng, "weekday")),
        },
        Ty::Ts => match rng.below(6) {
            0 => (v(format!("DATE({x})"), Ty::Date, n), names.fresh(rng, "on")),
            1 => (v(format!("TIMESTAMP_TRUNC({x}, HOUR)"), Ty::Ts, n), names.fresh(rng, "hour")),
            2 => (v(format!("EXTRACT(HOUR FROM {x})"), Ty::Int, n), names.fresh(rng, "hour_of_day")),
            3 => (
                v(format!("TIMESTAMP_DIFF(CURRENT_TIMESTAMP(), {x}, HOUR)"), Ty::Int, n),
                names.fresh(rng, "age_hours"),
            ),
            4 => (v(format!("DATE({x}, 'Europe/Berlin')"), Ty::Date, n), names.fresh(rng, "local_on")),
            _ => (
                v(format!("{x} >= TIMESTAMP_SUB(CURRENT_TIMESTAMP(), INTERVAL {k} DAY)"), Ty::Bool, n),
                names.flag(rng, "is_recent"),
            ),
        },
        Ty::Tags => {
            let tag = rng.pick(TAGS);
            match rng.below(5) {
                0 => (v(format!("ARRAY_LENGTH({x})"), Ty::Int, n), names.fresh(rng, "tag_count")),
                1 => (v(format!("'{tag}' IN UNNEST({x})"), Ty::Bool, true), names.flag(rng, "is")),
                2 => (
                    v(
                        format!("EXISTS (SELECT 1 FROM UNNEST({x}) AS tag WHERE STARTS_WITH(tag, '{tag}'))"),
                        Ty::Bool,
                        false,
                    ),
                    names.flag(rng, "has"),
                ),
                3 => (v(format!("ARRAY_TO_STRING({x}, ',')"), Ty::Str, n), names.fresh(rng, "tag_list")),
                _ => (v(format!("{x}[SAFE_OFFSET(0)]"), Ty::Str, true), names.fresh(rng, "first_tag")),
            }
        }
        Ty::Attrs => match rng.below(3) {
            0 => (v(format!("{x}.a"), Ty::Str, true), names.fresh(rng, "attribute")),
            1 => (v(format!("COALESCE({x}.b, 0)"), Ty::Int, false), names.fresh(rng, "attribute_level")),
            _ => (v(format!("{x}.b * {k}"), Ty::Int, true), names.fresh(rng, "attribute_weight")),
        },
        Ty::Items => match rng.below(5) {
            0 => (v(format!("ARRAY_LENGTH({x})"), Ty::Int, n), names.fresh(rng, "line_count")),
            1 => (
                v(format!("(SELECT SUM(it.qty * it.price) FROM UNNEST({x}) AS it)"), Ty::Num, true),
                names.fresh(rng, "items_value"),
            ),
            2 => (
                v(format!("(SELECT COUNT(DISTINCT it.sku) FROM UNNEST({x}) AS it)"), Ty::Int, true),
                names.fresh(rng, "sku_count"),
            ),
            3 => (v(format!("{x}[SAFE_OFFSET(0)].sku"), Ty::Str, true), names.fresh(rng, "first_sku")),
            _ => (
                v(format!("(SELECT MAX(it.price) FROM UNNEST({x}) AS it WHERE it.qty > 0)"), Ty::Num, true),
                names.fresh(rng, "top_price"),
            ),
        },
    }
}

/// A window value over the core columns of `a` (a row-level SELECT).
fn window_metric(rng: &mut Rng, a: &str, names: &mut Names) -> (V, String) {
    let part = format!("PARTITION BY {a}.customer_id");
    match rng.below(9) {
        0 => (
            v(format!("ROW_NUMBER() OVER ({part} ORDER BY {a}.event_date DESC, {a}.id)"), Ty::Int, false),
            names.fresh(rng, "seq"),
        ),
        1 => (v(format!("RANK() OVER (PARTITION BY {a}.status ORDER BY {a}.amount DESC)"), Ty::Int, false), names.fresh(rng, "rank")),
        2 => (
            v(
                format!("SUM({a}.amount) OVER (\n    {part}\n    ORDER BY {a}.event_date\n    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n  )"),
                Ty::Num,
                true,
            ),
            names.fresh(rng, "running_amount"),
        ),
        3 => (v(format!("AVG({a}.quantity) OVER ({part})"), Ty::Float, true), names.fresh(rng, "avg_quantity")),
        4 => (v(format!("LAG({a}.event_date) OVER ({part} ORDER BY {a}.event_date)"), Ty::Date, true), names.fresh(rng, "previous_on")),
        5 => (v(format!("COUNT(*) OVER ({part})"), Ty::Int, false), names.fresh(rng, "count")),
        6 => (
            v(
                format!("DATE_DIFF({a}.event_date, LAG({a}.event_date) OVER ({part} ORDER BY {a}.event_date), DAY)"),
                Ty::Int,
                true,
            ),
            names.fresh(rng, "gap_days"),
        ),
        7 => (
            v(format!("FIRST_VALUE({a}.status) OVER ({part} ORDER BY {a}.updated_at)"), Ty::Str, true),
            names.fresh(rng, "first_status"),
        ),
        _ => (
            v(format!("{a}.amount - AVG({a}.amount) OVER (PARTITION BY {a}.status)"), Ty::Num, true),
            names.fresh(rng, "amount_vs_average"),
        ),
    }
}

/// An aggregate of one column (read as `a.col`) in a grouped SELECT.
fn agg_metric(rng: &mut Rng, a: &str, c: &Col, names: &mut Names) -> (V, String) {
    let x = format!("{a}.{}", c.name);
    let n = c.null;
    match c.ty {
        Ty::Str => match rng.below(5) {
            0 => (v(format!("COUNT(DISTINCT {x})"), Ty::Int, false), names.fresh(rng, "distinct_count")),
            1 => (v(format!("APPROX_COUNT_DISTINCT({x})"), Ty::Int, false), names.fresh(rng, "reach")),
            2 => (v(format!("MAX({x})"), Ty::Str, n), names.fresh(rng, "max_label")),
            3 => (v(format!("STRING_AGG(DISTINCT {x}, ', ')"), Ty::Str, n), names.fresh(rng, "list")),
            _ => (v(format!("ARRAY_AGG(DISTINCT {x} IGNORE NULLS)"), Ty::Tags, true), names.fresh(rng, "set")),
        },
        Ty::Int => match rng.below(3) {
            0 => (v(format!("SUM({x})"), Ty::Int, n), names.fresh(rng, "total")),
            1 => (v(format!("ROUND(AVG({x}), 2)"), Ty::Float, n), names.fresh(rng, "average")),
            _ => (v(format!("MAX({x})"), Ty::Int, n), names.fresh(rng, "peak")),
        },
        Ty::Num => match rng.below(4) {
            0 => (v(format!("SUM({x})"), Ty::Num, n), names.fresh(rng, "sum")),
            1 => (v(format!("ROUND(AVG({x}), 2)"), Ty::Num, n), names.fresh(rng, "avg_amount")),
            2 => (v(format!("MAX({x})"), Ty::Num, n), names.fresh(rng, "max_amount")),
            _ => (v(format!("MIN({x})"), Ty::Num, n), names.fresh(rng, "min_amount")),
        },
        // STDDEV_SAMP of one row is NULL.
        Ty::Float => match rng.below(3) {
            0 => (v(format!("AVG({x})"), Ty::Float, n), names.fresh(rng, "avg_score")),
            1 => (v(format!("MAX({x})"), Ty::Float, n), names.fresh(rng, "max_score")),
            _ => (v(format!("STDDEV_SAMP({x})"), Ty::Float, true), names.fresh(rng, "stddev")),
        },
        Ty::Bool => match rng.below(3) {
            0 => (v(format!("LOGICAL_OR({x})"), Ty::Bool, n), names.flag(rng, "any")),
            1 => (v(format!("LOGICAL_AND({x})"), Ty::Bool, n), names.flag(rng, "all")),
            _ => (v(format!("COUNTIF({x})"), Ty::Int, false), names.fresh(rng, "hits")),
        },
        Ty::Date => match rng.below(3) {
            0 => (v(format!("MIN({x})"), Ty::Date, n), names.fresh(rng, "first_on")),
            1 => (v(format!("MAX({x})"), Ty::Date, n), names.fresh(rng, "last_on")),
            _ => (v(format!("COUNT(DISTINCT {x})"), Ty::Int, false), names.fresh(rng, "active_days")),
        },
        Ty::Ts => match rng.below(2) {
            0 => (v(format!("MIN({x})"), Ty::Ts, n), names.fresh(rng, "first_at")),
            _ => (v(format!("MAX({x})"), Ty::Ts, n), names.fresh(rng, "last_at")),
        },
        Ty::Tags => (v(format!("SUM(ARRAY_LENGTH({x}))"), Ty::Int, n), names.fresh(rng, "tag_total")),
        Ty::Items => (v(format!("SUM(ARRAY_LENGTH({x}))"), Ty::Int, n), names.fresh(rng, "line_total")),
        Ty::Attrs => match rng.below(2) {
            0 => (v(format!("MAX({x}.b)"), Ty::Int, true), names.fresh(rng, "attribute_max")),
            _ => (v(format!("COUNT(DISTINCT {x}.a)"), Ty::Int, false), names.fresh(rng, "attribute_count")),
        },
    }
}

/// Picks some of `cols`, at most `max` flat ones; nested ones more often,
/// so that nested data flows a few products downstream.
fn some(rng: &mut Rng, cols: &[Col], percent: usize, max: usize) -> Vec<Col> {
    let mut out = vec![];
    let mut flat = 0;
    for c in cols {
        if c.ty.nested() {
            if rng.chance(80) {
                out.push(c.clone());
            }
        } else if flat < max && rng.chance(percent) {
            out.push(c.clone());
            flat += 1;
        }
    }
    out
}

/// Joins the final SELECT to a CTE of per-key figures of another input.
struct Stats {
    cte: String,
    alias: String,
    key: &'static str,
    cols: Vec<Col>,
}

impl Stats {
    /// Its figures in the final SELECT: counts and sums default to 0.
    fn select(&self, sel: &mut Sel) {
        for c in &self.cols {
            let x = format!("{}.{}", self.alias, c.name);
            match c.ty {
                Ty::Int | Ty::Num => sel.add(v(format!("COALESCE({x}, 0)"), c.ty, false), &c.name),
                Ty::Float => sel.add(v(format!("ROUND(COALESCE({x}, 0), 4)"), c.ty, false), &c.name),
                Ty::Bool => sel.add(v(format!("COALESCE({x}, FALSE)"), c.ty, false), &c.name),
                _ => sel.add(v(x, c.ty, true), &c.name),
            }
        }
    }
    fn join(&self, on: &str) -> String {
        format!("LEFT JOIN {} AS {} ON {}.{k} = {on}.{k}", self.cte, self.alias, self.alias, k = self.key)
    }
}

/// Figures per customer (or per id) of another input.
fn stats(rng: &mut Rng, b: &mut Builder, q: &In, by_customer: bool, alias: String, names: &mut Names) -> Stats {
    let mut sel = Sel::default();
    let (a, key, block_from, group, wheres, count);
    if q.kind == Kind::Events {
        a = "e";
        key = "id";
        sel.add(v(format!("e.{}", q.key), Ty::Str, false), "id");
        block_from = format!("{} AS e", tref(q.idx));
        group = format!("e.{}", q.key);
        wheres = vec![];
        count = names.fresh(rng, "event_count");
    } else {
        a = "q";
        key = if by_customer { "customer_id" } else { "id" };
        let kc = q.cols.iter().find(|c| &*c.name == key).expect("a core column");
        sel.pass("q", kc);
        block_from = format!("{} AS q", tref(q.idx));
        group = format!("q.{key}");
        wheres = if rng.chance(60) { vec![port_filter(rng, "q")] } else { vec![] };
        count = names.fresh(rng, "count");
    }
    sel.add(v("COUNT(*)", Ty::Int, false), &count);
    let readable: Vec<Col> = q.readable().into_iter().filter(|c| &*c.name != key && *c.name != *q.key).collect();
    for _ in 0..rng.range(1, 3) {
        let c = rng.pick(&readable).clone();
        let (x, name) = agg_metric(rng, a, &c, names);
        sel.add(x, &name);
    }
    if q.kind == Kind::Events {
        let last = names.fresh(rng, "last_event_at");
        sel.add(v("MAX(e.event_time)", Ty::Ts, false), &last);
    } else if rng.chance(50) {
        let last = names.fresh(rng, "last_at");
        let c = q.cols.iter().find(|c| &*c.name == "updated_at").expect("a core column");
        sel.add(v("MAX(q.updated_at)", Ty::Ts, c.null), &last);
    }
    let cte = b.name(&format!("{}_{}", q.name, if key == "id" { "stats" } else { "by_customer" }));
    let mut block = Block::new(&sel, block_from);
    block.wheres = wheres;
    block.group = vec![group];
    b.cte(cte.clone(), &block);
    Stats { cte, alias, key, cols: sel.cols()[1..].to_vec() }
}

/// Per-id figures of the line items of an input with an `items` column.
fn line_totals(rng: &mut Rng, b: &mut Builder, p: &In, items: &Col, names: &mut Names) -> Stats {
    let a = if p.kind == Kind::Raw { "r" } else { "p" };
    let mut lines = Sel::default();
    lines.add(v(format!("{a}.id"), Ty::Str, false), "id");
    lines.add(v("it.sku", Ty::Str, true), "sku");
    lines.add(v("it.qty", Ty::Int, true), "qty");
    lines.add(v("it.price", Ty::Num, true), "price");
    lines.add(v("pos", Ty::Int, false), "pos");
    let mut block = Block::new(&lines, format!("{} AS {a}", tref(p.idx)));
    block.from.push(format!("CROSS JOIN UNNEST({a}.{}) AS it WITH OFFSET AS pos", items.name));
    block.wheres.push("it.qty > 0".to_string());
    let lines_cte = b.name(&format!("{}_lines", p.name));
    b.cte(lines_cte.clone(), &block);
    let mut tot = Sel::default();
    tot.add(v("l.id", Ty::Str, false), "id");
    tot.add(v("COUNT(*)", Ty::Int, false), &names.fresh(rng, "line_count"));
    tot.add(v("SUM(l.qty)", Ty::Int, true), &names.fresh(rng, "item_quantity"));
    tot.add(v("ROUND(SUM(l.qty * l.price), 2)", Ty::Num, true), &names.fresh(rng, "item_value"));
    if rng.chance(50) {
        tot.add(v("COUNT(DISTINCT l.sku)", Ty::Int, false), &names.fresh(rng, "sku_count"));
    }
    if rng.chance(50) {
        tot.add(v("MAX(l.pos) + 1", Ty::Int, false), &names.fresh(rng, "max_lines"));
    }
    let mut block = Block::new(&tot, format!("{lines_cte} AS l"));
    block.group.push("l.id".to_string());
    let cte = b.name(&format!("{}_line_totals", p.name));
    b.cte(cte.clone(), &block);
    Stats { cte, alias: "lt".to_string(), key: "id", cols: tot.cols()[1..].to_vec() }
}

/// Per-id figures of the tags of an input with an ARRAY<STRING> column.
fn tag_totals(rng: &mut Rng, b: &mut Builder, p: &In, tags: &Col, names: &mut Names) -> Stats {
    let a = if p.kind == Kind::Raw { "r" } else { "p" };
    let mut sel = Sel::default();
    sel.add(v(format!("{a}.id"), Ty::Str, false), "id");
    sel.add(v("COUNT(*)", Ty::Int, false), &names.fresh(rng, "tag_count"));
    let tag = rng.pick(TAGS);
    sel.add(
        v(format!("COUNTIF(STARTS_WITH(tag, '{tag}'))"), Ty::Int, false),
        &names.fresh(rng, &format!("{tag}_tags")),
    );
    sel.add(v(format!("LOGICAL_OR(tag = '{}')", rng.pick(TAGS)), Ty::Bool, true), &names.flag(rng, "is_tagged"));
    let mut block = Block::new(&sel, format!("{} AS {a}, UNNEST({a}.{}) AS tag", tref(p.idx), tags.name));
    block.group.push(format!("{a}.id"));
    let cte = b.name(&format!("{}_tags", p.name));
    b.cte(cte.clone(), &block);
    Stats { cte, alias: "tg".to_string(), key: "id", cols: sel.cols()[1..].to_vec() }
}

fn names_with_core() -> Names {
    let mut names = Names::default();
    for (n, _) in CORE {
        names.reserve(n);
    }
    names
}

/// One row per record of the primary input, with figures of the others.
fn enrich(rng: &mut Rng, prim: &In, others: &[&In], ins: &[In]) -> Query {
    let mut names = names_with_core();
    let raw = prim.kind == Kind::Raw;
    let a = if raw { "r" } else { "p" };
    let mut comment = vec![format!("One row per record of {}, with figures of its other inputs.", prim.name)];
    if raw {
        comment.push("Test records are dropped; a record exported twice keeps its latest version.".to_string());
    }
    let mut b = Builder::new(ins, comment);
    // The base rows.
    let mut base = Sel::default();
    for (k, x) in core_values(rng, prim, a).into_iter().enumerate() {
        base.add(x, CORE[k].0);
    }
    for c in some(rng, &prim.extras(), 45, 5) {
        if names.reserve(&c.name) {
            base.pass(a, &c);
        }
    }
    if prim.email {
        let n = names.unique("email_hash");
        base.add(v(format!("TO_HEX(SHA256(LOWER(TRIM({a}.email))))"), Ty::Str, true), &n);
    }
    let readable = prim.readable();
    let mut metric = |rng: &mut Rng, c: &Col, names: &mut Names| loop {
        let (x, n) = row_metric(rng, a, c, names);
        // dpc reads `r.tags[OFFSET(0)]` as reading every column of `r`,
        // the PII e-mail too: no subscripts next to one.
        if !prim.email || !x.sql.contains("[SAFE_OFFSET") {
            base.add(x, &n);
            break;
        }
    };
    for _ in 0..rng.range(1, 3) {
        let c = rng.pick(&readable).clone();
        metric(rng, &c, &mut names);
    }
    for c in readable.iter().filter(|c| matches!(c.ty, Ty::Tags | Ty::Attrs)) {
        if rng.chance(70) {
            metric(rng, c, &mut names);
        }
    }
    let mut block = Block::new(&base, format!("{} AS {a}", tref(prim.idx)));
    let dedup = raw || rng.chance(30);
    if raw {
        block.wheres = raw_filters(rng, a);
        block.qualify = Some(format!("ROW_NUMBER() OVER (PARTITION BY {a}.id ORDER BY {a}.updated_at DESC) = 1"));
    } else {
        for _ in 0..rng.range(0, 2) {
            block.wheres.push(port_filter(rng, a));
        }
        if dedup {
            // BigQuery has long wanted a WHERE, GROUP BY or HAVING beside QUALIFY.
            if block.wheres.is_empty() {
                block.wheres.push(port_filter(rng, a));
            }
            block.qualify = Some(format!("ROW_NUMBER() OVER (PARTITION BY {a}.id ORDER BY {a}.updated_at DESC) = 1"));
        }
    }
    let base_name = b.name(if raw { "cleaned" } else { "base" });
    b.cte(base_name.clone(), &block);
    // Figures of the other inputs, and of nested columns.
    let mut joins: Vec<Stats> = vec![];
    for (k, q) in others.iter().enumerate() {
        let by_customer = q.kind == Kind::Port && rng.chance(60);
        joins.push(stats(rng, &mut b, q, by_customer, format!("s{}", k + 1), &mut names));
    }
    if let Some(items) = prim.cols.iter().find(|c| c.ty == Ty::Items) {
        if rng.chance(70) {
            joins.push(line_totals(rng, &mut b, prim, items, &mut names));
        }
    }
    if let Some(tags) = prim.cols.iter().find(|c| c.ty == Ty::Tags) {
        if rng.chance(40) {
            joins.push(tag_totals(rng, &mut b, prim, tags, &mut names));
        }
    }
    // The final SELECT.
    let bc = base.cols();
    let mut sel = Sel::default();
    for c in &bc[..3] {
        sel.pass("b", c);
    }
    let status = &bc[3];
    match joins.first() {
        Some(s) if rng.chance(40) => {
            let cnt = &s.cols[0].name;
            let sql = format!(
                "CASE\n    WHEN {a}.{cnt} IS NULL THEN 'inactive'\n    WHEN {a}.{cnt} > {} THEN 'engaged'\n    ELSE b.status\n  END",
                rng.pick(&[1, 3, 10]),
                a = s.alias
            );
            sel.add(v(sql, Ty::Str, status.null), "status");
        }
        _ => sel.pass("b", status),
    }
    let amount = &bc[4];
    match joins.iter().find_map(|s| s.cols.iter().find(|c| c.ty == Ty::Num).map(|c| (s, c))) {
        Some((s, c)) if rng.chance(50) => sel.add(
            v(format!("ROUND(b.amount + COALESCE({}.{}, 0), 2)", s.alias, c.name), Ty::Num, amount.null),
            "amount",
        ),
        _ => sel.pass("b", amount),
    }
    sel.pass("b", &bc[5]);
    let updated = &bc[6];
    match joins.iter().find_map(|s| s.cols.iter().find(|c| c.ty == Ty::Ts).map(|c| (s, c))) {
        Some((s, c)) if rng.chance(60) => sel.add(
            v(format!("GREATEST(b.updated_at, COALESCE({}.{}, b.updated_at))", s.alias, c.name), Ty::Ts, updated.null),
            "updated_at",
        ),
        _ => sel.pass("b", updated),
    }
    for c in &bc[CORE.len()..] {
        sel.pass("b", c);
    }
    for s in &joins {
        s.select(&mut sel);
    }
    for _ in 0..rng.range(1, 3) {
        let (x, n) = window_metric(rng, "b", &mut names);
        sel.add(x, &n);
    }
    let mut last = Block::new(&sel, format!("{base_name} AS b"));
    for s in &joins {
        last.from.push(s.join("b"));
    }
    Query { sql: b.finish(&last), cols: sel.cols(), unique_id: dedup }
}

/// The latest record of each customer, with lifetime figures.
fn latest(rng: &mut Rng, prim: &In, others: &[&In], ins: &[In]) -> Query {
    let mut names = names_with_core();
    for c in &prim.cols {
        names.reserve(&c.name);
    }
    let mut b =
        Builder::new(ins, vec![format!("The latest record of each customer in {}, with lifetime figures.", prim.name)]);
    let rank = names.unique("recency_rank");
    let count = names.fresh(rng, "lifetime_count");
    let total = names.fresh(rng, "lifetime_amount");
    let mut block_sel = Sel::default();
    block_sel.items.push(("p.*".to_string(), col("*", Ty::Str, false)));
    block_sel.add(
        v("ROW_NUMBER() OVER (PARTITION BY p.customer_id ORDER BY p.updated_at DESC, p.id)", Ty::Int, false),
        &rank,
    );
    block_sel.add(v("COUNT(*) OVER (PARTITION BY p.customer_id)", Ty::Int, false), &count);
    block_sel.add(v("SUM(p.amount) OVER (PARTITION BY p.customer_id)", Ty::Num, true), &total);
    let mut block = Block::new(&block_sel, format!("{} AS p", tref(prim.idx)));
    if rng.chance(50) {
        block.wheres.push(port_filter(rng, "p"));
    }
    let ranked_name = b.name("ranked");
    b.cte(ranked_name.clone(), &block);
    let star = Sel { items: vec![(format!("* EXCEPT ({rank})"), col("*", Ty::Str, false))] };
    let mut block = Block::new(&star, ranked_name);
    block.wheres.push(format!("{rank} = 1"));
    let latest_name = b.name("latest");
    b.cte(latest_name.clone(), &block);
    let mut lcols = prim.cols.clone();
    lcols.push(col(&count, Ty::Int, false));
    lcols.push(col(&total, Ty::Num, true));
    let mut joins: Vec<Stats> = vec![];
    for (k, q) in others.iter().enumerate() {
        let by_customer = rng.chance(70);
        joins.push(stats(rng, &mut b, q, by_customer, format!("s{}", k + 1), &mut names));
    }
    let mut sel = Sel::default();
    for c in &lcols[..3] {
        sel.pass("l", c);
    }
    let status = &lcols[3];
    if rng.chance(50) {
        let sql =
            format!("CASE\n    WHEN l.{count} >= {} THEN 'loyal'\n    ELSE l.status\n  END", rng.pick(&[3, 5, 10, 20]));
        sel.add(v(sql, Ty::Str, status.null), "status");
    } else {
        sel.pass("l", status);
    }
    for c in &lcols[4..CORE.len()] {
        sel.pass("l", c);
    }
    sel.pass("l", &lcols[lcols.len() - 2]);
    sel.pass("l", &lcols[lcols.len() - 1]);
    for c in some(rng, &lcols[CORE.len()..lcols.len() - 2], 40, 4) {
        sel.pass("l", &c);
    }
    let readable: Vec<Col> = lcols.clone();
    for _ in 0..rng.range(1, 3) {
        let c = rng.pick(&readable).clone();
        let (x, n) = row_metric(rng, "l", &c, &mut names);
        sel.add(x, &n);
    }
    for s in &joins {
        s.select(&mut sel);
    }
    let mut last = Block::new(&sel, format!("{latest_name} AS l"));
    for s in &joins {
        last.from.push(s.join("l"));
    }
    Query { sql: b.finish(&last), cols: sel.cols(), unique_id: false }
}

/// Figures per customer and period (day, week, month or quarter).
fn rollup(rng: &mut Rng, prim: &In, others: &[&In], ins: &[In]) -> (Query, &'static str) {
    let mut names = names_with_core();
    let raw = prim.kind == Kind::Raw;
    let a = if raw { "r" } else { "p" };
    let (grain, grain_name) = *rng.pick(GRAINS);
    let ports: Vec<&In> = others.iter().copied().filter(|q| q.kind == Kind::Port).collect();
    let union = !raw && !ports.is_empty() && rng.chance(50);
    let mut b = Builder::new(
        ins,
        vec![format!(
            "Figures per customer and {} of {}{}.",
            grain_name.trim_end_matches("ly").replace("dai", "day"),
            prim.name,
            if union { " and the inputs it is compared with" } else { "" }
        )],
    );
    names.reserve("period_start");
    names.reserve("source_input");
    let period = |ev: &V| -> V {
        if grain == "DAY" {
            v(ev.sql.clone(), Ty::Date, ev.null)
        } else {
            v(format!("DATE_TRUNC({}, {grain})", ev.sql), Ty::Date, ev.null)
        }
    };
    // The activity rows.
    let core = core_values(rng, prim, a);
    let mut act = Sel::default();
    act.add(v(core[1].sql.clone(), Ty::Str, core[1].null), "customer_id");
    act.add(period(&core[2]), "period_start");
    for k in 3..CORE.len() {
        act.add(v(core[k].sql.clone(), core[k].ty, core[k].null), CORE[k].0);
    }
    let mut branches: Vec<Sel> = vec![];
    if union {
        act.add(v(format!("'{}'", prim.name), Ty::Str, false), "source_input");
        for q in &ports {
            let qc = core_values(rng, q, "q");
            let mut s = Sel::default();
            s.add(v(qc[1].sql.clone(), Ty::Str, qc[1].null), "customer_id");
            s.add(period(&qc[2]), "period_start");
            for k in 3..CORE.len() {
                s.add(v(qc[k].sql.clone(), qc[k].ty, qc[k].null), CORE[k].0);
            }
            s.add(v(format!("'{}'", q.name), Ty::Str, false), "source_input");
            // UNION ALL: a column may be NULL if it is in any branch.
            for (i, (_, c)) in s.items.iter().enumerate() {
                act.items[i].1.null |= c.null;
            }
            branches.push(s);
        }
    } else {
        for c in some(rng, &prim.extras(), 40, 3) {
            if !c.ty.nested() && names.reserve(&c.name) {
                act.pass(a, &c);
            }
        }
    }
    let mut body = String::with_capacity(2048);
    let mut block = Block::new(&act, format!("{} AS {a}", tref(prim.idx)));
    if raw {
        block.wheres = raw_filters(rng, a);
    } else if rng.chance(50) {
        block.wheres.push(port_filter(rng, a));
    }
    block.render(&mut body, "  ");
    for (q, s) in ports.iter().zip(&branches) {
        body.push_str("\n  UNION ALL\n\n");
        let mut block = Block::new(s, format!("{} AS q", tref(q.idx)));
        if rng.chance(40) {
            block.wheres.push(port_filter(rng, "q"));
        }
        block.render(&mut body, "  ");
    }
    let act_name = b.name("activity");
    b.ctes.push((act_name.clone(), body));
    let ac = act.cols();
    // Per customer and period.
    let status_key = rng.chance(30);
    let mut per = Sel::default();
    per.pass("a", &ac[0]);
    per.pass("a", &ac[1]);
    let mut group = vec!["a.customer_id".to_string(), "a.period_start".to_string()];
    if status_key {
        per.pass("a", &ac[2]);
        group.push("a.status".to_string());
    }
    let count = names.fresh(rng, "count");
    per.add(v("COUNT(*)", Ty::Int, false), &count);
    per.add(v("SUM(a.amount)", Ty::Num, ac[3].null), "amount");
    per.add(v("SUM(a.quantity)", Ty::Int, ac[4].null), "quantity");
    per.add(v("MAX(a.updated_at)", Ty::Ts, ac[5].null), "updated_at");
    let closed = names.fresh(rng, "closed_count");
    if !status_key {
        per.add(v("COUNTIF(a.status IN ('closed', 'cancelled'))", Ty::Int, false), &closed);
    }
    if union {
        for q in &ports {
            let n = names.unique(&format!("{}_rows", q.name));
            per.add(v(format!("COUNTIF(a.source_input = '{}')", q.name), Ty::Int, false), &n);
        }
    }
    let measures: Vec<Col> = ac[2..].iter().filter(|c| &*c.name != "source_input").cloned().collect();
    for _ in 0..rng.range(1, 3) {
        let c = rng.pick(&measures).clone();
        let (x, n) = agg_metric(rng, "a", &c, &mut names);
        per.add(x, &n);
    }
    let mut block = Block::new(&per, format!("{act_name} AS a"));
    block.group = group;
    if rng.chance(25) {
        block.having = Some("COUNT(*) > 1".to_string());
    }
    let per_name = b.name("periods");
    b.cte(per_name.clone(), &block);
    let pc = per.cols();
    let pget = |n: &str| pc.iter().find(|c| &*c.name == n).expect("a periods column").clone();
    // Figures of the inputs that are not in the union.
    let mut joins: Vec<Stats> = vec![];
    if !union {
        for (k, q) in others.iter().filter(|q| q.kind == Kind::Port).enumerate() {
            joins.push(stats(rng, &mut b, q, true, format!("s{}", k + 1), &mut names));
        }
    }
    // The final SELECT.
    let mut sel = Sel::default();
    let mut id = "CONCAT(\n    COALESCE(m.customer_id, 'unknown'), '-',\n    COALESCE(FORMAT_DATE('%Y%m%d', m.period_start), 'undated')".to_string();
    if status_key {
        id.push_str(", '-',\n    COALESCE(m.status, 'none')");
    }
    id.push_str("\n  )");
    sel.add(v(id, Ty::Str, false), "id");
    sel.pass("m", &pget("customer_id"));
    let ps = pget("period_start");
    sel.add(v("m.period_start", Ty::Date, ps.null), "event_date");
    if status_key {
        sel.pass("m", &pget("status"));
    } else {
        let sql = format!(
            "CASE\n    WHEN m.{closed} = m.{count} THEN 'closed'\n    WHEN m.{count} >= {} THEN 'active'\n    ELSE 'new'\n  END",
            rng.pick(&[2, 5, 10])
        );
        sel.add(v(sql, Ty::Str, false), "status");
    }
    for n in ["amount", "quantity", "updated_at"] {
        sel.pass("m", &pget(n));
    }
    let skip = ["customer_id", "period_start", "status", "amount", "quantity", "updated_at"];
    for c in pc.iter().filter(|c| !skip.contains(&&*c.name)) {
        sel.pass("m", c);
    }
    for s in &joins {
        s.select(&mut sel);
    }
    let part = "PARTITION BY m.customer_id ORDER BY m.period_start";
    for _ in 0..rng.range(1, 3) {
        let (x, n) = match rng.below(5) {
            0 => (v(format!("LAG(m.amount) OVER ({part})"), Ty::Num, true), names.fresh(rng, "previous_amount")),
            1 => (
                v(
                    format!(
                        "SUM(m.amount) OVER (\n    {part}\n    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW\n  )"
                    ),
                    Ty::Num,
                    true,
                ),
                names.fresh(rng, "cumulative_amount"),
            ),
            2 => (
                v("ROW_NUMBER() OVER (PARTITION BY m.customer_id ORDER BY m.period_start DESC)", Ty::Int, false),
                names.fresh(rng, "recency"),
            ),
            3 => {
                (v(format!("m.amount - LAG(m.amount) OVER ({part})"), Ty::Num, true), names.fresh(rng, "amount_change"))
            }
            _ => (
                v(
                    format!("AVG(m.quantity) OVER (\n    {part}\n    ROWS BETWEEN 2 PRECEDING AND CURRENT ROW\n  )"),
                    Ty::Float,
                    true,
                ),
                names.fresh(rng, "moving_quantity"),
            ),
        };
        sel.add(x, &n);
    }
    if rng.chance(50) {
        let n = names.fresh(rng, "unit_amount");
        sel.add(v("SAFE_DIVIDE(m.amount, NULLIF(m.quantity, 0))", Ty::Num, true), &n);
    }
    let mut last = Block::new(&sel, format!("{per_name} AS m"));
    for s in &joins {
        last.from.push(s.join("m"));
    }
    (Query { sql: b.finish(&last), cols: sel.cols(), unique_id: true }, grain_name)
}

// ---------------------------------------------------------------------------
// Files

fn dpc_toml(o: &Options) -> String {
    format!(
        "# A synthetic mesh for benchmarks: {} products, seed {}.\n[mesh]\nname = \"synthetic\"\ndefault_target = \"bigquery\"\n\n[targets.bigquery]\nproject = \"synthetic-data\"\nlocation = \"EU\"\n",
        o.products, o.seed
    )
}

fn product_toml(p: &Product, all: &[Product]) -> String {
    let mut t = String::with_capacity(4096);
    let _ = writeln!(t, "name = \"{}\"", p.name);
    let _ = writeln!(t, "domain = \"{}\"", p.domain);
    let _ = writeln!(t, "owner = \"team-{}@synthetic.example\"", p.domain);
    let _ = writeln!(t, "description = \"{}\"", p.description);
    for i in &p.inputs {
        let _ = writeln!(t, "\n[inputs.{}]", i.name);
        match &i.source {
            Source::Port { product, port } => {
                let up = &all[*product];
                let _ = writeln!(t, "product = \"{}.{}\"", up.domain, up.name);
                let _ = writeln!(t, "port = \"{}\"", up.ports[*port].name);
                t.push_str("version = 1\n");
            }
            Source::Export(e) => {
                t.push_str("kind = \"export\"\n");
                let _ = writeln!(t, "description = \"{}\"", e.description);
                let width = e.cols.iter().map(|c| c.name.len()).max().unwrap_or(0);
                for c in &e.cols {
                    let _ = write!(t, "columns.{:width$} = {{ type = \"{}\"", c.name, c.ty.sql());
                    if !c.null {
                        t.push_str(", required = true");
                    }
                    if e.pii.as_deref() == Some(&*c.name) {
                        t.push_str(", classification = \"pii\"");
                    }
                    t.push_str(" }\n");
                }
            }
        }
    }
    for port in &p.ports {
        let _ = writeln!(t, "\n[outputs.{}]", port.name);
        t.push_str("version = 1\n");
        let _ = writeln!(t, "description = \"{}\"", port.description);
        let _ = writeln!(t, "query = \"{}.sql\"", port.name);
        let _ = writeln!(
            t,
            "materialization = \"{}\"",
            match port.mat {
                Mat::View => "view",
                Mat::Table => "table",
                Mat::Incremental => "incremental",
            }
        );
        if port.mat == Mat::Incremental {
            t.push_str("unique_key = [\"id\"]\n");
        }
        if port.partition {
            t.push_str("partition_by = \"event_date\"\n");
        }
        if !port.cluster.is_empty() {
            let c: Vec<String> = port.cluster.iter().map(|c| format!("\"{c}\"")).collect();
            let _ = writeln!(t, "cluster_by = [{}]", c.join(", "));
        }
        if let Some(s) = &port.schedule {
            let _ = writeln!(t, "schedule = \"{s}\"");
            // Freshness needs a time column: the partition column, else the first DATE or TIMESTAMP.
            let time_column = port.cols.iter().find(|c| matches!(c.ty.sql(), "DATE" | "TIMESTAMP"));
            if port.partition {
                t.push_str("freshness = \"26h\"\n");
            } else if let Some(c) = time_column {
                let _ = writeln!(t, "freshness = {{ max_age = \"26h\", column = \"{}\" }}", c.name);
            }
        }
        if port.declared {
            let _ = writeln!(t, "\n[outputs.{}.columns]", port.name);
            let width = port.cols.iter().map(|c| c.name.len()).max().unwrap_or(0);
            for c in &port.cols {
                let _ = write!(t, "{:width$} = {{ type = \"{}\"", c.name, c.ty.sql());
                if !c.null {
                    t.push_str(", required = true");
                }
                if &*c.name == "id" && port.unique_id {
                    t.push_str(", unique = true");
                }
                t.push_str(" }\n");
            }
        }
    }
    t
}

fn dbt_config(port: &Port) -> String {
    let mut args = vec![format!(
        "materialized='{}'",
        match port.mat {
            Mat::View => "view",
            Mat::Table => "table",
            Mat::Incremental => "incremental",
        }
    )];
    if port.mat == Mat::Incremental {
        args.push("unique_key='id'".to_string());
        args.push("on_schema_change='append_new_columns'".to_string());
    }
    if port.partition {
        args.push("partition_by={'field': 'event_date', 'data_type': 'date'}".to_string());
    }
    if !port.cluster.is_empty() {
        let c: Vec<String> = port.cluster.iter().map(|c| format!("'{c}'")).collect();
        args.push(format!("cluster_by=[{}]", c.join(", ")));
    }
    format!("{{{{ config({}) }}}}\n\n", args.join(", "))
}
