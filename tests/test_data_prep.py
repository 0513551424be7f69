"""Tests of the training-data factory (they render real audio from the installed Debian sources)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from data_prep import build, check, groove, kits, patterns, sampler, songs, sources, stats
from drumtx.features import FRAMES_PER_SECOND, SAMPLE_RATE
from drumtx.vocab import (
    AVL_KIT_NOTE_TO_GM,
    DRUM_CLASSES,
    GM_TO_CLASS,
    PITCH_MAX,
    PITCH_MIN,
)

MAX_ONSET_ERROR_MS = 5.0
MAX_REVOICED_ONSET_ERROR_MS = 1000.0 / FRAMES_PER_SECOND
"""Re-voiced pieces (retuned, filtered) may build up more slowly, but within one feature frame."""
CHARACTER_SEEDS = (0, 1, 2)
BEAT_SONGS = 6
"""Straight (unswung) generator songs checked against their beat labels."""
BEAT_SONG_SECONDS = 12.0
GRID_TOLERANCE_S = groove.HUMANISE_MAX_S + 0.002
"""A hit is on the grid when within the humanising limit (plus rounding) of a grid point."""
GRID_SUBDIVISIONS = (4, 3)
"""Sixteenths and eighth-note triplets of the beat."""
MIN_ON_GRID = 0.85
MIN_DOWNBEAT_KICK_RATE = 0.8
KICK_NEAR_BEAT_S = 0.02
TINY_MINUTES = 0.35
TWO_SONG_MINUTES = 1.05
"""Songs are at most 60 s long, so this always plans at least two songs."""

@pytest.fixture
def _sound_sources():
    """Fail (never skip) when the Debian sound sources are missing."""
    for name in ("hydrogen_kits", "fluid_sf2"):
        assert sources.available(name), (
            f"sound source {name} is not installed (run data_prep/install_sounds.sh)"
        )


needs_kits = pytest.mark.usefixtures("_sound_sources")


def _checksums(out: Path) -> dict[str, str]:
    files = sorted(p for p in out.rglob("*") if p.is_file() and ".parts" not in p.parts)
    return {str(p.relative_to(out)): hashlib.md5(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def tiny_build(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny")
    build.build("test", TINY_MINUTES, 11, out, jobs=1, progress=False)
    return out


# ----------------------------------------------------------------------------- labels on audio


@needs_kits
def test_single_hits_sit_on_their_labels_for_every_class_and_kit_family():
    frame = check.single_hit_offsets()
    families = {spec.family for split in build.SPLITS for spec in kits.kits_for_split(split)}
    assert set(frame["family"]) == families
    assert set(frame["class"]) == set(DRUM_CLASSES)
    worst = frame.loc[frame["error_ms"].abs().idxmax()]
    assert frame["error_ms"].abs().max() <= MAX_ONSET_ERROR_MS, worst.to_dict()
    assert frame["onset_s"].notna().all()


@needs_kits
@pytest.mark.parametrize("seed", CHARACTER_SEEDS)
def test_revoiced_pieces_still_sit_on_their_labels(seed):
    frame = check.single_hit_offsets(character_seed=seed)
    plain = check.single_hit_offsets()
    assert len(frame) == len(plain)
    worst = frame.loc[frame["error_ms"].abs().idxmax()]
    assert frame["error_ms"].abs().max() <= MAX_REVOICED_ONSET_ERROR_MS, worst.to_dict()


def test_apply_character_retunes_damps_and_scales():
    rng = np.random.default_rng(0)
    seconds = 1.0
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = (np.sin(2 * np.pi * 200 * t) * np.exp(-t / 0.5)).astype(np.float32)
    plain = sampler.PieceCharacter(semitones=0.0, gain_db=0.0, eq=())
    np.testing.assert_allclose(sampler.apply_character(tone, plain), tone, atol=1e-6)
    louder = sampler.apply_character(tone, sampler.PieceCharacter(0.0, 6.0, ()))
    assert np.max(np.abs(louder)) / np.max(np.abs(tone)) == pytest.approx(10 ** (6 / 20), rel=1e-4)
    lower = sampler.apply_character(tone, sampler.PieceCharacter(-12.0, 0.0, ()))
    assert len(lower) == pytest.approx(2 * len(tone), abs=2)  # an octave down lasts twice as long
    crossings = np.sum(np.diff(np.sign(lower[: len(tone)])) != 0) / seconds
    assert crossings == pytest.approx(2 * 100, rel=0.02)  # 100 Hz: 200 zero crossings a second
    damped = sampler.apply_character(tone, sampler.PieceCharacter(0.0, 0.0, (), decay_s=0.05))
    assert len(damped) < len(tone)
    hold = int(sampler.PIECE_DECAY_HOLD_S * SAMPLE_RATE)
    np.testing.assert_allclose(damped[:hold], tone[:hold], atol=1e-6)
    later = slice(hold + int(0.2 * SAMPLE_RATE), len(damped))
    assert np.max(np.abs(damped[later])) < 0.05 * np.max(np.abs(tone[later]))
    notch = sampler.PieceCharacter(0.0, 0.0, (("pk", 200.0, 1.0, -9.0),))
    cut = sampler.apply_character(tone, notch)
    late = slice(SAMPLE_RATE // 4, SAMPLE_RATE // 2)  # steady state, past the filter's transient
    ratio = np.sqrt(np.mean(cut[late] ** 2) / np.mean(tone[late] ** 2))
    assert 20 * np.log10(ratio) == pytest.approx(-9.0, abs=0.5)
    characters = sampler.draw_piece_characters(kits.Kit("k", "f", {36: [], 42: [], 46: []}), rng)
    assert sorted(characters) == [36, 42]  # the hi-hat's notes are one piece
    for character in characters.values():
        assert abs(character.semitones) <= sampler.PIECE_SEMITONES
        assert abs(character.gain_db) <= sampler.PIECE_GAIN_DB


@needs_kits
def test_piece_variation_changes_the_drums_not_the_labels():
    plan = songs.SongPlan(songs.song_id("train", 3, 1), "train", 3, 1, 12.0, "")
    plain = songs.make_song(plan)
    varied = songs.make_song(dataclasses.replace(plan, piece_variation=1.0))
    assert "piece_character" in varied["meta"]["variations"]
    assert "piece_character" not in plain["meta"]["variations"]
    assert varied["drum_rows"] == plain["drum_rows"] and varied["note_rows"] == plain["note_rows"]
    assert abs(np.corrcoef(varied["drums"], plain["drums"])[0, 1]) < 0.9
    again = songs.make_song(dataclasses.replace(plan, piece_variation=1.0))
    np.testing.assert_array_equal(again["mix"], varied["mix"])


@needs_kits
def test_hihat_choke_cuts_the_open_hihat():
    kit = kits.load_kit("GMRockKit")
    open_hat, closed_hat = (DRUM_CLASSES.index(c) for c in ("OHH", "CHH"))
    assert open_hat >= 0 and closed_hat >= 0
    gm_open = next(n for n, c in GM_TO_CLASS.items() if c == "OHH")
    gm_closed = next(n for n, c in GM_TO_CLASS.items() if c == "CHH")
    n = SAMPLE_RATE
    alone = sampler.render_drums(kit, np.array([[0.1, gm_open, 100]]), n,
                                 np.random.default_rng(0), vary_hits=False)
    choked = sampler.render_drums(kit, np.array([[0.1, gm_open, 100], [0.3, gm_closed, 1]]), n,
                                  np.random.default_rng(0), vary_hits=False)
    late = slice(int(0.45 * SAMPLE_RATE), int(0.9 * SAMPLE_RATE))
    assert np.sqrt(np.mean(alone[late] ** 2)) > 0
    assert np.sqrt(np.mean(choked[late] ** 2)) < 0.05 * np.sqrt(np.mean(alone[late] ** 2))


# ----------------------------------------------------------------------------- note maps


@needs_kits
def test_hydrogen_instrument_names_map_to_gm():
    forzee = kits.hydrogen_kit_map("ForzeeStereo")
    assert forzee['Snare (Pearl Free Floating Maple 14x3.5)'] in (38, 40)
    assert GM_TO_CLASS[forzee['Rim Click (Pearl Free Floating Maple 14x3.5)']] == "SS"
    assert GM_TO_CLASS[forzee['China (Paiste Alpha 18")']] == "CS"
    assert forzee["Stick"] is None
    assert GM_TO_CLASS[kits.hydrogen_kit_map("Audiophob")["Open HH"]] == "OHH"
    for spec in kits.KITS:
        if spec.kind == "hydrogen":
            classes = kits.load_kit(spec.name).classes()
            assert {"KD", "SD", "CHH"} <= classes, spec.name


def test_avl_map_is_not_gm():
    assert GM_TO_CLASS[AVL_KIT_NOTE_TO_GM[43]] == "LT"  # floor tom again
    assert 48 not in AVL_KIT_NOTE_TO_GM  # hi-hat swish
    assert all(note not in AVL_KIT_NOTE_TO_GM for note in (50, 52, 58))  # chokes


# ----------------------------------------------------------------------------- splits


def test_splits_share_no_kit_family_or_pattern_source():
    families = {split: {s.family for s in kits.KITS if s.split == split} for split in build.SPLITS}
    assert not families["train"] & families["val"]
    assert not families["train"] & families["test"]
    assert not families["val"] & families["test"]
    patterns = {split: set(build.PATTERN_SOURCES[split]) for split in build.SPLITS}
    assert not patterns["train"] & patterns["val"]
    assert not patterns["train"] & patterns["test"]
    assert not patterns["val"] & patterns["test"]
    assert {"BJA_Pacific", "Audiophob"} == {s.name for s in kits.KITS if s.split == "test"}


def test_missing_source_names_the_debian_package():
    missing = sources.Source("nothing", "/nonexistent/drumtx/path", "some-debian-package")
    with pytest.raises(sources.SourceMissingError) as error:
        missing.require()
    message = str(error.value)
    assert "some-debian-package" in message and "\n" not in message


# ----------------------------------------------------------------------------- groove


def test_generator_and_performance_stay_in_bounds():
    rng = np.random.default_rng(3)
    for _ in range(20):
        drums, style, tempo, bars = groove.generate(rng, 20.0)
        assert style in groove.STYLES
        assert groove.MIN_TEMPO_BPM <= tempo <= groove.MAX_TEMPO_BPM
        assert bars * 4 * 60 / tempo >= 20.0
        varied, _ = groove.vary(drums, 4, bars * 4, rng)
        performed, _ = groove.perform(varied, np.zeros((0, 5)), tempo, rng, timing_sd_s=0.02)
        straight = np.sort(varied[:, 0] * 60 / tempo)
        assert np.all(np.abs(np.sort(performed[:, 0]) - straight) <= groove.HUMANISE_MAX_S + 1e-9)
        assert set(performed[:, 2]) <= set(range(1, 128))


# ----------------------------------------------------------------------------- builds


@needs_kits
def test_tiny_build_has_the_exact_layout(tiny_build: Path):
    manifest = pd.read_csv(tiny_build / "manifest.csv")
    assert list(manifest.columns)[:10] == [
        "id", "split", "seconds", "tempo", "kit", "kit_family", "pattern_source", "mix_level_db",
        "augmentations", "seed",
    ]
    assert len(manifest) >= 1 and (manifest["split"] == "test").all()
    assert abs(manifest["seconds"].sum() - TINY_MINUTES * 60) < 1.0
    for row in manifest.itertuples():
        for stem in ("mix", "drums"):
            audio, rate = sf.read(tiny_build / "audio" / f"{row.id}.{stem}.flac")
            assert rate == SAMPLE_RATE and audio.ndim == 1
            assert abs(len(audio) / rate - row.seconds) < 1e-3
            assert np.max(np.abs(audio)) > 0.01
        drums = pd.read_csv(tiny_build / "labels" / f"{row.id}.drums.tsv", sep="\t")
        assert list(drums.columns) == ["onset_s", "gm_note", "class", "velocity"]
        assert len(drums) == row.n_drum_hits > 0
        assert drums["class"].isin(DRUM_CLASSES).all()
        assert (drums["gm_note"].map(GM_TO_CLASS) == drums["class"]).all()
        assert drums["onset_s"].between(0, row.seconds).all()
        assert drums["velocity"].between(1, 127).all()
        notes = pd.read_csv(tiny_build / "labels" / f"{row.id}.notes.tsv", sep="\t")
        assert list(notes.columns) == ["onset_s", "offset_s", "midi_pitch", "velocity", "program"]
        assert notes["midi_pitch"].between(PITCH_MIN, PITCH_MAX).all()
        assert (notes["offset_s"] > notes["onset_s"]).all()
        assert notes["program"].between(0, 127).all()
        beats = pd.read_csv(tiny_build / "labels" / f"{row.id}.beats.tsv", sep="\t")
        assert list(beats.columns) == ["time_s", "position"]
        assert len(beats) == row.n_beats > 0
        assert beats["time_s"].iloc[0] == pytest.approx(row.lead_s, abs=1e-6)
        assert np.allclose(np.diff(beats["time_s"]), 60.0 / row.tempo, atol=1e-3)
        expected = np.arange(len(beats)) % row.beats_per_bar + 1
        assert (beats["position"].to_numpy() == expected).all()
        assert beats["time_s"].between(0, row.seconds).all()
    assert not list(tiny_build.rglob("*.part"))
    text = stats.report(tiny_build)
    assert "KD" in text and "minutes" in text


@needs_kits
def test_same_seed_gives_identical_files_whatever_the_jobs(tmp_path: Path):
    first, second = tmp_path / "a", tmp_path / "b"
    build.build("train", TWO_SONG_MINUTES, 5, first, jobs=1, progress=False)
    build.build("train", TWO_SONG_MINUTES, 5, second, jobs=2, progress=False)
    sums = _checksums(first)
    assert len(sums) >= 11  # two songs of five files each, and the manifest
    assert sums == _checksums(second)


@needs_kits
def test_build_resumes_and_skips_finished_songs(tiny_build: Path, tmp_path: Path):
    out = tmp_path / "resume"
    out.mkdir()
    for path in tiny_build.rglob("*"):
        if path.is_file():
            target = out / path.relative_to(tiny_build)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    before = _checksums(out)
    again = build.build("test", TINY_MINUTES, 11, out, jobs=1, progress=False)
    assert again["rendered_songs"] == 0
    victim = sorted((out / ".parts").glob("*.json"))[0]
    victim.unlink()  # as if the build had been killed before the song was finished
    again = build.build("test", TINY_MINUTES, 11, out, jobs=1, progress=False)
    assert again["rendered_songs"] == 1
    assert _checksums(out) == before


@needs_kits
def test_beat_labels_sit_on_the_drum_grid_and_downbeats_on_bar_starts():
    checked = 0
    downbeat_kicks: dict[int, list[bool]] = {}
    for index in range(60):
        plan = songs.SongPlan(songs.song_id("train", 3, index), "train", 3, index,
                              BEAT_SONG_SECONDS, "")
        song = songs.make_song(plan)
        meta = song["meta"]
        if not meta["pattern"].startswith("generator:") or "swing" in meta["variations"]:
            continue
        assert meta["beats_per_bar"] == 4
        times = np.array([t for t, _ in song["beat_rows"]])
        positions = np.array([p for _, p in song["beat_rows"]])
        assert times[0] == pytest.approx(meta["lead_s"], abs=1e-6)
        assert np.allclose(np.diff(times), 60.0 / meta["tempo"])
        hits = pd.DataFrame(song["drum_rows"], columns=list(songs.DRUM_HEADER))
        kick_snare = hits.loc[hits["class"].isin(["KD", "SD"]), "onset_s"].to_numpy()
        beat_s = 60.0 / meta["tempo"]
        on_grid = np.zeros(len(kick_snare), dtype=bool)
        for subdivision in GRID_SUBDIVISIONS:  # distance to the nearest grid point, seconds
            phase = (kick_snare - meta["lead_s"]) / beat_s * subdivision
            on_grid |= np.abs(phase - np.round(phase)) * beat_s / subdivision < GRID_TOLERANCE_S
        assert on_grid.mean() >= MIN_ON_GRID, meta["pattern"]
        kicks = hits.loc[hits["class"] == "KD", "onset_s"].to_numpy()
        for time, position in zip(times, positions, strict=True):
            near = bool(len(kicks)) and np.min(np.abs(kicks - time)) < KICK_NEAR_BEAT_S
            downbeat_kicks.setdefault(int(position), []).append(near)
        checked += 1
        if checked == BEAT_SONGS:
            break
    assert checked == BEAT_SONGS
    rates = {position: float(np.mean(v)) for position, v in downbeat_kicks.items()}
    assert rates[1] >= MIN_DOWNBEAT_KICK_RATE  # every style puts a kick on the bar line
    assert rates[1] >= max(rates.values())


def test_beat_grid_and_label_metre():
    rows = songs.beat_grid(120.0, 3, 0.25, 3.0)
    assert [p for _, p in rows] == [1, 2, 3, 1, 2, 3]
    assert np.allclose([t for t, _ in rows], 0.25 + 0.5 * np.arange(6))
    assert songs.label_beats_per_bar(3.0) == 3
    assert songs.label_beats_per_bar(6.0) == 6
    assert songs.label_beats_per_bar(3.5) == songs.DEFAULT_BEATS_PER_BAR
    text = songs.format_beat_labels(rows[:2])
    assert text.splitlines() == ["time_s\tposition", "0.250000\t1", "0.750000\t2"]


def test_same_class_doubles_are_merged_but_flams_kept():
    kd_a, kd_b = (n for n in sorted(GM_TO_CLASS) if GM_TO_CLASS[n] == "KD")
    sd = next(n for n in sorted(GM_TO_CLASS) if GM_TO_CLASS[n] == "SD")
    hits = np.array([[0.100, kd_a, 100], [0.104, kd_b, 110], [0.200, sd, 40], [0.225, sd, 100]])
    merged = sampler.merge_same_class(hits)
    assert merged.tolist() == [[0.104, kd_b, 110], [0.200, sd, 40], [0.225, sd, 100]]


def test_midi_reader_reads_notes_programs_tempo_and_metre():
    import mido

    from data_prep import patterns

    drum = next(n for n in sorted(GM_TO_CLASS) if GM_TO_CLASS[n] == "SD")
    midi = mido.MidiFile(ticks_per_beat=480)
    meta, melody = mido.MidiTrack(), mido.MidiTrack()
    midi.tracks += [meta, melody]
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90)))
    meta.append(mido.MetaMessage("time_signature", numerator=3, denominator=4))
    melody.append(mido.Message("program_change", channel=0, program=40, time=0))
    melody.append(mido.Message("note_on", channel=0, note=60, velocity=80, time=0))
    melody.append(mido.Message("note_on", channel=9, note=drum, velocity=100, time=240))
    melody.append(mido.Message("note_off", channel=0, note=60, velocity=0, time=720))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    score = patterns.score_from_midi(buffer.getvalue(), "unit", "unit")
    assert score.tempo_bpm == pytest.approx(90.0)
    assert score.beats_per_bar == 3.0
    assert score.drums.tolist() == [[0.5, drum, 100]]
    assert score.notes.tolist() == [[0.0, 2.0, 60, 80, 40]]


def test_band_layer_follows_the_lowest_voice_with_power_chords_and_bass():
    from data_prep import band

    notes = np.array([  # onset, offset, pitch, velocity, program
        [0.00, 0.50, 64, 90, 0], [0.01, 0.50, 57, 90, 0],  # one chord: A3 is its lowest note
        [0.50, 1.00, 62, 90, 0],                              # D4 alone
    ], dtype=float)
    added = []
    for seed in range(40):  # the layer is random: find a song with guitar and bass
        out, description = band.add_band_layer(notes, np.random.default_rng(seed))
        if "bass" in description:
            added = out[len(notes):]
            break
    assert len(added) == 8 and description.startswith("band(guitar")
    guitar = added[np.isin(added[:, 4], band.GUITAR_PROGRAMS)]
    bass = added[np.isin(added[:, 4], band.BASS_PROGRAMS)]
    np.testing.assert_array_equal(guitar[:, 2], [45, 50, 52, 57, 57, 62])  # A2, D3 + 5th, 8ve
    np.testing.assert_array_equal(np.sort(guitar[:, 0]), [0.01, 0.01, 0.01, 0.5, 0.5, 0.5])
    np.testing.assert_array_equal(bass[:, 2], [33, 38])  # A1, D2
    np.testing.assert_array_equal(bass[:, 1], [0.5, 1.0])
    none = [band.add_band_layer(notes, np.random.default_rng(seed))[1] for seed in range(40)]
    assert 5 < none.count("") < 35  # about half the songs


def test_band_layer_locks_bass_to_kicks_and_guitar_to_the_drums():
    from data_prep import band

    notes = np.array([[0.0, 1.0, 57, 90, 0], [1.0, 2.0, 62, 90, 0]], dtype=float)  # A3, D4
    drums = np.array([  # onset s, GM note, velocity: kicks on 0, 0.5, 1.5; hats every 0.25 s
        *[[t, 36, 100] for t in (0.0, 0.5, 1.5)],
        *[[t, 42, 80] for t in np.arange(0.0, 2.0, 0.25)],
        [1.0, 49, 110],
    ], dtype=float)
    seen = set()
    for seed in range(200):
        out, description = band.add_band_layer(notes, np.random.default_rng(seed), drums)
        added = out[len(notes):]
        bass = added[np.isin(added[:, 4], band.BASS_PROGRAMS)]
        guitar = added[np.isin(added[:, 4], band.GUITAR_PROGRAMS)]
        roots = np.sort(guitar[:, 0])[::3]  # one onset per power chord
        if "/kick" in description:
            seen.add("kick")
            assert np.abs(bass[:, 0] - [0.0, 0.5, 1.5]).max() <= band.LOCK_TIMING_MAX_S + 1e-9
            np.testing.assert_array_equal(bass[:, 2], [33, 33, 38])  # A1, A1, D2
            assert np.all(bass[:, 1] > bass[:, 0])
            assert np.all(bass[:-1, 1] <= bass[1:, 0])  # each ends before the next starts
        if "/chug" in description:
            seen.add("chug")
            assert len(roots) == 8
            assert np.abs(roots - np.arange(0.0, 2.0, 0.25)).max() <= band.LOCK_TIMING_MAX_S + 1e-9
        if "/accent" in description:
            seen.add("accent")
            assert np.abs(roots - [0.0, 0.5, 1.0, 1.5]).max() <= band.LOCK_TIMING_MAX_S + 1e-9
        if description and "/" not in description.split(",")[0]:
            seen.add("follow")
            np.testing.assert_array_equal(roots, [0.0, 1.0])  # the lowest voice's rhythm
    assert seen == {"kick", "chug", "accent", "follow"}


def test_band_layer_needs_a_pitched_part():
    from data_prep import band

    empty = np.zeros((0, 5))
    for seed in range(10):
        out, description = band.add_band_layer(empty, np.random.default_rng(seed))
        assert len(out) == 0 and description == ""


def test_amp_adds_upper_harmonics_keeps_onsets_and_level():
    from data_prep import amp
    from drumtx.features import SAMPLE_RATE

    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    onset_s = 0.5
    note = np.where(t >= onset_s, np.sin(2 * np.pi * 110.0 * t) * np.exp(-(t - onset_s) * 3), 0.0)
    setting = amp.Amp(drive_db=30.0, bias=0.2, cabinet_hz=5000.0, level_db=0.0)
    out = amp.distort(note.astype(np.float32), setting)
    assert out.dtype == np.float32 and out.shape == note.shape
    assert np.sqrt(np.mean(out**2)) == pytest.approx(np.sqrt(np.mean(note**2)), rel=1e-3)

    def upper_share(x):  # energy above 1 kHz / all
        power = np.abs(np.fft.rfft(x)) ** 2
        return power[np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE) > 1000].sum() / power.sum()

    assert upper_share(out) > 0.005 > 50 * upper_share(note)
    envelope = np.abs(out) > 0.05 * np.abs(out).max()
    assert abs(np.argmax(envelope) / SAMPLE_RATE - onset_s) < 0.002  # onset stays put
    assert not np.any(amp.distort(np.zeros(100, np.float32), setting))
    louder = amp.distort(note.astype(np.float32), amp.Amp(30.0, 0.2, 5000.0, 6.0))
    assert np.sqrt(np.mean(louder**2)) / np.sqrt(np.mean(out**2)) == pytest.approx(2.0, rel=1e-2)


def test_songs_send_guitars_and_basses_through_an_amp(monkeypatch):
    from data_prep import amp, songs, synth

    rendered = []
    monkeypatch.setattr(synth, "render_pitched",
                        lambda notes, n, font: rendered.append(notes[:, 4].tolist()) or
                        np.full(n, 0.1 * len(notes), np.float32))
    notes = np.array([[0.0, 0.5, 60, 90, 0], [0.0, 0.5, 40, 90, 30], [0.0, 0.5, 28, 90, 33]])
    descriptions_seen = set()
    for seed in range(30):
        rendered.clear()
        audio, descriptions = songs.render_pitched_parts(notes, 1000, "font",
                                                         np.random.default_rng(seed))
        assert audio.shape == (1000,)
        played = sorted(p for part in rendered for p in part)
        assert played == [0, 30, 33]  # every note is rendered exactly once
        for text in descriptions:
            descriptions_seen.add(text.split(":")[0])
        assert len(rendered) == 1 + len(descriptions)
    assert descriptions_seen == {"amp(guitar", "amp(bass"}
    assert 0 < amp.P_BASS_AMP < amp.P_GUITAR_AMP < 1


def _band_energy(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    power = np.abs(np.fft.rfft(x)) ** 2
    frequency = np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE)
    return float(power[(frequency >= low_hz) & (frequency < high_hz)].sum())


def test_voice_sings_the_top_line_in_a_singers_range_with_consonants_before_the_vowels(
    monkeypatch,
):
    from data_prep import voice

    monkeypatch.setattr(voice, "P_CONSONANT", 1.0)
    monkeypatch.setattr(voice, "CONSONANTS", {"s": voice.CONSONANTS["s"]})
    # A chord (the top note, 64, is in a low voice's range) then a note an octave too high.
    notes = np.array([[0.5, 1.4, 48, 90, 0], [0.5, 1.4, 60, 90, 0], [0.51, 1.4, 64, 90, 0],
                      [1.5, 2.4, 72, 100, 0]])
    setting = voice.Voice(high=False, level_db=0.0, vibrato_hz=5.0, vibrato_cents=0.0)
    audio, sung = voice.sing(notes, 3 * SAMPLE_RATE, setting, np.random.default_rng(3))
    again, _ = voice.sing(notes, 3 * SAMPLE_RATE, setting, np.random.default_rng(3))
    assert audio.dtype == np.float32 and audio.shape == (3 * SAMPLE_RATE,)
    assert np.array_equal(audio, again)
    # Only the moved note is new to the labels: 72 sung as 60, labelled as a voice.
    assert sung.tolist() == [[1.5, 2.4, 60.0, 100.0, float(voice.VOICE_PROGRAM)]]

    def seconds(start, stop):
        return audio[int(start * SAMPLE_RATE) : int(stop * SAMPLE_RATE)]

    # The first vowel is pitched at E4 (329.6 Hz): its harmonics, not the chord's root.
    vowel = seconds(0.7, 1.3)
    f0 = 329.63
    on_harmonics = sum(_band_energy(vowel, k * f0 - 8, k * f0 + 8) for k in range(1, 6))
    between = sum(_band_energy(vowel, (k + 0.5) * f0 - 8, (k + 0.5) * f0 + 8) for k in range(5))
    assert on_harmonics > 100 * between
    assert _band_energy(vowel, 130.8 - 8, 130.8 + 8) < 1e-3 * on_harmonics
    # An "s" (noise above 5 kHz) leads into each vowel; silence before the first one.
    hiss = seconds(1.44, 1.5)
    assert _band_energy(hiss, 5000, 11000) > 0.5 * _band_energy(hiss, 0, 22050)
    assert not np.any(seconds(0.0, 0.3))
    assert not np.any(seconds(2.5, 3.0))  # the last note's release is over


def test_songs_add_a_voice_to_the_pitched_parts_and_its_moved_notes_to_the_labels(monkeypatch):
    from data_prep import voice

    monkeypatch.setattr(voice, "P_VOICE", 1.0)
    notes = np.array([[0.2, 0.9, 84, 90, 0], [1.0, 1.8, 86, 90, 0], [0.2, 1.8, 40, 90, 33]])
    rest = np.full(2 * SAMPLE_RATE, 0.01, np.float32)
    mixed, labels, description = songs.add_voice(rest, notes, np.random.default_rng(0))
    assert description.startswith("voice(")
    assert mixed.shape == rest.shape and np.any(mixed != rest)
    assert len(labels) == 5 and labels[:, 0].tolist() == sorted(labels[:, 0].tolist())
    assert (labels[:, 4] == voice.VOICE_PROGRAM).sum() == 2
    monkeypatch.setattr(voice, "P_VOICE", 0.0)
    unchanged = songs.add_voice(rest, notes, np.random.default_rng(0))
    assert unchanged[0] is rest and unchanged[1] is notes and unchanged[2] == ""


def test_reverberate_keeps_length_and_level_and_adds_a_tail():
    from data_prep import augment

    click = np.zeros(SAMPLE_RATE, np.float32)
    click[1000] = 1.0
    wet = augment.reverberate(click, rt60_s=0.5, wet=0.5, pre_delay_s=0.0, seed=1)
    assert wet.shape == click.shape and wet[1000] == pytest.approx(0.5, abs=0.05)
    assert np.sqrt(np.mean(wet[2000:] ** 2)) > 1e-4  # it rings on
    assert np.abs(wet[:1000]).max() < 1e-6  # nothing before the click
    np.testing.assert_array_equal(augment.reverberate(click, 0.5, 0.0, 0.0, 1), click)


@needs_kits
def test_band_reverb_changes_the_band_only(monkeypatch):
    plan = songs.SongPlan(songs.song_id("val", 5, 0), "val", 5, 0, 12.0, "")
    songs_dry, songs_wet = [], []
    for probability, out in ((0.0, songs_dry), (1.0, songs_wet)):
        monkeypatch.setattr(songs, "BAND_REVERB_PROBABILITY", probability)
        out.append(songs.make_song(plan))
    dry, wet = songs_dry[0], songs_wet[0]
    assert "band_reverb(" in wet["meta"]["variations"]
    assert "band_reverb(" not in dry["meta"]["variations"]
    assert dry["drum_rows"] == wet["drum_rows"] and dry["note_rows"] == wet["note_rows"]
    # the same drums, up to the final gain (set by the mix's peak) and the noise level
    assert np.corrcoef(wet["drums"], dry["drums"])[0, 1] > 0.99
    assert not np.allclose(wet["mix"], dry["mix"], atol=1e-3)


@pytest.mark.parametrize("value", ["2", "-0.1", "half"])
def test_build_refuses_a_piece_variation_outside_zero_to_one(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        build.main(["--split", "train", "--minutes", "1", "--out", str(tmp_path / "out"),
                    "--piece-variation", value])
    assert exit_info.value.code == 2
    assert "--piece-variation" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_silent_mma_groove_is_drawn_again_and_other_draws_are_unchanged():
    grooves = patterns.mma_grooves()
    silent = {i for i, name in enumerate(grooves) if name.lower() in patterns.MMA_SILENT_GROOVES}
    assert silent, "MMA's library defines the silent groove 'None'"

    def first_index(seed):
        return int(np.random.default_rng(seed).integers(len(grooves)))

    unlucky = next(seed for seed in range(100_000) if first_index(seed) in silent)
    rng = np.random.default_rng(unlucky)
    rng.integers(len(grooves))
    expected = grooves[int(rng.integers(len(grooves)))]
    assert patterns.draw_mma_groove(np.random.default_rng(unlucky)) == expected
    assert expected.lower() not in patterns.MMA_SILENT_GROOVES
    for seed in range(20):
        if first_index(seed) not in silent:
            drawn = patterns.draw_mma_groove(np.random.default_rng(seed))
            assert drawn == grooves[first_index(seed)]


# ----------------------------------------------------------------------------- realism levers

GMD_TD11_NOTES = (22, 26, 36, 37, 38, 40, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 55, 57,
                  58, 59)
"""Every note the Groove MIDI Dataset's 1,150 files play (its documented TD-11 map)."""


