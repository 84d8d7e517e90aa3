import sys

from listen.cli import main

sys.exit(main())
