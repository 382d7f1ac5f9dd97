"""The replay loop and the replay exports: time comes from the wall clock, not from an engine.

Playback time advances by wall time x speed and is mapped to the recorded state at or just before
it, so any speed plays correctly whatever the trace's state interval; speed "max" shows every
recorded state once, as fast as the window can draw. Pause, single steps (forwards and back) and
seeking (click the time bar) only move the playback time.
"""

from __future__ import annotations

import time
from pathlib import Path

from sim.viz.replay import ReplaySource
from sim.viz.viewer import FrameWriter, Viewer


def play(source: ReplaySource, viewer: Viewer) -> None:
    """Runs the interactive replay until the user quits."""
    c = viewer.controls
    c.can_step_back = True
    c.has_timeline = True
    idx = 0
    t = source.t_start
    last = len(source) - 1
    anchor = (time.perf_counter(), t)
    while True:
        viewer.poll(source.scene(idx))
        if c.quit:
            break
        now = time.perf_counter()
        if c.seek_fraction is not None:
            t = source.t_start + c.seek_fraction * (source.t_end - source.t_start)
            idx = source.index_at(t)
            c.seek_fraction = None
            anchor = (now, t)
        if c.timing_changed:
            c.timing_changed = False
            if not c.paused and idx == last:  # resuming at the end plays again from the start
                idx, t = 0, source.t_start
            anchor = (now, t)
            viewer.rate.reset()
        if c.paused:
            if c.step_requests:
                idx = min(max(idx + c.step_requests, 0), last)
                t = float(source.state_t[idx])
                c.step_requests = 0
        else:
            c.step_requests = 0
            if c.speed <= 0:
                idx = min(idx + 1, last)
                t = float(source.state_t[idx])
            else:
                t = anchor[1] + (now - anchor[0]) * c.speed
                idx = source.index_at(t)
            if idx == last and t >= source.t_end:
                c.paused = True
        viewer.rate.add(t, now)
        viewer.draw(source.scene(idx))
        viewer.wait_frame()
    viewer.close()


def screenshot(source: ReplaySource, viewer: Viewer, at_s: float, path: Path) -> None:
    """Renders the recorded state at (or just before) `at_s` into a PNG."""
    viewer.draw(source.scene_at(at_s))
    viewer.save(path)


def export_frames(source: ReplaySource, viewer: Viewer, frames: FrameWriter) -> int:
    """Frame k shows the state at k / fps seconds, up to the end of the recording."""
    until = source.t_end + source.state_interval_s
    while frames.due(until):
        t = frames.next_time_s()
        viewer.rate.add(t)
        viewer.draw(source.scene_at(t))
        viewer.save(frames.path(frames.next_index))
        frames.next_index += 1
        frames.written += 1
    return frames.written
