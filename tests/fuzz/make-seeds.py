#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Write the hand-made seeds of the fuzz corpus (tests/fuzz/corpus/).

Each seed is a meaningful starting point: the [MS-SMBD] 4.1 exchange, the
refusal, keepalives, fragments, descriptor lists at their bounds, and
engine sessions in both roles; data-channel frame bodies at and past their
limits; configuration files and values at their bounds; SMB2 NEGOTIATE,
READ and WRITE requests (alone and compounded); data-channel streams and
hand-off messages. The corpus also holds inputs the fuzzers
found (named by their SHA-1); rerunning this script keeps those.

Usage: tests/fuzz/make-seeds.py [corpus-dir]
"""
import os
import re
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


# ---- fuzz_frame: one frame body per seed (proto/frame.h) --------------

def rdma_body(descs, req_id=0x1122334455667788, area_off=0x10000, flags=0,
              invalidate=0, n=None, reserved=0):
    out = struct.pack("<QQIIHH", req_id, area_off, flags, invalidate,
                      len(descs) if n is None else n, reserved)
    for off, tok, ln in descs:
        out += struct.pack("<QII", off, tok, ln)
    return out


def error_body(status, refused, msg):
    return struct.pack("<iB3x", status, refused) + msg


def frame_seeds():
    return {
        "empty": b"",
        "hdr-pdu": bytes([0x00, 0x00, 0x01, 0x00]),
        "hdr-max": bytes([0xc4, 0xff, 0xff, 0xff]),
        "rdma-one": rdma_body([(0x987654321000, 0x12345678, 65536)]),
        "rdma-sixteen": rdma_body([(i << 20, i, 4096) for i in range(16)]),
        "rdma-then-pdu": rdma_body([(0, 7, 1)], flags=1, invalidate=7),
        "rdma-seventeen": rdma_body([(0, i, 1) for i in range(17)]),
        "rdma-zero": rdma_body([]),
        "rdma-reserved": rdma_body([(0, 1, 1)], reserved=1),
        "rdma-bad-flags": rdma_body([(0, 1, 1)], flags=2),
        "rdma-short-count": rdma_body([(0, 1, 1), (0, 2, 2)], n=1),
        "completion": struct.pack("<QiI", 42, 0, 1 << 20),
        "completion-error": struct.pack("<QiI", (1 << 64) - 1, -5, 0),
        "area": struct.pack("<QQ", 3, 4 << 20),
        "claim": struct.pack("<Q", 0xdeadbeef),
        "drain": struct.pack("<I", 30000),
        "error": error_body(-22, 0x82, b"n_desc out of range"),
        "error-empty": error_body(-71, 0x00, b""),
        "error-max": error_body(-90, 0x83, b"m" * 200),
        "error-over": error_body(-90, 0x83, b"m" * 201),
        "error-nul": error_body(-1, 0x84, b"ab\0cd"),
    }


# ---- fuzz_conf: configuration files and single values -----------------

def example_conf():
    """etc/smbdirectd.conf with every option line uncommented."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "..", "etc", "smbdirectd.conf")
    out = []
    with open(path, "rb") as f:
        for line in f:
            if re.match(rb"^;[a-z_]+ =", line):
                out.append(line[1:])
            elif line.startswith(b"["):
                out.append(line)
    return b"".join(out)


