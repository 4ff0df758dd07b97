#!/usr/bin/env python3
"""Check the Airflow DAG files of `dpc build` output against its manifest.

    check_airflow_dags.py [options] DIR [DIR...]
    check_airflow_dags.py --self-test DIR [DIR...]

DIR is a `dpc build --out` directory: DIR/manifest.json and DIR/airflow/*.py.
Run it with the interpreter of the venv made by scripts/setup-airflow.sh
(Airflow 3 and the google + amazon providers, pinned there). No scheduler,
database or cloud access is needed.

For every DIR, in a DagBag of its own (two meshes may use the same dag ids):

  * every DAG file imports: no import errors, and no warnings at all (the
    DagBag's captured_warnings, e.g. Airflow 2 import paths, plus any warning
    raised while the checker serializes, renders or calls into the DAGs, plus
    the dag processor's "runtime-varying value" check). ALLOWED_WARNINGS below
    is the list of tolerated ones; it is empty.
  * every DAG serializes and deserializes the way the dag processor does it
    (DagSerialization), and the deserialized DAG (the scheduler's view) has the
    same tasks and dependencies;
  * the DAGs are exactly the manifest's products (`jobs.dag_id`), each in the
    file airflow/dpc_<mesh>_<domain>.py of its domain; DAG.schedule equals
    `jobs.schedule` (None for null);
  * task ids are exactly the step ids; each task's upstream_task_ids is exactly
    set(step.after);
  * the operator class per step kind: load, gate_input, transform, gate ->
    BigQueryInsertJobOperator (target bigquery) or AthenaOperator (athena);
    publish -> EmptyOperator; wait -> ExternalTaskSensor (Airflow 3 provider
    classes, compared by identity);
  * the SQL an operator runs is the artifact DIR/<step.sql> byte for byte
    (where the artifact has text Jinja takes for a tag, `{{`, `{%` or `{#`,
    dpc escapes it and only the rendered text below must equal it):
    BigQuery configuration["query"]["query"] (and useLegacySql is False, the
    project is the one in the product's physical names), Athena `query` (and
    `database` is the product's schema), within the service's query length
    limit (Athena 262,144 bytes, BigQuery 1 MB). The field is also rendered with the
    DAG's Jinja environment, as the worker does before it submits the query:
    the rendered text must equal the artifact too, up to the one trailing
    newline that Jinja always drops (keep_trailing_newline is False);
  * gates (gate, gate_input) do not retry; sensors fail on a failed or
    upstream_failed upstream task (failed_states) instead of waiting out
    their timeout;
  * waits: external_dag_id / external_task_id are waits_for.dag_id / .step,
    and they name a step of that product in the manifest; waits_for.schedule
    is the upstream's jobs.schedule. The sensor's own date logic
    (ExternalTaskSensor._get_dttm_filter, which calls execution_date_fn) is run
    on sample logical dates: the downstream DAG's scheduled runs in
    2026-03-01..2026-04-05 (both DST switches of Europe/US) and instants
    around upstream fire times (exactly on one, 1 s and 0.5 s before, 0.5 s
    and 59 s after), each with the logical date set and with it None (a manual
    run, where the sensor passes dag_run.run_after). It must return exactly
    [the logical date of the latest upstream run at or before the sample], the
    upstream runs being what the scheduler creates from the upstream DAG's
    deserialized timetable (so the DAG's time zone counts).

Prints one line per problem. Notes (not failures): product inputs read from an
upstream product without a wait step (dpc does not wait for on-demand
upstreams).

Exit status: 0 all good, 1 any problem, 2 the environment is broken (Airflow
does not import, a DIR has no manifest or no airflow/ folder).

--self-test copies the smallest DIR that has a wait step and corrupts the copy
in several ways, one per copy (a dependency line dropped, two queries swapped,
a manifest step naming another artifact, an Airflow 2 import path, a schedule changed, the sensor's
date shifted by a minute, a wrong external task, a syntax error, a wrong
target in the manifest, a Jinja expression in the SQL, a gate that retries, a sensor
without failed_states, a durable BigQuery job, a renamed dag id), and
checks that the checker reports each as a new problem of the expected kind
(problems the untouched copy already has are set aside, and said). Exit 1 if
a corruption goes unnoticed.

Options:
  --default-timezone TZ   run with AIRFLOW__CORE__DEFAULT_TIMEZONE=TZ (the
                          time zone the deployment interprets naive DAG
                          start dates and cron schedules in)
  -v / --verbose          list every DAG and task
"""
from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
import warnings

