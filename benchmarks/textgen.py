"""Deterministic, realistic text for the benchmarks.

`markdown_reply(tokens, seed, final)`: a Markdown answer like an LLM writes one — headings,
paragraphs with inline code / bold / italics / links, bullet and numbered lists (some
nested), fenced code blocks in several languages, a table and a block quote — of about
`tokens` tokens as the simulator counts them (`tui.simulator.support.tokenize`: words and
punctuation, leading whitespace kept), ending with the word `final`.

`chat_message(rng, role)`: one message of a plausible chat (for the history benchmark).
"""

from __future__ import annotations

import random

from tui.simulator.support import tokenize

WORDS = """
the of and to a in is that for it as with be on not this are by or from at an can you
which your if will all more when use each one also into its may other these than then
only such some time new data file value function server model request memory process
cache error test build query index table field result system user option config thread
queue stream token layer batch context prompt reply output input event loop buffer frame
render widget screen update change number string list object method class module package
version release default network socket client response header status timeout retry
latency throughput benchmark profile sample metric counter gauge histogram window
session history search message store record column schema migration transaction commit
rollback lock write read path directory disk storage volume image container service
deploy cluster node replica shard partition key hash sort merge filter map reduce join
parse format encode decode compress archive backup restore check verify validate ensure
handle return raise catch log trace debug warn info level simple fast slow large small
first last next previous current better worse faster slower safe stable clear short long
""".split()

TECH = ["`async`", "`await`", "`numpy`", "`--verbose`", "`HTTP/1.1`", "`None`", "`0.0.0.0`",
        "`O(n log n)`", "`keep_alive`", "`num_ctx`", "`SIGTERM`", "`utf-8`", "`ctrl+c`"]

CODE = {
    "python": [
        "import asyncio\nimport json\nfrom pathlib import Path\n",
        "async def fetch_{w}(client, url: str, *, retries: int = 3) -> dict:\n"
        "    for attempt in range(retries):\n"
        "        try:\n"
        "            resp = await client.get(url, timeout=5.0)\n"
        "            resp.raise_for_status()\n"
        "            return resp.json()\n"
        "        except Exception as exc:  # noqa: BLE001\n"
        "            await asyncio.sleep(0.1 * 2 ** attempt)\n"
        "    raise RuntimeError(f\"gave up on {{url}}\")\n",
        "class {W}Cache:\n"
        "    def __init__(self, size: int = 128) -> None:\n"
        "        self._items: dict[str, bytes] = {{}}\n"
        "        self.size = size\n\n"
        "    def get(self, key: str) -> bytes | None:\n"
        "        return self._items.get(key)\n",
        "def summarise(values: list[float]) -> tuple[float, float]:\n"
        "    values = sorted(values)\n"
        "    mid = len(values) // 2\n"
        "    return values[mid], values[-1] - values[0]\n",
    ],
    "bash": [
        "$ curl -s http://localhost:11434/api/tags | jq '.models[].name'\n",
        "export OLLAMA_HOST=127.0.0.1:11434\nollama pull llama3.2\nollama run llama3.2 \"{w}\"\n",
        "for f in logs/*.log; do\n  grep -c \"{w}\" \"$f\"\ndone | sort -n | tail -5\n",
    ],
    "json": [
        "{{\n  \"model\": \"llama3.2\",\n  \"stream\": true,\n  \"options\": {{\"temperature\": 0.7, \"num_ctx\": 8192}},\n"
        "  \"messages\": [{{\"role\": \"user\", \"content\": \"{w}\"}}]\n}}\n",
    ],
    "rust": [
        "fn {w}_total(items: &[u64]) -> u64 {{\n    items.iter().copied().filter(|x| *x > 0).sum()\n}}\n",
        "#[derive(Debug, Clone)]\npub struct {W} {{\n    pub id: u32,\n    pub name: String,\n}}\n",
    ],
    "sql": [
        "SELECT s.id, s.title, COUNT(m.id) AS messages\nFROM sessions s\nJOIN messages m ON m.session_id = s.id\n"
        "WHERE m.content LIKE '%{w}%'\nGROUP BY s.id\nORDER BY messages DESC\nLIMIT 20;\n",
    ],
    "javascript": [
        "const {w} = async (url) => {{\n  const res = await fetch(url, {{ method: 'POST' }});\n"
        "  if (!res.ok) throw new Error(`status ${{res.status}}`);\n  return res.json();\n}};\n",
    ],
}


