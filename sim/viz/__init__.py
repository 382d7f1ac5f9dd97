"""The pygame viewer: watch a scenario live, replay a recorded run, export frames.

This is the only package that imports pygame (pygame-ce), and it does so lazily, inside the
functions that draw or read input: importing `sim.viz` (or `sim.viz.cli`, which the `v2xsim`
parser imports) never loads pygame, so headless runs and the test suite do not need a display.

The pieces are kept apart so that each can be tested on its own:

* `scene`    - `Scene`, a read-only snapshot of what to draw, built from a live world (`live`) or a
               recorded trace (`replay`); no pygame.
* `roads`    - static road geometry (carriageways, lane markings) precomputed once; no pygame.
* `signals`  - static signal geometry (junction positions, axes, stop lines); no pygame.
* `camera`   - `Camera`, world metres <-> pixels; no pygame.
* `render`   - `Renderer`, draws a Scene onto a pygame Surface (world layers); `overlay` draws the
               HUD, inspection panel, help and attribution on top.
* `controls` - `Controls`, a small state machine fed by pygame events (pause, speed, pan, zoom...).
* `viewer`   - `Viewer`, owns the window (or an off-screen surface) and ties the three together.
* `live`     - `LiveViewer`, an engine observer that only reads the world.
* `playback` - the replay loop; `cli` - the `v2xsim view` subcommand.
"""
