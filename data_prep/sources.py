"""Where the sound and MIDI sources live, and a one-line error naming the Debian package if absent.

Every default can be overridden with an environment variable (``DRUMTX_<NAME>``), e.g.
``DRUMTX_HYDROGEN_KITS=/opt/drumkits``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class SourceMissingError(RuntimeError):
    """A sound or MIDI source is not installed."""


@dataclass(frozen=True)
class Source:
    """One installed source: a default path and the Debian package providing it."""

    name: str
    default: str
    package: str
    install: str = ""
    """How to get a source that is no Debian package (empty: ``apt-get install PACKAGE``)."""

    @property
    def path(self) -> Path:
        """The configured path (environment ``DRUMTX_<NAME>`` or the default)."""
        return Path(os.environ.get(f"DRUMTX_{self.name.upper()}", self.default))

    def require(self) -> Path:
        """Return the path, or raise :class:`SourceMissingError` with a one-line install hint."""
        path = self.path
        if not path.exists() and self.install:
            raise SourceMissingError(
                f"{self.name}: {path} not found; {self.install} "
                f"(or set DRUMTX_{self.name.upper()} to where it is)"
            )
        if not path.exists():
            raise SourceMissingError(
                f"{self.name}: {path} not found; install the Debian package '{self.package}' "
                f"(sudo apt-get install {self.package}, or run data_prep/install_sounds.sh)"
            )
        return path


SOURCES: dict[str, Source] = {
    source.name: source
    for source in (
        Source("hydrogen_kits", "/usr/share/hydrogen/data/drumkits", "hydrogen-drumkits"),
        Source("hydrogen_songs", "/usr/share/hydrogen/data/demo_songs", "hydrogen-data"),
        Source("fluid_sf2", "/usr/share/sounds/sf2/FluidR3_GM.sf2", "fluid-soundfont-gm"),
        Source("timgm6mb_sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2", "timgm6mb-soundfont"),
        Source(
            "musescore_sf3",
            "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
            "musescore-general-soundfont-small",
        ),
        Source("avl_black_pearl_sf2", "/usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2",
               "avldrums.lv2-soundfont"),
        Source("avl_red_zeppelin_sf2", "/usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2",
               "avldrums.lv2-soundfont"),
        Source("freedoom_wads", "/usr/share/games/doom", "freedoom"),
        Source("blupi_midi", "/usr/share/planetblupi/music", "planetblupi-music-midi"),
        Source("openmsx_midi", "/usr/share/games/openttd/baseset/openmsx", "openttd-openmsx"),
        Source("mma_lib", "/usr/share/mma/lib/stdlib", "mma"),
        Source("mma_bin", "/usr/bin/mma", "mma"),
        Source("sonic_pi_samples", "/usr/share/sonic-pi/samples", "sonic-pi-samples"),
        Source("lmms_drums", "/usr/share/lmms/samples/drums", "lmms-common"),
        Source("gmd", "work/sources/groove-midi", "",
               "download the Groove MIDI Dataset's MIDI-only release (CC BY 4.0, with its "
               "info.csv) and unpack it there"),
        Source("muldjord_kit", "work/sources/DrumGizmo.MuldjordKit", "",
               "git clone https://github.com/sfzinstruments/DrumGizmo.MuldjordKit there"),
    )
}
"""All sources by name."""


def require(name: str) -> Path:
    """Path of source ``name``; raises :class:`SourceMissingError` naming the package if absent."""
    return SOURCES[name].require()


def available(name: str) -> bool:
    """Whether source ``name`` is installed."""
    return SOURCES[name].path.exists()
