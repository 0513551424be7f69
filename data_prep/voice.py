"""A sung lead: vowels on the song's top line, with consonants that sound like drums.

Real songs carry a voice that General MIDI soundfonts lack. Its sibilants ("s", "sh") are
bursts of noise above 4 kHz, much like a hi-hat; its plosives ("t", "k", "p") are short
clicks; its vowels fill the snare's and the toms' bands. :func:`draw` decides whether a song
gets a voice and how it sounds; :func:`sing` renders it on the highest note of every chord
of the pitched part (moved by octaves into a singer's range), in phrases with breaths
between them, and returns the sung notes as labels (program :data:`VOICE_PROGRAM`).

The voice is a band-limited glottal source (harmonics falling at :data:`SOURCE_TILT`)
with a pitch scoop and vibrato, through three formant resonators of a vowel drawn per
syllable; consonants are filtered noise ending where the vowel starts, so a note's
labelled onset is its vowel's onset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

from drumtx.features import SAMPLE_RATE

P_VOICE = 0.5
"""Probability that a song with pitched parts gets a voice."""
VOICE_PROGRAM = 53
"""GM program (0-based) the sung notes are labelled with: "Voice Oohs"."""
VOICE_LEVEL_DB = (-4.0, 6.0)
"""RMS level of the voice against the rest of the pitched parts (dB)."""
LOW_RANGE = (45, 67)
HIGH_RANGE = (55, 79)
"""MIDI ranges of a low (male) and a high (female) singer."""
P_HIGH_VOICE = 0.5
FORMANT_SCALE = {False: 1.0, True: 1.15}
"""Formants of a high voice sit this much higher."""
VOWEL_FORMANTS_HZ: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (300.0, 2290.0, 3010.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (320.0, 870.0, 2240.0),
}
FORMANT_BANDWIDTHS_HZ = (90.0, 110.0, 160.0)
FORMANT_GAINS = (1.0, 0.5, 0.25)
SOURCE_TILT = 1.3
"""Harmonic k of the glottal source has amplitude k ** -SOURCE_TILT."""
MAX_HARMONIC_HZ = 9000.0
ASPIRATION = 0.03
"""Breath noise in the vowels, against the voiced source (RMS ratio)."""
SCOOP_CENTS = (0.0, 80.0)
SCOOP_S = 0.05
"""Notes may start this far below their pitch and glide up within SCOOP_S."""
VIBRATO_HZ = (4.5, 6.5)
VIBRATO_CENTS = (15.0, 60.0)
VIBRATO_DELAY_S = 0.2
ATTACK_S = (0.015, 0.05)
RELEASE_S = 0.06
MIN_NOTE_S = 0.07
"""Top-line notes shorter than this are not sung."""
CHORD_S = 0.03
"""Notes starting within this of each other form one chord (the highest one is sung)."""
PHRASE_S = (2.0, 8.0)
BREATH_S = (0.8, 4.0)
"""Lengths of sung phrases and of the silences between them."""
P_CONSONANT = 0.7
"""Probability that a syllable starts with a consonant."""
CONSONANTS: dict[str, tuple[float, float, float, float]] = {
    "s": (5000.0, 11000.0, 0.06, 0.16),
    "sh": (2500.0, 7000.0, 0.06, 0.14),
    "t": (3500.0, 8000.0, 0.008, 0.02),
    "k": (1500.0, 4000.0, 0.01, 0.025),
    "p": (400.0, 2000.0, 0.008, 0.02),
}
"""Noise band (Hz) and length range (s) of each consonant; it ends where the vowel starts."""
CONSONANT_LEVEL_DB = (-12.0, 0.0)
"""Consonant RMS against the vowel's."""


@dataclass(frozen=True)
class Voice:
    """How one song's voice sounds: singer range, level (dB re the rest), vibrato."""

    high: bool
    level_db: float
    vibrato_hz: float
    vibrato_cents: float

    def describe(self) -> str:
        """Text for the manifest, e.g. ``voice(high,+2dB)``."""
        return f"voice({'high' if self.high else 'low'},{self.level_db:+.0f}dB)"


