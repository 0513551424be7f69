"""The Streamlit app: AppTest runs it without exceptions, and headless Chromium shows it."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from drumtx import pipeline, vocab
from drumtx.features import FRAMES_PER_SECOND, SAMPLE_RATE

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app.py"
ARTIFACTS = ROOT / "test-artifacts"
APP_TIMEOUT_S = 60
SERVER_START_TIMEOUT_S = 60
CHROMIUM = "chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1400,1800",
)
N_PITCHES = 88


def load_app_module():
    spec = importlib.util.spec_from_file_location("drumtx_app", APP)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_activations(samples: np.ndarray) -> dict[str, np.ndarray]:
    """Activations with a peak wherever the audio's energy jumps (no model needed)."""
    n_frames = len(samples) * FRAMES_PER_SECOND // SAMPLE_RATE + 1
    hop = SAMPLE_RATE // FRAMES_PER_SECOND
    energy = np.array([np.sum(samples[i * hop : (i + 1) * hop] ** 2) for i in range(n_frames)])
    flux = np.clip(np.diff(np.log1p(100 * energy), prepend=0.0), 0.0, None)
    onsets = np.zeros((n_frames, vocab.N_DRUM_CLASSES), dtype=np.float32)
    peaks = flux > 0.5 * flux.max()
    onsets[peaks, vocab.CLASS_INDEX["KD"]] = 0.9
    onsets[peaks, vocab.CLASS_INDEX["CHH"]] = 0.8
    return {
        "drum_onsets": onsets,
        "drum_velocity": np.full_like(onsets, 0.7),
        "pitch_onsets": np.zeros((n_frames, N_PITCHES), np.float32),
        "pitch_frames": np.zeros((n_frames, N_PITCHES), np.float32),
    }


@pytest.fixture
def fake_model(monkeypatch):
    transcriber = pipeline.Transcriber(model=None, peak_picking={}, model_dir=ROOT)
    monkeypatch.setattr(pipeline, "default_transcriber", lambda: transcriber)
    monkeypatch.setattr(pipeline, "compute_activations", fake_activations)


def test_helpers():
    app = load_app_module()
    assert app.safe_name("../../etc/passwd") == "passwd"
    assert app.safe_name("My Song (live).mp3") == "My_Song_live"
    assert app.safe_name("...") == app.DEFAULT_DOWNLOAD_NAME
    from drumtx.transcription import Transcription, make_drums

    song = Transcription("x", 1.0, make_drums([0.1, 0.5], ["KD", "OHH"], [100, 80]))
    audio = app.synthesize_drums(song)
    assert audio.dtype == np.float32 and np.abs(audio).max() > 0.05
    assert app.wav_bytes(audio, app.SYNTH_RATE)[:4] == b"RIFF"


def run_app_with_demo():
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=APP_TIMEOUT_S)
    app.run()
    assert not app.exception
    app.button[0].click().run()
    assert not app.exception, app.exception
    return app


def test_app_transcribes_the_demo_and_reruns_peak_picking(fake_model):
    app = run_app_with_demo()
    assert len(app.sidebar.slider) == vocab.N_DRUM_CLASSES
    hits_before = app.metric[2].value
    app.sidebar.slider[0].set_value(0.9).run()
    assert not app.exception
    assert app.metric[2].value != hits_before or hits_before == "0"
    assert app.metric[1].value in {"4/4", "3/4", "6/8", "2/4"}


