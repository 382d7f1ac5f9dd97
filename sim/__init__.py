"""v2xsim: a discrete-event C-V2X simulator (simpy for sparse events, numpy for the radio)."""

__version__ = "0.1.0"