# Warnings that are tolerated (regexes on "Category: message"). Empty: with
# the pinned Airflow 3.3.2 / google 22.8.0 / amazon 9.39.0 / standard 1.21.0
# the generated DAGs raise none. Anything added here needs a comment saying
# why it is harmless.
ALLOWED_WARNINGS: list[str] = []

SQL_KINDS = {"load", "gate_input", "transform", "gate"}
KINDS = SQL_KINDS | {"publish", "wait"}
WINDOW = (dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 4, 5, tzinfo=dt.timezone.utc))
MAX_SAMPLES = 40  # scheduled downstream runs per wait step
# Service limits on the query text: Athena StartQueryExecution QueryString
# (262,144 bytes), BigQuery "maximum unresolved GoogleSQL query length" (1 MB).
JINJA_TAG = re.compile(r"\{[{%#]")
QUERY_LIMIT = {"athena": 262_144, "bigquery": 1_048_576}


def _parse_args(argv):
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("dirs", nargs="*")
    ap.add_argument("--self-test", action="store_true")
    ap.add_argument("--default-timezone")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("-h", "--help", action="store_true")
    a = ap.parse_args(argv)
    if a.help:
        print(__doc__)
        sys.exit(0)
    if not a.dirs:
        print("usage: check_airflow_dags.py [--self-test] [--default-timezone TZ] [-v] DIR [DIR...]", file=sys.stderr)
        sys.exit(2)
    return a


ARGS = _parse_args(sys.argv[1:])

# Airflow reads its configuration when it is imported: set it up first. Keep
# it away from ~/airflow (it creates $AIRFLOW_HOME/logs); there is no
# airflow.cfg and no database. Not AIRFLOW__CORE__UNIT_TEST_MODE: it changes
# semantics (cron -> CronDataIntervalTimetable).
if "AIRFLOW_HOME" not in os.environ:
    _home = tempfile.mkdtemp(prefix="dpc-airflow-home-")
    atexit.register(shutil.rmtree, _home, True)
    os.environ["AIRFLOW_HOME"] = _home
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "CRITICAL")  # Airflow logs to stdout otherwise
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "120")
if ARGS.default_timezone:
    os.environ["AIRFLOW__CORE__DEFAULT_TIMEZONE"] = ARGS.default_timezone

T0 = time.time()
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # importing Airflow itself is not what is checked
        from airflow.dag_processing.dagbag import DagBag
        from airflow.providers.amazon.aws.operators.athena import AthenaOperator
        from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
        from airflow.providers.standard.operators.empty import EmptyOperator
        from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
        from airflow.serialization.serialized_objects import DagSerialization
        from airflow.utils.dag_version_inflation_checker import check_dag_file_stability
        from importlib.metadata import version as _pkg_version
except Exception:  # noqa: BLE001
    traceback.print_exc()
    print("check_airflow_dags: error: Airflow does not import; run scripts/setup-airflow.sh and use its venv's python",
          file=sys.stderr)
    sys.exit(2)
T_IMPORT = time.time() - T0

OPERATOR = {"bigquery": BigQueryInsertJobOperator, "athena": AthenaOperator}


class EnvError(Exception):
    pass


def _warning_text(w) -> str:
    return f"{w.category.__name__}: {w.message}"


def _allowed(text: str) -> bool:
    return any(re.search(p, text) for p in ALLOWED_WARNINGS)


class FakeDagRun:
    def __init__(self, run_after):
        self.run_after = run_after


def _aware(d):
    return d is not None and d.tzinfo is not None and d.utcoffset() is not None


def _sample_instants(fires):
    """Instants around upstream fire times: on one, just before, just after."""
    out = []
    for f in fires:
        for delta in (dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(milliseconds=-500),
                      dt.timedelta(milliseconds=500), dt.timedelta(seconds=59)):
            out.append(f + delta)
    return out


def _spread(items, n):
    if len(items) <= n:
        return list(items)
    step = len(items) / n
    return [items[int(i * step)] for i in range(n)]


