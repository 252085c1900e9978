"""The garbage collector's pace for a server that holds thousands of open sockets.

CPython stops the whole process to collect its oldest generation, for a time proportional to
every object it tracks. At 4,000 open sockets (about 700,000 objects in one process) each such
collection took 0.5 to 0.7 s on the project's machine, and with the default thresholds one ran
every 25 s or so: a stall felt on every screen at once, which no profile of the code shows
(docs/performance.md, sixth round). So, once the application is loaded:

- what start-up made (Django, its apps, templates, translations) lives as long as the process:
  it is frozen, never scanned again;
- the youngest generation is collected after YOUNG new objects instead of 700. By then the
  objects of the messages in flight are mostly gone, so far fewer of them are promoted to the
  oldest generation, whose growth by a quarter is what triggers a full collection. Garbage in
  reference cycles is still collected, a little later.
"""
import gc

YOUNG = 50_000


def tune() -> None:
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG, middle, old)
