#!/usr/bin/python3
"""Test images in, reconstructions out, side by side in one PNG.

  reconstructions.py inputs  T10K_IMAGES.gz N OUT.npy
      writes the first N test images as model inputs (pixels / 255)
  reconstructions.py picture INPUTS.npy OUTPUTS.npy OUT.png
      draws each input above its reconstruction, 28x28 pixels each

Needs only numpy (Debian's python3-numpy); the PNG is written by hand.
"""
import gzip
import struct
import sys
import zlib

import numpy as np


def write_inputs(images_path, count, out_path):
    with gzip.open(images_path, "rb") as f:
        data = f.read()
    _, n, rows, cols = struct.unpack(">IIII", data[:16])
    pixels = np.frombuffer(data, np.uint8, offset=16).reshape(n, rows * cols)
    np.save(out_path, pixels[:count].astype(np.float32) / 255.0)


def write_png(path, gray):
    """Writes an 8-bit grayscale PNG: each row starts with filter type 0."""
    height, width = gray.shape
    raw = b"".join(b"\x00" + gray[row].tobytes() for row in range(height))

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) +
                chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def write_picture(inputs_path, outputs_path, out_path, scale=3):
    inputs = np.load(inputs_path).reshape(-1, 28, 28)
    outputs = np.load(outputs_path).reshape(-1, 28, 28)
    pairs = [np.vstack([a, b]) for a, b in zip(inputs, outputs)]
    strip = np.hstack(pairs)
    gray = (np.clip(strip, 0, 1) * 255).astype(np.uint8)
    gray = gray.repeat(scale, axis=0).repeat(scale, axis=1)
    write_png(out_path, gray)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "inputs":
        write_inputs(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "picture":
        write_picture(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