class Checker:
    def __init__(self, build_dir: str, verbose: bool = False):
        self.dir = os.path.abspath(build_dir)
        self.verbose = verbose
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.stats = {"dags": 0, "tasks": 0, "sql": 0, "waits": 0, "dates": 0}

    def fail(self, where: str, msg: str):
        self.problems.append(f"{where}: {msg}")

    # -- loading ---------------------------------------------------------------------------------
    def load(self):
        mpath = os.path.join(self.dir, "manifest.json")
        self.dag_folder = os.path.join(self.dir, "airflow")
        if not os.path.isfile(mpath):
            raise EnvError(f"{self.dir}: no manifest.json (not a `dpc build --out` directory?)")
        if not os.path.isdir(self.dag_folder):
            raise EnvError(f"{self.dir}: no airflow/ folder (was it built by a dpc without DAG output?)")
        try:
            with open(mpath, encoding="utf-8") as f:
                self.manifest = json.load(f)
        except ValueError as e:
            raise EnvError(f"{mpath}: not JSON: {e}")
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            self.bag = DagBag(dag_folder=self.dag_folder, safe_mode=False)
        self.load_warnings = ws

    # -- the checks ------------------------------------------------------------------------------
    def run(self):
        self.load()
        self.check_import()
        self.check_files_and_ids()
        with warnings.catch_warnings(record=True) as ws:
            warnings.simplefilter("always")
            self.serialized = {}
            for dag_id, dag in sorted(self.bag.dags.items()):
                self.check_serialization(dag_id, dag)
            for p in self.products:
                self.check_product(p)
        for w in ws:
            text = _warning_text(w)
            if not _allowed(text):
                self.fail("warning", f"raised while checking: {text} ({w.filename}:{w.lineno})")
        return self

    def check_import(self):
        for path, err in sorted(self.bag.import_errors.items()):
            last = err.strip().splitlines()[-1] if err.strip() else "?"
            self.fail(f"import {os.path.basename(path)}", f"import error: {last}\n    " + err.strip().replace("\n", "\n    "))
        for path, ws in sorted(self.bag.captured_warnings.items()):
            for w in ws:
                if not _allowed(w):
                    self.fail(f"import {os.path.basename(path)}", f"warning while importing: {w}")
        for w in self.load_warnings:
            text = _warning_text(w)
            if w.filename.startswith(self.dag_folder) and not _allowed(text):
                # Normally also in captured_warnings; kept in case the importer missed it.
                if not any(str(w.message) in c for cs in self.bag.captured_warnings.values() for c in cs):
                    self.fail(f"import {os.path.basename(w.filename)}", f"warning while importing: {text}")
        for name in sorted(os.listdir(self.dag_folder)):
            if not name.endswith(".py"):
                continue
            res = check_dag_file_stability(os.path.join(self.dag_folder, name))
            for w in res.get_formatted_warnings(list(self.bag.dag_ids)) or []:
                self.fail(f"import {name}", f"dag processor stability warning: {w}")

    def check_files_and_ids(self):
        mesh = self.manifest.get("mesh")
        self.products = [p for p in self.manifest.get("products", [])]
        self.by_dag_id = {}
        self.by_product = {p["id"]: p for p in self.products}
        for p in self.products:
            jobs = p.get("jobs")
            if not jobs:
                self.fail(p["id"], "manifest has no `jobs` for this product")
                continue
            did = jobs["dag_id"]
            if did in self.by_dag_id:
                self.fail(p["id"], f"dag_id {did} is also the dag_id of {self.by_dag_id[did]['id']}")
            self.by_dag_id[did] = p
        for dag_id in sorted(set(self.bag.dags) - set(self.by_dag_id)):
            self.fail(dag_id, f"DAG in {os.path.basename(self.bag.dags[dag_id].fileloc)} is not a product of the manifest")
        files_with_dags = {os.path.basename(d.fileloc) for d in self.bag.dags.values()}
        for name in sorted(os.listdir(self.dag_folder)):
            if name.endswith(".py") and name not in files_with_dags and not any(
                    os.path.basename(k) == name for k in self.bag.import_errors):
                self.fail(f"import {name}", "file defines no DAG")
        for p in self.products:
            if not p.get("jobs"):
                continue
            dag = self.bag.dags.get(p["jobs"]["dag_id"])
            want = f"dpc_{mesh}_{p['domain']}.py"
            if dag is not None and os.path.basename(dag.fileloc) != want:
                self.fail(p["jobs"]["dag_id"], f"defined in {os.path.basename(dag.fileloc)}, expected {want}")

    def check_serialization(self, dag_id, dag):
        try:
            data = DagSerialization.to_dict(dag)
            sdag = DagSerialization.from_dict(data)
        except Exception:  # noqa: BLE001 - the dag processor reports this as an import error
            self.fail(dag_id, "does not serialize (the dag processor would report an import error):\n    "
                      + traceback.format_exc().strip().replace("\n", "\n    "))
            return
        self.serialized[dag_id] = sdag
        got = {t.task_id: set(t.upstream_task_ids) for t in sdag.tasks}
        want = {t.task_id: set(t.upstream_task_ids) for t in dag.tasks}
        if got != want:
            self.fail(dag_id, f"serialized DAG differs from the parsed one: {got} != {want}")

    def check_product(self, p):
        jobs = p.get("jobs")
        if not jobs:
            return
        dag_id = jobs["dag_id"]
        dag = self.bag.dags.get(dag_id)
        if dag is None:
            self.fail(dag_id, f"no DAG for product {p['id']}")
            return
        self.stats["dags"] += 1
        if dag.schedule != jobs["schedule"]:
            self.fail(dag_id, f"schedule is {dag.schedule!r}, manifest says {jobs['schedule']!r}")
        steps = jobs["steps"]
        step_ids = [s["id"] for s in steps]
        if len(set(step_ids)) != len(step_ids):
            self.fail(dag_id, f"manifest has duplicate step ids: {step_ids}")
        missing = set(step_ids) - set(dag.task_ids)
        extra = set(dag.task_ids) - set(step_ids)
        if missing:
            self.fail(dag_id, f"tasks missing (manifest steps with no task): {sorted(missing)}")
        if extra:
            self.fail(dag_id, f"tasks not in the manifest: {sorted(extra)}")
        if self.verbose:
            print(f"  DAG {dag_id}: schedule={dag.schedule!r} timetable={type(dag.timetable).__name__} "
                  f"tz={dag.timezone} file={os.path.basename(dag.fileloc)}")
        for s in steps:
            if s["kind"] not in KINDS:
                self.fail(f"{dag_id}.{s['id']}", f"unknown step kind {s['kind']!r} in the manifest")
            bad_after = [a for a in s.get("after", []) if a not in step_ids]
            if bad_after:
                self.fail(f"{dag_id}.{s['id']}", f"manifest `after` names unknown steps {bad_after}")
            if s["id"] not in dag.task_dict:
                continue
            task = dag.task_dict[s["id"]]
            self.stats["tasks"] += 1
            if self.verbose:
                print(f"    {s['id']:34s} {type(task).__name__:26s} after={sorted(task.upstream_task_ids)}")
            where = f"{dag_id}.{s['id']}"
            if set(task.upstream_task_ids) != set(s.get("after", [])):
                self.fail(where, f"upstream tasks are {sorted(task.upstream_task_ids)}, "
                                 f"manifest `after` is {sorted(s.get('after', []))}")
            self.check_task(p, dag, s, task, where)
        sdag = self.serialized.get(dag_id)
        if sdag is not None:
            got = {t.task_id: set(t.upstream_task_ids) for t in sdag.tasks}
            want = {s["id"]: set(s.get("after", [])) for s in steps}
            if got != want and not (missing or extra):
                self.fail(dag_id, "the serialized DAG (the scheduler's view) does not match the manifest")
        self.note_unwaited_inputs(p)

    def check_task(self, p, dag, s, task, where):
        kind = s["kind"]
        if kind == "publish":
            want = EmptyOperator
        elif kind == "wait":
            want = ExternalTaskSensor
        elif kind in SQL_KINDS:
            want = OPERATOR.get(p.get("target"))
            if want is None:
                self.fail(where, f"product target {p.get('target')!r} has no known operator")
                return
        else:
            return
        if type(task) is not want:
            self.fail(where, f"operator is {type(task).__module__}.{type(task).__name__}, "
                             f"expected {want.__module__}.{want.__name__} for a {kind} step"
                             + (f" of a {p.get('target')} product" if kind in SQL_KINDS else ""))
            return
        if kind in SQL_KINDS:
            self.check_sql(p, dag, s, task, where)
        elif kind == "wait":
            self.check_wait(p, dag, s, task, where)
        if kind != "wait" and s.get("waits_for"):
            self.fail(where, "a non-wait step has `waits_for` in the manifest")

    def check_sql(self, p, dag, s, task, where):
        rel = s.get("sql")
        if not rel:
            self.fail(where, f"manifest step of kind {s['kind']} has no `sql`")
            return
        path = os.path.join(self.dir, rel)
        try:
            with open(path, encoding="utf-8", newline="") as f:
                want = f.read()
        except OSError as e:
            self.fail(where, f"artifact {rel} cannot be read: {e}")
            return
        self.stats["sql"] += 1
        target = p.get("target")
        physical = [o.get("physical") for o in p.get("outputs", []) if o.get("physical")]
        if target == "bigquery":
            conf = task.configuration
            try:
                got = conf["query"]["query"]
            except (KeyError, TypeError):
                self.fail(where, f"configuration has no query.query: {conf!r:.200}")
                return
            if conf["query"].get("useLegacySql", True) is not False:
                self.fail(where, f"useLegacySql is {conf['query'].get('useLegacySql', '(unset: BigQuery defaults to true)')}, "
                                 "the artifact is GoogleSQL")
            projects = {x.split(".")[0] for x in physical}
            if projects and task.project_id not in projects:
                self.fail(where, f"project_id {task.project_id!r}, the product's tables are in {sorted(projects)}")
            if getattr(task, "durable", False) is not False:
                self.fail(where, "durable is not False: a cleared task would reuse the BigQuery job of an earlier try "
                                 "instead of running the SQL again")
            field, container = "configuration", conf
        else:
            got = task.query
            schemas = {x.split(".")[0] for x in physical}
            if schemas and task.database not in schemas:
                self.fail(where, f"database {task.database!r}, the product's tables are in {sorted(schemas)}")
            field, container = "query", got
        # dpc escapes what Jinja would take for a tag (`{{`, `{%`, `{#`): then only the rendered SQL equals the artifact.
        if got != want and not (isinstance(got, str) and JINJA_TAG.search(want)):
            self.fail(where, f"SQL differs from {rel}: {_diff_hint(got, want)}")
            return
        if s["kind"] in ("gate", "gate_input") and task.retries != 0:
            self.fail(where, f"a gate has retries={task.retries}: a failed gate found bad data, a retry finds it again")
        limit = QUERY_LIMIT[target]
        if len(want.encode("utf-8")) > limit:
            self.fail(where, f"{rel} is {len(want.encode('utf-8'))} bytes; {target} accepts queries of at most {limit}")
        # What the worker submits: the template field rendered with the DAG's Jinja environment.
        try:
            env = dag.get_template_env()
            ld = dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.timezone.utc)
            ctx = {"ds": "2026-03-02", "ts": ld.isoformat(), "logical_date": ld, "params": {}, "dag": dag, "task": task}
            rendered = task.render_template(container, ctx, env)
        except Exception as e:  # noqa: BLE001
            self.fail(where, f"rendering the templated field `{field}` fails ({type(e).__name__}: {e}); "
                             "the SQL contains Jinja syntax")
            return
        r = rendered["query"]["query"] if target == "bigquery" else rendered
        if r != want and r != (want[:-1] if want.endswith("\n") else want):
            self.fail(where, f"SQL after Jinja rendering differs from {rel}: {_diff_hint(r, want)}")

    def check_wait(self, p, dag, s, task, where):
        w = s.get("waits_for")
        if not w:
            self.fail(where, "wait step has no `waits_for` in the manifest")
            return
        self.stats["waits"] += 1
        up = self.by_product.get(w.get("product"))
        if up is None or not up.get("jobs"):
            self.fail(where, f"waits_for.product {w.get('product')!r} is not a product (with jobs) of this manifest")
        else:
            if up["jobs"]["dag_id"] != w.get("dag_id"):
                self.fail(where, f"waits_for.dag_id {w.get('dag_id')!r} is not {up['id']}'s dag_id {up['jobs']['dag_id']!r}")
            up_steps = {x["id"]: x for x in up["jobs"]["steps"]}
            if w.get("step") not in up_steps:
                self.fail(where, f"waits_for.step {w.get('step')!r} is not a step of {up['id']}")
            elif up_steps[w["step"]]["kind"] != "publish":
                self.fail(where, f"waits_for.step {w['step']!r} is a {up_steps[w['step']]['kind']} step, not a publish step")
            if up["jobs"]["schedule"] != w.get("schedule"):
                self.fail(where, f"waits_for.schedule {w.get('schedule')!r} is not {up['id']}'s schedule {up['jobs']['schedule']!r}")
        if task.external_dag_id != w.get("dag_id"):
            self.fail(where, f"external_dag_id is {task.external_dag_id!r}, waits_for.dag_id is {w.get('dag_id')!r}")
        if task.external_task_id != w.get("step") or list(task.external_task_ids or []) != [w.get("step")]:
            self.fail(where, f"external_task_id(s) {task.external_task_id!r}/{task.external_task_ids!r}, "
                             f"waits_for.step is {w.get('step')!r}")
        if task.external_task_group_id is not None:
            self.fail(where, f"external_task_group_id is set ({task.external_task_group_id!r})")
        if set(task.failed_states or []) != {"failed", "upstream_failed"}:
            self.fail(where, f"failed_states is {task.failed_states!r}: the sensor would wait out its timeout "
                             "for an upstream run that failed")
        if task.execution_delta is not None:
            self.fail(where, f"execution_delta is set ({task.execution_delta!r}); dpc uses execution_date_fn")
        if w.get("schedule") is None:
            if task.execution_date_fn is not None:
                self.fail(where, "execution_date_fn set although the upstream has no schedule")
            return
        if task.execution_date_fn is None:
            self.fail(where, f"no execution_date_fn: it would look for an upstream run at this run's logical date, "
                             f"not the latest run of {w['schedule']!r}")
            return
        self.check_wait_dates(dag, task, w, where)

    def upstream_dag(self, w):
        """The upstream DAG as the scheduler sees it (deserialized): its timetable makes the runs."""
        sdag = self.serialized.get(w["dag_id"])
        if sdag is None:  # upstream not in this build: a DAG on the same schedule stands in
            from airflow.sdk import DAG
            with DAG(dag_id="dpc_check_oracle", schedule=w["schedule"], start_date=dt.datetime(2026, 1, 1)) as d:
                pass
            sdag = DagSerialization.from_dict(DagSerialization.to_dict(d))
        return sdag

    @staticmethod
    def latest_run_at_or_before(sdag, d, cache):
        """Logical date of the latest run the scheduler makes at or before d (None if none in ~3 years)."""
        if d in cache:
            return cache[d]
        span = dt.timedelta(hours=2)
        found = None
        while span < dt.timedelta(days=1200):
            infos = [i.logical_date for i in sdag.iter_dagrun_infos_between(d - span, d) if i.logical_date]
            infos = [x for x in infos if x <= d]
            if infos:
                found = max(infos)
                break
            span *= 4
        cache[d] = found
        return found

    def check_wait_dates(self, dag, task, w, where):
        usdag = self.upstream_dag(w)
        cache = {}
        fires = [i.logical_date for i in usdag.iter_dagrun_infos_between(WINDOW[0], WINDOW[1]) if i.logical_date]
        samples = []
        sdag = self.serialized.get(dag.dag_id)
        if sdag is not None and dag.schedule is not None:
            own = [i.logical_date for i in sdag.iter_dagrun_infos_between(WINDOW[0], WINDOW[1]) if i.logical_date]
            samples += [("scheduled run", d) for d in _spread(own, MAX_SAMPLES)]
        samples += [("instant", d) for d in _sample_instants(_spread(fires, 6))]
        samples += [("instant", WINDOW[0] + k * dt.timedelta(days=3, hours=7, minutes=13, seconds=7, microseconds=250000))
                    for k in range(10)]
        bad = []
        checked = 0
        for label, d in samples:
            expect = self.latest_run_at_or_before(usdag, d, cache)
            if expect is None:
                continue
            checked += 1
            for ld in (d, None):  # a manual Airflow 3 run may have no logical date: the sensor uses run_after
                ctx = {"logical_date": ld, "dag_run": FakeDagRun(d), "ds": d.strftime("%Y-%m-%d"), "dag": dag,
                       "task": task, "params": {}}
                self.stats["dates"] += 1
                try:
                    got = task._get_dttm_filter(ctx)
                except Exception as e:  # noqa: BLE001
                    bad.append(f"{label} {d.isoformat()}{'' if ld else ' (no logical date)'}: "
                               f"execution_date_fn raised {type(e).__name__}: {e}")
                    continue
                ok = (isinstance(got, (list, tuple)) and len(got) == 1 and isinstance(got[0], dt.datetime)
                      and _aware(got[0]) and got[0] == expect)
                if not ok:
                    shown = [g.isoformat() if isinstance(g, dt.datetime) else repr(g) for g in got] \
                        if isinstance(got, (list, tuple)) else repr(got)
                    bad.append(f"{label} {d.isoformat()}{'' if ld else ' (no logical date)'}: "
                               f"sensor looks for {shown}, the latest {w['dag_id']} run at or before is {expect.isoformat()}")
        if not checked:
            self.fail(where, f"the scheduler would create no runs of {w['dag_id']} ({w['schedule']!r}) "
                             f"before {WINDOW[1]:%Y-%m-%d}: nothing to wait for")
        if bad:
            self.fail(where, f"wrong upstream logical date for {len(bad)} of {2 * checked} samples "
                             f"(upstream schedule {w['schedule']!r}, upstream DAG time zone {usdag.timezone}):\n      "
                             + "\n      ".join(bad[:2]) + ("\n      ..." if len(bad) > 2 else ""))

    def note_unwaited_inputs(self, p):
        waits = {(s["waits_for"]["product"], s["waits_for"]["port"])
                 for s in p["jobs"]["steps"] if s["kind"] == "wait" and s.get("waits_for")}
        for i in p.get("inputs", []):
            if i.get("kind") == "product" and (i.get("product"), i.get("port")) not in waits:
                up = self.by_product.get(i.get("product"))
                why = " (it has no schedule)" if up and up.get("jobs") and up["jobs"]["schedule"] is None else ""
                self.notes.append(f"{p['jobs']['dag_id']}: reads {i.get('product')}.{i.get('port')} "
                                  f"without waiting for it{why}")