def conf_seeds():
    return {
        "size": b"64K",
        "size-mib": b"1MiB",
        "size-max": b"18446744073709551615",
        "size-over": b"18014398509481984G",
        "time-ms": b"250ms",
        "time-min": b"2min",
        "time-over": b"5124095576030432h",
        "listen-v4": b"10.0.0.1:5445",
        "listen-v6": b"[fe80::1%eth0]:445",
        "listen-any": b"[::]:5445",
        "listen-bad-port": b"10.0.0.1:65536",
        "minimal": b"[smbdirect]\nreceive_credits = 4\n",
        "bounds": (b"[global]\nmax_connections = 65536\n"
                   b"max_connections_per_peer = 1\nird = 255\nord = 1\n"
                   b"max_control_message = 1M\n"
                   b"[smbdirect]\nreceive_credits = 255\n"
                   b"send_credit_target = 1\nmax_send_size = 128\n"
                   b"max_receive_size = 1M\nmax_fragmented_size = 128K\n"
                   b"max_read_write_size = 8M\nnegotiate_timeout = 100ms\n"
                   b"keepalive_interval = 1h\nkeepalive_timeout = 10m\n"
                   b"idle_timeout = 86400s\n"
                   b"[channel]\nconnect_timeout = 600s\narea_size = 1G\n"
                   b"send_buffer_size = 64M\nmaster_grace = 0\n"
                   b"drain_grace = 1h\n"
                   b"[metrics]\ninterval = 1s\nper_connection = yes\n"
                   b"per_connection_max = 100000\n"),
        "out-of-range": b"[smbdirect]\nreceive_credits = 256\n",
        "fragmented-low": b"[smbdirect]\nmax_fragmented_size = 131071\n",
        "keepalive-order": (b"[smbdirect]\nkeepalive_interval = 5s\n"
                            b"keepalive_timeout = 5s\n"),
        "area-small": (b"[channel]\narea_size = 64K\n"
                       b"[smbdirect]\nmax_read_write_size = 1M\n"),
        "listen": (b"[global]\nlisten = 192.0.2.10:445\n"
                   b"listen = [fe80::1%eth0]:5445\nlisten = [::]:445\n"),
        "paths": (b"[global]\ncontrol_socket = /run/x/control\n"
                  b"runtime_dir = /run/x\n"
                  b"[metrics]\ntextfile = /var/lib/node/smbdirectd.prom\n"),
        "access": (b"[access]\nmaster_users = root, 0\n"
                   b"owner_groups = root 100\nadmin_users = 1000\n"
                   b"readonly_groups = 0,,1\t2\nreadonly_users =\n"),
        "access-no-group": b"[access]\nreadonly_groups = nosuchgroup\n",
        "unknown": b"[smbdirect]\nreceive_credit = 4\n[nosuch]\nx = 1\n",
        "syntax": b"[global\nmax_connections\n",
        "example": example_conf(),
    }


# ---- fuzz_smb2: one SMB2 PDU per seed ([MS-SMB2] 2.2) ------------------

def smb2_hdr(cmd, next_cmd=0, flags=0):
    return (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, 0, cmd, 1,
                                     flags, next_cmd, 7, 0, 1, 0x1234)
            + b"\0" * 16)