def test_app_with_the_bundled_model():
    app = run_app_with_demo()
    assert not app.exception


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def devtools_screenshot(browser: str, url: str, profile: Path, target: Path) -> None:
    """Open ``url`` in headless Chromium, wait until the app has rendered, save a PNG.

    Uses the DevTools protocol (over tornado's websocket client, a Streamlit dependency)
    because ``--screenshot`` does not wait for the page's websocket-driven rendering.
    """
    import base64
    import json

    from tornado.ioloop import IOLoop
    from tornado.websocket import websocket_connect

    chromium = subprocess.Popen(
        [
            browser,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(profile.parent)},
    )
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while not (port_file.exists() and port_file.read_text().strip()):
            assert time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.2)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as reply:
            page = next(t for t in json.load(reply) if t["type"] == "page")

        async def capture() -> bytes:
            connection = await websocket_connect(
                page["webSocketDebuggerUrl"], max_message_size=1 << 28
            )
            counter = 0

            async def call(method: str, **params):
                nonlocal counter
                counter += 1
                connection.write_message(
                    json.dumps({"id": counter, "method": method, "params": params})
                )
                while True:
                    message = json.loads(await connection.read_message())
                    if message.get("id") == counter:
                        return message.get("result", {})

            await call("Page.navigate", url=url)
            expression = "document.body ? document.body.innerText : ''"
            text = ""
            while "drumtx" not in text and time.monotonic() < deadline + APP_TIMEOUT_S:
                await call(
                    "Runtime.evaluate",
                    expression="new Promise(r => setTimeout(r, 500))",
                    awaitPromise=True,
                )
                result = await call("Runtime.evaluate", expression=expression)
                text = result.get("result", {}).get("value", "")
            assert "drumtx" in text, "the app did not render"
            await call(
                "Runtime.evaluate",
                expression="new Promise(r => setTimeout(r, 1500))",
                awaitPromise=True,
            )
            shot = await call("Page.captureScreenshot", format="png")
            connection.close()
            return base64.b64decode(shot["data"])

        target.write_bytes(IOLoop.current().run_sync(capture, timeout=2 * APP_TIMEOUT_S))
    finally:
        chromium.terminate()
        chromium.wait(timeout=30)


def test_chromium_screenshot(tmp_path):
    browser = shutil.which(CHROMIUM)
    assert browser, f"{CHROMIUM} is not installed (Debian package chromium)"
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(APP),
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the Streamlit server did not start"
            time.sleep(0.5)
        ARTIFACTS.mkdir(exist_ok=True)
        screenshot = ARTIFACTS / "app.png"
        screenshot.unlink(missing_ok=True)
        devtools_screenshot(browser, f"http://127.0.0.1:{port}/", tmp_path / "profile", screenshot)
        assert screenshot.read_bytes()[:4] == b"\x89PNG"
        assert screenshot.stat().st_size > 20_000
    finally:
        server.terminate()
        server.wait(timeout=30)


class _Upload:
    """Stands in for Streamlit's UploadedFile."""

    def __init__(self, name: str, data: bytes):
        self.name = name
        self._data = data

    def getvalue(self) -> bytes:
        return self._data


def _upload_folders() -> set[str]:
    import tempfile

    return {p.name for p in Path(tempfile.gettempdir()).glob("drumtx-upload-*")}


def test_upload_cap_format_and_temporary_files(tmp_path):
    import io

    import soundfile

    app = load_app_module()
    before = _upload_folders()
    assert app.load_upload(_Upload("big.wav", b"\0" * (app.MAX_UPLOAD_BYTES + 1))) is None
    assert app.load_upload(_Upload("notes.txt", b"hello")) is None
    assert app.load_upload(_Upload("fake.wav", b"not audio" * 100)) is None
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(4410, dtype=np.float32), 44100, format="WAV")
    loaded = app.load_upload(_Upload("../../evil name.wav", buffer.getvalue()))
    assert loaded is not None and len(loaded[0]) == 4410
    assert _upload_folders() == before  # every temporary folder is gone again
    assert not (tmp_path.parent / "evil name.wav").exists()


def test_export_bytes_offers_every_format():
    from drumtx.export.formats import WRITERS
    from drumtx.transcription import Transcription, make_drums

    app = load_app_module()
    files = app.export_bytes(Transcription("x", 2.0, make_drums([0.5], ["SD"], [90])))
    assert set(files) == set(WRITERS) and all(files.values())
