"""IDX and .npy files for bench/run.sh, with the Python standard library.

bench.py uses this to cut the training sets it times (a fixed number of
batches) and to write synthetic data; torch_side.py uses it to read the
very same files, so both sides train on the same bytes. Only what the
benchmark needs: unsigned-byte IDX, and little-endian float32/int64 .npy.
"""
import array
import ast
import functools
import gzip
import random
import struct
import sys


def _open(path):
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")


@functools.lru_cache(maxsize=4)
def read_idx(path):
    """Returns (dims, bytes) of an unsigned-byte IDX file, gzip or not;
    the last few files read stay in memory."""
    with _open(path) as f:
        data = f.read()
    zero, kind, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return list(dims), data[4 + 4 * ndim:]


def count(path):
    """Samples in an IDX or .npy file, from its header."""
    with _open(path) as f:
        head = f.read(4096)
    if head[:6] == b"\x93NUMPY":
        length = struct.unpack("<H", head[8:10])[0]
        return ast.literal_eval(head[10:10 + length].decode("latin1"))[
            "shape"][0]
    return struct.unpack(">I", head[4:8])[0]


def write_idx(path, dims, payload):
    header = struct.pack(">HBB", 0, 0x08, len(dims))
    header += struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as f:
        f.write(header)
        f.write(payload)


def cycle_records(payload, record_bytes, count):
    """The first `count` records of payload, repeated from the start as
    often as needed."""
    have = len(payload) // record_bytes
    whole, rest = divmod(count, have)
    return payload * whole + payload[:rest * record_bytes]


def write_idx_subset(src, dst, count):
    """Writes the first `count` records of IDX file src (cycled) to dst."""
    dims, payload = read_idx(src)
    record = 1
    for d in dims[1:]:
        record *= d
    write_idx(dst, [count] + dims[1:], cycle_records(payload, record, count))


def write_npy(path, descr, shape, payload):
    dims = ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "")
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr, dims)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(payload)


@functools.lru_cache(maxsize=4)
def read_npy(path):
    """Returns (descr, shape, bytes) of a version 1 or 2 .npy file; the
    last few files read stay in memory."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:6] != b"\x93NUMPY":
        raise ValueError(f"{path}: not a .npy file")
    if data[6] == 1:
        length, start = struct.unpack("<H", data[8:10])[0], 10
    else:
        length, start = struct.unpack("<I", data[8:12])[0], 12
    header = ast.literal_eval(data[start:start + length].decode("latin1"))
    if header["fortran_order"]:
        raise ValueError(f"{path}: Fortran order is not supported")
    return header["descr"], list(header["shape"]), data[start + length:]


def write_npy_subset(src, dst, count):
    """Writes the first `count` samples of .npy file src (cycled) to dst."""
    descr, shape, payload = read_npy(src)
    record = len(payload) // shape[0]
    write_npy(dst, descr, [count] + shape[1:],
              cycle_records(payload, record, count))


def write_classes(x_path, y_path, count, features, classes, seed=1):
    """Synthetic classification data: float32 x [count, features] drawn
    from N(0, 1), and int64 y [count], the index of the largest of the
    first `classes` features (a task a linear layer learns, so that the
    loss stays finite). A block of up to 4096 samples is drawn and
    repeated: the values matter only in that they stay finite."""
    rng = random.Random(seed)
    block = min(count, 4096)
    x = array.array("f", (rng.gauss(0, 1) for _ in range(block * features)))
    y = array.array("q", (max(range(classes), key=lambda c: x[i * features
                                                             + c])
                          for i in range(block)))
    if sys.byteorder != "little":
        x.byteswap()
        y.byteswap()
    write_npy(x_path, "<f4", [count, features],
              cycle_records(x.tobytes(), 4 * features, count))
    write_npy(y_path, "<i8", [count], cycle_records(y.tobytes(), 8, count))
