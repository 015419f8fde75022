"""``python -m odio.cli``: the ``odio`` command."""

from odio.cli import main

raise SystemExit(main())
