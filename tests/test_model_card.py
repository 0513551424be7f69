"""The bundled model's card describes the files shipped beside it."""

from __future__ import annotations

import re

from drumtx import runtime

CARD = runtime.model_path().parent / "MODEL_CARD.md"
SHA256 = re.compile(r"`([0-9a-f]{64})`")


def card_row(label: str) -> str:
    """The text of the card's first table row whose first cell is ``label``."""
    for line in CARD.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells and cells[0] == label:
            return line
    raise AssertionError(f"no '{label}' row in {CARD}")


def test_the_card_names_the_shipped_weights_and_peak_picking_by_hash():
    weights = runtime.model_path()
    peak_picking = weights.parent / "peak_picking.json"
    assert SHA256.findall(card_row("sha256")) == [runtime.file_sha256(weights)]
    assert SHA256.findall(card_row("decoding")) == [runtime.file_sha256(peak_picking)]


def test_the_card_states_the_file_size_in_megabytes():
    size_mb = runtime.model_path().stat().st_size / 1e6
    stated = re.search(r"\(([\d.]+) MB", card_row("file"))
    assert stated is not None
    assert abs(float(stated.group(1)) - size_mb) < 0.05
