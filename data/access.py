"""The one access policy: which roles may open each view and call each guarded function.

Everything that checks a role reads this map: the navigation (which pages a role sees), each page
(opened by URL, it checks again), and the functions below the UI (a function called from another
page or a CLI cannot return what its caller's role may not see). It fails closed: a role that is not
one of :data:`ROLES`, or a name that is not in :data:`POLICY`, is denied.
"""
from __future__ import annotations

from collections.abc import Mapping

ROLES: tuple[str, ...] = ("policy", "evaluator", "auditor", "admin")
ALL_ROLES: frozenset[str] = frozenset(ROLES)
# The role that sees aggregates only, with cells of fewer than 5 firms suppressed.
AGGREGATE_ROLE = "policy"

_POLICY_STAFF = frozenset({"policy", "admin"})
_EVALUATORS = frozenset({"evaluator", "admin"})
_AUDITORS = frozenset({"auditor", "admin"})

# name -> roles. "view.<key>" is a page (its key is its URL path); the rest guard functions.
POLICY: Mapping[str, frozenset[str]] = {
    "view.overview": ALL_ROLES,
    "view.catalogue": ALL_ROLES,
    "view.uptake": _POLICY_STAFF,
    "view.adoption": _POLICY_STAFF,
    "view.matching": frozenset({"policy", "evaluator", "admin"}),
    "view.scoring": _EVALUATORS,
    "view.brokers": _AUDITORS,
    "view.admin": frozenset({"admin"}),
    # functions: aggregates (the aggregate role sees small cells suppressed) and row-level data
    "overview": ALL_ROLES,
    "catalogue": ALL_ROLES,                  # the program catalogue (officials' contacts masked unless personal.unmasked)
    "adoption": _POLICY_STAFF,
    "uptake": _POLICY_STAFF,
    "matching": frozenset({"policy", "evaluator", "admin"}),
    "matching.firm": _EVALUATORS,            # pick a real firm as the profile (contact data masked)
    "scoring": _EVALUATORS,
    "scoring.decisions": _EVALUATORS,
    "brokers": _AUDITORS,
    "brokers.cases": _AUDITORS,
    "brokers.suppressions.edit": _AUDITORS,
    "access_log": frozenset({"admin", "auditor"}),
    "personal.unmasked": frozenset({"auditor"}),  # broker investigation needs the real identifiers
    "admin.users": frozenset({"admin"}),
    "admin.import": frozenset({"admin"}),
    "admin.jobs": frozenset({"admin"}),       # start jobs from a page, see their commands and output
}


class AccessDenied(PermissionError):
    """The caller's role may not see this."""


def roles(name: str) -> frozenset[str]:
    """The roles allowed ``name`` (none for a name the policy does not know)."""
    return POLICY.get(name, frozenset())


def may(role: str, name: str) -> bool:
    """Whether ``role`` may open or call ``name``; False for an unknown role or name."""
    return role in ALL_ROLES and role in roles(name)


def require(role: str, name: str) -> None:
    """Raise :class:`AccessDenied` unless ``role`` may open or call ``name``."""
    if not may(role, name):
        allowed = ", ".join(r for r in ROLES if r in roles(name)) or "none"
        raise AccessDenied(f"role {role!r} may not use {name!r} (allowed: {allowed})")
