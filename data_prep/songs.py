"""One song: composition (kit, drum part, variations, pitched part), rendering and writing.

:func:`make_song` turns a :class:`SongPlan` into audio and labels using only the plan's seed, so a
song comes out the same whichever process renders it; :func:`write_song` writes its files (see
:mod:`data_prep.build` for the layout).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import PITCH_MAX, PITCH_MIN

from . import (
    amp,
    augment,
    band,
    groove,
    kits,
    multimic,
    parts,
    patterns,
    room,
    sampler,
    sources,
    synth,
    voice,
)

SPLITS: tuple[str, ...] = ("train", "val", "test")
SPLIT_CODES: dict[str, int] = {"train": 0, "val": 1, "test": 2}
SONG_SECONDS = (20.0, 60.0)
"""Song length range (seconds)."""
MIN_LAST_SONG_S = 10.0
PATTERN_SOURCES: dict[str, dict[str, float]] = {
    "train": {"generator": 0.4, "mma": 0.3, "freedoom": 0.3},
    "val": {"openmsx": 1.0},
    "test": {"blupi": 0.6, "hydrogen_songs": 0.4},
}
"""Drum pattern sources per split and their weights (no source is shared between splits).
The Groove MIDI Dataset joins with a build's ``gmd_weight`` (:data:`patterns.GMD_SOURCES`)."""
PERCUSSION_DONOR_KITS: dict[str, str] = {
    "train": "FluidR3 Standard", "val": "TimGM6mb Standard", "test": "TimGM6mb Standard",
}
"""Kit whose tambourine, shaker, cowbell, claps and cabasa a percussionist plays (GM kits have
them all; a drum kit rarely does)."""
PITCHED_DONORS: dict[str, tuple[str, ...]] = {
    "train": ("mma", "freedoom", "music21"),
    "val": ("openmsx", "music21"),
    "test": ("blupi", "music21"),
}
"""Where pitched parts come from when a song's pattern source has none (same split only)."""
TEMPO_FACTOR = (0.85, 1.2)
"""Human MIDI is replayed at its own tempo times a factor in this range (then clipped)."""
MMA_TEMPO_BPM = (70.0, 180.0)
P_SWING = 0.25
SWING_RATIO = (0.55, 0.67)
FLAM_PROBABILITY = 0.12
LEAD_IN_S = (0.05, 0.5)
END_MARGIN_S = 0.05
"""No labelled onset closer than this to the end of a song."""
MIX_LEVEL_DB = (-15.0, 6.0)
"""Drums-to-rest RMS level of the mix (dB)."""
BAND_REVERB_PROBABILITY = 0.0
"""Probability of a reverb on the band alone, the drums staying dry (a washy guitar over a dry
kit). 0 in the builds so far; ``benchmarks/band_reverb.py`` renders its songs with 1."""
BAND_REVERB_RT60_S = (1.0, 3.0)
BAND_REVERB_WET = (0.3, 0.7)
BAND_REVERB_PRE_DELAY_S = 0.02
P_KEEP_PROGRAM = 0.4
P_SAME_FAMILY = 0.6
MELODIC_PROGRAMS = 112
"""GM programs 112–127 (percussive and sound effects) are never used for pitched parts."""
WINDOW_TRIES = 8
LABEL_DECIMALS = 6
DRUM_HEADER = ("onset_s", "gm_note", "class", "velocity")
NOTE_HEADER = ("onset_s", "offset_s", "midi_pitch", "velocity", "program")
BEAT_HEADER = ("time_s", "position")
DEFAULT_BEATS_PER_BAR = 4
"""Bar length used for the beat labels when a score's metre is not a whole number of beats."""
MANIFEST_COLUMNS = (
    "id", "split", "seconds", "tempo", "kit", "kit_family", "pattern_source", "mix_level_db",
    "augmentations", "seed", "pattern", "variations", "pitched_source", "soundfont",
    "n_drum_hits", "n_notes", "beats_per_bar", "score_beats_per_bar", "lead_s", "n_beats",
)


