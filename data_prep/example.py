"""Render the bundled example song (redistributable sources only).

Usage::

    python -m data_prep.example --out examples/

Drums: a groove written by this project's generator (:mod:`data_prep.groove`), played on the
"Standard" drum kit of FluidR3_GM (MIT). Pitched parts: a bass line, chords and a melody written by
:func:`pitched_parts` below, also through FluidR3_GM. Writes ``groove.flac`` (mono FLAC),
``groove.drums.tsv`` (the true hits), ``groove.notes.tsv`` (the pitched notes) and ``README.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from drumtx.features import SAMPLE_RATE

from . import build, groove, kits, sampler, sources, synth

EXAMPLE_SEED = 2024
EXAMPLE_SECONDS = 24.0
EXAMPLE_TEMPO_BPM = 104.0
EXAMPLE_KIT = "FluidR3 Standard"
EXAMPLE_SOUNDFONT = "fluid_sf2"
OUTPUT_RATE = 22050
"""The example is stored at this rate to stay well under 1 MB (labels are in seconds)."""
DRUMS_TO_REST_DB = 3.0
PEAK_DBFS = -3.0
BASS_PROGRAM, CHORD_PROGRAM, LEAD_PROGRAM = 33, 4, 73
"""GM programs: fingered bass, electric piano, flute."""
PROGRESSION: tuple[tuple[int, ...], ...] = (
    (57, 60, 64),  # A minor
    (53, 57, 60),  # F major
    (48, 52, 55),  # C major
    (55, 59, 62),  # G major
)
"""One chord per bar (MIDI pitches)."""
SCALE = (57, 59, 60, 62, 64, 67, 69, 72)
"""A-minor pentatonic-ish melody notes."""


def pitched_parts(rng: np.random.Generator, bars: int) -> np.ndarray:
    """Bass, chords and melody in beats; shape (n, 5): onset, offset, pitch, velocity, program."""
    notes = []
    for bar in range(bars):
        chord = PROGRESSION[bar % len(PROGRESSION)]
        bar0 = bar * 4.0
        root = chord[0] - 24
        for eighth in range(8):
            pitch = root + (12 if eighth in (3, 7) else 0)
            notes.append((bar0 + eighth / 2, bar0 + eighth / 2 + 0.45, pitch, 95, BASS_PROGRAM))
        for beat in (0.0, 2.0):
            for pitch in chord:
                notes.append((bar0 + beat, bar0 + beat + 1.9, pitch, 70, CHORD_PROGRAM))
        if bar >= 2:
            beat = 0.0
            while beat < 4.0:
                length = float(rng.choice([0.5, 1.0, 1.5]))
                pitch = int(rng.choice(SCALE)) + 12
                notes.append((bar0 + beat, bar0 + beat + length * 0.9, pitch, 85, LEAD_PROGRAM))
                beat += length
    return np.array(notes, dtype=np.float64)


def render_example(out: Path) -> dict:
    """Render and write the example into ``out``; returns a summary."""
    out.mkdir(parents=True, exist_ok=True)
    sources.require(EXAMPLE_SOUNDFONT)
    rng = np.random.default_rng(EXAMPLE_SEED)
    bars = int(np.ceil(EXAMPLE_SECONDS * EXAMPLE_TEMPO_BPM / 240.0)) + 1
    part = groove.Part()
    for bar in range(bars):
        groove.STYLES["rock"][0](part, bar * 4.0, 4, rng)
    drums_b, variations = groove.vary(
        part.array(), 4.0, bars * 4.0, rng,
        {"fills": 1.0, "crash_downbeats": 1.0, "ghosts": 1.0, "open_hh": 1.0, "ride": 0.0,
         "drop_hits": 0.0, "side_stick": 0.0},
    )
    notes_b = pitched_parts(rng, bars)
    drums_s, notes_s = groove.perform(drums_b, notes_b, EXAMPLE_TEMPO_BPM, rng)
    lead_in = 0.25
    drums_s[:, 0] += lead_in
    notes_s[:, :2] += lead_in
    end = EXAMPLE_SECONDS - build.END_MARGIN_S
    drums_s = drums_s[(drums_s[:, 0] >= 0) & (drums_s[:, 0] < end)]
    notes_s = notes_s[(notes_s[:, 0] >= 0) & (notes_s[:, 0] < end)]
    notes_s[:, 1] = np.minimum(notes_s[:, 1], EXAMPLE_SECONDS)
    notes_s = notes_s[np.lexsort((notes_s[:, 2], notes_s[:, 0]))]
    n_samples = int(EXAMPLE_SECONDS * SAMPLE_RATE)
    kit = kits.load_kit(EXAMPLE_KIT)
    played = sampler.resolve_hits(kit, drums_s)
    drums = sampler.render_drums(kit, played, n_samples, rng)
    rest = synth.render_pitched(notes_s, n_samples, EXAMPLE_SOUNDFONT)
    rms_d = np.sqrt(np.mean(drums**2))
    rms_r = np.sqrt(np.mean(rest**2)) + 1e-12
    mix = drums + rest * np.float32(rms_d / rms_r * 10 ** (-DRUMS_TO_REST_DB / 20))
    mix *= np.float32(10 ** (PEAK_DBFS / 20) / np.max(np.abs(mix)))
    import librosa

    low_rate = librosa.resample(mix, orig_sr=SAMPLE_RATE, target_sr=OUTPUT_RATE)
    sf.write(out / "groove.flac", low_rate, OUTPUT_RATE, format="FLAC", subtype="PCM_16")
    drum_rows = sampler.label_rows(played)
    (out / "groove.drums.tsv").write_text(build.format_drum_labels(drum_rows))
    note_rows = [(float(a), float(b), int(p), int(v), int(g)) for a, b, p, v, g in notes_s]
    (out / "groove.notes.tsv").write_text(build.format_note_labels(note_rows))
    (out / "README.md").write_text(README.format(
        seconds=EXAMPLE_SECONDS, tempo=EXAMPLE_TEMPO_BPM, rate=OUTPUT_RATE, hits=len(drum_rows),
        notes=len(note_rows), variations=", ".join(variations) or "none",
    ))
    return {"hits": len(drum_rows), "notes": len(note_rows),
            "bytes": (out / "groove.flac").stat().st_size}


README = """# Example song

