import pytest

from tests import ws
from tests.ws import connect, receive_until, send

pytestmark = pytest.mark.django_db(transaction=True)
consumer_hygiene = ws.consumer_hygiene  # autouse: a layer per test, connections closed after


async def test_it_broadcasts_a_question_to_the_client(cast, cid):
    from channels.db import database_sync_to_async

    await database_sync_to_async(cast.at_step)(2)
    marc, ok, _ = await connect(cast.marc, cast.workshop.pk)
    assert ok
    sophie, ok, _ = await connect(cast.sophie, cast.workshop.pk)
    assert ok
    await send(sophie, {"type": "ask_question", "cid": cid(), "body": "Depuis quand <b>?</b>", "ref": "r1"})
    ack = await receive_until(sophie, lambda m: m["type"] in ("ack", "error"))
    assert ack == {"type": "ack", "ref": "r1"}
    event = await receive_until(marc, lambda m: m["type"] == "event")
    assert event["kind"] == "question.asked"
    assert "Depuis quand &lt;b&gt;?&lt;/b&gt;" in event["ops"][0]["html"]
    assert "Votre réponse" in event["ops"][0]["html"] or "answer" in event["ops"][0]["html"]
    await marc.disconnect()
    await sophie.disconnect()