def _diff_hint(got, want):
    if not isinstance(got, str):
        return f"operator has {type(got).__name__} {got!r:.80}"
    i = next((k for k, (a, b) in enumerate(zip(got, want)) if a != b), min(len(got), len(want)))
    return (f"{len(got)} vs {len(want)} chars, first difference at {i}: "
            f"operator {got[max(0, i - 30):i + 40]!r} / artifact {want[max(0, i - 30):i + 40]!r}")


def check(build_dir, verbose=False, quiet=False):
    t = time.time()
    c = Checker(build_dir, verbose).run()
    if not quiet:
        for n in c.notes:
            print(f"note {n}")
        for prob in c.problems:
            print(f"FAIL {build_dir}: {prob}")
        st = c.stats
        print(f"{'ok  ' if not c.problems else 'FAIL'} {build_dir}: {st['dags']} DAGs, {st['tasks']} tasks, "
              f"{st['sql']} SQL artifacts, {st['waits']} waits ({st['dates']} sensor dates); "
              f"{len(c.problems)} problem(s) [{time.time() - t:.1f} s]")
    return c


# -- self-test -----------------------------------------------------------------------------------

def _sub_once(path, pattern, repl, flags=re.M):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    new, n = re.subn(pattern, repl, text, count=1, flags=flags)
    if n == 0:
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)
    return True


