"""Odd but valid input, interruption, a full disk and determinism (with the bundled model)."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from drumtx import cli, vocab
from drumtx.features import SAMPLE_RATE
from drumtx.transcription import DRUM_COLUMNS

DRUMTX = str(Path(sys.executable).with_name("drumtx"))


@pytest.fixture(scope="module")
def transcriber():
    from drumtx.pipeline import Transcriber

    return Transcriber.load()


def noise_hits(duration_s: float, rate: int, n_channels: int = 1) -> np.ndarray:
    """Decaying noise bursts every 0.25 s, shape (n, n_channels), peak 0.5."""
    rng = np.random.default_rng(3)
    n = max(1, int(duration_s * rate))
    mono = np.zeros(n)
    burst_length = int(0.05 * rate)
    burst = rng.standard_normal(burst_length) * np.exp(-np.arange(burst_length) / (0.01 * rate))
    for start in range(0, n, int(0.25 * rate)):
        piece = burst[: n - start]
        mono[start : start + len(piece)] += piece
    mono *= 0.5 / max(np.abs(mono).max(), 1e-9)
    return np.repeat(mono[:, None], n_channels, axis=1)


def assert_valid(result, duration_s: float) -> None:
    assert tuple(result.drums.columns) == DRUM_COLUMNS
    assert set(result.drums["cls"]) <= set(vocab.DRUM_CLASSES)
    times = result.drums["time_s"].to_numpy()
    assert np.all((times >= 0) & (times <= duration_s + 0.05))
    assert result.duration_s == pytest.approx(duration_s, abs=0.01)


ODD_SIGNALS = {
    "silence": lambda rate: np.zeros((rate * 2, 1)),
    "short_clip": lambda rate: noise_hits(0.3, rate),
    "one_sample": lambda rate: np.full((1, 1), 0.3),
    "dc_offset": lambda rate: noise_hits(2.0, rate) * 0.3 + 0.6,
    "clipped": lambda rate: np.clip(noise_hits(2.0, rate) * 20, -1, 1),
    "six_channels": lambda rate: noise_hits(2.0, rate, 6),
}


@pytest.mark.parametrize("name", sorted(ODD_SIGNALS))
def test_odd_signals_give_a_valid_transcription(tmp_path, transcriber, name):
    samples = ODD_SIGNALS[name](44100)
    path = tmp_path / f"{name}.wav"
    soundfile.write(path, samples, 44100, subtype="FLOAT")
    result = transcriber.transcribe(path)
    assert_valid(result, len(samples) / 44100)
    if name == "silence":
        assert len(result.drums) == 0


@pytest.mark.parametrize(
    "extension, subtype, rate",
    [
        ("wav", "PCM_U8", 8000), ("wav", "PCM_16", 11025), ("wav", "PCM_24", 96000),
        ("wav", "PCM_32", 192000), ("wav", "FLOAT", 32000), ("wav", "DOUBLE", 44100),
        ("flac", "PCM_24", 88200), ("ogg", "VORBIS", 48000), ("mp3", "MPEG_LAYER_III", 22050),
    ],
)
def test_formats_depths_and_rates(tmp_path, transcriber, extension, subtype, rate):
    path = tmp_path / f"hits.{extension}"
    soundfile.write(path, noise_hits(2.0, rate, 2), rate, subtype=subtype)
    result = transcriber.transcribe(path)
    assert_valid(result, soundfile.info(path).duration)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_input_gives_byte_identical_outputs(tmp_path):
    audio = tmp_path / "song.flac"
    soundfile.write(audio, noise_hits(4.0, 44100, 2), 44100)
    formats = "mscx,mid,csv,musicxml"
    for name in ("a", "b"):
        done = subprocess.run(
            [DRUMTX, "transcribe", str(audio), "-o", str(tmp_path / name), "--format", formats],
            capture_output=True, text=True, timeout=300,
        )
        assert done.returncode == 0, done.stderr
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert len(first) == 4 and first == second


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("delay_s", [1.0, 3.0, 5.0])
def test_ctrl_c_leaves_no_partial_output(tmp_path, delay_s):
    audio = tmp_path / "long.flac"
    # Four minutes with madmom on the whole audio take well over 5 s to transcribe (16.5 s
    # measured on 2 cores); the default would finish a short file before the later signals.
    soundfile.write(audio, noise_hits(240.0, 44100), 44100)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [DRUMTX, "transcribe", str(audio), "-o", str(out), "--rhythm", "madmom"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # as from a terminal: a test runner started in the background inherits an ignored
        # SIGINT, which its children would keep (the Unix convention drumtx follows)
        preexec_fn=_default_sigint,
    )
    time.sleep(delay_s)  # in start-up, model loading or transcription; no output exists yet
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == cli.EXIT_INTERRUPTED, stderr
    assert stderr.strip().splitlines() == ["drumtx: interrupted"]
    assert not out.exists() or list(out.iterdir()) == []


def test_full_disk_is_one_clear_error_and_no_files(tmp_path, monkeypatch, capsys):
    import mido

    audio = tmp_path / "song.wav"
    soundfile.write(audio, noise_hits(2.0, 44100), 44100)

    def no_space(self, filename=None, file=None):
        Path(filename).write_bytes(b"MThd partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(mido.MidiFile, "save", no_space)
    out = tmp_path / "out"
    status = cli.main(["transcribe", str(audio), "-o", str(out), "--format", "csv,mid,mscx"])
    captured = capsys.readouterr()
    assert status == cli.EXIT_ERROR
    lines = captured.err.strip().splitlines()
    assert "No space left on device" in lines[0] and "Traceback" not in captured.err
    assert list(out.iterdir()) == []


def test_jobs_transcribe_a_folder_with_worker_processes(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for index in range(3):
        soundfile.write(folder / f"song{index}.wav", noise_hits(1.0 + index, 44100), 44100)
    out = tmp_path / "out"
    done = subprocess.run(
        [DRUMTX, "transcribe", str(folder), "-o", str(out), "--format", "csv", "--jobs", "2"],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["song0.csv", "song1.csv", "song2.csv"]
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [
        "song0.wav", "song1.wav", "song2.wav",
    ]


def test_jobs_with_a_missing_or_broken_model_fail_with_one_line_per_problem(tmp_path):
    for index in range(2):
        soundfile.write(tmp_path / f"song{index}.wav", noise_hits(1.0, 44100), 44100)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model.keras").write_text("not a model")
    songs = [str(tmp_path / "song0.wav"), str(tmp_path / "song1.wav")]
    for model, expected in ((tmp_path / "missing", 1), (broken, 3)):
        done = subprocess.run(
            [DRUMTX, "transcribe", *songs, "-o", str(tmp_path / "out"), "--jobs", "2",
             "--model", str(model)],
            capture_output=True, text=True, timeout=120,
        )
        lines = done.stderr.strip().splitlines()
        assert done.returncode == cli.EXIT_ERROR and "Traceback" not in done.stderr
        assert len(lines) == expected and "model" in lines[0], lines  # broken: 1 per file + total
        assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _finish_or_crash(task):
    """Worker function for the test below: a task named "crash" kills its worker process."""
    file, _ = task
    if file.name == "crash":
        os._exit(3)
    return True, file.name


def test_a_crashed_worker_process_fails_its_files_instead_of_hanging():
    tasks = [(Path(name), {}) for name in ("first", "crash", "after")]
    options = (None, False, False, False, 1.0)
    outcomes = list(cli._run_in_workers(tasks, options, 1, work=_finish_or_crash))
    assert outcomes[0] == (True, "first")
    assert [ok for ok, _ in outcomes[1:]] == [False, False]  # the pool is broken from then on
    assert outcomes[1][1] == f"crash: {cli.WORKER_STOPPED}"


def _terminal_process_group() -> None:
    """SIGINT at its default, in a process group of its own, as a job at a terminal."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.setsid()


