"""Training-data factory: renders songs with exact drum and pitched-note labels.

Drum parts come from human-written MIDI shipped by Debian packages and from a groove generator;
they are played on sampled Hydrogen kits and SF2 kits, mixed with pitched parts rendered through
General MIDI soundfonts, augmented, and written with sample-exact labels (see ``build``).
"""
