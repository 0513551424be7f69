"""drumtx in the browser: drop a song, get drum sheet music, MIDI and a drum grid.

Run with ``streamlit run app.py``. The model runs once per song; the per-class
sensitivity sliders only re-run peak picking on the cached activations.
"""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
from pathlib import Path

import numpy as np
import soundfile
import streamlit as st

from drumtx import decode, pipeline, vocab
from drumtx.audio import AUDIO_EXTENSIONS, load_audio
from drumtx.features import SAMPLE_RATE

MAX_UPLOAD_MB = 50
MAX_UPLOAD_BYTES = MAX_UPLOAD_MB * 1024 * 1024
UPLOAD_TYPES = [extension.lstrip(".") for extension in AUDIO_EXTENSIONS]
SYNTH_RATE = 22050  # sample rate of the drum re-synthesis and the demo groove
DEMO_BPM = 100.0
DEMO_BARS = 4
MIN_THRESHOLD = 0.02
MAX_THRESHOLD = 0.95
THRESHOLD_STEP = 0.01
SAFE_NAME = re.compile(r"[^A-Za-z0-9_-]+")
MAX_NAME_LENGTH = 60
DEFAULT_DOWNLOAD_NAME = "drums"

# Re-synthesis voices: (kind, frequency in Hz, decay per second, gain).
SYNTH_VOICES: dict[str, tuple[str, float, float, float]] = {
    "KD": ("kick", 55.0, 12.0, 1.0),
    "SD": ("snare", 190.0, 22.0, 0.7),
    "SS": ("click", 900.0, 60.0, 0.5),
    "CHH": ("noise", 8000.0, 60.0, 0.25),
    "PHH": ("noise", 7000.0, 70.0, 0.2),
    "OHH": ("noise", 8000.0, 8.0, 0.25),
    "HT": ("tom", 220.0, 10.0, 0.7),
    "MT": ("tom", 160.0, 9.0, 0.7),
    "LT": ("tom", 110.0, 8.0, 0.8),
    "CR": ("noise", 6000.0, 3.0, 0.3),
    "RD": ("bell", 3200.0, 5.0, 0.15),
    "RB": ("bell", 2400.0, 4.0, 0.25),
    "CS": ("noise", 5000.0, 5.0, 0.3),
}
VOICE_LENGTH_S = 0.6


def safe_name(name: str) -> str:
    """A file-name stem made only of letters, digits, ``_`` and ``-`` (never a path)."""
    stem = Path(str(name)).name.rsplit(".", 1)[0]
    cleaned = SAFE_NAME.sub("_", stem).strip("_")[:MAX_NAME_LENGTH]
    return cleaned or DEFAULT_DOWNLOAD_NAME


def _voice(cls: str, velocity: int, rng: np.random.Generator) -> np.ndarray:
    """One synthesized drum sound."""
    kind, frequency, decay, gain = SYNTH_VOICES[cls]
    t = np.arange(int(VOICE_LENGTH_S * SYNTH_RATE)) / SYNTH_RATE
    envelope = np.exp(-t * decay) * gain * velocity / 127.0
    if kind == "kick":
        sweep = frequency + 2 * frequency * np.exp(-t * 40)
        return np.sin(2 * np.pi * np.cumsum(sweep) / SYNTH_RATE) * envelope
    if kind == "tom":
        return np.sin(2 * np.pi * frequency * t) * envelope
    if kind == "bell":
        tone = np.sin(2 * np.pi * frequency * t) + 0.5 * np.sin(2 * np.pi * 1.48 * frequency * t)
        return (tone + 0.3 * rng.standard_normal(len(t))) * envelope
    noise = rng.standard_normal(len(t))
    if kind in ("noise", "click"):
        noise = np.diff(noise, prepend=0.0)  # brighter
    if kind == "snare":
        return (0.7 * noise + 0.6 * np.sin(2 * np.pi * frequency * t)) * envelope
    return noise * envelope


def synthesize_drums(transcription, sample_rate: int = SYNTH_RATE) -> np.ndarray:
    """A drum-only rendering of a transcription with simple synthesized sounds."""
    rng = np.random.default_rng(0)
    length = int((float(transcription.duration_s) + VOICE_LENGTH_S) * sample_rate) + 1
    audio = np.zeros(length, dtype=np.float64)
    for time, cls, velocity in zip(
        transcription.drums["time_s"],
        transcription.drums["cls"],
        transcription.drums["velocity"],
        strict=True,
    ):
        sound = _voice(cls, int(velocity), rng)
        start = max(0, int(time * sample_rate))
        stop = min(length, start + len(sound))
        audio[start:stop] += sound[: stop - start]
    peak = float(np.abs(audio).max()) if len(audio) else 0.0
    if peak > 1.0:
        audio /= peak
    return audio.astype(np.float32)


