"""Import a whole country: 34 provinces, 3,321 communes, departments and ~10,000 officials.

Generates the CSV files in a temporary folder (nothing large is committed), creates a fresh
SQLite database there and runs ``papi-bot units import`` and ``papi-bot officials import``
in-process through the same Typer commands the admin uses. Prints seconds per step and the
peak memory of the process.

    .venv/bin/python benchmarks/bench_units_import.py [--communes 3321] [--keep DIR] [--tiny]

``--tiny`` (40 communes) is what CI runs, so the script cannot rot
(``tests/e2e/test_benchmarks_tiny.py``); its figures mean nothing.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bot.cli import app
from storage.db import make_engine, upgrade

PROVINCES = 34
DEPARTMENTS = ("SNV", "SYT", "STNMT", "SXD", "SGDDT", "STC", "SKHDT", "STP", "SLDTBXH", "SVHTTDL")
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng")
MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Ngọc", "Quốc")
GIVEN = ("An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hùng", "Lan", "Long", "Mai", "Nam", "Sơn")
COMMUNE_WORDS = ("Xã", "Phường", "Đặc khu")
PLACE_WORDS = ("Tân", "Phú", "Hòa", "Bình", "Yên", "Thạnh", "Lộc", "An", "Đông", "Sơn", "Hưng")


def write_country(
    folder: Path, communes: int, districts_per_province: int = 0, seed: int = 2025
) -> tuple[Path, Path, int, int]:
    """units.csv and officials.csv: two levels (since 1 July 2025), or three with districts.

    Communes come BEFORE their provinces in the file, as a real export may order them, so the
    import has to resolve parents after reading. Returns the paths and the row counts.
    """
    rng = random.Random(seed)
    units_path, officials_path = folder / "units.csv", folder / "officials.csv"
    unit_rows: list[tuple[str, str, str, str]] = []
    official_rows: list[tuple[str, str, str, str, str]] = []
    phone = 0

    def person() -> str:
        return f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"

    def next_phone() -> str:
        nonlocal phone
        phone += 1
        return f"09{phone:08d}"

    province_codes = [f"{number:02d}" for number in range(1, PROVINCES + 1)]
    for index in range(communes):
        province = province_codes[index % PROVINCES]
        parent = province
        if districts_per_province:
            parent = f"D{province}{(index // PROVINCES) % districts_per_province:02d}"
        code = f"{index + 1:05d}"
        name = f"{rng.choice(COMMUNE_WORDS)} {rng.choice(PLACE_WORDS)} {rng.choice(PLACE_WORDS)}"
        unit_rows.append((code, name, "commune", parent))
        official_rows.append((person(), next_phone(), code, "chair", "vi"))
        official_rows.append((person(), next_phone(), code, "official", "vi"))
        official_rows.append((person(), next_phone(), code, "official", "vi"))
    for province in province_codes:
        unit_rows.append((province, f"Tỉnh số {province}", "province", ""))
        for district in range(districts_per_province):
            code = f"D{province}{district:02d}"
            unit_rows.append((code, f"Huyện số {code}", "district", province))
        for department in DEPARTMENTS:
            code = f"{department}-{province}"
            unit_rows.append((code, f"Sở {department} tỉnh {province}", "department", province))
            official_rows.append((person(), next_phone(), code, "official", "vi"))
        official_rows.append((person(), next_phone(), f"SNV-{province}", "coordinator", "vi"))
    _write(units_path, ("code", "name", "level", "parent_code"), unit_rows)
    _write(officials_path, ("name", "phone", "unit_code", "role", "locale"), official_rows)
    return units_path, officials_path, len(unit_rows), len(official_rows)


def _write(path: Path, header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _cli(*args: str) -> None:
    """One ``papi-bot`` command, in-process; raises if it does not exit 0."""
    code = app(list(args), standalone_mode=False)
    if code:  # typer.Exit(2) comes back as a return value when not standalone
        raise SystemExit(f"papi-bot {' '.join(args)} failed with exit code {code}")


def _timed(label: str, step: Callable[[], None]) -> float:
    start = time.perf_counter()
    step()
    seconds = time.perf_counter() - start
    print(f"{label:<34} {seconds:7.2f} s", file=sys.stderr)
    return seconds


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=3321)
    parser.add_argument(
        "--districts", type=int, default=0, help="districts per province (0: two levels)"
    )
    parser.add_argument("--keep", type=Path, help="write the files and database here instead")
    parser.add_argument("--tiny", action="store_true", help="40 communes (CI)")
    options = parser.parse_args()
    if options.tiny:
        options.communes = 40
    with tempfile.TemporaryDirectory() as temporary:
        folder = options.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        units, officials, unit_count, official_count = write_country(
            folder, options.communes, options.districts
        )
        db_path = folder / "bench.db"
        db_path.unlink(missing_ok=True)
        os.environ["PAPI_BOT_DATABASE_URL"] = f"sqlite:///{db_path}"
        upgrade(make_engine(os.environ["PAPI_BOT_DATABASE_URL"]))
        print(f"country: {unit_count} units, {official_count} officials", file=sys.stderr)
        total = _timed("units import (new)", lambda: _cli("units", "import", str(units)))
        total += _timed(
            "officials import (new)", lambda: _cli("officials", "import", str(officials))
        )
        total += _timed(
            "units import (again, unchanged)", lambda: _cli("units", "import", str(units))
        )
        total += _timed(
            "officials import (again, unchanged)",
            lambda: _cli("officials", "import", str(officials)),
        )
        print(f"{'total':<34} {total:7.2f} s", file=sys.stderr)
        print(f"peak memory (RSS) {_peak_rss_mib():.0f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
