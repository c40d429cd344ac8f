"""``famassign serve``: the HTTP API, its jobs in worker processes, and the planner's page.

- :mod:`~famassign.server.settings`: workspace, database, token, limits;
- :mod:`~famassign.server.auth`: bearer token or the browser's session cookie;
- :mod:`~famassign.server.service`: the operations the API and the page call;
- :mod:`~famassign.server.api`: the routes under ``/api/v1``;
- :mod:`~famassign.server.answers`: the shapes of its answers and of every error answer;
- :mod:`~famassign.server.jobs` and :mod:`~famassign.server.worker`: jobs and checks in worker
  processes under a memory and a time limit;
- :mod:`~famassign.server.job_options`: a job's options, typed (request bodies, versions, the
  options a worker is given);
- :mod:`~famassign.server.pages` (the planner's page: one router per step, its view models and
  forms), :mod:`~famassign.server.planner` (its reading of the store) and
  :mod:`~famassign.server.adjustments` (moves, versions, what-ifs): a face of the same service;
- :mod:`~famassign.server.app`: :func:`create_app`.

The store of scenarios, plans and the audit log is :mod:`famassign.store`.
"""

from famassign.server.app import create_app
from famassign.server.settings import Settings

__all__ = ["Settings", "create_app"]
