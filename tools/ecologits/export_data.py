"""Writes carbonscope's LLM data files from the installed ecologits package.

Reads the package's model repository (aliases expanded, as its find_model sees them), its
electricity mixes and its provider data-centre table, and writes packages/carbonscope/data/llm/models.json,
electricity-mixes.json and providers.json. Usage: export_data.py VERSION OUT_DIR
"""

import os
import sys

from ecologits.electricity_mix_repository import electricity_mixes
from ecologits.model_repository import ParametersMoE, models
from ecologits.tracers.utils import PROVIDER_CONFIG_MAP

from common import license_of_package, require_version, value_or_range, write_listing


def model_entry(model) -> dict:
    arch = model.architecture
    entry = {"provider": model.provider.value, "name": model.name, "architecture": arch.type.value}
    if isinstance(arch.parameters, ParametersMoE):
        entry["parameters"] = {
            "total": value_or_range(arch.parameters.total),
            "active": value_or_range(arch.parameters.active),
        }
    else:
        entry["parameters"] = value_or_range(arch.parameters)
    if model.warnings:
        entry["warnings"] = [w.code for w in model.warnings]
    deployment = model.deployment
    if deployment is not None:
        figures = {k: v for k, v in (("tps", deployment.tps), ("ttft", deployment.ttft)) if v is not None}
        if figures:
            entry["deployment"] = figures
    return entry


def mix_entry(mix) -> dict:
    entry = {"gwp": mix.gwp, "adpe": mix.adpe, "pe": mix.pe, "wue": mix.wue}
    if mix.warnings:
        entry["warnings"] = [w.code for w in mix.warnings]
    return entry


def provider_entry(name: str, config) -> dict:
    return {
        "name": name,
        "zone": config.datacenter_location,
        "pue": value_or_range(config.datacenter_pue),
        "wueOnsite": value_or_range(config.datacenter_wue),
    }


def main() -> None:
    version, out_dir = sys.argv[1], sys.argv[2]
    require_version(version)
    origin = f"ecologits {version} from PyPI ({license_of_package()})"
    regenerate = "written by tools/ecologits/export_data.py (npm run ecologits:data); do not edit"

    all_models = sorted(models.list_models(), key=lambda m: (m.provider.value, m.name))
    write_listing(
        os.path.join(out_dir, "models.json"),
        {
            "source": f"{origin}: its model repository (ecologits/data/models.json, aliases expanded); {regenerate}",
            "units": "parameters in billions; deployment.tps in output tokens per second, deployment.ttft in seconds",
        },
        "models",
        [model_entry(m) for m in all_models],
    )
    mixes = sorted(electricity_mixes.list_electricity_mixes(), key=lambda m: m.zone)
    write_listing(
        os.path.join(out_dir, "electricity-mixes.json"),
        {
            "source": f"{origin}: its electricity mixes (ecologits/data/electricity_mixes.json); {regenerate}",
            "units": "per kWh: gwp kgCO2eq, adpe kgSbeq, pe MJ, wue (off-site water) L",
        },
        "mixes",
        {m.zone: mix_entry(m) for m in mixes},
    )
    write_listing(
        os.path.join(out_dir, "providers.json"),
        {
            "source": f"{origin}: its provider data-centre table (ecologits/tracers/utils.py PROVIDER_CONFIG_MAP); {regenerate}",
            "units": "zone: ISO 3166-1 alpha-3 electricity mix; pue dimensionless; wueOnsite L/kWh",
        },
        "providers",
        [provider_entry(name, PROVIDER_CONFIG_MAP[name]) for name in sorted(PROVIDER_CONFIG_MAP)],
    )


if __name__ == "__main__":
    main()
