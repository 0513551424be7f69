"""drumtx: drum transcription from audio to MuseScore, MIDI, MusicXML and CSV."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Transcription", "transcribe", "__version__"]

if TYPE_CHECKING:
    from drumtx.pipeline import transcribe
    from drumtx.transcription import Transcription


def __getattr__(name: str):
    """Import the public API lazily so ``import drumtx`` stays light."""
    if name == "transcribe":
        from drumtx.pipeline import transcribe

        return transcribe
    if name == "Transcription":
        from drumtx.transcription import Transcription

        return Transcription
    raise AttributeError(f"module 'drumtx' has no attribute {name!r}")
