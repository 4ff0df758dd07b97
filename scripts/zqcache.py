"""Cache wasmtime's compiled ZetaSQL module on disk.

The PyPI package `zetasql` (0.1.5) runs Google's ZetaSQL analyzer as a 28 MB
WASM module under wasmtime. Compiling that module takes 30-40 s in every new
process; loading an already compiled (serialized) module takes well under a
second. Import this module *before* anything from `zetasql` starts its local
service:

    import zqcache            # noqa: F401  (must come first)
    from zetasql.core.local_service import ZetaSqlLocalService

Cache location: $ZETASQL_CWASM, else `<sys.prefix>/zetasql.cwasm` (inside the
venv). Set ZETASQL_CWASM=off to disable the cache. Next to the cache, a small
`<cache>.key` file records what it was compiled from (wasmtime version, size
and mtime of the .wasm); a cache whose key does not match, or that wasmtime
refuses to load, is rebuilt. Writes are atomic (temp file + rename), so
concurrent processes at worst compile twice. A read-only location just means
no cache. The cache is ~73 MB: never commit it.
"""
from __future__ import annotations

import json
import os
import sys

import wasmtime
import zetasql.core.wasm_client as _wc

_OFF = {"0", "off", "no", "false", "none"}


def cache_path() -> str | None:
    env = os.environ.get("ZETASQL_CWASM")
    if env is not None and env.strip().lower() in _OFF:
        return None
    return env or os.path.join(sys.prefix, "zetasql.cwasm")


def _key(wasm_path: str) -> dict:
    st = os.stat(wasm_path)
    return {
        "wasmtime": getattr(wasmtime, "__version__", None) or _dist_version("wasmtime"),
        "wasm": os.path.abspath(wasm_path),
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "python": sys.version.split()[0],
    }


def _dist_version(name: str) -> str | None:
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # noqa: BLE001
        return None


def _atomic_write(path: str, data: bytes) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


# What happened in this process, for setup messages and diagnostics.
status = {"path": None, "event": "not used"}


class CachedModule(wasmtime.Module):
    """Stand-in for wasmtime.Module in zetasql's wasm client."""

    @classmethod
    def from_file(cls, engine, path):  # type: ignore[override]
        cache = cache_path()
        status["path"] = cache
        if cache is None:
            status["event"] = "disabled"
            return wasmtime.Module.from_file(engine, path)
        key = _key(path)
        keyfile = cache + ".key"
        try:
            with open(keyfile, encoding="utf-8") as f:
                stored = json.load(f)
        except (OSError, ValueError):
            stored = None
        if stored == key and os.path.exists(cache):
            try:
                m = wasmtime.Module.deserialize_file(engine, cache)
                status["event"] = "loaded"
                return m
            except Exception:  # noqa: BLE001  (other wasmtime build/config: recompile)
                pass
        m = wasmtime.Module.from_file(engine, path)
        try:
            _atomic_write(cache, m.serialize())
            _atomic_write(keyfile, json.dumps(key, sort_keys=True).encode())
            status["event"] = "compiled and stored"
        except OSError as e:
            status["event"] = f"compiled, not stored ({e})"
        return m


_wc.Module = CachedModule


def bigquery_language(extra_features=()):
    """ZetaSQL's LanguageOptions as close to BigQuery as they go: every
    feature, BigQuery's type names (PRODUCT_EXTERNAL: FLOAT64, no INT32),
    every statement kind, and the named extra features that
    maximum_features() leaves off."""
    from zetasql.types import LanguageFeature, LanguageOptions, ProductMode
    lang = LanguageOptions.maximum_features()
    lang.product_mode = ProductMode.PRODUCT_EXTERNAL
    lang.supported_statement_kinds = []
    features = list(lang.enabled_language_features)
    for name in extra_features:
        f = getattr(LanguageFeature, name, None)
        if f is not None and f not in features:
            features.append(f)
    lang.enabled_language_features = features
    return lang


def analyzer_options(lang):
    """Analyzer options for `lang`: UTC, one-line error messages."""
    from zetasql.types import AnalyzerOptions, ErrorMessageMode
    return AnalyzerOptions(language_options=lang, default_timezone="UTC",
                           error_message_mode=ErrorMessageMode.ERROR_MESSAGE_ONE_LINE)
