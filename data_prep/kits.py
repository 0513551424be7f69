"""Drum kits as one-shot samplers: Hydrogen kits and SF2 kits, played by one NumPy sampler.

A :class:`Kit` maps General MIDI notes to instruments; an instrument has velocity layers, each a
mono one-shot at :data:`SAMPLE_RATE` whose leading silence is trimmed, so that a sample placed at
sample ``k`` is heard from sample ``k`` (labels sit on the audio). SF2 kits are turned into
one-shots by rendering every note at a few velocities with fluidsynth once per process.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from drumtx.features import SAMPLE_RATE
from drumtx.vocab import (
    AVL_KIT_NOTE_TO_GM,
    DRUM_BY_NAME,
    GM_DISTRACTOR_NOTES,
    GM_TO_CLASS,
    HYDROGEN_KIT_OVERRIDES,
    HYDROGEN_NAME_RULES,
    ONE_SHOT_NAME_RULES,
)

from . import sources

ONSET_THRESHOLD_DB = -36.0
"""Leading samples quieter than this (relative to the one-shot's peak) are trimmed."""
ONSET_MARGIN_S = 0.0005
"""Samples kept before the first sample above the threshold."""
ENVELOPE_FRAME_S = 0.0005
ATTACK_FRACTION = 0.1
"""The heard onset: the 0.5-ms RMS envelope first reaches this fraction of its maximum (-20 dB)."""
ATTACK_LEAD_S = 0.002
"""At most this much sound is kept before the heard onset."""
FADE_IN_S = 0.0003
MAX_SAMPLE_S = 4.0
"""One-shots are cut (with a fade-out) at this length."""
TAIL_FADE_S = 0.05
TAIL_SILENCE_DB = -70.0
"""Trailing samples quieter than this (relative to peak) are dropped."""
CHOKE_FADE_S = 0.008
"""Fade applied when a hi-hat hit is choked by the next hi-hat hit."""
SF2_VELOCITIES: tuple[int, ...] = (20, 45, 70, 95, 127)
"""Velocities at which SF2 kit notes are rendered into velocity layers."""
SF2_NOTE_S = 3.0
"""Rendered length of one SF2 one-shot (note-off after :data:`SF2_NOTE_OFF_S`)."""
SF2_NOTE_OFF_S = 1.5
SF2_GAIN = 0.8
VELOCITY_EXPONENT = 1.3
"""The sampler plays a layer at amplitude ``(velocity / 127) ** VELOCITY_EXPONENT``."""

HIHAT_CLASSES = ("CHH", "PHH", "OHH")
HIHAT_NOTES: frozenset[int] = frozenset(n for c in HIHAT_CLASSES for n in DRUM_BY_NAME[c].gm_notes)
"""GM notes of the hi-hat, which choke each other."""

CLASS_FALLBACKS: dict[str, tuple[str, ...]] = {
    "HT": ("MT", "LT"),
    "MT": ("HT", "LT"),
    "LT": ("MT", "HT"),
    "RB": ("RD",),
    "CS": ("CR",),
}
"""When a kit lacks a class, the hit is played on the first of these it has (and labelled as it)."""

PLAYABLE_NOTES: tuple[int, ...] = tuple(sorted(set(GM_TO_CLASS) | set(GM_DISTRACTOR_NOTES)))


@dataclass
class Layer:
    """One velocity layer: a one-shot played for velocities in ``[low, high]`` (0..1)."""

    low: float
    high: float
    gain: float
    samples: np.ndarray  # shape (n,), float32, SAMPLE_RATE


@dataclass
class Instrument:
    """One sound of a kit (e.g. "Snare Rimshot") with its velocity layers."""

    name: str
    gain: float
    layers: list[Layer]

    def layer_for(self, velocity: float) -> Layer:
        """The layer for a velocity in 0..1 (nearest range if none contains it)."""
        for layer in self.layers:
            if layer.low <= velocity <= layer.high:
                return layer
        centres = [abs((layer.low + layer.high) / 2 - velocity) for layer in self.layers]
        return self.layers[int(np.argmin(centres))]


@dataclass
class Kit:
    """A playable drum kit: GM note -> instruments (alternatives, e.g. two snares)."""

    name: str
    family: str
    instruments: dict[int, list[Instrument]] = field(default_factory=dict)

    def classes(self) -> set[str]:
        """Drum classes the kit can play."""
        return {GM_TO_CLASS[n] for n in self.instruments if n in GM_TO_CLASS}

    def resolve(self, gm_note: int) -> int | None:
        """GM note actually played for a requested GM note, or None if the kit cannot play it.

        Tries the note, the other notes of its class, then the class fallbacks
        (:data:`CLASS_FALLBACKS`); distractor notes are played only if present.
        """
        if gm_note in self.instruments:
            return gm_note
        cls = GM_TO_CLASS.get(gm_note)
        if cls is None:
            return None
        for candidate_cls in (cls, *CLASS_FALLBACKS.get(cls, ())):
            for note in DRUM_BY_NAME[candidate_cls].gm_notes:
                if note in self.instruments:
                    return note
        return None


def _to_mono_44k(audio: np.ndarray, rate: int) -> np.ndarray:
    """Mono float32 at SAMPLE_RATE; shape (n,)."""
    if audio.ndim == 2:
        audio = audio.mean(axis=1)
    audio = audio.astype(np.float32)
    if rate != SAMPLE_RATE:
        import librosa

        audio = librosa.resample(audio, orig_sr=rate, target_sr=SAMPLE_RATE).astype(np.float32)
    return audio


def envelope(audio: np.ndarray, frame_s: float = ENVELOPE_FRAME_S) -> np.ndarray:
    """RMS envelope in frames of ``frame_s`` seconds; shape (n_frames,)."""
    frame = max(1, int(frame_s * SAMPLE_RATE))
    n = len(audio) // frame
    return np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1))