@dataclass(frozen=True)
class SongPlan:
    """What the main process hands to a worker: everything else follows from the seed."""

    song_id: str
    split: str
    seed: int
    index: int
    seconds: float
    out: str
    augment: bool = True
    piece_variation: float = 0.0
    """Probability that the song re-voices its kit's pieces (see
    :func:`sampler.draw_piece_characters`)."""
    room_probability: float = 0.0
    """Probability that a sampled kit is played in a room and recorded by close, overhead and
    room microphones (:mod:`data_prep.room`)."""
    absent_probability: float = 0.0
    """Probability that whole pieces are left out of the song (:func:`parts.leave_out_pieces`)."""
    percussion_probability: float = 0.0
    """Probability of an unlabelled percussion part (:func:`parts.percussion_part`)."""
    gmd_weight: float = 0.0
    """Weight of the Groove MIDI Dataset among the split's pattern sources (the others sum to
    1); 0 leaves it out."""
    kit_family: str | None = None
    """Play only kits of this family, whatever their split (e.g. the held-out ``Muldjord``)."""


def song_id(split: str, seed: int, index: int) -> str:
    """File stem of a song, e.g. ``train-s7-00012``."""
    return f"{split}-s{seed}-{index:05d}"


def plan_songs(split: str, minutes: float, seed: int, out: Path, augment_audio: bool = True,
               piece_variation: float = 0.0, **options) -> list[SongPlan]:
    """Song lengths drawn until ``minutes`` of audio are planned (deterministic for a seed).

    ``options`` are further :class:`SongPlan` fields (``room_probability``, ``gmd_weight``, ...).
    """
    rng = np.random.default_rng([seed, SPLIT_CODES[split], 999])
    total = minutes * 60.0
    plans = []
    planned = 0.0
    while planned < total - 1e-6:
        seconds = float(rng.uniform(*SONG_SECONDS))
        remaining = total - planned
        if remaining < seconds:
            seconds = max(remaining, min(MIN_LAST_SONG_S, seconds))
        seconds = round(seconds, 3)
        plans.append(SongPlan(song_id(split, seed, len(plans)), split, seed, len(plans),
                              seconds, str(out), augment_audio, piece_variation, **options))
        planned += seconds
    return plans


def _weighted(rng: np.random.Generator, options: dict[str, float]) -> str:
    names = list(options)
    weights = np.array([options[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=weights / weights.sum()))]


def available_sources(split: str, gmd_weight: float = 0.0) -> dict[str, float]:
    """Installed pattern sources of a split with their weights (see :data:`PATTERN_SOURCES`)."""
    out = {}
    weights = dict(PATTERN_SOURCES[split])
    if gmd_weight > 0:
        weights[patterns.GMD_SOURCES[split]] = gmd_weight
    for name, weight in weights.items():
        try:
            if name == "generator" or patterns.list_pieces(name):
                out[name] = weight
        except sources.SourceMissingError as error:
            print(f"warning: {error}", file=sys.stderr)
    if not out:
        raise sources.SourceMissingError(f"no pattern source installed for split '{split}'")
    return out