def draw(rng: np.random.Generator) -> Voice | None:
    """A random voice for one song, or ``None`` (no voice) with probability 1 - P_VOICE."""
    if rng.random() >= P_VOICE:
        return None
    return Voice(
        high=bool(rng.random() < P_HIGH_VOICE),
        level_db=float(rng.uniform(*VOICE_LEVEL_DB)),
        vibrato_hz=float(rng.uniform(*VIBRATO_HZ)),
        vibrato_cents=float(rng.uniform(*VIBRATO_CENTS)),
    )


def top_line(notes: np.ndarray, duration_s: float) -> np.ndarray:
    """The highest note of every chord, each ending by the next one's onset.

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        Onset seconds, offset seconds, MIDI pitch, velocity, program.
    duration_s : float
        Song length; notes end by then.

    Returns
    -------
    numpy.ndarray, shape (m, 5)
        In onset order; notes shorter than :data:`MIN_NOTE_S` are left out.
    """
    if len(notes) == 0:
        return np.zeros((0, 5))
    ordered = notes[np.argsort(notes[:, 0], kind="stable")]
    starts = np.flatnonzero(np.concatenate([[True], np.diff(ordered[:, 0]) > CHORD_S]))
    stops = np.append(starts[1:], len(ordered))
    highest = [start + int(np.argmax(ordered[start:stop, 2]))
               for start, stop in zip(starts, stops, strict=True)]
    line = ordered[highest].copy()
    line[:, 0] = ordered[starts, 0]
    next_onset = np.append(line[1:, 0], duration_s)
    line[:, 1] = np.minimum(np.minimum(line[:, 1], next_onset), duration_s)
    return line[line[:, 1] - line[:, 0] >= MIN_NOTE_S]


