"""The ``drumtx`` command line.

``transcribe`` is for drummers; ``train``, ``tune`` and ``evaluate`` are for research.

Every failure the user can cause ends in one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from importlib import import_module
from pathlib import Path

from drumtx._stderr import DEBUG_VARIABLE, real_stderr_descriptor, silenced_stderr
from drumtx.errors import DrumtxError

PROGRAM = "drumtx"
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
RHYTHM_CHOICES = ("hybrid", "madmom", "head")
"""``--rhythm`` values, the default first: :data:`drumtx.pipeline.RHYTHM_MODES` (named here so
that parsing arguments imports nothing heavy)."""

RESEARCH_COMMANDS = {
    "train": ("drumtx.train", "train a model on a built data set"),
    "tune": ("drumtx.tune", "tune per-class peak picking on a validation set"),
    "evaluate": ("drumtx.evaluate", "score a model against annotated audio"),
}
KERAS_COMMANDS = frozenset({"train"})
"""Research commands that need Keras (the others run the network in NumPy)."""


_INTERRUPTED = False
"""Set by the SIGINT handler; checked before outputs are written, so that an interrupt which
a library swallowed (e.g. one that arrived during an import) still stops the run."""

_INTERRUPT_EXITS = False
"""Whether an interrupt ends the process at once (while computing, when nothing is on disk
yet and native libraries such as TensorFlow would turn an exception into a garbled error)
or raises :class:`KeyboardInterrupt` (while writing, so that partial outputs are removed)."""


def _on_interrupt(signum, frame) -> None:
    global _INTERRUPTED
    _INTERRUPTED = True
    if _INTERRUPT_EXITS:
        _exit_interrupted()
    raise KeyboardInterrupt


def _exit_interrupted() -> None:
    """Say so (in the main process only) and end the process without running more code."""
    import multiprocessing

    sys.stdout.flush()
    sys.stderr.flush()
    if multiprocessing.parent_process() is None:
        os.write(real_stderr_descriptor(), f"{PROGRAM}: interrupted\n".encode())
    os._exit(EXIT_INTERRUPTED)


@contextlib.contextmanager
def _interrupts_exit(exits: bool) -> Iterator[None]:
    """Within the block an interrupt exits at once (``exits``) or raises; restored after."""
    global _INTERRUPT_EXITS
    before, _INTERRUPT_EXITS = _INTERRUPT_EXITS, exits
    try:
        if exits and _INTERRUPTED:
            _exit_interrupted()
        yield
    finally:
        _INTERRUPT_EXITS = before


def _check_interrupted() -> None:
    """Raise :class:`KeyboardInterrupt` if Ctrl-C was pressed at any time so far."""
    if _INTERRUPTED:
        raise KeyboardInterrupt


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line."""

    def error(self, message: str):  # noqa: D102 - argparse API
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``drumtx`` argument parser.

    A research command's own arguments are added only when ``command`` names it, so
    that parsing ``transcribe`` never imports the training stack.
    """
    from drumtx import __version__
    from drumtx.export.formats import DEFAULT_FORMATS, WRITERS

    parser = _Parser(prog=PROGRAM, description="Drum transcription: audio to drum sheet music.")
    parser.add_argument("--version", action="version", version=f"{PROGRAM} {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    transcribe = commands.add_parser("transcribe", help="transcribe audio files to scores and MIDI")
    transcribe.add_argument("inputs", nargs="+", metavar="AUDIO", help="audio files or folders")
    transcribe.add_argument("-o", "--out", required=True, metavar="OUTDIR", help="output folder")
    transcribe.add_argument(
        "--format",
        default=",".join(DEFAULT_FORMATS),
        help=f"comma-separated output formats among {', '.join(WRITERS)} (default: %(default)s)",
    )
    transcribe.add_argument("--force", action="store_true", help="overwrite existing outputs")
    transcribe.add_argument("--model", metavar="DIR", help="model folder (default: bundled model)")
    transcribe.add_argument(
        "--no-rhythm", action="store_true", help="skip beat tracking (score on a plain grid)"
    )
    transcribe.add_argument(
        "--rhythm", choices=RHYTHM_CHOICES, default=RHYTHM_CHOICES[0],
        help="how beats are found: hybrid = the network's beat head at the tempo madmom finds "
        "on a 20-s excerpt; madmom = madmom on the whole audio (slower, most reliable tempo); "
        "head = the beat head alone (fastest) (default: %(default)s)",
    )
    transcribe.add_argument(
        "--fast-rhythm", action="store_true", help="same as --rhythm head",
    )
    transcribe.add_argument(
        "--sensitivity", type=_sensitivity, default=1.0, metavar="S",
        help="divide every drum class's tuned threshold by S: above 1 more hits (try 1.5-3 "
        "when the drums sit far under the band), below 1 fewer (default: %(default)s)",
    )
    transcribe.add_argument(
        "--jobs", type=_positive_int, default=1, metavar="N",
        help="worker processes for many files, each loading the model once (default: 1)",
    )
    transcribe.set_defaults(handler=run_transcribe)

    for name, (module_name, summary) in RESEARCH_COMMANDS.items():
        sub = commands.add_parser(name, help=summary)
        sub.set_defaults(handler=_research_handler(module_name, name in KERAS_COMMANDS))
        if command == name:
            if name in KERAS_COMMANDS:
                import_tensorflow_quietly()
            import_module(module_name).add_arguments(sub)
    return parser


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up notices kept off the terminal.

    TensorFlow writes informational lines to file descriptor 2 before its logging is
    configured (``TF_CPP_MIN_LOG_LEVEL`` does not reach them), so stderr is pointed at
    ``/dev/null`` for the duration of the import only.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    with silenced_stderr():
        import tensorflow  # noqa: F401


def _research_handler(module_name: str, needs_keras: bool):
    def handler(args: argparse.Namespace) -> int:
        if needs_keras:
            import_tensorflow_quietly()
        return int(import_module(module_name).run(args) or 0)

    return handler


def parse_formats(text: str) -> list[str]:
    """Split ``"mscx,mid"`` into known format names, in order, without repeats."""
    from drumtx.export.formats import WRITERS

    formats = []
    for name in (part.strip().lower().lstrip(".") for part in text.split(",")):
        if name == "midi":
            name = "mid"
        if name not in WRITERS:
            raise DrumtxError(f"unknown format {name!r} (choose from {', '.join(WRITERS)})")
        if name not in formats:
            formats.append(name)
    if not formats:
        raise DrumtxError("no output format given")
    return formats


def collect_inputs(inputs: Sequence[str]) -> list[Path]:
    """Expand folders into the audio files they contain; check that every input exists."""
    from drumtx.audio import AUDIO_EXTENSIONS

    files: list[Path] = []
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            found = sorted(
                p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
            )
            if not found:
                raise DrumtxError(f"{path}: no audio files ({' '.join(AUDIO_EXTENSIONS)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise DrumtxError(f"{path}: no such file or folder")
    stems = [file.stem for file in files]
    repeated = sorted({stem for stem in stems if stems.count(stem) > 1})
    if repeated:
        raise DrumtxError(f"several inputs would write the same outputs: {', '.join(repeated)}")
    return files


def output_paths(audio_path: Path, out_dir: Path, formats: Sequence[str]) -> dict[str, Path]:
    """``OUTDIR/<input stem>.<ext>`` for each format."""
    return {name: out_dir / f"{audio_path.stem}.{name}" for name in formats}


def run_transcribe(args: argparse.Namespace) -> int:
    """Transcribe every input; one file's failure is reported and the others go on."""
    formats = parse_formats(args.format)
    files = collect_inputs(args.inputs)
    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        raise DrumtxError(f"{out_dir}: exists and is not a folder")
    if not args.force:
        for file in files:
            for path in output_paths(file, out_dir, formats).values():
                if path.exists():
                    raise DrumtxError(f"{path} exists (use --force to overwrite)")

    from drumtx.audio import check_audio

    failures = 0
    readable = []
    for file in files:
        try:
            check_audio(file)
            readable.append(file)
        except DrumtxError as error:
            failures += 1
            print(f"{PROGRAM}: error: {error}", file=sys.stderr)
    if not readable:
        return EXIT_ERROR

    tasks = [(file, output_paths(file, out_dir, formats)) for file in readable]
    options = (
        args.model, False if args.no_rhythm else args.rhythm, args.fast_rhythm, args.force,
        args.sensitivity,
    )
    if args.jobs > 1 and len(tasks) > 1:
        from drumtx.runtime import existing_model_path

        existing_model_path(args.model)  # a missing model fails once, before any worker starts
        outcomes = _run_in_workers(tasks, options, min(args.jobs, len(tasks)))
    else:
        _load_worker(*options)
        outcomes = map(_transcribe_one, _progress(tasks))
    for ok, message in outcomes:
        if ok:
            print(message)
        else:
            failures += 1
            print(f"{PROGRAM}: error: {message}", file=sys.stderr)
    if failures:
        print(f"{PROGRAM}: {failures} of {len(files)} files failed", file=sys.stderr)
        return EXIT_ERROR
    return 0