def trim_one_shot(audio: np.ndarray) -> np.ndarray:
    """Trim a one-shot so that its onset is at sample 0, and drop silent tails.

    The start is the later of (a) the first sample above :data:`ONSET_THRESHOLD_DB` re peak and
    (b) :data:`ATTACK_LEAD_S` before the envelope first reaches :data:`ATTACK_FRACTION` of its
    maximum (so faint pre-noise, e.g. a slowly closing pedal hi-hat, does not delay the heard
    onset); a short fade-in avoids a click where sound is cut.

    Parameters
    ----------
    audio : numpy.ndarray, shape (n,), float32

    Returns
    -------
    numpy.ndarray, shape (m,), float32 (empty if the input is silent)
    """
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak <= 0.0:
        return np.zeros(0, dtype=np.float32)
    loud = np.flatnonzero(np.abs(audio) >= peak * 10 ** (ONSET_THRESHOLD_DB / 20))
    start = max(0, int(loud[0]) - int(ONSET_MARGIN_S * SAMPLE_RATE))
    env = envelope(audio)
    if env.size and env.max() > 0:
        frame = max(1, int(ENVELOPE_FRAME_S * SAMPLE_RATE))
        attack = int(np.argmax(env >= ATTACK_FRACTION * env.max())) * frame
        start = max(start, attack - int(ATTACK_LEAD_S * SAMPLE_RATE))
    audible = np.flatnonzero(np.abs(audio) >= peak * 10 ** (TAIL_SILENCE_DB / 20))
    stop = min(int(audible[-1]) + 1, start + int(MAX_SAMPLE_S * SAMPLE_RATE))
    out = audio[start:stop].copy()
    fade = min(len(out), int(TAIL_FADE_S * SAMPLE_RATE))
    if stop - start >= int(MAX_SAMPLE_S * SAMPLE_RATE) and fade:
        out[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    fade_in = min(len(out), int(FADE_IN_S * SAMPLE_RATE))
    if fade_in:
        out[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False, dtype=np.float32) ** 0.5
    return out


@lru_cache(maxsize=4096)
def _load_sample(path: str) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32", always_2d=False)
    return trim_one_shot(_to_mono_44k(audio, rate))


# ----------------------------------------------------------------------------- Hydrogen kits


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    for c in element:
        if _local(c.tag) == name:
            return c
    return None


def _text(element: ET.Element, name: str, default: str = "") -> str:
    c = _child(element, name)
    return c.text.strip() if c is not None and c.text else default


def hydrogen_gm_note(kit_name: str, instrument_name: str) -> int | None:
    """GM note of a Hydrogen kit instrument, by name (vocab's rules and per-kit overrides)."""
    overrides = HYDROGEN_KIT_OVERRIDES.get(kit_name, {})
    if instrument_name in overrides:
        return overrides[instrument_name]
    lower = instrument_name.lower().strip()
    for pattern, note in HYDROGEN_NAME_RULES:
        if re.search(pattern, lower):
            return note
    return None


LayerFile = tuple[str, float, float, float]


def hydrogen_instruments(kit_dir: Path) -> list[tuple[str, float, list[LayerFile]]]:
    """Parse a Hydrogen ``drumkit.xml``.

    Returns
    -------
    list of (instrument name, gain, [(sample path, min velocity, max velocity, layer gain)])
        Velocities are 0..1; instruments without samples are left out.
    """
    root = ET.parse(kit_dir / "drumkit.xml").getroot()
    out = []
    for inst in root.iter():
        if _local(inst.tag) != "instrument":
            continue
        name = _text(inst, "name")
        gain = float(_text(inst, "gain", "1") or 1) * float(_text(inst, "volume", "1") or 1)
        layers = []
        for layer in inst.iter():
            if _local(layer.tag) == "layer":
                filename = _text(layer, "filename")
                if filename:
                    layers.append((
                        str(kit_dir / filename),
                        float(_text(layer, "min", "0")),
                        float(_text(layer, "max", "1")),
                        float(_text(layer, "gain", "1")),
                    ))
        if not layers and _text(inst, "filename"):
            layers.append((str(kit_dir / _text(inst, "filename")), 0.0, 1.0, 1.0))
        layers = [la for la in layers if Path(la[0]).exists()]
        if name and layers:
            out.append((name, gain, layers))
    return out


def hydrogen_kit_map(kit_name: str) -> dict[str, int | None]:
    """Instrument name -> GM note for an installed Hydrogen kit (for checking the mapping)."""
    kit_dir = sources.require("hydrogen_kits") / kit_name
    return {name: hydrogen_gm_note(kit_name, name) for name, _, _ in hydrogen_instruments(kit_dir)}


def load_hydrogen_kit(kit_name: str, family: str, root: Path | None = None) -> Kit:
    """Load a Hydrogen kit from ``root/kit_name`` (default: the hydrogen-drumkits directory)."""
    root = root or sources.require("hydrogen_kits")
    kit = Kit(kit_name, family)
    for name, gain, layers in hydrogen_instruments(root / kit_name):
        note = hydrogen_gm_note(kit_name, name)
        if note is None or note not in PLAYABLE_NOTES:
            continue
        loaded = [Layer(lo, hi, g, _load_sample(path)) for path, lo, hi, g in layers]
        loaded = [layer for layer in loaded if layer.samples.size > 0]
        if loaded:
            kit.instruments.setdefault(note, []).append(Instrument(name, gain, loaded))
    return kit


# ----------------------------------------------------------------------------- SF2 kits


def render_sf2_note(synth, note: int, velocity: int) -> np.ndarray:
    """Render one percussion note on channel 10 of a pyfluidsynth synth; mono float32 (n,)."""
    from drumtx.vocab import DRUM_MIDI_CHANNEL

    n_on = int(SF2_NOTE_OFF_S * SAMPLE_RATE)
    n_total = int(SF2_NOTE_S * SAMPLE_RATE)
    synth.noteon(DRUM_MIDI_CHANNEL, note, velocity)
    first = synth.get_samples(n_on)
    synth.noteoff(DRUM_MIDI_CHANNEL, note)
    second = synth.get_samples(n_total - n_on)
    synth.all_sounds_off(DRUM_MIDI_CHANNEL)
    synth.get_samples(4096)
    stereo = np.concatenate([first, second]).astype(np.float32).reshape(-1, 2) / 32768.0
    return stereo.mean(axis=1)


def load_sf2_kit(
    name: str,
    family: str,
    sf2_path: Path,
    bank: int,
    preset: int,
    note_to_gm: dict[int, int] | None = None,
) -> Kit:
    """Render an SF2 drum preset into a one-shot kit.

    Parameters
    ----------
    note_to_gm : dict, optional
        The kit's note -> GM note (non-GM kits such as AVL); default: the GM map (identity).
    """
    from .synth import new_synth

    synth = new_synth(SF2_GAIN)
    sfid = synth.sfload(str(sf2_path))
    from drumtx.vocab import DRUM_MIDI_CHANNEL

    synth.program_select(DRUM_MIDI_CHANNEL, sfid, bank, preset)
    mapping = note_to_gm or {n: n for n in PLAYABLE_NOTES}
    kit = Kit(name, family)
    bounds = np.concatenate([[0], (np.array(SF2_VELOCITIES[:-1]) + SF2_VELOCITIES[1:]) / 2, [127]])
    for kit_note, gm in sorted(mapping.items()):
        if gm not in PLAYABLE_NOTES:
            continue
        layers = []
        for i, velocity in enumerate(SF2_VELOCITIES):
            samples = trim_one_shot(render_sf2_note(synth, kit_note, velocity))
            if samples.size:
                layers.append(Layer(bounds[i] / 127, bounds[i + 1] / 127, 1.0, samples))
        if len(layers) == len(SF2_VELOCITIES):
            # velocity is already in the rendering: undo the sampler's linear velocity gain
            for layer, velocity in zip(layers, SF2_VELOCITIES, strict=True):
                layer.gain = (127.0 / velocity) ** VELOCITY_EXPONENT
            kit.instruments.setdefault(gm, []).append(Instrument(f"note {kit_note}", 1.0, layers))
    synth.delete()
    return kit


# ----------------------------------------------------------------------------- one-shot kits

ONE_SHOT_SOURCES: tuple[str, ...] = ("sonic_pi_samples", "lmms_drums")
ONE_SHOT_SUFFIXES = (".flac", ".wav", ".ogg")


def one_shot_gm_note(file_name: str) -> int | None:
    """GM note of a one-shot sample file, by name (vocab's :data:`ONE_SHOT_NAME_RULES`)."""
    lower = file_name.lower()
    for pattern, note in ONE_SHOT_NAME_RULES:
        if re.search(pattern, lower):
            return note
    return None


def load_one_shot_kit(name: str, family: str) -> Kit:
    """A kit holding every one-shot of the installed libraries as alternatives per GM note.

    The sampler picks one alternative per note and song, so each song plays a randomly
    assembled kit.
    """
    kit = Kit(name, family)
    for source in ONE_SHOT_SOURCES:
        if not sources.available(source):
            continue
        for path in sorted(sources.SOURCES[source].path.iterdir()):
            note = one_shot_gm_note(path.name)
            if path.suffix.lower() not in ONE_SHOT_SUFFIXES or note not in PLAYABLE_NOTES:
                continue
            try:
                samples = _load_sample(str(path))
            except (sf.LibsndfileError, RuntimeError):
                continue  # a malformed file in the library
            if samples.size:
                instrument = Instrument(path.stem, 1.0, [Layer(0.0, 1.0, 1.0, samples)])
                kit.instruments.setdefault(note, []).append(instrument)
    return kit


# ----------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class KitSpec:
    """How to load one kit, its sample family and split."""

    name: str
    family: str
    split: str
    kind: str  # "hydrogen", "sf2", "oneshot" or "multimic" (see data_prep.multimic)
    source: str = "hydrogen_kits"  # key in sources.SOURCES
    bank: int = 128
    preset: int = 0
    avl_map: bool = False
    weight: float = 1.0


def _hydrogen(name: str, family: str, split: str, weight: float = 1.0) -> KitSpec:
    return KitSpec(name, family, split, "hydrogen", weight=weight)


FLUID_PRESETS: dict[int, str] = {
    0: "Standard", 1: "Standard 1", 2: "Standard 2", 3: "Standard 3", 8: "Room", 9: "Room 1",
    10: "Room 2", 16: "Power", 17: "Power 1", 24: "Electronic", 25: "TR-808", 32: "Jazz",
    33: "Jazz 1", 40: "Brush", 41: "Brush 1",
}
"""FluidR3 drum presets used (bank 128); the numbered variants share most samples."""
TIM_PRESETS: dict[int, str] = {
    0: "Standard", 8: "Room", 16: "Power", 24: "Electronic", 25: "TR 808", 32: "Jazz", 40: "Brush",
}
MUSESCORE_PRESETS: dict[int, str] = {0: "Standard", 8: "Room", 16: "Power", 32: "Jazz", 40: "Brush"}

KITS: tuple[KitSpec, ...] = (
    # test
    _hydrogen("BJA_Pacific", "BJA_Pacific", "test"),
    _hydrogen("Audiophob", "Audiophob", "test"),
    # validation
    _hydrogen("ColomboAcousticDrumkit", "Colombo", "val"),
    _hydrogen("Millo-Drums_v.1", "Millo", "val"),
    _hydrogen("Millo_MultiLayered2", "Millo", "val"),
    _hydrogen("Millo_MultiLayered3", "Millo", "val"),
    # train: Hydrogen kits
    _hydrogen("ForzeeStereo", "ForzeeStereo", "train", 3.0),
    _hydrogen("GMRockKit", "BlackPearl", "train", 2.0),
    _hydrogen("The Black Pearl 1.0", "BlackPearl", "train", 2.0),
    _hydrogen("rumpf_kit_z01_h2", "rumpf", "train", 1.5),
    _hydrogen("ElectricEmpireKit", "ElectricEmpire", "train", 0.5),
    _hydrogen("HardElectro1", "HardElectro", "train", 0.5),
    _hydrogen("TR808EmulationKit", "TR808", "train", 0.5),
    _hydrogen("VariBreaks", "VariBreaks", "train", 0.7),
    # train: SF2 kits
    KitSpec("AVL Black Pearl", "BlackPearl", "train", "sf2", "avl_black_pearl_sf2", 0, 0, True,
            2.0),
    KitSpec("AVL Red Zeppelin", "BlackPearl", "train", "sf2", "avl_red_zeppelin_sf2", 0, 0, True,
            2.0),
    *(KitSpec(f"FluidR3 {name}", "Fluid", "train", "sf2", "fluid_sf2", 128, p, weight=0.4)
      for p, name in FLUID_PRESETS.items()),
    *(KitSpec(f"MuseScore {name}", "Fluid", "train", "sf2", "musescore_sf3", 128, p, weight=0.4)
      for p, name in MUSESCORE_PRESETS.items()),
    *(KitSpec(f"TimGM6mb {name}", "TimGM6mb", "train", "sf2", "timgm6mb_sf2", 128, p, weight=0.6)
      for p, name in TIM_PRESETS.items()),
    # train: random kits assembled per song from one-shot libraries
    KitSpec("One-shots (sonic-pi, LMMS)", "OneShot", "train", "oneshot", "sonic_pi_samples",
            weight=2.0),
    # held out of every split by default: a real kit on 16 microphones, chosen with kit_family
    KitSpec("MuldjordKit", "Muldjord", "heldout", "multimic", "muldjord_kit"),
)
"""Every kit with its family and split (test/val kit families never appear in training)."""

KIT_BY_NAME: dict[str, KitSpec] = {spec.name: spec for spec in KITS}
KIT_FAMILIES: tuple[str, ...] = tuple(sorted({spec.family for spec in KITS}))
"""Every sample family of :data:`KITS`."""


def kits_for_split(split: str, family: str | None = None) -> list[KitSpec]:
    """Kit specs of a split whose source is installed.

    With ``family``, the kits of that sample family instead, whatever their split (e.g. the
    held-out ``"Muldjord"`` kit for a validation build).
    """
    out = []
    if family is not None and family not in KIT_FAMILIES:
        raise ValueError(f"unknown kit family {family!r} (one of {', '.join(KIT_FAMILIES)})")
    for spec in KITS:
        if (spec.split != split) if family is None else (spec.family != family):
            continue
        if spec.kind == "hydrogen":
            root = sources.SOURCES["hydrogen_kits"].path
            if not (root / spec.name / "drumkit.xml").exists():
                continue
        elif spec.kind == "oneshot":
            if not any(sources.available(s) for s in ONE_SHOT_SOURCES):
                continue
        elif not sources.available(spec.source):
            continue
        out.append(spec)
    if not out:
        # no kit at all: name the package (or the download) that provides them
        if family is not None:
            sources.require(next(s.source for s in KITS if s.family == family))
        sources.require("hydrogen_kits")
        raise sources.SourceMissingError(f"no drum kit installed for split '{split}'")
    return out


@lru_cache(maxsize=64)
def load_kit(name: str) -> Kit:
    """Load (once per process) the kit called ``name`` in :data:`KITS`."""
    spec = KIT_BY_NAME[name]
    if spec.kind == "hydrogen":
        return load_hydrogen_kit(spec.name, spec.family)
    if spec.kind == "oneshot":
        return load_one_shot_kit(spec.name, spec.family)
    path = sources.require(spec.source)
    mapping = AVL_KIT_NOTE_TO_GM if spec.avl_map else None
    return load_sf2_kit(spec.name, spec.family, path, spec.bank, spec.preset, mapping)
