"""A minimal Textual app for calibration: a TextArea with the same placeholder, and a Footer.

`benchmarks/startup.py --baseline` measures it exactly like the real app, to show what
Textual itself costs on this machine (launch -> typed character visible).
"""

from textual.app import App, ComposeResult
from textual.widgets import Footer, TextArea


class Baseline(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield TextArea(placeholder="Ask anything — Enter sends", compact=True)
        yield Footer()


if __name__ == "__main__":
    Baseline().run()
