"""`python -m tui.simulator`: run the Ollama simulator on 127.0.0.1 (Ctrl-C stops)."""

import sys

from tui.simulator.ollama import main

sys.exit(main())
