//! The jobs of the mesh: for every product, the ordered steps (load its
//! exports, gate its inputs, wait for the upstream ports it reads, run each
//! port's transform, gate it, publish it), written into `manifest.json`
//! and as one Apache Airflow DAG file per domain, one DAG per product,
//! using the providers' standard operators (`BigQueryInsertJobOperator`,
//! `AthenaOperator`) so that Cloud Composer or MWAA can run it as it is.

use super::Artifact;
use crate::load::{InputKind, TargetKind};
use crate::resolve::{InputSource, Mesh, Product};
use serde::Serialize;
use std::collections::BTreeMap;

/// A product's jobs: one DAG.
#[derive(Debug, Serialize)]
pub struct ProductJobs {
    pub dag_id: String,
    /// The cron schedule (the ports'; None: run on demand).
    pub schedule: Option<String>,
    pub steps: Vec<Step>,
}

#[derive(Debug, Serialize)]
pub struct Step {
    pub id: String,
    /// `load`, `gate_input`, `wait`, `transform`, `gate`, `publish`.
    pub kind: &'static str,
    /// The artifact the step runs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// Steps of the same product that run before it.
    pub after: Vec<String>,
    /// For a wait: the upstream step, in its own DAG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waits_for: Option<Wait>,
}

#[derive(Debug, Serialize)]
pub struct Wait {
    pub product: String,
    pub port: String,
    pub version: u32,
    pub dag_id: String,
    pub step: String,
    /// The upstream DAG's schedule: the sensor looks for its latest run.
    pub schedule: Option<String>,
}

pub fn dag_id(p: &Product) -> String {
    format!("dpc__{}__{}", p.domain, p.name)
}

/// The schedule of a product: its first port schedule. Ports of a product
/// run together; resolve warns when they declare different schedules.
pub fn schedule(p: &Product) -> Option<String> {
    p.outputs.iter().find_map(|o| o.schedule.clone())
}

/// The steps of one product. `has` tells which artifacts exist, so that a
/// step exists only where its SQL does.
pub fn product_jobs(mesh: &Mesh, p: &Product, has: &(dyn Fn(&str) -> bool + Sync)) -> ProductJobs {
    let dir = format!("{}/{}__{}", p.target.name(), p.domain, p.name);
    let mut steps = vec![];
    let mut ready = vec![]; // what a transform runs after
    for input in &p.inputs {
        match input.source {
            InputSource::Own => {
                // The input is ready after its gate, else after its load.
                let mut last = None;
                if input.kind == InputKind::Export {
                    let id = format!("load__{}", input.name);
                    let sql = format!("{dir}/loads/{}.sql", input.name);
                    steps.push(Step { id: id.clone(), kind: "load", sql: Some(sql), after: vec![], waits_for: None });
                    last = Some(id);
                }
                let gate = format!("{dir}/gates/inputs/{}.sql", input.name);
                if has(&gate) {
                    let id = format!("gate_input__{}", input.name);
                    let after = last.into_iter().collect();
                    steps.push(Step { id: id.clone(), kind: "gate_input", sql: Some(gate), after, waits_for: None });
                    last = Some(id);
                }
                ready.extend(last);
            }
            InputSource::Port { product, port, version } => {
                let up = &mesh.products[product.0 as usize];
                // An upstream that runs on demand has no run to wait for.
                if schedule(up).is_none() {
                    continue;
                }
                let upstream_port = &up.outputs[port];
                let id = format!("wait__{}", input.name);
                let wait = Wait {
                    product: up.id.clone(),
                    port: upstream_port.name.clone(),
                    version,
                    dag_id: dag_id(up),
                    step: format!("publish__{}", upstream_port.key),
                    schedule: schedule(up),
                };
                steps.push(Step { id: id.clone(), kind: "wait", sql: None, after: vec![], waits_for: Some(wait) });
                ready.push(id);
            }
            InputSource::Unresolved => {}
        }
    }
    for port in &p.outputs {
        let transform = format!("transform__{}", port.key);
        steps.push(Step {
            id: transform.clone(),
            kind: "transform",
            sql: Some(format!("{dir}/jobs/{}.sql", port.key)),
            after: ready.clone(),
            waits_for: None,
        });
        let mut last = transform;
        let gate = format!("{dir}/gates/{}.sql", port.key);
        if has(&gate) {
            let id = format!("gate__{}", port.key);
            steps.push(Step { id: id.clone(), kind: "gate", sql: Some(gate), after: vec![last], waits_for: None });
            last = id;
        }
        steps.push(Step {
            id: format!("publish__{}", port.key),
            kind: "publish",
            sql: None,
            after: vec![last],
            waits_for: None,
        });
    }
    ProductJobs { dag_id: dag_id(p), schedule: schedule(p), steps }
}

