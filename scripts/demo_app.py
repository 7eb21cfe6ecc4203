"""The embedded application of the demo and the nginx tests: a page that
shows the X-Auth-User (and X-Auth-Metadata) nginx passed on from
/auth/verify, and keeps X-Auth-Session and X-Auth-Expires in attributes.  It trusts those headers because only nginx can reach it.

    python3 scripts/demo_app.py PORT
"""

import base64
import html
import http.server
import sys

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Embedded app</title></head>
<body style="font-family: system-ui, sans-serif; margin: 1rem">
<p id="user" data-user="{user}" data-session="{session}" data-expires="{expires}" style="font-size: 1.25rem">signed in as <strong>{shown}</strong></p>
<pre id="metadata" style="white-space: pre-wrap">{metadata}</pre>
<button id="logout" type="button">Sign out</button>
<script>
document.getElementById("logout").addEventListener("click", function () {{
  fetch("/auth/logout", {{method: "POST"}}).then(function () {{ location.reload(); }});
}});
</script>
</body></html>
"""


def metadata_text(header):
    """X-Auth-Metadata is base64url of a JSON object, without padding."""
    if not header:
        return ""
    return base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)).decode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        # http.server decodes header bytes as Latin-1; X-Auth-User carries
        # the user_id's UTF-8 bytes.
        user = self.headers.get("X-Auth-User", "").encode("latin-1").decode("utf-8", "replace")
        body = PAGE.format(
            user=html.escape(user, quote=True),
            session=html.escape(self.headers.get("X-Auth-Session", ""), quote=True),
            expires=html.escape(self.headers.get("X-Auth-Expires", ""), quote=True),
            shown=html.escape(user or "(no user id)"),
            metadata=html.escape(metadata_text(self.headers.get("X-Auth-Metadata")))).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
