from alloc.cli import main

raise SystemExit(main())
