#!/usr/bin/env python3
"""Writes the bytes of the constant `hope_image_<i>` of MLIR text on stdin
(the `binaries` phase of hope-compile --target=cuda) to stdout, without
the trailing NUL of a PTX image: ptxas reads them from a file."""
import re
import sys

symbol = sys.argv[1]
text = sys.stdin.read()
match = re.search(r'llvm\.mlir\.global external constant @' + re.escape(symbol)
                  + r'\("((?:[^"\\]|\\.)*)"\)', text)
if not match:
    sys.exit(f"extract-image: no constant @{symbol}")
data = re.sub(rb'\\([0-9A-Fa-f]{2})', lambda m: bytes([int(m.group(1), 16)]),
              match.group(1).encode('latin-1'))
data = data.replace(b'\\\\', b'\\').replace(b'\\"', b'"')
sys.stdout.buffer.write(data.rstrip(b'\0'))
