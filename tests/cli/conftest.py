"""Every CLI test runs in a network namespace of its own (entered once, when pytest loads
this file): `knast run` joins the default bridge network, whose bridge and nftables table
must never touch this machine's own network. Registries the tests start listen on
127.0.0.1 of that namespace."""

import ctypes
import os
import socket
import struct
import fcntl

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def _bring_up_loopback():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(s, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _enter_own_network_namespace():
    if os.geteuid() != 0:
        return  # the container tests skip without root anyway
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET): the CLI tests need a network namespace")
    _bring_up_loopback()


_enter_own_network_namespace()
