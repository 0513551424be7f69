from drumtx import vocab


def test_thirteen_classes_in_fixed_order():
    assert vocab.DRUM_CLASSES == (
        "KD", "SD", "SS", "CHH", "PHH", "OHH", "HT", "MT", "LT", "CR", "RD", "RB", "CS",
    )
    assert vocab.N_DRUM_CLASSES == 13


def test_gm_notes_map_to_classes():
    expected = {
        35: "KD", 36: "KD", 38: "SD", 40: "SD", 37: "SS", 42: "CHH", 44: "PHH", 46: "OHH",
        48: "HT", 50: "HT", 45: "MT", 47: "MT", 41: "LT", 43: "LT", 49: "CR", 57: "CR",
        51: "RD", 59: "RD", 53: "RB", 52: "CS", 55: "CS",
    }
    assert vocab.GM_TO_CLASS == expected
    for note in (39, 54, 56, 60, 81, 0):
        assert vocab.class_of_gm_note(note) is None


def test_written_note_belongs_to_its_class():
    for drum in vocab.DRUMS:
        assert drum.written_note in drum.gm_notes
        assert vocab.class_of_gm_note(drum.written_note) == drum.name


def test_labels_from_datasets_and_numbers():
    assert vocab.class_of_label("36") == "KD"
    assert vocab.class_of_label(38) == "SD"
    assert vocab.class_of_label("SDG") == "SD"
    assert vocab.class_of_label("RDB") == "RB"
    assert vocab.class_of_label("chh") == "CHH"
    assert vocab.class_of_label("TMB") is None
    assert vocab.class_of_label("54") is None


def test_reduced_class_maps_cover_expected_classes():
    assert set(vocab.FIVE_CLASS_MAP) == set(vocab.DRUM_CLASSES)
    assert set(vocab.FIVE_CLASS_MAP.values()) == {"BD", "SD", "TT", "HH", "CY+RD"}
    assert vocab.FIVE_CLASS_MAP["SS"] == "SD"
    assert set(vocab.THREE_CLASS_MAP.values()) == {"BD", "SD", "HH"}
    assert "CR" not in vocab.THREE_CLASS_MAP


def test_pitched_range_is_the_piano():
    assert (vocab.PITCH_MIN, vocab.PITCH_MAX, vocab.N_PITCHES) == (21, 108, 88)
    assert vocab.pitch_index(21) == 0 and vocab.pitch_index(108) == 87