class _Writer:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        n = len(WORDS)
        self.weights = [1.0 / (i + 1) ** 0.9 for i in range(n)]  # Zipf-like

    def word(self) -> str:
        return self.rng.choices(WORDS, self.weights)[0]

    def sentence(self, lo: int = 6, hi: int = 18) -> str:
        rng = self.rng
        words = [self.word() for _ in range(rng.randint(lo, hi))]
        i = rng.randrange(len(words))
        r = rng.random()
        if r < 0.15:
            words[i] = rng.choice(TECH)
        elif r < 0.25:
            words[i] = f"**{words[i]}**"
        elif r < 0.32:
            words[i] = f"*{words[i]}*"
        elif r < 0.36:
            words[i] = f"[{words[i]}](https://example.com/{words[i]})"
        if rng.random() < 0.25:
            words.insert(rng.randrange(1, len(words)), words.pop() + ",")
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", ":" if False else "."])

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(2, 5)))

    def heading(self) -> str:
        level = self.rng.choice(["##", "###"])
        return f"{level} {' '.join(self.word() for _ in range(self.rng.randint(2, 5))).capitalize()}"

    def bullets(self, numbered: bool = False) -> str:
        lines = []
        for i in range(self.rng.randint(3, 6)):
            mark = f"{i + 1}." if numbered else "-"
            lines.append(f"{mark} {self.sentence(4, 12)}")
            if not numbered and self.rng.random() < 0.25:
                lines.append(f"  - {self.sentence(3, 8)}")
        return "\n".join(lines)

    def code(self) -> str:
        lang = self.rng.choice(list(CODE))
        w = self.word()
        body = "".join(t.format(w=w, W=w.capitalize()) for t in self.rng.sample(
            CODE[lang], k=min(len(CODE[lang]), self.rng.randint(1, 3))))
        return f"```{lang}\n{body.rstrip()}\n```"

    def table(self) -> str:
        cols = ["Option", "Default", "Effect", "When to change"]
        rows = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for _ in range(self.rng.randint(4, 7)):
            rows.append("| " + " | ".join([f"`{self.word()}`", str(self.rng.choice([0, 1, 8, 64, 0.7, 2048])),
                                           self.sentence(3, 6).rstrip("."), self.sentence(2, 5).rstrip(".")])
                        + " |")
        return "\n".join(rows)

    def quote(self) -> str:
        return "> " + self.sentence()


def markdown_reply(tokens: int = 4000, seed: int = 1, final: str = "ZEBRAFINAL") -> str:
    """About `tokens` simulator tokens of Markdown, ending with the word `final`."""
    w = _Writer(seed)
    blocks: list[str] = [w.paragraph()]
    kinds = ["heading", "paragraph", "paragraph", "bullets", "numbered", "code", "paragraph", "code",
             "table", "quote", "paragraph"]
    count = len(tokenize(blocks[0]))
    i = 0
    had_table = False
    while count < tokens - 60:
        kind = kinds[i % len(kinds)]
        i += 1
        if kind == "table":
            if had_table and w.rng.random() < 0.7:
                kind = "paragraph"
            had_table = True
        block = {"heading": w.heading, "paragraph": w.paragraph, "bullets": w.bullets,
                 "numbered": lambda: w.bullets(numbered=True), "code": w.code, "table": w.table,
                 "quote": w.quote}[kind]()
        blocks.append(block)
        count += len(tokenize("\n\n" + block))
    last = w.sentence(4, 8).rstrip(".")
    tail = [last]
    text = "\n\n".join(blocks) + "\n\n"
    while len(tokenize(text + " ".join(tail) + f" {final}")) < tokens:
        tail.insert(-1, w.word())
    return text + " ".join(tail) + f" {final}"


def chat_message(rng: random.Random, role: str, writer: _Writer | None = None) -> str:
    """A user question (short) or an assistant answer (a few Markdown blocks)."""
    w = writer or _Writer(rng.randrange(1 << 30))
    if role == "user":
        return w.sentence(5, 20).rstrip(".") + "?"
    parts = [w.paragraph()]
    for _ in range(rng.randint(0, 3)):
        parts.append(rng.choice([w.paragraph, w.bullets, w.code, w.paragraph])())
    return "\n\n".join(parts)


if __name__ == "__main__":
    text = markdown_reply()
    print(text)
    print(f"\n[{len(tokenize(text))} tokens, {len(text)} chars]")