def wav_bytes(samples: np.ndarray, sample_rate: int) -> bytes:
    """Samples as a 16-bit WAV file in memory."""
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def demo_groove() -> np.ndarray:
    """A synthetic rock groove (mono, at :data:`drumtx.features.SAMPLE_RATE`)."""
    import librosa

    from drumtx.transcription import Transcription, make_drums

    period = 60.0 / DEMO_BPM
    times, classes = [], []
    for bar in range(DEMO_BARS):
        start = bar * 4 * period
        for eighth in range(8):
            times.append(start + eighth * period / 2)
            classes.append("CHH")
        times += [
            start,
            start + 2 * period,
            start + 2.5 * period,
            start + period,
            start + 3 * period,
        ]
        classes += ["KD", "KD", "KD", "SD", "SD"]
    drums = make_drums(times, classes, np.full(len(times), 100))
    song = Transcription("Demo groove", DEMO_BARS * 4 * period + 1.0, drums)
    audio = synthesize_drums(song, SYNTH_RATE)
    return librosa.resample(audio, orig_sr=SYNTH_RATE, target_sr=SAMPLE_RATE)


def default_thresholds() -> dict[str, float]:
    """Peak-picking thresholds of the model (generic defaults if it cannot be loaded)."""
    try:
        tuned = pipeline.default_transcriber().peak_picking
    except Exception:  # noqa: BLE001 - any loading problem: fall back to defaults
        tuned = {}
    return {
        name: float(tuned.get(name, decode.DEFAULT_PEAK_PICKING).threshold)
        for name in vocab.DRUM_CLASSES
    }


def load_upload(uploaded) -> tuple[np.ndarray, bytes] | None:
    """Decode an uploaded file through a temporary file whose name we choose."""
    data = uploaded.getvalue()
    if len(data) > MAX_UPLOAD_BYTES:
        st.error(f"The file is larger than {MAX_UPLOAD_MB} MB.")
        return None
    extension = "." + str(uploaded.name).rsplit(".", 1)[-1].lower()
    if extension not in AUDIO_EXTENSIONS:
        st.error(f"Unsupported format; use one of: {', '.join(UPLOAD_TYPES)}.")
        return None
    with tempfile.TemporaryDirectory(prefix="drumtx-upload-") as folder:
        path = Path(folder) / f"upload{extension}"
        path.write_bytes(data)
        try:
            samples = load_audio(path)
        except Exception as error:  # noqa: BLE001 - shown to the user
            st.error(f"Could not read the audio: {error}")
            return None
    return samples, data


def analyse(song: dict) -> dict:
    """Activations, a first decoding and the rhythm of a song, with progress shown."""
    samples = song["samples"]
    duration = len(samples) / SAMPLE_RATE
    with st.status("Transcribing…", expanded=True) as status:
        progress = st.progress(0.0, text="Running the drum model")
        activations = pipeline.compute_activations(samples)
        progress.progress(0.6, text="Finding beats, bars and tempo")
        first = pipeline.decode_activations(activations, song["name"], duration, None)
        rhythmic = pipeline.add_rhythm(first, activations, samples)
        progress.progress(1.0, text="Done")
        status.update(label="Transcribed", state="complete", expanded=False)
    return {
        "key": song["key"],
        "activations": activations,
        "duration_s": duration,
        "beats": rhythmic.beats,
        "tempo_bpm": rhythmic.tempo_bpm,
        "beats_per_bar": rhythmic.beats_per_bar,
    }


def export_bytes(transcription) -> dict[str, bytes]:
    """Every download format as bytes (written to and read back from a temporary folder)."""
    from drumtx.export.formats import WRITERS, writer_for

    files = {}
    with tempfile.TemporaryDirectory(prefix="drumtx-export-") as folder:
        for extension in WRITERS:
            path = writer_for(extension)(transcription, Path(folder) / f"score.{extension}")
            files[extension] = Path(path).read_bytes()
    return files


