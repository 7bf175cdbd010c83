"""`python -m grpc_kube render --stack dev`: see components/render.py."""

from .render import main

raise SystemExit(main())
