#!/usr/bin/env python3
"""Checks that reference libraries decode Tributary's compressed output (run by hand).

Usage: python3 crosscheck.py DIR
DIR holds NAME.input (original bytes) and NAME.CODEC files written by Tributary's
encoders, CODEC being gzip, snappy (raw), xerial, lz4 or zstd. Every file must decode
with the reference library to exactly NAME.input. Needs: pip install python-snappy lz4 zstandard
"""
import glob
import gzip
import os
import struct
import sys

import lz4.frame
import snappy
import zstandard


def unxerial(data):
    assert data[:8] == b"\x82SNAPPY\x00", "missing xerial magic"
    version, compatible = struct.unpack(">ii", data[8:16])
    assert (version, compatible) == (1, 1), (version, compatible)
    out, i = bytearray(), 16
    while i < len(data):
        (size,) = struct.unpack(">i", data[i:i + 4])
        out += snappy.uncompress(data[i + 4:i + 4 + size])
        i += 4 + size
    return bytes(out)


def zstd_decode(data):
    # Frames carry the content size; decompress() also verifies the checksum.
    return zstandard.ZstdDecompressor().decompress(data)


DECODERS = {
    "gzip": gzip.decompress,
    "snappy": snappy.uncompress,
    "xerial": unxerial,
    "lz4": lz4.frame.decompress,
    "zstd": zstd_decode,
}


def main(directory):
    failures = checked = 0
    for input_path in sorted(glob.glob(os.path.join(directory, "*.input"))):
        name = input_path[:-len(".input")]
        original = open(input_path, "rb").read()
        for codec, decode in DECODERS.items():
            path = "%s.%s" % (name, codec)
            if not os.path.exists(path):
                continue
            checked += 1
            try:
                ok = decode(open(path, "rb").read()) == original
            except Exception as error:  # report every failure, keep going
                ok = False
                print("FAIL %s: %s" % (path, error))
            if not ok:
                failures += 1
                print("FAIL %s" % path)
    print("%d passed, %d failed" % (checked - failures, failures))
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
