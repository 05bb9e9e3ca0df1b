"""Version 3 of the extension, server side: the files a job's .blend needs,
read by the server from a scene the real Blender wrote (textures by
absolute and relative path, a numbered sequence, UDIM tiles, a linked
library with its own texture, a texture that is missing), plain and
compressed; each file sent by digest and never a file no job needs; a
change of a texture seen; the missing one named in the job log; and
nothing of this for a client that speaks an older version."""

import os
import shutil
import tempfile

import bdfarmtest
from bdfarmtest import check, eq, md5_bytes, md5_file, wait_for
from exttest import ExtFarm, BdfarmClient, closed_by_server
from filescene import build_scene, expected

BOUND = 30


class V3Client(BdfarmClient):
    """A client that greets with bdfarm/3 and asks for files."""

    def hello3(self, version=3):
        t = self.helo(extra='bdfarm/%d %s' % (version, self.instance))
        eq(t[2:], ['bdfarm/%d' % version],
           'version answered to bdfarm/%d' % version)

    def files(self, blend, md5):
        """The answer to REQUESTFILES: (flags, [(md5, size, path)]), or
        None for NOK."""
        self.send_line('REQUESTFILES %s %s' % (blend, md5))
        head = self.read_line()
        if head == 'NOK':
            return None
        t = head.split()
        check(len(t) == 3 and t[0] == 'FILES', 'FILES answered %r', head)
        entries = []
        for _ in range(int(t[1])):
            digest, size, path = self.read_line().split(' ', 2)
            entries.append((digest, int(size), path))
        return t[2], entries

    def file(self, blend, md5, digest):
        """The bytes of a file by digest, or None for NOK."""
        self.send_line('REQUESTFILE %s %s %s' % (blend, md5, digest))
        line = self.read_line()
        if line == 'NOK':
            return None
        return self.read_exact(int(line))


def listed(entries):
    return {path: (None if digest == '-' else digest)
            for digest, size, path in entries}


def test_files_of_a_real_scene():
    top = tempfile.mkdtemp(prefix='bdfarm-files.')
    try:
        build_scene(top)
        with ExtFarm(verbose=True).start() as farm:
            scene = os.path.join(top, 'proj', 'scene.blend')
            zscene = os.path.join(top, 'proj', 'scene-z.blend')
            farm.job('plain', scene, 1, 4)
            farm.job('packed', zscene, 1, 4)
            farm.wait_ready()
            c = V3Client(farm.port)
            c.hello3()
            plain = ('scene.blend', md5_file(scene))
            answer = wait_for(lambda: c.files(*plain), BOUND,
                              what='the files of scene.blend')
            flags, entries = answer
            eq(flags, '-', 'flags of a job without allow-missing')
            eq(entries[0], (plain[1], os.path.getsize(scene), scene),
               'the .blend comes first')
            eq(listed(entries), expected(top, scene),
               'files of the plain scene')
            for digest, size, path in entries[1:]:
                if digest == '-':
                    eq(size, 0, 'size of a missing file')
                    continue
                data = c.file(plain[0], plain[1], digest)
                check(data is not None, '%s was refused', path)
                eq(md5_bytes(data), digest, 'bytes of %s' % path)
                eq(len(data), size, 'size of %s' % path)

            # Never a file no job needs, even beside those it needs.
            for other in ('proj/seq/other.png', 'scene.py'):
                digest = md5_file(os.path.join(top, other))
                eq(c.file(plain[0], plain[1], digest), None,
                   'the server sent %s, which no job needs' % other)
            check(farm.wait_log('refused a file no job needs'),
                  'refusals are logged')
            eq(c.file(plain[0], plain[1], md5_bytes(b'')), None,
               'a file for a made-up digest')
            eq(c.files('scene.blend', md5_bytes(b'x')), None,
               'files of a .blend no job has')

            # The compressed copy needs the same files.
            packed = ('scene-z.blend', md5_file(zscene))
            flags, zentries = wait_for(lambda: c.files(*packed), BOUND,
                                       what='the files of scene-z.blend')
            zwant = expected(top, zscene)
            del zwant[zscene]
            zgot = listed(zentries)
            del zgot[zscene]
            want = expected(top, scene)
            del want[scene]
            eq(zgot, want, 'files of the compressed scene')

            # The missing texture is named in the job log.
            gone = os.path.join(top, 'proj', 'tex', 'gone.png')
            wait_for(lambda: 'missing on the server: ' + gone in
                     farm.joblog('plain'), BOUND,
                     what='the job log to name the missing texture')

            # A texture that changes is hashed again and sent anew; one
            # that appears is found.
            rel = os.path.join(top, 'proj', 'tex', 'rel.png')
            old = md5_file(rel)
            with open(rel, 'ab') as f:
                f.write(b'more')
            shutil.copy(rel, gone)
            new = md5_file(rel)

            def changed():
                got = listed(c.files(*plain)[1])
                return got[rel] == new and got[gone] == md5_file(gone)
            wait_for(changed, BOUND, what='the new texture to be listed')
            eq(c.file(plain[0], plain[1], old), None,
               'the old texture is no longer sent')
            eq(md5_bytes(c.file(plain[0], plain[1], new)), new,
               'the new texture is sent')
            wait_for(lambda: 'every file it needs is found' in
                     farm.joblog('plain'), BOUND,
                     what='the job log to say nothing is missing')
            # Checked at every round since, the files that did not change
            # were hashed once, though two jobs need them.
            hashed = [line.split(' hashing ', 1)[1]
                      for line in farm.log().splitlines()
                      if ' hashing ' in line and ' done hashing ' not in line]
            for name in ('assets/abs.png', 'lib/libtex.png'):
                eq(hashed.count(os.path.join(top, name)), 1,
                   'times %s was hashed' % name)
            eq(hashed.count(rel), 2, 'times the changed texture was hashed')
            c.close()

            # After a restart, the .blend known from the saved state is
            # read again for what it needs.
            farm.stop()
            farm.start()
            c = V3Client(farm.port)
            c.hello3()
            c_entries = wait_for(lambda: c.files(*plain), BOUND,
                                 what='the files after a restart')[1]
            eq(listed(c_entries)[rel], new, 'the texture after a restart')
            eq(len(c_entries), len(entries), 'files after a restart')
            c.close()

            # A client of an older version may not ask.
            old_client = BdfarmClient(farm.port)
            t = old_client.helo(extra='bdfarm/2 7')
            eq(t[2:], ['bdfarm/2'], 'version answered to bdfarm/2')
            old_client.send_line('REQUESTFILES %s %s' % plain)
            check(closed_by_server(old_client, BOUND),
                  'a bdfarm/2 client asking for files is cut off')
            old_client.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


