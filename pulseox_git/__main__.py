"""`python -m pulseox_git`: the CLI, with a Ctrl-C during its import ending quietly."""

import sys

try:
    from pulseox_git.cli import main
except KeyboardInterrupt:  # nothing of ours ran yet
    print(
        "interrupted by Ctrl-C before anything was pushed: the remote is unchanged", file=sys.stderr
    )
    raise SystemExit(130) from None

raise SystemExit(main())
