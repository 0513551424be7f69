"""Pitched parts through General MIDI soundfonts (pyfluidsynth on Debian's libfluidsynth3)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import DRUM_MIDI_CHANNEL

from . import sources

PITCHED_GAIN = 0.4
"""fluidsynth master gain for pitched parts (int16 output; level is normalised later)."""
PITCHED_SOUNDFONTS: tuple[str, ...] = ("fluid_sf2", "musescore_sf3", "timgm6mb_sf2")
"""Sources (keys of :data:`sources.SOURCES`) of GM soundfonts used for pitched parts."""
N_MELODIC_CHANNELS = 15


def new_synth(gain: float):
    """A fluidsynth synthesiser at SAMPLE_RATE with reverb and chorus off."""
    import fluidsynth

    return fluidsynth.Synth(
        gain=gain,
        samplerate=float(SAMPLE_RATE),
        **{"synth.reverb.active": 0, "synth.chorus.active": 0, "synth.polyphony": 512},
    )


@lru_cache(maxsize=4)
def _keeper(source: str):
    """A synth that keeps a soundfont loaded, so fluidsynth's sample cache makes reloading cheap."""
    synth = new_synth(PITCHED_GAIN)
    synth.sfload(str(sources.require(source)))
    return synth


def _fresh_synth(source: str):
    """A new synth with the soundfont loaded (about 30 ms once the sample cache is warm).

    fluidsynth output depends on what a synth has played before (the first use of a sample
    differs slightly), so every song gets a fresh synth: this keeps builds repeatable whatever
    the order in which worker processes render the songs.
    """
    _keeper(source)
    synth = new_synth(PITCHED_GAIN)
    sfid = synth.sfload(str(sources.require(source)))
    return synth, sfid


def melodic_channels() -> list[int]:
    """MIDI channels usable for pitched parts (all but the percussion channel)."""
    return [c for c in range(N_MELODIC_CHANNELS + 1) if c != DRUM_MIDI_CHANNEL]


def render_pitched(notes: np.ndarray, n_samples: int, soundfont: str) -> np.ndarray:
    """Render pitched notes with a GM soundfont.

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        Columns onset_s, offset_s, midi_pitch, velocity (1..127), program (0..127).
    n_samples : int
        Output length in samples at :data:`SAMPLE_RATE`.
    soundfont : str
        Key of :data:`sources.SOURCES` (one of :data:`PITCHED_SOUNDFONTS`).

    Returns
    -------
    numpy.ndarray, shape (n_samples,), float32
        Mono audio. Note-ons are placed at most one 64-sample fluidsynth block late (1.5 ms).
    """
    out = np.zeros(n_samples, dtype=np.float32)
    if len(notes) == 0:
        return out
    synth, sfid = _fresh_synth(soundfont)
    programs = sorted({int(p) for p in notes[:, 4]})
    channels = melodic_channels()
    if len(programs) > len(channels):
        keep = set(programs[: len(channels)])
        notes = notes[np.isin(notes[:, 4].astype(int), list(keep))]
        programs = sorted(keep)
    channel_of = {}
    for channel, program in zip(channels, programs, strict=False):
        channel_of[program] = channel
        synth.program_select(channel, sfid, 0, program)
    events = []  # (sample, order, kind, channel, pitch, velocity); offs before ons at a tie
    for onset, offset, pitch, velocity, program in notes:
        channel = channel_of[int(program)]
        on = int(round(onset * SAMPLE_RATE))
        off = max(on + 1, int(round(offset * SAMPLE_RATE)))
        events.append((on, 1, channel, int(pitch), int(velocity)))
        events.append((off, 0, channel, int(pitch), 0))
    events.sort()
    chunks = []
    position = 0
    for sample, kind, channel, pitch, velocity in events:
        sample = min(sample, n_samples)
        if sample > position:
            chunks.append(synth.get_samples(sample - position))
            position = sample
        if kind:
            synth.noteon(channel, pitch, velocity)
        else:
            synth.noteoff(channel, pitch)
    if n_samples > position:
        chunks.append(synth.get_samples(n_samples - position))
    synth.delete()
    stereo = np.concatenate(chunks).astype(np.float32).reshape(-1, 2) / 32768.0
    mono = stereo.mean(axis=1)
    out[: len(mono)] = mono[:n_samples]
    return out
