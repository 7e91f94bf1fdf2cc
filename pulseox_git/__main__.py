from pulseox_git.cli import main

raise SystemExit(main())
