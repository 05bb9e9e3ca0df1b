# clienttest.py: what the client tests share: a scratch folder, a
# configuration file with short delays, starting clients with the
# stand-in Blender, waiting for a condition, checking PNG files, and
# killing every process a test started when it ends.
#
# Tests must pass while other builds and tests keep every core busy: they
# wait for a sign of what they expect (a log line, a file, a state) with
# generous limits, never for a fixed time.

import atexit
import json
import os
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

SRCDIR = os.environ.get("BDFARM_SRCDIR",
                        os.path.dirname(os.path.dirname(
                            os.path.abspath(__file__))))
BDFARM = os.environ.get("BDFARM", os.path.join(SRCDIR, "bdfarm"))
FAKE_BLENDER = os.path.join(SRCDIR, "tests", "fake-blender")

# How long to wait for something that happens at once on an idle machine;
# waiting longer for a sign costs nothing when it comes.
PATIENCE = 30

_processes = []
_scratch = []
_clients = []


def _cleanup():
    for c in _clients:
        text = c.log()
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if bad in text:
                print("FAIL: %s in %s:\n%s" % (bad, c.logpath, text[-4000:]),
                      flush=True)
                os._exit(1)
    for p in _processes:
        if p.poll() is None:
            try:
                os.kill(p.pid, signal.SIGKILL)
            except OSError:
                pass
            p.wait()
    for d in _scratch:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_cleanup)


def fail(msg):
    """End the test with a failure, showing the end of every client log."""
    print("FAIL: " + msg, flush=True)
    for c in _clients:
        print("--- last lines of %s" % c.logpath)
        print("\n".join(c.log().splitlines()[-40:]), flush=True)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg, flush=True)


def scratch():
    """A fresh folder, removed when the test ends."""
    d = tempfile.mkdtemp(prefix="bdfarm-client-test-")
    _scratch.append(d)
    return d


def reserve_port():
    """A socket bound to a loopback port, not listening: connections to the
    port are refused, and no other process can take it until the socket
    listens (for a server that starts later) or is closed."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s


def fake_blend(folder, copies=100):
    """A stand-in scene.blend in folder, which fake-blender accepts."""
    path = os.path.join(folder, "scene.blend")
    with open(path, "wb") as f:
        f.write(b"BLENDER-v304 fake scene\n" * copies)
    return path


def write_config(path, **client):
    """A libconfig file with short client delays, overridable."""
    values = dict(none_wait=1, busy_wait=1, retry_min=1,
                  retry_max=2, cache_idle=600, batch_frames=4)
    values.update(client)
    with open(path, "w") as f:
        f.write("client = {\n")
        for k, v in values.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif isinstance(v, str):
                v = '"%s"' % v
            f.write("  %s = %s;\n" % (k, v))
        f.write("};\n")
    return path


def write_fake_config(path, **cfg):
    with open(path, "w") as f:
        json.dump(cfg, f)
    return path


class Client:
    """A running `bdfarm --client`, its log in a file."""

    def __init__(self, port, workdir, config, blender=FAKE_BLENDER,
                 args=(), env=None, host="127.0.0.1", max_file_size=None):
        self.logpath = workdir.rstrip("/") + ".log"
        os.makedirs(os.path.dirname(self.logpath), exist_ok=True)
        self.logfile = open(self.logpath, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.argv = [BDFARM, "--client", "--config", config, "--workdir",
                     workdir, "--blender", blender, "-v"] + list(args) + \
                    [host, str(port)]
        def limit():
            if max_file_size is not None:
                resource.setrlimit(resource.RLIMIT_FSIZE,
                                   (max_file_size, max_file_size))
        self.proc = subprocess.Popen(self.argv, stdout=self.logfile,
                                     stderr=subprocess.STDOUT, env=e,
                                     start_new_session=True,
                                     preexec_fn=limit)
        _processes.append(self.proc)
        _clients.append(self)

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM, timeout=PATIENCE):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail("client did not exit on signal %d" % sig)

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None


def wait_for(cond, timeout, step=0.1):
    """Poll cond until it is true or timeout seconds have passed."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return cond()


def holds(cond, duration, step=0.1):
    """Watch cond for duration seconds: False as soon as it is false, True
    if it stayed true. How a test checks that something does not happen;
    it says why the duration is enough."""
    end = time.monotonic() + duration
    while time.monotonic() < end:
        if not cond():
            return False
        time.sleep(step)
    return cond()


def png_size(path):
    """Width and height of a valid PNG (every chunk's CRC checked), or
    None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    pos, size, seen_end = 8, None, False
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 4:pos + 8 + length]
        crc = data[pos + 8 + length:pos + 12 + length]
        if len(crc) != 4 or \
                struct.unpack(">I", crc)[0] != zlib.crc32(body) & 0xffffffff:
            return None
        if kind == b"IHDR":
            size = struct.unpack(">II", body[4:12])
        if kind == b"IEND":
            seen_end = True
            break
        pos += 12 + length
    return size if seen_end else None


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is as good as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def blender_runs(logpath):
    """The runs the stand-in Blender logged: list of dicts."""
    if not os.path.exists(logpath):
        return []
    with open(logpath) as f:
        return [json.loads(line) for line in f if line.strip()]


def real_blender():
    """The path of the real Blender; exit 77 (skip) if it is not
    installed, the one reason an end-to-end test may not run."""
    path = shutil.which("blender")
    if path is None:
        print("SKIP: blender is not installed")
        sys.exit(77)
    return path


def demo_scene(blender, folder, name, *options):
    """Build the demo scene (data/demo-scene.py) as folder/name."""
    path = os.path.join(folder, name)
    script = os.path.join(SRCDIR, "data", "demo-scene.py")
    subprocess.run([blender, "-b", "--factory-startup", "--python", script,
                    "--", path] + list(options), check=True, timeout=600,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def denoise_stores_nothing(blender, top, denoise, work, conf, timeout):
    """Debian's Blender cannot denoise: it prints "Error:", writes nothing
    and exits 0. Through an old server with one client, both frames of the
    denoising scene fail and are handed out again, the client logs
    Blender's error, and nothing is ever stored. Returns the client's
    log."""
    from oldserver import OldServer
    renders = os.path.join(top, "render-denoise")
    server = OldServer(denoise, 1, 2, renders, job="denoise.job",
                       redistribute=2).start()
    client = Client(server.port, work, conf, blender=blender)

    def again():
        return all(sum(1 for f, h in server.handed if f == n) >= 2
                   for n in (1, 2))
    check(wait_for(again, timeout, step=0.5),
          "the denoising frames failed and were handed out again")
    log = client.log()
    check("Blender reported: " in log, "the client logged Blender's error")
    check(server.received == [] and
          not os.path.exists(os.path.join(renders, "denoise.job")),
          "no frame of the denoising scene was ever stored")
    check(client.stop() == 0, "the client exits 0 on SIGTERM")
    server.close()
    return log


def check_demo_stored(renders):
    """The 24 frames of the demo job are stored under renders as 0001.png
    to 0024.png, each a valid 160x90 PNG."""
    folder = os.path.join(renders, "demo.job")
    names = sorted(os.listdir(folder))
    check(names == ["%04d.png" % n for n in range(1, 25)],
          "the frames are stored as 0001.png to 0024.png")
    check(all(png_size(os.path.join(folder, n)) == (160, 90) for n in names),
          "every frame is a valid 160x90 PNG")
    return folder
