"""Emergency brake warning: moved to `vehicles.apps.ebw` with the other CSAE 53 applications;
kept importable from here."""

from vehicles.apps.ebw import EbwParams, EmergencyBrakeWarning

__all__ = ["EbwParams", "EmergencyBrakeWarning"]
