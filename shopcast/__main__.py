from shopcast.cli import main

raise SystemExit(main())
