"""The vocabulary: the 13 drum classes, their General MIDI notes and notation, the pitched range.

This module is the single place where General MIDI drum note numbers are spelled.
Everything else refers to drum classes by name (``"KD"``, ``"SD"``, ...) or by their
index in :data:`DRUM_CLASSES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DrumClass:
    """One transcribed drum class.

    Attributes
    ----------
    name : str
        Short label, e.g. ``"KD"``.
    description : str
        Human-readable name.
    gm_notes : tuple of int
        General MIDI percussion notes merged into this class.
    written_note : int
        The GM note written to MIDI and scores for this class.
    staff_line : int
        MuseScore drum-staff line (0 = top staff line, +1 per half space downwards).
    notehead : str
        MuseScore notehead group name (``"normal"``, ``"cross"``, ``"xcircle"``, ``"diamond"``).
    voice : int
        0 for hands (stems up), 1 for feet (stems down).
    """

    name: str
    description: str
    gm_notes: tuple[int, ...]
    written_note: int
    staff_line: int
    notehead: str
    voice: int

    @property
    def stem_up(self) -> bool:
        """Whether notes of this class are written with stems up (hands)."""
        return self.voice == 0


HANDS_VOICE = 0
FEET_VOICE = 1

DRUMS: tuple[DrumClass, ...] = (
    DrumClass("KD", "kick", (35, 36), 36, 7, "normal", FEET_VOICE),
    DrumClass("SD", "snare", (38, 40), 38, 3, "normal", HANDS_VOICE),
    DrumClass("SS", "side stick", (37,), 37, 3, "cross", HANDS_VOICE),
    DrumClass("CHH", "closed hi-hat", (42,), 42, -1, "cross", HANDS_VOICE),
    DrumClass("PHH", "pedal hi-hat", (44,), 44, 9, "cross", FEET_VOICE),
    DrumClass("OHH", "open hi-hat", (46,), 46, -1, "xcircle", HANDS_VOICE),
    DrumClass("HT", "high tom", (48, 50), 48, 0, "normal", HANDS_VOICE),
    DrumClass("MT", "mid tom", (45, 47), 45, 2, "normal", HANDS_VOICE),
    DrumClass("LT", "floor tom", (41, 43), 43, 5, "normal", HANDS_VOICE),
    DrumClass("CR", "crash", (49, 57), 49, -2, "cross", HANDS_VOICE),
    DrumClass("RD", "ride", (51, 59), 51, 0, "cross", HANDS_VOICE),
    DrumClass("RB", "ride bell", (53,), 53, 0, "diamond", HANDS_VOICE),
    DrumClass("CS", "china / splash", (52, 55), 52, -3, "cross", HANDS_VOICE),
)

DRUM_CLASSES: tuple[str, ...] = tuple(drum.name for drum in DRUMS)
"""Class names in model-output order."""

N_DRUM_CLASSES = len(DRUM_CLASSES)

DRUM_BY_NAME: dict[str, DrumClass] = {drum.name: drum for drum in DRUMS}

GM_TO_CLASS: dict[int, str] = {note: drum.name for drum in DRUMS for note in drum.gm_notes}
"""General MIDI percussion note -> class name; notes not listed are not transcribed."""

CLASS_INDEX: dict[str, int] = {name: index for index, name in enumerate(DRUM_CLASSES)}

# Coarser class sets used in evaluation (the usual ADT protocols).
FIVE_CLASS_MAP: dict[str, str] = {
    "KD": "BD",
    "SD": "SD",
    "SS": "SD",
    "HT": "TT",
    "MT": "TT",
    "LT": "TT",
    "CHH": "HH",
    "PHH": "HH",
    "OHH": "HH",
    "CR": "CY+RD",
    "RD": "CY+RD",
    "RB": "CY+RD",
    "CS": "CY+RD",
}
"""13 classes -> the 5-class protocol (BD, SD incl. side stick, TT, HH, CY+RD)."""

THREE_CLASS_MAP: dict[str, str] = {
    "KD": "BD",
    "SD": "SD",
    "SS": "SD",
    "CHH": "HH",
    "PHH": "HH",
    "OHH": "HH",
}
"""13 classes -> the 3-class protocol (BD, SD, HH); other classes are left out."""

def coarse_members(group: str, class_map: dict[str, str] = FIVE_CLASS_MAP) -> tuple[str, ...]:
    """The 13-class names a coarse class stands for, in :data:`DRUM_CLASSES` order.

    Examples
    --------
    >>> coarse_members("HH")
    ('CHH', 'PHH', 'OHH')
    """
    return tuple(name for name, coarse in class_map.items() if coarse == group)


CLASS_MAPS: dict[int, dict[str, str]] = {
    13: {name: name for name in DRUM_CLASSES},
    5: FIVE_CLASS_MAP,
    3: THREE_CLASS_MAP,
}

# Pitched transcription range: the 88 piano keys.
PITCH_MIN = 21
PITCH_MAX = 108
N_PITCHES = PITCH_MAX - PITCH_MIN + 1

DRUM_MIDI_CHANNEL = 9
"""Zero-based MIDI channel of General MIDI percussion (channel 10)."""


def class_of_gm_note(note: int) -> str | None:
    """Return the drum class of a General MIDI percussion note, or ``None`` if not transcribed.

    Examples
    --------
    >>> class_of_gm_note(35)
    'KD'
    >>> class_of_gm_note(54) is None
    True
    """
    return GM_TO_CLASS.get(int(note))


def class_of_label(label: str | int) -> str | None:
    """Map an annotation label to a drum class.

    Accepts a class name (``"KD"``), a GM note number (``36`` or ``"36"``) or a
    common dataset label (MDB Drums subclass labels such as ``"SDG"`` or ``"RDC"``).
    Returns ``None`` for labels outside the 13 classes.
    """
    text = str(label).strip()
    if text.lstrip("-").isdigit():
        return class_of_gm_note(int(text))
    upper = text.upper()
    if upper in DRUM_BY_NAME:
        return upper
    return DATASET_LABELS.get(upper)


DATASET_LABELS: dict[str, str] = {
    # MDB Drums subclass labels
    "SDB": "SD",
    "SDD": "SD",
    "SDF": "SD",
    "SDG": "SD",
    "SDNS": "SD",
    "SST": "SS",
    "OHH": "OHH",
    "CHH": "CHH",
    "PHH": "PHH",
    "HIT": "HT",
    "MHT": "MT",
    "HFT": "LT",
    "LFT": "LT",
    "RDC": "RD",
    "RDB": "RB",
    "CRC": "CR",
    "CHC": "CS",
    "SPC": "CS",
    # common short names
    "BD": "KD",
    "HH": "CHH",
    "TT": "MT",
    "CY": "CR",
}
"""Dataset annotation labels -> drum class."""


def pitch_index(midi_pitch: int) -> int:
    """Index of a MIDI pitch in the 88-key pitched heads (0 for A0 = 21)."""
    return int(midi_pitch) - PITCH_MIN


# Source note maps
# ----------------
# How the drum sources used to build training data spell their sounds, normalised to General MIDI.
# Only GM notes listed in GM_TO_CLASS are labelled; the others (clap, cowbell, tambourine, ...) are
# played as unlabelled distractors where a kit has them.

GM_DISTRACTOR_NOTES: tuple[int, ...] = (39, 54, 56, 63, 64, 67, 68, 69, 70, 75, 76, 77)
"""GM percussion notes outside the 13 classes that may sound in a song (clap, tambourine, cowbell,
congas, agogo, cabasa, maracas, claves, wood blocks); never labelled."""

AVL_KIT_NOTE_TO_GM: dict[int, int] = {
    36: 36,  # kick
    37: 37,  # side stick
    38: 38,  # snare centre
    39: 39,  # hand clap
    40: 40,  # snare edge
    41: 41,  # floor tom centre
    42: 42,  # closed hi-hat
    43: 41,  # floor tom again (not GM's high floor tom)
    44: 44,  # pedal hi-hat
    45: 48,  # rack tom centre (a 4-piece kit's only rack tom)
    46: 46,  # semi-open hi-hat
    47: 48,  # rack tom edge
    49: 49,  # crash
    51: 51,  # ride tip
    53: 53,  # ride bell
    54: 54,  # tambourine
    55: 55,  # splash
    56: 56,  # cowbell
    57: 57,  # crash 2
    59: 59,  # ride shank
}
"""AVL drumkits (avldrums.lv2 Black Pearl / Red Zeppelin SF2) note -> GM note. Not the GM map:
48 is a hi-hat swish, 50/52/58 are cymbal chokes, 60 an extra cymbal, 64 a maraca (all left out)."""

TD11_NOTE_TO_GM: dict[int, int] = {
    36: 36,  # kick
    38: 38,  # snare head
    40: 38,  # snare rim (rimshot)
    37: 37,  # snare cross-stick
    48: 50,  # tom 1 head
    50: 50,  # tom 1 rim
    45: 47,  # tom 2 head
    47: 47,  # tom 2 rim
    43: 43,  # tom 3 (floor) head
    58: 43,  # tom 3 rim
    46: 46,  # hi-hat open, bow
    26: 46,  # hi-hat open, edge
    42: 42,  # hi-hat closed, bow
    22: 42,  # hi-hat closed, edge
    44: 44,  # hi-hat pedal
    49: 49,  # crash 1, bow
    55: 49,  # crash 1, edge (not GM's splash)
    57: 57,  # crash 2, bow
    52: 57,  # crash 2, edge (not GM's china)
    51: 51,  # ride, bow
    59: 59,  # ride, edge
    53: 53,  # ride, bell
}
"""Roland TD-11 note (the Groove MIDI Dataset's map) -> GM note, as the dataset's authors map it.
Every note the dataset's 1,150 files play is listed (22 notes); a file with any other note is
refused by :func:`data_prep.patterns.score_from_midi`'s ``note_map`` check."""

MULDJORD_PIECE_TO_GM: dict[str, int] = {
    "KdrumL": 36,
    "KdrumR": 35,
    "Snare": 38,
    "SnareRest": 38,
    "HihatClosed": 42,
    "HihatOpen": 46,
    "Tom1": 50,
    "Tom2": 47,
    "Tom3": 45,
    "Tom4": 41,
    "CrashL": 49,
    "CrashR": 57,
    "RideL": 51,
    "RideR": 59,
    "RideLBell": 53,
    "RideRBell": 53,
    "China": 52,
}
"""MuldjordKit (DrumGizmo, multi-microphone) sample folder -> GM note: two kicks, a snare (hits
and hits with the other stick resting on it), four toms (three rack, one floor), a hi-hat closed
and open, two crashes, two rides with their bells and a china."""

HYDROGEN_NAME_RULES: tuple[tuple[str, int | None], ...] = (
    # (regular expression searched in the lower-case instrument name, GM note or None = unused)
    (r"choke|swish|flink|semi|roll|hat free|tambourine pedal|crash/ride b|sample:|fx|^click$|empty",
     None),
    (r"cowbell", 56),
    (r"tambourine", 54),
    (r"clap", 39),
    (r"conga", 63),
    (r"agogo high", 68),
    (r"agogo", 67),
    (r"clave", 75),
    (r"shaker|maraca", 70),
    (r"kick|bass ?drum|^bd\d|_bd_|_k_", 36),
    (r"side ?stick|^stick$|- stick$|rim click|stick_", 37),
    (r"rimshot", 40),
    (r"snare|_sn_", 38),
    (r"(hat|hh).*(pedal|pd|pe\b)|pedal ?h|pedalhihat", 44),
    (r"(hat|hh).*(open|op\b)|open ?h|openhat|ohh", 46),
    (r"(hat|hh).*(closed|cl\b)|closed ?h|closehihat|chh", 42),
    (r"floor tom|tom low|low tom|tom floor|tom2_", 41),
    (r"tom mid|middle tom|mid tom|tom 2|tom1_1", 47),
    (r"tom hi|high tom|tom high|tom 1|tom1_a", 50),
    (r"^tom$|^tom ", 48),
    (r"ride bell|ride-cup|^bell$|paiste bell", 53),
    (r"china", 52),
    (r"splash", 55),
    (r"ride-crash", 51),
    (r"ride 2|ride rock|ride bow|ride2", 59),
    (r"ride", 51),
    (r"crash right|crash jazz|crash20inch--2|cra_rock", 57),
    (r"crash|cymbal", 49),
)
"""Hydrogen drumkit instrument name -> GM note, first matching rule wins. Checked against every
kit in hydrogen-drumkits / hydrogen-data; exceptions are in :data:`HYDROGEN_KIT_OVERRIDES`."""

HYDROGEN_KIT_OVERRIDES: dict[str, dict[str, int | None]] = {
    "ForzeeStereo": {
        "Stick": None,  # sticks clicked together, not a side stick
        "Crash/Ride (Paiste Rude Crash/Ride 18\")": 57,
        "Crash/Ride Bow (Paiste Rude Crash/Ride 18\")": None,
    },
    "ColomboAcousticDrumkit": {"redo super opaco": None, "tomhi2": None, "tomhi3": None,
                               "tomhi4": None},
    "ElectricEmpireKit": {"Hat Low": None, "Hat Ring 1": None, "Hat Ring 2": None,
                          "Drum 1": None, "Drum 2": None, "Whistle": None},
    "HardElectro1": {"Side HH": None, "Side OHH": None},
    "VariBreaks": {"VariBreaks Drum 1": None, "VariBreaks Drum 2": None},
    "rumpf_kit_z01_h2": {"d#4 - cymbal 1": 57, "e4 - cymbal 2": 49},
}
"""Per-kit exceptions to :data:`HYDROGEN_NAME_RULES` (instrument name -> GM note or None)."""

ONE_SHOT_NAME_RULES: tuple[tuple[str, int | None], ...] = (
    # (regular expression searched in the lower-case file name, GM note or None = unused)
    (r"loop|roll|zap|nasty_bass|glitch|tabla|vinyl|ambi|bass_|guit|mehackit|misc", None),
    (r"elec_(beep|bell|blip|blup|bong|chime|flip|ping|plip|pop|tick|twang|twip)", None),
    (r"cowbell", 56),
    (r"clap", 39),
    (r"shaker", 70),
    (r"wood", 76),
    (r"clav", 75),
    (r"^bd_|bassdrum|kick|drum_bass", 36),
    (r"sidestick|^rim|nasty_rim", 37),
    (r"snare_rim", 40),
    (r"^sn_|snare", 38),
    (r"cymbal_pedal|foot_pedal", 44),
    (r"cymbal_closed|hihat_closed", 42),
    (r"cymbal_open|hihat_opened", 46),
    (r"splash", 55),
    (r"ride", 51),
    (r"crash|drum_cymbal_(hard|soft)|elec_cymbal", 49),
    (r"tom_hi", 50),
    (r"tom_mid|fuzz_tom", 47),
    (r"tom_lo", 41),
)
"""One-shot sample file name (sonic-pi-samples, lmms-common drums) -> GM note; first match wins.
Files matching no rule are unused."""


HEADS: dict[str, int] = {
    "drum_onsets": N_DRUM_CLASSES,
    "drum_velocity": N_DRUM_CLASSES,
    "pitch_onsets": N_PITCHES,
    "pitch_frames": N_PITCHES,
}
"""Output heads of the network and their widths (activations per frame)."""

BEAT_HEAD = "beats"
N_BEAT_OUTPUTS = 2
"""Width of the optional beat head: ``[beat, downbeat]``; a downbeat frame is also a beat frame."""

STEM_HEAD = "drum_stem"
"""The optional training-only head: the drum stem's spectral features estimated from the input
(an auxiliary separation task on mix crops). Saved models leave it out."""
