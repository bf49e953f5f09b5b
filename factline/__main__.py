from factline.cli import main

raise SystemExit(main())