def _midi_bytes(drum_notes, tempo_bpm=100.0, numerator=4):
    import mido

    midi = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    midi.tracks.append(track)
    track.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)))
    track.append(mido.MetaMessage("time_signature", numerator=numerator, denominator=4))
    for note in drum_notes:
        track.append(mido.Message("note_on", channel=9, note=note, velocity=90, time=240))
        track.append(mido.Message("note_off", channel=9, note=note, velocity=0, time=0))
    buffer = io.BytesIO()
    midi.save(file=buffer)
    return buffer.getvalue()


def test_td11_map_covers_every_groove_midi_note_and_lands_on_drum_classes():
    from drumtx.vocab import TD11_NOTE_TO_GM

    assert set(TD11_NOTE_TO_GM) == set(GMD_TD11_NOTES)
    assert all(gm in GM_TO_CLASS for gm in TD11_NOTE_TO_GM.values())
    expected = {22: "CHH", 26: "OHH", 44: "PHH", 58: "LT", 55: "CR", 52: "CR", 40: "SD",
                37: "SS", 53: "RB", 59: "RD"}
    for td11, cls in expected.items():
        assert GM_TO_CLASS[TD11_NOTE_TO_GM[td11]] == cls


def test_groove_midi_files_are_read_through_the_td11_map_and_unknown_notes_refused():
    from drumtx.vocab import TD11_NOTE_TO_GM

    score = patterns.score_from_midi(_midi_bytes(GMD_TD11_NOTES), "gmd_train", "unit",
                                     TD11_NOTE_TO_GM)
    assert len(score.drums) == len(GMD_TD11_NOTES)  # no hit dropped
    played = [GM_TO_CLASS[int(n)] for n in score.drums[:, 1]]
    assert played == [GM_TO_CLASS[TD11_NOTE_TO_GM[n]] for n in GMD_TD11_NOTES]
    with pytest.raises(patterns.UnmappedNoteError):
        patterns.score_from_midi(_midi_bytes([36, 61]), "gmd_train", "unit", TD11_NOTE_TO_GM)


