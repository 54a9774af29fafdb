#!/usr/bin/env python3
"""Write the hand-made seeds of the fuzz corpus (tests/fuzz/corpus/).

Each seed is a meaningful starting point: the [MS-SMBD] 4.1 exchange, the
refusal, keepalives, fragments, descriptor lists at their bounds, and
engine sessions in both roles. The corpus also holds inputs the fuzzers
found (named by their SHA-1); rerunning this script keeps those.

Usage: tests/fuzz/make-seeds.py [corpus-dir]
"""
import os
import struct
import sys


def neg_req(minv=0x100, maxv=0x100, cr=10, pss=1024, mrs=1024, mfs=131072):
    return struct.pack("<HHHHIII", minv, maxv, 0, cr, pss, mrs, mfs)


def neg_resp(cr=10, cg=10, status=0, mrw=1 << 20, pss=1024, mrs=1024,
             mfs=131072, ver=0x100):
    return struct.pack("<HHHHHHIIIII", 0x100, 0x100, ver, 0, cr, cg, status,
                       mrw, pss, mrs, mfs)


def data_hdr(cr=255, cg=0, flags=0, rdl=0, dl=0):
    off = 24 if dl else 0
    h = struct.pack("<HHHHIII", cr, cg, flags, 0, rdl, off, dl)
    return h + (b"\0" * 4 if dl else b"")


def wire_seeds():
    return {
        "neg-req-4.1": neg_req(),
        "neg-resp-4.1": neg_resp(),
        "neg-refuse": struct.pack("<HHHHHHI", 0x100, 0x100, 0, 0, 0, 0,
                                  0xC00000BB) + b"\0" * 16,
        "data-4.1": data_hdr(10, 10, 0, 0, 0x68) + bytes(range(0x68)),
        "keepalive": data_hdr(255, 0, 1),
        "fragment": data_hdr(255, 3, 0, 2680, 1340) + b"\xab" * 1340,
        "short": data_hdr(255)[:19],
        "beyond": struct.pack("<HHHHIII", 1, 0, 0, 0, 0, 24, 100) + b"\0" * 8,
    }


def bd(entries, max_total=1 << 20, max_count=16):
    out = struct.pack("<IB", max_total, max_count)
    for off, tok, ln in entries:
        out += struct.pack("<QII", off, tok, ln)
    return out


def bd_seeds():
    return {
        "one": bd([(0x987654321000, 0x12345678, 65536)]),
        "three": bd([(0, 1, 4096), (8192, 2, 4096), (1 << 40, 3, 1)]),
        "zero-length": bd([(0, 1, 4096), (0, 2, 0)]),
        "wrap": bd([((1 << 64) - 16, 1, 17)]),
        "total": bd([(0, 1, 1 << 20), (0, 1, 1)]),
        "count": bd([(0, i, 1) for i in range(17)]),
        "unaligned": bd([(0, 1, 4096)])[:-3],
    }


# fuzz_sdp_conn operations (first byte of each, modulo 9).
RAW, DATA, SEND, COMPLETE, RELEASE, TIMER, BLOCK, NEG, SHUT = range(9)


def op_data(cr=255, cg=0, flags=0, dl=0, rdl=0):
    return (bytes([DATA, cr & 0xff, cg, flags]) + struct.pack("<H", dl)
            + struct.pack("<I", rdl)[:3])


def op_send(n, rkey=0):
    return bytes([SEND]) + struct.pack("<I", n)[:3] + bytes([rkey])


def op_timer(ms):
    return bytes([TIMER]) + struct.pack("<H", ms)


def conn_seeds():
    srv = 0x02                  # server, negotiated up front
    cli = 0x03                  # client, negotiated up front
    srv_neg = bytes([255, 0x14, 0x05, 0x14, 0x05, 0, 0])
    cli_neg = bytes([254, 9]) + struct.pack("<I", 1 << 20) + bytes(
        [0x40, 0x1f, 0, 0])
    s = {}
    s["server-exchange"] = bytes([srv]) + srv_neg + (
        op_data(255, 10, 0, 104) + bytes([RELEASE, 1]) + op_send(300)
        + bytes([COMPLETE, 2]) + op_data(255, 0, 0, 1000, 2000)
        + op_data(255, 0, 0, 1000, 1000) + op_data(255, 0, 0, 1000)
        + bytes([RELEASE, 3]))
    s["client-exchange"] = bytes([cli]) + cli_neg + (
        op_send(5000, 7) + bytes([COMPLETE, 5]) + op_data(255, 5, 0, 100)
        + bytes([RELEASE, 1]))
    s["server-negotiate-op"] = bytes([0x00, NEG]) + srv_neg + op_data(255, 1)
    s["server-keepalive"] = bytes([0x42]) + srv_neg + (
        op_data(255, 5) + op_timer(100) + bytes([COMPLETE, 2])
        + op_timer(60) + op_data(255, 0, 1) + op_timer(200))
    s["server-blocked"] = bytes([0x8a]) + srv_neg + (
        bytes([BLOCK, 1]) + op_data(255, 2, 0, 50) + op_data(255, 0, 0, 50)
        + bytes([RELEASE, 2, BLOCK, 0]) + op_send(70000))
    s["small-credits"] = bytes([0x06]) + srv_neg + (
        op_data(255, 1, 0, 10) + op_send(10) + bytes([RELEASE, 1])
        + op_data(255, 1) + op_send(10))
    s["tiny-messages"] = bytes([0x13]) + cli_neg + (
        op_send(1000) + op_data(255, 7) + bytes([COMPLETE, 9]))
    s["raw-short"] = bytes([0x02]) + srv_neg + bytes([RAW, 19, 0]) + b"\1" * 19
    s["refused"] = bytes([0x00, RAW, 20, 0]) + neg_req(0x200, 0x300)
    s["shutdown"] = bytes([cli]) + cli_neg + bytes([SHUT, 0xff])
    s["neg-timeout"] = bytes([0x00]) + op_timer(6000)
    # A server with its spare receive (255 credits): blocked, so nothing
    # is reposted, the peer spends its 8 credits and sends a ninth.
    s["server-spare-overrun"] = bytes([srv]) + srv_neg + bytes(
        [BLOCK, 1]) + op_data(255, 0) * 9
    # A server the peer never grants a credit: its keepalive cannot go
    # out, and the pending request times out.
    s["server-keepalive-no-credit"] = bytes([0x42]) + srv_neg + (
        op_timer(100) + op_timer(60))
    return s


def write(root, name, seeds):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for k, v in seeds.items():
        with open(os.path.join(d, "seed-" + k), "wb") as f:
            f.write(v)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    write(root, "fuzz_sdp_wire", wire_seeds())
    write(root, "fuzz_sdp_bd", bd_seeds())
    write(root, "fuzz_sdp_conn", conn_seeds())


if __name__ == "__main__":
    main()