def test_options_do_not_start_over():
    top = tempfile.mkdtemp(prefix='bdfarm-files.')
    try:
        with ExtFarm().start() as farm:
            path, data = farm.blend('a.blend')
            # The job names it by a path with a "." in it: the list
            # gives it as clients lay it out.
            farm.job('a', os.path.join(farm.blenddir, '.', 'a.blend'), 1, 3)
            farm.wait_ready()
            c = V3Client(farm.port)
            c.hello3()
            name = ('a.blend', md5_bytes(data))
            flags, entries = c.files(*name)
            eq(flags, '-', 'flags without the option')
            eq(entries, [(name[1], len(data), path)],
               'a stand-in .blend needs nothing')
            with open(os.path.join(farm.jobdir, 'a.job'), 'a') as f:
                f.write('allow-missing\n')
            wait_for(lambda: c.files(*name)[0] == 'allow-missing', BOUND,
                     what='the option to be read')
            check('started over' not in farm.joblog('a'),
                  'the option started the job over:\n%s', farm.joblog('a'))

            # fresh-blender goes only to a session of version 4, and
            # holds for every job of the .blend if one job says it.
            c4 = V3Client(farm.port, name='four.example')
            c4.hello3(version=4)
            eq(c4.files(*name)[0], 'allow-missing', 'flags before')
            farm.job('sim', os.path.join(farm.blenddir, 'a.blend'), 4, 6)
            with open(os.path.join(farm.jobdir, 'sim.job'), 'a') as f:
                f.write('fresh-blender\n')
            wait_for(lambda: c4.files(*name)[0] ==
                     'allow-missing,fresh-blender', BOUND,
                     what='fresh-blender for a bdfarm/4 client')
            eq(c.files(*name)[0], 'allow-missing',
               'the flags a bdfarm/3 client gets')
            check('started over' not in farm.joblog('sim'),
                  'fresh-blender started the job over:\n%s',
                  farm.joblog('sim'))
            c4.close()
            c.close()
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == '__main__':
    bdfarmtest.main([test_files_of_a_real_scene,
                     test_options_do_not_start_over], bound=240)