def _fake_gmd(root: Path) -> None:
    rows = ["drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,"
            "audio_filename,duration,split"]
    for i, (split, kind) in enumerate([("train", "beat"), ("train", "fill"),
                                       ("validation", "beat"), ("test", "beat")]):
        name = f"drummer1/session1/{i}_rock_100_{kind}_4-4.mid"
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(_midi_bytes([36, 22, 38, 22] * 16))
        rows.append(f"drummer1,drummer1/session1,x/{i},rock,100,{kind},4-4,{name},,10.0,{split}")
    (root / "info.csv").write_text("\n".join(rows) + "\n")


@needs_kits
def test_gmd_source_keeps_the_datasets_splits_and_plays_its_grooves(tmp_path, monkeypatch):
    _fake_gmd(tmp_path)
    monkeypatch.setenv("DRUMTX_GMD", str(tmp_path))
    assert patterns.gmd_pieces("gmd_train") == (
        "drummer1/session1/0_rock_100_beat_4-4.mid", "drummer1/session1/1_rock_100_fill_4-4.mid")
    fill = "drummer1/session1/1_rock_100_fill_4-4.mid"
    assert patterns.gmd_pieces("gmd_train", "fill") == (fill,)
    assert patterns.gmd_pieces("gmd_val") == ("drummer1/session1/2_rock_100_beat_4-4.mid",)
    assert set(songs.available_sources("val", gmd_weight=1.0)) == {"openmsx", "gmd_val"}
    assert "gmd_train" not in songs.available_sources("train")
    plan = songs.plan_songs("train", TINY_MINUTES, 3, tmp_path, gmd_weight=1000.0)[0]
    song = songs.make_song(plan)
    assert song["meta"]["pattern_source"] == "gmd_train"
    assert song["meta"]["pattern"].startswith("gmd_train:drummer1/session1/")
    classes = {row[2] for row in song["drum_rows"]}
    assert {"KD", "SD"} <= classes
    assert classes & {"CHH", "RD"}  # the TD-11's hi-hat edge (or the ride that may replace it)


