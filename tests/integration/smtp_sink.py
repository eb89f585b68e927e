"""An SMTP server for the mail tests (aiosmtpd): prints one JSON line per
message it accepts (envelope sender and recipients, decoded subject and
plain-text body). With FAIL_FIRST=n it answers the first n messages with a
temporary failure (451), so that retries can be seen.

    python smtp_sink.py PORT
"""
import email
import email.policy
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, fail_first):
        self.fail_left = fail_first

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            print(json.dumps({"refused": envelope.rcpt_tos}), flush=True)
            return "451 4.3.0 Try again later"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        part = msg.get_body(preferencelist=("plain",))
        print(
            json.dumps(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "subject": str(msg["subject"]),
                    "header_to": str(msg["to"]),
                    "body": part.get_content() if part is not None else "",
                    "headers": [k.lower() for k in msg.keys()],
                }
            ),
            flush=True,
        )
        return "250 OK"


def main():
    port = int(sys.argv[1])
    controller = Controller(Sink(int(os.environ.get("FAIL_FIRST", "0"))), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        threading.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
