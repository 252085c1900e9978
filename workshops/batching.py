"""Requests of the sockets that share one trip to the process's database thread.

Every database call of a socket runs on one thread per process, one call after another. When many
sockets want the same kind of answer at about the same time (a step change's rooms, the pings of
thousands of open screens), one trip answers all of them. A batch is whatever waits when that trip
starts: an idle server answers the first request at once, a busy one serves together all that
queued meanwhile, so the busier the thread, the fewer trips it is asked for.
"""
import asyncio
import threading

from channels.db import database_sync_to_async


class Batched:
    """`await batched.ask(key, question)` → the answer `work(key, questions)` gave for it, on the
    database thread; `work` returns one answer per question, in order, an exception instance
    for a question that fails alone (raised to that asker only)."""

    def __init__(self, work, limit: int = 500):
        self.work, self.limit = work, limit
        self._lock = threading.Lock()  # the loop adds, the database thread takes
        self._waiting: dict = {}  # key -> (loop, [(question, future)])
        self._tasks: set[asyncio.Task] = set()

    async def ask(self, key, question):
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            entry = self._waiting.get(key)
            # Another loop's leftover (tests), or a batch grown to the limit: a new one starts.
            first = entry is None or entry[0] is not loop or len(entry[1]) >= self.limit
            if first:
                entry = self._waiting[key] = (loop, [])
            entry[1].append((question, future))
        if first:
            task = loop.create_task(self._serve(key, entry))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return await future

    def _take(self, key, entry) -> list:
        with self._lock:
            if self._waiting.get(key) is entry:
                del self._waiting[key]
            return list(entry[1])

    def _answer(self, key, entry) -> list:
        waiting = self._take(key, entry)
        try:
            answers = self.work(key, [question for question, _future in waiting])
        except Exception as error:  # a bug: each asker fails as it would have alone
            answers = [error] * len(waiting)
        return [(future, answer) for (_question, future), answer in zip(waiting, answers, strict=True)]

    async def _serve(self, key, entry) -> None:
        try:
            answers = await database_sync_to_async(self._answer)(key, entry)
        except BaseException as error:  # the trip itself failed: nobody may wait forever
            answers = [(future, error) for _question, future in self._take(key, entry)]
            if not isinstance(error, Exception):
                for future, _error in answers:
                    future.cancel()
                raise
        for future, answer in answers:
            if future.done():  # its socket went away meanwhile
                continue
            if isinstance(answer, BaseException):
                future.set_exception(answer)
            else:
                future.set_result(answer)