def test_leaving_out_pieces_removes_whole_groups_and_never_empties_a_part():
    from data_prep import parts

    notes = [36, 38, 42, 44, 46, 49, 51, 48]
    drums = np.array([[i * 0.25, notes[i % len(notes)], 90] for i in range(64)], dtype=float)
    seen = set()
    for seed in range(40):
        kept, description = parts.leave_out_pieces(drums, np.random.default_rng(seed))
        assert description.startswith("without(")
        groups = description[len("without("):-1].split("+")
        seen.update(groups)
        for group in groups:
            assert not np.isin(kept[:, 1], parts.group_notes(group)).any()
        others = ~np.isin(drums[:, 1], [n for g in groups for n in parts.group_notes(g)])
        np.testing.assert_array_equal(kept, drums[others])
    assert {"hihat", "cymbals"} <= seen
    kick_only = drums[drums[:, 1] == 36]
    for seed in range(10):
        kept, description = parts.leave_out_pieces(kick_only, np.random.default_rng(seed))
        assert len(kept) == len(kick_only) and description == ""


def test_percussion_parts_play_only_unlabelled_notes():
    from data_prep import parts

    for seed in range(30):
        hits, description = parts.percussion_part(64.0, 4.0, np.random.default_rng(seed))
        assert len(hits) and description.startswith("percussion(")
        assert set(hits[:, 1].astype(int)) <= set(parts.PERCUSSION_NOTES)
        assert not any(int(n) in GM_TO_CLASS for n in hits[:, 1])
        assert sampler.label_rows(hits) == []
        assert hits[:, 0].min() >= 0 and hits[:, 0].max() < 64.0
        assert (hits[:, 2] >= 1).all() and (hits[:, 2] <= 127).all()