def _dag_files(d):
    return [os.path.join(d, "airflow", n) for n in sorted(os.listdir(os.path.join(d, "airflow"))) if n.endswith(".py")]


def _first_file_matching(d, pattern):
    for f in _dag_files(d):
        with open(f, encoding="utf-8") as fh:
            if re.search(pattern, fh.read(), re.M):
                return f
    return None


def _mut_sub(pattern, repl):
    def m(d):
        f = _first_file_matching(d, pattern)
        return bool(f) and _sub_once(f, pattern, repl)
    return m


def _mut_drop_dependency(d):
    return _mut_sub(r"^    \w+ >> \w+\n", "")(d)


QUERY_LINE = r'^        (?:configuration=\{"query": \{"query": |query=)sql\(("[^"]*")\),?.*$'


def _mut_swap_queries(d):
    for f in _dag_files(d):
        with open(f, encoding="utf-8") as fh:
            lines = fh.read().split("\n")
        idx = [i for i, line in enumerate(lines) if re.match(QUERY_LINE, line)]
        for a in idx:
            for b in idx:
                if b > a and re.match(QUERY_LINE, lines[a]).group(1) != re.match(QUERY_LINE, lines[b]).group(1):
                    qa, qb = re.match(QUERY_LINE, lines[a]).group(1), re.match(QUERY_LINE, lines[b]).group(1)
                    lines[a], lines[b] = lines[a].replace(qa, qb), lines[b].replace(qb, qa)
                    with open(f, "w", encoding="utf-8") as fh:
                        fh.write("\n".join(lines))
                    return True
    return False


