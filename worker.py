"""Run the revenue-sync workers from a checkout (settings from the environment / `.env`).

The installed package runs the same with `revsync worker`.
"""

from revsync.temporal.workers import main

if __name__ == "__main__":
    main()