@needs_kits
def test_room_absent_pieces_and_percussion_change_the_audio_never_the_labels_of_what_sounds(
        tmp_path):
    plan = songs.plan_songs("train", TINY_MINUTES, 11, tmp_path)[0]
    dry = songs.make_song(plan)
    with_percussion = songs.make_song(dataclasses.replace(plan, percussion_probability=1.0))
    assert "percussion(" in with_percussion["meta"]["variations"]
    assert with_percussion["drum_rows"] == dry["drum_rows"]
    assert not np.allclose(with_percussion["drums"], dry["drums"])
    in_room = songs.make_song(dataclasses.replace(plan, room_probability=1.0))
    assert "room(" in in_room["meta"]["variations"]
    assert in_room["drum_rows"] == dry["drum_rows"]
    assert not np.allclose(in_room["drums"], dry["drums"])
    thinned = songs.make_song(dataclasses.replace(plan, absent_probability=1.0))
    left_out = thinned["meta"]["variations"].split("without(")[1].split(")")[0].split("+")
    from data_prep import parts

    gone = {cls for group in left_out for cls in parts.PIECE_GROUPS[group]}
    assert not {row[2] for row in thinned["drum_rows"]} & gone
    assert len(thinned["drum_rows"]) < len(dry["drum_rows"])