def _mut_manifest_sql(d):
    """A manifest step that names another artifact than its task runs."""
    path = os.path.join(d, "manifest.json")
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    for p in m["products"]:
        steps = [s for s in p.get("jobs", {}).get("steps", []) if s.get("sql")]
        if len(steps) >= 2:
            steps[0]["sql"] = steps[-1]["sql"]
            with open(path, "w", encoding="utf-8") as f:
                json.dump(m, f)
            return True
    return False


def _mut_manifest_target(d):
    path = os.path.join(d, "manifest.json")
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    p = m["products"][0]
    p["target"] = "athena" if p["target"] == "bigquery" else "bigquery"
    with open(path, "w", encoding="utf-8") as f:
        json.dump(m, f)
    return True


def _mut_jinja(d):
    """Jinja in an artifact, and a DAG file that passes it on unescaped."""
    if not _mut_sub(r"^    return re\.sub\(.*$", "    return text")(d):
        return False
    with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    for p in m["products"]:
        for s in p.get("jobs", {}).get("steps", []):
            if s.get("sql") and s["kind"] == "gate":
                with open(os.path.join(d, s["sql"]), "a", encoding="utf-8") as fh:
                    fh.write("-- run {{ ds }}\n")
                return True
    return False


def _mut_append(text):
    def m(d):
        with open(_dag_files(d)[0], "a", encoding="utf-8") as f:
            f.write(text)
        return True
    return m


