"""Several HistoryStore instances (and processes) writing to one file at once."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

from tui.service.history import HistoryStore

REPO_ROOT = Path(__file__).resolve().parents[3]


async def test_two_stores_interleaved_writes(tmp_path):
    path = tmp_path / "history.db"
    a = await HistoryStore.open(path)
    b = await HistoryStore.open(path)
    try:
        sa = await a.create_session(model="m", title="from a")
        sb = await b.create_session(model="m", title="from b")
        shared = await a.create_session(model="m", title="shared")

        async def writer(store: HistoryStore, own: int, tag: str, n: int) -> list[int]:
            ids = []
            for i in range(n):
                m = await store.add_message(own, "user", f"{tag} message {i}")
                ids.append(m.id)
                s = await store.add_message(shared.id, "assistant", "", status="streaming")
                await store.update_message(s.id, content=f"{tag} partial {i}")
                await store.update_message(s.id, content=f"{tag} shared {i}", status="complete")
                if i % 10 == 0:
                    await store.update_session(own, title=f"{tag} renamed {i}")
                    await store.search(tag)
                    await store.list_sessions()
                await asyncio.sleep(0)
            return ids

        results = await asyncio.gather(
            writer(a, sa.id, "alpha", 150),
            writer(b, sb.id, "bravo", 150),
            writer(a, sa.id, "charlie", 100),
            writer(b, sb.id, "delta", 100),
        )
        ids_a = results[0] + results[2]
        ids_b = results[1] + results[3]
        assert len(set(ids_a + ids_b)) == 500

        for store in (a, b):  # both connections see everything
            assert await store.count_messages(sa.id) == 250
            assert await store.count_messages(sb.id) == 250
            assert await store.count_messages(shared.id) == 500
            msgs = await store.messages(shared.id, limit=None)
            assert all(m.status == "complete" for m in msgs)
            assert sorted(m.content for m in msgs) == sorted(
                [f"{t} shared {i}" for t, n in (("alpha", 150), ("bravo", 150), ("charlie", 100), ("delta", 100)) for i in range(n)]
            )
            assert {m.id for m in await store.messages(sa.id, limit=None)} == set(ids_a)
        assert len(await a.search("bravo shared", limit=1000)) == 150
        assert await a.check_integrity() == []
    finally:
        await a.close()
        await b.close()


async def test_store_and_another_process_write_concurrently(tmp_path):
    path = tmp_path / "history.db"
    s = await HistoryStore.open(path)
    ses = await s.create_session(model="m")
    code = textwrap.dedent(
        f"""
        import asyncio
        from tui.service.history import HistoryStore
        async def main():
            s = await HistoryStore.open({str(path)!r})
            print("ready", flush=True)
            for i in range(300):
                m = await s.add_message({ses.id}, "assistant", "", status="streaming")
                await s.update_message(m.id, content=f"child {{i}}", status="complete")
            await s.close()
        asyncio.run(main())
        """
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert (await proc.stdout.readline()).strip() == b"ready"
        wait = asyncio.create_task(proc.communicate())
        n = 0
        while not wait.done() or n < 300:  # write while the child writes
            await s.add_message(ses.id, "user", f"parent {n}")
            if n % 25 == 0:
                await s.search("child")
            n += 1
        _, err = await wait
        assert proc.returncode == 0, err.decode()
        msgs = await s.messages(ses.id, limit=None)
        assert len(msgs) == n + 300
        assert sorted(m.content for m in msgs) == sorted(
            [f"parent {i}" for i in range(n)] + [f"child {i}" for i in range(300)]
        )
        assert len(await s.search("child", limit=1000)) == 300
        assert await s.check_integrity() == []
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await s.close()
