"""Import: rows/s and peak memory of `ledger import --format acled` on a large export.

Run from the repository root, with the package installed (bin/test does it):

    python bench/import_speed.py --rows 100000

Builds the demo ledger (`ledger demo`), writes an ACLED export of ``--rows`` rows in the
published 31-column layout (seeded; events of the demo's organizations, as in
examples/data/acled/), then runs, each as its own process (timed, peak RSS from wait4):

* ``first``: the import of every row (two streaming passes: check, then sign and append in
  batches of ``--batch-size``);
* ``again``: the same export once more (every row unchanged: nothing appended).

Prints one JSON object: rows, seconds, rows/s and peak RSS (MiB) of each run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,"
          "inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,"
          "location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp").split(",")
ACTORS = ["Halcones del Norte", "Cartel de la Sierra Alta", "Golfo Unido", "Los Tejones", "Cartel de la Costa",
          "Nueva Frontera", "Barrio Azul", "La Ruta", "Unidentified Armed Group (Mexico)"]
STATES = ["Tamaulipas", "Sinaloa", "Veracruz", "Michoacan", "Guerrero", "Chihuahua", "Jalisco", "Zacatecas"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]


def export(path: Path, rows: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(HEADER)
        for n in range(rows):
            day, month = rng.randint(1, 28), rng.randint(1, 12)
            battle = rng.random() < 0.3
            actor = rng.choice(ACTORS)
            other = rng.choice(ACTORS) if battle else "Civilians (Mexico)"
            out.writerow([
                f"MEX{n + 100000}", f"{day} {MONTHS[month - 1]} 2027", "2027", rng.choice("1112"), "Political violence",
                "Battles" if battle else "Violence against civilians", "Armed clash" if battle else "Attack", actor, "NA",
                "Political militia", other, "NA", "Political militia" if battle else "Civilians", "NA",
                "NA" if battle else "Civilian targeting", "484", "Central America", "Mexico", rng.choice(STATES), "NA", "NA",
                "NA", "23.6", "-102.5", "1", "El Manana; Milenio", "Subnational-National", "NA", f"{rng.randint(0, 6)}.0",
                "NA", "1774000000",
            ])


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one process."""
    started = time.monotonic()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed ({status})")
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=1000)
    args = parser.parse_args()
    ledger = str(Path(sys.executable).parent / "ledger")
    env = {**os.environ, "LEDGER_PASSPHRASE": "demo-passphrase"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        subprocess.run([ledger, "demo", str(work / "demo")], check=True, env=env, stdout=subprocess.DEVNULL)
        data = work / "acled.csv"
        export(data, args.rows, args.seed)
        command = [ledger, "import", str(work / "demo" / "ledger.db"), "--csv", str(data), "--format", "acled",
                   "--release", "bench", "--key", str(work / "demo" / "keys" / "recorder-1.key"),
                   "--operator-key", str(work / "demo" / "keys" / "operator.key"), "--batch-size", str(args.batch_size),
                   "--skipped", str(work / "skipped.csv")]
        result = {"rows": args.rows, "batch_size": args.batch_size, "file_mib": round(data.stat().st_size / 2**20, 1)}
        for name in ("first", "again"):
            seconds, rss = timed(command, env)
            result[name] = {"seconds": round(seconds, 1), "rows_per_s": round(args.rows / seconds), "peak_rss_mib": round(rss)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