`groove.flac` is a {seconds:.0f}-second example song (mono FLAC, {rate} Hz) with its true drum
hits in `groove.drums.tsv` ({hits} hits; columns `onset_s gm_note class velocity`, classes from
`drumtx.vocab`) and its pitched notes in `groove.notes.tsv` ({notes} notes; columns
`onset_s offset_s midi_pitch velocity program`). Re-create it with

    python -m data_prep.example --out examples/

## What it was rendered from

- **Drums**: a rock groove at {tempo:.0f} BPM written by this project's groove generator
  (`data_prep/groove.py`; variations: {variations}), with humanised timing and velocity.
- **Pitched parts**: a bass line (GM program 33), electric-piano chords (program 4) and a flute
  melody (program 73) written by `data_prep/example.py`.
- **Sounds**: the "Standard" drum kit (bank 128, preset 0) and the melodic instruments of
  **FluidR3_GM.sf2** by Frank Wen, Debian package `fluid-soundfont-gm`, released under the
  **MIT licence** ("I hereby release Fluid under the MIT license, as described in COPYING.").
- Rendering: fluidsynth (LGPL-2.1, a tool, not part of the result) and NumPy.

## Licence

The music (groove and parts) is generated by drumtx and is, like the project, under the MIT
licence. The recording contains samples from FluidR3_GM (MIT, Copyright Frank Wen), so the
rendering `groove.flac` and its label files are distributed under the MIT licence; keep this
notice with them.
"""


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="python -m data_prep.example", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("examples"))
    args = parser.parse_args(argv)
    try:
        summary = render_example(args.out)
    except sources.SourceMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {args.out}/groove.flac ({summary['bytes'] / 1e6:.2f} MB, {summary['hits']} drum "
          f"hits, {summary['notes']} notes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
