"""Test helpers a squad can use too: a fake OpenAI-compatible provider on 127.0.0.1.

`FakeOpenAIServer` stands in for a paid provider at the HTTP edge, so tests go through
the real gateway -> litellm -> HTTP path (never a monkeypatched litellm). Its own tests
(`tests/library/test_openai_server.py`) show it behaves like the API it replaces.
"""

from .openai_server import FakeOpenAIServer, Reply

__all__ = ["FakeOpenAIServer", "Reply"]
