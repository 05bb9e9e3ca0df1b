# bmpcheck.py: reads the BMP pictures Blender writes and compares regions
# of a frame with the colours a test expects of them (see deps-scene.py's
# expect.json). From a shell:
#
#   python3 bmpcheck.py EXPECT.json FRAME PICTURE.bmp [--missing N]...
#
# prints what is wrong and exits 1, or exits 0; each --missing N says that
# region N (from 1) must show Blender's magenta for a missing texture.

import argparse
import json
import struct
import sys

MAGENTA = (255, 0, 255)


def read_bmp(path):
    """(width, height, pixels) of an uncompressed 24 or 32 bit BMP;
    pixels[y][x] is an (r, g, b) tuple, row 0 at the top."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] != b"BM":
        raise ValueError("%s: not a BMP file" % path)
    offset, = struct.unpack_from("<I", data, 10)
    width, height, _, bits, compression = struct.unpack_from(
        "<iiHHI", data, 18)
    if bits not in (24, 32) or compression not in (0, 3):
        raise ValueError("%s: %d bit, compression %d: not supported"
                         % (path, bits, compression))
    # Rows are stored bottom-up unless the height is negative, each
    # padded to a multiple of four bytes.
    bottom_up = height > 0
    height = abs(height)
    step = bits // 8
    stride = (width * step + 3) // 4 * 4
    pixels = []
    for row in range(height):
        start = offset + row * stride
        line = data[start:start + width * step]
        pixels.append([(line[i + 2], line[i + 1], line[i])
                       for i in range(0, width * step, step)])
    if bottom_up:
        pixels.reverse()
    return width, height, pixels


def region_colour(pixels, region):
    """Mean (r, g, b) over region (x0, y0, x1, y1), x1 and y1 excluded."""
    x0, y0, x1, y1 = region
    sums = [0, 0, 0]
    count = 0
    for y in range(y0, y1):
        for x in range(x0, x1):
            for c in range(3):
                sums[c] += pixels[y][x][c]
            count += 1
    return tuple(round(s / count, 1) for s in sums)


def check_frame(path, expect, frame, tolerance=3, missing=()):
    """The ways in which picture path differs from what expect (the
    contents of expect.json) says frame must show, but with magenta in
    the regions numbered (from 1) in missing: an empty list when it is
    right."""
    width, height, pixels = read_bmp(path)
    if (width, height) != (expect["width"], expect["height"]):
        return ["%s: %dx%d, not %dx%d" % (path, width, height,
                                          expect["width"], expect["height"])]
    wrong = []
    colours = expect["frames"][str(frame)]
    for n, (region, want) in enumerate(zip(expect["regions"], colours), 1):
        if n in missing:
            want = MAGENTA
        got = region_colour(pixels, region)
        # Each pixel, not only the mean, must be near the colour.
        x0, y0, x1, y1 = region
        worst = max(abs(pixels[y][x][c] - want[c])
                    for y in range(y0, y1)
                    for x in range(x0, x1)
                    for c in range(3))
        if worst > tolerance:
            wrong.append("%s: frame %s region %d: mean colour %s, want %s"
                         " (a pixel is %d off)"
                         % (path, frame, n, got, tuple(want), worst))
    return wrong


def main():
    p = argparse.ArgumentParser(prog="bmpcheck.py")
    p.add_argument("expect")
    p.add_argument("frame", type=int)
    p.add_argument("picture")
    p.add_argument("--missing", type=int, action="append", default=[])
    args = p.parse_args()
    with open(args.expect) as f:
        expect = json.load(f)
    wrong = check_frame(args.picture, expect, args.frame,
                        missing=args.missing)
    for line in wrong:
        print(line)
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