def test_ctrl_c_stops_worker_processes_and_leaves_only_whole_outputs(tmp_path):
    folder = tmp_path / "songs"
    folder.mkdir()
    for index in range(3):
        soundfile.write(folder / f"song{index}.flac", noise_hits(90.0, 44100), 44100)
    out = tmp_path / "out"
    process = subprocess.Popen(  # madmom on the whole audio: the songs take longer than 6 s
        [DRUMTX, "transcribe", str(folder), "-o", str(out), "--jobs", "2", "--rhythm", "madmom"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=_terminal_process_group,
    )
    time.sleep(6.0)  # workers are loading the model or transcribing
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == cli.EXIT_INTERRUPTED, stderr
    assert stderr.strip().splitlines() == ["drumtx: interrupted"]
    written = sorted(p.name for p in out.iterdir()) if out.exists() else []
    finished = [line.split(":")[0].removesuffix(".flac") for line in stdout.splitlines()]
    assert written == sorted(f"{stem}.{ext}" for stem in finished for ext in ("csv", "mid", "mscx"))
    assert _group_ends(process.pid, within_s=10.0), "a worker outlived the command"


def _group_ends(group: int, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.2)
    return False


def test_output_folder_that_is_a_file(tmp_path):
    audio = tmp_path / "song.wav"
    soundfile.write(audio, noise_hits(1.0, SAMPLE_RATE), SAMPLE_RATE)
    blocker = tmp_path / "out"
    blocker.write_text("not a folder")
    assert cli.main(["transcribe", str(audio), "-o", str(blocker)]) == cli.EXIT_ERROR
    assert blocker.read_text() == "not a folder"