_WORKER: dict = {}
"""Per-process state of transcription workers: the loaded model and options."""


def _load_worker(
    model_dir: str | None, rhythm: bool | str, fast_rhythm: bool, force: bool,
    sensitivity: float,
) -> None:
    """Load the model once in this process (the initializer of every worker)."""
    with _interrupts_exit(True), silenced_stderr():  # a Keras fallback's TensorFlow notices
        from drumtx.pipeline import Transcriber

        transcriber = Transcriber.load(model_dir)
    _WORKER.update(
        transcriber=transcriber, rhythm=rhythm, fast_rhythm=fast_rhythm, force=force,
        sensitivity=sensitivity,
    )


def _init_worker_process(*options) -> None:
    """Initializer of worker processes: the parent alone handles Ctrl-C; it stops workers
    with SIGTERM, on which they exit at once, or after removing what they were writing."""
    global _INTERRUPT_EXITS
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _on_interrupt)
    _INTERRUPT_EXITS = True
    try:
        _load_worker(*options)
    except DrumtxError as error:  # reported once per file, as the single-process run does
        _WORKER["load_error"] = str(error)


def _transcribe_one(task: tuple[Path, dict[str, Path]]) -> tuple[bool, str]:
    """Transcribe one file and write its outputs; ``(ok, summary or error message)``."""
    file, paths = task
    if "load_error" in _WORKER:
        return False, _WORKER["load_error"]
    try:
        with _interrupts_exit(True):
            result = _WORKER["transcriber"].transcribe(
                file, rhythm=_WORKER["rhythm"], fast_rhythm=_WORKER["fast_rhythm"],
                sensitivity=_WORKER["sensitivity"],
            )
        written = write_outputs(result, paths, _WORKER["force"])
    except DrumtxError as error:
        return False, str(error)
    except KeyboardInterrupt:
        if _INTERRUPT_EXITS:  # a worker process stopped by its parent, its outputs removed
            _exit_interrupted()
        raise
    counts = result.drum_counts()
    summary = " ".join(f"{name}:{count}" for name, count in counts.items() if count)
    names = ", ".join(path.name for path in written)
    return True, f"{file.name}: {len(result.drums)} drum hits ({summary or 'none'}) -> {names}"


