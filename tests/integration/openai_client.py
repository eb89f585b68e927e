"""Calls the gateway with the official `openai` package, configured with
nothing but `base_url` and `api_key`, as a client's code would.

Usage: openai_client.py live|cancelled (FG_BASE_URL, FG_KEY, FG_MODEL set).
Exits non-zero, saying what went wrong, when the gateway does not behave
as OpenAI's API does for that phase."""

import os
import sys

import openai
from openai import OpenAI

base_url = os.environ["FG_BASE_URL"]
key = os.environ["FG_KEY"]
model = os.environ["FG_MODEL"]
client = OpenAI(base_url=base_url, api_key=key, max_retries=0)
messages = [{"role": "user", "content": "ping from python"}]


def expect(error, call, what):
    try:
        call()
    except error as e:
        print(f"ok: {what}: {e.status_code}")
        return
    except Exception as e:  # noqa: BLE001
        sys.exit(f"{what}: expected {error.__name__}, got {type(e).__name__}: {e}")
    sys.exit(f"{what}: expected {error.__name__}, the call succeeded")


if sys.argv[1] == "live":
    ids = [m.id for m in client.models.list()]
    assert model in ids, ids
    print("ok: models", ids)

    answer = client.chat.completions.create(model=model, messages=messages)
    assert answer.choices[0].message.content == "Echo: ping from python", answer
    assert answer.model == model, answer.model
    assert answer.usage.completion_tokens == 4, answer.usage
    print("ok: completion")

    text = ""
    chunks = 0
    for chunk in client.chat.completions.create(model=model, messages=messages, stream=True):
        chunks += 1
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
    assert text == "Echo: ping from python", text
    assert chunks > 2, chunks
    print("ok: streamed", chunks, "chunks")

    usage = None
    for chunk in client.chat.completions.create(
        model=model, messages=messages, stream=True, stream_options={"include_usage": True}
    ):
        if chunk.usage:
            usage = chunk.usage
    assert usage is not None and usage.prompt_tokens == 3, usage
    print("ok: streamed usage")

    bad = OpenAI(base_url=base_url, api_key="fgc_not-a-real-key-at-all", max_retries=0)
    expect(openai.AuthenticationError, lambda: bad.chat.completions.create(model=model, messages=messages), "bad key")
    expect(
        openai.NotFoundError,
        lambda: client.chat.completions.create(model="no-such-model", messages=messages),
        "unknown model",
    )
elif sys.argv[1] == "cancelled":
    expect(
        openai.PermissionDeniedError,
        lambda: client.chat.completions.create(model=model, messages=messages),
        "cancelled subscription",
    )
    expect(
        openai.PermissionDeniedError,
        lambda: list(client.chat.completions.create(model=model, messages=messages, stream=True)),
        "cancelled subscription, streamed",
    )
else:
    sys.exit("phase must be live or cancelled")
print("done")
