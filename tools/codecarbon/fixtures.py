"""Writes the CodeCarbon reference files the CSV tests read (packages/carbonscope/test/fixtures/
codecarbon/), from the real package, so the tests compare with CodeCarbon without Python:

- emissions-pue.csv: the emissions.csv an offline tracker writes for a 2.5 s run with RAM forced
  to 10 W, PUE 1.5 and 300 gCO2e/kWh (how CodeCarbon applies PUE to its columns);
- country-names.json: the country_name CodeCarbon writes offline for each ISO 3166-1 alpha-3
  code (its global energy mix data);
- emissions-formats.csv: the emissions.csv of a 6 s run on a machine without a GPU, CPU forced to
  400 W, default PUE: how CodeCarbon writes each column's numbers (Python's repr of a float,
  `1.0`, `2.5e-05`; integers as integers) and what it writes where it found no GPU.

Usage, with the venv test/bench/codecarbon.ts makes (codecarbon==3.3.2):
  ~/.cache/carbonscope/codecarbon-venv/bin/python tools/codecarbon/fixtures.py OUT_DIR [NAME...]
NAMEs (emissions-pue.csv, country-names.json, emissions-formats.csv) write only those files.
"""

import importlib.metadata
import json
import os
import shutil
import sys
import tempfile
import time

VERSION = "3.3.2"


def emissions_pue(work: str, out_dir: str) -> None:
    from codecarbon import OfflineEmissionsTracker

    tracker = OfflineEmissionsTracker(
        country_iso_code="USA",
        force_ram_power=10,
        pue=1.5,
        force_carbon_intensity_g_co2e_kwh=300,
        log_level="error",
        output_dir=work,
        measure_power_secs=1,
        tracking_mode="machine",
    )
    tracker.start()
    time.sleep(2.5)
    tracker.stop()
    shutil.copyfile(os.path.join(work, "emissions.csv"), os.path.join(out_dir, "emissions-pue.csv"))


def emissions_formats(work: str, out_dir: str) -> None:
    from codecarbon import OfflineEmissionsTracker

    run_dir = os.path.join(work, "formats")
    os.mkdir(run_dir)
    tracker = OfflineEmissionsTracker(
        country_iso_code="DEU",
        force_cpu_power=400,
        force_ram_power=10,
        force_carbon_intensity_g_co2e_kwh=300,
        log_level="error",
        output_dir=run_dir,
        measure_power_secs=1,
        tracking_mode="machine",
    )
    tracker.start()
    time.sleep(6)
    tracker.stop()
    shutil.copyfile(
        os.path.join(run_dir, "emissions.csv"), os.path.join(out_dir, "emissions-formats.csv")
    )


def country_names(_work: str, out_dir: str) -> None:
    from codecarbon.input import DataSource

    mix = DataSource().get_global_energy_mix_data()
    names = {"source": f"codecarbon {VERSION}: data/private_infra/global_energy_mix.json country_name"}
    names["names"] = {iso3: mix[iso3]["country_name"] for iso3 in sorted(mix)}
    with open(os.path.join(out_dir, "country-names.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(names, f, indent=1, ensure_ascii=False)
        f.write("\n")


FIXTURES = {
    "emissions-pue.csv": emissions_pue,
    "country-names.json": country_names,
    "emissions-formats.csv": emissions_formats,
}


def main() -> None:
    out_dir = sys.argv[1]
    names = sys.argv[2:] or list(FIXTURES)
    unknown = [name for name in names if name not in FIXTURES]
    if unknown:
        sys.exit(f"no such fixture: {', '.join(unknown)} (one of {', '.join(FIXTURES)})")
    found = importlib.metadata.version("codecarbon")
    if found != VERSION:
        sys.exit(f"expected codecarbon {VERSION}, found {found}")
    work = tempfile.mkdtemp()
    os.environ["HOME"] = work  # its lock and hardware cache stay out of the user's home
    for name in names:
        FIXTURES[name](work, out_dir)
    shutil.rmtree(work)
    print(f"wrote {', '.join(names)} in {out_dir} (codecarbon {VERSION})")


if __name__ == "__main__":
    main()
