"""Errors drumtx reports to users as one line (the CLI prints ``str(error)`` and exits non-zero)."""


class DrumtxError(Exception):
    """Base class of errors whose message is meant for the user."""


class AudioLoadError(DrumtxError):
    """The input could not be read as audio."""


class OutputExistsError(DrumtxError):
    """An output file exists and ``force`` was not given."""


class ModelLoadError(DrumtxError):
    """A model directory is missing or incomplete."""
