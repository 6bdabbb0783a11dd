"""The command line, run from a checkout: `python starter.py --help`.

The same typer app is installed as the `revsync` command (see `revsync/cli/app.py`).
"""

from revsync.cli.app import main

if __name__ == "__main__":
    main()
