"""The transcription pipeline: audio -> features -> model -> decoding -> :class:`Transcription`.

Examples
--------
>>> from drumtx import transcribe                         # doctest: +SKIP
>>> result = transcribe("song.flac")                      # doctest: +SKIP
>>> result.drums.head()                                   # doctest: +SKIP
   time_s  cls  velocity
0    0.52   KD        97
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drumtx import decode, features
from drumtx.audio import iter_audio_blocks
from drumtx.transcription import Transcription
from drumtx.vocab import BEAT_HEAD


@dataclass
class Transcriber:
    """A loaded model with its decoding parameters; load once, transcribe many files.

    Attributes
    ----------
    model : keras.Model
        The network (see :func:`drumtx.model.build_model`).
    peak_picking : dict
        Class name -> :class:`drumtx.decode.PeakPickingParams` tuned for this model.
    model_dir : pathlib.Path
        Where the model was loaded from.
    note_thresholds : drumtx.decode.NoteThresholds
        Pitched-note decoding thresholds tuned for this model.
    """

    model: object
    peak_picking: dict[str, decode.PeakPickingParams]
    model_dir: Path
    note_thresholds: decode.NoteThresholds = decode.NoteThresholds()

    @classmethod
    def load(cls, model_dir: str | os.PathLike | None = None) -> Transcriber:
        """Load a model directory (the bundled default model when ``None``)."""
        from drumtx import runtime

        directory = Path(model_dir) if model_dir is not None else runtime.DEFAULT_MODEL_DIR
        network = runtime.load_network(directory)
        params, notes = decode.load_decoding(directory / runtime.PEAK_PICKING_FILE)
        return cls(model=network, peak_picking=params, model_dir=directory, note_thresholds=notes)

    @property
    def has_beat_head(self) -> bool:
        """Whether the model has the ``beats`` output (then rhythm needs no audio)."""
        return BEAT_HEAD in getattr(self.model, "output_names", ())

    def activations(self, samples: np.ndarray) -> dict[str, np.ndarray]:
        """Frame-wise activations of every head for mono samples at the model's rate.

        Returns
        -------
        dict
            ``drum_onsets``, ``drum_velocity``: shape (n_frames, 13);
            ``pitch_onsets``, ``pitch_frames``: shape (n_frames, 88); ``beats`` (beat,
            downbeat): shape (n_frames, 2), only for a model with the beat head; values 0-1.
        """
        return self.activations_of_features(features.compute_features(samples))

    def activations_of_features(self, frame_features: np.ndarray) -> dict[str, np.ndarray]:
        """Activations for precomputed features, shape (n_frames, N_FEATURE_BINS)."""
        from drumtx.inference import predict_activations

        return predict_activations(self.model, frame_features)

    def decode(
        self,
        activations: dict[str, np.ndarray],
        source: str,
        duration_s: float,
        thresholds: dict[str, float] | None = None,
        sensitivity: float = 1.0,
    ) -> Transcription:
        """Events from activations.

        ``sensitivity`` divides every drum class's tuned threshold
        (:func:`drumtx.decode.with_sensitivity`: above 1, more hits); ``thresholds`` then
        sets some classes' thresholds outright.
        """
        params = decode.with_sensitivity(self.peak_picking, sensitivity)
        params = decode.with_thresholds(params, thresholds or {})
        return Transcription(
            source=source,
            duration_s=float(duration_s),
            drums=decode.pick_drum_hits(activations, params),
            notes=decode.pick_pitched_notes(activations, self.note_thresholds),
        )

    def transcribe(
        self,
        audio: str | os.PathLike | np.ndarray,
        source: str | None = None,
        rhythm: bool | str = True,
        fast_rhythm: bool = False,
        sensitivity: float = 1.0,
    ) -> Transcription:
        """Transcribe a file or mono samples at :data:`drumtx.features.SAMPLE_RATE`.

        Parameters
        ----------
        audio : path-like or numpy.ndarray
        source : str, optional
            Name for the result; defaults to the file stem (``"audio"`` for arrays).
        rhythm : bool or str
            How beats, downbeats and tempo (needed for a metered score) are found, one of
            :data:`RHYTHM_MODES`; ``True`` is :data:`DEFAULT_RHYTHM`, ``False`` none.
            ``"hybrid"``: the model's beat head, at the tempo madmom finds on a 20-s excerpt
            (:func:`drumtx.rhythm.beats_with_tempo_hint`); ``"madmom"``: madmom on the whole
            audio (most reliable on tempo, several seconds per audio-minute); ``"head"``: the
            beat head alone (fastest; keeps no audio). Audio longer than
            :data:`AUDIO_RHYTHM_MAX_S` always gets ``"head"`` (memory stays bounded); a model
            without the beat head gets ``"madmom"`` (beats from the drum activations past that
            length).
        fast_rhythm : bool
            Shorthand for ``rhythm="head"``.
        sensitivity : float
            Divides every drum class's peak threshold (see :meth:`decode`): 1 keeps the
            tuned thresholds, 2 halves them (more hits, for drums far under the band).
        """
        decode.check_sensitivity(sensitivity)  # a bad value fails before the audio is read
        if isinstance(audio, np.ndarray):
            blocks = [np.asarray(audio, dtype=np.float32)]
            source = source or "audio"
        else:
            blocks = iter_audio_blocks(audio)
            source = source or Path(audio).stem
        beat_head = self.has_beat_head
        mode = _rhythm_mode(rhythm, fast_rhythm, beat_head)
        keep_samples = mode in ("hybrid", "madmom")
        keeper = _SampleKeeper(
            int(AUDIO_RHYTHM_MAX_S * features.SAMPLE_RATE) if keep_samples else 0
        )
        frame_features = np.concatenate(list(features.iter_features(keeper.watch(blocks))))
        duration_s = keeper.n_samples / features.SAMPLE_RATE
        activations = self.activations_of_features(frame_features)
        del frame_features
        result = self.decode(activations, source, duration_s, sensitivity=sensitivity)
        return self.add_rhythm(result, activations, keeper.samples, rhythm, fast_rhythm)

    def add_rhythm(
        self,
        transcription: Transcription,
        activations: dict[str, np.ndarray],
        samples: np.ndarray | None = None,
        rhythm: bool | str = True,
        fast_rhythm: bool = False,
    ) -> Transcription:
        """Return ``transcription`` with beats, tempo and time signature.

        Parameters
        ----------
        transcription : Transcription
            Decoded from ``activations`` (its drums help recognise compound metres).
        activations : dict of numpy.ndarray
            This model's activations of the audio.
        samples : numpy.ndarray, shape (n_samples,), optional
            The mono audio at 44.1 kHz; without it, ``"hybrid"`` and ``"madmom"`` fall back
            to the activations alone.
        rhythm, fast_rhythm
            As in :meth:`transcribe`.

        Returns
        -------
        Transcription
        """
        mode = _rhythm_mode(rhythm, fast_rhythm, self.has_beat_head)
        if mode is None:
            return transcription
        from drumtx import rhythm as rhythm_module

        drums = transcription.drums
        if samples is not None and mode == "madmom":
            return rhythm_module.with_rhythm(transcription, samples)
        if samples is not None and mode == "hybrid":
            beats, tempo_bpm, beats_per_bar = rhythm_module.beats_with_tempo_hint(
                activations[BEAT_HEAD], samples, features.SAMPLE_RATE, drums
            )
        elif self.has_beat_head:
            beats, tempo_bpm, beats_per_bar = rhythm_module.beats_from_beat_activations(
                activations[BEAT_HEAD], drums
            )
        else:
            beats, tempo_bpm, beats_per_bar = rhythm_module.beats_from_drum_activations(
                activations["drum_onsets"], drums
            )
        return transcription.replace(
            beats=beats, tempo_bpm=tempo_bpm, beats_per_bar=beats_per_bar
        )


AUDIO_RHYTHM_MAX_S = 600.0
"""Longest audio whose samples are kept for rhythm (madmom on the whole audio or an
excerpt); longer recordings get beats from the network's activations alone, so that memory
stays bounded."""

RHYTHM_MODES = ("hybrid", "madmom", "head")
"""Ways of finding beats (see :meth:`Transcriber.transcribe`)."""

DEFAULT_RHYTHM = "hybrid"
"""On a 3-minute song the whole command took 3.3 s against 12.1-12.3 s with ``"madmom"``
(an earlier default model; the current one adds about 1.3 s of network). On 33 held-out
factory songs its tempo is within 2 % on 81.8 % of songs against 84.8 % for ``"madmom"``
and 87.9 % for ``"head"`` with the current model, its metre right on 93.9 % as for
``"madmom"`` (the model card has the table); it keeps madmom's tempo, which was learnt from
real music, while the beat head has only heard rendered songs."""


def _rhythm_mode(rhythm: bool | str, fast_rhythm: bool, beat_head: bool) -> str | None:
    """The rhythm mode actually used (``None``: no rhythm)."""
    if rhythm is False:
        return None
    mode = "head" if fast_rhythm else DEFAULT_RHYTHM if rhythm is True else rhythm
    if mode not in RHYTHM_MODES:
        raise ValueError(f"rhythm must be one of {', '.join(RHYTHM_MODES)}, not {mode!r}")
    return mode if beat_head else "madmom"


class _SampleKeeper:
    """Passes sample blocks through, keeping them while their total is under a limit."""

    def __init__(self, max_samples: int) -> None:
        self.max_samples = max_samples
        self.n_samples = 0
        self.blocks: list[np.ndarray] | None = [] if max_samples > 0 else None

    def watch(self, blocks):
        for block in blocks:
            self.n_samples += len(block)
            if self.blocks is not None:
                if self.n_samples <= self.max_samples:
                    self.blocks.append(block)
                else:
                    self.blocks = None
            yield block

    @property
    def samples(self) -> np.ndarray | None:
        """All samples, or ``None`` when there were too many to keep (or keeping was off)."""
        return None if self.blocks is None else np.concatenate(self.blocks or [np.zeros(0)])


_DEFAULT_TRANSCRIBER: Transcriber | None = None


def default_transcriber() -> Transcriber:
    """The bundled model, loaded on first use and kept for the process."""
    global _DEFAULT_TRANSCRIBER
    if _DEFAULT_TRANSCRIBER is None:
        _DEFAULT_TRANSCRIBER = Transcriber.load()
    return _DEFAULT_TRANSCRIBER


def transcribe(
    audio: str | os.PathLike | np.ndarray,
    model_dir: str | os.PathLike | None = None,
    rhythm: bool | str = True,
    sensitivity: float = 1.0,
) -> Transcription:
    """Transcribe an audio file (or mono samples at 44.1 kHz) with a model.

    Parameters
    ----------
    audio : path-like or numpy.ndarray
    model_dir : path-like, optional
        A trained model directory; the bundled default when ``None``.
    rhythm : bool or str
        Estimate beats and tempo as well: ``True`` (the default way), ``False``, or one of
        :data:`RHYTHM_MODES` (see :meth:`Transcriber.transcribe`).
    sensitivity : float
        Divides every drum class's tuned peak threshold: above 1 more hits (drums far
        under the band), below 1 fewer.

    Returns
    -------
    Transcription
    """
    transcriber = default_transcriber() if model_dir is None else Transcriber.load(model_dir)
    return transcriber.transcribe(audio, rhythm=rhythm, sensitivity=sensitivity)


def compute_activations(samples: np.ndarray) -> dict[str, np.ndarray]:
    """Activations of the default model for mono samples at 44.1 kHz."""
    return default_transcriber().activations(samples)


def decode_activations(
    activations: dict[str, np.ndarray],
    source: str,
    duration_s: float,
    thresholds: dict[str, float] | None = None,
) -> Transcription:
    """Decode activations of the default model (cheap: re-run for new thresholds)."""
    return default_transcriber().decode(activations, source, duration_s, thresholds)


def add_rhythm(
    transcription: Transcription,
    activations: dict[str, np.ndarray],
    samples: np.ndarray | None = None,
    rhythm: bool | str = True,
) -> Transcription:
    """Beats, tempo and time signature by the default model (see :meth:`Transcriber.add_rhythm`)."""
    return default_transcriber().add_rhythm(transcription, activations, samples, rhythm)
