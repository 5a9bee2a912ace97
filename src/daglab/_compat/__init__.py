"""Every difference between the Dagster and marimo versions daglab supports, in one place.

The rest of daglab asks here instead of comparing versions itself:

* :mod:`~daglab._compat.versions` — the tested ranges, the installed versions, and how far a
  version is from what daglab was tested with (``doctor`` reports it).
* :mod:`~daglab._compat.graphql` — which variant of a GraphQL document a webserver of a given
  version accepts (chosen by the version the server reports).
* :mod:`~daglab._compat.commands` — the command lines daglab builds for ``dg dev`` /
  ``dagster dev`` and ``marimo edit``, and the flags it relies on.
* :func:`require` — the exit-3 error, with the extra to install, when an optional package
  (Dagster, marimo) is missing.

Nothing here imports Dagster or marimo: installed versions come from package metadata.
"""

from __future__ import annotations

from daglab._compat.versions import (
    EXTRAS,
    TESTED,
    installed_version,
    outside_tested_range,
    require,
)

__all__ = ["EXTRAS", "TESTED", "installed_version", "outside_tested_range", "require"]