/// A Python string literal (JSON's escapes are Python's).
fn py(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// One DAG file per domain: `airflow/dpc_<mesh>_<domain>.py`. `has` tells
/// which artifacts exist. The tasks read their SQL from the artifacts at
/// parse time: inlined, the SQL of a large mesh would be written twice.
pub fn airflow_dags(mesh: &Mesh, has: &(dyn Fn(&str) -> bool + Sync)) -> Vec<Artifact> {
    let mut domains: BTreeMap<&str, Vec<&Product>> = BTreeMap::new();
    for p in &mesh.products {
        domains.entry(&p.domain).or_default().push(p);
    }
    let mut out = vec![];
    for (domain, products) in domains {
        let targets: std::collections::BTreeSet<TargetKind> = products.iter().map(|p| p.target).collect();
        let mut text = format!(
            "\"\"\"Generated by dpc from the mesh `{mesh}`: the Airflow DAGs of domain `{domain}`, one per product.\n\nEach DAG loads the product's exports, gates its inputs on their quality checks,\nwaits for the upstream ports it reads, runs each port's transform, gates it and\npublishes it. The tables and views must exist: apply the `ddl.sql` files of the\nsame `dpc build` first. The tasks run the SQL files of the build: deploy this\nfolder together with the build's `{target_dirs}` folder, side by side as\n`dpc build` wrote them. Do not edit: run `dpc build` again.\n\"\"\"\n\nimport re\nfrom datetime import datetime, timedelta, timezone\nfrom pathlib import Path\n\nfrom croniter import croniter\n\nfrom airflow.sdk import DAG\n",
            mesh = mesh.name,
            target_dirs = targets.iter().map(|t| t.name()).collect::<Vec<_>>().join("`, `"),
        );
        if targets.contains(&TargetKind::Bigquery) {
            text.push_str("from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator\n");
        }
        if targets.contains(&TargetKind::Athena) {
            text.push_str("from airflow.providers.amazon.aws.operators.athena import AthenaOperator\n");
        }
        text.push_str(
            "from airflow.providers.standard.operators.empty import EmptyOperator\nfrom airflow.providers.standard.sensors.external_task import ExternalTaskSensor\n\n\n",
        );
        text.push_str(
            "ARTIFACTS = Path(__file__).resolve().parent.parent\n\n\ndef sql(path):\n    \"\"\"The SQL artifact `path` of this build, as an operator must be given it.\n\n    Airflow renders a query with Jinja before it runs it: every `{` that would\n    open a Jinja tag becomes `{{ \"{\" }}`, which renders back to `{`.\n    \"\"\"\n    text = (ARTIFACTS / path).read_text(encoding=\"utf-8\")\n    return re.sub(r\"\\{(?=[{%#])\", '{{ \"{\" }}', text)\n\n\ndef latest_run(schedule):\n    \"\"\"The logical date of the latest run of a DAG on `schedule` at or before this run's.\"\"\"\n\n    def at_or_before(logical_date, **_):\n        logical_date = logical_date or datetime.now(timezone.utc)\n        return croniter(schedule, logical_date.replace(microsecond=0) + timedelta(seconds=1)).get_prev(datetime)\n\n    return at_or_before\n\n\n# durable=False: a cleared or retried BigQuery task runs its SQL again (every\n# statement dpc emits is idempotent) instead of reusing an earlier try's job.\n# Operators without the option ignore it.\nDEFAULT_ARGS = {\"owner\": \"dpc\", \"retries\": 2, \"retry_delay\": timedelta(minutes=5), \"durable\": False}\n",
        );
        for p in products {
            let jobs = product_jobs(mesh, p, has);
            text.push_str(&format!(
                "\nwith DAG(\n    dag_id={},\n    description={},\n    schedule={},\n    start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),\n    catchup=False,\n    max_active_runs=1,\n    default_args={{**DEFAULT_ARGS, \"owner\": {}}},\n    tags=[\"dpc\", {}, {}],\n):\n",
                py(&jobs.dag_id),
                py(p.description.as_deref().unwrap_or(&p.id)),
                jobs.schedule.as_deref().map_or("None".to_string(), py),
                py(&p.owner),
                py(&p.domain),
                py(&p.id),
            ));
            for step in &jobs.steps {
                let id = py(&step.id);
                let call = match (step.kind, &step.sql, &step.waits_for) {
                    ("publish", _, _) => format!("EmptyOperator(task_id={id})"),
                    ("wait", _, Some(w)) => {
                        let dates = w
                            .schedule
                            .as_deref()
                            .map_or(String::new(), |s| format!("\n        execution_date_fn=latest_run({}),", py(s)));
                        format!(
                            "ExternalTaskSensor(\n        task_id={id},\n        external_dag_id={},\n        external_task_id={},{dates}\n        failed_states=[\"failed\", \"upstream_failed\"],\n        mode=\"reschedule\",\n        poke_interval=300,\n        timeout=6 * 3600,\n    )",
                            py(&w.dag_id),
                            py(&w.step)
                        )
                    }
                    (_, Some(sql), _) => operator(mesh, p, step, sql),
                    _ => format!("EmptyOperator(task_id={id})"),
                };
                text.push_str(&format!("    {} = {call}\n", step.id));
            }
            for step in &jobs.steps {
                for before in &step.after {
                    text.push_str(&format!("    {before} >> {}\n", step.id));
                }
            }
        }
        out.push(Artifact { path: format!("airflow/dpc_{}_{domain}.py", mesh.name), contents: text });
    }
    out
}

/// The operator that runs one SQL artifact on the product's target.
fn operator(mesh: &Mesh, p: &Product, step: &Step, path: &str) -> String {
    let id = py(&step.id);
    let doc = py(&format!("dpc artifact {path}"));
    // A gate that fails has found bad data: running it again finds it again.
    let retries = if step.kind.starts_with("gate") { "\n        retries=0," } else { "" };
    let sql = format!("sql({})", py(path));
    match p.target {
        TargetKind::Bigquery => {
            let bq = mesh.bigquery.as_ref();
            let location = bq
                .and_then(|b| b.location.as_deref())
                .map_or(String::new(), |l| format!("\n        location={},", py(l)));
            format!(
                "BigQueryInsertJobOperator(\n        task_id={id},\n        doc={doc},\n        project_id={},{location}{retries}\n        configuration={{\"query\": {{\"query\": {sql}, \"useLegacySql\": False}}}},\n    )",
                py(bq.map_or("", |b| b.project.as_str())),
            )
        }
        TargetKind::Athena => {
            let athena = mesh.athena.as_ref();
            let bucket = athena.map_or("", |a| a.bucket.trim_end_matches('/'));
            let workgroup = athena.and_then(|a| a.workgroup.as_deref()).unwrap_or("primary");
            format!(
                "AthenaOperator(\n        task_id={id},\n        doc={doc},{retries}\n        query={sql},\n        database={},\n        workgroup={},\n        output_location={},\n    )",
                py(&format!("{}__{}", p.domain, p.name)),
                py(workgroup),
                py(&format!("{bucket}/_dpc/athena-results/"))
            )
        }
    }
}
