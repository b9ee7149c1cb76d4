"""Every sweep by the name operators call it (`notifications run SWEEP`)."""

from __future__ import annotations

from lineblocs_notifications.sweeps.base import Sweep
from lineblocs_notifications.sweeps.cards import CARDS_SWEEP
from lineblocs_notifications.sweeps.inactivity import INACTIVITY
from lineblocs_notifications.sweeps.survey import SURVEY
from lineblocs_notifications.sweeps.trials import FREE_TRIAL
from lineblocs_notifications.sweeps.usage_triggers import USAGE_TRIGGERS

SWEEPS: dict[str, Sweep] = {
    sweep.name: sweep for sweep in (INACTIVITY, USAGE_TRIGGERS, FREE_TRIAL, CARDS_SWEEP, SURVEY)
}
