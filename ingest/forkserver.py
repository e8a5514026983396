"""The batch's forkserver: started early, so that its warm-up overlaps the batch's own start.

Workers fork from a server that has loaded spaCy, the label patterns, the catalog and the PDF
libraries once (ingest.preload). That takes the server about a second; started before the
batch imports its own modules and lists the folder, most of it happens meanwhile. This module
imports nothing heavy so that the command line can start the server first thing.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

PRELOAD = ["ingest.preload"]


def context() -> BaseContext:
    """The forkserver context (workers fork warmed), or the platform's default without one.

    forkserver, not fork: workers then never copy this process with its threads (progress bar,
    executor manager) half-locked.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


def start() -> None:
    """Start the server and its warm-up now, without waiting for either."""
    if context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    forkserver.ensure_running()
