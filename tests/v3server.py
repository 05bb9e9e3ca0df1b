# v3server.py: a scripted bdfarm server that speaks version 3 of the
# extension (doc/protocol.md) to a bdfarm client, for the client's tests.
# It is V2Server, answering bdfarm/min(N, 3), plus:
#
# - REQUESTFILES is answered from the lists the test gives for each .blend
#   (FILES n flags, then the entries, the .blend first), NOK for a .blend
#   it has no list for;
# - REQUESTFILE is answered with the file's size and bytes, or NOK for a
#   file no list names or one the test made it refuse;
# - MISSING lines are recorded;
# - the test may switch to another job (another .blend, other frames)
#   once the first is done, so that one client sees several jobs;
# - with version=4, WARM lines are taken (and recorded, as every line
#   is, in `commands`), and a list may carry the fresh-blender flag.
#
# Every REQUESTFILES is recorded in `list_requests`, every REQUESTFILE's
# file digest in `file_requests`, every MISSING as (blend, frame, path)
# in `missing`.

import os

from oldserver import md5_of
from v2server import V2Server


class V3Server(V2Server):
    """Jobs served to bdfarm clients with the extension's version 3."""

    def __init__(self, blend, first, last, renderdir, files=None,
                 server_path=None, allow_missing=False, fresh_blender=False,
                 **kw):
        kw.setdefault("version", 3)
        super().__init__(blend, first, last, renderdir, **kw)
        self.lists = {}             # blend md5 -> (flags, [(md5, size, path)])
        self.data = {}              # file md5 -> bytes
        self.refuse = set()         # file digests answered NOK
        self.list_requests = []     # (blend, md5) of every REQUESTFILES
        self.file_requests = []     # file md5 of every REQUESTFILE
        self.missing = []           # (blend, frame, path) from MISSING
        self.add_list(self.blend_name, self.blend_data, files, server_path,
                      allow_missing, fresh_blender)

    def add_list(self, name, data, files, server_path=None,
                 allow_missing=False, fresh_blender=False):
        """The list of a .blend: files is [(server path, bytes or None
        for a file missing on the server)], or None for no list at all;
        the .blend itself goes first, at server_path."""
        if files is None:
            return
        blend_md5 = md5_of(data)
        entries = [(blend_md5, len(data), server_path or "/jobs/" + name)]
        for path, content in files:
            if content is None:
                entries.append(("-", 0, path))
            else:
                entries.append((md5_of(content), len(content), path))
                self.data[md5_of(content)] = content
        flags = ",".join(flag for flag, on in
                         (("allow-missing", allow_missing),
                          ("fresh-blender", fresh_blender)) if on) or "-"
        with self.lock:
            self.lists[blend_md5] = (flags, entries)
            self.data[blend_md5] = data

    def set_job(self, blend, first, last, files=None, server_path=None,
                allow_missing=False):
        """Serve another job from now on; its frames must not be numbered
        like any earlier job's."""
        with open(blend, "rb") as f:
            data = f.read()
        self.add_list(os.path.basename(blend), data, files, server_path,
                      allow_missing)
        with self.lock:
            self.blend_data = data
            self.blend_name = os.path.basename(blend)
            self.blend_md5 = md5_of(data)
            self.frames = list(range(first, last + 1))

    def step(self, conn, f, t, version, held):
        if version >= 3 and t and t[0] == "REQUESTFILES" and len(t) == 3:
            with self.lock:
                self.list_requests.append((t[1], t[2]))
                found = self.lists.get(t[2])
            if found is None:
                return self.send(b"NOK\r\n", conn)
            flags, entries = found
            text = "FILES %d %s\r\n" % (len(entries), flags)
            text += "".join("%s %d %s\r\n" % e for e in entries)
            return self.send(text.encode(), conn)
        if version >= 3 and t and t[0] == "REQUESTFILE" and len(t) == 4:
            with self.lock:
                self.file_requests.append(t[3])
                data = self.data.get(t[3])
                if t[3] in self.refuse:
                    data = None
            if data is None:
                return self.send(b"NOK\r\n", conn)
            return self.send(b"%d\r\n" % len(data) + data, conn)
        if version >= 3 and t and t[0] == "MISSING" and len(t) >= 5:
            with self.lock:
                raw = self.commands[-1]
                self.missing.append((t[1], int(t[3]),
                                     raw.split(" ", 4)[4]))
            return True
        if version >= 4 and t and t[0] == "WARM":
            return True
        return super().step(conn, f, t, version, held)

    def warm_lines(self):
        """Every WARM line received, in order, as lists of tokens."""
        with self.lock:
            return [line.split()[1:] for line in self.commands
                    if line.split()[:1] == ["WARM"]]

    def requests_for(self, content):
        """How many times the file with these bytes was asked for."""
        with self.lock:
            return self.file_requests.count(md5_of(content))