MUTATIONS = [
    # name, mutation, regex one reported problem must match
    ("drop a dependency line", _mut_drop_dependency, r"upstream tasks are"),
    ("swap two queries in a DAG file", _mut_swap_queries, r"SQL differs from"),
    ("a manifest step names another artifact", _mut_manifest_sql, r"SQL differs from"),
    ("Airflow 2 import path", _mut_sub(r"^from airflow\.providers\.standard\.operators\.empty import EmptyOperator$",
                                       "from airflow.operators.empty import EmptyOperator"), r"warning while importing"),
    ("change a schedule", _mut_sub(r'^    schedule="[^"]*",$', '    schedule="17 5 * * *",'), r"schedule is '17 5"),
    ("sensor date one minute early", _mut_sub(
        r"(execution_date_fn=)(.*),$",
        r'\1(lambda f: lambda d, **kw: f(d, **kw) - __import__("datetime").timedelta(minutes=1))(\2),'),
     r"wrong upstream logical date for (\d+) of \1 samples"),
    ("wrong external task", _mut_sub(r'external_task_id="publish__', 'external_task_id="gate__'), r"external_task_id"),
    ("syntax error", _mut_append("\ndef broken(:\n"), r"import error"),
    ("wrong target in the manifest", _mut_manifest_target, r"operator is .*expected"),
    ("Jinja in the SQL", _mut_jinja, r"after Jinja rendering"),
    ("a gate that retries", _mut_sub(r"^        retries=0,$", "        retries=3,"), r"a gate has retries=3"),
    ("sensor without failed_states", _mut_sub(r"^        failed_states=.*\n", ""), r"failed_states is \[\]"),
    ("a durable BigQuery job", _mut_sub(r'"durable": False', '"durable": True'), r"durable is not False"),
    ("renamed dag id", _mut_sub(r'^    dag_id="dpc__', '    dag_id="dpcx__'), r"no DAG for product"),
]


