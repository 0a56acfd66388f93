"""Shared by the export and vector scripts: the package check and the one JSON layout they write."""

import importlib.metadata
import json
import sys
from typing import Any

from ecologits.utils.range_value import RangeValue


def require_version(expected: str) -> None:
    found = importlib.metadata.version("ecologits")
    if found != expected:
        sys.exit(f"expected ecologits {expected}, found {found}: rerun tools/ecologits/run.sh")


def license_of_package() -> str:
    meta = importlib.metadata.metadata("ecologits")
    return meta.get("License-Expression") or meta.get("License") or "unknown"


def value_or_range(value: Any) -> Any:
    """A number as it is, a RangeValue as {"min", "max"}: the shape carbonscope's files use."""
    if isinstance(value, RangeValue):
        return {"min": value.min, "max": value.max}
    if isinstance(value, dict):
        return {"min": value["min"], "max": value["max"]}
    return value


def compact(value: Any) -> str:
    # repr-exact floats (Python's shortest round trip), no spaces: JSON.parse gives the same doubles.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def write_listing(path: str, header: dict[str, Any], key: str, entries: Any) -> None:
    """Pretty at the top, one compact entry per line: small diffs, deterministic bytes."""
    lines = ["{"]
    for name, value in header.items():
        lines.append(f"  {compact(name)}: {compact(value)},")
    if isinstance(entries, dict):
        body = [f"    {compact(k)}: {compact(v)}" for k, v in entries.items()]
        lines += [f"  {compact(key)}: {{", ",\n".join(body), "  }"]
    else:
        body = [f"    {compact(e)}" for e in entries]
        lines += [f"  {compact(key)}: [", ",\n".join(body), "  ]"]
    lines.append("}")
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {path} ({len(entries)} {key})")
