"""Multi-worker training: two local worker processes train one model in sync (TF_CONFIG)."""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import keras
import pandas as pd

from drumtx import model, train, windows

N_WORKERS = 2
WORKER_TIMEOUT_S = 180.0
"""Both workers must have finished by then (a stuck collective would otherwise hang)."""
POLL_INTERVAL_S = 0.5
LOG_TAIL_CHARS = 4000
"""Characters of each worker's output kept in failure messages."""
REPOSITORY = Path(__file__).resolve().parents[1]
TRAIN_OPTIONS = (
    "--epochs", "1", "--steps-per-epoch", "2", "--batch", "8",
    "--lstm-units", "8", "--front-filters", "8", "--frames", "200",
)  # fmt: skip
"""A tiny model for two global batches of 8 crops (4 per worker); a batch of 8 also keeps the
validation pass short (``VALIDATION_SEGMENTS // 8`` batches)."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports that are free on localhost right now."""
    sockets = []
    try:
        for _ in range(count):
            handle = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            handle.bind(("localhost", 0))
            sockets.append(handle)
        return [handle.getsockname()[1] for handle in sockets]
    finally:
        for handle in sockets:
            handle.close()


def worker_env(ports: list[int], index: int) -> dict[str, str]:
    """Environment of worker ``index``: its ``TF_CONFIG`` and one thread per op pool."""
    config = {
        "cluster": {"worker": [f"localhost:{port}" for port in ports]},
        "task": {"type": "worker", "index": index},
    }
    env = dict(os.environ)
    env.update(
        TF_CONFIG=json.dumps(config),
        TF_NUM_INTRAOP_THREADS="1",
        TF_NUM_INTEROP_THREADS="1",
        OMP_NUM_THREADS="1",
        TF_CPP_MIN_LOG_LEVEL="2",
        CUDA_VISIBLE_DEVICES="",
    )
    return env


def run_workers(data_dir: Path, out_dir: Path, log_dir: Path) -> tuple[list[int | None], str]:
    """Start the workers, wait for all of them (killing any left at the deadline).

    Returns
    -------
    return_codes : list of int or None
        ``None`` for a worker that had to be killed.
    report : str
        The tail of every worker's output, for assertion messages.
    """
    ports = free_ports(N_WORKERS)
    command = [sys.executable, "-m", "drumtx.train", "--data", str(data_dir), "--out",
               str(out_dir), "--strategy", "multiworker", *TRAIN_OPTIONS]  # fmt: skip
    processes, logs = [], []
    for index in range(N_WORKERS):
        log_path = log_dir / f"worker{index}.log"
        with open(log_path, "wb") as log:
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=REPOSITORY,
                    env=worker_env(ports, index),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        logs.append(log_path)
    deadline = time.monotonic() + WORKER_TIMEOUT_S
    while time.monotonic() < deadline and any(p.poll() is None for p in processes):
        time.sleep(POLL_INTERVAL_S)
    return_codes = []
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()
            return_codes.append(None)
        else:
            return_codes.append(process.returncode)
    report = "\n".join(
        f"--- worker {index} (exit {code}) ---\n"
        + log.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        for index, (code, log) in enumerate(zip(return_codes, logs, strict=True))
    )
    return return_codes, report


def test_two_local_workers_train_one_model(tmp_path):
    data_dir = train.make_toy_data(tmp_path / "data", {"train": 2, "val": 1}, seconds=4.0)
    for split in ("train", "val"):  # cache the features once, not in every worker
        windows.load_split(data_dir, split)
    out_dir, log_dir = tmp_path / "model", tmp_path / "logs"
    log_dir.mkdir()

    return_codes, report = run_workers(data_dir, out_dir, log_dir)

    assert return_codes == [0] * N_WORKERS, report
    assert isinstance(model.load_model(out_dir), keras.Model), report
    chief_log = pd.read_csv(out_dir / train.LOG_FILE)
    assert len(chief_log) == 1, report
    assert math.isfinite(chief_log["loss"].iloc[0]), report
    assert "val_f" in chief_log.columns, report
    worker_dir = out_dir / train.CHECKPOINT_DIR / "worker1"
    worker_log = pd.read_csv(worker_dir / train.LOG_FILE)  # the other worker wrote apart
    assert (worker_dir / train.CHECKPOINT_DIR / "backup").is_dir(), report
    # synchronous training: the loss is reduced over both workers, so both logs agree
    assert worker_log["loss"].iloc[0] == chief_log["loss"].iloc[0], report


def resolver_of(cluster: dict[str, list[str]], task_type: str, task_id: int):
    """A stand-in strategy that has only the ``cluster_resolver`` of a given task."""
    import tensorflow as tf

    resolver = tf.distribute.cluster_resolver.SimpleClusterResolver(
        tf.train.ClusterSpec(cluster), task_type=task_type, task_id=task_id
    )
    return types.SimpleNamespace(cluster_resolver=resolver)


def test_only_the_chief_writes_the_model_folder(tmp_path):
    workers = {"worker": ["localhost:1", "localhost:2"]}
    with_chief = {"chief": ["localhost:0"], **workers}
    assert train.worker_output_dir(tmp_path) == tmp_path
    assert train.worker_output_dir(tmp_path, resolver_of(workers, "worker", 0)) == tmp_path
    assert train.worker_output_dir(tmp_path, resolver_of(with_chief, "chief", 0)) == tmp_path
    for cluster, index in ((workers, 1), (with_chief, 0)):
        own = train.worker_output_dir(tmp_path, resolver_of(cluster, "worker", index))
        assert own == tmp_path / train.CHECKPOINT_DIR / f"worker{index}"
