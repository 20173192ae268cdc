"""A connected SMTP client for the integration tests' python snippets:
c = conn(); c.send(b"..."); c.reply() -> (code, text); c.replies(n)."""
import socket


class conn:
    def __init__(self, host="127.0.0.1", port=25):
        self.s = socket.create_connection((host, port), timeout=20)
        self.f = self.s.makefile("rb")
        self.greeting = self.reply()

    def send(self, b):
        self.s.sendall(b)

    def reply(self):
        lines = []
        while True:
            l = self.f.readline(1024)
            if not l:
                raise EOFError("connection closed")
            lines.append(l)
            if l[3:4] != b"-":
                return int(l[:3]), b"".join(lines)

    def replies(self, n):
        return [self.reply() for _ in range(n)]
