"""The fake provider behaves like an OpenAI-compatible server, faults included."""

import http.client
import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from squadkit.testing import FakeOpenAIServer, Reply
from tests.library.waiting import eventually


def _post(
    server: FakeOpenAIServer, body: Mapping[str, object], timeout: float = 5
) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(server.host, server.port, timeout=timeout)
    connection.request(
        "POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"}
    )
    return connection.getresponse()


CHAT = {"model": "fake-model", "messages": [{"role": "user", "content": "two words"}]}


def test_answers_like_openai_chat_completions(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.ok("hello there friend")
    response = _post(fake_openai, CHAT)
    body = json.loads(response.read())
    assert response.status == 200
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "hello there friend"}
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert fake_openai.request_count == 1
    assert fake_openai.requests[0]["messages"] == CHAT["messages"]


def test_reports_the_scripted_finish_reason(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Reply.ok("cut", finish_reason="length"))
    first, second = (json.loads(_post(fake_openai, CHAT).read()) for _ in range(2))
    assert first["choices"][0]["finish_reason"] == "length"
    assert second["choices"][0]["finish_reason"] == "stop"


def test_scripted_replies_come_first_then_default(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Reply.error(429, retry_after=2), Reply.error(503))
    first, second, third = (_post(fake_openai, CHAT) for _ in range(3))
    assert (first.status, first.getheader("Retry-After")) == (429, "2")
    assert second.status == 503
    assert third.status == 200


def test_records_when_each_request_arrived(fake_openai: FakeOpenAIServer) -> None:
    before = time.monotonic()
    _post(fake_openai, CHAT).read()
    time.sleep(0.2)
    _post(fake_openai, CHAT).read()
    first, second = fake_openai.received_at
    assert before <= first
    assert second - first >= 0.2


def test_latency_delays_the_answer(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.ok(latency_s=0.2)
    started = time.perf_counter()
    assert _post(fake_openai, CHAT).status == 200
    assert time.perf_counter() - started >= 0.2


def test_until_holds_the_answer_until_the_test_releases_it(
    fake_openai: FakeOpenAIServer,
) -> None:
    release = threading.Event()
    fake_openai.default = Reply.ok(until=release)
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(lambda: _post(fake_openai, CHAT, timeout=300).status)
        eventually(lambda: fake_openai.request_count == 1, "the request to arrive")
        time.sleep(0.2)
        held = not answer.done()
        release.set()
        assert answer.result() == 200
    assert held


def test_counts_the_peak_of_requests_answered_at_once(fake_openai: FakeOpenAIServer) -> None:
    release = threading.Event()
    fake_openai.default = Reply.ok(until=release)
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = [pool.submit(lambda: _post(fake_openai, CHAT, timeout=300).status) for _ in "abc"]
        eventually(lambda: fake_openai.request_count == 3, "three requests in flight")
        release.set()
        statuses = [answer.result() for answer in answers]
    assert statuses == [200, 200, 200]
    assert fake_openai.peak_in_flight == 3
    fake_openai.reset()
    assert _post(fake_openai, CHAT).status == 200
    assert fake_openai.peak_in_flight == 1


def test_hang_never_answers(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.broken("hang")
    try:
        _post(fake_openai, CHAT, timeout=0.3)
    except TimeoutError:
        return
    raise AssertionError("a hanging reply must not answer")


def test_malformed_json_and_wrong_content_type(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.script(Reply.broken("malformed_json"), Reply.broken("wrong_content_type"))
    malformed = _post(fake_openai, CHAT)
    wrong_type = _post(fake_openai, CHAT)
    assert malformed.status == 200
    assert not _is_json(malformed.read())
    assert wrong_type.getheader("Content-Type") == "text/html"


def test_streams_server_sent_events_and_truncates_on_request(fake_openai: FakeOpenAIServer) -> None:
    fake_openai.default = Reply.ok("one two three four")
    full = _post(fake_openai, {**CHAT, "stream": True}).read().decode()
    assert full.rstrip().endswith("data: [DONE]")
    fake_openai.default = Reply(content="one two three four", fault="truncated_stream")
    try:
        cut = _post(fake_openai, {**CHAT, "stream": True}).read().decode()
    except http.client.IncompleteRead as error:
        cut = error.partial.decode()
    assert "[DONE]" not in cut


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True
