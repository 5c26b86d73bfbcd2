"""The core's event hooks, registered in one place at start.

``models`` cannot import ``sync`` (the layers), yet some events of the core concern it: after
an account's password or lock changes (``auth.credentials_changed``), the site keys sealed
under that login must go (``sync.keys.prune_logins``); after the first write of a day the
audit chain's head is signed with the site key (``sync.checkpoints.daily``).  :func:`register_hooks` wires them,
called once at start by the window (``app.run_gui``) and the CLI's root group, and by the
test suite's conftest; importing a module registers nothing.  A new hook is one line in it.
"""

from __future__ import annotations

from .models import audit, auth


def _drop_login_seals(store) -> None:
    from .sync.keys import prune_logins  # imported when used: pyrage/cryptography cost CLI start

    prune_logins(store)


def _daily_checkpoint(store) -> None:
    from .sync.checkpoints import daily

    daily(store)


def register_hooks() -> None:
    """Register every hook once; calling it again changes nothing.

    >>> register_hooks(); register_hooks()
    >>> auth.credentials_changed.count(_drop_login_seals)
    1
    """
    if _drop_login_seals not in auth.credentials_changed:
        auth.credentials_changed.append(_drop_login_seals)
    if _daily_checkpoint not in audit.after_seal:  # the audit chain's head, signed daily
        audit.after_seal.append(_daily_checkpoint)