def _window(score: patterns.Score, need_beats: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    """Cut ``need_beats`` beats (starting on a bar line) out of a score, looping it if short.

    Returns drums (n, 3) and notes (m, 5) with beats relative to the window start.
    """
    bpb = score.beats_per_bar
    length = max(score.length_beats, bpb)
    drums, notes = score.drums, score.notes
    if length < need_beats + bpb:
        repeats = int(math.ceil((need_beats + bpb) / length))
        drums = np.concatenate([drums + [k * length, 0, 0] for k in range(repeats)])
        notes = np.concatenate([notes + [k * length, k * length, 0, 0, 0] for k in range(repeats)])
        length *= repeats
    n_starts = max(1, int((length - need_beats) // bpb))
    best, best_count = 0.0, -1
    for _ in range(WINDOW_TRIES):
        start = float(rng.integers(n_starts)) * bpb
        count = int(np.sum((drums[:, 0] >= start) & (drums[:, 0] < start + need_beats)))
        if count > best_count:
            best, best_count = start, count
        if count >= 1.5 * need_beats:
            break
    d = drums[(drums[:, 0] >= best) & (drums[:, 0] < best + need_beats)] - [best, 0, 0]
    n = notes[(notes[:, 0] >= best) & (notes[:, 0] < best + need_beats)] - [best, best, 0, 0, 0]
    return d, n


def _donor_notes(split: str, need_beats: float, tempo: float, rng: np.random.Generator
                 ) -> tuple[np.ndarray, str]:
    """Pitched notes (beats) from a donor source of the same split."""
    donors = list(PITCHED_DONORS[split])
    for _ in range(len(donors) * 2):
        donor = donors[int(rng.integers(len(donors)))]
        try:
            if donor == "mma":
                groove_name = patterns.draw_mma_groove(rng)
                bars = int(math.ceil(need_beats / 4)) + 1
                score = patterns.mma_score(groove_name, rng, bars, tempo)
                name = f"mma:{groove_name}"
            else:
                pieces = patterns.list_pieces(donor)
                if donor == "music21":
                    pieces = tuple(p for p in pieces if patterns.music21_split(p) == split)
                piece = pieces[int(rng.integers(len(pieces)))]
                score = patterns.load_piece(donor, piece)
                name = f"{donor}:{piece}"
                if donor == "music21":  # chorales and motets: any key, any register
                    shift = [0, 0, int(rng.integers(-7, 8)), 0, 0]
                    score = dataclasses.replace(score, notes=score.notes + shift)
        except (sources.SourceMissingError, RuntimeError):
            continue
        except Exception as error:  # noqa: BLE001 - a corpus file music21 cannot read
            print(f"warning: skipping pitched donor: {error}", file=sys.stderr)
            continue
        if len(score.notes):
            _, notes = _window(score, need_beats, rng)
            if len(notes):
                return notes, name
    return np.zeros((0, 5)), ""


def _remap_programs(notes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Give each original program a new one (same GM family or any melodic program)."""
    out = notes.copy()
    for program in sorted({int(p) for p in notes[:, 4]}):
        r = rng.random()
        melodic = program < MELODIC_PROGRAMS
        if r < P_KEEP_PROGRAM and melodic:
            new = program
        elif r < P_KEEP_PROGRAM + (1 - P_KEEP_PROGRAM) * P_SAME_FAMILY and melodic:
            new = (program // 8) * 8 + int(rng.integers(8))
        else:
            new = int(rng.integers(MELODIC_PROGRAMS))
        out[notes[:, 4] == program, 4] = new
    return out


def label_beats_per_bar(score_beats_per_bar: float) -> int:
    """Beats per bar of the beat labels: the score's metre if whole, else 4 (see below).

    Parameters
    ----------
    score_beats_per_bar : float
        Quarter-note beats per bar of the pattern (``numerator * 4 / denominator`` of a MIDI
        time signature, so 6/8 gives 3 and 7/8 gives 3.5).

    Returns
    -------
    int
        Whole beats per bar (at least 1); :data:`DEFAULT_BEATS_PER_BAR` for a fractional metre.
    """
    rounded = int(round(score_beats_per_bar))
    if rounded < 1 or abs(score_beats_per_bar - rounded) > 1e-6:
        return DEFAULT_BEATS_PER_BAR
    return rounded


def beat_grid(tempo_bpm: float, beats_per_bar: int, lead_s: float, duration_s: float
              ) -> list[tuple[float, int]]:
    """The song's exact beat grid: one row per beat from the first bar line to the end.

    The drum part starts on a bar line at ``lead_s`` and the tempo is constant; swing and
    humanising move single hits, never the grid (:func:`data_prep.groove.swing_warp` keeps
    whole beats fixed).

    Parameters
    ----------
    tempo_bpm : float
        Tempo (quarter-note beats per minute).
    beats_per_bar : int
        Beats per bar (see :func:`label_beats_per_bar`).
    lead_s : float
        Time of the first downbeat (seconds).
    duration_s : float
        Song length (seconds); no beat closer than :data:`END_MARGIN_S` to the end.

    Returns
    -------
    list of (float, int)
        ``(time_s, position)`` with ``time_s = lead_s + b * 60 / tempo_bpm`` and
        ``position = b % beats_per_bar + 1`` (1 = downbeat) for ``b = 0, 1, ...``.
    """
    seconds_per_beat = 60.0 / tempo_bpm
    n_beats = max(0, int(math.ceil((duration_s - END_MARGIN_S - lead_s) / seconds_per_beat)))
    return [(lead_s + b * seconds_per_beat, b % beats_per_bar + 1) for b in range(n_beats)]


def make_song(plan: SongPlan) -> dict:
    """Compose and render one song.

    Returns
    -------
    dict
        ``mix`` and ``drums`` (float32 arrays, shape (n_samples,)), ``drum_rows``, ``note_rows``,
        ``beat_rows`` (label rows) and ``meta`` (the manifest row).
    """
    # New streams go last: the first ones (and so every earlier choice) stay as they were.
    streams = np.random.SeedSequence([plan.seed, SPLIT_CODES[plan.split], plan.index]).spawn(13)
    (rng, rng_vary, rng_perform, rng_render, rng_pitched, rng_mix, rng_band, rng_amp, rng_voice,
     rng_room, rng_piece, rng_kit_room, rng_parts) = (np.random.default_rng(s) for s in streams)
    duration = plan.seconds
    n_samples = int(round(duration * SAMPLE_RATE))
    specs = kits.kits_for_split(plan.split, plan.kit_family)
    spec = specs[int(rng.choice(len(specs), p=_norm([s.weight for s in specs])))]
    source = _weighted(rng, available_sources(plan.split, plan.gmd_weight))
    pitched_source = ""
    if source == "generator":
        drums_b, style, tempo, bars = groove.generate(rng, duration)
        notes_b = np.zeros((0, 5))
        pattern = f"generator:{style}"
        bpb, length_beats = 4.0, bars * 4.0
    elif source == "mma":
        name = patterns.draw_mma_groove(rng)
        tempo = float(rng.uniform(*MMA_TEMPO_BPM))
        bars = int(math.ceil(duration * tempo / 240.0)) + 1
        score = patterns.mma_score(name, rng, bars, tempo)
        drums_b, notes_b = score.drums, score.notes
        pattern, bpb, length_beats = f"mma:{name}", score.beats_per_bar, score.length_beats
        pitched_source = pattern if len(notes_b) else ""
    else:
        if source in patterns.GMD_SPLITS:
            piece = patterns.draw_gmd_piece(source, rng)
        else:
            pieces = patterns.list_pieces(source)
            piece = pieces[int(rng.integers(len(pieces)))]
        score = patterns.load_piece(source, piece)
        tempo = float(np.clip(score.tempo_bpm * rng.uniform(*TEMPO_FACTOR),
                              groove.MIN_TEMPO_BPM, groove.MAX_TEMPO_BPM))
        need = duration * tempo / 60.0
        drums_b, notes_b = _window(score, need, rng)
        pattern, bpb, length_beats = f"{source}:{piece}", score.beats_per_bar, need
        pitched_source = pattern if len(notes_b) else ""
    need_beats = duration * tempo / 60.0
    if len(notes_b) == 0:
        notes_b, pitched_source = _donor_notes(plan.split, need_beats, tempo, rng_pitched)
    drums_b, variations = groove.vary(
        drums_b, bpb, min(length_beats, need_beats + bpb), rng_vary
    )
    percussion_b = np.zeros((0, 3))
    if rng_parts.random() < plan.absent_probability:
        drums_b, left_out = parts.leave_out_pieces(drums_b, rng_parts)
        if left_out:
            variations.append(left_out)
    if rng_parts.random() < plan.percussion_probability:
        percussion_b, played_part = parts.percussion_part(need_beats, bpb, rng_parts)
        if played_part:
            variations.append(played_part)
    swing, subdivision = 0.5, 0.5
    if rng_perform.random() < P_SWING:
        swing = float(rng_perform.uniform(*SWING_RATIO))
        subdivision = 0.25 if tempo < 110 and rng_perform.random() < 0.5 else 0.5
        variations.append(f"swing{swing:.2f}/{subdivision:g}")
    flams = (
        FLAM_PROBABILITY
        if rng_perform.random() < groove.VARIATION_PROBABILITIES["flams"]
        else 0.0
    )
    if flams:
        variations.append("flams")
    lead = float(rng_perform.uniform(*LEAD_IN_S))
    drums_s, notes_s = groove.perform(
        drums_b, notes_b, tempo, rng_perform, swing, subdivision,
        timing_sd_s=float(rng_perform.uniform(0.002, 0.005)), flam_probability=flams,
    )
    drums_s[:, 0] += lead
    drums_s = drums_s[(drums_s[:, 0] >= 0) & (drums_s[:, 0] < duration - END_MARGIN_S)]
    percussion_s = np.zeros((0, 3))
    if len(percussion_b):
        percussion_s, _ = groove.perform(
            percussion_b, np.zeros((0, 5)), tempo, rng_parts, swing, subdivision,
            timing_sd_s=float(rng_parts.uniform(0.002, 0.008)),
        )
        percussion_s[:, 0] += lead
        percussion_s = percussion_s[(percussion_s[:, 0] >= 0) & (percussion_s[:, 0] < duration)]
    if len(notes_s):
        notes_s[:, :2] += lead
        keep = (notes_s[:, 0] >= 0) & (notes_s[:, 0] < duration - END_MARGIN_S)
        keep &= (notes_s[:, 2] >= PITCH_MIN) & (notes_s[:, 2] <= PITCH_MAX)
        notes_s = notes_s[keep]
        notes_s[:, 1] = np.minimum(notes_s[:, 1], duration)
        notes_s = _remap_programs(notes_s, rng_pitched)
        notes_s, band_layer = band.add_band_layer(notes_s, rng_band, drums_s)
        if band_layer:
            variations.append(band_layer)
            notes_s[:, 1] = np.minimum(notes_s[:, 1], duration)
        notes_s = notes_s[np.lexsort((notes_s[:, 2], notes_s[:, 0]))]

    if spec.kind == "multimic":
        kit, balance = multimic.song_kit(rng_kit_room)
        variations.append(balance)
    else:
        kit = kits.load_kit(spec.name)
    played = sampler.resolve_hits(kit, drums_s)
    characters = None
    if rng_piece.random() < plan.piece_variation:
        characters = sampler.draw_piece_characters(kit, rng_piece)
        variations.append("piece_character")
    percussion = render_percussion(percussion_s, plan.split, n_samples, rng_parts)
    if spec.kind != "multimic" and rng_kit_room.random() < plan.room_probability:
        setup = room.draw_setup(rng_kit_room)
        stems = sampler.render_drums(kit, played, n_samples, rng_render, characters=characters,
                                     stem_of=room.piece_of_note)
        if percussion is not None:
            stems["percussion"] = percussion
        responses = room.piece_responses(setup, seed=int(rng_kit_room.integers(2**31)))
        drums = room.render_in_room(stems, responses, n_samples)
        variations.append(setup.describe())
    else:
        drums = sampler.render_drums(kit, played, n_samples, rng_render, characters=characters)
        if percussion is not None:
            drums += percussion
    fonts = [f for f in synth.PITCHED_SOUNDFONTS if sources.available(f)]
    soundfont = fonts[int(rng_pitched.integers(len(fonts)))] if fonts and len(notes_s) else ""
    rest = None
    if soundfont:
        rest, amps = render_pitched_parts(notes_s, n_samples, soundfont, rng_amp)
        variations.extend(amps)
        rest, notes_s, sung = add_voice(rest, notes_s, rng_voice)
        if sung:
            variations.append(sung)
        if rng_room.random() < BAND_REVERB_PROBABILITY:
            rt60, wet = rng_room.uniform(*BAND_REVERB_RT60_S), rng_room.uniform(*BAND_REVERB_WET)
            rest = augment.reverberate(
                rest, rt60, wet, BAND_REVERB_PRE_DELAY_S, int(rng_room.integers(2**31))
            )
            variations.append(f"band_reverb(rt{rt60:.2f},wet{wet:.2f})")
    drum_rms = float(np.sqrt(np.mean(drums**2))) + 1e-12
    mix_level = float(rng_mix.uniform(*MIX_LEVEL_DB))
    if rest is not None and np.any(rest):
        rest_rms = float(np.sqrt(np.mean(rest**2))) + 1e-12
        rest *= np.float32(drum_rms / rest_rms * 10 ** (-mix_level / 20))
        mix = drums + rest
    else:
        mix, mix_level, notes_s = drums.copy(), float("nan"), np.zeros((0, 5))
    chain = augment.draw(rng_mix, plan.augment)
    noise_rms = float(np.sqrt(np.mean(mix**2)))
    mix_out = augment.apply(chain, mix, noise_rms)
    drums_out = augment.apply(chain, drums, noise_rms)
    gain = np.float32(augment.peak_gain(mix_out, chain.peak_dbfs))
    mix_out *= gain
    drums_out *= gain
    drum_peak = float(np.max(np.abs(drums_out))) if drums_out.size else 0.0
    if drum_peak > 0.999:
        drums_out *= np.float32(0.999 / drum_peak)

    drum_rows = sampler.label_rows(played)
    note_rows = [
        (float(a), float(b), int(p), int(v), int(g)) for a, b, p, v, g in notes_s
    ]
    label_bpb = label_beats_per_bar(bpb)
    beat_rows = beat_grid(tempo, label_bpb, lead, duration)
    meta = {
        "id": plan.song_id,
        "split": plan.split,
        "seconds": duration,
        "tempo": round(tempo, 3),
        "kit": spec.name,
        "kit_family": spec.family,
        "pattern_source": source,
        "mix_level_db": None if math.isnan(mix_level) else round(mix_level, 2),
        "augmentations": chain.describe(),
        "seed": plan.seed,
        "pattern": pattern,
        "variations": ";".join(variations),
        "pitched_source": pitched_source,
        "soundfont": soundfont,
        "n_drum_hits": len(drum_rows),
        "n_notes": len(note_rows),
        "beats_per_bar": label_bpb,
        "score_beats_per_bar": round(float(bpb), 3),
        "lead_s": round(lead, LABEL_DECIMALS),
        "n_beats": len(beat_rows),
    }
    return {"mix": mix_out, "drums": drums_out, "drum_rows": drum_rows, "note_rows": note_rows,
            "beat_rows": beat_rows, "meta": meta}


def render_percussion(hits: np.ndarray, split: str, n_samples: int, rng: np.random.Generator
                      ) -> np.ndarray | None:
    """Render a percussion part (:func:`parts.percussion_part`) on the split's donor kit.

    Returns None when there is nothing to play or no donor kit is installed. The hits are
    never labelled: they are not GM notes of a drum class.
    """
    if len(hits) == 0:
        return None
    donor = PERCUSSION_DONOR_KITS[split]
    if not sources.available(kits.KIT_BY_NAME[donor].source):
        return None
    kit = kits.load_kit(donor)
    playable = sampler.resolve_hits(kit, hits)
    if len(playable) == 0:
        return None
    return sampler.render_drums(kit, playable, n_samples, rng)


def add_voice(
    rest: np.ndarray, notes: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, str]:
    """Maybe add a sung lead (:mod:`data_prep.voice`) to the rendered pitched parts.

    Returns the parts, the note labels (with the sung notes added) and the voice's
    description for the manifest (empty when the song has no voice).
    """
    setting = voice.draw(rng)
    if setting is None or not np.any(rest):
        return rest, notes, ""
    sung_audio, sung = voice.sing(notes, len(rest), setting, rng)
    if not np.any(sung_audio):
        return rest, notes, ""
    rest_rms = float(np.sqrt(np.mean(rest**2)))
    rest = rest + sung_audio * np.float32(rest_rms * 10 ** (setting.level_db / 20))
    notes = np.concatenate([notes, sung])
    return rest, notes[np.lexsort((notes[:, 2], notes[:, 0]))], setting.describe()


def render_pitched_parts(
    notes: np.ndarray, n_samples: int, soundfont: str, rng: np.random.Generator
) -> tuple[np.ndarray, list[str]]:
    """Render the pitched notes, maybe sending the guitars and the basses through an amp.

    Parameters
    ----------
    notes : numpy.ndarray, shape (n, 5)
        Onset seconds, offset seconds, MIDI pitch, velocity, program.
    n_samples : int
    soundfont : str
        Key of :data:`sources.SOURCES`.
    rng : numpy.random.Generator

    Returns
    -------
    audio : numpy.ndarray, shape (n_samples,), float32
    descriptions : list of str
        One :meth:`amp.Amp.describe` text per amped part, for the manifest's variations.
    """
    programs = notes[:, 4].astype(int)
    amped, descriptions = [], []
    for name, family, probability in (
        ("guitar", amp.GUITAR_PROGRAMS, amp.P_GUITAR_AMP),
        ("bass", amp.BASS_PROGRAMS, amp.P_BASS_AMP),
    ):
        in_family = np.isin(programs, sorted(family))
        if in_family.any() and rng.random() < probability:
            setting = amp.draw(rng, bass=name == "bass")
            amped.append((in_family, setting))
            descriptions.append(setting.describe(name))
    clean = np.ones(len(notes), dtype=bool)
    for in_family, _ in amped:
        clean &= ~in_family
    audio = synth.render_pitched(notes[clean], n_samples, soundfont)
    for in_family, setting in amped:
        part = synth.render_pitched(notes[in_family], n_samples, soundfont)
        audio += amp.distort(part, setting)
    return audio, descriptions


def _norm(weights: list[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return w / w.sum()


# ----------------------------------------------------------------------------- writing


def _write_flac(path: Path, audio: np.ndarray) -> None:
    tmp = path.with_name(path.name + ".part")
    sf.write(tmp, np.clip(audio, -1.0, 1.0), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    os.replace(tmp, path)


def _write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(text)
    os.replace(tmp, path)


def format_drum_labels(rows) -> str:
    """TSV text of drum labels (header + one hit per line)."""
    lines = ["\t".join(DRUM_HEADER)]
    lines += [f"{t:.{LABEL_DECIMALS}f}\t{gm}\t{cls}\t{v}" for t, gm, cls, v in rows]
    return "\n".join(lines) + "\n"


def format_note_labels(rows) -> str:
    """TSV text of pitched-note labels (header + one note per line)."""
    lines = ["\t".join(NOTE_HEADER)]
    digits = LABEL_DECIMALS
    lines += [f"{a:.{digits}f}\t{b:.{digits}f}\t{p}\t{v}\t{g}" for a, b, p, v, g in rows]
    return "\n".join(lines) + "\n"


def format_beat_labels(rows) -> str:
    """TSV text of beat labels (header + one beat per line; position 1 = downbeat)."""
    lines = ["\t".join(BEAT_HEADER)]
    lines += [f"{t:.{LABEL_DECIMALS}f}\t{position}" for t, position in rows]
    return "\n".join(lines) + "\n"


def song_done(out: Path, sid: str) -> bool:
    """Whether a song was completely written."""
    return (out / ".parts" / f"{sid}.json").exists()


def write_song(out: Path, song: dict) -> None:
    """Write one song's files; the ``.parts`` record last (it marks the song as done)."""
    sid = song["meta"]["id"]
    _write_flac(out / "audio" / f"{sid}.mix.flac", song["mix"])
    _write_flac(out / "audio" / f"{sid}.drums.flac", song["drums"])
    _write_text(out / "labels" / f"{sid}.notes.tsv", format_note_labels(song["note_rows"]))
    _write_text(out / "labels" / f"{sid}.drums.tsv", format_drum_labels(song["drum_rows"]))
    _write_text(out / "labels" / f"{sid}.beats.tsv", format_beat_labels(song["beat_rows"]))
    _write_text(out / ".parts" / f"{sid}.json", json.dumps(song["meta"], sort_keys=True) + "\n")


def render_plan(plan: SongPlan) -> float:
    """Worker entry point: render and write one song; returns its length in seconds."""
    out = Path(plan.out)
    if song_done(out, plan.song_id):
        return 0.0
    write_song(out, make_song(plan))
    return plan.seconds
