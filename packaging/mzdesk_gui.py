"""Windowed launcher for the frozen app (``mzdesk-gui``): no console window on Windows.

Same entry as ``mzdesk``: with no command it opens the main window; ``--db`` works.
Headless commands belong to the console executable ``mzdesk``.
"""

from mzdesk.cli import main

if __name__ == "__main__":
    main()
