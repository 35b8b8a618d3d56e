#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for jobrank's tests (Debian's python3-aiosmtpd).

It listens on a port the system picks and prints "PORT <n>" on stdout once it accepts
connections. Every message it accepts is written to --dir as one JSON file (written
under a temporary name, then renamed, so a reader never sees half a file):
{"mail_from", "rcpt_tos", "data", "tls", "login", "to", "subject", "text", "html"},
the last four decoded from the message by Python's email package (headers decoded,
parts decoded from their transfer encoding), so tests read what a mail client shows.

Variants:
  --tls none|starttls|implicit   plain SMTP, STARTTLS required before MAIL, or TLS from
                                 the first byte (--cert and --key: PEM files)
  --auth USER:PASSWORD           AUTH (PLAIN, LOGIN) required before MAIL
  --refuse CODE                  answer every RCPT TO with CODE (550: permanent,
                                 451: temporary), naming the address as servers do
  --drop                         take the whole message, then close the connection
                                 without answering it
  --times N                      refuse or drop only the first N times, then accept
                                 (a server that recovers)
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import uuid

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth")
    p.add_argument("--refuse", type=int)
    p.add_argument("--drop", action="store_true")
    p.add_argument("--times", type=int)
    args = p.parse_args()
    # How many more times to refuse or drop (None: always).
    remaining = {"n": args.times}

    def misbehave():
        if remaining["n"] is None:
            return True
        if remaining["n"] > 0:
            remaining["n"] -= 1
            return True
        return False

    context = None
    if args.tls != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    user, password = (args.auth.split(":", 1) if args.auth else (None, None))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        # handled=False: aiosmtpd answers 535 itself on a failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, options):
            if args.refuse and misbehave():
                status = "5.7.1" if args.refuse >= 500 else "4.3.0"
                return f"{args.refuse} {status} Refused for <{address}>"
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            if args.drop and misbehave():
                server.transport.abort()
                return "250 never sent"
            tls = session.ssl is not None or (
                server.transport.get_extra_info("ssl_object") is not None
            )
            login = getattr(session.auth_data, "login", None)
            parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)

            def part(kind):
                body = parsed.get_body(preferencelist=(kind,))
                if body is None:
                    return None
                return body.get_content().replace("\r\n", "\n")

            record = {
                "to": str(parsed.get("To", "")),
                "subject": str(parsed.get("Subject", "")),
                "text": part("plain"),
                "html": part("html"),
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.content.decode("utf-8", "replace"),
                "tls": tls,
                "login": login.decode() if login else None,
            }
            name = uuid.uuid4().hex
            tmp = os.path.join(args.dir, f".{name}.tmp")
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(args.dir, f"{name}.json"))
            return "250 Message accepted"

    handler = Handler()

    def factory():
        return SMTP(
            handler,
            hostname="smtp.test",
            tls_context=context if args.tls == "starttls" else None,
            require_starttls=args.tls == "starttls",
            authenticator=authenticator if args.auth else None,
            auth_required=bool(args.auth),
            # With implicit TLS the whole connection is encrypted already.
            auth_require_tls=args.tls == "starttls",
        )

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory,
            host="127.0.0.1",
            port=0,
            ssl=context if args.tls == "implicit" else None,
        )
        port = server.sockets[0].getsockname()[1]
        print(f"PORT {port}", flush=True)
        async with server:
            await server.serve_forever()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