def _fake_multimic_kit(root: Path) -> dict[str, dict[str, int]]:
    """Two pieces, two hits each, every microphone with a click at its own delay."""
    from data_prep import multimic

    folder = root / multimic.SAMPLES_DIR
    delays = {}
    for piece in ("KdrumL", "HihatClosed"):
        (folder / piece).mkdir(parents=True)
        delays[piece] = {}
        for hit in (1, 2):
            for k, mic in enumerate((*multimic.MICROPHONES, "Trigger")):
                delay = 10 + 7 * k
                delays[piece][mic] = delay
                audio = np.zeros(4000, dtype=np.float32)
                audio[delay:delay + 200] = 0.1 * hit * (k + 1) / 20 * np.hanning(200)
                sf.write(folder / piece / f"{hit}-{piece}-{mic}.flac", audio, SAMPLE_RATE)
    return delays


def test_multimic_kit_mixes_every_microphone_with_the_songs_balance(tmp_path):
    from data_prep import multimic

    _fake_multimic_kit(tmp_path)
    recordings = multimic.load_recordings(str(multimic.kit_root(tmp_path)))
    assert set(recordings) == {"KdrumL", "HihatClosed"}
    assert recordings["KdrumL"][0].shape == (len(multimic.MICROPHONES), 4000)
    names = multimic.MICROPHONES
    only_room = multimic.MicBalance(tuple(
        (m, 0.0 if m in multimic.ROOM_MICS else multimic.MUTED_DB - 1) for m in names))
    kit = multimic.mix_kit(recordings, only_room)
    assert set(kit.instruments) == {36, 42}
    layers = kit.instruments[36][0].layers
    assert [(layer.low, layer.high) for layer in layers] == [(0.0, 0.5), (0.5, 1.0)]
    # the room pair alone: the mix is their sum, trimmed to start at its onset
    first_room = names.index(multimic.ROOM_MICS[0])
    expected = recordings["KdrumL"][1][[first_room, first_room + 1]].sum(axis=0)
    mixed = layers[1].samples
    np.testing.assert_allclose(mixed, kits.trim_one_shot(expected), atol=1e-6)
    assert len(mixed) < len(expected) - 10 - 7 * first_room  # the other microphones are out
    everything = multimic.mix_kit(recordings, multimic.MicBalance(tuple((m, 0.0) for m in names)))
    assert np.max(np.abs(everything.instruments[36][0].layers[1].samples)) > np.max(np.abs(mixed))
    balances = [multimic.draw_mic_balance(np.random.default_rng(s)) for s in range(60)]
    assert any("closeoff" in b.describe() for b in balances)
    assert any("closeoff" not in b.describe() for b in balances)


