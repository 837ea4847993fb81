"""What the Kokoro engine is built from, kept out of its runtime path: the graph rewrites
made once at install, and the training of the style encoder's committed weights."""