WORKER_STOPPED = "a worker process stopped unexpectedly"
"""The failure reported for each file a crashed worker process left unfinished."""


def _run_in_workers(tasks, options, n_workers: int, work=_transcribe_one):
    """Transcribe tasks in ``n_workers`` fresh processes; results in input order.

    If a worker process dies (a crash in a native library, the out-of-memory killer), the
    files it left unfinished are reported as failures instead of waiting for them forever.
    On any exception here (Ctrl-C included) the workers are stopped with SIGTERM, on which
    they remove what they were writing.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    executor = ProcessPoolExecutor(
        n_workers, mp_context=multiprocessing.get_context("spawn"),
        initializer=_init_worker_process, initargs=options,
    )
    try:
        futures = [executor.submit(work, task) for task in tasks]
        for (file, _), future in _progress_iter(zip(tasks, futures, strict=True), len(tasks)):
            try:
                yield future.result()
            except BrokenProcessPool:
                yield False, f"{file}: {WORKER_STOPPED}"
    except BaseException:
        _stop_workers(executor)
        raise
    executor.shutdown(wait=True)


def _stop_workers(executor) -> None:
    """Send SIGTERM to an executor's worker processes and wait for them to exit."""
    processes = list((executor._processes or {}).values())  # no public accessor before 3.14
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join()


def probability(text: str) -> float:
    """argparse type: a number in [0, 1] (the probability options of ``train`` and the factory)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def _sensitivity(text: str) -> float:
    """argparse type: a positive, finite number (``transcribe --sensitivity``; the rule is
    :func:`drumtx.decode.check_sensitivity`)."""
    from drumtx.decode import check_sensitivity

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return check_sensitivity(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def write_outputs(result, paths: dict[str, Path], force: bool) -> list[Path]:
    """Write every format; if one fails, remove the ones this call already wrote."""
    from drumtx.export.formats import writer_for

    written: list[Path] = []
    try:
        with _interrupts_exit(False):
            for name, path in paths.items():
                _check_interrupted()
                written.append(writer_for(name)(result, path, force=force))
            _check_interrupted()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written


def _progress(items: list):
    """The items, with a progress bar on stderr when several are transcribed at a terminal."""
    return _progress_iter(items, len(items))


def _progress_iter(items, total: int):
    if total < 2 or not sys.stderr.isatty():
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, unit="file", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``drumtx`` console script."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        argv = list(sys.argv[1:] if argv is None else argv)
        command = next((word for word in argv if not word.startswith("-")), None)
        args = build_parser(command).parse_args(argv)
        status = args.handler(args)
        _check_interrupted()
        return status
    except DrumtxError as error:
        print(f"{PROGRAM}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print(f"{PROGRAM}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as error:
        if _INTERRUPTED:  # a library turned the interrupt into another exception
            print(f"{PROGRAM}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if os.environ.get(DEBUG_VARIABLE):
            raise
        print(f"{PROGRAM}: error: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
