"""A small fake Redis on loopback, for failures a real one will not
produce on demand: error replies, garbage, oversized replies, replies
written a byte at a time, a reset in the middle of a reply, a reply held
back, and a listener that never accepts.  It answers the service's
handshake (AUTH, SELECT, SCRIPT LOAD, PING) properly and then misbehaves
as told.  Like Redis, it answers each connection's commands in order."""

import hashlib
import queue
import socket
import struct
import threading
import time


def _read_command(f):
    line = f.readline()
    if not line:
        return None
    if not line.startswith(b"*"):
        return [line.strip()]
    args = []
    for _ in range(int(line[1:])):
        n = int(f.readline()[1:])
        args.append(f.read(n + 2)[:-2])
    return args


class FakeRedis:
    """mode decides the answer to every command after the handshake:
    "ok"        behave (PING -> PONG, a command named in self.answers ->
                that answer, anything else -> :1)
    "error:<e>" the error reply -<e>
    "garbage"   bytes that are not RESP
    "oversized" a bulk header announcing 1 GB, then a trickle
    "huge-array" an array header announcing 200 million elements
    "split"     a correct reply, one byte per write
    "reset"     half a reply, then a TCP reset
    "silent"    no answer while the mode stays so (a frozen Redis); then
                the answer of the new mode
    per_connection: each connection keeps the mode the fake had when it
    accepted it, as a node keeps its role, so that a reconnect can reach
    a healthy node while the old connection still misbehaves.
    delays: command name -> a list of seconds; the next such command is
    answered that much later, holding back those behind it.
    received: the names of every command read, handshake included.
    """

    def __init__(self, mode="ok", accept=True, per_connection=False):
        self.mode = mode
        self.per_connection = per_connection
        self.delays = {}
        self.received = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopped = False
        self.handshakes = 0
        self.answers = {}
        if accept:
            self.sock.listen(64)
            self._start()
        else:
            # A backlog of one, filled by a connection nobody accepts:
            # further SYNs are dropped and connects never complete.
            self.sock.listen(0)
            self.plug = socket.create_connection(("127.0.0.1", self.port))
            self.plug2 = socket.socket()
            self.plug2.setblocking(False)
            try:
                self.plug2.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass

    def start_accepting(self):
        self.sock.listen(64)
        self._start()

    def _start(self):
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _reply(self, mode, name):
        """The misbehaving answer to a command after the handshake."""
        if mode == "ok":
            return self._reply_ok(name)
        if mode.startswith("error:"):
            return b"-" + mode[6:].encode() + b"\r\n"
        if mode == "garbage":
            return b"?this is not RESP\r\n"
        if mode == "oversized":
            return b"$1000000000\r\nxxxxxxxx"
        if mode == "huge-array":
            return b"*200000000\r\n:1\r\n"
        return None

    def _read(self, conn, commands):
        """Reads every command as it comes, whatever the answers wait
        for, so that received counts what the service sent."""
        f = conn.makefile("rb")
        try:
            while True:
                cmd = _read_command(f)
                if cmd is not None:
                    self.received.append(cmd[0].upper())
                commands.put(cmd)
                if cmd is None:
                    return
        except (OSError, ValueError):
            commands.put(None)

    def _serve(self, conn):
        commands = queue.Queue()
        accepted_mode = self.mode
        threading.Thread(target=self._read, args=(conn, commands),
                         daemon=True).start()
        in_handshake = True  # until the PING that ends it
        try:
            while True:
                cmd = commands.get()
                if cmd is None:
                    return
                name = cmd[0].upper()
                if in_handshake:
                    if name == b"SCRIPT":
                        sha = hashlib.sha1(cmd[2]).hexdigest().encode()
                        conn.sendall(b"$40\r\n" + sha + b"\r\n")
                    elif name == b"PING":
                        in_handshake = False
                        self.handshakes += 1
                        conn.sendall(b"+PONG\r\n")
                    else:
                        conn.sendall(b"+OK\r\n")
                    continue
                mode = self._mode(accepted_mode)
                while mode == "silent" and not self.stopped:
                    time.sleep(0.01)
                    mode = self._mode(accepted_mode)
                if self.stopped:
                    return
                if self.delays.get(name):
                    time.sleep(self.delays[name].pop(0))
                if mode == "split":
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    for b in self._reply_ok(name):
                        conn.sendall(bytes([b]))
                        time.sleep(0.001)
                    continue
                if mode == "reset":
                    conn.sendall(b"$10\r\nabc")
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    conn.close()
                    return
                conn.sendall(self._reply(mode, name))
        except OSError:
            return

    def _mode(self, accepted_mode):
        return accepted_mode if self.per_connection else self.mode

    def _reply_ok(self, name):
        if name in self.answers:
            return self.answers[name]
        return b"+PONG\r\n" if name == b"PING" else b":1\r\n"

    def close(self):
        self.stopped = True
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()


class FakeSentinel:
    """A sentinel on loopback that answers SENTINEL get-master-addr-by-name
    with master_reply (raw RESP) and acknowledges SUBSCRIBE; AUTH gets +OK.
    asked counts the questions."""

    def __init__(self, master_reply):
        self.master_reply = master_reply
        self.asked = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sock.listen(64)
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        f = conn.makefile("rb")
        try:
            while True:
                cmd = _read_command(f)
                if cmd is None:
                    return
                name = cmd[0].upper()
                if name == b"SENTINEL":
                    self.asked += 1
                    conn.sendall(self.master_reply)
                elif name == b"SUBSCRIBE":
                    conn.sendall(b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n"
                                 % (len(cmd[1]), cmd[1]))
                else:
                    conn.sendall(b"+OK\r\n")
        except (OSError, ValueError):
            return

    def close(self):
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass
        self.sock.close()
