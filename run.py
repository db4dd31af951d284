#!/usr/bin/env python3
"""One entry point for the course: set up the environment, then open it or test it.

    python3 run.py lab     # install what is needed, open the course in JupyterLab
    python3 run.py test    # install what is needed, run every test (helpers, notebooks, browser)

Needs only Python 3.11+.  Everything is installed into ``.venv/`` next to this
file from the pinned ``requirements.txt``; a second run re-uses it, re-installs
when ``requirements.txt`` or ``pyproject.toml`` changed, and rebuilds a damaged
``.venv`` by itself.  Extra arguments after ``test`` go to pytest (e.g.
``python3 run.py test -k softmax``; paths are taken relative to where you are).

This file is kept to syntax that every Python 3 (and 2.7) can read, so that an old
Python prints the version message below instead of a SyntaxError; the work is done
by ``tools/course_env.py``.
"""

import os
import sys

if sys.version_info < (3, 11):
    sys.stderr.write(
        "run.py: Python 3.11 or newer is needed; this is Python %s (%s).\n"
        "Install Python 3.11+ and run the same command with it, e.g. `python3.11 run.py lab`.\n"
        % (sys.version.split()[0], sys.executable)
    )
    sys.exit(1)

import importlib.util  # noqa: E402  (after the version check on purpose)

_impl_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tools", "course_env.py")
_spec = importlib.util.spec_from_file_location("course_env", _impl_path)
course_env = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(course_env)

if __name__ == "__main__":
    sys.exit(course_env.main(sys.argv[1:]))
