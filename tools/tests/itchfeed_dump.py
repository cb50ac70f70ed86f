"""Decodes an ITCH 5.0 file with the `itchfeed` package (a decoder nobody here
wrote) and prints one JSON object per message: every attribute it decoded, bytes
as strings, integers as integers, plus the message type."""
import json
import sys

from itch.parser import MessageParser

with open(sys.argv[1], "rb") as f:
    for m in MessageParser().parse_file(f):
        o = {"message_type": m.message_type.decode("ascii")}
        for k, v in vars(m).items():
            o[k] = v.decode("latin-1") if isinstance(v, bytes) else v
        print(json.dumps(o, sort_keys=True))
