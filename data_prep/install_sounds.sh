#!/bin/sh
# Install the Debian packages that data_prep renders training data from (idempotent).
# Sound sources: Hydrogen kits, GM soundfonts, AVL drumkits; MIDI: Freedoom, Planet Blupi,
# OpenMSX, MMA; fluidsynth (library for pyfluidsynth, and the CLI). Nothing is fetched from
# anywhere but the Debian archive.
set -eu

PACKAGES="
hydrogen-drumkits
hydrogen-data
fluid-soundfont-gm
timgm6mb-soundfont
musescore-general-soundfont-small
avldrums.lv2-soundfont
fluidsynth
libfluidsynth3
freedoom
planetblupi-music-midi
openttd-openmsx
mma
sonic-pi-samples
lmms-common
ffmpeg
"

missing=""
for package in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    echo "data_prep: all sound sources are installed"
    exit 0
fi

echo "data_prep: installing$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO apt-get update
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends $missing
