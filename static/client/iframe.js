// The iframe page: validates its one-time session once, shows the result
// and tells the parent window.  No external requests, no build step.
(function () {
	"use strict";

	// The id as the service read it to choose the page's frame-ancestors:
	// one session_id, its raw text.  A repeated or percent-encoded one is
	// no id to the service, which then sends the global policy, not the
	// session's; URLSearchParams would take the first of two and decode
	// %XX, and validate the session in a frame its policy refuses.
	var sessionId = (function () {
		var found = window.location.search.slice(1).split("&").filter(function (p) {
			return p.split("=")[0] === "session_id";
		});
		return found.length === 1 ? found[0].slice("session_id=".length) : null;
	})();

	// The id is single-use: keep it out of the address bar and history.
	if (window.history && window.history.replaceState) {
		window.history.replaceState(null, "", window.location.pathname);
	}

	// The parent's exact origin: location.ancestorOrigins where the
	// browser has it, else the origin of the page that loaded the frame.
	// It goes with the validation (a session bound to origins is consumed
	// only from one of them) and is the only target of messages with user
	// data.  The page's CSP frame-ancestors lets only allowed origins frame
	// it, and postMessage delivers to nothing but the origin it names, so a
	// wrong guess loses a message and never leaks one.
	var parentOrigin = (function () {
		if (window.parent === window) {
			return null;
		}
		var ancestors = window.location.ancestorOrigins;
		if (ancestors && ancestors.length > 0) {
			return ancestors[0] !== "null" ? ancestors[0] : null;
		}
		try {
			var origin = new URL(document.referrer).origin;
			return origin !== "null" ? origin : null;
		} catch (e) {
			return null;
		}
	})();

	var card = document.querySelector(".card");
	var title = document.getElementById("title");
	var detail = document.getElementById("detail");
	var retry = document.getElementById("retry");

	function show(state, heading, text) {
		card.setAttribute("data-state", state);
		title.textContent = heading;
		detail.textContent = text;
	}

	function tell(status, data) {
		if (window.parent === window) {
			return;
		}
		var message = { type: "iframe-auth", status: status };
		if (parentOrigin) {
			Object.keys(data || {}).forEach(function (key) {
				if (data[key] !== undefined) {
					message[key] = data[key];
				}
			});
			window.parent.postMessage(message, parentOrigin);
		} else {
			window.parent.postMessage(message, "*");
		}
	}

	function unavailable() {
		show("unavailable", "Service unavailable",
			"Your sign-in could not be checked right now. It has not been used up: try again in a moment.");
		retry.hidden = false;
		tell("unavailable");
	}

	// Where the session sends the frame after sign-in: a path on this
	// origin (the service checked it when the session was made; a value
	// that resolves elsewhere is ignored all the same), or null.
	function returnTo(body) {
		if (typeof body.return_to !== "string" || body.return_to.charAt(0) !== "/") {
			return null;
		}
		var target = new URL(body.return_to, window.location.origin);
		return target.origin === window.location.origin ? target.href : null;
	}

	function settle(status, body) {
		if (status === 200 && body.valid === true) {
			show("authenticated", "You are signed in",
				body.user_id ? "Signed in as " + body.user_id + "." : "Your session is confirmed.");
			tell("authenticated", {
				session_id: body.session_id,
				user_id: body.user_id,
				metadata: body.metadata,
				expires_at: body.expires_at
			});
			// On to the embedded app, which the embed cookie this answer
			// set lets through; replace, so that Back skips this page.
			var next = returnTo(body);
			if (next) {
				window.location.replace(next);
			}
		} else if (status === 401 && body.reason === "already_used") {
			show("used", "This link was already used",
				"Each sign-in link works once. Ask for a new one.");
			tell("invalid", { reason: "already_used" });
		} else if (status >= 500 || status === 0) {
			unavailable();
		} else {
			show("invalid", "This link is invalid or expired",
				"Ask for a new sign-in link.");
			tell("invalid", { reason: body.reason || "invalid" });
		}
	}

	function validate() {
		retry.hidden = true;
		show("validating", "Checking your sign-in…", "This takes a moment.");
		if (!sessionId) {
			settle(400, {});
			return;
		}
		var request = { session_id: sessionId };
		if (parentOrigin) {
			request.parent_origin = parentOrigin;
		}
		// same-origin credentials: the 200 sets the embed cookie, which a
		// fetch without credentials would drop.
		fetch("/auth/validate-session", {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify(request),
			cache: "no-store",
			credentials: "same-origin"
		}).then(function (response) {
			return response.json().catch(function () {
				return {};
			}).then(function (body) {
				settle(response.status, body);
			});
		}, unavailable);
	}

	retry.addEventListener("click", validate);
	validate();
})();
