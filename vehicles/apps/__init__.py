"""CSAE 53 day-one V2X applications, closed loop with driving (one module per application).

Every application reads what the radio delivered in one batch (`Receptions`), decides which
equipped vehicles to warn or advise, and acts on driving only through the vehicle-table columns of
the driving contract (`warn_*`: precautionary braking window; `advice_*`: speed cap), after the
vehicle's own reaction delay. `AppManager` builds the enabled ones and runs them once per batch.
"""