@needs_kits
def test_held_out_multimic_kit_is_chosen_by_family_and_never_by_a_split(tmp_path, monkeypatch):
    _fake_multimic_kit(tmp_path / "kit")
    monkeypatch.setenv("DRUMTX_MULDJORD_KIT", str(tmp_path / "kit"))
    for split in build.SPLITS:
        assert "Muldjord" not in {s.family for s in kits.kits_for_split(split)}
    assert [s.name for s in kits.kits_for_split("val", "Muldjord")] == ["MuldjordKit"]
    plan = songs.plan_songs("val", TINY_MINUTES, 0, tmp_path, kit_family="Muldjord")[0]
    song = songs.make_song(plan)
    assert song["meta"]["kit"] == "MuldjordKit" and "mics(" in song["meta"]["variations"]
    assert {row[2] for row in song["drum_rows"]} <= {"KD", "CHH"}
    assert song["drum_rows"]


def test_build_refuses_an_unknown_kit_family_and_a_negative_gmd_weight(tmp_path, capsys):
    for options in (["--kit-family", "Nope"], ["--gmd-weight", "-1"]):
        with pytest.raises(SystemExit) as exit_info:
            build.main(["--split", "val", "--minutes", "1", "--out", str(tmp_path / "out"),
                        *options])
        assert exit_info.value.code == 2
        assert options[0] in capsys.readouterr().err
        assert not (tmp_path / "out").exists()


def test_missing_download_source_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DRUMTX_MULDJORD_KIT", str(tmp_path / "absent"))
    with pytest.raises(sources.SourceMissingError) as error:
        sources.require("muldjord_kit")
    message = str(error.value)
    assert "git clone" in message and "DRUMTX_MULDJORD_KIT" in message and "\n" not in message


def test_build_names_the_install_command_when_factory_packages_are_missing(
        monkeypatch, tmp_path, capsys):
    real_find_spec = build.importlib.util.find_spec
    monkeypatch.setattr(build.importlib.util, "find_spec",
                        lambda name: None if name == "fluidsynth" else real_find_spec(name))
    code = build.main(["--split", "val", "--minutes", "1", "--out", str(tmp_path / "out")])
    error = capsys.readouterr().err
    assert code == 2 and "pyfluidsynth" in error and "make research" in error
    assert error.count("\n") == 1 and not (tmp_path / "out").exists()
    assert build.missing_packages(room=True) == ["pyfluidsynth"]