def _phrase_mask(onsets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which notes fall inside sung phrases (from the first note, phrases and breaths alternate)."""
    mask = np.zeros(len(onsets), dtype=bool)
    time = float(onsets[0]) if len(onsets) else 0.0
    singing = True
    while len(onsets) and time <= onsets[-1]:
        length = rng.uniform(*(PHRASE_S if singing else BREATH_S))
        mask |= singing & (onsets >= time) & (onsets < time + length)
        time += length
        singing = not singing
    return mask


def _formant_filter(x: np.ndarray, vowel: str, scale: float) -> np.ndarray:
    """``x`` through the three formant resonators of ``vowel`` (in parallel)."""
    out = np.zeros_like(x)
    for frequency, bandwidth, gain in zip(
        VOWEL_FORMANTS_HZ[vowel], FORMANT_BANDWIDTHS_HZ, FORMANT_GAINS, strict=True
    ):
        b, a = signal.iirpeak(frequency * scale, frequency * scale / bandwidth, fs=SAMPLE_RATE)
        out += gain * signal.lfilter(b, a, x)
    return out


def _vowel(pitch: float, length: int, voice: Voice, rng: np.random.Generator) -> np.ndarray:
    """The voiced source of one note (glottal harmonics plus breath), before the formants."""
    t = np.arange(length) / SAMPLE_RATE
    scoop = rng.uniform(*SCOOP_CENTS) * np.clip(1.0 - t / SCOOP_S, 0.0, 1.0)
    vibrato = voice.vibrato_cents * np.clip((t - VIBRATO_DELAY_S) / 0.1, 0.0, 1.0)
    vibrato = vibrato * np.sin(2 * np.pi * voice.vibrato_hz * t + rng.uniform(0, 2 * np.pi))
    f0 = 440.0 * 2.0 ** ((pitch - 69.0 + (vibrato - scoop) / 100.0) / 12.0)
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    n_harmonics = max(1, int(MAX_HARMONIC_HZ / f0.max()))
    harmonics = np.arange(1, n_harmonics + 1)
    source = (harmonics[:, None] ** -SOURCE_TILT * np.sin(harmonics[:, None] * phase)).sum(0)
    source /= np.sqrt(np.mean(source**2)) + 1e-12
    return source + ASPIRATION * rng.standard_normal(length)


def _consonant(rng: np.random.Generator) -> np.ndarray:
    """A consonant: band-passed noise with a quick rise and a fall into the vowel."""
    low, high, shortest, longest = CONSONANTS[list(CONSONANTS)[rng.integers(len(CONSONANTS))]]
    length = int(rng.uniform(shortest, longest) * SAMPLE_RATE)
    sos = signal.butter(4, (low, min(high, 0.45 * SAMPLE_RATE)), "bandpass", fs=SAMPLE_RATE,
                        output="sos")
    noise = signal.sosfilt(sos, rng.standard_normal(length + 256))[256:]
    envelope = np.minimum(np.linspace(0.0, 4.0, length), 1.0) * np.linspace(1.0, 0.3, length)
    noise = noise * envelope
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-12)


def sing(
    notes: np.ndarray, n_samples: int, voice: Voice, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Render a voice singing the top line of ``notes``.

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        The song's pitched notes: onset s, offset s, MIDI pitch, velocity, program.
    n_samples : int
        Length of the output at :data:`drumtx.features.SAMPLE_RATE`.
    voice : Voice
    rng : numpy.random.Generator

    Returns
    -------
    audio : numpy.ndarray, shape (n_samples,), float32
        The voice (RMS 1 over its sung notes' span, or silence).
    sung : numpy.ndarray, shape (m, 5)
        Label rows of the sung notes moved to another octave (pitch in the singer's range,
        program :data:`VOICE_PROGRAM`); a note sung at its own pitch is labelled already.
    """
    audio = np.zeros(n_samples)
    line = top_line(notes, n_samples / SAMPLE_RATE)
    line = line[_phrase_mask(line[:, 0], rng)] if len(line) else line
    if len(line) == 0:
        return audio.astype(np.float32), np.zeros((0, 5))
    low, high = HIGH_RANGE if voice.high else LOW_RANGE
    in_range = (line[:, 2] >= low) & (line[:, 2] <= high)
    # The nearest octave inside the range.
    pitches = line[:, 2] - 12 * np.ceil(np.maximum(line[:, 2] - high, 0) / 12)
    pitches = pitches + 12 * np.ceil(np.maximum(low - pitches, 0) / 12)
    scale = FORMANT_SCALE[voice.high]
    vowels = list(VOWEL_FORMANTS_HZ)
    for (onset, offset, _, velocity, _), pitch in zip(line, pitches, strict=True):
        start = int(round(onset * SAMPLE_RATE))
        length = min(int(round((offset - onset + RELEASE_S) * SAMPLE_RATE)), n_samples - start)
        if length <= 0:
            continue
        vowel = vowels[rng.integers(len(vowels))]
        sound = _formant_filter(_vowel(pitch, length, voice, rng), vowel, scale)
        sound /= np.sqrt(np.mean(sound**2)) + 1e-12
        attack = int(rng.uniform(*ATTACK_S) * SAMPLE_RATE)
        release = int(RELEASE_S * SAMPLE_RATE)
        envelope = np.ones(length)
        envelope[: min(attack, length)] = np.linspace(0.0, 1.0, min(attack, length))
        envelope[-min(release, length):] *= np.linspace(1.0, 0.0, min(release, length))
        loudness = (velocity / 127.0) ** 0.5
        audio[start : start + length] += loudness * envelope * sound
        if rng.random() < P_CONSONANT:
            consonant = _consonant(rng) * loudness * 10 ** (rng.uniform(*CONSONANT_LEVEL_DB) / 20)
            consonant = consonant[max(0, len(consonant) - start) :]  # the end leads into the vowel
            audio[start - len(consonant) : start] += consonant
    span = audio[int(line[0, 0] * SAMPLE_RATE) : int(line[-1, 1] * SAMPLE_RATE) + 1]
    audio /= np.sqrt(np.mean(span**2)) + 1e-12
    sung = line.copy()
    sung[:, 2] = pitches
    sung[:, 4] = VOICE_PROGRAM
    return audio.astype(np.float32), sung[~in_range]
