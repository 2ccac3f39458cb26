"""Generate the synthetic demo incident file (fixed seed, no real person in it).

Run: ``uv run python scripts/make_demo_data.py`` → ``data/incidents/demo_sudan_synthetic.csv``.

Records cluster around real Sudanese towns (public gazetteer coordinates) over two
years, with the quirks real files have so the validation report has work to do:
day-first dates, a missing coordinate, an impossible date, swapped coordinates,
(0, 0), a low-precision coordinate, a decimal-comma value and a malformed line.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import numpy as np

SEED = 20261128
N_RECORDS = 3000
START = date(2023, 5, 1)
DAYS = 731

# (town, lat, lon, weight) — approximate public coordinates of real places.
PLACES = [
    ("Khartoum", 15.5007, 32.5599, 8),
    ("Omdurman", 15.6445, 32.4777, 5),
    ("Bahri", 15.6406, 32.5350, 3),
    ("El Fasher", 13.6279, 25.3494, 7),
    ("Nyala", 12.0489, 24.8807, 6),
    ("El Geneina", 13.4525, 22.4472, 6),
    ("Zalingei", 12.9096, 23.4741, 3),
    ("Ed Daein", 11.4616, 26.1283, 2),
    ("El Obeid", 13.1843, 30.2167, 3),
    ("Kadugli", 11.0108, 29.7183, 3),
    ("Wad Madani", 14.4012, 33.5199, 4),
    ("Sennar", 13.5500, 33.6000, 2),
    ("Kassala", 15.4510, 36.4000, 1),
    ("Port Sudan", 19.6158, 37.2164, 1),
    ("Ed Damazin", 11.7891, 34.3592, 1),
    ("Kosti", 13.1629, 32.6635, 1),
]

# The documented category vocabulary (see data/incidents/README.md).
CATEGORIES = [
    ("attack on civilians", 10),
    ("killing", 8),
    ("arbitrary detention", 5),
    ("sexual and gender-based violence", 3),
    ("forced displacement", 5),
    ("attack on health care", 2),
    ("looting and destruction of property", 4),
    ("torture and ill-treatment", 2),
]
SOURCES = ["local monitor", "partner NGO", "media report", "witness interview (anonymised)"]
HEADER = [
    "incident_id",
    "date",
    "latitude",
    "longitude",
    "category",
    "victims",
    "description",
    "source",
    "admin1",
]


def _weights(items: list[tuple]) -> np.ndarray:
    w = np.array([item[-1] for item in items], dtype=float)
    return w / w.sum()


def generate(seed: int = SEED, n: int = N_RECORDS) -> str:
    """Return the demo CSV text; identical for the same seed."""
    rng = np.random.default_rng(seed)
    place_idx = rng.choice(len(PLACES), size=n, p=_weights(PLACES))
    cat_idx = rng.choice(len(CATEGORIES), size=n, p=_weights(CATEGORIES))
    second = rng.random(n) < 0.12
    cat2_idx = rng.choice(len(CATEGORIES), size=n, p=_weights(CATEGORIES))
    day_offsets = np.sort(rng.integers(0, DAYS, size=n))
    victims = rng.poisson(1.6, size=n)
    unknown_victims = rng.random(n) < 0.15
    radius = rng.exponential(0.08, size=n)
    angle = rng.uniform(0, 2 * np.pi, size=n)

    rows: list[list[str]] = []
    for i in range(n):
        town, lat0, lon0, _ = PLACES[place_idx[i]]
        lat = lat0 + radius[i] * np.sin(angle[i])
        lon = lon0 + radius[i] * np.cos(angle[i]) / np.cos(np.radians(lat0))
        labels = [CATEGORIES[cat_idx[i]][0]]
        if second[i] and cat2_idx[i] != cat_idx[i]:
            labels.append(CATEGORIES[cat2_idx[i]][0])
        day = START + timedelta(days=int(day_offsets[i]))
        rows.append(
            [
                f"DEMO-{i + 1:05d}",
                day.strftime("%d/%m/%Y"),
                f"{lat:.5f}",
                f"{lon:.5f}",
                "; ".join(labels),
                "" if unknown_victims[i] else str(int(victims[i])),
                f"SYNTHETIC demo record near {town}: {labels[0]} reported.",
                SOURCES[int(rng.integers(len(SOURCES)))],
                "",
            ]
        )
    _add_quirks(rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    text = buffer.getvalue()
    # One malformed line (an extra field), as hand-edited files have.
    lines = text.split("\n")
    lines.insert(1500, "DEMO-BAD-1,12/08/2024,13.6,25.3,killing,1,extra,field,here,too")
    return "\n".join(lines)


def _add_quirks(rows: list[list[str]]) -> None:
    """Deliberate, documented defects that the validation report must catch."""
    rows[10][2] = ""  # missing latitude -> rejected
    rows[20][1] = "31/02/2024"  # impossible date -> rejected
    rows[30][2], rows[30][3] = rows[30][3], rows[30][2]  # swapped lat/lon -> warning
    rows[40][2], rows[40][3] = "0", "0"  # null island -> rejected
    rows[50][2], rows[50][3] = "15.5", "32.6"  # low precision -> warning
    rows[60][6] = "SYNTHETIC demo record: victims unknown, reported as 'several'."
    rows[60][5] = "several"  # non-numeric victims -> warning
    rows[70][2] = "95.12345"  # latitude out of range -> rejected
    rows[80][8] = "Khartoum"  # stated admin-1 name, agrees with the join
    rows[80][2], rows[80][3] = "15.58120", "32.53410"
    rows[90][8] = "Kassala"  # stated admin-1 name that disagrees (coordinates in Khartoum)
    rows[90][2], rows[90][3] = "15.5007", "32.5599"


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "data" / "incidents" / "demo_sudan_synthetic.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(generate(), encoding="utf-8")
    print(f"wrote {out} ({N_RECORDS + 1} records)")


if __name__ == "__main__":
    main()
