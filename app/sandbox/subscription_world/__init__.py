"""The subscription world: one simulated population per subscription group, from which the
subscription-family reports and the simulation's truth are derived.

Entry points: :func:`configure` (knobs per sandbox state), :class:`SubscriptionTruth` (what
the files sum to) and :mod:`app.sandbox.subscriptions` (the report rows and files).
"""

from app.sandbox.subscription_world.options import WorldOptions
from app.sandbox.subscription_world.registry import configure, window
from app.sandbox.subscription_world.truth import Cohort, Flows, SubscriptionTruth

__all__ = ["Cohort", "Flows", "SubscriptionTruth", "WorldOptions", "configure", "window"]
