"""SUMO as an input (networks, demand) and as a mobility engine (libsumo co-simulation).

The wheels `eclipse-sumo`, `sumolib` and `libsumo` (the `v2xsim[sumo]` extra) carry SUMO and its
tools; nothing here needs a system install or SUMO_HOME set by hand (`sim.sumo.tools`).
"""
