#!/usr/bin/env python3
"""Build step: docs/openapi.yaml -> a C file holding it as compact JSON, so
that the service serves GET /openapi.json from memory without a YAML
parser of its own.

    openapi_c.py docs/openapi.yaml openapi_json.c
"""

import json
import sys

import yaml


def main(source, out):
    with open(source, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=True).encode()
    lines = ["/* Generated from %s by scripts/openapi_c.py: do not edit. */"
             % source.rsplit("/docs/", 1)[-1],
             '#include "api/openapi_doc.h"', "",
             "const char openapi_json[] = {"]
    for i in range(0, len(text), 16):
        lines.append("\t" + " ".join("0x%02x," % b for b in text[i:i + 16]))
    lines += ["\t0x00,", "};", "",
              "const size_t openapi_json_len = %d;" % len(text), ""]
    with open(out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
