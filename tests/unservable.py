"""Values an edge's nginx could not take, which every entry point must refuse at the console, each with a
message that names the problem (issue 10: an origin value nginx would refuse never reaches an edge)."""

from __future__ import annotations

# (origin type, address, a part of the message that names the problem)
ORIGIN_ADDRESSES = [
    ("ipaddr", "fe80::1%eth0", "Remove the zone"),
    ("ipaddr", "fe80::1%x;}", "Remove the zone"),
    ("ipaddr", "[2001:db8::1]", "Remove the brackets"),
    ("domain", "[2001:db8::1]", "is an IP address"),
    ("domain", "fe80::1%x;}", "is an IP address"),
    ("domain", "origin;}.example.com", "use only letters, digits and hyphens"),
    ("domain", "bad_name.example.com", "use only letters, digits and hyphens"),
    ("oss", "bucket{1}.oss-cn-hangzhou.aliyuncs.com", "use only letters, digits and hyphens"),
]

# A host name (SNI, per-origin SNI, origin Host), and a part of the message that names the problem
HOST_NAMES = [
    ("[2001:db8::1]", "is an IP address"),
    ("fe80::1%eth0", "is an IP address"),
    ("origin;}.example.com", "use only letters, digits and hyphens"),
    ("bad_name.example.com", "use only letters, digits and hyphens"),
    ("origin.example.com\n}", "Remove the spaces"),
]
