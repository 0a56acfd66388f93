"""Runs the real ecologits package over carbonscope's catalog and writes conformance vectors.

Every model of the catalog (carbonscope's models.json, itself exported from the package) with
several output-token counts and measured latencies (none = infinite; one that caps the modelled
generation time of most models; one that caps only long generations), in its provider's zone,
in the world zone and in one of the package's zones in turn (so every zone is used); then the
error and edge cases: an unknown zone, a lower-case zone, an unknown model, an unknown provider,
a model asked under another provider, zero tokens, a zero, a nanosecond and an 11-day latency,
a million tokens. Usage: vectors.py VERSION MODELS_JSON OUT_JSON
"""

import json
import logging
import sys

from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.impacts.modeling import GWP, PE, WCF, ADPe, Energy
from ecologits.status_messages import _warning_codes
from ecologits.tracers.utils import llm_impacts

from common import compact, license_of_package, require_version, value_or_range

# (output tokens, measured latency s or None) per model, in the provider's zone. Latency 1.5 s
# caps 250 tokens for every model; 90 s caps 4000 tokens only for slow ones.
CASES = [(1, None), (250, None), (250, 1.5), (4000, 90.0)]
ZONE_TOKENS, ZONE_LATENCY = 250, None
CRITERIA = ["energy", "gwp", "adpe", "pe", "wcf"]


def impact_values(phase) -> dict:
    return {k: value_or_range(getattr(phase, k).value) for k in CRITERIA if hasattr(phase, k)}


def expected_of(output) -> dict:
    """The package's ImpactsOutput, values only (units and warning texts go in the header once)."""
    if output.errors:
        return {"errors": [{"code": e.code, "message": e.message} for e in output.errors], "warnings": None}
    result = impact_values(output)
    result["usage"] = impact_values(output.usage)
    result["embodied"] = impact_values(output.embodied)
    result["warnings"] = [w.code for w in output.warnings] if output.warnings else None
    result["errors"] = None
    return result


def vector(provider: str, model: str, tokens: int, latency, zone) -> dict:
    output = llm_impacts(
        provider=provider,
        model_name=model,
        output_token_count=tokens,
        request_latency=latency,
        electricity_mix_zone=zone,
    )
    return {
        "provider": provider,
        "model": model,
        "outputTokens": tokens,
        "latency": latency,
        "zone": zone,
        "expected": expected_of(output),
    }


def main() -> None:
    version, models_path, out_path = sys.argv[1], sys.argv[2], sys.argv[3]
    require_version(version)
    logging.getLogger("ecologits").setLevel(logging.ERROR)
    with open(models_path, encoding="utf-8") as f:
        catalog = [(m["provider"], m["name"]) for m in json.load(f)["models"]]
    zones = sorted(m.zone for m in electricity_mixes.list_electricity_mixes())

    vectors = []
    for i, (provider, model) in enumerate(catalog):
        for tokens, latency in CASES:
            vectors.append(vector(provider, model, tokens, latency, None))
        vectors.append(vector(provider, model, ZONE_TOKENS, ZONE_LATENCY, "WOR"))
        vectors.append(vector(provider, model, ZONE_TOKENS, ZONE_LATENCY, zones[i % len(zones)]))
    first_of_provider = {}
    for provider, model in catalog:
        first_of_provider.setdefault(provider, model)
    for provider, model in sorted(first_of_provider.items()):
        vectors.append(vector(provider, model, 100, None, "XYZ"))
        vectors.append(vector(provider, model, 100, None, "fra"))
        vectors.append(vector(provider, model, 0, None, None))
        vectors.append(vector(provider, model, 100, 0.0, None))
        vectors.append(vector(provider, model, 100, 1e-9, None))
        vectors.append(vector(provider, model, 100, 1e6, None))
        vectors.append(vector(provider, model, 1_000_000, None, None))
    vectors.append(vector("openai", "gpt-9000", 100, None, None))
    vectors.append(vector("acme", "gpt-4o", 100, None, None))
    vectors.append(vector("mistralai", "gpt-4o", 100, None, None))
    vectors.append(vector("openai", "gpt-9000", 100, None, "XYZ"))

    header = {
        "source": f"ecologits {version} from PyPI ({license_of_package()}), llm_impacts() of ecologits.tracers.utils",
        "generator": "tools/ecologits/vectors.py (npm run ecologits:data); do not edit",
        "units": {
            "energy": Energy.model_fields["unit"].default,
            "gwp": GWP.model_fields["unit"].default,
            "adpe": ADPe.model_fields["unit"].default,
            "pe": PE.model_fields["unit"].default,
            "wcf": WCF.model_fields["unit"].default,
        },
        "warnings": {code: cls().message for code, cls in sorted(_warning_codes.items())},
    }
    lines = ["{"] + [f"  {compact(k)}: {compact(v)}," for k, v in header.items()]
    lines += ['  "vectors": [', ",\n".join(f"    {compact(v)}" for v in vectors), "  ]", "}"]
    with open(out_path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
    print(f"wrote {out_path} ({len(vectors)} vectors over {len(catalog)} models)")


if __name__ == "__main__":
    main()
