// The iframe page: validates its one-time session once, shows the result
// and tells the parent window.  No external requests, no build step.
(function () {
	"use strict";

	var sessionId = new URLSearchParams(window.location.search).get("session_id");

	// The id is single-use: keep it out of the address bar and history.
	if (window.history && window.history.replaceState) {
		window.history.replaceState(null, "", window.location.pathname);
	}

	// The parent's exact origin.  The page's CSP frame-ancestors lets only
	// origins in FRAME_ANCESTORS frame it, so a parent we can name is an
	// allowed one.  Where the browser cannot name it, messages carry no
	// user data.
	var parentOrigin = (function () {
		var ancestors = window.location.ancestorOrigins;
		if (ancestors && ancestors.length > 0 && ancestors[0] !== "null") {
			return ancestors[0];
		}
		return null;
	})();

	// Sent with the validation: a session bound to its sites
	// (allowed_origins) is only used up when framed by one of them.  Where
	// the browser cannot name the parent, the referrer's origin.
	var framingOrigin = parentOrigin || (function () {
		try {
			return document.referrer ? new URL(document.referrer).origin : null;
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
		fetch("/auth/validate-session", {
			method: "POST",
			headers: { "Content-Type": "application/json" },
			body: JSON.stringify(framingOrigin
				? { session_id: sessionId, parent_origin: framingOrigin }
				: { session_id: sessionId }),
			cache: "no-store",
			credentials: "omit"
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