def self_test(dirs):
    def has_wait(d):
        try:
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
                m = json.load(f)
        except OSError:
            return False
        return any(s["kind"] == "wait" for p in m["products"] for s in p.get("jobs", {}).get("steps", []))
    def size(d):
        try:
            with open(os.path.join(d, "manifest.json"), encoding="utf-8") as f:
                return len(json.load(f)["products"])
        except (OSError, ValueError, KeyError):
            return 1 << 30
    # The smallest build with a wait step: every corruption needs a fresh DagBag.
    src = min((d for d in dirs if has_wait(d)), key=size, default=dirs[0])
    work = tempfile.mkdtemp(prefix="dpc-airflow-selftest-")
    failures = 0
    try:
        base = os.path.join(work, "clean")
        shutil.copytree(src, base)
        c = Checker(base).run()
        if c.problems:
            print(f"self-test: the untouched copy of {src} already fails ({len(c.problems)} problem(s)); "
                  "the corruptions are checked anyway, on top of those")
        baseline = set(p.split(base, 1)[-1] for p in c.problems)
        for i, (name, mutate, expect) in enumerate(MUTATIONS):
            d = os.path.join(work, f"m{i}")
            shutil.copytree(src, d)
            if not mutate(d):
                print(f"self-test FAIL: {name}: could not apply the corruption to {src}")
                failures += 1
                continue
            c = Checker(d).run()
            new = [p for p in c.problems if p.split(d, 1)[-1] not in baseline]
            hit = [p for p in new if re.search(expect, p)]
            if hit:
                first = hit[0].splitlines()[0]
                print(f"self-test ok: {name}: reported ({len(new)} new problem(s)), e.g. {first[:150]}")
            else:
                failures += 1
                print(f"self-test FAIL: {name}: not reported (expected /{expect}/); new problems: {new[:3]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"self-test: {len(MUTATIONS) - failures} of {len(MUTATIONS)} corruptions of {src} detected")
    return failures


def main():
    vers = ", ".join(f"{n} {_pkg_version(n)}" for n in (
        "apache-airflow", "apache-airflow-task-sdk", "apache-airflow-providers-google",
        "apache-airflow-providers-amazon", "apache-airflow-providers-standard"))
    tz = os.environ.get("AIRFLOW__CORE__DEFAULT_TIMEZONE", "utc")
    print(f"check_airflow_dags: {vers}; default_timezone={tz}; import {T_IMPORT:.1f} s")
    for d in ARGS.dirs:
        if not os.path.isdir(d):
            print(f"check_airflow_dags: error: {d} is not a directory", file=sys.stderr)
            return 2
    try:
        if ARGS.self_test:
            return 1 if self_test(ARGS.dirs) else 0
        bad = 0
        for d in ARGS.dirs:
            c = check(d, ARGS.verbose)
            bad += len(c.problems)
    except EnvError as e:
        print(f"check_airflow_dags: error: {e}", file=sys.stderr)
        return 2
    print(f"check_airflow_dags: {'ok' if not bad else f'{bad} problem(s)'} in {len(ARGS.dirs)} build(s) "
          f"[{time.time() - T0:.1f} s]")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