MIME_TYPES = {
    "mscx": "application/xml",
    "mid": "audio/midi",
    "musicxml": "application/vnd.recordare.musicxml+xml",
    "csv": "text/csv",
}


def main() -> None:
    """The page."""
    st.set_page_config(page_title="drumtx", layout="wide")
    st.title("drumtx — drum transcription")
    st.caption("Drop a song; get drum sheet music for MuseScore, MIDI, MusicXML and CSV.")
    uploaded = st.file_uploader(
        f"Song ({', '.join(UPLOAD_TYPES)}; up to {MAX_UPLOAD_MB} MB)", type=UPLOAD_TYPES
    )
    demo = st.button("Or try a synthetic demo groove")
    state = st.session_state
    if uploaded is not None:
        key = hashlib.sha1(uploaded.getvalue()).hexdigest()
        if state.get("song", {}).get("key") != key:
            loaded = load_upload(uploaded)
            if loaded is None:
                return
            samples, data = loaded
            state["song"] = {
                "key": key,
                "name": safe_name(uploaded.name),
                "samples": samples,
                "audio": data,
                "mime": uploaded.type or "audio/wav",
            }
    elif demo:
        samples = demo_groove()
        state["song"] = {
            "key": "demo",
            "name": "Demo groove",
            "samples": samples,
            "audio": wav_bytes(samples, SAMPLE_RATE),
            "mime": "audio/wav",
        }
    song = state.get("song")
    if song is None:
        st.info("Upload a song to start.")
        return
    if state.get("analysis", {}).get("key") != song["key"]:
        state["analysis"] = analyse(song)
    analysis = state["analysis"]

    defaults = state.setdefault("default_thresholds", default_thresholds())
    st.sidebar.header("Sensitivity")
    st.sidebar.caption("Lower threshold = more hits. Only peak picking re-runs.")
    thresholds = {
        drum.name: st.sidebar.slider(
            f"{drum.name} — {drum.description}",
            min_value=MIN_THRESHOLD,
            max_value=MAX_THRESHOLD,
            value=float(np.clip(defaults[drum.name], MIN_THRESHOLD, MAX_THRESHOLD)),
            step=THRESHOLD_STEP,
            key=f"threshold_{drum.name}",
        )
        for drum in vocab.DRUMS
    }
    transcription = pipeline.decode_activations(
        analysis["activations"], song["name"], analysis["duration_s"], thresholds
    ).replace(
        beats=analysis["beats"],
        tempo_bpm=analysis["tempo_bpm"],
        beats_per_bar=analysis["beats_per_bar"],
    )

    from drumtx.plots import drum_grid_figure, score_page_png
    from drumtx.rhythm import time_signature

    numerator, denominator = time_signature(transcription.beats_per_bar)
    columns = st.columns(3)
    tempo = transcription.tempo_bpm
    columns[0].metric("Tempo", f"{tempo:.0f} BPM" if tempo else "unknown (120 assumed)")
    columns[1].metric("Time signature", f"{numerator}/{denominator}")
    columns[2].metric("Drum hits", len(transcription.drums))

    players = st.columns(2)
    players[0].caption("The song")
    players[0].audio(song["audio"], format=song["mime"])
    players[1].caption("Drums as transcribed (re-synthesized)")
    players[1].audio(wav_bytes(synthesize_drums(transcription), SYNTH_RATE), format="audio/wav")

    st.subheader("Drum grid")
    st.pyplot(drum_grid_figure(transcription, song["samples"], SAMPLE_RATE))

    st.subheader("Score")
    with tempfile.TemporaryDirectory(prefix="drumtx-preview-") as folder:
        try:
            page = score_page_png(transcription, Path(folder) / "page.png")
        except Exception as error:  # noqa: BLE001 - shown to the user
            page = None
            st.warning(f"No score preview: {error}")
        if page is not None:
            st.image(page.read_bytes(), caption="First page (engraved by MuseScore)")
        else:
            st.info("Install MuseScore 3 to see a preview of the score here.")

    st.subheader("Downloads")
    files = export_bytes(transcription)
    buttons = st.columns(len(files))
    for column, (extension, data) in zip(buttons, files.items(), strict=True):
        column.download_button(
            f".{extension}",
            data=data,
            file_name=f"{song['name']}.{extension}",
            mime=MIME_TYPES[extension],
            key=f"download_{extension}",
        )


if __name__ == "__main__":
    main()
