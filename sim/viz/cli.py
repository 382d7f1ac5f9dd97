"""`v2xsim view`: watch a scenario live, replay a recorded run, or export PNG frames headless.

    v2xsim view SCENARIO_OR_NAME [--seed N] [--until S] [--set k=v ...] [--out DIR]
    v2xsim view --replay RUN_DIR
    ... [--screenshot PNG --at S | --frames DIR --fps N] [--size WxH]

This module only builds the argparse subcommand and reports errors (one line, exit code 2); it
imports nothing heavy at import time, so the `v2xsim` parser can include it for free, and pygame is
loaded only once a view is actually opened.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from pathlib import Path
from typing import Any, Literal

EXIT_OK, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 2, 130
MAX_SIZE_PX = 8192
#: SDL video drivers that show nothing on screen.
INVISIBLE_DRIVERS = ("offscreen", "dummy")


class UsageError(Exception):
    """A bad combination or value of `view` options (reported like scenario errors)."""


def add_view_parser(subparsers: Any) -> None:
    """Adds the `view` subcommand to an argparse subparsers object."""
    v = subparsers.add_parser(
        "view", help="watch a scenario live, replay a run directory, or export frames (pygame)",
        description="Opens a pygame window on a live run or a recorded run directory. With "
                    "--screenshot or --frames it renders off-screen and exits (no display needed).",
    )
    v.add_argument("scenario", nargs="?", help="scenario YAML file or built-in name (live mode)")
    v.add_argument("--replay", type=Path, metavar="RUN_DIR",
                   help="replay RUN_DIR/trace.msgpack instead of running a scenario")
    v.add_argument("--seed", type=int, help="override the scenario seed")
    v.add_argument("--until", type=float, metavar="SECONDS", help="simulated duration")
    v.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a scenario key, e.g. --set fleet.v2x_penetration=0.5")
    v.add_argument("--out", type=Path, metavar="DIR",
                   help="also write the normal run directory (summary, CSVs, trace)")
    v.add_argument("--screenshot", type=Path, metavar="PNG",
                   help="render the state at --at seconds into PNG and exit (headless; a live "
                        "run, and its --out directory, then only lasts until --at)")
    v.add_argument("--at", type=float, metavar="SECONDS", help="simulated time of --screenshot")
    v.add_argument("--frames", type=Path, metavar="DIR",
                   help="write PNG frames into DIR (headless), --fps per simulated second")
    v.add_argument("--fps", type=float, default=10.0,
                   help="frames per simulated second for --frames (default 10)")
    v.add_argument("--size", default="1280x800", metavar="WxH", help="window / image size")
    v.add_argument("--speed", type=float, default=1.0,
                   help="initial speed, simulated s per wall s (0 = as fast as possible)")
    v.add_argument("--paused", action="store_true", help="start paused")
    v.add_argument("--rsu-radius", type=float, default=500.0, metavar="M",
                   help="RSU coverage circle radius in metres (planning radius, default 500)")
    v.add_argument("--center", metavar="X,Y|rsu:N|signal:N|vehicle:ID",
                   help="initial view centre: local metres (write --center=-120,40 for negative "
                        "values), an RSU, a signal (index in the scenario) or a vehicle")
    v.add_argument("--scale", type=float, metavar="PX_PER_M",
                   help="initial zoom in pixels per metre (default: fit the map)")
    v.add_argument("--select", metavar="ID|rsu:N|signal:N",
                   help="select a vehicle id, an RSU or a signal at start")
    v.add_argument("--follow", action="store_true", help="keep the selected vehicle centred")


def cmd_view(args: argparse.Namespace) -> int:
    """Runs `v2xsim view`; 0 ok, 2 bad input (one line on stderr), 130 interrupted."""
    from sim.core.errors import V2xSimError

    try:
        return _view(args)
    except (UsageError, V2xSimError) as exc:
        return _bad_input(str(exc))
    except OSError as exc:  # an output that cannot be written
        return _bad_input(str(exc))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def _bad_input(message: str) -> int:
    print(f"v2xsim: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


# ---------------------------------------------------------------------- option parsing
def parse_size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text or "")
    if not m:
        raise UsageError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1280x800")
    w, h = int(m.group(1)), int(m.group(2))
    if not (64 <= w <= MAX_SIZE_PX and 64 <= h <= MAX_SIZE_PX):
        raise UsageError(f"--size {text}: width and height must be in [64, {MAX_SIZE_PX}]")
    return w, h


def parse_node(text: str, option: str) -> Any:
    """`rsu:N`, `signal:N`, `vehicle:ID` or a bare vehicle id -> Selection."""
    from sim.viz.scene import Selection

    m = re.fullmatch(r"\s*(?:(rsu|signal|vehicle):)?\s*(\d+)\s*", text or "")
    if not m:
        raise UsageError(f"{option} {text!r}: expected a vehicle id, vehicle:ID, rsu:N or "
                         "signal:N")
    kind: Literal["vehicle", "rsu", "signal"] = m.group(1) or "vehicle"  # type: ignore[assignment]
    return Selection(kind, int(m.group(2)))


def parse_center(text: str) -> tuple[tuple[float, float] | None, Any]:
    m = re.fullmatch(r"\s*(-?[\d.]+(?:e-?\d+)?)\s*,\s*(-?[\d.]+(?:e-?\d+)?)\s*", text)
    if m:
        try:
            return (float(m.group(1)), float(m.group(2))), None
        except ValueError:
            pass
    if ":" not in text:
        raise UsageError(f"--center {text!r}: expected X,Y in metres, rsu:N, signal:N or "
                         "vehicle:ID")
    return None, parse_node(text, "--center")


def _check(args: argparse.Namespace) -> None:
    if args.replay is not None:
        if args.scenario is not None:
            raise UsageError("give either a scenario or --replay RUN_DIR, not both")
        used = [f for f, v in (("--seed", args.seed), ("--until", args.until),
                               ("--set", args.overrides), ("--out", args.out)) if v]
        if used:
            raise UsageError(f"{', '.join(used)} cannot be used with --replay (the run is recorded)")
    elif args.scenario is None:
        raise UsageError("expected a scenario (file or built-in name) or --replay RUN_DIR")
    if args.screenshot is not None and args.frames is not None:
        raise UsageError("choose one of --screenshot and --frames")
    if args.screenshot is not None and args.at is None:
        raise UsageError("--screenshot needs --at SECONDS (the simulated time to show)")
    if args.at is not None and args.screenshot is None:
        raise UsageError("--at only applies to --screenshot")
    if args.at is not None and not (math.isfinite(args.at) and args.at >= 0):
        raise UsageError(f"--at {args.at}: must be a time >= 0 s")
    if not (math.isfinite(args.fps) and 0 < args.fps <= 1000):
        raise UsageError(f"--fps {args.fps}: must be in (0, 1000]")
    if not (math.isfinite(args.speed) and 0 <= args.speed <= 100):
        raise UsageError(f"--speed {args.speed}: must be in [0, 100] (0 = as fast as possible)")
    if not (math.isfinite(args.rsu_radius) and args.rsu_radius > 0):
        raise UsageError(f"--rsu-radius {args.rsu_radius}: must be > 0 m")
    if args.scale is not None and not (math.isfinite(args.scale) and args.scale > 0):
        raise UsageError(f"--scale {args.scale}: must be > 0 px/m")
    if args.until is not None and not (math.isfinite(args.until) and args.until > 0):
        raise UsageError(f"--until {args.until}: must be > 0 s")
    if args.follow and args.select is None:
        raise UsageError("--follow needs --select ID (the vehicle to follow)")


# ---------------------------------------------------------------------- the command
def _view(args: argparse.Namespace) -> int:
    _check(args)
    from sim.viz.viewer import InitialView

    size = parse_size(args.size)
    center_m, center_on = parse_center(args.center) if args.center else (None, None)
    select = parse_node(args.select, "--select") if args.select else None
    view = InitialView(center_m=center_m, center_on=center_on, scale_px_per_m=args.scale,
                       select=select, follow=args.follow)
    headless = args.screenshot is not None or args.frames is not None
    if args.replay is not None:
        return _replay(args, size, view, headless)
    return _live(args, size, view, headless)


def _make_viewer(size: tuple[int, int], view: Any, headless: bool, title: str,
                 args: argparse.Namespace) -> Any:
    from sim.viz.viewer import Viewer

    env = os.environ
    if (not headless and sys.platform.startswith("linux") and not env.get("SDL_VIDEODRIVER")
            and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY")):
        raise UsageError("no display (DISPLAY and WAYLAND_DISPLAY are unset); use "
                         "--screenshot/--frames to render headless")
    try:
        viewer = Viewer(size, window=not headless, title=title, speed=args.speed,
                        paused=args.paused, view=view)
    except ImportError as exc:
        raise UsageError(f"the viewer needs pygame-ce ({exc}); pip install pygame-ce") from None
    except Exception as exc:  # pygame.error: no display, no video driver...
        if type(exc).__module__.startswith("pygame") or type(exc).__name__ == "error":
            raise UsageError(
                f"cannot open a window ({exc}); use --screenshot/--frames to render headless"
            ) from None
        raise
    if not headless:
        # Without a display SDL silently falls back to an invisible window; say so instead of
        # running a viewer nobody can see or close (unless that driver was asked for).
        from sim.viz._pygame import pygame

        driver = pygame().display.get_driver()
        if driver in INVISIBLE_DRIVERS and os.environ.get("SDL_VIDEODRIVER") != driver:
            viewer.close()
            raise UsageError(f"no display available (SDL video driver {driver!r}); use "
                             "--screenshot/--frames to render headless")
    return viewer


def _frame_writer(args: argparse.Namespace) -> Any:
    from sim.viz.viewer import FrameWriter

    if args.frames is None:
        return None
    try:
        args.frames.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"--frames {args.frames}: cannot create the directory ({exc.strerror})") from None
    return FrameWriter(args.frames, args.fps)


def _live(args: argparse.Namespace, size: tuple[int, int], view: Any, headless: bool) -> int:
    from sim.scenario.loader import load_scenario

    loaded = load_scenario(args.scenario, args.overrides, seed=args.seed, duration_s=args.until)
    spec = loaded.spec
    if args.screenshot is not None:
        if args.at >= spec.duration_s:
            raise UsageError(f"--at {args.at:g}: after the end of the run ({spec.duration_s:g} s);"
                             " raise --until")
        # Run just far enough to reach the tick at (or just before) --at.
        ticks = math.floor(args.at / spec.step_s + 1e-9) + 1
        loaded = load_scenario(args.scenario, args.overrides, seed=args.seed,
                               duration_s=round(ticks * spec.step_s, 9))
    frames = _frame_writer(args)
    viewer = _make_viewer(size, view, headless, f"v2xsim - {spec.name}", args)
    from sim.viz.live import LiveViewer

    live = LiveViewer(viewer, rsu_radius_m=args.rsu_radius, frames=frames,
                      screenshot=(args.screenshot, args.at) if args.screenshot else None)
    try:
        interrupted = _run_live(loaded, live, args.out)
        if not interrupted:
            live.hold()  # keep the last instant on screen until the user closes the window
    finally:
        viewer.close()
    if args.screenshot is not None:
        print(f"screenshot: {args.screenshot}", file=sys.stderr)
    if frames is not None:
        print(f"frames: {frames.written} PNG files in {args.frames}", file=sys.stderr)
    if args.out is not None:
        print(f"outputs: {args.out}", file=sys.stderr)
    return EXIT_INTERRUPTED if interrupted and not live.quit else EXIT_OK


def _run_live(loaded: Any, live: Any, out: Path | None) -> bool:
    """Runs the scenario with `live` attached; returns True when it was interrupted."""
    if out is not None:
        from sim.runner import run_scenario

        outcome = run_scenario(loaded, out, extra_observers=[live], engine_hook=live.attach)
        return bool(outcome.summary["interrupted"])
    from sim.core.engine import Engine
    from sim.io.summary_observer import SummaryObserver
    from sim.scenario.build import build_world

    world = build_world(loaded)
    summary = SummaryObserver(world)
    engine = Engine(world, [summary, live])
    live.attach(engine)
    return engine.run().interrupted


def _replay(args: argparse.Namespace, size: tuple[int, int], view: Any, headless: bool) -> int:
    from sim.viz import playback
    from sim.viz.replay import ReplaySource

    source = ReplaySource(args.replay, rsu_radius_m=args.rsu_radius)
    if args.screenshot is not None and args.at > source.t_end + source.state_interval_s:
        raise UsageError(f"--at {args.at:g}: after the end of the recording "
                         f"({source.t_end:g} s)")
    frames = _frame_writer(args)
    viewer = _make_viewer(size, view, headless, f"v2xsim replay - {source.title}", args)
    try:
        if args.screenshot is not None:
            playback.screenshot(source, viewer, args.at, args.screenshot)
            print(f"screenshot: {args.screenshot}", file=sys.stderr)
        elif frames is not None:
            n = playback.export_frames(source, viewer, frames)
            print(f"frames: {n} PNG files in {args.frames}", file=sys.stderr)
        else:
            playback.play(source, viewer)
    finally:
        viewer.close()
    if source.truncated:
        print("note: the trace ends in a partial frame (interrupted run); shown up to the last "
              "whole frame", file=sys.stderr)
    return EXIT_OK
