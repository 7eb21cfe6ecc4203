// iframe-auth's host-page helper: puts the iframe on the page and hands its
// messages to callbacks.  No dependencies, no build step; load it with
// <script src="https://auth.example.com/client/embed.js"></script>.
//
//   var frame = IframeAuth.mount(document.getElementById("signin"), {
//     iframeUrl: session.iframe_url,            // from create-session
//     serviceOrigin: "https://auth.example.com", // default: iframeUrl's
//     onAuthenticated: function (m) { ... },    // m.user_id, m.session_id, ...
//     onInvalid: function (m) { ... },          // m.reason
//     onUnavailable: function (m) { ... },      // the frame offers a retry
//     title: "Sign-in"                          // the iframe's title
//   });
//   frame.destroy();                            // iframe and listener gone
//
// A message counts only when it comes from this iframe's window, from
// serviceOrigin, with type "iframe-auth": any other page may post to the
// host too.
(function (global) {
	"use strict";

	var handlers = {
		authenticated: "onAuthenticated",
		invalid: "onInvalid",
		unavailable: "onUnavailable"
	};

	function mount(element, options) {
		var opts = options || {};
		if (!element || typeof element.appendChild !== "function") {
			throw new TypeError("IframeAuth.mount: element must be a DOM element");
		}
		if (typeof opts.iframeUrl !== "string" || opts.iframeUrl === "") {
			throw new TypeError("IframeAuth.mount: iframeUrl must be the create-session answer's iframe_url");
		}
		var src = new URL(opts.iframeUrl, global.location.href);
		var serviceOrigin = opts.serviceOrigin || src.origin;
		if (new URL(serviceOrigin).origin !== serviceOrigin) {
			throw new TypeError("IframeAuth.mount: serviceOrigin must be an origin such as https://auth.example.com");
		}

		var iframe = global.document.createElement("iframe");
		iframe.src = src.href;
		iframe.title = opts.title || "Sign-in";
		iframe.style.border = "0";

		function onMessage(event) {
			var data = event.data;
			if (event.source !== iframe.contentWindow ||
				event.origin !== serviceOrigin ||
				!data || data.type !== "iframe-auth" ||
				!Object.prototype.hasOwnProperty.call(handlers, data.status)) {
				return;
			}
			var callback = opts[handlers[data.status]];
			if (typeof callback === "function") {
				callback(data);
			}
		}

		global.addEventListener("message", onMessage);
		element.appendChild(iframe);
		return {
			iframe: iframe,
			destroy: function () {
				global.removeEventListener("message", onMessage);
				if (iframe.parentNode) {
					iframe.parentNode.removeChild(iframe);
				}
			}
		};
	}

	global.IframeAuth = { mount: mount };
})(window);
