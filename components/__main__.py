"""`python -m components render --stack dev`: see components/render.py."""

from .render import main

raise SystemExit(main())