def smb2_negotiate(dialects, count=None):
    body = struct.pack("<HHHHI", 36, len(dialects) if count is None
                       else count, 1, 0, 0x7f)
    body += bytes(range(0x10, 0x20))            # ClientGuid
    body += struct.pack("<IHH", 0, 0, 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    return smb2_hdr(0) + body


def smb2_read(channel=1, descs=((0x1000, 0x42, 65536),), ci=112, cil=None,
              next_cmd=0):
    ch = b"".join(struct.pack("<QII", *d) for d in descs)
    body = struct.pack("<HBBIQ16sIIIHH", 49, 0, 0, 65536, 0, b"\1" * 16, 1,
                       channel, 0, ci, len(ch) if cil is None else cil)
    return smb2_hdr(8, next_cmd) + body + ch


def smb2_write(channel=1, descs=((0x2000, 0x43, 4096),), data=b"",
               length=None, data_off=112, ci=112, next_cmd=0):
    ch = b"".join(struct.pack("<QII", *d) for d in descs)
    body = struct.pack("<HHIQ16sIIHHI", 49, data_off,
                       len(data) if length is None else length, 0,
                       b"\2" * 16, channel, 0, ci, len(ch), 0)
    return smb2_hdr(9, next_cmd) + body + ch + data


def smb2_seeds():
    read = smb2_read()
    pad = b"\0" * (-len(read) % 8)
    return {
        "negotiate": smb2_negotiate([0x202, 0x210, 0x300, 0x302, 0x311]),
        "negotiate-no-dialect": smb2_negotiate([], count=0),
        "negotiate-short": smb2_negotiate([0x311], count=2),
        "read-rdma": read,
        "read-rdma-invalidate": smb2_read(channel=2),
        "read-sixteen": smb2_read(descs=[(i << 16, i, 4096)
                                         for i in range(16)]),
        "read-seventeen": smb2_read(descs=[(0, i, 1) for i in range(17)]),
        "read-zero-length": smb2_read(descs=[(0, 1, 4096), (0, 2, 0)]),
        "read-ci-inside": smb2_read(ci=100),
        "read-transform": smb2_read(channel=3),
        "write-inline": smb2_write(channel=0, descs=(), data=b"hello"),
        "write-inline-beyond": smb2_write(channel=0, descs=(), data=b"hi",
                                          length=3),
        "write-rdma": smb2_write(),
        "write-big": smb2_write(descs=[(0, 1, 8 << 20)]),
        "compound": (smb2_read(next_cmd=len(read) + len(pad)) + pad
                     + smb2_write(channel=0, descs=(), data=b"x")),
        "compound-unaligned": smb2_read(next_cmd=65) + b"\0" + smb2_read(),
        "response": smb2_hdr(8, flags=1) + read[64:],
    }


def gw_seeds():
    """fuzz_gwsmb2: what a relay meets, from the client and the server."""
    seeds = smb2_seeds()
    read_resp = (smb2_hdr(8, flags=1) +
                 struct.pack("<HBBIII", 17, 0x50, 0, 5, 0, 0) + b"hello")
    seeds["read-resp-data"] = read_resp
    seeds["read-resp-beyond"] = (smb2_hdr(8, flags=1) +
                                 struct.pack("<HBBIII", 17, 0x50, 0, 99, 0, 0))
    seeds["transform"] = b"\xfdSMB" + b"\0" * 48
    seeds["echo"] = smb2_hdr(0x0d) + struct.pack("<HH", 4, 0)
    return seeds


# ---- fuzz_chan: first byte the mode, then what the socket carries ------

def chan_frame(ftype, body):
    return struct.pack(">I", ftype << 24 | len(body)) + body


def pass_hdr(lens, conn_id=9, total=None, magic=0x50434453, version=1,
             n=None):
    slots = list(lens) + [0] * (64 - len(lens))
    return (struct.pack("<IHHQII", magic, version,
                        len(lens) if n is None else n, conn_id,
                        sum(lens) if total is None else total, 0)
            + b"".join(struct.pack("<I", x) for x in slots))


def records(*recs):
    return b"".join(struct.pack("<H", len(r)) + r for r in recs)


def chan_seeds():
    pdu = smb2_read()
    return {
        "read-frames": bytes([0]) + (
            chan_frame(0x00, pdu)
            + chan_frame(0xc2, struct.pack("<QiI", 1, 0, 65536))
            + chan_frame(0xc3, struct.pack("<I", 30000))
            + chan_frame(0xc4, error_body(-22, 0x82, b"bad n_desc"))),
        "read-area-no-fd": bytes([0]) + chan_frame(0xc1, struct.pack(
            "<QQ", 1, 4 << 20)),
        "read-empty-pdu": bytes([0]) + chan_frame(0x00, b""),
        "read-big-pdu": bytes([0]) + struct.pack(">I", 0x010001),
        "read-unknown": bytes([0]) + chan_frame(0x85, b"\0" * 8),
        "read-truncated": bytes([0]) + chan_frame(0x00, pdu)[:40],
        "pass-stream": bytes([1]) + pass_hdr([len(pdu), 3]) + pdu + b"abc",
        "pass-none": bytes([1]) + pass_hdr([]),
        "pass-bad-total": bytes([1]) + pass_hdr([3], total=4) + b"abc",
        "pass-bad-magic": bytes([1]) + pass_hdr([3], magic=0) + b"abc",
        "pass-short": bytes([1]) + pass_hdr([10]) + b"abc",
        "pass-seqpacket": bytes([2]) + records(pass_hdr([len(pdu), 3]),
                                               pdu, b"abc"),
        "pass-seqpacket-split": bytes([2]) + records(pass_hdr([4]), b"ab",
                                                     b"cd"),
    }


def chanops_script(*cmds):
    """fuzz_chanops: a config byte (ORD 2, 512-byte work requests), then
    commands: (0, bytes) feeds stream bytes, (2, k) completes work request
    k, (3, k) completes it, failed if k is even, (4, f) delivers a
    fragment (bit 0 first, bit 1 last), 7 blocks the sender, 8 resumes."""
    out = bytearray([2 | (1 << 2)])
    for c in cmds:
        if c[0] == 0:
            for i in range(0, len(c[1]), 255):
                part = c[1][i:i + 255]
                out += bytes([0, len(part)]) + part
        elif len(c) > 1:
            out += bytes([c[0], c[1]])
        else:
            out += bytes([c[0]])
    return bytes(out)


def chanops_seeds():
    d = ((0x10000, 0x42, 1500), (0x20000, 0x43, 700))
    rd = chan_frame(0x82, rdma_body(d, area_off=0))
    wr = chan_frame(0x83, rdma_body(d, area_off=4096, flags=1,
                                   invalidate=0x99))
    pdu = chan_frame(0, b"\xfeSMB" + b"\0" * 60)
    return {
        "pdu": chanops_script((0, pdu)),
        "read-complete": chanops_script((0, rd), (2, 0), (2, 0), (2, 0),
                                        (2, 0), (2, 0)),
        "write-then-pdu": chanops_script((0, wr + pdu), (2, 0), (2, 1),
                                         (2, 0), (2, 0), (2, 0)),
        "held": chanops_script((4, 1), (0, rd), (2, 0), (2, 0), (4, 2),
                               (2, 0)),
        "blocked": chanops_script((0, pdu), (7,), (8,), (0, pdu)),
        "failed": chanops_script((0, rd + rd), (3, 0), (2, 0)),
        "claim": chanops_script((0, chan_frame(0x85, struct.pack("<Q", 7)))),
        "unknown": chanops_script((0, chan_frame(0x99, b"xy"))),
    }


# ---- fuzz_control: datagrams of protobuf Requests -------------------------

def pb_varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def pb_field(num, value):
    """An int is a varint field; bytes a length-delimited one."""
    if isinstance(value, int):
        return pb_varint(num << 3) + pb_varint(value)
    return pb_varint(num << 3 | 2) + pb_varint(len(value)) + value


def pb_msg(*fields):
    return b"".join(pb_field(n, v) for n, v in fields)


def ctl_req(body_num, body=b"", rid=1, version=1):
    """A Request (proto/smbdirect-ctl.proto): version 1, id 2, body."""
    return pb_msg((1, version), (2, rid), (body_num, body))


def datagrams(*msgs):
    return b"".join(struct.pack("<H", len(m)) + m for m in msgs)


def control_seeds():
    reg = lambda role: ctl_req(10, pb_msg((1, role), (2, b"fuzz")))
    return {
        "admin-status": datagrams(reg(3), ctl_req(12), ctl_req(13),
                                  ctl_req(17), ctl_req(21)),
        "master-subscribe": datagrams(reg(1), ctl_req(11, pb_msg(
            (1, 1), (1, 2), (1, 3))), ctl_req(13), reg(1)),
        "admin-drain-kill": datagrams(reg(3), ctl_req(18, pb_msg((1, 0))),
                                      ctl_req(19),
                                      ctl_req(20, pb_msg((1, 5))),
                                      ctl_req(18, pb_msg((1, 7), (2, 1000))),
                                      ctl_req(14, pb_msg((1, 9)))),
        "owner-handoff-claim": datagrams(reg(2), ctl_req(15, pb_msg(
            (1, 1), (2, 1234))), ctl_req(16, pb_msg((1, 1)))),
        "no-role": datagrams(ctl_req(12), ctl_req(20, pb_msg((1, 1)))),
        "bad-version": datagrams(ctl_req(12, version=2)),
        "no-body": datagrams(pb_msg((1, 1), (2, 3))),
        "garbage": datagrams(b"\xff\xff\xff\xff\x0f"),
    }


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
    write(root, "fuzz_frame", frame_seeds())
    write(root, "fuzz_conf", conf_seeds())
    write(root, "fuzz_smb2", smb2_seeds())
    write(root, "fuzz_chan", chan_seeds())
    write(root, "fuzz_chanops", chanops_seeds())
    write(root, "fuzz_gwsmb2", gw_seeds())
    write(root, "fuzz_control", control_seeds())


if __name__ == "__main__":
    main()
