"""HTTP under ASGI: each request crosses once from the event loop to a page thread, and the page
threads keep their database connections.

Django's ASGIHandler gives every request a thread of its own (`ThreadSensitiveContext`) and runs
its middleware chain async-first: a new thread and a new database connection per page (the
connection then waits for the garbage collector to be closed), and five to seven crossings between
the loop and that thread, each a wake-up of a sleeping thread. On this project's 2-core machine
that was more than a third of a room page's time over HTTP (docs/performance.md, fourth round).
Every view and middleware here is sync, so the whole request runs as under WSGI, in one hop, on a
small pool of long-lived threads: what `runserver`, gunicorn or uwsgi threads would do.
"""
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import FileResponse
from django.urls import set_script_prefix

# A page that takes long (a PDF) holds one thread, not the others nor the sockets' database thread.
THREADS = settings.CODEV_PAGE_THREADS
_threads = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="codev-page")


def in_page_thread(fn):
    return sync_to_async(fn, thread_sensitive=False, executor=_threads)


class PageHandler(ASGIHandler):
    def __init__(self):
        BaseHandler.__init__(self)
        self.load_middleware(is_async=False)  # the sync chain: no crossing between middlewares

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP only, not {scope['type']}.")
        try:
            body = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await in_page_thread(self._respond)(scope, body)
            try:
                await self.send_response(response, send)
            finally:
                if response.streaming:  # a stream is read while sent: closed after it
                    await in_page_thread(response.close)()
        finally:
            body.close()

    def _respond(self, scope, body):
        """What the WSGI handler does, in the page thread: the request's signals (which check or
        return that thread's connection) around the middleware chain and the view."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error = self.create_request(scope, body)
        response = error or self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()  # its content is in memory; request_finished runs here, in this thread
        return response
